/* /v1/rooms and /v1/rooms/{id}/participants: rooms, joins, leaves. Every
 * change: one store transaction + one push to mmdp; the transaction commits
 * only when mmdp accepted the change. */
#include "control/api.h"

#include "common/log.h"
#include "control/meeting.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dataplane/core/srtp.h"
#include "dataplane/proto/base64.h"

#define ROOM_CAPACITY_MAX 100

static json_t *rooms_room_json(const struct ctl_room *r)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:I,s:I,s:i,s:i}", "id", r->id, "name", r->name,
			      "capacity", r->capacity, "kind", r->kind,
			      "created_at", (json_int_t)r->created_at,
			      "meeting", (json_int_t)r->meeting, "last_n", r->last_n,
			      "video_last_n", r->video_last_n);
	if (r->tenant[0])
		json_object_set_new(o, "tenant", json_string(r->tenant));
	/* A live meeting (someone is in the room) and since when. */
	json_object_set_new(o, "live", json_boolean(r->started_at != 0));
	if (r->started_at)
		json_object_set_new(o, "started_at", json_integer(r->started_at));
	return o;
}

const char *const api_resolutions[3] = { "low", "medium", "high" };

/* One source as the API shows it: the shape join and PUT streams take. */
static json_t *source_json(const char *kind, const struct ctl_source *src)
{
	json_t *o = json_pack("{s:s,s:I}", "kind", kind, "ssrc", (json_int_t)src->ssrc[0]);
	if (src->layers > 1) {
		json_t *ss = json_array(), *rtx = json_array();
		for (int l = 0; l < src->layers; l++) {
			json_array_append_new(ss, json_integer((json_int_t)src->ssrc[l]));
			json_array_append_new(rtx, json_integer((json_int_t)src->rtx_ssrc[l]));
		}
		json_object_set_new(o, "ssrcs", ss);
		if (src->rtx_ssrc[0] >= 0)
			json_object_set_new(o, "rtx_ssrcs", rtx);
		else
			json_decref(rtx);
	} else if (src->rtx_ssrc[0] >= 0) {
		json_object_set_new(o, "rtx_ssrc", json_integer((json_int_t)src->rtx_ssrc[0]));
	}
	if (src->codec[0])
		json_object_set_new(o, "codec", json_string(src->codec));
	if (src->audio_level_id)
		json_object_set_new(o, "audio_level_id", json_integer(src->audio_level_id));
	return o;
}

