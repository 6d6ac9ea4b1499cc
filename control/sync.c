/* Pushing mmctld's state to mmdp: single changes with the store's
 * generation, and state.sync of the whole store on (re)connect. */
#include "control/ctl.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* mmdp's kind and simulcast group of each of ours: camera and screen are
 * video to mmdp; the layers of one are a group named after the kind. */
static const char *const SYNC_KIND[CTL_KINDS] = { "audio", "video", "screen" };
static const char *const SYNC_GROUP[CTL_KINDS] = { "audio", "camera", "screen" };

json_t *ctl_sync_endpoint_json(const struct ctl *c, const struct ctl_participant *p)
{
	json_t *streams = json_array();
	for (int k = 0; k < CTL_KINDS; k++) {
		const struct ctl_source *src = &p->src[k];
		for (int l = 0; l < src->layers; l++) {
			json_t *st = src->rid[l][0] ?
				json_pack("{s:s,s:s}", "rid", src->rid[l], "kind", SYNC_KIND[k]) :
				json_pack("{s:I,s:s}", "ssrc", (json_int_t)src->ssrc[l], "kind",
					  SYNC_KIND[k]);
			if (l == 0 && src->out_ssrc)
				json_object_set_new(st, "out_ssrc",
						    json_integer((json_int_t)src->out_ssrc));
			if (src->codec[0])
				json_object_set_new(st, "codec", json_string(src->codec));
			if (src->audio_level_id)
				json_object_set_new(st, "audio_level_id",
						    json_integer(src->audio_level_id));
			if (src->layers > 1) {
				json_object_set_new(st, "group", json_string(SYNC_GROUP[k]));
				json_object_set_new(st, "layer", json_integer(l));
			}
			if (src->rtx_ssrc[l] >= 0)
				json_object_set_new(st, "rtx_ssrc",
						    json_integer((json_int_t)src->rtx_ssrc[l]));
			json_array_append_new(streams, st);
		}
	}
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:i},s:o,s:b,s:b,s:i}",
			      "endpoint", p->id, "room", p->room_id,
			      "local", "addr", c->cfg.media_address, "port", p->local_port,
			      "streams", streams,
			      "audio_muted", p->audio_muted, "video_muted", p->video_muted,
			      "max_layer", p->max_layer);
	const struct ctl_webrtc *w = &p->webrtc;
	if (!w->on) {
		json_object_set_new(o, "remote", json_pack("{s:s,s:i}", "addr", p->remote_addr,
							   "port", p->remote_port));
		json_object_set_new(o, "srtp", json_pack("{s:s,s:s,s:s}", "profile",
							 p->srtp_profile, "in_key", p->key_in,
							 "out_key", p->key_out));
	} else {
		/* A browser: mmdp learns its address from ICE and its keys
		 * from the DTLS handshake (the peer's side once answered). */
		json_object_set_new(o, "ice", json_pack("{s:s,s:s}", "ufrag", w->ice_ufrag,
							"pwd", w->ice_pwd));
		if (w->dtls_fingerprint[0])
			json_object_set_new(o, "dtls", json_pack("{s:s,s:s}", "fingerprint",
								 w->dtls_fingerprint, "setup",
								 w->dtls_setup));
		if (w->twcc_id)
			json_object_set_new(o, "twcc_id", json_integer(w->twcc_id));
		if (w->rid_id)
			json_object_set_new(o, "rid_id", json_integer(w->rid_id));
	}
	if (p->rtx_pt)
		json_object_set_new(o, "rtx_pt", json_integer(p->rtx_pt));
	return o;
}

json_t *ctl_sync_room_json(const struct ctl_room *r)
{
	return json_pack("{s:s,s:i,s:i,s:i}", "room", r->id, "capacity", r->capacity,
			 "last_n", r->last_n, "video_last_n", r->video_last_n);
}

json_t *ctl_sync_block_json(const struct ctl_block *b, int64_t now)
{
	int64_t ttl = b->expires_at - now;
	return json_pack("{s:s,s:{s:s,s:i},s:{s:s,s:i},s:I}", "block", b->id,
			 "remote", "addr", b->remote_addr, "port", b->remote_port,
			 "local", "addr", b->local_addr, "port", b->local_port,
			 "ttl_seconds", (json_int_t)(ttl < 1 ? 1 : ttl));
}

