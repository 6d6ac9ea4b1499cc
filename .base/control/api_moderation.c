/* Moderation: mute one, mute many, unmute (or the request to), kick, raise
 * and lower hands, roles, and the end of a meeting. Each is one store
 * transaction with its events and, where media changes, one push to mmdp. */
#include "control/api.h"
#include "control/meeting.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define KICK_BLOCK_DEFAULT 3600
#define KICK_BLOCK_MAX 86400

static json_t *endpoint_put(const struct ctl *c, const struct ctl_participant *p)
{
	json_t *put = ctl_sync_endpoint_json(c, p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	return put;
}

static int emit_mute(struct ctl *c, const struct ctl_room *r, const struct ctl_participant *p,
		     const char *by)
{
	return ctl_event_emit(c, r, "mute",
			      json_pack("{s:s,s:b,s:b,s:s}", "participant", p->id, "audio_muted",
					p->audio_muted, "video_muted", p->video_muted, "by", by),
			      NULL, NULL, NULL);
}

/* {"audio":bool,"video":bool} with audio defaulting to true when both are
 * absent (the common "mute" means the microphone). */
static int parse_kinds(json_t *b, bool *audio, bool *video, const struct api_field *f, size_t n,
		       struct api_reply *rep)
{
	if (api_check_fields(b, "", f, n, rep))
		return -EINVAL;
	json_t *a = json_object_get(b, "audio"), *v = json_object_get(b, "video");
	*audio = a ? json_is_true(a) : !v;
	*video = v && json_is_true(v);
	if (!*audio && !*video) {
		api_error(rep, 400, "invalid_field", "audio, video: at least one must be true");
		return -EINVAL;
	}
	return 0;
}

static const struct api_field KIND_FIELDS[] = {
	{ "audio", API_BOOL, false }, { "video", API_BOOL, false },
};

static void mute_one(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		     struct ctl_participant *p, json_t *b, bool mute, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	bool audio, video;
	bool self = !strcmp(a->participant, p->id);
	if (parse_kinds(b, &audio, &video, KIND_FIELDS, 2, rep))
		return;
	if (!self && !a->moderator) {
		api_error(rep, 403, "forbidden", "only a moderator may %s another participant",
			  mute ? "mute" : "unmute");
		return;
	}
	if (!mute && !self) {
		/* A moderator cannot open someone's microphone: ask. */
		if (api_begin(rq, rep))
			return;
		p->unmute_requested = true;
		if (ctl_store_participant_update(c->store, p) ||
		    ctl_event_emit(c, r, "unmute_requested",
				   json_pack("{s:s,s:b,s:b,s:s}", "participant", p->id, "audio",
					     audio, "video", video, "by", a->by),
				   NULL, NULL, NULL)) {
			ctl_store_rollback(c->store);
			api_error(rep, 500, "internal", "store: cannot record the request");
			return;
		}
		if (api_commit(rq, rep) == 0) {
			rep->status = 202;
			rep->body = json_pack("{s:b}", "requested", 1);
		}
		return;
	}
	if (audio)
		p->audio_muted = mute;
	if (video)
		p->video_muted = mute;
	if (!mute)
		p->unmute_requested = false;
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	if (ctl_store_participant_update(c->store, p) || emit_mute(c, r, p, a->by)) {
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot update participant");
		return;
	}
	if (api_push_commit(rq, endpoint_put(c, p), rep) == 0)
		api_reply_participant(rq, p, rep);
}

/* The remote address and port mmdp learned for endpoint id (ICE), or
 * -ENOENT when it has none (unbound, unknown, mmdp not answering). */
static int learned_remote(struct ctl *c, const char *id, char *addr, size_t n, int *port)
{
	json_t *reply = NULL;
	json_t *req = json_pack("{s:s,s:s}", "op", "endpoint.get", "endpoint", id);
	int rc = ctl_mmdp_call(&c->mmdp, req, &reply);
	json_decref(req);
	json_t *remote = rc ? NULL : json_object_get(reply, "remote");
	const char *a = json_string_value(json_object_get(remote, "addr"));
	json_int_t pt = json_integer_value(json_object_get(remote, "port"));
	rc = a && pt > 0 && pt < 65536 && strlen(a) < n ? 0 : -ENOENT;
	if (!rc) {
		snprintf(addr, n, "%s", a);
		*port = (int)pt;
	}
	json_decref(reply);
	return rc;
}

static void kick(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		 const struct ctl_participant *p, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "reason", API_STRING, false }, { "block_seconds", API_INT, false },
	};
	struct ctl *c = rq->c;
	struct ctl_block blk = { 0 };
	char scope[CTL_SCOPE_MAX];
	json_int_t secs = KICK_BLOCK_DEFAULT;
	if (api_check_fields(b, "", fields, 2, rep))
		return;
	json_t *v = json_object_get(b, "reason");
	if (v && json_string_length(v) >= sizeof(blk.reason)) {
		api_error(rep, 400, "invalid_field", "reason: at most 128 bytes");
		return;
	}
	snprintf(blk.reason, sizeof(blk.reason), "%s", v ? json_string_value(v) : "kick");
	if ((v = json_object_get(b, "block_seconds")) &&
	    ((secs = json_integer_value(v)) < 0 || secs > KICK_BLOCK_MAX)) {
		api_error(rep, 400, "invalid_field", "block_seconds: 0..%d", KICK_BLOCK_MAX);
		return;
	}
	if (!a->moderator || (!a->manager && !a->host && !strcmp(p->role, "host"))) {
		api_error(rep, 403, "forbidden", "%s", a->moderator ?
			  "a moderator may not kick a host" : "only a moderator may kick");
		return;
	}
	if (api_mmdp_ready(rq, rep))
		return;
	char raddr[sizeof(blk.remote_addr)];
	int rport = p->remote_port;
	snprintf(raddr, sizeof(raddr), "%s", p->remote_addr);
	/* A browser's 5-tuple is the one mmdp learned from its ICE checks;
	 * one that never bound has none to block. Asked before the
	 * transaction opens: no store lock is held while mmdp answers. */
	if (secs > 0 && p->webrtc.on && learned_remote(c, p->id, raddr, sizeof(raddr), &rport) != 0)
		secs = 0;
	if (api_begin(rq, rep))
		return;
	json_t *ops = json_array();
	json_array_append_new(ops, json_pack("{s:s,s:s}", "op", "endpoint.del", "endpoint", p->id));
	int rc = 0;
	if (secs > 0) {
		snprintf(blk.remote_addr, sizeof(blk.remote_addr), "%s", raddr);
		blk.remote_port = rport;
		snprintf(blk.local_addr, sizeof(blk.local_addr), "%s", c->cfg.media_address);
		blk.local_port = p->local_port;
		blk.expires_at = ctl_now(rq->c) + secs;
		rc = ctl_random_id("b", 8, blk.id, sizeof(blk.id));
		if (!rc)
			rc = ctl_store_block_insert(c->store, &blk);
		json_t *bp = ctl_sync_block_json(&blk, ctl_now(rq->c));
		json_object_set_new(bp, "op", json_string("block.put"));
		json_array_append_new(ops, bp);
	}
	snprintf(scope, sizeof(scope), "participant:%s/%s", r->id, p->id);
	struct ctl_room room = *r;
	if (rc || ctl_store_participant_delete(c->store, p->id) ||
	    ctl_meeting_left(c, &room, p, "kicked") ||
	    ctl_store_token_revoke_scope(c->store, scope) || ctl_webrtc_refresh(c, r, NULL) ||
	    ctl_event_emit(c, r, "participant.kicked",
			   json_pack("{s:s,s:s,s:s}", "participant", p->id, "by", a->by, "reason",
				     json_string_value(json_object_get(b, "reason")) ?: ""),
			   NULL, NULL, NULL)) {
		json_decref(ops);
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot remove participant");
		return;
	}
	if (api_push_commit(rq, json_pack("{s:s,s:o}", "op", "batch", "ops", ops), rep) == 0) {
		rep->status = 204;
		json_decref(rep->body);
		rep->body = NULL;
	}
}

