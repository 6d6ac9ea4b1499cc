/* Join tokens (POST /v1/join with {"join_token","room"}) and fixed rooms'
 * access lists, against a real mmctld process with a real SQLite file.
 * Tenants, units, accounts and access rows are written into that file with
 * SQLite directly (the tenants API is another slice); tokens are signed
 * with control/jwt.c as the meeting app would, with the tenant's secret as
 * the 64 hex characters the app is given. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "control/jwt.h"
#include "harness.h"

static struct h_ctl H;
static char *ROOM_FIXED;   /* t1's, access list: unit u1, account a3 */
static char *ROOM_OPEN;    /* t1's, no list */
static char *ROOM_T2;      /* t2's */

/* The tenants' secrets as their apps hold them (hex of the stored bytes). */
#define SECRET_T1 "1111111111111111111111111111111111111111111111111111111111111111"
#define SECRET_T2 "2222222222222222222222222222222222222222222222222222222222222222"

static void db_exec(const char *sql)
{
	sqlite3 *db;
	char *err = NULL;
	cr_assert_eq(sqlite3_open_v2(H.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
}

static char *room(const char *name, const char *tenant, const char *kind)
{
	char body[200];
	json_t *r;
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tenant\":\"%s\",\"kind\":\"%s\"}", name,
		 tenant, kind);
	int st = h_http(&H, "POST", "/v1/rooms", H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

static void setup(void)
{
	char sql[512];
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_rec_start(&H);
	h_start(&H);
	db_exec("INSERT INTO tenants VALUES('t1','Tenant One',"
		"X'" SECRET_T1 "',1);"
		"INSERT INTO tenants VALUES('t2','Tenant Two',"
		"X'" SECRET_T2 "',1);"
		/* Both on a trial that runs for years: the plan allows the
		 * meetings (helper A's enforcement; tests/control/test_plans.c). */
		"INSERT INTO contracts(tenant, plan, trial_until, rooms, term_months, starts_at,"
		" ends_at, status, updated_at) VALUES('t1','trial',4000000000,0,0,1,0,'active',1),"
		"('t2','trial',4000000000,0,0,1,0,'active',1);"
		"INSERT INTO units VALUES('u1','t1','Sales',1);"
		"INSERT INTO units VALUES('u2','t1','Legal',1);"
		"INSERT INTO units VALUES('u3','t2','Sales',1);"
		"INSERT INTO accounts VALUES('a1','t1','u1','An','a1@t1.vn','user',1);"
		"INSERT INTO accounts VALUES('a2','t1','u2','Binh','a2@t1.vn','user',1);"
		"INSERT INTO accounts VALUES('a3','t1',NULL,'Chi','a3@t1.vn','user',1);"
		"INSERT INTO accounts VALUES('a4','t1',NULL,'Dung','a4@t1.vn','user',1);"
		"INSERT INTO accounts VALUES('a9','t2','u3','Giang','a9@t2.vn','user',1);");
	ROOM_FIXED = room("board", "t1", "fixed");
	ROOM_OPEN = room("open", "t1", "fixed");
	ROOM_T2 = room("other", "t2", "fixed");
	snprintf(sql, sizeof(sql), "INSERT INTO room_access VALUES('%s','unit','u1');"
		 "INSERT INTO room_access VALUES('%s','account','a3');", ROOM_FIXED, ROOM_FIXED);
	db_exec(sql);
}

static void teardown(void)
{
	free(ROOM_FIXED);
	free(ROOM_OPEN);
	free(ROOM_T2);
	h_teardown(&H);
}

/* A token as tenant iss's app makes it, valid for ttl from mmctld's now. */
static char *token_full(const char *iss, const char *sub, const char *secret, const char *room,
			const char *name, const char *role, long long ttl)
{
	struct jwt_claims c = { 0 };
	static char tok[JWT_MAX + 1];
	snprintf(c.iss, sizeof(c.iss), "%s", iss);
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.room, sizeof(c.room), "%s", room ? room : "");
	snprintf(c.name, sizeof(c.name), "%s", name ? name : "");
	snprintf(c.role, sizeof(c.role), "%s", role ? role : "");
	c.iat = h_clock_now(&H);
	c.exp = c.iat + ttl;
	cr_assert_eq(jwt_sign(&c, (const uint8_t *)secret, strlen(secret), tok, sizeof(tok)),
		     JWT_OK);
	return tok;
}

static char *token(const char *iss, const char *sub, const char *secret)
{
	return token_full(iss, sub, secret, NULL, NULL, NULL, 300);
}

static int port_seq = 20000;

/* POST /v1/join with tok into rid; returns the status, *out the reply. */
static int join_tok(const char *tok, const char *rid, json_t **out)
{
	char body[JWT_MAX + 400];
	int port = ++port_seq;
	snprintf(body, sizeof(body), "{\"join_token\":\"%s\",\"room\":\"%s\",\"display_name\":"
		 "\"p%d\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":%d},\"streams\":"
		 "[{\"kind\":\"audio\",\"ssrc\":%d}]}", tok, rid, port, port, port);
	return h_http(&H, "POST", "/v1/join", NULL, body, 0, out);
}

/* Expect status and error code, and that nothing was stored. */
static void refused(int st, json_t **rp, int want, const char *code)
{
	json_t *r = *rp;
	cr_assert_eq(st, want, "status %d, want %d (%s)", st, want, h_err_code(r));
	cr_assert_str_eq(h_err_code(r), code);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
}

static void joined(int st, json_t **rp, const char *account)
{
	json_t *r = *rp;
	char sql[160];
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	cr_assert_str_eq(json_string_value(json_object_get(r, "account")), account);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM participants WHERE id='%s' AND "
		 "account='%s'", json_string_value(json_object_get(r, "id")), account);
	cr_assert_eq(h_db_count(&H, sql), 1, "the participant's account is stored");
	json_decref(r);
}

