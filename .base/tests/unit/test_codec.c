/* Unit tests of dataplane/proto/codec.c: codec names, the VP8 payload
 * descriptor, and keyframe starts of VP8 and H.264 packets (including
 * payloads taken out of real RTP packets built with rtp_build), with
 * truncated and malformed input getting the exact error. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/proto/codec.h"
#include "dataplane/proto/rtp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Names --------------------------------------------------------------- */

Test(codec_name, from_name)
{
	cr_assert_eq(mm_codec_from_name("opus"), MM_CODEC_OPUS);
	cr_assert_eq(mm_codec_from_name("vp8"), MM_CODEC_VP8);
	cr_assert_eq(mm_codec_from_name("h264"), MM_CODEC_H264);
	const char *bad[] = {"", "VP8", "H264", "vp9", "h265", "opus ", "unknown", "vp"};
	for (size_t i = 0; i < N_ELEMS(bad); i++)
		cr_assert_eq(mm_codec_from_name(bad[i]), -EINVAL, "%s", bad[i]);
	cr_assert_eq(mm_codec_from_name(NULL), -EINVAL);
}

Test(codec_name, name_round_trips)
{
	const enum mm_codec all[] = {MM_CODEC_OPUS, MM_CODEC_VP8, MM_CODEC_H264};
	for (size_t i = 0; i < N_ELEMS(all); i++)
		cr_assert_eq(mm_codec_from_name(mm_codec_name(all[i])), (int)all[i]);
	cr_assert_str_eq(mm_codec_name(MM_CODEC_VP8), "vp8");
	cr_assert_str_eq(mm_codec_name(MM_CODEC_UNKNOWN), "unknown");
	cr_assert_str_eq(mm_codec_name((enum mm_codec)42), "unknown");
	cr_assert_eq(mm_codec_from_name(mm_codec_name(MM_CODEC_UNKNOWN)), -EINVAL);
}

/* ---- VP8 descriptor -------------------------------------------------------- */

Test(vp8_desc, minimal)
{
	const uint8_t b[] = {0x10, 0xAA}; /* S=1, PID 0, then payload */
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.x, 0);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(d.s, 1);
	cr_assert_eq(d.pid, 0);
	cr_assert_eq(d.i + d.l + d.t + d.k, 0);
	cr_assert_eq(d.picture_id_bits, 0);
	cr_assert_eq(d.header_len, 1);
}

Test(vp8_desc, n_and_pid)
{
	const uint8_t b[] = {0x27}; /* N=1, S=0, PID 7 */
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.s, 0);
	cr_assert_eq(d.pid, 7);
	cr_assert_eq(d.header_len, 1);
}

Test(vp8_desc, reserved_bits_ignored)
{
	/* Both R bits of the first byte and RSV of the second set. */
	const uint8_t b[] = {0xD8 | 0x02, 0x0F};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.x, 1);
	cr_assert_eq(d.s, 1);
	cr_assert_eq(d.pid, 2);
	cr_assert_eq(d.i + d.l + d.t + d.k, 0);
	cr_assert_eq(d.header_len, 2);
}

Test(vp8_desc, picture_id_7_bit)
{
	const uint8_t b[] = {0x90, 0x80, 0x5A};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.i, 1);
	cr_assert_eq(d.picture_id_bits, 7);
	cr_assert_eq(d.picture_id, 0x5A);
	cr_assert_eq(d.header_len, 3);
}

Test(vp8_desc, picture_id_15_bit)
{
	const uint8_t b[] = {0x90, 0x80, 0xAB, 0xCD};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.picture_id_bits, 15);
	cr_assert_eq(d.picture_id, 0x2BCD);
	cr_assert_eq(d.header_len, 4);
}

Test(vp8_desc, tl0picidx)
{
	const uint8_t b[] = {0x90, 0x40, 0x77};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.i, 0);
	cr_assert_eq(d.l, 1);
	cr_assert_eq(d.tl0picidx, 0x77);
	cr_assert_eq(d.header_len, 3);
}

