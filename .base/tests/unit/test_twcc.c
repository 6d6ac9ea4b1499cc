/* Unit tests of dataplane/proto/twcc.c: transport-wide feedback messages
 * (RTPFB FMT 15) parsed from hand written bytes (run-length chunks, 1-bit
 * and 2-bit status vectors, large and negative deltas, negative reference
 * times, sequence wrap), truncated and malformed input rejected with the
 * exact error, the builder's chunk choice and byte output, its errors,
 * random round trips, and a compound RR + feedback packet. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/twcc.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* One packet as the iterator reports it. */
struct pkt {
	uint16_t seq;
	bool received;
	int64_t arrival_us;
};

/* Iterate fb to its end into out (at most cap); returns the count. */
static size_t iterate(const struct twcc_feedback *fb, struct pkt *out, size_t cap)
{
	struct twcc_iter it;
	twcc_iter_init(&it, fb);
	size_t n = 0;
	for (;;) {
		struct pkt p;
		int rc = twcc_iter_next(&it, &p.seq, &p.received, &p.arrival_us);
		cr_assert_geq(rc, 0, "iter error %d at %zu", rc, n);
		if (rc == 0)
			break;
		cr_assert_lt(n, cap);
		out[n++] = p;
	}
	/* The end stays the end. */
	struct pkt p;
	cr_assert_eq(twcc_iter_next(&it, &p.seq, &p.received, &p.arrival_us), 0);
	return n;
}

static void expect_pkts(const struct pkt *got, size_t n, const struct pkt *want, size_t n_want)
{
	cr_assert_eq(n, n_want);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(got[i].seq, want[i].seq, "packet %zu", i);
		cr_assert_eq(got[i].received, want[i].received, "packet %zu", i);
		cr_assert_eq(got[i].arrival_us, want[i].arrival_us, "packet %zu: %lld", i,
			     (long long)got[i].arrival_us);
	}
}

/* ---- Hand-made messages ------------------------------------------------- */

/* One run-length chunk: base 100, 5 packets received (symbol 1), ref time
 * 1 (64 ms), fb count 3, deltas 4 1 0 255 8, one octet of zero padding. */
static const uint8_t msg_run[] = {
	0x8F, 205, 0x00, 0x06,
	0x11, 0x11, 0x11, 0x11,   /* sender SSRC */
	0x22, 0x22, 0x22, 0x22,   /* media SSRC */
	0x00, 100, 0x00, 0x05,    /* base seq, status count */
	0x00, 0x00, 0x01, 0x03,   /* ref time, fb count */
	0x20, 0x05,               /* T=0 symbol 1 run 5 */
	4, 1, 0, 255, 8,          /* deltas */
	0x00,                     /* padding */
};

static const struct pkt msg_run_pkts[] = {
	{100, true, 65000}, {101, true, 65250}, {102, true, 65250},
	{103, true, 129000}, {104, true, 131000},
};

Test(twcc_parse, one_run_length_chunk)
{
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(msg_run, sizeof(msg_run), &fb), 0);
	cr_assert_eq(fb.sender_ssrc, 0x11111111u);
	cr_assert_eq(fb.media_ssrc, 0x22222222u);
	cr_assert_eq(fb.base_seq, 100);
	cr_assert_eq(fb.status_count, 5);
	cr_assert_eq(fb.ref_time, 1);
	cr_assert_eq(fb.fb_count, 3);
	cr_assert_eq(fb.n_received, 5);
	cr_assert_eq(fb.chunks, msg_run + 20);
	cr_assert_eq(fb.chunks_len, 2);
	cr_assert_eq(fb.deltas, msg_run + 22);
	cr_assert_eq(fb.deltas_len, 5);
	struct pkt got[16];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, msg_run_pkts, N_ELEMS(msg_run_pkts));
}

/* One 1-bit status vector: 14 packets, received 1 0 1 1 0 0 0 0 0 0 0 0 0
 * 1, ref time 0, deltas 1 2 3 4, two octets of padding. */
static const uint8_t msg_vec1[] = {
	0x8F, 205, 0x00, 0x06,
	0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x02,
	0x12, 0x34, 0x00, 0x0E,
	0x00, 0x00, 0x00, 0xFF,
	0xAC, 0x01,               /* T=1 S=0 10110000000001 */
	1, 2, 3, 4,
	0x00, 0x00,
};

