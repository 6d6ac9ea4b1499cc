/* Browsers (docs/api.md "Browsers (WebRTC)"): the offer mmctld makes for
 * each browser participant, kept with a version and the table of its
 * sendonly m-lines (mid -> another participant's stream; never reused),
 * GET .../offer, POST .../answer (the answer's streams and DTLS side go to
 * mmdp), and renegotiation: whenever the streams of a room change, every
 * browser participant whose offer text changes gets the next version and a
 * private `renegotiate` event. */
#include "control/api.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sdp.h"

#define ICE_UFRAG_LEN 8
#define ICE_PWD_LEN 24

static const char *const WEBRTC_KINDS[CTL_KINDS] = { "audio", "camera", "screen" };

/* n random ice-chars ([A-Za-z0-9+/], 64 of them: uniform from a byte). */
static int webrtc_ice_chars(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[64];
	if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = set[raw[i] & 63];
	out[n] = '\0';
	return 0;
}

int api_webrtc_prepare(struct api_req *rq, struct ctl_participant *p, struct api_reply *rep)
{
	if (!rq->c->dtls_fingerprint[0]) {
		api_error(rep, 503, "mmdp_unavailable", "mmdp gave no dtls_fingerprint in its hello: "
			  "it cannot take browsers (ICE/DTLS); upgrade mmdp");
		return -ENOTSUP;
	}
	p->webrtc.on = true;
	if (webrtc_ice_chars(p->webrtc.ice_ufrag, ICE_UFRAG_LEN) ||
	    webrtc_ice_chars(p->webrtc.ice_pwd, ICE_PWD_LEN)) {
		api_error(rep, 500, "internal", "no randomness");
		return -EIO;
	}
	return 0;
}

/* ---- offers ------------------------------------------------------------- */

struct webrtc_room {
	struct ctl_participant *p;
	size_t n, cap;
};

static int webrtc_collect(void *arg, const struct ctl_participant *p)
{
	struct webrtc_room *a = arg;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		struct ctl_participant *np = realloc(a->p, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		a->p = np;
		a->cap = cap;
	}
	a->p[a->n++] = *p;
	return 0;
}

/* The SSRC receivers see a source under, and its RTX; false when mmdp
 * cannot tell receivers yet (nothing published). */
static bool webrtc_seen(const struct ctl_source *src, int64_t *ssrc, int64_t *rtx)
{
	if (!src->layers)
		return false;
	*ssrc = src->out_ssrc ? src->out_ssrc : src->ssrc[0];
	/* mmdp retransmits a group's copies on its layer 0's rtx_ssrc; a
	 * source known by RID has none mmdp could announce. */
	*rtx = src->rid[0][0] ? -1 : src->rtx_ssrc[0];
	return *ssrc >= 0;
}

