/* The XDP guard's allowlist and kicked list kept in step with mmdp's
 * endpoints and blocks by the agent (dataplane/core/agent_guard.c), against
 * an in-memory stand-in for the pinned maps: every change request, batches,
 * state.sync, block expiry, refused requests, failed map updates and their
 * recovery, the port range check, stats.get's "guard" object. No BPF: the
 * same operations on the real maps run in the integration test 'guard'. */
#include <arpa/inet.h>
#include <errno.h>

#include "dataplane/core/config.h"
#include "harness.h"

static struct mm_tables T;
static struct mm_agent A;
static uint64_t NOW = 1000ull * 1000000000ull; /* the agent's clock */
#define S (1000000000ull)

static uint64_t fake_now(void)
{
	return NOW;
}

/* ---- The stand-in maps ---------------------------------------------------- */

#define FAKE_MAX 256

static struct fake_entry {
	bool used, kicked;
	struct mm_guard_tuple t;
	uint64_t expires;
} M[FAKE_MAX];

static struct {
	int calls;       /* every operation */
	int fail_puts;   /* this many allow_put/kick_put calls fail next */
	int fail_errno;
	struct mm_guard_counter counters[MM_GUARD_COUNTER_SLOTS];
} F;

static struct fake_entry *find(bool kicked, const struct mm_guard_tuple *t)
{
	for (int i = 0; i < FAKE_MAX; i++)
		if (M[i].used && M[i].kicked == kicked && memcmp(&M[i].t, t, sizeof(*t)) == 0)
			return &M[i];
	return NULL;
}

static int put(bool kicked, const struct mm_guard_tuple *t, uint64_t expires)
{
	F.calls++;
	if (F.fail_puts > 0) {
		F.fail_puts--;
		return -F.fail_errno;
	}
	struct fake_entry *e = find(kicked, t);
	for (int i = 0; !e && i < FAKE_MAX; i++)
		if (!M[i].used)
			e = &M[i];
	if (!e)
		return -E2BIG;
	e->used = true;
	e->kicked = kicked;
	e->t = *t;
	if (kicked)
		e->expires = expires;
	return 0;
}

static int delete(bool kicked, const struct mm_guard_tuple *t)
{
	F.calls++;
	struct fake_entry *e = find(kicked, t);
	if (!e)
		return -ENOENT;
	e->used = false;
	return 0;
}

static int f_allow_put(void *ctx, const struct mm_guard_tuple *t)
{
	(void)ctx;
	return put(false, t, 0);
}

static int f_allow_del(void *ctx, const struct mm_guard_tuple *t)
{
	(void)ctx;
	return delete(false, t);
}

static int f_kick_put(void *ctx, const struct mm_guard_tuple *t, uint64_t expires_ns)
{
	(void)ctx;
	return put(true, t, expires_ns);
}

static int f_kick_del(void *ctx, const struct mm_guard_tuple *t)
{
	(void)ctx;
	return delete(true, t);
}

