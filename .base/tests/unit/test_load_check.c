/* Unit tests of mmload's receive-side checker (tools/load/check.c):
 * sequence accounting fed synthetic sequences (loss, duplicates,
 * reordering, gaps wider than the window) and checked against a
 * brute-force model, RFC 3550 jitter against a hand computation, and the
 * misdelivery classes. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/load/load.h"

/* Feed indexes (RTP seq = index) and count the verdicts. */
static void feed(struct ld_flow *f, const uint32_t *idx, size_t n, int count[5])
{
	for (size_t i = 0; i < n; i++) {
		bool ok;
		count[ld_flow_seq(f, idx[i], (uint16_t)(idx[i] + 1000), &ok)]++;
		cr_assert(ok, "seq follows index at %zu", i);
	}
}

Test(load_check, in_order)
{
	struct ld_flow f = {0};
	int c[5] = {0};
	uint32_t idx[100];
	for (uint32_t i = 0; i < 100; i++)
		idx[i] = i + 5;
	feed(&f, idx, 100, c);
	cr_assert_eq(c[LD_SEQ_NEXT], 100);
	cr_assert_eq(f.next, 105);
	cr_assert_eq(f.dups + f.reordered, 0);
}

Test(load_check, loss_dup_reorder)
{
	struct ld_flow f = {0};
	int c[5] = {0};
	/* 0..4, 3 again (dup), 7 (gap: 5 and 6 missing), 5 (late), 8, 8 (dup), 9 */
	uint32_t idx[] = {0, 1, 2, 3, 4, 3, 7, 5, 8, 8, 9};
	feed(&f, idx, sizeof(idx) / sizeof(idx[0]), c);
	cr_assert_eq(c[LD_SEQ_NEXT], 7);
	cr_assert_eq(c[LD_SEQ_GAP], 1);
	cr_assert_eq(c[LD_SEQ_LATE], 1);
	cr_assert_eq(c[LD_SEQ_DUP], 2);
	cr_assert_eq(f.dups, 2);
	cr_assert_eq(f.reordered, 1);
	/* Unique arrivals 9 of 10 sent (0..9): index 6 is the one lost. */
	uint32_t unique = (uint32_t)(c[LD_SEQ_NEXT] + c[LD_SEQ_GAP] + c[LD_SEQ_LATE]);
	cr_assert_eq(10 - unique, 1);
}

Test(load_check, window_edges)
{
	struct ld_flow f = {0};
	bool ok;
	for (uint32_t i = 0; i <= 10; i++)
		ld_flow_seq(&f, i, (uint16_t)i, &ok);
	/* A gap wider than the window forgets everything. */
	cr_assert_eq(ld_flow_seq(&f, 400, 400, &ok), LD_SEQ_GAP);
	cr_assert_eq(ld_flow_seq(&f, 390, 390, &ok), LD_SEQ_LATE, "slot of 390 %% 256 was index 134");
	cr_assert_eq(ld_flow_seq(&f, 390, 390, &ok), LD_SEQ_DUP);
	cr_assert_eq(ld_flow_seq(&f, 145, 145, &ok), LD_SEQ_LATE, "exactly at the window's start");
	cr_assert_eq(ld_flow_seq(&f, 144, 144, &ok), LD_SEQ_OLD);
	cr_assert_eq(ld_flow_seq(&f, 5, 5, &ok), LD_SEQ_OLD);
	cr_assert_eq(f.reordered, 4);
	/* Small gaps clear the slots they skip. */
	cr_assert_eq(ld_flow_seq(&f, 401, 401, &ok), LD_SEQ_NEXT);
	cr_assert_eq(ld_flow_seq(&f, 650, 650, &ok), LD_SEQ_GAP); /* slot of 650 was 394 */
	cr_assert_eq(ld_flow_seq(&f, 646, 646, &ok), LD_SEQ_LATE); /* slot was 390 (seen) */
}

Test(load_check, rtp_seq_must_follow)
{
	struct ld_flow f = {0};
	bool ok;
	ld_flow_seq(&f, 10, 65535, &ok);
	cr_assert(ok);
	ld_flow_seq(&f, 11, 0, &ok);
	cr_assert(ok, "wraps");
	ld_flow_seq(&f, 12, 5, &ok);
	cr_assert_not(ok, "jumped");
	ld_flow_seq(&f, 20, 6, &ok);
	cr_assert(ok, "after an index gap (mute, loss) the seq is not judged");
}

