/* Webhooks (issue 9, item 5) against a real mmctld process: a real HTTP
 * receiver in this process (a socket server thread on 127.0.0.1) records
 * what mmctld POSTs and answers as each test scripts it: the meeting's
 * events and their data, signatures, retries with backoff, order, a
 * receiver that stalls, tenants, bad bodies, and a restart of mmctld. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h_ctl H;

/* ---- the receiver ---- */

struct rx_req {
	char path[256];
	char sig[256];
	char event[64];
	char delivery[64];
	char ctype[64];
	char *body;
	long long at_ms;       /* monotonic, when it arrived */
};

#define RX_MAX 256

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int lfd, port;
	pthread_t th;
	bool running, stop;
	struct rx_req reqs[RX_MAX];
	int n;
	int script[16];         /* statuses to answer first, in order */
	int nscript, iscript;
	int dflt;               /* then this one */
	bool stall;             /* read requests to /stall*, never answer */
	int stalled[64];
	int nstalled;
} RX = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .lfd = -1 };

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of header name in head (NUL-terminated header block). */
static void header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *s = l + 2;
		if (!strncasecmp(s, name, nl) && s[nl] == ':') {
			s += nl + 1;
			while (*s == ' ')
				s++;
			size_t n = strcspn(s, "\r\n");
			snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
			return;
		}
	}
}

static void rx_serve(int fd)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL;
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!(end = strstr(buf, "\r\n\r\n")) && len < sizeof(buf) - 1) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r <= 0) {
			close(fd);
			return;
		}
		len += (size_t)r;
		buf[len] = '\0';
	}
	if (!end) {
		close(fd);
		return;
	}
	*end = '\0';
	char cl[32];
	header(buf, "Content-Length", cl, sizeof(cl));
	size_t want = (size_t)strtoul(cl, NULL, 10), have = len - (size_t)(end + 4 - buf);
	char *body = malloc(want + 1);
	memcpy(body, end + 4, have < want ? have : want);
	while (have < want) {
		ssize_t r = recv(fd, body + have, want - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	body[have < want ? have : want] = '\0';

	pthread_mutex_lock(&RX.lock);
	struct rx_req *q = RX.n < RX_MAX ? &RX.reqs[RX.n] : NULL;
	if (q) {
		sscanf(buf, "POST %255s", q->path);
		header(buf, "X-MM-Signature", q->sig, sizeof(q->sig));
		header(buf, "X-MM-Event", q->event, sizeof(q->event));
		header(buf, "X-MM-Delivery", q->delivery, sizeof(q->delivery));
		header(buf, "Content-Type", q->ctype, sizeof(q->ctype));
		q->body = body;
		q->at_ms = mono_ms();
		RX.n++;
	} else {
		free(body);
	}
	bool stall = RX.stall && q && !strncmp(q->path, "/stall", 6);
	int status = RX.iscript < RX.nscript ? RX.script[RX.iscript++] : RX.dflt;
	if (stall && RX.nstalled < 64)
		RX.stalled[RX.nstalled++] = fd;
	pthread_cond_broadcast(&RX.cond);
	pthread_mutex_unlock(&RX.lock);
	if (stall)
		return;
	char reply[128];
	int n = snprintf(reply, sizeof(reply), "HTTP/1.1 %d Scripted\r\nContent-Length: 0\r\n"
			 "Connection: close\r\n\r\n", status);
	send(fd, reply, (size_t)n, MSG_NOSIGNAL);
	close(fd);
}

static void *rx_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&RX.lock);
		bool stop = RX.stop;
		pthread_mutex_unlock(&RX.lock);
		if (stop)
			return NULL;
		struct pollfd p = { .fd = RX.lfd, .events = POLLIN };
		if (poll(&p, 1, 50) == 1) {
			int fd = accept(RX.lfd, NULL, NULL);
			if (fd >= 0)
				rx_serve(fd);
		}
	}
}

/* Listen on port (0: any) and serve until rx_stop. Scripting is kept. */
static void rx_start(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1;
	RX.lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(RX.lfd >= 0);
	setsockopt(RX.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(RX.lfd, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s",
		     strerror(errno));
	cr_assert_eq(listen(RX.lfd, 64), 0);
	cr_assert_eq(getsockname(RX.lfd, (struct sockaddr *)&a, &len), 0);
	RX.port = ntohs(a.sin_port);
	RX.stop = false;
	cr_assert_eq(pthread_create(&RX.th, NULL, rx_main, NULL), 0);
	RX.running = true;
}

static void rx_stop(void)
{
	if (!RX.running)
		return;
	pthread_mutex_lock(&RX.lock);
	RX.stop = true;
	pthread_mutex_unlock(&RX.lock);
	pthread_join(RX.th, NULL);
	close(RX.lfd);
	RX.lfd = -1;
	for (int i = 0; i < RX.nstalled; i++)
		close(RX.stalled[i]);
	RX.nstalled = 0;
	RX.running = false;
}

static void rx_reset(void)
{
	rx_stop();
	for (int i = 0; i < RX.n; i++)
		free(RX.reqs[i].body);
	RX.n = 0;
	RX.nscript = RX.iscript = 0;
	RX.dflt = 200;
	RX.stall = false;
}

/* Wait up to ms for n requests; returns how many arrived. */
static int rx_wait(int n, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&RX.lock);
	while (RX.n < n && pthread_cond_timedwait(&RX.cond, &RX.lock, &ts) == 0)
		;
	int got = RX.n;
	pthread_mutex_unlock(&RX.lock);
	return got;
}

