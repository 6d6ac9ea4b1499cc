/* The XDP guard's verdicts, through BPF_PROG_TEST_RUN on packet fixtures
 * built here: every check, both address families, truncated frames at every
 * offset, the token buckets over a burst, and map updates from userspace.
 * Each run reads the per-CPU counters before and after, so every fixture
 * names the one (verdict, reason) slot it must land in.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN): without it the tests are skipped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "dataplane/proto/demux.h"
#include "tests/bpf/pkt.h"

#define LPORT 40000
#define RPORT 5004
#define R4 "198.18.1.2"
#define L4 "198.18.0.1"
#define R6 "2001:2::1:2"
#define L6 "2001:2::1"

static struct mm_guard *G;
static int PROG;

static const struct mm_guard_settings DEFAULTS = {.port_lo = 40000, .port_hi = 40999};

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("BPF_PROG_TEST_RUN needs root (CAP_BPF, CAP_NET_ADMIN)");
}

static void configure(const struct mm_guard_settings *s)
{
	int err = mm_guard_configure(G, s);
	cr_assert_eq(err, 0, "mm_guard_configure: %s", strerror(-err));
}

static void setup(void)
{
	need_root();
	int err = mm_guard_load(NULL, &G);
	cr_assert_eq(err, 0, "mm_guard_load: %s", strerror(-err));
	PROG = mm_guard_prog_fd(G);
	configure(&DEFAULTS);
}

static void teardown(void)
{
	mm_guard_close(G);
	G = NULL;
}

/* ---- Running fixtures --------------------------------------------------- */

struct outcome {
	int action;
	int verdict;
	int reason;
};

static int action_of(int verdict)
{
	switch (verdict) {
	case MM_GUARD_DROP: return XDP_DROP;
	case MM_GUARD_REDIRECT: return XDP_REDIRECT;
	default: return XDP_PASS;
	}
}

static struct outcome run_prog(int prog, const uint8_t *f, size_t len)
{
	static struct mm_guard_counter before[MM_GUARD_COUNTER_SLOTS], after[MM_GUARD_COUNTER_SLOTS];
	cr_assert_eq(mm_guard_counters_read(G, before), 0);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(prog, &o);
	cr_assert_eq(err, 0, "test_run (%zu bytes): %s", len, strerror(-err));
	cr_assert_eq(mm_guard_counters_read(G, after), 0);
	struct outcome r = {.action = (int)o.retval, .verdict = -1, .reason = -1};
	for (unsigned i = 0; i < MM_GUARD_COUNTER_SLOTS; i++) {
		uint64_t dp = after[i].packets - before[i].packets;
		if (!dp)
			continue;
		cr_assert_eq(dp, 1, "slot %u counted %llu packets", i, (unsigned long long)dp);
		cr_assert_eq(after[i].bytes - before[i].bytes, len, "slot %u bytes", i);
		cr_assert_eq(r.verdict, -1, "two counter slots moved for one packet");
		r.verdict = (int)(i / MM_GUARD_REASON_SLOTS);
		r.reason = (int)(i % MM_GUARD_REASON_SLOTS);
	}
	cr_assert_neq(r.verdict, -1, "no counter moved");
	cr_assert_eq(r.action, action_of(r.verdict), "action %d for verdict %s", r.action,
		     mm_guard_verdict_name((unsigned)r.verdict));
	return r;
}

static struct outcome run(const uint8_t *f, size_t len)
{
	return run_prog(PROG, f, len);
}

static bool outcome_is(struct outcome o, int verdict, int reason)
{
	return o.verdict == verdict && o.reason == reason;
}

/* EXPECT(outcome, verdict, reason[, what]) */
static void expect_outcome(struct outcome o, int v, int r, int line, const char *what, ...)
{
	cr_expect(outcome_is(o, v, r), "line %d %s: got %s/%s, want %s/%s", line, what ? what : "",
		  mm_guard_verdict_name((unsigned)o.verdict), mm_drop_reason_name((unsigned)o.reason),
		  mm_guard_verdict_name((unsigned)v), mm_drop_reason_name((unsigned)r));
}
#define EXPECT(o, v, r, ...) expect_outcome((o), (v), (r), __LINE__ __VA_OPT__(, __VA_ARGS__), NULL)

/* A UDP packet from the remote participant to mmdp's media port. */
static struct pkt_spec udp(int family, const uint8_t *pl, size_t n)
{
	return (struct pkt_spec){
		.family = family,
		.src = family == 4 ? R4 : R6,
		.dst = family == 4 ? L4 : L6,
		.sport = RPORT,
		.dport = LPORT,
		.payload = pl,
		.plen = n,
	};
}

static struct outcome send_spec(const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, NULL);
	return run(f, len);
}

static struct outcome send_udp(int family, const uint8_t *pl, size_t n)
{
	struct pkt_spec s = udp(family, pl, n);
	return send_spec(&s);
}

static struct mm_guard_tuple tuple(int family)
{
	struct mm_guard_tuple t;
	cr_assert_eq(mm_guard_tuple_make(family == 4 ? R4 : R6, RPORT, family == 4 ? L4 : L6,
					 LPORT, &t),
		     0);
	return t;
}

static void allow(int family)
{
	struct mm_guard_tuple t = tuple(family);
	cr_assert_eq(mm_guard_allow_put(G, &t), 0);
}

static const char *fam_name(int family)
{
	return family == 4 ? "IPv4" : "IPv6";
}

TestSuite(guard, .init = setup, .fini = teardown, .timeout = 60);

/* ---- Not media: passed untouched ---------------------------------------- */

Test(guard, other_traffic_passes_with_its_reason)
{
	uint8_t f[PKT_MAX];
	/* ARP */
	struct pkt_spec s = udp(4, PKT_RTP, sizeof(PKT_RTP));
	s.ethertype = 0x0806;
	size_t n = pkt_build(&s, f, NULL);
	EXPECT(run(f, n), MM_GUARD_PASS, MM_DROP_L3_UNSUPPORTED, "ARP");
	for (int fam = 4; fam <= 6; fam += 2) {
		/* SSH and the API over TCP */
		s = udp(fam, NULL, 0);
		s.proto = IPPROTO_TCP;
		s.dport = 22;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
		s.dport = 8080;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
		/* ICMP / ICMPv6 */
		s.proto = fam == 4 ? 1 : 58;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_L4_UNSUPPORTED, fam_name(fam));
		/* UDP just outside the range, whatever it carries */
		s = udp(fam, (const uint8_t *)"garbage", 7);
		s.dport = 39999;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
		s.dport = 41000;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
		s.dport = 53;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
	}
	/* IPv6 with an extension header other than a fragment header */
	s = udp(6, PKT_RTP, sizeof(PKT_RTP));
	n = pkt_build(&s, f, NULL);
	f[14 + 6] = 0; /* next header: hop-by-hop options, not a protocol with ports */
	EXPECT(run(f, n), MM_GUARD_PASS, MM_DROP_L4_UNSUPPORTED, "IPv6 hop-by-hop");
}

