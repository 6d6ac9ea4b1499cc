/* Banned source prefixes (ban.put, ban.del; dataplane/core/agent_ban.c):
 * syntax and error codes, batches, state.sync "bans", expiry, stats.get,
 * and the XDP guard's prefix map kept in step (agent_guard.c) against an
 * in-memory stand-in: puts, moves, deletes, expiry, resync of drift, a
 * failed update retried; and mmdp without a guard. No BPF. */
#include <arpa/inet.h>
#include <errno.h>

#include "dataplane/core/agent_internal.h"
#include "harness.h"

static struct mm_tables T;
static struct mm_agent A;
static uint64_t NOW = 1000ull * 1000000000ull;
#define S (1000000000ull)

static uint64_t fake_now(void)
{
	return NOW;
}

/* ---- The stand-in prefix map ------------------------------------------ */

#define PMAX 64
static struct {
	bool used;
	struct mm_guard_prefix p;
	uint64_t expires;
} P[PMAX];
static int FAIL_PUTS;

static int find_p(const struct mm_guard_prefix *p)
{
	for (int i = 0; i < PMAX; i++)
		if (P[i].used && memcmp(&P[i].p, p, sizeof(*p)) == 0)
			return i;
	return -1;
}

static int f_prefix_put(void *ctx, const struct mm_guard_prefix *p, uint64_t expires_ns)
{
	(void)ctx;
	if (FAIL_PUTS > 0) {
		FAIL_PUTS--;
		return -ENOMEM;
	}
	int i = find_p(p);
	for (int k = 0; i < 0 && k < PMAX; k++)
		if (!P[k].used)
			i = k;
	if (i < 0)
		return -E2BIG;
	P[i].used = true;
	P[i].p = *p;
	P[i].expires = expires_ns;
	return 0;
}

static int f_prefix_del(void *ctx, const struct mm_guard_prefix *p)
{
	(void)ctx;
	int i = find_p(p);
	if (i < 0)
		return -ENOENT;
	P[i].used = false;
	return 0;
}

static int f_prefixes(void *ctx, int (*fn)(void *, const struct mm_guard_prefix *), void *arg)
{
	(void)ctx;
	struct mm_guard_prefix snap[PMAX];
	int n = 0;
	for (int i = 0; i < PMAX; i++)
		if (P[i].used)
			snap[n++] = P[i].p;
	for (int i = 0; i < n; i++) {
		int rc = fn(arg, &snap[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* The 5-tuple lists are not under test here: always empty. */
static int f_tuple(void *ctx, const struct mm_guard_tuple *t)
{
	(void)ctx;
	(void)t;
	return 0;
}
static int f_kick_put(void *ctx, const struct mm_guard_tuple *t, uint64_t e)
{
	(void)ctx;
	(void)t;
	(void)e;
	return 0;
}
static int f_tuples(void *ctx, bool kicked, int (*fn)(void *, const struct mm_guard_tuple *),
		    void *arg)
{
	(void)ctx;
	(void)kicked;
	(void)fn;
	(void)arg;
	return 0;
}

static const struct mm_agent_guard_ops OPS = {
	.allow_put = f_tuple,
	.allow_del = f_tuple,
	.kick_put = f_kick_put,
	.kick_del = f_tuple,
	.tuples = f_tuples,
	.prefix_put = f_prefix_put,
	.prefix_del = f_prefix_del,
	.prefixes = f_prefixes,
};
static struct mm_agent_guard G;

/* The prefix as the guard keys it, built here independently. */
static struct mm_guard_prefix pfx(const char *addr, unsigned len)
{
	struct mm_guard_prefix p;
	memset(&p, 0, sizeof(p));
	if (strchr(addr, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, addr, p.addr), 1);
		p.prefixlen = len;
	} else {
		p.addr[10] = p.addr[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, addr, p.addr + 12), 1);
		p.prefixlen = 96 + len;
	}
	return p;
}

/* Expiry in the map of a banned prefix; 0 when absent. */
static uint64_t banned_until(const char *addr, unsigned len)
{
	struct mm_guard_prefix p = pfx(addr, len);
	int i = find_p(&p);
	return i < 0 ? 0 : P[i].expires;
}

static int n_prefixes(void)
{
	int n = 0;
	for (int i = 0; i < PMAX; i++)
		n += P[i].used;
	return n;
}

static void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 2);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	memset(P, 0, sizeof(P));
	FAIL_PUTS = 0;
	NOW = 1000ull * S;
	A.t = &T;
	A.now_ns = fake_now;
	G = (struct mm_agent_guard){.ops = &OPS, .port_lo = 40000, .port_hi = 40999};
	A.guard = &G;
}

