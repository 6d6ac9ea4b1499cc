/* Unit tests of dataplane/proto/demux.h: RFC 7983 (+ RFC 5761 for RTP and
 * RTCP on one port), every range boundary. */
#include <criterion/criterion.h>

#include "dataplane/proto/demux.h"

static enum mm_demux classify2(uint8_t b0, uint8_t b1)
{
	const uint8_t p[2] = {b0, b1};
	return mm_demux_classify(p, sizeof(p));
}

Test(demux, empty_is_unknown)
{
	const uint8_t p[1] = {0};
	cr_assert_eq(mm_demux_classify(p, 0), MM_DEMUX_UNKNOWN);
}

Test(demux, stun_boundaries)
{
	cr_assert_eq(classify2(0, 1), MM_DEMUX_STUN);
	cr_assert_eq(classify2(3, 0), MM_DEMUX_STUN);
	cr_assert_eq(classify2(4, 0), MM_DEMUX_UNKNOWN);
}

Test(demux, gap_4_to_15)
{
	cr_assert_eq(classify2(4, 0), MM_DEMUX_UNKNOWN);
	cr_assert_eq(classify2(15, 0), MM_DEMUX_UNKNOWN);
}

Test(demux, zrtp_boundaries)
{
	cr_assert_eq(classify2(16, 0), MM_DEMUX_ZRTP);
	cr_assert_eq(classify2(19, 0), MM_DEMUX_ZRTP);
}

Test(demux, dtls_boundaries)
{
	cr_assert_eq(classify2(19, 0), MM_DEMUX_ZRTP);
	cr_assert_eq(classify2(20, 0), MM_DEMUX_DTLS);
	cr_assert_eq(classify2(22, 0xFE), MM_DEMUX_DTLS); /* handshake */
	cr_assert_eq(classify2(63, 0), MM_DEMUX_DTLS);
	cr_assert_eq(classify2(64, 0), MM_DEMUX_TURN);
}

Test(demux, turn_boundaries)
{
	cr_assert_eq(classify2(64, 0), MM_DEMUX_TURN);
	cr_assert_eq(classify2(79, 0xFF), MM_DEMUX_TURN);
	cr_assert_eq(classify2(80, 0), MM_DEMUX_UNKNOWN);
}

Test(demux, gap_80_to_127)
{
	cr_assert_eq(classify2(80, 0), MM_DEMUX_UNKNOWN);
	cr_assert_eq(classify2(127, 200), MM_DEMUX_UNKNOWN);
}

Test(demux, rtp_and_rtcp_boundaries)
{
	cr_assert_eq(classify2(128, 0), MM_DEMUX_RTP);
	cr_assert_eq(classify2(128, 96), MM_DEMUX_RTP);
	cr_assert_eq(classify2(128, 191), MM_DEMUX_RTP);  /* M=1, PT 63 */
	cr_assert_eq(classify2(128, 192), MM_DEMUX_RTCP); /* first RTCP PT */
	cr_assert_eq(classify2(128, 200), MM_DEMUX_RTCP); /* SR */
	cr_assert_eq(classify2(129, 201), MM_DEMUX_RTCP); /* RR, RC 1 */
	cr_assert_eq(classify2(143, 206), MM_DEMUX_RTCP); /* PSFB FMT 15 */
	cr_assert_eq(classify2(128, 223), MM_DEMUX_RTCP); /* last RTCP PT */
	cr_assert_eq(classify2(128, 224), MM_DEMUX_RTP);  /* M=1, PT 96 */
	cr_assert_eq(classify2(128, 255), MM_DEMUX_RTP);
	cr_assert_eq(classify2(191, 96), MM_DEMUX_RTP);   /* V=2 P X CC=15 */
	cr_assert_eq(classify2(191, 200), MM_DEMUX_RTCP);
	cr_assert_eq(classify2(192, 200), MM_DEMUX_UNKNOWN);
	cr_assert_eq(classify2(255, 0), MM_DEMUX_UNKNOWN);
}

Test(demux, rtp_range_needs_two_bytes)
{
	const uint8_t rtp[1] = {128};
	cr_assert_eq(mm_demux_classify(rtp, 1), MM_DEMUX_UNKNOWN);
	const uint8_t stun[1] = {0};
	cr_assert_eq(mm_demux_classify(stun, 1), MM_DEMUX_STUN, "one byte is enough below 128");
	const uint8_t dtls[1] = {23};
	cr_assert_eq(mm_demux_classify(dtls, 1), MM_DEMUX_DTLS);
}

/* Every first byte against the RFC 7983 table. */
Test(demux, every_first_byte)
{
	static const struct {
		int lo, hi;
		enum mm_demux d;
	} ranges[] = {
		{0, 3, MM_DEMUX_STUN},    {16, 19, MM_DEMUX_ZRTP},
		{20, 63, MM_DEMUX_DTLS},  {64, 79, MM_DEMUX_TURN},
		{128, 191, MM_DEMUX_RTP},
	};
	int seen[7] = {0};
	for (int b = 0; b < 256; b++) {
		enum mm_demux want = MM_DEMUX_UNKNOWN;
		for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (b >= ranges[i].lo && b <= ranges[i].hi)
				want = ranges[i].d;
		/* second byte 96: RTP for the RTP range */
		enum mm_demux got = classify2((uint8_t)b, 96);
		cr_assert_eq(got, want, "first byte %d", b);
		seen[got]++;
	}
	cr_assert_eq(seen[MM_DEMUX_STUN], 4);
	cr_assert_eq(seen[MM_DEMUX_ZRTP], 4);
	cr_assert_eq(seen[MM_DEMUX_DTLS], 44);
	cr_assert_eq(seen[MM_DEMUX_TURN], 16);
	cr_assert_eq(seen[MM_DEMUX_RTP], 64);
	cr_assert_eq(seen[MM_DEMUX_UNKNOWN], 256 - 4 - 4 - 44 - 16 - 64);
}

/* Every second byte in the RTP range. */
Test(demux, every_second_byte)
{
	int rtcp = 0;
	for (int b = 0; b < 256; b++) {
		enum mm_demux got = classify2(0x80, (uint8_t)b);
		enum mm_demux want = (b >= 192 && b <= 223) ? MM_DEMUX_RTCP : MM_DEMUX_RTP;
		cr_assert_eq(got, want, "second byte %d", b);
		rtcp += got == MM_DEMUX_RTCP;
	}
	cr_assert_eq(rtcp, 32);
}
