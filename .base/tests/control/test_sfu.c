/* Meetings of 100 (issue 7) as mmctld sees them: rooms' last_n and
 * video_last_n, participants' simulcast layers / RTX / codecs / audio level
 * ids, the maximum received resolution, and speaker events from mmdp's
 * speakers.get. mmdp's agent socket is the recorder (harness.h): these
 * tests check the exact requests mmctld sends and what it does with the
 * replies the recorder is told to give. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	h_rec_reply_op("speakers.get", NULL);
	h_rec_fail_op(NULL);
	h_teardown(&H);
}

TestSuite(sfu, .init = setup, .fini = teardown, .timeout = 60);

static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return h_http(&H, method, path, token ? token : H.op_token, body, 0, r);
}

/* POST /v1/rooms; the room's id into id. */
static void room(const char *body, char *id)
{
	json_t *r;
	int st = req("POST", NULL, body, &r, "/v1/rooms");
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	snprintf(id, 40, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
}

/* Join rid with body; id and token out (either may be NULL). */
static void join(const char *rid, const char *body, char *id, char *token)
{
	json_t *r;
	int st = req("POST", NULL, body, &r, "/v1/rooms/%s/participants", rid);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	if (id)
		snprintf(id, 40, "%s", json_string_value(json_object_get(r, "id")));
	if (token)
		snprintf(token, 128, "%s", json_string_value(json_object_get(r, "token")));
	json_decref(r);
}

static void assert_json(json_t *got, const char *want_text, const char *what)
{
	json_t *want = json_loads(want_text, 0, NULL);
	cr_assert(want, "bad expected JSON for %s", what);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert(json_equal(got, want), "%s: got %s, want %s", what, g, want_text);
	free(g);
	json_decref(want);
}

static size_t count_ops(json_t *log, const char *op)
{
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(log, i, v)
		n += !strcmp(json_string_value(json_object_get(v, "op")) ?: "", op);
	return n;
}

/* The one request of log with this op (owned), failing if not exactly one. */
static json_t *only_op(json_t *log, const char *op)
{
	size_t i;
	json_t *v, *found = NULL;
	cr_assert_eq(count_ops(log, op), 1, "exactly one %s", op);
	json_array_foreach(log, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "op")) ?: "", op))
			found = json_incref(v);
	return found;
}

/* Wait for one request with op, forget everything recorded. */
static json_t *wait_op(const char *op)
{
	json_t *v = h_rec_wait_op(op, 2000);
	cr_assert(v, "%s pushed", op);
	json_decref(h_rec_take());
	return v;
}

static int room_int(const char *rid, const char *field)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT %s FROM rooms WHERE id='%s'", field, rid);
	return h_db_count(&H, sql);
}

/* ---- 1. rooms: last_n and video_last_n ---- */