json_t *api_participant_json(const struct ctl *c, const struct ctl_participant *p)
{
	static const char *const kinds[CTL_KINDS] = { "audio", "camera", "screen" };
	struct ctl_subscription subs[2 * 100];
	size_t n = 0;
	json_t *o = json_pack("{s:s,s:s,s:s,s:{s:s,s:i},s:{s:s,s:i},s:I,s:b,s:b,s:b,s:b,s:I}",
			      "id", p->id, "display_name", p->display_name, "role", p->role,
			      "remote", "addr", p->remote_addr, "port", p->remote_port,
			      "server", "addr", c->cfg.media_address, "port", p->local_port,
			      "joined_at", (json_int_t)p->joined_at,
			      "audio_muted", p->audio_muted, "video_muted", p->video_muted,
			      "unmute_requested", p->unmute_requested,
			      "hand_raised", p->hand_raised_at != 0,
			      "hand_raised_at", (json_int_t)p->hand_raised_at);
	json_t *st = json_array();
	for (int k = 0; k < CTL_KINDS; k++)
		if (p->src[k].layers)
			json_array_append_new(st, source_json(kinds[k], &p->src[k]));
	json_object_set_new(o, "streams", st);
	json_object_set_new(o, "max_resolution",
			    json_string(api_resolutions[p->max_layer >= 0 && p->max_layer <= 2 ?
							p->max_layer : 2]));
	if (p->rtx_pt)
		json_object_set_new(o, "rtx_pt", json_integer(p->rtx_pt));
	json_t *sa = json_array();
	if (ctl_store_subscriptions_get(c->store, p->id, subs, sizeof(subs) / sizeof(subs[0]),
					&n) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(sa, json_pack("{s:s,s:s,s:i}", "publisher",
							    subs[i].publisher, "kind", subs[i].kind,
							    "max_height", subs[i].max_height));
	json_object_set_new(o, "subscriptions", sa);
	if (p->account[0])
		json_object_set_new(o, "account", json_string(p->account));
	return o;
}

void api_reply_participant(struct api_req *rq, const struct ctl_participant *p,
			   struct api_reply *rep)
{
	json_decref(rep->body);
	rep->status = 200;
	rep->body = api_participant_json(rq->c, p);
}

/* May this scope see / change the room? 0, or rep set to 403. */
static int rooms_access(const struct api_req *rq, const struct ctl_room *r, bool change,
			struct api_reply *rep)
{
	const struct ctl_scope *s = &rq->scope;
	if (s->kind == CTL_SCOPE_OPERATOR ||
	    (s->kind == CTL_SCOPE_TENANT && !strcmp(s->tenant, r->tenant)) ||
	    (s->kind == CTL_SCOPE_PARTICIPANT && !change && !strcmp(s->room, r->id)))
		return 0;
	api_error(rep, 403, "forbidden", "token may not access room %s", r->id);
	return -EPERM;
}

/* Load the room named by parts[1]; 404 / 403 / 500 in rep otherwise. */
int api_room_load(struct api_req *rq, bool change, struct ctl_room *r, struct api_reply *rep)
{
	int rc = ctl_store_room_get(rq->c->store, rq->parts[1], r);
	if (rc == -ENOENT)
		api_error(rep, 404, "not_found", "no room %s", rq->parts[1]);
	else if (rc)
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
	return rc ? rc : rooms_access(rq, r, change, rep);
}

int api_refuse_draining(struct api_req *rq, struct api_reply *rep)
{
	if (!rq->c->draining)
		return 0;
	api_error(rep, 503, "draining", "this node is draining (shutting down): no new meetings "
		  "here");
	return -EAGAIN;
}

/* Make sure mmdp is there (and synced) before a change starts. */
int api_mmdp_ready(struct api_req *rq, struct api_reply *rep)
{
	int rc = ctl_sync_ensure(rq->c);
	if (rc)
		api_error(rep, 503, "mmdp_unavailable", "mmdp is not reachable at %s (%s)",
			  rq->c->mmdp.path, strerror(-rc));
	return rc;
}

/* Push req, then commit or roll back. On success rep is left alone. */
static int push_commit(struct api_req *rq, json_t *req, struct api_reply *rep, bool absent_ok)
{
	char err[400];
	enum ctl_push_result pr = ctl_sync_push(rq->c, req, err, sizeof(err));
	if (pr != CTL_PUSH_OK && !(absent_ok && pr == CTL_PUSH_NOT_FOUND)) {
		ctl_store_rollback(rq->c->store);
		if (pr == CTL_PUSH_DRAINING)
			api_error(rep, 503, "draining", "%s", err);
		else if (pr != CTL_PUSH_UNAVAILABLE)
			api_error(rep, 502, "mmdp_error", "%s", err);
		else
			api_error(rep, 503, "mmdp_unavailable", "%s", err);
		return -EIO;
	}
	int rc = ctl_store_commit(rq->c->store);
	if (rc) {
		ctl_store_rollback(rq->c->store);
		/* mmdp has the change, the store does not (a full disk): put
		 * mmdp back to the store's state now, not at the next request,
		 * so that no room or endpoint of a refused change is left
		 * forwarding. A sync only reads the store; if it fails too the
		 * connection stays closed and the next request or the ticker
		 * syncs. */
		ctl_mmdp_close(&rq->c->mmdp);
		int sr = ctl_sync_ensure(rq->c);
		mm_err("commit_failed_after_push", "err=%s mmdp_resynced=%s",
		       mm_q(strerror(-rc)), sr ? "no" : "yes");
		api_error(rep, 500, "internal", "store commit failed");
	}
	return rc;
}

int api_push_commit(struct api_req *rq, json_t *req, struct api_reply *rep)
{
	return push_commit(rq, req, rep, false);
}

int api_push_del_commit(struct api_req *rq, json_t *req, struct api_reply *rep)
{
	return push_commit(rq, req, rep, true);
}

int api_begin(struct api_req *rq, struct api_reply *rep)
{
	int rc = ctl_store_begin(rq->c->store);
	if (rc)
		api_error(rep, 500, "internal", "store: cannot begin transaction");
	return rc;
}

json_t *api_room_put(const struct ctl_room *r)
{
	json_t *put = ctl_sync_room_json(r);
	json_object_set_new(put, "op", json_string("room.put"));
	return put;
}

/* last_n and video_last_n of b (when present) into r: 0..100 each. */
static int rooms_parse_last_n(json_t *b, struct ctl_room *r, struct api_reply *rep)
{
	static const char *const names[] = { "last_n", "video_last_n" };
	int *dst[] = { &r->last_n, &r->video_last_n };
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(b, names[i]);
		if (!v)
			continue;
		if (json_integer_value(v) < 0 || json_integer_value(v) > CTL_LAST_N_MAX) {
			api_error(rep, 400, "invalid_field", "%s: must be 0..%d", names[i],
				  CTL_LAST_N_MAX);
			return -EINVAL;
		}
		*dst[i] = (int)json_integer_value(v);
	}
	return 0;
}