/* Random arrivals (displaced, duplicated, dropped) against a set model. */
Test(load_check, brute_force_model)
{
	enum { N = 20000 };
	static uint32_t order[N * 2];
	static bool seen[N];
	size_t n = 0;
	srand(11);
	for (uint32_t i = 0; i < N; i++) {
		if (rand() % 50 == 0)
			continue; /* lost */
		order[n++] = i;
		if (rand() % 40 == 0)
			order[n++] = i; /* duplicated */
	}
	for (size_t i = 0; i + 1 < n; i++) /* reorder by at most 100 places */
		if (rand() % 20 == 0) {
			size_t j = i + 1 + (size_t)rand() % 100;
			if (j < n) {
				uint32_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
		}
	struct ld_flow f = {0};
	uint32_t max_next = 0, unique = 0, dups = 0, late = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = order[k];
		bool ok;
		enum ld_seq v = ld_flow_seq(&f, i, (uint16_t)i, &ok);
		enum ld_seq want;
		if (i >= max_next)
			want = max_next == 0 || i == max_next ? LD_SEQ_NEXT : LD_SEQ_GAP;
		else if (max_next - i > LD_WINDOW)
			want = LD_SEQ_OLD; /* too late to tell a duplicate */
		else
			want = seen[i] ? LD_SEQ_DUP : LD_SEQ_LATE;
		cr_assert_eq(v, want, "arrival %zu index %u: %d, model %d", k, i, v, want);
		if (!seen[i])
			unique++;
		dups += want == LD_SEQ_DUP;
		late += want == LD_SEQ_LATE || want == LD_SEQ_OLD;
		seen[i] = true;
		if (i + 1 > max_next)
			max_next = i + 1;
	}
	cr_assert_eq(f.dups, dups);
	cr_assert_eq(f.reordered, late);
	cr_assert_gt(dups, 100);
	cr_assert_gt(late, 100);
	cr_assert_lt(unique, N);
}

Test(load_check, jitter_by_hand)
{
	struct ld_flow f = {0};
	/* ts 0, 960, 1920, 2880; transits 100, 140, 60, 120: D = 40, 80, 60.
	 * J = 0 -> 40/16 -> (J + (80 - J)/16) ... in 1/16 units, integer:
	 * 0 + 40 - 0 = 40; 40 + 80 - 3 = 117; 117 + 60 - 7 = 170. */
	uint32_t ts[] = {0, 960, 1920, 2880}, arr[] = {100, 1100, 1980, 3000};
	uint32_t want[] = {0, 40, 117, 170};
	for (int i = 0; i < 4; i++) {
		ld_flow_jitter(&f, arr[i], ts[i]);
		cr_assert_eq(f.jitter, want[i], "step %d: %u", i, f.jitter);
	}
	/* The float recurrence of RFC 3550 6.4.1 gives 10.63 timestamp units. */
	cr_assert(fabs(f.jitter / 16.0 - 10.634765625) < 0.1);
	/* Long random series: within rounding of the float recurrence. */
	struct ld_flow g = {0};
	double J = 0, prev = 0;
	srand(3);
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t t = i * 3000u, a = t + 5000u + (uint32_t)(rand() % 900);
		ld_flow_jitter(&g, a, t);
		double tr = (double)a - t;
		if (i)
			J += (fabs(tr - prev) - J) / 16;
		prev = tr;
	}
	cr_assert(fabs(g.jitter / 16.0 - J) < 2.0, "%f vs %f", g.jitter / 16.0, J);
	/* Wrapping timestamps do not disturb it. */
	struct ld_flow w = {0};
	ld_flow_jitter(&w, 100, 0xfffffff0u);
	ld_flow_jitter(&w, 100 + 960, 0xfffffff0u + 960);
	cr_assert_eq(w.jitter, 0);
}

Test(load_check, ns_to_timestamp_units)
{
	cr_assert_eq(ld_ns_to_ts(1000000000ull, 48000), 48000);
	cr_assert_eq(ld_ns_to_ts(20000000ull, 48000), 960);
	cr_assert_eq(ld_ns_to_ts(1000000000ull / 30, 90000), 2999);
	cr_assert_eq(ld_ns_to_ts(100000ull * 1000000000ull, 90000), (uint32_t)(9000000000ull));
}