TestSuite(jointokens, .init = setup, .fini = teardown, .timeout = 60);

Test(jointokens, valid_token_joins_as_its_account)
{
	json_t *r;
	char *tok = token_full("t1", "a2", SECRET_T1, ROOM_OPEN, "Binh Tran", "moderator", 300);
	int st = join_tok(tok, ROOM_OPEN, &r);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	cr_assert_str_eq(json_string_value(json_object_get(r, "display_name")), "Binh Tran",
			 "the token's name wins over the body's");
	cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "moderator");
	cr_assert_str_eq(json_string_value(json_object_get(r, "room")), ROOM_OPEN);
	cr_assert_not_null(json_object_get(r, "token"));
	char ptok[128], path[160];
	snprintf(ptok, sizeof(ptok), "%s", json_string_value(json_object_get(r, "token")));
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", ROOM_OPEN,
		 json_string_value(json_object_get(r, "id")));
	joined(st, &r, "a2");
	/* The participant token works, and shows the account. */
	cr_assert_eq(h_http(&H, "GET", path, ptok, NULL, 0, &r), 200);
	cr_assert_str_eq(json_string_value(json_object_get(r, "account")), "a2");
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE "
				    "role='moderator' AND display_name='Binh Tran'"), 1);
	/* No role claim: attendee; the body's display_name when no name claim. */
	st = join_tok(token("t1", "a3", SECRET_T1), ROOM_OPEN, &r);
	cr_assert_eq(st, 201);
	cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "attendee");
	cr_assert_eq(strncmp(json_string_value(json_object_get(r, "display_name")), "p", 1), 0);
	joined(st, &r, "a3");
}

Test(jointokens, token_of_another_tenants_secret)
{
	json_t *r;
	/* t1's account and room, signed with t2's secret. */
	refused(join_tok(token("t1", "a2", SECRET_T2), ROOM_OPEN, &r), &r, 401,
		"join_token_invalid");
	/* A tenant that does not exist. */
	refused(join_tok(token("t7", "a2", SECRET_T1), ROOM_OPEN, &r), &r, 401,
		"join_token_invalid");
	/* t2 names itself but one of t1's accounts: see below (403). */
}

