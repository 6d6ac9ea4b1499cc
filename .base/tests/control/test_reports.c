/* Meeting history and reports (/v1/reports) against a real mmctld with a
 * real SQLite file: history rows for joins, leaves, kicks and ends with
 * mmdp's counters (the recorder answers stats.get and endpoint.get with
 * scripted counters), durations by the test clock, pagination with a
 * cursor, filters, tenant isolation, CSV parsed back, bad parameters. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h_ctl H;

/* mmctld's test clock is the system's plus an offset: real seconds pass
 * between the steps of a test too, so a time is at least what the test
 * advanced and at most a little more. */
#define NEAR(x, want)                                                                 \
	do {                                                                          \
		long long x_ = (x), w_ = (want);                                      \
		cr_assert(x_ >= w_ && x_ <= w_ + 3, "%s: %lld, want %lld (+3)", #x, x_, w_); \
	} while (0)

static void setup(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_rec_start(&H);
	h_start(&H);
}

static void setup_fast_samples(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_config_set(&H, "report_sample_ms", "1000");
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_rec_reply_op("stats.get", NULL);
	h_rec_reply_op("endpoint.get", NULL);
	h_teardown(&H);
}



/* A room (body as POST /v1/rooms takes it); its id (free it). */
static char *room(const char *body)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/rooms", H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

static char *join_as(const char *rid, const char *name, int port)
{
	char path[128], body[400];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"%s\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":%d},\"streams\":[{\"kind\":\"audio\",\"ssrc\":%d}]}", name, port, port);
	int st = h_http(&H, "POST", path, H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

static char *join(const char *rid, int port)
{
	char name[32];
	snprintf(name, sizeof(name), "p%d", port);
	return join_as(rid, name, port);
}

static void leave(const char *rid, const char *pid)
{
	char path[160];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, pid);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r), 204);
	json_decref(r);
}

/* GET path with token: status, *out the JSON reply. */
static int get(const char *path, const char *token, json_t **out)
{
	return h_http(&H, "GET", path, token, NULL, 0, out);
}

static json_t *get_ok(const char *path)
{
	json_t *r;
	int st = get(path, H.op_token, &r);
	cr_assert_eq(st, 200, "GET %s: %d %s", path, st, h_err_code(r));
	return r;
}

/* An endpoint of mmdp's stats with these counters and one audio stream. */
static char *ep_json(const char *id, long long rxp, long long rxb, long long txp, long long txb,
		     long long lost, long long jitter)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "{\"endpoint\":\"%s\",\"rx_packets\":%lld,\"rx_bytes\":%lld,"
			   "\"tx_packets\":%lld,\"tx_bytes\":%lld,\"muted_packets\":0,"
			   "\"streams\":[{\"ssrc\":1,\"kind\":\"audio\",\"packets\":%lld,"
			   "\"bytes\":%lld,\"lost\":%lld,\"jitter\":%lld,\"ext_max_seq\":1}]}",
			   id, rxp, rxb, txp, txb, rxp, rxb, lost, jitter) > 0);
	return s;
}

static void script_endpoint(const char *id, long long rxp, long long rxb, long long txp,
			    long long txb, long long lost, long long jitter)
{
	char *ep = ep_json(id, rxp, rxb, txp, txb, lost, jitter), *rep = NULL;
	cr_assert(asprintf(&rep, "{\"ok\":true,%s", strchr(ep, '{') + 1) > 0);
	h_rec_reply_op("endpoint.get", rep);
	free(ep);
	free(rep);
}

/* stats.get answers with room rid, its byte counters and endpoints (the
 * JSON objects eps, comma-separated). */
static void script_room(const char *rid, long long rx_bytes, long long tx_bytes, const char *eps)
{
	char *rep = NULL;
	cr_assert(asprintf(&rep, "{\"ok\":true,\"generation\":1,\"drops\":{},\"workers\":[],"
			   "\"rooms\":[{\"room\":\"%s\",\"worker\":0,\"rx_packets\":0,"
			   "\"rx_bytes\":%lld,\"tx_packets\":0,\"tx_bytes\":%lld,"
			   "\"endpoints\":[%s]}],\"blocks\":[],\"bans\":[]}",
			   rid, rx_bytes, tx_bytes, eps) > 0);
	h_rec_reply_op("stats.get", rep);
	free(rep);
}

/* How many of the reads are op with key = value. */
static int reads_of(json_t *reads, const char *op, const char *key, const char *value)
{
	json_t *v;
	size_t i;
	int n = 0;
	json_array_foreach(reads, i, v)
		n += !strcmp(json_string_value(json_object_get(v, "op")) ?: "", op) &&
		     !strcmp(json_string_value(json_object_get(v, key)) ?: "", value);
	return n;
}

static json_t *attendance(json_t *report, const char *pid)
{
	json_t *a;
	size_t i;
	json_array_foreach(json_object_get(report, "attendances"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "participant")), pid))
			return a;
	cr_assert_fail("no attendance of %s", pid);
	return NULL;
}

static long long jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_string(v), "%s is not a string", k);
	return json_string_value(v);
}

/* The only meeting of room rid in the history (its id, free it). */
static char *meeting_of(const char *rid)
{
	char path[160];
	snprintf(path, sizeof(path), "/v1/reports/meetings?room=%s", rid);
	json_t *r = get_ok(path);
	cr_assert_eq(json_array_size(json_object_get(r, "meetings")), 1);
	char *id = strdup(jstr(json_array_get(json_object_get(r, "meetings"), 0), "id"));
	json_decref(r);
	return id;
}

