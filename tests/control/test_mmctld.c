/* mmctld over real HTTP against a real mmctld process and a real SQLite
 * file. mmdp's agent socket is a recorder (a test double; see harness.h:
 * the real mmdp + mmctld end-to-end test is the next slice of issue 4). */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "dataplane/proto/base64.h"

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

TestSuite(control, .init = setup, .fini = teardown, .timeout = 60);

static json_t *create_room(const char *body, const char *token)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/rooms", token ? token : H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	return r;
}

static int join(const char *room, const char *body, json_t **r)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", room);
	return h_http(&H, "POST", path, H.op_token, body, 0, r);
}

#define JOIN_BODY(i) \
	"{\"display_name\":\"p\",\"role\":\"attendee\",\"remote\":{\"addr\":\"198.18.1.2\"," \
	"\"port\":" #i "},\"streams\":[{\"kind\":\"audio\",\"ssrc\":1111}," \
	"{\"kind\":\"camera\",\"ssrc\":2222}]}"

static char *issue_token(const char *scope, int ttl)
{
	char body[200];
	json_t *r;
	if (ttl)
		snprintf(body, sizeof(body), "{\"scope\":\"%s\",\"ttl_seconds\":%d}", scope, ttl);
	else
		snprintf(body, sizeof(body), "{\"scope\":\"%s\"}", scope);
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, body, 0, &r), 201);
	char *t = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	return t;
}

Test(control, rooms_create_list_get_delete)
{
	json_t *r = create_room("{\"name\":\"standup\",\"capacity\":10,\"kind\":\"fixed\"}", NULL);
	const char *id = json_string_value(json_object_get(r, "id"));
	cr_assert(id);
	cr_assert_eq(json_integer_value(json_object_get(r, "capacity")), 10);
	cr_assert_str_eq(json_string_value(json_object_get(r, "kind")), "fixed");
	json_t *put = h_rec_wait_op("room.put", 1000);
	cr_assert(put, "room.put pushed");
	cr_assert_str_eq(json_string_value(json_object_get(put, "room")), id);
	cr_assert_eq(json_integer_value(json_object_get(put, "capacity")), 10);
	json_decref(put);

	json_t *l;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &l), 200);
	cr_assert_eq(json_array_size(json_object_get(l, "rooms")), 1);
	json_decref(l);

	char path[96];
	snprintf(path, sizeof(path), "/v1/rooms/%s", id);
	json_t *g;
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &g), 200);
	cr_assert_str_eq(json_string_value(json_object_get(g, "name")), "standup");
	cr_assert_eq(json_array_size(json_object_get(g, "participants")), 0);
	json_decref(g);

	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, NULL), 204);
	json_t *del = h_rec_wait_op("room.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(json_string_value(json_object_get(del, "room")), id);
	json_decref(del);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &g), 404);
	cr_assert_str_eq(h_err_code(g), "not_found");
	json_decref(g);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 0);
	json_decref(r);
}