Test(sfu, room_last_n_round_trip_and_room_put)
{
	char rid[40], def[40];
	json_t *r;
	json_decref(h_rec_take());
	/* Defaults: 3 and 0, pushed explicitly. */
	room("{\"name\":\"plain\"}", def);
	json_t *put = wait_op("room.put");
	char want[256];
	snprintf(want, sizeof(want), "{\"op\":\"room.put\",\"room\":\"%s\",\"capacity\":100,"
		 "\"last_n\":3,\"video_last_n\":0,\"generation\":%lld}", def,
		 (long long)json_integer_value(json_object_get(put, "generation")));
	assert_json(put, want, "default room.put");
	json_decref(put);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s", def), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 3);
	cr_assert_eq(json_integer_value(json_object_get(r, "video_last_n")), 0);
	json_decref(r);

	/* Set on create: in the reply, the push, the store, GET. */
	cr_assert_eq(req("POST", NULL, "{\"name\":\"big\",\"capacity\":100,\"last_n\":5,"
			 "\"video_last_n\":9}", &r, "/v1/rooms"), 201);
	snprintf(rid, sizeof(rid), "%s", json_string_value(json_object_get(r, "id")));
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 5);
	cr_assert_eq(json_integer_value(json_object_get(r, "video_last_n")), 9);
	json_decref(r);
	put = wait_op("room.put");
	cr_assert_str_eq(json_string_value(json_object_get(put, "room")), rid);
	cr_assert_eq(json_integer_value(json_object_get(put, "last_n")), 5);
	cr_assert_eq(json_integer_value(json_object_get(put, "video_last_n")), 9);
	json_decref(put);
	cr_assert_eq(room_int(rid, "last_n"), 5);
	cr_assert_eq(room_int(rid, "video_last_n"), 9);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms"), 200);
	json_t *rooms = json_object_get(r, "rooms"), *v;
	size_t i;
	cr_assert_eq(json_array_size(rooms), 2);
	json_array_foreach(rooms, i, v)
		cr_assert_eq(json_integer_value(json_object_get(v, "last_n")),
			     strcmp(json_string_value(json_object_get(v, "id")), rid) ? 3 : 5);
	json_decref(r);

	/* Update one of them: the other stays; room.put carries both. */
	cr_assert_eq(req("PATCH", NULL, "{\"last_n\":0}", &r, "/v1/rooms/%s", rid), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "video_last_n")), 9);
	json_decref(r);
	put = wait_op("room.put");
	cr_assert_eq(json_integer_value(json_object_get(put, "last_n")), 0);
	cr_assert_eq(json_integer_value(json_object_get(put, "video_last_n")), 9);
	cr_assert_eq(json_integer_value(json_object_get(put, "capacity")), 100);
	json_decref(put);
	cr_assert_eq(req("PATCH", NULL, "{\"video_last_n\":100}", &r, "/v1/rooms/%s", rid), 200);
	json_decref(r);
	json_decref(wait_op("room.put"));
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s", rid), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "video_last_n")), 100);
	json_decref(r);

	/* A restart: state.sync's rooms carry them. */
	h_stop(&H);
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	int seen = 0;
	json_array_foreach(json_object_get(sync, "rooms"), i, v) {
		const char *id = json_string_value(json_object_get(v, "room"));
		int ln = (int)json_integer_value(json_object_get(v, "last_n"));
		int vln = (int)json_integer_value(json_object_get(v, "video_last_n"));
		if (!strcmp(id, rid)) {
			cr_assert_eq(ln, 0);
			cr_assert_eq(vln, 100);
			seen++;
		} else {
			cr_assert_str_eq(id, def);
			cr_assert_eq(ln, 3);
			cr_assert_eq(vln, 0);
			seen++;
		}
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "route"),
								    "mode")), "all");
	}
	cr_assert_eq(seen, 2);
	json_decref(sync);
}

Test(sfu, room_last_n_bad_values_change_nothing)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
		{ "{\"name\":\"x\",\"last_n\":101}", "last_n" },
		{ "{\"name\":\"x\",\"last_n\":-1}", "last_n" },
		{ "{\"name\":\"x\",\"video_last_n\":1000}", "video_last_n" },
		{ "{\"name\":\"x\",\"video_last_n\":\"3\"}", "video_last_n" },
		{ "{\"name\":\"x\",\"last_n\":2.5}", "last_n" },
	};
	json_t *r;
	json_decref(h_rec_take());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(req("POST", NULL, bad[i].body, &r, "/v1/rooms"), 400, "%s",
			     bad[i].body);
		cr_assert_str_eq(h_err_code(r), "invalid_field");
		const char *msg = json_string_value(json_object_get(json_object_get(r, "error"),
								    "message"));
		cr_assert(msg && !strncmp(msg, bad[i].field, strlen(bad[i].field)),
			  "error names %s: %s", bad[i].field, msg);
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 0);
	json_t *log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);

	/* Updates: bad values, nothing to change, unknown fields, or a
	 * participant's token change nothing and push nothing. */
	char rid[40], tok[128];
	room("{\"name\":\"r\",\"last_n\":4,\"video_last_n\":6}", rid);
	join(rid, "{\"display_name\":\"a\",\"role\":\"host\",\"remote\":{\"addr\":\"198.18.1.2\","
		  "\"port\":5000}}", NULL, tok);
	json_decref(h_rec_take());
	static const char *const bad_patch[] = {
		"{\"last_n\":101}", "{\"last_n\":5,\"video_last_n\":-2}", "{}",
		"{\"capacity\":5}", "{\"last_n\":null}", "[1]", "{\"last_n\":",
	};
	for (size_t i = 0; i < sizeof(bad_patch) / sizeof(bad_patch[0]); i++) {
		cr_assert_eq(req("PATCH", NULL, bad_patch[i], &r, "/v1/rooms/%s", rid), 400, "%s",
			     bad_patch[i]);
		json_decref(r);
	}
	cr_assert_eq(req("PATCH", tok, "{\"last_n\":1}", &r, "/v1/rooms/%s", rid), 403);
	cr_assert_str_eq(h_err_code(r), "forbidden");
	json_decref(r);
	cr_assert_eq(req("PATCH", NULL, "{\"last_n\":1}", &r, "/v1/rooms/rnothere"), 404);
	json_decref(r);
	cr_assert_eq(room_int(rid, "last_n"), 4);
	cr_assert_eq(room_int(rid, "video_last_n"), 6);
	log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);

	/* mmdp refusing the change: 502 and the store keeps the old value. */
	h_rec_fail_op("room.put");
	cr_assert_eq(req("PATCH", NULL, "{\"last_n\":7}", &r, "/v1/rooms/%s", rid), 502);
	cr_assert_str_eq(h_err_code(r), "mmdp_error");
	json_decref(r);
	h_rec_fail_op(NULL);
	cr_assert_eq(room_int(rid, "last_n"), 4);
}