Test(twcc_parse, one_bit_status_vector)
{
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(msg_vec1, sizeof(msg_vec1), &fb), 0);
	cr_assert_eq(fb.base_seq, 0x1234);
	cr_assert_eq(fb.status_count, 14);
	cr_assert_eq(fb.ref_time, 0);
	cr_assert_eq(fb.fb_count, 255);
	cr_assert_eq(fb.n_received, 4);
	cr_assert_eq(fb.deltas_len, 4);
	struct pkt want[14];
	for (unsigned i = 0; i < 14; i++)
		want[i] = (struct pkt){(uint16_t)(0x1234 + i), false, 0};
	want[0] = (struct pkt){0x1234, true, 250};
	want[2] = (struct pkt){0x1236, true, 750};
	want[3] = (struct pkt){0x1237, true, 1500};
	want[13] = (struct pkt){0x1234 + 13, true, 2500};
	struct pkt got[16];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, want, N_ELEMS(want));
}

/* One 2-bit status vector: symbols 2 1 0 2 1 0 0, ref time -2 (-128 ms),
 * deltas +400 (large), 5, -200 (large, negative), 16. */
static const uint8_t msg_vec2[] = {
	0x8F, 205, 0x00, 0x06,
	0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x02,
	0x00, 0x07, 0x00, 0x07,
	0xFF, 0xFF, 0xFE, 0x00,
	0xE4, 0x90,               /* T=1 S=1 10 01 00 10 01 00 00 */
	0x01, 0x90, 0x05, 0xFF, 0x38, 0x10,
};

static const struct pkt msg_vec2_pkts[] = {
	{7, true, -28000}, {8, true, -26750}, {9, false, 0}, {10, true, -76750},
	{11, true, -72750}, {12, false, 0}, {13, false, 0},
};

Test(twcc_parse, two_bit_vector_large_negative_deltas_negative_ref_time)
{
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(msg_vec2, sizeof(msg_vec2), &fb), 0);
	cr_assert_eq(fb.ref_time, -2);
	cr_assert_eq(fb.status_count, 7);
	cr_assert_eq(fb.n_received, 4);
	cr_assert_eq(fb.deltas_len, 6);
	struct pkt got[16];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, msg_vec2_pkts, N_ELEMS(msg_vec2_pkts));
}

Test(twcc_parse, most_negative_and_largest_ref_time)
{
	uint8_t b[sizeof(msg_run)];
	memcpy(b, msg_run, sizeof(b));
	struct twcc_feedback fb;
	b[16] = 0x80, b[17] = 0x00, b[18] = 0x00;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), 0);
	cr_assert_eq(fb.ref_time, -0x800000);
	struct pkt got[8];
	iterate(&fb, got, N_ELEMS(got));
	cr_assert_eq(got[0].arrival_us, -0x800000LL * 64000 + 1000);
	b[16] = 0x7F, b[17] = 0xFF, b[18] = 0xFF;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), 0);
	cr_assert_eq(fb.ref_time, 0x7FFFFF);
}

/* Mixed chunks across the sequence wrap: base 65533, 20 packets: a run of
 * 3 lost, a 2-bit vector 1 2 1 1 1 1 1, a run of 10 received (of which
 * the status count ends exactly at the end), ref time 1000. */
static const uint8_t msg_mixed[] = {
	0x8F, 205, 0x00, 0x0A,
	0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x02,
	0xFF, 0xFD, 0x00, 0x14,
	0x00, 0x03, 0xE8, 0x09,
	0x00, 0x03,               /* T=0 symbol 0 run 3 */
	0xD9, 0x55,               /* T=1 S=1 01 10 01 01 01 01 01 */
	0x20, 0x0A,               /* T=0 symbol 1 run 10 */
	10, 0x80, 0x00, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

Test(twcc_parse, mixed_chunks_and_sequence_wrap)
{
	cr_assert_eq(sizeof(msg_mixed), 44);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(msg_mixed, sizeof(msg_mixed), &fb), 0);
	cr_assert_eq(fb.base_seq, 65533);
	cr_assert_eq(fb.status_count, 20);
	cr_assert_eq(fb.ref_time, 1000);
	cr_assert_eq(fb.fb_count, 9);
	cr_assert_eq(fb.n_received, 17);
	cr_assert_eq(fb.chunks_len, 6);
	cr_assert_eq(fb.deltas_len, 18);
	struct pkt want[20];
	int64_t t = 1000LL * 64000;
	for (unsigned i = 0; i < 20; i++) {
		uint16_t seq = (uint16_t)(65533u + i);
		if (i < 3) {
			want[i] = (struct pkt){seq, false, 0};
			continue;
		}
		int64_t d = i == 3 ? 10 : i == 4 ? -32768 : i < 10 ? 1 : 2;
		t += d * 250;
		want[i] = (struct pkt){seq, true, t};
	}
	struct pkt got[32];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, want, N_ELEMS(want));
	cr_assert_eq(got[3].seq, 0);
	cr_assert_eq(got[2].seq, 65535);
}

