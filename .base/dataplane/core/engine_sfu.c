/* The SFU's feedback loop (docs/agent-protocol.md, "Meetings of 100"):
 * RTCP from endpoints (sender reports translated and forwarded, receiver
 * reports and REMB consumed into the downlink estimate, NACKs served from
 * the retransmission cache or asked of the publisher, PLI/FIR merged and
 * sent on), mmdp's own receiver reports and keyframe requests, and each
 * receiver's choice of simulcast layers. Runs on the room's worker; rarer
 * than the media path in engine.c. */
#include <string.h>

#include "dataplane/core/engine_internal.h"
#include "dataplane/proto/rtx.h"
#include "dataplane/proto/twcc.h"

int mm_eng_send(struct mm_worker_ctx *w, struct mm_endpoint *ep, const uint8_t *pkt, size_t len,
		bool rtcp, bool own)
{
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	struct mm_srtp *out = NULL;
	size_t trailer = 0;
	if (unlikely(ep->ice)) {
		int g = mm_eng_ice_gate(w, ep, c);
		if (g)
			return mm_eng_drop(w, (enum mm_drop_reason)g), g;
	}
	if (c->keys) {
		out = c->keys->out;
		if (!out)
			return mm_eng_drop(w, MM_DROP_SRTP_NO_KEY), MM_DROP_SRTP_NO_KEY;
		trailer = rtcp ? mm_srtcp_trailer(c->keys->profile) : mm_srtp_rtp_trailer(c->keys->profile);
	}
	size_t hl = net_udp_hdr_len(ep->family);
	size_t cap = hl + len + trailer;
	if (cap - NET_ETH_HLEN > MM_MTU)
		return mm_eng_drop(w, MM_DROP_TOO_LARGE), MM_DROP_TOO_LARGE;
	void *h;
	uint8_t *buf = w->tx.alloc(w->tx.ctx, cap, &h);
	if (!buf)
		return mm_eng_drop(w, MM_DROP_NO_BUFFER), MM_DROP_NO_BUFFER;
	memcpy(buf + hl, pkt, len);
	size_t olen = len;
	if (out) {
		int r = rtcp ? mm_srtcp_protect(out, buf + hl, &olen, len + trailer)
			     : mm_srtp_protect(out, buf + hl, &olen, len + trailer);
		if (r != 0) {
			w->tx.discard(w->tx.ctx, h);
			return mm_eng_drop(w, MM_DROP_SRTP_PROTECT), MM_DROP_SRTP_PROTECT;
		}
	}
	size_t flen = mm_eng_finish(w, ep, c, out != NULL, buf, h, olen);
	if (!own) {
		MM_CNT_ADD(ep->tx_packets, 1);
		MM_CNT_ADD(ep->tx_bytes, olen);
		MM_CNT_ADD(ep->room->tx_packets, 1);
		MM_CNT_ADD(ep->room->tx_bytes, olen);
	}
	MM_CNT_ADD(w->st->tx_packets, 1);
	MM_CNT_ADD(w->st->tx_bytes, flen);
	return 0;
}

struct mm_rewrite *mm_eng_group_view(struct mm_endpoint *sub, const struct mm_endpoint *pub,
				     const struct mm_stream_conf *base)
{
	struct mm_rewrite *rw = &sub->rw[pub->slot * MM_STREAMS_MAX + base->state_idx];
	if (rw->src_uid != base->uid) {
		memset(rw, 0, sizeof(*rw));
		rw->src_uid = base->uid;
		rw->out_ssrc = mm_group_out_ssrc(base);
		rw->alloc_layer = -1;
		rw->pause_gen = pub->streams[base->state_idx].pause_gen;
		mm_layer_sel_init(&rw->sel);
		mm_seq_map_reset(&rw->map);
		sub->alloc_ms = 0; /* choose its layers at its next copy */
	}
	return rw;
}

/* ---- Keyframe requests and receiver reports to publishers ------------ */