/* A version 2 database (before last-N and rich streams) opens as it was,
 * with the defaults. */
Test(sfu, version_2_database_is_upgraded)
{
	char rid[40], pid[40];
	room("{\"name\":\"old\"}", rid);
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},"
		  "\"streams\":[{\"kind\":\"audio\",\"ssrc\":11},{\"kind\":\"camera\",\"ssrc\":22}]}",
	     pid, NULL);
	h_stop(&H);
	/* Make it a version 2 database again: drop the new columns. */
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(H.db, &db), SQLITE_OK);
	const char *sql =
		"ALTER TABLE rooms DROP COLUMN last_n; ALTER TABLE rooms DROP COLUMN video_last_n;"
		"ALTER TABLE participants DROP COLUMN media;"
		"ALTER TABLE participants DROP COLUMN max_layer;"
		"ALTER TABLE participants DROP COLUMN rtx_pt; PRAGMA user_version = 2;";
	char *err = NULL;
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK, "%s", err ?: "");
	sqlite3_close(db);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM pragma_table_info('rooms') "
				"WHERE name='last_n'"), 0);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	json_t *rm = json_array_get(json_object_get(sync, "rooms"), 0);
	cr_assert_eq(json_integer_value(json_object_get(rm, "last_n")), 3);
	cr_assert_eq(json_integer_value(json_object_get(rm, "video_last_n")), 0);
	json_t *ep = json_array_get(json_object_get(sync, "endpoints"), 0);
	assert_json(json_object_get(ep, "streams"),
		    "[{\"ssrc\":11,\"kind\":\"audio\"},{\"ssrc\":22,\"kind\":\"video\"}]",
		    "upgraded streams");
	cr_assert_eq(json_integer_value(json_object_get(ep, "max_layer")), 2);
	cr_assert_null(json_object_get(ep, "rtx_pt"));
	json_decref(sync);
	cr_assert_eq(h_db_count(&H, "PRAGMA user_version"), 5);
	json_t *r;
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s", rid), 200);
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 3);
	json_t *p = json_array_get(json_object_get(r, "participants"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "max_resolution")), "high");
	json_decref(r);
	/* And it takes the new settings. */
	cr_assert_eq(req("PATCH", NULL, "{\"last_n\":8}", &r, "/v1/rooms/%s", rid), 200);
	json_decref(r);
	cr_assert_eq(room_int(rid, "last_n"), 8);
}

/* ---- 2. participants: simulcast, RTX, codecs ---- */

#define RICH_STREAMS \
	"[{\"kind\":\"audio\",\"ssrc\":1111,\"codec\":\"opus\",\"audio_level_id\":1}," \
	"{\"kind\":\"camera\",\"ssrcs\":[2001,2002,2003],\"rtx_ssrcs\":[3001,3002,3003]," \
	"\"codec\":\"vp8\"}," \
	"{\"kind\":\"screen\",\"ssrc\":4001,\"rtx_ssrc\":4002,\"codec\":\"h264\"}]"