Test(guard, unconfigured_guard_passes_everything)
{
	struct mm_guard_settings off = {0};
	configure(&off);
	for (int fam = 4; fam <= 6; fam += 2) {
		EXPECT(send_udp(fam, (const uint8_t *)"x", 1), MM_GUARD_PASS, MM_DROP_NONE);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_PASS, MM_DROP_NONE);
	}
}

Test(guard, range_edges_are_inclusive)
{
	allow(4);
	struct pkt_spec s = udp(4, (const uint8_t *)"x", 1);
	s.dport = 40000;
	EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_DEMUX_UNKNOWN);
	s.dport = 40999;
	EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_DEMUX_UNKNOWN);
	struct mm_guard_settings one = DEFAULTS;
	one.port_lo = one.port_hi = 40500;
	configure(&one);
	EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE);
	s.dport = 40500;
	EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_DEMUX_UNKNOWN);
}

/* ---- UDP only, no fragments, on the media range -------------------------- */

Test(guard, other_l4_protocols_on_the_media_range_are_dropped)
{
	const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_SCTP, IPPROTO_UDPLITE, IPPROTO_DCCP};
	for (int fam = 4; fam <= 6; fam += 2)
		for (size_t i = 0; i < sizeof(protos); i++) {
			struct pkt_spec s = udp(fam, NULL, 0);
			s.proto = protos[i];
			EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L4_UNSUPPORTED,
			       fam_name(fam));
		}
}

Test(guard, fragments)
{
	allow(4);
	allow(6);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct pkt_spec s = udp(fam, PKT_RTP, sizeof(PKT_RTP));
		/* first fragment (ports visible) to the media range: dropped */
		if (fam == 4)
			s.ip4_frag = 0x2000; /* MF */
		else
			s.frag6 = true, s.frag6_off = 0x0001; /* offset 0, M */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L3_FRAGMENT, fam_name(fam));
		/* an atomic IPv6 fragment (offset 0, no M) too: mmdp takes none */
		if (fam == 6) {
			s.frag6_off = 0;
			EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L3_FRAGMENT);
		}
		/* first fragment elsewhere: passed */
		s.dport = 53;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
		/* later fragments: no ports to judge, passed to the kernel */
		if (fam == 4)
			s.ip4_frag = 0x0010;
		else
			s.frag6_off = 0x0010 << 3;
		s.dport = LPORT;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_L3_FRAGMENT, fam_name(fam));
	}
}

Test(guard, vlan_tags)
{
	allow(4);
	allow(6);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct pkt_spec s = udp(fam, PKT_RTP, sizeof(PKT_RTP));
		for (s.vlans = 0; s.vlans <= 2; s.vlans++)
			EXPECT(send_spec(&s), MM_GUARD_ACCEPT, MM_DROP_NONE, fam_name(fam));
		s.vlans = 3; /* more than the guard looks through */
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_L3_UNSUPPORTED, fam_name(fam));
	}
}

/* ---- Lengths ------------------------------------------------------------ */

/* A valid frame cut short at every length: the verdict follows the last
 * layer that is whole. Frames below 14 bytes cannot be test-run. */
Test(guard, truncated_frames_at_every_offset)
{
	allow(4);
	allow(6);
	struct {
		const uint8_t *pl;
		size_t n;
	} pls[] = {{PKT_RTP, sizeof(PKT_RTP)},
		   {PKT_RTCP, sizeof(PKT_RTCP)},
		   {PKT_STUN, sizeof(PKT_STUN)},
		   {PKT_DTLS, sizeof(PKT_DTLS)}};
	unsigned runs = 0;
	for (int fam = 4; fam <= 6; fam += 2)
		for (int vlans = 0; vlans <= 2; vlans++)
			for (size_t p = 0; p < sizeof(pls) / sizeof(pls[0]); p++) {
				struct pkt_spec s = udp(fam, pls[p].pl, pls[p].n);
				s.vlans = vlans;
				uint8_t f[PKT_MAX];
				struct pkt_layout lay;
				size_t full = pkt_build(&s, f, &lay);
				size_t iphl = fam == 4 ? 20 : 40;
				for (size_t cut = 14; cut < full; cut++) {
					int v = MM_GUARD_PASS, r;
					if (cut < lay.l3)
						r = MM_DROP_L2_MALFORMED;
					else if (cut < lay.l3 + iphl)
						r = MM_DROP_L3_MALFORMED;
					else if (cut < lay.l4 + 4)
						r = MM_DROP_L4_MALFORMED;
					else
						v = MM_GUARD_DROP, r = MM_DROP_L3_MALFORMED;
					struct outcome o = run(f, cut);
					cr_expect(outcome_is(o, v, r),
						  "%s vlans=%d payload %zu cut at %zu of %zu: got %s/%s, "
						  "want %s/%s",
						  fam_name(fam), vlans, p, cut, full,
						  mm_guard_verdict_name((unsigned)o.verdict),
						  mm_drop_reason_name((unsigned)o.reason),
						  mm_guard_verdict_name((unsigned)v),
						  mm_drop_reason_name((unsigned)r));
					runs++;
				}
				EXPECT(run(f, full), MM_GUARD_ACCEPT, MM_DROP_NONE);
			}
	cr_log_info("%u truncated frames", runs);
}

/* Lengths consistent, payload shorter than its class's header: each length
 * from 0 up to the first that passes. */