/* A list being filled, and the time its TTLs count from. */
struct sync_list_arg {
	json_t *arr;
	int64_t now;
};

static int sync_add_block(void *arg, const struct ctl_block *b)
{
	struct sync_list_arg *a = arg;
	return json_array_append_new(a->arr, ctl_sync_block_json(b, a->now)) ? -ENOMEM : 0;
}

json_t *ctl_sync_ban_json(const struct ctl_ban *b, int64_t now)
{
	int64_t ttl = b->expires_at - now;
	return json_pack("{s:s,s:s,s:I}", "ban", b->id, "prefix", b->prefix, "ttl_seconds",
			 (json_int_t)(ttl < 1 ? 1 : ttl));
}

static int sync_add_ban(void *arg, const struct ctl_ban *b)
{
	struct sync_list_arg *a = arg;
	return json_array_append_new(a->arr, ctl_sync_ban_json(b, a->now)) ? -ENOMEM : 0;
}

static int sync_add_room(void *arg, const struct ctl_room *r)
{
	json_t *room = ctl_sync_room_json(r);
	json_object_set_new(room, "route", json_pack("{s:s}", "mode", "all"));
	return json_array_append_new(arg, room) ? -ENOMEM : 0;
}

struct sync_ep_arg {
	const struct ctl *c;
	json_t *eps;
};

static int sync_add_endpoint(void *arg, const struct ctl_participant *p)
{
	struct sync_ep_arg *a = arg;
	return json_array_append_new(a->eps, ctl_sync_endpoint_json(a->c, p)) ? -ENOMEM : 0;
}

int ctl_sync_full(struct ctl *c)
{
	uint64_t gen;
	json_t *rooms = json_array(), *eps = json_array(), *blocks = json_array(), *reply = NULL;
	json_t *bans = json_array();
	struct sync_ep_arg ea = { c, eps };
	struct sync_list_arg ba = { blocks, ctl_now(c) }, na = { bans, ba.now };
	int rc = ctl_store_generation_get(c->store, &gen);
	/* Never behind mmdp's own: mmdp refuses a stale state.sync, and after
	 * a change pushed but not committed (see mmdp_generation) the store's
	 * is one behind. The whole state replaces mmdp's, so it is current. */
	if (gen < c->mmdp_generation)
		gen = c->mmdp_generation;
	if (!rc)
		rc = ctl_store_room_list(c->store, NULL, sync_add_room, rooms);
	if (!rc)
		rc = ctl_store_participant_list(c->store, NULL, sync_add_endpoint, &ea);
	if (!rc)
		rc = ctl_store_block_list(c->store, ba.now, sync_add_block, &ba);
	if (!rc)
		rc = ctl_store_ban_list(c->store, na.now, sync_add_ban, &na);
	if (rc) {
		json_decref(bans);
		json_decref(rooms);
		json_decref(eps);
		json_decref(blocks);
		return rc;
	}
	json_t *req = json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}", "op", "state.sync", "generation",
				(json_int_t)gen, "rooms", rooms, "endpoints", eps,
				"blocks", blocks, "bans", bans);
	rc = ctl_mmdp_call(&c->mmdp, req, &reply);
	json_decref(req);
	if (rc)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char *s = json_dumps(reply, JSON_COMPACT);
		mm_err("state_sync_refused", "error=%s", mm_q(s ? s : "?"));
		free(s);
		json_decref(reply);
		/* Keep the connection but retry the sync on the next change. */
		ctl_mmdp_close(&c->mmdp);
		return -EPROTO;
	}
	c->mmdp_generation = gen;
	json_decref(reply);
	return 0;
}

/* hello: what this mmdp is; keeps its DTLS certificate fingerprint ("" when
 * it gives none: an mmdp without browser support). mmdp's generation in
 * *gen. */
