/* Security of the REST API (issue 10 item 4) against a real mmctld and a
 * real SQLite file: every endpoint tried with every credential that must
 * not work, dead tokens of participants who left, were kicked or whose
 * meeting ended, and the bounds of requests (bodies, headers, URLs, path
 * segments, slow clients).
 *
 * ENDPOINTS below is the one place a new endpoint goes: the test fails when
 * docs/api.md names a method and path the table does not have. */
#include "tenants_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	/* The webhooks made here point at 127.0.0.1 (nothing listens). */
	h_config_set(&H, "webhook_allow_nets", "[\"127.0.0.1/32\"]");
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_teardown(&H);
}

TestSuite(security, .init = setup, .fini = teardown, .timeout = 120);

/* Who may call an endpoint. */
enum {
	A_OP = 1,       /* the operator */
	A_TEN = 2,      /* the tenant owning the resource in the path */
	A_PART = 4,     /* a plain (attendee) participant of the room, {p} itself */
	A_ANYTEN = 8,   /* any tenant token (it works in its own tenant) */
	A_ANYTOK = 16,  /* any valid token */
};

struct endpoint {
	const char *method;
	const char *path;   /* {t} tenant, {r} room, {p} the plain participant, {q} another
			     * participant of {r}, {u} unit, {a} account, {w} webhook,
			     * {m} meeting, {k} token id, {b} block, {n} ban */
	const char *body;
	unsigned allow;
};

#define JOIN_BODY "{\"display_name\":\"intruder\",\"remote\":{\"addr\":\"198.18.9.9\"," \
		  "\"port\":9999},\"streams\":[{\"kind\":\"audio\",\"ssrc\":9999}]}"

