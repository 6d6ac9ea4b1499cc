/* Retransmission cache and sequence map: how mmdp answers a receiver's
 * NACK (RFC 4585 generic NACK) without asking the publisher.
 *
 * mm_rtx_cache keeps the last packets of one video or screen stream, as
 * received (plain RTP after SRTP unprotect, before the per-receiver
 * rewrite), indexed by their sequence number. mm_seq_map turns a sequence
 * number a receiver NACKs (its rewritten, continuous view of a source)
 * back into the source layer stream and that stream's sequence number,
 * across simulcast layer switches and re-bases.
 *
 * Pure code: no DPDK, no I/O. A cache is created and destroyed by mmdp's
 * agent thread (one allocation); put and get run on the worker's
 * per-packet path in O(1), without allocation. A cache belongs to one
 * worker at a time: no locking. */
#ifndef MM_SFU_RTX_CACHE_H
#define MM_SFU_RTX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Retransmission cache ---------------------------------------------- */

#define MM_RTX_CACHE_MAX_SLOTS 4096u   /* packets: the ring of slots */
#define MM_RTX_CACHE_MAX_PACKET 1500u  /* longer packets are not cached */
#define MM_RTX_CACHE_MAX_AGE_MS 1000u  /* older packets are not returned */
/* A storm guard, per packet and shared by the stream's receivers: at most
 * one resend per 10 ms (a client asks again after about its round trip,
 * 20 ms or more in libwebrtc; a shared gap of 100 ms turned every lost
 * RTX into a lost packet on the test site) and 16 in all (the receivers
 * that lost the same packet on their own links, or one asking again). */
#define MM_RTX_CACHE_RESEND_GAP_MS 10u /* per packet, between two resends */
#define MM_RTX_CACHE_MAX_RESENDS 16u   /* per packet */

struct mm_rtx_cache;

/* One cached packet, as mm_rtx_cache_get finds it. The entry and its pkt
 * point into the cache: valid until the next put into that cache. Read
 * the fields, change them only through mm_rtx_cache_resent. */
struct mm_rtx_entry {
	const uint8_t *pkt;  /* the RTP packet as put */
	uint64_t pos;        /* internal: byte counter of pkt in the data ring */
	uint64_t put_ms;     /* when it was put (the latest put of this seq) */
	uint64_t resent_ms;  /* when last resent; meaningful when resends > 0 */
	uint16_t seq;        /* its RTP sequence number */
	uint16_t len;        /* bytes at pkt; 0: the slot was never used */
	uint8_t resends;     /* times resent (mm_rtx_cache_resent) */
};

/* A cache of at most max_packets packets (rounded up to a power of two,
 * 1..MM_RTX_CACHE_MAX_SLOTS) holding at most max_bytes bytes of packet
 * data (> 0; a packet longer than max_bytes is not cached either).
 * Returns NULL with errno EINVAL for bounds out of range, ENOMEM when the
 * allocation fails. Agent thread only. */
struct mm_rtx_cache *mm_rtx_cache_create(uint32_t max_packets, uint32_t max_bytes);
/* NULL is allowed. */
void mm_rtx_cache_destroy(struct mm_rtx_cache *c);
/* Bytes the cache holds (its one allocation), whatever it contains: for
 * mmdp's memory report. */
size_t mm_rtx_cache_memory(const struct mm_rtx_cache *c);

/* Keep the packet pkt[0..len) of sequence number seq, received at now_ms.
 * It takes the slot seq modulo the ring size (whatever that held: the
 * last put wins) and the next len bytes of the data ring (packets whose
 * bytes these overwrite are gone). A put of a seq the cache still holds
 * replaces its bytes and keeps its resend count (it is the same packet,
 * e.g. the publisher's own retransmission). pkt must not point into the
 * cache. Returns 0, -E2BIG for a packet longer than
 * MM_RTX_CACHE_MAX_PACKET or the data ring (not cached), -EINVAL for an
 * empty one. O(1) plus the copy. */
int mm_rtx_cache_put(struct mm_rtx_cache *c, uint16_t seq, const uint8_t *pkt, size_t len,
		     uint64_t now_ms);

/* The packet of sequence number seq, or NULL when the cache does not hold
 * it: never put, its slot taken by another seq (the ring wrapped), its
 * bytes overwritten by newer packets (the byte bound), or put more than
 * MM_RTX_CACHE_MAX_AGE_MS before now_ms. Never stale bytes. O(1). */
struct mm_rtx_entry *mm_rtx_cache_get(struct mm_rtx_cache *c, uint16_t seq, uint64_t now_ms);

/* Whether e may be resent at now_ms: fewer than MM_RTX_CACHE_MAX_RESENDS
 * resends so far, and the last one at least MM_RTX_CACHE_RESEND_GAP_MS
 * before (a clock that went back counts as too soon). The guard is per
 * packet of the stream, shared by all its receivers. */
static inline bool mm_rtx_cache_may_resend(const struct mm_rtx_entry *e, uint64_t now_ms)
{
	if (e->resends >= MM_RTX_CACHE_MAX_RESENDS)
		return false;
	if (e->resends == 0)
		return true;
	return now_ms >= e->resent_ms && now_ms - e->resent_ms >= MM_RTX_CACHE_RESEND_GAP_MS;
}

