/* Unit tests of dataplane/sfu/speaker.c: last-N selection, dominant
 * speaker with hysteresis and the speech-recency order, driven by
 * synthetic audio-level streams (a packet every 20 ms) on a fake clock. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/sfu/speaker.h"

#define N_SLOTS MM_SPEAKER_SLOTS
#define NEVER UINT32_MAX

/* What a slot sends: nothing, silence (level 127, V=0) every packet or,
 * as Opus DTX, every 400 ms, or speech. */
enum mode { ABSENT, SILENT, DTX, TALK };

/* A room and its participants on a fake clock. */
struct sim {
	struct mm_speaker_room s;
	uint64_t now;
	uint32_t ptime;          /* ms between a slot's packets */
	uint32_t loss_every;     /* drop every n-th packet of each talker (0: none) */
	enum mode mode[N_SLOTS];
	uint8_t base[N_SLOTS];   /* speech level at the loudest syllable */
};

/* Syllable-like speech: a 240 ms cycle of 12 packets, ten voiced with the
 * level rising to base and falling back, two unvoiced (a gap). */
static const uint8_t envelope[12] = {12, 8, 4, 0, 0, 2, 4, 8, 12, 16, 0, 0};

static struct sim *sim_new(uint32_t last_n, uint32_t n_present)
{
	struct sim *m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	mm_speaker_init(&m->s, last_n);
	m->now = 1000;
	m->ptime = 20;
	for (uint32_t i = 0; i < N_SLOTS; i++)
		m->mode[i] = i < n_present ? SILENT : ABSENT;
	return m;
}

static void talk(struct sim *m, uint32_t slot, uint8_t base)
{
	m->mode[slot] = TALK;
	m->base[slot] = base;
}

/* One packet of slot at m->now; returns what update returned. */
static bool send_one(struct sim *m, uint32_t slot)
{
	if (m->mode[slot] == ABSENT)
		return false;
	if (m->mode[slot] == SILENT || (m->mode[slot] == DTX && m->now % 400 < m->ptime))
		return mm_speaker_update(&m->s, slot, 127, false, m->now);
	if (m->mode[slot] == DTX)
		return false;
	uint64_t n = m->now / m->ptime + slot * 5;
	uint32_t k = (uint32_t)(n % 12);
	if (m->loss_every && n % m->loss_every == 0)
		return false;
	if (k >= 10)
		return mm_speaker_update(&m->s, slot, 100, false, m->now);
	return mm_speaker_update(&m->s, slot, (uint8_t)(m->base[slot] + envelope[k]), true, m->now);
}

/* Run ms of time; returns how many updates reported a change. */
static uint32_t run(struct sim *m, uint32_t ms)
{
	uint32_t changed = 0;
	for (uint32_t t = 0; t < ms; t += m->ptime) {
		for (uint32_t i = 0; i < N_SLOTS; i++)
			changed += send_one(m, i);
		m->now += m->ptime;
	}
	return changed;
}

/* Run until slot is dominant (or selected), at most max ms; returns the
 * time it took, or NEVER. */
static uint32_t run_until_dominant(struct sim *m, uint32_t slot, uint32_t max)
{
	for (uint32_t t = 0; t <= max; t += m->ptime) {
		if (mm_speaker_dominant(&m->s) == (int32_t)slot)
			return t;
		run(m, m->ptime);
	}
	return NEVER;
}

static uint32_t run_until_selected(struct sim *m, uint32_t slot, uint32_t max)
{
	for (uint32_t t = 0; t <= max; t += m->ptime) {
		if (mm_speaker_selected(&m->s, slot))
			return t;
		run(m, m->ptime);
	}
	return NEVER;
}

/* The set is exactly these slots (ascending). */
static void assert_set(const struct sim *m, const uint32_t *want, uint32_t n)
{
	uint32_t got[N_SLOTS];
	uint32_t k = mm_speaker_selected_slots(&m->s, got, N_SLOTS);
	cr_assert_eq(k, n, "set has %u members, want %u", k, n);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "member %u is slot %u, want %u", i, got[i], want[i]);
	for (uint32_t slot = 0; slot < N_SLOTS; slot++) {
		bool in = false;
		for (uint32_t i = 0; i < n; i++)
			in |= want[i] == slot;
		cr_assert_eq(mm_speaker_selected(&m->s, slot), in, "slot %u selected %d", slot, !in);
	}
}