static json_t *rx_body(int i)
{
	json_t *b = json_loads(RX.reqs[i].body, 0, NULL);
	cr_assert(json_is_object(b), "request %d: body is not JSON: %s", i, RX.reqs[i].body);
	return b;
}

/* ---- signatures, as a receiver checks them ---- */

static bool sig_verify(const char *header_value, const char *secret, const char *body)
{
	long long t;
	char v1[80], hex[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (sscanf(header_value, "t=%lld,v1=%79s", &t, v1) != 2)
		return false;
	char *msg = NULL;
	cr_assert(asprintf(&msg, "%lld.%s", t, body) > 0);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), md,
	     &mdlen);
	free(msg);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return mdlen == 32 && !strcmp(hex, v1);
}

/* ---- mmctld ---- */

static void setup(void)
{
	rx_reset();
	h_setup(&H);
	h_config_set(&H, "webhook_retry_base_ms", "100");
	h_config_set(&H, "webhook_max_attempts", "3");
	h_rec_start(&H);
	h_start(&H);
	rx_start(0);
}

static void teardown(void)
{
	h_teardown(&H);
	rx_reset();
}

static char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	cr_assert(s, "no %s", key);
	return strdup(s);
}

/* POST /v1/webhooks; the reply (owned). */
static json_t *webhook(const char *token, const char *path, const char *events,
		       const char *tenant)
{
	char body[512];
	json_t *r;
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d%s\",\"events\":%s%s%s%s}",
		 RX.port, path, events, tenant ? ",\"tenant\":\"" : "", tenant ? tenant : "",
		 tenant ? "\"" : "");
	int st = h_http(&H, "POST", "/v1/webhooks", token, body, 0, &r);
	cr_assert_eq(st, 201, "webhook: %d %s", st, h_err_code(r));
	return r;
}

static char *token_for(const char *scope)
{
	char body[128];
	json_t *r;
	snprintf(body, sizeof(body), "{\"scope\":\"%s\"}", scope);
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, body, 0, &r), 201);
	char *t = str_of(r, "token");
	json_decref(r);
	return t;
}

static char *room(const char *body)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/rooms", H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	char *id = str_of(r, "id");
	json_decref(r);
	return id;
}

static char *join(const char *rid, const char *name, int port)
{
	char path[128], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"%s\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":%d},\"streams\":[{\"kind\":\"audio\",\"ssrc\":%d}]}", name, port, port);
	int st = h_http(&H, "POST", path, H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "join: %d %s", st, h_err_code(r));
	char *id = str_of(r, "id");
	json_decref(r);
	return id;
}

static void leave(const char *rid, const char *pid)
{
	char path[160];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, pid);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, NULL), 204);
}

static json_t *deliveries(const char *wid)
{
	char path[128];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/webhooks/%s/deliveries", wid);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 200);
	return r;
}

/* Wait up to ms for the webhook's newest delivery to reach status. */
static json_t *delivery_wait(const char *wid, const char *status, int ms)
{
	long long until = mono_ms() + ms;
	for (;;) {
		json_t *r = deliveries(wid);
		json_t *d = json_array_get(json_object_get(r, "deliveries"), 0);
		if (d && !strcmp(json_string_value(json_object_get(d, "status")), status)) {
			json_incref(d);
			json_decref(r);
			return d;
		}
		json_decref(r);
		cr_assert(mono_ms() < until, "delivery of %s not %s in %d ms", wid, status, ms);
		usleep(50000);
	}
}

#define JSTR(o, k) json_string_value(json_object_get((o), (k)))
#define JINT(o, k) json_integer_value(json_object_get((o), (k)))

TestSuite(webhooks, .init = setup, .fini = teardown, .timeout = 90);