TestSuite(reports, .init = setup, .fini = teardown, .timeout = 120);

Test(reports, history_of_joins_leaves_kicks_and_the_end)
{
	char *rid = room("{\"name\":\"weekly\",\"kind\":\"fixed\",\"tenant\":\"acme\"}");
	long long t0 = h_clock_now(&H);
	char *a = join_as(rid, "An", 5000);
	h_clock_advance(&H, 60);
	char *b = join_as(rid, "Binh", 5002);
	char *c = join_as(rid, "Chi", 5004);
	h_clock_advance(&H, 60);

	/* a leaves: its counters are read from mmdp before it goes. */
	script_endpoint(a, 1000, 150000, 2000, 300000, 10, 480);
	json_decref(h_rec_reads_take());
	leave(rid, a);
	json_t *reads = h_rec_reads_take();
	cr_assert_eq(reads_of(reads, "endpoint.get", "endpoint", a), 1,
		     "one read before the leave");
	json_decref(reads);
	/* What mmdp says later does not change a's finished row. */
	h_clock_advance(&H, 30);
	script_endpoint(b, 500, 60000, 900, 100000, 0, 900);
	char path[200];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/kick", rid, b);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{\"reason\":\"spam\"}", 0, &r), 204);
	json_decref(r);
	h_clock_advance(&H, 90);
	/* The end: one stats.get of the room for those still in. */
	char *epc = ep_json(c, 7000, 840000, 14000, 1680000, 70, 9000);
	char *epa = ep_json(a, 99999, 99999999, 99999, 99999999, 0, 0);
	char eps[1024];
	snprintf(eps, sizeof(eps), "%s,%s", epc, epa);
	script_room(rid, 5000000, 9000000, eps);
	json_decref(h_rec_reads_take());
	snprintf(path, sizeof(path), "/v1/rooms/%s/end", rid);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, &r), 204);
	json_decref(r);
	reads = h_rec_reads_take();
	cr_assert_eq(reads_of(reads, "stats.get", "room", rid), 1);
	cr_assert_eq(reads_of(reads, "endpoint.get", "endpoint", c), 0);
	json_decref(reads);

	char *mid = meeting_of(rid);
	cr_assert_eq(mid[0], 'm');
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mid);
	json_t *rep = get_ok(path);
	json_t *m = json_object_get(rep, "meeting");
	cr_assert_str_eq(jstr(m, "room"), rid);
	cr_assert_str_eq(jstr(m, "room_name"), "weekly");
	cr_assert_str_eq(jstr(m, "tenant"), "acme");
	cr_assert_eq(jint(m, "meeting"), 1);
	long long started = jint(m, "started_at");
	cr_assert(started >= t0 && started <= t0 + 2, "%lld vs %lld", started, t0);
	NEAR(jint(m, "ended_at"), started + 240);
	cr_assert_eq(jint(m, "duration_s"), jint(m, "ended_at") - started);
	cr_assert(json_is_false(json_object_get(m, "live")));
	cr_assert_str_eq(jstr(m, "end_reason"), "ended");
	cr_assert_eq(jint(m, "peak"), 3);
	cr_assert_eq(jint(m, "participants"), 3);
	cr_assert_eq(jint(m, "rx_packets"), 1000 + 500 + 7000);
	cr_assert_eq(jint(m, "tx_bytes"), 300000 + 100000 + 1680000);
	cr_assert_eq(json_array_size(json_object_get(rep, "attendances")), 3);
	/* Oldest join first. */
	cr_assert_str_eq(jstr(json_array_get(json_object_get(rep, "attendances"), 0),
			      "participant"), a);

	json_t *x = attendance(rep, a);
	cr_assert_str_eq(jstr(x, "display_name"), "An");
	cr_assert_str_eq(jstr(x, "how"), "left");
	cr_assert_eq(jint(x, "joined_at"), started);
	NEAR(jint(x, "left_at"), started + 120);
	long long dur = jint(x, "duration_s");
	cr_assert_eq(dur, jint(x, "left_at") - started);
	cr_assert_eq(jint(x, "rx_packets"), 1000);
	cr_assert_eq(jint(x, "rx_bytes"), 150000);
	cr_assert_eq(jint(x, "tx_packets"), 2000);
	cr_assert_eq(jint(x, "tx_bytes"), 300000);
	cr_assert_eq(jint(x, "lost"), 10);
	/* 10 lost of 1010 expected; 480 RTP units of 48 kHz audio = 10 ms. */
	cr_assert_float_eq(json_real_value(json_object_get(x, "loss_pct")), 1000.0 / 1010.0, 1e-6);
	cr_assert_float_eq(json_real_value(json_object_get(x, "jitter_ms")), 10.0, 1e-9);
	cr_assert_eq(jint(x, "avg_bitrate_rx_bps"), 150000 * 8 / dur);
	cr_assert_eq(jint(x, "avg_bitrate_tx_bps"), 300000 * 8 / dur);

	x = attendance(rep, b);
	cr_assert_str_eq(jstr(x, "how"), "kicked");
	NEAR(jint(x, "joined_at"), started + 60);
	NEAR(jint(x, "duration_s"), 90);
	cr_assert_eq(jint(x, "rx_packets"), 500);
	cr_assert_eq(jint(x, "tx_bytes"), 100000);
	cr_assert_float_eq(json_real_value(json_object_get(x, "jitter_ms")), 18.75, 1e-9);

	x = attendance(rep, c);
	cr_assert_str_eq(jstr(x, "how"), "ended");
	cr_assert_eq(jint(x, "left_at"), jint(json_object_get(rep, "meeting"), "ended_at"));
	dur = jint(x, "duration_s");
	NEAR(dur, 180);
	cr_assert_eq(jint(x, "rx_packets"), 7000);
	cr_assert_eq(jint(x, "rx_bytes"), 840000);
	cr_assert_eq(jint(x, "tx_packets"), 14000);
	cr_assert_eq(jint(x, "lost"), 70);
	cr_assert_eq(jint(x, "avg_bitrate_rx_bps"), 840000 * 8 / dur);
	json_decref(rep);

	/* The fixed room's next meeting is a new record, live until it ends. */
	h_clock_advance(&H, 600);
	char *d = join(rid, 5006);
	snprintf(path, sizeof(path), "/v1/reports/meetings?room=%s", rid);
	rep = get_ok(path);
	cr_assert_eq(json_array_size(json_object_get(rep, "meetings")), 2);
	m = json_array_get(json_object_get(rep, "meetings"), 0);
	cr_assert(json_is_true(json_object_get(m, "live")));
	cr_assert(json_is_null(json_object_get(m, "ended_at")));
	cr_assert(json_is_null(json_object_get(m, "end_reason")));
	cr_assert_eq(jint(m, "meeting"), 2);
	cr_assert_str_neq(jstr(m, "id"), mid);
	json_decref(rep);
	free(epa);
	free(epc);
	free(a);
	free(b);
	free(c);
	free(d);
	free(mid);
	free(rid);
}