/* Ranks of the known slots are exactly 0..n_known-1, unknown slots have
 * none; returns n_known. */
static uint32_t assert_ranks_permutation(const struct sim *m)
{
	bool seen[N_SLOTS] = {false};
	uint32_t known = 0;
	for (uint32_t slot = 0; slot < N_SLOTS; slot++) {
		uint32_t r = mm_speaker_rank(&m->s, slot);
		if (r == MM_SPEAKER_NO_RANK)
			continue;
		cr_assert_lt(r, N_SLOTS);
		cr_assert_not(seen[r], "rank %u given twice", r);
		seen[r] = true;
		known++;
	}
	for (uint32_t r = 0; r < known; r++)
		cr_assert(seen[r], "rank %u missing", r);
	return known;
}

/* 100 slots, 3 talkers of distinct loudness (10 the loudest, 30 the
 * quietest), 97 silent, after 5 s. */
static struct sim *three_talkers(uint32_t last_n)
{
	struct sim *m = sim_new(last_n, N_SLOTS);
	talk(m, 10, 20);
	talk(m, 20, 32);
	talk(m, 30, 50);
	run(m, 5000);
	return m;
}

static const uint32_t set3[] = {10, 20, 30};

/* ---- last-N and dominant ------------------------------------------------ */

Test(speaker, empty_room)
{
	struct mm_speaker_room s;
	mm_speaker_init(&s, 3);
	uint32_t out[N_SLOTS];
	cr_assert_eq(mm_speaker_dominant(&s), -1);
	cr_assert_eq(mm_speaker_changes(&s), 0);
	cr_assert_eq(mm_speaker_selected_slots(&s, out, N_SLOTS), 0);
	cr_assert_not(mm_speaker_selected(&s, 0));
	cr_assert_eq(mm_speaker_rank(&s, 0), MM_SPEAKER_NO_RANK);
}

Test(speaker, three_of_hundred_selected_and_stable)
{
	struct sim *m = three_talkers(3);
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10, "the loudest steady talker leads");
	uint32_t changes = mm_speaker_changes(&m->s);
	cr_assert_geq(changes, 1);
	cr_assert_eq(run(m, 10000), 0, "10 s more: no change at all");
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	free(m);
}

Test(speaker, first_voice_enters_at_once_while_places_free)
{
	struct sim *m = sim_new(3, N_SLOTS);
	run(m, 1000);
	cr_assert_eq(mm_speaker_dominant(&m->s), -1, "silence elects nobody");
	assert_set(m, NULL, 0);
	/* one voiced packet of slot 7 */
	cr_assert(mm_speaker_update(&m->s, 7, 40, true, m->now));
	cr_assert(mm_speaker_selected(&m->s, 7));
	run(m, 200);
	cr_assert_eq(mm_speaker_dominant(&m->s), 7, "first speaker leads at the next decision");
	cr_assert_eq(mm_speaker_changes(&m->s), 1);
	free(m);
}

Test(speaker, loud_without_voice_bit_never_enters)
{
	struct sim *m = sim_new(3, 10);
	for (uint32_t t = 0; t < 3000; t += 20, m->now += 20)
		cr_assert_not(mm_speaker_update(&m->s, 4, 0, false, m->now));
	/* V set at level 127 is silence too */
	for (uint32_t t = 0; t < 1000; t += 20, m->now += 20)
		cr_assert_not(mm_speaker_update(&m->s, 5, 127, true, m->now));
	assert_set(m, NULL, 0);
	cr_assert_eq(mm_speaker_dominant(&m->s), -1);
	free(m);
}

Test(speaker, cough_changes_nothing)
{
	struct sim *m = three_talkers(3);
	uint32_t changes = mm_speaker_changes(&m->s);
	/* slot 50 coughs: 300 ms, louder than anyone */
	talk(m, 50, 5);
	cr_assert_eq(run(m, 300), 0);
	m->mode[50] = SILENT;
	cr_assert_eq(run(m, 3000), 0);
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	free(m);
}

