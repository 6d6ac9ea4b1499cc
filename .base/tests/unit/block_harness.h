/* Shared by the block tests: tables with two workers and a fake agent
 * clock, room r1 (worker 0) with endpoints a and c, and helpers. */
#ifndef MM_TEST_BLOCK_HARNESS_H
#define MM_TEST_BLOCK_HARNESS_H

#include "harness.h"

static struct mm_tables T;
static struct mm_agent A;
static struct h_capture *CAP;
static struct mm_worker_ctx W[2];
static uint64_t NOW = 1000ull * 1000000000ull; /* the agent's clock */

static const uint8_t MAC1[6] = {0x02, 0, 0, 0, 1, 1};

static inline uint64_t fake_now(void)
{
	return __atomic_load_n(&NOW, __ATOMIC_RELAXED);
}

static inline void advance_ms(uint64_t ms)
{
	__atomic_store_n(&NOW, NOW + ms * 1000000ull, __ATOMIC_RELAXED);
}

static inline void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 2);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
	A.now_ns = fake_now;
	CAP = calloc(1, sizeof(*CAP));
	for (uint32_t i = 0; i < 2; i++)
		W[i] = (struct mm_worker_ctx){.t = &T, .id = i, .st = &T.wstats[i],
					      .tx = {.alloc = h_cap_alloc, .send = h_cap_send,
						     .discard = h_cap_discard, .ctx = CAP}};
	/* r1 (worker 0): a and c, so that a's packets have a receiver */
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, "");
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 3001, 3002, "");
}

static inline void teardown(void)
{
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	free(CAP);
	H_ASSERT_NO_LEAKS();
}


#define BLOCK_FMT                                                                              \
	"{\"op\":\"block.put\",\"block\":\"%s\",\"remote\":{\"addr\":\"%s\",\"port\":%u},"      \
	"\"local\":{\"addr\":\"%s\",\"port\":%u},\"ttl_seconds\":%u}"

static inline void put_block(const char *name, const char *raddr, unsigned rport, unsigned lport, unsigned ttl)
{
	H_OK(&A, BLOCK_FMT, name, raddr, rport, strchr(raddr, ':') ? "2001:2::1" : "198.18.0.1", lport,
	     ttl);
}

/* One packet from src:sport to our dport on worker w; payload[0] picks
 * what it is (0x80: RTP, 0x00: STUN). */
static inline int send_from(uint32_t w, const char *src, uint16_t sport, uint16_t dport, uint8_t first)
{
	uint8_t pl[1500], frame[1600];
	size_t n = h_rtp(pl, sizeof(pl), 1001, 7, 960u * 7, 111, 160); /* 172 bytes */
	if (first != 0x80) {
		memset(pl, 0, 20);
		pl[0] = first;
		pl[1] = 1; /* a STUN binding request header */
		n = 20;
	}
	size_t fl = h_frame(frame, src, sport, strchr(src, ':') ? "2001:2::1" : "198.18.0.1", dport,
			    MAC1, pl, n);
	return mm_engine_rx(&W[w], frame, fl, 0, 2000000000ull);
}

static inline uint64_t drops(uint32_t w, enum mm_drop_reason r)
{
	return MM_CNT_GET(T.wstats[w].drops[r]);
}

/* stats.get's "blocks" entry of one block (a new reference), or NULL. */
static inline json_t *block_stats(const char *name)
{
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert(h_ok(r));
	json_t *found = NULL, *b;
	size_t i;
	json_array_foreach(json_object_get(r, "blocks"), i, b)
		if (strcmp(json_string_value(json_object_get(b, "block")), name) == 0)
			found = json_incref(b);
	json_decref(r);
	return found;
}

static inline json_int_t block_field(const char *name, const char *field)
{
	json_t *b = block_stats(name);
	cr_assert_not_null(b, "block %s not in stats.get", name);
	json_t *v = json_object_get(b, field);
	cr_assert(json_is_integer(v), "%s.%s missing", name, field);
	json_int_t x = json_integer_value(v);
	json_decref(b);
	return x;
}

static inline bool tuple_blocked(const char *raddr, uint16_t rport, const char *laddr, uint16_t lport)
{
	struct mm_block_key k;
	uint8_t f;
	memset(&k, 0, sizeof(k));
	cr_assert_eq(net_addr_parse(raddr, &k.raddr, &f), 0);
	cr_assert_eq(net_addr_parse(laddr, &k.laddr, &f), 0);
	k.rport = rport;
	k.lport = lport;
	return mm_tables_block_lookup(&T, &k) != NULL;
}

/* The blocks part of the state, to prove a refusal changed nothing. */
static inline char *blocks_dump(void)
{
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *h = h_agent(&A, "{\"op\":\"hello\"}");
	json_t *o = json_pack("{sOsOsO}", "blocks", json_object_get(r, "blocks"), "n",
			      json_object_get(h, "blocks"), "generation", json_object_get(h, "generation"));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	json_decref(r);
	json_decref(h);
	return s;
}

static inline void assert_same(char *before, const char *what)
{
	char *after = blocks_dump();
	cr_assert_str_eq(before, after, "%s changed the blocks", what);
	free(before);
	free(after);
}

#endif