static const struct endpoint ENDPOINTS[] = {
	{ "GET", "/v1/rooms", NULL, A_OP | A_ANYTEN },
	{ "POST", "/v1/rooms", "{\"name\":\"sneaky\"}", A_OP | A_ANYTEN },
	{ "GET", "/v1/rooms/{r}", NULL, A_OP | A_TEN | A_PART },
	{ "PATCH", "/v1/rooms/{r}", "{\"last_n\":5}", A_OP | A_TEN },
	{ "DELETE", "/v1/rooms/{r}", NULL, A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/end", "{}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/mute", "{}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants", JOIN_BODY, A_OP | A_TEN },
	{ "GET", "/v1/rooms/{r}/participants/{q}", NULL, A_OP | A_TEN | A_PART },
	{ "DELETE", "/v1/rooms/{r}/participants/{q}", NULL, A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/role", "{\"role\":\"moderator\"}",
	  A_OP | A_TEN },
	{ "PUT", "/v1/rooms/{r}/participants/{q}/streams", "{\"streams\":[]}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/resolution", "{\"max_resolution\":\"low\"}",
	  A_OP | A_TEN },
	{ "PUT", "/v1/rooms/{r}/participants/{q}/subscriptions", "{\"subscriptions\":[]}",
	  A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/mute", "{\"audio\":true}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/unmute", "{\"audio\":true}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/kick", "{}", A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/hand", "{\"raised\":false}", A_OP | A_TEN },
	{ "GET", "/v1/rooms/{r}/participants/{q}/offer", NULL, A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/participants/{q}/answer", "{\"version\":1,\"sdp\":\"v=0\"}",
	  A_OP | A_TEN },
	{ "POST", "/v1/rooms/{r}/chat", "{\"text\":\"hi\",\"from\":\"{q}\"}",
	  A_OP | A_TEN | A_PART },
	{ "GET", "/v1/rooms/{r}/chat", NULL, A_OP | A_TEN | A_PART },
	{ "GET", "/v1/rooms/{r}/events", NULL, A_OP | A_TEN | A_PART },
	{ "POST", "/v1/rooms/{r}/invites", "{}", A_OP | A_TEN },
	{ "GET", "/v1/rooms/{r}/access", NULL, A_OP | A_TEN | A_PART },
	{ "PUT", "/v1/rooms/{r}/access", "{\"units\":[]}", A_OP | A_TEN },
	{ "POST", "/v1/tokens", "{\"scope\":\"operator\",\"ttl_seconds\":600}", A_OP },
	{ "DELETE", "/v1/tokens/{k}", NULL, A_OP },
	{ "GET", "/v1/blocks", NULL, A_OP },
	{ "DELETE", "/v1/blocks/{b}", NULL, A_OP },
	{ "GET", "/v1/guard", NULL, A_OP },
	{ "GET", "/v1/bans", NULL, A_OP },
	{ "POST", "/v1/bans", "{\"prefix\":\"192.0.2.0/24\",\"ttl_seconds\":60}", A_OP },
	{ "DELETE", "/v1/bans/{n}", NULL, A_OP },
	{ "GET", "/v1/clock", NULL, A_OP },
	{ "PUT", "/v1/clock", "{\"advance\":86400}", A_OP },
	{ "POST", "/v1/tenants", "{\"id\":\"evil\",\"name\":\"Evil\",\"admin\":{\"name\":\"E\","
	  "\"email\":\"e@evil.example\"},\"plan\":\"trial\"}", A_OP },
	{ "GET", "/v1/tenants", NULL, A_OP },
	{ "GET", "/v1/tenants/{t}", NULL, A_OP | A_TEN },
	{ "PATCH", "/v1/tenants/{t}", "{\"name\":\"pwned\"}", A_OP },
	{ "DELETE", "/v1/tenants/{t}", NULL, A_OP },
	{ "GET", "/v1/tenants/{t}/units", NULL, A_OP | A_TEN },
	{ "POST", "/v1/tenants/{t}/units", "{\"name\":\"evil unit\"}", A_OP | A_TEN },
	{ "GET", "/v1/tenants/{t}/units/{u}", NULL, A_OP | A_TEN },
	{ "PATCH", "/v1/tenants/{t}/units/{u}", "{\"name\":\"renamed\"}", A_OP | A_TEN },
	{ "DELETE", "/v1/tenants/{t}/units/{u}", NULL, A_OP | A_TEN },
	{ "GET", "/v1/tenants/{t}/accounts", NULL, A_OP | A_TEN },
	{ "POST", "/v1/tenants/{t}/accounts", "{\"name\":\"Mallory\",\"email\":\"m@evil.example\","
	  "\"role\":\"admin\"}", A_OP | A_TEN },
	{ "GET", "/v1/tenants/{t}/accounts/{a}", NULL, A_OP | A_TEN },
	{ "PATCH", "/v1/tenants/{t}/accounts/{a}", "{\"name\":\"renamed\"}", A_OP | A_TEN },
	{ "DELETE", "/v1/tenants/{t}/accounts/{a}", NULL, A_OP | A_TEN },
	{ "GET", "/v1/tenants/{t}/contract", NULL, A_OP | A_TEN },
	{ "POST", "/v1/tenants/{t}/contract/renew", "{\"term_months\":12}", A_OP },
	{ "POST", "/v1/tenants/{t}/contract/change", "{\"rooms\":99,\"term_months\":12}", A_OP },
	{ "POST", "/v1/tenants/{t}/contract/cancel", "{\"when\":\"now\"}", A_OP },
	{ "GET", "/v1/tenants/{t}/events", NULL, A_OP | A_TEN },
	{ "POST", "/v1/quote", "{\"rooms\":1,\"term_months\":1}", A_ANYTOK },
	{ "GET", "/v1/reports/online", NULL, A_OP | A_ANYTEN },
	{ "GET", "/v1/reports/meetings", NULL, A_OP | A_ANYTEN },
	{ "GET", "/v1/reports/meetings/{m}", NULL, A_OP | A_TEN },
	{ "GET", "/v1/reports/rooms", NULL, A_OP | A_ANYTEN },
	{ "POST", "/v1/webhooks", "{\"url\":\"http://127.0.0.1:9/x\",\"events\":[\"*\"]}",
	  A_OP | A_ANYTEN },
	{ "GET", "/v1/webhooks", NULL, A_OP | A_ANYTEN },
	{ "GET", "/v1/webhooks/{w}", NULL, A_OP | A_TEN },
	{ "DELETE", "/v1/webhooks/{w}", NULL, A_OP | A_TEN },
	{ "GET", "/v1/webhooks/{w}/deliveries", NULL, A_OP | A_TEN },
};
#define N_ENDPOINTS (sizeof(ENDPOINTS) / sizeof(ENDPOINTS[0]))

/* ---- raw HTTP: any request text, the status and the body ---- */

static int raw_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)H.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Send req (len bytes) and read the reply until the server closes or 3 s
 * pass; the status (0: the server closed without one); the body into
 * *body (malloc'd, may be "") if given. */
static int raw_req(const char *req, size_t len, char **body)
{
	int fd = raw_connect();
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;   /* the server may refuse and close early */
		off += (size_t)w;
	}
	size_t cap = 1 << 16, got = 0;
	char *buf = malloc(cap);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = 3000 - ((t.tv_sec - t0.tv_sec) * 1000 +
				    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (got + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = recv(fd, buf + got, cap - got - 1, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	if (body) {
		char *b = strstr(buf, "\r\n\r\n");
		*body = strdup(b ? b + 4 : "");
	}
	free(buf);
	return status;
}

/* method path with the Authorization header line auth (NULL: none). */
static int auth_req(const char *method, const char *path, const char *auth, const char *body,
		    char **reply)
{
	size_t bl = body ? strlen(body) : 0;
	size_t cap = strlen(path) + bl + 1024;
	char *req = malloc(cap);
	int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			 "%s%s%sContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 method, path, auth ? "Authorization: " : "", auth ? auth : "",
			 auth ? "\r\n" : "", bl, body ? body : "");
	int st = raw_req(req, (size_t)n, reply);
	free(req);
	return st;
}

/* ---- the world the sweep runs in ---- */

struct world {
	char *tok_a, *tok_b;           /* tenants acme and globex */
	char *secret_a;                /* acme's join secret */
	char *r, *r2, *rb;             /* acme's rooms r (fixed) and r2; globex's rb */
	char *p, *ptok, *q, *qtok;     /* attendees of r */
	char *key_p;                   /* p's SRTP key to the server */
	char *y, *ytok;                /* a participant of r2 (another meeting of acme) */
	char *x, *xtok;                /* a participant of rb (globex) */
	char *u, *a, *w, *wsecret, *m, *k, *b, *n;
	char *expired, *revoked;       /* operator tokens */
};

static char *dup_str(json_t *o, const char *path)
{
	const char *s = t_str(o, path);
	cr_assert(s, "no %s", path);
	return strdup(s);
}

static char *op_token(int ttl, char **id)
{
	char body[96];
	snprintf(body, sizeof(body), "{\"scope\":\"operator\",\"ttl_seconds\":%d}", ttl);
	json_t *r = t_req(&H, 201, "POST", H.op_token, body, "/v1/tokens");
	char *tok = dup_str(r, "token");
	if (id)
		*id = dup_str(r, "id");
	json_decref(r);
	return tok;
}

static void build_world(struct world *w)
{
	json_t *r = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":10,"
			       "\"term_months\":12", &w->tok_a);
	w->secret_a = dup_str(r, "credentials.join_secret");
	json_decref(r);
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &w->tok_b));
	w->r = t_room(&H, w->tok_a, "fixed");
	w->r2 = t_room(&H, w->tok_a, "adhoc");
	w->rb = t_room(&H, w->tok_b, "adhoc");
	cr_assert_eq(t_join(&H, w->tok_a, w->r, 5001, &w->p, &w->ptok, &r), 201);
	w->key_p = dup_str(r, "transport.srtp.key_to_server");
	json_decref(r);
	cr_assert_eq(t_join(&H, w->tok_a, w->r, 5002, &w->q, &w->qtok, NULL), 201);
	cr_assert_eq(t_join(&H, w->tok_a, w->r2, 5003, &w->y, &w->ytok, NULL), 201);
	cr_assert_eq(t_join(&H, w->tok_b, w->rb, 5004, &w->x, &w->xtok, NULL), 201);
	/* A kicked participant leaves a block. */
	char *kp;
	cr_assert_eq(t_join(&H, w->tok_a, w->r, 5005, &kp, NULL, NULL), 201);
	json_decref(t_req(&H, 204, "POST", w->tok_a, "{\"reason\":\"spam\"}",
			  "/v1/rooms/%s/participants/%s/kick", w->r, kp));
	free(kp);
	r = t_req(&H, 200, "GET", H.op_token, NULL, "/v1/blocks");
	w->b = dup_str(json_array_get(json_object_get(r, "blocks"), 0), "id");
	json_decref(r);
	r = t_req(&H, 201, "POST", w->tok_a, "{\"name\":\"sales\"}", "/v1/tenants/acme/units");
	w->u = dup_str(r, "id");
	json_decref(r);
	r = t_req(&H, 201, "POST", w->tok_a, "{\"name\":\"Bob\",\"email\":\"bob@acme.example\"}",
		  "/v1/tenants/acme/accounts");
	w->a = dup_str(r, "id");
	json_decref(r);
	r = t_req(&H, 201, "POST", w->tok_a, "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":"
		  "[\"meeting.ended\"]}", "/v1/webhooks");
	w->w = dup_str(r, "id");
	w->wsecret = dup_str(r, "secret");
	json_decref(r);
	r = t_req(&H, 200, "GET", H.op_token, NULL, "/v1/reports/meetings?room=%s", w->r);
	w->m = dup_str(json_array_get(json_object_get(r, "meetings"), 0), "id");
	json_decref(r);
	r = t_req(&H, 201, "POST", H.op_token, "{\"scope\":\"tenant:acme\",\"ttl_seconds\":3600}",
		  "/v1/tokens");
	w->k = dup_str(r, "id");
	json_decref(r);
	r = t_req(&H, 201, "POST", H.op_token, "{\"prefix\":\"203.0.113.0/24\",\"ttl_seconds\":"
		  "86400,\"reason\":\"flood\"}", "/v1/bans");
	w->n = dup_str(r, "id");
	json_decref(r);
	/* Dead operator tokens: one expired (by the test clock), one revoked. */
	w->expired = op_token(60, NULL);
	char *rid;
	w->revoked = op_token(3600, &rid);
	json_decref(t_req(&H, 204, "DELETE", H.op_token, NULL, "/v1/tokens/%s", rid));
	free(rid);
	t_advance(&H, 120);
	json_decref(h_rec_take());
}

static void free_world(struct world *w)
{
	/* Every field is a malloc'd string. */
	char **f = (char **)w;
	for (size_t i = 0; i < sizeof(*w) / sizeof(char *); i++)
		free(f[i]);
}

/* The table's path with the world's ids. */
static void expand(const struct world *w, const char *in, char *out, size_t cap)
{
	size_t o = 0;
	while (*in && o + 1 < cap) {
		if (*in == '{' && in[1] && in[2] == '}') {
			const char *v = NULL;
			switch (in[1]) {
			case 't': v = "acme"; break;
			case 'r': v = w->r; break;
			case 'p': v = w->p; break;
			case 'q': v = w->q; break;
			case 'u': v = w->u; break;
			case 'a': v = w->a; break;
			case 'w': v = w->w; break;
			case 'm': v = w->m; break;
			case 'k': v = w->k; break;
			case 'b': v = w->b; break;
			case 'n': v = w->n; break;
			}
			cr_assert(v, "unknown placeholder in %s", in);
			o += (size_t)snprintf(out + o, cap - o, "%s", v);
			in += 3;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

/* Every table's rows: what a refused request must leave as it was. */
static json_t *db_snapshot(void)
{
	static const char *const tables[] = {
		"accounts", "bans", "blocks", "contracts", "events", "history_attendance",
		"history_meetings", "meta", "offer_mids", "offers", "participants", "room_access",
		"rooms", "secrets", "subscriptions", "tenant_events", "tenants", "tokens", "units",
		"webhook_deliveries", "webhooks",
	};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[96];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		json_object_set_new(o, tables[i], json_integer(h_db_count(&H, sql)));
	}
	return o;
}

/* What the operator sees of the world. */
static json_t *api_snapshot(const struct world *w)
{
	json_t *o = json_object();
	const char *paths[] = { "/v1/rooms", "/v1/tenants", "/v1/tenants/acme",
				"/v1/tenants/acme/units", "/v1/tenants/acme/accounts",
				"/v1/tenants/acme/contract", "/v1/webhooks", "/v1/blocks",
				"/v1/bans", NULL };
	for (int i = 0; paths[i]; i++)
		json_object_set_new(o, paths[i], t_req(&H, 200, "GET", H.op_token, NULL, "%s",
						      paths[i]));
	json_t *r = t_req(&H, 200, "GET", H.op_token, NULL, "/v1/rooms/%s", w->r);
	json_object_set_new(o, "room", r);
	/* mmctld's pushes to mmdp: none may come of a refused request. */
	json_t *pushes = h_rec_take();
	json_object_set_new(o, "mmdp pushes since the last snapshot",
			    json_integer((json_int_t)json_array_size(pushes)));
	json_decref(pushes);
	return o;
}

/* A refused reply: status one of want (a 0-terminated list), the error
 * shape and nothing in it that the caller may not know. */
static void check_refusal(const struct world *w, const struct endpoint *e, const char *path,
			  const char *who, int st, const char *text, const int *want,
			  const char *code)
{
	bool ok = false;
	for (int i = 0; want[i]; i++)
		ok |= st == want[i];
	cr_assert(ok, "%s %s as %s: %d (%s)", e->method, path, who, st, text);
	json_t *j = json_loads(text, 0, NULL);
	cr_assert(j, "%s %s as %s: not JSON: %s", e->method, path, who, text);
	json_t *err = json_object_get(j, "error");
	cr_assert(json_object_size(j) == 1 && json_is_object(err) &&
		  json_object_size(err) == 2 && json_is_string(json_object_get(err, "code")) &&
		  json_is_string(json_object_get(err, "message")),
		  "%s %s as %s: not the error shape: %s", e->method, path, who, text);
	if (code)
		cr_assert_str_eq(t_str(err, "code"), code, "%s %s as %s", e->method, path, who);
	/* Nothing secret, nothing of the implementation. */
	const char *bad[] = { w->secret_a, w->tok_a, w->ptok, w->qtok, w->key_p, w->wsecret,
			      H.op_token, "sqlite", "SQLITE", "SELECT", "INSERT", "/tmp/",
			      ".c:", "mmctld-test", NULL };
	for (int i = 0; bad[i]; i++)
		cr_assert(!strstr(text, bad[i]), "%s %s as %s leaks %s: %s", e->method, path,
			  who, bad[i], text);
	/* The owner of the resource, unless the caller named it. */
	if (!strstr(path, "acme"))
		cr_assert(!strstr(text, "acme"), "%s %s as %s names the tenant: %s", e->method,
			  path, who, text);
	json_decref(j);
}

/* Two snapshots are equal, key by key (a message short enough to read). */
static void same(json_t *a, json_t *b, const char *what)
{
	const char *key;
	json_t *v;
	json_object_foreach(a, key, v) {
		char *s0 = json_dumps(v, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		char *s1 = json_dumps(json_object_get(b, key), JSON_SORT_KEYS | JSON_ENCODE_ANY);
		cr_assert_str_eq(s1, s0, "%s: %s changed", what, key);
		free(s0);
		free(s1);
	}
}

struct probe {
	const char *who, *auth;
	bool refused;       /* must be refused (else: not tried) */
	const int *want;    /* the statuses it may get, 0-terminated */
	const char *code;   /* the error code it must get, or NULL: any */
};

Test(security, every_endpoint_refuses_every_credential_it_must)
{
	struct world w = { 0 };
	build_world(&w);
	json_t *db0 = db_snapshot(), *api0 = api_snapshot(&w);
	char bearer[256];
	int tried = 0;

	for (size_t i = 0; i < N_ENDPOINTS; i++) {
		const struct endpoint *e = &ENDPOINTS[i];
		char path[512], body[512];
		expand(&w, e->path, path, sizeof(path));
		if (e->body)
			expand(&w, e->body, body, sizeof(body));
		const char *bd = e->body ? body : NULL;
		static const int s401[] = { 401, 0 }, s403[] = { 403, 0 },
				 s403_404[] = { 403, 404, 0 };
		struct probe probes[16];
		int np = 0;
		char unk[128], exp[256], rev[256], ta[256], tb[256], px[256], py[256], pp[256];
		snprintf(unk, sizeof(unk), "Bearer mmt_%040d", 7);
		snprintf(exp, sizeof(exp), "Bearer %s", w.expired);
		snprintf(rev, sizeof(rev), "Bearer %s", w.revoked);
		snprintf(ta, sizeof(ta), "Bearer %s", w.tok_a);
		snprintf(tb, sizeof(tb), "Bearer %s", w.tok_b);
		snprintf(px, sizeof(px), "Bearer %s", w.xtok);
		snprintf(py, sizeof(py), "Bearer %s", w.ytok);
		snprintf(pp, sizeof(pp), "Bearer %s", w.ptok);
		snprintf(bearer, sizeof(bearer), "Basic %s", "b3BlcmF0b3I6c2VjcmV0");
#define PROBE(w_, a_, r_, s_, c_) \
	(probes[np++] = (struct probe){ (w_), (a_), (r_), (s_), (c_) })
		PROBE("no token", NULL, true, s401, "unauthorized");
		PROBE("Basic auth", bearer, true, s401, "unauthorized");
		PROBE("an empty bearer", "Bearer ", true, s401, "unauthorized");
		PROBE("an unknown token", unk, true, s401, "unauthorized");
		PROBE("an expired operator token", exp, true, s401, "unauthorized");
		PROBE("a revoked operator token", rev, true, s401, "unauthorized");
		PROBE("another tenant", tb, !(e->allow & (A_ANYTEN | A_ANYTOK)), s403_404, NULL);
		PROBE("a participant of another tenant's meeting", px, !(e->allow & A_ANYTOK),
		      s403_404, NULL);
		PROBE("a participant of another meeting", py, !(e->allow & A_ANYTOK), s403_404,
		      NULL);
		PROBE("the tenant", ta, !(e->allow & (A_TEN | A_ANYTEN | A_ANYTOK)), s403, NULL);
		PROBE("an attendee", pp, !(e->allow & (A_PART | A_ANYTOK)), s403_404, NULL);
#undef PROBE
		for (int j = 0; j < np; j++) {
			if (!probes[j].refused)
				continue;
			char *text;
			int st = auth_req(e->method, path, probes[j].auth, bd, &text);
			check_refusal(&w, e, path, probes[j].who, st, text, probes[j].want,
				      probes[j].code);
			free(text);
			tried++;
		}
	}
	cr_log_info("%d refusals of %zu endpoints", tried, N_ENDPOINTS);
	cr_assert_gt(tried, (int)N_ENDPOINTS * 6);

	/* Nothing changed: every table's rows, what the operator sees, mmdp. */
	json_t *db1 = db_snapshot(), *api1 = api_snapshot(&w);
	same(db0, db1, "rows");
	same(api0, api1, "the operator's view");
	json_decref(db0);
	json_decref(db1);
	json_decref(api0);
	json_decref(api1);

	/* The GETs the table allows work for those it allows (the table is not
	 * refusing everything by accident), and lists show only one's own. */
	for (size_t i = 0; i < N_ENDPOINTS; i++) {
		const struct endpoint *e = &ENDPOINTS[i];
		char path[512];
		if (strcmp(e->method, "GET") || strstr(e->path, "/events"))
			continue;
		expand(&w, e->path, path, sizeof(path));
		const char *toks[] = { H.op_token, w.tok_a, w.ptok };
		unsigned bits[] = { A_OP, A_TEN | A_ANYTEN, A_PART };
		for (int j = 0; j < 3; j++)
			if (e->allow & (bits[j] | A_ANYTOK)) {
				/* Past the authorization (an offer of a non-webrtc
				 * participant is 409). */
				json_t *r;
				int st = h_http(&H, "GET", path, toks[j], NULL, 0, &r);
				cr_assert(st == 200 || st == 409, "GET %s as %s: %d", path,
					  j == 0 ? "operator" : j == 1 ? "tenant" : "attendee", st);
				json_decref(r);
			}
	}
	const char *lists[] = { "/v1/rooms", "/v1/reports/online", "/v1/reports/meetings",
				"/v1/reports/rooms", "/v1/webhooks", NULL };
	for (int i = 0; lists[i]; i++) {
		json_t *r = t_req(&H, 200, "GET", w.tok_b, NULL, "%s", lists[i]);
		char *text = json_dumps(r, 0);
		cr_assert(!strstr(text, w.r) && !strstr(text, w.r2) && !strstr(text, w.w) &&
			  !strstr(text, "acme"), "globex's %s shows acme's: %s", lists[i], text);
		free(text);
		json_decref(r);
	}
	free_world(&w);
}

/* "GET /v1/rooms/{room}" -> "GET /v1/rooms/{}" */
static void normalize(const char *method, const char *path, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%s ", method);
	for (; *path && o + 3 < cap; path++) {
		if (*path == '{') {
			out[o++] = '{';
			out[o++] = '}';
			while (*path && *path != '}')
				path++;
			if (!*path)
				break;
		} else {
			out[o++] = *path;
		}
	}
	out[o] = '\0';
}

Test(security, the_table_has_every_endpoint_of_the_api_docs)
{
	const char *md = getenv("API_MD");
	cr_assert(md, "API_MD must name docs/api.md");
	FILE *f = fopen(md, "r");
	cr_assert(f, "%s", md);
	char *doc = NULL;
	size_t dl = 0;
	FILE *m = open_memstream(&doc, &dl);
	char line[4096];
	while (fgets(line, sizeof(line), f))
		fputs(line, m);
	fclose(f);
	fclose(m);

	int found = 0;
	for (char *s = doc; (s = strchr(s, '`')); s++) {
		/* `GET /v1/…`, `GET|POST /v1/…` */
		char methods[64], path[256];
		if (sscanf(s + 1, "%63[A-Z|] /v1%255[^` ?[]", methods, path) != 2)
			continue;
		char full[300];
		snprintf(full, sizeof(full), "/v1%s", path);
		if (!strcmp(full, "/v1/join"))
			continue;   /* no bearer token: the invite or join token is the credential */
		if (!strcmp(full, "/v1/health"))
			continue;   /* no credential by design: ok or draining, nothing else */
		char *save = NULL;
		for (char *mt = strtok_r(methods, "|", &save); mt; mt = strtok_r(NULL, "|", &save)) {
			char want[320], have[320];
			normalize(mt, full, want, sizeof(want));
			bool in = false;
			for (size_t i = 0; i < N_ENDPOINTS && !in; i++) {
				normalize(ENDPOINTS[i].method, ENDPOINTS[i].path, have, sizeof(have));
				in = !strcmp(want, have);
			}
			cr_expect(in, "docs/api.md has %s; add it to ENDPOINTS", want);
			found++;
		}
	}
	free(doc);
	cr_assert_gt(found, 50, "found only %d endpoints in %s", found, md);
}

/* tok is dead: reading the room, its participants, chat and events, acting,
 * and joining again are all 401 unauthorized. */
static void dead_token(const char *tok, const char *rid, const char *pid, const char *why)
{
	struct { const char *method, *fmt, *body; } tries[] = {
		{ "GET", "/v1/rooms/%s", NULL },
		{ "GET", "/v1/rooms/%s/participants/%s", NULL },
		{ "GET", "/v1/rooms/%s/chat", NULL },
		{ "POST", "/v1/rooms/%s/chat", "{\"text\":\"still here?\"}" },
		{ "GET", "/v1/rooms/%s/events", NULL },
		{ "POST", "/v1/rooms/%s/participants/%s/hand", "{\"raised\":true}" },
		{ "DELETE", "/v1/rooms/%s/participants/%s", NULL },
		{ "POST", "/v1/rooms/%s/participants", JOIN_BODY },
		{ "POST", "/v1/quote", "{\"rooms\":1,\"term_months\":1}" },
	};
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), tries[i].fmt, rid, pid);
		json_t *r;
		int st = h_http(&H, tries[i].method, path, tok, tries[i].body, 0, &r);
		cr_assert_eq(st, 401, "%s: %s %s: %d", why, tries[i].method, path, st);
		cr_assert_str_eq(h_err_code(r), "unauthorized", "%s: %s %s", why, tries[i].method,
				 path);
		json_decref(r);
	}
	/* And the event stream does not open. */
	char path[128];
	struct h_sse s;
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", rid);
	cr_assert_eq(h_sse_open(&H, &s, path, tok, NULL), 401, "%s: events", why);
	h_sse_close(&s);
}

/* Join with an invite (POST /v1/join): the status; the participant's id and
 * token on 201. */
static int join_invite(const char *invite, int port, char **pid, char **tok)
{
	char body[1024];
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"display_name\":\"guest %d\",\"remote\":"
		 "{\"addr\":\"198.18.2.1\",\"port\":%d},\"streams\":[{\"kind\":\"audio\","
		 "\"ssrc\":%d}]}", invite, port, port, port);
	json_t *r;
	int st = h_http(&H, "POST", "/v1/join", NULL, body, 0, &r);
	if (st == 201) {
		*pid = strdup(t_str(r, "id"));
		*tok = strdup(t_str(r, "token"));
	}
	json_decref(r);
	return st;
}

Test(security, kicked_left_and_ended_tokens_are_dead_and_invites_stay_invites)
{
	char *ten;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &ten));
	char *rid = t_room(&H, ten, "fixed");
	json_t *r = t_req(&H, 201, "POST", ten, "{\"ttl_seconds\":600}", "/v1/rooms/%s/invites",
			  rid);
	char *invite = strdup(t_str(r, "invite"));
	json_decref(r);
	char *host, *htok;
	cr_assert_eq(t_join(&H, ten, rid, 6000, &host, &htok, NULL), 201);

	/* Kicked: its token is dead at once; its invite gives a new participant. */
	char *k, *ktok;
	cr_assert_eq(join_invite(invite, 6001, &k, &ktok), 201);
	json_decref(t_req(&H, 200, "GET", ktok, NULL, "/v1/rooms/%s", rid));
	json_decref(t_req(&H, 204, "POST", ten, "{\"block_seconds\":0}",
			  "/v1/rooms/%s/participants/%s/kick", rid, k));
	dead_token(ktok, rid, k, "kicked");
	char *k2, *k2tok;
	cr_assert_eq(join_invite(invite, 6002, &k2, &k2tok), 201, "the invite is still an invite");
	cr_assert_str_neq(k2, k, "a new participant, not the kicked one back");
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 2);

	/* Left: the same. */
	json_decref(t_req(&H, 204, "DELETE", k2tok, NULL, "/v1/rooms/%s/participants/%s", rid, k2));
	dead_token(k2tok, rid, k2, "left");
	char *k3, *k3tok;
	cr_assert_eq(join_invite(invite, 6003, &k3, &k3tok), 201);
	cr_assert_str_neq(k3, k2);

	/* Invites are not stored, so not revoked one by one: they end with their
	 * expiry (and with the room). */
	t_advance(&H, 601);
	char *nope = NULL, *nopetok = NULL;
	cr_assert_eq(join_invite(invite, 6004, &nope, &nopetok), 401, "an expired invite");

	/* Ended: every token of the meeting is dead, the host's too, though the
	 * fixed room stays. */
	json_decref(t_req(&H, 204, "POST", ten, NULL, "/v1/rooms/%s/end", rid));
	dead_token(htok, rid, host, "meeting ended (host)");
	dead_token(k3tok, rid, k3, "meeting ended");
	json_decref(t_req(&H, 200, "GET", ten, NULL, "/v1/rooms/%s", rid));
	/* A new meeting in the same room does not bring old tokens back. */
	char *n, *ntok;
	cr_assert_eq(t_join(&H, ten, rid, 6005, &n, &ntok, NULL), 201);
	dead_token(htok, rid, host, "the next meeting (host)");
	dead_token(ktok, rid, k, "the next meeting (kicked)");
	json_decref(t_req(&H, 200, "GET", ntok, NULL, "/v1/rooms/%s", rid));

	char *all[] = { ten, rid, invite, host, htok, k, ktok, k2, k2tok, k3, k3tok, n, ntok };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
}

