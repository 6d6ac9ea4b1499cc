/* Meetings through mmctld's API: moderation, hands, roles, chat, invites,
 * streams and subscriptions, the event stream, ending, blocks. A real
 * mmctld over real HTTP with a real SQLite file; mmdp's agent socket is the
 * recorder (what mmdp then does with the pushes is tested on the test site,
 * tests/integration/test_control_site.c). */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

TestSuite(meeting, .init = setup, .fini = teardown, .timeout = 60);

struct who {
	char id[64];
	char token[128];
};

/* HTTP with a printf-formatted path. */
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
	int st = h_http(&H, method, path, token, body, 0, r ? r : &tmp);
	json_decref(tmp);
	return st;
}

static void room(const char *body, char *id)
{
	json_t *r;
	int st = req("POST", H.op_token, body, &r, "/v1/rooms");
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	snprintf(id, 64, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
}

static void join(const char *rid, const char *role, int port, struct who *w)
{
	char body[512];
	json_t *r;
	snprintf(body, sizeof(body), "{\"display_name\":\"%s%d\",\"role\":\"%s\",\"remote\":"
		 "{\"addr\":\"198.18.1.2\",\"port\":%d},\"streams\":[{\"kind\":\"audio\","
		 "\"ssrc\":%d},{\"kind\":\"camera\",\"ssrc\":%d}]}", role, port, role, port,
		 port * 10, port * 10 + 1);
	int st = req("POST", H.op_token, body, &r, "/v1/rooms/%s/participants", rid);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	snprintf(w->id, sizeof(w->id), "%s", json_string_value(json_object_get(r, "id")));
	snprintf(w->token, sizeof(w->token), "%s", json_string_value(json_object_get(r, "token")));
	json_decref(r);
}

/* The participant as GET shows it (owned). */
static json_t *participant(const char *rid, const char *pid)
{
	json_t *r;
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/rooms/%s/participants/%s", rid, pid),
		     200);
	return r;
}

static bool pbool(const char *rid, const char *pid, const char *field)
{
	json_t *p = participant(rid, pid);
	bool v = json_is_true(json_object_get(p, field));
	json_decref(p);
	return v;
}

/* Ops of the last recorded batch, or of single pushes, by op name. */
static size_t count_ops(json_t *log, const char *op)
{
	size_t n = 0, i, j;
	json_t *q, *o;
	json_array_foreach(log, i, q) {
		const char *name = json_string_value(json_object_get(q, "op"));
		if (!strcmp(name, "batch")) {
			json_array_foreach(json_object_get(q, "ops"), j, o)
				n += !strcmp(json_string_value(json_object_get(o, "op")), op);
		} else {
			n += !strcmp(name, op);
		}
	}
	return n;
}

struct meeting {
	char rid[64];
	struct who host, mod, a1, a2;
};

static void meeting(struct meeting *m)
{
	room("{\"name\":\"standup\"}", m->rid);
	join(m->rid, "host", 5001, &m->host);
	join(m->rid, "moderator", 5002, &m->mod);
	join(m->rid, "attendee", 5003, &m->a1);
	join(m->rid, "attendee", 5004, &m->a2);
	json_decref(h_rec_take());
}

