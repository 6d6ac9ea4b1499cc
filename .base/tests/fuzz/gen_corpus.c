/* Writes the seed corpora of the binary targets (tests/fuzz/corpus/) with
 * the project's own builders: RTP with every header extension mmdp reads,
 * each RTCP packet type, STUN checks with valid MESSAGE-INTEGRITY and
 * FINGERPRINT, engine inputs for each sender, a real DTLS ClientHello
 * (OpenSSL). Run once by hand (see tests/fuzz/README.md); its output is
 * committed, so that the smoke does not depend on it.
 * usage: gen_corpus DIR   (DIR/<target>/ must exist) */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/srtp.h"
#include "dataplane/proto/codec.h"
#include "dataplane/proto/net.h"
#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/rtp.h"
#include "dataplane/proto/rtx.h"
#include "dataplane/proto/stun.h"
#include "dataplane/proto/twcc.h"

static const char *dir;

static void out(const char *target, const char *name, uint8_t prefix, bool use_prefix,
		const uint8_t *b, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	if (use_prefix)
		fputc(prefix, f);
	fwrite(b, 1, n, f);
	fclose(f);
}
#define OUT(t, name, b, n) out(t, name, 0, false, b, n)
#define OUTP(t, name, p, b, n) out(t, name, p, true, b, n)

static int rtp_pkt(uint8_t *b, size_t cap, uint32_t ssrc, uint8_t pt,
		   const struct rtp_ext_elem *ext, size_t n_ext, const uint8_t *pl, size_t plen,
		   uint8_t pad, uint8_t ncsrc)
{
	static const uint32_t csrc[3] = {11, 22, 33};
	struct rtp_build_params p = {.marker = true,
				     .payload_type = pt,
				     .seq = 1000,
				     .timestamp = 96000,
				     .ssrc = ssrc,
				     .csrc_count = ncsrc,
				     .csrc = csrc,
				     .n_ext = n_ext,
				     .ext = ext,
				     .padding_len = pad};
	int n = rtp_build(b, cap, &p, pl, plen);
	if (n <= 0) {
		fprintf(stderr, "rtp_build: %d\n", n);
		exit(1);
	}
	return n;
}

#include "stun_req.h"

/* A DTLS 1.2 ClientHello with use_srtp, as a browser's first flight. */
static size_t dtls_client_hello(uint8_t *b, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
	SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(s, rb, wb);
	SSL_set_connect_state(s);
	(void)SSL_do_handshake(s);
	int n = BIO_read(wb, b, (int)cap);
	SSL_free(s);
	SSL_CTX_free(ctx);
	return n > 0 ? (size_t)n : 0;
}

