/* The send schedule of one I/O thread: a binary min-heap of (due time,
 * stream id). Ties go in no particular order. */
#include "tools/load/load.h"

#include <errno.h>
#include <stdlib.h>

int ld_sched_init(struct ld_sched *s, uint32_t cap)
{
	s->n = 0;
	s->cap = cap ? cap : 1;
	s->h = calloc(s->cap, sizeof(*s->h));
	return s->h ? 0 : -ENOMEM;
}

void ld_sched_free(struct ld_sched *s)
{
	free(s->h);
	s->h = NULL;
	s->n = s->cap = 0;
}

static void sift_up(struct ld_sched *s, uint32_t i)
{
	struct ld_sched_item x = s->h[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (s->h[parent].at <= x.at)
			break;
		s->h[i] = s->h[parent];
		i = parent;
	}
	s->h[i] = x;
}

static void sift_down(struct ld_sched *s, uint32_t i)
{
	struct ld_sched_item x = s->h[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= s->n)
			break;
		if (c + 1 < s->n && s->h[c + 1].at < s->h[c].at)
			c++;
		if (x.at <= s->h[c].at)
			break;
		s->h[i] = s->h[c];
		i = c;
	}
	s->h[i] = x;
}

int ld_sched_push(struct ld_sched *s, uint64_t at, uint32_t id)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap * 2;
		struct ld_sched_item *h = realloc(s->h, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->h = h;
		s->cap = cap;
	}
	s->h[s->n] = (struct ld_sched_item){.at = at, .id = id};
	sift_up(s, s->n++);
	return 0;
}

bool ld_sched_top(const struct ld_sched *s, struct ld_sched_item *out)
{
	if (s->n == 0)
		return false;
	*out = s->h[0];
	return true;
}

void ld_sched_retime(struct ld_sched *s, uint64_t at)
{
	if (s->n == 0)
		return;
	s->h[0].at = at;
	sift_down(s, 0);
}

void ld_sched_pop(struct ld_sched *s)
{
	if (s->n == 0)
		return;
	s->h[0] = s->h[--s->n];
	if (s->n)
		sift_down(s, 0);
}
