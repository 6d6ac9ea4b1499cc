/* Unit tests of mmload's SFU checker (tools/load/sfu.c) fed synthetic
 * received packets: loss from sequence gaps (with wrap), late packets,
 * simulcast switches (at a keyframe: fine; mid-frame, with a sequence gap,
 * interleaved layers: counted; a gap filled later: forgiven), the NACKs a
 * view asks for and when, repair accounting, and last-N audio against the
 * talk model (unexpected audio after the settle time, the set heard). */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"
#include "tools/load/load.h"

#define MS 1000000ull

static enum ld_vseq rx(struct ld_view *v, uint16_t seq, int layer, bool key, uint64_t now)
{
	struct ld_vpkt p = {.seq = seq, .group = true, .layer = layer, .key_start = key,
			    .measured = true, .now_ns = now};
	return ld_view_rx(v, &p);
}

static enum ld_vseq rx_rtx(struct ld_view *v, uint16_t seq, int layer, uint64_t now)
{
	struct ld_vpkt p = {.seq = seq, .retrans = true, .group = true, .layer = layer,
			    .measured = true, .now_ns = now};
	return ld_view_rx(v, &p);
}

Test(load_sfu, in_order_across_the_wrap)
{
	struct ld_view v;
	ld_view_init(&v);
	for (uint32_t i = 0; i < 1000; i++)
		cr_assert_eq(rx(&v, (uint16_t)(65000 + i), 0, i == 0, i * MS), LD_V_NEXT);
	uint64_t exp, lost;
	ld_view_loss(&v, &exp, &lost);
	cr_assert_eq(exp, 1000);
	cr_assert_eq(lost, 0);
	cr_assert_eq(v.switches + v.not_at_key + v.gap_at_switch + v.interleaved, 0);
	cr_assert_eq(v.layer, 0);
}

Test(load_sfu, gaps_late_dups_and_loss)
{
	struct ld_view v;
	ld_view_init(&v);
	uint16_t seqs[] = {10, 11, 14, 12, 15, 15, 18};
	enum ld_vseq want[] = {LD_V_NEXT, LD_V_NEXT, LD_V_GAP, LD_V_LATE, LD_V_NEXT, LD_V_DUP, LD_V_GAP};
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		cr_assert_eq(rx(&v, seqs[i], 0, i == 0, i * MS), want[i], "packet %zu", i);
	uint64_t exp, lost;
	ld_view_loss(&v, &exp, &lost);
	cr_assert_eq(exp, 9);  /* 10..18 */
	cr_assert_eq(lost, 3); /* 13, 16, 17 */
	cr_assert_eq(v.reordered, 1);
	cr_assert_eq(v.dups, 1);
	cr_assert_eq(v.lost_before_repair, 3);
	/* Without NACKs nothing is asked; after a second the gaps are lost. */
	uint16_t s[8];
	cr_assert_eq(ld_view_nack_due(&v, 100 * MS, false, s, 8), 0);
	cr_assert_eq(v.lost_after_repair, 0);
	cr_assert_eq(ld_view_nack_due(&v, 1200 * MS, false, s, 8), 0);
	cr_assert_eq(v.lost_after_repair, 3);
	cr_assert_eq(v.n_miss, 0);
	/* Older than the window: cannot tell, counted as reordered. */
	for (uint32_t i = 19; i < 19 + LD_VIEW_WIN; i++)
		rx(&v, (uint16_t)i, 0, false, 1300 * MS);
	cr_assert_eq(rx(&v, 13, 0, false, 1400 * MS), LD_V_OLD);
}

