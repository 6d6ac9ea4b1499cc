/* Unit tests of dataplane/sfu/layer.c: the rate meter, the downlink
 * estimate, layer allocation and layer switching. Time is a fake clock
 * (milliseconds passed in), so everything is deterministic. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "dataplane/sfu/layer.h"

/* ---- Rate meter ------------------------------------------------------- */

Test(rate, empty_is_zero)
{
	struct mm_rate r;
	mm_rate_init(&r);
	cr_assert_eq(mm_rate_bps(&r, 0), 0);
	cr_assert_eq(mm_rate_bps(&r, 123456), 0);
	cr_assert(!mm_rate_active(&r, 0));
}

Test(rate, constant_traffic)
{
	/* 1000 bytes every 10 ms: 800 kbit/s. */
	struct mm_rate r;
	mm_rate_init(&r);
	for (uint64_t t = 5000; t < 10000; t += 10) {
		mm_rate_add(&r, 1000, t);
		if (t < 6000)
			continue;
		/* Read between packets too. */
		for (uint64_t q = t; q < t + 10; q += 3) {
			uint32_t bps = mm_rate_bps(&r, q);
			cr_assert(bps >= 784000 && bps <= 816000, "t=%llu: %u bit/s, want 800k +- 2 %%",
				  (unsigned long long)q, bps);
		}
	}
	cr_assert(mm_rate_active(&r, 9990));
}

/* Exact bits in (now - 1000, now] of the trace (times t[i], sizes b[i]). */
static uint64_t exact_window_bits(const uint64_t *t, const uint32_t *b, size_t n, uint64_t now)
{
	uint64_t bits = 0;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= now && t[i] + 1000 > now)
			bits += (uint64_t)b[i] * 8;
	return bits;
}

Test(rate, bursty_keyframes_swing_no_more_than_a_second_of_traffic)
{
	/* 25 frames/s of 2,000 bytes; every 3 s a keyframe of 40,000 bytes
	 * instead (a 20x burst). Steady: 400 kbit/s. With a keyframe in
	 * the window: 24 x 16,000 + 320,000 = 704 kbit/s. */
	enum { N = 25 * 12 };
	static uint64_t t[N];
	static uint32_t b[N];
	for (size_t i = 0; i < N; i++) {
		t[i] = 1000 + i * 40;
		b[i] = i % 75 == 0 ? 40000 : 2000;
	}
	struct mm_rate r;
	mm_rate_init(&r);
	uint64_t lo = UINT64_MAX, hi = 0, mlo = UINT64_MAX, mhi = 0;
	size_t next = 0;
	for (uint64_t now = 1000; now < 1000 + N * 40; now++) {
		while (next < N && t[next] == now) {
			mm_rate_add(&r, b[next], now);
			next++;
		}
		if (now < 2000)
			continue; /* the first second includes the silence before */
		uint64_t ex = exact_window_bits(t, b, next, now);
		uint64_t m = mm_rate_bps(&r, now);
		lo = ex < lo ? ex : lo;
		hi = ex > hi ? ex : hi;
		mlo = m < mlo ? m : mlo;
		mhi = m > mhi ? m : mhi;
		/* Never further from the true second than the keyframe
		 * and a frame (the oldest slot, weighted in part). */
		uint64_t d = m > ex ? m - ex : ex - m;
		cr_assert(d <= 320000 + 16000, "now=%llu meter %llu exact %llu", (unsigned long long)now,
			  (unsigned long long)m, (unsigned long long)ex);
	}
	/* The traffic of a second swings between 400k and 704k. */
	cr_assert(lo >= 384000 && hi <= 704000, "exact %llu..%llu", (unsigned long long)lo,
		  (unsigned long long)hi);
	/* The meter's swing stays within that of the traffic (a frame and a
	 * half of slack for the slot edges). */
	cr_assert(mlo + 24000 >= lo, "meter low %llu, traffic low %llu", (unsigned long long)mlo,
		  (unsigned long long)lo);
	cr_assert(mhi <= hi + 24000, "meter high %llu, traffic high %llu", (unsigned long long)mhi,
		  (unsigned long long)hi);
	/* Half a second after a keyframe (at 4000) the meter shows it; 1.2 s
	 * after, it is back to the steady rate. */
	struct mm_rate r2;
	mm_rate_init(&r2);
	size_t i = 0;
	for (; i < N && t[i] <= 4500; i++)
		mm_rate_add(&r2, b[i], t[i]);
	cr_assert_geq(mm_rate_bps(&r2, 4500), 680000);
	for (; i < N && t[i] <= 5200; i++)
		mm_rate_add(&r2, b[i], t[i]);
	cr_assert_leq(mm_rate_bps(&r2, 5200), 416000);
	cr_assert_geq(mm_rate_bps(&r2, 5200), 384000);
}