Test(meeting, mute_one_and_the_unmute_request)
{
	struct meeting m;
	json_t *r, *log;
	meeting(&m);
	/* An attendee may not mute someone else; nothing is pushed. */
	cr_assert_eq(req("POST", m.a1.token, "{}", &r, "/v1/rooms/%s/participants/%s/mute",
			 m.rid, m.a2.id), 403);
	cr_assert_str_eq(h_err_code(r), "forbidden");
	json_decref(r);
	cr_assert_not(pbool(m.rid, m.a2.id, "audio_muted"));
	/* The host mutes a2's microphone: mmdp is told, the state is stored. */
	cr_assert_eq(req("POST", m.host.token, NULL, &r, "/v1/rooms/%s/participants/%s/mute",
			 m.rid, m.a2.id), 200);
	cr_assert(json_is_true(json_object_get(r, "audio_muted")));
	cr_assert(json_is_false(json_object_get(r, "video_muted")));
	json_decref(r);
	json_t *put = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(put);
	cr_assert_str_eq(json_string_value(json_object_get(put, "endpoint")), m.a2.id);
	cr_assert(json_is_true(json_object_get(put, "audio_muted")));
	cr_assert(json_is_false(json_object_get(put, "video_muted")));
	json_decref(put);
	cr_assert(pbool(m.rid, m.a2.id, "audio_muted"));
	/* A moderator's unmute of someone else is a request: nothing pushed. */
	json_decref(h_rec_take());
	cr_assert_eq(req("POST", m.mod.token, NULL, &r, "/v1/rooms/%s/participants/%s/unmute",
			 m.rid, m.a2.id), 202);
	cr_assert(json_is_true(json_object_get(r, "requested")));
	json_decref(r);
	log = h_rec_take();
	cr_assert_eq(count_ops(log, "endpoint.put"), 0, "an unmute request does not unmute");
	json_decref(log);
	cr_assert(pbool(m.rid, m.a2.id, "audio_muted"));
	cr_assert(pbool(m.rid, m.a2.id, "unmute_requested"));
	/* a2 accepts: unmutes itself; the request is cleared. */
	cr_assert_eq(req("POST", m.a2.token, "{\"audio\":true}", &r,
			 "/v1/rooms/%s/participants/%s/unmute", m.rid, m.a2.id), 200);
	json_decref(r);
	put = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(put && json_is_false(json_object_get(put, "audio_muted")));
	json_decref(put);
	cr_assert_not(pbool(m.rid, m.a2.id, "audio_muted"));
	cr_assert_not(pbool(m.rid, m.a2.id, "unmute_requested"));
	/* Video too; a body naming nothing is refused. */
	cr_assert_eq(req("POST", m.a1.token, "{\"video\":true,\"audio\":false}", &r,
			 "/v1/rooms/%s/participants/%s/mute", m.rid, m.a1.id), 200);
	cr_assert(json_is_true(json_object_get(r, "video_muted")));
	cr_assert(json_is_false(json_object_get(r, "audio_muted")));
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"audio\":false}", &r,
			 "/v1/rooms/%s/participants/%s/mute", m.rid, m.a2.id), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_field");
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"audio\":1}", &r,
			 "/v1/rooms/%s/participants/%s/mute", m.rid, m.a2.id), 400);
	json_decref(r);
	cr_assert_not(pbool(m.rid, m.a2.id, "audio_muted"));
}

Test(meeting, mute_all_but_moderators_and_all_but_one)
{
	struct meeting m;
	json_t *r, *log;
	meeting(&m);
	cr_assert_eq(req("POST", m.mod.token, "{}", &r, "/v1/rooms/%s/mute", m.rid), 200);
	json_t *muted = json_object_get(r, "muted");
	cr_assert_eq(json_array_size(muted), 2, "attendees only");
	json_decref(r);
	log = h_rec_take();
	cr_assert_eq(json_array_size(log), 1, "one push");
	cr_assert_eq(count_ops(log, "endpoint.put"), 2);
	json_decref(log);
	cr_assert(pbool(m.rid, m.a1.id, "audio_muted"));
	cr_assert(pbool(m.rid, m.a2.id, "audio_muted"));
	cr_assert_not(pbool(m.rid, m.host.id, "audio_muted"));
	cr_assert_not(pbool(m.rid, m.mod.id, "audio_muted"));

	/* An unknown id in except: 400 and nothing changes. */
	cr_assert_eq(req("POST", m.host.token, "{\"except\":[\"pnobody\"],"
			 "\"except_moderators\":false}", &r, "/v1/rooms/%s/mute", m.rid), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_field");
	json_decref(r);
	cr_assert_not(pbool(m.rid, m.mod.id, "audio_muted"));

	/* All but a1 (moderators included): a1 unmutes itself first. */
	cr_assert_eq(req("POST", m.a1.token, NULL, NULL, "/v1/rooms/%s/participants/%s/unmute",
			 m.rid, m.a1.id), 200);
	json_decref(h_rec_take());
	char body[200];
	snprintf(body, sizeof(body), "{\"except\":[\"%s\"],\"except_moderators\":false}", m.a1.id);
	cr_assert_eq(req("POST", H.op_token, body, &r, "/v1/rooms/%s/mute", m.rid), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "muted")), 2, "host and moderator");
	json_decref(r);
	log = h_rec_take();
	cr_assert_eq(count_ops(log, "endpoint.put"), 2);
	json_decref(log);
	cr_assert_not(pbool(m.rid, m.a1.id, "audio_muted"));
	cr_assert(pbool(m.rid, m.a2.id, "audio_muted"));
	cr_assert(pbool(m.rid, m.host.id, "audio_muted"));
	cr_assert(pbool(m.rid, m.mod.id, "audio_muted"));
	/* Attendees may not. */
	cr_assert_eq(req("POST", m.a1.token, "{}", &r, "/v1/rooms/%s/mute", m.rid), 403);
	json_decref(r);
	/* mmdp refusing: 502 and no state changes. */
	cr_assert_eq(req("POST", m.a1.token, NULL, NULL, "/v1/rooms/%s/participants/%s/unmute",
			 m.rid, m.a1.id), 200);
	cr_assert_eq(req("POST", m.a2.token, NULL, NULL, "/v1/rooms/%s/participants/%s/unmute",
			 m.rid, m.a2.id), 200);
	h_rec_fail_op("batch");
	cr_assert_eq(req("POST", m.host.token, "{}", &r, "/v1/rooms/%s/mute", m.rid), 502);
	cr_assert_str_eq(h_err_code(r), "mmdp_error");
	json_decref(r);
	h_rec_fail_op(NULL);
	cr_assert_not(pbool(m.rid, m.a1.id, "audio_muted"));
	cr_assert_not(pbool(m.rid, m.a2.id, "audio_muted"));
}