Test(speaker, cough_during_pause_changes_nothing)
{
	/* Everyone pauses: scores decay, the set and the dominant stay. */
	struct sim *m = three_talkers(3);
	uint32_t changes = mm_speaker_changes(&m->s);
	m->mode[10] = m->mode[20] = m->mode[30] = SILENT;
	cr_assert_eq(run(m, 2000), 0);
	talk(m, 50, 5);
	cr_assert_eq(run(m, 300), 0, "a 300 ms cough into silence");
	m->mode[50] = SILENT;
	cr_assert_eq(run(m, 3000), 0);
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	/* a single loud packet likewise */
	cr_assert_not(mm_speaker_update(&m->s, 60, 0, true, m->now));
	cr_assert_eq(run(m, 2000), 0);
	assert_set(m, set3, 3);
	free(m);
}

Test(speaker, repeated_coughs_change_nothing)
{
	/* Coughs a few seconds apart, into a pause, do not add up to speech. */
	struct sim *m = three_talkers(3);
	uint32_t changes = mm_speaker_changes(&m->s);
	m->mode[10] = m->mode[20] = m->mode[30] = SILENT;
	for (int i = 0; i < 5; i++) {
		talk(m, 50, 5);
		cr_assert_eq(run(m, 300), 0);
		m->mode[50] = SILENT;
		cr_assert_eq(run(m, 2000), 0);
	}
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	free(m);
}

Test(speaker, interjection_keeps_dominant)
{
	/* One person talks; in a pause of theirs someone louder says "yes,
	 * right, I see" for a second; they go on: still the dominant. */
	struct sim *m = sim_new(3, N_SLOTS);
	talk(m, 10, 30);
	run(m, 5000);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	uint32_t changes = mm_speaker_changes(&m->s);
	m->mode[10] = SILENT;
	run(m, 300);
	talk(m, 40, 10);
	run(m, 1000);
	m->mode[40] = SILENT;
	run(m, 200);
	talk(m, 10, 30);
	run(m, 5000);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	/* while the dominant talks on, an as loud interjection likewise */
	talk(m, 40, 30);
	run(m, 800);
	m->mode[40] = SILENT;
	run(m, 3000);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	free(m);
}

Test(speaker, as_loud_newcomer_does_not_churn)
{
	/* A fourth talker as loud as the quietest member, both talking on:
	 * the incumbent keeps its place (the margin). */
	struct sim *m = three_talkers(3);
	talk(m, 40, 50);
	cr_assert_eq(run(m, 25000), 0);
	assert_set(m, set3, 3);
	free(m);
}

Test(speaker, members_stay_when_everyone_pauses)
{
	struct sim *m = three_talkers(3);
	m->mode[10] = m->mode[20] = m->mode[30] = SILENT;
	cr_assert_eq(run(m, 20000), 0, "20 s of silence: the last speakers stay audible");
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	free(m);
}

Test(speaker, fourth_talker_replaces_quietest_then_leads)
{
	struct sim *m = three_talkers(3);
	talk(m, 40, 22);
	uint32_t t = run_until_selected(m, 40, 3000);
	cr_assert_neq(t, NEVER, "a steady talker enters within 3 s");
	cr_assert_geq(t, 400, "not before 400 ms of speech (took %u ms)", t);
	const uint32_t want[] = {10, 20, 40};
	assert_set(m, want, 3);
	cr_assert_eq(mm_speaker_rank(&m->s, 40), 0, "the newcomer is at the front of the order");
	cr_assert_eq(mm_speaker_rank(&m->s, 30), 3, "the replaced one just behind the members");
	run(m, 3000 - t);
	assert_set(m, want, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10, "a talker no louder does not take over");

	/* the others stop: 40 leads within about 2 s, not before 1 s */
	uint32_t changes = mm_speaker_changes(&m->s);
	m->mode[10] = m->mode[20] = m->mode[30] = SILENT;
	uint32_t d = run_until_dominant(m, 40, 5000);
	cr_assert_neq(d, NEVER);
	cr_assert_geq(d, 1000, "took %u ms", d);
	cr_assert_leq(d, 2500, "took %u ms", d);
	cr_assert_eq(mm_speaker_changes(&m->s), changes + 1);
	assert_set(m, want, 3);
	cr_assert_eq(mm_speaker_rank(&m->s, 40), 0);
	free(m);
}