/* What mmdp must get for RICH_STREAMS. */
#define RICH_AGENT_STREAMS \
	"[{\"ssrc\":1111,\"kind\":\"audio\",\"codec\":\"opus\",\"audio_level_id\":1}," \
	"{\"ssrc\":2001,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"camera\",\"layer\":0," \
	"\"rtx_ssrc\":3001}," \
	"{\"ssrc\":2002,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"camera\",\"layer\":1," \
	"\"rtx_ssrc\":3002}," \
	"{\"ssrc\":2003,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"camera\",\"layer\":2," \
	"\"rtx_ssrc\":3003}," \
	"{\"ssrc\":4001,\"kind\":\"screen\",\"codec\":\"h264\",\"rtx_ssrc\":4002}]"

Test(sfu, simulcast_rtx_codec_make_the_exact_endpoint_put)
{
	char rid[40], pid[40];
	json_t *r;
	room("{\"name\":\"m\"}", rid);
	json_decref(h_rec_take());
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},"
		  "\"rtx_pt\":97,\"max_resolution\":\"medium\",\"streams\":" RICH_STREAMS "}",
	     pid, NULL);
	json_t *log = h_rec_take();
	json_t *put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"), RICH_AGENT_STREAMS, "endpoint.put streams");
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 1);
	cr_assert_eq(json_integer_value(json_object_get(put, "rtx_pt")), 97);
	cr_assert_str_eq(json_string_value(json_object_get(put, "endpoint")), pid);
	cr_assert_str_eq(json_string_value(json_object_get(put, "room")), rid);
	json_decref(put);

	/* GET shows what was given, in the same shape. */
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s/participants/%s", rid, pid), 200);
	assert_json(json_object_get(r, "streams"),
		    "[{\"kind\":\"audio\",\"ssrc\":1111,\"codec\":\"opus\",\"audio_level_id\":1},"
		    "{\"kind\":\"camera\",\"ssrc\":2001,\"ssrcs\":[2001,2002,2003],"
		    "\"rtx_ssrcs\":[3001,3002,3003],\"codec\":\"vp8\"},"
		    "{\"kind\":\"screen\",\"ssrc\":4001,\"rtx_ssrc\":4002,\"codec\":\"h264\"}]",
		    "GET streams");
	cr_assert_str_eq(json_string_value(json_object_get(r, "max_resolution")), "medium");
	cr_assert_eq(json_integer_value(json_object_get(r, "rtx_pt")), 97);

	/* PUT streams with GET's own list: the same endpoint.put (round trip
	 * through the store), rtx_pt kept. */
	json_t *body = json_pack("{s:O}", "streams", json_object_get(r, "streams"));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	json_decref(r);
	cr_assert_eq(req("PUT", NULL, text, &r, "/v1/rooms/%s/participants/%s/streams", rid, pid),
		     200);
	free(text);
	json_decref(r);
	log = h_rec_take();
	put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"), RICH_AGENT_STREAMS, "after PUT streams");
	cr_assert_eq(json_integer_value(json_object_get(put, "rtx_pt")), 97);
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 1);
	json_decref(put);

	/* Two layers without RTX, H.264; rtx_pt 0 turns RTX off. */
	cr_assert_eq(req("PUT", NULL, "{\"rtx_pt\":0,\"streams\":[{\"kind\":\"camera\","
			 "\"ssrcs\":[7,8],\"codec\":\"h264\"}]}", &r,
			 "/v1/rooms/%s/participants/%s/streams", rid, pid), 200);
	json_decref(r);
	log = h_rec_take();
	put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"),
		    "[{\"ssrc\":7,\"kind\":\"video\",\"codec\":\"h264\",\"group\":\"camera\","
		    "\"layer\":0},{\"ssrc\":8,\"kind\":\"video\",\"codec\":\"h264\","
		    "\"group\":\"camera\",\"layer\":1}]", "two layers");
	cr_assert_null(json_object_get(put, "rtx_pt"));
	json_decref(put);

	/* After a restart, state.sync has the same rich description. */
	cr_assert_eq(req("PUT", NULL, "{\"rtx_pt\":127,\"streams\":" RICH_STREAMS "}", &r,
			 "/v1/rooms/%s/participants/%s/streams", rid, pid), 200);
	json_decref(r);
	h_stop(&H);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	json_t *ep = json_array_get(json_object_get(sync, "endpoints"), 0);
	assert_json(json_object_get(ep, "streams"), RICH_AGENT_STREAMS, "state.sync streams");
	cr_assert_eq(json_integer_value(json_object_get(ep, "rtx_pt")), 127);
	cr_assert_eq(json_integer_value(json_object_get(ep, "max_layer")), 1);
	json_decref(sync);
}

