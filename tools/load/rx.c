/* The receive path of an I/O thread, whatever the backend: SRTP
 * unprotect with the receiver's inbound session, then the checks of every
 * packet: RTP, the payload tag and checksum, who sent it (misdelivery),
 * sequence (loss, duplicates, reordering), jitter and one-way latency.
 * In SFU mode (ld_conf_sfu) also: RTX unwrapped (RFC 4588: the OSN, then
 * the original payload), loss and repairs per view from the sequence
 * numbers the receiver sees (struct ld_view), layer switches, audio from
 * non-speakers; and the NACKs for the gaps (ld_rx_nacks). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tools/load/run.h"

#define NACK_EVERY_NS 5000000ull /* how often a thread looks at its gaps */
#define NACK_MAX LD_NACK_MAX

/* The payload's tag, when it is one of mmload's packets meant for
 * receiver p; else the packet is counted (foreign, damaged, misdelivered)
 * and false returned. */
static bool tag_of(struct ld_thread *T, const struct ld_part *p, const uint8_t *pl, size_t plen,
		   struct ld_tag *t)
{
	struct ld_tstats *st = &T->st;
	int rc = ld_tag_read(pl, plen, t);
	if (rc) {
		ld_ctr_add(rc == -EPROTO ? &st->foreign : &st->corrupt, 1);
		return false;
	}
	enum ld_mis m = ld_classify(&T->R->sc, p->id, t);
	if (m != LD_MIS_NONE) {
		ld_ctr_add(&st->mis[m], 1);
		return false;
	}
	return true;
}

static void gapq_add(struct ld_thread *T, size_t vi)
{
	struct ld_run *R = T->R;
	if (R->view_queued[vi] || T->n_gapq == T->cap_gapq)
		return;
	R->view_queued[vi] = 1;
	T->gapq[T->n_gapq++] = (uint32_t)vi;
}

/* The rest of ld_rx_packet in SFU mode, after SRTP and the RTP header. */
static void rx_sfu(struct ld_thread *T, struct ld_part *p, const struct rtp_header *h,
		   size_t wire, uint64_t now)
{
	struct ld_run *R = T->R;
	struct ld_tstats *st = &T->st;
	const struct ld_conf *c = &R->sc.conf;
	const uint8_t *pl = h->payload;
	size_t plen = h->payload_len;
	uint16_t seq = h->seq;
	bool rtx = c->rtx_pt > 0 && h->payload_type == c->rtx_pt;
	if (rtx) {
		if (plen < 2) {
			ld_ctr_add(&st->corrupt, 1);
			return;
		}
		seq = (uint16_t)(pl[0] << 8 | pl[1]); /* OSN */
		pl += 2;
		plen -= 2;
		ld_ctr_add(&st->rtx_rx, 1);
	}
	struct ld_tag t;
	if (!tag_of(T, p, pl, plen, &t))
		return;
	const struct ld_stream *s = &R->sc.streams[t.stream];
	const struct ld_stream *vs = ld_view_stream(&R->sc, s);
	if (h->ssrc != (rtx ? vs->rtx_ssrc : vs->ssrc))
		ld_ctr_add(&st->wrong_ssrc, 1);
	size_t vi = (size_t)p->id * R->sc.streams_per_room + vs->room_slot;
	struct ld_view *v = &R->views[vi];
	struct ld_flow *f = &R->flows[(size_t)p->id * R->sc.streams_per_room + s->room_slot];
	/* Duplicates by (source stream, index); a retransmission is none. */
	bool seq_ok;
	enum ld_seq q = ld_flow_seq(f, t.index, seq, &seq_ok);
	if (q == LD_SEQ_DUP) {
		f->dups--; /* the flow's count is the classic checker's */
		if (rtx || ld_view_was_asked(v, seq)) {
			ld_ctr_add(&st->retrans_dups, 1);
		} else {
			f->dups++;
			ld_ctr_add(&st->dups, 1);
		}
		return;
	}
	if (!seq_ok && !rtx)
		ld_ctr_add(&st->seq_mismatch, 1);
	bool in_window = t.send_ns >= R->t_meas && t.send_ns < R->t_end;
	struct ld_vpkt vp = {.seq = seq, .retrans = rtx, .group = s->kind == LD_VIDEO,
			     .layer = s->layer, .measured = in_window && t.phase == LD_PHASE_EXPECTED,
			     .now_ns = now};
	if (s->kind != LD_AUDIO) {
		struct ld_vp8 vp8;
		vp.key_start = ld_vp8_parse(pl, plen, &vp8) == 0 && vp8.key;
	}
	uint32_t lost0 = v->lost_before_repair;
	enum ld_vseq vq = ld_view_rx(v, &vp);
	if (vq == LD_V_DUP || vq == LD_V_RETRANS_DUP) {
		ld_ctr_add(vq == LD_V_DUP ? &st->dups : &st->retrans_dups, 1);
		return;
	}
	if (vq == LD_V_LATE || vq == LD_V_OLD)
		ld_ctr_add(&st->reordered, 1);
	if (v->n_miss)
		gapq_add(T, vi);
	uint64_t bin = t.send_ns >= R->t0 ? (t.send_ns - R->t0) / LD_TL_BIN_NS : UINT64_MAX;
	if (bin < T->n_bins) {
		/* The timeline's copies: what arrived and the gaps seen. */
		uint32_t gap = v->lost_before_repair > lost0 ? v->lost_before_repair - lost0 : 0;
		ld_ctr_add(&T->tl[bin].rx_unique, 1);
		ld_ctr_add(&T->tl[bin].copies, (vq == LD_V_REPAIRED || vq == LD_V_LATE ? 0 : 1) + gap);
	}
	if (t.phase == LD_PHASE_UNCERTAIN) {
		f->rx_uncertain++;
		ld_ctr_add(&st->rx_uncertain, 1);
		return;
	}
	if (t.send_ns >= R->t0) {
		uint32_t src_slot = s->part % R->sc.parts_per_room;
		bool unexpected = ld_ears_rx(&R->ears[p->id], c, p->room, src_slot, s->kind == LD_AUDIO,
					     t.send_ns - R->t0);
		if (unexpected && c->last_n > 0)
			ld_ctr_add(&st->unexpected_audio, 1);
	}
	bool retrans = rtx || vq == LD_V_REPAIRED;
	if (!retrans)
		ld_flow_jitter(f, ld_ns_to_ts(now - R->t0, s->clock_rate), h->timestamp);
	if (in_window) {
		f->rx++;
		ld_ctr_add(&st->rx_pkts[s->kind], 1);
		ld_ctr_add(&st->rx_kbytes[s->kind], wire);
		/* A repair's latency is the repair's, not the path's. */
		if (!retrans)
			ld_hist_add(&T->hist, now > t.send_ns ? now - t.send_ns : 0);
	}
}