Test(rate, goes_inactive_after_a_second_of_silence)
{
	struct mm_rate r;
	mm_rate_init(&r);
	for (uint64_t t = 0; t <= 2000; t += 20)
		mm_rate_add(&r, 500, t);
	cr_assert_gt(mm_rate_bps(&r, 2000), 0);
	cr_assert(mm_rate_active(&r, 2500));
	cr_assert(mm_rate_active(&r, 3000));
	cr_assert_eq(mm_rate_bps(&r, 3001), 0, "nothing for over a second: 0");
	cr_assert(!mm_rate_active(&r, 3001));
	cr_assert_eq(mm_rate_bps(&r, 60000), 0);
	/* Coming back after 10 s: only the new bytes count. */
	mm_rate_add(&r, 1000, 13000);
	cr_assert_eq(mm_rate_bps(&r, 13000), 8000);
	cr_assert(mm_rate_active(&r, 13000));
	/* Back after 0.5 s (the old slots of the ring must not reappear). */
	mm_rate_add(&r, 1000, 13550);
	cr_assert_eq(mm_rate_bps(&r, 13550), 16000);
	cr_assert_eq(mm_rate_bps(&r, 14100), 8000, "the first packet's slot has left the window");
}

Test(rate, late_and_stale_times)
{
	struct mm_rate r;
	mm_rate_init(&r);
	mm_rate_add(&r, 1000, 5000);
	mm_rate_add(&r, 1000, 4800); /* late, but inside the window */
	cr_assert_eq(mm_rate_bps(&r, 5000), 16000);
	mm_rate_add(&r, 1000, 3000); /* from before the window: ignored */
	cr_assert_eq(mm_rate_bps(&r, 5000), 16000);
	/* A read at a time before the newest packet reads as at that packet. */
	cr_assert_eq(mm_rate_bps(&r, 100), 16000);
}

Test(rate, saturates)
{
	struct mm_rate r;
	mm_rate_init(&r);
	for (int i = 0; i < 8; i++)
		mm_rate_add(&r, UINT32_MAX, 1000 + (uint64_t)i * 100);
	mm_rate_add(&r, 5, 1700); /* the slot's counter does not wrap */
	cr_assert_eq(mm_rate_bps(&r, 1700), UINT32_MAX - 1);
	cr_assert_eq(r.slot_bytes[(1700 / 100) % MM_RATE_SLOTS], UINT32_MAX);
}

/* ---- Downlink estimate ------------------------------------------------- */

Test(bwe, unknown_until_the_receiver_says_something)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	cr_assert_eq(mm_bwe_bps(&b, 0), MM_BWE_UNKNOWN);
	cr_assert_eq(mm_bwe_bps(&b, 1000000), MM_BWE_UNKNOWN);
}

Test(bwe, remb_then_expiring_to_loss_based)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	mm_bwe_on_remb(&b, 1500000, 1000);
	cr_assert_eq(mm_bwe_bps(&b, 1000), 1500000);
	cr_assert_eq(mm_bwe_bps(&b, 4000), 1500000, "fresh for 3 s");
	/* Expired, no report ever: the loss-based estimate starts at the REMB. */
	cr_assert_eq(mm_bwe_bps(&b, 4001), 1500000);
	/* A report 4 s later, no loss: at most 2 s of increase (+16 %). */
	mm_bwe_on_loss(&b, 0, 1200000, 5000);
	cr_assert_eq(mm_bwe_bps(&b, 5000), 1740000);
	/* A new REMB is the estimate again, whatever the loss says... */
	mm_bwe_on_remb(&b, 3000000, 6000);
	cr_assert_eq(mm_bwe_bps(&b, 6000), 3000000);
	mm_bwe_on_loss(&b, 128, 1200000, 6500); /* 50 % */
	cr_assert_eq(mm_bwe_bps(&b, 6500), 3000000);
	/* ...and when it expires the loss-based estimate took the loss:
	 * 1,740,000 x (1 - 0.25). */
	cr_assert_eq(mm_bwe_bps(&b, 9001), 1305000);
}

