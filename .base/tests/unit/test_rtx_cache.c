/* Unit tests of dataplane/sfu/rtx_cache.c: the retransmission cache (round
 * trip, the packet and byte bounds, age, sequence number wrap, duplicates,
 * refused packets, the resend guard, the memory figure) and the sequence
 * map (segments across switches, boundaries, 16-bit wrap, future and too
 * old numbers). */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/sfu/rtx_cache.h"

/* A packet of len bytes whose content tells seq and gen apart: an RTP-like
 * first 4 bytes, then a pattern. */
static void fill_pkt(uint8_t *buf, size_t len, uint16_t seq, uint8_t gen)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7u + seq * 13u + gen * 101u);
	if (len >= 4) {
		buf[0] = 0x80;
		buf[1] = 96;
		buf[2] = (uint8_t)(seq >> 8);
		buf[3] = (uint8_t)seq;
	}
}

/* Put a packet made by fill_pkt; returns mm_rtx_cache_put's result. */
static int put(struct mm_rtx_cache *c, uint16_t seq, size_t len, uint8_t gen, uint64_t now)
{
	uint8_t buf[2000];
	cr_assert_leq(len, sizeof(buf));
	fill_pkt(buf, len, seq, gen);
	return mm_rtx_cache_put(c, seq, buf, len, now);
}

/* Assert that the cache returns exactly the packet fill_pkt makes. */
static void expect_pkt(struct mm_rtx_cache *c, uint16_t seq, size_t len, uint8_t gen, uint64_t now)
{
	uint8_t want[2000];
	fill_pkt(want, len, seq, gen);
	struct mm_rtx_entry *e = mm_rtx_cache_get(c, seq, now);
	cr_assert_not_null(e, "seq %u should be cached", seq);
	cr_assert_eq(e->seq, seq);
	cr_assert_eq(e->len, len, "seq %u: len %u, want %zu", seq, e->len, len);
	cr_assert_eq(memcmp(e->pkt, want, len), 0, "seq %u: bytes differ", seq);
}

static void expect_none(struct mm_rtx_cache *c, uint16_t seq, uint64_t now)
{
	cr_assert_null(mm_rtx_cache_get(c, seq, now), "seq %u should not be returned", seq);
}

/* ---- Creation ----------------------------------------------------------- */

Test(rtx_cache, create_rejects_bad_bounds)
{
	errno = 0;
	cr_assert_null(mm_rtx_cache_create(0, 10000));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(mm_rtx_cache_create(MM_RTX_CACHE_MAX_SLOTS + 1, 10000));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(mm_rtx_cache_create(64, 0));
	cr_assert_eq(errno, EINVAL);

	struct mm_rtx_cache *c = mm_rtx_cache_create(MM_RTX_CACHE_MAX_SLOTS, 10000);
	cr_assert_not_null(c);
	mm_rtx_cache_destroy(c);
	mm_rtx_cache_destroy(NULL);
}

Test(rtx_cache, slots_rounded_up_to_power_of_two)
{
	/* 3 packets become 4 slots: seq 0..3 fit together, 4 takes 0's slot. */
	struct mm_rtx_cache *c = mm_rtx_cache_create(3, 100000);
	for (uint16_t s = 0; s < 4; s++)
		cr_assert_eq(put(c, s, 100, 0, 0), 0);
	for (uint16_t s = 0; s < 4; s++)
		expect_pkt(c, s, 100, 0, 0);
	cr_assert_eq(put(c, 4, 100, 0, 0), 0);
	expect_none(c, 0, 0);
	expect_pkt(c, 1, 100, 0, 0);
	expect_pkt(c, 4, 100, 0, 0);
	mm_rtx_cache_destroy(c);
}

/* ---- Put and get -------------------------------------------------------- */