Test(guard, minimum_payload_lengths)
{
	allow(4);
	allow(6);
	static const uint8_t dtls13[] = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t rtp_csrc[] = {0x82, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
					   0,    0,  0, 2, 0, 0, 0, 3, 9};
	struct {
		const char *name;
		const uint8_t *pl;
		size_t n, min;
		int reason;
	} cls[] = {
		{"stun", PKT_STUN, sizeof(PKT_STUN), 20, MM_DROP_STUN_MALFORMED},
		{"dtls", dtls13, sizeof(dtls13), 13, MM_DROP_DTLS_MALFORMED},
		{"dtls+record", PKT_DTLS, sizeof(PKT_DTLS), 15, MM_DROP_DTLS_MALFORMED},
		{"rtp", PKT_RTP, sizeof(PKT_RTP), 12, MM_DROP_RTP_MALFORMED},
		{"rtp+2 csrc", rtp_csrc, sizeof(rtp_csrc), 20, MM_DROP_RTP_MALFORMED},
		{"rtcp", PKT_RTCP, sizeof(PKT_RTCP), 8, MM_DROP_RTCP_MALFORMED},
	};
	for (int fam = 4; fam <= 6; fam += 2)
		for (size_t c = 0; c < sizeof(cls) / sizeof(cls[0]); c++)
			for (size_t n = 0; n <= cls[c].n; n++) {
				int v = MM_GUARD_DROP, r = cls[c].reason;
				if (n == 0)
					r = MM_DROP_DEMUX_UNKNOWN;
				else if (n == 1 && cls[c].pl[0] >= 128)
					r = MM_DROP_RTP_MALFORMED; /* RTP or RTCP: not known yet */
				else if (n >= cls[c].min)
					v = MM_GUARD_ACCEPT, r = MM_DROP_NONE;
				struct outcome o = send_udp(fam, cls[c].pl, n);
				cr_expect(outcome_is(o, v, r), "%s %s, %zu bytes: got %s/%s",
					  fam_name(fam), cls[c].name, n,
					  mm_guard_verdict_name((unsigned)o.verdict),
					  mm_drop_reason_name((unsigned)o.reason));
			}
}

Test(guard, header_fields)
{
	allow(4);
	allow(6);
	for (int fam = 4; fam <= 6; fam += 2) {
		uint8_t b[64];
		/* STUN: wrong cookie, body length not a multiple of 4, body
		 * longer than the datagram; a body that fits */
		memcpy(b, PKT_STUN, 20);
		b[7] = 0x43;
		EXPECT(send_udp(fam, b, 20), MM_GUARD_DROP, MM_DROP_STUN_MALFORMED, "cookie");
		memcpy(b, PKT_STUN, 20);
		b[3] = 3;
		EXPECT(send_udp(fam, b, 24), MM_GUARD_DROP, MM_DROP_STUN_MALFORMED, "body % 4");
		b[3] = 8;
		EXPECT(send_udp(fam, b, 24), MM_GUARD_DROP, MM_DROP_STUN_MALFORMED, "long body");
		EXPECT(send_udp(fam, b, 28), MM_GUARD_ACCEPT, MM_DROP_NONE, "body");
		/* DTLS: a TLS version, a record longer than the datagram; the
		 * DTLS 1.3 unified header needs only 13 bytes */
		memcpy(b, PKT_DTLS, sizeof(PKT_DTLS));
		b[1] = 0x03;
		EXPECT(send_udp(fam, b, sizeof(PKT_DTLS)), MM_GUARD_DROP, MM_DROP_DTLS_MALFORMED);
		memcpy(b, PKT_DTLS, sizeof(PKT_DTLS));
		b[12] = 3;
		EXPECT(send_udp(fam, b, sizeof(PKT_DTLS)), MM_GUARD_DROP, MM_DROP_DTLS_MALFORMED);
		memset(b, 0, 13);
		b[0] = 0x2C;
		EXPECT(send_udp(fam, b, 13), MM_GUARD_ACCEPT, MM_DROP_NONE, "DTLS 1.3");
		EXPECT(send_udp(fam, b, 12), MM_GUARD_DROP, MM_DROP_DTLS_MALFORMED);
		/* RTCP: first packet longer than the datagram */
		memcpy(b, PKT_RTCP, sizeof(PKT_RTCP));
		b[3] = 2;
		EXPECT(send_udp(fam, b, 8), MM_GUARD_DROP, MM_DROP_RTCP_MALFORMED);
		EXPECT(send_udp(fam, b, 12), MM_GUARD_ACCEPT, MM_DROP_NONE);
		/* RTP versions 0, 1 and 3 are outside 128..191 */
		memcpy(b, PKT_RTP, sizeof(PKT_RTP));
		for (int ver = 0; ver <= 3; ver++) {
			b[0] = (uint8_t)(ver << 6);
			b[1] = 96;
			struct outcome o = send_udp(fam, b, sizeof(PKT_RTP));
			if (ver == 2)
				EXPECT(o, MM_GUARD_ACCEPT, MM_DROP_NONE);
			else if (ver == 0)
				EXPECT(o, MM_GUARD_DROP, MM_DROP_STUN_MALFORMED, "v0 is STUN's range");
			else
				EXPECT(o, MM_GUARD_DROP, MM_DROP_DEMUX_UNKNOWN, "RTP v1/v3");
		}
	}
}

Test(guard, ip_and_udp_length_fields)
{
	allow(4);
	allow(6);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct pkt_spec s = udp(fam, PKT_RTP, sizeof(PKT_RTP));
		s.udp_len_delta = -1; /* one byte of surplus: accepted (RFC 9868) */
		struct outcome o = send_spec(&s);
		/* the RTP payload loses a byte but keeps its header */
		EXPECT(o, MM_GUARD_ACCEPT, MM_DROP_NONE, "surplus");
		s.udp_len_delta = 1; /* longer than the IP payload */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L4_MALFORMED, fam_name(fam));
		s.udp_len_delta = -(int)(8 + sizeof(PKT_RTP)) + 7; /* UDP length 7 */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L4_MALFORMED, fam_name(fam));
		s.udp_len_delta = 0;
		s.ip_len_delta = 1; /* IP says more than the frame holds */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L3_MALFORMED, fam_name(fam));
		s.ip_len_delta = -1; /* UDP length now exceeds the IP payload */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L4_MALFORMED, fam_name(fam));
		s.ip_len_delta = -(int)(8 + sizeof(PKT_RTP)) + 4; /* IP payload: 4 bytes */
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L4_MALFORMED, fam_name(fam));
	}
	/* IPv4 header length below 5 words: not parseable, passed */
	struct pkt_spec s = udp(4, PKT_RTP, sizeof(PKT_RTP));
	s.ip4_ihl = 4;
	EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_L3_MALFORMED);
	/* total length below the header length */
	s.ip4_ihl = 0;
	s.ip_len_delta = -(int)(8 + sizeof(PKT_RTP)) - 1;
	EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_L3_MALFORMED);
	/* IPv4 options: accepted (mmdp parses them too) */
	s = udp(4, PKT_RTP, sizeof(PKT_RTP));
	s.ip4_ihl = 6;
	EXPECT(send_spec(&s), MM_GUARD_ACCEPT, MM_DROP_NONE, "options");
}

