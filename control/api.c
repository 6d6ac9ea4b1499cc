/* HTTP glue: body collection with the 64 KiB limit, authentication,
 * routing to the resource handlers, JSON replies. */
#include "control/api.h"
#include "control/metrics.h"
#include "common/log.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct api_conn {
	char *body;
	size_t len;
	size_t max;                /* the body limit of this request's path */
	bool too_big;
};

/* SDP answers may be large (see CTL_API_ANSWER_MAX); the rest 64 KiB. */
static size_t api_body_max(const char *url)
{
	size_t n = strlen(url);
	return n > 7 && !strcmp(url + n - 7, "/answer") ? CTL_API_ANSWER_MAX : CTL_API_BODY_MAX;
}

void api_error(struct api_reply *rep, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(rep->body);
	rep->status = status;
	rep->body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (!rep->body) {
		/* The message quotes the request (jansson's parse error shows
		 * the bytes where it stopped) and was not UTF-8, which jansson
		 * refuses: say the same in ASCII rather than lose the reply
		 * (found by tests/fuzz/fuzz_rest.c). */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		rep->body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	}
}

json_t *api_body_object(const struct api_req *rq, struct api_reply *rep)
{
	json_error_t jerr;
	json_t *o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		api_error(rep, 400, "invalid_json", "body is not valid JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		api_error(rep, 400, "invalid_json", "body must be a JSON object");
		return NULL;
	}
	return o;
}

int api_check_fields(json_t *obj, const char *path, const struct api_field *f, size_t n,
		     struct api_reply *rep)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i;
		for (i = 0; i < n && strcmp(f[i].name, key); i++)
			;
		if (i == n) {
			api_error(rep, 400, "invalid_field", "%s%s: unknown field", path, key);
			return -EINVAL;
		}
		static const char *const what[] = { "a string", "an integer", "an object",
						    "true or false", "an array" };
		bool ok = f[i].type == API_STRING ? json_is_string(v) :
			  f[i].type == API_INT ? json_is_integer(v) :
			  f[i].type == API_OBJECT ? json_is_object(v) :
			  f[i].type == API_BOOL ? json_is_boolean(v) : json_is_array(v);
		if (!ok) {
			api_error(rep, 400, "invalid_field", "%s%s: must be %s", path, key,
				  what[f[i].type]);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].required && !json_object_get(obj, f[i].name)) {
			api_error(rep, 400, "missing_field", "%s%s: required", path, f[i].name);
			return -EINVAL;
		}
	return 0;
}

/* 0 with rq->scope set, or rep set to 401. */
static int api_authenticate(struct MHD_Connection *conn, struct api_req *rq,
			    struct api_reply *rep)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	struct ctl_token t;
	char hash[65];

	if (!h || strncmp(h, "Bearer ", 7) || !h[7]) {
		api_error(rep, 401, "unauthorized", "missing bearer token");
		return -EACCES;
	}
	if (ctl_token_hash(h + 7, hash)) {
		api_error(rep, 500, "internal", "cannot hash token");
		return -EIO;
	}
	memcpy(rq->token_hash, hash, sizeof(hash));
	int rc = ctl_store_token_by_hash(rq->c->store, hash, &t);
	if (rc == -ENOENT || (!rc && t.revoked) ||
	    (!rc && t.expires_at && t.expires_at <= ctl_now(rq->c)) ||
	    (!rc && ctl_scope_parse(t.scope, &rq->scope))) {
		api_error(rep, 401, "unauthorized", "unknown, expired or revoked token");
		return -EACCES;
	}
	if (rc) {
		api_error(rep, 500, "internal", "token lookup failed");
		return rc;
	}
	return 0;
}

