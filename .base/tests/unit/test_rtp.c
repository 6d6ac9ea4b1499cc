/* Unit tests of dataplane/proto/rtp.c: parsing (CSRCs, RFC 8285 one- and
 * two-byte extensions, padding), building and round trips. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtp.h"

/* A fixed header: V=2, PT 96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344. */
static size_t fixed_header(uint8_t *b, uint8_t flags_cc, uint8_t m_pt)
{
	const uint8_t h[12] = {flags_cc, m_pt, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF,
			       0x11, 0x22, 0x33, 0x44};
	memcpy(b, h, sizeof(h));
	return sizeof(h);
}

Test(rtp_parse, minimal_header_fields)
{
	uint8_t b[16];
	size_t n = fixed_header(b, 0x80, 0xE0); /* M=1, PT=96 */
	memcpy(b + n, "\x01\x02\x03\x04", 4);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n + 4, &h), 0);
	cr_assert_eq(h.padding, 0);
	cr_assert_eq(h.extension, 0);
	cr_assert_eq(h.csrc_count, 0);
	cr_assert_eq(h.marker, 1);
	cr_assert_eq(h.payload_type, 96);
	cr_assert_eq(h.seq, 0x1234);
	cr_assert_eq(h.timestamp, 0xDEADBEEFu);
	cr_assert_eq(h.ssrc, 0x11223344u);
	cr_assert_eq(h.header_len, 12);
	cr_assert_eq(h.payload, b + 12);
	cr_assert_eq(h.payload_len, 4);
	cr_assert_eq(h.padding_len, 0);
}

Test(rtp_parse, header_only_has_empty_payload)
{
	uint8_t b[12];
	fixed_header(b, 0x80, 0x00);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, 12, &h), 0);
	cr_assert_eq(h.payload_type, 0);
	cr_assert_eq(h.marker, 0);
	cr_assert_eq(h.payload_len, 0);
}

Test(rtp_parse, short_inputs_are_truncated)
{
	uint8_t b[12];
	fixed_header(b, 0x80, 96);
	struct rtp_header h;
	for (size_t len = 0; len < 12; len++)
		cr_assert_eq(rtp_parse(b, len, &h), -ENODATA, "len %zu", len);
}

Test(rtp_parse, wrong_version)
{
	uint8_t b[12];
	struct rtp_header h;
	const uint8_t v[] = {0x00, 0x40, 0xC0};
	for (size_t i = 0; i < sizeof(v); i++) {
		fixed_header(b, v[i], 96);
		cr_assert_eq(rtp_parse(b, sizeof(b), &h), -EPROTO, "byte0 %#x", v[i]);
	}
}

Test(rtp_parse, csrcs)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x83, 96);
	const uint8_t csrc[12] = {0, 0, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD, 0xFF, 0xFF, 0xFF, 0xFF};
	memcpy(b + n, csrc, sizeof(csrc));
	n += sizeof(csrc);
	b[n++] = 0x55;
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.csrc_count, 3);
	cr_assert_eq(h.csrc[0], 1u);
	cr_assert_eq(h.csrc[1], 0xAABBCCDDu);
	cr_assert_eq(h.csrc[2], 0xFFFFFFFFu);
	cr_assert_eq(h.header_len, 24);
	cr_assert_eq(h.payload_len, 1);
	cr_assert_eq(h.payload[0], 0x55);
	/* Every length that cuts into the CSRC list is truncated. */
	for (size_t len = 12; len < 24; len++)
		cr_assert_eq(rtp_parse(b, len, &h), -ENODATA, "len %zu", len);
	cr_assert_eq(rtp_parse(b, 24, &h), 0);
	cr_assert_eq(h.payload_len, 0);
}

Test(rtp_parse, fifteen_csrcs)
{
	uint8_t b[12 + 60];
	fixed_header(b, 0x8F, 96);
	for (int i = 0; i < 15; i++) {
		b[12 + 4 * i] = 0;
		b[13 + 4 * i] = 0;
		b[14 + 4 * i] = 0;
		b[15 + 4 * i] = (uint8_t)(i + 1);
	}
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, sizeof(b), &h), 0);
	cr_assert_eq(h.csrc_count, 15);
	cr_assert_eq(h.csrc[14], 15u);
	cr_assert_eq(h.header_len, 72);
}

/* Header + one-byte extension:
 *   id 1 len 1 [0xAA], padding 0, id 2 len 3 [1 2 3], id 3 len 2 ... */