Test(webhooks, meeting_events_with_data_and_signature)
{
	json_t *w = webhook(H.op_token, "/hook", "[\"*\"]", NULL);
	char *wid = str_of(w, "id"), *secret = str_of(w, "secret");
	cr_assert_eq(strncmp(secret, "whsec_", 6), 0);
	cr_assert(json_is_null(json_object_get(w, "tenant")));
	json_decref(w);

	char *rid = room("{\"name\":\"standup\",\"tenant\":\"acme\"}");
	char *a = join(rid, "Alice", 5000);
	char *b = join(rid, "Bob", 5002);
	leave(rid, b);
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/end", rid);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{}", 0, NULL), 204);

	/* In event order: the meeting, then who is in it; at the end the
	 * other way round. */
	static const char *const want[] = { "meeting.started", "participant.joined",
					    "participant.joined", "participant.left",
					    "participant.left", "meeting.ended" };
	cr_assert_eq(rx_wait(6, 10000), 6, "got %d of 6 deliveries", RX.n);
	usleep(300000);
	cr_assert_eq(RX.n, 6, "nothing more");
	json_t *e[6];
	for (int i = 0; i < 6; i++) {
		struct rx_req *q = &RX.reqs[i];
		e[i] = rx_body(i);
		cr_assert_str_eq(JSTR(e[i], "type"), want[i], "request %d", i);
		cr_assert_str_eq(q->event, want[i]);
		cr_assert_str_eq(q->path, "/hook");
		cr_assert_str_eq(q->ctype, "application/json");
		cr_assert_eq(strncmp(q->delivery, "d", 1), 0, "%s", q->delivery);
		cr_assert_str_eq(JSTR(e[i], "tenant"), "acme");
		cr_assert(JINT(e[i], "created_at") > 1700000000);
		json_t *d = json_object_get(e[i], "data");
		cr_assert_str_eq(JSTR(d, "room"), rid);
		cr_assert_str_eq(JSTR(d, "room_name"), "standup");
		cr_assert_eq(JINT(d, "meeting"), 1);
		/* The signature verifies with the secret, and not with another. */
		cr_assert(sig_verify(q->sig, secret, q->body), "request %d: %s", i, q->sig);
		cr_assert_not(sig_verify(q->sig, "whsec_wrong", q->body));
		for (int k = 0; k < i; k++)
			cr_assert_str_neq(JSTR(e[k], "id"), JSTR(e[i], "id"));
	}
	json_t *d = json_object_get(e[0], "data");
	long long started = JINT(d, "started_at");
	cr_assert(started > 1700000000);
	cr_assert_str_eq(JSTR(d, "by"), a);
	d = json_object_get(e[1], "data");
	cr_assert_str_eq(JSTR(d, "participant"), a);
	cr_assert_str_eq(JSTR(d, "display_name"), "Alice");
	cr_assert_str_eq(JSTR(d, "role"), "attendee");
	cr_assert(json_is_null(json_object_get(d, "account")));
	cr_assert_eq(JINT(d, "joined_at"), started);
	d = json_object_get(e[2], "data");
	cr_assert_str_eq(JSTR(d, "participant"), b);
	cr_assert_str_eq(JSTR(d, "display_name"), "Bob");
	d = json_object_get(e[3], "data");
	cr_assert_str_eq(JSTR(d, "participant"), b);
	cr_assert_str_eq(JSTR(d, "how"), "left");
	cr_assert(JINT(d, "left_at") >= JINT(d, "joined_at"));
	cr_assert_eq(JINT(d, "duration"), JINT(d, "left_at") - JINT(d, "joined_at"));
	d = json_object_get(e[4], "data");
	cr_assert_str_eq(JSTR(d, "participant"), a);
	cr_assert_str_eq(JSTR(d, "how"), "ended");
	cr_assert_str_eq(JSTR(d, "reason"), "ended");
	d = json_object_get(e[5], "data");
	cr_assert_str_eq(JSTR(d, "reason"), "ended");
	cr_assert_str_eq(JSTR(d, "by"), "operator");
	cr_assert_eq(JINT(d, "started_at"), started);
	cr_assert_eq(JINT(d, "duration"), JINT(d, "ended_at") - started);

	/* The deliveries as the API shows them: newest first, delivered. */
	json_t *r = deliveries(wid);
	json_t *list = json_object_get(r, "deliveries");
	cr_assert_eq(json_array_size(list), 6);
	for (int i = 0; i < 6; i++) {
		json_t *x = json_array_get(list, (size_t)(5 - i));
		cr_assert_str_eq(JSTR(x, "id"), RX.reqs[i].delivery);
		cr_assert_str_eq(JSTR(x, "event_id"), JSTR(e[i], "id"));
		cr_assert_str_eq(JSTR(x, "type"), want[i]);
		cr_assert_str_eq(JSTR(x, "status"), "delivered");
		cr_assert_eq(JINT(x, "attempts"), 1);
		cr_assert_eq(JINT(x, "last_status"), 200);
		cr_assert(json_is_null(json_object_get(x, "next_attempt_at")));
	}
	json_decref(r);
	for (int i = 0; i < 6; i++)
		json_decref(e[i]);

	/* The last one out ends the meeting: meeting.ended, reason "empty". */
	char *rid2 = room("{\"name\":\"solo\",\"kind\":\"fixed\"}");
	char *c = join(rid2, "Carol", 5004);
	leave(rid2, c);
	cr_assert_eq(rx_wait(10, 10000), 10);
	json_t *x = rx_body(8), *y = rx_body(9);
	cr_assert_str_eq(JSTR(x, "type"), "participant.left");
	cr_assert(json_is_null(json_object_get(x, "tenant")), "an operator-owned room");
	cr_assert_str_eq(JSTR(y, "type"), "meeting.ended");
	cr_assert_str_eq(JSTR(json_object_get(y, "data"), "reason"), "empty");
	cr_assert_str_eq(JSTR(json_object_get(y, "data"), "room"), rid2);
	json_decref(x);
	json_decref(y);

	/* The secret is shown once: not by GET. */
	snprintf(path, sizeof(path), "/v1/webhooks/%s", wid);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 200);
	cr_assert_str_eq(JSTR(r, "id"), wid);
	cr_assert_null(json_object_get(r, "secret"));
	json_decref(r);
	/* Nor kept in the clear. */
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhooks WHERE secret='%s'", secret);
	cr_assert_eq(h_db_count(&H, sql), 0);

	free(a);
	free(b);
	free(c);
	free(rid);
	free(rid2);
	free(wid);
	free(secret);
}