Test(reports, the_last_leave_ends_the_meeting_and_delete_ends_it_too)
{
	char *rid = room("{\"name\":\"quick\"}");
	char *a = join(rid, 5000);
	h_clock_advance(&H, 42);
	leave(rid, a);
	char *mid = meeting_of(rid);
	char path[160];
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mid);
	json_t *rep = get_ok(path);
	json_t *m = json_object_get(rep, "meeting");
	cr_assert_str_eq(jstr(m, "end_reason"), "empty");
	NEAR(jint(m, "duration_s"), 42);
	cr_assert_eq(jint(m, "peak"), 1);
	/* The recorder's endpoint.get had no counters: zeros, never sampled. */
	json_t *x = attendance(rep, a);
	cr_assert_eq(jint(x, "rx_packets"), 0);
	cr_assert(json_is_null(json_object_get(x, "sampled_at")));
	json_decref(rep);

	/* DELETE of a room with a live meeting ends it as "deleted". */
	char *rid2 = room("{\"name\":\"gone\"}");
	char *b = join(rid2, 5002);
	h_clock_advance(&H, 5);
	char *mid2 = meeting_of(rid2);
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid2);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r), 204);
	json_decref(r);
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mid2);
	rep = get_ok(path);
	cr_assert_str_eq(jstr(json_object_get(rep, "meeting"), "end_reason"), "deleted");
	cr_assert_str_eq(jstr(attendance(rep, b), "how"), "ended");
	json_decref(rep);
	/* The history outlives the room. */
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	free(a);
	free(b);
	free(mid);
	free(mid2);
	free(rid);
	free(rid2);
}

/* A change mmdp refuses rolls the history back with it. */
Test(reports, a_refused_change_leaves_the_history_as_it_was)
{
	char *rid = room("{\"name\":\"flaky\"}");
	char *a = join(rid, 5000);
	char *b = join(rid, 5002);
	char *mid = meeting_of(rid);
	char path[160];
	json_t *r;
	script_endpoint(a, 10, 1000, 10, 1000, 0, 0);
	h_rec_fail_op("endpoint.del");
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, a);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r), 502);
	json_decref(r);
	h_rec_fail_op("room.del");
	snprintf(path, sizeof(path), "/v1/rooms/%s/end", rid);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, &r), 502);
	json_decref(r);
	h_rec_fail_op(NULL);
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mid);
	json_t *rep = get_ok(path);
	cr_assert(json_is_true(json_object_get(json_object_get(rep, "meeting"), "live")));
	json_t *x = attendance(rep, a);
	cr_assert(json_is_null(json_object_get(x, "left_at")));
	cr_assert(json_is_null(json_object_get(x, "how")));
	cr_assert_eq(jint(x, "rx_packets"), 0, "the refused leave's read went with it");
	cr_assert(json_is_null(json_object_get(attendance(rep, b), "left_at")));
	json_decref(rep);
	/* Once mmdp takes it, it is recorded. */
	leave(rid, a);
	rep = get_ok(path);
	cr_assert_str_eq(jstr(attendance(rep, a), "how"), "left");
	cr_assert_eq(jint(attendance(rep, a), "rx_packets"), 10);
	json_decref(rep);
	free(a);
	free(b);
	free(mid);
	free(rid);
}

/* n meetings in room rid, each one join and leave; advance s between them
 * (0: several start in the same second). */
static void meetings(const char *rid, int n, int s, int port)
{
	for (int i = 0; i < n; i++) {
		char *p = join(rid, port + 2 * i);
		leave(rid, p);
		free(p);
		if (s)
			h_clock_advance(&H, s);
	}
}