/* Rebuild x's offer from the room's participants (all, x among them). */
static int webrtc_refresh_one(struct ctl *c, const struct ctl_room *r,
			      const struct ctl_participant *x, const struct webrtc_room *room,
			      bool fresh)
{
	struct ctl_offer off = { 0 };
	struct ctl_offer_mid *mids = NULL;
	struct ctl_sdp_send *send = NULL;
	char *text = NULL;
	size_t n = 0;
	int rc = ctl_store_offer_get(c->store, x->id, &off);
	if (rc == -ENOENT) {
		uint32_t sid;
		rc = ctl_random(&sid, sizeof(sid));
		off = (struct ctl_offer){ .version = 0, .session_id = sid & 0x7fffffff,
					  .next_mid = 1 };
	}
	if (rc || (rc = ctl_store_offer_mids(c->store, x->id, &mids, &n)))
		goto out;
	bool *matched = calloc(n + 1, sizeof(bool));
	if (!matched) {
		rc = -ENOMEM;
		goto out;
	}
	/* Every stream of the others: its m-line, or a new one. */
	for (size_t i = 0; i < room->n && !rc; i++) {
		const struct ctl_participant *p = &room->p[i];
		if (!strcmp(p->id, x->id))
			continue;
		for (int k = 0; k < CTL_KINDS && !rc; k++) {
			int64_t ssrc, rtx;
			if (!webrtc_seen(&p->src[k], &ssrc, &rtx))
				continue;
			size_t j;
			for (j = 0; j < n; j++)
				if (mids[j].active && !matched[j] && !strcmp(mids[j].publisher, p->id) &&
				    !strcmp(mids[j].kind, WEBRTC_KINDS[k]) && mids[j].ssrc == ssrc)
					break;
			if (j < n) {
				matched[j] = true;
				if (mids[j].rtx_ssrc != rtx) {
					mids[j].rtx_ssrc = rtx;
					rc = ctl_store_offer_mid_put(c->store, x->id, &mids[j]);
				}
				continue;
			}
			struct ctl_offer_mid m = { .mid = off.next_mid++, .ssrc = ssrc,
						   .rtx_ssrc = rtx, .active = true };
			snprintf(m.publisher, sizeof(m.publisher), "%s", p->id);
			snprintf(m.kind, sizeof(m.kind), "%s", WEBRTC_KINDS[k]);
			rc = ctl_store_offer_mid_put(c->store, x->id, &m);
			struct ctl_offer_mid *nm = realloc(mids, (n + 1) * sizeof(*nm));
			bool *nmt = realloc(matched, (n + 2) * sizeof(bool));
			if (nmt)
				matched = nmt;
			if (!nm || !nmt) {
				if (nm)
					mids = nm;
				rc = -ENOMEM;
				break;
			}
			mids = nm;
			mids[n] = m;
			matched[n++] = true;
		}
	}
	/* Streams that are gone: their m-lines become inactive for good. */
	for (size_t j = 0; j < n && !rc; j++)
		if (mids[j].active && !matched[j]) {
			mids[j].active = false;
			rc = ctl_store_offer_mid_put(c->store, x->id, &mids[j]);
		}
	free(matched);
	if (rc)
		goto out;
	send = calloc(n + 1, sizeof(*send));
	if (!send) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < n; j++) {
		const char *k = mids[j].kind;
		send[j] = (struct ctl_sdp_send){
			.mid = (unsigned)mids[j].mid, .active = mids[j].active,
			.kind = !strcmp(k, "audio") ? CTL_SDP_MIC :
				!strcmp(k, "camera") ? CTL_SDP_CAM : CTL_SDP_SCR,
			.publisher = mids[j].publisher, .ssrc = (uint32_t)mids[j].ssrc,
			.rtx_ssrc = (uint32_t)(mids[j].rtx_ssrc >= 0 ? mids[j].rtx_ssrc : 0),
			.has_rtx = mids[j].rtx_ssrc >= 0,
		};
	}
	struct ctl_sdp_offer o = {
		.session_id = (uint64_t)off.session_id, .version = (uint64_t)off.version,
		.ice_ufrag = x->webrtc.ice_ufrag, .ice_pwd = x->webrtc.ice_pwd,
		.fingerprint = c->dtls_fingerprint, .addr = c->cfg.media_address,
		.port = x->local_port, .send = send, .nsend = n,
	};
	/* The same text under the same version: nothing changed for x. */
	text = ctl_sdp_offer_build(&o);
	if (text && off.sdp && !strcmp(text, off.sdp))
		goto out;
	free(text);
	o.version = (uint64_t)++off.version;
	text = ctl_sdp_offer_build(&o);
	if (!text) {
		rc = -EINVAL;
		goto out;
	}
	free(off.sdp);
	off.sdp = text;
	text = NULL;
	off.answered = false;
	rc = ctl_store_offer_put(c->store, x->id, &off);
	if (!rc && !fresh)
		rc = ctl_event_emit(c, r, "renegotiate",
				    json_pack("{s:s,s:I}", "participant", x->id, "version",
					      (json_int_t)off.version), x->id, x->id, NULL);
