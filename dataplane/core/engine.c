/* Per-packet forwarding: parse, demultiplex, look up, account, fan out. */
#include "dataplane/core/engine.h"

#include <string.h>

#include "dataplane/core/engine_internal.h"
#include "dataplane/core/mailbox.h"
#include "dataplane/proto/demux.h"
#include "dataplane/proto/neigh.h"
#include "dataplane/proto/rtx.h"
#include "dataplane/proto/stun.h"

#define drop mm_eng_drop

/* A packet from a 5-tuple that is no endpoint's: if a block names the
 * 5-tuple (a kicked participant), drop it as blocked and count it on the
 * block, else for `reason`. Off the fast path: called only once the
 * endpoint lookup missed (ep_missed), or for what takes no endpoint path
 * (STUN, DTLS, unknown): then a block counts only when no endpoint has the
 * 5-tuple either, for a block never shadows a live endpoint. */
static __attribute__((noinline)) int drop_unmatched(struct mm_worker_ctx *w, const struct net_udp *u,
						    enum mm_drop_reason reason, bool ep_missed)
{
	struct mm_block_key bk;
	bk.raddr = u->src;
	bk.laddr = u->dst;
	bk.rport = u->sport;
	bk.lport = u->dport;
	struct mm_block *b = mm_tables_block_lookup(w->t, &bk);
	if (!b || w->id >= b->n_workers)
		return drop(w, reason);
	if (!ep_missed) {
		struct mm_key key = {.raddr = u->src, .lport = u->dport, .rport = u->sport};
		if (mm_tables_lookup(w->t, &key))
			return drop(w, reason);
	}
	MM_CNT_ADD(b->dropped[w->id].packets, 1);
	MM_CNT_ADD(b->dropped[w->id].bytes, u->payload_len);
	return drop(w, MM_DROP_BLOCKED);
}

/* Map a publisher's RTP header into the subscriber's view. Returns true
 * for the first copy of this source stream to this subscriber (a new
 * mapping: SSRC and sequence number as the source's, seq_off 0). */
static inline bool rewrite_rtp(uint8_t *rtp, struct mm_rewrite *rw, const struct mm_stream_conf *sc,
			       const struct mm_stream_state *ss, uint16_t seq, uint32_t ts)
{
	bool fresh = rw->src_uid != sc->uid;
	if (fresh) {
		rw->src_uid = sc->uid;
		rw->out_ssrc = mm_group_out_ssrc(sc);
		rw->ts_off = 0;
		rw->seq_off = 0;
		rw->pause_gen = ss->pause_gen;
		rw->last_seq_out = (uint16_t)(seq - 1);
	} else if (rw->pause_gen != ss->pause_gen) {
		/* The source paused (mute): continue right after the last
		 * sequence number this subscriber saw, so it sees no loss. */
		rw->seq_off = (uint16_t)(rw->last_seq_out + 1 - seq);
		rw->pause_gen = ss->pause_gen;
	}
	uint16_t out = (uint16_t)(seq + rw->seq_off);
	if ((int16_t)(out - rw->last_seq_out) > 0)
		rw->last_seq_out = out;
	rtp_set_seq(rtp, out);
	rtp_set_ts(rtp, ts + rw->ts_off);
	rtp_set_ssrc(rtp, rw->out_ssrc);
	return fresh;
}

/* ---- SRTP rollover counter across an mmdp restart ----------------------
 *
 * RFC 3711 3.3.1: an SRTP packet index is ROC * 65536 + SEQ and the ROC is
 * in no packet; each end counts the wraps of SEQ since the stream's first
 * packet. mmdp is a receiver (its inbound session per endpoint) and a
 * sender (its outbound session per endpoint) of every stream it forwards.
 *
 * Inbound. A restarted mmdp meets every stream in the middle: its new
 * session assumes ROC 0, and a stream that has wrapped (every camera after
 * about 2 minutes, whatever its first SEQ) fails authentication from then
 * on. So a stream that has not yet authenticated an RTP packet with the
 * endpoint's current inbound session (ss->srtp_in), and whose packet
 * fails authentication (with the previous keys too, after a rekey), has
 * the packet tried with ROC 1..MM_SRTP_ROC_MAX (mm_srtp_unprotect_recover:
 * at most one sweep per SSRC per 100 ms, and within the worker's budget,
 * engine.h). The first ROC that authenticates becomes the stream's; from
 * then on it is an ordinary stream, with libsrtp2's ROC tracking and
 * replay protection, and is never swept again. Streams that authenticate
 * take the fast path: one compare (ss->srtp_in) more than before.
 *
 * Outbound: what each receiver expects. A receiver R gets source stream S
 * under S's SSRC with SEQ + seq_off, where seq_off is 0 when R's mapping
 * of S is created (R's first copy of S in this process, rewrite_rtp) and
 * changes only when S pauses (mute: R sees no gap). mmdp's outbound stream
 * for R is created by that first copy, at ROC 0, exactly as R's receiver
 * starts at ROC 0 with its first packet; both then count the wraps of the
 * same SEQs. So when R has received S since S's first packet (S at ROC 0
 * then) and S never paused while R received it, R's index is S's index.
 * After a restart the mapping is new (seq_off 0: R's SEQ is S's SEQ again)
 * and so is the outbound session (ROC 0): R would see S's SEQ go on but
 * the copies made with ROC 0 instead of S's k, and fail them all. So the
 * first copy of a stream whose ROC was recovered (k >= 1) to such a
 * receiver is protected with that packet's own ROC (mm_srtp_protect_continue),
 * giving R index k * 65536 + SEQ, the one it expects; libsrtp2 goes on
 * from there.
 *
 * "Such a receiver" is told by the endpoints' creation: R and S's endpoint
 * were created by the same agent request (created_epoch; the state.sync
 * with which mmctld restores a restarted mmdp creates them all), and R's
 * outbound session has no RTP of that SSRC past ROC 0. A receiver created
 * later (joined after the restart) starts at ROC 0 as any new receiver.
 * Outside a restart a source needs recovery when its endpoint was created
 * again (moved) while its client kept its SRTP state: receivers that had it
 * keep their outbound stream (past ROC 0: untouched), and the others were
 * created in other requests.
 *
 * What cannot be recovered without the client (docs/agent-protocol.md):
 * - R's first copy of S came when S was already at ROC j >= 1 (R joined,
 *   or subscribed, after S's first wrap): R's ROC is S's minus j, and
 *   after a restart nothing in mmdp or in the packets tells j. R fails
 *   S's copies until its client renegotiates (new SSRC or new keys).
 * - S paused while R received it before the restart: R's index is S's
 *   plus D, where D (<= 0) is minus the packets of S dropped as muted
 *   meanwhile (D is seq_off, a 16-bit number, extended over its wraps). After the restart
 *   seq_off is 0 again, so R sees SEQ jump by -D and takes the index
 *   nearest its last one: the right one (S's index, which mmdp uses) only
 *   while |gap - D| < 32768, gap being the packets S sent between its last
 *   copy to R before the restart and its first after. Beyond that R is a
 *   ROC off (the offset moved R's wrap point away from S's).
 */