Test(rtx_cache, round_trip_bytes_identical)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(64, 64 * 1500);
	const size_t lens[] = {12, 13, 100, 999, 1200, 1499, 1500, 60, 1, 700};
	for (uint16_t i = 0; i < 10; i++)
		cr_assert_eq(put(c, (uint16_t)(1000 + i), lens[i], 0, 5000 + i), 0);
	for (uint16_t i = 0; i < 10; i++) {
		expect_pkt(c, (uint16_t)(1000 + i), lens[i], 0, 5100);
		struct mm_rtx_entry *e = mm_rtx_cache_get(c, (uint16_t)(1000 + i), 5100);
		cr_assert_eq(e->put_ms, 5000u + i);
		cr_assert_eq(e->resends, 0);
	}
	/* Never put: neither neighbours nor other seqs of the same slots. */
	expect_none(c, 999, 5100);
	expect_none(c, 1010, 5100);
	expect_none(c, (uint16_t)(1000 + 64), 5100);
	expect_none(c, 0, 5100);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, empty_cache_returns_nothing)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 10000);
	for (uint32_t s = 0; s < 65536; s += 997)
		expect_none(c, (uint16_t)s, 0);
	expect_none(c, 0, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, ring_wrap_overwrites_by_seq)
{
	/* 8 slots, plenty of bytes: only the packet bound applies. */
	struct mm_rtx_cache *c = mm_rtx_cache_create(8, 1000000);
	for (uint16_t s = 0; s < 8; s++)
		cr_assert_eq(put(c, s, 200, 0, 0), 0);
	for (uint16_t s = 8; s < 11; s++)
		cr_assert_eq(put(c, s, 200, 1, 0), 0);
	/* 0, 1, 2 lost their slots to 8, 9, 10. */
	for (uint16_t s = 0; s < 3; s++)
		expect_none(c, s, 0);
	for (uint16_t s = 3; s < 8; s++)
		expect_pkt(c, s, 200, 0, 0);
	for (uint16_t s = 8; s < 11; s++)
		expect_pkt(c, s, 200, 1, 0);
	/* A seq sharing a slot with a cached one is still not there. */
	expect_none(c, 16, 0);
	expect_none(c, 11, 0); /* slot of 3 */
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, byte_bound_evicts_large_packets)
{
	/* 4000 bytes, packets of 1400: a packet goes to the ring's start when
	 * it does not fit before its end, overwriting the oldest bytes. */
	struct mm_rtx_cache *c = mm_rtx_cache_create(64, 4000);
	cr_assert_eq(put(c, 0, 1400, 0, 0), 0); /* bytes 0..1400 */
	cr_assert_eq(put(c, 1, 1400, 0, 0), 0); /* 1400..2800 */
	expect_pkt(c, 0, 1400, 0, 0);
	expect_pkt(c, 1, 1400, 0, 0);
	cr_assert_eq(put(c, 2, 1400, 0, 0), 0); /* 0..1400 again */
	expect_none(c, 0, 0);
	expect_pkt(c, 1, 1400, 0, 0);
	expect_pkt(c, 2, 1400, 0, 0);
	cr_assert_eq(put(c, 3, 1400, 0, 0), 0); /* 1400..2800 */
	expect_none(c, 1, 0);
	expect_pkt(c, 2, 1400, 0, 0);
	expect_pkt(c, 3, 1400, 0, 0);
	/* A small packet fits in the tail: 2 and 3 stay. */
	cr_assert_eq(put(c, 4, 1000, 0, 0), 0); /* 2800..3800 */
	expect_pkt(c, 2, 1400, 0, 0);
	expect_pkt(c, 3, 1400, 0, 0);
	expect_pkt(c, 4, 1000, 0, 0);
	/* 201 bytes do not fit in the last 200: back to the start, over 2. */
	cr_assert_eq(put(c, 5, 201, 0, 0), 0);
	expect_none(c, 2, 0);
	expect_pkt(c, 3, 1400, 0, 0);
	expect_pkt(c, 4, 1000, 0, 0);
	expect_pkt(c, 5, 201, 0, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, byte_ring_exact_fit_keeps_neighbours)
{
	/* Packets filling the ring exactly: each new one overwrites exactly
	 * the oldest, and the others stay. */
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 3000);
	for (uint16_t s = 0; s < 3; s++)
		cr_assert_eq(put(c, s, 1000, 0, 0), 0);
	for (uint16_t s = 0; s < 3; s++)
		expect_pkt(c, s, 1000, 0, 0);
	for (uint16_t s = 3; s < 20; s++) {
		cr_assert_eq(put(c, s, 1000, 0, 0), 0);
		expect_none(c, (uint16_t)(s - 3), 0);
		expect_pkt(c, (uint16_t)(s - 2), 1000, 0, 0);
		expect_pkt(c, (uint16_t)(s - 1), 1000, 0, 0);
		expect_pkt(c, s, 1000, 0, 0);
	}
	mm_rtx_cache_destroy(c);
}

