/* SRTP and SRTCP sessions (RFC 3711, RFC 7714) for one endpoint and one
 * direction, over libsrtp2 built on OpenSSL. No DPDK.
 *
 * Threading: a session is created and destroyed by the agent thread and used
 * (protect/unprotect) by exactly one worker at a time, the owner of the
 * endpoint's room; libsrtp2's per-session state (rollover counters, replay
 * windows, SRTCP index) is that worker's. */
#ifndef MM_SRTP_H
#define MM_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mm_srtp_profile {
	MM_SRTP_NONE = 0,                 /* plain RTP/RTCP */
	MM_SRTP_AES_CM_128_HMAC_SHA1_80,  /* RFC 3711 / 4568 */
	MM_SRTP_AES_CM_128_HMAC_SHA1_32,
	MM_SRTP_AEAD_AES_128_GCM,         /* RFC 7714 */
	MM_SRTP_AEAD_AES_256_GCM,
	MM_SRTP__COUNT
};

/* Longest master key + master salt of any profile (AES-256: 32 + 12). */
#define MM_SRTP_MASTER_MAX 46
/* Most bytes protect adds to an RTP packet (auth tag / AEAD tag) and to an
 * RTCP packet (tag + 4-byte SRTCP index). */
#define MM_SRTP_MAX_TRAILER 16
#define MM_SRTCP_MAX_TRAILER (16 + 4)

/* "AES_CM_128_HMAC_SHA1_80" etc. (RFC 4568 / RFC 7714 names). Returns 0 or
 * -EINVAL. */
int mm_srtp_profile_parse(const char *name, enum mm_srtp_profile *out);
const char *mm_srtp_profile_name(enum mm_srtp_profile p);
/* Master key + salt length of a profile: 30, 30, 28, 44 (0 for NONE). */
size_t mm_srtp_master_len(enum mm_srtp_profile p);
/* Bytes protect adds to RTP (10, 4, 16, 16) and to RTCP (SRTCP tag + 4:
 * 14, 14, 20, 20). AES_CM_128_HMAC_SHA1_32 keeps an 80-bit tag on SRTCP
 * (RFC 5764 section 4.1.2, and libsrtp2's own profile mapping): only its
 * SRTP tag is 32 bits. */
size_t mm_srtp_rtp_trailer(enum mm_srtp_profile p);
size_t mm_srtcp_trailer(enum mm_srtp_profile p);

/* Which libsrtp2 this build uses, e.g. "libsrtp2 2.5.0 on OpenSSL (static
 * subproject)" or "... system library (Debian's, on NSS: slow)". */
const char *mm_srtp_library(void);

struct mm_srtp_keys {
	enum mm_srtp_profile profile;
	uint8_t master[MM_SRTP_MASTER_MAX]; /* key || salt */
	size_t master_len;                   /* must equal mm_srtp_master_len */
};

/* One direction of one endpoint: inbound (unprotect what it sends, any
 * SSRC, replay protection on) or outbound (protect what it receives, any
 * SSRC). Opaque. */
struct mm_srtp;

/* Once per process, before any session (srtp_init). Returns 0 or -EIO. */
int mm_srtp_global_init(void);

int mm_srtp_create(struct mm_srtp **out, const struct mm_srtp_keys *keys, bool inbound);
void mm_srtp_destroy(struct mm_srtp *s);

/* Results of unprotect, as negative numbers: */
#define MM_SRTP_ERR_AUTH (-1)   /* authentication failed (tamper, wrong key) */
#define MM_SRTP_ERR_REPLAY (-2) /* replayed or too old */
#define MM_SRTP_ERR_PARSE (-3)  /* too short / malformed for SRTP */
#define MM_SRTP_ERR_OTHER (-4)