Test(reports, pages_have_no_gaps_or_duplicates_and_the_cursor_is_stable)
{
	char *rid = room("{\"name\":\"daily\",\"kind\":\"fixed\"}");
	/* 10 meetings a minute apart, then 15 within the same second. */
	meetings(rid, 10, 60, 6000);
	meetings(rid, 15, 0, 6100);
	json_t *all = get_ok("/v1/reports/meetings?limit=1000");
	cr_assert_eq(json_array_size(json_object_get(all, "meetings")), 25);
	cr_assert(json_is_null(json_object_get(all, "next_cursor")));

	json_t *seen = json_array();
	char path[300];
	const char *cursor = NULL;
	json_t *page = NULL;
	int pages = 0;
	for (;;) {
		if (cursor)
			snprintf(path, sizeof(path), "/v1/reports/meetings?limit=7&cursor=%s",
				 cursor);
		else
			snprintf(path, sizeof(path), "/v1/reports/meetings?limit=7");
		json_t *next = get_ok(path);
		json_decref(page);
		page = next;
		pages++;
		json_t *v;
		size_t i;
		json_array_foreach(json_object_get(page, "meetings"), i, v)
			json_array_append_new(seen, json_string(jstr(v, "id")));
		if (pages == 1) {
			cr_assert_eq(json_array_size(json_object_get(page, "meetings")), 7);
			/* A meeting starts between pages: it is newer than
			 * everything, so the next pages neither repeat nor
			 * skip anything. */
			free(join(rid, 7000));
		}
		json_t *nc = json_object_get(page, "next_cursor");
		if (json_is_null(nc))
			break;
		cursor = json_string_value(nc);
		cr_assert(pages < 10);
	}
	cr_assert_eq(pages, 4);
	cr_assert_eq(json_array_size(seen), 25);
	/* The same order as one big page: newest first, no gaps, no repeats. */
	for (size_t i = 0; i < 25; i++)
		cr_assert_str_eq(json_string_value(json_array_get(seen, i)),
				 jstr(json_array_get(json_object_get(all, "meetings"), i), "id"),
				 "row %zu", i);
	long long prev = -1;
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(all, "meetings"), i, v) {
		long long s = jint(v, "started_at");
		cr_assert(prev < 0 || s <= prev);
		prev = s;
	}
	json_decref(page);
	json_decref(seen);
	json_decref(all);
	/* Now 26, the live one first. */
	all = get_ok("/v1/reports/meetings?limit=1");
	cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(all, "meetings"), 0),
					       "live")));
	json_decref(all);
	free(rid);
}

/* Set the account of a participant's attendance in the database: join
 * tokens (that give participants their account) are another part of
 * issue 9; the history takes p->account as it is. */
static void set_account(const char *pid, const char *account)
{
	sqlite3 *db;
	char sql[300];
	cr_assert_eq(sqlite3_open(H.db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql), "UPDATE history_attendance SET account='%s' WHERE "
		 "participant='%s'", account, pid);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

static size_t count(const char *path, const char *token, int want_status)
{
	json_t *r;
	int st = get(path, token, &r);
	cr_assert_eq(st, want_status, "GET %s: %d %s", path, st, h_err_code(r));
	size_t n = json_array_size(json_object_get(r, "meetings"));
	json_decref(r);
	return n;
}

static char *tenant_token(const char *tenant)
{
	char body[100];
	json_t *r;
	snprintf(body, sizeof(body), "{\"scope\":\"tenant:%s\"}", tenant);
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, body, 0, &r), 201);
	char *t = strdup(jstr(r, "token"));
	json_decref(r);
	return t;
}