out:
	free(text);
	free(send);
	free(mids);
	free(off.sdp);
	return rc;
}

int ctl_webrtc_refresh(struct ctl *c, const struct ctl_room *r, const char *fresh)
{
	struct webrtc_room room = { 0 };
	int rc = ctl_store_participant_list(c->store, r->id, webrtc_collect, &room);
	/* Without mmdp's fingerprint no offer can be made: the ones there
	 * stay as they are until an mmdp that has one is back. */
	for (size_t i = 0; !rc && c->dtls_fingerprint[0] && i < room.n; i++)
		if (room.p[i].webrtc.on)
			rc = webrtc_refresh_one(c, r, &room.p[i], &room,
						fresh && !strcmp(fresh, room.p[i].id));
	free(room.p);
	return rc;
}

/* ---- GET .../offer, POST .../answer -------------------------------------- */

/* The room, the actor and the participant of the request; only the
 * participant itself or a manager (operator, tenant) goes on. */
static int webrtc_load(struct api_req *rq, struct ctl_room *r, struct ctl_participant *p,
		       struct api_reply *rep)
{
	struct api_actor a;
	if (api_room_load(rq, false, r, rep) || api_actor_load(rq, r, &a, rep) ||
	    api_participant_load(rq, r, p, rep))
		return -EINVAL;
	if (!a.manager && strcmp(a.participant, p->id)) {
		api_error(rep, 403, "forbidden", "only the participant itself (or the operator or "
			  "tenant) negotiates its media");
		return -EPERM;
	}
	if (!p->webrtc.on) {
		api_error(rep, 409, "not_webrtc", "participant %s did not join with \"webrtc\": "
			  "true", p->id);
		return -EINVAL;
	}
	return 0;
}

void api_webrtc_offer(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	struct ctl_participant p;
	struct ctl_offer off = { 0 };
	if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (webrtc_load(rq, &r, &p, rep))
		return;
	int rc = ctl_store_offer_get(rq->c->store, p.id, &off);
	if (rc) {
		api_error(rep, rc == -ENOENT ? 404 : 500, rc == -ENOENT ? "not_found" : "internal",
			  "no offer for participant %s", p.id);
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:I,s:s,s:b}", "version", (json_int_t)off.version, "sdp", off.sdp,
			      "answered", off.answered);
	free(off.sdp);
}

/* A source from one answered m-line the server receives on (mic, cam,
 * scr); prev is the participant's source before, whose out_ssrc a source
 * known by the same RIDs keeps (so receivers' offers do not change). */
static int webrtc_source(const struct ctl_sdp_media *om, const struct ctl_sdp_media *m,
			 int kind, const struct ctl_source *prev, struct ctl_source *src)
{
	memset(src, 0, sizeof(*src));
	for (int l = 0; l < CTL_LAYERS_MAX; l++)
		src->ssrc[l] = src->rtx_ssrc[l] = -1;
	if (!m->port || m->dir != CTL_SDP_SENDONLY)
		return 0;
	snprintf(src->codec, sizeof(src->codec), "%s", m->codec);
	if (kind == CTL_KIND_AUDIO && m->ext_audio_level == CTL_SDP_EXT_AUDIO_LEVEL)
		src->audio_level_id = CTL_SDP_EXT_AUDIO_LEVEL;
	if (m->nssrc > 1 || (m->nssrc == 1 && !m->nrid)) {
		src->layers = m->nssrc;
		for (int l = 0; l < m->nssrc; l++) {
			src->ssrc[l] = m->ssrc[l];
			if (m->has_rtx[l])
				src->rtx_ssrc[l] = m->rtx_ssrc[l];
		}
		return 0;
	}
	/* By RID, lowest layer first as the offer lists them (l, m, h). */
	for (int k = 0; k < om->nrid; k++)
		for (int j = 0; j < m->nrid; j++)
			if (!strcmp(om->rid[k], m->rid[j]))
				snprintf(src->rid[src->layers++], sizeof(src->rid[0]), "%s", m->rid[j]);
	bool same = prev->layers == src->layers && prev->out_ssrc;
	for (int l = 0; same && l < src->layers; l++)
		same = !strcmp(prev->rid[l], src->rid[l]);
	if (same) {
		src->out_ssrc = prev->out_ssrc;
		return 0;
	}
	uint32_t v = 0;
	while (!v)
		if (ctl_random(&v, sizeof(v)))
			return -EIO;
	src->out_ssrc = v;
	return 0;
}