Test(webhooks, kicks_and_deleted_rooms)
{
	json_t *w = webhook(H.op_token, "/k", "[\"participant.left\",\"meeting.ended\"]", NULL);
	json_decref(w);
	char *rid = room("{\"name\":\"k\",\"tenant\":\"acme\"}");
	char *a = join(rid, "A", 5000);
	/* B joins and keeps its participant token. */
	char path[160], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"B\",\"remote\":{\"addr\":"
		 "\"198.18.1.2\",\"port\":5002},\"streams\":[{\"kind\":\"audio\",\"ssrc\":5002}]}");
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, body, 0, &r), 201);
	char *b = str_of(r, "id"), *btok = str_of(r, "token");
	json_decref(r);
	/* A participant's token manages no webhooks. */
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks", btok, NULL, 0, &r), 403);
	json_decref(r);
	cr_assert_eq(h_http(&H, "POST", "/v1/webhooks", btok, "{\"url\":\"http://h/\","
			    "\"events\":[\"*\"]}", 0, &r), 403);
	json_decref(r);

	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/kick", rid, b);
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, "{\"reason\":\"spam\"}", 0, NULL), 204);
	snprintf(path, sizeof(path), "/v1/rooms/%s", rid);
	cr_assert_eq(h_http(&H, "DELETE", path, H.op_token, NULL, 0, NULL), 204);
	/* Only the types it asked for: no joins, no start. */
	cr_assert_eq(rx_wait(3, 10000), 3);
	usleep(300000);
	cr_assert_eq(RX.n, 3);
	json_t *e0 = rx_body(0), *e1 = rx_body(1), *e2 = rx_body(2);
	json_t *d0 = json_object_get(e0, "data"), *d1 = json_object_get(e1, "data"),
	       *d2 = json_object_get(e2, "data");
	cr_assert_str_eq(JSTR(e0, "type"), "participant.left");
	cr_assert_str_eq(JSTR(d0, "participant"), b);
	cr_assert_str_eq(JSTR(d0, "how"), "kicked");
	cr_assert_str_eq(JSTR(e1, "type"), "participant.left");
	cr_assert_str_eq(JSTR(d1, "participant"), a);
	cr_assert_str_eq(JSTR(d1, "how"), "ended");
	cr_assert_str_eq(JSTR(d1, "reason"), "deleted");
	cr_assert_str_eq(JSTR(e2, "type"), "meeting.ended");
	cr_assert_str_eq(JSTR(d2, "reason"), "deleted");
	cr_assert_str_eq(JSTR(d2, "by"), "operator");
	json_decref(e0);
	json_decref(e1);
	json_decref(e2);
	free(a);
	free(b);
	free(btok);
	free(rid);
}

Test(webhooks, a_change_that_rolls_back_sends_nothing)
{
	json_t *w = webhook(H.op_token, "/tx", "[\"*\"]", NULL);
	json_decref(w);
	char *rid = room("{\"name\":\"tx\"}");
	/* mmdp refuses the join: no participant, no meeting, no delivery. */
	h_rec_fail_op("endpoint.put");
	char path[128], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"X\",\"remote\":{\"addr\":"
		 "\"198.18.1.2\",\"port\":5000},\"streams\":[{\"kind\":\"audio\",\"ssrc\":5000}]}");
	cr_assert_eq(h_http(&H, "POST", path, H.op_token, body, 0, &r), 502);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhook_deliveries"), 0);
	usleep(500000);
	cr_assert_eq(RX.n, 0);
	/* The same join once mmdp takes it: delivered. */
	h_rec_fail_op(NULL);
	free(join(rid, "Y", 5002));
	cr_assert_eq(rx_wait(2, 5000), 2);
	json_t *e = rx_body(1);
	cr_assert_str_eq(JSTR(json_object_get(e, "data"), "display_name"), "Y");
	json_decref(e);
	free(rid);
}