Test(meeting, kick_removes_blocks_and_revokes)
{
	struct meeting m;
	json_t *r, *log;
	meeting(&m);
	/* A moderator (participant) may not kick the host. */
	cr_assert_eq(req("POST", m.mod.token, NULL, &r, "/v1/rooms/%s/participants/%s/kick",
			 m.rid, m.host.id), 403);
	json_decref(r);
	cr_assert_eq(req("POST", m.a2.token, NULL, &r, "/v1/rooms/%s/participants/%s/kick",
			 m.rid, m.a1.id), 403);
	json_decref(r);
	cr_assert_eq(req("POST", m.mod.token, "{\"block_seconds\":-1}", &r,
			 "/v1/rooms/%s/participants/%s/kick", m.rid, m.a1.id), 400);
	json_decref(r);
	cr_assert_eq(req("GET", m.a1.token, NULL, NULL, "/v1/rooms/%s", m.rid), 200);
	json_decref(h_rec_take());

	cr_assert_eq(req("POST", m.mod.token, "{\"reason\":\"spam\",\"block_seconds\":600}", NULL,
			 "/v1/rooms/%s/participants/%s/kick", m.rid, m.a1.id), 204);
	log = h_rec_take();
	cr_assert_eq(json_array_size(log), 1, "one push");
	cr_assert_eq(count_ops(log, "endpoint.del"), 1);
	cr_assert_eq(count_ops(log, "block.put"), 1);
	json_t *bp = json_array_get(json_object_get(json_array_get(log, 0), "ops"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(bp, "remote"), "addr")),
			 "198.18.1.2");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(bp, "remote"), "port")),
		     5003);
	json_int_t ttl = json_integer_value(json_object_get(bp, "ttl_seconds"));
	cr_assert(ttl > 590 && ttl <= 600, "ttl %lld", (long long)ttl);
	json_decref(log);
	/* Its token is dead; it is gone from the meeting. */
	cr_assert_eq(req("GET", m.a1.token, NULL, &r, "/v1/rooms/%s", m.rid), 401);
	json_decref(r);
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/rooms/%s/participants/%s", m.rid,
			 m.a1.id), 404);
	json_decref(r);
	/* The block is listed, persisted, and in the resync after a restart. */
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/blocks"), 200);
	json_t *blocks = json_object_get(r, "blocks");
	cr_assert_eq(json_array_size(blocks), 1);
	char bid[64];
	snprintf(bid, sizeof(bid), "%s",
		 json_string_value(json_object_get(json_array_get(blocks, 0), "id")));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(blocks, 0), "reason")),
			 "spam");
	json_decref(r);
	cr_assert_eq(req("GET", m.host.token, NULL, &r, "/v1/blocks"), 403);
	json_decref(r);
	h_stop(&H);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	cr_assert_eq(json_array_size(json_object_get(sync, "blocks")), 1);
	cr_assert_eq(json_array_size(json_object_get(sync, "endpoints")), 3);
	json_decref(sync);
	/* Lifting it: refused by mmdp, it stays; mmdp had already expired
	 * it (not_found), it is gone. */
	h_rec_fail_op("block.del");
	cr_assert_eq(req("DELETE", H.op_token, NULL, NULL, "/v1/blocks/%s", bid), 502);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM blocks"), 1);
	json_decref(h_rec_take());
	h_rec_fail_op_code("block.del", "not_found");
	cr_assert_eq(req("DELETE", H.op_token, NULL, NULL, "/v1/blocks/%s", bid), 204);
	h_rec_fail_op(NULL);
	json_t *del = h_rec_wait_op("block.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(json_string_value(json_object_get(del, "block")), bid);
	json_decref(del);
	cr_assert_eq(req("DELETE", H.op_token, NULL, NULL, "/v1/blocks/%s", bid), 404);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM blocks"), 0);
}