static void hand(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		 struct ctl_participant *p, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = { { "raised", API_BOOL, true } };
	if (api_check_fields(b, "", fields, 1, rep))
		return;
	bool raise = json_is_true(json_object_get(b, "raised"));
	bool self = !strcmp(a->participant, p->id);
	if (raise ? !self : !(self || a->moderator)) {
		api_error(rep, 403, "forbidden", raise ? "only the participant raises its hand" :
			  "only the participant or a moderator lowers a hand");
		return;
	}
	if (api_begin(rq, rep))
		return;
	if (raise != (p->hand_raised_at != 0)) {
		p->hand_raised_at = raise ? ctl_now(rq->c) : 0;
		if (ctl_store_participant_update(rq->c->store, p) ||
		    ctl_event_emit(rq->c, r, "hand",
				   json_pack("{s:s,s:b,s:s}", "participant", p->id, "raised", raise,
					     "by", a->by), NULL, NULL, NULL)) {
			ctl_store_rollback(rq->c->store);
			api_error(rep, 500, "internal", "store: cannot update participant");
			return;
		}
	}
	if (api_commit(rq, rep) == 0)
		api_reply_participant(rq, p, rep);
}

static void role(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		 struct ctl_participant *p, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = { { "role", API_STRING, true } };
	if (api_check_fields(b, "", fields, 1, rep))
		return;
	const char *v = json_string_value(json_object_get(b, "role"));
	if (strcmp(v, "host") && strcmp(v, "moderator") && strcmp(v, "attendee")) {
		api_error(rep, 400, "invalid_field", "role: host, moderator or attendee");
		return;
	}
	if (!a->manager && !a->host) {
		api_error(rep, 403, "forbidden", "only a host (or the operator/tenant) sets roles");
		return;
	}
	if (api_begin(rq, rep))
		return;
	snprintf(p->role, sizeof(p->role), "%s", v);
	if (ctl_store_participant_update(rq->c->store, p) ||
	    ctl_event_emit(rq->c, r, "role",
			   json_pack("{s:s,s:s,s:s}", "participant", p->id, "role", v, "by", a->by),
			   NULL, NULL, NULL)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update participant");
		return;
	}
	if (api_commit(rq, rep) == 0)
		api_reply_participant(rq, p, rep);
}