static int f_tuples(void *ctx, bool kicked, int (*fn)(void *, const struct mm_guard_tuple *),
		    void *arg)
{
	(void)ctx;
	F.calls++;
	struct mm_guard_tuple snap[FAKE_MAX];
	int n = 0;
	for (int i = 0; i < FAKE_MAX; i++)
		if (M[i].used && M[i].kicked == kicked)
			snap[n++] = M[i].t;
	for (int i = 0; i < n; i++) {
		int rc = fn(arg, &snap[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int f_counters(void *ctx, struct mm_guard_counter out[MM_GUARD_COUNTER_SLOTS])
{
	(void)ctx;
	memcpy(out, F.counters, sizeof(F.counters));
	return 0;
}

static const struct mm_agent_guard_ops FAKE_OPS = {
	.allow_put = f_allow_put,
	.allow_del = f_allow_del,
	.kick_put = f_kick_put,
	.kick_del = f_kick_del,
	.tuples = f_tuples,
	.counters = f_counters,
};

static struct mm_agent_guard G;
static char LOG[512];

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	snprintf(LOG, sizeof(LOG), "%s", line);
}

/* The 5-tuple as the guard keys it, built here independently of the
 * agent: IPv4-mapped addresses, ports in network order. */
static struct mm_guard_tuple tuple(const char *raddr, unsigned rport, const char *laddr,
				   unsigned lport)
{
	struct mm_guard_tuple t;
	memset(&t, 0, sizeof(t));
	if (strchr(raddr, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, raddr, t.remote_addr), 1);
		cr_assert_eq(inet_pton(AF_INET6, laddr, t.local_addr), 1);
	} else {
		t.remote_addr[10] = t.remote_addr[11] = 0xff;
		t.local_addr[10] = t.local_addr[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, raddr, t.remote_addr + 12), 1);
		cr_assert_eq(inet_pton(AF_INET, laddr, t.local_addr + 12), 1);
	}
	t.remote_port = htons((uint16_t)rport);
	t.local_port = htons((uint16_t)lport);
	return t;
}

static bool allowed(const char *raddr, unsigned rport, unsigned lport)
{
	struct mm_guard_tuple t = tuple(raddr, rport, strchr(raddr, ':') ? "2001:2::1" : "198.18.0.1", lport);
	return find(false, &t) != NULL;
}

/* The kicked entry's expiry, or 0 when there is none. */
static uint64_t kicked_until(const char *raddr, unsigned rport, unsigned lport)
{
	struct mm_guard_tuple t = tuple(raddr, rport, strchr(raddr, ':') ? "2001:2::1" : "198.18.0.1", lport);
	struct fake_entry *e = find(true, &t);
	return e ? e->expires : 0;
}

static int count(bool kicked)
{
	int n = 0;
	for (int i = 0; i < FAKE_MAX; i++)
		n += M[i].used && M[i].kicked == kicked;
	return n;
}

/* ---- Fixture ------------------------------------------------------------- */

static void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 2);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	memset(M, 0, sizeof(M));
	memset(&F, 0, sizeof(F));
	LOG[0] = 0;
	A.t = &T;
	A.now_ns = fake_now;
	G = (struct mm_agent_guard){.ops = &FAKE_OPS, .port_lo = 40000, .port_hi = 40999,
				    .pin_dir = "/sys/fs/bpf", .log = log_line};
	A.guard = &G;
}

static void teardown(void)
{
	A.guard = NULL;
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	H_ASSERT_NO_LEAKS();
}

TestSuite(guard_sync, .init = setup, .fini = teardown);

#define BLOCK_FMT                                                                              \
	"{\"op\":\"block.put\",\"block\":\"%s\",\"remote\":{\"addr\":\"%s\",\"port\":%u},"      \
	"\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},\"ttl_seconds\":%u}"

static void two_endpoints(void)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1, 2, "");
	H_OK(&A, H_EP_FMT, "b", "r1", 40002, "198.18.1.2", 5002, 3, 4, "");
}

/* ---- Endpoints ------------------------------------------------------------ */

Test(guard_sync, endpoints_put_move_and_delete_follow_the_table)
{
	two_endpoints();
	cr_assert(allowed("198.18.1.1", 5001, 40001));
	cr_assert(allowed("198.18.1.2", 5002, 40002));
	cr_assert_eq(count(false), 2);

	/* in place (mute): the entry stays */
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1, 2, ",\"audio_muted\":true");
	cr_assert(allowed("198.18.1.1", 5001, 40001));
	cr_assert_eq(count(false), 2);

	/* moved to another remote port: the old 5-tuple goes */
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5011, 1, 2, "");
	cr_assert_not(allowed("198.18.1.1", 5001, 40001));
	cr_assert(allowed("198.18.1.1", 5011, 40001));
	cr_assert_eq(count(false), 2);

	/* IPv6 */
	H_OK(&A, "{\"op\":\"endpoint.put\",\"endpoint\":\"v6\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"2001:2::1\",\"port\":40006},"
		 "\"remote\":{\"addr\":\"2001:2::1:7\",\"port\":5006},\"streams\":[]}");
	cr_assert(allowed("2001:2::1:7", 5006, 40006));

	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}");
	cr_assert_not(allowed("198.18.1.1", 5011, 40001));
	cr_assert_eq(count(false), 2);
	H_OK(&A, "{\"op\":\"room.del\",\"room\":\"r1\"}");
	cr_assert_eq(count(false), 0, "room.del removes its endpoints' entries");
	cr_assert_eq(G.errors, 0);
	cr_assert_eq(count(true), 0);
}

