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
