/* Unit tests of mmload's latency histogram (tools/load/hist.c): bucket
 * layout, percentiles against a brute-force computation over the same
 * samples, merging. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/load/load.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct ld_hist *hist_new(void)
{
	struct ld_hist *h = malloc(sizeof(*h));
	cr_assert_not_null(h);
	ld_hist_reset(h);
	return h;
}

Test(load_hist, buckets_tile_the_range)
{
	for (uint32_t i = 0; i + 1 < LD_HIST_BUCKETS - 1; i++) {
		uint64_t lo = ld_hist_low(i), hi = ld_hist_high(i);
		cr_assert_leq(lo, hi);
		cr_assert_eq(hi + 1, ld_hist_low(i + 1), "bucket %u ends at %lu", i, (unsigned long)hi);
		cr_assert_eq(ld_hist_index(lo), i);
		cr_assert_eq(ld_hist_index(hi), i);
		/* Past the exact buckets, width at most 1/64 of the values it holds. */
		if (i >= 128)
			cr_assert_leq((hi - lo + 1) * 64, lo, "bucket %u", i);
	}
	cr_assert_eq(ld_hist_index(0), 0);
	cr_assert_eq(ld_hist_index(127), 127);
	cr_assert_eq(ld_hist_index(UINT64_MAX), LD_HIST_BUCKETS - 1);
	cr_assert_eq(ld_hist_index(1ull << 40), LD_HIST_BUCKETS - 1);
	cr_assert_eq(ld_hist_index((1ull << 40) - 1), LD_HIST_BUCKETS - 1); /* the last one is open */
}

Test(load_hist, exact_below_128)
{
	struct ld_hist *h = hist_new();
	for (uint64_t v = 1; v <= 100; v++)
		ld_hist_add(h, v);
	cr_assert_eq(ld_hist_percentile(h, 50), 50);
	cr_assert_eq(ld_hist_percentile(h, 90), 90);
	cr_assert_eq(ld_hist_percentile(h, 99), 99);
	cr_assert_eq(ld_hist_percentile(h, 100), 100);
	cr_assert_eq(ld_hist_percentile(h, 0.5), 1);
	cr_assert_eq(h->min, 1);
	cr_assert_eq(h->max, 100);
	cr_assert_eq(h->sum, 5050);
	free(h);
}

Test(load_hist, empty)
{
	struct ld_hist *h = hist_new();
	cr_assert_eq(ld_hist_percentile(h, 99), 0);
	cr_assert_eq(h->count, 0);
	free(h);
}

/* Latencies from 1 us to 100 ms, log-uniform, plus a few outliers. */
Test(load_hist, percentiles_match_brute_force)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	cr_assert_not_null(v);
	struct ld_hist *h = hist_new();
	srand(5);
	for (int i = 0; i < N; i++) {
		double e = 3.0 + 5.0 * (double)rand() / RAND_MAX; /* 10^3 .. 10^8 ns */
		v[i] = (uint64_t)pow(10.0, e);
		if (i % 10000 == 0)
			v[i] = 3000000000ull + (uint64_t)i; /* 3 s */
		ld_hist_add(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	const double qs[] = {1, 10, 50, 90, 99, 99.9, 99.99, 100};
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t rank = (uint64_t)ceil(qs[k] / 100.0 * N);
		uint64_t truth = v[rank - 1], got = ld_hist_percentile(h, qs[k]);
		cr_assert_geq(got, truth, "p%g: %lu < %lu", qs[k], (unsigned long)got,
			      (unsigned long)truth);
		cr_assert_leq(got, truth + truth / 64 + 1, "p%g: %lu vs %lu", qs[k],
			      (unsigned long)got, (unsigned long)truth);
	}
	cr_assert_eq(ld_hist_percentile(h, 100), v[N - 1]);
	cr_assert_eq(h->count, N);
	cr_assert_eq(h->min, v[0]);
	free(v);
	free(h);
}

Test(load_hist, merge_is_the_union)
{
	struct ld_hist *a = hist_new(), *b = hist_new(), *u = hist_new(), *m = hist_new();
	srand(9);
	for (int i = 0; i < 10000; i++) {
		uint64_t x = (uint64_t)rand() % 5000000;
		ld_hist_add(i % 3 ? a : b, x);
		ld_hist_add(u, x);
	}
	ld_hist_merge(m, a);
	ld_hist_merge(m, b);
	cr_assert_eq(m->count, u->count);
	cr_assert_eq(m->sum, u->sum);
	cr_assert_eq(m->min, u->min);
	cr_assert_eq(m->max, u->max);
	cr_assert_eq(memcmp(m->b, u->b, sizeof(u->b)), 0);
	cr_assert_eq(ld_hist_percentile(m, 99.9), ld_hist_percentile(u, 99.9));
	free(a);
	free(b);
	free(u);
	free(m);
}