Test(twcc_parse, status_count_ends_inside_a_chunk)
{
	/* 2-bit vector of 7 but a status count of 5: the two zero symbols of
	 * the tail are not reported. */
	uint8_t b[sizeof(msg_vec2)];
	memcpy(b, msg_vec2, sizeof(b));
	b[15] = 5;
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), 0);
	struct pkt got[16];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, msg_vec2_pkts, 5);

	/* 1-bit vector of 14 received, status count 3: only 3 deltas are
	 * needed, the tail's set symbols (and a reserved-looking tail of a
	 * 2-bit vector) do not count. */
	static const uint8_t vec[] = {
		0x8F, 205, 0x00, 0x06,
		0, 0, 0, 1, 0, 0, 0, 2,
		0x00, 0x00, 0x00, 0x03,
		0x00, 0x00, 0x00, 0x00,
		0xBF, 0xFF,
		7, 8, 9, 0, 0, 0,
	};
	cr_assert_eq(twcc_feedback_parse(vec, sizeof(vec), &fb), 0);
	cr_assert_eq(fb.n_received, 3);
	cr_assert_eq(fb.deltas_len, 3);
	n = iterate(&fb, got, N_ELEMS(got));
	const struct pkt want[] = {{0, true, 1750}, {1, true, 3750}, {2, true, 6000}};
	expect_pkts(got, n, want, N_ELEMS(want));

	static const uint8_t vec2_tail[] = {
		0x8F, 205, 0x00, 0x05,
		0, 0, 0, 1, 0, 0, 0, 2,
		0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00,
		0xDF, 0xFF,               /* 01 then 11 11 11 11 11 11 */
		7, 0,
	};
	cr_assert_eq(twcc_feedback_parse(vec2_tail, sizeof(vec2_tail), &fb), 0);
	cr_assert_eq(fb.status_count, 1);
	cr_assert_eq(fb.n_received, 1);

	/* A run of 100 lost, status count 4: no deltas. */
	static const uint8_t run[] = {
		0x8F, 205, 0x00, 0x05,
		0, 0, 0, 1, 0, 0, 0, 2,
		0x00, 0x00, 0x00, 0x04,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x64, 0x00, 0x00,
	};
	cr_assert_eq(twcc_feedback_parse(run, sizeof(run), &fb), 0);
	cr_assert_eq(fb.n_received, 0);
	cr_assert_eq(fb.deltas_len, 0);
	n = iterate(&fb, got, N_ELEMS(got));
	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++)
		cr_assert(!got[i].received);
}

Test(twcc_parse, zero_length_runs_are_skipped)
{
	static const uint8_t b[] = {
		0x8F, 205, 0x00, 0x06,
		0, 0, 0, 1, 0, 0, 0, 2,
		0x00, 0x05, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x00,
		0x20, 0x00,               /* run of 0 */
		0x20, 0x02,               /* run of 2 received */
		3, 4, 0, 0,
	};
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), 0);
	cr_assert_eq(fb.chunks_len, 4);
	struct pkt got[4];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	const struct pkt want[] = {{5, true, 750}, {6, true, 1750}};
	expect_pkts(got, n, want, N_ELEMS(want));
}

Test(twcc_parse, rtcp_padding_bit)
{
	/* msg_run with 4 more octets of RTCP padding (P bit, count 4). */
	uint8_t b[sizeof(msg_run) + 4];
	memcpy(b, msg_run, sizeof(msg_run));
	b[0] |= 0x20;
	b[3] += 1;
	memcpy(b + sizeof(msg_run), "\0\0\0\x04", 4);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), 0);
	struct pkt got[8];
	size_t n = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, n, msg_run_pkts, N_ELEMS(msg_run_pkts));
}

/* ---- Bad input ---------------------------------------------------------- */

static const struct {
	const char *name;
	const uint8_t *b;
	size_t len;
} fixtures[] = {
	{"run", msg_run, sizeof(msg_run)},
	{"vec1", msg_vec1, sizeof(msg_vec1)},
	{"vec2", msg_vec2, sizeof(msg_vec2)},
	{"mixed", msg_mixed, sizeof(msg_mixed)},
};

Test(twcc_bad, truncated_buffer_at_every_length)
{
	for (size_t f = 0; f < N_ELEMS(fixtures); f++) {
		for (size_t len = 0; len < fixtures[f].len; len++) {
			struct twcc_feedback fb;
			cr_assert_eq(twcc_feedback_parse(fixtures[f].b, len, &fb), -ENODATA,
				     "%s len %zu", fixtures[f].name, len);
		}
	}
}