/* One ROC-recovery budget check (engine.h): the attempts a sweep may take
 * now (0: none). */
static uint32_t roc_budget(struct mm_worker_ctx *w, uint64_t now_ns)
{
	if (!w->roc_started) {
		w->roc_started = true;
		w->roc_tokens = MM_ENGINE_ROC_BURST;
		w->roc_refill_ns = now_ns;
	} else if (now_ns > w->roc_refill_ns) {
		uint64_t ms = (now_ns - w->roc_refill_ns) / 1000000u;
		if (ms) {
			uint64_t t = w->roc_tokens + ms * MM_ENGINE_ROC_PER_MS;
			w->roc_tokens = t > MM_ENGINE_ROC_BURST ? MM_ENGINE_ROC_BURST : (uint32_t)t;
			w->roc_refill_ns += ms * 1000000u;
		}
	}
	return w->roc_tokens < MM_SRTP_ROC_MAX ? w->roc_tokens : MM_SRTP_ROC_MAX;
}

/* Protect the first copy of source stream sc to subscriber sub (see above):
 * with the packet's own ROC when the source's ROC was recovered and sub
 * came with the publisher, else as any copy. The packet's ROC: libsrtp2
 * knows the ROC of the stream's highest index, whose SEQ RFC 3550's
 * max_seq follows; a packet that is older (reordered) but numerically
 * above it comes from before a wrap. */
static __attribute__((noinline)) int
protect_first(struct mm_endpoint *pub, struct mm_endpoint *sub, struct mm_srtp *out,
	      const struct mm_stream_conf *sc, const struct mm_stream_state *ss, uint16_t seq,
	      uint8_t *pkt, size_t *len, size_t cap)
{
	const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
	uint32_t roc;
	if (!ss->roc_recovered || sub->created_epoch != pub->created_epoch || !pc->keys ||
	    pc->keys->uid != ss->srtp_in || !pc->keys->in ||
	    mm_srtp_stream_roc(pc->keys->in, mm_stream_ssrc(pub, sc), &roc) != 0)
		return mm_srtp_protect(out, pkt, len, cap);
	uint16_t max = ss->rtp.max_seq;
	if ((int16_t)(seq - max) < 0 && seq > max && roc > 0)
		roc--;
	bool continued;
	int r = mm_srtp_protect_continue(out, pkt, len, cap, roc, &continued);
	if (continued)
		MM_CNT_ADD(sub->roc_continued, 1);
	return r;
}

/* Where a simulcast group's copy to one receiver goes: the layer it gets
 * (switching only at a keyframe of the new layer, asking the publisher
 * for one), and the receiver's view re-based at a switch so that its
 * sequence numbers and timestamps run on. Returns false when this packet
 * is not for this receiver. */
static bool simulcast_view(struct mm_worker_ctx *w, struct mm_endpoint *pub,
			   const struct mm_route *rt, struct mm_endpoint *sub,
			   const struct mm_ep_conf *pc, const struct mm_stream_conf *sc,
			   uint16_t seq, uint32_t ts, bool key, uint64_t now_ms, struct mm_rewrite **out)
{
	const struct mm_stream_conf *base = &pc->streams[sc->group];
	struct mm_rewrite *rw = mm_eng_group_view(sub, pub, base);
	if (!sub->alloc_ms || now_ms >= sub->alloc_ms + MM_ALLOC_INTERVAL_MS ||
	    sub->alloc_conf != rcu_dereference(sub->conf))
		mm_eng_allocate(w, sub, rt, now_ms); /* due, or its max_layer may have changed */
	mm_layer_sel_set_target(&rw->sel, rw->alloc_layer);
	enum mm_layer_verdict v = mm_layer_sel_packet(&rw->sel, sc->layer, key);
	uint8_t want;
	if (mm_layer_sel_needs_keyframe(&rw->sel, now_ms, &want) && base->layers[want] >= 0) {
		mm_eng_request_keyframe(w, pub, &pc->streams[base->layers[want]], now_ms);
		mm_layer_sel_keyframe_requested(&rw->sel, now_ms);
	}
	if (v == MM_LAYER_DROP)
		return false;
	if (v == MM_LAYER_SWITCH) {
		if (rw->last_out_ms) {
			/* Run on from the last copy: the next sequence number,
			 * and the timestamp advanced by the time since. */
			uint64_t ticks = now_ms > rw->last_out_ms
						 ? (now_ms - rw->last_out_ms) * sc->clock_rate / 1000u
						 : 0;
			rw->seq_off = (uint16_t)(rw->last_seq_out + 1 - seq);
			rw->ts_off = rw->last_ts_out + (uint32_t)(ticks ? ticks : 1) - ts;
		} else {
			rw->seq_off = 0;
			rw->ts_off = 0;
			rw->last_seq_out = (uint16_t)(seq - 1);
		}
		mm_seq_map_start_ts(&rw->map, (uint16_t)(seq + rw->seq_off), rw->seq_off, rw->ts_off,
				    sc->state_idx);
	}
	*out = rw;
	return true;
}

/* Copy the (plain) RTP packet to every subscriber of pub, rewriting it
 * for the subscriber's view and protecting it with the subscriber's
 * outbound SRTP session: one copy and one encryption per receiver. Video
 * of a simulcast group goes to each receiver in the layer it gets; key
 * tells the first packet of a keyframe. Returns the copies sent. */
