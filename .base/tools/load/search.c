/* --find-max's search: see tools/load/search.h. */
#include "tools/load/search.h"

void ld_search_init(struct ld_search *s, int start, int min, int max, double precision)
{
	if (min < 1)
		min = 1;
	if (max < min)
		max = min;
	if (start < min)
		start = min;
	if (start > max)
		start = max;
	*s = (struct ld_search){.min = min, .max = max, .precision = precision >= 0 ? precision : 0,
				.lo = min - 1, .hi = max + 1, .start = start, .bracketing = true};
}

int ld_search_next(const struct ld_search *s)
{
	if (s->hi - s->lo <= 1)
		return 0;
	if (s->lo >= s->min && (double)(s->hi - s->lo) <= (double)s->lo * s->precision / 100.0)
		return 0;
	if (s->steps == 0)
		return s->start;
	if (s->bracketing) {
		long v = 2L * s->lo;
		return v >= s->hi ? s->hi - 1 : (int)v;
	}
	return s->lo + (s->hi - s->lo) / 2;
}

void ld_search_record(struct ld_search *s, int value, bool pass)
{
	s->steps++;
	if (pass) {
		if (value > s->lo)
			s->lo = value;
	} else {
		s->bracketing = false;
		if (value < s->hi)
			s->hi = value;
	}
}

int ld_search_result(const struct ld_search *s)
{
	return s->lo >= s->min ? s->lo : 0;
}

int ld_ramp_value(int from, int to, int steps, int i)
{
	if (steps <= 1 || i <= 0)
		return from;
	if (i >= steps - 1)
		return to;
	double v = (double)from + (double)(to - from) * (double)i / (double)(steps - 1);
	return (int)(v + 0.5);
}
