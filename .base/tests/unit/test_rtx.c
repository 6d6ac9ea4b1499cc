/* Unit tests of dataplane/proto/rtx.c: RFC 4588 packets built from real RTP
 * packets (rtp_build, with CSRCs, extensions and padding), parsed, and
 * restored byte for byte; in place; buffers too small; malformed originals
 * and padding-only RTX probes. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtp.h"
#include "dataplane/proto/rtx.h"

#define RTX_SSRC 0x52545831u
#define RTX_PT 97
#define MEDIA_SSRC 0x11223344u
#define MEDIA_PT 96

static const uint32_t csrcs[2] = {0xAAAA0001u, 0xBBBB0002u};
static const struct rtp_ext_elem one_byte_ext[2] = {
	{.id = 1, .len = 1, .data = (const uint8_t *)"\x85"},
	{.id = 3, .len = 3, .data = (const uint8_t *)"\x01\x02\x03"},
};

/* A video packet: M=1, seq 0xFFFE, 2 CSRCs, a one-byte extension, a
 * payload of n bytes 0..n-1, pad bytes of padding (0 for none). */
static int original(uint8_t *buf, size_t cap, size_t n, uint8_t pad)
{
	uint8_t pl[1200];
	cr_assert_leq(n, sizeof(pl));
	for (size_t i = 0; i < n; i++)
		pl[i] = (uint8_t)i;
	const struct rtp_build_params p = {
		.marker = true, .payload_type = MEDIA_PT, .seq = 0xFFFE,
		.timestamp = 0x90000001u, .ssrc = MEDIA_SSRC,
		.csrc_count = 2, .csrc = csrcs, .n_ext = 2, .ext = one_byte_ext,
		.padding_len = pad,
	};
	int len = rtp_build(buf, cap, &p, pl, n);
	cr_assert_gt(len, 0);
	return len;
}

Test(rtx, build_fields)
{
	uint8_t o[256], x[256];
	int on = original(o, sizeof(o), 100, 0);
	int xn = rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, RTX_PT, 0x0102);
	cr_assert_eq(xn, on + RTX_OSN_LEN);

	struct rtp_header oh, xh;
	cr_assert_eq(rtp_parse(o, (size_t)on, &oh), 0);
	cr_assert_eq(rtp_parse(x, (size_t)xn, &xh), 0);
	cr_assert_eq(xh.payload_type, RTX_PT);
	cr_assert_eq(xh.ssrc, RTX_SSRC);
	cr_assert_eq(xh.seq, 0x0102);
	cr_assert_eq(xh.marker, 1);
	cr_assert_eq(xh.timestamp, 0x90000001u);
	cr_assert_eq(xh.csrc_count, 2);
	cr_assert_eq(xh.csrc[0], csrcs[0]);
	cr_assert_eq(xh.csrc[1], csrcs[1]);
	cr_assert_eq(xh.extension, 1);
	cr_assert_eq(xh.ext_profile, RTP_EXT_PROFILE_ONE_BYTE);
	cr_assert_eq(xh.ext_len, oh.ext_len);
	cr_assert_eq(memcmp(xh.ext_data, oh.ext_data, oh.ext_len), 0);
	struct rtp_ext_elem e;
	cr_assert_eq(rtp_ext_find(&xh, 3, &e), 1);
	cr_assert_eq(memcmp(e.data, "\x01\x02\x03", 3), 0);
	cr_assert_eq(xh.header_len, oh.header_len);
	/* Payload: OSN 0xFFFE, then the original payload. */
	cr_assert_eq(xh.payload_len, oh.payload_len + 2);
	cr_assert_eq(xh.payload[0], 0xFF);
	cr_assert_eq(xh.payload[1], 0xFE);
	cr_assert_eq(memcmp(xh.payload + 2, oh.payload, oh.payload_len), 0);

	struct rtx_info info;
	cr_assert_eq(rtx_parse(x, (size_t)xn, &info), 0);
	cr_assert_eq(info.osn, 0xFFFE);
	cr_assert_eq(info.rtp.ssrc, RTX_SSRC);
	cr_assert_eq(info.payload_len, 100);
	cr_assert_eq(memcmp(info.payload, oh.payload, 100), 0);
}

Test(rtx, round_trip_byte_for_byte)
{
	const size_t sizes[] = {0, 1, 2, 100, 1100};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t o[1500], x[1500], r[1500];
		int on = original(o, sizeof(o), sizes[s], 0);
		int xn = rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, RTX_PT, 42);
		cr_assert_eq(xn, on + 2, "size %zu", sizes[s]);
		int rn = rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT);
		cr_assert_eq(rn, on, "size %zu", sizes[s]);
		cr_assert_eq(memcmp(r, o, (size_t)on), 0, "size %zu", sizes[s]);
	}
}

