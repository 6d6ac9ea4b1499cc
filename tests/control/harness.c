/* See harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *h_mmctld(void)
{
	const char *p = getenv("MMCTLD");
	cr_assert(p, "MMCTLD must name the mmctld binary");
	return p;
}

static int h_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

void h_config_set(struct h_ctl *h, const char *key, const char *json_value)
{
	json_error_t jerr;
	json_t *cfg = json_load_file(h->config, 0, &jerr);
	cr_assert(cfg, "%s: %s", h->config, jerr.text);
	json_t *v = json_loads(json_value, JSON_DECODE_ANY, &jerr);
	cr_assert(v, "h_config_set %s: %s", key, jerr.text);
	json_object_set_new(cfg, key, v);
	cr_assert_eq(json_dump_file(cfg, h->config, JSON_COMPACT), 0);
	json_decref(cfg);
}

long long h_clock_now(struct h_ctl *h)
{
	json_t *r;
	cr_assert_eq(h_http(h, "GET", "/v1/clock", h->op_token, NULL, 0, &r), 200);
	long long now = json_integer_value(json_object_get(r, "now"));
	json_decref(r);
	return now;
}

void h_clock_advance(struct h_ctl *h, long long secs)
{
	char body[64];
	json_t *r;
	snprintf(body, sizeof(body), "{\"advance\":%lld}", secs);
	cr_assert_eq(h_http(h, "PUT", "/v1/clock", h->op_token, body, 0, &r), 200,
		     "clock advance: %s", h_err_code(r));
	json_decref(r);
}

void h_setup(struct h_ctl *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/mmctld-test.XXXXXX");
	cr_assert(mkdtemp(h->dir));
	snprintf(h->config, sizeof(h->config), "%s/mmctld.json", h->dir);
	snprintf(h->db, sizeof(h->db), "%s/mmctld.db", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/agent.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/mmctld.log", h->dir);
	h->port = h_free_port();
	/* Each test's own metrics port too: the default (9464) would be one
	 * port for every mmctld of the suites running side by side. */
	do
		h->metrics_port = h_free_port();
	while (h->metrics_port == h->port);
	FILE *f = fopen(h->config, "w");
	cr_assert(f);
	fprintf(f, "{\"listen\":\"127.0.0.1:%d\",\"db\":\"%s\",\"mmdp_socket\":\"%s\","
		   "\"media_address\":\"198.18.0.1\",\"port_range\":[40000,40199],"
		   "\"srtp_profile\":\"AEAD_AES_128_GCM\",\"www_root\":\"%s/www\","
		   "\"metrics_listen\":\"127.0.0.1:%d\"}\n",
		h->port, h->db, h->sock, h->dir, h->metrics_port);
	fclose(f);

	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(h_mmctld(), "mmctld", "--config", h->config, "--create-operator-token",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], h->op_token, sizeof(h->op_token) - 1);
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--create-operator-token failed");
	cr_assert(n > 4);
	h->op_token[n] = '\0';
	h->op_token[strcspn(h->op_token, "\n")] = '\0';
	cr_assert_eq(strncmp(h->op_token, "mmt_", 4), 0);
}

void h_start(struct h_ctl *h)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (h->capture_log) {
			int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(127);
			close(fd);
		}
		execl(h_mmctld(), "mmctld", "--config", h->config, (char *)NULL);
		_exit(127);
	}
	h->pid = pid;
	/* Ready when it accepts HTTP. */
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return;
		usleep(25000);
	}
	cr_assert_fail("mmctld did not start listening");
}

void h_stop(struct h_ctl *h)
{
	int st;
	if (h->pid <= 0)
		return;
	/* SIGTERM would drain: wait for the meetings to end. */
	kill(h->pid, SIGINT);
	waitpid(h->pid, &st, 0);
	h->pid = 0;
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mmctld exits 0 on SIGINT");
}

int h_wait_exit(struct h_ctl *h, int ms)
{
	int st;
	if (h->pid <= 0)
		return -1;
	for (int waited = 0;; waited += 20) {
		pid_t r = waitpid(h->pid, &st, WNOHANG);
		if (r == h->pid) {
			h->pid = 0;
			return st;
		}
		if (waited >= ms)
			return -1;
		usleep(20000);
	}
}