/* The participant's maximum received resolution (its simulcast layer in
 * mmdp): the participant itself or a moderator; mmdp is told at once. */
static void resolution(struct api_req *rq, const struct api_actor *a,
		       struct ctl_participant *p, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = { { "max_resolution", API_STRING, true } };
	if (api_check_fields(b, "", fields, 1, rep) || api_parse_endpoint_opts(b, p, rep))
		return;
	if (!a->moderator && strcmp(a->participant, p->id)) {
		api_error(rep, 403, "forbidden", "only the participant or a moderator sets its "
			  "resolution");
		return;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	if (ctl_store_participant_update(rq->c->store, p)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update participant");
		return;
	}
	if (api_push_commit(rq, endpoint_put(rq->c, p), rep) == 0)
		api_reply_participant(rq, p, rep);
}

/* POST/PUT /v1/rooms/{room}/participants/{p}/{action} */
void api_participant_action(struct api_req *rq, struct api_reply *rep)
{
	const char *act = rq->parts[4];
	if (!strcmp(act, "offer")) {
		api_webrtc_offer(rq, rep);
		return;
	}
	if (!strcmp(act, "answer")) {
		api_webrtc_answer(rq, rep);
		return;
	}
	bool put = !strcmp(act, "streams") || !strcmp(act, "subscriptions");
	bool post = !strcmp(act, "mute") || !strcmp(act, "unmute") || !strcmp(act, "kick") ||
		    !strcmp(act, "hand") || !strcmp(act, "role") || !strcmp(act, "resolution");
	struct ctl_room r;
	struct ctl_participant p;
	struct api_actor a;
	if (!put && !post) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, put ? "PUT" : "POST")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	json_t *b = rq->body_len ? api_body_object(rq, rep) : json_object();
	if (!b || api_room_load(rq, false, &r, rep) || api_actor_load(rq, &r, &a, rep) ||
	    api_participant_load(rq, &r, &p, rep))
		goto out;
	if (!strcmp(act, "mute") || !strcmp(act, "unmute"))
		mute_one(rq, &r, &a, &p, b, !strcmp(act, "mute"), rep);
	else if (!strcmp(act, "kick"))
		kick(rq, &r, &a, &p, b, rep);
	else if (!strcmp(act, "hand"))
		hand(rq, &r, &a, &p, b, rep);
	else if (!strcmp(act, "role"))
		role(rq, &r, &a, &p, b, rep);
	else if (!strcmp(act, "resolution"))
		resolution(rq, &a, &p, b, rep);
	else if (!strcmp(act, "streams"))
		api_streams_put(rq, &r, &a, &p, b, rep);
	else
		api_subscriptions_put(rq, &r, &a, &p, b, rep);
out:
	json_decref(b);
}
