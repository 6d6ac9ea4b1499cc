/* The receive path of an I/O thread: recvmmsg on a participant's socket,
 * SRTP unprotect with its inbound session, then the checks of every
 * packet: RTP, the payload tag and checksum, who sent it (misdelivery),
 * sequence (loss, duplicates, reordering), jitter and one-way latency. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tools/load/io_priv.h"

#define RX_ROUNDS 2 /* recvmmsg batches per socket before going back to sending */

static bool from_server(const struct ld_part *p, const struct sockaddr_storage *ss)
{
	if (ss->ss_family != p->server.ss_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&p->server;
		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&p->server;
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

static void rx_one(struct ld_thread *T, struct ld_part *p, uint8_t *b, size_t len, uint64_t now)
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

void ld_rx_drain(struct ld_thread *T, struct ld_part *p)
{
	struct ld_run *R = T->R;
	struct mmsghdr msg[LD_RX_BATCH];
	struct iovec iov[LD_RX_BATCH];
	struct sockaddr_storage from[LD_RX_BATCH];
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (int i = 0; i < LD_RX_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = T->rxbuf[i], .iov_len = LD_RX_BUF};
			msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							 .msg_namelen = sizeof(from[i]),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1};
			msg[i].msg_len = 0;
		}
		int n = recvmmsg(p->fd, msg, LD_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		uint64_t now = ld_now_ns();
		uint64_t sec = (now - R->t0) / 1000000000u;
		if (now >= R->t0 && sec < T->n_secs)
			ld_ctr_add(&T->tl[sec].rx, (uint64_t)n);
		ld_ctr_add(&T->st.rx_datagrams, (uint64_t)n);
		for (int i = 0; i < n; i++) {
			ld_ctr_add(&T->st.rx_bytes, msg[i].msg_len);
			if (!from_server(p, &from[i]))
				ld_ctr_add(&T->st.wrong_source, 1);
			rx_one(T, p, T->rxbuf[i], msg[i].msg_len, now);
		}
		if (n < LD_RX_BATCH)
			return;
	}
}