Test(meeting, hands_and_roles)
{
	struct meeting m;
	json_t *r;
	meeting(&m);
	cr_assert_eq(req("POST", m.a1.token, "{\"raised\":true}", &r,
			 "/v1/rooms/%s/participants/%s/hand", m.rid, m.a2.id), 403,
		     "nobody raises someone else's hand");
	json_decref(r);
	cr_assert_eq(req("POST", m.a1.token, "{\"raised\":true}", &r,
			 "/v1/rooms/%s/participants/%s/hand", m.rid, m.a1.id), 200);
	cr_assert(json_is_true(json_object_get(r, "hand_raised")));
	cr_assert(json_integer_value(json_object_get(r, "hand_raised_at")) > 0);
	json_decref(r);
	cr_assert_eq(req("POST", m.a2.token, "{\"raised\":false}", &r,
			 "/v1/rooms/%s/participants/%s/hand", m.rid, m.a1.id), 403);
	json_decref(r);
	cr_assert_eq(req("POST", m.mod.token, "{}", &r, "/v1/rooms/%s/participants/%s/hand",
			 m.rid, m.a1.id), 400);
	cr_assert_str_eq(h_err_code(r), "missing_field");
	json_decref(r);
	cr_assert(pbool(m.rid, m.a1.id, "hand_raised"));
	cr_assert_eq(req("POST", m.mod.token, "{\"raised\":false}", &r,
			 "/v1/rooms/%s/participants/%s/hand", m.rid, m.a1.id), 200);
	json_decref(r);
	cr_assert_not(pbool(m.rid, m.a1.id, "hand_raised"));

	/* Roles: only a host or the operator/tenant. */
	cr_assert_eq(req("POST", m.mod.token, "{\"role\":\"moderator\"}", &r,
			 "/v1/rooms/%s/participants/%s/role", m.rid, m.a1.id), 403);
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"role\":\"emperor\"}", &r,
			 "/v1/rooms/%s/participants/%s/role", m.rid, m.a1.id), 400);
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"role\":\"moderator\"}", &r,
			 "/v1/rooms/%s/participants/%s/role", m.rid, m.a1.id), 200);
	cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "moderator");
	json_decref(r);
	/* ... and a1 now moderates. */
	cr_assert_eq(req("POST", m.a1.token, NULL, &r, "/v1/rooms/%s/participants/%s/mute",
			 m.rid, m.a2.id), 200);
	json_decref(r);
}

static size_t chat_count(const char *rid, const char *token)
{
	json_t *r;
	cr_assert_eq(req("GET", token, NULL, &r, "/v1/rooms/%s/chat", rid), 200);
	size_t n = json_array_size(json_object_get(r, "messages"));
	json_decref(r);
	return n;
}

Test(meeting, group_and_private_chat)
{
	struct meeting m;
	json_t *r;
	char body[256];
	meeting(&m);
	cr_assert_eq(req("POST", m.a1.token, "{\"text\":\"hello all\"}", &r,
			 "/v1/rooms/%s/chat", m.rid), 201);
	cr_assert_str_eq(json_string_value(json_object_get(r, "from")), m.a1.id);
	cr_assert_null(json_object_get(r, "to"));
	json_int_t first = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	snprintf(body, sizeof(body), "{\"text\":\"psst\",\"to\":\"%s\"}", m.a2.id);
	cr_assert_eq(req("POST", m.a1.token, body, &r, "/v1/rooms/%s/chat", m.rid), 201);
	cr_assert_str_eq(json_string_value(json_object_get(r, "to")), m.a2.id);
	cr_assert(json_integer_value(json_object_get(r, "id")) > first);
	json_decref(r);
	/* The operator posts on behalf of a participant, and must say whom. */
	cr_assert_eq(req("POST", H.op_token, "{\"text\":\"x\"}", &r, "/v1/rooms/%s/chat", m.rid),
		     400);
	cr_assert_str_eq(h_err_code(r), "missing_field");
	json_decref(r);
	snprintf(body, sizeof(body), "{\"text\":\"from the app\",\"from\":\"%s\"}", m.host.id);
	cr_assert_eq(req("POST", H.op_token, body, &r, "/v1/rooms/%s/chat", m.rid), 201);
	json_decref(r);
	/* Who sees what: the private message only its two parties. */
	cr_assert_eq(chat_count(m.rid, m.a1.token), 3);
	cr_assert_eq(chat_count(m.rid, m.a2.token), 3);
	cr_assert_eq(chat_count(m.rid, m.host.token), 2);
	cr_assert_eq(chat_count(m.rid, H.op_token), 2);
	cr_assert_eq(req("GET", m.a2.token, NULL, &r, "/v1/rooms/%s/chat?since=%lld&limit=1",
			 m.rid, (long long)first), 200);
	json_t *msgs = json_object_get(r, "messages");
	cr_assert_eq(json_array_size(msgs), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
			 "psst");
	json_decref(r);
	/* Bad input: nothing stored. */
	char *big = malloc(4200);
	memcpy(big, "{\"text\":\"", 9);
	memset(big + 9, 'a', 4097);
	strcpy(big + 9 + 4097, "\"}");
	const char *bad[] = { "{\"text\":\"\"}", big, "{\"text\":\"x\",\"to\":\"pnobody\"}",
			      "{\"text\":5}", "{\"text\":\"x\",\"colour\":\"red\"}", "{\"text\":" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(req("POST", m.a1.token, bad[i], &r, "/v1/rooms/%s/chat", m.rid), 400,
			     "%.40s", bad[i]);
		cr_assert(h_err_code(r));
		json_decref(r);
	}
	snprintf(body, sizeof(body), "{\"text\":\"me\",\"to\":\"%s\"}", m.a1.id);
	cr_assert_eq(req("POST", m.a1.token, body, NULL, "/v1/rooms/%s/chat", m.rid), 400);
	free(big);
	cr_assert_eq(chat_count(m.rid, m.a1.token), 3);
	cr_assert_eq(req("GET", m.a1.token, NULL, &r, "/v1/rooms/%s/chat?limit=0", m.rid), 400);
	json_decref(r);
}

