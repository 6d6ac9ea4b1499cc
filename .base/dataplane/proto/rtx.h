/* RTP retransmission packets (RFC 4588, SSRC multiplexing): what mmdp sends
 * to a receiver that negotiated RTX in answer to its NACK, and what it gets
 * from a publisher it sent a NACK to.
 *
 * An RTX packet is the original packet with its own payload type, SSRC and
 * sequence number; its payload is the original sequence number (OSN, 16
 * bits, network order) followed by the original payload (RFC 4588 4). The
 * marker bit, timestamp, CSRCs and header extension are the original's.
 * Padding is not carried over: it is not part of the payload, and a
 * retransmission gains nothing from it.
 *
 * No DPDK, no allocation. Errors follow rtp.h (-ENODATA, -EBADMSG, -EPROTO
 * from rtp_parse; -E2BIG a buffer too small; -EINVAL a payload type over
 * 127). */
#ifndef MM_RTX_H
#define MM_RTX_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/proto/rtp.h"

#define RTX_OSN_LEN 2

/* Write into buf the RTX packet of the original RTP packet rtp: PT rtx_pt,
 * SSRC rtx_ssrc, sequence number rtx_seq, the OSN, the original payload.
 * buf may be rtp itself (the packet is rewritten in place and grows by 2
 * bytes less its padding; cap counts from buf); otherwise the two must not
 * overlap. Returns the length written, -E2BIG when cap is too small (buf is
 * then untouched), -EINVAL for rtx_pt > 127, or rtp_parse's error for a
 * malformed original. */
int rtx_build(uint8_t *buf, size_t cap, const uint8_t *rtp, size_t len,
	      uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq);

struct rtx_info {
	struct rtp_header rtp;  /* the RTX packet's own header */
	uint16_t osn;           /* original sequence number */
	const uint8_t *payload; /* the original payload, after the OSN */
	size_t payload_len;
};

/* Parse an RTX packet. Returns 0; rtp_parse's error; -ENODATA when its
 * payload (padding excluded) has no room for the OSN, as in the
 * padding-only packets senders use as bandwidth probes. */
int rtx_parse(const uint8_t *rtx, size_t len, struct rtx_info *out);

/* Rebuild into buf the original packet from the RTX packet rtx: SSRC
 * media_ssrc, PT media_pt, sequence number the OSN, the payload after the
 * OSN, no padding. buf may be rtx itself (in place, the packet shrinks);
 * otherwise the two must not overlap. Returns the length written, -E2BIG
 * when cap is too small (buf untouched), -EINVAL for media_pt > 127, or
 * rtx_parse's error. */
int rtx_restore(uint8_t *buf, size_t cap, const uint8_t *rtx, size_t len,
		uint32_t media_ssrc, uint8_t media_pt);

#endif
