/* Per-packet forwarding: parse, demultiplex, look up, account, fan out. */
#include "dataplane/core/engine.h"

#include <string.h>

#include "dataplane/proto/demux.h"
#include "dataplane/proto/neigh.h"
#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/rtp.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline int drop(struct mm_worker_ctx *w, enum mm_drop_reason reason)
{
	MM_CNT_ADD(w->st->drops[reason], 1);
	return MM_ENGINE_DONE;
}

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

static inline const uint8_t *next_hop_mac(const struct mm_tables *t, const struct mm_endpoint *sub,
					  const struct mm_ep_conf *sc)
{
	if (sc->mac_set)
		return sc->mac;
	if (sub->mac_learned)
		return sub->learned_mac;
	return t->conf.ports[sub->port_id].gateway_mac;
}

/* Map a publisher's RTP header into the subscriber's view. */
static inline void rewrite_rtp(uint8_t *rtp, struct mm_rewrite *rw, const struct mm_stream_conf *sc,
			       const struct mm_stream_state *ss, uint16_t seq, uint32_t ts)
{
	if (rw->src_uid != sc->uid) {
		rw->src_uid = sc->uid;
		rw->out_ssrc = sc->ssrc;
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
}

/* Copy the (plain) UDP payload to every subscriber of pub, rewriting RTP
 * for the subscriber's view and protecting it with the subscriber's
 * outbound SRTP session: one copy and one encryption per receiver. sc/ss
 * are the RTP stream (NULL for RTCP, which is forwarded as it came). */
static void fan_out(struct mm_worker_ctx *w, struct mm_endpoint *pub, const struct mm_route *rt,
		    const uint8_t *pl, size_t plen, const struct mm_stream_conf *sc,
		    const struct mm_stream_state *ss)
{
	struct mm_tables *t = w->t;
	const struct mm_route_pub *rp = &rt->pub[pub->slot];
	bool rtcp = sc == NULL;
	uint16_t seq = 0;
	uint32_t ts = 0;
	if (!rtcp) {
		seq = rtp_get_seq(pl);
		ts = rtp_get_ts(pl);
	}
	uint64_t sent = 0, sent_bytes = 0, sent_frame_bytes = 0;
	for (uint32_t i = 0; i < rp->n; i++) {
		struct mm_endpoint *sub = rt->subs[rp->off + i];
		const struct mm_ep_conf *subc = rcu_dereference(sub->conf);
		struct mm_srtp *out = NULL;
		size_t trailer = 0;
		if (subc->keys) {
			out = subc->keys->out;
			if (unlikely(!out)) {
				drop(w, MM_DROP_SRTP_NO_KEY);
				continue;
			}
			trailer = rtcp ? mm_srtcp_trailer(subc->keys->profile)
				       : mm_srtp_rtp_trailer(subc->keys->profile);
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
		if (!rtcp)
			rewrite_rtp(buf + hl, &sub->rw[pub->slot * MM_STREAMS_MAX + sc->state_idx], sc,
				    ss, seq, ts);
		size_t olen = plen;
		if (out) {
			int r = rtcp ? mm_srtcp_protect(out, buf + hl, &olen, plen + trailer)
				     : mm_srtp_protect(out, buf + hl, &olen, plen + trailer);
			if (unlikely(r != 0)) {
				w->tx.discard(w->tx.ctx, h);
				drop(w, MM_DROP_SRTP_PROTECT);
				continue;
			}
		}

		const struct mm_port_conf *port = &t->conf.ports[sub->port_id];
		struct net_udp_tx hdr;
		memcpy(hdr.dst_mac, next_hop_mac(t, sub, subc), 6);
		memcpy(hdr.src_mac, port->mac, 6);
		hdr.family = sub->family;
		hdr.no_udp_csum4 = out && !port->srtp_udp_csum4;
		hdr.src = sub->laddr;
		hdr.dst = sub->key.raddr;
		hdr.sport = sub->key.lport;
		hdr.dport = sub->key.rport;
		size_t flen = net_write_udp(buf, &hdr, olen);
		w->tx.send(w->tx.ctx, sub->port_id, h, flen);

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
	bool try_prev = c->prev_keys && c->prev_keys->in && *ok != k->uid;
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
	if (r == MM_SRTP_ERR_REPLAY)
		return MM_DROP_SRTP_REPLAY;
	if (r == MM_SRTP_ERR_PARSE)
		return rtcp ? MM_DROP_RTCP_MALFORMED : MM_DROP_RTP_MALFORMED;
	return MM_DROP_SRTP_AUTH;
}

static int rx_rtp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		  uint8_t *pl, size_t plen, uint64_t now_ns)
{
	/* The SSRC is in clear in SRTP: drop unknown streams before spending
	 * a decryption (or a libsrtp2 stream) on them. */
	if (unlikely(plen < RTP_HEADER_MIN))
		return drop(w, MM_DROP_RTP_MALFORMED);
	uint32_t ssrc = rtp_get_ssrc(pl);
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	const struct mm_stream_conf *sc = NULL;
	for (uint32_t i = 0; i < c->n_streams; i++) {
		if (c->streams[i].ssrc == ssrc) {
			sc = &c->streams[i];
			break;
		}
	}
	if (unlikely(!sc))
		return drop(w, MM_DROP_UNKNOWN_SSRC);
	if (c->keys) {
		int r = unprotect(ep, c, pl, &plen, false);
		if (unlikely(r))
			return drop(w, (enum mm_drop_reason)r);
	}
	struct rtp_header h;
	if (unlikely(rtp_parse(pl, plen, &h) != 0))
		return drop(w, MM_DROP_RTP_MALFORMED);

	struct mm_stream_state *ss = &ep->streams[sc->state_idx];
	if (ss->uid != sc->uid) {
		memset(ss, 0, sizeof(*ss));
		ss->uid = sc->uid;
	}
	uint32_t arrival = (uint32_t)(uint64_t)((double)now_ns * (sc->clock_rate * 1e-9));
	rtp_stats_update(&ss->rtp, h.seq, h.timestamp, arrival);
	MM_CNT_ADD(ss->packets, 1);
	MM_CNT_ADD(ss->bytes, plen);

	if (sc->muted) {
		if (!ss->paused) {
			ss->paused = 1;
			ss->pause_gen++;
		}
		MM_CNT_ADD(ep->muted_packets, 1);
		return drop(w, MM_DROP_MUTED);
	}
	ss->paused = 0;
	if (!rt || ep->slot >= rt->n_slots || rt->pub[ep->slot].n == 0)
		return drop(w, MM_DROP_NO_SUBSCRIBER);
	fan_out(w, ep, rt, pl, plen, sc, ss);
	return MM_ENGINE_DONE;
}

static int rx_rtcp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		   uint8_t *pl, size_t plen)
{
	const struct mm_ep_conf *c = rcu_dereference(ep->conf);
	if (c->keys) {
		int r = unprotect(ep, c, pl, &plen, true);
		if (unlikely(r))
			return drop(w, (enum mm_drop_reason)r);
	}
	struct rtcp_compound cp;
	if (unlikely(rtcp_parse_compound(pl, plen, 0, &cp) != 0))
		return drop(w, MM_DROP_RTCP_MALFORMED);
	if (!rt || ep->slot >= rt->n_slots || rt->pub[ep->slot].n == 0)
		return drop(w, MM_DROP_NO_SUBSCRIBER);
	fan_out(w, ep, rt, pl, plen, NULL, NULL);
	return MM_ENGINE_DONE;
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

int mm_engine_rx(struct mm_worker_ctx *w, uint8_t *frame, size_t len, uint16_t in_port,
		 uint64_t now_ns)
{
	struct mm_tables *t = w->t;
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
		return drop_unmatched(w, &u, MM_DROP_STUN_UNSUPPORTED, false);
	case MM_DEMUX_DTLS:
		return drop_unmatched(w, &u, MM_DROP_DTLS_UNSUPPORTED, false);
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

	const struct mm_route *rt = rcu_dereference(room->route);
	if (kind == MM_DEMUX_RTP)
		return rx_rtp(w, ep, rt, pl, plen, now_ns);
	return rx_rtcp(w, ep, rt, pl, plen);
}