static uint64_t fan_out(struct mm_worker_ctx *w, struct mm_endpoint *pub, const struct mm_route *rt,
			const uint8_t *pl, size_t plen, const struct rtp_header *hdr,
			const struct mm_ep_conf *pc, const struct mm_stream_conf *sc,
			struct mm_stream_state *ss, bool key, uint64_t now_ms)
{
	/* Where the transport-wide sequence number sits in the packet, for
	 * the id the receivers negotiated (found once per packet and id). */
	uint8_t twcc_id = 0;
	int twcc_off = -1;
	const struct mm_route_pub *rp = &rt->pub[pub->slot];
	uint16_t seq = rtp_get_seq(pl);
	uint32_t ts = rtp_get_ts(pl);
	bool simulcast = sc->kind != MM_KIND_AUDIO && mm_eng_simulcast(&pc->streams[sc->group]);
	uint64_t sent = 0, sent_bytes = 0, sent_frame_bytes = 0;
	bool ask_key = false; /* a receiver's view started mid-stream */
	for (uint32_t i = 0; i < rp->n; i++) {
		struct mm_endpoint *sub = rt->subs[rp->off + i];
		const struct mm_ep_conf *subc = rcu_dereference(sub->conf);
		struct mm_rewrite *rw;
		/* A receiver that cannot take media yet (ICE not bound, no
		 * DTLS keys) does not start its view either: its first copy
		 * must be one it gets, at a keyframe. */
		if (unlikely(sub->ice)) {
			int g = mm_eng_ice_gate(w, sub, subc);
			if (g) {
				drop(w, (enum mm_drop_reason)g);
				continue;
			}
		}
		if (simulcast) {
			if (!simulcast_view(w, pub, rt, sub, pc, sc, seq, ts, key, now_ms, &rw))
				continue;
		} else {
			rw = &sub->rw[pub->slot * MM_STREAMS_MAX + sc->state_idx];
		}
		struct mm_srtp *out = NULL;
		size_t trailer = 0;
		if (subc->keys) {
			out = subc->keys->out;
			if (unlikely(!out)) {
				drop(w, MM_DROP_SRTP_NO_KEY);
				continue;
			}
			trailer = mm_srtp_rtp_trailer(subc->keys->profile);
		}
		size_t hl = net_udp_hdr_len(sub->family);
		size_t cap = hl + plen + trailer;
		if (unlikely(cap - NET_ETH_HLEN > MM_MTU)) {
			drop(w, MM_DROP_TOO_LARGE);
			continue;
		}
		void *h;
		uint8_t *buf = w->tx.alloc(w->tx.ctx, cap, &h);
		if (unlikely(!buf)) {
			drop(w, MM_DROP_NO_BUFFER);
			continue;
		}
		memcpy(buf + hl, pl, plen);
		if (subc->twcc_id) {
			if (subc->twcc_id != twcc_id) {
				twcc_id = subc->twcc_id;
				struct rtp_ext_elem el;
				twcc_off = rtp_ext_find(hdr, twcc_id, &el) == 1 && el.len == 2
						   ? (int)(el.data - pl)
						   : -1;
			}
			if (twcc_off >= 0)
				mm_eng_twcc_stamp(sub, buf + hl + twcc_off, plen, now_ms);
		}
		bool first;
		if (simulcast) {
			first = false;
			uint16_t o = (uint16_t)(seq + rw->seq_off);
			if ((int16_t)(o - rw->last_seq_out) > 0)
				rw->last_seq_out = o;
			rw->last_ts_out = ts + rw->ts_off;
			rw->last_out_ms = now_ms ? now_ms : 1;
			mm_seq_map_sent(&rw->map, o);
			rtp_set_seq(buf + hl, o);
			rtp_set_ts(buf + hl, rw->last_ts_out);
			rtp_set_ssrc(buf + hl, rw->out_ssrc);
		} else {
			uint16_t seq_off = rw->seq_off;
			first = rewrite_rtp(buf + hl, rw, sc, ss, seq, ts);
			/* A new receiver of a video starts mid-stream: ask the
			 * publisher for a keyframe (merged over receivers) rather
			 * than wait for the receiver to ask, which not every one
			 * does (aiortc without rtcp-fb). */
			if (first && sc->kind != MM_KIND_AUDIO && !key)
				ask_key = true;
			if (sc->cache) {
				if (first)
					mm_seq_map_reset(&rw->map);
				if (first || seq_off != rw->seq_off)
					mm_seq_map_start_ts(&rw->map, (uint16_t)(seq + rw->seq_off),
							    rw->seq_off, rw->ts_off, sc->state_idx);
				mm_seq_map_sent(&rw->map, rw->last_seq_out);
			}
		}
		size_t olen = plen;
		if (out) {
			int r;
			if (likely(!first))
				r = mm_srtp_protect(out, buf + hl, &olen, plen + trailer);
			else
				r = protect_first(pub, sub, out, sc, ss, seq, buf + hl, &olen,
						  plen + trailer);
			if (unlikely(r != 0)) {
				w->tx.discard(w->tx.ctx, h);
				drop(w, MM_DROP_SRTP_PROTECT);
				continue;
			}
		}
		size_t flen = mm_eng_finish(w, sub, subc, out != NULL, buf, h, olen);
		MM_CNT_ADD(sub->tx_packets, 1);
		MM_CNT_ADD(sub->tx_bytes, olen);
		sent++;
		sent_bytes += olen;
		sent_frame_bytes += flen;
	}
	/* room and worker totals once per packet, not once per copy */
	MM_CNT_ADD(pub->room->tx_packets, sent);
	MM_CNT_ADD(pub->room->tx_bytes, sent_bytes);
	MM_CNT_ADD(w->st->tx_packets, sent);
	MM_CNT_ADD(w->st->tx_bytes, sent_frame_bytes);
	if (ask_key) /* after the copies: one TX buffer at a time */
		mm_eng_request_keyframe(w, pub, sc, now_ms);
	return sent;
}

/* The drop reason of an unprotect result. */
static int srtp_drop_reason(int r, bool rtcp)
{
	if (r == MM_SRTP_ERR_REPLAY)
		return MM_DROP_SRTP_REPLAY;
	if (r == MM_SRTP_ERR_PARSE)
		return rtcp ? MM_DROP_RTCP_MALFORMED : MM_DROP_RTP_MALFORMED;
	return MM_DROP_SRTP_AUTH;
}

/* SRTP/SRTCP unprotect in place with the endpoint's inbound session. Right
 * after a rekey, a packet that fails with the new keys is tried with the
 * previous ones (media in flight), until one authenticates with the new.
 * Returns 0 or a drop reason. */
