/* Unit tests of dataplane/proto/rtcp.c: every packet type parsed from hand
 * written bytes and built back, compound packets, and rejection of
 * truncated, oversized and inconsistent input with the exact error. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- SR / RR ------------------------------------------------------------ */

/* SR, SSRC 0x01020304, one report block with cumulative loss -2. */
static const uint8_t sr_bytes[] = {
	0x81, 200, 0x00, 0x0C,
	0x01, 0x02, 0x03, 0x04,                         /* sender SSRC */
	0xE8, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, /* NTP */
	0x00, 0x00, 0x10, 0x00,                         /* RTP ts */
	0x00, 0x00, 0x00, 0x64,                         /* packets */
	0x00, 0x01, 0x00, 0x00,                         /* octets */
	0xAA, 0xBB, 0xCC, 0xDD,                         /* block: SSRC */
	0x40, 0xFF, 0xFF, 0xFE,                         /* fraction, lost */
	0x00, 0x01, 0x00, 0x05,                         /* ext highest seq */
	0x00, 0x00, 0x00, 0x20,                         /* jitter */
	0x12, 0x34, 0x56, 0x78,                         /* LSR */
	0x00, 0x00, 0x80, 0x00,                         /* DLSR */
};

Test(rtcp_sr, parse_fields)
{
	struct rtcp_sr sr;
	cr_assert_eq(sizeof(sr_bytes), 52);
	cr_assert_eq(rtcp_sr_parse(sr_bytes, sizeof(sr_bytes), &sr), 0);
	cr_assert_eq(sr.ssrc, 0x01020304u);
	cr_assert_eq(sr.ntp, 0xE800000180000000ull);
	cr_assert_eq(sr.rtp_ts, 0x1000u);
	cr_assert_eq(sr.packet_count, 100u);
	cr_assert_eq(sr.octet_count, 0x10000u);
	cr_assert_eq(sr.rc, 1);
	cr_assert_eq(sr.rb[0].ssrc, 0xAABBCCDDu);
	cr_assert_eq(sr.rb[0].fraction_lost, 0x40);
	cr_assert_eq(sr.rb[0].cumulative_lost, -2);
	cr_assert_eq(sr.rb[0].ext_highest_seq, 0x10005u);
	cr_assert_eq(sr.rb[0].jitter, 32u);
	cr_assert_eq(sr.rb[0].lsr, 0x12345678u);
	cr_assert_eq(sr.rb[0].dlsr, 0x8000u);
	cr_assert_null(sr.ext);
	cr_assert_eq(sr.ext_len, 0);
	cr_assert_eq(rtcp_ntp_mid32(sr.ntp), 0x00018000u);
}

Test(rtcp_sr, build_exact_bytes)
{
	struct rtcp_sr sr = {.ssrc = 0x01020304u, .ntp = 0xE800000180000000ull, .rtp_ts = 0x1000,
			     .packet_count = 100, .octet_count = 0x10000, .rc = 1};
	sr.rb[0] = (struct rtcp_report_block){.ssrc = 0xAABBCCDDu, .fraction_lost = 0x40,
					      .cumulative_lost = -2, .ext_highest_seq = 0x10005,
					      .jitter = 32, .lsr = 0x12345678u, .dlsr = 0x8000};
	uint8_t b[128];
	cr_assert_eq(rtcp_sr_build(b, sizeof(b), &sr), (int)sizeof(sr_bytes));
	cr_assert_eq(memcmp(b, sr_bytes, sizeof(sr_bytes)), 0);
}

Test(rtcp_sr, cumulative_loss_sign_and_clamp)
{
	const struct {
		int32_t in, out;
		uint8_t wire[3];
	} cases[] = {
		{0, 0, {0, 0, 0}},
		{1, 1, {0, 0, 1}},
		{-1, -1, {0xFF, 0xFF, 0xFF}},
		{0x7FFFFF, 0x7FFFFF, {0x7F, 0xFF, 0xFF}},
		{-0x800000, -0x800000, {0x80, 0x00, 0x00}},
		{0x1000000, 0x7FFFFF, {0x7F, 0xFF, 0xFF}},    /* clamped */
		{-0x1000000, -0x800000, {0x80, 0x00, 0x00}},  /* clamped */
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct rtcp_rr rr = {.ssrc = 7, .rc = 1};
		rr.rb[0].cumulative_lost = cases[i].in;
		uint8_t b[64];
		int n = rtcp_rr_build(b, sizeof(b), &rr);
		cr_assert_eq(n, 32);
		cr_assert_eq(memcmp(b + 8 + 5, cases[i].wire, 3), 0, "case %zu", i);
		struct rtcp_rr got;
		cr_assert_eq(rtcp_rr_parse(b, (size_t)n, &got), 0);
		cr_assert_eq(got.rb[0].cumulative_lost, cases[i].out, "case %zu", i);
	}
}