Test(load_sfu, switch_at_keyframe_is_fine)
{
	struct ld_view v;
	ld_view_init(&v);
	for (uint16_t s = 100; s < 110; s++)
		rx(&v, s, 0, s == 100, s * MS);
	cr_assert_eq(rx(&v, 110, 2, true, 110 * MS), LD_V_NEXT);
	for (uint16_t s = 111; s < 130; s++)
		rx(&v, s, 2, false, s * MS);
	cr_assert_eq(v.switches, 1);
	cr_assert_eq(v.layer, 2);
	cr_assert_eq(v.not_at_key, 0);
	cr_assert_eq(v.gap_at_switch, 0);
	cr_assert_eq(v.interleaved, 0);
	/* A late packet of the old layer from before the switch: fine. */
	struct ld_view w;
	ld_view_init(&w);
	rx(&w, 1, 1, true, 0);
	rx(&w, 3, 1, false, 0);
	rx(&w, 4, 0, true, 0);
	cr_assert_eq(rx(&w, 2, 1, false, 0), LD_V_LATE);
	cr_assert_eq(w.interleaved, 0);
	cr_assert_eq(w.switches, 1);
}

Test(load_sfu, switch_mid_frame_is_counted)
{
	struct ld_view v;
	ld_view_init(&v);
	for (uint16_t s = 100; s < 110; s++)
		rx(&v, s, 1, s == 100, s * MS);
	rx(&v, 110, 0, false, 110 * MS); /* not a keyframe's first packet */
	cr_assert_eq(v.switches, 1);
	cr_assert_eq(v.not_at_key, 1);
	cr_assert_eq(v.gap_at_switch, 0);
}

Test(load_sfu, seq_gap_at_switch_is_counted)
{
	struct ld_view v;
	ld_view_init(&v);
	for (uint16_t s = 100; s < 110; s++)
		rx(&v, s, 0, s == 100, s * MS);
	cr_assert_eq(rx(&v, 115, 2, true, 115 * MS), LD_V_GAP);
	cr_assert_eq(v.switches, 1);
	cr_assert_eq(v.gap_at_switch, 1);
	cr_assert_eq(v.not_at_key, 0);
	uint64_t exp, lost;
	ld_view_loss(&v, &exp, &lost);
	cr_assert_eq(lost, 5);
	/* A gap that a late packet fills was loss on the way, not the switch's. */
	struct ld_view w;
	ld_view_init(&w);
	for (uint16_t s = 100; s < 110; s++)
		rx(&w, s, 0, s == 100, 0);
	rx(&w, 111, 2, false, 0); /* the keyframe's second packet first */
	cr_assert_eq(w.gap_at_switch, 1);
	cr_assert_eq(w.not_at_key, 1);
	cr_assert_eq(rx(&w, 110, 2, true, 0), LD_V_LATE); /* its first: the switch was right */
	cr_assert_eq(w.gap_at_switch, 0);
	cr_assert_eq(w.not_at_key, 0);
	cr_assert_eq(w.interleaved, 0);
	cr_assert_eq(w.switches, 1);
}

Test(load_sfu, interleaved_layers_are_counted)
{
	struct ld_view v;
	ld_view_init(&v);
	for (uint16_t s = 100; s < 110; s++)
		rx(&v, s, 0, s == 100, 0);
	rx(&v, 110, 2, true, 0);
	rx(&v, 111, 0, false, 0); /* the old layer again, right after */
	rx(&v, 112, 2, false, 0);
	rx(&v, 113, 0, false, 0);
	cr_assert_eq(v.switches, 1);
	cr_assert_eq(v.interleaved, 2);
	cr_assert_eq(v.layer, 2);
	/* A late packet of the old layer placed after the switch point. */
	struct ld_view w;
	ld_view_init(&w);
	rx(&w, 1, 0, true, 0);
	rx(&w, 2, 2, true, 0);
	rx(&w, 4, 2, false, 0);
	cr_assert_eq(rx(&w, 3, 0, false, 0), LD_V_LATE);
	cr_assert_eq(w.interleaved, 1);
}

