/* SDP for browsers (RFC 8866, JSEP RFC 8829): the offer mmctld makes for a
 * participant and the parse of the participant's answer. Pure: no I/O, no
 * store; control/api_webrtc.c feeds it and stores what it returns.
 *
 * The shape (docs/api.md "Browsers (WebRTC)"): one peer connection per
 * participant, mmctld always offers. m-lines, in order: "mic" (audio),
 * "cam" (video, simulcast l;m;h) and "scr" (video) which the server
 * receives, then one sendonly m-line per stream of every other participant
 * ("s1", "s2", ... never reused; a=inactive once the stream is gone). Every
 * participant of a room gets the same payload types and extension ids, so
 * mmdp forwards packets without rewriting them. */
#ifndef CTL_SDP_H
#define CTL_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Canonical payload types and RFC 8285 extension ids of every offer. */
#define CTL_SDP_PT_OPUS 111
#define CTL_SDP_PT_VP8 96
#define CTL_SDP_PT_VP8_RTX 97
#define CTL_SDP_PT_H264 102
#define CTL_SDP_PT_H264_RTX 103
#define CTL_SDP_EXT_AUDIO_LEVEL 1
#define CTL_SDP_EXT_TWCC 3
#define CTL_SDP_EXT_RID 10

#define CTL_SDP_EXT_AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define CTL_SDP_EXT_TWCC_URI \
	"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define CTL_SDP_EXT_RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"

#define CTL_SDP_LAYERS 3          /* simulcast layers mmdp takes (l, m, h) */
#define CTL_SDP_RID_MAX 17        /* RFC 8852 RID as mmdp takes it + NUL */
#define CTL_SDP_MID_MAX 17        /* "s4294967295" fits */
#define CTL_SDP_UFRAG_MAX 33      /* 4..32 ice-chars + NUL (mmdp's limit) */
#define CTL_SDP_PWD_MAX 257       /* 22..256 ice-chars + NUL */
#define CTL_SDP_FP_MAX 104        /* "sha-256 " + 32 hex pairs with colons + NUL */
#define CTL_SDP_MEDIA_MAX 1024    /* m-lines in one description */
#define CTL_SDP_SSRC_MAX 16       /* a=ssrc values kept per m-line */

enum ctl_sdp_dir {
	CTL_SDP_SENDRECV,
	CTL_SDP_SENDONLY,
	CTL_SDP_RECVONLY,
	CTL_SDP_INACTIVE,
};

/* What a stream of another participant is, for its sendonly m-line. */
enum ctl_sdp_kind { CTL_SDP_MIC, CTL_SDP_CAM, CTL_SDP_SCR };

/* One sendonly m-line of an offer: a stream of another participant. */
struct ctl_sdp_send {
	unsigned mid;                  /* the m-line is "s<mid>" (>= 1) */
	bool active;                   /* false: a=inactive, the stream is gone */
	enum ctl_sdp_kind kind;
	const char *publisher;         /* participant id: cname, msid */
	uint32_t ssrc;                 /* the SSRC receivers see */
	uint32_t rtx_ssrc;             /* retransmissions' SSRC (has_rtx) */
	bool has_rtx;
};

/* Everything one offer says. */
struct ctl_sdp_offer {
	uint64_t session_id;           /* o= sess-id (stable per participant) */
	uint64_t version;              /* o= sess-version: the offer's version */
	const char *ice_ufrag, *ice_pwd;
	const char *fingerprint;       /* "sha-256 AB:CD:..." (mmdp's certificate) */
	const char *addr;              /* mmdp's media address (IPv4 or IPv6) */
	int port;                      /* the participant's server UDP port */
	const struct ctl_sdp_send *send;
	size_t nsend;
};

/* The offer text (CRLF lines), malloc'd; NULL when out of memory or a
 * field is unusable (empty credentials, port out of range). */
char *ctl_sdp_offer_build(const struct ctl_sdp_offer *o);

/* One m-line of a parsed description. */
struct ctl_sdp_media {
	char mid[CTL_SDP_MID_MAX];
	bool audio;                    /* m=audio; else m=video */
	int port;                      /* 0: rejected */
	int line;                      /* its m= line number (1-based) */
	enum ctl_sdp_dir dir;          /* sendrecv when unsaid */
	int pt;                        /* the codec chosen: first payload type of
	                                * the m= format list that names opus, VP8
	                                * or H264 in an a=rtpmap; -1 none */
	char codec[8];                 /* "opus", "vp8", "h264" ("" with pt -1) */
	int rtx_pt;                    /* a=rtpmap rtx with apt=pt; -1 none */
	int nssrc;                     /* media SSRCs: a=ssrc-group:SIM order,
	                                * else the a=ssrc that is no FID's RTX */
	uint32_t ssrc[CTL_SDP_LAYERS];
	bool has_rtx[CTL_SDP_LAYERS];  /* from a=ssrc-group:FID <ssrc> <rtx> */
	uint32_t rtx_ssrc[CTL_SDP_LAYERS];
	int nrid;                      /* a=simulcast (send or recv) layers, in
	                                * the order the line lists them */
	char rid[CTL_SDP_LAYERS][CTL_SDP_RID_MAX];
	bool simulcast_send;           /* a=simulcast:send (else :recv or none) */
	char msid[80];                 /* a=msid stream id ("" none) */
	char cname[80];                /* a=ssrc:<first> cname: ("" none) */
	int ext_audio_level;           /* a=extmap ids of the URIs above; 0 none */
	int ext_twcc;
	int ext_rid;
	bool ext_mid;                  /* a=extmap of sdes:mid is there */
	int nfmt;                      /* the m= line's payload types */
	int fmt[32];
};

/* A parsed description (offer or answer). */
struct ctl_sdp {
	char ice_ufrag[CTL_SDP_UFRAG_MAX];
	char ice_pwd[CTL_SDP_PWD_MAX];
	char fingerprint[CTL_SDP_FP_MAX];  /* "sha-256 AB:..", uppercase hex */
	char setup[8];                 /* active | passive | actpass */
	bool ice_lite;
	char bundle[CTL_SDP_MID_MAX * 4]; /* first mids of a=group:BUNDLE (text) */
	uint64_t version;              /* o= sess-version */
	size_t nm;
	struct ctl_sdp_media *m;       /* nm of them (malloc'd) */
};

/* Parse a description (CRLF or LF lines). 0, or a negative errno with a
 * one-line reason naming the line in err: -EINVAL (malformed, or something
 * mmdp cannot take: a fingerprint that is not sha-256, an SSRC group of
 * more than three layers, ...), -E2BIG (over CTL_SDP_MEDIA_MAX m-lines or a
 * value over its limit), -ENOMEM. On error out holds nothing to free. */
int ctl_sdp_parse(const uint8_t *buf, size_t len, struct ctl_sdp *out, char *err,
		  size_t errlen);
void ctl_sdp_free(struct ctl_sdp *s);

/* Check an answer against the offer it answers: the same m-lines in the
 * same order, directions the offer allows (recvonly m-lines of the offer
 * answered sendonly or inactive, sendonly ones recvonly or inactive), ICE
 * credentials, a sha-256 fingerprint, setup active or passive, a common
 * codec in every m-line that is not rejected. 0 or -EINVAL with err. */
int ctl_sdp_answer_check(const struct ctl_sdp *offer, const struct ctl_sdp *answer, char *err,
			 size_t errlen);

#endif