/* A validly signed invite with the given expiry, made with the key mmctld
 * keeps in its database: how an invite that has expired is made without
 * waiting for it. */
static void forge_invite(const char *rid, long long exp, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	unsigned char mac[32];
	unsigned int mlen = sizeof(mac);
	char payload[200], hex[65];
	cr_assert_eq(sqlite3_open(H.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT value FROM secrets WHERE name='invite_key'",
					-1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_bytes(st, 0), 32);
	int n = snprintf(payload, sizeof(payload), "%s.attendee.%lld.0011223344556677", rid, exp);
	HMAC(EVP_sha256(), sqlite3_column_blob(st, 0), 32, (unsigned char *)payload, (size_t)n,
	     mac, &mlen);
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	snprintf(out, cap, "mmi_%s.%s", payload, hex);
}

static int join_invite(const char *invite, int port, json_t **r)
{
	char body[800];
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"display_name\":\"guest\",\"remote\":"
		 "{\"addr\":\"198.18.1.9\",\"port\":%d}}", invite, port);
	return h_http(&H, "POST", "/v1/join", NULL, body, 0, r);
}

Test(meeting, invites)
{
	struct meeting m;
	json_t *r;
	char inv[512];
	meeting(&m);
	cr_assert_eq(req("POST", m.a1.token, "{}", &r, "/v1/rooms/%s/invites", m.rid), 403);
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"ttl_seconds\":10}", &r, "/v1/rooms/%s/invites",
			 m.rid), 400);
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"role\":\"host\"}", &r, "/v1/rooms/%s/invites",
			 m.rid), 400, "an invite never makes hosts");
	json_decref(r);
	cr_assert_eq(req("POST", m.host.token, "{\"ttl_seconds\":3600,\"role\":\"moderator\"}", &r,
			 "/v1/rooms/%s/invites", m.rid), 201);
	snprintf(inv, sizeof(inv), "%s", json_string_value(json_object_get(r, "invite")));
	long long exp = json_integer_value(json_object_get(r, "expires_at"));
	cr_assert(exp > time(NULL) + 3500);
	json_decref(r);
	/* Used twice: two guests, with the invite's role. */
	cr_assert_eq(join_invite(inv, 6001, &r), 201);
	cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "moderator");
	cr_assert(json_object_get(json_object_get(r, "transport"), "srtp"));
	json_decref(r);
	cr_assert_eq(join_invite(inv, 6002, &r), 201);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 6);
	/* Tampered: one character of the room changed; and garbage. */
	char bad[512];
	snprintf(bad, sizeof(bad), "%s", inv);
	bad[5] = bad[5] == 'a' ? 'b' : 'a';
	cr_assert_eq(join_invite(bad, 6003, &r), 401);
	cr_assert_str_eq(h_err_code(r), "invite_invalid");
	json_decref(r);
	cr_assert_eq(join_invite("mmi_nonsense", 6003, &r), 401);
	cr_assert_str_eq(h_err_code(r), "invite_invalid");
	json_decref(r);
	/* Expired (signed with the real key, expiry in the past). */
	forge_invite(m.rid, (long long)time(NULL) - 1, bad, sizeof(bad));
	cr_assert_eq(join_invite(bad, 6003, &r), 401);
	cr_assert_str_eq(h_err_code(r), "invite_expired");
	json_decref(r);
	/* The same forgery with a future expiry is accepted: the check above
	 * failed on the expiry, not the signature. */
	forge_invite(m.rid, (long long)time(NULL) + 60, bad, sizeof(bad));
	cr_assert_eq(join_invite(bad, 6004, &r), 201);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 7);
	/* The key survives a restart: old invites stay valid. */
	h_stop(&H);
	h_start(&H);
	cr_assert_eq(join_invite(inv, 6005, &r), 201);
	json_decref(r);
}

