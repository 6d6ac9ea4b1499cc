/* GET /v1/rooms/{id}/events: a Server-Sent Events stream of the meeting.
 *
 * The stream reads committed events from the store, so it replays what a
 * client missed (Last-Event-ID / ?since=) and then follows new ones in
 * commit order. A stream with nothing to send suspends its connection
 * (MHD_suspend_connection; no thread per client, no busy loop) and is
 * resumed after the next commit that wrote events, or every 15 s to send a
 * keepalive comment (which is also how a vanished client is noticed). All
 * of it runs under c->lock, which is what makes "check, then suspend"
 * race-free against "commit, then wake". */
#include "control/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SSE_BATCH 64

struct ctl_sse_client {
	struct ctl *c;
	struct MHD_Connection *conn;
	char room[CTL_ID_MAX];
	int64_t meeting;
	int64_t last;                   /* last seq sent */
	char visible_to[CTL_ID_MAX];    /* participant streams: its id */
	char token_hash[65];
	char *buf;                      /* formatted, not yet handed to MHD */
	size_t len, off, cap;
	bool waiting, keepalive, ending, ended;
	bool revoked;                   /* token revoked: send up to its own leave */
	struct ctl_sse_client *next, **pprev;
};

static int sse_append(struct ctl_sse_client *cl, const char *s, size_t n)
{
	if (cl->len + n > cl->cap) {
		size_t cap = cl->cap ? cl->cap : 4096;
		while (cap < cl->len + n)
			cap *= 2;
		char *nb = realloc(cl->buf, cap);
		if (!nb)
			return -ENOMEM;
		cl->buf = nb;
		cl->cap = cap;
	}
	memcpy(cl->buf + cl->len, s, n);
	cl->len += n;
	return 0;
}

static int sse_add_event(void *arg, const struct ctl_event *e)
{
	struct ctl_sse_client *cl = arg;
	json_t *o = ctl_event_json(e);
	char *data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!data)
		return -ENOMEM;
	char head[96];
	int n = snprintf(head, sizeof(head), "id: %lld\nevent: %s\ndata: ", (long long)e->seq,
			 e->type);
	int rc = sse_append(cl, head, (size_t)n);
	if (!rc)
		rc = sse_append(cl, data, strlen(data));
	if (!rc)
		rc = sse_append(cl, "\n\n", 2);
	free(data);
	cl->last = e->seq;
	if (!strcmp(e->type, "room.ended"))
		cl->ending = true;
	if (cl->revoked && cl->visible_to[0] &&
	    (!strcmp(e->type, "participant.left") || !strcmp(e->type, "participant.kicked"))) {
		json_t *d = json_loads(e->data, 0, NULL);
		if (!strcmp(json_string_value(json_object_get(d, "participant")) ?: "",
			    cl->visible_to))
			cl->ending = true;
		json_decref(d);
	}
	return rc ? rc : cl->ending ? 1 : 0;
}

/* Is the stream's token still good (not revoked, not expired)? */
static bool sse_token_ok(struct ctl_sse_client *cl)
{
	struct ctl_token t;
	return ctl_store_token_by_hash(cl->c->store, cl->token_hash, &t) == 0 && !t.revoked &&
	       (!t.expires_at || t.expires_at > ctl_now(cl->c));
}

/* Format what there is to send into cl->buf (under c->lock). */
static void sse_fill(struct ctl_sse_client *cl)
{
	struct ctl_room r;
	cl->len = cl->off = 0;
	if (cl->c->stopping || (!sse_token_ok(cl) && !cl->visible_to[0])) {
		cl->ending = true;
		return;
	}
	/* A participant's token is revoked when it leaves, is kicked or the
	 * meeting ends: its stream still gets everything up to that event
	 * (which committed with the revocation), and nothing after. */
	cl->revoked = !sse_token_ok(cl);
	int rc = ctl_store_room_get(cl->c->store, cl->room, &r);
	if (rc == 0)
		rc = ctl_store_event_list(cl->c->store, cl->room, cl->meeting, cl->last, NULL,
					  cl->visible_to[0] ? cl->visible_to : NULL, SSE_BATCH,
					  sse_add_event, cl);
	if (rc == -ENOENT || (rc == 0 && r.meeting != cl->meeting && !cl->len)) {
		/* Room deleted (its events with it), or its meeting ended
		 * and everything of that meeting was sent. */
		if (!cl->ending) {
			static const char ended[] = "event: room.ended\ndata: {\"type\":\"room.ended\"}\n\n";
			sse_append(cl, ended, sizeof(ended) - 1);
		}
		cl->ending = true;
	} else if (rc < 0) {
		cl->ending = true;
	} else if (cl->revoked && !cl->len) {
		cl->ending = true;
	}
	if (!cl->len && cl->keepalive && !cl->ending)
		sse_append(cl, ": keepalive\n\n", 13);
	cl->keepalive = false;
}

