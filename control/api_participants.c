/* POST /v1/rooms/{id}/participants (join) and
 * DELETE /v1/rooms/{id}/participants/{pid} (leave). */
#include "control/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dataplane/core/srtp.h"
#include "dataplane/proto/base64.h"

/* Participant tokens live as long as a long meeting. */
#define PARTICIPANT_TOKEN_TTL (24 * 3600)

static int join_remote(json_t *remote, struct ctl_participant *p, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "addr", API_STRING, true }, { "port", API_INT, true },
	};
	unsigned char buf[16];
	if (api_check_fields(remote, "remote.", fields, 2, rep))
		return -EINVAL;
	const char *addr = json_string_value(json_object_get(remote, "addr"));
	json_int_t port = json_integer_value(json_object_get(remote, "port"));
	if (strlen(addr) >= sizeof(p->remote_addr) ||
	    (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)) {
		api_error(rep, 400, "invalid_field", "remote.addr: not an IP address");
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		api_error(rep, 400, "invalid_field", "remote.port: must be 1..65535");
		return -EINVAL;
	}
	snprintf(p->remote_addr, sizeof(p->remote_addr), "%s", addr);
	p->remote_port = (int)port;
	return 0;
}

int api_parse_streams(json_t *arr, struct ctl_participant *p, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "kind", API_STRING, true }, { "ssrc", API_INT, true },
	};
	static const char *const kinds[] = { "audio", "camera", "screen" };
	int64_t *slot[] = { &p->ssrc_audio, &p->ssrc_video, &p->ssrc_screen };
	size_t i;
	json_t *s;
	p->ssrc_audio = p->ssrc_video = p->ssrc_screen = -1;
	if (!arr)
		return 0;
	json_array_foreach(arr, i, s) {
		int k;
		if (!json_is_object(s)) {
			api_error(rep, 400, "invalid_field", "streams[%zu]: must be an object", i);
			return -EINVAL;
		}
		if (api_check_fields(s, "streams[].", fields, 2, rep))
			return -EINVAL;
		const char *kind = json_string_value(json_object_get(s, "kind"));
		json_int_t ssrc = json_integer_value(json_object_get(s, "ssrc"));
		for (k = 0; k < 3 && strcmp(kinds[k], kind); k++)
			;
		if (k == 3) {
			api_error(rep, 400, "invalid_field",
				  "streams[%zu].kind: audio, camera or screen", i);
			return -EINVAL;
		}
		if (ssrc < 0 || ssrc > 0xffffffffLL) {
			api_error(rep, 400, "invalid_field", "streams[%zu].ssrc: 0..4294967295", i);
			return -EINVAL;
		}
		if (*slot[k] >= 0) {
			api_error(rep, 400, "invalid_field", "streams: more than one %s stream", kind);
			return -EINVAL;
		}
		for (int j = 0; j < 3; j++)
			if (*slot[j] == ssrc) {
				api_error(rep, 400, "invalid_field", "streams: SSRC %lld used twice",
					  (long long)ssrc);
				return -EINVAL;
			}
		*slot[k] = ssrc;
	}
	return 0;
}

/* Fresh master key + salt for each direction, base64 as mmdp wants. */
static int join_keys(const struct ctl *c, struct ctl_participant *p)
{
	uint8_t raw[MM_SRTP_MASTER_MAX];
	int rc;
	snprintf(p->srtp_profile, sizeof(p->srtp_profile), "%s", c->cfg.srtp_profile);
	if ((rc = ctl_random(raw, c->key_len)))
		return rc;
	mm_b64_encode(raw, c->key_len, p->key_in);
	if ((rc = ctl_random(raw, c->key_len)))
		return rc;
	mm_b64_encode(raw, c->key_len, p->key_out);
	memset(raw, 0, sizeof(raw));
	return 0;
}

/* Validate the join fields of b into p (no store access). */
static int join_parse(json_t *b, struct ctl_participant *p, struct api_reply *rep)
{
	json_t *v = json_object_get(b, "display_name");
	if (json_string_length(v) == 0 || json_string_length(v) >= sizeof(p->display_name)) {
		api_error(rep, 400, "invalid_field", "display_name: must be 1..128 bytes");
		return -EINVAL;
	}
	snprintf(p->display_name, sizeof(p->display_name), "%s", json_string_value(v));
	if (join_remote(json_object_get(b, "remote"), p, rep) ||
	    api_parse_streams(json_object_get(b, "streams"), p, rep))
		return -EINVAL;
	return 0;
}

static bool role_valid(const char *role)
{
	return !strcmp(role, "host") || !strcmp(role, "moderator") || !strcmp(role, "attendee");
}

