/* See sdp.h. The offer is text built line by line; the parser reads any
 * description line by line (CRLF or LF) into struct ctl_sdp and keeps only
 * what mmctld and mmdp use. */
#include "control/sdp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP_LINE_MAX 4096       /* longest line the parser takes */

/* ---- the offer ---------------------------------------------------------- */

/* A growing text buffer; fail sticks once an allocation failed. */
struct sdp_buf {
	char *p;
	size_t len, cap;
	bool fail;
};

static void sb_printf(struct sdp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sdp_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->fail)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->fail = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->fail = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static const char *const SDP_KIND_MID[] = { "mic", "cam", "scr" };

/* The rtcp-fb lines of a video payload type: what mmdp reads or answers. */
static void offer_video_fb(struct sdp_buf *b, int pt)
{
	sb_printf(b, "a=rtcp-fb:%d goog-remb\r\na=rtcp-fb:%d transport-cc\r\n"
		     "a=rtcp-fb:%d ccm fir\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n",
		  pt, pt, pt, pt, pt);
}

/* m= line, c= line, mid, direction, rtcp-mux/rsize and the codecs of one
 * m-line (audio: opus; video: VP8 + RTX, H264 + RTX). */
static void offer_media_head(struct sdp_buf *b, const struct ctl_sdp_offer *o, bool audio,
			     const char *mid, const char *dir)
{
	const char *ipv = strchr(o->addr, ':') ? "IP6" : "IP4";
	if (audio)
		sb_printf(b, "m=audio %d UDP/TLS/RTP/SAVPF %d\r\n", o->port, CTL_SDP_PT_OPUS);
	else
		sb_printf(b, "m=video %d UDP/TLS/RTP/SAVPF %d %d %d %d\r\n", o->port,
			  CTL_SDP_PT_VP8, CTL_SDP_PT_VP8_RTX, CTL_SDP_PT_H264, CTL_SDP_PT_H264_RTX);
	sb_printf(b, "c=IN %s %s\r\na=mid:%s\r\na=%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", ipv,
		  o->addr, mid, dir);
	if (audio) {
		sb_printf(b, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n"
			     "a=rtcp-fb:%d transport-cc\r\n", CTL_SDP_PT_OPUS, CTL_SDP_PT_OPUS,
			  CTL_SDP_PT_OPUS);
		sb_printf(b, "a=extmap:%d %s\r\n", CTL_SDP_EXT_AUDIO_LEVEL,
			  CTL_SDP_EXT_AUDIO_LEVEL_URI);
	} else {
		sb_printf(b, "a=rtpmap:%d VP8/90000\r\n", CTL_SDP_PT_VP8);
		offer_video_fb(b, CTL_SDP_PT_VP8);
		sb_printf(b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", CTL_SDP_PT_VP8_RTX,
			  CTL_SDP_PT_VP8_RTX, CTL_SDP_PT_VP8);
		sb_printf(b, "a=rtpmap:%d H264/90000\r\n", CTL_SDP_PT_H264);
		offer_video_fb(b, CTL_SDP_PT_H264);
		sb_printf(b, "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;"
			     "profile-level-id=42e01f\r\n", CTL_SDP_PT_H264);
		sb_printf(b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", CTL_SDP_PT_H264_RTX,
			  CTL_SDP_PT_H264_RTX, CTL_SDP_PT_H264);
	}
	sb_printf(b, "a=extmap:%d %s\r\n", CTL_SDP_EXT_TWCC, CTL_SDP_EXT_TWCC_URI);
}

/* Is s usable as an SDP token value (no spaces, no line breaks)? */
static bool offer_token_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