Test(jointokens, unknown_account_or_another_tenants)
{
	json_t *r;
	refused(join_tok(token("t1", "a404", SECRET_T1), ROOM_OPEN, &r), &r, 403, "not_allowed");
	/* t1 signs for t2's account a9. */
	refused(join_tok(token("t1", "a9", SECRET_T1), ROOM_OPEN, &r), &r, 403, "not_allowed");
	/* t2 signs (validly) for t1's account into t2's own room. */
	int st = join_tok(token("t2", "a1", SECRET_T2), ROOM_T2, &r);
	cr_assert_eq(st, 403);
	cr_assert_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"),
								"message")), "t1"),
		       "the message names no other tenant");
	refused(st, &r, 403, "not_allowed");
}

Test(jointokens, room_of_another_tenant_or_none)
{
	json_t *r;
	/* t2's valid token for its own account, into t1's room: as if there
	 * were no such room. */
	refused(join_tok(token("t2", "a9", SECRET_T2), ROOM_OPEN, &r), &r, 404, "not_found");
	refused(join_tok(token("t1", "a2", SECRET_T1), "r0000000000000000", &r), &r, 404,
		"not_found");
	/* A token naming another room. */
	refused(join_tok(token_full("t1", "a2", SECRET_T1, ROOM_FIXED, NULL, NULL, 300),
			 ROOM_OPEN, &r), &r, 403, "not_allowed");
	/* t2's own room is fine for t2's account. */
	joined(join_tok(token("t2", "a9", SECRET_T2), ROOM_T2, &r), &r, "a9");
}

Test(jointokens, expired_by_mmctlds_clock)
{
	json_t *r;
	char tok[JWT_MAX + 1], body[64];
	snprintf(tok, sizeof(tok), "%s", token_full("t1", "a2", SECRET_T1, NULL, NULL, NULL, 60));
	/* 60 s of life and 30 s of leeway: still in at +75 s (15 s short of
	 * the edge: a loaded machine may take seconds between the token's
	 * making and the join, and both read the clock). */
	snprintf(body, sizeof(body), "{\"advance\":75}");
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, body, 0, &r), 200);
	json_decref(r);
	joined(join_tok(tok, ROOM_OPEN, &r), &r, "a2");
	db_exec("DELETE FROM participants");
	/* +95 s: past life and leeway, however long the above took. */
	snprintf(body, sizeof(body), "{\"advance\":20}");
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, body, 0, &r), 200);
	json_decref(r);
	refused(join_tok(tok, ROOM_OPEN, &r), &r, 401, "join_token_expired");
	/* Not valid yet: issued in mmctld's future. */
	struct jwt_claims c = { .iat = h_clock_now(&H) + 120, .exp = h_clock_now(&H) + 600 };
	strcpy(c.iss, "t1");
	strcpy(c.sub, "a2");
	cr_assert_eq(jwt_sign(&c, (const uint8_t *)SECRET_T1, 64, tok, sizeof(tok)), JWT_OK);
	refused(join_tok(tok, ROOM_OPEN, &r), &r, 401, "join_token_invalid");
}

Test(jointokens, tampered_token)
{
	json_t *r;
	char tok[JWT_MAX + 1], forged[JWT_MAX + 1], b64[512], claims[256];
	snprintf(tok, sizeof(tok), "%s", token("t1", "a2", SECRET_T1));
	/* The payload swapped for one with a3 (the fixed room's), signature kept. */
	snprintf(claims, sizeof(claims), "{\"iss\":\"t1\",\"sub\":\"a3\",\"exp\":%lld}",
		 h_clock_now(&H) + 300);
	jwt_b64url_encode((const uint8_t *)claims, strlen(claims), b64, sizeof(b64));
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, b64, d2);
	refused(join_tok(forged, ROOM_FIXED, &r), &r, 401, "join_token_invalid");
	/* The signature's last character changed. */
	snprintf(forged, sizeof(forged), "%s", tok);
	size_t n = strlen(forged);
	forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
	refused(join_tok(forged, ROOM_OPEN, &r), &r, 401, "join_token_invalid");
	/* alg none with no signature. */
	const char *none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";   /* {"alg":"none","typ":"JWT"} */
	snprintf(forged, sizeof(forged), "%s.%s.", none, b64);
	refused(join_tok(forged, ROOM_FIXED, &r), &r, 401, "join_token_invalid");
	refused(join_tok("not-a-token", ROOM_OPEN, &r), &r, 401, "join_token_invalid");
}

