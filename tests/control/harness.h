/* Test harness for mmctld: a real mmctld process on 127.0.0.1 with a real
 * SQLite file in a temp dir, a tiny HTTP/1.1 client over TCP, and a
 * recorder of mmdp's agent socket.
 *
 * The recorder is a test double of mmdp's agent socket (it speaks the agent
 * protocol minimally: replies {"ok":true}, an error on demand, or a reply
 * a test scripts per op, and records every request line mmctld sent; the
 * speakers.get polls apart from the changes). It is acceptable for this slice
 * because the real mmdp + mmctld end-to-end test on the test site is the
 * next slice of issue 4. */
#ifndef CTL_TEST_HARNESS_H
#define CTL_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct h_ctl {
	char dir[64];
	char config[128];
	char db[128];
	char sock[128];
	int port;
	int metrics_port;          /* metrics_listen's (GET /metrics) */
	pid_t pid;
	char op_token[128];
	/* Before h_start: mmctld's stderr (its log) goes to log instead of
	 * the test's stderr. */
	bool capture_log;
	char log[128];
};

/* Temp dir, config, operator token (mmctld --create-operator-token). */
void h_setup(struct h_ctl *h);
/* Set key of the config file to a JSON value (text), before h_start:
 * h_config_set(h, "test_clock", "true"). */
void h_config_set(struct h_ctl *h, const char *key, const char *json_value);
void h_start(struct h_ctl *h);
/* mmctld's clock (GET /v1/clock) and moving it (PUT, needs test_clock). */
long long h_clock_now(struct h_ctl *h);
void h_clock_advance(struct h_ctl *h, long long secs);
/* SIGINT (stop at once, without draining) and wait: exit 0 expected. */
void h_stop(struct h_ctl *h);
/* Wait up to ms for mmctld to exit: its exit status (waitpid's), -1 if it
 * still runs after ms. */
int h_wait_exit(struct h_ctl *h, int ms);
/* Lines of the captured log (capture_log) that hold every one of the
 * NULL-ended needles; 0 when there is no log yet. */
int h_log_count(struct h_ctl *h, ...) __attribute__((sentinel));
/* Wait up to ms for h_log_count(needles) > 0. */
bool h_log_wait(struct h_ctl *h, int ms, const char *needle, const char *needle2);
void h_teardown(struct h_ctl *h);

/* HTTP: returns the status; *body the parsed JSON reply (or NULL). */
int h_http(struct h_ctl *h, const char *method, const char *path, const char *token,
	   const char *body, size_t body_len, json_t **reply);
const char *h_err_code(json_t *reply);
/* A request on the metrics listener: the status; *text the body and
 * *head the status line and headers (malloc'd, NUL-terminated: free them;
 * either may be NULL when not wanted). */
int h_metrics_get(struct h_ctl *h, const char *method, const char *path, char **text,
		  char **head);

/* The DTLS certificate fingerprint the recorder's hello gives (override
 * with h_rec_reply_op("hello", ...), e.g. an old mmdp without one). hello
 * requests are not recorded. */
#define H_MMDP_FP "sha-256 6D:6D:64:70:00:11:22:33:44:55:66:77:88:99:AA:BB:" \
		  "CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB"

/* Recorder of mmdp's agent socket at h->sock. */
void h_rec_start(struct h_ctl *h);
void h_rec_stop(void);
/* Refuse every request whose op is `op` (NULL: accept all). */
void h_rec_fail_op(const char *op);
/* The same with mmdp's error code (h_rec_fail_op: "conflict"). */
void h_rec_fail_op_code(const char *op, const char *code);
/* Answer every request whose op is `op` with the JSON text reply (one
 * line, no newline); NULL: the default again. Default for speakers.get:
 * {"ok":true,"seq":0,"rooms":[]}; for anything else {"ok":true,...}.
 * h_rec_fail_op wins over it. */
void h_rec_reply_op(const char *op, const char *reply);
/* speakers.get requests received so far (not in h_rec_take's list), and
 * forget them. */
json_t *h_rec_polls_take(void);
/* stats.get and endpoint.get requests received so far (mmctld's reads of
 * counters for its reports; not in h_rec_take's list), and forget them. */
json_t *h_rec_reads_take(void);
/* Requests recorded so far (a new reference), and forget them (and the
 * reads of h_rec_reads_take). */
json_t *h_rec_take(void);
/* Wait up to ms for a recorded request with this op (reads included);
 * returns it (owned). */
json_t *h_rec_wait_op(const char *op, int ms);

/* A Server-Sent Events client: GET path over HTTP/1.0 (so no chunking; the
 * server closes at the end of the stream). */
struct h_sse {
	int fd;
	int status;
	char *buf;
	size_t len, cap;
	bool closed;
};
struct h_sse_event {
	long long id;          /* -1: none */
	char type[32];
	json_t *data;          /* owned */
};
/* Open; extra_header (or NULL) e.g. "Last-Event-ID: 5". Returns the status. */
int h_sse_open(struct h_ctl *h, struct h_sse *s, const char *path, const char *token,
	       const char *extra_header);
/* Next event within ms: 1 got one, 0 timeout, -1 stream closed. */
int h_sse_next(struct h_sse *s, struct h_sse_event *e, int ms);
void h_sse_close(struct h_sse *s);

/* SQL count of a query against the DB file. */
int h_db_count(struct h_ctl *h, const char *sql);

#endif