char *ctl_sdp_offer_build(const struct ctl_sdp_offer *o)
{
	struct sdp_buf b = { 0 };
	if (!offer_token_ok(o->ice_ufrag) || !offer_token_ok(o->ice_pwd) || !o->fingerprint ||
	    strncmp(o->fingerprint, "sha-256 ", 8) || !offer_token_ok(o->addr) ||
	    o->port < 1 || o->port > 65535)
		return NULL;
	for (size_t i = 0; i < o->nsend; i++)
		if (o->send[i].mid < 1 || !offer_token_ok(o->send[i].publisher) ||
		    o->send[i].kind > CTL_SDP_SCR)
			return NULL;
	const char *ipv = strchr(o->addr, ':') ? "IP6" : "IP4";
	sb_printf(&b, "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN %s %s\r\ns=-\r\nt=0 0\r\n",
		  o->session_id, o->version, ipv, o->addr);
	sb_printf(&b, "a=ice-lite\r\na=group:BUNDLE mic cam scr");
	for (size_t i = 0; i < o->nsend; i++)
		sb_printf(&b, " s%u", o->send[i].mid);
	sb_printf(&b, "\r\na=msid-semantic:WMS *\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
		      "a=fingerprint:%s\r\na=setup:actpass\r\n", o->ice_ufrag, o->ice_pwd,
		  o->fingerprint);

	/* What the server receives: the participant's mic, camera, screen.
	 * The first m-line carries the one host candidate (BUNDLE: its
	 * transport is everyone's). */
	offer_media_head(&b, o, true, "mic", "recvonly");
	sb_printf(&b, "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n",
		  o->addr, o->port);
	offer_media_head(&b, o, false, "cam", "recvonly");
	sb_printf(&b, "a=extmap:%d %s\r\n", CTL_SDP_EXT_RID, CTL_SDP_EXT_RID_URI);
	sb_printf(&b, "a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\na=simulcast:recv l;m;h\r\n");
	offer_media_head(&b, o, false, "scr", "recvonly");

	/* What it sends: every other participant's streams. */
	for (size_t i = 0; i < o->nsend; i++) {
		const struct ctl_sdp_send *s = &o->send[i];
		char mid[CTL_SDP_MID_MAX];
		snprintf(mid, sizeof(mid), "s%u", s->mid);
		offer_media_head(&b, o, s->kind == CTL_SDP_MIC, mid, s->active ? "sendonly" :
										     "inactive");
		if (!s->active)
			continue;
		const char *k = SDP_KIND_MID[s->kind];
		sb_printf(&b, "a=msid:%s %s-%s\r\n", s->publisher, s->publisher, k);
		if (s->has_rtx)
			sb_printf(&b, "a=ssrc-group:FID %" PRIu32 " %" PRIu32 "\r\n", s->ssrc,
				  s->rtx_ssrc);
		sb_printf(&b, "a=ssrc:%" PRIu32 " cname:%s\r\na=ssrc:%" PRIu32 " msid:%s %s-%s\r\n",
			  s->ssrc, s->publisher, s->ssrc, s->publisher, s->publisher, k);
		if (s->has_rtx)
			sb_printf(&b, "a=ssrc:%" PRIu32 " cname:%s\r\na=ssrc:%" PRIu32
				      " msid:%s %s-%s\r\n", s->rtx_ssrc, s->publisher,
				  s->rtx_ssrc, s->publisher, s->publisher, k);
	}
	if (b.fail) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- the parser --------------------------------------------------------- */

/* What a payload type of the current m-line names (a=rtpmap). */
enum sdp_enc { ENC_NONE, ENC_OPUS, ENC_VP8, ENC_H264, ENC_RTX, ENC_OTHER };

struct sdp_parse {
	struct ctl_sdp *out;
	char *err;
	size_t errlen;
	int line;                      /* current line number */
	const char *text;              /* current line (NUL-terminated copy) */
	struct ctl_sdp_media *cur;     /* NULL: session level */
	uint8_t enc[128];              /* current m-line: pt -> enum sdp_enc */
	int apt[128];                  /* rtx pt -> its apt (-1) */
	uint32_t ssrcs[CTL_SDP_SSRC_MAX];  /* current m-line's a=ssrc values */
	int nssrcs;
	uint32_t fid[CTL_SDP_LAYERS][2];   /* FID groups: primary, rtx */
	int nfid;
	bool sim;                      /* a SIM group filled cur->ssrc */
	int other_fp_line;             /* a non-sha-256 fingerprint (0: none) */
	char other_fp[16];
};

static int sdp_fail(struct sdp_parse *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sdp_fail(struct sdp_parse *p, int rc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->text)
		snprintf(p->err, p->errlen, "line %d (%.48s%s): %s", p->line, p->text,
			 strlen(p->text) > 48 ? "..." : "", msg);
	else
		snprintf(p->err, p->errlen, "%s", msg);
	return rc;
}

/* Parse a decimal integer in [lo, hi] from s (whole token up to end or a
 * char of stop); *end after it. */
static int sdp_uint(const char *s, const char **end, uint64_t lo, uint64_t hi, uint64_t *v)
{
	uint64_t n = 0;
	const char *q = s;
	if (!isdigit((unsigned char)*q))
		return -EINVAL;
	for (; isdigit((unsigned char)*q); q++) {
		n = n * 10 + (uint64_t)(*q - '0');
		if (n > hi || q - s > 19)
			return -EINVAL;
	}
	if (n < lo)
		return -EINVAL;
	*end = q;
	*v = n;
	return 0;
}

/* Copy the token at s (up to a space or the end) into dst; -E2BIG when it
 * does not fit, -EINVAL when empty. */
static int sdp_token(const char *s, char *dst, size_t cap, const char **end)
{
	size_t n = strcspn(s, " ");
	if (!n)
		return -EINVAL;
	if (n >= cap)
		return -E2BIG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	if (end)
		*end = s + n;
	return 0;
}

static bool ice_chars(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/')
			return false;
	return true;
}

static bool rid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 16)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* A transport attribute (ice-ufrag, ice-pwd, setup, fingerprint) may sit at
 * session level or in any m-line; BUNDLE makes them one transport, so a
 * second, different value is refused. */
