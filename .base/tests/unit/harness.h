/* Test harness for the engine, tables and agent without EAL: frame
 * builders, a capturing TX, and agent helpers. */
#ifndef MM_TEST_HARNESS_H
#define MM_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/engine.h"
#include "dataplane/proto/net.h"
#include "dataplane/proto/rtp.h"

/* Criterion ignores how its test processes exit, so LeakSanitizer's report
 * at exit would not fail a test: ask for a leak check explicitly. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define H_ASSERT_NO_LEAKS() \
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks (see above)")
#else
#define H_ASSERT_NO_LEAKS() ((void)0)
#endif

#define H_DP_MAC "\x02\x00\x00\x00\x00\xdd"
#define H_GW_MAC "\x02\x00\x00\x00\x00\xee"

static inline void h_conf(struct mm_dp_conf *c, uint32_t workers)
{
	memset(c, 0, sizeof(*c));
	c->n_workers = workers;
	c->n_ports = 1;
	memcpy(c->ports[0].mac, H_DP_MAC, 6);
	memcpy(c->ports[0].gateway_mac, H_GW_MAC, 6);
	net_addr_parse("198.18.0.1", &c->ports[0].addrs[0], &c->ports[0].addr_family[0]);
	net_addr_parse("2001:2::1", &c->ports[0].addrs[1], &c->ports[0].addr_family[1]);
	c->ports[0].n_addrs = 2;
	bool all[MM_PORTS_MAX] = {false};
	char err[128];
	cr_assert_eq(mm_dp_conf_assign_workers(c, all, err, sizeof(err)), 0, "%s", err);
}

/* Build an Ethernet/IP/UDP frame around payload. Returns its length. */
static inline size_t h_frame(uint8_t *buf, const char *src_ip, uint16_t sport, const char *dst_ip,
			     uint16_t dport, const uint8_t src_mac[6], const uint8_t *payload,
			     size_t plen)
{
	struct net_udp_tx tx;
	uint8_t f2;
	memset(&tx, 0, sizeof(tx));
	cr_assert_eq(net_addr_parse(src_ip, &tx.src, &tx.family), 0);
	cr_assert_eq(net_addr_parse(dst_ip, &tx.dst, &f2), 0);
	memcpy(tx.src_mac, src_mac, 6);
	memcpy(tx.dst_mac, H_DP_MAC, 6);
	tx.sport = sport;
	tx.dport = dport;
	size_t hl = net_udp_hdr_len(tx.family);
	memcpy(buf + hl, payload, plen);
	return net_write_udp(buf, &tx, plen);
}

static inline size_t h_rtp(uint8_t *buf, size_t cap, uint32_t ssrc, uint16_t seq, uint32_t ts,
			   uint8_t pt, size_t payload_len)
{
	uint8_t payload[1500];
	cr_assert_leq(payload_len, sizeof(payload));
	for (size_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(ssrc + seq + i);
	struct rtp_build_params p;
	memset(&p, 0, sizeof(p));
	p.payload_type = pt;
	p.seq = seq;
	p.timestamp = ts;
	p.ssrc = ssrc;
	int n = rtp_build(buf, cap, &p, payload, payload_len);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* A TX that keeps copies of what the engine emits. */
#define H_CAP_MAX 4096
struct h_frame_cap {
	uint16_t port;
	size_t len;
	uint8_t pad_[2];
	uint8_t data[1600]; /* 2 mod 4: UDP payload aligned (struct mm_tx) */
};
struct h_capture {
	size_t n;
	struct h_frame_cap f[H_CAP_MAX];
	uint8_t scratch[2048];
};

static inline uint8_t *h_cap_alloc(void *ctx, size_t len, void **handle)
{
	struct h_capture *c = ctx;
	if (c->n >= H_CAP_MAX || len > sizeof(c->f[0].data))
		return NULL;
	*handle = &c->f[c->n];
	return c->f[c->n].data;
}

static inline void h_cap_send(void *ctx, uint16_t port, void *handle, size_t len)
{
	struct h_capture *c = ctx;
	struct h_frame_cap *f = handle;
	cr_assert_eq(f, &c->f[c->n], "send must follow its alloc");
	f->port = port;
	f->len = len;
	c->n++;
}

static inline void h_cap_discard(void *ctx, void *handle)
{
	(void)ctx;
	(void)handle; /* the slot is reused by the next alloc */
}

/* Send one request line through the agent; returns the parsed reply. */
static inline json_t *h_agent(struct mm_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline json_t *h_agent(struct mm_agent *a, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	char *out = mm_agent_handle(a, line, strlen(line));
	cr_assert_not_null(out);
	json_error_t e;
	json_t *r = json_loads(out, 0, &e);
	cr_assert_not_null(r, "reply is not JSON: %s", out);
	free(out);
	return r;
}

static inline int h_ok(json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static inline const char *h_code(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

/* Assert ok and free. */
#define H_OK(a, ...)                                                                           \
	do {                                                                                   \
		json_t *r_ = h_agent(a, __VA_ARGS__);                                          \
		char *s_ = json_dumps(r_, JSON_COMPACT);                                       \
		cr_assert(h_ok(r_), "agent refused: %s", s_);                                  \
		free(s_);                                                                      \
		json_decref(r_);                                                               \
	} while (0)

/* Assert an error code and free. */
#define H_ERR(a, code, ...)                                                                    \
	do {                                                                                   \
		json_t *r_ = h_agent(a, __VA_ARGS__);                                          \
		char *s_ = json_dumps(r_, JSON_COMPACT);                                       \
		cr_assert(!h_ok(r_), "agent accepted: %s", s_);                                \
		cr_assert_str_eq(h_code(r_), code, "wrong code in %s", s_);                    \
		free(s_);                                                                      \
		json_decref(r_);                                                               \
	} while (0)

#define H_EP_FMT                                                                               \
	"{\"op\":\"endpoint.put\",\"endpoint\":\"%s\",\"room\":\"%s\","                        \
	"\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},"                                      \
	"\"remote\":{\"addr\":\"%s\",\"port\":%u},"                                             \
	"\"streams\":[{\"ssrc\":%u,\"kind\":\"audio\"},{\"ssrc\":%u,\"kind\":\"video\"}]%s}"

#endif