/* A request of method and path whose body is n bytes of JSON-ish filler,
 * sent with Content-Length or chunked. */
static int big_body(const char *method, const char *path, size_t n, bool chunked)
{
	char *body = malloc(n + 1);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	body[n] = '\0';
	size_t cap = n + 4096;
	char *req = malloc(cap);
	int hl = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			  "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
			  method, path, H.op_token);
	size_t len = (size_t)hl;
	if (chunked) {
		len += (size_t)snprintf(req + len, cap - len, "Transfer-Encoding: chunked\r\n\r\n");
		for (size_t off = 0; off < n; off += 8192) {
			size_t c = n - off < 8192 ? n - off : 8192;
			len += (size_t)snprintf(req + len, cap - len, "%zx\r\n", c);
			memcpy(req + len, body + off, c);
			len += c;
			len += (size_t)snprintf(req + len, cap - len, "\r\n");
			if (len + 8300 > cap)
				req = realloc(req, cap *= 2);
		}
		len += (size_t)snprintf(req + len, cap - len, "0\r\n\r\n");
	} else {
		len += (size_t)snprintf(req + len, cap - len, "Content-Length: %zu\r\n\r\n", n);
		memcpy(req + len, body, n);
		len += n;
	}
	char *text;
	int st = raw_req(req, len, &text);
	if (st == 413)
		cr_assert(strstr(text, "\"body_too_large\""), "%s", text);
	free(text);
	free(req);
	free(body);
	return st;
}

