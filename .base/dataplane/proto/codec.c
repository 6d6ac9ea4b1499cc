/* Codec names and keyframe detection for VP8 and H.264. See codec.h. */
#include "dataplane/proto/codec.h"

#include <errno.h>
#include <string.h>

/* VP8 payload descriptor bits (RFC 7741 4.2). */
#define VP8_X 0x80u
#define VP8_N 0x20u
#define VP8_S 0x10u
#define VP8_PID_MASK 0x07u
#define VP8_I 0x80u
#define VP8_L 0x40u
#define VP8_T 0x20u
#define VP8_K 0x10u
#define VP8_M 0x80u
#define VP8_Y 0x20u
#define VP8_KEYIDX_MASK 0x1Fu
/* VP8 payload header (RFC 6386 9.1): bit 0 of the frame tag is P, 0 for a
 * keyframe; a keyframe's 3-byte tag is followed by this start code. */
#define VP8_P 0x01u
#define VP8_FRAME_TAG_LEN 3u
static const uint8_t vp8_start_code[3] = {0x9d, 0x01, 0x2a};

/* H.264 NAL unit header (RFC 6184 5.3): |F|NRI|Type|. */
#define H264_F 0x80u
#define H264_TYPE_MASK 0x1Fu
/* FU header (RFC 6184 5.8): |S|E|R|Type|. */
#define H264_FU_S 0x80u
#define H264_FU_E 0x40u
#define H264_STAP_SIZE_LEN 2u
/* The slice header starts with first_mb_in_slice as ue(v): its first bit
 * is 1 exactly when the value is 0. */
#define H264_FIRST_MB_ZERO 0x80u

int mm_codec_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "opus") == 0)
		return MM_CODEC_OPUS;
	if (strcmp(name, "vp8") == 0)
		return MM_CODEC_VP8;
	if (strcmp(name, "h264") == 0)
		return MM_CODEC_H264;
	return -EINVAL;
}

const char *mm_codec_name(enum mm_codec c)
{
	switch (c) {
	case MM_CODEC_OPUS:
		return "opus";
	case MM_CODEC_VP8:
		return "vp8";
	case MM_CODEC_H264:
		return "h264";
	case MM_CODEC_UNKNOWN:
		break;
	}
	return "unknown";
}

int codec_vp8_desc_parse(const uint8_t *pl, size_t len, struct codec_vp8_desc *out)
{
	if (len < 1)
		return -ENODATA;
	memset(out, 0, sizeof(*out));
	uint8_t b = pl[0];
	out->x = (b & VP8_X) ? 1 : 0;
	out->n = (b & VP8_N) ? 1 : 0;
	out->s = (b & VP8_S) ? 1 : 0;
	out->pid = b & VP8_PID_MASK;
	size_t off = 1;
	if (!out->x) {
		out->header_len = off;
		return 0;
	}

	if (len <= off)
		return -ENODATA;
	b = pl[off++];
	out->i = (b & VP8_I) ? 1 : 0;
	out->l = (b & VP8_L) ? 1 : 0;
	out->t = (b & VP8_T) ? 1 : 0;
	out->k = (b & VP8_K) ? 1 : 0;

	if (out->i) {
		if (len <= off)
			return -ENODATA;
		b = pl[off++];
		if (b & VP8_M) {
			if (len <= off)
				return -ENODATA;
			out->picture_id = (uint16_t)((unsigned)(b & 0x7Fu) << 8 | pl[off++]);
			out->picture_id_bits = 15;
		} else {
			out->picture_id = b;
			out->picture_id_bits = 7;
		}
	}
	if (out->l) {
		if (len <= off)
			return -ENODATA;
		out->tl0picidx = pl[off++];
	}
	if (out->t || out->k) {
		/* One byte carries both; the part whose flag is clear is
		 * ignored (RFC 7741 4.2). */
		if (len <= off)
			return -ENODATA;
		b = pl[off++];
		if (out->t) {
			out->tid = b >> 6;
			out->y = (b & VP8_Y) ? 1 : 0;
		}
		if (out->k)
			out->keyidx = b & VP8_KEYIDX_MASK;
	}
	out->header_len = off;
	return 0;
}