Test(rtcp_rr, round_trip_many_blocks_and_extension)
{
	struct rtcp_rr rr = {.ssrc = 0xFEEDF00Du, .rc = RTCP_MAX_COUNT};
	for (unsigned i = 0; i < RTCP_MAX_COUNT; i++)
		rr.rb[i] = (struct rtcp_report_block){.ssrc = 1000 + i, .fraction_lost = (uint8_t)i,
						      .cumulative_lost = (int32_t)i - 15,
						      .ext_highest_seq = 70000 + i, .jitter = i * 3,
						      .lsr = i << 16, .dlsr = i};
	const uint8_t ext[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	rr.ext = ext;
	rr.ext_len = sizeof(ext);
	uint8_t b[1024];
	int n = rtcp_rr_build(b, sizeof(b), &rr);
	cr_assert_eq(n, 8 + 31 * 24 + 8);
	cr_assert_eq(b[0], 0x80 | 31);
	cr_assert_eq(b[1], RTCP_PT_RR);
	cr_assert_eq((b[2] << 8 | b[3]), n / 4 - 1);
	struct rtcp_rr got;
	cr_assert_eq(rtcp_rr_parse(b, (size_t)n, &got), 0);
	cr_assert_eq(got.ssrc, rr.ssrc);
	cr_assert_eq(got.rc, 31);
	for (unsigned i = 0; i < RTCP_MAX_COUNT; i++) {
		cr_assert_eq(got.rb[i].ssrc, rr.rb[i].ssrc);
		cr_assert_eq(got.rb[i].fraction_lost, rr.rb[i].fraction_lost);
		cr_assert_eq(got.rb[i].cumulative_lost, rr.rb[i].cumulative_lost);
		cr_assert_eq(got.rb[i].ext_highest_seq, rr.rb[i].ext_highest_seq);
		cr_assert_eq(got.rb[i].jitter, rr.rb[i].jitter);
		cr_assert_eq(got.rb[i].lsr, rr.rb[i].lsr);
		cr_assert_eq(got.rb[i].dlsr, rr.rb[i].dlsr);
	}
	cr_assert_eq(got.ext_len, 8);
	cr_assert_eq(memcmp(got.ext, ext, 8), 0);
}

Test(rtcp_rr, empty_rr)
{
	const uint8_t b[] = {0x80, 201, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2A};
	struct rtcp_rr rr;
	cr_assert_eq(rtcp_rr_parse(b, sizeof(b), &rr), 0);
	cr_assert_eq(rr.ssrc, 42u);
	cr_assert_eq(rr.rc, 0);
	/* An RR without even the sender SSRC is inconsistent. */
	const uint8_t bare[] = {0x80, 201, 0x00, 0x00};
	cr_assert_eq(rtcp_rr_parse(bare, sizeof(bare), &rr), -EBADMSG);
}

Test(rtcp_sr, count_larger_than_length)
{
	uint8_t b[sizeof(sr_bytes)];
	memcpy(b, sr_bytes, sizeof(b));
	b[0] = 0x82; /* RC 2, but one block only */
	struct rtcp_sr sr;
	cr_assert_eq(rtcp_sr_parse(b, sizeof(b), &sr), -EBADMSG);
	/* Sender info shorter than 24 bytes. */
	const uint8_t short_sr[] = {0x80, 200, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
	cr_assert_eq(rtcp_sr_parse(short_sr, sizeof(short_sr), &sr), -EBADMSG);
}

Test(rtcp_sr, extension_after_blocks)
{
	uint8_t b[64];
	memcpy(b, sr_bytes, sizeof(sr_bytes));
	memcpy(b + sizeof(sr_bytes), "\x11\x22\x33\x44", 4);
	b[3] = 0x0D;
	struct rtcp_sr sr;
	cr_assert_eq(rtcp_sr_parse(b, sizeof(sr_bytes) + 4, &sr), 0);
	cr_assert_eq(sr.ext_len, 4);
	cr_assert_eq(sr.ext, b + 52);
}

Test(rtcp_packet, exact_length_required)
{
	struct rtcp_sr sr;
	/* Every shorter buffer is truncated. */
	for (size_t len = 0; len < sizeof(sr_bytes); len++)
		cr_assert_eq(rtcp_sr_parse(sr_bytes, len, &sr), -ENODATA, "len %zu", len);
	/* A longer one holds more than this packet. */
	uint8_t b[64] = {0};
	memcpy(b, sr_bytes, sizeof(sr_bytes));
	cr_assert_eq(rtcp_sr_parse(b, sizeof(sr_bytes) + 4, &sr), -EBADMSG);
}

Test(rtcp_packet, wrong_type_and_version)
{
	struct rtcp_rr rr;
	struct rtcp_bye bye;
	struct rtcp_pli pli;
	cr_assert_eq(rtcp_rr_parse(sr_bytes, sizeof(sr_bytes), &rr), -EPROTO);
	cr_assert_eq(rtcp_bye_parse(sr_bytes, sizeof(sr_bytes), &bye), -EPROTO);
	cr_assert_eq(rtcp_pli_parse(sr_bytes, sizeof(sr_bytes), &pli), -EPROTO);
	uint8_t b[sizeof(sr_bytes)];
	memcpy(b, sr_bytes, sizeof(b));
	b[0] = 0x41; /* version 1 */
	struct rtcp_sr sr;
	cr_assert_eq(rtcp_sr_parse(b, sizeof(b), &sr), -EPROTO);
}

Test(rtcp_packet, header_fields)
{
	struct rtcp_packet p;
	uint8_t b[64];
	memcpy(b, sr_bytes, sizeof(sr_bytes));
	/* len may extend past the packet */
	cr_assert_eq(rtcp_packet_parse(b, sizeof(b), &p), 52);
	cr_assert_eq(p.pt, RTCP_PT_SR);
	cr_assert_eq(p.count_or_fmt, 1);
	cr_assert_eq(p.padding_len, 0);
	cr_assert_eq(p.ssrc, 0x01020304u);
	cr_assert_eq(p.data, b);
	cr_assert_eq(p.len, 52);
	const uint8_t empty[] = {0x80, 210, 0x00, 0x00};
	cr_assert_eq(rtcp_packet_parse(empty, sizeof(empty), &p), 4);
	cr_assert_eq(p.ssrc, 0);
	cr_assert_eq(p.pt, 210);
	const uint8_t rtp_like[] = {0x80, 96, 0x00, 0x00};
	cr_assert_eq(rtcp_packet_parse(rtp_like, sizeof(rtp_like), &p), -EPROTO);
}

Test(rtcp_packet, padded_packet)
{
	/* RR with 4 bytes of padding */
	const uint8_t b[] = {0xA0, 201, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
	struct rtcp_packet p;
	cr_assert_eq(rtcp_packet_parse(b, sizeof(b), &p), 12);
	cr_assert_eq(p.padding_len, 4);
	struct rtcp_rr rr;
	cr_assert_eq(rtcp_rr_parse(b, sizeof(b), &rr), 0);
	cr_assert_eq(rr.ssrc, 9u);
	cr_assert_eq(rr.ext_len, 0, "padding is not an extension");

	uint8_t bad[sizeof(b)];
	memcpy(bad, b, sizeof(b));
	bad[11] = 0;
	cr_assert_eq(rtcp_packet_parse(bad, sizeof(bad), &p), -EBADMSG);
	bad[11] = 9; /* more than the 8 body bytes */
	cr_assert_eq(rtcp_packet_parse(bad, sizeof(bad), &p), -EBADMSG);
	bad[11] = 8; /* eats the SSRC: RR body is then too short */
	cr_assert_eq(rtcp_packet_parse(bad, sizeof(bad), &p), 12);
	cr_assert_eq(rtcp_rr_parse(bad, sizeof(bad), &rr), -EBADMSG);
}

/* ---- SDES --------------------------------------------------------------- */

/* Two chunks: SSRC 1 with CNAME "ab" and NAME "xyz"; SSRC 2 with no item. */
static const uint8_t sdes_bytes[] = {
	0x82, 202, 0x00, 0x06,
	0x00, 0x00, 0x00, 0x01,
	0x01, 0x02, 'a', 'b',
	0x02, 0x03, 'x', 'y',
	'z', 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00,
};

Test(rtcp_sdes, parse_chunks_and_items)
{
	struct rtcp_sdes s;
	cr_assert_eq(rtcp_sdes_parse(sdes_bytes, sizeof(sdes_bytes), &s), 0);
	cr_assert_eq(s.n_chunks, 2);
	cr_assert_eq(s.n_items, 2);
	cr_assert_eq(s.chunk[0].ssrc, 1u);
	cr_assert_eq(s.chunk[0].first_item, 0);
	cr_assert_eq(s.chunk[0].n_items, 2);
	cr_assert_eq(s.chunk[1].ssrc, 2u);
	cr_assert_eq(s.chunk[1].n_items, 0);
	cr_assert_eq(s.item[0].type, RTCP_SDES_CNAME);
	cr_assert_eq(s.item[0].len, 2);
	cr_assert_eq(memcmp(s.item[0].data, "ab", 2), 0);
	cr_assert_eq(s.item[1].type, RTCP_SDES_NAME);
	cr_assert_eq(memcmp(s.item[1].data, "xyz", 3), 0);
	const struct rtcp_sdes_item *it = rtcp_sdes_find(&s, 1, RTCP_SDES_NAME);
	cr_assert_not_null(it);
	cr_assert_eq(it->len, 3);
	cr_assert_null(rtcp_sdes_find(&s, 2, RTCP_SDES_CNAME));
	cr_assert_null(rtcp_sdes_find(&s, 3, RTCP_SDES_CNAME));
}

Test(rtcp_sdes, build_exact_bytes)
{
	struct rtcp_sdes s = {.n_chunks = 2, .n_items = 2};
	s.chunk[0] = (struct rtcp_sdes_chunk){.ssrc = 1, .first_item = 0, .n_items = 2};
	s.chunk[1] = (struct rtcp_sdes_chunk){.ssrc = 2, .first_item = 2, .n_items = 0};
	s.item[0] = (struct rtcp_sdes_item){.type = RTCP_SDES_CNAME, .len = 2,
					    .data = (const uint8_t *)"ab"};
	s.item[1] = (struct rtcp_sdes_item){.type = RTCP_SDES_NAME, .len = 3,
					    .data = (const uint8_t *)"xyz"};
	uint8_t b[64];
	memset(b, 0xEE, sizeof(b));
	cr_assert_eq(rtcp_sdes_build(b, sizeof(b), &s), (int)sizeof(sdes_bytes));
	cr_assert_eq(memcmp(b, sdes_bytes, sizeof(sdes_bytes)), 0);
}

Test(rtcp_sdes, terminator_alignment)
{
	/* An item ending exactly on a word boundary needs a whole word of
	 * null octets after it. */
	const uint8_t cname[6] = {'h', 'o', 's', 't', '.', 'x'};
	struct rtcp_sdes s = {.n_chunks = 1, .n_items = 1};
	s.chunk[0] = (struct rtcp_sdes_chunk){.ssrc = 0x55, .n_items = 1};
	s.item[0] = (struct rtcp_sdes_item){.type = RTCP_SDES_CNAME, .len = 6, .data = cname};
	uint8_t b[64];
	int n = rtcp_sdes_build(b, sizeof(b), &s);
	cr_assert_eq(n, 4 + 4 + 8 + 4);
	cr_assert_eq(memcmp(b + 16, "\0\0\0\0", 4), 0);
	struct rtcp_sdes got;
	cr_assert_eq(rtcp_sdes_parse(b, (size_t)n, &got), 0);
	const struct rtcp_sdes_item *it = rtcp_sdes_find(&got, 0x55, RTCP_SDES_CNAME);
	cr_assert_not_null(it);
	cr_assert_eq(memcmp(it->data, cname, 6), 0);
}

Test(rtcp_sdes, malformed)
{
	uint8_t b[sizeof(sdes_bytes)];
	struct rtcp_sdes s;

	/* SC says 3 chunks but there are 2 */
	memcpy(b, sdes_bytes, sizeof(b));
	b[0] = 0x83;
	cr_assert_eq(rtcp_sdes_parse(b, sizeof(b), &s), -EBADMSG);
	/* SC 1: the second chunk is trailing garbage */
	b[0] = 0x81;
	cr_assert_eq(rtcp_sdes_parse(b, sizeof(b), &s), -EBADMSG);
	/* an item length running past the packet */
	memcpy(b, sdes_bytes, sizeof(b));
	b[13] = 0x30;
	cr_assert_eq(rtcp_sdes_parse(b, sizeof(b), &s), -EBADMSG);
	/* no terminating null octet before the end */
	const uint8_t noterm[] = {0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
	cr_assert_eq(rtcp_sdes_parse(noterm, sizeof(noterm), &s), -EBADMSG);
	/* an item type with no length octet */
	const uint8_t nolen[] = {0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x01, 'a', 0x01};
	cr_assert_eq(rtcp_sdes_parse(nolen, sizeof(nolen), &s), -EBADMSG);
	/* a chunk without room for its SSRC */
	const uint8_t nossrc[] = {0x81, 202, 0x00, 0x00};
	cr_assert_eq(rtcp_sdes_parse(nossrc, sizeof(nossrc), &s), -EBADMSG);
	/* SC 0 with an empty body is fine */
	const uint8_t none[] = {0x80, 202, 0x00, 0x00};
	cr_assert_eq(rtcp_sdes_parse(none, sizeof(none), &s), 0);
	cr_assert_eq(s.n_chunks, 0);
}

Test(rtcp_sdes, too_many_items)
{
	/* One chunk with 65 empty PRIV-less NOTE items: over our limit. */
	uint8_t b[4 + 4 + 65 * 2 + 2];
	size_t n = 0;
	b[n++] = 0x81;
	b[n++] = 202;
	n += 2;
	memset(b + n, 0, 4);
	n += 4;
	for (int i = 0; i < 65; i++) {
		b[n++] = RTCP_SDES_NOTE;
		b[n++] = 0;
	}
	b[n++] = 0;
	b[n++] = 0;
	cr_assert_eq(n % 4, 0);
	b[2] = 0;
	b[3] = (uint8_t)(n / 4 - 1);
	struct rtcp_sdes s;
	cr_assert_eq(rtcp_sdes_parse(b, n, &s), -E2BIG);
	/* 64 items fit: turn the last item into the terminator. */
	b[n - 4] = 0;
	cr_assert_eq(rtcp_sdes_parse(b, n, &s), 0);
	cr_assert_eq(s.n_items, 64);
}

Test(rtcp_sdes, build_invalid)
{
	uint8_t b[64];
	struct rtcp_sdes s = {.n_chunks = 1, .n_items = 1};
	s.chunk[0] = (struct rtcp_sdes_chunk){.ssrc = 1, .first_item = 0, .n_items = 2};
	s.item[0] = (struct rtcp_sdes_item){.type = 1, .len = 1, .data = (const uint8_t *)"a"};
	cr_assert_eq(rtcp_sdes_build(b, sizeof(b), &s), -EINVAL);
	s.chunk[0].n_items = 1;
	s.item[0].type = RTCP_SDES_END;
	cr_assert_eq(rtcp_sdes_build(b, sizeof(b), &s), -EINVAL);
	s.item[0].type = RTCP_SDES_CNAME;
	cr_assert_eq(rtcp_sdes_build(b, sizeof(b), &s), 12);
	cr_assert_eq(rtcp_sdes_build(b, 11, &s), -E2BIG);
	s.n_chunks = 32;
	cr_assert_eq(rtcp_sdes_build(b, sizeof(b), &s), -EINVAL);
}

/* ---- BYE ---------------------------------------------------------------- */

Test(rtcp_bye, with_reason)
{
	struct rtcp_bye bye = {.count = 2, .ssrc = {0x11111111u, 0x22222222u},
			       .reason = (const uint8_t *)"gone", .reason_len = 4};
	uint8_t b[64];
	int n = rtcp_bye_build(b, sizeof(b), &bye);
	cr_assert_eq(n, 4 + 8 + 8);
	const uint8_t want[] = {0x82, 203, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11,
				0x22, 0x22, 0x22, 0x22, 4, 'g', 'o', 'n', 'e', 0, 0, 0};
	cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
	struct rtcp_bye got;
	cr_assert_eq(rtcp_bye_parse(b, (size_t)n, &got), 0);
	cr_assert_eq(got.count, 2);
	cr_assert_eq(got.ssrc[1], 0x22222222u);
	cr_assert_eq(got.reason_len, 4);
	cr_assert_eq(memcmp(got.reason, "gone", 4), 0);
}

Test(rtcp_bye, without_reason)
{
	struct rtcp_bye bye = {.count = 1, .ssrc = {5}};
	uint8_t b[16];
	int n = rtcp_bye_build(b, sizeof(b), &bye);
	cr_assert_eq(n, 8);
	struct rtcp_bye got;
	cr_assert_eq(rtcp_bye_parse(b, (size_t)n, &got), 0);
	cr_assert_eq(got.count, 1);
	cr_assert_eq(got.ssrc[0], 5u);
	cr_assert_null(got.reason);
	cr_assert_eq(got.reason_len, 0);
}

Test(rtcp_bye, malformed)
{
	struct rtcp_bye got;
	/* reason length 8 with 3 octets left */
	const uint8_t longr[] = {0x81, 203, 0x00, 0x02, 0, 0, 0, 1, 8, 'a', 'b', 'c'};
	cr_assert_eq(rtcp_bye_parse(longr, sizeof(longr), &got), -EBADMSG);
	/* SC 2 with room for one SSRC */
	const uint8_t sc[] = {0x82, 203, 0x00, 0x01, 0, 0, 0, 1};
	cr_assert_eq(rtcp_bye_parse(sc, sizeof(sc), &got), -EBADMSG);
	/* reason that exactly fits */
	const uint8_t fits[] = {0x81, 203, 0x00, 0x02, 0, 0, 0, 1, 3, 'a', 'b', 'c'};
	cr_assert_eq(rtcp_bye_parse(fits, sizeof(fits), &got), 0);
	cr_assert_eq(got.reason_len, 3);
	struct rtcp_bye inval = {.count = 0, .reason = NULL, .reason_len = 3};
	uint8_t b[16];
	cr_assert_eq(rtcp_bye_build(b, sizeof(b), &inval), -EINVAL);
	struct rtcp_bye big = {.count = 3};
	cr_assert_eq(rtcp_bye_build(b, 15, &big), -E2BIG);
	cr_assert_eq(rtcp_bye_build(b, 16, &big), 16);
}

/* ---- APP ---------------------------------------------------------------- */

Test(rtcp_app, round_trip)
{
	const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct rtcp_app app = {.subtype = 17, .ssrc = 0xABCDEF01u, .name = {'m', 'm', 'd', 'p'},
			       .data = data, .data_len = sizeof(data)};
	uint8_t b[32];
	int n = rtcp_app_build(b, sizeof(b), &app);
	cr_assert_eq(n, 20);
	cr_assert_eq(b[0], 0x80 | 17);
	cr_assert_eq(b[1], RTCP_PT_APP);
	cr_assert_eq(memcmp(b + 8, "mmdp", 4), 0);
	struct rtcp_app got;
	cr_assert_eq(rtcp_app_parse(b, (size_t)n, &got), 0);
	cr_assert_eq(got.subtype, 17);
	cr_assert_eq(got.ssrc, 0xABCDEF01u);
	cr_assert_eq(memcmp(got.name, "mmdp", 4), 0);
	cr_assert_eq(got.data_len, 8);
	cr_assert_eq(memcmp(got.data, data, 8), 0);
}

Test(rtcp_app, malformed_and_invalid)
{
	const uint8_t noname[] = {0x80, 204, 0x00, 0x01, 0, 0, 0, 1};
	struct rtcp_app got;
	cr_assert_eq(rtcp_app_parse(noname, sizeof(noname), &got), -EBADMSG);
	const uint8_t nodata[] = {0x80, 204, 0x00, 0x02, 0, 0, 0, 1, 'a', 'b', 'c', 'd'};
	cr_assert_eq(rtcp_app_parse(nodata, sizeof(nodata), &got), 0);
	cr_assert_eq(got.data_len, 0);
	uint8_t b[32];
	struct rtcp_app app = {.subtype = 32};
	cr_assert_eq(rtcp_app_build(b, sizeof(b), &app), -EINVAL);
	app = (struct rtcp_app){.data = (const uint8_t *)"abc", .data_len = 3};
	cr_assert_eq(rtcp_app_build(b, sizeof(b), &app), -EINVAL);
	app.data_len = 4;
	cr_assert_eq(rtcp_app_build(b, 15, &app), -E2BIG);
	cr_assert_eq(rtcp_app_build(b, 16, &app), 16);
}

/* ---- NACK --------------------------------------------------------------- */

Test(rtcp_nack, parse_and_expand)
{
	const uint8_t b[] = {0x81, 205, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2,
			     0x00, 0x64, 0x80, 0x05,  /* pid 100, bits 0, 2, 15 */
			     0xFF, 0xFF, 0x00, 0x01}; /* pid 65535, bit 0 -> 0 */
	struct rtcp_nack nack;
	cr_assert_eq(rtcp_nack_parse(b, sizeof(b), &nack), 0);
	cr_assert_eq(nack.sender_ssrc, 1u);
	cr_assert_eq(nack.media_ssrc, 2u);
	cr_assert_eq(nack.n_items, 2);
	struct rtcp_nack_item it = rtcp_nack_get(&nack, 0);
	cr_assert_eq(it.pid, 100);
	cr_assert_eq(it.blp, 0x8005);
	uint16_t seq[32];
	int n = rtcp_nack_expand(&nack, seq, N_ELEMS(seq));
	cr_assert_eq(n, 6);
	const uint16_t want[6] = {100, 101, 103, 116, 65535, 0};
	cr_assert_eq(memcmp(seq, want, sizeof(want)), 0);
	/* Too small: first cap entries then -E2BIG. */
	uint16_t small[3] = {0};
	cr_assert_eq(rtcp_nack_expand(&nack, small, 3), -E2BIG);
	cr_assert_eq(memcmp(small, want, sizeof(small)), 0);
	cr_assert_eq(rtcp_nack_expand(&nack, seq, 6), 6);
}

Test(rtcp_nack, pack_and_build_round_trip)
{
	const uint16_t lost[] = {65530, 65531, 65535, 0, 10, 11, 200, 216, 217, 217};
	struct rtcp_nack_item items[8];
	int k = rtcp_nack_pack(lost, N_ELEMS(lost), items, N_ELEMS(items));
	/* 65531..10 are 1..16 after 65530; 11 is 17 after it; 216 is 16
	 * after 200 but 217 is 17 after it; the second 217 is a duplicate. */
	cr_assert_eq(k, 4);
	cr_assert_eq(items[0].pid, 65530);
	cr_assert_eq(items[0].blp, (1u << 0) | (1u << 4) | (1u << 5) | (1u << 15));
	cr_assert_eq(items[1].pid, 11);
	cr_assert_eq(items[1].blp, 0);
	cr_assert_eq(items[2].pid, 200);
	cr_assert_eq(items[2].blp, 1u << 15);
	cr_assert_eq(items[3].pid, 217);
	cr_assert_eq(items[3].blp, 0);
	uint8_t b[64];
	int n = rtcp_nack_build(b, sizeof(b), 0xA, 0xB, items, (size_t)k);
	cr_assert_eq(n, 12 + 4 * k);
	cr_assert_eq(memcmp(b + 12, "\xFF\xFA\x80\x31", 4), 0);
	struct rtcp_nack nack;
	cr_assert_eq(rtcp_nack_parse(b, (size_t)n, &nack), 0);
	cr_assert_eq(nack.sender_ssrc, 0xAu);
	cr_assert_eq(nack.media_ssrc, 0xBu);
	uint16_t seq[64];
	int m = rtcp_nack_expand(&nack, seq, N_ELEMS(seq));
	cr_assert_eq(m, 9);
	const uint16_t want[9] = {65530, 65531, 65535, 0, 10, 11, 200, 216, 217};
	cr_assert_eq(memcmp(seq, want, sizeof(want)), 0);
}

Test(rtcp_nack, pack_limits)
{
	const uint16_t lost[] = {1, 100, 200, 300};
	struct rtcp_nack_item items[3];
	cr_assert_eq(rtcp_nack_pack(lost, 4, items, 3), -E2BIG);
	cr_assert_eq(rtcp_nack_pack(lost, 3, items, 3), 3);
	cr_assert_eq(rtcp_nack_pack(lost, 0, items, 3), 0);
	const uint16_t dup[] = {7, 7, 8};
	cr_assert_eq(rtcp_nack_pack(dup, 3, items, 1), 1);
	cr_assert_eq(items[0].pid, 7);
	cr_assert_eq(items[0].blp, 1);
}

Test(rtcp_nack, malformed)
{
	struct rtcp_nack nack;
	/* no FCI */
	const uint8_t empty[] = {0x81, 205, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
	cr_assert_eq(rtcp_nack_parse(empty, sizeof(empty), &nack), -EBADMSG);
	/* no media SSRC */
	const uint8_t shortfb[] = {0x81, 205, 0x00, 0x01, 0, 0, 0, 1};
	cr_assert_eq(rtcp_nack_parse(shortfb, sizeof(shortfb), &nack), -EBADMSG);
	/* FMT 3 is not a NACK */
	const uint8_t fmt3[] = {0x83, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0};
	cr_assert_eq(rtcp_nack_parse(fmt3, sizeof(fmt3), &nack), -EPROTO);
	/* PSFB FMT 1 (PLI) is not a NACK */
	const uint8_t pli[] = {0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
	cr_assert_eq(rtcp_nack_parse(pli, sizeof(pli), &nack), -EPROTO);
	/* FCI of 2 octets (padding ate half of an item) */
	const uint8_t half[] = {0xA1, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 2};
	cr_assert_eq(rtcp_nack_parse(half, sizeof(half), &nack), -EBADMSG);
	uint8_t b[16];
	struct rtcp_nack_item it = {1, 0};
	cr_assert_eq(rtcp_nack_build(b, sizeof(b), 1, 2, &it, 0), -EINVAL);
	cr_assert_eq(rtcp_nack_build(b, 15, 1, 2, &it, 1), -E2BIG);
	cr_assert_eq(rtcp_nack_build(b, 16, 1, 2, &it, 1), 16);
}

/* ---- PLI / FIR / REMB --------------------------------------------------- */

Test(rtcp_pli, round_trip_and_exact)
{
	uint8_t b[16];
	int n = rtcp_pli_build(b, sizeof(b), 0x01020304u, 0x05060708u);
	cr_assert_eq(n, 12);
	const uint8_t want[] = {0x81, 206, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8};
	cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
	struct rtcp_pli pli;
	cr_assert_eq(rtcp_pli_parse(b, (size_t)n, &pli), 0);
	cr_assert_eq(pli.sender_ssrc, 0x01020304u);
	cr_assert_eq(pli.media_ssrc, 0x05060708u);
	cr_assert_eq(rtcp_pli_build(b, 11, 1, 2), -E2BIG);
	/* PLI with an FCI is inconsistent */
	const uint8_t fci[] = {0x81, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
	cr_assert_eq(rtcp_pli_parse(fci, sizeof(fci), &pli), -EBADMSG);
}

Test(rtcp_fir, round_trip)
{
	const struct rtcp_fir_entry e[2] = {{0xAAAA0001u, 7}, {0xBBBB0002u, 255}};
	uint8_t b[64];
	int n = rtcp_fir_build(b, sizeof(b), 0x99, e, 2);
	cr_assert_eq(n, 12 + 16);
	cr_assert_eq(b[0], 0x80 | RTCP_PSFB_FMT_FIR);
	cr_assert_eq(b[1], RTCP_PT_PSFB);
	cr_assert_eq(memcmp(b + 8, "\0\0\0\0", 4), 0, "media SSRC 0");
	cr_assert_eq(memcmp(b + 12, "\xAA\xAA\x00\x01\x07\x00\x00\x00", 8), 0);
	struct rtcp_fir fir;
	cr_assert_eq(rtcp_fir_parse(b, (size_t)n, &fir), 0);
	cr_assert_eq(fir.sender_ssrc, 0x99u);
	cr_assert_eq(fir.n_entries, 2);
	struct rtcp_fir_entry g = rtcp_fir_get(&fir, 1);
	cr_assert_eq(g.ssrc, 0xBBBB0002u);
	cr_assert_eq(g.seq_nr, 255);
	g = rtcp_fir_get(&fir, 0);
	cr_assert_eq(g.ssrc, 0xAAAA0001u);
	cr_assert_eq(g.seq_nr, 7);
	cr_assert_eq(rtcp_fir_build(b, 27, 0x99, e, 2), -E2BIG);
	cr_assert_eq(rtcp_fir_build(b, sizeof(b), 0x99, e, 0), -EINVAL);
}

Test(rtcp_fir, malformed)
{
	struct rtcp_fir fir;
	const uint8_t empty[] = {0x84, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0};
	cr_assert_eq(rtcp_fir_parse(empty, sizeof(empty), &fir), -EBADMSG);
	const uint8_t half[] = {0x84, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5};
	cr_assert_eq(rtcp_fir_parse(half, sizeof(half), &fir), -EBADMSG);
}

Test(rtcp_remb, exact_bytes_and_round_trip)
{
	const uint32_t ssrc[2] = {0x11223344u, 0x55667788u};
	uint8_t b[64];
	/* 1,000,000 = 0x0F4240 needs 20 bits: exponent 2, mantissa 250000 */
	int n = rtcp_remb_build(b, sizeof(b), 0xCAFE, 1000000, ssrc, 2);
	cr_assert_eq(n, 12 + 8 + 8);
	const uint8_t want[] = {0x8F, 206, 0x00, 0x06, 0x00, 0x00, 0xCA, 0xFE,
				0, 0, 0, 0, 'R', 'E', 'M', 'B',
				2, (2 << 2) | 0x3, 0xD0, 0x90,
				0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
	struct rtcp_remb r;
	cr_assert_eq(rtcp_remb_parse(b, (size_t)n, &r), 0);
	cr_assert_eq(r.sender_ssrc, 0xCAFEu);
	cr_assert_eq(r.media_ssrc, 0u);
	cr_assert_eq(r.bitrate, 1000000u);
	cr_assert_eq(r.n_ssrc, 2);
	cr_assert_eq(r.ssrc[0], ssrc[0]);
	cr_assert_eq(r.ssrc[1], ssrc[1]);
}

Test(rtcp_remb, bitrate_encoding)
{
	const struct {
		uint64_t in, out;
	} cases[] = {
		{0, 0},
		{1, 1},
		{0x3FFFF, 0x3FFFF},           /* largest with exponent 0 */
		{0x40000, 0x40000},           /* exponent 1 */
		{0x40001, 0x40000},           /* rounded down */
		{2500000000ull, 2499985408ull}, /* 2.5 Gbit/s: exponent 14 */
		{UINT64_MAX, 0x3FFFFull << 46},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t b[32];
		int n = rtcp_remb_build(b, sizeof(b), 1, cases[i].in, NULL, 0);
		cr_assert_eq(n, 20);
		struct rtcp_remb r;
		cr_assert_eq(rtcp_remb_parse(b, (size_t)n, &r), 0);
		cr_assert_eq(r.bitrate, cases[i].out, "case %zu: %llu", i,
			     (unsigned long long)r.bitrate);
	}
}

Test(rtcp_remb, saturates_and_rejects)
{
	uint8_t b[20] = {0x8F, 206, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0,
			 'R', 'E', 'M', 'B', 0, 0xFF, 0xFF, 0xFF}; /* exp 63, max mantissa */
	struct rtcp_remb r;
	cr_assert_eq(rtcp_remb_parse(b, sizeof(b), &r), 0);
	cr_assert_eq(r.bitrate, UINT64_MAX);
	/* SSRC count 1 with no SSRC */
	b[16] = 1;
	cr_assert_eq(rtcp_remb_parse(b, sizeof(b), &r), -EBADMSG);
	b[16] = 0;
	/* Not "REMB": another application layer feedback */
	b[12] = 'X';
	cr_assert_eq(rtcp_remb_parse(b, sizeof(b), &r), -EPROTO);
	/* "REMB" with an FCI too short for the bitrate */
	const uint8_t shortr[] = {0x8F, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0,
				  'R', 'E', 'M', 'B'};
	cr_assert_eq(rtcp_remb_parse(shortr, sizeof(shortr), &r), -EBADMSG);
	const uint32_t s[1] = {1};
	cr_assert_eq(rtcp_remb_build(b, sizeof(b), 1, 1, s, 256), -EINVAL);
	cr_assert_eq(rtcp_remb_build(b, 23, 1, 1, s, 1), -E2BIG);
}

Test(rtcp_fb, generic_header)
{
	/* RTPFB FMT 15 (transport-cc) is kept as a generic FB message. */
	const uint8_t b[] = {0x8F, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9, 9};
	struct rtcp_fb fb;
	cr_assert_eq(rtcp_fb_parse(b, sizeof(b), &fb), 0);
	cr_assert_eq(fb.pt, RTCP_PT_RTPFB);
	cr_assert_eq(fb.fmt, 15);
	cr_assert_eq(fb.sender_ssrc, 1u);
	cr_assert_eq(fb.media_ssrc, 2u);
	cr_assert_eq(fb.fci_len, 4);
	cr_assert_eq(fb.fci, b + 12);
	cr_assert_eq(rtcp_fb_parse(sr_bytes, sizeof(sr_bytes), &fb), -EPROTO);
}

/* ---- compound ----------------------------------------------------------- */

/* SR, RR, SDES, BYE, APP, NACK, PLI, FIR, REMB in one compound packet. */
static int build_full_compound(uint8_t *buf, size_t cap)
{
	struct rtcp_writer w;
	rtcp_writer_init(&w, buf, cap);

	struct rtcp_sr sr = {.ssrc = 1, .ntp = 2, .rtp_ts = 3, .packet_count = 4,
			     .octet_count = 5, .rc = 1};
	sr.rb[0].ssrc = 10;
	sr.rb[0].cumulative_lost = -3;
	rtcp_writer_add(&w, rtcp_sr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sr));

	struct rtcp_rr rr = {.ssrc = 1, .rc = 0};
	rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr));

	struct rtcp_sdes sdes = {.n_chunks = 1, .n_items = 1};
	sdes.chunk[0] = (struct rtcp_sdes_chunk){.ssrc = 1, .n_items = 1};
	sdes.item[0] = (struct rtcp_sdes_item){.type = RTCP_SDES_CNAME, .len = 5,
					       .data = (const uint8_t *)"alice"};
	rtcp_writer_add(&w, rtcp_sdes_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sdes));

	struct rtcp_bye bye = {.count = 1, .ssrc = {1}, .reason = (const uint8_t *)"bye",
			       .reason_len = 3};
	rtcp_writer_add(&w, rtcp_bye_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &bye));

	struct rtcp_app app = {.subtype = 1, .ssrc = 1, .name = {'t', 'e', 's', 't'}};
	rtcp_writer_add(&w, rtcp_app_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &app));

	const struct rtcp_nack_item ni = {.pid = 500, .blp = 0x0003};
	rtcp_writer_add(&w, rtcp_nack_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1, 20,
					    &ni, 1));

	rtcp_writer_add(&w, rtcp_pli_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1, 20));

	const struct rtcp_fir_entry fe = {.ssrc = 20, .seq_nr = 3};
	rtcp_writer_add(&w, rtcp_fir_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1, &fe, 1));

	const uint32_t rs = 20;
	rtcp_writer_add(&w, rtcp_remb_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1,
					    300000, &rs, 1));
	return rtcp_writer_finish(&w);
}