Test(load_sfu, nack_asks_retries_and_gives_up)
{
	struct ld_view v;
	ld_view_init(&v);
	uint16_t s[16];
	rx(&v, 65534, 0, true, 0);
	rx(&v, 65535, 0, false, 1 * MS);
	rx(&v, 3, 0, false, 2 * MS); /* 0, 1, 2 missing, across the wrap */
	int n = ld_view_nack_due(&v, 2 * MS, true, s, 16);
	cr_assert_eq(n, 3);
	cr_assert_eq(s[0], 0);
	cr_assert_eq(s[1], 1);
	cr_assert_eq(s[2], 2);
	cr_assert_eq(v.nacked, 3);
	cr_assert(ld_view_was_asked(&v, 1));
	cr_assert_not(ld_view_was_asked(&v, 3));
	/* Not again at once. */
	cr_assert_eq(ld_view_nack_due(&v, 3 * MS, true, s, 16), 0);
	/* 1 repaired by RTX after 20 ms: the observed repair time. */
	cr_assert_eq(rx_rtx(&v, 1, 0, 22 * MS), LD_V_REPAIRED);
	cr_assert_eq(v.repaired, 1);
	cr_assert_eq(v.rtt_us, 20000);
	/* A second copy of it: neither a duplicate nor a loss. */
	cr_assert_eq(rx_rtx(&v, 1, 0, 23 * MS), LD_V_RETRANS_DUP);
	cr_assert_eq(v.dups, 0);
	/* 0 by a plain retransmission (asked: repaired, not reordered). */
	cr_assert_eq(rx(&v, 0, 0, false, 25 * MS), LD_V_REPAIRED);
	cr_assert_eq(v.reordered, 0);
	/* 2 asked again after 2 x 20 ms, then once more, then no more. */
	cr_assert_eq(ld_view_nack_due(&v, 30 * MS, true, s, 16), 0);
	cr_assert_eq(ld_view_nack_due(&v, 43 * MS, true, s, 16), 1);
	cr_assert_eq(s[0], 2);
	cr_assert_eq(ld_view_nack_due(&v, 84 * MS, true, s, 16), 1);
	cr_assert_eq(ld_view_nack_due(&v, 200 * MS, true, s, 16), 0, "three times at most");
	cr_assert_eq(v.nacked, 3, "distinct packets asked for");
	cr_assert_eq(v.lost_after_repair, 0);
	ld_view_nack_due(&v, 1100 * MS, true, s, 16);
	cr_assert_eq(v.lost_after_repair, 1);
	cr_assert_eq(v.lost_before_repair, 3);
	uint64_t exp, lost;
	ld_view_loss(&v, &exp, &lost);
	cr_assert_eq(exp, 6);
	cr_assert_eq(lost, 1);
}

Test(load_sfu, nack_cap_and_burst)
{
	struct ld_view v;
	ld_view_init(&v);
	uint16_t s[4];
	rx(&v, 100, 0, true, 0);
	rx(&v, 110, 0, false, 0); /* 9 missing */
	cr_assert_eq(ld_view_nack_due(&v, 0, true, s, 4), 4, "no more than the room given");
	cr_assert_eq(ld_view_nack_due(&v, 0, true, s, 4), 4);
	cr_assert_eq(ld_view_nack_due(&v, 0, true, s, 4), 1);
	cr_assert_eq(v.nacked, 9);
	/* A burst longer than the view follows: the last LD_VIEW_MISS. */
	struct ld_view w;
	ld_view_init(&w);
	rx(&w, 0, 0, true, 0);
	rx(&w, 200, 0, false, 0);
	cr_assert_eq(w.n_miss, LD_VIEW_MISS);
	cr_assert_eq(w.lost_before_repair, 199);
	cr_assert_eq(w.miss[0].ext - 0x10000u, 200 - LD_VIEW_MISS);
}