static void teardown(void)
{
	A.guard = NULL;
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	H_ASSERT_NO_LEAKS();
}

TestSuite(ban, .init = setup, .fini = teardown);

#define BAN_FMT "{\"op\":\"ban.put\",\"ban\":\"%s\",\"prefix\":\"%s\",\"ttl_seconds\":%u}"

/* stats.get's "bans" array. */
static json_t *bans_stats(void)
{
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert(h_ok(r));
	json_t *b = json_incref(json_object_get(r, "bans"));
	json_decref(r);
	cr_assert(json_is_array(b));
	return b;
}

Test(ban, put_and_delete_follow_the_prefix_map)
{
	H_OK(&A, BAN_FMT, "n1", "203.0.113.0/24", 3600);
	H_OK(&A, BAN_FMT, "n2", "2001:db8::/32", 60);
	cr_assert_eq(banned_until("203.0.113.0", 24), NOW + 3600 * S);
	cr_assert_eq(banned_until("2001:db8::", 32), NOW + 60 * S);
	cr_assert_eq(n_prefixes(), 2);

	json_t *b = bans_stats();
	cr_assert_eq(json_array_size(b), 2);
	json_t *n1 = json_array_get(b, 0);
	cr_assert_str_eq(json_string_value(json_object_get(n1, "ban")), "n1");
	cr_assert_str_eq(json_string_value(json_object_get(n1, "prefix")), "203.0.113.0/24");
	cr_assert_eq(json_integer_value(json_object_get(n1, "expires_in")), 3600);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(b, 1), "prefix")),
			 "2001:db8::/32");
	json_decref(b);

	/* again: only the expiry moves */
	NOW += 10 * S;
	H_OK(&A, BAN_FMT, "n1", "203.0.113.0/24", 7200);
	cr_assert_eq(banned_until("203.0.113.0", 24), NOW + 7200 * S);
	/* another prefix under the same name: the old one goes */
	H_OK(&A, BAN_FMT, "n1", "198.51.100.7", 100);
	cr_assert_eq(banned_until("203.0.113.0", 24), 0);
	cr_assert_eq(banned_until("198.51.100.7", 32), NOW + 100 * S);

	H_OK(&A, "{\"op\":\"ban.del\",\"ban\":\"n1\"}");
	cr_assert_eq(banned_until("198.51.100.7", 32), 0);
	cr_assert_eq(n_prefixes(), 1);
	H_ERR(&A, "not_found", "{\"op\":\"ban.del\",\"ban\":\"n1\"}");

	json_t *h = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_eq(json_integer_value(json_object_get(h, "bans")), 1);
	json_decref(h);
}

Test(ban, host_bits_are_cleared)
{
	H_OK(&A, BAN_FMT, "n1", "203.0.113.77/24", 60);
	cr_assert_eq(banned_until("203.0.113.0", 24), NOW + 60 * S);
	H_ERR(&A, "conflict", BAN_FMT, "n2", "203.0.113.0/24", 60);
	json_t *b = bans_stats();
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(b, 0), "prefix")),
			 "203.0.113.0/24");
	json_decref(b);
}