Test(sfu, old_body_shapes_push_what_they_pushed)
{
	char rid[40], pid[40], tok[128];
	json_t *r;
	room("{\"name\":\"m\"}", rid);
	json_decref(h_rec_take());
	join(rid, "{\"display_name\":\"a\",\"role\":\"attendee\",\"remote\":{\"addr\":"
		  "\"198.18.1.2\",\"port\":5000},\"streams\":[{\"kind\":\"audio\",\"ssrc\":1111},"
		  "{\"kind\":\"camera\",\"ssrc\":2222},{\"kind\":\"screen\",\"ssrc\":3333}]}",
	     pid, tok);
	json_t *log = h_rec_take();
	json_t *put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"),
		    "[{\"ssrc\":1111,\"kind\":\"audio\"},{\"ssrc\":2222,\"kind\":\"video\"},"
		    "{\"ssrc\":3333,\"kind\":\"screen\"}]", "old streams");
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 2);
	cr_assert_null(json_object_get(put, "rtx_pt"));
	json_decref(put);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s/participants/%s", rid, pid), 200);
	assert_json(json_object_get(r, "streams"),
		    "[{\"kind\":\"audio\",\"ssrc\":1111},{\"kind\":\"camera\",\"ssrc\":2222},"
		    "{\"kind\":\"screen\",\"ssrc\":3333}]", "old GET streams");
	cr_assert_str_eq(json_string_value(json_object_get(r, "max_resolution")), "high");
	cr_assert_null(json_object_get(r, "rtx_pt"));
	json_decref(r);
	/* The old PUT streams, by the participant itself. */
	cr_assert_eq(req("PUT", tok, "{\"streams\":[{\"kind\":\"camera\",\"ssrc\":5555}]}", &r,
			 "/v1/rooms/%s/participants/%s/streams", rid, pid), 200);
	json_decref(r);
	log = h_rec_take();
	put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"), "[{\"ssrc\":5555,\"kind\":\"video\"}]",
		    "old PUT");
	json_decref(put);
	/* No streams at all. */
	join(rid, "{\"display_name\":\"b\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5001}}",
	     NULL, NULL);
	log = h_rec_take();
	put = only_op(log, "endpoint.put");
	json_decref(log);
	assert_json(json_object_get(put, "streams"), "[]", "no streams");
	json_decref(put);
}