Test(reports, filters_and_tenants)
{
	char *ra = room("{\"name\":\"acme-1\",\"kind\":\"fixed\",\"tenant\":\"acme\"}");
	char *rb = room("{\"name\":\"acme-2\",\"kind\":\"fixed\",\"tenant\":\"acme\"}");
	char *rg = room("{\"name\":\"globex\",\"kind\":\"fixed\",\"tenant\":\"globex\"}");
	long long t0 = h_clock_now(&H);
	meetings(ra, 3, 100, 5000);          /* t0, t0+100, t0+200 */
	meetings(rb, 2, 100, 5100);          /* t0+300, t0+400 */
	meetings(rg, 4, 100, 5200);          /* t0+500 .. t0+800 */
	char *p = join(rb, 5300);            /* t0+900, live */
	set_account(p, "u-lan");
	char *q = join(rg, 5302);
	set_account(q, "u-lan");

	char path[300];
	cr_assert_eq(count("/v1/reports/meetings", H.op_token, 200), 11);
	cr_assert_eq(count("/v1/reports/meetings?tenant=acme", H.op_token, 200), 6);
	snprintf(path, sizeof(path), "/v1/reports/meetings?room=%s", ra);
	cr_assert_eq(count(path, H.op_token, 200), 3);
	snprintf(path, sizeof(path), "/v1/reports/meetings?from=%lld&to=%lld", t0 + 100, t0 + 400);
	cr_assert_eq(count(path, H.op_token, 200), 3, "[from, to): t0+100, +200, +300");
	snprintf(path, sizeof(path), "/v1/reports/meetings?tenant=acme&from=%lld", t0 + 150);
	cr_assert_eq(count(path, H.op_token, 200), 4);
	cr_assert_eq(count("/v1/reports/meetings?account=u-lan", H.op_token, 200), 2);
	cr_assert_eq(count("/v1/reports/meetings?account=u-lan&tenant=acme", H.op_token, 200), 1);
	cr_assert_eq(count("/v1/reports/meetings?account=nobody", H.op_token, 200), 0);

	/* A tenant sees its own, whatever it asks. */
	char *acme = tenant_token("acme");
	cr_assert_eq(count("/v1/reports/meetings", acme, 200), 6);
	cr_assert_eq(count("/v1/reports/meetings?account=u-lan", acme, 200), 1);
	snprintf(path, sizeof(path), "/v1/reports/meetings?room=%s", rg);
	cr_assert_eq(count(path, acme, 200), 0);
	cr_assert_eq(count("/v1/reports/meetings?tenant=globex", acme, 403), 0);
	cr_assert_eq(count("/v1/reports/meetings?tenant=acme", acme, 200), 6);
	/* Another tenant's meeting is not found; its own is. */
	char *mg = NULL;
	snprintf(path, sizeof(path), "/v1/reports/meetings?room=%s&limit=1", rg);
	json_t *r = get_ok(path);
	mg = strdup(jstr(json_array_get(json_object_get(r, "meetings"), 0), "id"));
	json_decref(r);
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mg);
	cr_assert_eq(get(path, acme, &r), 404);
	cr_assert_str_eq(h_err_code(r), "not_found");
	json_decref(r);
	cr_assert_eq(get(path, H.op_token, &r), 200);
	json_decref(r);
	cr_assert_eq(get("/v1/reports/meetings/mffffffffffffffff", H.op_token, &r), 404);
	json_decref(r);

	/* Online: the two live meetings; acme sees one. */
	r = get_ok("/v1/reports/online");
	cr_assert_eq(json_array_size(json_object_get(r, "online")), 2);
	json_decref(r);
	cr_assert_eq(get("/v1/reports/online", acme, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "online")), 1);
	json_t *o = json_array_get(json_object_get(r, "online"), 0);
	cr_assert_str_eq(jstr(o, "room"), rb);
	cr_assert_str_eq(jstr(o, "room_name"), "acme-2");
	cr_assert_eq(jint(o, "participants"), 1);
	json_decref(r);

	/* All rooms: per room, meetings and minutes; acme its own two. */
	h_clock_advance(&H, 60);
	r = get_ok("/v1/reports/rooms");
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 3);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(r, "rooms"), i, v) {
		const char *id = jstr(v, "room");
		if (!strcmp(id, ra)) {
			cr_assert_eq(jint(v, "meetings"), 3);
			NEAR(jint(v, "seconds"), 0);   /* each ended as it began */
			cr_assert_eq(jint(v, "participants"), 3);
			cr_assert_eq(jint(v, "peak"), 1);
		} else if (!strcmp(id, rb)) {
			cr_assert_eq(jint(v, "meetings"), 3);
			/* The live one counts up to now. */
			NEAR(jint(v, "seconds"), 60);
			cr_assert_float_eq(json_real_value(json_object_get(v, "minutes")),
					   (double)jint(v, "seconds") / 60.0, 1e-9);
		} else {
			cr_assert_str_eq(id, rg);
			cr_assert_eq(jint(v, "meetings"), 5);
			cr_assert_str_eq(jstr(v, "tenant"), "globex");
		}
	}
	json_decref(r);
	cr_assert_eq(get("/v1/reports/rooms", acme, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 2);
	json_decref(r);
	snprintf(path, sizeof(path), "/v1/reports/rooms?from=%lld&to=%lld", t0 + 250, t0 + 450);
	r = get_ok(path);
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 1);
	cr_assert_eq(jint(json_array_get(json_object_get(r, "rooms"), 0), "meetings"), 2);
	json_decref(r);

	/* A participant's token reads no reports. */
	char body[300];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", ra);
	snprintf(body, sizeof(body), "{\"display_name\":\"z\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":5400}}");
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, body, 0, &r), 201);
	char *ptok = strdup(jstr(r, "token"));
	json_decref(r);
	cr_assert_eq(get("/v1/reports/meetings", ptok, &r), 403);
	json_decref(r);
	free(ptok);
	free(acme);
	free(mg);
	free(p);
	free(q);
	free(ra);
	free(rb);
	free(rg);
}

/* ----------------------------------------------------------------- CSV --- */

/* The value of header name in the header block h (malloc'd; "" if none). */
static char *header(const char *h, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *v = strcasestr(h, key);
	char *out = strdup(v ? v + strlen(key) : "");
	char *eol = strstr(out, "\r\n");
	if (eol)
		*eol = '\0';
	return out;
}

static char *last_headers;     /* of the last get_raw (malloc'd) */

/* GET path: status; *ctype and *body (malloc'd) the raw reply. */
static int get_raw(const char *path, const char *token, char **ctype, char **body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)H.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char head[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	int hl = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\nAuthorization: Bearer %s\r\n\r\n", path, token);
	cr_assert(send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	int status = 0;
	cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1);
	char *end = strstr(buf, "\r\n\r\n");
	cr_assert(end);
	end[2] = '\0';
	*ctype = header(buf, "Content-Type");
	free(last_headers);
	last_headers = strdup(buf);
	*body = strdup(end + 4);
	free(buf);
	return status;
}

/* RFC 4180 parser: records of fields (a JSON array of arrays of strings). */
static json_t *csv_parse(const char *s)
{
	json_t *rows = json_array(), *row = json_array();
	char *field = malloc(strlen(s) + 1);
	size_t n = 0;
	bool quoted = false, any = false;
	for (const char *p = s; *p; p++) {
		if (quoted) {
			if (*p == '"' && p[1] == '"') {
				field[n++] = '"';
				p++;
			} else if (*p == '"') {
				quoted = false;
			} else {
				field[n++] = *p;
			}
			continue;
		}
		if (*p == '"') {
			cr_assert_eq(n, 0, "a quote inside an unquoted field");
			quoted = any = true;
		} else if (*p == ',' || (*p == '\r' && p[1] == '\n')) {
			field[n] = '\0';
			json_array_append_new(row, json_string(field));
			n = 0;
			if (*p == '\r') {
				p++;
				json_array_append_new(rows, row);
				row = json_array();
			}
		} else {
			cr_assert(*p != '\n' && *p != '\r', "a bare line break outside quotes");
			field[n++] = *p;
		}
	}
	cr_assert(!quoted);
	cr_assert_eq(json_array_size(row), 0, "the last record ends with CRLF");
	cr_assert_eq(n, 0);
	(void)any;
	json_decref(row);
	free(field);
	return rows;
}

