/* Whole-meeting actions (mute many, end) and each participant's streams and
 * subscriptions. */
#include "control/api.h"
#include "control/meeting.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SUBSCRIPTIONS_MAX (2 * 100)   /* camera + screen of every other participant */

struct mute_all_arg {
	struct api_req *rq;
	const struct ctl_room *r;
	const struct api_actor *a;
	json_t *except;                /* array of ids */
	bool except_moderators, audio, video;
	json_t *ops, *muted;
};

static bool in_list(json_t *arr, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), id))
			return true;
	return false;
}

static int mute_all_one(void *arg, const struct ctl_participant *cp)
{
	struct mute_all_arg *m = arg;
	struct ctl_participant p = *cp;
	struct ctl *c = m->rq->c;
	if (in_list(m->except, p.id) ||
	    (m->except_moderators && (!strcmp(p.role, "host") || !strcmp(p.role, "moderator"))))
		return 0;
	bool changed = (m->audio && !p.audio_muted) || (m->video && !p.video_muted);
	if (!changed)
		return 0;
	p.audio_muted |= m->audio;
	p.video_muted |= m->video;
	int rc = ctl_store_participant_update(c->store, &p);
	if (!rc)
		rc = ctl_event_emit(c, m->r, "mute",
				    json_pack("{s:s,s:b,s:b,s:s}", "participant", p.id,
					      "audio_muted", p.audio_muted, "video_muted",
					      p.video_muted, "by", m->a->by), NULL, NULL, NULL);
	if (rc)
		return rc;
	json_t *put = ctl_sync_endpoint_json(c, &p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	json_array_append_new(m->ops, put);
	json_array_append_new(m->muted, json_string(p.id));
	return 0;
}

/* POST /v1/rooms/{room}/mute */
void api_mute_all(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "audio", API_BOOL, false }, { "video", API_BOOL, false },
		{ "except", API_ARRAY, false }, { "except_moderators", API_BOOL, false },
	};
	struct ctl_room r;
	struct api_actor a;
	struct mute_all_arg m = { .rq = rq, .r = &r, .a = &a };
	json_t *b = rq->body_len ? api_body_object(rq, rep) : json_object();
	size_t i;
	json_t *v;

	if (!b || api_check_fields(b, "", fields, 4, rep) || api_room_load(rq, false, &r, rep) ||
	    api_actor_load(rq, &r, &a, rep))
		goto out;
	json_t *au = json_object_get(b, "audio"), *vi = json_object_get(b, "video");
	m.audio = au ? json_is_true(au) : !vi;
	m.video = vi && json_is_true(vi);
	m.except_moderators = !json_is_false(json_object_get(b, "except_moderators"));
	if (!m.audio && !m.video) {
		api_error(rep, 400, "invalid_field", "audio, video: at least one must be true");
		goto out;
	}
	if (!a.moderator) {
		api_error(rep, 403, "forbidden", "only a moderator may mute the meeting");
		goto out;
	}
	m.except = json_object_get(b, "except");
	m.except = m.except ? json_incref(m.except) : json_array();
	json_array_foreach(m.except, i, v) {
		struct ctl_participant p;
		if (!json_is_string(v) || ctl_store_participant_get(rq->c->store,
								    json_string_value(v), &p) ||
		    strcmp(p.room_id, r.id)) {
			api_error(rep, 400, "invalid_field", "except[%zu]: not a participant of "
				  "room %s", i, r.id);
			goto out_except;
		}
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out_except;
	m.ops = json_array();
	m.muted = json_array();
	if (ctl_store_participant_list(rq->c->store, r.id, mute_all_one, &m)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update participants");
		goto out_ops;
	}
	int rc = json_array_size(m.ops) ?
		api_push_commit(rq, json_pack("{s:s,s:O}", "op", "batch", "ops", m.ops), rep) :
		api_commit(rq, rep);
	if (rc == 0) {
		rep->status = 200;
		json_decref(rep->body);
		rep->body = json_pack("{s:O}", "muted", m.muted);
	}
out_ops:
	json_decref(m.ops);
	json_decref(m.muted);
out_except:
	json_decref(m.except);
out:
	json_decref(b);
}

/* POST /v1/rooms/{room}/end: everyone out; an ad-hoc room goes, a fixed
 * room stays for its next meeting. */