void mm_eng_request_keyframe(struct mm_worker_ctx *w, struct mm_endpoint *pub,
			     const struct mm_stream_conf *sc, uint64_t now_ms)
{
	struct mm_stream_state *ss = &pub->streams[sc->state_idx];
	uint32_t media = mm_stream_ssrc(pub, sc);
	if (!media)
		return; /* known by RID and not sending yet */
	if (ss->pli_sent && now_ms < ss->pli_ms + MM_PLI_INTERVAL_MS)
		return; /* one request serves every receiver waiting */
	ss->pli_sent = true;
	ss->pli_ms = now_ms;
	uint8_t buf[64];
	struct rtcp_writer wr;
	rtcp_writer_init(&wr, buf, sizeof(buf));
	struct rtcp_rr rr = {.ssrc = MM_ENGINE_SSRC};
	rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr));
	rtcp_writer_add(&wr, rtcp_pli_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr),
					    MM_ENGINE_SSRC, media));
	int n = rtcp_writer_finish(&wr);
	if (n > 0 && mm_eng_send(w, pub, buf, (size_t)n, true, true) == 0)
		MM_CNT_ADD(pub->pli_tx, 1);
}

/* One report block on stream sc of ep (RFC 3550 6.4.1, A.3). */
static void report_block(struct mm_stream_state *ss, uint32_t ssrc, uint64_t now_ms,
			 struct rtcp_report_block *rb)
{
	uint32_t ext_max = rtp_stats_ext_max(&ss->rtp);
	uint32_t expected = ext_max - ss->rtp.base_seq + 1;
	uint32_t received = (uint32_t)ss->rtp.received;
	uint32_t exp_int = expected - ss->rr_expected;
	uint32_t rec_int = received - ss->rr_received;
	ss->rr_expected = expected;
	ss->rr_received = received;
	int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
	memset(rb, 0, sizeof(*rb));
	rb->ssrc = ssrc;
	rb->fraction_lost = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int);
	int64_t lost = rtp_stats_lost(&ss->rtp);
	rb->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
	rb->ext_highest_seq = ext_max;
	rb->jitter = rtp_stats_jitter(&ss->rtp);
	if (ss->sr_ms) {
		rb->lsr = ss->sr_ntp_mid;
		rb->dlsr = (uint32_t)((now_ms - ss->sr_ms) * 65536u / 1000u);
	}
}

void mm_eng_maybe_send_rr(struct mm_worker_ctx *w, struct mm_endpoint *ep,
			  const struct mm_ep_conf *c, uint64_t now_ms)
{
	if (!ep->rr_ms) {
		ep->rr_ms = now_ms ? now_ms : 1; /* the first report a period after its first packet */
		return;
	}
	if (now_ms < ep->rr_ms + MM_RR_INTERVAL_MS)
		return;
	ep->rr_ms = now_ms;
	if (c->keys && !c->keys->out)
		return;
	struct rtcp_rr rr = {.ssrc = MM_ENGINE_SSRC};
	for (uint32_t i = 0; i < c->n_streams && rr.rc < RTCP_MAX_COUNT; i++) {
		const struct mm_stream_conf *sc = &c->streams[i];
		struct mm_stream_state *ss = &ep->streams[sc->state_idx];
		if (ss->uid != sc->uid || !ss->rtp.initialized || ss->rtp.received == 0)
			continue;
		report_block(ss, mm_stream_ssrc(ep, sc), now_ms, &rr.rb[rr.rc++]);
	}
	if (rr.rc == 0)
		return;
	uint8_t buf[RTCP_HEADER_LEN + 4 + MM_STREAMS_MAX * RTCP_REPORT_BLOCK_LEN];
	int n = rtcp_rr_build(buf, sizeof(buf), &rr);
	if (n > 0 && mm_eng_send(w, ep, buf, (size_t)n, true, true) == 0)
		MM_CNT_ADD(ep->rr_tx, 1);
}

/* ---- Simulcast: each receiver's layers ------------------------------- */

/* Largest number of groups a receiver can get: 99 publishers with 8
 * streams each (every stream its own group). */
#define ALLOC_MAX ((MM_ROOM_CAPACITY_MAX - 1) * MM_STREAMS_MAX)

