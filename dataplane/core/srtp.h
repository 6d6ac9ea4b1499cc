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

/* Heap bytes a session of this profile and direction holds, and what each
 * per-SSRC stream it creates adds (libsrtp2 clones its template stream on the first
 * packet of a new SSRC: on protect, or on the first unprotect that
 * authenticates). Measured constants (glibc malloc chunks, libsrtp2 2.5.0
 * on OpenSSL 3.0), checked by tests/unit/test_srtp.c. */
size_t mm_srtp_session_bytes(enum mm_srtp_profile p, bool inbound);
size_t mm_srtp_stream_bytes(enum mm_srtp_profile p, bool inbound);

#endif
