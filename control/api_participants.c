/* POST /v1/rooms/{id}/participants (join) and
 * DELETE /v1/rooms/{id}/participants/{pid} (leave). */
#include "control/api.h"
#include "control/meeting.h"
#include "control/plans.h"

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

/* An SSRC value at path: 0 with *out set, or rep set to 400. */
static int parse_ssrc(json_t *v, const char *path, int64_t *out, struct api_reply *rep)
{
	json_int_t n = json_integer_value(v);
	if (!json_is_integer(v) || n < 0 || n > 0xffffffffLL) {
		api_error(rep, 400, "invalid_field", "%s: must be an integer 0..4294967295", path);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* An SSRC or an array of 1..CTL_LAYERS_MAX of them (one per simulcast
 * layer, lowest first) into out; *n how many. */
static int parse_ssrc_list(json_t *one, json_t *many, const char *path, int64_t *out, int *n,
			   struct api_reply *rep)
{
	char p[64];
	size_t i;
	json_t *v;
	*n = 0;
	if (one) {
		snprintf(p, sizeof(p), "%s", path);
		if (parse_ssrc(one, p, &out[0], rep))
			return -EINVAL;
		*n = 1;
	}
	if (!many)
		return 0;
	if (json_array_size(many) < 1 || json_array_size(many) > CTL_LAYERS_MAX) {
		api_error(rep, 400, "invalid_field", "%ss: 1..%d SSRCs (one per layer)", path,
			  CTL_LAYERS_MAX);
		return -EINVAL;
	}
	int64_t first = out[0];
	json_array_foreach(many, i, v) {
		snprintf(p, sizeof(p), "%ss[%zu]", path, i);
		if (parse_ssrc(v, p, &out[i], rep))
			return -EINVAL;
	}
	if (one && out[0] != first) {
		api_error(rep, 400, "invalid_field", "%s: must be %ss[0] when both are given",
			  path, path);
		return -EINVAL;
	}
	*n = (int)json_array_size(many);
	return 0;
}

/* One element of "streams" into src (kind k). */
static int parse_source(json_t *s, size_t i, int k, struct ctl_source *src,
			struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "kind", API_STRING, true }, { "ssrc", API_INT, false },
		{ "ssrcs", API_ARRAY, false }, { "rtx_ssrc", API_INT, false },
		{ "rtx_ssrcs", API_ARRAY, false }, { "codec", API_STRING, false },
		{ "audio_level_id", API_INT, false },
	};
	char path[64];
	int n;
	if (api_check_fields(s, "streams[].", fields, 7, rep))
		return -EINVAL;
	json_t *ssrc = json_object_get(s, "ssrc"), *ssrcs = json_object_get(s, "ssrcs");
	json_t *rtx = json_object_get(s, "rtx_ssrc"), *rtxs = json_object_get(s, "rtx_ssrcs");
	json_t *codec = json_object_get(s, "codec"), *level = json_object_get(s, "audio_level_id");
	bool audio = k == CTL_KIND_AUDIO;
	if (!ssrc && !ssrcs) {
		api_error(rep, 400, "missing_field", "streams[%zu].ssrc: required (or ssrcs)", i);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "streams[%zu].ssrc", i);
	if (parse_ssrc_list(ssrc, ssrcs, path, src->ssrc, &src->layers, rep))
		return -EINVAL;
	if (audio && src->layers > 1) {
		api_error(rep, 400, "invalid_field", "streams[%zu].ssrcs: audio has one layer", i);
		return -EINVAL;
	}
	if (audio && (rtx || rtxs)) {
		api_error(rep, 400, "invalid_field", "streams[%zu].%s: no RTX for audio", i,
			  rtx ? "rtx_ssrc" : "rtx_ssrcs");
		return -EINVAL;
	}
	if (rtx && src->layers > 1) {
		api_error(rep, 400, "invalid_field", "streams[%zu].rtx_ssrc: with several layers "
			  "give rtx_ssrcs, one per layer", i);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "streams[%zu].rtx_ssrc", i);
	if (parse_ssrc_list(rtx, rtxs, path, src->rtx_ssrc, &n, rep))
		return -EINVAL;
	if (rtxs && n != src->layers) {
		api_error(rep, 400, "invalid_field", "streams[%zu].rtx_ssrcs: one per layer (%d)",
			  i, src->layers);
		return -EINVAL;
	}
	if (codec) {
		const char *c = json_string_value(codec);
		bool ok = audio ? !strcmp(c, "opus") : !strcmp(c, "vp8") || !strcmp(c, "h264");
		if (!ok) {
			api_error(rep, 400, "invalid_field", "streams[%zu].codec: %s", i,
				  audio ? "opus for audio" : "vp8 or h264 for video");
			return -EINVAL;
		}
		snprintf(src->codec, sizeof(src->codec), "%s", c);
	}
	if (level) {
		json_int_t id = json_integer_value(level);
		if (!audio || id < 1 || id > 14) {
			api_error(rep, 400, "invalid_field", "streams[%zu].audio_level_id: %s", i,
				  audio ? "1..14" : "audio only");
			return -EINVAL;
		}
		src->audio_level_id = (int)id;
	}
	return 0;
}

