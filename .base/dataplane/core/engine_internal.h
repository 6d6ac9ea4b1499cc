/* What engine.c (the per-packet path) and engine_sfu.c (RTCP, feedback,
 * simulcast choice) share. Not for other modules. */
#ifndef MM_ENGINE_INTERNAL_H
#define MM_ENGINE_INTERNAL_H

#include "dataplane/core/engine.h"
#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/rtp.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The SSRC mmdp sends its own RTCP under (receiver reports, PLI, NACK to
 * publishers): "mmdp". */
#define MM_ENGINE_SSRC 0x6d6d6470u

static inline int mm_eng_drop(struct mm_worker_ctx *w, enum mm_drop_reason reason)
{
	MM_CNT_ADD(w->st->drops[reason], 1);
	return MM_ENGINE_DONE;
}

static inline uint64_t mm_eng_ms(uint64_t now_ns)
{
	return now_ns / 1000000u;
}

static inline const uint8_t *mm_eng_next_hop_mac(const struct mm_tables *t,
						 const struct mm_endpoint *sub,
						 const struct mm_ep_conf *sc)
{
	if (sc->mac_set)
		return sc->mac;
	if (sub->mac_learned)
		return sub->learned_mac;
	return t->conf.ports[sub->port_id].gateway_mac;
}

/* May mmdp send to ICE endpoint ep (conf c) now? 0, or why not: it is
 * not bound yet or its consent expired (RFC 7675: no valid check for
 * 30 s), or it speaks DTLS-SRTP and the handshake has given no keys yet. */
static inline int mm_eng_ice_gate(const struct mm_worker_ctx *w, const struct mm_endpoint *ep,
				  const struct mm_ep_conf *c)
{
	if (!ep->bound)
		return MM_DROP_ICE_CONSENT_EXPIRED;
	if (ep->dtls && !c->keys)
		return MM_DROP_DTLS_NOT_READY;
	if (w->now_ns > ep->ice_last_ns + MM_ICE_CONSENT_NS)
		return MM_DROP_ICE_CONSENT_EXPIRED;
	return 0;
}

/* Write the Ethernet/IP/UDP headers of a datagram of olen bytes (already
 * at buf + its header length) to endpoint ep and queue it. */
static inline size_t mm_eng_finish(struct mm_worker_ctx *w, const struct mm_endpoint *ep,
				   const struct mm_ep_conf *c, bool srtp, uint8_t *buf, void *h,
				   size_t olen)
{
	const struct mm_port_conf *port = &w->t->conf.ports[ep->port_id];
	struct net_udp_tx hdr;
	memcpy(hdr.dst_mac, mm_eng_next_hop_mac(w->t, ep, c), 6);
	memcpy(hdr.src_mac, port->mac, 6);
	hdr.family = ep->family;
	hdr.no_udp_csum4 = srtp && !port->srtp_udp_csum4;
	hdr.src = ep->laddr;
	hdr.dst = ep->key.raddr;
	hdr.sport = ep->key.lport;
	hdr.dport = ep->key.rport;
	size_t flen = net_write_udp(buf, &hdr, olen);
	w->tx.send(w->tx.ctx, ep->port_id, h, flen);
	return flen;
}

/* Send an RTP (rtcp false) or RTCP packet to ep, protected with ep's
 * outbound session when it speaks SRTP: a copy (a translated sender
 * report, a retransmission), counted on ep and its room as forwarded, or
 * mmdp's own report or request (own: a receiver report, PLI or NACK to a
 * publisher), counted by its kind. The worker counts both. Returns 0 or a
 * drop reason (counted). */
int mm_eng_send(struct mm_worker_ctx *w, struct mm_endpoint *ep, const uint8_t *pkt, size_t len,
		bool rtcp, bool own);

/* RTCP from endpoint ep (plain, after SRTCP unprotect): sender reports
 * translated for pub's receivers, receiver reports and REMB into ep's
 * downlink estimate, NACKs served from the cache, PLI/FIR to publishers. */
int mm_eng_rx_rtcp(struct mm_worker_ctx *w, struct mm_endpoint *ep, const struct mm_route *rt,
		   const uint8_t *pl, size_t plen, uint64_t now_ns);

/* Choose the simulcast layer of every group sub receives (its max_layer,
 * its downlink estimate, screens first). */
void mm_eng_allocate(struct mm_worker_ctx *w, struct mm_endpoint *sub, const struct mm_route *rt,
		     uint64_t now_ms);

/* Ask publisher pub for a keyframe of its stream sc (a PLI), at most once
 * per MM_PLI_INTERVAL_MS per stream, whoever asks. */
void mm_eng_request_keyframe(struct mm_worker_ctx *w, struct mm_endpoint *pub,
			     const struct mm_stream_conf *sc, uint64_t now_ms);

/* mmdp's receiver report to publisher ep on its streams, when one is due. */
void mm_eng_maybe_send_rr(struct mm_worker_ctx *w, struct mm_endpoint *ep,
			  const struct mm_ep_conf *c, uint64_t now_ms);

/* The view sub has of group base of pub: its rewrite entry, made fresh
 * (empty) for this group when it was another stream's. */
struct mm_rewrite *mm_eng_group_view(struct mm_endpoint *sub, const struct mm_endpoint *pub,
				     const struct mm_stream_conf *base);

/* Give the copy to sub its transport-wide sequence number (at ext, the
 * 2-byte element) and remember its size and send time for sub's
 * feedback. */
static inline void mm_eng_twcc_stamp(struct mm_endpoint *sub, uint8_t *ext, size_t bytes,
				     uint64_t now_ms)
{
	uint16_t q = sub->twcc_seq++;
	ext[0] = (uint8_t)(q >> 8);
	ext[1] = (uint8_t)q;
	struct mm_twcc_sent *t = &sub->twcc[q % MM_TWCC_RING];
	t->seq = q;
	t->bytes = bytes > UINT16_MAX ? UINT16_MAX : (uint16_t)bytes;
	t->ms = (uint32_t)now_ms;
}

/* Is stream sc (a group's base) simulcast: more than one layer? */
static inline bool mm_eng_simulcast(const struct mm_stream_conf *base)
{
	return mm_group_layers(base) > 1;
}

#endif
