/* mmctld's clock (GET/PUT /v1/clock, "test_clock") and a room's meeting
 * lifecycle (live, started_at; the reason of room.ended), against a real
 * mmctld process with a real SQLite file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static struct h_ctl H;

static void setup_clock(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_rec_start(&H);
	h_start(&H);
}

static void setup_plain(void)
{
	h_setup(&H);
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_teardown(&H);
}


static char *room(const char *body)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/rooms", H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

static char *join(const char *rid, int port)
{
	char path[128], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":%d},\"streams\":[{\"kind\":\"audio\",\"ssrc\":%d}]}", port, port, port);
	int st = h_http(&H, "POST", path, H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

static json_t *get_room(const char *rid)
{
	char path[128];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 200);
	return r;
}

TestSuite(clock, .init = setup_clock, .fini = teardown, .timeout = 60);

Test(clock, moves_and_tokens_expire_by_it)
{
	long long t0 = h_clock_now(&H);
	cr_assert(t0 >= (long long)time(NULL) - 5 && t0 <= (long long)time(NULL) + 5);

	json_t *r;
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token,
			    "{\"scope\":\"tenant:acme\",\"ttl_seconds\":600}", 0, &r), 201);
	char *tok = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", tok, NULL, 0, &r), 200);
	json_decref(r);

	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":601}", 0, &r), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "offset")), 601);
	json_decref(r);
	cr_assert(h_clock_now(&H) >= t0 + 601);
	/* The tenant token's 600 s are over by mmctld's clock. */
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", tok, NULL, 0, &r), 401);
	json_decref(r);

	/* Absolute, and back. */
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"now\":2000000000}", 0, &r), 200);
	json_decref(r);
	long long t = h_clock_now(&H);
	cr_assert(t >= 2000000000 && t <= 2000000005, "%lld", t);
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":0}", 0, &r), 200);
	json_decref(r);
	free(tok);
}

Test(clock, bad_requests_change_nothing)
{
	static const char *const bad[] = {
		"{}", "{\"now\":1,\"advance\":1}", "{\"advance\":\"1\"}", "{\"when\":1}",
		"{\"now\":99999999999}", "[1]", "not json",
	};
	json_t *r;
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":100}", 0, &r), 200);
	json_decref(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, bad[i], 0, &r), 400, "%s",
			     bad[i]);
		json_decref(r);
	}
	cr_assert_eq(h_http(&H, "GET", "/v1/clock", H.op_token, NULL, 0, &r), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "offset")), 100);
	json_decref(r);
	/* Only an operator. */
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, "{\"scope\":\"tenant:acme\"}", 0,
			    &r), 201);
	char *tok = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", tok, "{\"advance\":1}", 0, &r), 403);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/clock", tok, NULL, 0, &r), 403);
	json_decref(r);
	free(tok);
}

Test(clock, meeting_starts_at_first_join_and_ends_when_empty)
{
	char *rid = room("{\"name\":\"weekly\",\"kind\":\"fixed\"}");
	json_t *r = get_room(rid);
	cr_assert(json_is_false(json_object_get(r, "live")));
	cr_assert_null(json_object_get(r, "started_at"));
	json_decref(r);

	long long t0 = h_clock_now(&H);
	char *a = join(rid, 5000);
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":300}", 0, &r), 200);
	json_decref(r);
	char *b = join(rid, 5002);
	r = get_room(rid);
	cr_assert(json_is_true(json_object_get(r, "live")));
	long long started = json_integer_value(json_object_get(r, "started_at"));
	/* The first join started it; the second, 300 s later, did not move it. */
	cr_assert(started >= t0 && started < t0 + 300, "%lld vs %lld", started, t0);
	json_decref(r);

	char path[160];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, a);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r), 204);
	r = get_room(rid);
	cr_assert(json_is_true(json_object_get(r, "live")), "one is left");
	cr_assert_eq(json_integer_value(json_object_get(r, "started_at")), started);
	json_decref(r);
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, b);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r), 204);
	r = get_room(rid);
	cr_assert(json_is_false(json_object_get(r, "live")), "nobody is left");
	json_decref(r);

	/* A new meeting starts at its own first join. */
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":3600}", 0, &r), 200);
	json_decref(r);
	free(join(rid, 5004));
	r = get_room(rid);
	cr_assert(json_integer_value(json_object_get(r, "started_at")) >= started + 3900);
	json_decref(r);

	/* Ending it: room.ended says why; the fixed room is not live. */
	snprintf(path, sizeof(path), "/v1/rooms/%s/end", rid);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, &r), 204);
	r = get_room(rid);
	cr_assert(json_is_false(json_object_get(r, "live")));
	cr_assert_eq(json_integer_value(json_object_get(r, "meeting")), 2);
	json_decref(r);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE room_id='%s' AND "
		 "type='room.ended' AND json_extract(data,'$.reason')='ended'", rid);
	cr_assert_eq(h_db_count(&H, sql), 1);
	free(a);
	free(b);
	free(rid);
}

TestSuite(clock_fixed, .init = setup_plain, .fini = teardown, .timeout = 60);

Test(clock_fixed, put_is_refused_without_test_clock)
{
	json_t *r;
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, "{\"advance\":100}", 0, &r), 403);
	cr_assert_str_eq(h_err_code(r), "clock_fixed");
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/clock", H.op_token, NULL, 0, &r), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "offset")), 0);
	cr_assert(json_is_false(json_object_get(r, "settable")));
	json_decref(r);
}
