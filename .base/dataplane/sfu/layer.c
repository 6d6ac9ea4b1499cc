/* Simulcast for one receiver: rate meter, downlink estimate, layer
 * allocation and switching (see layer.h). */
#include "dataplane/sfu/layer.h"

#include <string.h>

/* ---- Rate meter ------------------------------------------------------- */

void mm_rate_init(struct mm_rate *r)
{
	memset(r, 0, sizeof(*r));
}

void mm_rate_add(struct mm_rate *r, uint32_t bytes, uint64_t now_ms)
{
	uint64_t slot = now_ms / MM_RATE_SLOT_MS;

	if (!r->started) {
		memset(r->slot_bytes, 0, sizeof(r->slot_bytes));
		r->head = slot;
		r->last_ms = now_ms;
		r->started = true;
	} else if (slot > r->head) {
		/* Clear the slots skipped since the newest one (all of them
		 * after a second or more of silence). */
		uint64_t gap = slot - r->head;
		if (gap > MM_RATE_SLOTS)
			gap = MM_RATE_SLOTS;
		for (uint64_t s = slot - gap + 1; s <= slot; s++)
			r->slot_bytes[s % MM_RATE_SLOTS] = 0;
		r->head = slot;
	} else if (r->head - slot >= MM_RATE_SLOTS) {
		return; /* late, from before the window */
	}
	uint32_t *b = &r->slot_bytes[slot % MM_RATE_SLOTS];
	*b = UINT32_MAX - *b < bytes ? UINT32_MAX : *b + bytes;
	if (now_ms > r->last_ms)
		r->last_ms = now_ms;
}

uint32_t mm_rate_bps(const struct mm_rate *r, uint64_t now_ms)
{
	if (!r->started)
		return 0;
	if (now_ms < r->last_ms)
		now_ms = r->last_ms;
	if (now_ms - r->last_ms > MM_RATE_WINDOW_MS)
		return 0;

	/* now_slot >= head: head is the slot of last_ms. Slots newer than
	 * head are empty; the ring holds head - (MM_RATE_SLOTS - 1) .. head. */
	uint64_t now_slot = now_ms / MM_RATE_SLOT_MS;
	uint64_t full = 0, oldest = 0;
	for (uint64_t k = 0; k < MM_RATE_SLOTS && k <= now_slot; k++) {
		uint64_t s = now_slot - k;
		if (s > r->head || r->head - s >= MM_RATE_SLOTS)
			continue;
		if (k == MM_RATE_SLOTS - 1)
			oldest = r->slot_bytes[s % MM_RATE_SLOTS];
		else
			full += r->slot_bytes[s % MM_RATE_SLOTS];
	}
	/* The part of the oldest slot inside (now - window, now]. */
	uint64_t in_window = MM_RATE_SLOT_MS - now_ms % MM_RATE_SLOT_MS;
	uint64_t bits = full * 8 + oldest * 8 * in_window / MM_RATE_SLOT_MS;
	uint64_t bps = bits * 1000 / MM_RATE_WINDOW_MS;
	return bps >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)bps;
}

/* ---- Downlink estimate ------------------------------------------------- */

/* RFC 3550 fraction lost is loss * 256: the GCC thresholds in that unit. */
static inline bool loss_low(uint8_t f) { return (unsigned)f * 100 < 2 * 256; }   /* < 2 % */
static inline bool loss_high(uint8_t f) { return (unsigned)f * 100 > 10 * 256; } /* > 10 % */

/* est x (1 - loss / 2), loss = f / 256. */
static inline uint64_t loss_decrease(uint64_t est, uint8_t f)
{
	return est * (512u - f) / 512u;
}

static inline uint32_t bwe_clamp(uint64_t bps)
{
	if (bps < MM_BWE_FLOOR_BPS)
		return MM_BWE_FLOOR_BPS;
	if (bps >= MM_BWE_UNKNOWN)
		return MM_BWE_UNKNOWN - 1;
	return (uint32_t)bps;
}

static inline bool remb_fresh(const struct mm_bwe *b, uint64_t now_ms)
{
	return b->has_remb && (now_ms <= b->remb_ms || now_ms - b->remb_ms <= MM_BWE_REMB_FRESH_MS);
}

void mm_bwe_init(struct mm_bwe *b)
{
	memset(b, 0, sizeof(*b));
}

void mm_bwe_on_remb(struct mm_bwe *b, uint32_t bps, uint64_t now_ms)
{
	b->remb_bps = bps;
	b->remb_ms = now_ms;
	b->has_remb = true;
	/* GCC: the loss-based estimate never exceeds the receiver's. With no
	 * report yet, the REMB is where it starts when the REMBs stop. */
	if (!b->has_loss) {
		b->loss_bps = bwe_clamp(bps);
		b->loss_ms = now_ms;
		b->has_loss = true;
	} else if (b->loss_bps > bps) {
		b->loss_bps = bwe_clamp(bps);
	}
}

void mm_bwe_on_loss(struct mm_bwe *b, uint8_t fraction_lost, uint32_t current_bps, uint64_t now_ms)
{
	uint64_t est;

	if (!b->has_loss) {
		/* First word from the receiver: start from what it gets now
		 * (no time elapsed, so no increase; a heavy loss still cuts). */
		est = current_bps > MM_BWE_START_BPS ? current_bps : MM_BWE_START_BPS;
		if (loss_high(fraction_lost))
			est = loss_decrease(est, fraction_lost);
		b->has_loss = true;
		b->loss_ms = now_ms;
	} else {
		uint64_t dt = now_ms > b->loss_ms ? now_ms - b->loss_ms : 0;
		if (dt > MM_BWE_MAX_STEP_MS)
			dt = MM_BWE_MAX_STEP_MS;
		if (now_ms > b->loss_ms)
			b->loss_ms = now_ms;
		est = b->loss_bps;
		if (loss_low(fraction_lost)) {
			/* + 8 % per second elapsed, up to the headroom above what
			 * the receiver gets (an estimate already above it holds). */
			uint64_t up = est + est * 8 * dt / (100 * 1000);
			uint64_t ceiling = (uint64_t)MM_BWE_HEADROOM * current_bps + MM_BWE_HEADROOM_BPS;
			if (ceiling < est)
				ceiling = est;
			est = up < ceiling ? up : ceiling;
		} else if (loss_high(fraction_lost)) {
			est = loss_decrease(est, fraction_lost);
		}
	}
	if (remb_fresh(b, now_ms) && est > b->remb_bps)
		est = b->remb_bps;
	b->loss_bps = bwe_clamp(est);
}