static int unprotect(struct mm_endpoint *ep, const struct mm_ep_conf *c, uint8_t *pl, size_t *plen,
		     bool rtcp)
{
	const struct mm_keyset *k = c->keys;
	if (unlikely(!k->in))
		return MM_DROP_SRTP_NO_KEY;
	uint64_t *ok = rtcp ? &ep->rtcp_keys_ok : &ep->rtp_keys_ok;
	bool try_prev = c->prev_keys && c->prev_keys->in && *ok != k->uid && *plen <= MM_MTU;
	uint8_t saved[MM_MTU];
	size_t saved_len = *plen;
	if (unlikely(try_prev))
		memcpy(saved, pl, saved_len); /* AEAD decrypts in place even when it fails */
	int r = rtcp ? mm_srtcp_unprotect(k->in, pl, plen) : mm_srtp_unprotect(k->in, pl, plen);
	if (likely(r == 0)) {
		if (unlikely(try_prev))
			*ok = k->uid;
		return 0;
	}
	if (try_prev && r == MM_SRTP_ERR_AUTH) {
		memcpy(pl, saved, saved_len);
		*plen = saved_len;
		r = rtcp ? mm_srtcp_unprotect(c->prev_keys->in, pl, plen)
			 : mm_srtp_unprotect(c->prev_keys->in, pl, plen);
		if (r == 0)
			return 0;
	}
	return srtp_drop_reason(r, rtcp);
}

/* SRTP unprotect of an RTP packet of a stream that has not authenticated
 * with the endpoint's current inbound session (ss->srtp_in): as unprotect()
 * (current keys, then the previous ones after a rekey), and when both fail
 * authentication, ROC recovery (see "rollover counter" above). Returns 0 or
 * a drop reason. */
static __attribute__((noinline)) int
unprotect_new_stream(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_ep_conf *c,
		     struct mm_stream_state *ss, uint8_t *pl, size_t *plen, uint64_t now_ns)
{
	const struct mm_keyset *k = c->keys;
	if (unlikely(!k->in))
		return MM_DROP_SRTP_NO_KEY;
	uint8_t orig[MM_MTU];
	size_t orig_len = *plen;
	if (orig_len > sizeof(orig))
		return unprotect(ep, c, pl, plen, false); /* no copy: no recovery */
	memcpy(orig, pl, orig_len); /* AEAD decrypts in place even when it fails */
	int r = mm_srtp_unprotect(k->in, pl, plen);
	if (r == 0)
		goto locked;
	if (r != MM_SRTP_ERR_AUTH)
		return srtp_drop_reason(r, false);
	if (c->prev_keys && c->prev_keys->in && ep->rtp_keys_ok != k->uid) {
		memcpy(pl, orig, orig_len);
		*plen = orig_len;
		r = mm_srtp_unprotect(c->prev_keys->in, pl, plen);
		if (r != MM_SRTP_ERR_AUTH)
			return r ? srtp_drop_reason(r, false) : 0; /* media in flight */
	}
	uint32_t budget = roc_budget(w, now_ns);
	if (!budget)
		return MM_DROP_SRTP_AUTH;
	memcpy(pl, orig, orig_len);
	*plen = orig_len;
	uint32_t roc, tried;
	r = mm_srtp_unprotect_recover(k->in, pl, plen, now_ns, budget, &roc, &tried);
	w->roc_tokens -= tried;
	if (r != 0) {
		if (tried)
			MM_CNT_ADD(ep->roc_sweeps_failed, 1);
		return srtp_drop_reason(r, false);
	}
	ss->roc_recovered = roc;
	MM_CNT_ADD(ep->roc_recovered, 1);
locked:
	ss->srtp_in = k->uid;
	if (c->prev_keys)
		ep->rtp_keys_ok = k->uid;
	return 0;
}

/* The room's speaker detector follows the room: its last_n (set by the
 * agent), and members that left (a new route: forget empty slots). */
static void speaker_sync(struct mm_room *room, const struct mm_route *rt)
{
	uint32_t last_n = __atomic_load_n(&room->last_n, __ATOMIC_RELAXED);
	if (last_n != room->spk.last_n)
		mm_speaker_set_last_n(&room->spk, last_n);
	if (rt && rt->gen != room->spk_route_gen) {
		room->spk_route_gen = rt->gen;
		for (uint32_t s = 0; s < MM_SPEAKER_SLOTS; s++)
			if (s >= rt->n_slots || !rt->members[s])
				mm_speaker_forget(&room->spk, s);
	}
}

/* A publisher stream pauses for everyone (mute, video last-N): its
 * receivers' views continue after its last copy when it resumes. */
static inline void pause_stream(struct mm_stream_state *ss)
{
	if (!ss->paused) {
		ss->paused = 1;
		ss->pause_gen++;
	}
}

/* A simulcast group leaves the video last-N: every receiver's view of it
 * starts again at a keyframe when it comes back. */
static void pause_group(struct mm_endpoint *pub, const struct mm_route *rt,
			const struct mm_stream_conf *base)
{
	const struct mm_route_pub *rp = &rt->pub[pub->slot];
	for (uint32_t i = 0; i < rp->n; i++) {
		struct mm_rewrite *rw = &rt->subs[rp->off + i]->rw[pub->slot * MM_STREAMS_MAX +
								   base->state_idx];
		if (rw->src_uid == base->uid)
			mm_layer_sel_init(&rw->sel);
	}
}

/* An RTX packet (RFC 4588) from a publisher, answering mmdp's NACK: the
 * original, restored, goes to the cache and to the receivers. */
static int rx_rtx(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		  const struct mm_ep_conf *c, const struct mm_stream_conf *sc, uint8_t *pl,
		  size_t plen, uint64_t now_ns)
{
	if (c->keys) {
		int r = unprotect(ep, c, pl, &plen, false);
		if (unlikely(r))
			return drop(w, (enum mm_drop_reason)r);
	}
	struct mm_stream_state *ss = &ep->streams[sc->state_idx];
	if (ss->uid != sc->uid)
		return drop(w, MM_DROP_UNKNOWN_SSRC);
	uint8_t orig[RTP_MAX_PACKET];
	uint32_t media_ssrc = mm_stream_ssrc(ep, sc);
	if (!media_ssrc)
		return drop(w, MM_DROP_UNKNOWN_SSRC); /* known by RID, not bound yet */
	int n = rtx_restore(orig, sizeof(orig), pl, plen, media_ssrc, ss->last_pt);
	if (n < 0)
		return drop(w, MM_DROP_RTP_MALFORMED); /* padding-only probes too */
	if (sc->cache)
		mm_rtx_cache_put(sc->cache, rtp_get_seq(orig), orig, (size_t)n, mm_eng_ms(now_ns));
	if (sc->muted || !rt || ep->slot >= rt->n_slots || rt->pub[ep->slot].n == 0)
		return drop(w, MM_DROP_NO_SUBSCRIBER);
	struct rtp_header h;
	if (rtp_parse(orig, (size_t)n, &h) != 0)
		return drop(w, MM_DROP_RTP_MALFORMED);
	bool key = codec_keyframe_start((enum mm_codec)sc->codec, h.payload, h.payload_len) == 1;
	if (!fan_out(w, ep, rt, orig, (size_t)n, &h, c, sc, ss, key, mm_eng_ms(now_ns)))
		return drop(w, MM_DROP_NOT_SELECTED);
	return MM_ENGINE_DONE;
}