/* Many puts of random lengths through small rings: whatever get returns is
 * exactly the packet put last under that seq, the newest packet is always
 * there, and the packets that fit in the byte ring are too. */
Test(rtx_cache, never_stale_bytes)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(32, 5000);
	static size_t len_of[65536];
	static uint8_t gen_of[65536];
	uint32_t rng = 12345;
	uint16_t seq = 65000; /* crosses the 16-bit wrap */
	unsigned hits = 0, misses = 0;
	for (unsigned n = 0; n < 20000; n++) {
		rng = rng * 1103515245u + 12345u;
		size_t len = 1 + (rng >> 8) % MM_RTX_CACHE_MAX_PACKET;
		uint8_t gen = (uint8_t)(n >> 3);
		cr_assert_eq(put(c, seq, len, gen, n), 0);
		len_of[seq] = len;
		gen_of[seq] = gen;
		expect_pkt(c, seq, len, gen, n);
		/* The ring holds the newest packets back to at least
		 * data_cap - 1500 bytes (the tail skipped at most). */
		size_t bytes = 0;
		for (uint16_t b = 0; b < 40; b++) {
			uint16_t s = (uint16_t)(seq - b);
			if (n < b)
				break;
			bytes += len_of[s];
			struct mm_rtx_entry *e = mm_rtx_cache_get(c, s, n);
			if (e) {
				hits++;
				expect_pkt(c, s, len_of[s], gen_of[s], n);
			} else {
				misses++;
				cr_assert(b >= 32 || bytes > 5000 - 1500,
					  "seq %u (%u back, %zu bytes) should still be there", s, b, bytes);
			}
			if (b >= 32)
				cr_assert_null(e, "seq %u is %u back: its slot was reused", s, b);
		}
		seq++;
	}
	cr_assert_gt(hits, 0);
	cr_assert_gt(misses, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, age_expiry)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 10000);
	cr_assert_eq(put(c, 7, 300, 0, 10000), 0);
	cr_assert_eq(put(c, 8, 300, 0, 10500), 0);
	expect_pkt(c, 7, 300, 0, 10000);
	expect_pkt(c, 7, 300, 0, 10000 + MM_RTX_CACHE_MAX_AGE_MS);
	expect_none(c, 7, 10000 + MM_RTX_CACHE_MAX_AGE_MS + 1);
	expect_pkt(c, 8, 300, 0, 10000 + MM_RTX_CACHE_MAX_AGE_MS + 1);
	expect_none(c, 8, 10500 + MM_RTX_CACHE_MAX_AGE_MS + 1);
	expect_none(c, 7, 1000000);
	/* A clock that went back does not make a packet older. */
	expect_pkt(c, 8, 300, 0, 9000);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, seq_wrap_65535_to_0)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 100000);
	for (uint32_t s = 65530; s < 65536 + 6; s++)
		cr_assert_eq(put(c, (uint16_t)s, 100 + s % 7, 0, 0), 0);
	for (uint32_t s = 65530; s < 65536 + 6; s++)
		expect_pkt(c, (uint16_t)s, 100 + s % 7, 0, 0);
	/* 65535 and 15 share a slot; so do 0 and 16, 65530 and 10. */
	expect_none(c, 15, 0);
	expect_none(c, 16, 0);
	expect_none(c, 10, 0);
	/* 65530 + 16 wraps to 10, taking 65530's slot. */
	cr_assert_eq(put(c, 10, 50, 1, 0), 0);
	expect_none(c, 65530, 0);
	expect_pkt(c, 10, 50, 1, 0);
	expect_pkt(c, 65535, 100 + 65535 % 7, 0, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, duplicate_put_replaces)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 10000);
	cr_assert_eq(put(c, 42, 500, 0, 100), 0);
	struct mm_rtx_entry *e = mm_rtx_cache_get(c, 42, 100);
	cr_assert_not_null(e);
	mm_rtx_cache_resent(e, 120);
	/* Same seq again, other bytes and length: the new one is returned,
	 * and the resend count stays (it is the same packet). */
	cr_assert_eq(put(c, 42, 300, 1, 150), 0);
	expect_pkt(c, 42, 300, 1, 150);
	e = mm_rtx_cache_get(c, 42, 150);
	cr_assert_eq(e->put_ms, 150);
	cr_assert_eq(e->resends, 1);
	cr_assert_eq(e->resent_ms, 120);
	/* Its age counts from the latest put. */
	expect_pkt(c, 42, 300, 1, 150 + MM_RTX_CACHE_MAX_AGE_MS);
	/* A put after the packet expired is a new packet: no resends. */
	cr_assert_eq(put(c, 42, 200, 2, 5000), 0);
	e = mm_rtx_cache_get(c, 42, 5000);
	cr_assert_eq(e->resends, 0);
	expect_pkt(c, 42, 200, 2, 5000);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, duplicates_consume_bytes)
{
	/* Replacing puts take new bytes: the older packets are evicted by the
	 * byte bound as for any put, the replaced one stays intact. */
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 3000);
	cr_assert_eq(put(c, 1, 1000, 0, 0), 0);
	cr_assert_eq(put(c, 2, 1000, 0, 0), 0);
	cr_assert_eq(put(c, 2, 1000, 1, 0), 0); /* 2000..3000 */
	expect_pkt(c, 1, 1000, 0, 0);
	cr_assert_eq(put(c, 2, 1000, 2, 0), 0); /* 0..1000, over 1 */
	expect_none(c, 1, 0);
	expect_pkt(c, 2, 1000, 2, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, oversize_and_empty_refused)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 10000);
	cr_assert_eq(put(c, 1, MM_RTX_CACHE_MAX_PACKET + 1, 0, 0), -E2BIG);
	expect_none(c, 1, 0);
	cr_assert_eq(put(c, 1, 1999, 0, 0), -E2BIG);
	expect_none(c, 1, 0);
	cr_assert_eq(put(c, 2, MM_RTX_CACHE_MAX_PACKET, 0, 0), 0);
	expect_pkt(c, 2, MM_RTX_CACHE_MAX_PACKET, 0, 0);
	uint8_t b = 0;
	cr_assert_eq(mm_rtx_cache_put(c, 3, &b, 0, 0), -EINVAL);
	expect_none(c, 3, 0);
	/* A refused duplicate leaves the cached packet alone. */
	cr_assert_eq(put(c, 2, 1600, 1, 0), -E2BIG);
	expect_pkt(c, 2, MM_RTX_CACHE_MAX_PACKET, 0, 0);
	mm_rtx_cache_destroy(c);

	/* A packet longer than the whole data ring is refused too. */
	c = mm_rtx_cache_create(16, 1000);
	cr_assert_eq(put(c, 5, 1001, 0, 0), -E2BIG);
	expect_none(c, 5, 0);
	cr_assert_eq(put(c, 5, 1000, 0, 0), 0);
	expect_pkt(c, 5, 1000, 0, 0);
	cr_assert_eq(put(c, 6, 1000, 0, 0), 0);
	expect_none(c, 5, 0);
	expect_pkt(c, 6, 1000, 0, 0);
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, resend_limit)
{
	struct mm_rtx_cache *c = mm_rtx_cache_create(16, 10000);
	cr_assert_eq(put(c, 9, 100, 0, 1000), 0);
	struct mm_rtx_entry *e = mm_rtx_cache_get(c, 9, 1000);
	cr_assert(mm_rtx_cache_may_resend(e, 1000), "first resend at once");
	uint64_t t = 1000;
	for (unsigned i = 0; i < MM_RTX_CACHE_MAX_RESENDS; i++) {
		e = mm_rtx_cache_get(c, 9, t);
		cr_assert_not_null(e);
		cr_assert(mm_rtx_cache_may_resend(e, t), "resend %u at %llu", i,
			  (unsigned long long)t);
		mm_rtx_cache_resent(e, t);
		cr_assert_eq(e->resends, i + 1);
		cr_assert_eq(e->resent_ms, t);
		cr_assert_not(mm_rtx_cache_may_resend(e, t), "not twice at once");
		cr_assert_not(mm_rtx_cache_may_resend(e, t + MM_RTX_CACHE_RESEND_GAP_MS - 1));
		cr_assert_not(mm_rtx_cache_may_resend(e, t - 1), "clock went back: too soon");
		t += MM_RTX_CACHE_RESEND_GAP_MS;
	}
	/* Five resends: never again, however long after (within the age). */
	e = mm_rtx_cache_get(c, 9, t);
	cr_assert_not_null(e);
	cr_assert_not(mm_rtx_cache_may_resend(e, t));
	cr_assert_not(mm_rtx_cache_may_resend(e, 1000 + MM_RTX_CACHE_MAX_AGE_MS));
	/* The guard is per packet: another one may go. */
	cr_assert_eq(put(c, 10, 100, 0, t), 0);
	cr_assert(mm_rtx_cache_may_resend(mm_rtx_cache_get(c, 10, t), t));
	/* A new packet in the slot starts from zero. */
	cr_assert_eq(put(c, 25, 100, 0, t), 0); /* slot of 9 */
	expect_none(c, 9, t);
	e = mm_rtx_cache_get(c, 25, t);
	cr_assert_eq(e->resends, 0);
	cr_assert(mm_rtx_cache_may_resend(e, t));
	mm_rtx_cache_destroy(c);
}