Test(rtcp_compound, all_types)
{
	uint8_t b[512];
	int n = build_full_compound(b, sizeof(b));
	/* 52 + 8 + 16 + 12 + 12 + 16 + 12 + 20 + 24 */
	cr_assert_eq(n, 172);
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, 9);
	const uint8_t pts[9] = {200, 201, 202, 203, 204, 205, 206, 206, 206};
	const uint8_t fmts[9] = {1, 0, 1, 1, 1, 1, 1, 4, 15};
	const size_t lens[9] = {52, 8, 16, 12, 12, 16, 12, 20, 24};
	size_t off = 0;
	for (size_t i = 0; i < 9; i++) {
		cr_assert_eq(c.pkt[i].pt, pts[i], "packet %zu", i);
		cr_assert_eq(c.pkt[i].count_or_fmt, fmts[i], "packet %zu", i);
		cr_assert_eq(c.pkt[i].len, lens[i], "packet %zu", i);
		cr_assert_eq(c.pkt[i].data, b + off, "packet %zu", i);
		cr_assert_eq(c.pkt[i].ssrc, 1u, "packet %zu", i);
		off += lens[i];
	}
	/* Decode a few through the packet table. */
	struct rtcp_sr sr;
	cr_assert_eq(rtcp_sr_parse(c.pkt[0].data, c.pkt[0].len, &sr), 0);
	cr_assert_eq(sr.rb[0].cumulative_lost, -3);
	struct rtcp_sdes sdes;
	cr_assert_eq(rtcp_sdes_parse(c.pkt[2].data, c.pkt[2].len, &sdes), 0);
	const struct rtcp_sdes_item *cname = rtcp_sdes_find(&sdes, 1, RTCP_SDES_CNAME);
	cr_assert_not_null(cname);
	cr_assert_eq(memcmp(cname->data, "alice", 5), 0);
	struct rtcp_nack nack;
	cr_assert_eq(rtcp_nack_parse(c.pkt[5].data, c.pkt[5].len, &nack), 0);
	uint16_t seq[8];
	cr_assert_eq(rtcp_nack_expand(&nack, seq, 8), 3);
	cr_assert_eq(seq[2], 502);
	struct rtcp_remb remb;
	cr_assert_eq(rtcp_remb_parse(c.pkt[8].data, c.pkt[8].len, &remb), 0);
	cr_assert_eq(remb.bitrate, 300000u);
}