Test(guard_sync, local_port_outside_the_media_range_is_refused)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	json_t *r = h_agent(&A, H_EP_FMT, "a", "r1", 41000, "198.18.1.1", 5001, 1, 2, "");
	cr_assert_not(h_ok(r));
	cr_assert_str_eq(h_code(r), "invalid_field");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
			 "local.port");
	json_decref(r);
	r = h_agent(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"room.put\",\"room\":\"r2\"},"
			"{\"op\":\"endpoint.put\",\"endpoint\":\"x\",\"room\":\"r2\","
			"\"local\":{\"addr\":\"198.18.0.1\",\"port\":39999},"
			"\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},\"streams\":[]}]}");
	cr_assert_not(h_ok(r));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
			 "ops[1].local.port");
	json_decref(r);
	cr_assert_null(mm_tables_room(&T, "r2"));
	cr_assert_eq(count(false), 0);

	/* without a guard any port goes */
	A.guard = NULL;
	H_OK(&A, H_EP_FMT, "a", "r1", 41000, "198.18.1.1", 5001, 1, 2, "");
}

Test(guard_sync, refused_requests_touch_no_map)
{
	two_endpoints();
	int calls = F.calls;
	H_ERR(&A, "conflict", H_EP_FMT, "z", "r1", 40001, "198.18.1.1", 5001, 1, 2, "");
	H_ERR(&A, "not_found", "{\"op\":\"batch\",\"ops\":[{\"op\":\"endpoint.del\",\"endpoint\":\"a\"},"
			       "{\"op\":\"endpoint.del\",\"endpoint\":\"nope\"}]}");
	H_ERR(&A, "not_found", "{\"op\":\"block.del\",\"block\":\"nope\"}");
	cr_assert_eq(F.calls, calls, "a refused request changes no map");
	cr_assert(allowed("198.18.1.1", 5001, 40001));
}

/* ---- Blocks ----------------------------------------------------------------- */

Test(guard_sync, blocks_put_replace_delete_and_expire)
{
	H_OK(&A, BLOCK_FMT, "b1", "198.18.1.9", 5009, 40009, 60);
	cr_assert_eq(kicked_until("198.18.1.9", 5009, 40009), NOW + 60 * S,
		     "the guard's entry ends with mmdp's block");

	/* again with the same 5-tuple: only the expiry moves */
	NOW += 10 * S;
	H_OK(&A, BLOCK_FMT, "b1", "198.18.1.9", 5009, 40009, 30);
	cr_assert_eq(kicked_until("198.18.1.9", 5009, 40009), NOW + 30 * S);
	cr_assert_eq(count(true), 1);

	/* another 5-tuple: the old one is freed */
	H_OK(&A, BLOCK_FMT, "b1", "198.18.1.9", 5010, 40009, 30);
	cr_assert_eq(kicked_until("198.18.1.9", 5009, 40009), 0);
	cr_assert_eq(kicked_until("198.18.1.9", 5010, 40009), NOW + 30 * S);

	H_OK(&A, "{\"op\":\"block.del\",\"block\":\"b1\"}");
	cr_assert_eq(count(true), 0);

	/* expiry: the agent's tick removes the block and its entry */
	H_OK(&A, BLOCK_FMT, "b2", "198.18.1.8", 5008, 40008, 5);
	H_OK(&A, BLOCK_FMT, "b3", "198.18.1.7", 5007, 40007, 50);
	NOW += 5 * S;
	mm_agent_tick(&A);
	cr_assert_null(mm_tables_block(&T, "b2"));
	cr_assert_eq(kicked_until("198.18.1.8", 5008, 40008), 0, "an expired block leaves the guard");
	cr_assert_neq(kicked_until("198.18.1.7", 5007, 40007), 0);
	cr_assert_eq(G.errors, 0);
}