/* mmctld still answers a plain request, within ms. */
static void still_serving(int ms, const char *after)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	json_decref(t_req(&H, 200, "GET", H.op_token, NULL, "/v1/clock"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_lt(took, ms, "after %s: a plain request took %ld ms", after, took);
}

Test(security, request_bodies_headers_urls_and_paths_are_bounded)
{
	char *ten;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &ten));
	char *rid = t_room(&H, ten, "fixed");
	char *pid;
	cr_assert_eq(t_join(&H, ten, rid, 7000, &pid, NULL, NULL), 201);
	int rooms = h_db_count(&H, "SELECT count(*) FROM rooms");

	/* Bodies: 64 KiB, an SDP answer 1 MiB; over is 413 and nothing stored. */
	cr_assert_eq(big_body("POST", "/v1/rooms", 64 * 1024 + 1, false), 413);
	cr_assert_eq(big_body("POST", "/v1/rooms", 64 * 1024 + 1, true), 413, "chunked");
	cr_assert_eq(big_body("POST", "/v1/rooms", 4 << 20, true), 413, "4 MiB chunked");
	char path[256];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/answer", rid, pid);
	cr_assert_eq(big_body("POST", path, (1 << 20) + 1, false), 413);
	cr_assert_eq(big_body("POST", path, (1 << 20) + 1, true), 413, "chunked");
	/* Just under the limit is read (and refused for what it is, not its size). */
	cr_assert_eq(big_body("POST", "/v1/rooms", 64 * 1024, false), 400);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), rooms);
	still_serving(1000, "big bodies");

	/* A 100 KiB header: refused by libmicrohttpd's connection memory limit. */
	size_t big = 100 * 1024;
	char *req = malloc(big + 1024);
	int n = snprintf(req, 1024, "GET /v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Authorization: Bearer %s\r\nX-Filler: ", H.op_token);
	memset(req + n, 'a', big);
	n += (int)big;
	n += snprintf(req + n, 64, "\r\nConnection: close\r\n\r\n");
	int st = raw_req(req, (size_t)n, NULL);
	cr_assert(st == 0 || (st >= 400 && st < 500), "a 100 KiB header: %d", st);
	/* ... the same in many small headers. */
	n = snprintf(req, 1024, "GET /v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\n", H.op_token);
	for (int i = 0; i < 2000; i++)
		n += snprintf(req + n, 64, "X-H%d: %040d\r\n", i, i);
	n += snprintf(req + n, 64, "Connection: close\r\n\r\n");
	st = raw_req(req, (size_t)n, NULL);
	cr_assert(st == 0 || (st >= 400 && st < 500), "2000 headers: %d", st);
	/* A 100 KiB URL. */
	n = snprintf(req, 64, "GET /v1/rooms/");
	memset(req + n, 'r', big);
	n += (int)big;
	n += snprintf(req + n, 1024, " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
		      "Connection: close\r\n\r\n", H.op_token);
	st = raw_req(req, (size_t)n, NULL);
	cr_assert(st == 0 || (st >= 400 && st < 500), "a 100 KiB URL: %d", st);
	free(req);
	still_serving(1000, "big headers and URLs");

	/* Too many path segments: 404, nothing else. */
	char many[2048];
	int o = snprintf(many, sizeof(many), "/v1/rooms/%s", rid);
	for (int i = 0; i < 200; i++)
		o += snprintf(many + o, sizeof(many) - (size_t)o, "/x");
	char *text;
	st = auth_req("DELETE", many, NULL, NULL, &text);
	/* (No such path is 404 before the token is looked at.) */
	cr_assert(st == 401 || st == 404, "%d %s", st, text);
	free(text);
	json_t *r;
	cr_assert_eq(h_http(&H, "DELETE", many, H.op_token, NULL, 0, &r), 404);
	cr_assert_str_eq(h_err_code(r), "not_found");
	json_decref(r);

	/* A long URL is not cut to a shorter one that means something else:
	 * DELETE of a participant padded past mmctld's path buffer must not
	 * become a DELETE of its room. */
	o = snprintf(many, sizeof(many), "/v1/rooms/%s", rid);
	while (o < 600)
		many[o++] = '/';
	snprintf(many + o, sizeof(many) - (size_t)o, "participants/%s", pid);
	st = h_http(&H, "DELETE", many, H.op_token, NULL, 0, &r);
	cr_assert(st == 404 || st == 414, "a padded URL: %d", st);
	json_decref(r);
	json_decref(t_req(&H, 200, "GET", H.op_token, NULL, "/v1/rooms/%s", rid));
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 1);
	free(ten);
	free(rid);
	free(pid);
}