static int api_split_path(char *path, struct api_req *rq)
{
	char *save = NULL;
	char *seg = strtok_r(path, "/", &save);
	if (!seg || strcmp(seg, "v1"))
		return -ENOENT;
	rq->nparts = 0;
	while ((seg = strtok_r(NULL, "/", &save))) {
		if (rq->nparts == (int)(sizeof(rq->parts) / sizeof(rq->parts[0])))
			return -ENOENT;
		rq->parts[rq->nparts++] = seg;
	}
	return rq->nparts ? 0 : -ENOENT;
}

/* GET /v1/health, without a token (load balancers, systemd, monitoring):
 * 200 while mmctld takes new meetings, 503 while it drains. Nothing a
 * caller without a token should not know (no counts, no names). */
static void api_health(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	json_decref(rep->body);
	rep->status = c->draining ? 503 : 200;
	rep->body = json_pack("{s:s,s:b}", "status", c->draining ? "draining" : "ok", "mmdp",
			      ctl_mmdp_connected(&c->mmdp));
}

static void api_dispatch(struct ctl *c, struct MHD_Connection *conn, const char *url,
			 const char *method, struct api_conn *ac, struct api_reply *rep)
{
	struct api_req rq = { .c = c, .method = method, .conn = conn };
	char path[512];

	if (ac->too_big) {
		api_error(rep, 413, "body_too_large", "request body over %zu bytes", ac->max);
		return;
	}
	rq.body = ac->body ? ac->body : "";
	rq.body_len = ac->len;
	if (!strcmp(url, "/meet") || !strncmp(url, "/meet/", 6)) {
		/* The meeting page: static files, no auth, no lock needed. */
		api_www(c, url, method, rep);
		return;
	}
	/* No resource has a path this long; cutting it instead would make a
	 * shorter path that may name another resource (a padded DELETE of a
	 * participant became a DELETE of its room). */
	if (strlen(url) >= sizeof(path) || api_split_path(strcpy(path, url), &rq)) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	pthread_mutex_lock(&c->lock);
	unsigned full_before = ctl_store_full_count();
	if (!strcmp(rq.parts[0], "health") && rq.nparts == 1) {
		api_health(&rq, rep);
	} else if (!strcmp(rq.parts[0], "join") && rq.nparts == 1) {
		/* The invite in the body is the credential. */
		if (strcmp(method, "POST"))
			api_error(rep, 405, "method_not_allowed", "%s not allowed here", method);
		else
			api_join(&rq, rep);
	} else if (api_authenticate(conn, &rq, rep) == 0) {
		if (!strcmp(rq.parts[0], "rooms"))
			api_rooms(&rq, rep);
		else if (!strcmp(rq.parts[0], "tokens"))
			api_tokens(&rq, rep);
		else if (!strcmp(rq.parts[0], "blocks"))
			api_blocks(&rq, rep);
		else if (!strcmp(rq.parts[0], "guard"))
			api_guard(&rq, rep);
		else if (!strcmp(rq.parts[0], "bans"))
			api_bans(&rq, rep);
		else if (!strcmp(rq.parts[0], "clock"))
			api_clock(&rq, rep);
		else if (!strcmp(rq.parts[0], "webhooks"))
			api_webhooks(&rq, rep);
		else if (!strcmp(rq.parts[0], "reports"))
			api_reports(&rq, rep);
		else if (!strcmp(rq.parts[0], "tenants"))
			api_tenants(&rq, rep);
		else if (!strcmp(rq.parts[0], "quote"))
			api_quote(&rq, rep);
		else
			api_error(rep, 404, "not_found", "no such resource");
	}
	/* The disk of the database is full: whatever failed because of it
	 * (a commit, an insert, a secret made on first use) was rolled back
	 * and the handler said 500; say why, with a code clients can act on.
	 * Reads go on working (they need no space). */
	if (rep->status == 500 && ctl_store_full_count() != full_before) {
		mm_err("storage_full", "method=%s path=%s db=%s", method, mm_q(url),
		       mm_q(c->cfg.db));
		api_error(rep, 507, "storage_full",
			  "the database's disk is full: nothing was changed (reads still work)");
	}
	/* Whatever committed events, the streams hear of it now. */
	if (c->events_dirty)
		ctl_sse_wake(c);
	pthread_mutex_unlock(&c->lock);
}