Test(rtx_cache, memory_figure)
{
	struct mm_rtx_cache *small = mm_rtx_cache_create(16, 10000);
	struct mm_rtx_cache *more_slots = mm_rtx_cache_create(1024, 10000);
	struct mm_rtx_cache *more_bytes = mm_rtx_cache_create(16, 1000000);
	size_t m = mm_rtx_cache_memory(small);
	cr_assert_geq(m, 10000 + 16 * sizeof(struct mm_rtx_entry));
	cr_assert_lt(m, 10000 + 16 * sizeof(struct mm_rtx_entry) + 256, "%zu", m);
	cr_assert_eq(mm_rtx_cache_memory(more_slots) - m,
		     (1024 - 16) * sizeof(struct mm_rtx_entry));
	cr_assert_eq(mm_rtx_cache_memory(more_bytes) - m, 1000000 - 10000);
	/* The allocation is made once: the figure does not move with use. */
	for (uint16_t s = 0; s < 100; s++)
		cr_assert_eq(put(small, s, 1500, 0, 0), 0);
	cr_assert_eq(mm_rtx_cache_memory(small), m);
	/* 1000 rounds up to 1024 slots. */
	struct mm_rtx_cache *rounded = mm_rtx_cache_create(1000, 10000);
	cr_assert_eq(mm_rtx_cache_memory(rounded), mm_rtx_cache_memory(more_slots));
	mm_rtx_cache_destroy(small);
	mm_rtx_cache_destroy(more_slots);
	mm_rtx_cache_destroy(more_bytes);
	mm_rtx_cache_destroy(rounded);
}