Test(security, slow_clients_do_not_stop_others)
{
	/* Slowloris: connections that send their request a byte at a time. */
	enum { SLOW = 8 };
	int fds[SLOW];
	const char *head = "GET /v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	for (int i = 0; i < SLOW; i++)
		fds[i] = raw_connect();
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < SLOW; i++) {
			char c = round < (int)strlen(head) ? head[round] : 'z';
			cr_assert_eq(send(fds[i], &c, 1, MSG_NOSIGNAL), 1);
		}
		/* Each round a normal client is served at once. */
		still_serving(500, "slow clients");
		usleep(100 * 1000);
	}
	/* And the slow ones were not answered (they are not done). */
	for (int i = 0; i < SLOW; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		cr_assert_eq(poll(&p, 1, 0), 0);
		close(fds[i]);
	}
	still_serving(500, "slow clients closed");
}

/* Another tenant's ids where a body or a query names them (not the path):
 * refused, nothing stored, nothing of the other tenant in the reply. */
Test(security, other_tenants_ids_in_bodies_and_queries_are_refused)
{
	char *ta, *tb;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &ta));
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &tb));
	char *ra = t_room(&H, ta, "fixed"), *rb = t_room(&H, tb, "fixed");
	char *pa, *pb;
	cr_assert_eq(t_join(&H, ta, ra, 8001, &pa, NULL, NULL), 201);
	cr_assert_eq(t_join(&H, tb, rb, 8002, &pb, NULL, NULL), 201);
	json_t *r = t_req(&H, 201, "POST", ta, "{\"name\":\"sales\"}", "/v1/tenants/acme/units");
	char *ua = strdup(t_str(r, "id"));
	json_decref(r);
	r = t_req(&H, 200, "GET", ta, NULL, "/v1/tenants/acme/accounts");
	char *aa = strdup(t_str(json_array_get(json_object_get(r, "accounts"), 0), "id"));
	json_decref(r);
	json_t *db0 = db_snapshot();
	json_decref(h_rec_take());

	struct { int status; const char *method, *path, *body; } tries[] = {
		{ 403, "POST", "/v1/rooms", "{\"name\":\"x\",\"tenant\":\"acme\"}" },
		{ 403, "POST", "/v1/webhooks", "{\"url\":\"http://127.0.0.1:9/\",\"events\":[\"*\"],"
		  "\"tenant\":\"acme\"}" },
		{ 403, "GET", "/v1/reports/online?tenant=acme", NULL },
		{ 403, "GET", "/v1/reports/meetings?tenant=acme", NULL },
		{ 403, "GET", "/v1/reports/rooms?tenant=acme", NULL },
		/* globex's room, acme's people */
		{ 400, "PUT", "/v1/rooms/{rb}/access", "{\"units\":[\"{ua}\"]}" },
		{ 400, "PUT", "/v1/rooms/{rb}/access", "{\"accounts\":[\"{aa}\"]}" },
		{ 403, "POST", "/v1/rooms/{rb}/participants", "{\"display_name\":\"x\",\"account\":"
		  "\"{aa}\",\"remote\":{\"addr\":\"198.18.9.9\",\"port\":9},\"streams\":[]}" },
		{ 0, "POST", "/v1/rooms/{rb}/chat", "{\"text\":\"hi\",\"from\":\"{pa}\"}" },
		{ 0, "PUT", "/v1/rooms/{rb}/participants/{pb}/subscriptions",
		  "{\"subscriptions\":[{\"publisher\":\"{pa}\",\"kind\":\"camera\","
		  "\"max_height\":360}]}" },
		{ 0, "POST", "/v1/rooms/{rb}/mute", "{\"except\":[\"{pa}\"]}" },
		{ 0, "POST", "/v1/tenants/globex/accounts", "{\"name\":\"x\",\"email\":"
		  "\"x@globex.example\",\"unit\":\"{ua}\"}" },
	};
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		char path[256], body[512];
		const char *subst[][2] = { { "{rb}", rb }, { "{ua}", ua }, { "{aa}", aa },
					   { "{pa}", pa }, { "{pb}", pb } };
		snprintf(path, sizeof(path), "%s", tries[i].path);
		snprintf(body, sizeof(body), "%s", tries[i].body ? tries[i].body : "");
		for (int pass = 0; pass < 2; pass++) {
			char *s = pass ? body : path;
			size_t cap = pass ? sizeof(body) : sizeof(path);
			for (size_t k = 0; k < sizeof(subst) / sizeof(subst[0]); k++) {
				char *at;
				while ((at = strstr(s, subst[k][0]))) {
					char rest[512];
					snprintf(rest, sizeof(rest), "%s", at + strlen(subst[k][0]));
					snprintf(at, cap - (size_t)(at - s), "%s%s", subst[k][1], rest);
				}
			}
		}
		char *text;
		char auth[256];
		snprintf(auth, sizeof(auth), "Bearer %s", tb);
		int st = auth_req(tries[i].method, path, auth, tries[i].body ? body : NULL, &text);
		if (tries[i].status)
			cr_assert_eq(st, tries[i].status, "%s %s %s: %d %s", tries[i].method, path,
				     body, st, text);
		else
			cr_assert(st >= 400 && st < 500, "%s %s %s: %d %s", tries[i].method, path,
				  body, st, text);
		cr_assert(!strstr(text, "sales") && !strstr(text, "admin@acme"),
			  "%s %s: %s", tries[i].method, path, text);
		free(text);
	}
	json_t *db1 = db_snapshot();
	same(db0, db1, "rows");
	json_t *pushes = h_rec_take();
	cr_assert_eq(json_array_size(pushes), 0, "nothing pushed to mmdp");
	json_decref(pushes);
	json_decref(db0);
	json_decref(db1);
	char *all[] = { ta, tb, ra, rb, pa, pb, ua, aa };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
}

