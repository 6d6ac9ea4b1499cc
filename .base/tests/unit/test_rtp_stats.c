/* Unit tests of dataplane/proto/rtp_stats.c: RFC 3550 A.1 sequence
 * tracking, A.3 cumulative loss and A.8 jitter. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/proto/rtp_stats.h"

/* 90 kHz video: 3000 ticks per frame, one packet per frame. */
#define TICK 3000u

/* Feed packets seq0, seq0+1, ... with a constant transit delay. */
static void feed(struct rtp_stats *s, uint16_t seq0, uint32_t n, uint32_t delay)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ts = (uint16_t)(seq0 + i) * TICK;
		rtp_stats_update(s, (uint16_t)(seq0 + i), ts, ts + delay);
	}
}

static int upd(struct rtp_stats *s, uint16_t seq)
{
	uint32_t ts = (uint32_t)seq * TICK;
	return rtp_stats_update(s, seq, ts, ts + 500);
}

Test(rtp_stats, empty_source)
{
	struct rtp_stats s;
	memset(&s, 0, sizeof(s));
	cr_assert_eq(rtp_stats_lost(&s), 0);
	cr_assert_eq(rtp_stats_jitter(&s), 0);
	cr_assert_eq(s.received, 0);
}

Test(rtp_stats, probation_then_counted)
{
	struct rtp_stats s = {0};
	cr_assert_eq(upd(&s, 1000), 0, "first packet is in probation");
	cr_assert_eq(s.received, 0);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	cr_assert_eq(upd(&s, 1001), 1, "second in sequence validates the source");
	cr_assert_eq(s.received, 2, "the probation packet is counted too");
	cr_assert_eq(s.base_seq, 1000);
	cr_assert_eq(rtp_stats_ext_max(&s), 1001);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	cr_assert_eq(upd(&s, 1002), 1);
	cr_assert_eq(s.received, 3);
}

Test(rtp_stats, in_order_stream)
{
	struct rtp_stats s = {0};
	feed(&s, 100, 1000, 777);
	cr_assert_eq(s.received, 1000);
	cr_assert_eq(rtp_stats_ext_max(&s), 1099);
	cr_assert_eq(s.cycles, 0);
	cr_assert_eq(rtp_stats_lost(&s), 0);
}

Test(rtp_stats, probation_restarts_on_disorder)
{
	struct rtp_stats s = {0};
	cr_assert_eq(upd(&s, 10), 0);
	cr_assert_eq(upd(&s, 12), 0, "not sequential: probation starts again");
	cr_assert_eq(upd(&s, 20), 0);
	cr_assert_eq(s.received, 0);
	cr_assert_eq(upd(&s, 21), 1);
	cr_assert_eq(s.received, 2);
	cr_assert_eq(s.base_seq, 20);
	cr_assert_eq(rtp_stats_lost(&s), 0);
}

Test(rtp_stats, gap_counts_lost)
{
	struct rtp_stats s = {0};
	feed(&s, 0, 50, 0);     /* 0..49 */
	feed(&s, 55, 45, 0);    /* 55..99: 50..54 lost */
	cr_assert_eq(s.received, 95);
	cr_assert_eq(rtp_stats_ext_max(&s), 99);
	cr_assert_eq(rtp_stats_lost(&s), 5);
	/* A late packet of the gap reduces the loss. */
	cr_assert_eq(upd(&s, 52), 1);
	cr_assert_eq(rtp_stats_lost(&s), 4);
	cr_assert_eq(rtp_stats_ext_max(&s), 99, "a late packet is not the highest");
	/* The largest gap that is still a gap: MAX_DROPOUT - 1 ahead. */
	cr_assert_eq(upd(&s, 99 + 2999), 1);
	cr_assert_eq(rtp_stats_lost(&s), 4 + 2998);
}