static int col(json_t *header, const char *name)
{
	json_t *v;
	size_t i;
	json_array_foreach(header, i, v)
		if (!strcmp(json_string_value(v), name))
			return (int)i;
	cr_assert_fail("no column %s", name);
	return -1;
}

Test(reports, csv_with_quoting)
{
	const char *tricky = "Board, \\\"Q4\\\"\\nreview";   /* JSON text */
	const char *plain = "Board, \"Q4\"\nreview";
	char body[200];
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"kind\":\"fixed\"}", tricky);
	char *rid = room(body);
	char *a = join_as(rid, "Nguyen, \\\"Lan\\\"", 5000);
	h_clock_advance(&H, 10);
	script_endpoint(a, 10, 1000, 20, 2000, 0, 0);
	leave(rid, a);
	char *mid = meeting_of(rid);

	char *ct, *text;
	cr_assert_eq(get_raw("/v1/reports/meetings?format=csv", H.op_token, &ct, &text), 200);
	cr_assert(!strncmp(ct, "text/csv", 8), "%s", ct);
	json_t *rows = csv_parse(text);
	cr_assert_eq(json_array_size(rows), 2, "header and one meeting: %s", text);
	json_t *hdr = json_array_get(rows, 0), *row = json_array_get(rows, 1);
	cr_assert_eq(json_array_size(row), json_array_size(hdr));
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "room_name"))), plain);
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "id"))), mid);
	NEAR(atoll(json_string_value(json_array_get(row, col(hdr, "duration_s")))), 10);
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "live"))), "false");
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "rx_packets"))), "10");
	json_decref(rows);
	free(ct);
	free(text);

	char path[200];
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s?format=csv", mid);
	cr_assert_eq(get_raw(path, H.op_token, &ct, &text), 200);
	cr_assert(!strncmp(ct, "text/csv", 8));
	rows = csv_parse(text);
	cr_assert_eq(json_array_size(rows), 2);
	hdr = json_array_get(rows, 0);
	row = json_array_get(rows, 1);
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "display_name"))),
			 "Nguyen, \"Lan\"");
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "room_name"))), plain);
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "participant"))), a);
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "how"))), "left");
	cr_assert_str_eq(json_string_value(json_array_get(row, col(hdr, "tx_bytes"))), "2000");
	long long dur = atoll(json_string_value(json_array_get(row, col(hdr, "duration_s"))));
	cr_assert_eq(atoll(json_string_value(json_array_get(row, col(hdr, "avg_bitrate_rx_bps")))),
		     1000 * 8 / dur);
	json_decref(rows);
	free(ct);
	free(text);

	/* The next page's cursor is a header in CSV. */
	char *b2 = join_as(rid, "second", 5002);
	leave(rid, b2);
	cr_assert_eq(get_raw("/v1/reports/meetings?format=csv&limit=1", H.op_token, &ct, &text),
		     200);
	char *next = header(last_headers, "X-Next-Cursor");
	cr_assert(!strncmp(next, "c1.", 3), "X-Next-Cursor: %s", next);
	free(ct);
	free(text);
	snprintf(path, sizeof(path), "/v1/reports/meetings?format=csv&limit=1&cursor=%s", next);
	cr_assert_eq(get_raw(path, H.op_token, &ct, &text), 200);
	rows = csv_parse(text);
	cr_assert_eq(json_array_size(rows), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_array_get(rows, 1),
							  col(json_array_get(rows, 0), "id"))), mid,
			 "the older meeting on the second page");
	char *none = header(last_headers, "X-Next-Cursor");
	cr_assert_str_eq(none, "", "no header on the last page");
	json_decref(rows);
	free(none);
	free(next);
	free(b2);
	free(ct);
	free(text);

	/* Rooms and online too; online is empty: just the header. */
	cr_assert_eq(get_raw("/v1/reports/rooms?format=csv", H.op_token, &ct, &text), 200);
	rows = csv_parse(text);
	cr_assert_eq(json_array_size(rows), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_array_get(rows, 1),
							  col(json_array_get(rows, 0),
							      "room_name"))), plain);
	json_decref(rows);
	free(ct);
	free(text);
	cr_assert_eq(get_raw("/v1/reports/online?format=csv", H.op_token, &ct, &text), 200);
	rows = csv_parse(text);
	cr_assert_eq(json_array_size(rows), 1);
	col(json_array_get(rows, 0), "bitrate_rx_bps");
	json_decref(rows);
	free(ct);
	free(text);
	/* format=json is the default's explicit name. */
	json_t *r;
	cr_assert_eq(get("/v1/reports/rooms?format=json", H.op_token, &r), 200);
	json_decref(r);
	free(a);
	free(mid);
	free(rid);
}