/* ---- RFC 7983 first byte ------------------------------------------------ */

/* Every first byte, from a known 5-tuple, against mmdp's own classifier:
 * the classes mmdp serves are accepted, the rest are demux_unknown. */
Test(guard, first_byte_follows_rfc7983)
{
	allow(4);
	allow(6);
	for (int fam = 4; fam <= 6; fam += 2)
		for (int second = 0; second < 2; second++)
			for (int b0 = 0; b0 < 256; b0++) {
				/* STUN cookie, DTLS version and zero lengths in
				 * place, room for 15 CSRCs */
				uint8_t pl[80] = {(uint8_t)b0, second ? 200 : 0xFE, 0, 0,
						  0x21,        0x12,              0xA4, 0x42};
				if (second && !(b0 >= 128 && b0 <= 191))
					continue; /* the RTCP variant */
				enum mm_demux k = mm_demux_classify(pl, sizeof(pl));
				bool served = k == MM_DEMUX_STUN || k == MM_DEMUX_DTLS ||
					      k == MM_DEMUX_RTP || k == MM_DEMUX_RTCP;
				struct outcome o = send_udp(fam, pl, sizeof(pl));
				if (served)
					cr_expect(outcome_is(o, MM_GUARD_ACCEPT, MM_DROP_NONE),
						  "%s first byte %d (%d): %s/%s", fam_name(fam), b0,
						  k, mm_guard_verdict_name((unsigned)o.verdict),
						  mm_drop_reason_name((unsigned)o.reason));
				else
					cr_expect(outcome_is(o, MM_GUARD_DROP,
							     MM_DROP_DEMUX_UNKNOWN),
						  "%s first byte %d (%d): %s/%s", fam_name(fam), b0,
						  k, mm_guard_verdict_name((unsigned)o.verdict),
						  mm_drop_reason_name((unsigned)o.reason));
			}
}

/* ---- Known and unknown 5-tuples ----------------------------------------- */

Test(guard, unknown_tuples_may_send_only_stun_and_dtls)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP,
		       MM_DROP_UNKNOWN_ENDPOINT, fam_name(fam));
		EXPECT(send_udp(fam, PKT_RTCP, sizeof(PKT_RTCP)), MM_GUARD_DROP,
		       MM_DROP_UNKNOWN_ENDPOINT, fam_name(fam));
		EXPECT(send_udp(fam, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		EXPECT(send_udp(fam, PKT_DTLS, sizeof(PKT_DTLS)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		/* malformed is malformed, known or not */
		EXPECT(send_udp(fam, PKT_STUN, 19), MM_GUARD_DROP, MM_DROP_STUN_MALFORMED);
	}
}

Test(guard, allowlist_updates_change_verdicts)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct mm_guard_tuple t = tuple(fam);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP,
		       MM_DROP_UNKNOWN_ENDPOINT);
		cr_assert_eq(mm_guard_allow_put(G, &t), 0);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		EXPECT(send_udp(fam, PKT_RTCP, sizeof(PKT_RTCP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		/* another remote port of the same address is another 5-tuple */
		struct pkt_spec s = udp(fam, PKT_RTP, sizeof(PKT_RTP));
		s.sport = RPORT + 1;
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_UNKNOWN_ENDPOINT);
		/* so is another local port */
		s.sport = RPORT;
		s.dport = LPORT + 1;
		EXPECT(send_spec(&s), MM_GUARD_DROP, MM_DROP_UNKNOWN_ENDPOINT);
		/* the entry counts what it accepted (UDP payload bytes); a
		 * second put keeps it */
		cr_assert_eq(mm_guard_allow_put(G, &t), 0);
		struct mm_guard_allow v;
		cr_assert_eq(bpf_map_lookup_elem(mm_guard_map_fd(G, MM_GUARD_M_ALLOW), &t, &v), 0);
		cr_expect_eq(v.packets, 2);
		cr_expect_eq(v.bytes, sizeof(PKT_RTP) + sizeof(PKT_RTCP));
		cr_assert_eq(mm_guard_allow_del(G, &t), 0);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP,
		       MM_DROP_UNKNOWN_ENDPOINT);
		cr_expect_eq(mm_guard_allow_del(G, &t), -ENOENT);
	}
}

/* ---- Blocklists --------------------------------------------------------- */

