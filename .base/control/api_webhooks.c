/* /v1/webhooks: the URLs that hear of meetings and contracts (webhook.c
 * sends them). An operator's webhook without a tenant hears of every
 * tenant's events (and of operator-owned rooms'); a tenant token manages
 * and hears of its own tenant's only. The secret that signs the deliveries
 * is made here and shown once, in the reply to POST. */
#include "control/api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/webhook.h"

#define DELIVERIES_DEFAULT 50
#define DELIVERIES_MAX 500

static json_t *webhook_json(const struct ctl_webhook *w)
{
	json_t *ev = json_loads(w->events, 0, NULL);
	return json_pack("{s:s,s:s,s:o,s:o,s:I}", "id", w->id, "url", w->url, "events",
			 ev ? ev : json_array(), "tenant",
			 w->tenant[0] ? json_string(w->tenant) : json_null(), "created_at",
			 (json_int_t)w->created_at);
}

/* http:// or https:// with a host, as curl parses it; nothing else curl
 * might fetch (file://, ftp://, ...). */
static int url_check(const char *url, struct api_reply *rep)
{
	char *scheme = NULL, *host = NULL;
	int bad = strlen(url) >= CTL_URL_MAX;
	for (const char *p = url; !bad && *p; p++)
		bad = (unsigned char)*p <= ' ' || *p == 0x7f;
	CURLU *u = bad ? NULL : curl_url();
	if (!bad && (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
		     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
		     curl_url_get(u, CURLUPART_HOST, &host, 0)))
		bad = 1;
	if (!bad && strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		bad = 1;
	if (!bad && !host[0])
		bad = 1;
	/* The scheme as written: curl would guess one for "example.com/x". */
	if (!bad && strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		bad = 1;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (bad)
		api_error(rep, 400, "invalid_field", "url: an http:// or https:// URL with a host, "
			  "at most %d bytes", CTL_URL_MAX - 1);
	return bad ? -EINVAL : 0;
}

/* A non-empty list of known types without repeats, or ["*"]. */
static int events_check(json_t *ev, char *out, size_t cap, struct api_reply *rep)
{
	size_t i, k;
	json_t *v;
	if (json_array_size(ev) == 0) {
		api_error(rep, 400, "invalid_field", "events: at least one event type (or \"*\")");
		return -EINVAL;
	}
	json_array_foreach(ev, i, v) {
		const char *t = json_string_value(v);
		bool known = t && !strcmp(t, "*");
		for (k = 0; t && !known && ctl_webhook_types[k]; k++)
			known = !strcmp(t, ctl_webhook_types[k]);
		if (!known) {
			api_error(rep, 400, "invalid_field", "events[%zu]: not an event type "
				  "(meeting.started, meeting.ended, participant.joined, "
				  "participant.left, contract.expiring or \"*\")", i);
			return -EINVAL;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(t, json_string_value(json_array_get(ev, k)))) {
				api_error(rep, 400, "invalid_field", "events[%zu]: %s twice", i, t);
				return -EINVAL;
			}
	}
	char *text = json_dumps(ev, JSON_COMPACT);
	int rc = text && strlen(text) < cap ? 0 : -EINVAL;
	if (!rc)
		snprintf(out, cap, "%s", text);
	free(text);
	if (rc)
		api_error(rep, 400, "invalid_field", "events: too long");
	return rc;
}

static void webhook_create(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "url", API_STRING, true },
		{ "events", API_ARRAY, true },
		{ "tenant", API_STRING, false },
	};
	struct ctl_webhook w = { 0 };
	json_t *b = api_body_object(rq, rep);
	if (!b)
		return;
	if (api_check_fields(b, "", fields, 3, rep) ||
	    url_check(json_string_value(json_object_get(b, "url")), rep) ||
	    events_check(json_object_get(b, "events"), w.events, sizeof(w.events), rep))
		goto out;
	const char *tenant = json_string_value(json_object_get(b, "tenant"));
	if (tenant && ctl_name_check(tenant, CTL_TENANT_MAX)) {
		api_error(rep, 400, "invalid_field", "tenant: letters, digits and ._- (1..%d)",
			  CTL_TENANT_MAX - 1);
		goto out;
	}
	if (rq->scope.kind == CTL_SCOPE_TENANT) {
		if (tenant && strcmp(tenant, rq->scope.tenant)) {
			api_error(rep, 403, "forbidden", "a tenant token makes webhooks of its own "
				  "tenant only");
			goto out;
		}
		tenant = rq->scope.tenant;
	}
	snprintf(w.tenant, sizeof(w.tenant), "%s", tenant ? tenant : "");
	snprintf(w.url, sizeof(w.url), "%s", json_string_value(json_object_get(b, "url")));
	w.created_at = ctl_now(rq->c);
	if (ctl_random_id("wh", 8, w.id, sizeof(w.id)) ||
	    ctl_random_id("whsec_", 32, w.secret, sizeof(w.secret))) {
		api_error(rep, 500, "internal", "no randomness");
		goto out;
	}
	if (api_begin(rq, rep))
		goto out;
	if (ctl_store_webhook_insert(rq->c->store, &w)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot insert webhook");
		goto out;
	}
	if (api_commit(rq, rep))
		goto out;
	rep->status = 201;
	rep->body = webhook_json(&w);
	json_object_set_new(rep->body, "secret", json_string(w.secret));
out:
	explicit_bzero(w.secret, sizeof(w.secret));
	json_decref(b);
}