/* Record that e was resent at now_ms. Usage on a NACK of seq:
 *   e = mm_rtx_cache_get(c, seq, now);
 *   if (!e) ask the publisher;
 *   else if (mm_rtx_cache_may_resend(e, now)) { send e->pkt, e->len;
 *          mm_rtx_cache_resent(e, now); } */
static inline void mm_rtx_cache_resent(struct mm_rtx_entry *e, uint64_t now_ms)
{
	if (e->resends < UINT8_MAX)
		e->resends++;
	e->resent_ms = now_ms;
}

/* ---- Sequence map ------------------------------------------------------
 *
 * One receiver's view of one source is a single continuous output stream
 * of sequence numbers, made of segments: each starts at an output
 * sequence number and maps its output numbers to one source stream (index
 * 0..7 of the source's layer streams, by the caller's convention) as
 * source seq = out seq - seq_off. A layer switch or a re-base (e.g. after
 * a pause) opens a new segment; the last MM_SEQ_MAP_SEGMENTS are kept.
 *
 * All comparisons are serial-number arithmetic (RFC 1982) relative to
 * newest_out, the newest output sequence number sent: lookups reach back
 * MM_SEQ_MAP_WINDOW numbers at most (NACKs are about recent packets), and
 * a segment whose start is after newest_out has not begun yet. 16-bit
 * numbers cannot tell a segment that began 10 packets ago from one that
 * began 65546 ago: mm_seq_map_sent, called with each output number sent,
 * keeps the segments' starts near newest_out so that they always can. */

#define MM_SEQ_MAP_SEGMENTS 4
#define MM_SEQ_MAP_WINDOW 8192u   /* lookups at most this far before newest_out */
#define MM_SEQ_MAP_REBASE 16384u  /* mm_seq_map_sent: newest segment this long... */
#define MM_SEQ_MAP_KEEP 8192u     /* ...is cut to its last MM_SEQ_MAP_KEEP numbers */

struct mm_seq_seg {
	uint16_t out_start; /* first output sequence number of the segment */
	uint16_t seq_off;   /* source seq = out seq - seq_off */
	uint8_t src_idx;    /* source stream */
	uint32_t ts_off;    /* out RTP timestamp = source's + ts_off (mm_seq_map_start_ts) */
};

/* A zeroed struct is an empty map (every lookup -ENOENT). */
struct mm_seq_map {
	struct mm_seq_seg seg[MM_SEQ_MAP_SEGMENTS]; /* ring */
	uint8_t newest; /* index in seg of the newest segment */
	uint8_t n;      /* segments held, 0..MM_SEQ_MAP_SEGMENTS */
};

/* Forget every segment. */
void mm_seq_map_reset(struct mm_seq_map *m);

/* Open a segment at output sequence number out_start (the first output
 * number it maps; usually the number after the newest sent) mapping to
 * source stream src_idx with seq_off. The oldest segment is dropped when
 * MM_SEQ_MAP_SEGMENTS are held. A start at the same out_start as the
 * newest segment replaces it (that one mapped nothing). */
void mm_seq_map_start(struct mm_seq_map *m, uint16_t out_start, uint16_t seq_off, uint8_t src_idx);
/* The same with the segment's RTP timestamp offset (a retransmission
 * carries the timestamp the receiver saw), which mm_seq_map_find returns. */
void mm_seq_map_start_ts(struct mm_seq_map *m, uint16_t out_start, uint16_t seq_off,
			 uint32_t ts_off, uint8_t src_idx);

/* The source of output sequence number out_seq, given newest_out, the
 * newest output number sent: the newest segment that has begun (start at
 * or before newest_out) whose start is at or before out_seq. Returns 0
 * with *src_idx and *src_seq, or -ENOENT when out_seq is after newest_out
 * (future), more than MM_SEQ_MAP_WINDOW before it, or before the oldest
 * segment kept (too old; also for an empty map). */
int mm_seq_map_lookup(const struct mm_seq_map *m, uint16_t out_seq, uint16_t newest_out,
		      uint8_t *src_idx, uint16_t *src_seq);
/* As mm_seq_map_lookup, giving the whole segment that covered out_seq. */
int mm_seq_map_find(const struct mm_seq_map *m, uint16_t out_seq, uint16_t newest_out,
		    struct mm_seq_seg *seg);

/* Tell the map that output number out_seq was sent (per copy, where the
 * caller updates its newest output number; late and older numbers are
 * fine). Once the newest segment has run MM_SEQ_MAP_REBASE numbers, its
 * start moves up to MM_SEQ_MAP_KEEP before out_seq and the older segments
 * are dropped: all they mapped is further back than any lookup reaches.
 * Without it a segment must not run 32768 numbers or more: lookups into
 * it and the older ones would then fail (-ENOENT), and after 65536 could
 * map to the wrong segment. */
static inline void mm_seq_map_sent(struct mm_seq_map *m, uint16_t out_seq)
{
	if (m->n == 0)
		return;
	struct mm_seq_seg *s = &m->seg[m->newest];
	uint16_t run = (uint16_t)(out_seq - s->out_start);
	if (run >= MM_SEQ_MAP_REBASE && run < 0x8000u) {
		s->out_start = (uint16_t)(out_seq - MM_SEQ_MAP_KEEP);
		m->n = 1;
	}
}

#endif