Test(webhooks, retried_with_backoff_in_order)
{
	json_t *w = webhook(H.op_token, "/retry", "[\"participant.joined\"]", NULL);
	char *wid = str_of(w, "id");
	json_decref(w);
	pthread_mutex_lock(&RX.lock);
	RX.script[0] = 500;
	RX.script[1] = 503;
	RX.nscript = 2;
	pthread_mutex_unlock(&RX.lock);

	char *rid = room("{\"name\":\"r\"}");
	char *a = join(rid, "A", 5000);
	char *b = join(rid, "B", 5002);
	/* A's event three times (500, 503, 200), only then B's: each webhook
	 * gets its events in order. */
	cr_assert_eq(rx_wait(4, 10000), 4, "got %d", RX.n);
	usleep(500000);
	cr_assert_eq(RX.n, 4, "nothing more: %d", RX.n);
	json_t *e[4];
	for (int i = 0; i < 4; i++)
		e[i] = rx_body(i);
	for (int i = 0; i < 3; i++) {
		/* The same event and delivery id on every retry. */
		cr_assert_str_eq(RX.reqs[i].delivery, RX.reqs[0].delivery);
		cr_assert_str_eq(JSTR(e[i], "id"), JSTR(e[0], "id"));
		cr_assert_str_eq(JSTR(json_object_get(e[i], "data"), "participant"), a);
	}
	cr_assert_str_eq(JSTR(json_object_get(e[3], "data"), "participant"), b);
	cr_assert_str_neq(RX.reqs[3].delivery, RX.reqs[0].delivery);
	/* Spaced by the backoff: 100 ms, then 200 ms (a little slack for
	 * the clock's granularity, none for going early). */
	long long d1 = RX.reqs[1].at_ms - RX.reqs[0].at_ms;
	long long d2 = RX.reqs[2].at_ms - RX.reqs[1].at_ms;
	cr_assert(d1 >= 95 && d1 < 1500, "first retry after %lld ms", d1);
	cr_assert(d2 >= 195 && d2 < 1500, "second retry after %lld ms", d2);
	for (int i = 0; i < 4; i++)
		json_decref(e[i]);

	json_t *r = deliveries(wid);
	json_t *list = json_object_get(r, "deliveries");
	cr_assert_eq(json_array_size(list), 2, "one delivery per event");
	json_t *x = json_array_get(list, 1);
	cr_assert_str_eq(JSTR(x, "status"), "delivered");
	cr_assert_eq(JINT(x, "attempts"), 3);
	cr_assert_eq(JINT(x, "last_status"), 200);
	cr_assert(json_is_null(json_object_get(x, "last_error")));
	json_decref(r);
	free(a);
	free(b);
	free(rid);
	free(wid);
}

Test(webhooks, gives_up_after_max_attempts)
{
	json_t *w = webhook(H.op_token, "/down", "[\"participant.joined\"]", NULL);
	char *wid = str_of(w, "id");
	json_decref(w);
	RX.dflt = 500;
	char *rid = room("{\"name\":\"r\"}");
	free(join(rid, "A", 5000));
	json_t *d = delivery_wait(wid, "failed", 10000);
	cr_assert_eq(JINT(d, "attempts"), 3, "webhook_max_attempts is 3");
	cr_assert_eq(JINT(d, "last_status"), 500);
	cr_assert_str_eq(JSTR(d, "last_error"), "HTTP 500");
	cr_assert(json_is_null(json_object_get(d, "next_attempt_at")));
	cr_assert(JINT(d, "done_at") > 0);
	json_decref(d);
	usleep(800000);
	cr_assert_eq(RX.n, 3, "no attempt after it failed");
	/* A failed delivery no longer holds up the next event. */
	RX.dflt = 200;
	free(join(rid, "B", 5002));
	cr_assert_eq(rx_wait(4, 5000), 4);
	json_t *e = rx_body(3);
	cr_assert_str_eq(JSTR(json_object_get(e, "data"), "display_name"), "B");
	json_decref(e);
	free(rid);
	free(wid);
}

static int rx_count_path(const char *path)
{
	int n = 0;
	pthread_mutex_lock(&RX.lock);
	for (int i = 0; i < RX.n; i++)
		n += !strcmp(RX.reqs[i].path, path);
	pthread_mutex_unlock(&RX.lock);
	return n;
}

Test(webhooks, a_stalled_receiver_does_not_slow_the_api)
{
	RX.stall = true;
	json_t *w = webhook(H.op_token, "/stall", "[\"participant.joined\"]", NULL);
	char *wid = str_of(w, "id");
	json_decref(w);
	json_decref(webhook(H.op_token, "/fast", "[\"participant.joined\"]", NULL));
	char *rid = room("{\"name\":\"r\"}");
	free(join(rid, "A", 5000));
	/* The receiver has the request and does not answer... */
	cr_assert_eq(rx_wait(2, 5000), 2);
	cr_assert_eq(rx_count_path("/stall"), 1);
	/* ...while the API answers at once, and the other webhook gets its
	 * events as they happen. */
	for (int i = 0; i < 3; i++) {
		long long t0 = mono_ms();
		char name[8];
		snprintf(name, sizeof(name), "B%d", i);
		free(join(rid, name, 5002 + 2 * i));
		json_decref(deliveries(wid));
		long long took = mono_ms() - t0;
		cr_assert(took < 2000, "a join and a GET took %lld ms while the receiver stalls",
			  took);
		long long until = mono_ms() + 2000;
		while (rx_count_path("/fast") < i + 2 && mono_ms() < until)
			usleep(20000);
		cr_assert_eq(rx_count_path("/fast"), i + 2, "the other webhook is held up");
	}
	cr_assert_eq(rx_count_path("/stall"), 1, "its next events wait for the stalled one");
	/* The stalled one times out (5 s) and is retried. */
	json_t *d = delivery_wait(wid, "pending", 1000);
	json_decref(d);
	long long until = mono_ms() + 9000;
	for (;;) {
		json_t *r = deliveries(wid);
		json_t *x = json_array_get(json_object_get(r, "deliveries"), 3);
		int attempts = (int)JINT(x, "attempts");
		if (attempts >= 1) {
			cr_assert(json_is_null(json_object_get(x, "last_status")));
			cr_assert(JSTR(x, "last_error"), "a timeout says so");
			json_decref(r);
			break;
		}
		json_decref(r);
		cr_assert(mono_ms() < until, "the stalled delivery never timed out");
		usleep(100000);
	}
	free(rid);
	free(wid);
}