Test(bwe, loss_based_stays_under_a_fresh_remb)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 0, 2000000, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), 2000000);
	mm_bwe_on_remb(&b, 800000, 100);
	cr_assert_eq(mm_bwe_bps(&b, 100), 800000);
	/* (A read is pure: what it would be once the REMB expires.) */
	cr_assert_eq(mm_bwe_bps(&b, 3101), 800000, "the REMB cut the loss-based estimate");
	for (uint64_t t = 1100; t <= 3100; t += 1000)
		mm_bwe_on_loss(&b, 0, 800000, t);
	cr_assert_eq(mm_bwe_bps(&b, 3100), 800000);
	/* REMB gone: the loss-based estimate is below what the last REMB
	 * said (GCC: min of the two), and climbs from there. */
	cr_assert_eq(mm_bwe_bps(&b, 3101), 800000);
	mm_bwe_on_loss(&b, 0, 800000, 4100);
	cr_assert_eq(mm_bwe_bps(&b, 4100), 864000);
}

Test(bwe, loss_arithmetic_over_time)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	/* First report, no REMB: start from what the receiver gets. */
	mm_bwe_on_loss(&b, 0, 800000, 10000);
	cr_assert_eq(mm_bwe_bps(&b, 10000), 800000);
	/* < 2 %: +8 % per second elapsed. */
	mm_bwe_on_loss(&b, 0, 800000, 11000);
	cr_assert_eq(mm_bwe_bps(&b, 11000), 864000);
	mm_bwe_on_loss(&b, 5, 800000, 11500); /* 1.95 %: still low */
	cr_assert_eq(mm_bwe_bps(&b, 11500), 864000 + 34560);
	/* 2..10 %: hold, however long. */
	mm_bwe_on_loss(&b, 6, 800000, 12500);  /* 2.3 % */
	cr_assert_eq(mm_bwe_bps(&b, 12500), 898560);
	mm_bwe_on_loss(&b, 25, 800000, 14500); /* 9.8 % */
	cr_assert_eq(mm_bwe_bps(&b, 14500), 898560);
	/* > 10 %: x (1 - loss / 2). */
	mm_bwe_on_loss(&b, 26, 800000, 15500); /* 10.2 % */
	cr_assert_eq(mm_bwe_bps(&b, 15500), 898560ull * (512 - 26) / 512);
	uint32_t before = mm_bwe_bps(&b, 15500);
	mm_bwe_on_loss(&b, 64, 800000, 16500); /* 25 % */
	cr_assert_eq(mm_bwe_bps(&b, 16500), (uint64_t)before * 448 / 512);
	/* The estimate stands between reports. */
	cr_assert_eq(mm_bwe_bps(&b, 30000), (uint64_t)before * 448 / 512);
}

Test(bwe, increase_is_per_second_not_per_report)
{
	struct mm_bwe often, seldom;
	mm_bwe_init(&often);
	mm_bwe_init(&seldom);
	mm_bwe_on_loss(&often, 0, 1000000, 0);
	mm_bwe_on_loss(&seldom, 0, 1000000, 0);
	for (uint64_t t = 100; t <= 1000; t += 100)
		mm_bwe_on_loss(&often, 0, 1000000, t);
	mm_bwe_on_loss(&seldom, 0, 1000000, 1000);
	uint32_t a = mm_bwe_bps(&often, 1000), s = mm_bwe_bps(&seldom, 1000);
	cr_assert_eq(s, 1080000);
	/* Ten reports compound a little: 1.008^10 = 1.0830. */
	cr_assert(a >= 1080000 && a <= 1084000, "ten reports in a second: %u", a);
	/* A report after a long gap counts 2 s at most. */
	mm_bwe_on_loss(&seldom, 0, 1000000, 60000);
	cr_assert_eq(mm_bwe_bps(&seldom, 60000), 1080000 + 1080000 * 16 / 100);
}