Test(twcc_bad, length_word_short_of_chunks_or_deltas)
{
	/* The RTCP length word itself cut to every shorter multiple of 4
	 * that still holds the feedback header: the fixed fields, chunks or
	 * deltas are missing. */
	for (size_t f = 0; f < N_ELEMS(fixtures); f++) {
		for (size_t len = 12; len < fixtures[f].len; len += 4) {
			uint8_t b[64];
			memcpy(b, fixtures[f].b, len);
			b[2] = 0;
			b[3] = (uint8_t)(len / 4 - 1);
			struct twcc_feedback fb;
			cr_assert_eq(twcc_feedback_parse(b, len, &fb), -ENODATA, "%s len %zu",
				     fixtures[f].name, len);
		}
	}
	/* Under the feedback header: not even a feedback message. */
	uint8_t b[8];
	memcpy(b, msg_run, sizeof(b));
	b[3] = 1;
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EBADMSG);
}

Test(twcc_bad, longer_than_the_packet_or_than_padding)
{
	struct twcc_feedback fb;
	uint8_t b[sizeof(msg_mixed) + 4] = {0};
	memcpy(b, msg_mixed, sizeof(msg_mixed));
	/* Buffer longer than the packet's length word. */
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EBADMSG);
	/* Four octets after the deltas: more than padding. */
	b[3] += 1;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EBADMSG);
}

Test(twcc_bad, wrong_type)
{
	uint8_t b[sizeof(msg_run)];
	struct twcc_feedback fb;
	/* RTPFB FMT 1 (generic NACK). */
	memcpy(b, msg_run, sizeof(b));
	b[0] = 0x81;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EPROTO);
	/* PSFB FMT 15 (application layer feedback). */
	memcpy(b, msg_run, sizeof(b));
	b[1] = RTCP_PT_PSFB;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EPROTO);
	/* RR. */
	memcpy(b, msg_run, sizeof(b));
	b[1] = RTCP_PT_RR;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EPROTO);
	/* Not RTCP version 2. */
	memcpy(b, msg_run, sizeof(b));
	b[0] = 0x4F;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EPROTO);
}

Test(twcc_bad, status_count_zero_and_too_large)
{
	uint8_t b[sizeof(msg_run)];
	struct twcc_feedback fb;
	memcpy(b, msg_run, sizeof(b));
	b[14] = 0, b[15] = 0;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EBADMSG);
	b[14] = (TWCC_MAX_PACKETS + 1) >> 8, b[15] = (TWCC_MAX_PACKETS + 1) & 0xFF;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -E2BIG);
	b[14] = 0xFF, b[15] = 0xFF;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -E2BIG);
}

Test(twcc_bad, reserved_symbol)
{
	uint8_t b[sizeof(msg_run)];
	struct twcc_feedback fb;
	/* Run-length chunk of symbol 3. */
	memcpy(b, msg_run, sizeof(b));
	b[20] = 0x60;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(b), &fb), -EBADMSG);
	/* 2-bit vector with symbol 3 second. */
	memcpy(b, msg_vec2, sizeof(msg_vec2));
	b[20] = 0xEC;
	cr_assert_eq(twcc_feedback_parse(b, sizeof(msg_vec2), &fb), -EBADMSG);
}

Test(twcc_bad, iterator_on_unchecked_feedback)
{
	/* The iterator does its own bounds checks for a struct the parser
	 * did not fill. */
	struct twcc_feedback fb = {.base_seq = 1, .status_count = 2};
	struct twcc_iter it;
	uint16_t seq;
	bool rec;
	int64_t t;
	twcc_iter_init(&it, &fb);
	cr_assert_eq(twcc_iter_next(&it, &seq, &rec, &t), -ENODATA); /* no chunk */

	const uint8_t run[] = {0x20, 0x02};  /* two received, one delta */
	const uint8_t one[] = {5};
	fb.chunks = run, fb.chunks_len = 2, fb.deltas = one, fb.deltas_len = 1;
	twcc_iter_init(&it, &fb);
	cr_assert_eq(twcc_iter_next(&it, &seq, &rec, &t), 1);
	cr_assert_eq(seq, 1);
	cr_assert_eq(t, 1250);
	cr_assert_eq(twcc_iter_next(&it, &seq, &rec, &t), -ENODATA);

	const uint8_t large[] = {0x40, 0x01}; /* run of large deltas */
	fb.chunks = large, fb.deltas_len = 1;
	twcc_iter_init(&it, &fb);
	cr_assert_eq(twcc_iter_next(&it, &seq, &rec, &t), -ENODATA);

	const uint8_t reserved[] = {0x60, 0x01};
	fb.chunks = reserved;
	twcc_iter_init(&it, &fb);
	cr_assert_eq(twcc_iter_next(&it, &seq, &rec, &t), -EBADMSG);
}