int codec_vp8_keyframe_start(const uint8_t *pl, size_t len)
{
	struct codec_vp8_desc d;
	int rc = codec_vp8_desc_parse(pl, len, &d);
	if (rc < 0)
		return rc;
	if (!d.s || d.pid != 0)
		return 0;
	const uint8_t *vp8 = pl + d.header_len;
	size_t n = len - d.header_len;
	if (n < 1)
		return -ENODATA;
	if (vp8[0] & VP8_P)
		return 0;
	if (n >= VP8_FRAME_TAG_LEN + sizeof(vp8_start_code) &&
	    memcmp(vp8 + VP8_FRAME_TAG_LEN, vp8_start_code, sizeof(vp8_start_code)) != 0)
		return -EBADMSG;
	return 1;
}

/* Is this NAL unit (header byte, then n - 1 bytes of it) an SPS or the
 * first slice of an IDR picture? An IDR slice whose slice header is not
 * there: -ENODATA. */
static int h264_nal_starts_idr(const uint8_t *nal, size_t n)
{
	switch (nal[0] & H264_TYPE_MASK) {
	case CODEC_H264_NAL_SPS:
		return 1;
	case CODEC_H264_NAL_IDR:
		if (n < 2)
			return -ENODATA;
		return (nal[1] & H264_FIRST_MB_ZERO) ? 1 : 0;
	default:
		return 0;
	}
}

/* STAP-A (RFC 6184 5.7.1): after its header byte, NAL units each preceded
 * by a 16-bit size. All sizes are checked, also after a keyframe start
 * was seen, so that a malformed packet is always reported as such. */
static int h264_stap_a(const uint8_t *pl, size_t len)
{
	size_t off = 1;
	int found = 0;
	if (len <= off)
		return -ENODATA;
	while (off < len) {
		if (len - off < H264_STAP_SIZE_LEN)
			return -ENODATA;
		size_t sz = (size_t)pl[off] << 8 | pl[off + 1];
		off += H264_STAP_SIZE_LEN;
		if (sz == 0)
			return -EBADMSG;
		if (len - off < sz)
			return -ENODATA;
		if (pl[off] & H264_F)
			return -EBADMSG;
		int rc = h264_nal_starts_idr(pl + off, sz);
		if (rc < 0)
			return rc;
		found |= rc;
		off += sz;
	}
	return found;
}

int codec_h264_keyframe_start(const uint8_t *pl, size_t len)
{
	if (len < 1)
		return -ENODATA;
	if (pl[0] & H264_F)
		return -EBADMSG;
	uint8_t type = pl[0] & H264_TYPE_MASK;

	if (type == CODEC_H264_NAL_STAP_A)
		return h264_stap_a(pl, len);
	if (type == CODEC_H264_NAL_FU_A) {
		if (len < 2)
			return -ENODATA;
		uint8_t fu = pl[1];
		if ((fu & H264_FU_S) && (fu & H264_FU_E))
			return -EBADMSG;
		if (!(fu & H264_FU_S))
			return 0;
		uint8_t inner = fu & H264_TYPE_MASK;
		if (inner == CODEC_H264_NAL_SPS)
			return 1;
		if (inner != CODEC_H264_NAL_IDR)
			return 0;
		/* The first fragment's data starts with the slice header. */
		return len < 3 || (pl[2] & H264_FIRST_MB_ZERO) ? 1 : 0;
	}
	if (type >= CODEC_H264_NAL_STAP_B)
		return 0; /* STAP-B, MTAP16/24, FU-B, reserved 30 and 31 */
	return h264_nal_starts_idr(pl, len);
}

int codec_keyframe_start(enum mm_codec c, const uint8_t *pl, size_t len)
{
	switch (c) {
	case MM_CODEC_VP8:
		return codec_vp8_keyframe_start(pl, len);
	case MM_CODEC_H264:
		return codec_h264_keyframe_start(pl, len);
	case MM_CODEC_OPUS:
	case MM_CODEC_UNKNOWN:
		break;
	}
	return 0;
}