Test(bwe, first_report_start_and_cut)
{
	struct mm_bwe b;
	/* Getting little or nothing now: start at MM_BWE_START_BPS. */
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 0, 0, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), MM_BWE_START_BPS);
	/* A heavy loss in the first report cuts at once. */
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 128, 1000000, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), 750000);
	/* A moderate one holds. */
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 20, 1000000, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), 1000000);
}

Test(bwe, growth_capped_above_what_the_receiver_gets)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 0, 0, 0);
	/* A minute of loss-free reports while it gets nothing. */
	for (uint64_t t = 1000; t <= 60000; t += 1000)
		mm_bwe_on_loss(&b, 0, 0, t);
	cr_assert_eq(mm_bwe_bps(&b, 60000), MM_BWE_HEADROOM_BPS);
	/* It gets 2 Mbit/s now: room up to 5 Mbit/s. */
	for (uint64_t t = 61000; t <= 120000; t += 1000)
		mm_bwe_on_loss(&b, 0, 2000000, t);
	cr_assert_eq(mm_bwe_bps(&b, 120000), 2 * 2000000 + MM_BWE_HEADROOM_BPS);
	/* Above the ceiling (the receiver takes less again): held, not cut. */
	mm_bwe_on_loss(&b, 0, 100000, 121000);
	cr_assert_eq(mm_bwe_bps(&b, 121000), 5000000);
}

Test(bwe, floor)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	mm_bwe_on_loss(&b, 255, 400000, 0);
	for (uint64_t t = 1000; t <= 30000; t += 1000)
		mm_bwe_on_loss(&b, 255, 400000, t);
	cr_assert_eq(mm_bwe_bps(&b, 30000), MM_BWE_FLOOR_BPS);
	/* And up again from the floor. */
	mm_bwe_on_loss(&b, 0, 400000, 31000);
	cr_assert_eq(mm_bwe_bps(&b, 31000), MM_BWE_FLOOR_BPS * 108 / 100);
	/* A tiny REMB reads as the floor too. */
	mm_bwe_init(&b);
	mm_bwe_on_remb(&b, 10000, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), MM_BWE_FLOOR_BPS);
	mm_bwe_on_remb(&b, 0, 10);
	cr_assert_eq(mm_bwe_bps(&b, 10), MM_BWE_FLOOR_BPS);
	cr_assert_eq(mm_bwe_bps(&b, 5000), MM_BWE_FLOOR_BPS);
}

Test(bwe, huge_remb_is_not_unknown)
{
	struct mm_bwe b;
	mm_bwe_init(&b);
	mm_bwe_on_remb(&b, UINT32_MAX, 0);
	cr_assert_eq(mm_bwe_bps(&b, 0), UINT32_MAX - 1);
	cr_assert_eq(mm_bwe_bps(&b, 10000), UINT32_MAX - 1);
}

/* ---- Allocation -------------------------------------------------------- */

#define L0 150000u
#define L1 500000u
#define L2 1500000u

static struct mm_layer_src cam(uint8_t mask, bool priority)
{
	struct mm_layer_src s = {.kind = MM_LAYER_CAMERA, .active_mask = mask, .priority = priority,
				 .layer_bps = {L0, L1, L2}};
	return s;
}

static struct mm_layer_src screen(uint8_t mask)
{
	struct mm_layer_src s = {.kind = MM_LAYER_SCREEN, .active_mask = mask,
				 .layer_bps = {300000, 1000000, 2500000}};
	return s;
}

Test(allocate, unlimited_budget)
{
	struct mm_layer_src s[5] = {cam(7, false), cam(3, false), screen(7), cam(0, false), cam(1, true)};
	int8_t out[5];
	mm_layer_allocate(s, 5, 2, MM_BWE_UNKNOWN, out);
	cr_assert_eq(out[0], 2);
	cr_assert_eq(out[1], 1, "highest active");
	cr_assert_eq(out[2], 2);
	cr_assert_eq(out[3], -1, "nothing active");
	cr_assert_eq(out[4], 0);
	mm_layer_allocate(s, 5, 1, MM_BWE_UNKNOWN, out);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[2], 2, "max_layer does not cap screens");
	cr_assert_eq(out[4], 0);
}