Test(ban, bad_requests_have_stable_codes)
{
	static const struct {
		const char *req, *code, *field;
	} bad[] = {
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"ttl_seconds\":5}", "missing_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"203.0.113.0/33\",\"ttl_seconds\":5}",
		 "invalid_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"2001:db8::/129\",\"ttl_seconds\":5}",
		 "invalid_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"no.such/8\",\"ttl_seconds\":5}",
		 "invalid_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"10.0.0.0/\",\"ttl_seconds\":5}",
		 "invalid_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"10.0.0.0/-1\",\"ttl_seconds\":5}",
		 "invalid_field", "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":7,\"ttl_seconds\":5}", "invalid_field",
		 "prefix"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"10.0.0.0/8\"}", "missing_field",
		 "ttl_seconds"},
		{"{\"op\":\"ban.put\",\"ban\":\"n\",\"prefix\":\"10.0.0.0/8\",\"ttl_seconds\":0}",
		 "invalid_field", "ttl_seconds"},
		{"{\"op\":\"ban.put\",\"prefix\":\"10.0.0.0/8\",\"ttl_seconds\":5}", "missing_field",
		 "ban"},
		{"{\"op\":\"ban.del\"}", "missing_field", "ban"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = h_agent(&A, "%s", bad[i].req);
		cr_expect_not(h_ok(r), "accepted %s", bad[i].req);
		json_t *err = json_object_get(r, "error");
		cr_expect_str_eq(json_string_value(json_object_get(err, "code")), bad[i].code, "%s",
				 bad[i].req);
		cr_expect_str_eq(json_string_value(json_object_get(err, "field")), bad[i].field, "%s",
				 bad[i].req);
		json_decref(r);
	}
	cr_assert_eq(n_prefixes(), 0);
	cr_assert_eq(T.n_bans, 0);
}

Test(ban, batches_check_against_their_own_view)
{
	/* delete then reuse the prefix under another name, in one batch */
	H_OK(&A, BAN_FMT, "n1", "10.1.0.0/16", 60);
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"ban.del\",\"ban\":\"n1\"},"
		 "{\"op\":\"ban.put\",\"ban\":\"n2\",\"prefix\":\"10.1.0.0/16\",\"ttl_seconds\":30}]}");
	cr_assert_eq(T.n_bans, 1);
	cr_assert_not_null(mm_agent_ban(&T, "n2"));
	cr_assert_eq(banned_until("10.1.0.0", 16), NOW + 30 * S);

	/* a failing op: nothing applied */
	json_t *r = h_agent(&A, "{\"op\":\"batch\",\"ops\":["
				"{\"op\":\"ban.put\",\"ban\":\"n3\",\"prefix\":\"10.3.0.0/16\",\"ttl_seconds\":30},"
				"{\"op\":\"ban.put\",\"ban\":\"n4\",\"prefix\":\"10.1.0.0/16\",\"ttl_seconds\":30}]}");
	cr_assert_not(h_ok(r));
	cr_assert_str_eq(h_code(r), "conflict");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "index")), 1);
	json_decref(r);
	cr_assert_null(mm_agent_ban(&T, "n3"));
	cr_assert_eq(banned_until("10.3.0.0", 16), 0);
}

Test(ban, state_sync_replaces_the_bans_and_removes_drift)
{
	H_OK(&A, BAN_FMT, "old", "10.9.0.0/16", 60);
	struct mm_guard_prefix drift = pfx("192.0.2.0", 24);
	f_prefix_put(NULL, &drift, 0); /* left by an earlier mmdp */
	H_OK(&A, "{\"op\":\"state.sync\",\"generation\":5,\"rooms\":[],"
		 "\"bans\":[{\"ban\":\"n1\",\"prefix\":\"203.0.113.0/24\",\"ttl_seconds\":100},"
		 "{\"ban\":\"n2\",\"prefix\":\"2001:db8:1::/48\",\"ttl_seconds\":200}]}");
	cr_assert_eq(T.n_bans, 2);
	cr_assert_null(mm_agent_ban(&T, "old"));
	cr_assert_eq(banned_until("10.9.0.0", 16), 0);
	cr_assert_eq(banned_until("192.0.2.0", 24), 0, "state.sync removes drift");
	cr_assert_eq(banned_until("203.0.113.0", 24), NOW + 100 * S);
	cr_assert_eq(banned_until("2001:db8:1::", 48), NOW + 200 * S);
	cr_assert_eq(n_prefixes(), 2);

	H_ERR(&A, "invalid_field", "{\"op\":\"state.sync\",\"rooms\":[],\"bans\":{}}");
	H_ERR(&A, "invalid_field",
	      "{\"op\":\"state.sync\",\"rooms\":[],\"bans\":[{\"ban\":\"a\",\"prefix\":\"1.2.3.0/24\","
	      "\"ttl_seconds\":1},{\"ban\":\"a\",\"prefix\":\"1.2.4.0/24\",\"ttl_seconds\":1}]}");
	/* without "bans": none */
	H_OK(&A, "{\"op\":\"state.sync\",\"rooms\":[]}");
	cr_assert_eq(T.n_bans, 0);
	cr_assert_eq(n_prefixes(), 0);
}