Test(jointokens, access_list_of_a_fixed_room)
{
	json_t *r;
	/* a3 is on the list by name; a1 by its unit u1. */
	joined(join_tok(token("t1", "a3", SECRET_T1), ROOM_FIXED, &r), &r, "a3");
	joined(join_tok(token("t1", "a1", SECRET_T1), ROOM_FIXED, &r), &r, "a1");
	db_exec("DELETE FROM participants");
	/* a2's unit u2 is not on it. */
	int st = join_tok(token("t1", "a2", SECRET_T1), ROOM_FIXED, &r);
	const char *msg = json_string_value(json_object_get(json_object_get(r, "error"),
							   "message"));
	cr_assert(msg && strstr(msg, "u2") && strstr(msg, "access list"), "%s", msg);
	cr_assert_null(strstr(msg, "u1"), "the list itself is not shown: %s", msg);
	refused(st, &r, 403, "not_allowed");
	/* a4 is in no unit and not on it. */
	st = join_tok(token("t1", "a4", SECRET_T1), ROOM_FIXED, &r);
	msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
	cr_assert(msg && strstr(msg, "no unit"), "%s", msg);
	refused(st, &r, 403, "not_allowed");
	/* A room without a list: any account of the tenant. */
	joined(join_tok(token("t1", "a4", SECRET_T1), ROOM_OPEN, &r), &r, "a4");
	joined(join_tok(token("t1", "a2", SECRET_T1), ROOM_OPEN, &r), &r, "a2");
	/* A unit moved onto the list lets a2 in (checked at join time). */
	char sql[160];
	snprintf(sql, sizeof(sql), "INSERT INTO room_access VALUES('%s','unit','u2')", ROOM_FIXED);
	db_exec(sql);
	joined(join_tok(token("t1", "a2", SECRET_T1), ROOM_FIXED, &r), &r, "a2");
}

Test(jointokens, invite_to_a_room_with_a_list)
{
	json_t *r;
	char path[128], body[800], inv[512];
	/* An invite to the open room works as before. */
	snprintf(path, sizeof(path), "/v1/rooms/%s/invites", ROOM_OPEN);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, &r), 201);
	snprintf(inv, sizeof(inv), "%s", json_string_value(json_object_get(r, "invite")));
	json_decref(r);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"display_name\":\"guest\",\"remote\":"
		 "{\"addr\":\"198.18.1.9\",\"port\":4000}}", inv);
	cr_assert_eq(h_http(&H, "POST", "/v1/join", NULL, body, 0, &r), 201);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE account=''"), 1);
	db_exec("DELETE FROM participants");
	/* The fixed room with a list: an invite can be passed to anyone. */
	snprintf(path, sizeof(path), "/v1/rooms/%s/invites", ROOM_FIXED);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, &r), 201);
	snprintf(inv, sizeof(inv), "%s", json_string_value(json_object_get(r, "invite")));
	json_decref(r);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"display_name\":\"guest\",\"remote\":"
		 "{\"addr\":\"198.18.1.9\",\"port\":4000}}", inv);
	int st = h_http(&H, "POST", "/v1/join", NULL, body, 0, &r);
	refused(st, &r, 403, "join_token_required");
}

/* The app's backend joins someone directly (operator or tenant token). */
static int join_direct(const char *rid, const char *tok, const char *account, json_t **out)
{
	char path[128], body[300], acc[64] = "";
	int port = ++port_seq;
	if (account)
		snprintf(acc, sizeof(acc), ",\"account\":\"%s\"", account);
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":"
		 "\"198.18.1.2\",\"port\":%d}%s}", port, port, acc);
	return h_http(&H, "POST", path, tok, body, 0, out);
}