Test(rtx, round_trip_plain_and_two_byte_extension)
{
	/* No CSRC, no extension, M=0. */
	uint8_t o[64], x[64], r[64];
	struct rtp_build_params p = {.payload_type = 100, .seq = 7, .timestamp = 1, .ssrc = 2};
	int on = rtp_build(o, sizeof(o), &p, (const uint8_t *)"abcdef", 6);
	cr_assert_eq(on, 18);
	int xn = rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, 101, 9);
	cr_assert_eq(xn, 20);
	cr_assert_eq(x[1], 101);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, 2, 100), on);
	cr_assert_eq(memcmp(r, o, (size_t)on), 0);

	/* Two-byte extension (an element of 20 bytes), M=1. */
	const uint8_t long_data[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	const struct rtp_ext_elem e = {.id = 20, .len = 20, .data = long_data};
	uint8_t o2[128], x2[128], r2[128];
	p.marker = true;
	p.n_ext = 1;
	p.ext = &e;
	on = rtp_build(o2, sizeof(o2), &p, (const uint8_t *)"abcdef", 6);
	cr_assert_gt(on, 0);
	xn = rtx_build(x2, sizeof(x2), o2, (size_t)on, RTX_SSRC, 101, 9);
	cr_assert_eq(xn, on + 2);
	cr_assert_eq(x2[1], 0x80 | 101);
	cr_assert_eq(rtx_restore(r2, sizeof(r2), x2, (size_t)xn, 2, 100), on);
	cr_assert_eq(memcmp(r2, o2, (size_t)on), 0);
}

Test(rtx, padding_dropped)
{
	uint8_t o[256], plain[256], x[256], r[256];
	int on = original(o, sizeof(o), 50, 13);
	int pn = original(plain, sizeof(plain), 50, 0);
	cr_assert_eq(on, pn + 13);
	cr_assert(o[0] & 0x20);

	int xn = rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, RTX_PT, 1);
	cr_assert_eq(xn, pn + 2);
	cr_assert_eq(x[0] & 0x20, 0, "RTX must not claim padding");
	struct rtp_header xh;
	cr_assert_eq(rtp_parse(x, (size_t)xn, &xh), 0);
	cr_assert_eq(xh.padding_len, 0);
	cr_assert_eq(xh.payload_len, 52);

	/* Restored: the original without its padding. */
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT), pn);
	cr_assert_eq(memcmp(r, plain, (size_t)pn), 0);
}

Test(rtx, restore_drops_rtx_padding)
{
	/* A publisher's RTX packet may carry padding of its own. */
	uint8_t plain[256], x[256], r[256];
	int pn = original(plain, sizeof(plain), 30, 0);
	struct rtp_header ph;
	cr_assert_eq(rtp_parse(plain, (size_t)pn, &ph), 0);
	uint8_t pl[64] = {0xFF, 0xFE};
	memcpy(pl + 2, ph.payload, ph.payload_len);
	const struct rtp_build_params p = {
		.marker = true, .payload_type = RTX_PT, .seq = 5, .timestamp = 0x90000001u,
		.ssrc = RTX_SSRC, .csrc_count = 2, .csrc = csrcs, .n_ext = 2,
		.ext = one_byte_ext, .padding_len = 40,
	};
	int xn = rtp_build(x, sizeof(x), &p, pl, ph.payload_len + 2);
	cr_assert_gt(xn, 0);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT), pn);
	cr_assert_eq(memcmp(r, plain, (size_t)pn), 0);
}

Test(rtx, in_place)
{
	uint8_t o[256], buf[256];
	int on = original(o, sizeof(o), 120, 9);
	memcpy(buf, o, (size_t)on);
	int xn = rtx_build(buf, sizeof(buf), buf, (size_t)on, RTX_SSRC, RTX_PT, 77);
	cr_assert_eq(xn, on - 9 + 2);

	/* Same bytes as built into a separate buffer. */
	uint8_t x[256];
	cr_assert_eq(rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, RTX_PT, 77), xn);
	cr_assert_eq(memcmp(buf, x, (size_t)xn), 0);

	int rn = rtx_restore(buf, sizeof(buf), buf, (size_t)xn, MEDIA_SSRC, MEDIA_PT);
	uint8_t plain[256];
	int pn = original(plain, sizeof(plain), 120, 0);
	cr_assert_eq(rn, pn);
	cr_assert_eq(memcmp(buf, plain, (size_t)pn), 0);
}