Test(control, join_returns_transport_and_pushes_endpoint)
{
	json_t *room = create_room("{\"name\":\"m\"}", NULL);
	const char *rid = json_string_value(json_object_get(room, "id"));
	json_t *r;
	cr_assert_eq(join(rid, JOIN_BODY(5004), &r), 201);
	const char *pid = json_string_value(json_object_get(r, "id"));
	cr_assert(pid);
	cr_assert(json_string_value(json_object_get(r, "token")));
	json_t *tr = json_object_get(r, "transport");
	json_t *srv = json_object_get(tr, "server");
	cr_assert_str_eq(json_string_value(json_object_get(srv, "addr")), "198.18.0.1");
	int port = (int)json_integer_value(json_object_get(srv, "port"));
	cr_assert(port >= 40000 && port <= 40199);
	json_t *srtp = json_object_get(tr, "srtp");
	cr_assert_str_eq(json_string_value(json_object_get(srtp, "profile")), "AEAD_AES_128_GCM");
	uint8_t k[64];
	const char *kin = json_string_value(json_object_get(srtp, "key_to_server"));
	const char *kout = json_string_value(json_object_get(srtp, "key_from_server"));
	cr_assert_eq(mm_b64_decode(kin, k, sizeof(k)), 28, "GCM-128: 16 key + 12 salt");
	cr_assert_eq(mm_b64_decode(kout, k, sizeof(k)), 28);
	cr_assert_str_neq(kin, kout);

	json_t *ep = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(ep, "endpoint.put pushed");
	cr_assert_str_eq(json_string_value(json_object_get(ep, "endpoint")), pid);
	cr_assert_str_eq(json_string_value(json_object_get(ep, "room")), rid);
	json_t *loc = json_object_get(ep, "local"), *rem = json_object_get(ep, "remote");
	cr_assert_str_eq(json_string_value(json_object_get(loc, "addr")), "198.18.0.1");
	cr_assert_eq(json_integer_value(json_object_get(loc, "port")), port);
	cr_assert_str_eq(json_string_value(json_object_get(rem, "addr")), "198.18.1.2");
	cr_assert_eq(json_integer_value(json_object_get(rem, "port")), 5004);
	json_t *es = json_object_get(ep, "srtp");
	cr_assert_str_eq(json_string_value(json_object_get(es, "in_key")), kin);
	cr_assert_str_eq(json_string_value(json_object_get(es, "out_key")), kout);
	json_t *streams = json_object_get(ep, "streams");
	cr_assert_eq(json_array_size(streams), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(streams, 0), "ssrc")), 1111);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(streams, 1), "ssrc")), 2222);
	json_decref(ep);

	/* Leave with the participant's own token: endpoint.del, token revoked. */
	char path[128];
	const char *ptok = json_string_value(json_object_get(r, "token"));
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, pid);
	cr_assert_eq(h_http(&H, "DELETE", path, ptok, NULL, 0, NULL), 204);
	json_t *del = h_rec_wait_op("endpoint.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(json_string_value(json_object_get(del, "endpoint")), pid);
	json_decref(del);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid);
	cr_assert_eq(h_http(&H, "GET", path, ptok, NULL, 0, NULL), 401, "token revoked on leave");
	json_decref(r);
	json_decref(room);
}

Test(control, capacity_and_101st_participant, .timeout = 120)
{
	json_t *small = create_room("{\"name\":\"s\",\"capacity\":2}", NULL);
	const char *sid = json_string_value(json_object_get(small, "id"));
	json_t *r;
	cr_assert_eq(join(sid, JOIN_BODY(6001), &r), 201);
	json_decref(r);
	cr_assert_eq(join(sid, JOIN_BODY(6002), &r), 201);
	json_decref(r);
	cr_assert_eq(join(sid, JOIN_BODY(6003), &r), 409);
	cr_assert_str_eq(h_err_code(r), "room_full");
	json_decref(r);

	json_t *big = create_room("{\"name\":\"b\"}", NULL);
	const char *bid = json_string_value(json_object_get(big, "id"));
	cr_assert_eq(json_integer_value(json_object_get(big, "capacity")), 100);
	for (int i = 0; i < 100; i++) {
		char body[256];
		snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":"
			 "\"198.18.1.%d\",\"port\":%d}}", i, 1 + i, 7000 + i);
		cr_assert_eq(join(bid, body, &r), 201, "join %d", i);
		json_decref(r);
	}
	cr_assert_eq(join(bid, JOIN_BODY(9999), &r), 409);
	cr_assert_str_eq(h_err_code(r), "room_full");
	json_decref(r);
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token,
			    "{\"name\":\"x\",\"capacity\":101}", 0, &r), 400);
	cr_assert_str_eq(h_err_code(r), "invalid_field");
	json_decref(r);

	char path[96];
	snprintf(path, sizeof(path), "/v1/rooms/%s", bid);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "participants")), 100);
	json_decref(r);
	/* Nothing of the refused joins survives a restart either. */
	h_stop(&H);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 102);
	h_start(&H);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "participants")), 100);
	json_decref(r);
	json_decref(small);
	json_decref(big);
}

