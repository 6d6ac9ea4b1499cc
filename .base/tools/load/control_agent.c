/* Setting the meeting up through mmdp's agent socket
 * (docs/agent-protocol.md): room.put per room, then one batch of
 * endpoint.put per room (server port, participant address, streams, SRTP
 * keys mmload made up); mutes are endpoint.put again with audio_muted.
 * The SFU fields (docs/agent-protocol.md "Meetings of 100") only when asked
 * for: room.put last_n and video_last_n, per stream audio_level_id (with
 * --last-n), group and layer (--simulcast: one group per camera), rtx_ssrc
 * (video and screen, in SFU mode), per endpoint max_layer and rtx_pt;
 * --pref-change is endpoint.put again with another max_layer. */
#include "tools/load/run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/proto/base64.h"

int ld_agent_call(struct ld_run *R, json_t *req, json_t **reply, const char *what)
{
	json_t *rep = NULL;
	int rc = req ? sim_agent_call(&R->agent, req, &rep) : -ENOMEM;
	json_decref(req);
	if (rc) {
		fprintf(stderr, "mmload: %s: agent socket: %s\n", what, strerror(-rc));
		return rc;
	}
	if (!sim_reply_ok(rep)) {
		char *t = json_dumps(rep, JSON_COMPACT);
		fprintf(stderr, "mmload: %s refused: %s\n", what, t ? t : "?");
		free(t);
		json_decref(rep);
		return -EPROTO;
	}
	if (reply)
		*reply = rep;
	else
		json_decref(rep);
	return 0;
}

json_t *ld_agent_stats(struct ld_run *R)
{
	if (!R->have_agent)
		return NULL;
	json_t *rep = NULL;
	if (ld_agent_call(R, json_pack("{ss}", "op", "stats.get"), &rep, "stats.get") != 0)
		return NULL;
	return rep;
}

static json_t *srtp_json(const struct ld_part *p)
{
	char in[mm_b64_encoded_len(MM_SRTP_MASTER_MAX) + 1], out[sizeof(in)];
	mm_b64_encode(p->key_in.master, p->key_in.master_len, in);
	mm_b64_encode(p->key_out.master, p->key_out.master_len, out);
	json_t *o = json_pack("{ssssss}", "profile", mm_srtp_profile_name(p->srtp), "in_key", in,
			      "out_key", out);
	explicit_bzero(in, sizeof(in));
	explicit_bzero(out, sizeof(out));
	return o;
}