static const struct mm_stream_conf *stream_by_rid(const struct mm_ep_conf *c, const uint8_t *pl,
						  size_t plen);
static int rx_rtp_bind(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		       const struct mm_ep_conf *c, const struct mm_stream_conf *sc, uint8_t *pl,
		       size_t plen, uint64_t now_ns);
static int rx_rtp_stream(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
			 const struct mm_ep_conf *c, const struct mm_stream_conf *sc, uint8_t *pl,
			 size_t plen, uint64_t now_ns, bool decrypted);

static int rx_rtp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		  uint8_t *pl, size_t plen, uint64_t now_ns)
{
	/* The SSRC is in clear in SRTP: drop unknown streams before spending
	 * a decryption (or a libsrtp2 stream) on them. */
	if (unlikely(plen < RTP_HEADER_MIN))
		return drop(w, MM_DROP_RTP_MALFORMED);
	uint32_t ssrc = rtp_get_ssrc(pl);
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	const struct mm_stream_conf *sc = mm_stream_of(ep, c, ssrc);
	if (unlikely(!sc)) {
		if ((sc = mm_stream_of_rtx(c, ssrc)))
			return rx_rtx(w, ep, rt, c, sc, pl, plen, now_ns);
		if (c->rid_id && (sc = stream_by_rid(c, pl, plen)))
			return rx_rtp_bind(w, ep, rt, c, sc, pl, plen, now_ns);
		return drop(w, MM_DROP_UNKNOWN_SSRC);
	}
	return rx_rtp_stream(w, ep, rt, c, sc, pl, plen, now_ns, false);
}

/* The stream known by RID whose RID packet pl carries (in clear in its
 * header extension, also under SRTP), or NULL. */
static const struct mm_stream_conf *stream_by_rid(const struct mm_ep_conf *c, const uint8_t *pl,
						  size_t plen)
{
	struct rtp_header h;
	struct rtp_ext_elem el;
	if (rtp_parse_header(pl, plen, &h) != 0 || rtp_ext_find(&h, c->rid_id, &el) != 1 ||
	    el.len == 0 || el.len > MM_RID_MAX)
		return NULL;
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const struct mm_stream_conf *sc = &c->streams[i];
		if (sc->by_rid && strlen(sc->rid) == el.len && memcmp(sc->rid, el.data, el.len) == 0)
			return sc;
	}
	return NULL;
}

/* The first packet of a new SSRC for stream sc, known by RID: bound to
 * it once it authenticates (a packet that does not never moves a stream),
 * with fresh state (a new SSRC is a new RTP stream: the publisher
 * restarted its encoder, or this is its first packet). */
static __attribute__((noinline)) int rx_rtp_bind(struct mm_worker_ctx *w, struct mm_endpoint *ep,
						 const struct mm_route *rt, const struct mm_ep_conf *c,
						 const struct mm_stream_conf *sc, uint8_t *pl,
						 size_t plen, uint64_t now_ns)
{
	if (c->keys) {
		int r = unprotect(ep, c, pl, &plen, false);
		if (r)
			return drop(w, (enum mm_drop_reason)r);
	}
	struct mm_stream_state *ss = &ep->streams[sc->state_idx];
	bool rebind = ss->uid == sc->uid && ss->bound;
	/* The SSRC it leaves has a libsrtp2 stream that nothing will use:
	 * without this, each new SSRC under the RID would add one for good. */
	if (rebind && c->keys && ss->bound_ssrc != rtp_get_ssrc(pl))
		mm_srtp_forget(c->keys->in, ss->bound_ssrc);
	uint32_t pause_gen = ss->pause_gen;
	memset(ss, 0, sizeof(*ss));
	ss->uid = sc->uid;
	/* Receivers see the new SSRC's packets continue their view: after a
	 * pause (a single stream), or from its next keyframe (a layer). */
	ss->pause_gen = pause_gen + 1;
	const struct mm_stream_conf *base = &c->streams[sc->group];
	if (rebind && rt && ep->slot < rt->n_slots && mm_eng_simulcast(base))
		pause_group(ep, rt, base);
	ss->bound = true;
	ss->bound_ssrc = rtp_get_ssrc(pl);
	if (c->keys)
		ss->srtp_in = c->keys->uid;
	return rx_rtp_stream(w, ep, rt, c, sc, pl, plen, now_ns, true);
}