Test(sfu, bad_streams_are_refused_with_the_field)
{
	static const struct {
		const char *extra, *field;
	} bad[] = {
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,2,3,4]}]", "streams[0].ssrcs" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[]}]", "streams[0].ssrcs" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,4294967296]}]",
		  "streams[0].ssrcs[1]" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,\"2\"]}]", "streams[0].ssrcs[1]" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,2],\"rtx_ssrcs\":[3]}]",
		  "streams[0].rtx_ssrcs" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,2],\"rtx_ssrc\":3}]",
		  "streams[0].rtx_ssrc" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1,\"ssrcs\":[2,3]}]", "streams[0].ssrc" },
		{ "\"streams\":[{\"kind\":\"camera\"}]", "streams[0].ssrc" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,2],\"rtx_ssrcs\":[3,1]}]",
		  "streams: SSRC 1" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrc\":5},{\"kind\":\"camera\",\"ssrc\":6,"
		  "\"rtx_ssrc\":5}]", "streams: SSRC 5" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1},{\"kind\":\"camera\",\"ssrc\":2}]",
		  "streams: more than one camera" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrcs\":[1,2]}]", "streams[0].ssrcs" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrc\":1,\"rtx_ssrc\":2}]",
		  "streams[0].rtx_ssrc" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrc\":1,\"codec\":\"vp8\"}]",
		  "streams[0].codec" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1,\"codec\":\"opus\"}]",
		  "streams[0].codec" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1,\"codec\":\"av1\"}]",
		  "streams[0].codec" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrc\":1,\"audio_level_id\":15}]",
		  "streams[0].audio_level_id" },
		{ "\"streams\":[{\"kind\":\"audio\",\"ssrc\":1,\"audio_level_id\":0}]",
		  "streams[0].audio_level_id" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1,\"audio_level_id\":1}]",
		  "streams[0].audio_level_id" },
		{ "\"streams\":[{\"kind\":\"camera\",\"ssrc\":1,\"layer\":1}]", "streams[].layer" },
		{ "\"streams\":[{\"kind\":\"video\",\"ssrc\":1}]", "streams[0].kind" },
		{ "\"rtx_pt\":95", "rtx_pt" },
		{ "\"rtx_pt\":128", "rtx_pt" },
		{ "\"max_resolution\":\"ultra\"", "max_resolution" },
		{ "\"max_resolution\":2", "max_resolution" },
	};
	char rid[40];
	json_t *r;
	room("{\"name\":\"m\"}", rid);
	json_decref(h_rec_take());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[512];
		snprintf(body, sizeof(body), "{\"display_name\":\"a\",\"remote\":{\"addr\":"
			 "\"198.18.1.2\",\"port\":5000},%s}", bad[i].extra);
		int st = req("POST", NULL, body, &r, "/v1/rooms/%s/participants", rid);
		cr_assert_eq(st, 400, "%s: %d", body, st);
		const char *msg = json_string_value(json_object_get(json_object_get(r, "error"),
								    "message"));
		cr_assert(msg && strstr(msg, bad[i].field), "%s: error names %s: %s", body,
			  bad[i].field, msg);
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	json_t *log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);

	/* A refused PUT streams leaves the stored streams alone. */
	char pid[40];
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},"
		  "\"streams\":" RICH_STREAMS "}", pid, NULL);
	json_decref(h_rec_take());
	cr_assert_eq(req("PUT", NULL, "{\"streams\":[{\"kind\":\"camera\",\"ssrcs\":[1,1]}]}", &r,
			 "/v1/rooms/%s/participants/%s/streams", rid, pid), 400);
	json_decref(r);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s/participants/%s", rid, pid), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "streams")), 3);
	json_decref(r);
	log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);
}

/* ---- 3. the resolution setting ---- */