static size_t one_byte_packet(uint8_t *b)
{
	size_t n = fixed_header(b, 0x90, 96);
	const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x03,
			       0x10, 0xAA, 0x00, 0x22,
			       0x01, 0x02, 0x03, 0x31,
			       0x07, 0x08, 0x00, 0x00};
	memcpy(b + n, ext, sizeof(ext));
	n += sizeof(ext);
	memcpy(b + n, "pay", 3);
	return n + 3;
}

Test(rtp_ext, one_byte_elements_and_padding)
{
	uint8_t b[64];
	size_t n = one_byte_packet(b);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.extension, 1);
	cr_assert_eq(h.ext_profile, RTP_EXT_PROFILE_ONE_BYTE);
	cr_assert_eq(h.ext_len, 12);
	cr_assert_eq(h.ext_data, b + 16);
	cr_assert_eq(h.header_len, 28);
	cr_assert_eq(h.payload_len, 3);
	cr_assert_eq(memcmp(h.payload, "pay", 3), 0);

	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 1);
	cr_assert_eq(e.len, 1);
	cr_assert_eq(e.data[0], 0xAA);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 2);
	cr_assert_eq(e.len, 3);
	cr_assert_eq(memcmp(e.data, "\x01\x02\x03", 3), 0);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 3);
	cr_assert_eq(e.len, 2);
	cr_assert_eq(e.data[0], 0x07);
	cr_assert_eq(e.data[1], 0x08);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0, "stays at the end");
}

Test(rtp_ext, one_byte_id15_stops_parsing)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x90, 96);
	/* id 1 len 1, then id 15 (whose length would run past the end),
	 * then what looks like id 2: never reached. */
	const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x02, 0x10, 0x01, 0xFF, 0x20,
			       0x05, 0x00, 0x00, 0x00};
	memcpy(b + n, ext, sizeof(ext));
	n += sizeof(ext);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 1);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
	cr_assert_eq(rtp_ext_find(&h, 2, &e), 0);
}

Test(rtp_ext, one_byte_element_past_end)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x90, 96);
	/* id 1 claims 4 data bytes but only 3 remain. */
	const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x01, 0x13, 0x01, 0x02, 0x03};
	memcpy(b + n, ext, sizeof(ext));
	n += sizeof(ext);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), -EBADMSG);
	cr_assert_eq(rtp_ext_find(&h, 1, &e), -EBADMSG);
	/* With len 3 (L=2) it fits exactly. */
	b[16] = 0x12;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	off = 0;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.len, 3);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
}

static size_t two_byte_packet(uint8_t *b)
{
	size_t n = fixed_header(b, 0x90, 96);
	/* id 1 len 0; padding; id 200 len 3; id 16 len 1; padding */
	const uint8_t ext[] = {0x10, 0x03, 0x00, 0x03,
			       0x01, 0x00, 0x00, 0xC8,
			       0x03, 0xA1, 0xA2, 0xA3,
			       0x10, 0x01, 0x5A, 0x00};
	memcpy(b + n, ext, sizeof(ext));
	return n + sizeof(ext);
}

Test(rtp_ext, two_byte_elements)
{
	uint8_t b[64];
	size_t n = two_byte_packet(b);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.ext_profile, 0x1003);
	cr_assert_eq(h.ext_len, 12);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 1);
	cr_assert_eq(e.len, 0);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 200);
	cr_assert_eq(e.len, 3);
	cr_assert_eq(memcmp(e.data, "\xA1\xA2\xA3", 3), 0);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
	cr_assert_eq(e.id, 16);
	cr_assert_eq(e.len, 1);
	cr_assert_eq(e.data[0], 0x5A);
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);

	cr_assert_eq(rtp_ext_find(&h, 200, &e), 1);
	cr_assert_eq(e.data, b + 16 + 5);
	cr_assert_eq(rtp_ext_find(&h, 2, &e), 0);
}

Test(rtp_ext, two_byte_element_past_end)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x90, 96);
	/* id 5 len 3 with 2 data bytes left */
	const uint8_t ext1[] = {0x10, 0x00, 0x00, 0x01, 0x05, 0x03, 0xAA, 0xBB};
	memcpy(b + n, ext1, sizeof(ext1));
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n + sizeof(ext1), &h), 0);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), -EBADMSG);
	/* An id in the last byte with no room for its length byte. */
	const uint8_t ext2[] = {0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07};
	memcpy(b + n, ext2, sizeof(ext2));
	cr_assert_eq(rtp_parse(b, n + sizeof(ext2), &h), 0);
	off = 0;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), -EBADMSG);
}

