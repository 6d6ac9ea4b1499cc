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

static int join_ssrcs(json_t *ss, struct ctl_participant *p, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "audio", API_INT, false }, { "video", API_INT, false },
	};
	p->ssrc_audio = p->ssrc_video = -1;
	if (!ss)
		return 0;
	if (api_check_fields(ss, "ssrcs.", fields, 2, rep))
		return -EINVAL;
	json_t *a = json_object_get(ss, "audio"), *v = json_object_get(ss, "video");
	if ((a && (json_integer_value(a) < 0 || json_integer_value(a) > 0xffffffffLL)) ||
	    (v && (json_integer_value(v) < 0 || json_integer_value(v) > 0xffffffffLL))) {
		api_error(rep, 400, "invalid_field", "ssrcs: SSRCs are 0..4294967295");
		return -EINVAL;
	}
	if (a && v && json_integer_value(a) == json_integer_value(v)) {
		api_error(rep, 400, "invalid_field", "ssrcs: audio and video must differ");
		return -EINVAL;
	}
	p->ssrc_audio = a ? json_integer_value(a) : -1;
	p->ssrc_video = v ? json_integer_value(v) : -1;
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

/* Validate the body into p (no store access). */
static int join_parse(json_t *b, struct ctl_participant *p, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "display_name", API_STRING, true }, { "role", API_STRING, false },
		{ "remote", API_OBJECT, true }, { "ssrcs", API_OBJECT, false },
	};
	if (api_check_fields(b, "", fields, 4, rep))
		return -EINVAL;
	json_t *v = json_object_get(b, "display_name");
	if (json_string_length(v) == 0 || json_string_length(v) >= sizeof(p->display_name)) {
		api_error(rep, 400, "invalid_field", "display_name: must be 1..128 bytes");
		return -EINVAL;
	}
	snprintf(p->display_name, sizeof(p->display_name), "%s", json_string_value(v));
	v = json_object_get(b, "role");
	snprintf(p->role, sizeof(p->role), "%s", v ? json_string_value(v) : "attendee");
	if (strcmp(p->role, "host") && strcmp(p->role, "moderator") && strcmp(p->role, "attendee")) {
		api_error(rep, 400, "invalid_field", "role: host, moderator or attendee");
		return -EINVAL;
	}
	if (join_remote(json_object_get(b, "remote"), p, rep) ||
	    join_ssrcs(json_object_get(b, "ssrcs"), p, rep))
		return -EINVAL;
	return 0;
}

void api_participant_join(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_participant p = { 0 };
	struct ctl_room r;
	char scope[CTL_SCOPE_MAX], token[CTL_TOKEN_LEN + 1], tid[CTL_ID_MAX];
	int n = 0;
	json_t *b = api_body_object(rq, rep);

	if (!b || join_parse(b, &p, rep) || api_room_load(rq, true, &r, rep))
		goto out;
	if (ctl_random_id("p", 8, p.id, sizeof(p.id)) || join_keys(c, &p)) {
		api_error(rep, 500, "internal", "no randomness");
		goto out;
	}
	snprintf(p.room_id, sizeof(p.room_id), "%s", r.id);
	p.joined_at = (int64_t)time(NULL);
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out;
	if (ctl_store_participant_count(c->store, r.id, &n)) {
		api_error(rep, 500, "internal", "store: cannot count participants");
		goto fail;
	}
	if (n >= r.capacity) {
		api_error(rep, 409, "room_full", "room %s is full (%d of %d)", r.id, n, r.capacity);
		goto fail;
	}
	int rc = ctl_store_port_free(c->store, c->cfg.port_lo, c->cfg.port_hi, &p.local_port);
	if (rc == -ENOSPC) {
		api_error(rep, 503, "no_ports", "every port of port_range is in use");
		goto fail;
	}
	snprintf(scope, sizeof(scope), "participant:%s/%s", r.id, p.id);
	if (rc || ctl_store_participant_insert(c->store, &p) ||
	    api_token_issue(c, scope, p.joined_at + PARTICIPANT_TOKEN_TTL, token, sizeof(token),
			    tid, sizeof(tid))) {
		api_error(rep, 500, "internal", "store: cannot insert participant");
		goto fail;
	}
	json_t *put = ctl_sync_endpoint_json(c, &p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	if (api_push_commit(rq, put, rep))
		goto out;
	rep->status = 201;
	json_decref(rep->body);
	rep->body = api_participant_json(c, &p);
	json_object_set_new(rep->body, "room", json_string(r.id));
	json_object_set_new(rep->body, "token", json_string(token));
	json_object_set_new(rep->body, "transport",
			    json_pack("{s:{s:s,s:i},s:{s:s,s:s,s:s}}",
				      "server", "addr", c->cfg.media_address, "port", p.local_port,
				      "srtp", "profile", p.srtp_profile, "key_to_server", p.key_in,
				      "key_from_server", p.key_out));
	goto out;
fail:
	ctl_store_rollback(c->store);
out:
	json_decref(b);
}

void api_participant_leave(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_room r;
	struct ctl_participant p;
	char scope[CTL_SCOPE_MAX];
	const char *pid = rq->parts[3];

	/* A participant may leave itself; operator/tenant may remove anyone. */
	bool self = rq->scope.kind == CTL_SCOPE_PARTICIPANT &&
		    !strcmp(rq->scope.room, rq->parts[1]) && !strcmp(rq->scope.participant, pid);
	if (api_room_load(rq, !self, &r, rep))
		return;
	if (ctl_store_participant_get(c->store, pid, &p) || strcmp(p.room_id, r.id)) {
		api_error(rep, 404, "not_found", "no participant %s in room %s", pid, r.id);
		return;
	}
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	snprintf(scope, sizeof(scope), "participant:%s/%s", r.id, p.id);
	if (ctl_store_participant_delete(c->store, p.id) ||
	    ctl_store_token_revoke_scope(c->store, scope)) {
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