Test(rtcp_compound, strict_and_reduced_size)
{
	uint8_t b[32];
	int n = rtcp_pli_build(b, sizeof(b), 1, 2);
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, RTCP_COMPOUND_STRICT, &c), -EBADMSG);
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, 0, &c), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.pkt[0].pt, RTCP_PT_PSFB);
	/* An RR first is fine in strict mode. */
	struct rtcp_rr rr = {.ssrc = 1};
	n = rtcp_rr_build(b, sizeof(b), &rr);
	n += rtcp_pli_build(b + n, sizeof(b) - (size_t)n, 1, 2);
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, 2);
}

Test(rtcp_compound, unknown_types_kept)
{
	/* RR, XR (207), an unassigned 215, a non-REMB AFB, RTPFB FMT 15. */
	const uint8_t b[] = {
		0x80, 201, 0x00, 0x01, 0, 0, 0, 1,
		0x80, 207, 0x00, 0x02, 0, 0, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF,
		0x85, 215, 0x00, 0x00,
		0x8F, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 'G', 'O', 'O', 'G',
		0x8F, 205, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,
	};
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, sizeof(b), RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, 5);
	cr_assert_eq(c.pkt[1].pt, 207);
	cr_assert_eq(c.pkt[1].len, 12);
	cr_assert_eq(c.pkt[2].pt, 215);
	cr_assert_eq(c.pkt[2].count_or_fmt, 5);
	cr_assert_eq(c.pkt[3].count_or_fmt, 15);
	cr_assert_eq(c.pkt[4].pt, 205);
}