int h_log_count(struct h_ctl *h, ...)
{
	FILE *f = fopen(h->log, "r");
	char line[4096];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		va_list ap;
		const char *needle;
		bool all = true;
		va_start(ap, h);
		while (all && (needle = va_arg(ap, const char *)))
			all = strstr(line, needle) != NULL;
		va_end(ap);
		n += all;
	}
	fclose(f);
	return n;
}

bool h_log_wait(struct h_ctl *h, int ms, const char *needle, const char *needle2)
{
	for (int waited = 0;; waited += 50) {
		if (h_log_count(h, needle, needle2, (char *)NULL) > 0)
			return true;
		if (waited >= ms)
			return false;
		usleep(50000);
	}
}

void h_teardown(struct h_ctl *h)
{
	char cmd[160];
	h_stop(h);
	h_rec_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", h->dir);
}

int h_http(struct h_ctl *h, const char *method, const char *path, const char *token,
	   const char *body, size_t body_len, json_t **reply)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char head[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (body && !body_len)
		body_len = strlen(body);
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			  "%s%s%s"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			  method, path, token ? "Authorization: Bearer " : "", token ? token : "",
			  token ? "\r\n" : "", body ? body_len : 0);
	cr_assert(send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl);
	size_t off = 0;
	while (body && off < body_len) {
		ssize_t w = send(fd, body + off, body_len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;   /* the server may answer 413 and close early */
		off += (size_t)w;
	}
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
	cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1, "no HTTP status in: %s", buf);
	char *b = strstr(buf, "\r\n\r\n");
	if (reply) {
		*reply = NULL;
		if (b && b[4])
			*reply = json_loads(b + 4, 0, NULL);
	}
	free(buf);
	return status;
}

int h_metrics_get(struct h_ctl *h, const char *method, const char *path, char **text,
		  char **head_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)h->metrics_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char head[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "metrics listener: %m");
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
			  method, path);
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
	cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1, "no HTTP status in: %s", buf);
	char *b = strstr(buf, "\r\n\r\n");
	if (head_out) {
		*head_out = strndup(buf, b ? (size_t)(b - buf) : len);
		cr_assert(*head_out);
	}
	if (text) {
		*text = strdup(b ? b + 4 : "");
		cr_assert(*text);
	}
	free(buf);
	return status;
}

int h_sse_open(struct h_ctl *h, struct h_sse *s, const char *path, const char *token,
	       const char *extra_header)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char head[1024];
	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(s->fd >= 0);
	cr_assert_eq(connect(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	int hl = snprintf(head, sizeof(head),
			  "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
			  "Authorization: Bearer %s\r\n%s%s\r\n", path, token,
			  extra_header ? extra_header : "", extra_header ? "\r\n" : "");
	cr_assert(send(s->fd, head, (size_t)hl, MSG_NOSIGNAL) == hl);
	s->cap = 1 << 16;
	s->buf = malloc(s->cap);
	/* Read until the end of the headers. */
	for (int waited = 0; waited < 5000;) {
		s->buf[s->len] = '\0';
		char *end = strstr(s->buf, "\r\n\r\n");
		if (end) {
			sscanf(s->buf, "HTTP/%*d.%*d %d", &s->status);
			size_t hlen = (size_t)(end + 4 - s->buf);
			memmove(s->buf, end + 4, s->len - hlen);
			s->len -= hlen;
			return s->status;
		}
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		ssize_t r = recv(s->fd, s->buf + s->len, s->cap - s->len - 1, 0);
		if (r <= 0)
			break;
		s->len += (size_t)r;
	}
	s->buf[s->len] = '\0';
	sscanf(s->buf, "HTTP/%*d.%*d %d", &s->status);
	return s->status;
}

/* Parse one complete event block (without the blank line) into e; comment
 * and retry-only blocks return false. */
static bool h_sse_parse(char *block, struct h_sse_event *e)
{
	char *save = NULL;
	bool any = false;
	e->id = -1;
	e->type[0] = '\0';
	e->data = NULL;
	for (char *line = strtok_r(block, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "id: ", 4)) {
			e->id = atoll(line + 4);
		} else if (!strncmp(line, "event: ", 7)) {
			snprintf(e->type, sizeof(e->type), "%s", line + 7);
			any = true;
		} else if (!strncmp(line, "data: ", 6)) {
			json_decref(e->data);
			e->data = json_loads(line + 6, 0, NULL);
			any = true;
		}
	}
	return any;
}