/* An RTP packet of ep's stream sc (decrypted already when decrypted). */
static int rx_rtp_stream(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
			 const struct mm_ep_conf *c, const struct mm_stream_conf *sc, uint8_t *pl,
			 size_t plen, uint64_t now_ns, bool decrypted)
{
	struct mm_stream_state *ss = &ep->streams[sc->state_idx];
	if (unlikely(ss->uid != sc->uid)) {
		memset(ss, 0, sizeof(*ss));
		ss->uid = sc->uid;
	}
	if (c->keys && !decrypted) {
		int r;
		if (likely(ss->srtp_in == c->keys->uid))
			r = unprotect(ep, c, pl, &plen, false);
		else
			r = unprotect_new_stream(w, ep, c, ss, pl, &plen, now_ns);
		if (unlikely(r))
			return drop(w, (enum mm_drop_reason)r);
	}
	struct rtp_header h;
	if (unlikely(rtp_parse(pl, plen, &h) != 0))
		return drop(w, MM_DROP_RTP_MALFORMED);
	uint32_t arrival = (uint32_t)(uint64_t)((double)now_ns * (sc->clock_rate * 1e-9));
	rtp_stats_update(&ss->rtp, h.seq, h.timestamp, arrival);
	MM_CNT_ADD(ss->packets, 1);
	MM_CNT_ADD(ss->bytes, plen);
	uint64_t now_ms = mm_eng_ms(now_ns);
	struct mm_room *room = ep->room;
	speaker_sync(room, rt);
	mm_eng_maybe_send_rr(w, ep, c, now_ms);

	bool key = false;
	if (sc->kind == MM_KIND_AUDIO) {
		struct rtp_ext_elem el;
		if (sc->audio_level_id && rtp_ext_find(&h, sc->audio_level_id, &el) == 1 && el.len >= 1)
			mm_speaker_update(&room->spk, ep->slot, el.data[0] & 0x7f,
					  (el.data[0] >> 7) || (el.data[0] & 0x7f) <= MM_SPEAKER_LOUD_LEVEL,
					  now_ms);
	} else {
		ss->last_pt = h.payload_type;
		mm_rate_add(&ss->rate, (uint32_t)plen, now_ms);
		if (sc->cache)
			mm_rtx_cache_put(sc->cache, h.seq, pl, plen, now_ms);
		key = codec_keyframe_start((enum mm_codec)sc->codec, h.payload, h.payload_len) == 1;
	}

	if (sc->muted) {
		pause_stream(ss);
		MM_CNT_ADD(ep->muted_packets, 1);
		return drop(w, MM_DROP_MUTED);
	}
	if (sc->kind == MM_KIND_AUDIO && sc->audio_level_id &&
	    !mm_speaker_selected(&room->spk, ep->slot)) {
		pause_stream(ss);
		return drop(w, MM_DROP_LAST_N);
	}
	uint32_t vln = __atomic_load_n(&room->video_last_n, __ATOMIC_RELAXED);
	uint32_t rank = vln ? mm_speaker_rank(&room->spk, ep->slot) : 0;
	if (unlikely(rank == MM_SPEAKER_NO_RANK)) {
		mm_speaker_join(&room->spk, ep->slot); /* ranked behind those who spoke */
		rank = mm_speaker_rank(&room->spk, ep->slot);
	}
	if (sc->kind == MM_KIND_VIDEO && rank >= vln && vln) {
		const struct mm_stream_conf *base = &c->streams[sc->group];
		if (!ss->paused && rt && ep->slot < rt->n_slots && mm_eng_simulcast(base))
			pause_group(ep, rt, base);
		pause_stream(ss);
		return drop(w, MM_DROP_NOT_SELECTED);
	}
	ss->paused = 0;
	if (!rt || ep->slot >= rt->n_slots || rt->pub[ep->slot].n == 0)
		return drop(w, MM_DROP_NO_SUBSCRIBER);
	if (!fan_out(w, ep, rt, pl, plen, &h, c, sc, ss, key, now_ms) && sc->kind != MM_KIND_AUDIO)
		return drop(w, MM_DROP_NOT_SELECTED);
	return MM_ENGINE_DONE;
}

/* May SRTCP from sender SSRC ssrc reach libsrtp2? Its streams' SSRCs (RTX
 * too) and the RTCP-only SSRCs let in so far: yes (1); a new one while
 * fewer than MM_RTCP_SSRCS_MAX were: yes, to remember once it authenticates
 * (2); else no (0). libsrtp2 keeps a stream for every SSRC that
 * authenticates, so without this an authenticated participant could make
 * mmdp's session grow, and each lookup in it slower, without end (the
 * engine fuzz target found it). */
static int rtcp_ssrc_admit(const struct mm_endpoint *ep, const struct mm_ep_conf *c, uint32_t ssrc)
{
	if (mm_stream_of(ep, c, ssrc) || mm_stream_of_rtx(c, ssrc))
		return 1;
	for (uint32_t i = 0; i < ep->n_rtcp_ssrcs; i++)
		if (ep->rtcp_ssrcs[i] == ssrc)
			return 1;
	return ep->n_rtcp_ssrcs < MM_RTCP_SSRCS_MAX ? 2 : 0;
}

static int rx_rtcp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		   uint8_t *pl, size_t plen, uint64_t now_ns)
{
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	if (c->keys) {
		if (unlikely(plen < 8))
			return drop(w, MM_DROP_RTCP_MALFORMED);
		/* bytes 4-7: the first packet's sender SSRC, in clear in SRTCP */
		uint32_t ssrc = (uint32_t)pl[4] << 24 | (uint32_t)pl[5] << 16 | (uint32_t)pl[6] << 8 | pl[7];
		int admit = rtcp_ssrc_admit(ep, c, ssrc);
		if (unlikely(!admit))
			return drop(w, MM_DROP_UNKNOWN_SSRC);
		int r = unprotect(ep, c, pl, &plen, true);
		if (unlikely(r))
			return drop(w, (enum mm_drop_reason)r);
		if (unlikely(admit == 2)) {
			/* the agent reads the count for endpoint.get's memory */
			ep->rtcp_ssrcs[ep->n_rtcp_ssrcs] = ssrc;
			__atomic_store_n(&ep->n_rtcp_ssrcs, ep->n_rtcp_ssrcs + 1, __ATOMIC_RELAXED);
		}
	}
	return mm_eng_rx_rtcp(w, ep, rt, pl, plen, now_ns);
}

/* Answer ARP requests and IPv6 neighbour solicitations for the port's own
 * addresses: a kernel-bypass port has no kernel to do it. Returns false
 * when the frame is not one of those, for the normal path to handle. */
static bool rx_neigh(struct mm_worker_ctx *w, const uint8_t *frame, size_t len, uint16_t in_port)
{
	const struct mm_port_conf *port = &w->t->conf.ports[in_port];
	uint8_t reply[NET_NA_FRAME_LEN];
	size_t n = 0;
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);

	if (type == NET_ETHERTYPE_ARP) {
		struct net_arp arp;
		if (net_arp_parse(frame, len, &arp) != 0 || arp.op != 1 ||
		    !mm_port_is_local(port, &arp.tpa))
			return false;
		n = net_arp_reply(reply, port->mac, &arp.tpa, &arp);
	} else if (type == NET_ETHERTYPE_IPV6) {
		struct net_ns ns;
		if (net_ns_parse(frame, len, &ns) != 0 || !mm_port_is_local(port, &ns.target))
			return false;
		n = net_na_build(reply, port->mac, &ns);
		if (!n)
			return false; /* a DAD probe: nothing to answer */
	} else {
		return false;
	}
	size_t flen = n < 60 ? 60 : n; /* Ethernet minimum, for NICs that do not pad */
	void *h;
	uint8_t *buf = w->tx.alloc(w->tx.ctx, flen, &h);
	if (unlikely(!buf)) {
		drop(w, MM_DROP_NO_BUFFER);
		return true;
	}
	memcpy(buf, reply, n);
	memset(buf + n, 0, flen - n);
	w->tx.send(w->tx.ctx, in_port, h, flen);
	MM_CNT_ADD(w->st->neigh_replies, 1);
	return true;
}