Test(guard_sync, a_kick_is_in_the_map_when_the_reply_comes)
{
	two_endpoints();
	/* mmctld's kick: endpoint.del and block.put of its 5-tuple, one batch */
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}," BLOCK_FMT
		 "]}",
	     "kick-a", "198.18.1.1", 5001, 40001, 3600);
	cr_assert_not(allowed("198.18.1.1", 5001, 40001), "the kicked endpoint left the allowlist");
	cr_assert_eq(kicked_until("198.18.1.1", 5001, 40001), NOW + 3600 * S);
	cr_assert(allowed("198.18.1.2", 5002, 40002));

	/* a block of a live endpoint's 5-tuple: both entries (the guard, like
	 * mmdp, lets the endpoint win) */
	H_OK(&A, BLOCK_FMT, "kick-b", "198.18.1.2", 5002, 40002, 60);
	cr_assert(allowed("198.18.1.2", 5002, 40002));
	cr_assert_neq(kicked_until("198.18.1.2", 5002, 40002), 0);
}

Test(guard_sync, a_batch_that_adds_and_removes_leaves_nothing)
{
	H_OK(&A, "{\"op\":\"batch\",\"ops\":["
		 "{\"op\":\"room.put\",\"room\":\"t\"},"
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"x\",\"room\":\"t\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40100},"
		 "\"remote\":{\"addr\":\"198.18.2.1\",\"port\":6000},\"streams\":[]},"
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"x\",\"room\":\"t\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40100},"
		 "\"remote\":{\"addr\":\"198.18.2.1\",\"port\":6001},\"streams\":[]},"
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"y\",\"room\":\"t\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40101},"
		 "\"remote\":{\"addr\":\"198.18.2.2\",\"port\":6000},\"streams\":[]},"
		 "{\"op\":\"block.put\",\"block\":\"k\",\"remote\":{\"addr\":\"198.18.2.9\",\"port\":1},"
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40109},\"ttl_seconds\":9},"
		 "{\"op\":\"block.del\",\"block\":\"k\"},"
		 "{\"op\":\"room.del\",\"room\":\"t\"},"
		 "{\"op\":\"room.put\",\"room\":\"t\"},"
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"z\",\"room\":\"t\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40102},"
		 "\"remote\":{\"addr\":\"198.18.2.3\",\"port\":6000},\"streams\":[]}]}");
	cr_assert_eq(count(false), 1, "only z is left");
	cr_assert(allowed("198.18.2.3", 6000, 40102));
	cr_assert_eq(count(true), 0);
}

/* ---- Whole lists ------------------------------------------------------------ */

