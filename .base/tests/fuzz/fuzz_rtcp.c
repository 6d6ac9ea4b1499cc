/* RTCP compound packets and every packet type mmdp parses: SR, RR, SDES,
 * BYE, APP, generic NACK (and its expansion), PLI, FIR, REMB, transport-cc
 * feedback (walked to the end), as engine_sfu.c does; then the builders on
 * what parsed. Both the strict (first packet SR/RR) and lenient modes. */
#include <string.h>

#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/twcc.h"
#include "fuzz.h"

static void one(const struct rtcp_packet *p)
{
	uint8_t out[2048];
	switch (p->pt) {
	case RTCP_PT_SR: {
		struct rtcp_sr sr;
		if (rtcp_sr_parse(p->data, p->len, &sr) == 0) {
			FUZZ_CHECK(sr.rc <= RTCP_MAX_COUNT);
			FUZZ_INSIDE(sr.ext, sr.ext_len, p->data, p->len);
			sr.ext_len &= ~(size_t)3;
			(void)rtcp_sr_build(out, sizeof(out), &sr);
		}
		break;
	}
	case RTCP_PT_RR: {
		struct rtcp_rr rr;
		if (rtcp_rr_parse(p->data, p->len, &rr) == 0) {
			FUZZ_CHECK(rr.rc <= RTCP_MAX_COUNT);
			FUZZ_INSIDE(rr.ext, rr.ext_len, p->data, p->len);
			rr.ext_len &= ~(size_t)3;
			(void)rtcp_rr_build(out, sizeof(out), &rr);
		}
		break;
	}
	case RTCP_PT_SDES: {
		static struct rtcp_sdes s;
		if (rtcp_sdes_parse(p->data, p->len, &s) == 0) {
			FUZZ_CHECK(s.n_items <= RTCP_SDES_MAX_ITEMS &&
				   s.n_chunks <= RTCP_MAX_COUNT);
			for (size_t i = 0; i < s.n_items; i++)
				FUZZ_INSIDE(s.item[i].data, s.item[i].len, p->data, p->len);
			for (size_t i = 0; i < s.n_chunks; i++)
				(void)rtcp_sdes_find(&s, s.chunk[i].ssrc, RTCP_SDES_CNAME);
			(void)rtcp_sdes_build(out, sizeof(out), &s);
		}
		break;
	}
	case RTCP_PT_BYE: {
		struct rtcp_bye b;
		if (rtcp_bye_parse(p->data, p->len, &b) == 0) {
			FUZZ_INSIDE(b.reason, b.reason_len, p->data, p->len);
			(void)rtcp_bye_build(out, sizeof(out), &b);
		}
		break;
	}
	case RTCP_PT_APP: {
		struct rtcp_app a;
		if (rtcp_app_parse(p->data, p->len, &a) == 0) {
			FUZZ_INSIDE(a.data, a.data_len, p->data, p->len);
			a.data_len &= ~(size_t)3;
			(void)rtcp_app_build(out, sizeof(out), &a);
		}
		break;
	}
	case RTCP_PT_RTPFB: {
		struct rtcp_fb fb;
		if (rtcp_fb_parse(p->data, p->len, &fb) == 0)
			FUZZ_INSIDE(fb.fci, fb.fci_len, p->data, p->len);
		struct rtcp_nack nk;
		if (rtcp_nack_parse(p->data, p->len, &nk) == 0) {
			FUZZ_CHECK(nk.n_items >= 1);
			FUZZ_INSIDE(nk.fci, nk.n_items * 4, p->data, p->len);
			uint16_t seq[17 * 64];
			int n = rtcp_nack_expand(&nk, seq, sizeof(seq) / sizeof(seq[0]));
			if (n > 0) {
				struct rtcp_nack_item it[17 * 64];
				int m =
				    rtcp_nack_pack(seq, (size_t)n, it, sizeof(it) / sizeof(it[0]));
				if (m > 0)
					(void)rtcp_nack_build(out, sizeof(out), nk.sender_ssrc,
							      nk.media_ssrc, it, (size_t)m);
			}
		}
		struct twcc_feedback tf;
		if (twcc_feedback_parse(p->data, p->len, &tf) == 0) {
			FUZZ_INSIDE(tf.chunks, tf.chunks_len, p->data, p->len);
			FUZZ_INSIDE(tf.deltas, tf.deltas_len, p->data, p->len);
			struct twcc_iter it;
			twcc_iter_init(&it, &tf);
			uint16_t seq;
			bool rx;
			int64_t at;
			unsigned k = 0;
			while (twcc_iter_next(&it, &seq, &rx, &at) == 1)
				FUZZ_CHECK(++k <= 65536);
		}
		break;
	}
	case RTCP_PT_PSFB: {
		struct rtcp_pli pli;
		(void)rtcp_pli_parse(p->data, p->len, &pli);
		struct rtcp_fir fir;
		if (rtcp_fir_parse(p->data, p->len, &fir) == 0) {
			FUZZ_INSIDE(fir.fci, fir.n_entries * 8, p->data, p->len);
			for (size_t i = 0; i < fir.n_entries; i++)
				fuzz_use(&(struct rtcp_fir_entry){rtcp_fir_get(&fir, i).ssrc, 0},
					 4);
		}
		static struct rtcp_remb remb;
		if (rtcp_remb_parse(p->data, p->len, &remb) == 0)
			(void)rtcp_remb_build(out, sizeof(out), remb.sender_ssrc, remb.bitrate,
					      remb.ssrc, remb.n_ssrc);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtcp_compound c;
	for (unsigned flags = 0; flags <= RTCP_COMPOUND_STRICT; flags++) {
		if (rtcp_parse_compound(data, size, flags, &c) != 0)
			continue;
		FUZZ_CHECK(c.n >= 1 && c.n <= RTCP_MAX_PACKETS);
		for (size_t i = 0; i < c.n; i++) {
			FUZZ_INSIDE(c.pkt[i].data, c.pkt[i].len, data, size);
			if (flags == 0)
				one(&c.pkt[i]);
		}
	}
	/* A lone packet, as rtcp_packet_parse sees the first one. */
	struct rtcp_packet p;
	if (rtcp_packet_parse(data, size, &p) == 0) {
		FUZZ_INSIDE(p.data, p.len, data, size);
		one(&p);
	}
	return 0;
}