static void sse_unlink(struct ctl_sse_client *cl)
{
	if (!cl->waiting)
		return;
	*cl->pprev = cl->next;
	if (cl->next)
		cl->next->pprev = cl->pprev;
	cl->waiting = false;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ctl_sse_client *cl = cls;
	struct ctl *c = cl->c;
	(void)pos;
	if (cl->off == cl->len) {
		if (cl->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		pthread_mutex_lock(&c->lock);
		sse_fill(cl);
		if (cl->off == cl->len) {
			if (cl->ending) {
				cl->ended = true;
				pthread_mutex_unlock(&c->lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			cl->waiting = true;
			cl->next = c->sse_waiting;
			if (cl->next)
				cl->next->pprev = &cl->next;
			cl->pprev = &c->sse_waiting;
			c->sse_waiting = cl;
			MHD_suspend_connection(cl->conn);
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		if (cl->ending)
			cl->ended = true;
		pthread_mutex_unlock(&c->lock);
	}
	size_t n = cl->len - cl->off < max ? cl->len - cl->off : max;
	memcpy(buf, cl->buf + cl->off, n);
	cl->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct ctl_sse_client *cl = cls;
	pthread_mutex_lock(&cl->c->lock);
	sse_unlink(cl);
	pthread_mutex_unlock(&cl->c->lock);
	free(cl->buf);
	free(cl);
}

static void sse_resume_all(struct ctl *c, bool keepalive)
{
	while (c->sse_waiting) {
		struct ctl_sse_client *cl = c->sse_waiting;
		sse_unlink(cl);
		cl->keepalive |= keepalive;
		MHD_resume_connection(cl->conn);
	}
}

void ctl_sse_wake(struct ctl *c)
{
	c->events_dirty = false;
	sse_resume_all(c, false);
}

void ctl_sse_keepalive(struct ctl *c)
{
	sse_resume_all(c, true);
}

void ctl_sse_shutdown(struct ctl *c)
{
	c->stopping = true;
	sse_resume_all(c, false);
}

void api_events(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	int64_t since = 0;
	if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_room_load(rq, false, &r, rep))
		return;
	const char *lei = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Last-Event-ID");
	if (lei) {
		char *end;
		since = strtoll(lei, &end, 10);
		if (*end || since < 0) {
			api_error(rep, 400, "invalid_field", "Last-Event-ID: not an event id");
			return;
		}
	} else if (api_query_int(rq, "since", 0, 0, INT64_MAX, &since, rep)) {
		return;
	}
	struct ctl_sse_client *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		api_error(rep, 500, "internal", "no memory");
		return;
	}
	cl->c = rq->c;
	cl->conn = rq->conn;
	cl->meeting = r.meeting;
	cl->last = since;
	snprintf(cl->room, sizeof(cl->room), "%s", r.id);
	snprintf(cl->token_hash, sizeof(cl->token_hash), "%s", rq->token_hash);
	if (rq->scope.kind == CTL_SCOPE_PARTICIPANT)
		snprintf(cl->visible_to, sizeof(cl->visible_to), "%s", rq->scope.participant);
	sse_append(cl, "retry: 1000\n\n", 13);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
								     sse_read, cl, sse_free);
	if (!resp) {
		free(cl->buf);
		free(cl);
		api_error(rep, 500, "internal", "no memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	rep->status = 200;
	rep->stream = resp;
}