Test(guard, banned_prefixes)
{
	allow(4);
	allow(6);
	struct mm_guard_prefix p4, p6;
	cr_assert_eq(mm_guard_prefix_parse("198.18.1.77/24", &p4), 0); /* host bits cleared */
	cr_assert_eq(mm_guard_prefix_parse("2001:2::1:77/112", &p6), 0);
	cr_assert_eq(mm_guard_prefix_put(G, &p4, 0), 0);
	cr_assert_eq(mm_guard_prefix_put(G, &p6, 0), 0);
	for (int fam = 4; fam <= 6; fam += 2) {
		/* even a known 5-tuple, whatever it sends */
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP,
		       MM_DROP_BLOCKED_PREFIX, fam_name(fam));
		EXPECT(send_udp(fam, (const uint8_t *)"junk", 4), MM_GUARD_DROP,
		       MM_DROP_BLOCKED_PREFIX, fam_name(fam));
		/* a neighbour outside the prefix is not */
		struct pkt_spec s = udp(fam, PKT_STUN, sizeof(PKT_STUN));
		s.src = fam == 4 ? "198.18.2.1" : "2001:2::2:2";
		EXPECT(send_spec(&s), MM_GUARD_ACCEPT, MM_DROP_NONE, fam_name(fam));
		/* but only media ports are guarded */
		s = udp(fam, PKT_RTP, sizeof(PKT_RTP));
		s.dport = 53;
		EXPECT(send_spec(&s), MM_GUARD_PASS, MM_DROP_NONE, fam_name(fam));
	}
	/* counted on the entry */
	struct mm_guard_block v;
	cr_assert_eq(bpf_map_lookup_elem(mm_guard_map_fd(G, MM_GUARD_M_PREFIXES), &p4, &v), 0);
	cr_expect_eq(v.packets, 2);
	cr_expect_eq(v.bytes, sizeof(PKT_RTP) + 4);
	/* a longer, narrower ban beside a wider one */
	struct mm_guard_prefix host;
	cr_assert_eq(mm_guard_prefix_parse("198.18.1.2", &host), 0);
	cr_assert_eq(mm_guard_prefix_put(G, &host, 0), 0);
	cr_assert_eq(mm_guard_prefix_del(G, &p4), 0);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_BLOCKED_PREFIX);
	cr_assert_eq(mm_guard_prefix_del(G, &host), 0);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	cr_assert_eq(mm_guard_prefix_del(G, &p6), 0);
	EXPECT(send_udp(6, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	/* an expired ban is ignored (expiry set in the past by hand) */
	struct mm_guard_block past = {.expires_ns = 1};
	cr_assert_eq(bpf_map_update_elem(mm_guard_map_fd(G, MM_GUARD_M_PREFIXES), &p6, &past,
					 BPF_ANY),
		     0);
	EXPECT(send_udp(6, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	/* a ban with a TTL is live until then */
	cr_assert_eq(mm_guard_prefix_put(G, &p6, 60), 0);
	EXPECT(send_udp(6, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_BLOCKED_PREFIX);
}

Test(guard, kicked_tuples)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct mm_guard_tuple t = tuple(fam);
		cr_assert_eq(mm_guard_kick_put(G, &t, 3600), 0);
		/* everything from it, STUN included */
		EXPECT(send_udp(fam, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_DROP, MM_DROP_BLOCKED,
		       fam_name(fam));
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_BLOCKED);
		EXPECT(send_udp(fam, (const uint8_t *)"x", 1), MM_GUARD_DROP, MM_DROP_BLOCKED);
		/* the same remote to another local port is another 5-tuple */
		struct pkt_spec s = udp(fam, PKT_STUN, sizeof(PKT_STUN));
		s.dport = LPORT + 1;
		EXPECT(send_spec(&s), MM_GUARD_ACCEPT, MM_DROP_NONE);
		/* a kick never shadows a live endpoint (as in mmdp) */
		cr_assert_eq(mm_guard_allow_put(G, &t), 0);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		cr_assert_eq(mm_guard_allow_del(G, &t), 0);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_BLOCKED);
		/* counters go on across a second put */
		cr_assert_eq(mm_guard_kick_put(G, &t, 60), 0);
		struct mm_guard_block v;
		cr_assert_eq(bpf_map_lookup_elem(mm_guard_map_fd(G, MM_GUARD_M_KICKED), &t, &v), 0);
		cr_expect_eq(v.packets, 4);
		cr_expect_eq(v.bytes, sizeof(PKT_STUN) + 2 * sizeof(PKT_RTP) + 1);
		cr_expect_neq(v.expires_ns, 0);
		/* lifted: back to an unknown 5-tuple */
		cr_assert_eq(mm_guard_kick_del(G, &t), 0);
		EXPECT(send_udp(fam, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_ACCEPT, MM_DROP_NONE);
		EXPECT(send_udp(fam, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP,
		       MM_DROP_UNKNOWN_ENDPOINT);
		/* expired: the same */
		struct mm_guard_block past = {.expires_ns = 1};
		cr_assert_eq(bpf_map_update_elem(mm_guard_map_fd(G, MM_GUARD_M_KICKED), &t, &past,
						 BPF_ANY),
			     0);
		EXPECT(send_udp(fam, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	}
}

/* ---- Token buckets ------------------------------------------------------ */

static unsigned burst_accepted(int family, const uint8_t *pl, size_t n, unsigned tries,
			       int limited_reason)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < tries; i++) {
		struct outcome o = send_udp(family, pl, n);
		if (outcome_is(o, MM_GUARD_ACCEPT, MM_DROP_NONE))
			ok++;
		else
			cr_expect(outcome_is(o, MM_GUARD_DROP, limited_reason),
				  "packet %u: %s/%s", i, mm_guard_verdict_name((unsigned)o.verdict),
				  mm_drop_reason_name((unsigned)o.reason));
	}
	return ok;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

Test(guard, known_bucket_packets)
{
	struct mm_guard_settings s = DEFAULTS;
	s.known = (struct mm_guard_limit){.pps = 1, .pkt_burst = 5};
	configure(&s);
	for (int fam = 4; fam <= 6; fam += 2) {
		allow(fam);
		cr_expect_eq(burst_accepted(fam, PKT_RTP, sizeof(PKT_RTP), 12, MM_DROP_RATE_LIMITED),
			     5, "%s", fam_name(fam));
		/* refill by setting the bucket's time back */
		struct mm_guard_tuple t = tuple(fam);
		int fd = mm_guard_map_fd(G, MM_GUARD_M_ALLOW);
		struct mm_guard_allow v;
		cr_assert_eq(bpf_map_lookup_elem(fd, &t, &v), 0);
		cr_expect_eq(v.packets, 5);
		v.bucket.pkt_tat_ns = 0;
		cr_assert_eq(bpf_map_update_elem(fd, &t, &v, BPF_EXIST), 0);
		cr_expect_eq(burst_accepted(fam, PKT_RTP, sizeof(PKT_RTP), 12, MM_DROP_RATE_LIMITED),
			     5);
		/* half a bucket: now + 2.5 s of backlog leaves room for 2 */
		v.bucket.pkt_tat_ns = mono_ns() + 2500000000ull;
		cr_assert_eq(bpf_map_update_elem(fd, &t, &v, BPF_EXIST), 0);
		cr_expect_eq(burst_accepted(fam, PKT_RTP, sizeof(PKT_RTP), 6, MM_DROP_RATE_LIMITED),
			     2);
	}
}

Test(guard, known_bucket_bytes)
{
	struct mm_guard_settings s = DEFAULTS;
	s.known = (struct mm_guard_limit){.bytes_ps = 1, .byte_burst = 5 * sizeof(PKT_RTP)};
	configure(&s);
	allow(4);
	cr_expect_eq(burst_accepted(4, PKT_RTP, sizeof(PKT_RTP), 10, MM_DROP_RATE_LIMITED), 5);
	/* a smaller packet does not fit either: the bucket is empty */
	EXPECT(send_udp(4, PKT_RTCP, sizeof(PKT_RTCP)), MM_GUARD_DROP, MM_DROP_RATE_LIMITED);
	/* a packet larger than the whole byte burst never passes */
	allow(6);
	uint8_t big[200] = {0x80, 96};
	EXPECT(send_udp(6, big, 5 * sizeof(PKT_RTP) + 1), MM_GUARD_DROP, MM_DROP_RATE_LIMITED);
	EXPECT(send_udp(6, big, 5 * sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
}

Test(guard, bucket_refills_with_time)
{
	struct mm_guard_settings s = DEFAULTS;
	s.known = (struct mm_guard_limit){.pps = 10, .pkt_burst = 1}; /* one per 100 ms */
	configure(&s);
	allow(4);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_RATE_LIMITED);
	usleep(150000);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_DROP, MM_DROP_RATE_LIMITED);
}

Test(guard, unknown_sources_have_their_own_limits)
{
	struct mm_guard_settings s = DEFAULTS;
	s.known = (struct mm_guard_limit){.pps = 1, .pkt_burst = 2};
	s.unknown = (struct mm_guard_limit){.pps = 1, .pkt_burst = 4};
	configure(&s);
	for (int fam = 4; fam <= 6; fam += 2) {
		/* unknown: 4 STUN checks, then rate_limited */
		cr_expect_eq(
			burst_accepted(fam, PKT_STUN, sizeof(PKT_STUN), 8, MM_DROP_RATE_LIMITED), 4);
		/* the bucket is per source address: another port of the same
		 * address shares it, another address has its own */
		struct pkt_spec p = udp(fam, PKT_DTLS, sizeof(PKT_DTLS));
		p.sport = RPORT + 7;
		EXPECT(send_spec(&p), MM_GUARD_DROP, MM_DROP_RATE_LIMITED);
		p.src = fam == 4 ? "198.18.1.3" : "2001:2::1:3";
		EXPECT(send_spec(&p), MM_GUARD_ACCEPT, MM_DROP_NONE);
		/* allowlisted: the known limit, in a bucket of its own */
		allow(fam);
		cr_expect_eq(
			burst_accepted(fam, PKT_RTP, sizeof(PKT_RTP), 6, MM_DROP_RATE_LIMITED), 2);
		/* the unknown bucket can be emptied from userspace */
		struct mm_guard_source src;
		int f;
		cr_assert_eq(mm_guard_addr_parse(fam == 4 ? R4 : R6, src.addr, &f), 0);
		struct mm_guard_bucket b;
		int fd = mm_guard_map_fd(G, MM_GUARD_M_SOURCES);
		cr_assert_eq(bpf_map_lookup_elem(fd, &src, &b), 0);
		cr_assert_eq(bpf_map_delete_elem(fd, &src), 0);
		p = udp(fam, PKT_STUN, sizeof(PKT_STUN));
		p.sport = RPORT + 7;
		EXPECT(send_spec(&p), MM_GUARD_ACCEPT, MM_DROP_NONE);
	}
}

Test(guard, global_handshake_bucket)
{
	struct mm_guard_settings s = DEFAULTS;
	s.handshake = (struct mm_guard_limit){.pps = 1, .pkt_burst = 3};
	configure(&s);
	char src[32];
	unsigned ok = 0;
	for (int i = 0; i < 8; i++) {
		struct pkt_spec p = udp(i % 2 ? 6 : 4, i % 3 ? PKT_STUN : PKT_DTLS,
					i % 3 ? sizeof(PKT_STUN) : sizeof(PKT_DTLS));
		if (p.family == 4)
			snprintf(src, sizeof(src), "198.18.7.%d", i + 1);
		else
			snprintf(src, sizeof(src), "2001:2::7:%d", i + 1);
		p.src = src;
		struct outcome o = send_spec(&p);
		if (outcome_is(o, MM_GUARD_ACCEPT, MM_DROP_NONE))
			ok++;
		else
			EXPECT(o, MM_GUARD_DROP, MM_DROP_HANDSHAKE_RATE_LIMITED);
	}
	cr_expect_eq(ok, 3);
	/* known 5-tuples do not draw from it */
	allow(4);
	EXPECT(send_udp(4, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	/* reset from userspace */
	uint32_t zero = 0;
	struct mm_guard_bucket full = {0};
	cr_assert_eq(bpf_map_update_elem(mm_guard_map_fd(G, MM_GUARD_M_HANDSHAKE), &zero, &full,
					 BPF_ANY),
		     0);
	EXPECT(send_udp(6, PKT_STUN, sizeof(PKT_STUN)), MM_GUARD_ACCEPT, MM_DROP_NONE);
}

/* ---- Redirect ----------------------------------------------------------- */

Test(guard, redirect_without_a_socket_passes)
{
	struct mm_guard_settings s = DEFAULTS;
	s.redirect = true;
	configure(&s);
	allow(4);
	/* queue 0 has no AF_XDP socket in xsks_map: XDP_PASS, counted accept */
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
	EXPECT(send_udp(4, PKT_RTP, 3), MM_GUARD_DROP, MM_DROP_RTP_MALFORMED);
	cr_expect_geq(mm_guard_map_fd(G, MM_GUARD_M_XSKS), 0);
}

/* ---- Pinning, reloading, opening pins ----------------------------------- */

static void unpin_all(const char *dir)
{
	static const char *const names[] = {MM_GUARD_MAP_CONFIG,   MM_GUARD_MAP_COUNTERS,
					    MM_GUARD_MAP_ALLOW,    MM_GUARD_MAP_KICKED,
					    MM_GUARD_MAP_PREFIXES, MM_GUARD_MAP_SOURCES,
					    MM_GUARD_MAP_HANDSHAKE};
	char p[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

Test(guard, pinned_maps_are_shared_and_survive_a_reload)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/mmg-test-%d", (int)getpid());
	struct mm_guard *a = NULL, *b = NULL, *m = NULL;
	int err = mm_guard_load(dir, &a);
	cr_assert_eq(err, 0, "load pinned: %s", strerror(-err));
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, MM_GUARD_MAP_ALLOW);
	struct stat st;
	cr_expect_eq(stat(p, &st), 0, "%s pinned", p);
	snprintf(p, sizeof(p), "%s/%s", dir, MM_GUARD_MAP_XSKS);
	cr_expect_neq(stat(p, &st), 0, "xsks_map not pinned");
	cr_assert_eq(mm_guard_configure(a, &DEFAULTS), 0);

	/* a manager without the program: updates through the pins */
	err = mm_guard_open_pinned(dir, &m);
	cr_assert_eq(err, 0, "open pinned: %s", strerror(-err));
	cr_expect_eq(mm_guard_prog_fd(m), -ENOENT);
	cr_expect_eq(mm_guard_map_fd(m, MM_GUARD_M_XSKS), -ENOENT);
	struct mm_guard_tuple t = tuple(4);
	cr_assert_eq(mm_guard_allow_put(m, &t), 0);
	uint8_t f[PKT_MAX];
	struct pkt_spec s = udp(4, PKT_RTP, sizeof(PKT_RTP));
	size_t n = pkt_build(&s, f, NULL);
	struct mm_guard *keep = G;
	G = m; /* counters read through the pins */
	EXPECT(run_prog(mm_guard_prog_fd(a), f, n), MM_GUARD_ACCEPT, MM_DROP_NONE);

	/* a second load finds configuration, lists and counters */
	err = mm_guard_load(dir, &b);
	cr_assert_eq(err, 0, "reload: %s", strerror(-err));
	EXPECT(run_prog(mm_guard_prog_fd(b), f, n), MM_GUARD_ACCEPT, MM_DROP_NONE);
	struct mm_guard_counter c[MM_GUARD_COUNTER_SLOTS];
	cr_assert_eq(mm_guard_counters_read(b, c), 0);
	cr_expect_eq(c[MM_GUARD_ACCEPT * MM_GUARD_REASON_SLOTS].packets, 2);
	uint32_t zero = 0;
	struct mm_guard_config cfg;
	cr_assert_eq(bpf_map_lookup_elem(mm_guard_map_fd(b, MM_GUARD_M_CONFIG), &zero, &cfg), 0);
	cr_expect_eq(cfg.abi_version, MM_GUARD_ABI_VERSION);
	cr_expect_eq(cfg.port_lo, 40000);
	cr_expect_eq(cfg.port_hi, 40999);
	cr_assert_eq(mm_guard_allow_del(m, &t), 0);
	EXPECT(run_prog(mm_guard_prog_fd(b), f, n), MM_GUARD_DROP, MM_DROP_UNKNOWN_ENDPOINT);
	G = keep;
	mm_guard_close(a);
	mm_guard_close(b);
	mm_guard_close(m);
	unpin_all(dir);
}

Test(guard, pins_of_another_shape_are_refused)
{
	char dir[128], p[256];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/mmg-test-bad-%d", (int)getpid());
	cr_assert_eq(mkdir(dir, 0700), 0);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, MM_GUARD_MAP_CONFIG, 4,
				sizeof(struct mm_guard_config) + 8, 1, NULL);
	cr_assert_geq(fd, 0);
	snprintf(p, sizeof(p), "%s/%s", dir, MM_GUARD_MAP_CONFIG);
	cr_assert_eq(bpf_obj_pin(fd, p), 0);
	close(fd);
	struct mm_guard *m = NULL;
	cr_expect_eq(mm_guard_open_pinned(dir, &m), -EPROTO);
	struct mm_guard *l = NULL;
	cr_expect_neq(mm_guard_load(dir, &l), 0, "libbpf refuses an incompatible pin");
	unlink(p);
	cr_expect_eq(mm_guard_open_pinned(dir, &m), -ENOENT);
	rmdir(dir);
}

/* ---- Attached to a real interface --------------------------------------- */

static void lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(s, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/* Send payload from 127.0.0.1:sport to 127.0.0.1:LPORT (or ::1) and tell
 * whether it arrived. */
static bool delivered(int family, uint16_t sport, const uint8_t *pl, size_t n)
{
	int af = family == 4 ? AF_INET : AF_INET6;
	struct sockaddr_storage la = {0}, ra = {0};
	socklen_t sl;
	if (family == 4) {
		struct sockaddr_in *a = (void *)&la, *b = (void *)&ra;
		a->sin_family = b->sin_family = AF_INET;
		a->sin_addr.s_addr = b->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(LPORT);
		b->sin_port = htons(sport);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&la, *b = (void *)&ra;
		a->sin6_family = b->sin6_family = AF_INET6;
		a->sin6_addr = b->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(LPORT);
		b->sin6_port = htons(sport);
		sl = sizeof(*a);
	}
	int rx = socket(af, SOCK_DGRAM, 0), tx = socket(af, SOCK_DGRAM, 0);
	cr_assert(rx >= 0 && tx >= 0);
	int one = 1;
	setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(tx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(rx, (void *)&la, sl), 0, "bind: %s", strerror(errno));
	cr_assert_eq(bind(tx, (void *)&ra, sl), 0, "bind: %s", strerror(errno));
	struct timeval tv = {.tv_usec = 200000};
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(sendto(tx, pl, n, 0, (void *)&la, sl), (ssize_t)n);
	uint8_t buf[256];
	ssize_t got = recv(rx, buf, sizeof(buf), 0);
	close(rx);
	close(tx);
	return got == (ssize_t)n;
}

Test(guard, attached_to_an_interface)
{
	/* a network namespace of this test's own: only lo */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	lo_up();
	int lo = (int)if_nametoindex("lo");
	cr_assert_gt(lo, 0);
	cr_expect_eq(mm_guard_detach(G, lo), -ENOENT, "nothing attached yet");
	int err = mm_guard_attach(G, lo, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST);
	cr_assert_eq(err, 0, "attach: %s", strerror(-err));
	__u32 id = 0;
	cr_assert_eq(bpf_xdp_query_id(lo, XDP_FLAGS_SKB_MODE, &id), 0);
	cr_expect_neq(id, 0);
	/* a second program is not attached over it */
	struct mm_guard *other = NULL;
	cr_assert_eq(mm_guard_load(NULL, &other), 0);
	cr_expect_neq(
		mm_guard_attach(other, lo, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST), 0);
	cr_expect_eq(mm_guard_detach(other, lo), -ENOENT, "not other's to detach");
	mm_guard_close(other);

	for (int fam = 4; fam <= 6; fam += 2) {
		/* unknown 5-tuple: RTP dropped before the socket, STUN through */
		cr_expect(!delivered(fam, RPORT, PKT_RTP, sizeof(PKT_RTP)), "%s", fam_name(fam));
		cr_expect(delivered(fam, RPORT, PKT_STUN, sizeof(PKT_STUN)), "%s", fam_name(fam));
		/* allowlisted: RTP through */
		struct mm_guard_tuple t;
		cr_assert_eq(mm_guard_tuple_make(fam == 4 ? "127.0.0.1" : "::1", RPORT,
						 fam == 4 ? "127.0.0.1" : "::1", LPORT, &t),
			     0);
		cr_assert_eq(mm_guard_allow_put(G, &t), 0);
		cr_expect(delivered(fam, RPORT, PKT_RTP, sizeof(PKT_RTP)), "%s", fam_name(fam));
		/* kicked: nothing, not even STUN */
		cr_assert_eq(mm_guard_allow_del(G, &t), 0);
		cr_assert_eq(mm_guard_kick_put(G, &t, 60), 0);
		cr_expect(!delivered(fam, RPORT, PKT_STUN, sizeof(PKT_STUN)), "%s",
			  fam_name(fam));
	}
	struct mm_guard_counter c[MM_GUARD_COUNTER_SLOTS];
	cr_assert_eq(mm_guard_counters_read(G, c), 0);
	cr_expect_eq(c[MM_GUARD_DROP * MM_GUARD_REASON_SLOTS + MM_DROP_UNKNOWN_ENDPOINT].packets, 2);
	cr_expect_eq(c[MM_GUARD_DROP * MM_GUARD_REASON_SLOTS + MM_DROP_BLOCKED].packets, 2);
	cr_expect_eq(c[MM_GUARD_ACCEPT * MM_GUARD_REASON_SLOTS].packets, 4);

	cr_assert_eq(mm_guard_detach(G, lo), 0);
	cr_assert_eq(bpf_xdp_query_id(lo, XDP_FLAGS_SKB_MODE, &id), 0);
	cr_expect_eq(id, 0);
	cr_expect(delivered(4, RPORT, PKT_RTP, sizeof(PKT_RTP)), "detached: no guard");
}

/* ---- Userspace helpers (no privilege needed) ---------------------------- */

Test(guard_text, prefixes_and_tuples)
{
	struct mm_guard_prefix p;
	cr_assert_eq(mm_guard_prefix_parse("198.18.0.0/15", &p), 0);
	cr_expect_eq(p.prefixlen, 96 + 15);
	cr_expect_eq(p.addr[10], 0xFF);
	cr_expect_eq(p.addr[12], 198);
	cr_expect_eq(p.addr[13], 18);
	cr_assert_eq(mm_guard_prefix_parse("198.19.255.255/15", &p), 0);
	cr_expect_eq(p.addr[13], 18, "host bits cleared");
	cr_expect_eq(p.addr[14], 0);
	cr_assert_eq(mm_guard_prefix_parse("2001:db8::1", &p), 0);
	cr_expect_eq(p.prefixlen, 128);
	cr_expect_eq(p.addr[15], 1);
	cr_expect_eq(mm_guard_prefix_parse("198.18.0.0/33", &p), -EINVAL);
	cr_expect_eq(mm_guard_prefix_parse("2001:db8::/129", &p), -EINVAL);
	cr_expect_eq(mm_guard_prefix_parse("198.18.0.0/", &p), -EINVAL);
	cr_expect_eq(mm_guard_prefix_parse("198.18.0.0/-1", &p), -EINVAL);
	cr_expect_eq(mm_guard_prefix_parse("198.18.0.0/1x", &p), -EINVAL);
	cr_expect_eq(mm_guard_prefix_parse("host/8", &p), -EINVAL);
	struct mm_guard_tuple t;
	cr_assert_eq(mm_guard_tuple_make("198.18.1.2", 5000, "198.18.0.1", 20000, &t), 0);
	cr_expect_eq(t.remote_port, htons(5000));
	cr_expect_eq(t.local_port, htons(20000));
	cr_expect_eq(t.remote_addr[15], 2);
	cr_expect_eq(t.local_addr[15], 1);
	cr_expect_eq(mm_guard_tuple_make("198.18.1.2", 5000, "2001:2::1", 20000, &t), -EINVAL,
		     "mixed families");
	cr_expect_eq(mm_guard_tuple_make("nope", 5000, "198.18.0.1", 20000, &t), -EINVAL);
}

Test(guard_text, limits)
{
	struct mm_guard_rate r;
	cr_assert_eq(mm_guard_rate_set(&(struct mm_guard_limit){.pps = 1000, .pkt_burst = 10}, &r),
		     0);
	cr_expect_eq(r.pkt_cost_ns, 1000000);
	cr_expect_eq(r.pkt_tau_ns, 10000000);
	cr_expect_eq(r.byte_cost_fp, 0);
	cr_assert_eq(mm_guard_rate_set(
			     &(struct mm_guard_limit){.bytes_ps = 125000, .byte_burst = 12500}, &r),
		     0);
	cr_expect_eq(r.byte_cost_fp, (8000ull << MM_GUARD_BYTE_SHIFT));
	cr_expect_eq(r.byte_tau_ns, 100000000);
	cr_expect_eq(mm_guard_rate_set(&(struct mm_guard_limit){.pps = 5}, &r), -EINVAL);
	cr_expect_eq(mm_guard_rate_set(&(struct mm_guard_limit){.bytes_ps = 5}, &r), -EINVAL);
	cr_assert_eq(mm_guard_rate_set(&(struct mm_guard_limit){0}, &r), 0);
	cr_expect_eq(r.pkt_cost_ns + r.byte_cost_fp, 0, "no limit");
	cr_expect_str_eq(mm_guard_verdict_name(MM_GUARD_DROP), "drop");
	cr_expect_null(mm_guard_verdict_name(MM_GUARD__VERDICTS));
	cr_expect_str_eq(mm_drop_reason_name(MM_DROP_HANDSHAKE_RATE_LIMITED),
			 "handshake_rate_limited");
}

Test(guard, configure_refuses_bad_settings)
{
	struct mm_guard_settings s = DEFAULTS;
	s.port_lo = 41000;
	cr_expect_eq(mm_guard_configure(G, &s), -EINVAL);
	s = DEFAULTS;
	s.port_lo = 0;
	cr_expect_eq(mm_guard_configure(G, &s), -EINVAL);
	s = DEFAULTS;
	s.unknown.pps = 10;
	cr_expect_eq(mm_guard_configure(G, &s), -EINVAL);
	/* the previous configuration stands */
	allow(4);
	EXPECT(send_udp(4, PKT_RTP, sizeof(PKT_RTP)), MM_GUARD_ACCEPT, MM_DROP_NONE);
}