void api_room_end(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_room r;
	struct api_actor a;
	if (api_room_load(rq, false, &r, rep) || api_actor_load(rq, &r, &a, rep))
		return;
	if (!a.moderator) {
		api_error(rep, 403, "forbidden", "only a moderator may end the meeting");
		return;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	json_t *req;
	if (ctl_meeting_end(c, &r, "ended", a.by, false, &req)) {
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot end the meeting");
		return;
	}
	if (api_push_commit(rq, req, rep) == 0) {
		rep->status = 204;
		json_decref(rep->body);
		rep->body = NULL;
	}
}

void api_streams_put(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		     struct ctl_participant *p, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "streams", API_ARRAY, true }, { "rtx_pt", API_INT, false },
	};
	(void)r;
	if (api_check_fields(b, "", fields, 2, rep) ||
	    api_parse_streams(json_object_get(b, "streams"), p, rep) ||
	    api_parse_endpoint_opts(b, p, rep))
		return;
	if (!a->manager && strcmp(a->participant, p->id)) {
		api_error(rep, 403, "forbidden", "only the participant itself sets its streams");
		return;
	}
	if (p->webrtc.on) {
		api_error(rep, 409, "webrtc_streams", "a browser's streams come from its SDP "
			  "answer (POST .../answer)");
		return;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	if (ctl_store_participant_update(rq->c->store, p) || ctl_webrtc_refresh(rq->c, r, NULL)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update participant");
		return;
	}
	json_t *put = ctl_sync_endpoint_json(rq->c, p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	if (api_push_commit(rq, put, rep) == 0)
		api_reply_participant(rq, p, rep);
}

static int parse_subscription(struct api_req *rq, const struct ctl_room *r,
			      const struct ctl_participant *self, json_t *s, size_t i,
			      struct ctl_subscription *out, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "publisher", API_STRING, true }, { "kind", API_STRING, true },
		{ "max_height", API_INT, true },
	};
	struct ctl_participant pub;
	if (!json_is_object(s)) {
		api_error(rep, 400, "invalid_field", "subscriptions[%zu]: must be an object", i);
		return -EINVAL;
	}
	if (api_check_fields(s, "subscriptions[].", fields, 3, rep))
		return -EINVAL;
	const char *pid = json_string_value(json_object_get(s, "publisher"));
	const char *kind = json_string_value(json_object_get(s, "kind"));
	json_int_t h = json_integer_value(json_object_get(s, "max_height"));
	if (strcmp(kind, "camera") && strcmp(kind, "screen")) {
		api_error(rep, 400, "invalid_field", "subscriptions[%zu].kind: camera or screen", i);
		return -EINVAL;
	}
	if (h < 90 || h > 4320) {
		api_error(rep, 400, "invalid_field", "subscriptions[%zu].max_height: 90..4320", i);
		return -EINVAL;
	}
	if (!strcmp(pid, self->id) || strlen(pid) >= sizeof(out->publisher) ||
	    ctl_store_participant_get(rq->c->store, pid, &pub) || strcmp(pub.room_id, r->id)) {
		api_error(rep, 400, "invalid_field", "subscriptions[%zu].publisher: not another "
			  "participant of room %s", i, r->id);
		return -EINVAL;
	}
	snprintf(out->publisher, sizeof(out->publisher), "%s", pid);
	snprintf(out->kind, sizeof(out->kind), "%s", kind);
	out->max_height = (int)h;
	return 0;
}

void api_subscriptions_put(struct api_req *rq, const struct ctl_room *r,
			   const struct api_actor *a, struct ctl_participant *p, json_t *b,
			   struct api_reply *rep)
{
	static const struct api_field fields[] = { { "subscriptions", API_ARRAY, true } };
	struct ctl_subscription subs[SUBSCRIPTIONS_MAX];
	json_t *arr, *s;
	size_t i;
	if (api_check_fields(b, "", fields, 1, rep))
		return;
	arr = json_object_get(b, "subscriptions");
	if (json_array_size(arr) > SUBSCRIPTIONS_MAX) {
		api_error(rep, 400, "invalid_field", "subscriptions: at most %d",
			  SUBSCRIPTIONS_MAX);
		return;
	}
	if (!a->manager && strcmp(a->participant, p->id)) {
		api_error(rep, 403, "forbidden", "only the participant itself sets its subscriptions");
		return;
	}
	json_array_foreach(arr, i, s) {
		if (parse_subscription(rq, r, p, s, i, &subs[i], rep))
			return;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(subs[j].publisher, subs[i].publisher) &&
			    !strcmp(subs[j].kind, subs[i].kind)) {
				api_error(rep, 400, "invalid_field", "subscriptions[%zu]: duplicate "
					  "publisher and kind", i);
				return;
			}
	}
	if (api_begin(rq, rep))
		return;
	if (ctl_store_subscriptions_set(rq->c->store, p->id, subs, json_array_size(arr))) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot store subscriptions");
		return;
	}
	if (api_commit(rq, rep) == 0)
		api_reply_participant(rq, p, rep);
}