/* In place. *len is the packet length in and out. protect needs cap >=
 * *len + mm_srtp_rtp_trailer() (mm_srtcp_trailer() for RTCP), else it
 * returns MM_SRTP_ERR_OTHER and changes nothing. Return 0 or a
 * MM_SRTP_ERR_* value.
 *
 * pkt should be 32-bit aligned (libsrtp2 reads the headers through
 * uint32_t fields): a misaligned packet is bounced through an aligned copy
 * on the stack, which costs two extra copies.
 *
 * unprotect: a packet shorter than the RTP header (12) / SRTCP header and
 * index (12) plus the tag is MM_SRTP_ERR_PARSE, as is one whose CSRC list or
 * header extension runs past its end; a packet that fails its tag (altered
 * anywhere, wrong key, cut short but still longer than that) is
 * MM_SRTP_ERR_AUTH; a packet index already seen, or older than the replay
 * window (1024 packets), is MM_SRTP_ERR_REPLAY (checked before the tag).
 * On failure the bytes may have changed (AEAD decrypts before it checks the
 * tag), *len has not. A packet that fails never creates a stream.
 *
 * protect: a (SSRC, sequence number) already protected by this session is
 * MM_SRTP_ERR_REPLAY (libsrtp2 refuses to reuse a packet index: no
 * retransmission under the same sequence number). SRTCP indexes count from
 * 1 per SSRC. */
int mm_srtp_unprotect(struct mm_srtp *s, uint8_t *pkt, size_t *len);
int mm_srtp_protect(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap);
int mm_srtcp_unprotect(struct mm_srtp *s, uint8_t *pkt, size_t *len);
int mm_srtcp_protect(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap);

/* ---- Rollover counter (RFC 3711 section 3.3.1) ----------------------------
 *
 * An SRTP packet index is ROC * 65536 + SEQ, and the rollover counter (ROC)
 * is not in the packet: each end counts the wraps of SEQ it has seen since
 * the stream's first packet. A session created in the middle of a stream
 * (mmdp after a restart) assumes ROC 0, so once the sender has wrapped every
 * packet fails authentication. mm_srtp_unprotect never guesses; these
 * functions recover and continue a ROC on explicit request.
 *
 * MM_SRTP_ROC_MAX bounds the work spent on one packet. One ROC is 65,536
 * packets; the fastest stream considered is 1,500 packets/s (a 15 Mbit/s
 * screen share or 4K camera in 1,200-byte packets), which wraps every 44 s
 * and reaches ROC 86,400 * 1,500 / 65,536 = 1,978 in a day. 2,048 covers a
 * day at up to 1,553 packets/s (camera video at 500 packets/s: 6.2 days;
 * audio at 50 packets/s: 62 days). A sweep over all of them costs 2,048
 * authentication attempts: with 1,200-byte packets about 0.9 us each with
 * AES-GCM, 1.3 us with AES-CM/HMAC-SHA1, so 1.8-2.6 ms (measured on the
 * project's 2-vCPU VM). */
#define MM_SRTP_ROC_MAX 2048u
/* At most one sweep per inbound SSRC per this many nanoseconds (100 ms),
 * and at most MM_SRTP_RECOVER_SLOTS SSRCs of one session within that
 * time, so that packets that never authenticate (garbage, a spoofed source,
 * a wrong key) cost a session at most 8 sweeps per 100 ms. The engine adds
 * a per-worker budget on top (engine.h). */
#define MM_SRTP_RECOVER_INTERVAL_NS (100ull * 1000 * 1000)
#define MM_SRTP_RECOVER_SLOTS 8

/* More results of mm_srtp_unprotect_recover: */
#define MM_SRTP_ERR_LIMITED (-5) /* no sweep: this SSRC (or the session) swept too recently */
#define MM_SRTP_ERR_KNOWN (-6)   /* no sweep: the SSRC's stream is past ROC 0 in this session */