static json_t *endpoint_json(const struct ld_run *R, const struct ld_part *p, bool audio_muted)
{
	char room[LD_NAME_MAX];
	ld_room_name(R, p->room, room, sizeof(room));
	json_t *streams = json_array();
	for (uint32_t s = R->sc.part_first[p->id]; s < R->sc.part_first[p->id + 1]; s++) {
		const struct ld_stream *st = &R->sc.streams[s];
		const struct ld_conf *c = &R->sc.conf;
		json_t *j = json_pack("{sIsssIss}", "ssrc", (json_int_t)st->ssrc, "kind",
				      ld_kind_name(st->kind), "clock_rate", (json_int_t)st->clock_rate,
				      "codec", st->kind == LD_AUDIO ? "opus" : "vp8");
		if (j && st->kind == LD_AUDIO && c->last_n >= 0)
			json_object_set_new(j, "audio_level_id", json_integer(c->audio_level_id));
		if (j && st->kind == LD_VIDEO && c->simulcast) {
			json_object_set_new(j, "group", json_string("cam"));
			json_object_set_new(j, "layer", json_integer(st->layer));
		}
		if (j && st->kind != LD_AUDIO && ld_conf_sfu(c))
			json_object_set_new(j, "rtx_ssrc", json_integer((json_int_t)st->rtx_ssrc));
		json_array_append_new(streams, j);
	}
	json_t *o = json_pack("{sssssss{sssi}s{sssi}sbsbso}", "op", "endpoint.put", "endpoint",
			      p->name, "room", room, "local", "addr", p->server_addr, "port",
			      (int)p->server_port, "remote", "addr", p->addr, "port", (int)p->port,
			      "audio_muted", audio_muted, "video_muted", false, "streams", streams);
	/* memif: the participants sit behind mmload's port; tell mmdp its MAC. */
	if (o && R->o.io == LD_IO_MEMIF && json_object_set_new(o, "mac", json_string(p->mac)) != 0) {
		json_decref(o);
		return NULL;
	}
	int max_layer = __atomic_load_n(&p->max_layer, __ATOMIC_RELAXED);
	if (o && max_layer >= 0 && json_object_set_new(o, "max_layer", json_integer(max_layer)) != 0) {
		json_decref(o);
		return NULL;
	}
	if (o && R->sc.conf.rtx_pt > 0 &&
	    json_object_set_new(o, "rtx_pt", json_integer(R->sc.conf.rtx_pt)) != 0) {
		json_decref(o);
		return NULL;
	}
	if (o && p->srtp != MM_SRTP_NONE && json_object_set_new(o, "srtp", srtp_json(p)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int agent_setup(struct ld_run *R)
{
	char room[LD_NAME_MAX];
	for (uint32_t r = 0; r < (uint32_t)R->sc.conf.rooms; r++) {
		ld_room_name(R, r, room, sizeof(room));
		json_t *rep = NULL;
		/* A room left by an earlier run would hold stale endpoints. */
		if (sim_agent_callf(&R->agent, &rep, "{ssss}", "op", "room.del", "room", room) == 0)
			json_decref(rep);
		json_t *put = json_pack("{sssssi}", "op", "room.put", "room", room, "capacity",
					(int)R->sc.parts_per_room);
		if (put && R->sc.conf.last_n >= 0)
			json_object_set_new(put, "last_n", json_integer(R->sc.conf.last_n));
		if (put && R->sc.conf.video_last_n >= 0)
			json_object_set_new(put, "video_last_n", json_integer(R->sc.conf.video_last_n));
		int rc = ld_agent_call(R, put, NULL, "room.put");
		if (rc)
			return rc;
		json_t *ops = json_array();
		for (uint32_t i = 0; i < R->sc.parts_per_room; i++)
			json_array_append_new(ops, endpoint_json(R, &R->parts[r * R->sc.parts_per_room + i],
								 false));
		rc = ld_agent_call(R, json_pack("{ssso}", "op", "batch", "ops", ops), NULL,
				   "endpoint.put batch");
		if (rc)
			return rc;
	}
	return 0;
}

static int agent_mute(struct ld_run *R, uint32_t p, bool muted)
{
	int rc = ld_agent_call(R, endpoint_json(R, &R->parts[p], muted), NULL,
			       muted ? "mute (endpoint.put)" : "unmute (endpoint.put)");
	if (!rc)
		R->parts[p].audio_muted = muted;
	return rc;
}

static int agent_max_layer(struct ld_run *R, uint32_t p, int layer)
{
	int old = R->parts[p].max_layer;
	__atomic_store_n(&R->parts[p].max_layer, layer, __ATOMIC_RELAXED);
	int rc = ld_agent_call(R, endpoint_json(R, &R->parts[p], R->parts[p].audio_muted), NULL,
			       "--pref-change (endpoint.put max_layer)");
	if (rc)
		__atomic_store_n(&R->parts[p].max_layer, old, __ATOMIC_RELAXED);
	return rc;
}

static void agent_teardown(struct ld_run *R)
{
	char room[LD_NAME_MAX];
	if (R->o.keep)
		return;
	for (uint32_t r = 0; r < (uint32_t)R->sc.conf.rooms; r++) {
		ld_room_name(R, r, room, sizeof(room));
		json_t *rep = NULL;
		if (sim_agent_callf(&R->agent, &rep, "{ssss}", "op", "room.del", "room", room) == 0)
			json_decref(rep);
	}
}

const struct ld_control ld_control_agent = {
	.name = "agent",
	.forwarder = "mmdp",
	.setup = agent_setup,
	.mute = agent_mute,
	.max_layer = agent_max_layer,
	.teardown = agent_teardown,
};