Test(rtcp_compound, invalid_body_rejected)
{
	/* RR followed by a PLI carrying an FCI, then by an SR with RC 2. */
	uint8_t b[128];
	struct rtcp_rr rr = {.ssrc = 1};
	int n = rtcp_rr_build(b, sizeof(b), &rr);
	const uint8_t pli[] = {0x81, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
	memcpy(b + n, pli, sizeof(pli));
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n + sizeof(pli), 0, &c), -EBADMSG);
	memcpy(b + n, sr_bytes, sizeof(sr_bytes));
	b[n] = 0x82;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n + sizeof(sr_bytes), 0, &c), -EBADMSG);
	b[n] = 0x81;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n + sizeof(sr_bytes), 0, &c), 0);
	/* A REMB with a wrong SSRC count inside a compound. */
	n = rtcp_rr_build(b, sizeof(b), &rr);
	const uint32_t s = 5;
	int m = rtcp_remb_build(b + n, sizeof(b) - (size_t)n, 1, 1000, &s, 1);
	b[n + 16] = 2;
	cr_assert_eq(rtcp_parse_compound(b, (size_t)(n + m), 0, &c), -EBADMSG);
	/* An SDES with too many items is oversized. */
	uint8_t big[4 + 4 + 66 * 2 + 4] = {0x81, 202};
	size_t k = 8;
	for (int i = 0; i < 66; i++) {
		big[k++] = RTCP_SDES_TOOL;
		big[k++] = 0;
	}
	k += 4 - (k % 4);
	big[3] = (uint8_t)(k / 4 - 1);
	cr_assert_eq(rtcp_parse_compound(big, k, 0, &c), -E2BIG);
}

