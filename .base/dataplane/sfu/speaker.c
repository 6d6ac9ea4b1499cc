/* Dominant speaker and last-N audio selection (see speaker.h). */
#include "dataplane/sfu/speaker.h"

#include <string.h>

#define PKT_MS 20          /* what a slot's first packet stands for */
#define SAMPLE_MAX_MS 60   /* the most one packet stands for (60 ms ptime):
			    * a longer gap before it was silence */
#define SHORT_HALF_MS 160  /* short score: half-life (speech now) */
#define LONG_HALF_MS 640   /* long score: half-life (who leads the talk) */
#define ENTER_MARGIN (6u << 16)  /* louder than the weakest member by this */
#define ENTER_SPEECH_MS 400      /* ... for this much of the challenger's speech */
#define LEAD_MARGIN (6u << 16)   /* long score ahead of the dominant's by this */
#define LEAD_SPEECH_MS 1000      /* ... for this much of the challenger's speech */
#define TICK_MAX_MS 10000        /* a longer pause between decisions counts as this */

/* 2^(-i/64) in Q16, i = 0..64. */
static const uint32_t exp2_q16[65] = {
	65536, 64830, 64132, 63441, 62757, 62081, 61413, 60751,
	60097, 59449, 58809, 58176, 57549, 56929, 56316, 55709,
	55109, 54515, 53928, 53347, 52773, 52204, 51642, 51085,
	50535, 49991, 49452, 48920, 48393, 47871, 47356, 46846,
	46341, 45842, 45348, 44859, 44376, 43898, 43425, 42958,
	42495, 42037, 41584, 41136, 40693, 40255, 39821, 39392,
	38968, 38548, 38133, 37722, 37316, 36914, 36516, 36123,
	35734, 35349, 34968, 34591, 34219, 33850, 33486, 33125,
	32768,
};

/* 2^(-dt/half) in Q16: what dt ms leave of a score with that half-life.
 * Table and linear interpolation in 1/1024 half-lives; 0 past 17
 * half-lives (below one unit of Q16). */
static inline uint32_t decay_q16(uint64_t dt_ms, uint32_t half_ms)
{
	if (dt_ms >= (uint64_t)half_ms * 17)
		return 0;
	uint32_t u = (uint32_t)((dt_ms << 10) / half_ms);
	uint32_t i = (u >> 4) & 63, w = u & 15;
	uint32_t f = (exp2_q16[i] * (16 - w) + exp2_q16[i + 1] * w) >> 4;
	return f >> (u >> 10);
}

/* Score x after dt ms of silence. */
static inline uint32_t decayed(uint32_t x, uint64_t dt_ms, uint32_t half_ms)
{
	return (uint32_t)(((uint64_t)x * decay_q16(dt_ms, half_ms)) >> 16);
}

/* Score x after d ms at value v (Q16): the exponential average. */
static inline uint32_t blend(uint32_t x, uint32_t v, uint32_t d_ms, uint32_t half_ms)
{
	uint64_t f = decay_q16(d_ms, half_ms);
	return (uint32_t)(((uint64_t)x * f + (uint64_t)v * (65536 - f)) >> 16);
}

static inline uint16_t add_sat16(uint16_t a, uint64_t b, uint16_t max)
{
	return (uint16_t)(a + b >= max ? max : a + b);
}

static inline uint16_t sub_sat16(uint16_t a, uint64_t b)
{
	return (uint16_t)(a > b ? a - b : 0);
}

/* ---- the order ----------------------------------------------------------- */

/* Move a known slot to index to of the order, shifting those between. */
static void order_move(struct mm_speaker_room *s, uint32_t slot, uint32_t to)
{
	uint32_t i = s->pos[slot];
	for (; i > to; i--) {
		s->order[i] = s->order[i - 1];
		s->pos[s->order[i]] = (uint8_t)i;
	}
	for (; i < to; i++) {
		s->order[i] = s->order[i + 1];
		s->pos[s->order[i]] = (uint8_t)i;
	}
	s->order[to] = (uint8_t)slot;
	s->pos[slot] = (uint8_t)to;
}

static void order_append(struct mm_speaker_room *s, uint32_t slot)
{
	s->order[s->n_known] = (uint8_t)slot;
	s->pos[slot] = (uint8_t)s->n_known;
	s->n_known++;
	s->slot[slot].known = 1;
}

