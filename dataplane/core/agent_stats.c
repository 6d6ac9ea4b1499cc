/* Agent protocol: counters and room descriptions as JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent_internal.h"

/* -------------------------------------------------------------- stats --- */

static json_t *drops_json(const uint64_t *d)
{
	json_t *o = json_object();
	for (unsigned i = 1; i < MM_DROP__COUNT; i++)
		json_object_set_new(o, mm_drop_reason_name(i), json_integer((json_int_t)d[i]));
	return o;
}

/* stats.get's "mempools": [] where the agent runs without DPDK (tests). */
static json_t *mempools_json(struct mm_agent *a)
{
	json_t *arr = json_array();
	if (!a->mempools)
		return arr;
	struct mm_agent_mempool mp[MM_AGENT_MEMPOOLS_MAX];
	unsigned n = a->mempools(mp, MM_AGENT_MEMPOOLS_MAX);
	for (unsigned i = 0; i < n && i < MM_AGENT_MEMPOOLS_MAX; i++)
		json_array_append_new(arr, json_pack("{sssIsIsIsI}", "name", mp[i].name, "size",
						     (json_int_t)mp[i].size, "in_use",
						     (json_int_t)mp[i].in_use, "available",
						     (json_int_t)mp[i].available, "cache_size",
						     (json_int_t)mp[i].cache_size));
	return arr;
}

static const char *kind_name(uint8_t k)
{
	return k == MM_KIND_AUDIO ? "audio" : k == MM_KIND_VIDEO ? "video" : "screen";
}

/* stats.get's "ice" object of an ICE endpoint: waiting (no 5-tuple yet),
 * bound, or expired (RFC 7675: no valid check for 30 s, on the clock of
 * the room's worker). */
static json_t *ice_stats(struct mm_agent *a, const struct mm_endpoint *ep)
{
	uint64_t last = MM_CNT_GET(ep->ice_last_ns);
	uint64_t now = MM_CNT_GET(a->t->wstats[ep->room->worker].clock_ns);
	const char *state = !ep->bound ? "waiting" : now > last + MM_ICE_CONSENT_NS ? "expired" : "bound";
	json_t *o = json_pack("{sssIsI}", "state", state, "checks", (json_int_t)MM_CNT_GET(ep->ice_checks),
			      "bad_checks", (json_int_t)MM_CNT_GET(ep->ice_bad_checks));
	if (ep->bound) {
		char ra[64];
		json_object_set_new(o, "remote",
				    json_pack("{sssi}", "addr", net_addr_format(&ep->key.raddr, ra, sizeof(ra)),
					      "port", ep->key.rport));
	}
	return o;
}