Test(sfu, max_resolution_pushes_max_layer)
{
	char rid[40], a[40], b[40], ta[128], tb[128], tm[128];
	json_t *r;
	room("{\"name\":\"m\"}", rid);
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},"
		  "\"streams\":" RICH_STREAMS "}", a, ta);
	join(rid, "{\"display_name\":\"b\",\"remote\":{\"addr\":\"198.18.1.3\",\"port\":5000}}",
	     b, tb);
	join(rid, "{\"display_name\":\"m\",\"role\":\"moderator\",\"remote\":{\"addr\":"
		  "\"198.18.1.4\",\"port\":5000}}", NULL, tm);
	json_decref(h_rec_take());

	/* The participant itself lowers it: mmdp hears at once. */
	cr_assert_eq(req("POST", ta, "{\"max_resolution\":\"low\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, a), 200);
	cr_assert_str_eq(json_string_value(json_object_get(r, "max_resolution")), "low");
	json_decref(r);
	json_t *log = h_rec_take();
	json_t *put = only_op(log, "endpoint.put");
	json_decref(log);
	cr_assert_str_eq(json_string_value(json_object_get(put, "endpoint")), a);
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 0);
	assert_json(json_object_get(put, "streams"), RICH_AGENT_STREAMS, "streams unchanged");
	json_decref(put);
	cr_assert_eq(h_db_count(&H, "SELECT max_layer FROM participants WHERE display_name='a'"),
		     0);

	/* A moderator sets someone else's; back to high is pushed too. */
	cr_assert_eq(req("POST", tm, "{\"max_resolution\":\"medium\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, b), 200);
	json_decref(r);
	put = wait_op("endpoint.put");
	cr_assert_str_eq(json_string_value(json_object_get(put, "endpoint")), b);
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 1);
	json_decref(put);
	cr_assert_eq(req("POST", NULL, "{\"max_resolution\":\"high\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, a), 200);
	json_decref(r);
	put = wait_op("endpoint.put");
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 2);
	json_decref(put);

	/* An attendee may not set another's; bad bodies; nothing pushed. */
	cr_assert_eq(req("POST", tb, "{\"max_resolution\":\"low\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, a), 403);
	cr_assert_str_eq(h_err_code(r), "forbidden");
	json_decref(r);
	static const char *const bad[] = { "{\"max_resolution\":\"4k\"}", "{}",
					   "{\"max_resolution\":\"low\",\"x\":1}",
					   "{\"max_resolution\":1}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(req("POST", ta, bad[i], &r, "/v1/rooms/%s/participants/%s/resolution",
				 rid, a), 400, "%s", bad[i]);
		json_decref(r);
	}
	cr_assert_eq(req("PUT", ta, "{\"max_resolution\":\"low\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, a), 405);
	json_decref(r);
	log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "nothing pushed");
	json_decref(log);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s/participants/%s", rid, a), 200);
	cr_assert_str_eq(json_string_value(json_object_get(r, "max_resolution")), "high");
	json_decref(r);

	/* mmdp refusing: 502, the stored value stays. */
	h_rec_fail_op("endpoint.put");
	cr_assert_eq(req("POST", ta, "{\"max_resolution\":\"low\"}", &r,
			 "/v1/rooms/%s/participants/%s/resolution", rid, a), 502);
	json_decref(r);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT max_layer FROM participants WHERE display_name='a'"),
		     2);
}

/* ---- 4. speaker events ---- */

/* The next event of type want on s (skipping others); its data (owned). */
static json_t *next_of_type(struct h_sse *s, const char *want, int ms)
{
	struct h_sse_event e;
	for (;;) {
		int got = h_sse_next(s, &e, ms);
		if (got != 1)
			return NULL;
		if (!strcmp(e.type, want))
			return e.data;
		json_decref(e.data);
	}
}

/* Wait until a speakers.get with since == want arrives: true if it did. */
static bool wait_poll_since(long long want, int ms)
{
	for (int waited = 0; waited <= ms; waited += 50) {
		json_t *polls = h_rec_polls_take(), *v;
		size_t i;
		bool found = false;
		json_array_foreach(polls, i, v)
			found |= json_integer_value(json_object_get(v, "since")) == want;
		json_decref(polls);
		if (found)
			return true;
		usleep(50000);
	}
	return false;
}

Test(sfu, speaker_events_from_speakers_get)
{
	char rid[40], other[40], a[40], b[40], ta[128], reply[512];
	room("{\"name\":\"m\"}", rid);
	room("{\"name\":\"other\"}", other);
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000}}",
	     a, ta);
	join(rid, "{\"display_name\":\"b\",\"remote\":{\"addr\":\"198.18.1.3\",\"port\":5000}}",
	     b, NULL);
	/* mmctld polls from 0 with nothing to say. */
	cr_assert(wait_poll_since(0, 3000), "speakers.get since 0");

	struct h_sse s, so;
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", rid);
	cr_assert_eq(h_sse_open(&H, &s, path, ta, NULL), 200);
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", other);
	cr_assert_eq(h_sse_open(&H, &so, path, H.op_token, NULL), 200);

	/* a becomes the dominant speaker; a room nobody spoke in, an unknown
	 * room and a participant of another room are no news. */
	snprintf(reply, sizeof(reply),
		 "{\"ok\":true,\"seq\":7,\"rooms\":[{\"room\":\"%s\",\"dominant\":\"%s\","
		 "\"last_n\":[\"%s\",\"%s\"],\"changes\":1},{\"room\":\"%s\",\"dominant\":null,"
		 "\"last_n\":[],\"changes\":0},{\"room\":\"rgone\",\"dominant\":\"px\","
		 "\"last_n\":[\"px\"],\"changes\":4}]}", rid, a, a, b, other);
	h_rec_reply_op("speakers.get", reply);
	json_t *d = next_of_type(&s, "speaker", 3000);
	cr_assert(d, "a speaker event");
	cr_assert_str_eq(json_string_value(json_object_get(d, "participant")), a);
	char want[200];
	snprintf(want, sizeof(want), "[\"%s\",\"%s\"]", a, b);
	assert_json(json_object_get(d, "last_n"), want, "last_n");
	cr_assert_eq(json_integer_value(json_object_get(d, "changes")), 1);
	json_decref(d);
	/* The next poll goes on from mmdp's seq; the same answer again is
	 * not a new event. */
	cr_assert(wait_poll_since(7, 3000), "speakers.get since 7");
	cr_assert(wait_poll_since(7, 3000), "polled again");

	/* b takes over. */
	snprintf(reply, sizeof(reply),
		 "{\"ok\":true,\"seq\":9,\"rooms\":[{\"room\":\"%s\",\"dominant\":\"%s\","
		 "\"last_n\":[\"%s\",\"%s\"],\"changes\":2}]}", rid, b, b, a);
	h_rec_reply_op("speakers.get", reply);
	d = next_of_type(&s, "speaker", 3000);
	cr_assert(d, "the second speaker event");
	cr_assert_str_eq(json_string_value(json_object_get(d, "participant")), b,
			 "no repeat of a's event before b's");
	json_decref(d);
	h_rec_reply_op("speakers.get", "{\"ok\":true,\"seq\":9,\"rooms\":[]}");
	cr_assert(wait_poll_since(9, 3000));

	/* The other room's stream saw none of it. */
	struct h_sse_event e;
	cr_assert_eq(h_sse_next(&so, &e, 300), 0, "no events in the other room");
	h_sse_close(&so);

	/* The events are stored with the meeting: replayed to a new stream. */
	struct h_sse again;
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", rid);
	cr_assert_eq(h_sse_open(&H, &again, path, H.op_token, NULL), 200);
	d = next_of_type(&again, "speaker", 3000);
	cr_assert(d);
	cr_assert_str_eq(json_string_value(json_object_get(d, "participant")), a);
	json_decref(d);
	d = next_of_type(&again, "speaker", 3000);
	cr_assert(d);
	cr_assert_str_eq(json_string_value(json_object_get(d, "participant")), b);
	json_decref(d);
	cr_assert_null(next_of_type(&again, "speaker", 300), "exactly two");
	h_sse_close(&again);
	h_sse_close(&s);

	/* A reconnect to mmdp (it restarted): polling starts from 0 again. */
	h_rec_stop();
	h_rec_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync, "resynced");
	json_decref(sync);
	json_decref(h_rec_polls_take());
	cr_assert(wait_poll_since(0, 3000), "speakers.get since 0 after the reconnect");
}