Test(webhooks, tenants_get_their_own_events)
{
	char *acme = token_for("tenant:acme"), *beta = token_for("tenant:beta");
	json_t *wa = webhook(acme, "/acme", "[\"participant.joined\"]", NULL);
	json_t *wb = webhook(beta, "/beta", "[\"participant.joined\"]", NULL);
	json_t *wo = webhook(H.op_token, "/op", "[\"participant.joined\"]", NULL);
	json_t *woa = webhook(H.op_token, "/op-acme", "[\"participant.joined\"]", "acme");
	cr_assert_str_eq(JSTR(wa, "tenant"), "acme");
	cr_assert_str_eq(JSTR(wb, "tenant"), "beta");
	cr_assert_str_eq(JSTR(woa, "tenant"), "acme");

	char *ra = room("{\"name\":\"a\",\"tenant\":\"acme\"}");
	char *rb = room("{\"name\":\"b\",\"tenant\":\"beta\"}");
	char *ro = room("{\"name\":\"o\"}");
	free(join(ra, "InAcme", 5000));
	free(join(rb, "InBeta", 5002));
	free(join(ro, "InOperators", 5004));
	/* acme: /acme, /op-acme, /op; beta: /beta, /op; operator's room: /op. */
	cr_assert_eq(rx_wait(6, 10000), 6);
	usleep(500000);
	cr_assert_eq(RX.n, 6, "%d", RX.n);
	int seen[3][4] = { 0 };  /* room x path */
	static const char *const paths[] = { "/acme", "/beta", "/op", "/op-acme" };
	for (int i = 0; i < RX.n; i++) {
		json_t *e = rx_body(i);
		const char *name = JSTR(json_object_get(e, "data"), "display_name");
		int r = !strcmp(name, "InAcme") ? 0 : !strcmp(name, "InBeta") ? 1 : 2;
		for (int p = 0; p < 4; p++)
			if (!strcmp(RX.reqs[i].path, paths[p]))
				seen[r][p]++;
		json_decref(e);
	}
	static const int want[3][4] = { { 1, 0, 1, 1 }, { 0, 1, 1, 0 }, { 0, 0, 1, 0 } };
	for (int r = 0; r < 3; r++)
		for (int p = 0; p < 4; p++)
			cr_assert_eq(seen[r][p], want[r][p], "room %d, %s: %d", r, paths[p],
				     seen[r][p]);

	/* A tenant sees and manages only its own webhooks. */
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks", acme, NULL, 0, &r), 200);
	json_t *list = json_object_get(r, "webhooks");
	cr_assert_eq(json_array_size(list), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(JSTR(json_array_get(list, i), "tenant"), "acme");
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks", H.op_token, NULL, 0, &r), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "webhooks")), 4);
	json_decref(r);
	char path[128];
	snprintf(path, sizeof(path), "/v1/webhooks/%s", JSTR(wb, "id"));
	cr_assert_eq(h_http(&H, "GET", path, acme, NULL, 0, &r), 404);
	json_decref(r);
	cr_assert_eq(h_http(&H, "DELETE", path, acme, NULL, 0, &r), 404);
	json_decref(r);
	snprintf(path, sizeof(path), "/v1/webhooks/%s/deliveries", JSTR(wb, "id"));
	cr_assert_eq(h_http(&H, "GET", path, acme, NULL, 0, &r), 404);
	json_decref(r);
	char body[256];
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/x\",\"events\":[\"*\"],"
		 "\"tenant\":\"beta\"}", RX.port);
	cr_assert_eq(h_http(&H, "POST", "/v1/webhooks", acme, body, 0, &r), 403);
	json_decref(r);
	/* No valid token, no webhooks. */
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks", "mmt_nothing", NULL, 0, &r), 401);
	json_decref(r);

	/* Its own it deletes, with its deliveries. */
	snprintf(path, sizeof(path), "/v1/webhooks/%s", JSTR(wa, "id"));
	cr_assert_eq(h_http(&H, "DELETE", path, acme, NULL, 0, &r), 204);
	cr_assert_eq(h_http(&H, "GET", path, H.op_token, NULL, 0, &r), 404);
	json_decref(r);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhook_deliveries WHERE webhook='%s'",
		 JSTR(wa, "id"));
	cr_assert_eq(h_db_count(&H, sql), 0);
	free(join(ra, "After", 5006));
	cr_assert_eq(rx_wait(8, 5000), 8, "/op and /op-acme");
	usleep(300000);
	cr_assert_eq(RX.n, 8);
	for (int i = 6; i < 8; i++)
		cr_assert_str_neq(RX.reqs[i].path, "/acme");

	json_decref(wa);
	json_decref(wb);
	json_decref(wo);
	json_decref(woa);
	free(ra);
	free(rb);
	free(ro);
	free(acme);
	free(beta);
}