Test(reports, bad_parameters_are_400)
{
	static const char *const bad[] = {
		"/v1/reports/meetings?from=200&to=100",
		"/v1/reports/meetings?limit=0",
		"/v1/reports/meetings?limit=1001",
		"/v1/reports/meetings?limit=ten",
		"/v1/reports/meetings?cursor=abc",
		"/v1/reports/meetings?cursor=c1.10.zz",
		"/v1/reports/meetings?cursor=c1.010.1",
		"/v1/reports/meetings?format=xml",
		"/v1/reports/meetings?from=-1",
		"/v1/reports/meetings?color=red",
		"/v1/reports/meetings?room=",
		"/v1/reports/online?limit=5",
		"/v1/reports/rooms?from=5&to=4",
		"/v1/reports/rooms?format=pdf",
		"/v1/reports/meetings/m123?format=yaml",
	};
	json_t *r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(get(bad[i], H.op_token, &r), 400, "%s", bad[i]);
		json_t *e = json_object_get(r, "error");
		cr_assert(json_is_string(json_object_get(e, "code")) &&
			  json_is_string(json_object_get(e, "message")), "%s", bad[i]);
		json_decref(r);
	}
	cr_assert_eq(get("/v1/reports/meetings?cursor=abc", H.op_token, &r), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_cursor");
	json_decref(r);
	/* The edges are fine. */
	cr_assert_eq(get("/v1/reports/meetings?limit=1000&from=100&to=100", H.op_token, &r), 200);
	json_decref(r);
	cr_assert_eq(get("/v1/reports/meetings?limit=1", H.op_token, &r), 200);
	json_decref(r);
	cr_assert_eq(h_http(&H, "POST", "/v1/reports/meetings", H.op_token, "{}", 0, &r), 405);
	json_decref(r);
	cr_assert_eq(get("/v1/reports/nothing", H.op_token, &r), 404);
	json_decref(r);
	cr_assert_eq(get("/v1/reports/meetings", NULL, &r), 401);
	json_decref(r);
}

/* --------------------------------------------------------------- online --- */

TestSuite(reports_online, .init = setup_fast_samples, .fini = teardown, .timeout = 60);

/* Wait until n more stats.get reads arrived (each a whole-mmdp sample). */
static void wait_samples(int n)
{
	int got = 0;
	json_decref(h_rec_reads_take());
	for (int i = 0; i < 100 && got < n; i++) {
		usleep(50000);
		json_t *reads = h_rec_reads_take(), *v;
		size_t k;
		json_array_foreach(reads, k, v) {
			cr_assert_str_eq(jstr(v, "op"), "stats.get");
			/* One stats.get of every room per sample, not one
			 * request per room or endpoint. */
			cr_assert_null(json_object_get(v, "room"));
			got++;
		}
		json_decref(reads);
	}
	cr_assert(got >= n, "%d samples", got);
}

Test(reports_online, bitrate_from_the_last_two_samples_and_live_counters)
{
	char *rid = room("{\"name\":\"live\"}");
	char *a = join(rid, 5000);
	char *b = join(rid, 5002);
	char *ea = ep_json(a, 100, 10000, 100, 10000, 0, 0);
	char *eb = ep_json(b, 200, 20000, 200, 20000, 0, 0);
	char eps[1024];
	snprintf(eps, sizeof(eps), "%s,%s", ea, eb);
	script_room(rid, 1000000, 2000000, eps);
	wait_samples(1);
	json_t *r = get_ok("/v1/reports/online");
	json_t *o = json_array_get(json_object_get(r, "online"), 0);
	cr_assert_eq(jint(o, "participants"), 2);
	json_decref(r);
	free(ea);
	free(eb);
	/* 1 MB more in, 2 MB more out within one sample period (1 s). */
	ea = ep_json(a, 5000, 500000, 6000, 600000, 3, 960);
	eb = ep_json(b, 7000, 700000, 8000, 800000, 0, 0);
	snprintf(eps, sizeof(eps), "%s,%s", ea, eb);
	script_room(rid, 2000000, 4000000, eps);
	wait_samples(1);
	r = get_ok("/v1/reports/online");
	o = json_array_get(json_object_get(r, "online"), 0);
	long long rx = jint(o, "bitrate_rx_bps"), tx = jint(o, "bitrate_tx_bps");
	/* 8 Mbit over the sample interval: 1 s, or up to a ticker tick
	 * (250 ms) or so more. */
	cr_assert(rx > 8000000LL * 1000 / 2000 && rx <= 8000000, "rx %lld", rx);
	cr_assert(tx > 16000000LL * 1000 / 2000 && tx <= 16000000, "tx %lld", tx);
	json_decref(r);
	/* The live attendances hold the sampled counters. */
	char *mid = meeting_of(rid);
	char path[160];
	snprintf(path, sizeof(path), "/v1/reports/meetings/%s", mid);
	r = get_ok(path);
	json_t *x = attendance(r, a);
	cr_assert_eq(jint(x, "rx_packets"), 5000);
	cr_assert_eq(jint(x, "tx_bytes"), 600000);
	cr_assert_eq(jint(x, "lost"), 3);
	cr_assert_float_eq(json_real_value(json_object_get(x, "jitter_ms")), 20.0, 1e-9);
	cr_assert(json_is_null(json_object_get(x, "left_at")));
	cr_assert(json_is_integer(json_object_get(x, "sampled_at")));
	cr_assert_eq(jint(attendance(r, b), "rx_packets"), 7000);
	json_decref(r);
	/* A restarted mmdp counts from 0 again: what was read stays. */
	free(ea);
	ea = ep_json(a, 50, 5000, 60, 6000, 0, 0);
	script_room(rid, 10000, 20000, ea);
	wait_samples(1);
	r = get_ok(path);
	cr_assert_eq(jint(attendance(r, a), "rx_packets"), 5000);
	cr_assert_eq(jint(attendance(r, a), "tx_bytes"), 600000);
	json_decref(r);
	r = get_ok("/v1/reports/online");
	o = json_array_get(json_object_get(r, "online"), 0);
	cr_assert_eq(jint(o, "bitrate_rx_bps"), 0, "no negative bitrate");
	json_decref(r);
	free(ea);
	free(eb);
	free(a);
	free(b);
	free(mid);
	free(rid);
}

