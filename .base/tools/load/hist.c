/* A log-linear latency histogram (as HdrHistogram lays out its buckets):
 * values below 2^(LD_HIST_SUB+1) have a bucket each; above, every power of
 * two [2^m, 2^(m+1)) is cut in 2^LD_HIST_SUB buckets of width 2^(m-SUB).
 * So a bucket's width is at most 1/64 of its values: a percentile read
 * from it is at most 1.6 % above the true one. */
#include "tools/load/load.h"

#include <math.h>
#include <string.h>

#define SUB_COUNT (1u << LD_HIST_SUB)

void ld_hist_reset(struct ld_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint32_t ld_hist_index(uint64_t v)
{
	if (v < 2 * SUB_COUNT)
		return (uint32_t)v;
	uint32_t m = 63u - (uint32_t)__builtin_clzll(v); /* v in [2^m, 2^(m+1)), m > SUB */
	if (m >= LD_HIST_BITS)
		return LD_HIST_BUCKETS - 1;
	uint32_t sub = (uint32_t)(v >> (m - LD_HIST_SUB)) & (SUB_COUNT - 1);
	return (m - LD_HIST_SUB + 1) * SUB_COUNT + sub;
}

uint64_t ld_hist_low(uint32_t idx)
{
	if (idx < 2 * SUB_COUNT)
		return idx;
	uint32_t m = idx / SUB_COUNT + LD_HIST_SUB - 1;
	return (uint64_t)(SUB_COUNT + idx % SUB_COUNT) << (m - LD_HIST_SUB);
}

uint64_t ld_hist_high(uint32_t idx)
{
	if (idx < 2 * SUB_COUNT)
		return idx;
	if (idx >= LD_HIST_BUCKETS - 1)
		return UINT64_MAX;
	uint32_t m = idx / SUB_COUNT + LD_HIST_SUB - 1;
	return ld_hist_low(idx) + (1ull << (m - LD_HIST_SUB)) - 1;
}

void ld_hist_add(struct ld_hist *h, uint64_t v)
{
	ld_ctr_add(&h->b[ld_hist_index(v)], 1);
	ld_ctr_add(&h->count, 1);
	ld_ctr_add(&h->sum, v);
	if (v < ld_ctr_get(&h->min))
		__atomic_store_n(&h->min, v, __ATOMIC_RELAXED);
	if (v > ld_ctr_get(&h->max))
		__atomic_store_n(&h->max, v, __ATOMIC_RELAXED);
}

void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src)
{
	for (uint32_t i = 0; i < LD_HIST_BUCKETS; i++)
		dst->b[i] += ld_ctr_get(&src->b[i]);
	dst->count += ld_ctr_get(&src->count);
	dst->sum += ld_ctr_get(&src->sum);
	uint64_t mn = ld_ctr_get(&src->min), mx = ld_ctr_get(&src->max);
	if (mn < dst->min)
		dst->min = mn;
	if (mx > dst->max)
		dst->max = mx;
}

uint64_t ld_hist_percentile(const struct ld_hist *h, double q)
{
	/* Sum the buckets rather than trust count: a concurrent writer may
	 * have bumped one and not yet the other. */
	uint64_t n = 0;
	for (uint32_t i = 0; i < LD_HIST_BUCKETS; i++)
		n += h->b[i];
	if (n == 0)
		return 0;
	if (q > 100)
		q = 100;
	uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	uint64_t cum = 0;
	for (uint32_t i = 0; i < LD_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank) {
			uint64_t v = ld_hist_high(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