static void order_remove(struct mm_speaker_room *s, uint32_t slot)
{
	order_move(s, slot, s->n_known - 1);
	s->n_known--;
	s->pos[slot] = 0xFF;
	s->slot[slot].known = 0;
}

/* ---- the set --------------------------------------------------------------- */

/* Change one bit of the published set. The first change of a call opens
 * the sequence lock (odd); set_publish closes it before the call returns,
 * so readers see a swap whole. */
static void set_bit(struct mm_speaker_room *s, uint32_t slot, bool on)
{
	if (!(s->set_seq & 1)) {
		__atomic_store_n(&s->set_seq, s->set_seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
	uint64_t w = s->sel[slot >> 6], b = 1ull << (slot & 63);
	__atomic_store_n(&s->sel[slot >> 6], on ? w | b : w & ~b, __ATOMIC_RELAXED);
}

static void set_publish(struct mm_speaker_room *s)
{
	if (s->set_seq & 1)
		__atomic_store_n(&s->set_seq, s->set_seq + 1, __ATOMIC_RELEASE);
}

/* Into the set, and to the front of the order. */
static void enter(struct mm_speaker_room *s, uint32_t slot)
{
	s->slot[slot].member = 1;
	s->slot[slot].enter_ms = 0;
	s->n_members++;
	set_bit(s, slot, true);
	order_move(s, slot, 0);
}

/* Out of the set: the first of the non-members in the order (the one who
 * spoke most recently). */
static void evict(struct mm_speaker_room *s, uint32_t slot)
{
	s->slot[slot].member = 0;
	s->n_members--;
	set_bit(s, slot, false);
	order_move(s, slot, s->n_members);
}

/* ---- decisions --------------------------------------------------------------- */

/* Both scores of every known slot as of now (unknown: 0). */
static void scores_now(const struct mm_speaker_room *s, uint64_t now, uint32_t *sh, uint32_t *lg)
{
	memset(sh, 0, MM_SPEAKER_SLOTS * sizeof(*sh));
	memset(lg, 0, MM_SPEAKER_SLOTS * sizeof(*lg));
	for (uint32_t i = 0; i < s->n_known; i++) {
		uint32_t slot = s->order[i];
		const struct mm_speaker_slot *sl = &s->slot[slot];
		uint64_t dt = now - sl->last_ms;
		sh[slot] = decayed(sl->short_q16, dt, SHORT_HALF_MS);
		lg[slot] = decayed(sl->long_q16, dt, LONG_HALF_MS);
	}
}

/* The member to give up first: the lowest short score, never the dominant;
 * of equals, the one further back in the order. -1 if none. Members are
 * the first n_members of the order. */
static int32_t weakest_member(const struct mm_speaker_room *s, const uint32_t *sh)
{
	int32_t weak = -1;
	for (uint32_t i = 0; i < s->n_members; i++) {
		uint32_t slot = s->order[i];
		if ((int32_t)slot == s->dominant)
			continue;
		if (weak < 0 || sh[slot] <= sh[weak])
			weak = (int32_t)slot;
	}
	return weak;
}

/* The spoken slot with the best long score (of equals, the one nearer the
 * front), excluding `except`; -1 if none. */
static int32_t best_speaker(const struct mm_speaker_room *s, const uint32_t *lg, int32_t except)
{
	int32_t best = -1;
	for (uint32_t i = 0; i < s->n_known; i++) {
		uint32_t slot = s->order[i];
		if ((int32_t)slot == except || !s->slot[slot].spoke)
			continue;
		if (best < 0 || lg[slot] > lg[best])
			best = (int32_t)slot;
	}
	return best;
}

/* Make slot (or nobody, -1) the dominant speaker: into the set if it is not
 * (in place of the weakest member), to the front of the order. */
static void set_dominant(struct mm_speaker_room *s, int32_t slot, const uint32_t *sh)
{
	__atomic_store_n(&s->dominant, slot, __ATOMIC_RELAXED);
	__atomic_store_n(&s->changes, s->changes + 1, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < s->n_known; i++)
		s->slot[s->order[i]].lead_ms = 0;
	if (slot < 0)
		return;
	if (!s->slot[slot].member) {
		if (s->n_members >= s->cap)
			evict(s, (uint32_t)weakest_member(s, sh));
		enter(s, (uint32_t)slot);
	}
	order_move(s, (uint32_t)slot, 0);
}

/* A full set: the non-member that has been louder than the weakest member
 * (by the margin, for enough of its own speech) replaces it. Not louder
 * drains what it had gathered; louder but silent (between syllables) keeps
 * it. */
static bool decide_last_n(struct mm_speaker_room *s, const uint32_t *sh, uint32_t tick)
{
	if (s->n_members < s->cap)
		return false;
	int32_t weak = weakest_member(s, sh);
	if (weak < 0)
		return false;
	int32_t best = -1;
	for (uint32_t i = s->n_members; i < s->n_known; i++) {
		uint32_t slot = s->order[i];
		struct mm_speaker_slot *sl = &s->slot[slot];
		if (!sl->spoke)
			continue;
		if (sh[slot] > sh[weak] + ENTER_MARGIN) {
			uint32_t speech = sl->voiced_ms < tick ? sl->voiced_ms : tick;
			sl->enter_ms = add_sat16(sl->enter_ms, speech, ENTER_SPEECH_MS);
		} else {
			sl->enter_ms = sub_sat16(sl->enter_ms, tick);
		}
		if (sl->enter_ms >= ENTER_SPEECH_MS && (best < 0 || sh[slot] > sh[best]))
			best = (int32_t)slot;
	}
	if (best < 0)
		return false;
	evict(s, (uint32_t)weak);
	enter(s, (uint32_t)best);
	return true;
}

/* The first speaker becomes dominant at once; after that a challenger whose
 * long score led the dominant's (by the margin, for enough of its own
 * speech) takes over. */
static bool decide_dominant(struct mm_speaker_room *s, const uint32_t *sh, const uint32_t *lg,
			    uint32_t tick)
{
	int32_t dom = s->dominant;
	if (dom < 0) {
		int32_t first = best_speaker(s, lg, -1);
		if (first < 0 || lg[first] == 0)
			return false;
		set_dominant(s, first, sh);
		return true;
	}
	int32_t best = -1;
	for (uint32_t i = 0; i < s->n_known; i++) {
		uint32_t slot = s->order[i];
		struct mm_speaker_slot *sl = &s->slot[slot];
		if ((int32_t)slot == dom || !sl->spoke)
			continue;
		if (lg[slot] > lg[dom] + LEAD_MARGIN) {
			uint32_t speech = sl->voiced_ms < tick ? sl->voiced_ms : tick;
			sl->lead_ms = add_sat16(sl->lead_ms, speech, LEAD_SPEECH_MS);
		} else {
			sl->lead_ms = sub_sat16(sl->lead_ms, tick);
		}
		if (sl->lead_ms >= LEAD_SPEECH_MS && (best < 0 || lg[slot] > lg[best]))
			best = (int32_t)slot;
	}
	if (best < 0)
		return false;
	set_dominant(s, best, sh);
	return true;
}

/* One decision tick: O(slots), at most every MM_SPEAKER_TICK_MS. */
static __attribute__((noinline)) bool decide(struct mm_speaker_room *s, uint64_t now)
{
	uint32_t sh[MM_SPEAKER_SLOTS], lg[MM_SPEAKER_SLOTS];
	uint64_t since = now - s->tick_ms;
	uint32_t tick = since > TICK_MAX_MS ? TICK_MAX_MS : (uint32_t)since;
	s->tick_ms = now;
	scores_now(s, now, sh, lg);
	bool changed = decide_last_n(s, sh, tick);
	changed |= decide_dominant(s, sh, lg, tick);
	for (uint32_t i = 0; i < s->n_known; i++)
		s->slot[s->order[i]].voiced_ms = 0;
	return changed;
}

/* ---- API ------------------------------------------------------------------------ */

void mm_speaker_init(struct mm_speaker_room *s, uint32_t last_n)
{
	memset(s, 0, sizeof(*s));
	memset(s->pos, 0xFF, sizeof(s->pos));
	s->dominant = -1;
	mm_speaker_set_last_n(s, last_n);
}

void mm_speaker_set_last_n(struct mm_speaker_room *s, uint32_t last_n)
{
	if (last_n > MM_SPEAKER_SLOTS)
		last_n = MM_SPEAKER_SLOTS;
	s->last_n = last_n;
	s->cap = last_n ? last_n : MM_SPEAKER_SLOTS;
	if (s->n_members > s->cap) {
		uint32_t sh[MM_SPEAKER_SLOTS], lg[MM_SPEAKER_SLOTS];
		scores_now(s, s->now_ms, sh, lg);
		/* cap >= 1: there is always a member that is not the dominant */
		while (s->n_members > s->cap)
			evict(s, (uint32_t)weakest_member(s, sh));
	}
	set_publish(s);
}

bool mm_speaker_update(struct mm_speaker_room *s, uint32_t slot, uint8_t level, bool voice,
		       uint64_t now_ms)
{
	if (slot >= MM_SPEAKER_SLOTS || level > 127 || now_ms < s->now_ms)
		return false;
	s->now_ms = now_ms;
	struct mm_speaker_slot *sl = &s->slot[slot];
	uint32_t d = PKT_MS;
	if (!sl->known)
		order_append(s, slot);
	if (sl->heard) {
		uint64_t dt = now_ms - sl->last_ms;
		d = dt < SAMPLE_MAX_MS ? (uint32_t)dt : SAMPLE_MAX_MS;
		if (dt > d) {
			sl->short_q16 = decayed(sl->short_q16, dt - d, SHORT_HALF_MS);
			sl->long_q16 = decayed(sl->long_q16, dt - d, LONG_HALF_MS);
		}
	}
	uint32_t v = voice ? (127u - level) << 16 : 0;
	sl->short_q16 = blend(sl->short_q16, v, d, SHORT_HALF_MS);
	sl->long_q16 = blend(sl->long_q16, v, d, LONG_HALF_MS);
	sl->last_ms = now_ms;
	sl->heard = 1;

	bool changed = false;
	if (v) {
		sl->voiced_ms = add_sat16(sl->voiced_ms, d, UINT16_MAX);
		sl->spoke = 1;
		if (!sl->member && s->n_members < s->cap) {
			enter(s, slot);
			changed = true;
		}
	}
	if (now_ms - s->tick_ms >= MM_SPEAKER_TICK_MS)
		changed |= decide(s, now_ms);
	set_publish(s);
	return changed;
}

void mm_speaker_join(struct mm_speaker_room *s, uint32_t slot)
{
	if (slot < MM_SPEAKER_SLOTS && !s->slot[slot].known)
		order_append(s, slot);
}

void mm_speaker_forget(struct mm_speaker_room *s, uint32_t slot)
{
	if (slot >= MM_SPEAKER_SLOTS)
		return;
	struct mm_speaker_slot *sl = &s->slot[slot];
	if (sl->member) {
		sl->member = 0;
		s->n_members--;
		set_bit(s, slot, false);
	}
	if (sl->known)
		order_remove(s, slot);
	memset(sl, 0, sizeof(*sl));
	if (s->dominant == (int32_t)slot) {
		uint32_t sh[MM_SPEAKER_SLOTS], lg[MM_SPEAKER_SLOTS];
		scores_now(s, s->now_ms, sh, lg);
		set_dominant(s, best_speaker(s, lg, -1), sh);
	}
	set_publish(s);
}

uint32_t mm_speaker_selected_slots(const struct mm_speaker_room *s, uint32_t *slots, uint32_t cap)
{
	uint64_t w0, w1;
	uint32_t seq, again;
	do {
		seq = __atomic_load_n(&s->set_seq, __ATOMIC_ACQUIRE);
		w0 = __atomic_load_n(&s->sel[0], __ATOMIC_RELAXED);
		w1 = __atomic_load_n(&s->sel[1], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		again = __atomic_load_n(&s->set_seq, __ATOMIC_RELAXED);
	} while ((seq & 1) || seq != again);
	uint32_t n = 0;
	for (uint32_t slot = 0; slot < MM_SPEAKER_SLOTS && n < cap; slot++) {
		uint64_t w = slot < 64 ? w0 : w1;
		if ((w >> (slot & 63)) & 1)
			slots[n++] = slot;
	}
	return n;
}