Test(load_check, misdelivery_classes)
{
	struct ld_conf c;
	struct ld_scenario sc;
	ld_conf_defaults(&c); /* 2 rooms x 4, audio */
	cr_assert_eq(ld_scenario_build(&sc, &c), 0);
	struct ld_tag t = {.stream = 1, .phase = LD_PHASE_EXPECTED}; /* room 0, participant 1 */
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_NONE);
	cr_assert_eq(ld_classify(&sc, 3, &t), LD_MIS_NONE);
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_SELF);
	cr_assert_eq(ld_classify(&sc, 4, &t), LD_MIS_OTHER_ROOM);
	t.phase = LD_PHASE_UNCERTAIN;
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_NONE, "may arrive");
	t.phase = LD_PHASE_MUTED;
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_MUTED);
	t.phase = 7;
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_UNKNOWN);
	t.phase = 0;
	t.stream = sc.n_streams;
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_UNKNOWN);
	cr_assert_str_eq(ld_mis_name(LD_MIS_OTHER_ROOM), "other_room");
	ld_scenario_free(&sc);
}

/* --reflect: each stream is expected once, at its own sender; anyone else
 * getting it (same room or not) is a misdelivery; mutes and unknown
 * streams as usual; one copy per packet. */
Test(load_check, reflect_classes)
{
	struct ld_conf c;
	struct ld_scenario sc;
	ld_conf_defaults(&c); /* 2 rooms x 4, audio */
	c.reflect = true;
	cr_assert_eq(ld_scenario_build(&sc, &c), 0);
	cr_assert_eq(ld_copies(&sc), 1);
	struct ld_tag t = {.stream = 1, .phase = LD_PHASE_EXPECTED}; /* room 0, participant 1 */
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_NONE, "back at its sender");
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_NOT_SENDER, "same room, not the sender");
	cr_assert_eq(ld_classify(&sc, 3, &t), LD_MIS_NOT_SENDER);
	cr_assert_eq(ld_classify(&sc, 4, &t), LD_MIS_NOT_SENDER, "other room");
	t.phase = LD_PHASE_UNCERTAIN;
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_NONE, "may arrive");
	t.phase = LD_PHASE_MUTED;
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_MUTED);
	t.phase = 7;
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_UNKNOWN);
	t.phase = 0;
	t.stream = sc.n_streams;
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_UNKNOWN);
	cr_assert_str_eq(ld_mis_name(LD_MIS_NOT_SENDER), "not_sender");
	/* Every stream of every participant, at every receiver. */
	for (uint32_t s = 0; s < sc.n_streams; s++)
		for (uint32_t r = 0; r < sc.n_parts; r++) {
			struct ld_tag u = {.stream = s, .phase = LD_PHASE_EXPECTED};
			cr_assert_eq(ld_classify(&sc, r, &u),
				     sc.streams[s].part == r ? LD_MIS_NONE : LD_MIS_NOT_SENDER,
				     "stream %u at %u", s, r);
		}
	ld_scenario_free(&sc);
	/* Without reflect, the copies are the others in the room. */
	c.reflect = false;
	cr_assert_eq(ld_scenario_build(&sc, &c), 0);
	cr_assert_eq(ld_copies(&sc), 3);
	ld_scenario_free(&sc);
}

/* Rooms of one are for reflect only. */
Test(load_check, reflect_single_participant)
{
	struct ld_conf c;
	char err[256];
	ld_conf_defaults(&c);
	c.participants = 1;
	c.speakers = 1;
	cr_assert_neq(ld_conf_check(&c, err, sizeof(err)), 0);
	c.reflect = true;
	cr_assert_eq(ld_conf_check(&c, err, sizeof(err)), 0, "%s", err);
	struct ld_scenario sc;
	cr_assert_eq(ld_scenario_build(&sc, &c), 0);
	cr_assert_eq(ld_copies(&sc), 1);
	struct ld_tag t = {.stream = 0, .phase = LD_PHASE_EXPECTED};
	cr_assert_eq(ld_classify(&sc, 0, &t), LD_MIS_NONE);
	cr_assert_eq(ld_classify(&sc, 1, &t), LD_MIS_NOT_SENDER);
	ld_scenario_free(&sc);
}