int api_parse_streams(json_t *arr, struct ctl_participant *p, struct api_reply *rep)
{
	static const char *const kinds[CTL_KINDS] = { "audio", "camera", "screen" };
	int64_t seen[CTL_KINDS * CTL_LAYERS_MAX * 2];
	int nseen = 0, streams = 0;
	size_t i;
	json_t *s;
	memset(p->src, 0, sizeof(p->src));
	for (int k = 0; k < CTL_KINDS; k++)
		for (int l = 0; l < CTL_LAYERS_MAX; l++)
			p->src[k].ssrc[l] = p->src[k].rtx_ssrc[l] = -1;
	if (!arr)
		return 0;
	json_array_foreach(arr, i, s) {
		int k;
		if (!json_is_object(s)) {
			api_error(rep, 400, "invalid_field", "streams[%zu]: must be an object", i);
			return -EINVAL;
		}
		const char *kind = json_string_value(json_object_get(s, "kind"));
		for (k = 0; kind && k < CTL_KINDS && strcmp(kinds[k], kind); k++)
			;
		if (kind && k == CTL_KINDS) {
			api_error(rep, 400, "invalid_field",
				  "streams[%zu].kind: audio, camera or screen", i);
			return -EINVAL;
		}
		if (kind && p->src[k].layers) {
			api_error(rep, 400, "invalid_field", "streams: more than one %s stream", kind);
			return -EINVAL;
		}
		struct ctl_source src = { 0 };
		for (int l = 0; l < CTL_LAYERS_MAX; l++)
			src.ssrc[l] = src.rtx_ssrc[l] = -1;
		if (parse_source(s, i, kind ? k : 0, &src, rep))
			return -EINVAL;
		/* Every SSRC (RTX too) names one stream of this participant. */
		for (int l = 0; l < 2 * CTL_LAYERS_MAX; l++) {
			int64_t v = l < CTL_LAYERS_MAX ? src.ssrc[l] : src.rtx_ssrc[l - CTL_LAYERS_MAX];
			if (v < 0)
				continue;
			for (int j = 0; j < nseen; j++)
				if (seen[j] == v) {
					api_error(rep, 400, "invalid_field",
						  "streams: SSRC %lld used twice", (long long)v);
					return -EINVAL;
				}
			seen[nseen++] = v;
		}
		streams += src.layers;
		if (streams > CTL_STREAMS_MAX) {
			api_error(rep, 400, "invalid_field", "streams: at most %d streams (layers)",
				  CTL_STREAMS_MAX);
			return -EINVAL;
		}
		p->src[k] = src;
	}
	return 0;
}

