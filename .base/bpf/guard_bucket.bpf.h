/* Token buckets for the XDP guard, as GCRA (virtual scheduling): one
 * timestamp per bucket instead of a token count, so no refill arithmetic
 * and no overflow. See struct mm_guard_bucket and mm_guard_rate.
 *
 * Updates are not atomic: two CPUs taking from the same bucket at the same
 * moment may both read the old time and let one packet too many through.
 * RSS keeps one 5-tuple on one queue, so a known 5-tuple's bucket is
 * touched by one CPU; shared buckets (an unknown source on several ports,
 * the global handshake bucket) are approximate by that much. */
#ifndef MM_GUARD_BUCKET_BPF_H
#define MM_GUARD_BUCKET_BPF_H

#include <linux/types.h>

#include "bpf/guard_abi.h"

/* 1 and the bucket charged if a packet of `bytes` conforms to both limits
 * of r, else 0 and the bucket untouched (a flood is not charged for what
 * it was refused, so a source comes back as soon as it slows down). */
static __always_inline int guard_bucket_take(struct mm_guard_bucket *b,
					     const struct mm_guard_rate *r, __u64 now,
					     __u32 bytes)
{
	__u64 pkt = 0, byt = 0;
	if (r->pkt_cost_ns) {
		__u64 t = b->pkt_tat_ns > now ? b->pkt_tat_ns : now;
		pkt = t + r->pkt_cost_ns;
		if (pkt - now > r->pkt_tau_ns)
			return 0;
	}
	if (r->byte_cost_fp) {
		__u64 t = b->byte_tat_ns > now ? b->byte_tat_ns : now;
		byt = t + (((__u64)bytes * r->byte_cost_fp) >> MM_GUARD_BYTE_SHIFT);
		if (byt - now > r->byte_tau_ns)
			return 0;
	}
	if (r->pkt_cost_ns)
		b->pkt_tat_ns = pkt;
	if (r->byte_cost_fp)
		b->byte_tat_ns = byt;
	return 1;
}

static __always_inline int guard_rate_unlimited(const struct mm_guard_rate *r)
{
	return !r->pkt_cost_ns && !r->byte_cost_fp;
}

#endif