void mm_eng_allocate(struct mm_worker_ctx *w, struct mm_endpoint *sub, const struct mm_route *rt,
		     uint64_t now_ms)
{
	(void)w;
	sub->alloc_ms = now_ms ? now_ms : 1;
	if (!rt || sub->slot >= rt->n_slots)
		return;
	const struct mm_ep_conf *subc = rcu_dereference(sub->conf);
	sub->alloc_conf = subc;
	int32_t dominant = mm_speaker_dominant(&sub->room->spk);
	struct mm_layer_src src[ALLOC_MAX];
	struct mm_rewrite *views[ALLOC_MAX];
	int8_t out[ALLOC_MAX];
	uint32_t n = 0;
	const struct mm_route_pub *rs = &rt->sub[sub->slot];
	for (uint32_t k = 0; k < rs->n; k++) {
		struct mm_endpoint *pub = rt->pubs[rs->off + k];
		const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
		for (uint32_t i = 0; i < pc->n_streams && n < ALLOC_MAX; i++) {
			const struct mm_stream_conf *base = &pc->streams[i];
			if (base->group != i || base->kind == MM_KIND_AUDIO || !mm_eng_simulcast(base))
				continue;
			struct mm_layer_src *s = &src[n];
			memset(s, 0, sizeof(*s));
			s->kind = base->kind == MM_KIND_SCREEN ? MM_LAYER_SCREEN : MM_LAYER_CAMERA;
			s->priority = (int32_t)pub->slot == dominant;
			for (int l = 0; l < MM_LAYERS_MAX; l++) {
				if (base->layers[l] < 0)
					continue;
				const struct mm_stream_conf *lc = &pc->streams[base->layers[l]];
				struct mm_stream_state *ls = &pub->streams[lc->state_idx];
				uint32_t bps = ls->uid == lc->uid ? mm_rate_bps(&ls->rate, now_ms) : 0;
				s->layer_bps[l] = bps;
				if (bps)
					s->active_mask |= (uint8_t)(1u << l);
			}
			views[n++] = mm_eng_group_view(sub, pub, base);
		}
	}
	sub->alloc_ms = now_ms ? now_ms : 1; /* mm_eng_group_view may have cleared it */
	if (!n)
		return;
	mm_layer_allocate(src, n, subc->max_layer, mm_bwe_bps(&sub->bwe, now_ms), out);
	for (uint32_t k = 0; k < n; k++)
		views[k]->alloc_layer = out[k];
}

/* ---- RTCP from an endpoint --------------------------------------------- */

/* The group of pub's that sub sees under SSRC media_ssrc (its base), or
 * NULL. */
static const struct mm_stream_conf *find_group(const struct mm_route *rt, struct mm_endpoint *sub,
					       uint32_t media_ssrc, struct mm_endpoint **pub_out)
{
	if (!rt || sub->slot >= rt->n_slots)
		return NULL;
	const struct mm_route_pub *rs = &rt->sub[sub->slot];
	for (uint32_t k = 0; k < rs->n; k++) {
		struct mm_endpoint *pub = rt->pubs[rs->off + k];
		const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
		for (uint32_t i = 0; i < pc->n_streams; i++) {
			const struct mm_stream_conf *sc = &pc->streams[i];
			if (sc->group == i && mm_group_out_ssrc(sc) == media_ssrc) {
				*pub_out = pub;
				return sc;
			}
		}
	}
	return NULL;
}

static const struct mm_stream_conf *stream_by_state(const struct mm_ep_conf *c, uint8_t idx)
{
	for (uint32_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].state_idx == idx)
			return &c->streams[i];
	return NULL;
}

/* The layer stream a receiver's keyframe request for group base is about:
 * the layer it gets now (or waits for). */
static const struct mm_stream_conf *requested_layer(const struct mm_ep_conf *pc,
						    const struct mm_stream_conf *base,
						    const struct mm_rewrite *rw)
{
	if (!mm_eng_simulcast(base) || rw->src_uid != base->uid)
		return base;
	int l = rw->sel.current;
	if (l < 0)
		l = rw->alloc_layer;
	if (l < 0 || l >= MM_LAYERS_MAX || base->layers[l] < 0)
		return base;
	return &pc->streams[base->layers[l]];
}

#define NACK_MAX 64

/* A receiver's generic NACK: resend what the cache has (RTX when the
 * receiver negotiated it; a plain retransmission only to a plain-RTP
 * receiver, for SRTP must never reuse an index), ask the publisher for
 * the rest. */