Test(meeting, streams_and_subscriptions)
{
	struct meeting m;
	json_t *r;
	char body[512];
	meeting(&m);
	cr_assert_eq(req("PUT", m.a1.token, "{\"streams\":[{\"kind\":\"audio\",\"ssrc\":7},"
			 "{\"kind\":\"screen\",\"ssrc\":9}]}", &r,
			 "/v1/rooms/%s/participants/%s/streams", m.rid, m.a1.id), 200);
	json_decref(r);
	json_t *put = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(put);
	json_t *st = json_object_get(put, "streams");
	cr_assert_eq(json_array_size(st), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(st, 1), "kind")),
			 "screen");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(st, 1), "ssrc")), 9);
	json_decref(put);
	cr_assert_eq(req("PUT", m.a2.token, "{\"streams\":[]}", &r,
			 "/v1/rooms/%s/participants/%s/streams", m.rid, m.a1.id), 403);
	json_decref(r);

	snprintf(body, sizeof(body), "{\"subscriptions\":[{\"publisher\":\"%s\",\"kind\":\"camera\","
		 "\"max_height\":360},{\"publisher\":\"%s\",\"kind\":\"screen\",\"max_height\":1080}]}",
		 m.host.id, m.a1.id);
	cr_assert_eq(req("PUT", m.a2.token, body, &r, "/v1/rooms/%s/participants/%s/subscriptions",
			 m.rid, m.a2.id), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "subscriptions")), 2);
	json_decref(r);
	json_t *p = participant(m.rid, m.a2.id);
	json_t *subs = json_object_get(p, "subscriptions");
	cr_assert_eq(json_array_size(subs), 2);
	bool saw360 = false;
	for (size_t i = 0; i < 2; i++)
		saw360 |= json_integer_value(json_object_get(json_array_get(subs, i),
							     "max_height")) == 360;
	cr_assert(saw360);
	json_decref(p);
	const char *bads[] = {
		"{\"subscriptions\":[{\"publisher\":\"pnobody\",\"kind\":\"camera\",\"max_height\":360}]}",
		"{\"subscriptions\":[{\"publisher\":\"%s\",\"kind\":\"audio\",\"max_height\":360}]}",
		"{\"subscriptions\":[{\"publisher\":\"%s\",\"kind\":\"camera\",\"max_height\":5}]}",
		"{\"subscriptions\":[{\"publisher\":\"%s\",\"kind\":\"camera\",\"max_height\":360},"
		"{\"publisher\":\"%s\",\"kind\":\"camera\",\"max_height\":720}]}",
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(body, sizeof(body), bads[i], m.host.id, m.host.id);
		cr_assert_eq(req("PUT", m.a2.token, body, &r,
				 "/v1/rooms/%s/participants/%s/subscriptions", m.rid, m.a2.id), 400,
			     "%s", body);
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM subscriptions"), 2, "unchanged");
	/* A publisher leaving takes the subscriptions to it along. */
	cr_assert_eq(req("DELETE", m.host.token, NULL, NULL, "/v1/rooms/%s/participants/%s",
			 m.rid, m.host.id), 204);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM subscriptions"), 1);
}

static void expect_event(struct h_sse *s, const char *type, long long *last, json_t **data)
{
	struct h_sse_event e;
	int got = h_sse_next(s, &e, 3000);
	cr_assert_eq(got, 1, "waiting for %s: %s", type, got ? "stream closed" : "timeout");
	cr_assert_str_eq(e.type, type);
	if (e.id >= 0) {
		cr_assert(e.id > *last, "ids increase: %lld after %lld", e.id, *last);
		*last = e.id;
		cr_assert_eq(json_integer_value(json_object_get(e.data, "seq")), e.id);
	}
	if (data)
		*data = e.data;
	else
		json_decref(e.data);
}