/* Recover the ROC of an inbound stream: pkt (*len bytes, as received: call
 * it with the original bytes after mm_srtp_unprotect failed with
 * MM_SRTP_ERR_AUTH, which may have changed them) is tried with ROC 1, 2,
 * ... max_roc (capped at MM_SRTP_ROC_MAX) in place of the ROC 0 a new
 * stream assumes, and at most once per MM_SRTP_RECOVER_INTERVAL_NS per
 * SSRC (MM_SRTP_ERR_LIMITED), now_ns being any monotonic clock in ns.
 *
 * Only for an SSRC whose RTP has not passed ROC 0 in this session: no
 * stream yet (nothing authenticated), or a stream that SRTCP created (the
 * sender's RTCP may arrive first) or that is still at ROC 0. A stream past
 * ROC 0 is MM_SRTP_ERR_KNOWN: libsrtp2 tracks its ROC, and its replay
 * protection is never bypassed. (The engine asks only for streams that
 * have not authenticated an RTP packet with this session.)
 *
 * 0: ROC *roc authenticated the packet, which is unprotected in place as
 * mm_srtp_unprotect would (*len shortened): the stream's index is now
 * *roc * 65536 + SEQ, that index is in its replay window, and from here on
 * it is an ordinary stream (mm_srtp_unprotect, replay protection).
 * MM_SRTP_ERR_AUTH: no ROC in 1..max_roc authenticates it, and the SSRC is
 * as before (no stream added, no replay window entry, nothing pending).
 * MM_SRTP_ERR_PARSE as for mm_srtp_unprotect. *tried is the number of ROC
 * values tried (0 when no sweep ran), for the caller's CPU budget.
 *
 * How: libsrtp2 takes a ROC only for an existing stream
 * (srtp_set_stream_roc), and an inbound session creates one (a clone of
 * its template) only for a packet that authenticates with ROC 0. Without a
 * stream, the sweep adds one of its own for the SSRC (srtp_add_stream: its
 * own session keys derived from the master key, so a recovered stream
 * holds about 3.5 KB (AES-CM) / 2.6 KB (GCM) more than a cloned one, see
 * mm_srtp_recovery_bytes), sets each candidate ROC on it (libsrtp2 then
 * takes the index as that ROC and this SEQ, as a jump forward without a
 * replay check, and writes the replay window only once the tag verifies),
 * and removes it again when no candidate authenticates. */
int mm_srtp_unprotect_recover(struct mm_srtp *s, uint8_t *pkt, size_t *len, uint64_t now_ns,
			      uint32_t max_roc, uint32_t *roc, uint32_t *tried);

/* The ROC of stream ssrc in session s: that of the highest packet index it
 * has protected or accepted. 0, or -ENOENT when s has no stream for ssrc
 * (nothing protected / authenticated yet). Walks the session's streams. */
int mm_srtp_stream_roc(struct mm_srtp *s, uint32_t ssrc, uint32_t *roc);

/* Drop session s's stream for ssrc, if it has one (its replay window and
 * ROC go; a later packet of ssrc starts a new stream from the template):
 * for an SSRC the sender no longer uses. */
void mm_srtp_forget(struct mm_srtp *s, uint32_t ssrc);

/* Outbound: protect pkt as mm_srtp_protect does, but when session s has
 * not yet protected RTP of the packet's SSRC past ROC 0 (no stream yet, or
 * only SRTCP, or RTP at ROC 0) and roc > 0, with packet index roc * 65536
 * + SEQ: the stream continues at ROC roc, and later packets follow on from
 * there as usual. *continued says whether it did (false: an ordinary
 * protect, because roc is 0 or the stream is past ROC 0 already). For the
 * first packet of a stream a receiver already knows (mmdp after a
 * restart). Creating the stream takes a throw-away protect of a 12-byte
 * header with SEQ 0 (never sent, so no keystream is exposed twice). */
int mm_srtp_protect_continue(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap, uint32_t roc,
			     bool *continued);

/* Streams whose ROC this session recovered (relaxed read: the agent may
 * ask while the worker uses the session). */
uint64_t mm_srtp_recovered(const struct mm_srtp *s);

/* Heap bytes a session of this profile and direction holds, and what each
 * per-SSRC stream it creates adds (libsrtp2 clones its template stream on the first
 * packet of a new SSRC: on protect, or on the first unprotect that
 * authenticates). Measured constants (glibc malloc chunks, libsrtp2 2.5.0
 * on OpenSSL 3.0), checked by tests/unit/test_srtp.c. */
size_t mm_srtp_session_bytes(enum mm_srtp_profile p, bool inbound);
size_t mm_srtp_stream_bytes(enum mm_srtp_profile p, bool inbound);
/* What recovery adds to a session beyond those: the rate limiter (once a
 * sweep ran) and, for each recovered stream, its own session keys and
 * cipher contexts instead of the template's (see mm_srtp_unprotect_recover).
 * Relaxed read, like mm_srtp_recovered. */
size_t mm_srtp_recovery_bytes(const struct mm_srtp *s);

#endif