json_t *mm_agent_endpoint_stats(struct mm_agent *a, const struct mm_endpoint *ep)
{
	const struct mm_ep_conf *c = ep->conf;
	json_t *streams = json_array();
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const struct mm_stream_conf *sc = &c->streams[i];
		const struct mm_stream_state *ss = &ep->streams[sc->state_idx];
		struct rtp_stats st = {0};
		uint64_t packets = 0, bytes = 0;
		if (MM_CNT_GET(ss->uid) == sc->uid) {
			st = ss->rtp; /* racy snapshot of a single-writer struct */
			packets = MM_CNT_GET(ss->packets);
			bytes = MM_CNT_GET(ss->bytes);
		}
		json_t *one;
		json_array_append_new(
			streams, one = json_pack("{sIsssIsIsIsIsI}", "ssrc", (json_int_t)sc->ssrc, "kind",
					   kind_name(sc->kind), "packets", (json_int_t)packets, "bytes",
					   (json_int_t)bytes, "lost", (json_int_t)rtp_stats_lost(&st),
					   "jitter", (json_int_t)rtp_stats_jitter(&st), "ext_max_seq",
					   (json_int_t)rtp_stats_ext_max(&st)));
		if (sc->kind != MM_KIND_AUDIO || sc->codec != MM_CODEC_OPUS)
			json_object_set_new(one, "codec", json_string(mm_codec_name((enum mm_codec)sc->codec)));
		if (sc->audio_level_id)
			json_object_set_new(one, "audio_level_id", json_integer(sc->audio_level_id));
		if (mm_group_layers(&c->streams[sc->group]) > 1)
			json_object_set_new(one, "layer", json_integer(sc->layer));
		if (sc->has_rtx)
			json_object_set_new(one, "rtx_ssrc", json_integer(sc->rtx_ssrc));
		if (sc->rid[0]) {
			json_object_set_new(one, "rid", json_string(sc->rid));
			if (sc->by_rid && MM_CNT_GET(ss->bound) && MM_CNT_GET(ss->uid) == sc->uid)
				json_object_set_new(one, "ssrc", json_integer(MM_CNT_GET(ss->bound_ssrc)));
		}
	}
	json_t *srtp = json_null();
	if (c->keys)
		srtp = json_pack("{sssbsbsbsIsIsI}", "profile", mm_srtp_profile_name(c->keys->profile),
				 "in_key", c->keys->has_in, "out_key", c->keys->has_out, "previous_keys",
				 c->prev_keys != NULL, "roc_recovered",
				 (json_int_t)MM_CNT_GET(ep->roc_recovered), "roc_sweeps_failed",
				 (json_int_t)MM_CNT_GET(ep->roc_sweeps_failed), "roc_continued",
				 (json_int_t)MM_CNT_GET(ep->roc_continued));
	json_t *sfu = json_pack("{sisisisIsIsIsIsIsIsIsIsIsI}", "max_layer", c->max_layer, "rtx_pt",
				c->rtx_pt, "twcc_id", c->twcc_id, "twcc_feedback",
				(json_int_t)MM_CNT_GET(ep->twcc_fb), "twcc_lost",
				(json_int_t)MM_CNT_GET(ep->twcc_lost), "nack_rx", (json_int_t)MM_CNT_GET(ep->nack_rx), "rtx_tx",
				(json_int_t)MM_CNT_GET(ep->rtx_tx), "nack_fwd",
				(json_int_t)MM_CNT_GET(ep->nack_fwd), "pli_rx",
				(json_int_t)MM_CNT_GET(ep->pli_rx), "pli_tx",
				(json_int_t)MM_CNT_GET(ep->pli_tx), "rr_tx",
				(json_int_t)MM_CNT_GET(ep->rr_tx), "sr_tx",
				(json_int_t)MM_CNT_GET(ep->sr_tx), "rtcp_consumed",
				(json_int_t)MM_CNT_GET(ep->rtcp_consumed));
	json_t *o = json_pack("{sssosIsosIsIsIsIsIsbsbsbso}", "endpoint", ep->name, "sfu", sfu, "memory_bytes",
			 (json_int_t)mm_endpoint_memory(ep), "srtp", srtp, "rx_packets",
			 (json_int_t)MM_CNT_GET(ep->rx_packets), "rx_bytes",
			 (json_int_t)MM_CNT_GET(ep->rx_bytes), "tx_packets",
			 (json_int_t)MM_CNT_GET(ep->tx_packets), "tx_bytes",
			 (json_int_t)MM_CNT_GET(ep->tx_bytes), "muted_packets",
			 (json_int_t)MM_CNT_GET(ep->muted_packets), "mac_learned",
			 MM_CNT_GET(ep->mac_learned) != 0, "audio_muted", c->audio_muted, "video_muted",
			 c->video_muted, "streams", streams);
	if (ep->ice)
		json_object_set_new(o, "ice", ice_stats(a, ep));
	json_t *dtls = mm_agent_dtls_stats(a, ep);
	if (dtls)
		json_object_set_new(o, "dtls", dtls);
	return o;
}

