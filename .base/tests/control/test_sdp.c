/* Unit tests of control/sdp.c: the offer's structure (parsed back), the
 * answers real WebRTC stacks made to an offer of ours (tests/control/sdp/:
 * aiortc and Chromium), the answer check against the offer, and rejection
 * of malformed and unusable descriptions with a message naming the line. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sdp.h"

#define FP "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:" \
	   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

static char *fixture(const char *name)
{
	char path[512];
	const char *dir = getenv("SDP_FIXTURES");
	cr_assert(dir, "SDP_FIXTURES must name tests/control/sdp");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int parse(const char *text, struct ctl_sdp *s, char *err)
{
	return ctl_sdp_parse((const uint8_t *)text, strlen(text), s, err, 256);
}

static const struct ctl_sdp_send SENDS[] = {
	{ .mid = 1, .active = true, .kind = CTL_SDP_MIC, .publisher = "pB", .ssrc = 1001 },
	{ .mid = 2, .active = true, .kind = CTL_SDP_CAM, .publisher = "pB", .ssrc = 2001,
	  .rtx_ssrc = 2002, .has_rtx = true },
	{ .mid = 5, .active = false, .kind = CTL_SDP_SCR, .publisher = "pC", .ssrc = 3001 },
};

static char *offer(uint64_t version)
{
	const struct ctl_sdp_offer o = {
		.session_id = 77, .version = version, .ice_ufrag = "abcdEFGH",
		.ice_pwd = "0123456789abcdefghijklmn", .fingerprint = FP, .addr = "198.18.0.1",
		.port = 40001, .send = SENDS, .nsend = 3,
	};
	char *s = ctl_sdp_offer_build(&o);
	cr_assert(s);
	return s;
}

Test(sdp_offer, structure_parses_back)
{
	struct ctl_sdp s;
	char err[256];
	char *text = offer(3);
	cr_assert_eq(parse(text, &s, err), 0, "%s", err);
	cr_assert(s.ice_lite);
	cr_assert_eq(s.version, 3);
	cr_assert_str_eq(s.ice_ufrag, "abcdEFGH");
	cr_assert_str_eq(s.ice_pwd, "0123456789abcdefghijklmn");
	cr_assert_str_eq(s.fingerprint, FP);
	cr_assert_str_eq(s.setup, "actpass");
	cr_assert_str_eq(s.bundle, "mic cam scr s1 s2 s5");
	cr_assert_eq(s.nm, 6);
	static const char *const mids[] = { "mic", "cam", "scr", "s1", "s2", "s5" };
	static const enum ctl_sdp_dir dirs[] = { CTL_SDP_RECVONLY, CTL_SDP_RECVONLY,
		CTL_SDP_RECVONLY, CTL_SDP_SENDONLY, CTL_SDP_SENDONLY, CTL_SDP_INACTIVE };
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(s.m[i].mid, mids[i]);
		cr_assert_eq(s.m[i].dir, dirs[i], "%s", mids[i]);
		cr_assert_eq(s.m[i].port, 40001);
		cr_assert_eq(s.m[i].ext_twcc, 3);
		cr_assert(!s.m[i].ext_mid, "no MID extension is offered");
	}
	cr_assert(s.m[0].audio && s.m[3].audio && !s.m[1].audio && !s.m[4].audio);
	cr_assert_eq(s.m[0].pt, 111);
	cr_assert_str_eq(s.m[0].codec, "opus");
	cr_assert_eq(s.m[0].ext_audio_level, 1);
	cr_assert_eq(s.m[1].pt, 96);
	cr_assert_eq(s.m[1].rtx_pt, 97);
	cr_assert_eq(s.m[1].nfmt, 4);
	cr_assert_eq(s.m[1].fmt[2], 102);
	cr_assert_eq(s.m[1].ext_rid, 10);
	cr_assert_eq(s.m[1].nrid, 3);
	cr_assert(!s.m[1].simulcast_send);
	cr_assert_str_eq(s.m[1].rid[0], "l");
	cr_assert_str_eq(s.m[1].rid[2], "h");
	cr_assert_eq(s.m[2].nrid, 0, "no simulcast for the screen");
	cr_assert_eq(s.m[2].ext_rid, 0);
	/* sendonly m-lines: SSRCs receivers see, FID, msid, cname. */
	cr_assert_eq(s.m[3].nssrc, 1);
	cr_assert_eq(s.m[3].ssrc[0], 1001);
	cr_assert_str_eq(s.m[3].msid, "pB");
	cr_assert_str_eq(s.m[3].cname, "pB");
	cr_assert_eq(s.m[4].ssrc[0], 2001);
	cr_assert(s.m[4].has_rtx[0]);
	cr_assert_eq(s.m[4].rtx_ssrc[0], 2002);
	cr_assert_eq(s.m[5].nssrc, 0, "an inactive m-line announces no SSRC");
	cr_assert(strstr(text, "a=msid:pB pB-cam\r\n"));
	cr_assert(strstr(text, "a=candidate:1 1 udp 2130706431 198.18.0.1 40001 typ host\r\n"));
	cr_assert(strstr(text, "a=simulcast:recv l;m;h\r\n"));
	cr_assert(strstr(text, "profile-level-id=42e01f"));
	cr_assert_null(strstr(text, "sdes:mid"));
	ctl_sdp_free(&s);
	free(text);
}