Test(allocate, max_layer_caps_cameras_not_screens)
{
	struct mm_layer_src s[3] = {cam(7, false), screen(7), cam(7, true)};
	int8_t out[3];
	mm_layer_allocate(s, 3, 0, 100000000, out);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 2);
	cr_assert_eq(out[2], 0);
	/* A camera that sends only above the receiver's maximum: none. */
	struct mm_layer_src hi_only = cam(4, false);
	mm_layer_allocate(&hi_only, 1, 1, MM_BWE_UNKNOWN, out);
	cr_assert_eq(out[0], -1);
	mm_layer_allocate(&hi_only, 1, 1, 100000000, out);
	cr_assert_eq(out[0], -1);
	/* max_layer beyond the last layer is the last layer. */
	mm_layer_allocate(s, 3, 9, 100000000, out);
	cr_assert_eq(out[0], 2);
	cr_assert_eq(out[2], 2);
}

Test(allocate, short_budget_serves_the_screen_first)
{
	struct mm_layer_src s[4] = {cam(7, true), cam(7, false), screen(7), cam(7, false)};
	int8_t out[4];
	/* 1.2 M: the screen's 1 M layer, then one camera's lowest. */
	mm_layer_allocate(s, 4, 2, 1200000, out);
	cr_assert_eq(out[2], 1);
	cr_assert_eq(out[0], 0, "the priority camera gets the 150 k left");
	cr_assert_eq(out[1], -1);
	cr_assert_eq(out[3], -1);
	/* 250 k: no screen layer fits; the cameras take it. */
	mm_layer_allocate(s, 4, 2, 250000, out);
	cr_assert_eq(out[2], -1);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], -1);
	/* Plenty: the screen's top layer, the cameras all at the top. */
	mm_layer_allocate(s, 4, 2, 2500000 + 3 * L2, out);
	cr_assert_eq(out[2], 2);
	cr_assert_eq(out[0], 2);
	cr_assert_eq(out[1], 2);
	cr_assert_eq(out[3], 2);
}

Test(allocate, lowest_layers_before_upgrades)
{
	struct mm_layer_src s[4] = {cam(7, false), cam(7, false), cam(7, false), cam(7, false)};
	int8_t out[4];
	/* Just enough for everyone's lowest, and a step for nobody. */
	mm_layer_allocate(s, 4, 2, 4 * L0 + (L1 - L0) - 1, out);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i], 0, "camera %d", i);
	/* One step more: the first camera goes up. */
	mm_layer_allocate(s, 4, 2, 4 * L0 + (L1 - L0), out);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 0);
	/* Steps go in turns: everyone at 1 before anyone at 2. */
	mm_layer_allocate(s, 4, 2, 4 * L1 + (L2 - L1) - 1, out);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i], 1, "camera %d", i);
}

Test(allocate, sources_that_do_not_fit_get_none)
{
	struct mm_layer_src s[4] = {cam(7, false), cam(7, false), cam(7, false), cam(7, false)};
	int8_t out[4];
	mm_layer_allocate(s, 4, 2, 2 * L0 + 1000, out);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 0);
	cr_assert_eq(out[2], -1);
	cr_assert_eq(out[3], -1);
	mm_layer_allocate(s, 4, 2, 0, out);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i], -1);
	/* A cheaper camera further on still gets in. */
	s[3].layer_bps[0] = 100000;
	mm_layer_allocate(s, 4, 2, 2 * L0 + 100000, out);
	cr_assert_eq(out[2], -1);
	cr_assert_eq(out[3], 0);
}

Test(allocate, priority_source_upgraded_first)
{
	struct mm_layer_src s[3] = {cam(7, false), cam(7, true), cam(7, false)};
	int8_t out[3];
	/* Lowest layers for all, then one step: the priority camera's. */
	mm_layer_allocate(s, 3, 2, 3 * L0 + (L1 - L0), out);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[2], 0);
	/* The priority camera goes to the top before the others step. */
	mm_layer_allocate(s, 3, 2, 2 * L0 + L2, out);
	cr_assert_eq(out[1], 2);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[2], 0);
	/* Then the others in turn. */
	mm_layer_allocate(s, 3, 2, L0 + L1 + L2, out);
	cr_assert_eq(out[1], 2);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[2], 0);
	/* The priority camera's next step does not fit: the others' cheaper
	 * steps still do. */
	mm_layer_allocate(s, 3, 2, 3 * L0 + 2 * (L1 - L0) + (L1 - L0), out);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[2], 1);
	/* Priority also takes the lowest layers first. */
	mm_layer_allocate(s, 3, 2, L0, out);
	cr_assert_eq(out[1], 0);
	cr_assert_eq(out[0], -1);
	cr_assert_eq(out[2], -1);
	/* And it is capped by max_layer like the others. */
	mm_layer_allocate(s, 3, 1, 100000000, out);
	cr_assert_eq(out[1], 1);
}