static void rooms_create(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "name", API_STRING, true }, { "capacity", API_INT, false },
		{ "kind", API_STRING, false }, { "tenant", API_STRING, false },
		{ "last_n", API_INT, false }, { "video_last_n", API_INT, false },
	};
	struct ctl_room r = { .capacity = ROOM_CAPACITY_MAX, .last_n = CTL_LAST_N_DEFAULT,
			      .video_last_n = CTL_VIDEO_LAST_N_DEFAULT };
	json_t *b = api_body_object(rq, rep), *v;
	if (!b || api_check_fields(b, "", fields, 6, rep) || rooms_parse_last_n(b, &r, rep))
		goto out;
	v = json_object_get(b, "name");
	if (json_string_length(v) == 0 || json_string_length(v) >= sizeof(r.name)) {
		api_error(rep, 400, "invalid_field", "name: must be 1..128 bytes");
		goto out;
	}
	snprintf(r.name, sizeof(r.name), "%s", json_string_value(v));
	if ((v = json_object_get(b, "capacity"))) {
		if (json_integer_value(v) < 1 || json_integer_value(v) > ROOM_CAPACITY_MAX) {
			api_error(rep, 400, "invalid_field", "capacity: must be 1..100");
			goto out;
		}
		r.capacity = (int)json_integer_value(v);
	}
	v = json_object_get(b, "kind");
	snprintf(r.kind, sizeof(r.kind), "%s", v ? json_string_value(v) : "adhoc");
	if (strcmp(r.kind, "adhoc") && strcmp(r.kind, "fixed")) {
		api_error(rep, 400, "invalid_field", "kind: must be \"adhoc\" or \"fixed\"");
		goto out;
	}
	v = json_object_get(b, "tenant");
	if (rq->scope.kind == CTL_SCOPE_TENANT) {
		if (v && strcmp(json_string_value(v), rq->scope.tenant)) {
			api_error(rep, 403, "forbidden", "tenant token may only create its own rooms");
			goto out;
		}
		snprintf(r.tenant, sizeof(r.tenant), "%s", rq->scope.tenant);
	} else if (rq->scope.kind == CTL_SCOPE_OPERATOR) {
		if (v && ctl_name_check(json_string_value(v), sizeof(r.tenant))) {
			api_error(rep, 400, "invalid_field", "tenant: 1..64 of [A-Za-z0-9._-]");
			goto out;
		}
		snprintf(r.tenant, sizeof(r.tenant), "%s", v ? json_string_value(v) : "");
	} else {
		api_error(rep, 403, "forbidden", "participant token may not create rooms");
		goto out;
	}
	r.created_at = ctl_now(rq->c);
	r.meeting = 1;
	if (ctl_random_id("r", 8, r.id, sizeof(r.id))) {
		api_error(rep, 500, "internal", "no randomness");
		goto out;
	}
	if (api_refuse_draining(rq, rep) || api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out;
	if (ctl_store_room_insert(rq->c->store, &r)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot insert room");
		goto out;
	}
	if (api_push_commit(rq, api_room_put(&r), rep) == 0) {
		rep->status = 201;
		json_decref(rep->body);
		rep->body = rooms_room_json(&r);
		json_object_set_new(rep->body, "participants", json_array());
	}
out:
	json_decref(b);
}

static int rooms_list_add(void *arg, const struct ctl_room *r)
{
	return json_array_append_new(arg, rooms_room_json(r)) ? -ENOMEM : 0;
}

static void rooms_list(struct api_req *rq, struct api_reply *rep)
{
	if (rq->scope.kind == CTL_SCOPE_PARTICIPANT) {
		api_error(rep, 403, "forbidden", "participant token may not list rooms");
		return;
	}
	json_t *arr = json_array();
	int rc = ctl_store_room_list(rq->c->store, rq->scope.kind == CTL_SCOPE_TENANT ?
				     rq->scope.tenant : NULL, rooms_list_add, arr);
	if (rc) {
		json_decref(arr);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:o}", "rooms", arr);
}