/* Talk model: 4 in a room, 2 speakers, turns of 1 s, settle 0.5 s. */
Test(load_sfu, unexpected_audio_after_settle)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.participants = 4;
	c.speakers = 2;
	c.turn = 1.0;
	c.settle = 0.5;
	c.last_n = 2;
	struct ld_ears e;
	memset(&e, 0, sizeof(e));
	/* Turn 0 of room 0: slots 0 and 1 speak; receiver 3. */
	cr_assert(ld_turn_speaker(&c, 0, 0, 0));
	cr_assert(ld_turn_speaker(&c, 0, 1, 0));
	cr_assert_not(ld_turn_speaker(&c, 0, 2, 0));
	cr_assert_not(ld_ears_rx(&e, &c, 0, 0, true, 700 * MS));
	cr_assert_not(ld_ears_rx(&e, &c, 0, 2, true, 200 * MS), "before settle: fine");
	cr_assert(ld_ears_rx(&e, &c, 0, 2, true, 600 * MS), "after settle: unexpected");
	cr_assert_not(ld_ears_rx(&e, &c, 0, 2, false, 600 * MS), "video is not audio");
	cr_assert_eq(ld_ears_count(&e, 0, true), 2);
	cr_assert_eq(ld_ears_count(&e, 0, false), 1);
	cr_assert_not(ld_ears_exact(&e, &c, 0, 3, 0), "heard slot 2, not a speaker");
	/* Turn 1: slots 1 and 2 speak; receiver 3 hears exactly them. */
	ld_ears_rx(&e, &c, 0, 1, true, 1600 * MS);
	ld_ears_rx(&e, &c, 0, 2, true, 1700 * MS);
	cr_assert(ld_ears_exact(&e, &c, 0, 3, 1));
	cr_assert_eq(ld_ears_count(&e, 1, true), 2);
	/* Receiver 1 (a speaker) must hear only slot 2 in turn 1. */
	struct ld_ears f;
	memset(&f, 0, sizeof(f));
	ld_ears_rx(&f, &c, 0, 2, true, 1600 * MS);
	cr_assert(ld_ears_exact(&f, &c, 0, 1, 1));
	cr_assert_not(ld_ears_exact(&f, &c, 0, 1, 2), "heard nothing of turn 2");
	cr_assert_eq(ld_ears_count(&f, 2, true), -1);
	/* Two turns kept: turn 0 is forgotten once turns 1 and 2 are in. */
	ld_ears_rx(&e, &c, 0, 2, true, 2600 * MS);
	cr_assert_eq(ld_ears_count(&e, 0, true), -1);
	cr_assert_eq(ld_ears_count(&e, 2, true), 1);
	/* Room 1 is a turn ahead: slots 1 and 2 speak in its turn 0. */
	cr_assert(ld_turn_speaker(&c, 1, 1, 0));
	cr_assert_not(ld_turn_speaker(&c, 1, 0, 0));
}

/* The NACK a receiver sends: a valid compound RTCP packet (RR first),
 * its generic NACK naming exactly the missing sequence numbers. */
Test(load_sfu, nack_packet)
{
	uint8_t buf[512];
	uint16_t seqs[] = {65534, 65535, 0, 5, 40};
	int n = ld_nack_build(buf, sizeof(buf), 0x11111111u, 0x22222222u, seqs, 5);
	cr_assert_gt(n, 0);
	struct rtcp_compound c;
	cr_assert_eq(rtcp_parse_compound(buf, (size_t)n, RTCP_COMPOUND_STRICT, &c), 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.pkt[0].pt, RTCP_PT_RR);
	cr_assert_eq(c.pkt[0].ssrc, 0x11111111u);
	cr_assert_eq(c.pkt[1].pt, RTCP_PT_RTPFB);
	cr_assert_eq(c.pkt[1].count_or_fmt, RTCP_RTPFB_FMT_NACK);
	struct rtcp_nack nk;
	cr_assert_eq(rtcp_nack_parse(c.pkt[1].data, c.pkt[1].len, &nk), 0);
	cr_assert_eq(nk.sender_ssrc, 0x11111111u);
	cr_assert_eq(nk.media_ssrc, 0x22222222u);
	uint16_t got[32];
	cr_assert_eq(rtcp_nack_expand(&nk, got, 32), 5);
	cr_assert_arr_eq(got, seqs, sizeof(seqs));
	/* Nothing to ask, too much, too little room: errors. */
	cr_assert_eq(ld_nack_build(buf, sizeof(buf), 1, 2, seqs, 0), -EINVAL);
	cr_assert_eq(ld_nack_build(buf, sizeof(buf), 1, 2, seqs, LD_NACK_MAX + 1), -EINVAL);
	cr_assert_lt(ld_nack_build(buf, 12, 1, 2, seqs, 5), 0);
}