Test(speaker, louder_newcomer_leads_while_others_talk)
{
	struct sim *m = three_talkers(3);
	talk(m, 40, 2);
	uint32_t d = run_until_dominant(m, 40, 6000);
	cr_assert_neq(d, NEVER, "a much louder steady talker takes over");
	cr_assert_geq(d, 1000, "took %u ms", d);
	free(m);
}

Test(speaker, absent_member_decays_out)
{
	/* 30 stops sending anything (left without a forget, or DTX). */
	struct sim *m = three_talkers(3);
	m->mode[30] = ABSENT;
	cr_assert_eq(run(m, 5000), 0, "nobody replaces it while nobody else speaks");
	assert_set(m, set3, 3);
	talk(m, 40, 45);
	cr_assert_neq(run_until_selected(m, 40, 2000), NEVER);
	const uint32_t want[] = {10, 20, 40};
	assert_set(m, want, 3);
	free(m);
}

Test(speaker, dtx_member_decays_out)
{
	/* 30 falls silent under DTX: a silence packet every 400 ms. */
	struct sim *m = three_talkers(3);
	m->mode[30] = DTX;
	cr_assert_eq(run(m, 3000), 0);
	talk(m, 40, 45);
	cr_assert_neq(run_until_selected(m, 40, 2000), NEVER);
	const uint32_t want[] = {10, 20, 40};
	assert_set(m, want, 3);
	free(m);
}

Test(speaker, absent_dominant_loses_the_lead)
{
	struct sim *m = three_talkers(3);
	m->mode[10] = ABSENT;
	uint32_t d = run_until_dominant(m, 20, 5000);
	cr_assert_neq(d, NEVER, "the next loudest talker leads");
	cr_assert_leq(d, 3000, "took %u ms", d);
	free(m);
}

Test(speaker, forget_member_at_once)
{
	struct sim *m = three_talkers(3);
	uint32_t changes = mm_speaker_changes(&m->s);
	mm_speaker_forget(&m->s, 20);
	const uint32_t want[] = {10, 30};
	assert_set(m, want, 2);
	cr_assert_eq(mm_speaker_rank(&m->s, 20), MM_SPEAKER_NO_RANK);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert_eq(mm_speaker_changes(&m->s), changes);
	assert_ranks_permutation(m);
	/* the free place goes to the next voice at once */
	m->mode[20] = ABSENT;
	cr_assert(mm_speaker_update(&m->s, 55, 60, true, m->now));
	const uint32_t want2[] = {10, 30, 55};
	assert_set(m, want2, 3);
	cr_assert_eq(mm_speaker_rank(&m->s, 55), 0);
	free(m);
}

Test(speaker, forget_dominant_elects_next_at_once)
{
	struct sim *m = three_talkers(3);
	uint32_t changes = mm_speaker_changes(&m->s);
	m->mode[10] = ABSENT;
	mm_speaker_forget(&m->s, 10);
	cr_assert_eq(mm_speaker_dominant(&m->s), 20, "the next best speaker");
	cr_assert_eq(mm_speaker_changes(&m->s), changes + 1);
	cr_assert_eq(mm_speaker_rank(&m->s, 20), 0);
	const uint32_t want[] = {20, 30};
	assert_set(m, want, 2);
	/* forgetting everyone who spoke leaves no dominant */
	mm_speaker_forget(&m->s, 20);
	mm_speaker_forget(&m->s, 30);
	cr_assert_eq(mm_speaker_dominant(&m->s), -1);
	cr_assert_eq(mm_speaker_changes(&m->s), changes + 3);
	assert_set(m, NULL, 0);
	/* forgetting twice, or a slot that never sent, is harmless */
	cr_assert_eq(assert_ranks_permutation(m), 97);
	mm_speaker_forget(&m->s, 30);
	cr_assert_eq(assert_ranks_permutation(m), 97);
	m->mode[99] = ABSENT;
	mm_speaker_forget(&m->s, 99);
	mm_speaker_forget(&m->s, 99);
	cr_assert_eq(assert_ranks_permutation(m), 96);
	cr_assert_eq(mm_speaker_dominant(&m->s), -1);
	free(m);
}