Test(rtcp_compound, truncated_and_bad_lengths)
{
	uint8_t b[512];
	int n = build_full_compound(b, sizeof(b));
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, 0, 0, &c), -ENODATA);
	/* Cut on a word boundary inside a packet: its length word runs
	 * past the end. */
	for (size_t len = 4; len < (size_t)n; len += 4) {
		int rc = rtcp_parse_compound(b, len, 0, &c);
		bool boundary = len == 52 || len == 60 || len == 76 || len == 88 ||
				len == 100 || len == 116 || len == 128 || len == 148;
		if (boundary)
			cr_assert_eq(rc, 0, "len %zu", len);
		else
			cr_assert_eq(rc, -ENODATA, "len %zu", len);
	}
	/* Not a multiple of 4. */
	for (size_t len = 1; len < 8; len++)
		if (len % 4)
			cr_assert_eq(rtcp_parse_compound(b, len, 0, &c), -EBADMSG);
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n - 2, 0, &c), -EBADMSG);
	/* Trailing word after the last packet: a packet of length 0 with a
	 * zero first byte, i.e. version 0. */
	memset(b + n, 0, 4);
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n + 4, 0, &c), -EPROTO);
}

Test(rtcp_compound, version_and_pt)
{
	uint8_t b[64];
	struct rtcp_rr rr = {.ssrc = 1};
	int n = rtcp_rr_build(b, sizeof(b), &rr);
	n += rtcp_pli_build(b + n, sizeof(b) - (size_t)n, 1, 2);
	struct rtcp_compound c;
	b[8] = 0xC1; /* version 3 on the second packet */
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, 0, &c), -EPROTO);
	b[8] = 0x81;
	b[9] = 191; /* below the RTCP range */
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, 0, &c), -EPROTO);
	b[9] = 224; /* above it */
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, 0, &c), -EPROTO);
	b[9] = 223; /* unknown but in range: kept */
	cr_assert_eq(rtcp_parse_compound(b, (size_t)n, 0, &c), 0);
	cr_assert_eq(c.pkt[1].pt, 223);
}