Test(guard_sync, resync_and_state_sync_remove_what_mmdp_does_not_have)
{
	/* what an earlier mmdp left in the pinned maps */
	struct mm_guard_tuple old1 = tuple("198.18.9.9", 9, "198.18.0.1", 40900);
	struct mm_guard_tuple old2 = tuple("198.18.9.8", 8, "198.18.0.1", 40901);
	put(false, &old1, 0);
	put(true, &old2, 1);
	cr_assert_eq(mm_agent_guard_resync(&A), 0);
	cr_assert_eq(count(false) + count(true), 0, "mmdp starts with empty lists");

	two_endpoints();
	H_OK(&A, BLOCK_FMT, "b1", "198.18.1.9", 5009, 40009, 60);
	put(false, &old1, 0); /* drift: an entry nobody asked for */
	H_OK(&A, "{\"op\":\"state.sync\",\"generation\":3,"
		 "\"rooms\":[{\"room\":\"r1\"}],"
		 "\"endpoints\":[{\"endpoint\":\"b\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},"
		 "\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},\"streams\":[]},"
		 "{\"endpoint\":\"n\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40003},"
		 "\"remote\":{\"addr\":\"198.18.1.3\",\"port\":5003},\"streams\":[]}],"
		 "\"blocks\":[{\"block\":\"b2\",\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},\"ttl_seconds\":120}]}");
	cr_assert_eq(count(false), 2);
	cr_assert(allowed("198.18.1.2", 5002, 40002));
	cr_assert(allowed("198.18.1.3", 5003, 40003));
	cr_assert_not(allowed("198.18.1.1", 5001, 40001));
	cr_assert_eq(find(false, &old1), NULL, "state.sync removes drift");
	cr_assert_eq(count(true), 1);
	cr_assert_eq(kicked_until("198.18.1.1", 5001, 40001), NOW + 120 * S);
	cr_assert_eq(kicked_until("198.18.1.9", 5009, 40009), 0);
	cr_assert_geq(G.resyncs, 2);
}

Test(guard_sync, a_failed_update_is_reported_and_retried)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	F.fail_puts = 1;
	F.fail_errno = ENOMEM;
	json_t *r = h_agent(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1, 2, "");
	cr_assert(h_ok(r), "mmdp applied the change: the reply is ok");
	const char *ge = json_string_value(json_object_get(r, "guard_error"));
	cr_assert_not_null(ge, "the reply says the guard is behind");
	cr_assert(strstr(ge, "allowlist put 198.18.1.1:5001 -> 198.18.0.1:40001"), "%s", ge);
	json_decref(r);
	cr_assert_not_null(mm_tables_endpoint(&T, "a"));
	cr_assert_not(allowed("198.18.1.1", 5001, 40001));
	cr_assert(strstr(LOG, "retrying"), "logged: %s", LOG);

	json_t *st = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *sync = json_object_get(json_object_get(st, "guard"), "sync");
	cr_assert(json_is_false(json_object_get(sync, "in_sync")));
	cr_assert_eq(json_integer_value(json_object_get(sync, "errors")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(sync, "last_error")), G.last_error);
	json_decref(st);

	/* The next request's reply has no guard_error; the tick retries once
	 * a second and brings the lists back. */
	r = h_agent(&A, H_EP_FMT, "b", "r1", 40002, "198.18.1.2", 5002, 3, 4, "");
	cr_assert(h_ok(r));
	cr_assert_null(json_object_get(r, "guard_error"));
	json_decref(r);
	mm_agent_tick(&A);
	cr_assert_not(allowed("198.18.1.1", 5001, 40001), "not before the retry is due");
	NOW += MM_AGENT_GUARD_RETRY_NS;
	mm_agent_tick(&A);
	cr_assert(allowed("198.18.1.1", 5001, 40001));
	cr_assert(allowed("198.18.1.2", 5002, 40002));
	cr_assert_not(G.dirty);
	cr_assert(strstr(LOG, "back in step"), "logged: %s", LOG);

	/* A retry that fails again waits another second. */
	F.fail_puts = 1;
	H_OK(&A, BLOCK_FMT, "b1", "198.18.1.9", 5009, 40009, 60);
	cr_assert(G.dirty);
	F.fail_puts = 1000;
	NOW += MM_AGENT_GUARD_RETRY_NS;
	mm_agent_tick(&A);
	cr_assert(G.dirty);
	F.fail_puts = 0;
	NOW += MM_AGENT_GUARD_RETRY_NS / 2;
	mm_agent_tick(&A);
	cr_assert(G.dirty);
	NOW += MM_AGENT_GUARD_RETRY_NS / 2;
	mm_agent_tick(&A);
	cr_assert_not(G.dirty);
	cr_assert_neq(kicked_until("198.18.1.9", 5009, 40009), 0);
}