Test(rtp_ext, unknown_profile_and_no_extension)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x90, 96);
	const uint8_t ext[] = {0xAB, 0xCD, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00};
	memcpy(b + n, ext, sizeof(ext));
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n + sizeof(ext), &h), 0);
	cr_assert_eq(h.ext_profile, 0xABCD);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), -EPROTO);
	cr_assert_eq(rtp_ext_find(&h, 1, &e), -EPROTO);

	/* 0x1010 is not of the 0x100X two-byte form. */
	b[12] = 0x10;
	b[13] = 0x10;
	cr_assert_eq(rtp_parse(b, n + sizeof(ext), &h), 0);
	off = 0;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), -EPROTO);

	fixed_header(b, 0x80, 96);
	cr_assert_eq(rtp_parse(b, 12, &h), 0);
	off = 0;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
	cr_assert_eq(rtp_ext_find(&h, 1, &e), 0);
}

Test(rtp_ext, empty_extension)
{
	uint8_t b[16];
	size_t n = fixed_header(b, 0x90, 96);
	memcpy(b + n, "\xBE\xDE\x00\x00", 4);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, 16, &h), 0);
	cr_assert_eq(h.ext_len, 0);
	cr_assert_eq(h.header_len, 16);
	size_t off = 0;
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
}

Test(rtp_parse, extension_truncated)
{
	uint8_t b[64];
	size_t n = one_byte_packet(b);
	struct rtp_header h;
	/* Cut inside the 4-byte extension header and inside its body. */
	for (size_t len = 12; len < 28; len++)
		cr_assert_eq(rtp_parse(b, len, &h), -ENODATA, "len %zu", len);
	cr_assert_eq(rtp_parse(b, 28, &h), 0);
	/* A length word larger than the packet. */
	b[15] = 0x40;
	cr_assert_eq(rtp_parse(b, n, &h), -ENODATA);
}

Test(rtp_parse, csrc_and_extension_together)
{
	uint8_t b[64];
	size_t n = fixed_header(b, 0x91, 96);
	memcpy(b + n, "\x0A\x0B\x0C\x0D", 4);
	n += 4;
	memcpy(b + n, "\xBE\xDE\x00\x01\x40\x77\x00\x00", 8);
	n += 8;
	b[n++] = 0x99;
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.csrc[0], 0x0A0B0C0Du);
	cr_assert_eq(h.ext_data, b + 20);
	cr_assert_eq(h.header_len, 24);
	cr_assert_eq(h.payload_len, 1);
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_find(&h, 4, &e), 1);
	cr_assert_eq(e.len, 1);
	cr_assert_eq(e.data[0], 0x77);
}

Test(rtp_parse, padding)
{
	uint8_t b[32];
	size_t n = fixed_header(b, 0xA0, 96);
	memcpy(b + n, "abcde\0\0\x03", 8);
	n += 8;
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.padding, 1);
	cr_assert_eq(h.padding_len, 3);
	cr_assert_eq(h.payload_len, 5);
	cr_assert_eq(memcmp(h.payload, "abcde", 5), 0);

	/* The whole payload may be padding (count == remaining). */
	b[n - 1] = 8;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.payload_len, 0);
	cr_assert_eq(h.padding_len, 8);

	/* Count larger than what follows the header. */
	b[n - 1] = 9;
	cr_assert_eq(rtp_parse(b, n, &h), -EBADMSG);
	b[n - 1] = 255;
	cr_assert_eq(rtp_parse(b, n, &h), -EBADMSG);
	/* Count 0. */
	b[n - 1] = 0;
	cr_assert_eq(rtp_parse(b, n, &h), -EBADMSG);
	/* P set but nothing after the header. */
	cr_assert_eq(rtp_parse(b, 12, &h), -EBADMSG);
}

Test(rtp_parse, padding_cannot_reach_into_extension)
{
	uint8_t b[64];
	size_t n = one_byte_packet(b); /* header_len 28, payload "pay" */
	b[0] |= 0x20;
	b[n++] = 4; /* payload "pay" + count: 4 bytes of padding */
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, n, &h), 0);
	cr_assert_eq(h.payload_len, 0);
	b[n - 1] = 5;
	cr_assert_eq(rtp_parse(b, n, &h), -EBADMSG);
}

/* ---- build ------------------------------------------------------------- */