Test(control, auth_401_and_tenant_scope_403)
{
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", NULL, NULL, 0, &r), 401);
	cr_assert_str_eq(h_err_code(r), "unauthorized");
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", "mmt_bogus", NULL, 0, NULL), 401);

	/* Two seconds: with one, an issue at x.99 s is expired at x+1.0 s. */
	char *expiring = issue_token("tenant:acme", 2);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", expiring, NULL, 0, NULL), 200);
	sleep(3);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", expiring, NULL, 0, NULL), 401, "expired");

	json_t *tr;
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token,
			    "{\"scope\":\"tenant:acme\"}", 0, &tr), 201);
	const char *acme = json_string_value(json_object_get(tr, "token"));
	char *other = issue_token("tenant:globex", 0);
	json_t *room = create_room("{\"name\":\"acme-room\"}", acme);
	const char *rid = json_string_value(json_object_get(room, "id"));
	cr_assert_str_eq(json_string_value(json_object_get(room, "tenant")), "acme");
	char path[96];
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid);
	cr_assert_eq(h_http(&H, "GET", path, acme, NULL, 0, NULL), 200);
	cr_assert_eq(h_http(&H, "GET", path, other, NULL, 0, &r), 403);
	cr_assert_str_eq(h_err_code(r), "forbidden");
	json_decref(r);
	cr_assert_eq(h_http(&H, "DELETE", path, other, NULL, 0, NULL), 403);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", other, NULL, 0, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 0, "other tenant sees nothing");
	json_decref(r);
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", acme, "{\"scope\":\"operator\"}", 0, NULL), 403);

	/* Revocation. */
	char tpath[96];
	snprintf(tpath, sizeof(tpath), "/v1/tokens/%s", json_string_value(json_object_get(tr, "id")));
	cr_assert_eq(h_http(&H, "DELETE", tpath, H.op_token, NULL, 0, NULL), 204);
	cr_assert_eq(h_http(&H, "GET", path, acme, NULL, 0, NULL), 401, "revoked");
	free(expiring);
	free(other);
	json_decref(tr);
	json_decref(room);
}

Test(control, bad_input_is_4xx_and_stores_nothing)
{
	json_t *room = create_room("{\"name\":\"m\"}", NULL);
	const char *rid = json_string_value(json_object_get(room, "id"));
	static const struct { const char *body; int status; const char *code; } rooms[] = {
		{ "{\"name\":", 400, "invalid_json" },
		{ "[1,2]", 400, "invalid_json" },
		/* a bad escape before a byte that is not UTF-8: jansson quotes it
		 * in its error (tests/fuzz/corpus/rest/crash-error-not-utf8) */
		{ "{\"name\\\xd0\x81\":1}", 400, "invalid_json" },
		{ "{\"name\":5}", 400, "invalid_field" },
		{ "{\"name\":\"x\",\"capacity\":\"10\"}", 400, "invalid_field" },
		{ "{\"name\":\"x\",\"color\":\"red\"}", 400, "invalid_field" },
		{ "{\"name\":\"x\",\"kind\":\"weird\"}", 400, "invalid_field" },
		{ "{\"capacity\":5}", 400, "missing_field" },
		{ "{\"name\":\"x\",\"capacity\":0}", 400, "invalid_field" },
	};
	json_t *r;
	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, rooms[i].body, 0, &r),
			     rooms[i].status, "%s", rooms[i].body);
		cr_assert_str_eq(h_err_code(r), rooms[i].code, "%s", rooms[i].body);
		json_decref(r);
	}
	static const char *joins[] = {
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":\"5004\"}}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5004,\"x\":1}}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"not-an-ip\",\"port\":5004}}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":70000}}",
		"{\"display_name\":\"p\",\"role\":\"king\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1}}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"streams\":[{\"kind\":\"audio\",\"ssrc\":-1}]}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"streams\":[{\"kind\":\"hologram\",\"ssrc\":1}]}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"streams\":[{\"kind\":\"audio\",\"ssrc\":1},{\"kind\":\"camera\",\"ssrc\":1}]}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"streams\":[{\"kind\":\"audio\",\"ssrc\":1},{\"kind\":\"audio\",\"ssrc\":2}]}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"streams\":{\"audio\":1}}",
		"{\"display_name\":\"p\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},\"ssrcs\":{\"audio\":1}}",
		"{\"display_name\":\"p\"}",
	};
	for (size_t i = 0; i < sizeof(joins) / sizeof(joins[0]); i++) {
		int st = join(rid, joins[i], &r);
		cr_assert(st == 400, "%s -> %d", joins[i], st);
		cr_assert(h_err_code(r), "%s", joins[i]);
		json_decref(r);
	}
	size_t big = 70 * 1024;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	memcpy(huge, "{\"name\":\"x\"}", 12);
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, huge, big, &r), 413);
	cr_assert_str_eq(h_err_code(r), "body_too_large");
	json_decref(r);
	free(huge);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	json_decref(room);
}