Test(rtp_stats, reordering)
{
	struct rtp_stats s = {0};
	upd(&s, 500);
	upd(&s, 501);
	/* pairs swapped: 503 502 505 504 ... */
	for (uint16_t q = 502; q < 600; q += 2) {
		cr_assert_eq(upd(&s, (uint16_t)(q + 1)), 1);
		cr_assert_eq(upd(&s, q), 1);
	}
	cr_assert_eq(s.received, 100);
	cr_assert_eq(rtp_stats_ext_max(&s), 599);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	/* Up to MAX_MISORDER late is still counted. */
	cr_assert_eq(upd(&s, 599 - 99), 1);
	cr_assert_eq(rtp_stats_lost(&s), -1);
}

Test(rtp_stats, duplicates)
{
	struct rtp_stats s = {0};
	feed(&s, 7, 20, 0);
	upd(&s, 26);
	upd(&s, 20);
	upd(&s, 20);
	cr_assert_eq(s.received, 23);
	cr_assert_eq(rtp_stats_ext_max(&s), 26);
	cr_assert_eq(rtp_stats_lost(&s), -3, "duplicates make the loss negative");
}

Test(rtp_stats, sequence_wrap)
{
	struct rtp_stats s = {0};
	feed(&s, 65000, 2000, 0); /* 65000..65535, 0..1463 */
	cr_assert_eq(s.received, 2000);
	cr_assert_eq(s.cycles, 65536);
	cr_assert_eq(s.max_seq, 1463);
	cr_assert_eq(rtp_stats_ext_max(&s), 65536 + 1463);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	/* A late packet from before the wrap does not add a cycle. */
	cr_assert_eq(upd(&s, 65530), 0, "1469 back is beyond MAX_MISORDER: not counted");
	cr_assert_eq(upd(&s, 1400), 1);
	cr_assert_eq(s.cycles, 65536);
}

Test(rtp_stats, wrap_around_late_packet)
{
	struct rtp_stats s = {0};
	feed(&s, 65530, 10, 0); /* ..65535, 0..3 */
	cr_assert_eq(upd(&s, 65534), 1, "reordered across the wrap");
	cr_assert_eq(s.cycles, 65536);
	cr_assert_eq(rtp_stats_ext_max(&s), 65536 + 3);
}

Test(rtp_stats, many_wraps)
{
	struct rtp_stats s = {0};
	feed(&s, 12345, 300000, 0);
	uint32_t last = 12345 + 300000 - 1;
	cr_assert_eq(s.received, 300000);
	cr_assert_eq(rtp_stats_ext_max(&s), last);
	cr_assert_eq(s.cycles, last & ~0xFFFFu);
	cr_assert_eq(rtp_stats_lost(&s), 0);
}

Test(rtp_stats, probation_across_wrap)
{
	struct rtp_stats s = {0};
	cr_assert_eq(upd(&s, 65535), 0);
	cr_assert_eq(upd(&s, 0), 1);
	cr_assert_eq(s.received, 2);
	cr_assert_eq(rtp_stats_ext_max(&s), 65536);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	feed(&s, 1, 10, 0);
	cr_assert_eq(rtp_stats_ext_max(&s), 65546);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	cr_assert_eq(s.received, 12);
}

Test(rtp_stats, restart_after_big_jump)
{
	struct rtp_stats s = {0};
	feed(&s, 100, 100, 0); /* 100..199 */
	cr_assert_eq(upd(&s, 30000), 0, "a big jump waits for confirmation");
	cr_assert_eq(s.received, 100);
	cr_assert_eq(rtp_stats_ext_max(&s), 199);
	cr_assert_eq(upd(&s, 30001), 1, "the next in sequence confirms: restart");
	cr_assert_eq(s.base_seq, 30000);
	cr_assert_eq(s.received, 2);
	cr_assert_eq(rtp_stats_ext_max(&s), 30001);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	feed(&s, 30002, 10, 0);
	cr_assert_eq(s.received, 12);
	cr_assert_eq(rtp_stats_lost(&s), 0);
}