/* ---- Builder ------------------------------------------------------------ */

Test(twcc_build, exact_bytes_of_a_run)
{
	const bool rec[5] = {true, true, true, true, true};
	const int64_t at[5] = {65000, 65250, 65250, 129000, 131000};
	uint8_t b[64];
	int n = twcc_feedback_build(b, sizeof(b), 0x11111111u, 0x22222222u, 100, 5, rec, at, 3);
	cr_assert_eq(n, (int)sizeof(msg_run));
	cr_assert_eq(memcmp(b, msg_run, sizeof(msg_run)), 0);
}

Test(twcc_build, exact_bytes_of_a_two_bit_vector)
{
	/* msg_vec2's packets. The reference time is the first arrival floored
	 * (-28 ms: -1, where msg_vec2 says -2), so the first delta is small. */
	static const uint8_t want[] = {
		0x8F, 205, 0x00, 0x06,
		0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x02,
		0x00, 0x07, 0x00, 0x07,
		0xFF, 0xFF, 0xFF, 0x00,
		0xD4, 0x90,               /* T=1 S=1 01 01 00 10 01 00 00 */
		0x90, 0x05, 0xFF, 0x38, 0x10,
		0x00,
	};
	bool rec[7];
	int64_t at[7];
	for (size_t i = 0; i < 7; i++) {
		rec[i] = msg_vec2_pkts[i].received;
		at[i] = msg_vec2_pkts[i].arrival_us;
	}
	uint8_t b[64];
	int n = twcc_feedback_build(b, sizeof(b), 1, 2, 7, 7, rec, at, 0);
	cr_assert_eq(n, (int)sizeof(want));
	cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, (size_t)n, &fb), 0);
	struct pkt got[8];
	size_t k = iterate(&fb, got, N_ELEMS(got));
	expect_pkts(got, k, msg_vec2_pkts, N_ELEMS(msg_vec2_pkts));
}

/* The chunks of a built message. */
static size_t built_chunks(const uint8_t *b, int n, uint16_t *chunk, size_t cap)
{
	struct twcc_feedback fb;
	cr_assert_gt(n, 0);
	cr_assert_eq(twcc_feedback_parse(b, (size_t)n, &fb), 0);
	size_t k = fb.chunks_len / 2;
	cr_assert_leq(k, cap);
	for (size_t i = 0; i < k; i++)
		chunk[i] = (uint16_t)(fb.chunks[2 * i] << 8 | fb.chunks[2 * i + 1]);
	return k;
}

Test(twcc_build, chunk_choice)
{
	bool rec[64];
	int64_t at[64];
	uint16_t c[16];
	uint8_t b[256];

	/* 20 received 1 ms apart: one run-length chunk. */
	for (size_t i = 0; i < 20; i++)
		rec[i] = true, at[i] = 1000 * (int64_t)i;
	size_t k = built_chunks(b, twcc_feedback_build(b, sizeof(b), 1, 2, 0, 20, rec, at, 0),
				c, N_ELEMS(c));
	cr_assert_eq(k, 1);
	cr_assert_eq(c[0], 0x2014);

	/* 14 alternating received / lost, small deltas: one 1-bit vector. */
	for (size_t i = 0; i < 14; i++)
		rec[i] = i % 2 == 0, at[i] = 1000 * (int64_t)i;
	k = built_chunks(b, twcc_feedback_build(b, sizeof(b), 1, 2, 0, 14, rec, at, 0), c,
			 N_ELEMS(c));
	cr_assert_eq(k, 1);
	cr_assert_eq(c[0], 0x8000 | 0x2AAA);

	/* A large delta among few packets: one 2-bit vector. */
	for (size_t i = 0; i < 5; i++)
		rec[i] = true, at[i] = 1000 * (int64_t)i;
	at[2] = 200000; /* +196 ms: large; then back: negative, large */
	k = built_chunks(b, twcc_feedback_build(b, sizeof(b), 1, 2, 0, 5, rec, at, 0), c,
			 N_ELEMS(c));
	cr_assert_eq(k, 1);
	cr_assert_eq(c[0], 0xC000 | 1 << 12 | 1 << 10 | 2 << 8 | 2 << 6 | 1 << 4);

	/* 30 lost, then 10 received with one large delta, then 3 received:
	 * a run of 30 lost, a 2-bit vector, a 2-bit vector (the 1-bit
	 * vector cannot hold the large delta, the runs are too short). */
	for (size_t i = 0; i < 43; i++)
		rec[i] = i >= 30, at[i] = 1000 * (int64_t)i;
	at[35] = 900000;
	at[36] = 900500;
	k = built_chunks(b, twcc_feedback_build(b, sizeof(b), 1, 2, 0, 43, rec, at, 0), c,
			 N_ELEMS(c));
	cr_assert_eq(k, 3);
	cr_assert_eq(c[0], 0x001E);
	cr_assert_eq(c[1], 0xD559); /* 1 1 1 1 1 2 1 */
	cr_assert_eq(c[2], 0xE554); /* 2 1 1 1 1 1 (seq 37 comes back: negative) */

	/* Lost/received alternating 6 times, 14 lost, 20 received: 1-bit
	 * vectors while runs are short (the second takes the 6 lost left and
	 * 8 received), then a run to the end. */
	for (size_t i = 0; i < 40; i++)
		rec[i] = i < 6 ? i % 2 == 1 : i >= 20, at[i] = 1000 * (int64_t)i;
	k = built_chunks(b, twcc_feedback_build(b, sizeof(b), 1, 2, 0, 40, rec, at, 0), c,
			 N_ELEMS(c));
	cr_assert_eq(k, 3);
	cr_assert_eq(c[0], 0x8000 | 0x1500); /* 0 1 0 1 0 1, 8 lost */
	cr_assert_eq(c[1], 0x8000 | 0x00FF); /* 6 lost, 8 received */
	cr_assert_eq(c[2], 0x200C);          /* 12 received */
}