Test(meeting, event_stream_in_order_private_chat_to_its_parties)
{
	struct meeting m;
	struct h_sse host, a2, op;
	long long lh = 0, la = 0, lo = 0;
	json_t *d;
	char body[256];
	meeting(&m);
	cr_assert_eq(h_sse_open(&H, &host, "/v1/rooms/rnothere/events", H.op_token, NULL), 404);
	h_sse_close(&host);
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", m.rid);
	cr_assert_eq(h_sse_open(&H, &host, path, m.host.token, NULL), 200);
	cr_assert_eq(h_sse_open(&H, &a2, path, m.a2.token, NULL), 200);
	cr_assert_eq(h_sse_open(&H, &op, path, H.op_token, NULL), 200);
	/* The past: four joins, replayed. */
	for (int i = 0; i < 4; i++) {
		expect_event(&host, "participant.joined", &lh, NULL);
		expect_event(&a2, "participant.joined", &la, NULL);
		expect_event(&op, "participant.joined", &lo, &d);
		json_decref(d);
	}
	/* The present, in request order. */
	cr_assert_eq(req("POST", m.host.token, NULL, NULL, "/v1/rooms/%s/participants/%s/mute",
			 m.rid, m.a1.id), 200);
	cr_assert_eq(req("POST", m.a2.token, "{\"raised\":true}", NULL,
			 "/v1/rooms/%s/participants/%s/hand", m.rid, m.a2.id), 200);
	cr_assert_eq(req("POST", m.a2.token, "{\"text\":\"hi\"}", NULL, "/v1/rooms/%s/chat",
			 m.rid), 201);
	snprintf(body, sizeof(body), "{\"text\":\"secret\",\"to\":\"%s\"}", m.a1.id);
	cr_assert_eq(req("POST", m.host.token, body, NULL, "/v1/rooms/%s/chat", m.rid), 201);
	cr_assert_eq(req("POST", m.mod.token, NULL, NULL, "/v1/rooms/%s/participants/%s/kick",
			 m.rid, m.a1.id), 204);
	cr_assert_eq(req("DELETE", m.a2.token, NULL, NULL, "/v1/rooms/%s/participants/%s", m.rid,
			 m.a2.id), 204);

	expect_event(&host, "mute", &lh, &d);
	cr_assert_str_eq(json_string_value(json_object_get(d, "participant")), m.a1.id);
	cr_assert(json_is_true(json_object_get(d, "audio_muted")));
	cr_assert_str_eq(json_string_value(json_object_get(d, "by")), m.host.id);
	json_decref(d);
	expect_event(&host, "hand", &lh, NULL);
	expect_event(&host, "chat", &lh, &d);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "message"), "text")),
			 "hi");
	json_decref(d);
	expect_event(&host, "chat", &lh, &d);   /* its own private message */
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "message"), "to")),
			 m.a1.id);
	json_decref(d);
	expect_event(&host, "participant.kicked", &lh, NULL);
	expect_event(&host, "participant.left", &lh, NULL);

	/* The operator's stream: everything but the private message. */
	const char *seq[] = { "mute", "hand", "chat", "participant.kicked", "participant.left" };
	for (size_t i = 0; i < 5; i++)
		expect_event(&op, seq[i], &lo, NULL);
	/* a2's stream: the same, then closed (its token revoked on leave). */
	for (size_t i = 0; i < 5; i++)
		expect_event(&a2, seq[i], &la, NULL);
	struct h_sse_event e;
	cr_assert_eq(h_sse_next(&a2, &e, 3000), -1, "a2's stream closes after it left");

	/* Resume from an id: only what came after. */
	struct h_sse again;
	char lei[64];
	snprintf(lei, sizeof(lei), "Last-Event-ID: %lld", lh - 1);
	cr_assert_eq(h_sse_open(&H, &again, path, m.host.token, lei), 200);
	expect_event(&again, "participant.left", &(long long){ lh - 1 }, NULL);
	cr_assert_eq(h_sse_next(&again, &e, 300), 0, "nothing more");
	h_sse_close(&again);

	/* The end: room.ended and the streams close. */
	cr_assert_eq(req("POST", m.host.token, NULL, NULL, "/v1/rooms/%s/end", m.rid), 204);
	expect_event(&host, "room.ended", &lh, NULL);
	expect_event(&op, "room.ended", &lo, NULL);
	cr_assert_eq(h_sse_next(&host, &e, 3000), -1);
	cr_assert_eq(h_sse_next(&op, &e, 3000), -1);
	h_sse_close(&host);
	h_sse_close(&a2);
	h_sse_close(&op);
}