/* ---- ICE-lite and DTLS ------------------------------------------------
 *
 * A STUN Binding request is an ICE connectivity check: the local part of
 * its USERNAME names the endpoint (tables->by_ufrag), whose password must
 * verify its MESSAGE-INTEGRITY (and its FINGERPRINT, when present). The
 * room's worker answers it (XOR-MAPPED-ADDRESS = the sender), back out of
 * the address and port it came to, and keeps the endpoint's consent fresh.
 * A valid check from a 5-tuple that is not the endpoint's (it has none
 * yet, or the peer nominates another pair: USE-CANDIDATE) asks the agent
 * to bind it there, through the mailbox: the agent recreates the endpoint
 * at that 5-tuple, so no worker ever sees a key change in place. DTLS
 * records from a known endpoint go up to the agent's DTLS. */

/* Ask the agent to bind ep to the 5-tuple of u (at most once per
 * MM_ICE_BIND_INTERVAL_NS per endpoint). */
static void ice_ask_bind(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct net_udp *u,
			 uint16_t in_port, uint64_t now_ns)
{
	if (ep->ice_bind_ns && now_ns < ep->ice_bind_ns + MM_ICE_BIND_INTERVAL_NS)
		return;
	struct mm_mbox *mb = w->t->mbox_up[w->id];
	struct mm_mbox_msg *m = mb ? mm_mbox_reserve(mb) : NULL;
	if (!m) {
		MM_CNT_ADD(w->st->mbox_full, 1);
		return;
	}
	ep->ice_bind_ns = now_ns;
	m->type = MM_MBOX_BIND;
	m->family = u->family;
	memcpy(m->mac, u->src_mac, 6);
	m->len = 0;
	m->in_port = in_port;
	m->key = (struct mm_key){.raddr = u->src, .lport = u->dport, .rport = u->sport};
	m->laddr = u->dst;
	m->now_ns = now_ns;
	m->ice_gen = ep->ice_gen;
	memcpy(m->ep, ep->name, sizeof(m->ep));
	mm_mbox_commit(mb);
}

static __attribute__((noinline)) int rx_stun(struct mm_worker_ctx *w, const uint8_t *frame,
					     const struct net_udp *u, uint16_t in_port, uint64_t now_ns)
{
	const uint8_t *pl = frame + u->payload_off;
	size_t plen = u->payload_len;
	struct stun_msg m;
	if (stun_parse(pl, plen, &m) != 0)
		return drop_unmatched(w, u, MM_DROP_STUN_UNSUPPORTED, false); /* not a check */
	if (m.type != STUN_BINDING_REQUEST)
		return drop_unmatched(w, u, MM_DROP_STUN_UNSUPPORTED, false);
	const uint8_t *lu, *ru;
	size_t ll, rl;
	/* Without USERNAME it is no ICE check (plain STUN: not served). */
	if (stun_username_split(pl, &m, &lu, &ll, &ru, &rl) != 0)
		return drop_unmatched(w, u, MM_DROP_STUN_UNSUPPORTED, false);
	struct mm_endpoint *ep = mm_tables_ufrag_lookup(w->t, (const char *)lu, ll);
	/* The ufrag is the endpoint's only on its own local address and port. */
	if (!ep || ep->key.lport != u->dport || memcmp(&ep->laddr, &u->dst, sizeof(u->dst)) != 0)
		return drop_unmatched(w, u, MM_DROP_ICE_UNKNOWN_USER, false);
	if (ep->room->worker != w->id) {
		MM_CNT_ADD(w->st->handoff_out, 1);
		return (int)ep->room->worker;
	}
	if (!stun_check_integrity(pl, plen, &m, (const uint8_t *)ep->ice_pwd, ep->ice_pwd_len) ||
	    (m.fingerprint_off && !stun_check_fingerprint(pl, plen, &m))) {
		MM_CNT_ADD(ep->ice_bad_checks, 1);
		return drop(w, MM_DROP_ICE_BAD_INTEGRITY);
	}
	MM_CNT_ADD(ep->ice_checks, 1);
	ep->ice_last_ns = now_ns;
	bool here = ep->bound && ep->key.rport == u->sport &&
		    memcmp(&ep->key.raddr, &u->src, sizeof(u->src)) == 0;
	if (!here && (!ep->bound || m.use_candidate))
		ice_ask_bind(w, ep, u, in_port, now_ns);

	/* The Binding success response, from where the check came to. */
	int port = mm_dp_egress_port(&w->t->conf, &u->dst, w->id);
	if (port < 0)
		return drop(w, MM_DROP_NOT_LOCAL);
	uint8_t resp[128];
	int n = stun_build_binding_success(resp, sizeof(resp), m.txid, &u->src, u->family, u->sport,
					   (const uint8_t *)ep->ice_pwd, ep->ice_pwd_len);
	if (n < 0)
		return drop(w, MM_DROP_TOO_LARGE);
	size_t hl = net_udp_hdr_len(u->family);
	void *h;
	uint8_t *buf = w->tx.alloc(w->tx.ctx, hl + (size_t)n, &h);
	if (unlikely(!buf))
		return drop(w, MM_DROP_NO_BUFFER);
	memcpy(buf + hl, resp, (size_t)n);
	struct net_udp_tx tx;
	memcpy(tx.dst_mac, u->src_mac, 6);
	memcpy(tx.src_mac, w->t->conf.ports[port].mac, 6);
	tx.family = u->family;
	tx.no_udp_csum4 = 0;
	tx.src = u->dst;
	tx.dst = u->src;
	tx.sport = u->dport;
	tx.dport = u->sport;
	size_t flen = net_write_udp(buf, &tx, (size_t)n);
	w->tx.send(w->tx.ctx, (uint16_t)port, h, flen);
	MM_CNT_ADD(w->st->tx_packets, 1);
	MM_CNT_ADD(w->st->tx_bytes, flen);
	return MM_ENGINE_DONE;
}