Test(jointokens, direct_joins_checked_the_same_way)
{
	json_t *r;
	char t1tok[128];
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, "{\"scope\":\"tenant:t1\"}", 0,
			    &r), 201);
	snprintf(t1tok, sizeof(t1tok), "%s", json_string_value(json_object_get(r, "token")));
	json_decref(r);
	refused(join_direct(ROOM_FIXED, t1tok, "a2", &r), &r, 403, "not_allowed");
	refused(join_direct(ROOM_FIXED, H.op_token, "a4", &r), &r, 403, "not_allowed");
	refused(join_direct(ROOM_FIXED, t1tok, NULL, &r), &r, 403, "not_allowed");
	refused(join_direct(ROOM_FIXED, t1tok, "a9", &r), &r, 403, "not_allowed");
	refused(join_direct(ROOM_OPEN, t1tok, "a404", &r), &r, 403, "not_allowed");
	refused(join_direct(ROOM_OPEN, t1tok, "", &r), &r, 403, "not_allowed");
	joined(join_direct(ROOM_FIXED, t1tok, "a1", &r), &r, "a1");
	joined(join_direct(ROOM_FIXED, H.op_token, "a3", &r), &r, "a3");
	/* The open room: with or without an account, as before. */
	joined(join_direct(ROOM_OPEN, t1tok, "a4", &r), &r, "a4");
	cr_assert_eq(join_direct(ROOM_OPEN, t1tok, NULL, &r), 201);
	cr_assert_null(json_object_get(r, "account"));
	json_decref(r);
}