struct rooms_part_arg {
	const struct ctl *c;
	json_t *arr;
};

static int rooms_part_add(void *arg, const struct ctl_participant *p)
{
	struct rooms_part_arg *a = arg;
	return json_array_append_new(a->arr, api_participant_json(a->c, p)) ? -ENOMEM : 0;
}

static void rooms_get(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	if (api_room_load(rq, false, &r, rep))
		return;
	struct rooms_part_arg a = { rq->c, json_array() };
	int rc = ctl_store_participant_list(rq->c->store, r.id, rooms_part_add, &a);
	if (rc) {
		json_decref(a.arr);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep->status = 200;
	rep->body = rooms_room_json(&r);
	json_object_set_new(rep->body, "participants", a.arr);
}

static void rooms_delete(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	json_t *req;
	if (api_room_load(rq, true, &r, rep) || api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	if (ctl_meeting_end(rq->c, &r, "deleted",
			    rq->scope.kind == CTL_SCOPE_OPERATOR ? "operator" : "tenant", true,
			    &req)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot delete room");
		return;
	}
	if (api_push_commit(rq, req, rep) == 0) {
		rep->status = 204;
		json_decref(rep->body);
		rep->body = NULL;
	}
}

/* PATCH /v1/rooms/{room}: the room's settings (operator or its tenant). */
static void rooms_update(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "last_n", API_INT, false }, { "video_last_n", API_INT, false },
	};
	struct ctl_room r;
	json_t *b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 2, rep) || api_room_load(rq, true, &r, rep) ||
	    rooms_parse_last_n(b, &r, rep))
		goto out;
	if (!json_object_size(b)) {
		api_error(rep, 400, "missing_field", "last_n, video_last_n: at least one");
		goto out;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out;
	if (ctl_store_room_update(rq->c->store, &r)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update room");
		goto out;
	}
	if (api_push_commit(rq, api_room_put(&r), rep) == 0) {
		rep->status = 200;
		json_decref(rep->body);
		rep->body = rooms_room_json(&r);
	}
out:
	json_decref(b);
}

static bool is(const struct api_req *rq, int n, const char *method)
{
	return rq->nparts == n && !strcmp(rq->method, method);
}

void api_rooms(struct api_req *rq, struct api_reply *rep)
{
	const char *sub = rq->nparts >= 3 ? rq->parts[2] : "";
	bool parts = !strcmp(sub, "participants");
	if (is(rq, 1, "GET"))
		rooms_list(rq, rep);
	else if (is(rq, 1, "POST"))
		rooms_create(rq, rep);
	else if (is(rq, 2, "GET"))
		rooms_get(rq, rep);
	else if (is(rq, 2, "DELETE"))
		rooms_delete(rq, rep);
	else if (is(rq, 2, "PATCH"))
		rooms_update(rq, rep);
	else if (parts && is(rq, 3, "POST"))
		api_participant_join(rq, rep);
	else if (parts && is(rq, 4, "GET"))
		api_participant_get(rq, rep);
	else if (parts && is(rq, 4, "DELETE"))
		api_participant_leave(rq, rep);
	else if (parts && rq->nparts == 5)
		api_participant_action(rq, rep);
	else if (!strcmp(sub, "end") && is(rq, 3, "POST"))
		api_room_end(rq, rep);
	else if (!strcmp(sub, "mute") && is(rq, 3, "POST"))
		api_mute_all(rq, rep);
	else if (!strcmp(sub, "chat") && rq->nparts == 3)
		api_chat(rq, rep);
	else if (!strcmp(sub, "events") && rq->nparts == 3)
		api_events(rq, rep);
	else if (!strcmp(sub, "invites") && is(rq, 3, "POST"))
		api_invite_create(rq, rep);
	else if (!strcmp(sub, "access") && rq->nparts == 3)
		api_room_access(rq, rep);
	else if (rq->nparts <= 2 || (rq->nparts <= 4 && parts) ||
		 (rq->nparts == 3 && (!strcmp(sub, "end") || !strcmp(sub, "mute") ||
				      !strcmp(sub, "invites"))))
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
	else
		api_error(rep, 404, "not_found", "no such resource");
}