static void serve_nack(struct mm_worker_ctx *w, struct mm_endpoint *sub, const struct mm_route *rt,
		       const struct rtcp_packet *p, uint64_t now_ms)
{
	struct rtcp_nack nk;
	if (rtcp_nack_parse(p->data, p->len, &nk) != 0)
		return;
	struct mm_endpoint *pub;
	const struct mm_stream_conf *base = find_group(rt, sub, nk.media_ssrc, &pub);
	if (!base)
		return;
	struct mm_rewrite *rw = &sub->rw[pub->slot * MM_STREAMS_MAX + base->state_idx];
	if (rw->src_uid != base->uid)
		return;
	const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
	const struct mm_ep_conf *subc = rcu_dereference(sub->conf);
	uint16_t seqs[NACK_MAX];
	int n = rtcp_nack_expand(&nk, seqs, NACK_MAX);
	if (n == -E2BIG)
		n = NACK_MAX;
	if (n <= 0)
		return;
	bool rtx = subc->rtx_pt && base->has_rtx;
	/* What to ask the publisher, per layer stream. */
	uint16_t ask[MM_STREAMS_MAX][NACK_MAX];
	uint32_t n_ask[MM_STREAMS_MAX] = {0};
	MM_CNT_ADD(sub->nack_rx, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		struct mm_seq_seg seg;
		if (mm_seq_map_find(&rw->map, seqs[i], rw->last_seq_out, &seg) != 0)
			continue;
		const struct mm_stream_conf *lc = stream_by_state(pc, seg.src_idx);
		if (!lc || !lc->cache)
			continue;
		uint16_t src_seq = (uint16_t)(seqs[i] - seg.seq_off);
		struct mm_rtx_entry *e = mm_rtx_cache_get(lc->cache, src_seq, now_ms);
		if (!e) {
			uint32_t li = (uint32_t)(lc - pc->streams);
			ask[li][n_ask[li]++] = src_seq;
			continue;
		}
		if (!mm_rtx_cache_may_resend(e, now_ms) || (!rtx && subc->keys))
			continue;
		uint8_t pkt[RTP_MAX_PACKET + 2];
		size_t len = e->len;
		memcpy(pkt, e->pkt, len);
		rtp_set_seq(pkt, seqs[i]);
		rtp_set_ts(pkt, rtp_get_ts(pkt) + seg.ts_off);
		rtp_set_ssrc(pkt, rw->out_ssrc);
		mm_rtx_cache_resent(e, now_ms);
		if (rtx) {
			uint8_t r[RTP_MAX_PACKET + 2];
			int rl = rtx_build(r, sizeof(r), pkt, len, base->rtx_ssrc, subc->rtx_pt,
					   rw->rtx_seq);
			if (rl < 0)
				continue;
			rw->rtx_seq++;
			if (mm_eng_send(w, sub, r, (size_t)rl, false, false) == 0)
				MM_CNT_ADD(sub->rtx_tx, 1);
		} else if (mm_eng_send(w, sub, pkt, len, false, false) == 0) {
			MM_CNT_ADD(sub->rtx_tx, 1);
		}
	}
	for (uint32_t li = 0; li < pc->n_streams; li++) {
		if (!n_ask[li])
			continue;
		struct rtcp_nack_item items[NACK_MAX];
		int ni = rtcp_nack_pack(ask[li], n_ask[li], items, NACK_MAX);
		if (ni <= 0)
			continue;
		uint32_t media = mm_stream_ssrc(pub, &pc->streams[li]);
		if (!media)
			continue;
		uint8_t buf[RTCP_HEADER_LEN + 8 + 12 + NACK_MAX * 4];
		struct rtcp_writer wr;
		rtcp_writer_init(&wr, buf, sizeof(buf));
		struct rtcp_rr rr = {.ssrc = MM_ENGINE_SSRC};
		rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr));
		rtcp_writer_add(&wr, rtcp_nack_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr),
						     MM_ENGINE_SSRC, media, items,
						     (size_t)ni));
		int bl = rtcp_writer_finish(&wr);
		if (bl > 0 && mm_eng_send(w, pub, buf, (size_t)bl, true, true) == 0)
			MM_CNT_ADD(sub->nack_fwd, n_ask[li]);
	}
}

/* A receiver asks for a keyframe of what it sees under media_ssrc. */
static void serve_keyframe_request(struct mm_worker_ctx *w, struct mm_endpoint *sub,
				   const struct mm_route *rt, uint32_t media_ssrc, uint64_t now_ms)
{
	struct mm_endpoint *pub;
	const struct mm_stream_conf *base = find_group(rt, sub, media_ssrc, &pub);
	if (!base || base->kind == MM_KIND_AUDIO)
		return;
	MM_CNT_ADD(sub->pli_rx, 1);
	const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
	const struct mm_rewrite *rw = &sub->rw[pub->slot * MM_STREAMS_MAX + base->state_idx];
	mm_eng_request_keyframe(w, pub, requested_layer(pc, base, rw), now_ms);
}

/* What mmdp sent ep since its previous feedback, in bits per second (0
 * at its first), from its tx_bytes counter: no meter on the per-copy path. */