/* ---- Stats --------------------------------------------------------------------- */

Test(guard_sync, stats_show_the_counters_by_verdict_and_reason)
{
	F.counters[MM_GUARD_DROP * MM_GUARD_REASON_SLOTS + MM_DROP_BLOCKED] =
		(struct mm_guard_counter){7, 700};
	F.counters[MM_GUARD_DROP * MM_GUARD_REASON_SLOTS + MM_DROP_UNKNOWN_ENDPOINT] =
		(struct mm_guard_counter){3, 300};
	F.counters[MM_GUARD_REDIRECT * MM_GUARD_REASON_SLOTS + MM_DROP_NONE] =
		(struct mm_guard_counter){100, 20000};
	F.counters[MM_GUARD_PASS * MM_GUARD_REASON_SLOTS + MM_DROP_L3_UNSUPPORTED] =
		(struct mm_guard_counter){2, 84};
	json_t *st = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *g = json_object_get(st, "guard");
	cr_assert(json_is_object(g));
	cr_assert_str_eq(json_string_value(json_object_get(g, "pin_dir")), "/sys/fs/bpf");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(g, "port_range"), 1)), 40999);
	json_t *v = json_object_get(g, "verdicts");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "drop"), "packets")), 10);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "drop"), "bytes")), 1000);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "redirect"), "packets")), 100);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "accept"), "packets")), 0);
	json_t *d = json_object_get(g, "drops");
	cr_assert_eq(json_integer_value(json_object_get(d, "blocked")), 7);
	cr_assert_eq(json_integer_value(json_object_get(d, "unknown_endpoint")), 3);
	cr_assert_eq(json_integer_value(json_object_get(d, "rate_limited")), 0, "every reason listed");
	cr_assert_eq(json_object_size(d), MM_DROP__COUNT - 1);
	json_t *pass = json_object_get(json_object_get(g, "reasons"), "pass");
	cr_assert_eq(json_object_size(pass), 1, "reasons: non-zero ones only");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(pass, "l3_unsupported"), "bytes")), 84);
	cr_assert(json_is_true(json_object_get(json_object_get(g, "sync"), "in_sync")));
	/* mmdp's own drops are apart */
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(st, "drops"), "blocked")), 0);
	json_decref(st);

	json_t *h = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert(json_is_true(json_object_get(h, "guard")));
	json_decref(h);
	A.guard = NULL;
	st = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert(json_is_null(json_object_get(st, "guard")));
	json_decref(st);
	h = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert(json_is_false(json_object_get(h, "guard")));
	json_decref(h);
}

/* ---- mmdp.json's "guard" --------------------------------------------------------- */

/* mmdp.json with one port and, when value is given, "key": value. */
static int load_with(const char *key, const char *value, struct mm_config *c, char *err, size_t n)
{
	char path[] = "/tmp/mm-conf-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "{\"ports\":[{\"addresses\":[\"198.18.0.1\"]}]");
	if (value)
		fprintf(f, ",\"%s\":%s", key, value);
	fprintf(f, "}");
	fclose(f);
	mm_config_defaults(c);
	int rc = mm_config_load(path, c, err, n);
	unlink(path);
	return rc;
}

static int load_conf(const char *guard, struct mm_config *c, char *err, size_t n)
{
	return load_with("guard", guard, c, err, n);
}