/* ---- Sequence map ------------------------------------------------------- */

/* Assert that out maps to (idx, seq) given newest. */
static void expect_map(const struct mm_seq_map *m, uint16_t out, uint16_t newest, uint8_t idx,
		       uint16_t seq)
{
	uint8_t got_idx = 0xFF;
	uint16_t got_seq = 0;
	int rc = mm_seq_map_lookup(m, out, newest, &got_idx, &got_seq);
	cr_assert_eq(rc, 0, "out %u (newest %u): %d", out, newest, rc);
	cr_assert_eq(got_idx, idx, "out %u: src %u, want %u", out, got_idx, idx);
	cr_assert_eq(got_seq, seq, "out %u: seq %u, want %u", out, got_seq, seq);
}

static void expect_noent(const struct mm_seq_map *m, uint16_t out, uint16_t newest)
{
	uint8_t idx = 0xEE;
	uint16_t seq = 0xBEEF;
	cr_assert_eq(mm_seq_map_lookup(m, out, newest, &idx, &seq), -ENOENT,
		     "out %u (newest %u) should be -ENOENT", out, newest);
	cr_assert_eq(idx, 0xEE, "outputs untouched on error");
	cr_assert_eq(seq, 0xBEEF);
}

/* seq_off that maps out to src. */
static uint16_t off_for(uint16_t out, uint16_t src)
{
	return (uint16_t)(out - src);
}

Test(seq_map, empty)
{
	struct mm_seq_map m = {0};
	expect_noent(&m, 0, 0);
	expect_noent(&m, 100, 200);
	mm_seq_map_start(&m, 10, 0, 1);
	expect_map(&m, 10, 10, 1, 10);
	mm_seq_map_reset(&m);
	expect_noent(&m, 10, 10);
}

Test(seq_map, no_switch)
{
	struct mm_seq_map m = {0};
	mm_seq_map_start(&m, 1000, off_for(1000, 50000), 0);
	expect_map(&m, 1000, 1000, 0, 50000);
	expect_map(&m, 1000, 1100, 0, 50000);
	expect_map(&m, 1050, 1100, 0, 50050);
	expect_map(&m, 1100, 1100, 0, 50100);
	expect_noent(&m, 999, 1100);  /* before the segment */
	expect_noent(&m, 1101, 1100); /* future */
	expect_noent(&m, 1200, 1100);
}

