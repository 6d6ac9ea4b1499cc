/* Video codecs as mmdp sees them: just enough of the RTP payload formats of
 * VP8 (RFC 7741) and H.264 (RFC 6184) to tell whether a packet is the first
 * packet of a keyframe, the only place where a receiver may be switched to
 * another simulcast layer. Nothing is decoded beyond that.
 * No DPDK, no allocation; the keyframe tests run per video packet on the
 * fast path and cost a few byte reads (a STAP-A walks its size fields).
 * Errors follow rtp.h: -ENODATA truncated, -EBADMSG inconsistent, -EINVAL
 * an unknown name. */
#ifndef MM_CODEC_H
#define MM_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum mm_codec {
	MM_CODEC_UNKNOWN = 0,
	MM_CODEC_OPUS,
	MM_CODEC_VP8,
	MM_CODEC_H264,
};

/* "opus", "vp8", "h264" (the agent protocol's names, lower case) to their
 * enum mm_codec; -EINVAL for anything else, NULL included. */
int mm_codec_from_name(const char *name);
/* The name of c ("opus", "vp8", "h264"), "unknown" for MM_CODEC_UNKNOWN and
 * values outside the enum. Never NULL. */
const char *mm_codec_name(enum mm_codec c);

/* ---- VP8 (RFC 7741) -----------------------------------------------------
 * The payload descriptor (section 4.2) before the VP8 payload:
 *
 *        0 1 2 3 4 5 6 7
 *       |X|R|N|S|R| PID |     required
 *   X:  |I|L|T|K|  RSV  |     when X
 *   I:  |M| PictureID   |     when I; a second PictureID byte when M
 *   L:  |   TL0PICIDX   |     when L
 *   T/K:|TID|Y| KEYIDX  |     when T or K
 *
 * Reserved bits are ignored, as the RFC asks of receivers. */
struct codec_vp8_desc {
	uint8_t x;      /* extended control bits present */
	uint8_t n;      /* non-reference frame */
	uint8_t s;      /* start of a VP8 partition */
	uint8_t pid;    /* partition index, 0..7 */
	uint8_t i;      /* PictureID present */
	uint8_t l;      /* TL0PICIDX present */
	uint8_t t;      /* TID and Y present */
	uint8_t k;      /* KEYIDX present */
	uint8_t picture_id_bits; /* 7 or 15 when i, else 0 */
	uint16_t picture_id;     /* when i */
	uint8_t tl0picidx;       /* when l */
	uint8_t tid;             /* temporal layer, 0..3, when t */
	uint8_t y;               /* layer sync, when t */
	uint8_t keyidx;          /* 0..31, when k */
	size_t header_len;       /* bytes of the descriptor: the VP8 payload
				  * starts at pl + header_len */
};

/* Parse the descriptor at the start of pl (the RTP payload, padding
 * excluded). Returns 0, or -ENODATA when pl ends inside the descriptor. */
int codec_vp8_desc_parse(const uint8_t *pl, size_t len, struct codec_vp8_desc *out);

/* Is pl the first packet of a VP8 keyframe? That is S=1 and PID=0 (the
 * packet starts the frame, RFC 7741 4.3) and the P bit (bit 0 of the first
 * byte of the VP8 payload header, RFC 6386 9.1) is 0. When the 6 bytes of a
 * keyframe's frame tag and start code are there, the start code 0x9d 0x01
 * 0x2a must follow the 3-byte tag.
 * Returns 1 keyframe start, 0 not, -ENODATA for a truncated descriptor or a
 * frame start with no VP8 payload byte, -EBADMSG for a P=0 frame whose start
 * code is wrong (a corrupt keyframe is no place to switch layers). */
int codec_vp8_keyframe_start(const uint8_t *pl, size_t len);

/* ---- H.264 (RFC 6184) ---------------------------------------------------
 * NAL unit types that matter here (ITU-T H.264 table 7-1, RFC 6184 5.2). */
#define CODEC_H264_NAL_SLICE 1
#define CODEC_H264_NAL_IDR 5
#define CODEC_H264_NAL_SEI 6
#define CODEC_H264_NAL_SPS 7
#define CODEC_H264_NAL_PPS 8
#define CODEC_H264_NAL_STAP_A 24
#define CODEC_H264_NAL_STAP_B 25
#define CODEC_H264_NAL_MTAP16 26
#define CODEC_H264_NAL_MTAP24 27
#define CODEC_H264_NAL_FU_A 28
#define CODEC_H264_NAL_FU_B 29

/* Does pl start an IDR access unit? 1 for
 *  - a single NAL unit that is an SPS (7), or the first slice of an IDR
 *    picture (5 with first_mb_in_slice == 0, i.e. the first bit of the
 *    slice header's ue(v) is 1);
 *  - a STAP-A (24) aggregating such a NAL unit (every size is checked);
 *  - an FU-A (28) with the S bit carrying an SPS or an IDR slice (the
 *    first_mb_in_slice test is made when its byte is in the packet).
 * 0 for anything else, STAP-B, MTAP and FU-B included (not used in
 * non-interleaved mode, which is all WebRTC sends).
 * -ENODATA: empty payload, a STAP-A with no NAL unit or ending inside a
 * size field or NAL unit, a single IDR slice with no slice header byte, an
 * FU-A without its FU header. -EBADMSG: the forbidden bit set (also in an
 * aggregated NAL unit), a STAP-A NAL unit of size 0, an FU-A with both S
 * and E set. */
int codec_h264_keyframe_start(const uint8_t *pl, size_t len);

/* codec_vp8_keyframe_start or codec_h264_keyframe_start by c; 0 for Opus
 * and unknown codecs (no keyframes there). */
int codec_keyframe_start(enum mm_codec c, const uint8_t *pl, size_t len);

#endif