Test(twcc_build, no_packet_received)
{
	bool rec[3] = {false, false, false};
	int64_t at[3] = {0, 0, 0};
	uint8_t b[64];
	int n = twcc_feedback_build(b, sizeof(b), 1, 2, 65535, 3, rec, at, 7);
	cr_assert_eq(n, 24);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(b, (size_t)n, &fb), 0);
	cr_assert_eq(fb.ref_time, 0);
	cr_assert_eq(fb.n_received, 0);
	cr_assert_eq(fb.fb_count, 7);
	struct pkt got[4];
	size_t k = iterate(&fb, got, N_ELEMS(got));
	const struct pkt want[] = {{65535, false, 0}, {0, false, 0}, {1, false, 0}};
	expect_pkts(got, k, want, N_ELEMS(want));
}

Test(twcc_build, capacity)
{
	bool rec[100];
	int64_t at[100];
	for (size_t i = 0; i < 100; i++)
		rec[i] = i % 3 != 0, at[i] = 5000 + 3000 * (int64_t)i;
	uint8_t b[512];
	int n = twcc_feedback_build(b, sizeof(b), 1, 2, 0, 100, rec, at, 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(n % 4, 0);
	uint8_t c[512];
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(twcc_feedback_build(c, cap, 1, 2, 0, 100, rec, at, 0), -E2BIG,
			     "cap %zu", cap);
	memset(c, 0xEE, sizeof(c));
	cr_assert_eq(twcc_feedback_build(c, (size_t)n, 1, 2, 0, 100, rec, at, 0), n);
	cr_assert_eq(memcmp(b, c, (size_t)n), 0);
	cr_assert_eq(c[n], 0xEE); /* nothing written past the length */

	/* The largest count fits in an RTCP packet. */
	static bool all[TWCC_MAX_PACKETS];
	static int64_t t[TWCC_MAX_PACKETS];
	static uint8_t big[4 * TWCC_MAX_PACKETS + 64];
	for (size_t i = 0; i < TWCC_MAX_PACKETS; i++)
		all[i] = true, t[i] = (int64_t)(i % 2) * 100000; /* every delta large */
	n = twcc_feedback_build(big, sizeof(big), 1, 2, 0, TWCC_MAX_PACKETS, all, t, 0);
	cr_assert_gt(n, 2 * TWCC_MAX_PACKETS);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(big, (size_t)n, &fb), 0);
	cr_assert_eq(fb.status_count, TWCC_MAX_PACKETS);
	cr_assert_eq(fb.deltas_len, 2 * TWCC_MAX_PACKETS - 1); /* the first is 0 */
}