Test(seq_map, one_switch)
{
	struct mm_seq_map m = {0};
	mm_seq_map_start(&m, 100, 0, 0);               /* layer 0 as is */
	mm_seq_map_start(&m, 200, off_for(200, 7000), 2); /* layer 2 from 200 */
	/* Opened, nothing of it sent yet: 199 is still layer 0's. */
	expect_map(&m, 199, 199, 0, 199);
	expect_map(&m, 100, 199, 0, 100);
	expect_noent(&m, 200, 199);
	/* Sent up to 250. */
	expect_map(&m, 199, 250, 0, 199);
	expect_map(&m, 200, 250, 2, 7000);
	expect_map(&m, 201, 250, 2, 7001);
	expect_map(&m, 250, 250, 2, 7050);
	expect_map(&m, 100, 250, 0, 100);
	expect_noent(&m, 99, 250);
	expect_noent(&m, 251, 250);
}

/* Four segments of 10 numbers each, from out 500: segment k is source k
 * with source seq 1000 * (k + 1) at its start. */
static void four_segments(struct mm_seq_map *m, uint16_t base)
{
	for (uint8_t k = 0; k < 4; k++) {
		uint16_t start = (uint16_t)(base + 10 * k);
		mm_seq_map_start(m, start, off_for(start, (uint16_t)(1000 * (k + 1))), k);
	}
}

Test(seq_map, three_switches_boundaries)
{
	struct mm_seq_map m = {0};
	four_segments(&m, 500);
	uint16_t newest = 545;
	for (uint8_t k = 0; k < 4; k++) {
		uint16_t start = (uint16_t)(500 + 10 * k);
		uint16_t src = (uint16_t)(1000 * (k + 1));
		expect_map(&m, start, newest, k, src);
		expect_map(&m, (uint16_t)(start + 1), newest, k, (uint16_t)(src + 1));
		if (k < 3)
			expect_map(&m, (uint16_t)(start + 9), newest, k, (uint16_t)(src + 9));
	}
	expect_map(&m, 545, newest, 3, 4015);
	expect_noent(&m, 499, newest);
	expect_noent(&m, 546, newest);
}

Test(seq_map, five_switches_drop_oldest)
{
	struct mm_seq_map m = {0};
	/* Six segments of 10 from 500: the first two are dropped. */
	for (uint8_t k = 0; k < 6; k++) {
		uint16_t start = (uint16_t)(500 + 10 * k);
		mm_seq_map_start(&m, start, off_for(start, (uint16_t)(1000 * (k + 1))), k);
	}
	cr_assert_eq(m.n, MM_SEQ_MAP_SEGMENTS);
	uint16_t newest = 565;
	expect_noent(&m, 500, newest);
	expect_noent(&m, 510, newest);
	expect_noent(&m, 519, newest);
	expect_map(&m, 520, newest, 2, 3000);
	expect_map(&m, 529, newest, 2, 3009);
	expect_map(&m, 530, newest, 3, 4000);
	expect_map(&m, 540, newest, 4, 5000);
	expect_map(&m, 549, newest, 4, 5009);
	expect_map(&m, 550, newest, 5, 6000);
	expect_map(&m, 565, newest, 5, 6015);
	expect_noent(&m, 566, newest);
}

Test(seq_map, across_16_bit_wrap)
{
	struct mm_seq_map m = {0};
	/* Output wraps inside the first segment; the source inside the second. */
	mm_seq_map_start(&m, 65530, off_for(65530, 300), 1);
	mm_seq_map_start(&m, 5, off_for(5, 65534), 0);
	uint16_t newest = 20;
	expect_map(&m, 65530, newest, 1, 300);
	expect_map(&m, 65535, newest, 1, 305);
	expect_map(&m, 0, newest, 1, 306);
	expect_map(&m, 4, newest, 1, 310);
	expect_map(&m, 5, newest, 0, 65534);
	expect_map(&m, 6, newest, 0, 65535);
	expect_map(&m, 7, newest, 0, 0);
	expect_map(&m, 20, newest, 0, 13);
	expect_noent(&m, 65529, newest);
	expect_noent(&m, 21, newest);

	/* A switch exactly at 0, newest before the wrap: not begun. */
	struct mm_seq_map w = {0};
	mm_seq_map_start(&w, 65000, 0, 0);
	mm_seq_map_start(&w, 0, off_for(0, 9), 3);
	expect_map(&w, 65535, 65535, 0, 65535);
	expect_noent(&w, 0, 65535);
	expect_map(&w, 65535, 3, 0, 65535);
	expect_map(&w, 0, 3, 3, 9);
	expect_map(&w, 3, 3, 3, 12);
}