Test(sdp_offer, refuses_unusable_input)
{
	struct ctl_sdp_offer o = {
		.ice_ufrag = "abcd", .ice_pwd = "0123456789abcdefghijkl", .fingerprint = FP,
		.addr = "2001:db8::1", .port = 5000,
	};
	char *s = ctl_sdp_offer_build(&o);
	cr_assert(s);
	cr_assert(strstr(s, "c=IN IP6 2001:db8::1\r\n"));
	free(s);
	o.port = 0;
	cr_assert_null(ctl_sdp_offer_build(&o));
	o.port = 5000;
	o.fingerprint = "md5 00:11";
	cr_assert_null(ctl_sdp_offer_build(&o));
	o.fingerprint = FP;
	o.ice_ufrag = "ab cd";
	cr_assert_null(ctl_sdp_offer_build(&o));
}

/* The offer the fixtures answer (tests/control/sdp/offer.sdp). */
static void fixture_pair(const char *answer, struct ctl_sdp *o, struct ctl_sdp *a)
{
	char err[256];
	char *ot = fixture("offer.sdp"), *at = fixture(answer);
	cr_assert_eq(parse(ot, o, err), 0, "offer: %s", err);
	cr_assert_eq(parse(at, a, err), 0, "%s: %s", answer, err);
	free(ot);
	free(at);
}

