/* --find-max's search (RFC 2544 style): the highest load that passes (loss
 * at most --max-loss, nothing misdelivered) over a trial. The load is the
 * number of rooms of a fixed size and profile, so the answer reads "N
 * participants in rooms of M at profile P".
 *
 * Two phases: from the starting value the load doubles while every trial
 * passes (bracketing), then binary search between the highest value that
 * passed (lo) and the lowest that failed (hi). Every trial lies strictly
 * inside (lo, hi), a pass only raises lo and a failure only lowers hi, so
 * the bracket shrinks at every step; the search ends when hi - lo <= 1 or
 * hi - lo <= lo * precision / 100. Pure logic: tests/unit/test_load_search.c. */
#ifndef MM_LOAD_SEARCH_H
#define MM_LOAD_SEARCH_H

#include <stdbool.h>

struct ld_search {
	int min, max;      /* the range searched (min >= 1) */
	double precision;  /* percent of lo */
	int lo;            /* highest value that passed; min - 1 before any */
	int hi;            /* lowest value that failed; max + 1 before any */
	int start;
	int steps;
	bool bracketing;   /* every trial so far passed */
};

/* start is clamped into [min, max]. */
void ld_search_init(struct ld_search *s, int start, int min, int max, double precision);
/* The value of the next trial, or 0 when the search is over. */
int ld_search_next(const struct ld_search *s);
/* The outcome of a trial at value (the one ld_search_next gave). */
void ld_search_record(struct ld_search *s, int value, bool pass);
/* The result: the highest value that passed, 0 when none did. */
int ld_search_result(const struct ld_search *s);

/* --ramp: trial i (0 .. steps - 1) of a ramp from `from` to `to`, evenly
 * spaced and rounded; with steps 1 just `from`. Consecutive values may be
 * equal when the range is narrower than the steps (the caller skips them). */
int ld_ramp_value(int from, int to, int steps, int i);

#endif