Test(rtx, cap_too_small)
{
	uint8_t o[256], x[256], r[256];
	int on = original(o, sizeof(o), 64, 0);
	size_t need = (size_t)on + 2;
	memset(x, 0xEE, sizeof(x));
	for (size_t cap = 0; cap < need; cap += (cap < 16 ? 1 : 17))
		cr_assert_eq(rtx_build(x, cap, o, (size_t)on, RTX_SSRC, RTX_PT, 1), -E2BIG,
			     "cap %zu", cap);
	cr_assert_eq(rtx_build(x, need - 1, o, (size_t)on, RTX_SSRC, RTX_PT, 1), -E2BIG);
	for (size_t i = 0; i < sizeof(x); i++)
		cr_assert_eq(x[i], 0xEE, "buf written at %zu", i);
	cr_assert_eq(rtx_build(x, need, o, (size_t)on, RTX_SSRC, RTX_PT, 1), (int)need);

	memset(r, 0xEE, sizeof(r));
	cr_assert_eq(rtx_restore(r, (size_t)on - 1, x, need, MEDIA_SSRC, MEDIA_PT), -E2BIG);
	cr_assert_eq(rtx_restore(r, 0, x, need, MEDIA_SSRC, MEDIA_PT), -E2BIG);
	for (size_t i = 0; i < sizeof(r); i++)
		cr_assert_eq(r[i], 0xEE, "buf written at %zu", i);
	cr_assert_eq(rtx_restore(r, (size_t)on, x, need, MEDIA_SSRC, MEDIA_PT), on);
	cr_assert_eq(memcmp(r, o, (size_t)on), 0);
}

Test(rtx, malformed_original)
{
	uint8_t o[256], x[256];
	int on = original(o, sizeof(o), 20, 4);

	/* Truncated: inside the fixed header, the CSRCs, the extension. */
	for (size_t len = 0; len < 12; len++)
		cr_assert_eq(rtx_build(x, sizeof(x), o, len, RTX_SSRC, RTX_PT, 1), -ENODATA,
			     "len %zu", len);
	cr_assert_eq(rtx_build(x, sizeof(x), o, 16, RTX_SSRC, RTX_PT, 1), -ENODATA);
	cr_assert_eq(rtx_build(x, sizeof(x), o, 22, RTX_SSRC, RTX_PT, 1), -ENODATA);

	/* Version 1. */
	uint8_t b[256];
	memcpy(b, o, (size_t)on);
	b[0] = (uint8_t)((b[0] & 0x3F) | 0x40);
	cr_assert_eq(rtx_build(x, sizeof(x), b, (size_t)on, RTX_SSRC, RTX_PT, 1), -EPROTO);

	/* Padding count 0, and larger than the packet's payload. */
	memcpy(b, o, (size_t)on);
	b[on - 1] = 0;
	cr_assert_eq(rtx_build(x, sizeof(x), b, (size_t)on, RTX_SSRC, RTX_PT, 1), -EBADMSG);
	b[on - 1] = 200;
	cr_assert_eq(rtx_build(x, sizeof(x), b, (size_t)on, RTX_SSRC, RTX_PT, 1), -EBADMSG);

	/* An RTX payload type out of range. */
	cr_assert_eq(rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, 128, 1), -EINVAL);
}

Test(rtx, no_osn)
{
	uint8_t x[512], r[512];
	struct rtx_info info;
	/* Padding-only probe: no payload at all. */
	const struct rtp_build_params p = {.payload_type = RTX_PT, .seq = 3, .ssrc = RTX_SSRC,
					   .padding_len = 255};
	int xn = rtp_build(x, sizeof(x), &p, NULL, 0);
	cr_assert_eq(xn, 12 + 255);
	cr_assert_eq(rtx_parse(x, (size_t)xn, &info), -ENODATA);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT), -ENODATA);

	/* One payload byte: half an OSN. */
	xn = rtp_build(x, sizeof(x), &p, (const uint8_t *)"\x01", 1);
	cr_assert_gt(xn, 0);
	cr_assert_eq(rtx_parse(x, (size_t)xn, &info), -ENODATA);

	/* Exactly the OSN: an original with an empty payload. */
	const struct rtp_build_params q = {.payload_type = RTX_PT, .seq = 3, .ssrc = RTX_SSRC};
	xn = rtp_build(x, sizeof(x), &q, (const uint8_t *)"\x12\x34", 2);
	cr_assert_eq(rtx_parse(x, (size_t)xn, &info), 0);
	cr_assert_eq(info.osn, 0x1234);
	cr_assert_eq(info.payload_len, 0);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT), 12);
	cr_assert_eq(rtp_get_seq(r), 0x1234);
}

Test(rtx, malformed_rtx)
{
	uint8_t o[256], x[256], r[256];
	struct rtx_info info;
	int on = original(o, sizeof(o), 20, 0);
	int xn = rtx_build(x, sizeof(x), o, (size_t)on, RTX_SSRC, RTX_PT, 1);
	cr_assert_gt(xn, 0);
	cr_assert_eq(rtx_parse(x, 11, &info), -ENODATA);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, 11, MEDIA_SSRC, MEDIA_PT), -ENODATA);
	x[0] = (uint8_t)(x[0] & 0x3F);
	cr_assert_eq(rtx_parse(x, (size_t)xn, &info), -EPROTO);
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, MEDIA_PT), -EPROTO);
	x[0] |= 0x80;
	cr_assert_eq(rtx_restore(r, sizeof(r), x, (size_t)xn, MEDIA_SSRC, 200), -EINVAL);
}