Test(speaker, last_n_zero_selects_all)
{
	struct sim *m = three_talkers(0);
	for (uint32_t slot = 0; slot < N_SLOTS; slot++)
		cr_assert(mm_speaker_selected(&m->s, slot));
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	/* a fourth and fifth talker: nobody is ever replaced */
	talk(m, 40, 10);
	talk(m, 41, 10);
	run(m, 3000);
	uint32_t out[N_SLOTS];
	cr_assert_eq(mm_speaker_selected_slots(&m->s, out, N_SLOTS), 5, "those who spoke");
	for (uint32_t slot = 0; slot < N_SLOTS; slot++)
		cr_assert(mm_speaker_selected(&m->s, slot));
	free(m);
}

Test(speaker, last_n_larger_than_talkers)
{
	struct sim *m = three_talkers(10);
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	cr_assert(mm_speaker_update(&m->s, 77, 60, true, m->now), "a free place: in at once");
	const uint32_t want[] = {10, 20, 30, 77};
	assert_set(m, want, 4);
	free(m);
}

Test(speaker, set_last_n_shrinks_weakest_first_keeps_dominant)
{
	struct sim *m = three_talkers(10);
	/* 10 pauses (still dominant, now the quietest): shrinking to 1 keeps it */
	m->mode[10] = SILENT;
	run(m, 600);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	mm_speaker_set_last_n(&m->s, 2);
	const uint32_t want2[] = {10, 20};
	assert_set(m, want2, 2);
	cr_assert_eq(mm_speaker_rank(&m->s, 30), 2, "dropped one goes just behind the set");
	mm_speaker_set_last_n(&m->s, 1);
	const uint32_t want1[] = {10};
	assert_set(m, want1, 1);
	/* growing again: the others come back as they speak */
	mm_speaker_set_last_n(&m->s, 3);
	run(m, 300);
	assert_set(m, set3, 3);
	/* over 100 counts as 100 */
	mm_speaker_set_last_n(&m->s, 1000);
	cr_assert_eq(m->s.last_n, N_SLOTS);
	free(m);
}

Test(speaker, last_n_one_follows_the_dominant)
{
	struct sim *m = three_talkers(1);
	const uint32_t want[] = {10};
	assert_set(m, want, 1);
	m->mode[10] = SILENT;
	cr_assert_neq(run_until_dominant(m, 20, 5000), NEVER);
	const uint32_t want2[] = {20};
	assert_set(m, want2, 1);
	free(m);
}

/* ---- bad input, time, determinism --------------------------------------- */

Test(speaker, bad_input_ignored)
{
	struct sim *m = three_talkers(3);
	struct mm_speaker_room before;
	memcpy(&before, &m->s, sizeof(before));
	m->now += 500;
	cr_assert_not(mm_speaker_update(&m->s, 50, 128, true, m->now));
	cr_assert_not(mm_speaker_update(&m->s, 50, 255, true, m->now));
	cr_assert_not(mm_speaker_update(&m->s, N_SLOTS, 0, true, m->now));
	cr_assert_not(mm_speaker_update(&m->s, UINT32_MAX, 0, true, m->now));
	mm_speaker_forget(&m->s, N_SLOTS);
	mm_speaker_forget(&m->s, UINT32_MAX);
	mm_speaker_join(&m->s, N_SLOTS);
	cr_assert_eq(memcmp(&before, &m->s, sizeof(before)), 0, "no state changed");
	cr_assert_not(mm_speaker_selected(&m->s, N_SLOTS));
	cr_assert_not(mm_speaker_selected(&m->s, UINT32_MAX));
	cr_assert_eq(mm_speaker_rank(&m->s, N_SLOTS), MM_SPEAKER_NO_RANK);
	cr_assert_eq(mm_speaker_rank(&m->s, UINT32_MAX), MM_SPEAKER_NO_RANK);
	/* a truncated list */
	uint32_t out[2] = {0, 0};
	cr_assert_eq(mm_speaker_selected_slots(&m->s, out, 2), 2);
	cr_assert_eq(out[0], 10);
	cr_assert_eq(out[1], 20);
	cr_assert_eq(mm_speaker_selected_slots(&m->s, NULL, 0), 0);
	free(m);
}