Test(rtp_build, exact_bytes_plain)
{
	uint8_t b[64];
	struct rtp_build_params p = {.marker = true, .payload_type = 111, .seq = 0xABCD,
				     .timestamp = 0x01020304, .ssrc = 0xCAFEBABE};
	int n = rtp_build(b, sizeof(b), &p, (const uint8_t *)"xy", 2);
	cr_assert_eq(n, 14);
	const uint8_t want[14] = {0x80, 0x80 | 111, 0xAB, 0xCD, 1, 2, 3, 4,
				  0xCA, 0xFE, 0xBA, 0xBE, 'x', 'y'};
	cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
}

Test(rtp_build, exact_bytes_one_byte_extension_padded)
{
	uint8_t b[64];
	const uint8_t d1[1] = {0x42}, d2[2] = {0x01, 0x02};
	const struct rtp_ext_elem ext[2] = {{.id = 1, .len = 1, .data = d1},
					    {.id = 14, .len = 2, .data = d2}};
	struct rtp_build_params p = {.payload_type = 96, .seq = 1, .timestamp = 2, .ssrc = 3,
				     .n_ext = 2, .ext = ext};
	int n = rtp_build(b, sizeof(b), &p, NULL, 0);
	/* 2 + 3 = 5 bytes of elements, padded to 8. */
	cr_assert_eq(n, 12 + 4 + 8);
	const uint8_t want[12] = {0xBE, 0xDE, 0x00, 0x02, 0x10, 0x42, 0xE1, 0x01,
				  0x02, 0x00, 0x00, 0x00};
	cr_assert_eq(b[0], 0x90);
	cr_assert_eq(memcmp(b + 12, want, sizeof(want)), 0);
}

Test(rtp_build, exact_bytes_two_byte_extension)
{
	uint8_t b[64];
	const uint8_t d[3] = {7, 8, 9};
	const struct rtp_ext_elem ext[2] = {{.id = 1, .len = 0, .data = NULL},
					    {.id = 20, .len = 3, .data = d}};
	struct rtp_build_params p = {.payload_type = 96, .n_ext = 2, .ext = ext};
	int n = rtp_build(b, sizeof(b), &p, NULL, 0);
	cr_assert_eq(n, 12 + 4 + 8);
	const uint8_t want[12] = {0x10, 0x00, 0x00, 0x02, 0x01, 0x00, 0x14, 0x03,
				  7, 8, 9, 0};
	cr_assert_eq(memcmp(b + 12, want, sizeof(want)), 0);
}

Test(rtp_build, form_choice)
{
	uint8_t b[128], data[17];
	memset(data, 0x33, sizeof(data));
	struct rtp_header h;
	struct {
		uint8_t id, len;
		uint16_t profile;
	} cases[] = {
		{1, 1, RTP_EXT_PROFILE_ONE_BYTE},
		{14, 16, RTP_EXT_PROFILE_ONE_BYTE},
		{15, 1, RTP_EXT_PROFILE_TWO_BYTE},  /* id 15 is reserved */
		{1, 17, RTP_EXT_PROFILE_TWO_BYTE},  /* too long */
		{1, 0, RTP_EXT_PROFILE_TWO_BYTE},   /* empty */
		{255, 2, RTP_EXT_PROFILE_TWO_BYTE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtp_ext_elem e = {.id = cases[i].id, .len = cases[i].len, .data = data};
		struct rtp_build_params p = {.payload_type = 96, .n_ext = 1, .ext = &e};
		int n = rtp_build(b, sizeof(b), &p, NULL, 0);
		cr_assert_gt(n, 0);
		cr_assert_eq(rtp_parse(b, (size_t)n, &h), 0);
		cr_assert_eq(h.ext_profile, cases[i].profile, "case %zu", i);
		cr_assert_eq(h.ext_len % 4, 0);
		struct rtp_ext_elem got;
		cr_assert_eq(rtp_ext_find(&h, cases[i].id, &got), 1, "case %zu", i);
		cr_assert_eq(got.len, cases[i].len);
	}
}

Test(rtp_build, mixed_elements_force_two_byte)
{
	uint8_t b[128];
	const uint8_t d[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	const struct rtp_ext_elem ext[3] = {{.id = 3, .len = 2, .data = d},
					    {.id = 4, .len = 20, .data = d},
					    {.id = 5, .len = 1, .data = d + 5}};
	struct rtp_build_params p = {.payload_type = 96, .n_ext = 3, .ext = ext};
	int n = rtp_build(b, sizeof(b), &p, NULL, 0);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, (size_t)n, &h), 0);
	cr_assert_eq(h.ext_profile, RTP_EXT_PROFILE_TWO_BYTE);
	/* (2+2) + (2+20) + (2+1) = 29, padded to 32 */
	cr_assert_eq(h.ext_len, 32);
	size_t off = 0;
	struct rtp_ext_elem e;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(rtp_ext_next(&h, &off, &e), 1);
		cr_assert_eq(e.id, ext[i].id);
		cr_assert_eq(e.len, ext[i].len);
		cr_assert_eq(memcmp(e.data, ext[i].data, e.len), 0);
	}
	cr_assert_eq(rtp_ext_next(&h, &off, &e), 0);
}