Test(twcc_build, invalid_parameters)
{
	bool rec[2] = {true, true};
	int64_t at[2] = {0, 1000};
	uint8_t b[64];
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 0, rec, at, 0), -EINVAL);
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, NULL, at, 0), -EINVAL);
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, NULL, 0), -EINVAL);
	static bool many[TWCC_MAX_PACKETS + 1];
	static int64_t t[TWCC_MAX_PACKETS + 1];
	static uint8_t big[8 * TWCC_MAX_PACKETS];
	cr_assert_eq(twcc_feedback_build(big, sizeof(big), 1, 2, 0, TWCC_MAX_PACKETS + 1, many,
					 t, 0), -EINVAL);

	/* Reference time outside 24 bits signed, just inside and outside. */
	at[0] = (int64_t)TWCC_REF_TIME_MAX * 64000 + 63999;
	at[1] = at[0];
	cr_assert_gt(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), 0);
	at[0] += 1, at[1] = at[0];
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);
	at[0] = (int64_t)TWCC_REF_TIME_MIN * 64000, at[1] = at[0];
	cr_assert_gt(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), 0);
	at[0] -= 1, at[1] = at[0];
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);

	/* Deltas outside 16 bits signed: 32767 units fit, 32768 do not,
	 * nor -32769; nor any extreme time. */
	at[0] = 0, at[1] = 32767 * 250;
	cr_assert_gt(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), 0);
	at[1] = 32768 * 250;
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);
	at[0] = 63750, at[1] = 63750 - 32768 * 250;
	cr_assert_gt(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), 0);
	at[1] -= 250;
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);
	at[1] = INT64_MAX;
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);
	at[1] = INT64_MIN;
	cr_assert_eq(twcc_feedback_build(b, sizeof(b), 1, 2, 0, 2, rec, at, 0), -EINVAL);
}

/* ---- Round trips -------------------------------------------------------- */

/* Deterministic generator (xorshift32) so that failures reproduce. */
static uint32_t rng_state = 0x7CC0FFEEu;