Test(speaker, time_backwards_ignored)
{
	struct sim *m = three_talkers(3);
	struct mm_speaker_room before;
	memcpy(&before, &m->s, sizeof(before));
	/* a loud stream from a silent slot, all before the latest packet */
	uint64_t latest = m->s.now_ms;
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_not(mm_speaker_update(&m->s, 50, 0, true, latest - 1 - i * 20));
	cr_assert_not(mm_speaker_update(&m->s, 50, 0, true, 0));
	cr_assert_eq(memcmp(&before, &m->s, sizeof(before)), 0, "no state changed");
	/* time going on again works as before */
	talk(m, 40, 22);
	cr_assert_neq(run_until_selected(m, 40, 3000), NEVER);
	free(m);
}

Test(speaker, same_millisecond_and_long_gaps)
{
	/* Packets bunched in one ms, and an hour's gap: no harm. */
	struct sim *m = three_talkers(3);
	for (uint32_t i = 0; i < 50; i++)
		mm_speaker_update(&m->s, 50, 0, true, m->now);
	assert_set(m, set3, 3);
	m->now += 3600ull * 1000;
	run(m, 100);
	assert_set(m, set3, 3);
	cr_assert_eq(mm_speaker_dominant(&m->s), 10);
	talk(m, 40, 22);
	cr_assert_neq(run_until_selected(m, 40, 2000), NEVER);
	free(m);
}

Test(speaker, elapsed_time_not_packet_count)
{
	/* The same speech as 20 ms packets, as 60 ms packets, and as 20 ms
	 * packets with every third lost: the newcomer enters at about the same
	 * time. */
	uint32_t t[3];
	for (int v = 0; v < 3; v++) {
		struct sim *m = sim_new(3, N_SLOTS);
		m->ptime = v == 1 ? 60 : 20;
		m->loss_every = v == 2 ? 3 : 0;
		talk(m, 10, 20);
		talk(m, 20, 32);
		talk(m, 30, 50);
		run(m, 4980);
		talk(m, 40, 22);
		t[v] = run_until_selected(m, 40, 3000);
		cr_assert_neq(t[v], NEVER, "variant %d", v);
		free(m);
	}
	for (int v = 1; v < 3; v++)
		cr_assert(abs((int)t[v] - (int)t[0]) <= 200, "20 ms: %u ms, variant %d: %u ms", t[0], v, t[v]);
}

/* Feed slot 0 a steady level every ptime ms from t0 up to (excluding) t1. */
static void feed_steady(struct mm_speaker_room *s, uint64_t t0, uint64_t t1, uint32_t ptime)
{
	for (uint64_t t = t0; t < t1; t += ptime)
		mm_speaker_update(s, 0, 30, true, t);
}

static bool near(uint32_t a, uint32_t b, uint32_t pct)
{
	uint64_t d = a > b ? a - b : b - a;
	return d * 100 <= (uint64_t)(a > b ? a : b) * pct;
}