Test(control, mmdp_refusing_is_502_and_stores_nothing)
{
	json_t *room = create_room("{\"name\":\"m\"}", NULL);
	const char *rid = json_string_value(json_object_get(room, "id"));
	json_t *r;
	h_rec_fail_op("endpoint.put");
	cr_assert_eq(join(rid, JOIN_BODY(5004), &r), 502);
	cr_assert_str_eq(h_err_code(r), "mmdp_error");
	json_decref(r);
	h_rec_fail_op("room.put");
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, "{\"name\":\"n\"}", 0, &r), 502);
	json_decref(r);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM tokens WHERE scope LIKE 'participant:%'"), 0);
	/* mmdp gone: 503, nothing stored. */
	h_rec_stop();
	unlink(H.sock);
	cr_assert_eq(join(rid, JOIN_BODY(5004), &r), 503);
	cr_assert_str_eq(h_err_code(r), "mmdp_unavailable");
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	json_decref(room);
}

Test(control, restart_syncs_everything_and_keeps_data)
{
	json_t *room = create_room("{\"name\":\"m\",\"capacity\":5}", NULL);
	const char *rid = json_string_value(json_object_get(room, "id"));
	json_t *p1, *p2;
	cr_assert_eq(join(rid, JOIN_BODY(5004), &p1), 201);
	cr_assert_eq(join(rid, JOIN_BODY(5006), &p2), 201);
	h_stop(&H);
	json_decref(h_rec_take());
	h_start(&H);
	json_t *sync = h_rec_wait_op("state.sync", 2000);
	cr_assert(sync, "state.sync sent on startup");
	json_t *rooms = json_object_get(sync, "rooms"), *eps = json_object_get(sync, "endpoints");
	cr_assert_eq(json_array_size(rooms), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rooms, 0), "room")), rid);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(rooms, 0), "capacity")), 5);
	cr_assert_eq(json_array_size(eps), 2);
	cr_assert(json_integer_value(json_object_get(sync, "generation")) >= 3);
	json_t *e0 = json_array_get(eps, 0);
	cr_assert(json_object_get(json_object_get(e0, "srtp"), "in_key"));
	cr_assert(json_object_get(e0, "local"));
	json_decref(sync);

	char path[96];
	json_t *g;
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &g), 200);
	cr_assert_eq(json_array_size(json_object_get(g, "participants")), 2);
	json_decref(g);
	/* The participant token still works after the restart. */
	cr_assert_eq(h_http(&H, "GET", path, json_string_value(json_object_get(p1, "token")),
			    NULL, 0, NULL), 200);

	/* mmdp restarted: reconnect with a full state.sync. */
	h_rec_stop();
	json_decref(h_rec_take());
	h_rec_start(&H);
	sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync, "state.sync sent on reconnect");
	cr_assert_eq(json_array_size(json_object_get(sync, "endpoints")), 2);
	json_decref(sync);
	json_decref(p1);
	json_decref(p2);
	json_decref(room);
}