/* One compound RTCP packet from receiver p: an RR with no report block,
 * then a generic NACK for media_ssrc; SRTCP-protected with p's sending
 * session when SRTP is on. */
static int send_nack(struct ld_thread *T, struct ld_part *p, uint32_t media_ssrc,
		     const uint16_t *seqs, int n)
{
	struct ld_run *R = T->R;
	uint8_t buf[LD_PKT_BUF];
	uint32_t own = R->sc.streams[R->sc.part_first[p->id]].ssrc;
	int len = ld_nack_build(buf, sizeof(buf) - 64, own, media_ssrc, seqs, n);
	if (len < 0)
		return len;
	size_t l = (size_t)len;
	if (p->tx && mm_srtcp_protect(p->tx, buf, &l, sizeof(buf)) != 0)
		return -EPROTO;
	return R->io->send_ctl ? R->io->send_ctl(T, p, buf, l) : -ENOTSUP;
}

void ld_rx_nacks(struct ld_thread *T, uint64_t now)
{
	struct ld_run *R = T->R;
	if (!R->views || now < T->next_nack_ns)
		return;
	T->next_nack_ns = now + NACK_EVERY_NS;
	uint16_t seqs[NACK_MAX];
	for (uint32_t i = 0; i < T->n_gapq;) {
		uint32_t vi = T->gapq[i];
		struct ld_view *v = &R->views[vi];
		struct ld_part *p = &R->parts[vi / R->sc.streams_per_room];
		uint32_t room_slot = vi % R->sc.streams_per_room;
		const struct ld_stream *vs = &R->sc.streams[p->room * R->sc.streams_per_room + room_slot];
		/* Video and screen only: mmdp keeps no audio to resend (and
		 * WebRTC clients do not NACK audio). */
		bool nack = R->sc.conf.nack && vs->kind != LD_AUDIO;
		int n = ld_view_nack_due(v, now, nack, seqs, NACK_MAX);
		if (n > 0) {
			int rc = send_nack(T, p, vs->ssrc, seqs, n);
			ld_ctr_add(rc ? &T->st.nack_errors : &T->st.nacks_sent, 1);
		}
		if (v->n_miss == 0) {
			R->view_queued[vi] = 0;
			T->gapq[i] = T->gapq[--T->n_gapq];
			continue;
		}
		i++;
	}
}