Test(speaker, scores_follow_elapsed_time)
{
	/* The same steady speech as 20, 40 and 60 ms packets: the same scores. */
	struct mm_speaker_room a, b, c;
	mm_speaker_init(&a, 3);
	mm_speaker_init(&b, 3);
	mm_speaker_init(&c, 3);
	feed_steady(&a, 1000, 2200, 20);
	feed_steady(&b, 1020, 2200, 40);
	feed_steady(&c, 1040, 2200, 60);
	const struct mm_speaker_slot *sa = &a.slot[0], *sb = &b.slot[0], *sc = &c.slot[0];
	cr_assert_eq(sa->last_ms, 2180);
	cr_assert_eq(sb->last_ms, 2180);
	cr_assert_eq(sc->last_ms, 2180);
	cr_assert_gt(sa->short_q16, 80u << 16, "1.2 s of level 30 (97): %u", sa->short_q16 >> 16);
	cr_assert_gt(sa->long_q16, 60u << 16);
	cr_assert_gt(sa->short_q16, sa->long_q16, "the short score rises faster");
	cr_assert(near(sa->short_q16, sb->short_q16, 3), "%u %u", sa->short_q16, sb->short_q16);
	cr_assert(near(sa->short_q16, sc->short_q16, 3), "%u %u", sa->short_q16, sc->short_q16);
	cr_assert(near(sa->long_q16, sb->long_q16, 3), "%u %u", sa->long_q16, sb->long_q16);
	cr_assert(near(sa->long_q16, sc->long_q16, 3), "%u %u", sa->long_q16, sc->long_q16);

	/* 2 s with no packet, then one silent one: the gap was silence */
	uint32_t sh = sa->short_q16, lg = sa->long_q16;
	mm_speaker_update(&a, 0, 127, false, 4180);
	cr_assert_lt(sa->short_q16, sh / 500, "%u", sa->short_q16);
	cr_assert_lt(sa->long_q16, lg / 4, "%u", sa->long_q16);
	cr_assert_gt(sa->long_q16, lg / 16, "%u", sa->long_q16);
	/* after another 2 s gap, one loud voiced packet stands for at most
	 * 60 ms of speech, not for the whole gap */
	mm_speaker_update(&a, 0, 0, true, 6180);
	cr_assert_gt(sa->short_q16, 0);
	cr_assert_lt(sa->short_q16, 40u << 16, "%u", sa->short_q16 >> 16);
	/* and with no packet at all, a score decays to nothing */
	mm_speaker_init(&b, 3);
	feed_steady(&b, 1000, 2200, 20);
	mm_speaker_update(&b, 1, 127, false, 2180 + 60000);
	cr_assert_eq(b.slot[1].short_q16, 0);
	mm_speaker_update(&b, 0, 127, false, 2180 + 60000);
	cr_assert_eq(b.slot[0].short_q16, 0, "a minute of nothing: %u", b.slot[0].short_q16);
	cr_assert_eq(b.slot[0].long_q16, 0);
}

Test(speaker, deterministic)
{
	struct sim *a = three_talkers(3), *b = three_talkers(3);
	talk(a, 40, 22);
	talk(b, 40, 22);
	run(a, 2000);
	run(b, 2000);
	mm_speaker_forget(&a->s, 10);
	mm_speaker_forget(&b->s, 10);
	run(a, 2000);
	run(b, 2000);
	cr_assert_eq(memcmp(&a->s, &b->s, sizeof(a->s)), 0);
	free(a);
	free(b);
}

/* ---- the speech-recency order -------------------------------------------- */

Test(speaker_order, talkers_first_then_join_order)
{
	struct sim *m = three_talkers(3);
	cr_assert_eq(mm_speaker_rank(&m->s, 10), 0, "the dominant is at the front");
	cr_assert_lt(mm_speaker_rank(&m->s, 20), 3);
	cr_assert_lt(mm_speaker_rank(&m->s, 30), 3);
	cr_assert_eq(assert_ranks_permutation(m), N_SLOTS);
	/* the silent ones in the order of their first packet (slot order here) */
	uint32_t prev = 2;
	for (uint32_t slot = 0; slot < N_SLOTS; slot++) {
		if (slot == 10 || slot == 20 || slot == 30)
			continue;
		cr_assert_eq(mm_speaker_rank(&m->s, slot), prev + 1, "slot %u", slot);
		prev++;
	}
	free(m);
}

Test(speaker_order, unknown_until_first_packet_or_join)
{
	struct sim *m = sim_new(3, 5);
	run(m, 100);
	cr_assert_eq(assert_ranks_permutation(m), 5);
	cr_assert_eq(mm_speaker_rank(&m->s, 80), MM_SPEAKER_NO_RANK);
	mm_speaker_join(&m->s, 80);
	cr_assert_eq(mm_speaker_rank(&m->s, 80), 5, "joined: at the back");
	mm_speaker_join(&m->s, 80);
	cr_assert_eq(mm_speaker_rank(&m->s, 80), 5, "joining twice changes nothing");
	/* its first packet, speech: in the set and at the front */
	m->mode[80] = TALK;
	m->base[80] = 30;
	cr_assert_neq(run_until_selected(m, 80, 500), NEVER);
	cr_assert_eq(mm_speaker_rank(&m->s, 80), 0);
	cr_assert_eq(assert_ranks_permutation(m), 6);
	free(m);
}