int h_sse_next(struct h_sse *s, struct h_sse_event *e, int ms)
{
	for (int waited = 0;;) {
		s->buf[s->len] = '\0';
		char *end = strstr(s->buf, "\n\n");
		if (end) {
			*end = '\0';
			size_t blen = (size_t)(end + 2 - s->buf);
			char *block = strdup(s->buf);
			memmove(s->buf, end + 2, s->len - blen);
			s->len -= blen;
			bool got = h_sse_parse(block, e);
			free(block);
			if (got)
				return 1;
			continue;
		}
		if (s->closed)
			return -1;
		if (waited >= ms)
			return 0;
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0) {
			waited += 50;
			continue;
		}
		if (s->len + 4096 > s->cap)
			s->buf = realloc(s->buf, s->cap *= 2);
		ssize_t r = recv(s->fd, s->buf + s->len, s->cap - s->len - 1, 0);
		if (r <= 0)
			s->closed = true;
		else
			s->len += (size_t)r;
	}
}

void h_sse_close(struct h_sse *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

const char *h_err_code(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

/* ---- the agent-socket recorder ---- */

static char *h_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *h_strdupf(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	return out;
}

static pthread_t rec_thread;
static int rec_listen = -1;
static bool rec_running;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *rec_log;
static json_t *rec_polls;      /* speakers.get requests (kept apart from rec_log) */
static json_t *rec_replies;    /* op -> the reply to send (h_rec_reply_op) */
static json_t *rec_reads;      /* stats.get / endpoint.get (kept apart from rec_log) */
static char rec_fail[32], rec_fail_code[32] = "conflict";

/* mmctld polls speakers.get every 250 ms: those requests are not changes,
 * and tests that count pushes must not see them. */
static bool rec_is_poll(const char *op)
{
	return op && !strcmp(op, "speakers.get");
}

/* mmctld reads counters for its reports (stats.get from the ticker,
 * endpoint.get / stats.get of a room before a leave or an end): those are
 * not changes either, and are kept apart. */
static bool rec_is_read(const char *op)
{
	return op && (!strcmp(op, "stats.get") || !strcmp(op, "endpoint.get"));
}

/* hello (on every connection) is not recorded either: it changes nothing. */
static bool rec_is_hello(const char *op)
{
	return op && !strcmp(op, "hello");
}

static void rec_serve(int fd)
{
	char buf[1 << 16];
	size_t len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) == 0) {
			if (!__atomic_load_n(&rec_running, __ATOMIC_SEQ_CST))
				return;
			continue;
		}
		ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (r <= 0)
			return;
		len += (size_t)r;
		char *nl;
		while ((nl = memchr(buf, '\n', len))) {
			json_t *req = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			const char *op = json_string_value(json_object_get(req, "op"));
			pthread_mutex_lock(&rec_lock);
			bool fail = op && rec_fail[0] && !strcmp(op, rec_fail);
			if (req && !rec_is_hello(op))
				json_array_append(rec_is_poll(op) ? rec_polls :
						  rec_is_read(op) ? rec_reads : rec_log, req);
			json_t *custom = op ? json_object_get(rec_replies, op) : NULL;
			char *rep;
			if (fail)
				rep = h_strdupf("{\"ok\":false,\"error\":{\"code\":\"%s\","
						"\"message\":\"refused by test\"}}\n", rec_fail_code);
			else if (custom)
				rep = h_strdupf("%s\n", json_string_value(custom));
			else if (rec_is_poll(op))
				rep = h_strdupf("{\"ok\":true,\"seq\":0,\"rooms\":[]}\n");
			else if (rec_is_hello(op))
				rep = h_strdupf("{\"ok\":true,\"version\":1,\"generation\":0,"
						"\"dtls_fingerprint\":\"%s\"}\n", H_MMDP_FP);
			else
				rep = h_strdupf("{\"ok\":true,\"generation\":1}\n");
			pthread_mutex_unlock(&rec_lock);
			ssize_t w = send(fd, rep, strlen(rep), MSG_NOSIGNAL);
			free(rep);
			if (w < 0)
				return;
			json_decref(req);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
	}
}