/* tmpl with TOK and ROOM replaced by tok and room. */
static void subst(char *out, size_t cap, const char *tmpl, const char *tok, const char *room)
{
	size_t o = 0;
	while (*tmpl && o + 1 < cap) {
		const char *v = !strncmp(tmpl, "TOK", 3) ? tok : !strncmp(tmpl, "ROOM", 4) ? room :
			NULL;
		if (v) {
			o += (size_t)snprintf(out + o, cap - o, "%s", v);
			tmpl += v == tok ? 3 : 4;
		} else {
			out[o++] = *tmpl++;
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
}

Test(jointokens, bad_bodies)
{
	json_t *r;
	char body[JWT_MAX + 400], tok[JWT_MAX + 1];
	snprintf(tok, sizeof(tok), "%s", token("t1", "a2", SECRET_T1));
	/* TOK and ROOM stand for the token and the room. */
	static const char *const bad[] = {
		/* both */
		"{\"invite\":\"mmi_x\",\"join_token\":\"TOK\",\"room\":\"ROOM\","
		"\"display_name\":\"x\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000}}",
		/* neither */
		"{\"room\":\"ROOM\",\"display_name\":\"x\",\"remote\":{\"addr\":"
		"\"198.18.1.2\",\"port\":5000}}",
		/* join_token not a string */
		"{\"join_token\":5,\"room\":\"ROOM\",\"display_name\":\"x\",\"remote\":"
		"{\"addr\":\"198.18.1.2\",\"port\":5000}}",
		/* room not a string */
		"{\"join_token\":\"TOK\",\"room\":[\"ROOM\"],\"display_name\":\"x\","
		"\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000}}",
		/* no room */
		"{\"join_token\":\"TOK\",\"display_name\":\"x\",\"remote\":{\"addr\":"
		"\"198.18.1.2\",\"port\":5000}}",
		/* no display_name and no name in the token */
		"{\"join_token\":\"TOK\",\"room\":\"ROOM\",\"remote\":{\"addr\":"
		"\"198.18.1.2\",\"port\":5000}}",
		/* an unknown field */
		"{\"join_token\":\"TOK\",\"room\":\"ROOM\",\"display_name\":\"x\","
		"\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},\"role\":\"host\"}",
		/* account is the token's to say */
		"{\"join_token\":\"TOK\",\"room\":\"ROOM\",\"display_name\":\"x\","
		"\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5000},\"account\":\"a3\"}",
		/* no remote */
		"{\"join_token\":\"TOK\",\"room\":\"ROOM\",\"display_name\":\"x\"}",
		/* not an object */
		"[\"TOK\",\"ROOM\"]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		subst(body, sizeof(body), bad[i], tok, ROOM_OPEN);
		int st = h_http(&H, "POST", "/v1/join", NULL, body, 0, &r);
		cr_assert_eq(st, 400, "%zu: %d %s", i, st, h_err_code(r));
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	/* And the same token in a good body joins. */
	joined(join_tok(tok, ROOM_OPEN, &r), &r, "a2");
}

/* mmctl as a child process (when the build has it): its output (up to cap)
 * and exit code. */
static int mmctl(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int mmctl(char *out, size_t cap, const char *fmt, ...)
{
	char args[JWT_MAX + 512], cmd[JWT_MAX + 1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' --url http://127.0.0.1:%d %s 2>&1", getenv("MMCTL"),
		 H.port, args);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	cr_assert(WIFEXITED(st), "%s", cmd);
	return WEXITSTATUS(st);
}

Test(jointokens, mmctl_join_token_and_join)
{
	char out[JWT_MAX + 1024], tok[JWT_MAX + 1];
	struct jwt_claims c;
	json_t *r;
	if (!getenv("MMCTL"))
		cr_skip_test("mmctl not built (no libcurl)");
	long long now = h_clock_now(&H);
	cr_assert_eq(mmctl(out, sizeof(out), "join-token --tenant t1 --account a1 --secret %s "
			   "--room %s --ttl 120 --name 'An Le' --now %lld", SECRET_T1, ROOM_FIXED,
			   now), 0, "%s", out);
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(out, "\n"), out);
	/* What mmctl signed verifies with the tenant's secret and says so. */
	cr_assert_eq(jwt_verify(tok, (const uint8_t *)SECRET_T1, 64, "t1", now, &c), JWT_OK, "%s",
		     tok);
	cr_assert_str_eq(c.sub, "a1");
	cr_assert_str_eq(c.room, ROOM_FIXED);
	cr_assert_str_eq(c.name, "An Le");
	cr_assert_eq(c.exp, now + 120);
	cr_assert_eq(mmctl(out, sizeof(out), "join --join-token %s --room %s --remote "
			   "198.18.1.2:6000 --audio-ssrc 6000", tok, ROOM_FIXED), 0, "%s", out);
	cr_assert_not_null(strstr(out, "a1"), "%s", out);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE account='a1' AND "
				    "display_name='An Le'"), 1);
	/* a2 (unit u2) is refused: exit 3 and the code. */
	cr_assert_eq(mmctl(out, sizeof(out), "join-token --tenant t1 --account a2 --secret %s "
			   "--now %lld", SECRET_T1, now), 0, "%s", out);
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(out, "\n"), out);
	cr_assert_eq(mmctl(out, sizeof(out), "join --join-token %s --room %s --remote "
			   "198.18.1.2:6001 --name x", tok, ROOM_FIXED), 3, "%s", out);
	cr_assert_not_null(strstr(out, "not_allowed"), "%s", out);
	/* Signed with the wrong secret. */
	cr_assert_eq(mmctl(out, sizeof(out), "join-token --tenant t1 --account a1 --secret %s "
			   "--now %lld", SECRET_T2, now), 0, "%s", out);
	snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(out, "\n"), out);
	cr_assert_eq(mmctl(out, sizeof(out), "join --join-token %s --room %s --remote "
			   "198.18.1.2:6002 --name x", tok, ROOM_FIXED), 3, "%s", out);
	cr_assert_not_null(strstr(out, "join_token_invalid"), "%s", out);
	/* Usage errors send nothing. */
	cr_assert_eq(mmctl(out, sizeof(out), "join-token --tenant t1 --account a1"), 2, "%s", out);
	cr_assert_eq(mmctl(out, sizeof(out), "join-token --tenant t1 --account a1 --secret s "
			   "--role owner"), 2, "%s", out);
	cr_assert_eq(mmctl(out, sizeof(out), "join --join-token x --remote 198.18.1.2:6003"), 2,
		     "%s", out);
	cr_assert_eq(mmctl(out, sizeof(out), "join --join-token x --room %s --role host "
			   "--remote 198.18.1.2:6003", ROOM_OPEN), 2, "%s", out);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 1);
	/* The direct join with an account. */
	cr_assert_eq(mmctl(out, sizeof(out), "--token %s join %s --name y --remote "
			   "198.18.1.2:6004 --account a3", H.op_token, ROOM_FIXED), 0, "%s", out);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants WHERE account='a3'"), 1);
	(void)r;
}