Test(ban, bans_expire_in_the_tables_and_the_map)
{
	H_OK(&A, BAN_FMT, "short", "10.0.0.0/8", 10);
	H_OK(&A, BAN_FMT, "long", "2001:db8::/32", 100);
	NOW += 9 * S;
	mm_agent_tick(&A);
	cr_assert_eq(T.n_bans, 2);
	NOW += 1 * S;
	mm_agent_tick(&A);
	cr_assert_eq(T.n_bans, 1);
	cr_assert_null(mm_agent_ban(&T, "short"));
	cr_assert_eq(banned_until("10.0.0.0", 8), 0);
	cr_assert_neq(banned_until("2001:db8::", 32), 0);
	json_t *b = bans_stats();
	cr_assert_eq(json_array_size(b), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(b, 0), "expires_in")), 90);
	json_decref(b);
	/* a request sees no expired ban either */
	NOW += 90 * S;
	H_ERR(&A, "not_found", "{\"op\":\"ban.del\",\"ban\":\"long\"}");
	cr_assert_eq(n_prefixes(), 0);
}

Test(ban, a_failed_map_update_is_reported_and_retried)
{
	FAIL_PUTS = 1;
	json_t *r = h_agent(&A, BAN_FMT, "n1", "203.0.113.0/24", 60);
	cr_assert(h_ok(r), "mmdp keeps the ban all the same");
	cr_assert_not_null(strstr(json_string_value(json_object_get(r, "guard_error")), "prefix put"));
	json_decref(r);
	cr_assert(G.dirty);
	cr_assert_eq(banned_until("203.0.113.0", 24), 0);
	NOW += MM_AGENT_GUARD_RETRY_NS;
	mm_agent_tick(&A);
	cr_assert_not(G.dirty);
	cr_assert_eq(banned_until("203.0.113.0", 24), 1000ull * S + 60 * S);
}

Test(ban, without_a_guard_the_tables_keep_them)
{
	A.guard = NULL;
	H_OK(&A, BAN_FMT, "n1", "203.0.113.0/24", 60);
	cr_assert_eq(T.n_bans, 1);
	cr_assert_eq(n_prefixes(), 0);
	json_t *b = bans_stats();
	cr_assert_eq(json_array_size(b), 1);
	json_decref(b);
	NOW += 60 * S;
	mm_agent_tick(&A);
	cr_assert_eq(T.n_bans, 0);
}

Test(ban, a_guard_without_prefix_ops_is_left_alone)
{
	static const struct mm_agent_guard_ops no_prefix = {
		.allow_put = f_tuple, .allow_del = f_tuple, .kick_put = f_kick_put,
		.kick_del = f_tuple, .tuples = f_tuples};
	G.ops = &no_prefix;
	H_OK(&A, BAN_FMT, "n1", "203.0.113.0/24", 60);
	cr_assert_eq(mm_agent_guard_resync(&A), 0);
	cr_assert_eq(T.n_bans, 1);
	cr_assert_eq(n_prefixes(), 0);
}