void api_join_room(struct api_req *rq, const struct ctl_room *r, const char *role, json_t *b,
		   struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_participant p = { 0 };
	char scope[CTL_SCOPE_MAX], token[CTL_TOKEN_LEN + 1], tid[CTL_ID_MAX];
	int n = 0;

	if (join_parse(b, &p, rep))
		return;
	snprintf(p.role, sizeof(p.role), "%s", role);
	if (ctl_random_id("p", 8, p.id, sizeof(p.id)) || join_keys(c, &p)) {
		api_error(rep, 500, "internal", "no randomness");
		return;
	}
	snprintf(p.room_id, sizeof(p.room_id), "%s", r->id);
	p.joined_at = (int64_t)time(NULL);
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	if (ctl_store_participant_count(c->store, r->id, &n)) {
		api_error(rep, 500, "internal", "store: cannot count participants");
		goto fail;
	}
	if (n >= r->capacity) {
		api_error(rep, 409, "room_full", "room %s is full (%d of %d)", r->id, n, r->capacity);
		goto fail;
	}
	int rc = ctl_store_port_free(c->store, c->cfg.port_lo, c->cfg.port_hi, &p.local_port);
	if (rc == -ENOSPC) {
		api_error(rep, 503, "no_ports", "every port of port_range is in use");
		goto fail;
	}
	snprintf(scope, sizeof(scope), "participant:%s/%s", r->id, p.id);
	if (rc || ctl_store_participant_insert(c->store, &p) ||
	    api_token_issue(c, scope, p.joined_at + PARTICIPANT_TOKEN_TTL, token, sizeof(token),
			    tid, sizeof(tid)) ||
	    ctl_event_emit(c, r, "participant.joined",
			   json_pack("{s:s,s:s,s:s}", "participant", p.id, "display_name",
				     p.display_name, "role", p.role), NULL, NULL, NULL)) {
		api_error(rep, 500, "internal", "store: cannot insert participant");
		goto fail;
	}
	json_t *put = ctl_sync_endpoint_json(c, &p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	if (api_push_commit(rq, put, rep))
		return;
	rep->status = 201;
	json_decref(rep->body);
	rep->body = api_participant_json(c, &p);
	json_object_set_new(rep->body, "room", json_string(r->id));
	json_object_set_new(rep->body, "token", json_string(token));
	json_object_set_new(rep->body, "transport",
			    json_pack("{s:{s:s,s:i},s:{s:s,s:s,s:s}}",
				      "server", "addr", c->cfg.media_address, "port", p.local_port,
				      "srtp", "profile", p.srtp_profile, "key_to_server", p.key_in,
				      "key_from_server", p.key_out));
	return;
fail:
	ctl_store_rollback(c->store);
}

void api_participant_join(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "display_name", API_STRING, true }, { "role", API_STRING, false },
		{ "remote", API_OBJECT, true }, { "streams", API_ARRAY, false },
	};
	struct ctl_room r;
	json_t *b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 4, rep))
		goto out;
	json_t *v = json_object_get(b, "role");
	const char *role = v ? json_string_value(v) : "attendee";
	if (!role_valid(role)) {
		api_error(rep, 400, "invalid_field", "role: host, moderator or attendee");
		goto out;
	}
	if (api_room_load(rq, true, &r, rep))
		goto out;
	api_join_room(rq, &r, role, b, rep);
out:
	json_decref(b);
}

int api_actor_load(struct api_req *rq, const struct ctl_room *r, struct api_actor *a,
		   struct api_reply *rep)
{
	memset(a, 0, sizeof(*a));
	if (rq->scope.kind != CTL_SCOPE_PARTICIPANT) {
		/* api_room_load already checked the tenant owns the room. */
		a->moderator = a->manager = true;
		snprintf(a->by, sizeof(a->by), "%s",
			 rq->scope.kind == CTL_SCOPE_OPERATOR ? "operator" : "tenant");
		return 0;
	}
	struct ctl_participant self;
	if (strcmp(rq->scope.room, r->id) ||
	    ctl_store_participant_get(rq->c->store, rq->scope.participant, &self) ||
	    strcmp(self.room_id, r->id)) {
		api_error(rep, 403, "forbidden", "token is not of a participant of room %s", r->id);
		return -EPERM;
	}
	a->host = !strcmp(self.role, "host");
	a->moderator = a->host || !strcmp(self.role, "moderator");
	snprintf(a->participant, sizeof(a->participant), "%s", self.id);
	snprintf(a->by, sizeof(a->by), "%s", self.id);
	return 0;
}

int api_participant_load(struct api_req *rq, const struct ctl_room *r,
			 struct ctl_participant *p, struct api_reply *rep)
{
	const char *pid = rq->parts[3];
	int rc = ctl_store_participant_get(rq->c->store, pid, p);
	if (rc == -ENOENT || (!rc && strcmp(p->room_id, r->id))) {
		api_error(rep, 404, "not_found", "no participant %s in room %s", pid, r->id);
		return -ENOENT;
	}
	if (rc)
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
	return rc;
}

void api_participant_get(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	struct ctl_participant p;
	if (api_room_load(rq, false, &r, rep) || api_participant_load(rq, &r, &p, rep))
		return;
	api_reply_participant(rq, &p, rep);
}

void api_participant_leave(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_room r;
	struct ctl_participant p;
	struct api_actor a;
	char scope[CTL_SCOPE_MAX];

	if (api_room_load(rq, false, &r, rep) || api_actor_load(rq, &r, &a, rep) ||
	    api_participant_load(rq, &r, &p, rep))
		return;
	/* A participant may leave itself; a moderator may remove anyone. */
	if (!a.moderator && strcmp(a.participant, p.id)) {
		api_error(rep, 403, "forbidden", "only a moderator may remove another participant");
		return;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	snprintf(scope, sizeof(scope), "participant:%s/%s", r.id, p.id);
	if (ctl_store_participant_delete(c->store, p.id) ||
	    ctl_store_token_revoke_scope(c->store, scope) ||
	    ctl_event_emit(c, &r, "participant.left",
			   json_pack("{s:s,s:s}", "participant", p.id, "by", a.by), NULL, NULL,
			   NULL)) {
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot delete participant");
		return;
	}
	if (api_push_commit(rq, json_pack("{s:s,s:s}", "op", "endpoint.del", "endpoint", p.id),
			    rep) == 0) {
		rep->status = 204;
		json_decref(rep->body);
		rep->body = NULL;
	}
}