static int sdp_same(struct sdp_parse *p, char *dst, size_t cap, const char *v, const char *what)
{
	if (strlen(v) >= cap)
		return sdp_fail(p, -E2BIG, "%s over %zu characters", what, cap - 1);
	if (dst[0] && strcmp(dst, v))
		return sdp_fail(p, -EINVAL, "a second, different %s (BUNDLE: one transport)", what);
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int sdp_fingerprint(struct sdp_parse *p, const char *v)
{
	char hash[16], norm[CTL_SDP_FP_MAX];
	const char *hex;
	if (sdp_token(v, hash, sizeof(hash), &hex) || *hex != ' ')
		return sdp_fail(p, -EINVAL, "a=fingerprint: expected \"<hash> <hex>\"");
	hex++;
	if (strcasecmp(hash, "sha-256")) {
		if (!p->other_fp_line) {
			p->other_fp_line = p->line;
			snprintf(p->other_fp, sizeof(p->other_fp), "%s", hash);
		}
		return 0;
	}
	/* 32 bytes as uppercase hex pairs with colons. */
	size_t n = strlen(hex);
	if (n != 32 * 3 - 1)
		return sdp_fail(p, -EINVAL, "sha-256 fingerprint: 32 hex bytes with colons");
	int o = snprintf(norm, sizeof(norm), "sha-256 ");
	for (size_t i = 0; i < n; i++) {
		bool colon = i % 3 == 2;
		if (colon ? hex[i] != ':' : !isxdigit((unsigned char)hex[i]))
			return sdp_fail(p, -EINVAL, "sha-256 fingerprint: 32 hex bytes with colons");
		norm[o++] = (char)toupper((unsigned char)hex[i]);
	}
	norm[o] = '\0';
	return sdp_same(p, p->out->fingerprint, sizeof(p->out->fingerprint), norm,
			"sha-256 fingerprint");
}

static int sdp_rtpmap(struct sdp_parse *p, const char *v)
{
	uint64_t pt;
	const char *q;
	if (!p->cur || sdp_uint(v, &q, 0, 127, &pt) || *q != ' ')
		return sdp_fail(p, -EINVAL, "a=rtpmap: expected \"<pt 0..127> <name>/<rate>\"");
	q++;
	size_t n = strcspn(q, "/");
	enum sdp_enc e = ENC_OTHER;
	if (n == 4 && !strncasecmp(q, "opus", 4))
		e = ENC_OPUS;
	else if (n == 3 && !strncasecmp(q, "VP8", 3))
		e = ENC_VP8;
	else if (n == 4 && !strncasecmp(q, "H264", 4))
		e = ENC_H264;
	else if (n == 3 && !strncasecmp(q, "rtx", 3))
		e = ENC_RTX;
	p->enc[pt] = (uint8_t)e;
	return 0;
}

static int sdp_fmtp(struct sdp_parse *p, const char *v)
{
	uint64_t pt, apt;
	const char *q;
	if (!p->cur || sdp_uint(v, &q, 0, 127, &pt) || *q != ' ')
		return sdp_fail(p, -EINVAL, "a=fmtp: expected \"<pt 0..127> <parameters>\"");
	const char *a = strstr(q, "apt=");
	if (a && (a == q + 1 || a[-1] == ';' || a[-1] == ' ')) {
		if (sdp_uint(a + 4, &q, 0, 127, &apt))
			return sdp_fail(p, -EINVAL, "a=fmtp: apt must be a payload type 0..127");
		p->apt[pt] = (int)apt;
	}
	return 0;
}

static int sdp_ssrc(struct sdp_parse *p, const char *v)
{
	uint64_t s;
	const char *q;
	if (!p->cur || sdp_uint(v, &q, 0, UINT32_MAX, &s) || (*q && *q != ' '))
		return sdp_fail(p, -EINVAL, "a=ssrc: expected \"<ssrc 0..4294967295> <attribute>\"");
	int i;
	for (i = 0; i < p->nssrcs && p->ssrcs[i] != (uint32_t)s; i++)
		;
	if (i == p->nssrcs) {
		if (p->nssrcs == CTL_SDP_SSRC_MAX)
			return sdp_fail(p, -E2BIG, "over %d SSRCs in one m-line", CTL_SDP_SSRC_MAX);
		p->ssrcs[p->nssrcs++] = (uint32_t)s;
	}
	if (i == 0 && !strncmp(q, " cname:", 7) && !p->cur->cname[0])
		snprintf(p->cur->cname, sizeof(p->cur->cname), "%.79s", q + 7);
	return 0;
}

static int sdp_ssrc_group(struct sdp_parse *p, const char *v)
{
	char sem[16];
	uint32_t g[8];
	int n = 0;
	const char *q;
	if (!p->cur || sdp_token(v, sem, sizeof(sem), &q))
		return sdp_fail(p, -EINVAL, "a=ssrc-group: expected \"<semantics> <ssrc>...\"");
	while (*q == ' ') {
		uint64_t s;
		if (n == 8 || sdp_uint(q + 1, &q, 0, UINT32_MAX, &s))
			return sdp_fail(p, -EINVAL, "a=ssrc-group: SSRCs must be 0..4294967295 "
					"(at most 8)");
		g[n++] = (uint32_t)s;
	}
	if (*q)
		return sdp_fail(p, -EINVAL, "a=ssrc-group: expected \"<semantics> <ssrc>...\"");
	if (!strcmp(sem, "SIM")) {
		if (p->cur->audio)
			return sdp_fail(p, -EINVAL, "simulcast of audio: mmdp takes one audio stream");
		if (n < 1 || n > CTL_SDP_LAYERS)
			return sdp_fail(p, -EINVAL, "a=ssrc-group:SIM of %d SSRCs: mmdp takes 1..%d "
					"layers", n, CTL_SDP_LAYERS);
		if (p->sim)
			return sdp_fail(p, -EINVAL, "a second a=ssrc-group:SIM in one m-line");
		p->sim = true;
		for (int i = 0; i < n; i++)
			p->cur->ssrc[i] = g[i];
		p->cur->nssrc = n;
	} else if (!strcmp(sem, "FID")) {
		if (n != 2)
			return sdp_fail(p, -EINVAL, "a=ssrc-group:FID needs 2 SSRCs (media, rtx)");
		if (p->cur->audio)
			return sdp_fail(p, -EINVAL, "RTX of audio: mmdp retransmits video only");
		if (p->nfid == CTL_SDP_LAYERS)
			return sdp_fail(p, -EINVAL, "over %d a=ssrc-group:FID in one m-line",
					CTL_SDP_LAYERS);
		p->fid[p->nfid][0] = g[0];
		p->fid[p->nfid][1] = g[1];
		p->nfid++;
	}
	/* Other semantics (FEC-FR, ...): mmdp does not take those streams;
	 * their packets are dropped as unknown SSRCs. */
	return 0;
}

static int sdp_rid_list(struct sdp_parse *p, const char *v, bool send)
{
	struct ctl_sdp_media *m = p->cur;
	char list[256];
	if (!m || m->audio)
		return sdp_fail(p, -EINVAL, "a=simulcast outside a video m-line");
	if (m->nrid)
		return sdp_fail(p, -EINVAL, "a second a=simulcast in one m-line (mmdp takes one "
				"direction)");
	if (sdp_token(v, list, sizeof(list), &v) || *v)
		return sdp_fail(p, -EINVAL, "a=simulcast: expected \"send|recv <rid>;<rid>...\"");
	m->simulcast_send = send;
	char *save = NULL;
	for (char *r = strtok_r(list, ";", &save); r; r = strtok_r(NULL, ";", &save)) {
		r[strcspn(r, ",")] = '\0';   /* the first alternative */
		if (*r == '~')
			r++;                 /* paused: still a layer */
		if (!rid_ok(r))
			return sdp_fail(p, -EINVAL, "rid \"%.20s\": 1..16 of [A-Za-z0-9_-]", r);
		if (m->nrid == CTL_SDP_LAYERS)
			return sdp_fail(p, -EINVAL, "over %d simulcast layers: mmdp takes %d",
					CTL_SDP_LAYERS, CTL_SDP_LAYERS);
		for (int i = 0; i < m->nrid; i++)
			if (!strcmp(m->rid[i], r))
				return sdp_fail(p, -EINVAL, "rid \"%s\" twice", r);
		snprintf(m->rid[m->nrid++], CTL_SDP_RID_MAX, "%s", r);
	}
	if (!m->nrid)
		return sdp_fail(p, -EINVAL, "a=simulcast without layers");
	return 0;
}

static int sdp_simulcast(struct sdp_parse *p, const char *v)
{
	/* "send <list>" or "recv <list>" (one direction: mmdp neither sends
	 * nor receives both in one m-line). */
	if (!strncmp(v, "send ", 5) && !strstr(v + 5, " recv"))
		return sdp_rid_list(p, v + 5, true);
	if (!strncmp(v, "recv ", 5) && !strstr(v + 5, " send"))
		return sdp_rid_list(p, v + 5, false);
	return sdp_fail(p, -EINVAL, "a=simulcast: expected \"send <rids>\" or \"recv <rids>\"");
}

static int sdp_extmap(struct sdp_parse *p, const char *v)
{
	uint64_t id;
	const char *q;
	if (sdp_uint(v, &q, 1, 255, &id) || (*q != ' ' && *q != '/'))
		return sdp_fail(p, -EINVAL, "a=extmap: expected \"<id> <uri>\"");
	q += strcspn(q, " ");
	if (*q != ' ')
		return sdp_fail(p, -EINVAL, "a=extmap: expected \"<id> <uri>\"");
	q++;
	size_t n = strcspn(q, " ");
	struct ctl_sdp_media *m = p->cur;
	if (!m)
		return 0;   /* session-level extmap: none of ours uses it */
	if (n == strlen(CTL_SDP_EXT_AUDIO_LEVEL_URI) && !strncmp(q, CTL_SDP_EXT_AUDIO_LEVEL_URI, n))
		m->ext_audio_level = (int)id;
	else if (n == strlen(CTL_SDP_EXT_TWCC_URI) && !strncmp(q, CTL_SDP_EXT_TWCC_URI, n))
		m->ext_twcc = (int)id;
	else if (n == strlen(CTL_SDP_EXT_RID_URI) && !strncmp(q, CTL_SDP_EXT_RID_URI, n))
		m->ext_rid = (int)id;
	else if (!strncmp(q, "urn:ietf:params:rtp-hdrext:sdes:mid", n) && n == 35)
		m->ext_mid = true;
	if ((m->ext_audio_level == (int)id || m->ext_twcc == (int)id || m->ext_rid == (int)id) &&
	    id > 14)
		return sdp_fail(p, -EINVAL, "extension id %d: mmdp reads one-byte ids 1..14",
				(int)id);
	return 0;
}

/* Close the current m-line: its codec, RTX and SSRCs from what its lines
 * said. */
static int sdp_media_end(struct sdp_parse *p)
{
	struct ctl_sdp_media *m = p->cur;
	if (!m)
		return 0;
	m->pt = m->rtx_pt = -1;
	for (int i = 0; i < m->nfmt && m->pt < 0; i++) {
		int pt = m->fmt[i];
		enum sdp_enc e = p->enc[pt];
		if ((m->audio && e == ENC_OPUS) || (!m->audio && (e == ENC_VP8 || e == ENC_H264))) {
			m->pt = pt;
			snprintf(m->codec, sizeof(m->codec), "%s",
				 e == ENC_OPUS ? "opus" : e == ENC_VP8 ? "vp8" : "h264");
		}
	}
	for (int i = 0; m->pt >= 0 && i < m->nfmt; i++)
		if (p->enc[m->fmt[i]] == ENC_RTX && p->apt[m->fmt[i]] == m->pt) {
			m->rtx_pt = m->fmt[i];
			break;
		}
	if (!p->sim) {
		/* One stream: the first SSRC that is not some FID's RTX. */
		for (int i = 0; i < p->nssrcs && !m->nssrc; i++) {
			bool rtx = false;
			for (int f = 0; f < p->nfid; f++)
				rtx |= p->fid[f][1] == p->ssrcs[i];
			if (!rtx) {
				m->ssrc[0] = p->ssrcs[i];
				m->nssrc = 1;
			}
		}
	}
	for (int f = 0; f < p->nfid; f++) {
		int l;
		for (l = 0; l < m->nssrc && m->ssrc[l] != p->fid[f][0]; l++)
			;
		if (l == m->nssrc)
			continue;   /* RTX of a stream mmdp does not take */
		m->has_rtx[l] = true;
		m->rtx_ssrc[l] = p->fid[f][1];
	}
	p->cur = NULL;
	return 0;
}

static int sdp_media_start(struct sdp_parse *p, const char *v)
{
	struct ctl_sdp *s = p->out;
	char kind[16], proto[32];
	uint64_t port;
	const char *q;
	if (s->nm == CTL_SDP_MEDIA_MAX)
		return sdp_fail(p, -E2BIG, "over %d m-lines", CTL_SDP_MEDIA_MAX);
	if (sdp_token(v, kind, sizeof(kind), &q) || *q != ' ' ||
	    sdp_uint(q + 1, &q, 0, 65535, &port) || *q != ' ' ||
	    sdp_token(q + 1, proto, sizeof(proto), &q))
		return sdp_fail(p, -EINVAL, "m=: expected \"<media> <port> <proto> <fmt>...\"");
	if (strcmp(kind, "audio") && strcmp(kind, "video"))
		return sdp_fail(p, -EINVAL, "m=%s: mmdp takes audio and video only", kind);
	if (s->nm % 16 == 0) {
		struct ctl_sdp_media *nm = realloc(s->m, (s->nm + 16) * sizeof(*nm));
		if (!nm)
			return sdp_fail(p, -ENOMEM, "out of memory");
		s->m = nm;
	}
	struct ctl_sdp_media *m = &s->m[s->nm++];
	memset(m, 0, sizeof(*m));
	m->audio = !strcmp(kind, "audio");
	m->port = (int)port;
	m->line = p->line;
	m->dir = CTL_SDP_SENDRECV;
	while (*q == ' ') {
		uint64_t pt;
		if (m->nfmt == (int)(sizeof(m->fmt) / sizeof(m->fmt[0])) ||
		    sdp_uint(q + 1, &q, 0, 127, &pt))
			return sdp_fail(p, -EINVAL, "m=: payload types must be 0..127 (at most 32)");
		m->fmt[m->nfmt++] = (int)pt;
	}
	if (*q || !m->nfmt)
		return sdp_fail(p, -EINVAL, "m=: expected \"<media> <port> <proto> <fmt>...\"");
	p->cur = m;
	memset(p->enc, 0, sizeof(p->enc));
	memset(p->apt, 0xff, sizeof(p->apt));
	p->nssrcs = p->nfid = 0;
	p->sim = false;
	return 0;
}

static int sdp_attr(struct sdp_parse *p, const char *a)
{
	struct ctl_sdp *s = p->out;
	struct ctl_sdp_media *m = p->cur;
	const char *colon = strchr(a, ':');
	size_t nl = colon ? (size_t)(colon - a) : strlen(a);
	const char *v = colon ? colon + 1 : "";
	char name[32];
	if (nl >= sizeof(name))
		return 0;   /* no attribute of ours is that long */
	memcpy(name, a, nl);
	name[nl] = '\0';

	static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
	for (int d = 0; d < 4; d++)
		if (!strcmp(name, dirs[d])) {
			if (m)
				m->dir = (enum ctl_sdp_dir)d;
			return 0;
		}
	if (!strcmp(name, "mid")) {
		if (!m)
			return sdp_fail(p, -EINVAL, "a=mid at session level");
		if (!*v || strlen(v) >= sizeof(m->mid) || strchr(v, ' '))
			return sdp_fail(p, -EINVAL, "a=mid: 1..%d characters, no spaces",
					CTL_SDP_MID_MAX - 1);
		snprintf(m->mid, sizeof(m->mid), "%s", v);
		for (size_t i = 0; i + 1 < s->nm; i++)
			if (!strcmp(s->m[i].mid, v))
				return sdp_fail(p, -EINVAL, "mid \"%s\" twice", v);
		return 0;
	}
	if (!strcmp(name, "ice-ufrag")) {
		size_t n = strlen(v);
		if (n < 4 || n > 256 || !ice_chars(v))
			return sdp_fail(p, -EINVAL, "a=ice-ufrag: 4..256 ice-chars ([A-Za-z0-9+/])");
		return sdp_same(p, s->ice_ufrag, sizeof(s->ice_ufrag), v, "ice-ufrag");
	}
	if (!strcmp(name, "ice-pwd")) {
		size_t n = strlen(v);
		if (n < 22 || n > 256 || !ice_chars(v))
			return sdp_fail(p, -EINVAL, "a=ice-pwd: 22..256 ice-chars ([A-Za-z0-9+/])");
		return sdp_same(p, s->ice_pwd, sizeof(s->ice_pwd), v, "ice-pwd");
	}
	if (!strcmp(name, "setup")) {
		if (strcmp(v, "active") && strcmp(v, "passive") && strcmp(v, "actpass") &&
		    strcmp(v, "holdconn"))
			return sdp_fail(p, -EINVAL, "a=setup: active, passive, actpass or holdconn");
		return sdp_same(p, s->setup, sizeof(s->setup), v, "setup");
	}
	if (!strcmp(name, "fingerprint"))
		return sdp_fingerprint(p, v);
	if (!strcmp(name, "ice-lite")) {
		s->ice_lite = true;
		return 0;
	}
	if (!strcmp(name, "group")) {
		if (!strncmp(v, "BUNDLE", 6) && (v[6] == ' ' || !v[6]))
			snprintf(s->bundle, sizeof(s->bundle), "%.*s", (int)sizeof(s->bundle) - 1,
				 v[6] ? v + 7 : "");
		return 0;
	}
	if (!strcmp(name, "rtpmap"))
		return sdp_rtpmap(p, v);
	if (!strcmp(name, "fmtp"))
		return sdp_fmtp(p, v);
	if (!strcmp(name, "ssrc"))
		return sdp_ssrc(p, v);
	if (!strcmp(name, "ssrc-group"))
		return sdp_ssrc_group(p, v);
	if (!strcmp(name, "simulcast"))
		return sdp_simulcast(p, v);
	if (!strcmp(name, "extmap"))
		return sdp_extmap(p, v);
	if (!strcmp(name, "msid") && m) {
		snprintf(m->msid, sizeof(m->msid), "%.*s", (int)strcspn(v, " ") < 79 ?
			 (int)strcspn(v, " ") : 79, v);
		return 0;
	}
	/* a=rid lines: the a=simulcast line is what says which layers are
	 * sent (and in which order); other attributes mmdp does not use. */
	return 0;
}

int ctl_sdp_parse(const uint8_t *buf, size_t len, struct ctl_sdp *out, char *err, size_t errlen)
{
	struct sdp_parse p = { .out = out, .err = err, .errlen = errlen };
	char line[SDP_LINE_MAX + 1];
	size_t off = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!len) {
		snprintf(err, errlen, "empty description");
		return -EINVAL;
	}
	while (off < len && !rc) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		size_t next = off + n + (nl ? 1 : 0);
		if (n && buf[off + n - 1] == '\r')
			n--;
		p.line++;
		p.text = NULL;
		if (n > SDP_LINE_MAX) {
			rc = sdp_fail(&p, -E2BIG, "line %d over %d bytes", p.line, SDP_LINE_MAX);
			break;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off = next;
		if (!n) {
			if (off < len) {
				p.text = line;
				rc = sdp_fail(&p, -EINVAL, "empty line inside the description");
			}
			continue;
		}
		p.text = line;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < ' ' || line[i] == 0x7f) {
				rc = sdp_fail(&p, -EINVAL, "control character in a line");
				break;
			}
		if (rc)
			break;
		if (n < 2 || line[1] != '=' || !islower((unsigned char)line[0])) {
			rc = sdp_fail(&p, -EINVAL, "not an SDP line (\"<letter>=<value>\")");
			break;
		}
		if (p.line == 1 && strcmp(line, "v=0")) {
			rc = sdp_fail(&p, -EINVAL, "a description starts with v=0");
			break;
		}
		switch (line[0]) {
		case 'o': {
			/* o=<user> <sess-id> <sess-version> IN IP4 <addr> */
			const char *q = line + 2;
			uint64_t id;
			q += strcspn(q, " ");
			if (*q != ' ' || sdp_uint(q + 1, &q, 0, UINT64_MAX, &id) || *q != ' ' ||
			    sdp_uint(q + 1, &q, 0, UINT64_MAX, &out->version))
				rc = sdp_fail(&p, -EINVAL, "o=: expected \"<user> <sess-id> "
					      "<sess-version> ...\"");
			break;
		}
		case 'm':
			if (!(rc = sdp_media_end(&p)))
				rc = sdp_media_start(&p, line + 2);
			break;
		case 'a':
			rc = sdp_attr(&p, line + 2);
			break;
		default:
			break;
		}
	}
	if (!rc)
		rc = sdp_media_end(&p);
	if (!rc && !out->fingerprint[0] && p.other_fp_line) {
		p.text = NULL;
		rc = sdp_fail(&p, -EINVAL, "line %d: a=fingerprint:%s: mmdp takes sha-256 "
			      "fingerprints only", p.other_fp_line, p.other_fp);
	}
	if (!rc && !out->nm) {
		p.text = NULL;
		rc = sdp_fail(&p, -EINVAL, "no m-lines");
	}
	for (size_t i = 0; !rc && i < out->nm; i++)
		if (!out->m[i].mid[0]) {
			p.text = NULL;
			rc = sdp_fail(&p, -EINVAL, "line %d: m-line without a=mid (BUNDLE needs one)",
				      out->m[i].line);
		}
	if (rc)
		ctl_sdp_free(out);
	return rc;
}