Test(allocate, inactive_layers_skipped)
{
	struct mm_layer_src s[4] = {cam(5, false) /* 0 and 2 */, cam(6, false) /* 1 and 2 */,
				    screen(1), cam(2, false) /* 1 only */};
	int8_t out[4];
	/* Budget for: screen 300 k, cameras' lowest (150 + 500 + 500). */
	mm_layer_allocate(s, 4, 2, 300000 + L0 + 2 * L1, out);
	cr_assert_eq(out[2], 0, "the screen's only layer");
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 1, "its lowest active layer is 1");
	cr_assert_eq(out[3], 1);
	/* Camera 0 steps from 0 straight to 2 (1 is not sent). */
	mm_layer_allocate(s, 4, 2, 300000 + L2 + 2 * L1, out);
	cr_assert_eq(out[0], 2);
	cr_assert_eq(out[1], 1);
	/* max_layer 1: camera 0 stays at 0, camera 1 at 1. */
	mm_layer_allocate(s, 4, 1, 100000000, out);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[3], 1);
	/* Layer bits above MM_LAYERS_MAX mean nothing. */
	struct mm_layer_src odd = cam(0xf8, false);
	mm_layer_allocate(&odd, 1, 2, MM_BWE_UNKNOWN, out);
	cr_assert_eq(out[0], -1);
	mm_layer_allocate(&odd, 1, 2, 100000000, out);
	cr_assert_eq(out[0], -1);
}

Test(allocate, empty)
{
	int8_t out[1] = {42};
	mm_layer_allocate(NULL, 0, 2, 1000000, out);
	cr_assert_eq(out[0], 42, "n = 0 writes nothing");
}

/* Deterministic pseudo-random numbers (a 64-bit LCG). */
static uint32_t rnd(uint64_t *st)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

Test(allocate, hundred_sources_properties)
{
	/* Random rooms of 100: whatever the budget, the choice fits it, uses
	 * only active layers, respects max_layer for cameras, and leaves no
	 * step that would still fit (the budget is used greedily). */
	enum { N = 100 };
	struct mm_layer_src s[N];
	int8_t out[N];
	uint64_t st = 7;
	for (int round = 0; round < 300; round++) {
		uint8_t max_layer = (uint8_t)(rnd(&st) % 3);
		uint32_t budget = rnd(&st) % 60000000;
		for (int i = 0; i < N; i++) {
			s[i].kind = rnd(&st) % 20 == 0 ? MM_LAYER_SCREEN : MM_LAYER_CAMERA;
			s[i].active_mask = (uint8_t)(rnd(&st) % 8);
			s[i].priority = rnd(&st) % 10 == 0;
			uint32_t base = 50000 + rnd(&st) % 200000;
			s[i].layer_bps[0] = base;
			s[i].layer_bps[1] = base * 3;
			s[i].layer_bps[2] = base * 9;
		}
		mm_layer_allocate(s, N, max_layer, budget, out);
		uint64_t used = 0;
		for (int i = 0; i < N; i++) {
			if (out[i] < 0)
				continue;
			cr_assert(s[i].active_mask & (1u << out[i]), "round %d source %d: inactive layer", round, i);
			if (s[i].kind == MM_LAYER_CAMERA)
				cr_assert_leq(out[i], max_layer);
			used += s[i].layer_bps[out[i]];
		}
		cr_assert_leq(used, budget, "round %d", round);
		uint64_t left = budget - used;
		for (int i = 0; i < N; i++) {
			if (s[i].kind != MM_LAYER_CAMERA)
				continue;
			int cur = out[i];
			for (int l = cur + 1; l <= max_layer; l++) {
				if (!(s[i].active_mask & (1u << l)))
					continue;
				uint64_t cost = s[i].layer_bps[l] - (cur >= 0 ? s[i].layer_bps[cur] : 0);
				cr_assert_gt(cost, left, "round %d camera %d: a step to %d (%llu) fits %llu", round,
					     i, l, (unsigned long long)cost, (unsigned long long)left);
				break;
			}
		}
	}
}

