/* RFC 7983 demultiplexing of what arrives on a media UDP port. */
#ifndef MM_DEMUX_H
#define MM_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum mm_demux {
	MM_DEMUX_UNKNOWN = 0,
	MM_DEMUX_STUN, /* first byte 0..3 */
	MM_DEMUX_ZRTP, /* 16..19 */
	MM_DEMUX_DTLS, /* 20..63 */
	MM_DEMUX_TURN, /* 64..79 (TURN channel) */
	MM_DEMUX_RTP,  /* 128..191, payload type not in 64..95 */
	MM_DEMUX_RTCP, /* 128..191, second byte 192..223 (RFC 5761) */
};

static inline enum mm_demux mm_demux_classify(const uint8_t *p, size_t len)
{
	if (len < 1)
		return MM_DEMUX_UNKNOWN;
	uint8_t b = p[0];
	if (b <= 3)
		return MM_DEMUX_STUN;
	if (b >= 16 && b <= 19)
		return MM_DEMUX_ZRTP;
	if (b >= 20 && b <= 63)
		return MM_DEMUX_DTLS;
	if (b >= 64 && b <= 79)
		return MM_DEMUX_TURN;
	if (b >= 128 && b <= 191) {
		if (len < 2)
			return MM_DEMUX_UNKNOWN;
		/* RFC 5761 section 4: RTCP packet types 192..223 occupy the
		 * byte that holds M+PT in RTP. */
		return (p[1] >= 192 && p[1] <= 223) ? MM_DEMUX_RTCP : MM_DEMUX_RTP;
	}
	return MM_DEMUX_UNKNOWN;
}

#endif