Test(webhooks, bad_bodies_are_refused_and_nothing_is_stored)
{
	char bad[16][300];
	int n = 0;
	snprintf(bad[n++], 300, "{\"events\":[\"*\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://127.0.0.1:%d/\"}", RX.port);
	snprintf(bad[n++], 300, "{\"url\":\"ftp://127.0.0.1/x\",\"events\":[\"*\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"file:///etc/passwd\",\"events\":[\"*\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"127.0.0.1:%d/x\",\"events\":[\"*\"]}", RX.port);
	snprintf(bad[n++], 300, "{\"url\":\"http://\",\"events\":[\"*\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://a b/\",\"events\":[\"*\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[\"meeting.paused\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[1]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":\"*\"}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[\"meeting.started\","
		 "\"meeting.started\"]}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[\"*\"],\"secret\":\"x\"}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[\"*\"],\"tenant\":\"a b\"}");
	snprintf(bad[n++], 300, "{\"url\":\"http://h/\",\"events\":[\"*\"],\"tenant\":7}");
	snprintf(bad[n++], 300, "not json");
	for (int i = 0; i < n; i++) {
		json_t *r;
		int st = h_http(&H, "POST", "/v1/webhooks", H.op_token, bad[i], 0, &r);
		cr_assert_eq(st, 400, "%s: %d", bad[i], st);
		const char *code = h_err_code(r);
		cr_assert(code && (!strcmp(code, "invalid_field") ||
				   !strcmp(code, "missing_field") || !strcmp(code, "invalid_json")),
			  "%s: %s", bad[i], code);
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhooks"), 0);
	/* Nothing stored, so a meeting delivers nothing. */
	char *rid = room("{\"name\":\"r\"}");
	free(join(rid, "A", 5000));
	usleep(500000);
	cr_assert_eq(RX.n, 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhook_deliveries"), 0);
	/* Unknown ids and methods. */
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks/wh00", H.op_token, NULL, 0, &r), 404);
	json_decref(r);
	cr_assert_eq(h_http(&H, "PUT", "/v1/webhooks", H.op_token, "{}", 0, &r), 405);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/webhooks/wh00/deliveries?limit=0", H.op_token, NULL, 0,
			    &r), 404);
	json_decref(r);
	free(rid);
}

Test(webhooks, deliveries_survive_a_restart)
{
	json_t *w = webhook(H.op_token, "/later", "[\"participant.joined\"]", NULL);
	char *wid = str_of(w, "id"), *secret = str_of(w, "secret");
	json_decref(w);
	int port = RX.port;
	/* The receiver goes down; the event is attempted and waits. */
	rx_stop();
	h_stop(&H);
	h_config_set(&H, "webhook_max_attempts", "50");
	h_start(&H);
	char *rid = room("{\"name\":\"r\"}");
	char *a = join(rid, "A", 5000);
	json_t *d = delivery_wait(wid, "pending", 2000);
	json_decref(d);
	long long until = mono_ms() + 5000;
	for (;;) {
		json_t *r = deliveries(wid);
		json_t *x = json_array_get(json_object_get(r, "deliveries"), 0);
		bool tried = JINT(x, "attempts") >= 1;
		if (tried)
			cr_assert(JSTR(x, "last_error"), "connection refused is an error");
		json_decref(r);
		if (tried)
			break;
		cr_assert(mono_ms() < until, "never attempted");
		usleep(50000);
	}
	h_stop(&H);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhook_deliveries WHERE "
				    "status='pending' AND attempts>=1"), 1);
	/* Receiver up, mmctld again: the row is sent. */
	rx_start(port);
	h_start(&H);
	cr_assert_eq(rx_wait(1, 15000), 1, "delivered after the restart");
	json_t *e = rx_body(0);
	cr_assert_str_eq(JSTR(json_object_get(e, "data"), "participant"), a);
	cr_assert(sig_verify(RX.reqs[0].sig, secret, RX.reqs[0].body), "the secret survived too");
	json_decref(e);
	d = delivery_wait(wid, "delivered", 3000);
	cr_assert(JINT(d, "attempts") >= 2);
	json_decref(d);
	free(a);
	free(rid);
	free(wid);
	free(secret);
}

/* ---- mmctl webhooks ---- */

/* Run $MMCTL --url ... --token token args (NULL-ended); its exit code, and
 * its stdout in *out (owned). */