uint32_t mm_bwe_bps(const struct mm_bwe *b, uint64_t now_ms)
{
	if (remb_fresh(b, now_ms))
		return bwe_clamp(b->remb_bps);
	if (b->has_loss)
		return b->loss_bps;
	return MM_BWE_UNKNOWN;
}

/* ---- Allocation -------------------------------------------------------- */

static inline bool layer_active(const struct mm_layer_src *s, int l)
{
	return s->active_mask & (1u << l);
}

/* Highest active layer <= hi, or -1. */
static int8_t highest_active(const struct mm_layer_src *s, int hi)
{
	for (int l = hi; l >= 0; l--)
		if (layer_active(s, l))
			return (int8_t)l;
	return -1;
}

/* Next active layer above cur and <= hi, or -1. */
static int8_t next_active(const struct mm_layer_src *s, int cur, int hi)
{
	for (int l = cur + 1; l <= hi; l++)
		if (layer_active(s, l))
			return (int8_t)l;
	return -1;
}

static inline bool is_screen(const struct mm_layer_src *s)
{
	return s->kind == MM_LAYER_SCREEN;
}

void mm_layer_allocate(const struct mm_layer_src *src, uint32_t n, uint8_t max_layer,
		       uint32_t budget_bps, int8_t *out)
{
	const int top = MM_LAYERS_MAX - 1;
	const int cam_top = max_layer < top ? max_layer : top;

	for (uint32_t i = 0; i < n; i++)
		out[i] = -1;
	if (budget_bps == MM_BWE_UNKNOWN) {
		for (uint32_t i = 0; i < n; i++)
			out[i] = highest_active(&src[i], is_screen(&src[i]) ? top : cam_top);
		return;
	}

	uint64_t left = budget_bps;
	/* Each step goes over the sources twice: priority ones, then the
	 * others (pass 0 takes priority sources, pass 1 the rest). */
	for (int pass = 0; pass < 2; pass++) {
		/* 1. Screens: the highest active layer that fits. */
		for (uint32_t i = 0; i < n; i++) {
			const struct mm_layer_src *s = &src[i];
			if (!is_screen(s) || s->priority != (pass == 0))
				continue;
			for (int l = top; l >= 0; l--) {
				if (layer_active(s, l) && s->layer_bps[l] <= left) {
					out[i] = (int8_t)l;
					left -= s->layer_bps[l];
					break;
				}
			}
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		/* 2. Cameras: the lowest active layer, for each that fits. */
		for (uint32_t i = 0; i < n; i++) {
			const struct mm_layer_src *s = &src[i];
			if (is_screen(s) || s->priority != (pass == 0))
				continue;
			int8_t l = next_active(s, -1, cam_top);
			if (l >= 0 && s->layer_bps[l] <= left) {
				out[i] = l;
				left -= s->layer_bps[l];
			}
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		/* 3. Cameras: one step each per round, until a round makes
		 * none (each camera steps at most MM_LAYERS_MAX - 1 times, so
		 * at most MM_LAYERS_MAX rounds). */
		bool stepped = true;
		while (stepped) {
			stepped = false;
			for (uint32_t i = 0; i < n; i++) {
				const struct mm_layer_src *s = &src[i];
				if (is_screen(s) || s->priority != (pass == 0) || out[i] < 0)
					continue;
				int8_t nx = next_active(s, out[i], cam_top);
				if (nx < 0)
					continue;
				uint32_t from = s->layer_bps[out[i]], to = s->layer_bps[nx];
				uint64_t cost = to > from ? to - from : 0;
				if (cost <= left) {
					left -= cost;
					out[i] = nx;
					stepped = true;
				}
			}
		}
	}
}

/* ---- Switching --------------------------------------------------------- */

void mm_layer_sel_init(struct mm_layer_sel *s)
{
	s->current = -1;
	s->target = -1;
	s->asked_mask = 0;
	memset(s->asked_ms, 0, sizeof(s->asked_ms));
}

void mm_layer_sel_set_target(struct mm_layer_sel *s, int8_t target)
{
	if (target < 0 || target >= MM_LAYERS_MAX)
		target = -1;
	s->target = target;
	if (target < 0)
		s->current = -1;
}

bool mm_layer_sel_needs_keyframe(const struct mm_layer_sel *s, uint64_t now_ms, uint8_t *layer)
{
	if (s->target < 0 || s->target == s->current)
		return false;
	uint64_t asked = s->asked_ms[s->target];
	if ((s->asked_mask & (1u << s->target)) &&
	    (now_ms <= asked || now_ms - asked < MM_LAYER_KEYFRAME_INTERVAL_MS))
		return false;
	*layer = (uint8_t)s->target;
	return true;
}

void mm_layer_sel_keyframe_requested(struct mm_layer_sel *s, uint64_t now_ms)
{
	if (s->target < 0)
		return;
	s->asked_mask |= (uint8_t)(1u << s->target);
	s->asked_ms[s->target] = now_ms;
}