static bool webrtc_sources_equal(const struct ctl_source *a, const struct ctl_source *b)
{
	for (int k = 0; k < CTL_KINDS; k++) {
		if (a[k].layers != b[k].layers || a[k].out_ssrc != b[k].out_ssrc ||
		    strcmp(a[k].codec, b[k].codec))
			return false;
		for (int l = 0; l < a[k].layers; l++)
			if (a[k].ssrc[l] != b[k].ssrc[l] || a[k].rtx_ssrc[l] != b[k].rtx_ssrc[l] ||
			    strcmp(a[k].rid[l], b[k].rid[l]))
				return false;
	}
	return true;
}

/* The answer's state into p (no store access): streams, RTX payload type,
 * extension ids, the peer's ICE ufrag and DTLS side. */
static int webrtc_apply(const struct ctl_sdp *o, const struct ctl_sdp *a,
			struct ctl_participant *p, struct api_reply *rep)
{
	struct ctl_source src[CTL_KINDS];
	int64_t seen[CTL_KINDS * CTL_LAYERS_MAX * 2];
	int nseen = 0, streams = 0;
	if (a->nm < 3 || strcmp(o->m[0].mid, "mic") || strcmp(o->m[1].mid, "cam") ||
	    strcmp(o->m[2].mid, "scr")) {
		api_error(rep, 500, "internal", "stored offer is not of this shape");
		return -EIO;
	}
	for (int k = 0; k < CTL_KINDS; k++)
		if (webrtc_source(&o->m[k], &a->m[k], k, &p->src[k], &src[k])) {
			api_error(rep, 500, "internal", "no randomness");
			return -EIO;
		}
	for (int k = 0; k < CTL_KINDS; k++) {
		streams += src[k].layers;
		for (int l = 0; l < 2 * CTL_LAYERS_MAX; l++) {
			int64_t v = l < CTL_LAYERS_MAX ? src[k].ssrc[l] : src[k].rtx_ssrc[l - 3];
			if (v < 0)
				continue;
			for (int j = 0; j < nseen; j++)
				if (seen[j] == v) {
					api_error(rep, 400, "invalid_sdp", "SSRC %lld used twice",
						  (long long)v);
					return -EINVAL;
				}
			seen[nseen++] = v;
		}
	}
	if (streams > CTL_STREAMS_MAX) {
		api_error(rep, 400, "invalid_sdp", "over %d streams (layers)", CTL_STREAMS_MAX);
		return -EINVAL;
	}
	/* RTX mmdp sends this receiver: the payload type of its camera's
	 * codec when it kept that, else any it kept. */
	int rtx_pt = 0, twcc = 0;
	for (size_t i = 1; i < a->nm; i++) {
		const struct ctl_sdp_media *m = &a->m[i];
		if (!m->port || m->dir == CTL_SDP_INACTIVE)
			continue;
		if (m->ext_twcc == CTL_SDP_EXT_TWCC)
			twcc = CTL_SDP_EXT_TWCC;
		if (m->audio || m->rtx_pt < 0)
			continue;
		if (!rtx_pt || (i == 1))
			rtx_pt = m->rtx_pt;
	}
	if (a->m[0].port && a->m[0].dir != CTL_SDP_INACTIVE &&
	    a->m[0].ext_twcc == CTL_SDP_EXT_TWCC)
		twcc = CTL_SDP_EXT_TWCC;
	memcpy(p->src, src, sizeof(src));
	p->rtx_pt = rtx_pt;
	p->webrtc.twcc_id = twcc;
	p->webrtc.rid_id = src[CTL_KIND_CAMERA].rid[0][0] && a->m[1].ext_rid == CTL_SDP_EXT_RID ?
				   CTL_SDP_EXT_RID : 0;
	snprintf(p->webrtc.remote_ufrag, sizeof(p->webrtc.remote_ufrag), "%s", a->ice_ufrag);
	snprintf(p->webrtc.dtls_fingerprint, sizeof(p->webrtc.dtls_fingerprint), "%s",
		 a->fingerprint);
	snprintf(p->webrtc.dtls_setup, sizeof(p->webrtc.dtls_setup), "%s", a->setup);
	return 0;
}