Test(speaker_order, members_stay_ahead)
{
	/* Through churn (newcomers replacing members, a forget, a dominant
	 * change) the members always hold ranks 0..n-1. */
	struct sim *m = three_talkers(3);
	static const uint8_t newcomers[] = {40, 41, 42, 43};
	for (size_t i = 0; i < sizeof(newcomers); i++) {
		talk(m, newcomers[i], (uint8_t)(10 + i));
		for (uint32_t t = 0; t < 3000; t += 100) {
			run(m, 100);
			uint32_t out[N_SLOTS];
			uint32_t n = mm_speaker_selected_slots(&m->s, out, N_SLOTS);
			cr_assert_eq(n, 3);
			for (uint32_t k = 0; k < n; k++)
				cr_assert_lt(mm_speaker_rank(&m->s, out[k]), 3, "member %u", out[k]);
			cr_assert_lt(mm_speaker_rank(&m->s, (uint32_t)mm_speaker_dominant(&m->s)), 3);
			assert_ranks_permutation(m);
		}
		if (i == 1) {
			m->mode[newcomers[0]] = ABSENT;
			mm_speaker_forget(&m->s, newcomers[0]);
		}
	}
	free(m);
}

Test(speaker_order, forgotten_leave_the_order)
{
	struct sim *m = three_talkers(3);
	for (uint32_t slot = 0; slot < N_SLOTS; slot += 2) {
		m->mode[slot] = ABSENT;
		mm_speaker_forget(&m->s, slot);
		cr_assert_eq(mm_speaker_rank(&m->s, slot), MM_SPEAKER_NO_RANK);
	}
	cr_assert_eq(assert_ranks_permutation(m), N_SLOTS / 2);
	/* a forgotten slot that sends again comes back at the back */
	m->mode[50] = SILENT;
	run(m, 20);
	cr_assert_eq(mm_speaker_rank(&m->s, 50), N_SLOTS / 2);
	free(m);
}

/* ---- another thread's view ------------------------------------------------- */

struct reader {
	const struct mm_speaker_room *s;
	int done;            /* set by the writer when it is finished */
	uint64_t reads;
	uint64_t bad;        /* snapshots that were not 3 members */
	uint64_t bad_dominant;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	uint32_t out[N_SLOTS];
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		uint32_t n = mm_speaker_selected_slots(r->s, out, N_SLOTS);
		int32_t d = mm_speaker_dominant(r->s);
		r->bad += n != 3;
		r->bad_dominant += d < 0 || d >= N_SLOTS;
		(void)mm_speaker_changes(r->s);
		__atomic_store_n(&r->reads, r->reads + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

Test(speaker_threads, snapshots_of_a_full_set_are_whole)
{
	/* While members are swapped (out and in within one update), another
	 * thread never sees the set with 2 or 4 members. */
	struct sim *m = three_talkers(3);
	struct reader r = {.s = &m->s};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, read_loop, &r), 0);
	while (__atomic_load_n(&r.reads, __ATOMIC_ACQUIRE) == 0)
		sched_yield(); /* the reader is running */
	uint32_t before = mm_speaker_changes(&m->s);
	m->mode[10] = m->mode[20] = m->mode[30] = SILENT;
	for (int round = 0; round < 20; round++) {
		uint32_t slot = 40 + (uint32_t)round % 5;
		talk(m, slot, (uint8_t)(10 + round % 3 * 10));
		run(m, 3000);
		m->mode[slot] = SILENT;
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_gt(mm_speaker_changes(&m->s), before, "the test churned the dominant too");
	cr_assert_gt(r.reads, 0);
	cr_assert_eq(r.bad, 0, "%llu of %llu snapshots torn", (unsigned long long)r.bad,
		     (unsigned long long)r.reads);
	cr_assert_eq(r.bad_dominant, 0);
	free(m);
}