/* ---- Switching --------------------------------------------------------- */

static struct mm_layer_sel sel_at(int8_t target)
{
	struct mm_layer_sel s;
	mm_layer_sel_init(&s);
	mm_layer_sel_set_target(&s, target);
	return s;
}

Test(switching, nothing_before_init_target)
{
	struct mm_layer_sel s;
	mm_layer_sel_init(&s);
	cr_assert_eq(s.current, -1);
	cr_assert_eq(s.target, -1);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_DROP);
	uint8_t l = 9;
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 1000, &l));
}

Test(switching, starts_at_the_first_keyframe)
{
	struct mm_layer_sel s = sel_at(2);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_DROP, "no keyframe yet");
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_SWITCH, "start below the target");
	cr_assert_eq(s.current, 0);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_FORWARD);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_DROP, "only the target's keyframe switches now");
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_FORWARD);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_SWITCH, "climb at the target's keyframe");
	cr_assert_eq(s.current, 2);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_FORWARD);

	/* Straight at the target when its keyframe comes first; never above. */
	s = sel_at(1);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_DROP, "above the target");
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_SWITCH);
	cr_assert_eq(s.current, 1);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_FORWARD, "a keyframe of the current layer");
}

Test(switching, up_switch_waits_for_the_target_keyframe)
{
	struct mm_layer_sel s = sel_at(0);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_SWITCH);
	mm_layer_sel_set_target(&s, 2);
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_FORWARD, "the current keeps flowing");
		cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_DROP);
		cr_assert_eq(mm_layer_sel_packet(&s, 1, i == 10), MM_LAYER_DROP);
	}
	cr_assert_eq(s.current, 0);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_SWITCH);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_FORWARD);
}

Test(switching, down_switch_waits_for_the_target_keyframe)
{
	struct mm_layer_sel s = sel_at(2);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_SWITCH);
	mm_layer_sel_set_target(&s, 0);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_FORWARD);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_FORWARD);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_SWITCH);
	cr_assert_eq(s.current, 0);
	cr_assert_eq(mm_layer_sel_packet(&s, 2, false), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 0, false), MM_LAYER_FORWARD);
}

Test(switching, target_back_to_current_cancels_the_wait)
{
	struct mm_layer_sel s = sel_at(1);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_SWITCH);
	mm_layer_sel_set_target(&s, 2);
	uint8_t l;
	cr_assert(mm_layer_sel_needs_keyframe(&s, 0, &l));
	mm_layer_sel_set_target(&s, 1);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 0, &l));
	cr_assert_eq(mm_layer_sel_packet(&s, 2, true), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, false), MM_LAYER_FORWARD);
}

Test(switching, target_none_stops)
{
	struct mm_layer_sel s = sel_at(1);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_SWITCH);
	mm_layer_sel_set_target(&s, -1);
	cr_assert_eq(s.current, -1);
	for (uint8_t l = 0; l < MM_LAYERS_MAX; l++) {
		cr_assert_eq(mm_layer_sel_packet(&s, l, false), MM_LAYER_DROP);
		cr_assert_eq(mm_layer_sel_packet(&s, l, true), MM_LAYER_DROP);
	}
	uint8_t kl;
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 10000, &kl), "no keyframe wanted");
	/* Wanted again: a fresh start, from a keyframe (the old current's
	 * plain packets no longer flow). */
	mm_layer_sel_set_target(&s, 1);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, false), MM_LAYER_DROP);
	cr_assert(mm_layer_sel_needs_keyframe(&s, 10000, &kl));
	cr_assert_eq(kl, 1);
	cr_assert_eq(mm_layer_sel_packet(&s, 1, true), MM_LAYER_SWITCH);
}