static enum MHD_Result api_send(struct MHD_Connection *conn, struct api_reply *rep)
{
	if (rep->stream) {
		enum MHD_Result sret = MHD_queue_response(conn, (unsigned int)rep->status,
							  rep->stream);
		MHD_destroy_response(rep->stream);
		return sret;
	}
	char *text = rep->status == 204 ? strdup("") :
		     rep->body ? json_dumps(rep->body, JSON_COMPACT) : NULL;
	if (!text) {
		static char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"no memory\"}}";
		text = strdup(fallback);
		rep->status = 500;
		if (!text)
			return MHD_NO;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
								 MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)rep->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result api_handle(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct ctl *c = cls;
	struct api_conn *ac = *con_cls;
	(void)version;

	if (!ac) {
		ac = calloc(1, sizeof(*ac));
		if (!ac)
			return MHD_NO;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		ac->max = api_body_max(url);
		if (cl && strtoull(cl, NULL, 10) > ac->max)
			ac->too_big = true;
		*con_cls = ac;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!ac->too_big && ac->len + *upload_data_size > ac->max) {
			ac->too_big = true;
		} else if (!ac->too_big) {
			char *nb = realloc(ac->body, ac->len + *upload_data_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + ac->len, upload_data, *upload_data_size);
			ac->len += *upload_data_size;
			nb[ac->len] = '\0';
			ac->body = nb;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct api_reply rep = { 500, NULL, NULL };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	api_dispatch(c, conn, url, method, ac, &rep);
	enum MHD_Result ret = api_send(conn, &rep);   /* may turn it into a 500 */
	int status = rep.status;
	/* One line a request, at debug level only (the path holds no secret:
	 * tokens travel in the Authorization header). */
	mm_debug("http_request", "method=%s path=%s status=%d", mm_q(method), mm_q(url), status);
	json_decref(rep.body);
	/* Counted by route template, never by the URL itself (metrics.c). */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ctl_metrics_api(method, url, status,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ret;
}

static void api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct api_conn *ac = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (ac) {
		free(ac->body);
		free(ac);
	}
	*con_cls = NULL;
}

int ctl_api_start(struct ctl *c, struct MHD_Daemon **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (ctl_config_parse_listen(c->cfg.listen, &ss, &len))
		return -EINVAL;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
				((struct sockaddr_in *)&ss)->sin_port);
	struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL, api_handle, c,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
						MHD_OPTION_NOTIFY_COMPLETED, api_completed, c,
						MHD_OPTION_CONNECTION_TIMEOUT, 30u,
						/* The request line and headers must fit
						 * here (bodies stream through api_handle):
						 * more is 431/414 from libmicrohttpd. Its
						 * default, stated so no one relies on it
						 * silently. */
						MHD_OPTION_CONNECTION_MEMORY_LIMIT,
						(size_t)CTL_API_HEADER_MAX,
						MHD_OPTION_END);
	if (!d)
		return -EADDRINUSE;
	*out = d;
	return 0;
}

int api_query_int(struct api_req *rq, const char *name, int64_t def, int64_t lo, int64_t hi,
		  int64_t *out, struct api_reply *rep)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
	char *end;
	if (!v) {
		*out = def;
		return 0;
	}
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi) {
		api_error(rep, 400, "invalid_field", "%s: must be an integer in %lld..%lld", name,
			  (long long)lo, (long long)hi);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

int api_commit(struct api_req *rq, struct api_reply *rep)
{
	int rc = ctl_store_commit(rq->c->store);
	if (rc) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store commit failed");
	}
	return rc;
}

void ctl_api_stop(struct ctl *c, struct MHD_Daemon *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&c->lock);
	ctl_sse_shutdown(c);
	pthread_mutex_unlock(&c->lock);
	MHD_stop_daemon(d);
}