Test(rtp_stats, stray_jump_is_ignored)
{
	struct rtp_stats s = {0};
	feed(&s, 100, 100, 0);
	cr_assert_eq(upd(&s, 40000), 0);
	cr_assert_eq(upd(&s, 200), 1, "the old sequence goes on");
	cr_assert_eq(upd(&s, 40002), 0, "not bad_seq (40001): still unconfirmed");
	cr_assert_eq(upd(&s, 201), 1);
	cr_assert_eq(s.received, 102);
	cr_assert_eq(rtp_stats_ext_max(&s), 201);
	cr_assert_eq(rtp_stats_lost(&s), 0);
	/* The limits: MAX_DROPOUT ahead is a jump, and so is MAX_MISORDER
	 * back (udelta <= 65536 - 100); 99 back is a late packet. */
	cr_assert_eq(upd(&s, 201 + 3000), 0);
	cr_assert_eq(upd(&s, 201 - 100), 0);
	cr_assert_eq(upd(&s, 201 - 101), 0);
	cr_assert_eq(upd(&s, 201 - 99), 1);
	cr_assert_eq(s.received, 103);
}

Test(rtp_stats, constant_delay_has_no_jitter)
{
	struct rtp_stats s = {0};
	/* Irregular sending times, constant network delay. */
	uint32_t ts = 1000000;
	for (uint16_t q = 0; q < 500; q++) {
		ts += 90 * (1 + (q * 7919u) % 40);
		rtp_stats_update(&s, q, ts, ts + 123456);
	}
	cr_assert_eq(s.jitter_q4, 0);
	cr_assert_eq(rtp_stats_jitter(&s), 0);
	/* Wrapping clocks do not matter either. */
	struct rtp_stats w = {0};
	for (uint16_t q = 0; q < 100; q++)
		rtp_stats_update(&w, q, 0xFFFFFF00u + q * 160u, 0xFFFFFFF0u + q * 160u + 5u);
	cr_assert_eq(rtp_stats_jitter(&w), 0);
}

Test(rtp_stats, alternating_delay_converges)
{
	/* Delay alternates between 0 and 20 ticks: every |D| is 20, and the
	 * estimate converges to 20. Compare with A.8 in floating point. */
	struct rtp_stats s = {0};
	double ref = 0;
	for (uint16_t q = 0; q < 400; q++) {
		uint32_t ts = q * 160u;
		uint32_t delay = (q & 1) ? 20 : 0;
		rtp_stats_update(&s, q, ts, ts + 1000 + delay);
		if (q > 0)
			ref += (20.0 - ref) / 16.0;
		cr_assert(fabs(s.jitter_q4 / 16.0 - ref) <= 1.0, "q %u: %u/16 vs %f", q,
			  s.jitter_q4, ref);
	}
	cr_assert_eq(rtp_stats_jitter(&s), 20);
	cr_assert(s.jitter_q4 >= 16 * 20 - 8 && s.jitter_q4 <= 16 * 20 + 7);
}

Test(rtp_stats, jitter_first_steps)
{
	struct rtp_stats s = {0};
	rtp_stats_update(&s, 1, 1000, 1000);
	cr_assert_eq(s.jitter_q4, 0, "one packet: no difference yet");
	rtp_stats_update(&s, 2, 2000, 2032); /* D = 32 */
	cr_assert_eq(s.jitter_q4, 32);
	rtp_stats_update(&s, 3, 3000, 3000); /* D = -32 */
	/* 32 + 32 - ((32 + 8) >> 4) */
	cr_assert_eq(s.jitter_q4, 62);
	cr_assert_eq(rtp_stats_jitter(&s), 4);
}

Test(rtp_stats, jump_packet_kept_out_of_jitter)
{
	struct rtp_stats s = {0};
	feed(&s, 0, 100, 50);
	cr_assert_eq(s.jitter_q4, 0);
	/* A stray packet with a wild timestamp and a big sequence jump. */
	rtp_stats_update(&s, 20000, 123456789, 42);
	cr_assert_eq(s.jitter_q4, 0);
	feed(&s, 100, 10, 50);
	cr_assert_eq(s.jitter_q4, 0);
	/* A restart with a new timestamp base: the transit reference moves. */
	rtp_stats_update(&s, 50000, 777000, 1000);
	rtp_stats_update(&s, 50001, 778000, 2000);
	cr_assert_eq(s.received, 2);
	cr_assert_eq(s.jitter_q4, 0);
	rtp_stats_update(&s, 50002, 779000, 3000);
	cr_assert_eq(s.jitter_q4, 0);
}