Test(seq_map, future_and_too_old)
{
	struct mm_seq_map m = {0};
	mm_seq_map_start(&m, 1000, 0, 0);
	uint16_t newest = 3000;
	expect_noent(&m, 3001, newest);
	expect_noent(&m, 3100, newest);
	expect_noent(&m, (uint16_t)(newest + 30000), newest);
	expect_noent(&m, (uint16_t)(newest + 32768), newest); /* half-way round */
	expect_noent(&m, 999, newest);                       /* before the oldest */
	expect_noent(&m, 0, newest);
	expect_map(&m, 1000, newest, 0, 1000);
	/* Further back than the lookup window, even inside a kept segment. */
	struct mm_seq_map l = {0};
	mm_seq_map_start(&l, 0, 0, 0);
	newest = 20000;
	expect_map(&l, (uint16_t)(newest - MM_SEQ_MAP_WINDOW), newest, 0,
		   (uint16_t)(newest - MM_SEQ_MAP_WINDOW));
	expect_noent(&l, (uint16_t)(newest - MM_SEQ_MAP_WINDOW - 1), newest);
}

Test(seq_map, same_start_replaces)
{
	struct mm_seq_map m = {0};
	mm_seq_map_start(&m, 100, 0, 0);
	mm_seq_map_start(&m, 200, 0, 1);
	mm_seq_map_start(&m, 200, off_for(200, 42), 2); /* switched again at once */
	cr_assert_eq(m.n, 2);
	expect_map(&m, 199, 210, 0, 199);
	expect_map(&m, 200, 210, 2, 42);
	/* So it does not push an older segment out. */
	mm_seq_map_start(&m, 300, 0, 3);
	mm_seq_map_start(&m, 400, 0, 4);
	mm_seq_map_start(&m, 400, 0, 5);
	expect_map(&m, 100, 410, 0, 100);
	expect_map(&m, 400, 410, 5, 400);
}

Test(seq_map, sent_keeps_long_segments_working)
{
	/* Layer 1 from 0 for 40000 packets, then layer 2: with sent() after
	 * every copy the NACKs around the switch still map right. */
	struct mm_seq_map m = {0};
	mm_seq_map_start(&m, 0, off_for(0, 1234), 1);
	mm_seq_map_start(&m, 0, off_for(0, 1234), 1);
	uint32_t out = 0;
	for (; out < 40000; out++)
		mm_seq_map_sent(&m, (uint16_t)out);
	expect_map(&m, 39999, 39999, 1, (uint16_t)(1234 + 39999));
	expect_map(&m, 39000, 39999, 1, (uint16_t)(1234 + 39000));
	mm_seq_map_start(&m, 40000, off_for(40000, 7), 2);
	for (; out < 40100; out++)
		mm_seq_map_sent(&m, (uint16_t)out);
	expect_map(&m, 39990, 40099, 1, (uint16_t)(1234 + 39990));
	expect_map(&m, 40000, 40099, 2, 7);
	expect_map(&m, 40099, 40099, 2, 106);
	/* On past the 16-bit wrap of the output on layer 2. */
	for (; out < 70000; out++)
		mm_seq_map_sent(&m, (uint16_t)out);
	uint16_t newest = (uint16_t)69999;
	expect_map(&m, newest, newest, 2, (uint16_t)(7 + 69999 - 40000));
	expect_map(&m, (uint16_t)(newest - 4000), newest, 2, (uint16_t)(7 + 65999 - 40000));
	cr_assert_eq(m.n, 1, "the layer 1 segment is far behind: dropped");
	/* Late numbers given to sent change nothing. */
	mm_seq_map_sent(&m, (uint16_t)(newest - 20000));
	expect_map(&m, (uint16_t)(newest - 4000), newest, 2, (uint16_t)(7 + 65999 - 40000));

	/* Without sent(), a segment 40000 long makes its lookups fail rather
	 * than map elsewhere (documented limit). */
	struct mm_seq_map n = {0};
	mm_seq_map_start(&n, 0, 0, 1);
	expect_noent(&n, 39990, 40000);
}