Test(vp8_desc, tid_and_y_without_keyidx)
{
	/* T only: TID 2, Y 1, the KEYIDX bits are ignored. */
	const uint8_t b[] = {0x90, 0x20, 0xBF};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.t, 1);
	cr_assert_eq(d.k, 0);
	cr_assert_eq(d.tid, 2);
	cr_assert_eq(d.y, 1);
	cr_assert_eq(d.keyidx, 0);
	cr_assert_eq(d.header_len, 3);
}

Test(vp8_desc, keyidx_without_tid)
{
	/* K only: KEYIDX 0x15, the TID/Y bits are ignored. */
	const uint8_t b[] = {0x90, 0x10, 0xF5};
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(b, sizeof(b), &d), 0);
	cr_assert_eq(d.t, 0);
	cr_assert_eq(d.k, 1);
	cr_assert_eq(d.tid, 0);
	cr_assert_eq(d.y, 0);
	cr_assert_eq(d.keyidx, 0x15);
	cr_assert_eq(d.header_len, 3);
}

/* Every optional field: I (15-bit), L, T and K: 6 bytes. */
static const uint8_t vp8_full_desc[] = {0xB0, 0xF0, 0x81, 0x02, 0x33, 0x4A};

Test(vp8_desc, all_fields)
{
	struct codec_vp8_desc d;
	cr_assert_eq(codec_vp8_desc_parse(vp8_full_desc, sizeof(vp8_full_desc), &d), 0);
	cr_assert_eq(d.x, 1);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.s, 1);
	cr_assert_eq(d.i && d.l && d.t && d.k, 1);
	cr_assert_eq(d.picture_id_bits, 15);
	cr_assert_eq(d.picture_id, 0x0102);
	cr_assert_eq(d.tl0picidx, 0x33);
	cr_assert_eq(d.tid, 1);
	cr_assert_eq(d.y, 0);
	cr_assert_eq(d.keyidx, 0x0A);
	cr_assert_eq(d.header_len, 6);
}

Test(vp8_desc, truncated_at_every_length)
{
	const struct {
		const uint8_t *b;
		size_t len;
	} forms[] = {
		{(const uint8_t *)"\x10", 1},
		{(const uint8_t *)"\x90\x00", 2},
		{(const uint8_t *)"\x90\x80\x05", 3},
		{(const uint8_t *)"\x90\x80\x85\x06", 4},
		{(const uint8_t *)"\x90\x40\x07", 3},
		{(const uint8_t *)"\x90\x20\x40", 3},
		{(const uint8_t *)"\x90\x10\x03", 3},
		{vp8_full_desc, sizeof(vp8_full_desc)},
	};
	struct codec_vp8_desc d;
	for (size_t f = 0; f < N_ELEMS(forms); f++) {
		cr_assert_eq(codec_vp8_desc_parse(forms[f].b, forms[f].len, &d), 0, "form %zu", f);
		cr_assert_eq(d.header_len, forms[f].len, "form %zu", f);
		for (size_t len = 0; len < forms[f].len; len++) {
			cr_assert_eq(codec_vp8_desc_parse(forms[f].b, len, &d), -ENODATA,
				     "form %zu len %zu", f, len);
			cr_assert_eq(codec_vp8_keyframe_start(forms[f].b, len), -ENODATA,
				     "form %zu len %zu", f, len);
		}
	}
}

/* ---- VP8 keyframes ------------------------------------------------------- */

/* Frame tag of a shown keyframe (P=0), the start code, 64x48. */
static const uint8_t vp8_key[] = {0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00};
/* Frame tag of an interframe (P=1), then compressed data. */
static const uint8_t vp8_delta[] = {0x31, 0x02, 0x00, 0x12, 0x34, 0x56, 0x78};

/* desc followed by body, into b. */
static size_t vp8_packet(uint8_t *b, const uint8_t *desc, size_t dlen,
			 const uint8_t *body, size_t blen)
{
	memcpy(b, desc, dlen);
	memcpy(b + dlen, body, blen);
	return dlen + blen;
}

Test(vp8_key, keyframe_start_minimal_descriptor)
{
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x10", 1, vp8_key, sizeof(vp8_key));
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 1);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, b, n), 1);
}

Test(vp8_key, keyframe_start_full_descriptor)
{
	uint8_t b[32];
	size_t n = vp8_packet(b, vp8_full_desc, sizeof(vp8_full_desc), vp8_key, sizeof(vp8_key));
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 1);
}

