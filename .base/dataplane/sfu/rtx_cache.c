/* Retransmission cache and sequence map. See rtx_cache.h. */
#include "dataplane/sfu/rtx_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- Retransmission cache ----------------------------------------------
 *
 * Two rings in one allocation: slot descriptors indexed by seq & mask,
 * and a byte ring holding the packets, each contiguous (a packet that
 * does not fit before the end of the ring starts again at its beginning;
 * the skipped tail counts as written). Byte positions are 64-bit counters
 * of the bytes ever written, head the next one: a packet put at pos is
 * intact while head - pos <= data_cap, since every byte written since
 * then lies below pos + data_cap and so cannot have reached pos's place
 * in the ring again. Stale slots are never cleared: get checks them. */

struct mm_rtx_cache {
	uint32_t mask;        /* slots - 1 */
	uint32_t data_cap;    /* bytes of the data ring */
	uint64_t head;        /* bytes ever written to the data ring */
	uint32_t head_off;    /* head % data_cap: where the next packet goes */
	size_t memory;        /* bytes of the allocation */
	uint8_t *data;        /* the data ring, after slot[] */
	struct mm_rtx_entry slot[];
};

struct mm_rtx_cache *mm_rtx_cache_create(uint32_t max_packets, uint32_t max_bytes)
{
	if (max_packets == 0 || max_packets > MM_RTX_CACHE_MAX_SLOTS || max_bytes == 0) {
		errno = EINVAL;
		return NULL;
	}
	uint32_t slots = 1;
	while (slots < max_packets)
		slots <<= 1;

	size_t head_sz = sizeof(struct mm_rtx_cache) + (size_t)slots * sizeof(struct mm_rtx_entry);
	if ((size_t)max_bytes > SIZE_MAX - head_sz) {
		errno = ENOMEM;
		return NULL;
	}
	size_t total = head_sz + max_bytes;
	struct mm_rtx_cache *c = malloc(total);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->mask = slots - 1;
	c->data_cap = max_bytes;
	c->head = 0;
	c->head_off = 0;
	c->memory = total;
	c->data = (uint8_t *)c + head_sz;
	/* The slots only: the data ring is never read before it is written. */
	memset(c->slot, 0, (size_t)slots * sizeof(struct mm_rtx_entry));
	return c;
}

void mm_rtx_cache_destroy(struct mm_rtx_cache *c)
{
	free(c);
}

size_t mm_rtx_cache_memory(const struct mm_rtx_cache *c)
{
	return c->memory;
}

/* Whether slot e holds a packet whose bytes are intact and that is not too
 * old at now_ms (a clock that went back makes it age 0). */
static inline bool entry_live(const struct mm_rtx_cache *c, const struct mm_rtx_entry *e,
			      uint64_t now_ms)
{
	if (e->len == 0 || c->head - e->pos > c->data_cap)
		return false;
	return now_ms <= e->put_ms || now_ms - e->put_ms <= MM_RTX_CACHE_MAX_AGE_MS;
}

int mm_rtx_cache_put(struct mm_rtx_cache *c, uint16_t seq, const uint8_t *pkt, size_t len,
		     uint64_t now_ms)
{
	if (len == 0)
		return -EINVAL;
	if (len > MM_RTX_CACHE_MAX_PACKET || len > c->data_cap)
		return -E2BIG;

	struct mm_rtx_entry *e = &c->slot[seq & c->mask];
	/* Checked before the copy, which may overwrite this very packet. */
	bool same = e->seq == seq && entry_live(c, e, now_ms);

	if (c->data_cap - c->head_off < len) {
		c->head += c->data_cap - c->head_off;
		c->head_off = 0;
	}
	uint8_t *dst = c->data + c->head_off;
	memcpy(dst, pkt, len);

	e->pkt = dst;
	e->pos = c->head;
	e->put_ms = now_ms;
	e->seq = seq;
	e->len = (uint16_t)len;
	if (!same) {
		e->resends = 0;
		e->resent_ms = 0;
	}

	c->head += len;
	c->head_off += (uint32_t)len;
	if (c->head_off == c->data_cap)
		c->head_off = 0;
	return 0;
}

struct mm_rtx_entry *mm_rtx_cache_get(struct mm_rtx_cache *c, uint16_t seq, uint64_t now_ms)
{
	struct mm_rtx_entry *e = &c->slot[seq & c->mask];
	if (e->seq != seq || !entry_live(c, e, now_ms))
		return NULL;
	return e;
}

/* ---- Sequence map ------------------------------------------------------- */

void mm_seq_map_reset(struct mm_seq_map *m)
{
	memset(m, 0, sizeof(*m));
}

void mm_seq_map_start(struct mm_seq_map *m, uint16_t out_start, uint16_t seq_off, uint8_t src_idx)
{
	mm_seq_map_start_ts(m, out_start, seq_off, 0, src_idx);
}

void mm_seq_map_start_ts(struct mm_seq_map *m, uint16_t out_start, uint16_t seq_off,
			 uint32_t ts_off, uint8_t src_idx)
{
	if (m->n == 0) {
		m->newest = 0;
		m->n = 1;
	} else if (m->seg[m->newest].out_start != out_start) {
		m->newest = (uint8_t)((m->newest + 1) % MM_SEQ_MAP_SEGMENTS);
		if (m->n < MM_SEQ_MAP_SEGMENTS)
			m->n++;
	}
	m->seg[m->newest] = (struct mm_seq_seg){
		.out_start = out_start, .seq_off = seq_off, .src_idx = src_idx, .ts_off = ts_off};
}

int mm_seq_map_lookup(const struct mm_seq_map *m, uint16_t out_seq, uint16_t newest_out,
		      uint8_t *src_idx, uint16_t *src_seq)
{
	struct mm_seq_seg seg;
	int r = mm_seq_map_find(m, out_seq, newest_out, &seg);
	if (r == 0) {
		*src_idx = seg.src_idx;
		*src_seq = (uint16_t)(out_seq - seg.seq_off);
	}
	return r;
}

int mm_seq_map_find(const struct mm_seq_map *m, uint16_t out_seq, uint16_t newest_out,
		    struct mm_seq_seg *seg)
{
	/* Distances back from newest_out: future numbers wrap to large ones. */
	uint16_t back = (uint16_t)(newest_out - out_seq);
	if (back > MM_SEQ_MAP_WINDOW)
		return -ENOENT;

	unsigned idx = m->newest;
	for (unsigned k = 0; k < m->n; k++) {
		const struct mm_seq_seg *s = &m->seg[idx];
		idx = (idx + MM_SEQ_MAP_SEGMENTS - 1) % MM_SEQ_MAP_SEGMENTS;
		if ((int16_t)(uint16_t)(s->out_start - newest_out) > 0)
			continue; /* not begun: nothing sent in it yet */
		if (back <= (uint16_t)(newest_out - s->out_start)) {
			*seg = *s;
			return 0;
		}
	}
	return -ENOENT;
}