static uint32_t sent_rate(struct mm_endpoint *ep, uint64_t now_ms)
{
	uint64_t bytes = ep->tx_bytes, rate = 0;
	if (ep->fb_tx_ms && now_ms > ep->fb_tx_ms)
		rate = (bytes - ep->fb_tx_bytes) * 8000u / (now_ms - ep->fb_tx_ms);
	ep->fb_tx_bytes = bytes;
	ep->fb_tx_ms = now_ms ? now_ms : 1;
	return rate > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)rate;
}

/* Report blocks from ep about what mmdp sends it: the worst loss fraction
 * feeds its downlink estimate. */
static void consume_blocks(struct mm_endpoint *ep, const struct rtcp_report_block *rb, uint8_t n,
			   uint64_t now_ms)
{
	if (!n || (ep->twcc_fb_ms && now_ms < ep->twcc_fb_ms + 2000))
		return; /* its transport-wide feedback is fresher and finer */
	uint8_t worst = 0;
	for (uint8_t i = 0; i < n; i++)
		if (rb[i].fraction_lost > worst)
			worst = rb[i].fraction_lost;
	mm_bwe_on_loss(&ep->bwe, worst, sent_rate(ep, now_ms), now_ms);
}

/* Transport-wide feedback from ep about the copies mmdp stamped: the
 * share of them lost, and the rate at which the acknowledged ones
 * arrived, feed its downlink estimate (the loss controller of GCC; no
 * delay-based part yet). Sequence numbers mmdp does not remember (too old,
 * never sent) are left out. */
static void consume_twcc(struct mm_endpoint *ep, const struct rtcp_packet *p, uint64_t now_ms)
{
	struct twcc_feedback fb;
	if (twcc_feedback_parse(p->data, p->len, &fb) != 0)
		return;
	struct twcc_iter it;
	twcc_iter_init(&it, &fb);
	uint16_t seq;
	bool received;
	int64_t at, first = INT64_MAX, last = INT64_MIN;
	uint32_t known = 0, lost = 0;
	uint64_t bytes = 0;
	while (twcc_iter_next(&it, &seq, &received, &at) == 1) {
		const struct mm_twcc_sent *t = &ep->twcc[seq % MM_TWCC_RING];
		if (t->seq != seq || (uint32_t)now_ms - t->ms > 5000u)
			continue;
		known++;
		if (!received) {
			lost++;
			continue;
		}
		bytes += t->bytes;
		if (at < first)
			first = at;
		if (at > last)
			last = at;
	}
	if (!known)
		return;
	ep->twcc_fb_ms = now_ms ? now_ms : 1;
	MM_CNT_ADD(ep->twcc_fb, 1);
	MM_CNT_ADD(ep->twcc_lost, lost);
	uint64_t acked = last > first ? bytes * 8u * 1000000u / (uint64_t)(last - first)
				      : sent_rate(ep, now_ms);
	uint32_t frac = lost * 256u / known;
	mm_bwe_on_loss(&ep->bwe, (uint8_t)(frac > 255 ? 255 : frac),
		       acked > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)acked, now_ms);
}

/* Forward publisher pub's sender report to each of its receivers that
 * gets the stream, translated into the receiver's view (SSRC, RTP
 * timestamp), followed by the compound's SDES, BYE and APP packets
 * (others[]) as they came. */
static void forward_sr(struct mm_worker_ctx *w, struct mm_endpoint *pub, const struct mm_route *rt,
		       const struct rtcp_sr *sr, const struct rtcp_packet *others, uint32_t n_others)
{
	const struct mm_ep_conf *pc = rcu_dereference(pub->conf);
	const struct mm_stream_conf *sc = mm_stream_of(pub, pc, sr->ssrc);
	if (!sc || !rt || pub->slot >= rt->n_slots)
		return;
	const struct mm_stream_conf *base = &pc->streams[sc->group];
	bool simulcast = mm_eng_simulcast(base);
	const struct mm_route_pub *rp = &rt->pub[pub->slot];
	for (uint32_t i = 0; i < rp->n; i++) {
		struct mm_endpoint *sub = rt->subs[rp->off + i];
		const struct mm_rewrite *rw = &sub->rw[pub->slot * MM_STREAMS_MAX + base->state_idx];
		bool seen = rw->src_uid == base->uid;
		if (simulcast && (!seen || rw->sel.current != (int)sc->layer))
			continue; /* it does not get this layer now */
		struct rtcp_sr t = *sr;
		t.rc = 0; /* the publisher's reception is not the receiver's business */
		t.ext = NULL;
		t.ext_len = 0;
		if (seen) {
			t.ssrc = rw->out_ssrc;
			t.rtp_ts = sr->rtp_ts + rw->ts_off;
		}
		uint8_t buf[RTP_MAX_PACKET];
		struct rtcp_writer wr;
		rtcp_writer_init(&wr, buf, sizeof(buf));
		rtcp_writer_add(&wr, rtcp_sr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &t));
		for (uint32_t k = 0; k < n_others; k++) {
			if (others[k].len > rtcp_writer_room(&wr)) {
				wr.err = -E2BIG;
				break;
			}
			memcpy(rtcp_writer_ptr(&wr), others[k].data, others[k].len);
			rtcp_writer_add(&wr, (int)others[k].len);
		}
		int n = rtcp_writer_finish(&wr);
		if (n > 0 && mm_eng_send(w, sub, buf, (size_t)n, true, false) == 0)
			MM_CNT_ADD(sub->sr_tx, 1);
	}
}

