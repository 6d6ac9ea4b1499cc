/* mmload --find-max's search (tools/load/search.c): the bracket only
 * shrinks, every trial lies strictly inside it, the search ends, and its
 * result is the true threshold to within the precision asked. */
#include <criterion/criterion.h>

#include "tools/load/search.h"

/* Run the search against "passes iff value <= threshold"; returns the
 * result and checks the binary-search invariants at every step. */
static int run(int start, int min, int max, double precision, int threshold, int *steps)
{
	struct ld_search s;
	ld_search_init(&s, start, min, max, precision);
	int v, n = 0;
	while ((v = ld_search_next(&s)) != 0) {
		int lo = s.lo, hi = s.hi;
		cr_assert(v > lo && v < hi, "trial %d outside (%d, %d)", v, lo, hi);
		cr_assert(v >= s.min && v <= s.max);
		ld_search_record(&s, v, v <= threshold);
		cr_assert(s.lo >= lo && s.hi <= hi, "the bracket grew");
		cr_assert(s.hi - s.lo < hi - lo, "the bracket did not shrink");
		cr_assert(++n < 100, "no end");
	}
	*steps = n;
	return ld_search_result(&s);
}

Test(load_search, exact_with_zero_precision)
{
	for (int t = 0; t <= 70; t++)
		for (int start = 1; start <= 70; start += 7) {
			int steps;
			int r = run(start, 1, 64, 0, t, &steps);
			cr_assert_eq(r, t > 64 ? 64 : t, "start %d threshold %d: %d", start, t, r);
		}
}

Test(load_search, within_precision)
{
	for (int t = 1; t <= 2500; t += 37) {
		int steps;
		int r = run(10, 1, 2500, 5, t, &steps);
		cr_assert(r <= t && r >= t - t * 0.05 - 1, "threshold %d: %d", t, r);
		cr_assert(steps <= 2 * 12 + 2, "threshold %d: %d steps", t, steps);
	}
}

Test(load_search, doubles_then_bisects)
{
	struct ld_search s;
	ld_search_init(&s, 4, 1, 1000, 0);
	cr_assert_eq(ld_search_next(&s), 4);
	ld_search_record(&s, 4, true);
	cr_assert_eq(ld_search_next(&s), 8);
	ld_search_record(&s, 8, true);
	cr_assert_eq(ld_search_next(&s), 16);
	ld_search_record(&s, 16, false);
	cr_assert_eq(ld_search_next(&s), 12);
	ld_search_record(&s, 12, true);
	cr_assert_eq(ld_search_next(&s), 14);
	ld_search_record(&s, 14, false);
	cr_assert_eq(ld_search_next(&s), 13);
	ld_search_record(&s, 13, false);
	cr_assert_eq(ld_search_next(&s), 0);
	cr_assert_eq(ld_search_result(&s), 12);
}

Test(load_search, nothing_passes)
{
	int steps;
	cr_assert_eq(run(50, 1, 100, 5, 0, &steps), 0);
	cr_assert(steps <= 7);
}

Test(load_search, everything_passes_stops_at_max)
{
	int steps;
	cr_assert_eq(run(3, 1, 100, 5, 1000, &steps), 100);
	/* 3, 6, 12, 24, 48, 96, 100 */
	cr_assert_eq(steps, 7);
}

Test(load_search, clamps)
{
	struct ld_search s;
	ld_search_init(&s, 500, 0, 20, -1);
	cr_assert_eq(s.min, 1);
	cr_assert_eq(ld_search_next(&s), 20);
	ld_search_init(&s, 0, 5, 2, 0);
	cr_assert_eq(s.max, 5);
	cr_assert_eq(ld_search_next(&s), 5);
}

/* --ramp's loads: both ends exact, evenly spaced, never decreasing. */
Test(load_search, ramp_values)
{
	cr_assert_eq(ld_ramp_value(10, 80, 8, 0), 10);
	cr_assert_eq(ld_ramp_value(10, 80, 8, 1), 20);
	cr_assert_eq(ld_ramp_value(10, 80, 8, 7), 80);
	cr_assert_eq(ld_ramp_value(10, 80, 8, 9), 80, "past the last step stays at the top");
	cr_assert_eq(ld_ramp_value(5, 9, 1, 3), 5, "one step is the start");
	int prev = 0, distinct = 0;
	for (int i = 0; i < 8; i++) {
		int v = ld_ramp_value(1, 4, 8, i);
		cr_assert(v >= prev, "step %d went down: %d after %d", i, v, prev);
		distinct += v != prev;
		prev = v;
	}
	cr_assert_eq(distinct, 4, "a narrow range gives each value once after dedup");
}