static uint32_t rng(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static int64_t rng_range(int64_t lo, int64_t hi) /* inclusive */
{
	return lo + (int64_t)(((uint64_t)rng() << 32 | rng()) % (uint64_t)(hi - lo + 1));
}

/* us to the nearest 250 us (halves up), as the builder documents. */
static int64_t rounded(int64_t us)
{
	int64_t q = us / 250;
	if (us % 250 < 0)
		q--;
	if (us - q * 250 >= 125)
		q++;
	return q * 250;
}

Test(twcc_roundtrip, random_patterns)
{
	static bool rec[500];
	static int64_t at[500];
	static uint8_t b[4096];
	size_t large_seen = 0, negative_seen = 0;
	for (int c = 0; c < 1000; c++) {
		uint16_t count = (uint16_t)rng_range(1, 500);
		unsigned loss = (unsigned)rng_range(0, 50);        /* percent */
		uint16_t base = (uint16_t)rng();
		int64_t t = rng_range(-400000000, 400000000);       /* within 24-bit ref */
		int64_t last = INT64_MIN;                           /* last received */
		for (size_t i = 0; i < count; i++) {
			/* Sending pace: mostly under 64 ms a packet, sometimes a
			 * gap; arrivals jitter and some come early (reordering). */
			t += rng_range(0, 100) < 3 ? rng_range(64000, 300000) : rng_range(0, 20000);
			rec[i] = (unsigned)rng_range(0, 99) >= loss;
			at[i] = t;
			if (rng_range(0, 9) == 0)
				at[i] -= rng_range(0, 80000);
			/* Keep every delta within 16 bits (the builder's limit;
			 * beyond it a receiver splits its feedback). */
			if (last != INT64_MIN && (at[i] - last > 8000000 || last - at[i] > 8000000))
				at[i] = last + rng_range(-80000, 80000);
			if (rec[i]) {
				if (last != INT64_MIN && rounded(at[i]) < rounded(last))
					negative_seen++;
				if (last != INT64_MIN && rounded(at[i]) - rounded(last) > 255 * 250)
					large_seen++;
				last = at[i];
			}
		}
		uint32_t ss = rng(), ms = rng();
		uint8_t fbc = (uint8_t)c;
		int n = twcc_feedback_build(b, sizeof(b), ss, ms, base, count, rec, at, fbc);
		cr_assert_gt(n, 0, "case %d: %d", c, n);
		cr_assert_eq(n % 4, 0);

		struct twcc_feedback fb;
		cr_assert_eq(twcc_feedback_parse(b, (size_t)n, &fb), 0, "case %d", c);
		cr_assert_eq(fb.sender_ssrc, ss);
		cr_assert_eq(fb.media_ssrc, ms);
		cr_assert_eq(fb.base_seq, base);
		cr_assert_eq(fb.status_count, count);
		cr_assert_eq(fb.fb_count, fbc);
		size_t first = 0;
		while (first < count && !rec[first])
			first++;
		if (first < count) {
			int64_t ref = at[first] / 64000 - (at[first] % 64000 < 0);
			cr_assert_eq(fb.ref_time, ref, "case %d", c);
		}

		struct twcc_iter it;
		twcc_iter_init(&it, &fb);
		size_t n_rec = 0;
		for (size_t i = 0; i < count; i++) {
			uint16_t seq;
			bool r;
			int64_t a;
			cr_assert_eq(twcc_iter_next(&it, &seq, &r, &a), 1, "case %d packet %zu", c, i);
			cr_assert_eq(seq, (uint16_t)(base + i));
			cr_assert_eq(r, rec[i], "case %d packet %zu", c, i);
			if (r) {
				cr_assert_eq(a, rounded(at[i]), "case %d packet %zu: %lld vs %lld", c,
					     i, (long long)a, (long long)at[i]);
				n_rec++;
			}
		}
		uint16_t seq;
		bool r;
		int64_t a;
		cr_assert_eq(twcc_iter_next(&it, &seq, &r, &a), 0);
		cr_assert_eq(fb.n_received, n_rec);
	}
	/* The generator did exercise both kinds of large deltas. */
	cr_assert_gt(large_seen, 100);
	cr_assert_gt(negative_seen, 100);
}

Test(twcc_roundtrip, rounding_of_arrivals)
{
	/* Halves round up, negative times too; the first delta after a
	 * reference time is never negative. */
	const int64_t cases[][2] = {
		{124, 0}, {125, 250}, {374, 250}, {375, 500},
		{-1, 0}, {-125, 0}, {-126, -250}, {63875, 64000}, {63874, 63750},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		bool rec[1] = {true};
		int64_t at[1] = {cases[i][0]};
		uint8_t b[64];
		int n = twcc_feedback_build(b, sizeof(b), 1, 2, 0, 1, rec, at, 0);
		struct twcc_feedback fb;
		cr_assert_eq(twcc_feedback_parse(b, (size_t)n, &fb), 0);
		struct pkt got[1];
		iterate(&fb, got, 1);
		cr_assert_eq(got[0].arrival_us, cases[i][1], "case %zu: %lld", i,
			     (long long)got[0].arrival_us);
	}
}

/* ---- Compound packets and the extension --------------------------------- */

Test(twcc_compound, rr_and_feedback_accepted)
{
	uint8_t b[256];
	struct rtcp_writer w;
	rtcp_writer_init(&w, b, sizeof(b));
	struct rtcp_rr rr = {.ssrc = 0x11111111u, .rc = 0};
	rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr));
	memcpy(rtcp_writer_ptr(&w), msg_mixed, sizeof(msg_mixed));
	rtcp_writer_add(&w, (int)sizeof(msg_mixed));
	int len = rtcp_writer_finish(&w);
	cr_assert_eq(len, 8 + (int)sizeof(msg_mixed));

	struct rtcp_compound cp;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)len, RTCP_COMPOUND_STRICT, &cp), 0);
	cr_assert_eq(cp.n, 2);
	cr_assert_eq(cp.pkt[1].pt, RTCP_PT_RTPFB);
	cr_assert_eq(cp.pkt[1].count_or_fmt, RTCP_RTPFB_FMT_TWCC);
	cr_assert_eq(cp.pkt[1].ssrc, 1);
	struct twcc_feedback fb;
	cr_assert_eq(twcc_feedback_parse(cp.pkt[1].data, cp.pkt[1].len, &fb), 0);
	cr_assert_eq(fb.status_count, 20);

	/* The compound parser keeps FMT 15 undecoded: a feedback message
	 * whose chunks fall short still passes there, and only
	 * twcc_feedback_parse rejects it. */
	b[8 + 15] = 200; /* status count 20 -> 200 */
	cr_assert_eq(rtcp_parse_compound(b, (size_t)len, RTCP_COMPOUND_STRICT, &cp), 0);
	cr_assert_eq(twcc_feedback_parse(cp.pkt[1].data, cp.pkt[1].len, &fb), -ENODATA);
}

Test(twcc_ext, sequence_number_element)
{
	uint8_t d[3];
	twcc_ext_put_seq(d, 0xABCD);
	cr_assert_eq(d[0], 0xAB);
	cr_assert_eq(d[1], 0xCD);
	struct rtp_ext_elem e = {.id = 5, .len = 2, .data = d};
	uint16_t seq = 0;
	cr_assert_eq(twcc_ext_seq(&e, &seq), 0);
	cr_assert_eq(seq, 0xABCD);
	e.len = 3;
	cr_assert_eq(twcc_ext_seq(&e, &seq), -EBADMSG);
	e.len = 1;
	cr_assert_eq(twcc_ext_seq(&e, &seq), -EBADMSG);
}