/* The other ways a meeting ends for everyone: the room deleted, the
 * contract cancelled now, the tenant deleted. Every participant token of
 * it is dead, the tenant's own token too when the tenant goes. */
Test(security, tokens_die_with_their_room_contract_and_tenant)
{
	char *ten;
	json_decref(t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":5,"
			       "\"term_months\":1", &ten));
	char *r1 = t_room(&H, ten, "adhoc"), *r2 = t_room(&H, ten, "fixed");
	char *r3 = t_room(&H, ten, "fixed");
	char *p1, *t1, *p2, *t2, *p3, *t3;
	cr_assert_eq(t_join(&H, ten, r1, 9001, &p1, &t1, NULL), 201);
	cr_assert_eq(t_join(&H, ten, r2, 9002, &p2, &t2, NULL), 201);

	json_decref(t_req(&H, 204, "DELETE", ten, NULL, "/v1/rooms/%s", r1));
	dead_token(t1, r1, p1, "room deleted");

	json_decref(t_req(&H, 200, "POST", H.op_token, "{\"when\":\"now\"}",
			  "/v1/tenants/acme/contract/cancel"));
	dead_token(t2, r2, p2, "contract cancelled");
	json_decref(t_req(&H, 200, "POST", H.op_token, "{\"rooms\":5,\"term_months\":1}",
			  "/v1/tenants/acme/contract/change"));
	cr_assert_eq(t_join(&H, ten, r3, 9003, &p3, &t3, NULL), 201);
	json_decref(t_req(&H, 200, "GET", t3, NULL, "/v1/rooms/%s", r3));

	json_decref(t_req(&H, 204, "DELETE", H.op_token, NULL, "/v1/tenants/acme"));
	dead_token(t3, r3, p3, "tenant deleted");
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", ten, NULL, 0, &r), 401);
	cr_assert_str_eq(h_err_code(r), "unauthorized");
	json_decref(r);
	char *all[] = { ten, r1, r2, r3, p1, t1, p2, t2, p3, t3 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
}