/* Whether receiver p asked for (ssrc, seq) with a NACK: a replayed plain
 * retransmission is then no duplicate. The views of p's room are few. */
static bool retransmitted(const struct ld_run *R, const struct ld_part *p, uint32_t ssrc,
			  uint16_t seq)
{
	uint32_t spr = R->sc.streams_per_room;
	const struct ld_stream *rs = &R->sc.streams[p->room * spr];
	for (uint32_t k = 0; k < spr; k++)
		if (rs[k].ssrc == ssrc)
			return ld_view_was_asked(&R->views[(size_t)p->id * spr + k], seq);
	return false;
}

void ld_rx_packet(struct ld_thread *T, struct ld_part *p, uint8_t *b, size_t len, uint64_t now)
{
	struct ld_run *R = T->R;
	struct ld_tstats *st = &T->st;
	size_t wire = len;
	bool sfu = R->views != NULL;
	if (len >= 8 && (b[0] >> 6) == 2 && b[1] >= 192 && b[1] <= 223) {
		/* From mmdp (its receiver reports, keyframe requests and NACKs
		 * to a publisher; translated sender reports): counted, not
		 * checked. */
		ld_ctr_add(&st->rtcp_rx, 1);
		return;
	}
	if (len < RTP_HEADER_MIN || (b[0] >> 6) != 2) {
		ld_ctr_add(&st->foreign, 1); /* not RTP */
		return;
	}
	if (p->rx) {
		uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
		uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
		int r = mm_srtp_unprotect(p->rx, b, &len);
		if (r == MM_SRTP_ERR_REPLAY && sfu && retransmitted(R, p, ssrc, seq)) {
			ld_ctr_add(&st->retrans_dups, 1); /* a plain retransmission, again */
			return;
		}
		if (r) {
			ld_ctr_add(r == MM_SRTP_ERR_AUTH     ? &st->srtp_auth
				   : r == MM_SRTP_ERR_REPLAY ? &st->srtp_replay
							     : &st->srtp_other,
				   1);
			return;
		}
	}
	struct rtp_header h;
	struct ld_tag t;
	if (rtp_parse(b, len, &h) != 0) {
		ld_ctr_add(&st->corrupt, 1);
		return;
	}
	if (sfu) {
		rx_sfu(T, p, &h, wire, now);
		return;
	}
	if (!tag_of(T, p, h.payload, h.payload_len, &t))
		return;
	const struct ld_stream *s = &R->sc.streams[t.stream];
	struct ld_flow *f = &R->flows[(size_t)p->id * R->sc.streams_per_room + s->room_slot];
	bool seq_ok;
	enum ld_seq q = ld_flow_seq(f, t.index, h.seq, &seq_ok);
	if (!seq_ok)
		ld_ctr_add(&st->seq_mismatch, 1);
	if (q == LD_SEQ_DUP) {
		ld_ctr_add(&st->dups, 1);
		return;
	}
	if (q == LD_SEQ_LATE || q == LD_SEQ_OLD)
		ld_ctr_add(&st->reordered, 1);
	if (t.phase == LD_PHASE_UNCERTAIN) {
		f->rx_uncertain++;
		ld_ctr_add(&st->rx_uncertain, 1);
		return;
	}
	ld_flow_jitter(f, ld_ns_to_ts(now - R->t0, s->clock_rate), h.timestamp);
	if (t.send_ns >= R->t0) {
		uint64_t bin = (t.send_ns - R->t0) / LD_TL_BIN_NS;
		if (bin < T->n_bins)
			ld_ctr_add(&T->tl[bin].rx_unique, 1);
	}
	if (t.send_ns >= R->t_meas && t.send_ns < R->t_end) {
		f->rx++;
		ld_ctr_add(&st->rx_pkts[s->kind], 1);
		ld_ctr_add(&st->rx_kbytes[s->kind], wire);
		ld_hist_add(&T->hist, now > t.send_ns ? now - t.send_ns : 0);
	}
}