void api_webrtc_answer(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "version", API_INT, true }, { "sdp", API_STRING, true },
	};
	struct ctl *c = rq->c;
	struct ctl_room r;
	struct ctl_participant p;
	struct ctl_offer off = { 0 };
	struct ctl_sdp o = { 0 }, a = { 0 };
	char err[320];
	json_t *b = NULL;
	if (strcmp(rq->method, "POST")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (!(b = api_body_object(rq, rep)) || api_check_fields(b, "", fields, 2, rep) ||
	    webrtc_load(rq, &r, &p, rep))
		goto out;
	int rc = ctl_store_offer_get(c->store, p.id, &off);
	if (rc) {
		api_error(rep, rc == -ENOENT ? 404 : 500, rc == -ENOENT ? "not_found" : "internal",
			  "no offer for participant %s", p.id);
		goto out;
	}
	json_int_t version = json_integer_value(json_object_get(b, "version"));
	if (version != off.version) {
		api_error(rep, 409, "stale_offer", "version %lld is not the current offer (%lld): "
			  "GET the offer again", (long long)version, (long long)off.version);
		goto out;
	}
	const char *sdp = json_string_value(json_object_get(b, "sdp"));
	size_t sdp_len = json_string_length(json_object_get(b, "sdp"));
	if (ctl_sdp_parse((const uint8_t *)off.sdp, strlen(off.sdp), &o, err, sizeof(err))) {
		api_error(rep, 500, "internal", "stored offer does not parse: %s", err);
		goto out;
	}
	if (ctl_sdp_parse((const uint8_t *)sdp, sdp_len, &a, err, sizeof(err)) ||
	    ctl_sdp_answer_check(&o, &a, err, sizeof(err))) {
		api_error(rep, 400, "invalid_sdp", "%s", err);
		goto out;
	}
	struct ctl_source before[CTL_KINDS];
	memcpy(before, p.src, sizeof(before));
	if (webrtc_apply(&o, &a, &p, rep))
		goto out;
	bool changed = !webrtc_sources_equal(before, p.src);
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out;
	off.answered = true;
	if (ctl_store_participant_update(c->store, &p) || ctl_store_offer_put(c->store, p.id, &off) ||
	    (changed && ctl_webrtc_refresh(c, &r, NULL))) {
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot take the answer");
		goto out;
	}
	json_t *put = ctl_sync_endpoint_json(c, &p);
	json_object_set_new(put, "op", json_string("endpoint.put"));
	if (api_push_commit(rq, put, rep))
		goto out;
	json_decref(rep->body);
	rep->status = 200;
	rep->body = json_pack("{s:I,s:o}", "version", (json_int_t)off.version, "participant",
			      api_participant_json(c, &p));
out:
	ctl_sdp_free(&o);
	ctl_sdp_free(&a);
	free(off.sdp);
	json_decref(b);
}

json_t *api_webrtc_join_json(struct ctl *c, const struct ctl_participant *p)
{
	struct ctl_offer off = { 0 };
	if (ctl_store_offer_get(c->store, p->id, &off))
		return NULL;
	json_t *o = json_pack("{s:I,s:s}", "version", (json_int_t)off.version, "offer", off.sdp);
	free(off.sdp);
	return o;
}