void ctl_sdp_free(struct ctl_sdp *s)
{
	free(s->m);
	s->m = NULL;
	s->nm = 0;
}

/* ---- answer against offer ----------------------------------------------- */

static int check_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int check_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The canonical payload type of a codec. */
static int canon_pt(const char *codec)
{
	return !strcmp(codec, "opus") ? CTL_SDP_PT_OPUS : !strcmp(codec, "vp8") ? CTL_SDP_PT_VP8 :
										  CTL_SDP_PT_H264;
}

int ctl_sdp_answer_check(const struct ctl_sdp *o, const struct ctl_sdp *a, char *err,
			 size_t errlen)
{
	if (!a->ice_ufrag[0] || !a->ice_pwd[0])
		return check_fail(err, errlen, "no a=ice-ufrag / a=ice-pwd");
	if (strlen(a->ice_ufrag) > 32)
		return check_fail(err, errlen, "a=ice-ufrag over 32 characters (mmdp's limit)");
	if (!a->fingerprint[0])
		return check_fail(err, errlen, "no a=fingerprint (sha-256)");
	if (strcmp(a->setup, "active") && strcmp(a->setup, "passive"))
		return check_fail(err, errlen, "a=setup:%s: an answer says active or passive",
				  a->setup[0] ? a->setup : "(none)");
	if (a->nm != o->nm)
		return check_fail(err, errlen, "the answer has %zu m-lines, the offer %zu", a->nm,
				  o->nm);
	for (size_t i = 0; i < a->nm; i++) {
		const struct ctl_sdp_media *om = &o->m[i], *am = &a->m[i];
		int ln = am->line;
		if (strcmp(om->mid, am->mid))
			return check_fail(err, errlen, "line %d: m-line %zu has mid \"%s\", the "
					  "offer's is \"%s\"", ln, i + 1, am->mid, om->mid);
		if (om->audio != am->audio)
			return check_fail(err, errlen, "line %d: mid %s: m=%s, the offer's is m=%s",
					  ln, am->mid, am->audio ? "audio" : "video",
					  om->audio ? "audio" : "video");
		if (!am->port || am->dir == CTL_SDP_INACTIVE)
			continue;   /* rejected or inactive: nothing flows */
		enum ctl_sdp_dir want = om->dir == CTL_SDP_RECVONLY ? CTL_SDP_SENDONLY :
					om->dir == CTL_SDP_SENDONLY ? CTL_SDP_RECVONLY :
					om->dir == CTL_SDP_INACTIVE ? CTL_SDP_INACTIVE :
								      CTL_SDP_SENDRECV;
		if (am->dir != want)
			return check_fail(err, errlen, "line %d: mid %s: the offer's direction "
					  "allows %s or inactive only", ln, am->mid,
					  want == CTL_SDP_SENDONLY ? "sendonly" :
					  want == CTL_SDP_RECVONLY ? "recvonly" :
					  want == CTL_SDP_INACTIVE ? "inactive" : "sendrecv");
		if (am->pt < 0)
			return check_fail(err, errlen, "line %d: mid %s: no common codec (mmdp takes "
					  "%s)", ln, am->mid, am->audio ? "opus" : "VP8 or H264");
		if (am->pt != canon_pt(am->codec))
			return check_fail(err, errlen, "line %d: mid %s: payload type %d for %s, "
					  "the offer's is %d", ln, am->mid, am->pt, am->codec,
					  canon_pt(am->codec));
		int rtx = am->pt == CTL_SDP_PT_VP8 ? CTL_SDP_PT_VP8_RTX : CTL_SDP_PT_H264_RTX;
		if (am->rtx_pt >= 0 && am->rtx_pt != rtx)
			return check_fail(err, errlen, "line %d: mid %s: RTX payload type %d, the "
					  "offer's is %d", ln, am->mid, am->rtx_pt, rtx);
		if ((am->ext_audio_level && am->ext_audio_level != CTL_SDP_EXT_AUDIO_LEVEL) ||
		    (am->ext_twcc && am->ext_twcc != CTL_SDP_EXT_TWCC) ||
		    (am->ext_rid && am->ext_rid != CTL_SDP_EXT_RID))
			return check_fail(err, errlen, "line %d: mid %s: extension ids differ from "
					  "the offer's (1 audio level, 3 transport-cc, 10 rid)", ln,
					  am->mid);
		if (am->nrid && (!am->simulcast_send || want != CTL_SDP_SENDONLY))
			return check_fail(err, errlen, "line %d: mid %s: simulcast in the answer "
					  "must be a=simulcast:send on a sendonly m-line", ln, am->mid);
		for (int r = 0; r < am->nrid; r++) {
			int k;
			for (k = 0; k < om->nrid && strcmp(om->rid[k], am->rid[r]); k++)
				;
			if (k == om->nrid)
				return check_fail(err, errlen, "line %d: mid %s: rid \"%s\" is not "
						  "offered", ln, am->mid, am->rid[r]);
		}
		if (want == CTL_SDP_SENDONLY && !am->nssrc && !am->nrid)
			return check_fail(err, errlen, "line %d: mid %s: sendonly without a=ssrc "
					  "or a=simulcast:send: mmdp cannot tell its packets", ln,
					  am->mid);
		if (am->nrid && !am->ext_rid && am->nssrc < am->nrid)
			return check_fail(err, errlen, "line %d: mid %s: simulcast by rid without "
					  "the rtp-stream-id extension", ln, am->mid);
	}
	return 0;
}