static json_t *room_stats(struct mm_agent *a, const struct mm_room *r)
{
	json_t *eps = json_array();
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			json_array_append_new(eps, mm_agent_endpoint_stats(a, r->members[s]));
	return json_pack("{sssIsIsIsIsIso}", "room", r->name, "worker", (json_int_t)r->worker,
			 "rx_packets", (json_int_t)MM_CNT_GET(r->rx_packets), "rx_bytes",
			 (json_int_t)MM_CNT_GET(r->rx_bytes), "tx_packets",
			 (json_int_t)MM_CNT_GET(r->tx_packets), "tx_bytes",
			 (json_int_t)MM_CNT_GET(r->tx_bytes), "endpoints", eps);
}

json_t *mm_agent_room_info(const struct mm_room *r)
{
	json_t *eps = json_array();
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			json_array_append_new(eps, json_string(r->members[s]->name));
	json_t *o = json_pack("{sssIsIsIsIsssIso}", "room", r->name, "capacity", (json_int_t)r->capacity,
			      "last_n", (json_int_t)__atomic_load_n(&r->last_n, __ATOMIC_RELAXED),
			      "video_last_n",
			      (json_int_t)__atomic_load_n(&r->video_last_n, __ATOMIC_RELAXED),
			      "worker", (json_int_t)r->worker, "route",
			      r->mode == MM_ROUTE_ALL ? "all" : "explicit", "count",
			      (json_int_t)r->n_members, "endpoints", eps);
	if (r->mode == MM_ROUTE_EXPLICIT)
		json_object_set(o, "subscriptions", r->explicit_subs);
	return o;
}

json_t *mm_agent_stats(struct mm_agent *a, json_t *req, struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t total[MM_DROP__COUNT] = {0};
	json_t *workers = json_array();
	for (uint32_t w = 0; w < t->conf.n_workers; w++) {
		const struct mm_worker_stats *ws = &t->wstats[w];
		uint64_t d[MM_DROP__COUNT];
		for (unsigned i = 0; i < MM_DROP__COUNT; i++) {
			d[i] = MM_CNT_GET(ws->drops[i]);
			total[i] += d[i];
		}
		json_array_append_new(
			workers,
			json_pack("{sIsIsIsIsIsIsIsIsIsIsIsIso}", "worker", (json_int_t)w, "lcore",
				  (json_int_t)a->worker_lcore[w], "neigh_replies",
				  (json_int_t)MM_CNT_GET(ws->neigh_replies), "rx_packets",
				  (json_int_t)MM_CNT_GET(ws->rx_packets), "tx_packets",
				  (json_int_t)MM_CNT_GET(ws->tx_packets), "tx_bytes",
				  (json_int_t)MM_CNT_GET(ws->tx_bytes), "handoff_out",
				  (json_int_t)MM_CNT_GET(ws->handoff_out), "handoff_in",
				  (json_int_t)MM_CNT_GET(ws->handoff_in), "cycles",
				  (json_int_t)MM_CNT_GET(ws->cycles), "busy_cycles",
				  (json_int_t)MM_CNT_GET(ws->busy_cycles), "polls",
				  (json_int_t)MM_CNT_GET(ws->polls), "busy_polls",
				  (json_int_t)MM_CNT_GET(ws->busy_polls), "drops", drops_json(d)));
		json_object_set_new(json_array_get(workers, w), "mbox_full",
				    json_integer((json_int_t)MM_CNT_GET(ws->mbox_full)));
	}
	/* "rooms": false leaves the per-room part out: totals for a poller
	 * (mmdp's DPDK telemetry) that would otherwise get every endpoint of
	 * every room each time. */
	json_t *jall = json_object_get(req, "rooms");
	if (jall && !json_is_boolean(jall)) {
		json_decref(workers);
		mm_agent_fail(e, "invalid_field", "rooms", "rooms must be true or false");
		return NULL;
	}
	json_t *rooms = json_array();
	json_t *jr = json_object_get(req, "room");
	if (jr) {
		struct mm_room *r = json_is_string(jr) ? mm_tables_room(t, json_string_value(jr)) : NULL;
		if (!r) {
			json_decref(workers);
			json_decref(rooms);
			mm_agent_fail(e, json_is_string(jr) ? "not_found" : "invalid_field", "room", "no such room");
			return NULL;
		}
		json_array_append_new(rooms, room_stats(a, r));
	} else if (!json_is_false(jall)) {
		struct cds_lfht_iter it;
		struct mm_room *r;
		MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node)
			json_array_append_new(rooms, room_stats(a, r));
	}
	json_t *blocks = mm_agent_blocks_stats(t, mm_agent_now(a));
	if (!blocks) {
		json_decref(workers);
		json_decref(rooms);
		mm_agent_fail(e, "internal", "", "out of memory");
		return NULL;
	}
	json_t *bans = mm_agent_bans_stats(t, mm_agent_now(a));
	if (!bans) {
		json_decref(workers);
		json_decref(rooms);
		json_decref(blocks);
		mm_agent_fail(e, "internal", "", "out of memory");
		return NULL;
	}
	const struct mm_agent_op_counts *oc = &a->ops;
	json_t *agent = json_pack(
		"{sIsIsIsIsIsIsIsIsIsI}", "requests", (json_int_t)oc->requests, "syncs",
		(json_int_t)oc->syncs, "room_created", (json_int_t)oc->room_created, "room_updated",
		(json_int_t)oc->room_updated, "room_deleted", (json_int_t)oc->room_deleted,
		"endpoint_created", (json_int_t)oc->endpoint_created, "endpoint_updated",
		(json_int_t)oc->endpoint_updated, "endpoint_recreated",
		(json_int_t)oc->endpoint_recreated, "endpoint_deleted",
		(json_int_t)oc->endpoint_deleted, "route_put", (json_int_t)oc->route_put);
	json_t *reply = json_pack("{sbsIsIsososososososo}", "ok", 1, "generation",
				  (json_int_t)t->generation, "tsc_hz", (json_int_t)a->tsc_hz, "drops",
				  drops_json(total), "workers", workers, "rooms", rooms, "blocks",
				  blocks, "bans", bans, "guard", mm_agent_guard_stats(a), "agent",
				  agent);
	if (reply)
		json_object_set_new(reply, "mempools", mempools_json(a));
	return reply;
}