static int sync_hello(struct ctl *c, uint64_t *gen)
{
	json_t *req = json_pack("{s:s}", "op", "hello"), *reply = NULL;
	int rc = ctl_mmdp_call(&c->mmdp, req, &reply);
	json_decref(req);
	if (rc)
		return rc;
	c->mmdp_generation = (uint64_t)json_integer_value(json_object_get(reply, "generation"));
	const char *fp = json_string_value(json_object_get(reply, "dtls_fingerprint"));
	snprintf(c->dtls_fingerprint, sizeof(c->dtls_fingerprint), "%s",
		 fp && !strncmp(fp, "sha-256 ", 8) && strlen(fp) < sizeof(c->dtls_fingerprint) ?
			 fp : "");
	json_t *g = json_object_get(reply, "generation");
	*gen = json_is_integer(g) && json_integer_value(g) > 0 ? (uint64_t)json_integer_value(g) : 0;
	json_decref(reply);
	return 0;
}

int ctl_sync_ensure(struct ctl *c)
{
	if (ctl_mmdp_connected(&c->mmdp) && !ctl_mmdp_peer_gone(&c->mmdp))
		return 0;
	int rc = ctl_mmdp_connect(&c->mmdp);
	if (rc)
		return rc;
	uint64_t mmdp_gen = 0;
	rc = sync_hello(c, &mmdp_gen);
	/* mmdp may be ahead of the store: a change whose reply did not come
	 * within the client's timeout (mmdp's agent waits for its workers,
	 * which a starved CPU can hold back for seconds) was rolled back here
	 * and applied there. The store is the truth: state.sync replaces
	 * mmdp's state with it, at a generation mmdp accepts. Without this
	 * every state.sync was refused (stale_generation) until mmdp
	 * restarted, and every change got 503 (found by the chaos test). */
	/* Best effort: ctl_sync_full and every push already number above
	 * mmdp's generation (c->mmdp_generation, from this hello), so a store
	 * that cannot be written (a full disk) must not stop the resync that
	 * puts mmdp back in step with it. */
	if (!rc && ctl_store_generation_raise(c->store, mmdp_gen))
		mm_warn("generation_not_raised", "mmdp_generation=%llu",
			(unsigned long long)mmdp_gen);
	if (!rc)
		rc = ctl_sync_full(c);
	if (rc) {
		ctl_mmdp_close(&c->mmdp);
	} else {
		c->mmdp_conn++;
		mm_info("state_synced", "path=%s", mm_q(c->mmdp.path));
	}
	return rc;
}

enum ctl_push_result ctl_sync_push(struct ctl *c, json_t *req, char *err, size_t errlen)
{
	json_t *reply = NULL;
	uint64_t gen;
	enum ctl_push_result res = CTL_PUSH_OK;

	if (ctl_store_generation_bump(c->store, c->mmdp_generation, &gen) == 0)
		json_object_set_new(req, "generation", json_integer((json_int_t)gen));
	int rc = ctl_mmdp_call(&c->mmdp, req, &reply);
	json_decref(req);
	if (rc) {
		snprintf(err, errlen, "mmdp is not reachable (%s)", strerror(-rc));
		return CTL_PUSH_UNAVAILABLE;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_t *e = json_object_get(reply, "error");
		snprintf(err, errlen, "mmdp refused: %s: %s",
			 json_string_value(json_object_get(e, "code")) ?: "?",
			 json_string_value(json_object_get(e, "message")) ?: "");
		const char *code = json_string_value(json_object_get(e, "code")) ?: "";
		res = !strcmp(code, "not_found") ? CTL_PUSH_NOT_FOUND :
		      !strcmp(code, "draining") ? CTL_PUSH_DRAINING : CTL_PUSH_REFUSED;
		/* mmdp ahead of the store (see ctl_sync_ensure): this change is
		 * refused, and the next request resyncs on a new connection. */
		if (!strcmp(code, "stale_generation")) {
			ctl_mmdp_close(&c->mmdp);
			res = CTL_PUSH_UNAVAILABLE;
		}
	} else if (json_is_integer(json_object_get(reply, "generation"))) {
		c->mmdp_generation =
			(uint64_t)json_integer_value(json_object_get(reply, "generation"));
	}
	json_decref(reply);
	return res;
}