Test(vp8_key, delta_frame)
{
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x90\x80\x11", 3, vp8_delta, sizeof(vp8_delta));
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 0);
	/* P=1 is enough: a short interframe start is not a keyframe. */
	cr_assert_eq(codec_vp8_keyframe_start(b, 4), 0);
}

Test(vp8_key, continuation_packet)
{
	/* S=0: the middle of a keyframe, even if its bytes look like a start. */
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x00", 1, vp8_key, sizeof(vp8_key));
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 0);
	n = vp8_packet(b, (const uint8_t *)"\x80\x80\x11", 3, vp8_key, sizeof(vp8_key));
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 0);
}

Test(vp8_key, other_partition)
{
	/* S=1 with PID 1..7 starts a later partition, not the frame. */
	for (uint8_t pid = 1; pid <= 7; pid++) {
		uint8_t desc = (uint8_t)(0x10 | pid);
		uint8_t b[32];
		size_t n = vp8_packet(b, &desc, 1, vp8_key, sizeof(vp8_key));
		cr_assert_eq(codec_vp8_keyframe_start(b, n), 0, "pid %u", pid);
	}
}

Test(vp8_key, short_keyframe_start_decided_by_p_bit)
{
	/* Fewer than the 6 bytes of frame tag and start code: P alone. */
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x10", 1, vp8_key, sizeof(vp8_key));
	for (size_t len = 2; len < 7; len++)
		cr_assert_eq(codec_vp8_keyframe_start(b, len), 1, "len %zu", len);
	cr_assert_eq(codec_vp8_keyframe_start(b, 7), 1);
	cr_assert_eq(codec_vp8_keyframe_start(b, n), 1);
}

Test(vp8_key, frame_start_without_payload)
{
	cr_assert_eq(codec_vp8_keyframe_start((const uint8_t *)"\x10", 1), -ENODATA);
	cr_assert_eq(codec_vp8_keyframe_start(vp8_full_desc, sizeof(vp8_full_desc)), -ENODATA);
	/* Not a frame start: nothing needed after the descriptor. */
	cr_assert_eq(codec_vp8_keyframe_start((const uint8_t *)"\x00", 1), 0);
}

Test(vp8_key, wrong_start_code)
{
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x10", 1, vp8_key, sizeof(vp8_key));
	for (size_t i = 4; i < 7; i++) {
		uint8_t c[32];
		memcpy(c, b, n);
		c[i] ^= 0x01;
		cr_assert_eq(codec_vp8_keyframe_start(c, n), -EBADMSG, "byte %zu", i);
	}
}

Test(vp8_key, from_real_rtp_packets)
{
	/* A keyframe split over three packets, and the next delta frame,
	 * as rtp_build writes them; the payload is what rtp_parse gives. */
	uint8_t body[64];
	memcpy(body, vp8_key, sizeof(vp8_key));
	memset(body + sizeof(vp8_key), 0xA5, sizeof(body) - sizeof(vp8_key));
	const struct rtp_ext_elem ext = {.id = 4, .len = 2, .data = (const uint8_t *)"\x01\x02"};
	struct rtp_build_params p = {.payload_type = 96, .seq = 100, .timestamp = 9000,
				     .ssrc = 0xCAFE, .n_ext = 1, .ext = &ext, .padding_len = 3};
	const struct {
		const char *desc;
		size_t dlen;
		size_t from, to;
		int want;
	} pk[] = {
		{"\x90\xC0\x01\x07", 4, 0, 20, 1},   /* S=1, PictureID 1, TL0 7 */
		{"\x80\xC0\x01\x07", 4, 20, 40, 0},  /* S=0 */
		{"\x80\xC0\x01\x07", 4, 40, 64, 0},
	};
	for (size_t i = 0; i < N_ELEMS(pk); i++) {
		uint8_t pl[64], pkt[128];
		size_t pn = vp8_packet(pl, (const uint8_t *)pk[i].desc, pk[i].dlen,
				       body + pk[i].from, pk[i].to - pk[i].from);
		p.seq = (uint16_t)(100 + i);
		p.marker = i == N_ELEMS(pk) - 1;
		int n = rtp_build(pkt, sizeof(pkt), &p, pl, pn);
		cr_assert_gt(n, 0);
		struct rtp_header h;
		cr_assert_eq(rtp_parse(pkt, (size_t)n, &h), 0);
		cr_assert_eq(h.payload_len, pn);
		cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, h.payload, h.payload_len),
			     pk[i].want, "packet %zu", i);
	}

	uint8_t pl[64], pkt[128];
	size_t pn = vp8_packet(pl, (const uint8_t *)"\x90\xC0\x02\x07", 4, vp8_delta,
			       sizeof(vp8_delta));
	int n = rtp_build(pkt, sizeof(pkt), &p, pl, pn);
	cr_assert_gt(n, 0);
	struct rtp_header h;
	cr_assert_eq(rtp_parse(pkt, (size_t)n, &h), 0);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, h.payload, h.payload_len), 0);
}