Test(rtcp_compound, padding_only_on_last)
{
	uint8_t b[64];
	struct rtcp_rr rr = {.ssrc = 1};
	int n = rtcp_rr_build(b, sizeof(b), &rr);
	/* PLI + 4 padding octets as the last packet */
	const uint8_t pli[] = {0xA1, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4};
	memcpy(b + n, pli, sizeof(pli));
	size_t len = (size_t)n + sizeof(pli);
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, len, RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.pkt[1].padding_len, 4);
	cr_assert_eq(c.pkt[1].len, 16);
	/* Padding count 0, or larger than the packet body. */
	b[len - 1] = 0;
	cr_assert_eq(rtcp_parse_compound(b, len, 0, &c), -EBADMSG);
	b[len - 1] = 13;
	cr_assert_eq(rtcp_parse_compound(b, len, 0, &c), -EBADMSG);
	b[len - 1] = 4;
	/* A padded RR, valid on its own, is refused when not last. */
	const uint8_t padded_rr[] = {0xA0, 201, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
	uint8_t b2[64];
	memcpy(b2, padded_rr, sizeof(padded_rr));
	cr_assert_eq(rtcp_parse_compound(b2, sizeof(padded_rr), RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.pkt[0].padding_len, 4);
	int m = rtcp_pli_build(b2 + sizeof(padded_rr), sizeof(b2) - sizeof(padded_rr), 1, 2);
	cr_assert_eq(rtcp_parse_compound(b2, sizeof(padded_rr) + (size_t)m, 0, &c), -EBADMSG);
}

Test(rtcp_compound, packet_count_limit)
{
	uint8_t b[17 * 8];
	size_t n = 0;
	for (int i = 0; i < 17; i++) {
		struct rtcp_rr rr = {.ssrc = (uint32_t)i};
		n += (size_t)rtcp_rr_build(b + n, sizeof(b) - n, &rr);
	}
	cr_assert_eq(n, sizeof(b));
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(b, 16 * 8, RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, RTCP_MAX_PACKETS);
	cr_assert_eq(c.pkt[15].ssrc, 15u);
	cr_assert_eq(rtcp_parse_compound(b, sizeof(b), RTCP_COMPOUND_STRICT, &c), -E2BIG);
}

Test(rtcp_writer, latches_first_error)
{
	uint8_t b[20];
	struct rtcp_writer w;
	rtcp_writer_init(&w, b, sizeof(b));
	cr_assert_eq(rtcp_writer_finish(&w), -ENODATA);
	struct rtcp_rr rr = {.ssrc = 1};
	cr_assert_eq(rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr)), 8);
	cr_assert_eq(rtcp_writer_room(&w), 12);
	/* A PLI (12) fits, a second does not. */
	cr_assert_eq(rtcp_writer_add(&w, rtcp_pli_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1, 2)), 12);
	cr_assert_eq(rtcp_writer_finish(&w), 20);
	cr_assert_eq(rtcp_writer_add(&w, rtcp_pli_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 1, 2)), -E2BIG);
	cr_assert_eq(rtcp_writer_finish(&w), -E2BIG);
	/* Later successes do not clear the error. */
	rtcp_writer_add(&w, 0);
	cr_assert_eq(rtcp_writer_finish(&w), -E2BIG);
	/* A claimed length beyond the room is an error too. */
	rtcp_writer_init(&w, b, 8);
	cr_assert_eq(rtcp_writer_add(&w, 12), 12);
	cr_assert_eq(rtcp_writer_finish(&w), -E2BIG);
}

Test(rtcp_builders, every_builder_checks_cap)
{
	uint8_t b[256];
	struct rtcp_sr sr = {.rc = 2};
	struct rtcp_rr rr = {.rc = 1};
	int need = rtcp_sr_build(b, sizeof(b), &sr);
	cr_assert_eq(need, 4 + 24 + 48);
	for (size_t cap = 0; cap < (size_t)need; cap++)
		cr_assert_eq(rtcp_sr_build(b, cap, &sr), -E2BIG, "cap %zu", cap);
	need = rtcp_rr_build(b, sizeof(b), &rr);
	cr_assert_eq(need, 32);
	for (size_t cap = 0; cap < (size_t)need; cap++)
		cr_assert_eq(rtcp_rr_build(b, cap, &rr), -E2BIG, "cap %zu", cap);
	sr.rc = 32;
	cr_assert_eq(rtcp_sr_build(b, sizeof(b), &sr), -EINVAL);
	rr.rc = 0;
	rr.ext_len = 3;
	rr.ext = b;
	cr_assert_eq(rtcp_rr_build(b + 128, 128, &rr), -EINVAL);
}