Test(rtp_build, round_trip_everything)
{
	uint8_t b[RTP_MAX_PACKET], payload[200];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	const uint32_t csrc[4] = {1, 0x80000000u, 0x12345678u, 0xFFFFFFFFu};
	const uint8_t tl[3] = {0xAA, 0xBB, 0xCC}, aud[1] = {0x80 | 42};
	const struct rtp_ext_elem ext[2] = {{.id = 1, .len = 1, .data = aud},
					    {.id = 5, .len = 3, .data = tl}};
	struct rtp_build_params p = {.marker = true, .payload_type = 127, .seq = 65535,
				     .timestamp = 0xFFFFFFFFu, .ssrc = 0x01020304u,
				     .csrc_count = 4, .csrc = csrc, .n_ext = 2, .ext = ext,
				     .padding_len = 13};
	int n = rtp_build(b, sizeof(b), &p, payload, sizeof(payload));
	/* 12 + 16 CSRC + 4 + 8 ext + 200 + 13 */
	cr_assert_eq(n, 12 + 16 + 12 + 200 + 13);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, (size_t)n, &h), 0);
	cr_assert_eq(h.marker, 1);
	cr_assert_eq(h.payload_type, 127);
	cr_assert_eq(h.seq, 65535);
	cr_assert_eq(h.timestamp, 0xFFFFFFFFu);
	cr_assert_eq(h.ssrc, 0x01020304u);
	cr_assert_eq(h.csrc_count, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(h.csrc[i], csrc[i]);
	cr_assert_eq(h.padding, 1);
	cr_assert_eq(h.padding_len, 13);
	cr_assert_eq(h.payload_len, sizeof(payload));
	cr_assert_eq(memcmp(h.payload, payload, sizeof(payload)), 0);
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_find(&h, 5, &e), 1);
	cr_assert_eq(memcmp(e.data, tl, 3), 0);
	cr_assert_eq(rtp_ext_find(&h, 1, &e), 1);
	cr_assert_eq(e.data[0], aud[0]);
	/* padding bytes: zeros, then the count */
	for (int i = n - 13; i < n - 1; i++)
		cr_assert_eq(b[i], 0);
	cr_assert_eq(b[n - 1], 13);
}

Test(rtp_build, payload_already_in_place)
{
	uint8_t b[64];
	const uint8_t d[2] = {1, 2};
	const struct rtp_ext_elem ext = {.id = 2, .len = 2, .data = d};
	struct rtp_build_params p = {.payload_type = 96, .n_ext = 1, .ext = &ext};
	/* Payload sits where a plain header would end: the extension moves it. */
	memcpy(b + 12, "hello", 5);
	int n = rtp_build(b, sizeof(b), &p, b + 12, 5);
	cr_assert_eq(n, 12 + 8 + 5);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, (size_t)n, &h), 0);
	cr_assert_eq(h.payload_len, 5);
	cr_assert_eq(memcmp(h.payload, "hello", 5), 0);
}

Test(rtp_build, too_small_buffer)
{
	uint8_t b[64];
	const uint8_t d[2] = {1, 2};
	const struct rtp_ext_elem ext = {.id = 2, .len = 2, .data = d};
	const uint32_t csrc = 9;
	struct rtp_build_params p = {.payload_type = 96, .csrc_count = 1, .csrc = &csrc,
				     .n_ext = 1, .ext = &ext, .padding_len = 4};
	int full = rtp_build(b, sizeof(b), &p, (const uint8_t *)"abc", 3);
	cr_assert_eq(full, 12 + 4 + 8 + 3 + 4);
	for (size_t cap = 0; cap < (size_t)full; cap++)
		cr_assert_eq(rtp_build(b, cap, &p, (const uint8_t *)"abc", 3), -E2BIG,
			     "cap %zu", cap);
	cr_assert_eq(rtp_build(b, (size_t)full, &p, (const uint8_t *)"abc", 3), full);
}