static void *rec_main(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&rec_running, __ATOMIC_SEQ_CST)) {
		struct pollfd p = { .fd = rec_listen, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept(rec_listen, NULL, NULL);
		if (fd < 0)
			continue;
		rec_serve(fd);
		close(fd);
	}
	return NULL;
}

void h_rec_start(struct h_ctl *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cr_assert(strlen(h->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
	unlink(h->sock);
	rec_listen = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(rec_listen >= 0);
	cr_assert_eq(bind(rec_listen, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(rec_listen, 4), 0);
	pthread_mutex_lock(&rec_lock);
	if (!rec_log)
		rec_log = json_array();
	if (!rec_polls)
		rec_polls = json_array();
	if (!rec_reads)
		rec_reads = json_array();
	if (!rec_replies)
		rec_replies = json_object();
	pthread_mutex_unlock(&rec_lock);
	rec_running = true;
	cr_assert_eq(pthread_create(&rec_thread, NULL, rec_main, NULL), 0);
}

void h_rec_stop(void)
{
	if (rec_listen < 0)
		return;
	__atomic_store_n(&rec_running, false, __ATOMIC_SEQ_CST);
	pthread_join(rec_thread, NULL);
	close(rec_listen);
	rec_listen = -1;
}

void h_rec_fail_op(const char *op)
{
	h_rec_fail_op_code(op, "conflict");
}

void h_rec_fail_op_code(const char *op, const char *code)
{
	pthread_mutex_lock(&rec_lock);
	snprintf(rec_fail, sizeof(rec_fail), "%s", op ? op : "");
	snprintf(rec_fail_code, sizeof(rec_fail_code), "%s", code);
	pthread_mutex_unlock(&rec_lock);
}

void h_rec_reply_op(const char *op, const char *reply)
{
	pthread_mutex_lock(&rec_lock);
	if (!rec_replies)
		rec_replies = json_object();
	if (reply)
		json_object_set_new(rec_replies, op, json_string(reply));
	else
		json_object_del(rec_replies, op);
	pthread_mutex_unlock(&rec_lock);
}

json_t *h_rec_reads_take(void)
{
	pthread_mutex_lock(&rec_lock);
	json_t *r = rec_reads ? rec_reads : json_array();
	rec_reads = json_array();
	pthread_mutex_unlock(&rec_lock);
	return r;
}

json_t *h_rec_polls_take(void)
{
	pthread_mutex_lock(&rec_lock);
	json_t *r = rec_polls ? rec_polls : json_array();
	rec_polls = json_array();
	pthread_mutex_unlock(&rec_lock);
	return r;
}

json_t *h_rec_take(void)
{
	pthread_mutex_lock(&rec_lock);
	json_t *r = rec_log ? rec_log : json_array();
	rec_log = json_array();
	/* The reads go too: a test that waits for one (h_rec_wait_op) after
	 * this wants a new one. */
	json_decref(rec_reads);
	rec_reads = json_array();
	pthread_mutex_unlock(&rec_lock);
	return r;
}

json_t *h_rec_wait_op(const char *op, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		pthread_mutex_lock(&rec_lock);
		size_t i;
		json_t *v;
		json_array_foreach(rec_log, i, v) {
			if (!strcmp(json_string_value(json_object_get(v, "op")) ?: "", op)) {
				json_incref(v);
				pthread_mutex_unlock(&rec_lock);
				return v;
			}
		}
		json_array_foreach(rec_reads, i, v) {
			if (!strcmp(json_string_value(json_object_get(v, "op")) ?: "", op)) {
				json_incref(v);
				pthread_mutex_unlock(&rec_lock);
				return v;
			}
		}
		pthread_mutex_unlock(&rec_lock);
		usleep(20000);
	}
	return NULL;
}

int h_db_count(struct h_ctl *h, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;
	cr_assert_eq(sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}