Test(meeting, end_fixed_and_adhoc)
{
	struct meeting m;
	json_t *r;
	char fixed[64];
	struct who f1;
	meeting(&m);
	room("{\"name\":\"weekly\",\"kind\":\"fixed\"}", fixed);
	join(fixed, "host", 7001, &f1);
	cr_assert_eq(req("POST", f1.token, "{\"text\":\"meeting one\"}", NULL, "/v1/rooms/%s/chat",
			 fixed), 201);
	cr_assert_eq(req("POST", m.a1.token, NULL, &r, "/v1/rooms/%s/end", m.rid), 403);
	json_decref(r);
	json_decref(h_rec_take());
	/* Ad-hoc: the room goes. */
	cr_assert_eq(req("POST", m.mod.token, NULL, NULL, "/v1/rooms/%s/end", m.rid), 204);
	json_t *log = h_rec_take();
	cr_assert_eq(count_ops(log, "room.del"), 1);
	json_decref(log);
	cr_assert_eq(req("GET", H.op_token, NULL, NULL, "/v1/rooms/%s", m.rid), 404);
	cr_assert_eq(req("GET", m.host.token, NULL, NULL, "/v1/rooms/%s", m.rid), 401);
	/* Fixed: the room stays, empty, for its next meeting; old chat is of
	 * the old meeting. */
	cr_assert_eq(req("POST", H.op_token, NULL, NULL, "/v1/rooms/%s/end", fixed), 204);
	log = h_rec_take();
	cr_assert_eq(count_ops(log, "room.del"), 1);
	cr_assert_eq(count_ops(log, "room.put"), 1);
	json_decref(log);
	cr_assert_eq(req("GET", H.op_token, NULL, &r, "/v1/rooms/%s", fixed), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "participants")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "meeting")), 2);
	json_decref(r);
	cr_assert_eq(req("GET", f1.token, NULL, NULL, "/v1/rooms/%s", fixed), 401);
	join(fixed, "host", 7002, &f1);
	cr_assert_eq(chat_count(fixed, f1.token), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM events WHERE type='chat'"), 1,
		     "the first meeting's chat is kept");
}

Test(meeting, other_tenant_and_wrong_room_tokens)
{
	struct meeting m, other;
	json_t *r;
	meeting(&m);
	meeting(&other);
	/* A participant of another room can do nothing here. */
	cr_assert_eq(req("POST", other.host.token, NULL, &r, "/v1/rooms/%s/participants/%s/mute",
			 m.rid, m.a1.id), 403);
	json_decref(r);
	cr_assert_eq(req("GET", other.host.token, NULL, &r, "/v1/rooms/%s/chat", m.rid), 403);
	json_decref(r);
	struct h_sse s;
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", m.rid);
	cr_assert_eq(h_sse_open(&H, &s, path, other.host.token, NULL), 403);
	h_sse_close(&s);
	/* A tenant token on an operator room. */
	cr_assert_eq(req("POST", H.op_token, "{\"scope\":\"tenant:acme\"}", &r, "/v1/tokens"), 201);
	char tt[128];
	snprintf(tt, sizeof(tt), "%s", json_string_value(json_object_get(r, "token")));
	json_decref(r);
	cr_assert_eq(req("POST", tt, "{}", &r, "/v1/rooms/%s/mute", m.rid), 403);
	json_decref(r);
	cr_assert_eq(req("POST", tt, NULL, &r, "/v1/rooms/%s/end", m.rid), 403);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE audio_muted=1"), 0);
}

Test(meeting, stopping_with_idle_streams_open)
{
	struct meeting m;
	struct h_sse s1, s2;
	struct h_sse_event e;
	char path[128];
	meeting(&m);
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", m.rid);
	cr_assert_eq(h_sse_open(&H, &s1, path, H.op_token, NULL), 200);
	cr_assert_eq(h_sse_open(&H, &s2, path, m.a1.token, NULL), 200);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(h_sse_next(&s1, &e, 3000), 1);
		json_decref(e.data);
		cr_assert_eq(h_sse_next(&s2, &e, 3000), 1);
		json_decref(e.data);
	}
	cr_assert_eq(h_sse_next(&s1, &e, 300), 0, "idle (suspended) now");
	/* SIGINT (stop now): mmctld ends the streams and exits 0 (h_stop checks). */
	h_stop(&H);
	cr_assert_eq(h_sse_next(&s1, &e, 3000), -1);
	cr_assert_eq(h_sse_next(&s2, &e, 3000), -1);
	h_sse_close(&s1);
	h_sse_close(&s2);
}