/* An mmdp without speakers.get: asked once per connection, mmctld goes on. */
static void setup_refusing(void)
{
	h_setup(&H);
	h_rec_fail_op_code("speakers.get", "unknown_op");
	h_rec_start(&H);
	h_start(&H);
}

TestSuite(sfu_old_mmdp, .init = setup_refusing, .fini = teardown, .timeout = 60);

Test(sfu_old_mmdp, refused_speakers_get_is_not_asked_again)
{
	json_t *polls = NULL;
	for (int i = 0; i < 100; i++) {
		polls = h_rec_polls_take();
		if (json_array_size(polls))
			break;
		json_decref(polls);
		polls = NULL;
		usleep(50000);
	}
	cr_assert(polls, "asked once");
	cr_assert_eq(json_array_size(polls), 1);
	json_decref(polls);
	/* Changes still work, over the same connection. */
	char rid[40];
	room("{\"name\":\"m\"}", rid);
	join(rid, "{\"display_name\":\"a\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000}}",
	     NULL, NULL);
	json_t *log = h_rec_take();
	cr_assert_eq(count_ops(log, "state.sync"), 1, "no reconnect: one state.sync");
	cr_assert_eq(count_ops(log, "room.put"), 1);
	cr_assert_eq(count_ops(log, "endpoint.put"), 1);
	json_decref(log);
	/* Several ticks later: still not asked again. */
	usleep(1000 * 1000);
	polls = h_rec_polls_take();
	cr_assert_eq(json_array_size(polls), 0, "not asked again on this connection");
	json_decref(polls);
	/* A new connection (an upgraded mmdp): asked again, and answered. */
	h_rec_fail_op(NULL);
	h_rec_stop();
	h_rec_start(&H);
	cr_assert(wait_poll_since(0, 3000), "asked again after the reconnect");
	cr_assert(wait_poll_since(0, 3000), "and every tick");
}
