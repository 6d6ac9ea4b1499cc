/* A small client of mmctld's REST API (docs/api.md) for the integration
 * tests, over libcurl: one JSON request at a time, and Server-Sent Events
 * streams (GET /v1/rooms/{room}/events) read by a thread each.
 * curl_global_init must have been called (ctl_client_init) before any of
 * these and before other threads start. */
#ifndef MM_TEST_CTL_CLIENT_H
#define MM_TEST_CTL_CLIENT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* curl_global_init / curl_global_cleanup (once per process). */
int ctl_client_init(void);
void ctl_client_fini(void);

/* One request to base (e.g. "http://127.0.0.1:8080") + path ("/v1/rooms").
 * token: bearer token or NULL. body: JSON sent with Content-Type
 * application/json, or NULL for none. Returns the HTTP status, or a
 * negative errno when no HTTP reply came (-ECONNREFUSED when nothing
 * listens). *reply (when not NULL) gets the parsed JSON body or NULL;
 * raw (when not NULL) gets the body text (truncated to rawcap). */
int ctl_http(const char *base, const char *method, const char *path, const char *token,
	     const json_t *body, json_t **reply, char *raw, size_t rawcap);

/* One event of an SSE stream, as received. */
struct ctl_sse_event {
	long long id;        /* "id:" field, -1 when absent */
	char type[64];       /* "event:" field ("message" when absent) */
	json_t *data;        /* the "data:" lines parsed as JSON, or NULL */
	char *raw;           /* the data text as received */
	uint64_t at_ns;      /* when it was dispatched (sim_now_ns clock) */
};

/* An SSE stream read by its own thread. Fields below the lock are written
 * by the thread; read them through the functions. */
struct ctl_sse {
	char name[32];       /* for messages */
	char url[512];
	char auth[512];
	char last_id[32];    /* Last-Event-ID header, "" for none */
	pthread_t thread;
	bool started;
	bool stop;           /* asks the thread to stop (atomics) */
	pthread_mutex_t lock;
	/* protected by lock */
	struct ctl_sse_event **ev; /* each allocated once, never moved */
	size_t n, cap;
	long status;         /* HTTP status once headers arrived, else 0 */
	char content_type[128];
	bool done;           /* the transfer ended (server closed, error or stop) */
	int result;          /* CURLcode of the transfer once done */
	char error[256];
	uint64_t done_ns;
	size_t comments;     /* ": ..." lines seen (keepalives) */
	/* parser state (thread only) */
	char *buf;
	size_t len, bcap;
	long long cur_id;
	char cur_type[64];
	char *cur_data;
	size_t cur_len;
	bool cur_has_data;
};

/* Start reading base + path with Accept: text/event-stream, the bearer
 * token, and Last-Event-ID: last_id when last_id is not NULL. 0 or a
 * negative errno (thread creation). */
int ctl_sse_open(struct ctl_sse *s, const char *name, const char *base, const char *path,
		 const char *token, const char *last_id);
/* Wait until the response headers arrived (or the transfer ended) for up
 * to timeout_ms; returns the HTTP status (0 if none yet). */
long ctl_sse_wait_status(struct ctl_sse *s, int timeout_ms);
/* Wait until at least n events arrived, or the stream ended, or timeout_ms
 * passed; returns the number of events. */
size_t ctl_sse_wait_events(struct ctl_sse *s, size_t n, int timeout_ms);
/* Wait for an event of this type (and, when participant is not NULL,
 * whose data.participant is that); returns its index or -1. */
long ctl_sse_wait_type(struct ctl_sse *s, const char *type, const char *participant,
		       int timeout_ms);
/* Wait until the server ended the stream; true when it did. */
bool ctl_sse_wait_done(struct ctl_sse *s, int timeout_ms);
size_t ctl_sse_count(struct ctl_sse *s);
bool ctl_sse_is_done(struct ctl_sse *s);
/* Event i (valid until ctl_sse_close; events are never removed). */
const struct ctl_sse_event *ctl_sse_event(struct ctl_sse *s, size_t i);
/* Stop the thread (if running), free everything. Safe on a zeroed or
 * already closed struct. */
void ctl_sse_close(struct ctl_sse *s);

#endif