Test(control, bad_config_exits_2)
{
	char path[160], cmd[400];
	snprintf(path, sizeof(path), "%s/bad.json", H.dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"listen\":\"127.0.0.1:1\",\"media_address\":\"not-an-ip\"}");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --config %s 2>/dev/null", getenv("MMCTLD"), path);
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	snprintf(cmd, sizeof(cmd), "%s --config %s/missing.json 2>/dev/null", getenv("MMCTLD"), H.dir);
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

/* The whole file, or "" (owned). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	*len = 0;
	if (!f)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static bool file_has(const char *path, const char *needle)
{
	size_t len, nl = strlen(needle);
	char *b = slurp(path, &len);
	bool found = false;
	for (size_t i = 0; !found && i + nl <= len; i++)
		found = !memcmp(b + i, needle, nl);
	free(b);
	return found;
}

Test(control, srtp_keys_are_sealed_at_rest)
{
	json_t *room = create_room("{\"name\":\"m\"}", NULL);
	const char *rid = json_string_value(json_object_get(room, "id"));
	json_t *r;
	cr_assert_eq(join(rid, JOIN_BODY(5004), &r), 201);
	json_t *srtp = json_object_get(json_object_get(r, "transport"), "srtp");
	char kin[80], kout[80], path[200], wal[200], key[200];
	snprintf(kin, sizeof(kin), "%s", json_string_value(json_object_get(srtp, "key_to_server")));
	snprintf(kout, sizeof(kout), "%s", json_string_value(json_object_get(srtp, "key_from_server")));
	json_decref(r);
	json_decref(h_rec_take());
	/* Neither key is in the database or its WAL, in any form SQLite
	 * keeps text; the rows hold sealed text. */
	snprintf(path, sizeof(path), "%s", H.db);
	snprintf(wal, sizeof(wal), "%s-wal", H.db);
	cr_assert_not(file_has(path, kin));
	cr_assert_not(file_has(wal, kin));
	cr_assert_not(file_has(path, kout));
	cr_assert_not(file_has(wal, kout));
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE key_in LIKE 'v1:%' "
				    "AND key_out LIKE 'v1:%'"), 1);
	/* The key file: next to the database, 0600, 32 bytes. */
	snprintf(key, sizeof(key), "%s.key", H.db);
	struct stat st;
	cr_assert_eq(stat(key, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 32);
	/* After a restart mmdp gets the keys the participant was given; a
	 * key stored in the clear (a database from before sealing) is sealed
	 * on start. */
	h_stop(&H);
	sqlite3 *db;
	char sql[200];
	cr_assert_eq(sqlite3_open(H.db, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE participants SET key_in='%s'", kin);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE key_in LIKE 'v1:%'"), 0);
	h_start(&H);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE key_in LIKE 'v1:%'"), 1);
	json_t *sync = h_rec_wait_op("state.sync", 3000);
	cr_assert(sync);
	json_t *es = json_object_get(json_array_get(json_object_get(sync, "endpoints"), 0), "srtp");
	cr_assert_str_eq(json_string_value(json_object_get(es, "in_key")), kin);
	cr_assert_str_eq(json_string_value(json_object_get(es, "out_key")), kout);
	json_decref(sync);
	json_decref(room);
}

static int run_mmctld_once(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "timeout 10 %s --config %s --create-operator-token "
		 ">/dev/null 2>&1", getenv("MMCTLD"), H.config);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(control, key_file_readable_by_others_or_of_another_database_is_refused)
{
	json_t *room = create_room("{\"name\":\"m\"}", NULL);
	json_t *r;
	cr_assert_eq(join(json_string_value(json_object_get(room, "id")), JOIN_BODY(5004), &r), 201);
	json_decref(r);
	json_decref(room);
	h_stop(&H);
	char key[200];
	snprintf(key, sizeof(key), "%s.key", H.db);
	cr_assert_eq(chmod(key, 0644), 0);
	cr_assert_eq(run_mmctld_once(), 2, "a key file others may read: bad config");
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(run_mmctld_once(), 0, "the right key file");
	/* Another database's key file: refused, and nothing is changed. */
	FILE *f = fopen(key, "wb");
	for (int i = 0; i < 32; i++)
		fputc(i * 7 + 1, f);
	fclose(f);
	cr_assert_eq(run_mmctld_once(), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE key_in LIKE 'v1:%'"), 1);
	cr_assert_eq(truncate(key, 31), 0);
	cr_assert_eq(run_mmctld_once(), 2, "a key file of the wrong size");
}