Test(sdp_answer, chromium_simulcast_by_rid)
{
	struct ctl_sdp o, a;
	char err[256];
	fixture_pair("chromium-answer.sdp", &o, &a);
	cr_assert_eq(ctl_sdp_answer_check(&o, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.setup, "active");
	cr_assert_str_eq(a.ice_ufrag, "vwm6");
	cr_assert_eq(strncmp(a.fingerprint, "sha-256 8E:23:4A", 16), 0);
	cr_assert_eq(a.nm, 6);
	/* mic: one SSRC, audio level kept, twcc kept */
	cr_assert_eq(a.m[0].dir, CTL_SDP_SENDONLY);
	cr_assert_eq(a.m[0].nssrc, 1);
	cr_assert_eq(a.m[0].ssrc[0], 1241854590u);
	cr_assert_eq(a.m[0].ext_audio_level, 1);
	cr_assert_eq(a.m[0].ext_twcc, 3);
	/* cam: simulcast by rid, no SSRCs at all */
	cr_assert_eq(a.m[1].dir, CTL_SDP_SENDONLY);
	cr_assert(a.m[1].simulcast_send);
	cr_assert_eq(a.m[1].nrid, 3);
	cr_assert_str_eq(a.m[1].rid[0], "l");
	cr_assert_str_eq(a.m[1].rid[1], "m");
	cr_assert_str_eq(a.m[1].rid[2], "h");
	cr_assert_eq(a.m[1].nssrc, 0);
	cr_assert_eq(a.m[1].ext_rid, 10);
	cr_assert_str_eq(a.m[1].codec, "vp8");
	cr_assert_eq(a.m[1].rtx_pt, 97);
	cr_assert_eq(a.m[2].dir, CTL_SDP_INACTIVE);
	cr_assert_eq(a.m[3].dir, CTL_SDP_RECVONLY);
	cr_assert_eq(a.m[4].dir, CTL_SDP_RECVONLY);
	cr_assert_eq(a.m[5].dir, CTL_SDP_INACTIVE);
	ctl_sdp_free(&o);
	ctl_sdp_free(&a);
}

Test(sdp_answer, aiortc_ssrc_and_fid)
{
	struct ctl_sdp o, a;
	char err[256];
	fixture_pair("aiortc-answer.sdp", &o, &a);
	cr_assert_eq(ctl_sdp_answer_check(&o, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.setup, "active");
	cr_assert_eq(a.m[0].ssrc[0], 3904349435u);
	cr_assert_eq(a.m[0].ext_audio_level, 1);
	cr_assert_eq(a.m[0].ext_twcc, 0, "aiortc does not do transport-cc");
	cr_assert_eq(a.m[1].nssrc, 1);
	cr_assert_eq(a.m[1].ssrc[0], 616724529u);
	cr_assert(a.m[1].has_rtx[0]);
	cr_assert_eq(a.m[1].rtx_ssrc[0], 4290177043u);
	cr_assert_eq(a.m[1].nrid, 0);
	cr_assert_str_eq(a.m[1].codec, "vp8");
	cr_assert_eq(a.m[1].rtx_pt, 97);
	ctl_sdp_free(&o);
	ctl_sdp_free(&a);
}

/* A small answer to offer(1) with the given replacements of lines. */
static char *answer_text(const char *mic_extra, const char *session_extra)
{
	char *buf = malloc(8192);
	snprintf(buf, 8192,
		 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		 "a=group:BUNDLE mic cam scr s1 s2 s5\r\n%s"
		 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:mic\r\na=sendonly\r\n"
		 "a=rtpmap:111 opus/48000/2\r\na=extmap:1 " CTL_SDP_EXT_AUDIO_LEVEL_URI "\r\n"
		 "a=ssrc:11 cname:x\r\n%s"
		 "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\na=mid:cam\r\na=sendonly\r\n"
		 "a=rtpmap:102 H264/90000\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
		 "a=ssrc-group:SIM 21 22 23\r\na=ssrc-group:FID 21 31\r\na=ssrc-group:FID 22 32\r\n"
		 "a=ssrc:21 cname:x\r\na=ssrc:22 cname:x\r\na=ssrc:23 cname:x\r\n"
		 "a=ssrc:31 cname:x\r\na=ssrc:32 cname:x\r\n"
		 "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:scr\r\na=inactive\r\n"
		 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:s1\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"
		 "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:s2\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n"
		 "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:s5\r\na=inactive\r\n",
		 session_extra ? session_extra :
		 "a=ice-ufrag:wxyz\r\na=ice-pwd:0123456789012345678901\r\n"
		 "a=fingerprint:sha-256 aa:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
		 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:passive\r\n",
		 mic_extra ? mic_extra : "");
	return buf;
}

Test(sdp_answer, ssrc_simulcast_h264_lf_lines)
{
	struct ctl_sdp o, a;
	char err[256];
	char *ot = offer(1), *at = answer_text(NULL, NULL);
	/* LF-only lines parse the same. */
	for (char *r; (r = strstr(at, "\r\n"));)
		memmove(r, r + 1, strlen(r + 1) + 1);
	cr_assert_eq(parse(ot, &o, err), 0, "%s", err);
	cr_assert_eq(parse(at, &a, err), 0, "%s", err);
	cr_assert_eq(ctl_sdp_answer_check(&o, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.fingerprint, "sha-256 AA:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "uppercased");
	cr_assert_str_eq(a.setup, "passive");
	cr_assert_str_eq(a.m[1].codec, "h264");
	cr_assert_eq(a.m[1].pt, 102);
	cr_assert_eq(a.m[1].rtx_pt, 103);
	cr_assert_eq(a.m[1].nssrc, 3);
	cr_assert_eq(a.m[1].ssrc[0], 21);
	cr_assert_eq(a.m[1].ssrc[2], 23);
	cr_assert(a.m[1].has_rtx[0] && a.m[1].has_rtx[1] && !a.m[1].has_rtx[2]);
	cr_assert_eq(a.m[1].rtx_ssrc[1], 32);
	cr_assert_eq(a.m[2].port, 0);
	ctl_sdp_free(&o);
	ctl_sdp_free(&a);
	free(ot);
	free(at);
}

/* The answer with text replaced: parse (and check) must fail with a
 * message containing want. */
static void bad(const char *from, const char *to, const char *want)
{
	struct ctl_sdp o, a;
	char err[256] = "";
	char *ot = offer(1), *at = answer_text(NULL, NULL);
	char *buf = malloc(strlen(at) + strlen(to) + 1);
	char *hit = strstr(at, from);
	cr_assert(hit, "fixture lacks %s", from);
	size_t pre = (size_t)(hit - at);
	memcpy(buf, at, pre);
	strcpy(buf + pre, to);
	strcat(buf, hit + strlen(from));
	cr_assert_eq(parse(ot, &o, err), 0);
	int rc = parse(buf, &a, err);
	if (rc == 0) {
		rc = ctl_sdp_answer_check(&o, &a, err, sizeof(err));
		ctl_sdp_free(&a);
	} else {
		cr_assert_null(a.m, "nothing left to free on error");
	}
	cr_assert_lt(rc, 0, "accepted %s -> %s", from, to);
	cr_assert(strstr(err, want), "%s -> %s: error \"%s\" lacks \"%s\"", from, to, err, want);
	ctl_sdp_free(&o);
	free(ot);
	free(at);
	free(buf);
}

Test(sdp_answer, rejects_bad_answers)
{
	bad("a=fingerprint:sha-256 aa:11", "a=fingerprint:md5 aa:11", "sha-256 fingerprints only");
	bad("a=fingerprint:sha-256 aa:11", "a=fingerprint:sha-256 zz:11", "line 8");
	bad("a=fingerprint:sha-256 aa:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n", "", "no a=fingerprint");
	bad("a=ice-ufrag:wxyz\r\n", "", "no a=ice-ufrag");
	bad("a=ice-pwd:0123456789012345678901", "a=ice-pwd:short", "a=ice-pwd");
	bad("a=setup:passive", "a=setup:actpass", "active or passive");
	bad("a=setup:passive", "a=setup:sideways", "a=setup");
	bad("a=ssrc-group:SIM 21 22 23", "a=ssrc-group:SIM 21 22 23 24", "1..3 layers");
	bad("a=rtpmap:111 opus/48000/2\r\na=extmap", "a=rtpmap:111 G722/8000\r\na=extmap",
	    "no common codec");
	bad("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:mic", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
	    "a=rtpmap:0 opus/48000/2\r\na=mid:mic", "payload type 0");
	bad("a=mid:cam\r\na=sendonly", "a=mid:cam\r\na=sendrecv", "sendonly or inactive");
	bad("a=mid:s1\r\na=recvonly", "a=mid:s1\r\na=sendonly", "recvonly or inactive");
	bad("a=mid:s2", "a=mid:s9", "mid \"s9\"");
	bad("a=mid:s5\r\na=inactive\r\n", "a=inactive\r\n", "without a=mid");
	bad("a=mid:s2", "a=mid:s1", "twice");
	bad("a=ssrc:11 cname:x\r\n", "", "sendonly without a=ssrc");
	bad("a=extmap:1 ", "a=extmap:5 ", "extension ids");
	bad("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:s5", "m=application 9 UDP/DTLS/SCTP "
	    "webrtc-datachannel\r\na=mid:s5", "m=application");
	bad("v=0\r\n", "v=1\r\n", "starts with v=0");
	bad("s=-\r\n", "s=-\r\n\r\n", "empty line");
	bad("s=-\r\n", "garbage\r\n", "not an SDP line");
	bad("a=ssrc:11 cname:x", "a=ssrc:99999999999 cname:x", "a=ssrc");
	bad("a=ssrc-group:FID 21 31", "a=ssrc-group:FID 21", "FID needs 2");
	bad("a=mid:cam\r\na=sendonly\r\n", "a=mid:cam\r\na=sendonly\r\na=simulcast:send a;b;c;d\r\n",
	    "over 3 simulcast layers");
	bad("a=mid:cam\r\na=sendonly\r\n", "a=mid:cam\r\na=sendonly\r\na=simulcast:send x\r\n",
	    "not offered");
	bad("a=ice-ufrag:wxyz\r\n", "a=ice-ufrag:wxyz\r\na=ice-ufrag:abcd\r\n", "different");
}

Test(sdp_parse, truncated_and_garbage)
{
	struct ctl_sdp s;
	char err[256];
	char *text = offer(1);
	cr_assert_eq(ctl_sdp_parse((const uint8_t *)"", 0, &s, err, sizeof(err)), -EINVAL);
	/* Every prefix of a good description either parses or fails cleanly
	 * (never reads past len: ASan would tell). */
	size_t n = strlen(text);
	for (size_t cut = 1; cut < n; cut += 7) {
		char *part = malloc(cut);
		memcpy(part, text, cut);
		int rc = ctl_sdp_parse((const uint8_t *)part, cut, &s, err, sizeof(err));
		if (rc == 0)
			ctl_sdp_free(&s);
		else
			cr_assert(err[0]);
		free(part);
	}
	static const char *const junk[] = {
		"\x01\x02\x03", "v=0\r\nm=audio x", "v=0\r\nm=audio 9 RTP/AVP\r\n",
		"v=0\r\no=- x y\r\n", "v=0\r\nm=audio 70000 RTP/AVP 0\r\na=mid:a\r\n",
		"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\na=rtpmap:200 x/1\r\n",
		"v=0\r\na=mid:x\r\n", "v=0\r\n",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		err[0] = '\0';
		cr_assert_lt(parse(junk[i], &s, err), 0, "accepted %s", junk[i]);
		cr_assert(err[0], "no message for %s", junk[i]);
	}
	/* A line over the limit. */
	static char longl[6000];
	memcpy(longl, "v=0\r\na=", 7);
	memset(longl + 7, 'x', 5990);
	longl[5997] = '\0';
	cr_assert_eq(parse(longl, &s, err), -E2BIG);
	free(text);
}
