/* Bans of source prefixes through mmctld's API (/v1/bans): add, list,
 * delete, bad input, non-operator tokens, the pushes to mmdp (ban.put,
 * ban.del) and state.sync after a restart. A real mmctld over real HTTP
 * with a real SQLite file; mmdp's agent socket is the recorder. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_teardown(&H);
}

TestSuite(bans, .init = setup, .fini = teardown, .timeout = 60);

static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...)
{
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	json_t *tmp = NULL;
	int st = h_http(&H, method, path, token, body, body ? strlen(body) : 0, r ? r : &tmp);
	json_decref(tmp);
	return st;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

Test(bans, add_list_push_and_delete)
{
	json_t *r;
	json_decref(h_rec_take());
	time_t now = time(NULL);
	cr_assert_eq(req("POST", H.op_token,
			 "{\"prefix\":\"203.0.113.7/24\",\"ttl_seconds\":600,\"reason\":\"flood\"}", &r,
			 "/v1/bans"), 201);
	char id[64];
	snprintf(id, sizeof(id), "%s", str(r, "id"));
	cr_assert(id[0] == 'n', "id %s", id);
	cr_assert_str_eq(str(r, "prefix"), "203.0.113.0/24", "host bits cleared");
	cr_assert_str_eq(str(r, "reason"), "flood");
	json_int_t exp = json_integer_value(json_object_get(r, "expires_at"));
	cr_assert(exp >= now + 600 && exp <= now + 602);
	json_decref(r);

	json_t *put = h_rec_wait_op("ban.put", 1000);
	cr_assert(put);
	cr_assert_str_eq(str(put, "ban"), id);
	cr_assert_str_eq(str(put, "prefix"), "203.0.113.0/24");
	json_int_t ttl = json_integer_value(json_object_get(put, "ttl_seconds"));
	cr_assert(ttl > 590 && ttl <= 600, "ttl %lld", (long long)ttl);
	cr_assert(json_object_get(put, "generation"));
	json_decref(put);

	/* IPv6, default ttl and reason */
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"2001:db8::1\"}", &r, "/v1/bans"), 201);
	cr_assert_str_eq(str(r, "prefix"), "2001:db8::1/128");
	cr_assert_str_eq(str(r, "reason"), "ban");
	json_decref(r);
	/* the same prefix again: conflict */
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"203.0.113.0/24\"}", &r, "/v1/bans"),
		     409);
	cr_assert_str_eq(h_err_code(r), "conflict");
	json_decref(r);

	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/bans"), 200);
	json_t *bans = json_object_get(r, "bans");
	cr_assert_eq(json_array_size(bans), 2);
	cr_assert_str_eq(str(json_array_get(bans, 0), "id"), id, "soonest to expire first");
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 2);

	json_decref(h_rec_take());
	cr_assert_eq(req("DELETE", H.op_token, NULL, NULL, "/v1/bans/%s", id), 204);
	json_t *del = h_rec_wait_op("ban.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(str(del, "ban"), id);
	json_decref(del);
	cr_assert_eq(req("DELETE", H.op_token, NULL, &r, "/v1/bans/%s", id), 404);
	cr_assert_str_eq(h_err_code(r), "not_found");
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 1);
	cr_assert_eq(req("PUT", H.op_token, "{}", NULL, "/v1/bans"), 405);
}

Test(bans, bad_input_is_refused_and_nothing_is_pushed)
{
	static const char *const bad[] = {
		"{\"prefix\":\"203.0.113.0/33\"}",
		"{\"prefix\":\"2001:db8::/129\"}",
		"{\"prefix\":\"not-an-address\"}",
		"{\"prefix\":\"10.0.0.0/\"}",
		"{\"prefix\":\"10.0.0.0/8x\"}",
		"{\"prefix\":\"\"}",
		"{\"prefix\":7}",
		"{}",
		"{\"prefix\":\"10.0.0.0/8\",\"ttl_seconds\":0}",
		"{\"prefix\":\"10.0.0.0/8\",\"ttl_seconds\":99999999}",
		"{\"prefix\":\"10.0.0.0/8\",\"color\":\"red\"}",
		"[1]",
		"not json",
	};
	json_decref(h_rec_take());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r;
		int st = req("POST", H.op_token, bad[i], &r, "/v1/bans");
		cr_expect_eq(st, 400, "%s: %d", bad[i], st);
		json_decref(r);
	}
	json_t *r;
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"10.0.0.0/8\",\"color\":\"red\"}", &r,
			 "/v1/bans"), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_field");
	cr_assert(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
			 "color: unknown field"));
	json_decref(r);
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"10.0.0.0/33\"}", &r, "/v1/bans"), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_field");
	json_decref(r);
	json_t *log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 0);
}