static int webhooks_add(void *arg, const struct ctl_webhook *w)
{
	return json_array_append_new(arg, webhook_json(w)) ? -ENOMEM : 0;
}

/* parts[1] as the caller may see it: a tenant only its own (others are
 * not found, not forbidden: their ids are nobody else's business). */
static int webhook_load(struct api_req *rq, struct ctl_webhook *w, struct api_reply *rep)
{
	int rc = ctl_store_webhook_get(rq->c->store, rq->parts[1], w);
	if (rc == -EIO)
		rc = 0;  /* the secret did not open; the rest is there */
	if (!rc && rq->scope.kind == CTL_SCOPE_TENANT && strcmp(w->tenant, rq->scope.tenant))
		rc = -ENOENT;
	if (rc == -ENOENT)
		api_error(rep, 404, "not_found", "no webhook %s", rq->parts[1]);
	else if (rc)
		api_error(rep, 500, "internal", "store: cannot read webhook");
	explicit_bzero(w->secret, sizeof(w->secret));
	return rc;
}

static int deliveries_add(void *arg, const struct ctl_delivery *d, const struct ctl_webhook *w)
{
	(void)w;
	bool pending = !strcmp(d->status, "pending");
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:o,s:o,s:o,s:o}", "id", d->id, "event_id",
			      d->event_id, "type", d->type, "status", d->status, "attempts",
			      d->attempts, "created_at", (json_int_t)d->created_at, "last_status",
			      d->last_status ? json_integer(d->last_status) : json_null(),
			      "last_error", d->last_error[0] ? json_string(d->last_error) :
			      json_null(), "next_attempt_at",
			      pending ? json_integer(d->next_at) : json_null(), "done_at",
			      d->done_at ? json_integer(d->done_at) : json_null());
	return json_array_append_new(arg, o) ? -ENOMEM : 0;
}

static void webhook_deliveries(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_webhook w;
	int64_t limit;
	if (webhook_load(rq, &w, rep) ||
	    api_query_int(rq, "limit", DELIVERIES_DEFAULT, 1, DELIVERIES_MAX, &limit, rep))
		return;
	json_t *arr = json_array();
	if (!arr || ctl_store_delivery_list(rq->c->store, w.id, (int)limit, deliveries_add, arr)) {
		json_decref(arr);
		api_error(rep, 500, "internal", "store: cannot list deliveries");
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:s,s:o}", "webhook", w.id, "deliveries", arr);
}

static void webhook_delete(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_webhook w;
	if (webhook_load(rq, &w, rep) || api_begin(rq, rep))
		return;
	if (ctl_store_webhook_delete(rq->c->store, w.id)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot delete webhook");
		return;
	}
	if (api_commit(rq, rep) == 0)
		rep->status = 204;
}

void api_webhooks(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_webhook w;
	if (rq->scope.kind != CTL_SCOPE_OPERATOR && rq->scope.kind != CTL_SCOPE_TENANT) {
		api_error(rep, 403, "forbidden", "only operator and tenant tokens manage webhooks");
		return;
	}
	const char *m = rq->method;
	if (rq->nparts == 1 && !strcmp(m, "GET")) {
		json_t *arr = json_array();
		const char *tenant = rq->scope.kind == CTL_SCOPE_TENANT ? rq->scope.tenant : NULL;
		if (!arr || ctl_store_webhook_list(rq->c->store, tenant, webhooks_add, arr)) {
			json_decref(arr);
			api_error(rep, 500, "internal", "store: cannot list webhooks");
			return;
		}
		rep->status = 200;
		rep->body = json_pack("{s:o}", "webhooks", arr);
	} else if (rq->nparts == 1 && !strcmp(m, "POST")) {
		webhook_create(rq, rep);
	} else if (rq->nparts == 2 && !strcmp(m, "GET")) {
		if (webhook_load(rq, &w, rep))
			return;
		rep->status = 200;
		rep->body = webhook_json(&w);
	} else if (rq->nparts == 2 && !strcmp(m, "DELETE")) {
		webhook_delete(rq, rep);
	} else if (rq->nparts == 3 && !strcmp(rq->parts[2], "deliveries") && !strcmp(m, "GET")) {
		webhook_deliveries(rq, rep);
	} else if (rq->nparts <= 2 || (rq->nparts == 3 && !strcmp(rq->parts[2], "deliveries"))) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", m);
	} else {
		api_error(rep, 404, "not_found", "no such resource");
	}
}