static size_t rtcp_sr_sdes(uint8_t *b, size_t cap, uint32_t ssrc)
{
	struct rtcp_writer w;
	rtcp_writer_init(&w, b, cap);
	static struct rtcp_sr sr;
	memset(&sr, 0, sizeof(sr));
	sr.ssrc = ssrc;
	sr.ntp = 0x0102030405060708ull;
	sr.rtp_ts = 4242;
	sr.packet_count = 7;
	sr.octet_count = 700;
	sr.rc = 1;
	sr.rb[0] = (struct rtcp_report_block){.ssrc = 2001,
					      .fraction_lost = 3,
					      .cumulative_lost = 5,
					      .ext_highest_seq = 70000,
					      .jitter = 9,
					      .lsr = 1,
					      .dlsr = 2};
	static struct rtcp_sdes sd;
	memset(&sd, 0, sizeof(sd));
	sd.n_chunks = 1;
	sd.chunk[0].ssrc = ssrc;
	sd.chunk[0].n_items = 2;
	sd.n_items = 2;
	sd.item[0] = (struct rtcp_sdes_item){RTCP_SDES_CNAME, 4, (const uint8_t *)"a@mm"};
	sd.item[1] = (struct rtcp_sdes_item){RTCP_SDES_TOOL, 4, (const uint8_t *)"mmdp"};
	rtcp_writer_add(&w, rtcp_sr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sr));
	rtcp_writer_add(&w, rtcp_sdes_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sd));
	int n = rtcp_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	uint8_t b[2048], pl[1200];
	int n;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 1);

	/* ---- RTP ---- */
	uint8_t lvl[1] = {0x80 | 30}, abs[3] = {1, 2, 3}, tw[2] = {0, 42}, big[20];
	memset(big, 'x', sizeof(big));
	struct rtp_ext_elem e1[] = {
	    {1, 1, lvl}, {2, 3, abs}, {5, 2, tw}, {4, 1, (const uint8_t *)"q"}};
	struct rtp_ext_elem e2[] = {
	    {1, 1, lvl}, {5, 2, tw}, {20, 20, big}, {4, 1, (const uint8_t *)"h"}};
	n = rtp_pkt(b, sizeof(b), 1001, 111, NULL, 0, pl, 160, 0, 0);
	OUT("rtp", "opus-plain", b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 1001, 111, e1, 4, pl, 160, 0, 0);
	OUT("rtp", "opus-onebyte-ext", b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 1001, 111, e2, 4, pl, 160, 0, 0);
	OUT("rtp", "twobyte-ext", b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 1001, 111, e1, 2, pl, 40, 16, 3);
	OUT("rtp", "csrc-padding", b, (size_t)n);
	uint8_t vp8[64] = {0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x10, 0x00, 0x9d, 0x01, 0x2a};
	n = rtp_pkt(b, sizeof(b), 1002, 96, e1 + 2, 1, vp8, sizeof(vp8), 0, 0);
	OUT("rtp", "vp8-keyframe", b, (size_t)n);
	uint8_t h264_idr[32] = {0x65, 0x88, 0x84};
	n = rtp_pkt(b, sizeof(b), 2002, 102, NULL, 0, h264_idr, sizeof(h264_idr), 0, 0);
	OUT("rtp", "h264-idr", b, (size_t)n);
	uint8_t stap[32] = {0x78, 0, 4, 0x67, 1, 2, 3, 0, 3, 0x68, 4, 5, 0, 4, 0x65, 9, 9, 9};
	n = rtp_pkt(b, sizeof(b), 2002, 102, NULL, 0, stap, 18, 0, 0);
	OUT("rtp", "h264-stap-a", b, (size_t)n);
	uint8_t fua[32] = {0x7c, 0x85, 1, 2, 3};
	n = rtp_pkt(b, sizeof(b), 2002, 102, NULL, 0, fua, sizeof(fua), 0, 0);
	OUT("rtp", "h264-fu-a-start", b, (size_t)n);
	uint8_t rtx[2048];
	n = rtp_pkt(b, sizeof(b), 1002, 96, e1, 3, vp8, sizeof(vp8), 0, 0);
	int rn = rtx_build(rtx, sizeof(rtx), b, (size_t)n, 1003, 97, 5);
	OUT("rtp", "rtx", rtx, (size_t)rn);
	n = rtp_pkt(b, sizeof(b), 1002, 97, NULL, 0, NULL, 0, 200, 0);
	OUT("rtp", "padding-only-probe", b, (size_t)n);

	/* ---- RTCP ---- */
	size_t sn = rtcp_sr_sdes(b, sizeof(b), 1001);
	OUT("rtcp", "sr-sdes", b, sn);
	static struct rtcp_rr rr;
	rr.ssrc = 2001;
	rr.rc = 2;
	rr.rb[0].ssrc = 1001;
	rr.rb[1].ssrc = 1002;
	rr.rb[1].cumulative_lost = -3;
	n = rtcp_rr_build(b, sizeof(b), &rr);
	OUT("rtcp", "rr", b, (size_t)n);
	struct rtcp_bye bye = {
	    .count = 2, .ssrc = {1001, 1002}, .reason = (const uint8_t *)"left", .reason_len = 4};
	n = rtcp_bye_build(b, sizeof(b), &bye);
	OUT("rtcp", "bye-reason", b, (size_t)n);
	struct rtcp_app app = {.subtype = 3,
			       .ssrc = 1001,
			       .name = {'m', 'm', 'd', 'p'},
			       .data = (const uint8_t *)"abcdefgh",
			       .data_len = 8};
	n = rtcp_app_build(b, sizeof(b), &app);
	OUT("rtcp", "app", b, (size_t)n);
	struct rtcp_nack_item ni[2] = {{100, 0x8001}, {300, 0}};
	n = rtcp_nack_build(b, sizeof(b), 2001, 1002, ni, 2);
	OUT("rtcp", "nack", b, (size_t)n);
	n = rtcp_pli_build(b, sizeof(b), 2001, 1002);
	OUT("rtcp", "pli", b, (size_t)n);
	struct rtcp_fir_entry fe[2] = {{1002, 1}, {4001, 7}};
	n = rtcp_fir_build(b, sizeof(b), 2001, fe, 2);
	OUT("rtcp", "fir", b, (size_t)n);
	uint32_t rs[2] = {1001, 1002};
	n = rtcp_remb_build(b, sizeof(b), 2001, 1500000, rs, 2);
	OUT("rtcp", "remb", b, (size_t)n);
	bool recv[40];
	int64_t at[40];
	for (int i = 0; i < 40; i++) {
		recv[i] = i % 7 != 3;
		at[i] = 1000000 + i * (i % 5 == 0 ? 70000 : 5000);
	}
	n = twcc_feedback_build(b, sizeof(b), 2001, 1001, 65530, 40, recv, at, 9);
	OUT("rtcp", "twcc", b, (size_t)n);
	{
		/* SR + SDES + BYE in one compound, RR + REMB + PLI in another. */
		struct rtcp_writer w;
		rtcp_writer_init(&w, b, sizeof(b));
		size_t k = rtcp_sr_sdes(b, sizeof(b), 1001);
		w.len = k;
		rtcp_writer_add(&w,
				rtcp_bye_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &bye));
		OUT("rtcp", "compound-sr-sdes-bye", b, (size_t)rtcp_writer_finish(&w));
		rtcp_writer_init(&w, b, sizeof(b));
		rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr));
		rtcp_writer_add(&w, rtcp_remb_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 2001,
						    800000, rs, 1));
		rtcp_writer_add(
		    &w, rtcp_pli_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 2001, 1002));
		rtcp_writer_add(&w, rtcp_nack_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), 2001,
						    1002, ni, 1));
		OUT("rtcp", "compound-rr-remb-pli-nack", b, (size_t)rtcp_writer_finish(&w));
	}

	/* ---- STUN ---- */
	const char *pwd = "abcdefghijklmnopqrstuv0123";
	size_t qn = stun_req(b, "mmU1:peer", pwd, true, false);
	OUTP("stun", "binding-request-nominate", 3, b, qn);
	OUTP("stun", "binding-request-asis", 0, b, qn);
	qn = stun_req(b, "mmU1:aVeryLongRemoteUfragOfABrowser", pwd, false, true);
	OUTP("stun", "binding-request", 3, b, qn);
	struct net_addr a;
	uint8_t fam;
	uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	net_addr_parse("198.51.100.7", &a, &fam);
	n = stun_build_binding_success(b, sizeof(b), txid, &a, fam, 5000, (const uint8_t *)pwd,
				       strlen(pwd));
	OUTP("stun", "binding-success-v4", 0, b, (size_t)n);
	net_addr_parse("2001:db8::7", &a, &fam);
	n = stun_build_binding_success(b, sizeof(b), txid, &a, fam, 5000, (const uint8_t *)pwd,
				       strlen(pwd));
	OUTP("stun", "binding-success-v6", 4, b, (size_t)n);

	/* ---- engine: selector byte + UDP payload (fuzz_engine.c) ---- */
	n = rtp_pkt(b, sizeof(b), 1001, 111, e1, 4, pl, 160, 0, 0);
	OUTP("engine", "p-rtp-audio-level", 0, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 1002, 96, e1 + 2, 1, vp8, sizeof(vp8), 0, 0);
	OUTP("engine", "p-rtp-vp8", 0, b, (size_t)n);
	n = rtx_build(rtx, sizeof(rtx), b, (size_t)n, 1003, 97, 5);
	OUTP("engine", "p-rtx", 0, rtx, (size_t)n);
	sn = rtcp_sr_sdes(b, sizeof(b), 1001);
	OUTP("engine", "p-rtcp-sr-sdes", 0, b, sn);
	n = rtcp_nack_build(b, sizeof(b), 1001, 2002, ni, 2);
	OUTP("engine", "p-rtcp-nack", 0, b, (size_t)n);
	n = twcc_feedback_build(b, sizeof(b), 1001, 2001, 65530, 40, recv, at, 9);
	OUTP("engine", "p-rtcp-twcc", 0, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 2001, 111, e1, 4, pl, 160, 0, 0);
	OUTP("engine", "s-srtp-audio", 8 | 1, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 2002, 102, NULL, 0, h264_idr, sizeof(h264_idr), 0, 0);
	OUTP("engine", "s-srtp-h264", 8 | 1, b, (size_t)n);
	sn = rtcp_sr_sdes(b, sizeof(b), 2001);
	OUTP("engine", "s-srtcp-sr", 8 | 1, b, sn);
	n = rtp_pkt(b, sizeof(b), 2001, 111, NULL, 0, pl, 100, 0, 0);
	OUTP("engine", "s-unprotected", 1, b, (size_t)n);
	qn = stun_req(b, "mmU1:peer", pwd, true, false);
	OUTP("engine", "w-stun-check", 2 | 16, b, qn);
	size_t dn = dtls_client_hello(b, sizeof(b));
	if (dn)
		OUTP("engine", "w-dtls-client-hello", 2 | 16, b, dn);
	struct rtp_ext_elem er[] = {{4, 1, (const uint8_t *)"h"}};
	n = rtp_pkt(b, sizeof(b), 0x5555, 96, er, 1, vp8, sizeof(vp8), 0, 0);
	OUTP("engine", "v-rid-unknown-ssrc", 3, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 4002, 96, er, 1, vp8, sizeof(vp8), 0, 0);
	OUTP("engine", "v-simulcast-layer", 3, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 1001, 111, NULL, 0, pl, 50, 0, 0);
	OUTP("engine", "unknown-source", 4, b, (size_t)n);
	n = rtp_pkt(b, sizeof(b), 5001, 111, NULL, 0, pl, 50, 0, 0);
	OUTP("engine", "q-ipv6", 5, b, (size_t)n);
	{
		struct net_udp_tx tx;
		uint8_t f2, frame[2048];
		memset(&tx, 0, sizeof(tx));
		net_addr_parse("198.18.1.1", &tx.src, &tx.family);
		net_addr_parse("198.18.0.1", &tx.dst, &f2);
		memcpy(tx.src_mac, "\x02\x00\x00\x00\x01\x01", 6);
		memcpy(tx.dst_mac, "\x02\x00\x00\x00\x00\xdd", 6);
		tx.sport = 5001;
		tx.dport = 40001;
		n = rtp_pkt(b, sizeof(b), 1001, 111, NULL, 0, pl, 60, 0, 0);
		memcpy(frame + net_udp_hdr_len(4), b, (size_t)n);
		size_t fl = net_write_udp(frame, &tx, (size_t)n);
		OUTP("engine", "raw-frame-v4", 6, frame, fl);
		net_addr_parse("2001:2::1:5", &tx.src, &tx.family);
		net_addr_parse("2001:2::1", &tx.dst, &f2);
		tx.sport = 5005;
		tx.dport = 40005;
		memcpy(frame + net_udp_hdr_len(6), b, (size_t)n);
		fl = net_write_udp(frame, &tx, (size_t)n);
		OUTP("engine", "raw-frame-v6", 7, frame, fl);
	}

	/* ---- dtls: the datagram as it is (fuzz_engine.c -DFUZZ_DTLS) ---- */
	dn = dtls_client_hello(b, sizeof(b));
	if (dn)
		OUT("dtls", "client-hello", b, dn);
	qn = stun_req(b, "mmU1:peer", pwd, true, false);
	OUT("dtls", "stun-check", b, qn);
	n = rtp_pkt(b, sizeof(b), 3001, 111, NULL, 0, pl, 40, 0, 0);
	OUT("dtls", "rtp-before-keys", b, (size_t)n);
	return 0;
}