Test(bans, only_operators)
{
	json_t *r;
	cr_assert_eq(req("POST", H.op_token, "{\"scope\":\"tenant:acme\",\"ttl_seconds\":600}", &r,
			 "/v1/tokens"), 201);
	char tok[128];
	snprintf(tok, sizeof(tok), "%s", str(r, "token"));
	json_decref(r);
	cr_assert_eq(req("POST", tok, "{\"prefix\":\"10.0.0.0/8\"}", &r, "/v1/bans"), 403);
	cr_assert_str_eq(h_err_code(r), "forbidden");
	json_decref(r);
	cr_assert_eq(req("GET", tok, NULL, NULL, "/v1/bans"), 403);
	cr_assert_eq(req("DELETE", tok, NULL, NULL, "/v1/bans/n1"), 403);
	cr_assert_eq(req("GET", NULL, NULL, NULL, "/v1/bans"), 401);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 0);
}

Test(bans, mmdp_refusing_rolls_back)
{
	json_t *r;
	h_rec_fail_op("ban.put");
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"10.0.0.0/8\"}", &r, "/v1/bans"), 502);
	cr_assert_str_eq(h_err_code(r), "mmdp_error");
	json_decref(r);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 0);
}

/* Deleting a ban mmdp already expired by itself: its not_found counts as
 * done; any other refusal keeps the ban. */
Test(bans, delete_after_mmdp_expired_it)
{
	json_t *r;
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"10.1.0.0/16\"}", &r, "/v1/bans"), 201);
	char id[64];
	snprintf(id, sizeof(id), "%s", str(r, "id"));
	json_decref(r);
	h_rec_fail_op("ban.del");
	cr_assert_eq(req("DELETE", H.op_token, NULL, &r, "/v1/bans/%s", id), 502);
	cr_assert_str_eq(h_err_code(r), "mmdp_error");
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 1, "a refusal keeps the ban");
	h_rec_fail_op_code("ban.del", "not_found");
	cr_assert_eq(req("DELETE", H.op_token, NULL, NULL, "/v1/bans/%s", id), 204);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 0);
}

Test(bans, state_sync_after_a_restart_carries_them)
{
	json_t *r;
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"198.51.100.0/24\",\"ttl_seconds\":300}",
			 &r, "/v1/bans"), 201);
	char id[64];
	snprintf(id, sizeof(id), "%s", str(r, "id"));
	json_decref(r);
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"2001:db8:5::/48\"}", NULL, "/v1/bans"),
		     201);
	h_stop(&H);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	json_t *bans = json_object_get(sync, "bans");
	cr_assert_eq(json_array_size(bans), 2);
	json_t *b0 = json_array_get(bans, 0);
	cr_assert_str_eq(str(b0, "ban"), id);
	cr_assert_str_eq(str(b0, "prefix"), "198.51.100.0/24");
	json_int_t ttl = json_integer_value(json_object_get(b0, "ttl_seconds"));
	cr_assert(ttl > 280 && ttl <= 300, "ttl %lld", (long long)ttl);
	cr_assert_str_eq(str(json_array_get(bans, 1), "prefix"), "2001:db8:5::/48");
	json_decref(sync);
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/bans"), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "bans")), 2);
	json_decref(r);
}

Test(bans, expired_ones_are_not_listed_nor_synced_and_free_their_prefix)
{
	json_t *r;
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"192.0.2.0/24\",\"ttl_seconds\":60}", &r,
			 "/v1/bans"), 201);
	json_decref(r);
	h_stop(&H);
	/* as if its time had passed while mmctld was down */
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE bans SET expires_at=%lld", (long long)time(NULL) - 1);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(H.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	cr_assert_eq(json_array_size(json_object_get(sync, "bans")), 0);
	json_decref(sync);
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/bans"), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "bans")), 0);
	json_decref(r);
	cr_assert_eq(req("POST", H.op_token, "{\"prefix\":\"192.0.2.0/24\"}", NULL, "/v1/bans"), 201,
		     "an expired ban does not hold its prefix");
}