Test(reports_online, no_samples_without_a_live_meeting)
{
	sleep(3);
	json_t *reads = h_rec_reads_take();
	cr_assert_eq(json_array_size(reads), 0, "mmdp is not asked while nothing is live");
	json_decref(reads);
}

/* ---------------------------------------------------------------- mmctl --- */

struct run {
	int rc;
	char *out, *err;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)))
		fwrite(tmp, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* mmctl --url … --token token args… (NULL-terminated) as a child process. */
static void mmctl(struct run *r, const char *token, ...)
{
	const char *bin = getenv("MMCTL");
	cr_assert(bin, "MMCTL must name the mmctl binary");
	char url[64], outp[160], errp[160];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", H.port);
	snprintf(outp, sizeof(outp), "%s/mmctl.out", H.dir);
	snprintf(errp, sizeof(errp), "%s/mmctl.err", H.dir);
	const char *argv[40] = { "mmctl", "--url", url, "--token", token };
	int n = 5;
	va_list ap;
	va_start(ap, token);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 39)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (!freopen(outp, "w", stdout) || !freopen(errp, "w", stderr))
			_exit(126);
		unsetenv("http_proxy");
		unsetenv("all_proxy");
		unsetenv("ALL_PROXY");
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	r->out = slurp(outp);
	r->err = slurp(errp);
}

#define RC(r, want) \
	cr_assert_eq((r)->rc, (want), "exit %d, want %d\nstdout: %s\nstderr: %s", (r)->rc, \
		     (want), (r)->out, (r)->err)

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

Test(reports, mmctl_reports)
{
	if (!getenv("MMCTL")) {
		cr_skip_test("mmctl not built");
		return;
	}
	char *rid = room("{\"name\":\"Sales, \\\"North\\\"\",\"kind\":\"fixed\","
			 "\"tenant\":\"acme\"}");
	char *a = join_as(rid, "An", 5000);
	char *b = join_as(rid, "Binh", 5002);
	h_clock_advance(&H, 65);
	script_endpoint(a, 1234, 123400, 4321, 432100, 2, 480);
	leave(rid, a);
	struct run r;

	/* online: the live meeting in a table. */
	mmctl(&r, H.op_token, "reports", "online", NULL);
	RC(&r, 0);
	cr_assert(strstr(r.out, "PARTICIPANTS") && strstr(r.out, rid), "%s", r.out);
	run_free(&r);

	mmctl(&r, H.op_token, "reports", "meetings", "--tenant", "acme", NULL);
	RC(&r, 0);
	cr_assert(strstr(r.out, "MEETING") && strstr(r.out, "live"), "%s", r.out);
	run_free(&r);
	char *mid = meeting_of(rid);

	mmctl(&r, H.op_token, "reports", "meeting", mid, NULL);
	RC(&r, 0);
	/* a's row: its packets and its way out; b still in. */
	cr_assert(strstr(r.out, "1234") && strstr(r.out, "4321") && strstr(r.out, "left") &&
		  strstr(r.out, "Binh"), "%s", r.out);
	run_free(&r);

	mmctl(&r, H.op_token, "--json", "reports", "meeting", mid, NULL);
	RC(&r, 0);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert(j, "%s", r.out);
	cr_assert_eq(jint(attendance(j, a), "rx_packets"), 1234);
	json_decref(j);
	run_free(&r);

	mmctl(&r, H.op_token, "reports", "meetings", "--csv", NULL);
	RC(&r, 0);
	json_t *rows = csv_parse(r.out);
	cr_assert_eq(json_array_size(rows), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_array_get(rows, 1),
							  col(json_array_get(rows, 0),
							      "room_name"))), "Sales, \"North\"");
	json_decref(rows);
	run_free(&r);

	mmctl(&r, H.op_token, "reports", "rooms", "--from", "2000-01-01", NULL);
	RC(&r, 0);
	cr_assert(strstr(r.out, "MINUTES") && strstr(r.out, rid), "%s", r.out);
	run_free(&r);

	/* Paging: a cursor to follow. */
	mmctl(&r, H.op_token, "reports", "meetings", "--limit", "1", NULL);
	RC(&r, 0);
	run_free(&r);

	/* A tenant's token: another tenant's meeting is not found (4); bad
	 * arguments are refused locally (2) or by the server (6). */
	char *glob = tenant_token("globex");
	mmctl(&r, glob, "reports", "meeting", mid, NULL);
	RC(&r, 4);
	run_free(&r);
	mmctl(&r, H.op_token, "reports", "meetings", "--limit", "0", NULL);
	RC(&r, 2);
	run_free(&r);
	mmctl(&r, H.op_token, "reports", "meetings", "--from", "yesterday", NULL);
	RC(&r, 2);
	run_free(&r);
	mmctl(&r, H.op_token, "reports", "meetings", "--cursor", "nonsense", NULL);
	RC(&r, 6);
	cr_assert(strstr(r.err, "invalid_cursor"), "%s", r.err);
	run_free(&r);
	mmctl(&r, H.op_token, "reports", "nothing", NULL);
	RC(&r, 2);
	run_free(&r);
	free(glob);
	free(mid);
	free(a);
	free(b);
	free(rid);
}