Test(switching, out_of_range)
{
	struct mm_layer_sel s = sel_at(MM_LAYERS_MAX);
	cr_assert_eq(s.target, -1, "an impossible target is none");
	s = sel_at(-7);
	cr_assert_eq(s.target, -1);
	s = sel_at(2);
	cr_assert_eq(mm_layer_sel_packet(&s, MM_LAYERS_MAX, true), MM_LAYER_DROP);
	cr_assert_eq(mm_layer_sel_packet(&s, 255, true), MM_LAYER_DROP);
	cr_assert_eq(s.current, -1);
}

Test(switching, never_two_layers_at_once)
{
	/* Three layers interleaved, keyframes now and then, the target
	 * changing: after each SWITCH only the new layer's packets pass, every
	 * SWITCH is at a keyframe, and a running stream moves only to the
	 * target. */
	struct mm_layer_sel s;
	mm_layer_sel_init(&s);
	uint64_t st = 11;
	int8_t flowing = -1;
	unsigned switches = 0, forwards = 0;
	for (int i = 0; i < 200000; i++) {
		if (rnd(&st) % 500 == 0)
			mm_layer_sel_set_target(&s, (int8_t)(rnd(&st) % 4) - 1);
		if (s.target < 0)
			flowing = -1;
		uint8_t layer = (uint8_t)(i % 3);
		bool key = rnd(&st) % 40 == 0;
		int8_t target = s.target;
		enum mm_layer_verdict v = mm_layer_sel_packet(&s, layer, key);
		if (v == MM_LAYER_SWITCH) {
			cr_assert(key, "packet %d: switch without a keyframe", i);
			cr_assert_neq(layer, flowing, "packet %d", i);
			if (flowing >= 0)
				cr_assert_eq(layer, target, "packet %d: a running stream moves to the target only", i);
			else
				cr_assert_leq(layer, target, "packet %d: starts at or below the target", i);
			flowing = (int8_t)layer;
			switches++;
		} else if (v == MM_LAYER_FORWARD) {
			cr_assert_eq(layer, flowing, "packet %d: layer %u forwarded while %d flows", i, layer,
				     flowing);
			forwards++;
		}
		cr_assert_eq(s.current, flowing);
	}
	cr_assert_gt(switches, 100);
	cr_assert_gt(forwards, 10000);
}

Test(switching, keyframe_request_rate_limit)
{
	struct mm_layer_sel s = sel_at(0);
	uint8_t l = 9;
	/* Waiting to start: ask for the target. */
	cr_assert(mm_layer_sel_needs_keyframe(&s, 1000, &l));
	cr_assert_eq(l, 0);
	mm_layer_sel_keyframe_requested(&s, 1000);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 1000, &l));
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 1299, &l));
	cr_assert(mm_layer_sel_needs_keyframe(&s, 1300, &l), "300 ms on: ask again");
	cr_assert_eq(mm_layer_sel_packet(&s, 0, true), MM_LAYER_SWITCH);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 1300, &l), "not waiting any more");

	/* Up to 2: ask for layer 2. */
	mm_layer_sel_set_target(&s, 2);
	l = 9;
	cr_assert(mm_layer_sel_needs_keyframe(&s, 2000, &l));
	cr_assert_eq(l, 2);
	mm_layer_sel_keyframe_requested(&s, 2000);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 2100, &l));
	/* The target changes to 1: the request for 2 does not hold it back. */
	mm_layer_sel_set_target(&s, 1);
	cr_assert(mm_layer_sel_needs_keyframe(&s, 2100, &l));
	cr_assert_eq(l, 1);
	mm_layer_sel_keyframe_requested(&s, 2100);
	/* Back to 2 within 300 ms of asking for it: wait. */
	mm_layer_sel_set_target(&s, 2);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 2250, &l));
	cr_assert(mm_layer_sel_needs_keyframe(&s, 2300, &l));
	cr_assert_eq(l, 2);
	/* A request for another layer near the clock's start does not look
	 * like one for this layer. */
	struct mm_layer_sel z = sel_at(0);
	mm_layer_sel_keyframe_requested(&z, 10);
	mm_layer_sel_set_target(&z, 2);
	cr_assert(mm_layer_sel_needs_keyframe(&z, 20, &l));
	cr_assert_eq(l, 2);
	/* A clock that went back counts as within the interval. */
	mm_layer_sel_keyframe_requested(&s, 5000);
	cr_assert(!mm_layer_sel_needs_keyframe(&s, 4000, &l));
}