/* ------------------------------------------------------------ speakers --- */

json_t *mm_agent_speakers(struct mm_agent *a, json_t *req, struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t since = 0;
	if (mm_agent_get_uint(req, "since", "", 0, INT64_MAX, false, &since, e) < 0)
		return NULL;
	/* Stamp the rooms whose speaker changed since the last call (of any
	 * client) with the next sequence number, then list those stamped
	 * after since. */
	bool stamped = false;
	struct cds_lfht_iter it;
	struct mm_room *r;
	MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node) {
		uint32_t changes = mm_speaker_changes(&r->spk);
		if (changes != r->spk_seen) {
			if (!stamped) {
				a->speaker_seq++;
				stamped = true;
			}
			r->spk_seen = changes;
			r->spk_seq = a->speaker_seq;
		}
	}
	json_t *rooms = json_array();
	MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node) {
		int32_t dom = mm_speaker_dominant(&r->spk);
		if (since == 0 ? dom < 0 : r->spk_seq <= since)
			continue;
		const struct mm_endpoint *dep =
			dom >= 0 && dom < MM_ROOM_CAPACITY_MAX ? r->members[dom] : NULL;
		uint32_t slots[MM_ROOM_CAPACITY_MAX];
		uint32_t n = mm_speaker_selected_slots(&r->spk, slots, MM_ROOM_CAPACITY_MAX);
		json_t *list = json_array();
		for (uint32_t i = 0; i < n; i++)
			if (slots[i] < MM_ROOM_CAPACITY_MAX && r->members[slots[i]])
				json_array_append_new(list, json_string(r->members[slots[i]]->name));
		json_array_append_new(rooms, json_pack("{sssososI}", "room", r->name, "dominant",
						       dep ? json_string(dep->name) : json_null(),
						       "last_n", list, "changes",
						       (json_int_t)r->spk_seen));
	}
	return json_pack("{sbsIso}", "ok", 1, "seq", (json_int_t)a->speaker_seq, "rooms", rooms);
}