/* ---- H.264 single NAL units ---------------------------------------------- */

Test(h264_key, single_nal_types)
{
	const struct {
		uint8_t b[4];
		size_t len;
		int want;
	} c[] = {
		{{0x65, 0x88, 0x84, 0x00}, 4, 1}, /* IDR, first_mb_in_slice 0 */
		{{0x67, 0x42, 0xC0, 0x1F}, 4, 1}, /* SPS */
		{{0x67}, 1, 1},                   /* SPS, however short */
		{{0x41, 0x9A, 0x02, 0x03}, 4, 0}, /* non-IDR slice */
		{{0x41, 0x9A}, 2, 0},
		{{0x06, 0x05, 0x10, 0x00}, 4, 0}, /* SEI */
		{{0x68, 0xCE, 0x38, 0x80}, 4, 0}, /* PPS */
		{{0x09, 0xF0}, 2, 0},             /* access unit delimiter */
		{{0x00, 0x11}, 2, 0},             /* type 0, unspecified */
		{{0x7E, 0x00}, 2, 0},             /* type 30, reserved */
	};
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		cr_assert_eq(codec_h264_keyframe_start(c[i].b, c[i].len), c[i].want, "case %zu", i);
		cr_assert_eq(codec_keyframe_start(MM_CODEC_H264, c[i].b, c[i].len), c[i].want,
			     "case %zu", i);
	}
}

Test(h264_key, idr_slice_not_first)
{
	/* first_mb_in_slice = 1 (ue "010") and = 3 (ue "00100"). */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x65\x40\x00", 3), 0);
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x25\x20\x00", 3), 0);
	/* NRI does not matter. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x25\x80\x00", 3), 1);
}

Test(h264_key, idr_slice_without_header)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x65", 1), -ENODATA);
}

Test(h264_key, empty_payload)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"", 0), -ENODATA);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_H264, (const uint8_t *)"", 0), -ENODATA);
}

Test(h264_key, forbidden_bit)
{
	const uint8_t hdr[] = {0xE5, 0xE7, 0xC1, 0xF8, 0xFC, 0x80};
	for (size_t i = 0; i < N_ELEMS(hdr); i++) {
		uint8_t b[8] = {hdr[i], 0x85, 0x88, 0x80, 0x00, 0x01};
		cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -EBADMSG, "nal %#x", hdr[i]);
	}
}

/* ---- H.264 STAP-A -------------------------------------------------------- */

/* STAP-A of SPS (4 bytes), PPS (3) and IDR slice (5). */
static const uint8_t stap_sps_pps_idr[] = {
	0x78,
	0x00, 0x04, 0x67, 0x42, 0xC0, 0x1F,
	0x00, 0x03, 0x68, 0xCE, 0x38,
	0x00, 0x05, 0x65, 0x88, 0x84, 0x00, 0x33,
};
/* Offsets at which stap_sps_pps_idr ends after a whole NAL unit. */
static const size_t stap_boundaries[] = {7, 12, 19};

Test(h264_stap_a, sps_pps_idr)
{
	cr_assert_eq(codec_h264_keyframe_start(stap_sps_pps_idr, sizeof(stap_sps_pps_idr)), 1);
}

Test(h264_stap_a, idr_found_after_other_units)
{
	/* SEI then a first IDR slice. */
	const uint8_t b[] = {0x18, 0x00, 0x02, 0x06, 0x05, 0x00, 0x03, 0x65, 0xB8, 0x00};
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), 1);
	/* The same with an IDR slice that is not the first. */
	const uint8_t c[] = {0x18, 0x00, 0x02, 0x06, 0x05, 0x00, 0x03, 0x65, 0x40, 0x00};
	cr_assert_eq(codec_h264_keyframe_start(c, sizeof(c)), 0);
}