static int mmctl(const char *token, char **out, ...)
{
	const char *argv[24];
	char url[64], outp[160];
	int n = 0;
	va_list ap;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", H.port);
	snprintf(outp, sizeof(outp), "%s/mmctl.out", H.dir);
	argv[n++] = "mmctl";
	argv[n++] = "--url";
	argv[n++] = url;
	argv[n++] = "--token";
	argv[n++] = token;
	va_start(ap, out);
	for (const char *a; n < 23 && (a = va_arg(ap, const char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		FILE *f = freopen(outp, "w", stdout);
		(void)f;
		unsetenv("http_proxy");
		unsetenv("all_proxy");
		unsetenv("ALL_PROXY");
		execv(getenv("MMCTL"), (char *const *)argv);
		_exit(127);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	FILE *f = fopen(outp, "r");
	cr_assert(f);
	char buf[8192];
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	*out = strdup(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(webhooks, mmctl_manages_webhooks)
{
	if (!getenv("MMCTL"))
		cr_skip_test("mmctl is not built");
	char url[96], *out, id[64] = "", secret[96] = "";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cli", RX.port);
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "add", url, "--events",
			   "participant.joined,participant.left", "--tenant", "acme", NULL), 0,
		     "%s", out);
	cr_assert(strstr(out, "participant.joined,participant.left"), "%s", out);
	cr_assert(sscanf(out, "id %63s", id) == 1, "%s", out);
	const char *p = strstr(out, "\nsecret");
	cr_assert(p && sscanf(p + 7, " %95s", secret) == 1, "%s", out);
	cr_assert_eq(strncmp(secret, "whsec_", 6), 0);
	free(out);
	/* Checked before sending: an unknown type, no URL scheme. */
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "add", url, "--events", "meeting.paused",
			   NULL), 2);
	free(out);
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "add", "ftp://x/y", NULL), 2);
	free(out);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhooks"), 1);

	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "list", NULL), 0);
	cr_assert(strstr(out, id) && strstr(out, "acme") && strstr(out, "/cli"), "%s", out);
	free(out);
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "show", id, NULL), 0);
	cr_assert(strstr(out, url) && !strstr(out, "whsec_"), "%s", out);
	free(out);

	char *rid = room("{\"name\":\"cli\",\"tenant\":\"acme\"}");
	free(join(rid, "A", 5000));
	json_decref(delivery_wait(id, "delivered", 5000));
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "deliveries", id, NULL), 0);
	cr_assert(strstr(out, "participant.joined") && strstr(out, "delivered") &&
		  strstr(out, RX.reqs[0].delivery), "%s", out);
	free(out);

	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "delete", id, NULL), 0);
	free(out);
	cr_assert_eq(mmctl(H.op_token, &out, "webhooks", "show", id, NULL), 4, "not found");
	free(out);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM webhooks"), 0);
	free(rid);
}

/* contract.expiring (plans.c) as a webhook: a 6-month subscription, the
 * test clock moved to 20 days before its end: the tenant's webhook gets it
 * once, signed, with the contract's end in its data. */
static void setup_clock(void)
{
	rx_reset();
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_config_set(&H, "webhook_retry_base_ms", "100");
	h_rec_start(&H);
	h_start(&H);
	rx_start(0);
}

TestSuite(webhooks_contract, .init = setup_clock, .fini = teardown, .timeout = 90);

Test(webhooks_contract, contract_expiring_reaches_the_tenants_webhook)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/tenants", H.op_token,
			"{\"id\":\"acme\",\"name\":\"Acme\",\"admin\":{\"name\":\"Ann\","
			"\"email\":\"ann@acme.example\"},\"plan\":\"subscription\",\"rooms\":2,"
			"\"term_months\":6}", 0, &r);
	cr_assert_eq(st, 201, "register: %d %s", st, h_err_code(r));
	char *tok = strdup(JSTR(json_object_get(r, "credentials"), "token"));
	json_int_t ends = json_integer_value(json_object_get(json_object_get(r, "contract"),
							     "ends_at"));
	cr_assert(ends > 0);
	json_decref(r);
	json_t *w = webhook(tok, "/acme", "[\"contract.expiring\"]", NULL);
	char *secret = str_of(w, "secret");
	json_decref(w);
	/* Also an operator-wide one, which gets every tenant's events. */
	json_decref(webhook(H.op_token, "/op", "[\"contract.expiring\"]", NULL));

	/* 40 days before the end: not yet. */
	char body[64];
	cr_assert_eq(h_http(&H, "GET", "/v1/clock", H.op_token, NULL, 0, &r), 200);
	json_int_t now = json_integer_value(json_object_get(r, "now"));
	json_decref(r);
	snprintf(body, sizeof(body), "{\"advance\":%lld}", (long long)(ends - now - 40 * 86400));
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, body, 0, NULL), 200);
	usleep(2500000);  /* the ticker looks every second */
	cr_assert_eq(RX.n, 0, "nothing 40 days before the end");

	/* 20 days before: once to each. */
	snprintf(body, sizeof(body), "{\"advance\":%d}", 20 * 86400);
	cr_assert_eq(h_http(&H, "PUT", "/v1/clock", H.op_token, body, 0, NULL), 200);
	cr_assert_eq(rx_wait(2, 10000), 2, "got %d", RX.n);
	usleep(2500000);
	cr_assert_eq(RX.n, 2, "raised once per term, not on every tick: %d", RX.n);
	int acme = RX.reqs[0].path[1] == 'a' ? 0 : 1;
	struct rx_req *q = &RX.reqs[acme];
	cr_assert_str_eq(q->path, "/acme");
	cr_assert_str_eq(q->event, "contract.expiring");
	cr_assert(sig_verify(q->sig, secret, q->body), "%s", q->sig);
	json_t *e = rx_body(acme);
	cr_assert_str_eq(JSTR(e, "tenant"), "acme");
	json_t *d = json_object_get(e, "data");
	cr_assert_eq(json_integer_value(json_object_get(d, "ends_at")), ends);
	cr_assert_eq(json_integer_value(json_object_get(d, "days_left")), 20);
	json_decref(e);
	free(secret);
	free(tok);
}
