/* RFC 4588 retransmission packets. See rtx.h. */
#include "dataplane/proto/rtx.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define RTP_PT_MAX 0x7Fu
#define RTP_P_BIT 0x20u
#define RTP_M_BIT 0x80u

/* Copy the header (fixed part, CSRCs, extension: hdr_len bytes) of src to
 * dst unless they are the same, then set the fields an RTX packet and its
 * original differ in. The P bit is cleared: neither carries the other's
 * padding. */
static void rewrite_header(uint8_t *dst, const uint8_t *src, size_t hdr_len,
			   uint8_t pt, uint16_t seq, uint32_t ssrc)
{
	if (dst != src)
		memcpy(dst, src, hdr_len);
	dst[0] &= (uint8_t)~RTP_P_BIT;
	dst[1] = (uint8_t)((dst[1] & RTP_M_BIT) | pt);
	rtp_set_seq(dst, seq);
	rtp_set_ssrc(dst, ssrc);
}

int rtx_build(uint8_t *buf, size_t cap, const uint8_t *rtp, size_t len,
	      uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq)
{
	if (rtx_pt > RTP_PT_MAX)
		return -EINVAL;
	struct rtp_header h;
	int rc = rtp_parse(rtp, len, &h);
	if (rc < 0)
		return rc;

	size_t total = h.header_len + RTX_OSN_LEN + h.payload_len;
	if (total > cap || total > (size_t)INT_MAX)
		return -E2BIG;

	/* Payload first: in place it moves 2 bytes on, over what follows. */
	memmove(buf + h.header_len + RTX_OSN_LEN, h.payload, h.payload_len);
	rewrite_header(buf, rtp, h.header_len, rtx_pt, rtx_seq, rtx_ssrc);
	buf[h.header_len] = (uint8_t)(h.seq >> 8);
	buf[h.header_len + 1] = (uint8_t)h.seq;
	return (int)total;
}

int rtx_parse(const uint8_t *rtx, size_t len, struct rtx_info *out)
{
	int rc = rtp_parse(rtx, len, &out->rtp);
	if (rc < 0)
		return rc;
	if (out->rtp.payload_len < RTX_OSN_LEN)
		return -ENODATA;
	const uint8_t *p = out->rtp.payload;
	out->osn = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	out->payload = p + RTX_OSN_LEN;
	out->payload_len = out->rtp.payload_len - RTX_OSN_LEN;
	return 0;
}

int rtx_restore(uint8_t *buf, size_t cap, const uint8_t *rtx, size_t len,
		uint32_t media_ssrc, uint8_t media_pt)
{
	if (media_pt > RTP_PT_MAX)
		return -EINVAL;
	struct rtx_info x;
	int rc = rtx_parse(rtx, len, &x);
	if (rc < 0)
		return rc;

	size_t hdr_len = x.rtp.header_len;
	size_t total = hdr_len + x.payload_len;
	if (total > cap || total > (size_t)INT_MAX)
		return -E2BIG;

	/* Header first: in place it stays where it is, and the payload then
	 * moves 2 bytes back over the OSN (read above). */
	rewrite_header(buf, rtx, hdr_len, media_pt, x.osn, media_ssrc);
	memmove(buf + hdr_len, x.payload, x.payload_len);
	return (int)total;
}