/* A DTLS record from a known endpoint: to the agent's DTLS. */
static __attribute__((noinline)) int rx_dtls(struct mm_worker_ctx *w, const uint8_t *frame,
					     const struct net_udp *u, uint16_t in_port, uint64_t now_ns)
{
	struct mm_key key = {.raddr = u->src, .lport = u->dport, .rport = u->sport};
	struct mm_endpoint *ep = mm_tables_lookup(w->t, &key);
	if (!ep)
		return drop_unmatched(w, u, MM_DROP_DTLS_UNSUPPORTED, true);
	if (ep->room->worker != w->id) {
		MM_CNT_ADD(w->st->handoff_out, 1);
		return (int)ep->room->worker;
	}
	if (!ep->dtls)
		return drop(w, MM_DROP_DTLS_UNSUPPORTED);
	if (u->payload_len > MM_MBOX_DATA)
		return drop(w, MM_DROP_TOO_LARGE);
	if (unlikely(!ep->mac_learned || memcmp(ep->learned_mac, u->src_mac, 6) != 0)) {
		memcpy(ep->learned_mac, u->src_mac, 6);
		ep->mac_learned = 1;
	}
	struct mm_mbox *mb = w->t->mbox_up[w->id];
	struct mm_mbox_msg *m = mb ? mm_mbox_reserve(mb) : NULL;
	if (!m) {
		MM_CNT_ADD(w->st->mbox_full, 1);
		return drop(w, MM_DROP_HANDOFF_FULL);
	}
	m->type = MM_MBOX_DTLS_IN;
	m->family = u->family;
	memcpy(m->mac, u->src_mac, 6);
	m->len = u->payload_len;
	m->in_port = in_port;
	m->key = key;
	m->laddr = u->dst;
	m->now_ns = now_ns;
	m->ice_gen = ep->ice_gen;
	memcpy(m->ep, ep->name, sizeof(m->ep));
	memcpy(m->data, frame + u->payload_off, u->payload_len);
	mm_mbox_commit(mb);
	return MM_ENGINE_DONE;
}

unsigned mm_engine_poll_mailbox(struct mm_worker_ctx *w, uint64_t now_ns)
{
	struct mm_mbox *mb = w->t->mbox_down[w->id];
	unsigned n = 0;
	const struct mm_mbox_msg *m;
	w->now_ns = now_ns;
	__atomic_store_n(&w->st->clock_ns, now_ns, __ATOMIC_RELAXED);
	while (mb && n < MM_ENGINE_MBOX_BURST && (m = mm_mbox_peek(mb))) {
		n++;
		struct mm_endpoint *ep = mm_tables_lookup(w->t, &m->key);
		/* The endpoint the agent meant: same credentials, still here. */
		if (!ep || ep->ice_gen != m->ice_gen || ep->room->worker != w->id ||
		    m->len > MM_MBOX_DATA) {
			drop(w, MM_DROP_UNKNOWN_ENDPOINT);
			mm_mbox_pop(mb);
			continue;
		}
		const struct mm_ep_conf *c = rcu_dereference(ep->conf);
		if (!ep->bound || now_ns > ep->ice_last_ns + MM_ICE_CONSENT_NS) {
			drop(w, MM_DROP_ICE_CONSENT_EXPIRED);
			mm_mbox_pop(mb);
			continue;
		}
		size_t hl = net_udp_hdr_len(ep->family);
		void *h;
		uint8_t *buf = w->tx.alloc(w->tx.ctx, hl + m->len, &h);
		if (!buf) {
			drop(w, MM_DROP_NO_BUFFER);
			mm_mbox_pop(mb);
			continue;
		}
		memcpy(buf + hl, m->data, m->len);
		mm_mbox_pop(mb);
		size_t flen = mm_eng_finish(w, ep, c, false, buf, h, m->len);
		MM_CNT_ADD(w->st->tx_packets, 1);
		MM_CNT_ADD(w->st->tx_bytes, flen);
	}
	return n;
}

int mm_engine_rx(struct mm_worker_ctx *w, uint8_t *frame, size_t len, uint16_t in_port,
		 uint64_t now_ns)
{
	struct mm_tables *t = w->t;
	w->now_ns = now_ns;
	__atomic_store_n(&w->st->clock_ns, now_ns, __ATOMIC_RELAXED);
	if (unlikely(in_port >= t->conf.n_ports))
		return drop(w, MM_DROP_NOT_LOCAL);
	struct net_udp u;
	int r = net_parse_udp(frame, len, &u);
	if (unlikely(r) && r != MM_DROP_L2_MALFORMED && rx_neigh(w, frame, len, in_port))
		return MM_ENGINE_DONE;
	if (unlikely(r))
		return drop(w, (enum mm_drop_reason)r);
	if (unlikely(!mm_port_is_local(&t->conf.ports[in_port], &u.dst)))
		return drop(w, MM_DROP_NOT_LOCAL);

	uint8_t *pl = frame + u.payload_off;
	size_t plen = u.payload_len;
	enum mm_demux kind = mm_demux_classify(pl, plen);
	switch (kind) {
	case MM_DEMUX_RTP:
	case MM_DEMUX_RTCP:
		break;
	case MM_DEMUX_STUN:
		return rx_stun(w, frame, &u, in_port, now_ns);
	case MM_DEMUX_DTLS:
		return rx_dtls(w, frame, &u, in_port, now_ns);
	default:
		return drop_unmatched(w, &u, MM_DROP_DEMUX_UNKNOWN, false);
	}

	struct mm_key key;
	key.raddr = u.src;
	key.lport = u.dport;
	key.rport = u.sport;
	struct mm_endpoint *ep = mm_tables_lookup(t, &key);
	if (unlikely(!ep))
		return drop_unmatched(w, &u, MM_DROP_UNKNOWN_ENDPOINT, true);
	struct mm_room *room = ep->room;
	if (room->worker != w->id) {
		MM_CNT_ADD(w->st->handoff_out, 1);
		return (int)room->worker;
	}

	if (unlikely(!ep->mac_learned || memcmp(ep->learned_mac, u.src_mac, 6) != 0)) {
		memcpy(ep->learned_mac, u.src_mac, 6);
		ep->mac_learned = 1;
	}
	MM_CNT_ADD(ep->rx_packets, 1);
	MM_CNT_ADD(ep->rx_bytes, plen);
	MM_CNT_ADD(room->rx_packets, 1);
	MM_CNT_ADD(room->rx_bytes, plen);
	/* DTLS-SRTP: nothing is accepted before the handshake gave keys. */
	if (unlikely(ep->dtls) && !rcu_dereference(ep->conf)->keys)
		return drop(w, MM_DROP_DTLS_NOT_READY);

	const struct mm_route *rt = rcu_dereference(room->route);
	if (kind == MM_DEMUX_RTP)
		return rx_rtp(w, ep, rt, pl, plen, now_ns);
	return rx_rtcp(w, ep, rt, pl, plen, now_ns);
}