Test(h264_stap_a, only_non_idr)
{
	/* AUD, SEI and two non-IDR slices. */
	const uint8_t b[] = {
		0x18,
		0x00, 0x02, 0x09, 0xF0,
		0x00, 0x03, 0x06, 0x05, 0x01,
		0x00, 0x03, 0x41, 0x9A, 0x00,
		0x00, 0x03, 0x41, 0x40, 0x00,
	};
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), 0);
	/* PPS alone does not start an IDR access unit. */
	const uint8_t c[] = {0x18, 0x00, 0x03, 0x68, 0xCE, 0x38};
	cr_assert_eq(codec_h264_keyframe_start(c, sizeof(c)), 0);
}

Test(h264_stap_a, truncated_at_every_length)
{
	/* Cut after a whole NAL unit the rest is a valid, shorter STAP-A;
	 * cut anywhere else it ends inside a size or a NAL unit. */
	for (size_t len = 1; len < sizeof(stap_sps_pps_idr); len++) {
		bool boundary = false;
		for (size_t i = 0; i < N_ELEMS(stap_boundaries); i++)
			boundary |= len == stap_boundaries[i];
		int rc = codec_h264_keyframe_start(stap_sps_pps_idr, len);
		if (boundary)
			cr_assert_eq(rc, 1, "len %zu", len); /* the SPS is in */
		else
			cr_assert_eq(rc, -ENODATA, "len %zu", len);
	}
}

Test(h264_stap_a, size_beyond_packet)
{
	/* Valid SPS, then a size of 0x0100 with 3 bytes left. */
	const uint8_t b[] = {0x18, 0x00, 0x02, 0x67, 0x42, 0x01, 0x00, 0x65, 0x88, 0x00};
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -ENODATA);
	/* A lone size byte after the last unit. */
	const uint8_t c[] = {0x18, 0x00, 0x02, 0x67, 0x42, 0x00};
	cr_assert_eq(codec_h264_keyframe_start(c, sizeof(c)), -ENODATA);
}

Test(h264_stap_a, header_only)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x18", 1), -ENODATA);
}

Test(h264_stap_a, zero_size_unit)
{
	const uint8_t b[] = {0x18, 0x00, 0x00, 0x00, 0x02, 0x67, 0x42};
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -EBADMSG);
}

Test(h264_stap_a, forbidden_bit)
{
	uint8_t b[sizeof(stap_sps_pps_idr)];
	memcpy(b, stap_sps_pps_idr, sizeof(b));
	b[0] |= 0x80;
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -EBADMSG);
	/* In an aggregated unit (the PPS) while the STAP-A's own F is 0. */
	memcpy(b, stap_sps_pps_idr, sizeof(b));
	b[9] |= 0x80;
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -EBADMSG);
}

Test(h264_stap_a, idr_unit_without_slice_header)
{
	const uint8_t b[] = {0x18, 0x00, 0x01, 0x65};
	cr_assert_eq(codec_h264_keyframe_start(b, sizeof(b)), -ENODATA);
}

/* ---- H.264 FU-A, and the types never taken as a start -------------------- */

Test(h264_fu_a, idr_start_middle_end)
{
	/* FU indicator NRI 3 type 28; FU header S/E + type 5. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x85\x88\x84", 4), 1);
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x05\x88\x84", 4), 0);
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x45\x88\x84", 4), 0);
}

Test(h264_fu_a, non_idr_start_middle_end)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x5C\x81\x9A\x00", 4), 0);
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x5C\x01\x9A\x00", 4), 0);
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x5C\x41\x9A\x00", 4), 0);
	/* SEI fragment start. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x1C\x86\x05\x00", 4), 0);
}

Test(h264_fu_a, idr_start_not_first_slice)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x85\x40\x00", 4), 0);
}

Test(h264_fu_a, idr_start_without_slice_byte)
{
	/* The first_mb_in_slice test needs its byte: without it S and the
	 * type decide. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x85", 2), 1);
}

Test(h264_fu_a, sps_start)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\x87\x42\xC0", 4), 1);
}

Test(h264_fu_a, malformed)
{
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C", 1), -ENODATA);
	/* S and E in one FU header. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\x7C\xC5\x88", 3), -EBADMSG);
	/* Forbidden bit in the FU indicator. */
	cr_assert_eq(codec_h264_keyframe_start((const uint8_t *)"\xFC\x85\x88", 3), -EBADMSG);
}