int api_parse_endpoint_opts(json_t *b, struct ctl_participant *p, struct api_reply *rep)
{
	json_t *v = json_object_get(b, "rtx_pt");
	if (v) {
		json_int_t pt = json_integer_value(v);
		if (pt != 0 && (pt < 96 || pt > 127)) {
			api_error(rep, 400, "invalid_field", "rtx_pt: 96..127 (0: no RTX)");
			return -EINVAL;
		}
		p->rtx_pt = (int)pt;
	}
	if ((v = json_object_get(b, "max_resolution"))) {
		int l;
		for (l = 0; l < 3 && strcmp(json_string_value(v), api_resolutions[l]); l++)
			;
		if (l == 3) {
			api_error(rep, 400, "invalid_field",
				  "max_resolution: \"low\", \"medium\" or \"high\"");
			return -EINVAL;
		}
		p->max_layer = l;
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
	p->max_layer = 2;
	json_t *remote = json_object_get(b, "remote"), *streams = json_object_get(b, "streams");
	if (json_is_true(json_object_get(b, "webrtc"))) {
		/* A browser: its address comes from ICE, its streams and RTX
		 * from its SDP answer. */
		if (remote || streams || json_object_get(b, "rtx_pt")) {
			api_error(rep, 400, "invalid_field", "%s: not with \"webrtc\": true (the "
				  "SDP answer says it)", remote ? "remote" : streams ? "streams" :
				  "rtx_pt");
			return -EINVAL;
		}
		return api_parse_streams(NULL, p, rep) || api_parse_endpoint_opts(b, p, rep) ?
			-EINVAL : 0;
	}
	if (!remote) {
		api_error(rep, 400, "missing_field", "remote: required (or \"webrtc\": true)");
		return -EINVAL;
	}
	if (join_remote(remote, p, rep) || api_parse_streams(streams, p, rep) ||
	    api_parse_endpoint_opts(b, p, rep))
		return -EINVAL;
	return 0;
}

static bool role_valid(const char *role)
{
	return !strcmp(role, "host") || !strcmp(role, "moderator") || !strcmp(role, "attendee");
}

void api_join_room_as(struct api_req *rq, const struct ctl_room *r, const char *role,
		      const char *account, json_t *b, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_participant p = { 0 };
	char scope[CTL_SCOPE_MAX], token[CTL_TOKEN_LEN + 1], tid[CTL_ID_MAX];
	int n = 0;

	if (join_parse(b, &p, rep))
		return;
	snprintf(p.role, sizeof(p.role), "%s", role);
	snprintf(p.account, sizeof(p.account), "%s", account ? account : "");
	if (ctl_random_id("p", 8, p.id, sizeof(p.id)) || join_keys(c, &p)) {
		api_error(rep, 500, "internal", "no randomness");
		return;
	}
	snprintf(p.room_id, sizeof(p.room_id), "%s", r->id);
	p.joined_at = ctl_now(rq->c);
	if (api_mmdp_ready(rq, rep) ||
	    (json_is_true(json_object_get(b, "webrtc")) && api_webrtc_prepare(rq, &p, rep)) ||
	    api_begin(rq, rep))
		return;
	/* Every way in (invite, join token, the app's direct join) passes
	 * the room's access list here, in the join's own transaction, with
	 * the capacity and the plan's limits. */
	if (api_access_check(rq, r, account, rep))
		goto fail;
	if (ctl_store_participant_count(c->store, r->id, &n)) {
		api_error(rep, 500, "internal", "store: cannot count participants");
		goto fail;
	}
	if (n == 0 && api_refuse_draining(rq, rep))
		goto fail;   /* the first join would start a meeting */
	if (n >= r->capacity) {
		api_error(rep, 409, "room_full", "room %s is full (%d of %d)", r->id, n, r->capacity);
		goto fail;
	}
	if (api_plan_admit(rq, r, n, rep))
		goto fail;
	int rc = ctl_store_port_free(c->store, c->cfg.port_lo, c->cfg.port_hi, ctl_now(c), &p.local_port);
	if (rc == -ENOSPC) {
		api_error(rep, 503, "no_ports", "every port of port_range is in use");
		goto fail;
	}
	snprintf(scope, sizeof(scope), "participant:%s/%s", r->id, p.id);
	struct ctl_room room = *r;
	if (rc || ctl_store_participant_insert(c->store, &p) ||
	    ctl_meeting_joined(c, &room, &p) ||
	    api_token_issue(c, scope, p.joined_at + PARTICIPANT_TOKEN_TTL, token, sizeof(token),
			    tid, sizeof(tid)) ||
	    ctl_event_emit(c, r, "participant.joined",
			   json_pack("{s:s,s:s,s:s}", "participant", p.id, "display_name",
				     p.display_name, "role", p.role), NULL, NULL, NULL) ||
	    ctl_webrtc_refresh(c, r, p.id)) {
		api_error(rep, 500, "internal", "store: cannot insert participant");
		goto fail;
	}
	json_t *webrtc = p.webrtc.on ? api_webrtc_join_json(c, &p) : NULL;
	if (p.webrtc.on && !webrtc) {
		api_error(rep, 500, "internal", "store: cannot make the offer");
		goto fail;
	}
	json_t *put = ctl_sync_endpoint_json(c, &p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	if (api_push_commit(rq, put, rep)) {
		json_decref(webrtc);
		return;
	}
	rep->status = 201;
	json_decref(rep->body);
	rep->body = api_participant_json(c, &p);
	json_object_set_new(rep->body, "room", json_string(r->id));
	json_object_set_new(rep->body, "token", json_string(token));
	if (webrtc) {
		json_object_set_new(rep->body, "transport",
				    json_pack("{s:{s:s,s:i}}", "server", "addr",
					      c->cfg.media_address, "port", p.local_port));
		json_object_set_new(rep->body, "webrtc", webrtc);
		return;
	}
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
		{ "remote", API_OBJECT, false }, { "streams", API_ARRAY, false },
		{ "rtx_pt", API_INT, false }, { "max_resolution", API_STRING, false },
		{ "webrtc", API_BOOL, false }, { "account", API_STRING, false },
	};
	struct ctl_room r;
	json_t *b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 8, rep))
		goto out;
	json_t *v = json_object_get(b, "role");
	const char *role = v ? json_string_value(v) : "attendee";
	if (!role_valid(role)) {
		api_error(rep, 400, "invalid_field", "role: host, moderator or attendee");
		goto out;
	}
	if (api_room_load(rq, true, &r, rep))
		goto out;
	/* The app's backend names the tenant's account that joins; the
	 * room's access list admits it or not, as for a join token. */
	const char *account = json_string_value(json_object_get(b, "account"));
	if (account && api_room_account(rq, &r, account, rep))
		goto out;
	api_join_room_as(rq, &r, role, account ? account : "", b, rep);
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
	if (ctl_store_participant_delete(c->store, p.id) || ctl_meeting_left(c, &r, &p, "left") ||
	    ctl_store_token_revoke_scope(c->store, scope) || ctl_webrtc_refresh(c, &r, NULL) ||
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
