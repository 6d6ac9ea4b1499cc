/* Transport-wide congestion control feedback (RTCP RTPFB FMT 15,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1).
 *
 * The media sender stamps every packet with a transport-wide sequence
 * number (an RFC 8285 element of 2 octets, big-endian); the receiver
 * reports, per sequence number from base_seq on, whether the packet
 * arrived and when:
 *
 *   RTCP FB header (PT 205, FMT 15), sender SSRC, media SSRC
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, signed, 64 ms units) | feedback packet count (8)
 *   packet chunks, 16 bits each:
 *     T=0 run length:    2-bit status symbol, 13-bit run length
 *     T=1 status vector: S=0 fourteen 1-bit symbols (0 not received,
 *                        1 received small delta), S=1 seven 2-bit symbols
 *   receive deltas, one per received packet in sequence order, 250 us
 *   units: 1 octet unsigned (symbol 1), 2 octets signed (symbol 2)
 *   zero padding to 32 bits
 *
 * The first delta is relative to reference time * 64 ms, every other to
 * the previous received packet. No DPDK, no allocation: parsed structures
 * point into the caller's buffer. Errors follow rtp.h / rtcp.h. */
#ifndef MM_TWCC_H
#define MM_TWCC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proto/rtp.h"

#define RTCP_RTPFB_FMT_TWCC 15
#define TWCC_EXT_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define TWCC_EXT_LEN 2         /* the element's data: the sequence number */
#define TWCC_MAX_PACKETS 4096  /* our limit on packet status count (-E2BIG) */
#define TWCC_DELTA_US 250      /* one receive delta unit */
#define TWCC_REF_TIME_US 64000 /* one reference time unit */
#define TWCC_REF_TIME_MIN (-0x800000)
#define TWCC_REF_TIME_MAX 0x7FFFFF

/* Packet status symbols. */
enum twcc_status {
	TWCC_NOT_RECEIVED = 0,
	TWCC_RECEIVED_SMALL = 1, /* delta 0..255 units, 1 octet */
	TWCC_RECEIVED_LARGE = 2, /* delta -32768..32767 units, 2 octets */
	/* 3 is reserved: -EBADMSG */
};

/* A parsed feedback message. chunks and deltas are exactly the octets the
 * status count needs (without the unused tail of the last chunk's symbols
 * and without padding). */
struct twcc_feedback {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint16_t base_seq;
	uint16_t status_count;   /* 1..TWCC_MAX_PACKETS */
	int32_t ref_time;        /* 64 ms units, sign-extended from 24 bits */
	uint8_t fb_count;
	uint16_t n_received;     /* packets reported received (= deltas) */
	const uint8_t *chunks;
	size_t chunks_len;       /* 2 * chunks */
	const uint8_t *deltas;
	size_t deltas_len;
};

/* Parse one RTCP packet (as rtcp_nack_parse: len is the packet's length
 * word, -ENODATA shorter, -EBADMSG longer). A packet that is not RTPFB
 * FMT 15 is -EPROTO. The 8 fixed FCI octets, the chunks covering
 * status_count and the deltas their symbols call for must be there
 * (-ENODATA otherwise); a status count of 0, a reserved symbol (3) or
 * more than 3 octets after the deltas is -EBADMSG; a status count over
 * TWCC_MAX_PACKETS is -E2BIG. Returns 0. */
int twcc_feedback_parse(const uint8_t *buf, size_t len, struct twcc_feedback *out);

/* Walk the packets of a parsed message in sequence order. */
struct twcc_iter {
	const uint8_t *chunks;
	size_t chunks_len;
	size_t chunk_off;        /* next chunk to load */
	const uint8_t *deltas;
	size_t deltas_len;
	size_t delta_off;        /* next delta to read */
	uint16_t seq;            /* of the next packet */
	uint16_t left;           /* packets still to report */
	uint16_t chunk;          /* current chunk */
	uint16_t chunk_left;     /* its symbols not yet used */
	uint16_t chunk_pos;      /* index of the next symbol of a vector */
	int64_t time_us;         /* last received arrival (starts at ref time) */
};

void twcc_iter_init(struct twcc_iter *it, const struct twcc_feedback *fb);
/* The next packet: its sequence number, whether it was received and, if
 * so, its arrival time in microseconds on the receiver's clock, that is
 * ref_time * 64000 plus the deltas so far (0 when not received). Returns
 * 1, 0 after the last packet, or a negative error (-ENODATA, -EBADMSG)
 * for a message twcc_feedback_parse did not accept. */
int twcc_iter_next(struct twcc_iter *it, uint16_t *seq, bool *received, int64_t *arrival_us);

/* Build a feedback message for count packets from base_seq on:
 * received[i] and, when received, arrival_us[i] (receiver clock, any
 * order: reordering gives negative deltas). The reference time is the
 * first received packet's arrival floored to 64 ms (0 when none is);
 * arrivals are rounded to the nearest 250 us and every delta is taken
 * between rounded times, so parsing gives back exactly the rounded
 * arrivals. Deltas of 0..255 units take 1 octet, others 2. Runs of one
 * symbol go in run-length chunks, the rest in status vectors (1-bit where
 * all 14 symbols allow it). Returns the length, -E2BIG when cap is too
 * small, -EINVAL for count 0 or over TWCC_MAX_PACKETS, NULL arrays, a
 * reference time outside 24 bits or a delta outside 16 bits (split the
 * feedback). */
int twcc_feedback_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			uint16_t base_seq, uint16_t count, const bool *received,
			const int64_t *arrival_us, uint8_t fb_count);

/* The transport-wide sequence number of an RFC 8285 element (found by the
 * id negotiated for TWCC_EXT_URI). -EBADMSG when it is not 2 octets. */
static inline int twcc_ext_seq(const struct rtp_ext_elem *e, uint16_t *seq)
{
	if (e->len != TWCC_EXT_LEN)
		return -EBADMSG;
	*seq = (uint16_t)((unsigned)e->data[0] << 8 | e->data[1]);
	return 0;
}

/* Write seq as an element's data (2 octets). */
static inline void twcc_ext_put_seq(uint8_t data[TWCC_EXT_LEN], uint16_t seq)
{
	data[0] = (uint8_t)(seq >> 8);
	data[1] = (uint8_t)seq;
}

#endif