Test(guard_config, absent_means_no_guard_and_defaults_fill_the_rest)
{
	struct mm_config c;
	char err[256] = "";
	cr_assert_eq(load_conf(NULL, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.guard.enabled);

	cr_assert_eq(load_conf("{\"port_range\":[40000,49999]}", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert(c.guard.enabled);
	cr_assert_str_eq(c.guard.pin_dir, "/sys/fs/bpf");
	cr_assert_eq(c.guard.s.port_lo, 40000);
	cr_assert_eq(c.guard.s.port_hi, 49999);
	cr_assert(c.guard.s.redirect);
	struct mm_guard_limit known = MM_GUARD_CONF_KNOWN, hs = MM_GUARD_CONF_HANDSHAKE;
	cr_assert_eq(memcmp(&c.guard.s.known, &known, sizeof(known)), 0);
	cr_assert_eq(memcmp(&c.guard.s.handshake, &hs, sizeof(hs)), 0);

	cr_assert_eq(load_conf("{\"pin_dir\":\"/sys/fs/bpf/mm\",\"port_range\":[1,65535],"
			       "\"redirect\":false,\"known\":{\"pps\":0},"
			       "\"unknown\":{\"pps\":10,\"burst\":5,\"bytes_per_s\":1000,\"byte_burst\":1500}}",
			       &c, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(c.guard.pin_dir, "/sys/fs/bpf/mm");
	cr_assert_not(c.guard.s.redirect);
	cr_assert_eq(c.guard.s.known.pps, 0, "a rate of 0: no limit");
	cr_assert_eq(c.guard.s.known.pkt_burst, known.pkt_burst, "other fields keep their default");
	cr_assert_eq(c.guard.s.unknown.pps, 10);
	cr_assert_eq(c.guard.s.unknown.byte_burst, 1500);
}

Test(guard_config, mistakes_are_named)
{
	static const struct {
		const char *guard, *says;
	} bad[] = {
		{"{}", "port_range is required"},
		{"[]", "guard must be an object"},
		{"{\"port_range\":[5,4]}", "port_range"},
		{"{\"port_range\":[0,4]}", "port_range"},
		{"{\"port_range\":[1,70000]}", "port_range"},
		{"{\"port_range\":[1]}", "port_range"},
		{"{\"port_range\":[1,2],\"pin_dir\":\"relative\"}", "pin_dir"},
		{"{\"port_range\":[1,2],\"redirect\":1}", "redirect"},
		{"{\"port_range\":[1,2],\"known\":{\"pps\":10,\"burst\":0}}", "needs a burst"},
		{"{\"port_range\":[1,2],\"known\":{\"bytes_per_s\":10,\"byte_burst\":0}}", "needs a burst"},
		{"{\"port_range\":[1,2],\"known\":{\"pps\":-1}}", "guard.known.pps"},
		{"{\"port_range\":[1,2],\"known\":{\"ppps\":1}}", "guard.known.ppps"},
		{"{\"port_range\":[1,2],\"handshake\":7}", "guard.handshake"},
		{"{\"port_range\":[1,2],\"xdp\":true}", "guard.xdp"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mm_config c;
		char err[256] = "";
		cr_expect_eq(load_conf(bad[i].guard, &c, err, sizeof(err)), -EINVAL, "accepted %s",
			     bad[i].guard);
		cr_expect(strstr(err, bad[i].says) != NULL, "%s: \"%s\" does not say %s", bad[i].guard,
			  err, bad[i].says);
	}
}

/* ---- mmdp.json's "idle_sleep_us" -------------------------------------------------- */

static int load_idle(const char *value, struct mm_config *c, char *err, size_t n)
{
	return load_with("idle_sleep_us", value, c, err, n);
}

Test(mmdp_config, idle_sleep_defaults_to_never_and_is_bounded)
{
	struct mm_config c;
	char err[256] = "";
	cr_assert_eq(load_idle(NULL, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.idle_sleep_us, 0, "workers poll without pause unless told");
	cr_assert_eq(load_idle("200", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.idle_sleep_us, 200);
	const char *bad[] = {"-1", "10001", "\"200\"", "1.5", "true"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_neq(load_idle(bad[i], &c, err, sizeof(err)), 0, "%s accepted", bad[i]);
		cr_assert(strstr(err, "idle_sleep_us must be an integer in 0..10000"), "%s: %s", bad[i], err);
	}
}