Test(h264_key, other_aggregation_and_fu_b_are_not_starts)
{
	/* STAP-B (DON, then an SPS), MTAP16, MTAP24, FU-B start of an IDR. */
	const uint8_t stap_b[] = {0x19, 0x00, 0x01, 0x00, 0x02, 0x67, 0x42};
	const uint8_t mtap16[] = {0x1A, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x67};
	const uint8_t mtap24[] = {0x1B, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x67};
	const uint8_t fu_b[] = {0x7D, 0x85, 0x00, 0x01, 0x88};
	cr_assert_eq(codec_h264_keyframe_start(stap_b, sizeof(stap_b)), 0);
	cr_assert_eq(codec_h264_keyframe_start(mtap16, sizeof(mtap16)), 0);
	cr_assert_eq(codec_h264_keyframe_start(mtap24, sizeof(mtap24)), 0);
	cr_assert_eq(codec_h264_keyframe_start(fu_b, sizeof(fu_b)), 0);
	cr_assert_eq(codec_h264_keyframe_start(fu_b, 1), 0);
}

Test(h264_key, from_real_rtp_packets)
{
	/* STAP-A of SPS+PPS, then the IDR slice as FU-A start and end,
	 * then a non-IDR single NAL unit, as rtp_build writes them. */
	const uint32_t csrc[1] = {0x0BADF00D};
	struct rtp_build_params p = {.payload_type = 102, .timestamp = 3000, .ssrc = 0x5151,
				     .csrc_count = 1, .csrc = csrc};
	const struct {
		const uint8_t *pl;
		size_t len;
		int want;
	} pk[] = {
		{stap_sps_pps_idr, 12, 1},
		{(const uint8_t *)"\x7C\x85\x88\x84\x00\x33", 6, 1},
		{(const uint8_t *)"\x7C\x45\x11\x22\x33", 5, 0},
		{(const uint8_t *)"\x41\x9A\x02\x03\x04", 5, 0},
	};
	for (size_t i = 0; i < N_ELEMS(pk); i++) {
		uint8_t pkt[64];
		p.seq = (uint16_t)(7 + i);
		int n = rtp_build(pkt, sizeof(pkt), &p, pk[i].pl, pk[i].len);
		cr_assert_gt(n, 0);
		struct rtp_header h;
		cr_assert_eq(rtp_parse(pkt, (size_t)n, &h), 0);
		cr_assert_eq(codec_keyframe_start(MM_CODEC_H264, h.payload, h.payload_len),
			     pk[i].want, "packet %zu", i);
	}
}

/* ---- Dispatch -------------------------------------------------------------- */

Test(codec_dispatch, by_codec)
{
	uint8_t b[32];
	size_t n = vp8_packet(b, (const uint8_t *)"\x10", 1, vp8_key, sizeof(vp8_key));
	cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, b, n), 1);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_OPUS, b, n), 0);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_UNKNOWN, b, n), 0);
	cr_assert_eq(codec_keyframe_start((enum mm_codec)42, b, n), 0);
	/* 0x10 as an H.264 NAL header is type 16 (reserved): not a start. */
	cr_assert_eq(codec_keyframe_start(MM_CODEC_H264, b, n), 0);

	/* An H.264 IDR slice read as VP8 is S=0: not a start either. */
	cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, (const uint8_t *)"\x65\x88", 2), 0);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_H264, (const uint8_t *)"\x65\x88", 2), 1);

	/* Nothing is read for Opus, even an empty payload. */
	cr_assert_eq(codec_keyframe_start(MM_CODEC_OPUS, (const uint8_t *)"", 0), 0);
	cr_assert_eq(codec_keyframe_start(MM_CODEC_VP8, (const uint8_t *)"", 0), -ENODATA);
}
