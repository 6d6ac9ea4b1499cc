/* The receive path of an I/O thread, whatever the backend: SRTP
 * unprotect with the receiver's inbound session, then the checks of every
 * packet: RTP, the payload tag and checksum, who sent it (misdelivery),
 * sequence (loss, duplicates, reordering), jitter and one-way latency. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tools/load/run.h"

void ld_rx_packet(struct ld_thread *T, struct ld_part *p, uint8_t *b, size_t len, uint64_t now)
{
	struct ld_run *R = T->R;
	struct ld_tstats *st = &T->st;
	size_t wire = len;
	if (len < RTP_HEADER_MIN || (b[0] >> 6) != 2 || (b[1] >= 192 && b[1] <= 223)) {
		ld_ctr_add(&st->foreign, 1); /* not RTP (mmload sends no RTCP) */
		return;
	}
	if (p->rx) {
		int r = mm_srtp_unprotect(p->rx, b, &len);
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
	int rc = ld_tag_read(h.payload, h.payload_len, &t);
	if (rc) {
		ld_ctr_add(rc == -EPROTO ? &st->foreign : &st->corrupt, 1);
		return;
	}
	enum ld_mis m = ld_classify(&R->sc, p->id, &t);
	if (m != LD_MIS_NONE) {
		ld_ctr_add(&st->mis[m], 1);
		return;
	}
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
		uint64_t sec = (t.send_ns - R->t0) / 1000000000u;
		if (sec < T->n_secs)
			ld_ctr_add(&T->tl[sec].rx_unique, 1);
	}
	if (t.send_ns >= R->t_meas && t.send_ns < R->t_end) {
		f->rx++;
		ld_ctr_add(&st->rx_pkts[s->kind], 1);
		ld_ctr_add(&st->rx_kbytes[s->kind], wire);
		ld_hist_add(&T->hist, now > t.send_ns ? now - t.send_ns : 0);
	}
}