int mm_eng_rx_rtcp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		   const uint8_t *pl, size_t plen, uint64_t now_ns)
{
	struct rtcp_compound cp;
	if (unlikely(rtcp_parse_compound(pl, plen, 0, &cp) != 0))
		return mm_eng_drop(w, MM_DROP_RTCP_MALFORMED);
	uint64_t now_ms = mm_eng_ms(now_ns);
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	struct rtcp_sr sr;
	bool have_sr = false;
	struct rtcp_packet others[RTCP_MAX_PACKETS];
	uint32_t n_others = 0;
	for (size_t i = 0; i < cp.n; i++) {
		const struct rtcp_packet *p = &cp.pkt[i];
		switch (p->pt) {
		case RTCP_PT_SR:
			if (!have_sr && rtcp_sr_parse(p->data, p->len, &sr) == 0) {
				have_sr = true;
				const struct mm_stream_conf *src = mm_stream_of(ep, c, sr.ssrc);
				struct mm_stream_state *ss = src ? &ep->streams[src->state_idx] : NULL;
				if (ss && ss->uid == src->uid) {
					ss->sr_ntp_mid = rtcp_ntp_mid32(sr.ntp);
					ss->sr_ms = now_ms ? now_ms : 1;
				}
				consume_blocks(ep, sr.rb, sr.rc, now_ms);
			}
			break;
		case RTCP_PT_RR: {
			struct rtcp_rr rr;
			if (rtcp_rr_parse(p->data, p->len, &rr) == 0)
				consume_blocks(ep, rr.rb, rr.rc, now_ms);
			break;
		}
		case RTCP_PT_SDES:
		case RTCP_PT_BYE:
		case RTCP_PT_APP:
			others[n_others++] = *p;
			break;
		case RTCP_PT_RTPFB:
			if (p->count_or_fmt == RTCP_RTPFB_FMT_NACK)
				serve_nack(w, ep, rt, p, now_ms);
			else if (p->count_or_fmt == RTCP_RTPFB_FMT_TWCC)
				consume_twcc(ep, p, now_ms);
			break;
		case RTCP_PT_PSFB:
			if (p->count_or_fmt == RTCP_PSFB_FMT_PLI) {
				struct rtcp_pli pli;
				if (rtcp_pli_parse(p->data, p->len, &pli) == 0)
					serve_keyframe_request(w, ep, rt, pli.media_ssrc, now_ms);
			} else if (p->count_or_fmt == RTCP_PSFB_FMT_FIR) {
				struct rtcp_fir fir;
				if (rtcp_fir_parse(p->data, p->len, &fir) == 0)
					for (size_t k = 0; k < fir.n_entries; k++)
						serve_keyframe_request(w, ep, rt,
								       rtcp_fir_get(&fir, k).ssrc, now_ms);
			} else if (p->count_or_fmt == RTCP_PSFB_FMT_AFB) {
				struct rtcp_remb remb;
				if (rtcp_remb_parse(p->data, p->len, &remb) == 0)
					mm_bwe_on_remb(&ep->bwe,
						       remb.bitrate > UINT32_MAX ? UINT32_MAX
										 : (uint32_t)remb.bitrate,
						       now_ms);
			}
			break;
		default:
			break;
		}
	}
	if (have_sr) {
		forward_sr(w, ep, rt, &sr, others, n_others);
		return MM_ENGINE_DONE;
	}
	MM_CNT_ADD(ep->rtcp_consumed, 1);
	return MM_ENGINE_DONE;
}