Test(rtp_build, invalid_params)
{
	uint8_t b[64];
	struct rtp_build_params p = {.payload_type = 128};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), -EINVAL);
	const uint32_t csrc[16] = {0};
	p = (struct rtp_build_params){.payload_type = 0, .csrc_count = 16, .csrc = csrc};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), -EINVAL);
	p = (struct rtp_build_params){.payload_type = 0, .csrc_count = 1, .csrc = NULL};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), -EINVAL);
	const uint8_t d = 1;
	struct rtp_ext_elem e = {.id = 0, .len = 1, .data = &d};
	p = (struct rtp_build_params){.payload_type = 0, .n_ext = 1, .ext = &e};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), -EINVAL);
	e = (struct rtp_ext_elem){.id = 1, .len = 1, .data = NULL};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), -EINVAL);
	p = (struct rtp_build_params){.payload_type = 0};
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 4), -EINVAL);
	cr_assert_eq(rtp_build(b, sizeof(b), &p, NULL, 0), 12);
}

Test(rtp_build, max_padding)
{
	uint8_t b[400];
	struct rtp_build_params p = {.payload_type = 8, .padding_len = 255};
	int n = rtp_build(b, sizeof(b), &p, (const uint8_t *)"z", 1);
	cr_assert_eq(n, 12 + 1 + 255);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, (size_t)n, &h), 0);
	cr_assert_eq(h.padding_len, 255);
	cr_assert_eq(h.payload_len, 1);
	cr_assert_eq(h.payload[0], 'z');
}

Test(rtp_accessors, get_and_set_in_place)
{
	uint8_t b[12];
	fixed_header(b, 0x80, 96);
	cr_assert_eq(rtp_get_seq(b), 0x1234);
	cr_assert_eq(rtp_get_ts(b), 0xDEADBEEFu);
	cr_assert_eq(rtp_get_ssrc(b), 0x11223344u);
	rtp_set_seq(b, 0xFEDC);
	rtp_set_ts(b, 0x0A0B0C0Du);
	rtp_set_ssrc(b, 0x99887766u);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(b, 12, &h), 0);
	cr_assert_eq(h.seq, 0xFEDC);
	cr_assert_eq(h.timestamp, 0x0A0B0C0Du);
	cr_assert_eq(h.ssrc, 0x99887766u);
	cr_assert_eq(b[0], 0x80, "first byte untouched");
	cr_assert_eq(b[1], 96);
}

Test(rtp, header_only_reads_what_srtp_leaves_in_clear)
{
	/* A packet with a one-byte extension (id 4, "h") and the P bit set,
	 * whose last byte (under SRTP: part of the tag) does not count its
	 * padding: rtp_parse refuses it, rtp_parse_header reads the header. */
	uint8_t rid[1] = {'h'};
	struct rtp_ext_elem el = {.id = 4, .len = 1, .data = rid};
	struct rtp_build_params p = {.payload_type = 96, .seq = 7, .timestamp = 9, .ssrc = 0x1234,
				     .n_ext = 1, .ext = &el};
	uint8_t payload[20] = {0}, pkt[100];
	int n = rtp_build(pkt, sizeof(pkt), &p, payload, sizeof(payload));
	cr_assert_gt(n, 0);
	pkt[0] |= 0x20;
	pkt[n - 1] = 200; /* more padding than the packet holds */
	struct rtp_header h;
	cr_assert_eq(rtp_parse(pkt, (size_t)n, &h), -EBADMSG);
	cr_assert_eq(rtp_parse_header(pkt, (size_t)n, &h), 0);
	cr_assert_eq(h.ssrc, 0x1234u);
	cr_assert_eq(h.padding_len, 0);
	cr_assert_eq(h.payload_len, (size_t)n - h.header_len);
	struct rtp_ext_elem got;
	cr_assert_eq(rtp_ext_find(&h, 4, &got), 1);
	cr_assert_eq(got.len, 1);
	cr_assert_eq(got.data[0], 'h');
	/* Truncated inside the extension: still an error. */
	cr_assert_eq(rtp_parse_header(pkt, 14, &h), -ENODATA);
	cr_assert_eq(rtp_parse_header(pkt, 11, &h), -ENODATA);
}
