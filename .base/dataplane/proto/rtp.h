/* RTP (RFC 3550) header parsing and building, with RFC 8285 header
 * extensions (one-byte and two-byte forms), CSRCs and padding.
 * No DPDK, no allocation: parsers point into the caller's buffer. */
#ifndef MM_RTP_H
#define MM_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors (negative errno) returned by every parser in dataplane/proto:
 *   -ENODATA  truncated: the input ends before what its headers declare
 *   -EBADMSG  inconsistent: fields contradict each other or the length
 *   -E2BIG    oversized: more than the protocol or our limits allow
 *   -EPROTO   wrong version / not this protocol
 */

#define RTP_HEADER_MIN 12
#define RTP_MAX_CSRC 15
#define RTP_EXT_PROFILE_ONE_BYTE 0xBEDEu
#define RTP_EXT_PROFILE_TWO_BYTE 0x1000u /* 0x100X, X = appbits */
#define RTP_MAX_PACKET 1500

struct rtp_header {
	uint8_t padding;      /* P bit */
	uint8_t extension;    /* X bit */
	uint8_t csrc_count;   /* CC */
	uint8_t marker;       /* M bit */
	uint8_t payload_type; /* 0..127 */
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	uint32_t csrc[RTP_MAX_CSRC];
	uint16_t ext_profile;   /* valid when extension */
	const uint8_t *ext_data; /* extension body, after its 4-byte header */
	size_t ext_len;          /* bytes, multiple of 4 */
	size_t header_len;       /* offset of the payload */
	const uint8_t *payload;
	size_t payload_len;      /* excluding padding */
	uint8_t padding_len;     /* last byte, when padding */
};

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_header *out);
/* The header only (fixed part, CSRCs, extension): what SRTP leaves in
 * clear, so it reads a packet before its decryption. Padding is not
 * looked at (its count is in the encrypted part): padding_len is 0 and
 * the payload is everything after the header. Errors as rtp_parse. */
int rtp_parse_header(const uint8_t *buf, size_t len, struct rtp_header *out);

/* One RFC 8285 element. */
struct rtp_ext_elem {
	uint8_t id;  /* 1..14 one-byte, 1..255 two-byte */
	uint8_t len; /* data bytes */
	const uint8_t *data;
};

/* Iterate the elements of h's extension: *off starts at 0. Returns 1 with
 * *out filled, 0 at the end, or a negative error (also for an extension
 * profile that is neither one- nor two-byte). Padding bytes are skipped. */
int rtp_ext_next(const struct rtp_header *h, size_t *off, struct rtp_ext_elem *out);
/* First element with this id: 1 found, 0 absent, negative on error. */
int rtp_ext_find(const struct rtp_header *h, uint8_t id, struct rtp_ext_elem *out);

/* What rtp_build writes. */
struct rtp_build_params {
	bool marker;
	uint8_t payload_type;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	uint8_t csrc_count;
	const uint32_t *csrc;
	/* Extension elements; the one-byte form is used when every id is
	 * 1..14 and every len 1..16, else the two-byte form. */
	size_t n_ext;
	const struct rtp_ext_elem *ext;
	uint8_t padding_len; /* 0 for none, else 1..255 total padding bytes */
};

/* Write a whole RTP packet (header, extension, payload, padding) into buf.
 * Returns the length written, or -E2BIG if cap is too small / params
 * invalid (-EINVAL). */
int rtp_build(uint8_t *buf, size_t cap, const struct rtp_build_params *p,
	      const uint8_t *payload, size_t payload_len);

/* In-place field accessors for the forwarding path (buf holds >= 12 bytes). */
static inline uint16_t rtp_get_seq(const uint8_t *b) { return (uint16_t)(b[2] << 8 | b[3]); }
static inline uint32_t rtp_get_ts(const uint8_t *b)
{
	return (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
}
static inline uint32_t rtp_get_ssrc(const uint8_t *b)
{
	return (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
}
static inline void rtp_set_seq(uint8_t *b, uint16_t v) { b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v; }
static inline void rtp_put32_(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}
static inline void rtp_set_ts(uint8_t *b, uint32_t v) { rtp_put32_(b + 4, v); }
static inline void rtp_set_ssrc(uint8_t *b, uint32_t v) { rtp_put32_(b + 8, v); }

#endif
