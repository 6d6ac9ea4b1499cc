/* SRTP and SRTCP sessions over libsrtp2 (see srtp.h). */
#include "dataplane/core/srtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define unlikely(x) __builtin_expect(!!(x), 0)

/* Replay window of each inbound stream, in packets (RFC 3711 section 3.3.2
 * asks for at least 64; libsrtp2's default is 128). 1024 tolerates the
 * reordering of video bursts and of hand-offs between workers, for 128
 * bytes per stream. */
#define MM_SRTP_REPLAY_WINDOW 1024
/* Outbound streams keep a window only so that libsrtp2 refuses to protect
 * the same index twice (keystream reuse); mmdp sends in sequence, so the
 * smallest window libsrtp2 takes does, and saves shifting 1024 bits on
 * every protect (about 25 ns per copy). */
#define MM_SRTP_TX_WINDOW 64
/* heap bytes an outbound stream saves with it (glibc chunks: 144 - 32) */
#define MM_SRTP_TX_SAVED 112

/* A packet that is not 32-bit aligned goes through an aligned copy:
 * libsrtp2 reads the RTP/RTCP header through uint32_t fields (its srtp.h:
 * "assumes that the RTP packet is aligned on a 32-bit boundary"). */
#define MM_SRTP_BOUNCE_MAX 4096

/* ROC recovery: when each SSRC of a session may sweep again. */
struct recover_slot {
	uint32_t ssrc;
	uint64_t next_ns; /* 0: free */
};

struct mm_srtp {
	srtp_t ctx;
	enum mm_srtp_profile profile;
	bool inbound;
	/* Inbound: the master key, for the streams ROC recovery adds
	 * (srtp_add_stream derives their keys again); wiped on destroy. */
	uint8_t master[MM_SRTP_MASTER_MAX];
	/* Recovery state, written by the session's worker; allocated by the
	 * first sweep. n_recovered is read by the agent (relaxed). */
	struct recover_slot *slots; /* [MM_SRTP_RECOVER_SLOTS] */
	uint64_t n_recovered;
	uint64_t n_added; /* of which recovery added (srtp_add_stream) */
};

struct profile_info {
	const char *name;
	size_t key_len, salt_len;
	size_t rtp_tag, rtcp_tag;
	/* Heap bytes of one session (our struct, libsrtp2's session and
	 * template stream, its OpenSSL cipher and HMAC contexts) and of each
	 * SSRC stream (libsrtp2's stream, its 1024-packet replay window),
	 * measured with mallinfo2() deltas, i.e. glibc chunk sizes with
	 * malloc's own overhead, on Debian 12 x86-64: libsrtp2 2.5.0 on
	 * OpenSSL 3.0 (and Debian's system libsrtp2 on NSS 3.87, the slow
	 * fallback). tests/unit/test_srtp.c measures them again and fails,
	 * printing the new values, when they drift. */
	size_t session_bytes, stream_bytes;
	/* Heap bytes of a stream added by ROC recovery (srtp_add_stream: its
	 * own cipher and auth contexts and replay window), measured the same
	 * way on OpenSSL (tests/unit/test_srtp_roc.c); the NSS figures are
	 * estimates (a session less its fixed part), not measured. */
	size_t added_stream_bytes;
};

#if defined(MM_SRTP_OPENSSL)
#define MEM(openssl, nss) openssl
#else
#define MEM(openssl, nss) nss
#endif

static const struct profile_info PROFILES[MM_SRTP__COUNT] = {
	[MM_SRTP_NONE] = {"NONE", 0, 0, 0, 0, 0, 0, 0},
	[MM_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10,
					     MEM(4128, 30534), MEM(384, 392), MEM(3840, 30000)},
	/* SRTCP keeps an 80-bit tag with this profile (RFC 5764 section
	 * 4.1.2; libsrtp2's own profile mapping): only SRTP's tag is 32 bits. */
	[MM_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10,
					     MEM(4128, 30534), MEM(384, 392), MEM(3840, 30000)},
	[MM_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 16, 12, 16, 16, MEM(3264, 18764),
				      MEM(384, 384), MEM(2976, 18000)},
	[MM_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 32, 12, 16, 16, MEM(3264, 18784),
				      MEM(384, 384), MEM(2976, 18000)},
};

static bool profile_valid(enum mm_srtp_profile p)
{
	return p > MM_SRTP_NONE && p < MM_SRTP__COUNT;
}

int mm_srtp_profile_parse(const char *name, enum mm_srtp_profile *out)
{
	if (!name)
		return -EINVAL;
	for (int p = MM_SRTP_NONE + 1; p < MM_SRTP__COUNT; p++) {
		if (strcmp(name, PROFILES[p].name) == 0) {
			*out = (enum mm_srtp_profile)p;
			return 0;
		}
	}
	return -EINVAL;
}

const char *mm_srtp_profile_name(enum mm_srtp_profile p)
{
	if (p < MM_SRTP_NONE || p >= MM_SRTP__COUNT)
		return "?";
	return PROFILES[p].name;
}

size_t mm_srtp_master_len(enum mm_srtp_profile p)
{
	return profile_valid(p) ? PROFILES[p].key_len + PROFILES[p].salt_len : 0;
}

size_t mm_srtp_rtp_trailer(enum mm_srtp_profile p)
{
	return profile_valid(p) ? PROFILES[p].rtp_tag : 0;
}

size_t mm_srtcp_trailer(enum mm_srtp_profile p)
{
	return profile_valid(p) ? PROFILES[p].rtcp_tag + 4 : 0;
}

size_t mm_srtp_session_bytes(enum mm_srtp_profile p, bool inbound)
{
	if (!profile_valid(p))
		return 0;
	/* the template stream's window, as for streams */
	return inbound ? PROFILES[p].session_bytes : PROFILES[p].session_bytes - MM_SRTP_TX_SAVED;
}

size_t mm_srtp_stream_bytes(enum mm_srtp_profile p, bool inbound)
{
	if (!profile_valid(p))
		return 0;
	/* an outbound stream's 64-bit window instead of 1024 bits */
	return inbound ? PROFILES[p].stream_bytes : PROFILES[p].stream_bytes - MM_SRTP_TX_SAVED;
}

#if defined(MM_SRTP_OPENSSL)
/* libsrtp2 2.5.0 (crypto/cipher/aes_gcm_ossl.c) calls
 * EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, 0) before every
 * packet it protects or unprotects. 12 bytes is AES-GCM's default IV length
 * in OpenSSL, which its context initialisation (EVP_CIPHER_CTX_reset, then
 * EVP_CipherInit_ex with the cipher) has just established, and libsrtp2
 * never sets another; but under OpenSSL 3 each ctrl call goes through the
 * provider parameter machinery (44 ns measured, about a tenth of an
 * encryption of 1200 bytes). The link wraps EVP_CIPHER_CTX_ctrl (meson.build,
 * --wrap): a request for 12 on a context already at 12 returns at once,
 * everything else goes to OpenSSL. The check reads the IV length with
 * EVP_CIPHER_CTX_get_iv_length, so a context at any other length is still
 * set. tests/unit/test_srtp.c's known-answer vectors pass either way. */
#include <openssl/evp.h>

int __real_EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);
int __wrap_EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);

int __wrap_EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr)
{
	if (type == EVP_CTRL_GCM_SET_IVLEN && arg == 12 && EVP_CIPHER_CTX_get_iv_length(ctx) == 12)
		return 1;
	return __real_EVP_CIPHER_CTX_ctrl(ctx, type, arg, ptr);
}
#endif

/* MM_SRTP_OPENSSL comes with srtp_dep when it is the subproject. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static char library_name[96];

static void library_name_init(void)
{
#if defined(MM_SRTP_OPENSSL)
	const char *how = "on OpenSSL (static subproject)";
#else
	const char *how = "system library (Debian's, on NSS: slow)";
#endif
	snprintf(library_name, sizeof(library_name), "%s %s", srtp_get_version_string(), how);
}

const char *mm_srtp_library(void)
{
	pthread_once(&library_once, library_name_init);
	return library_name;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -EIO;

static void global_init(void)
{
	init_result = srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

int mm_srtp_global_init(void)
{
	pthread_once(&init_once, global_init);
	return init_result;
}

static void set_policy(srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp,
		       enum mm_srtp_profile p)
{
	switch (p) {
	case MM_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case MM_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case MM_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		break;
	case MM_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		break;
	default:
		break;
	}
}

/* The policy of a session (SSRC wildcard of its direction); for a stream
 * of its own, the caller sets ssrc to ssrc_specific. */
static void make_policy(srtp_policy_t *pol, enum mm_srtp_profile p, bool inbound,
			unsigned char *master)
{
	memset(pol, 0, sizeof(*pol));
	set_policy(&pol->rtp, &pol->rtcp, p);
	pol->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol->ssrc.value = 0;
	pol->key = master;
	pol->window_size = inbound ? MM_SRTP_REPLAY_WINDOW : MM_SRTP_TX_WINDOW;
	pol->allow_repeat_tx = 0;
	pol->next = NULL;
}

int mm_srtp_create(struct mm_srtp **out, const struct mm_srtp_keys *keys, bool inbound)
{
	*out = NULL;
	if (!keys || !profile_valid(keys->profile) ||
	    keys->master_len != mm_srtp_master_len(keys->profile))
		return -EINVAL;
	int rc = mm_srtp_global_init();
	if (rc != 0)
		return rc;
	struct mm_srtp *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->profile = keys->profile;
	s->inbound = inbound;

	/* libsrtp2 reads key || salt (and derives its session keys from it in
	 * srtp_create); the copy is wiped once it has. */
	unsigned char master[MM_SRTP_MASTER_MAX];
	memcpy(master, keys->master, keys->master_len);
	srtp_policy_t pol;
	make_policy(&pol, keys->profile, inbound, master);
	srtp_err_status_t st = srtp_create(&s->ctx, &pol);
	explicit_bzero(master, sizeof(master));
	if (st != srtp_err_status_ok) {
		free(s);
		return st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
	}
	/* An inbound session keeps its master key for ROC recovery (the
	 * endpoint's keyset holds it anyway). */
	if (inbound)
		memcpy(s->master, keys->master, keys->master_len);
	*out = s;
	return 0;
}

void mm_srtp_destroy(struct mm_srtp *s)
{
	if (!s)
		return;
	srtp_dealloc(s->ctx);
	free(s->slots);
	explicit_bzero(s->master, sizeof(s->master));
	free(s);
}

static int map_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
	/* SRTCP whose E flag says "not encrypted" under a policy that
	 * encrypts: the flag is authenticated, so the packet was altered. */
	case srtp_err_status_cant_check:
		return MM_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return MM_SRTP_ERR_REPLAY;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
		return MM_SRTP_ERR_PARSE;
	default:
		return MM_SRTP_ERR_OTHER;
	}
}

enum op { OP_UNPROTECT, OP_PROTECT, OP_UNPROTECT_RTCP, OP_PROTECT_RTCP };

static srtp_err_status_t call(srtp_t ctx, enum op op, void *pkt, int *len)
{
	switch (op) {
	case OP_UNPROTECT: return srtp_unprotect(ctx, pkt, len);
	case OP_PROTECT: return srtp_protect(ctx, pkt, len);
	case OP_UNPROTECT_RTCP: return srtp_unprotect_rtcp(ctx, pkt, len);
	case OP_PROTECT_RTCP: return srtp_protect_rtcp(ctx, pkt, len);
	}
	return srtp_err_status_bad_param;
}

/* One libsrtp2 call in place on pkt (len bytes, room for room bytes). */
static int run(struct mm_srtp *s, enum op op, uint8_t *pkt, size_t *len, size_t room)
{
	if (unlikely(*len > INT_MAX - MM_SRTCP_MAX_TRAILER))
		return MM_SRTP_ERR_PARSE;
	int n = (int)*len;
	srtp_err_status_t st;
	if (((uintptr_t)pkt & 3) == 0 || room > MM_SRTP_BOUNCE_MAX) {
		st = call(s->ctx, op, pkt, &n);
	} else {
		/* Not 32-bit aligned: through an aligned copy (see srtp.h). */
		uint8_t tmp[MM_SRTP_BOUNCE_MAX] __attribute__((aligned(16)));
		memcpy(tmp, pkt, *len);
		st = call(s->ctx, op, tmp, &n);
		if (st == srtp_err_status_ok)
			memcpy(pkt, tmp, (size_t)n);
	}
	if (st != srtp_err_status_ok)
		return map_err(st);
	*len = (size_t)n;
	return 0;
}

/* Shorter than the fixed header (RTP 12; RTCP 8 + E/index 4) plus the tag:
 * refused here, before libsrtp2 (whose AEAD length check underflows for
 * RTP packets of 12-15 bytes and is caught only by the cipher). */
int mm_srtp_unprotect(struct mm_srtp *s, uint8_t *pkt, size_t *len)
{
	if (unlikely(*len < 12 + PROFILES[s->profile].rtp_tag))
		return MM_SRTP_ERR_PARSE;
	return run(s, OP_UNPROTECT, pkt, len, *len);
}

int mm_srtcp_unprotect(struct mm_srtp *s, uint8_t *pkt, size_t *len)
{
	if (unlikely(*len < 12 + PROFILES[s->profile].rtcp_tag))
		return MM_SRTP_ERR_PARSE;
	return run(s, OP_UNPROTECT_RTCP, pkt, len, *len);
}

int mm_srtp_protect(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap)
{
	size_t t = PROFILES[s->profile].rtp_tag;
	if (unlikely(cap < *len || cap - *len < t))
		return MM_SRTP_ERR_OTHER;
	return run(s, OP_PROTECT, pkt, len, *len + t);
}

int mm_srtcp_protect(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap)
{
	size_t t = PROFILES[s->profile].rtcp_tag + 4;
	if (unlikely(cap < *len || cap - *len < t))
		return MM_SRTP_ERR_OTHER;
	return run(s, OP_PROTECT_RTCP, pkt, len, *len + t);
}

/* ---- rollover counter ---------------------------------------------------- */

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int mm_srtp_stream_roc(struct mm_srtp *s, uint32_t ssrc, uint32_t *roc)
{
	return srtp_get_stream_roc(s->ctx, ssrc, roc) == srtp_err_status_ok ? 0 : -ENOENT;
}

uint64_t mm_srtp_recovered(const struct mm_srtp *s)
{
	return __atomic_load_n(&s->n_recovered, __ATOMIC_RELAXED);
}

size_t mm_srtp_recovery_bytes(const struct mm_srtp *s)
{
	const struct profile_info *pi = &PROFILES[s->profile];
	size_t n = 0;
	if (__atomic_load_n(&s->slots, __ATOMIC_RELAXED))
		n += 144; /* glibc chunk of the 8-slot table (128 bytes) */
	uint64_t added = __atomic_load_n(&s->n_added, __ATOMIC_RELAXED);
	return n + (size_t)added * (pi->added_stream_bytes - pi->stream_bytes);
}

/* The rate-limit slot for a sweep of ssrc at now_ns, or NULL when that SSRC
 * swept less than MM_SRTP_RECOVER_INTERVAL_NS ago, or MM_SRTP_RECOVER_SLOTS
 * other SSRCs all did. */
static struct recover_slot *recover_slot(struct mm_srtp *s, uint32_t ssrc, uint64_t now_ns)
{
	if (!s->slots) {
		struct recover_slot *sl = calloc(MM_SRTP_RECOVER_SLOTS, sizeof(*sl));
		if (!sl)
			return NULL;
		__atomic_store_n(&s->slots, sl, __ATOMIC_RELAXED);
	}
	struct recover_slot *free_slot = NULL;
	for (int i = 0; i < MM_SRTP_RECOVER_SLOTS; i++) {
		struct recover_slot *sl = &s->slots[i];
		if (sl->next_ns && sl->ssrc == ssrc)
			return now_ns >= sl->next_ns ? sl : NULL;
		if (!free_slot && now_ns >= sl->next_ns)
			free_slot = sl; /* never used, or its SSRC may sweep again */
	}
	return free_slot;
}

int mm_srtp_unprotect_recover(struct mm_srtp *s, uint8_t *pkt, size_t *len, uint64_t now_ns,
			      uint32_t max_roc, uint32_t *roc, uint32_t *tried)
{
	*tried = 0;
	*roc = 0;
	if (!s->inbound)
		return MM_SRTP_ERR_OTHER;
	size_t n = *len;
	if (n < 12 + PROFILES[s->profile].rtp_tag)
		return MM_SRTP_ERR_PARSE;
	if (n > MM_SRTP_BOUNCE_MAX)
		return MM_SRTP_ERR_OTHER;
	uint32_t ssrc = get_be32(pkt + 8);
	uint32_t known;
	bool exists = srtp_get_stream_roc(s->ctx, ssrc, &known) == srtp_err_status_ok;
	if (exists && known > 0)
		return MM_SRTP_ERR_KNOWN;
	struct recover_slot *sl = recover_slot(s, ssrc, now_ns);
	if (!sl)
		return MM_SRTP_ERR_LIMITED;
	/* The rate limit holds whatever the sweep finds. */
	sl->ssrc = ssrc;
	sl->next_ns = now_ns + MM_SRTP_RECOVER_INTERVAL_NS;
	if (max_roc > MM_SRTP_ROC_MAX)
		max_roc = MM_SRTP_ROC_MAX;

	if (!exists) {
		unsigned char master[MM_SRTP_MASTER_MAX];
		memcpy(master, s->master, sizeof(master));
		srtp_policy_t pol;
		make_policy(&pol, s->profile, true, master);
		pol.ssrc.type = ssrc_specific;
		pol.ssrc.value = ssrc;
		srtp_err_status_t st = srtp_add_stream(s->ctx, &pol);
		explicit_bzero(master, sizeof(master));
		if (st != srtp_err_status_ok)
			return MM_SRTP_ERR_OTHER;
	}

	/* Each candidate works on a fresh aligned copy: AEAD decrypts in place
	 * before it checks the tag. */
	uint8_t tmp[MM_SRTP_BOUNCE_MAX] __attribute__((aligned(16)));
	int rc = MM_SRTP_ERR_AUTH;
	for (uint32_t r = 1; r <= max_roc; r++) {
		srtp_set_stream_roc(s->ctx, ssrc, r);
		memcpy(tmp, pkt, n);
		int l = (int)n;
		srtp_err_status_t st = srtp_unprotect(s->ctx, tmp, &l);
		*tried = r;
		if (st == srtp_err_status_ok) {
			/* libsrtp2 clears the pending ROC when it jumps to it, not
			 * when the index was close enough to count as in sequence
			 * (possible for a stream SRTCP created, or one still at ROC 0):
			 * from now on the stream's own estimate holds. */
			srtp_set_stream_roc(s->ctx, ssrc, 0);
			memcpy(pkt, tmp, (size_t)l);
			*len = (size_t)l;
			*roc = r;
			sl->next_ns = 0; /* the stream is past ROC 0: the slot is free again */
			if (!exists)
				__atomic_store_n(&s->n_added, s->n_added + 1, __ATOMIC_RELAXED);
			__atomic_store_n(&s->n_recovered, s->n_recovered + 1, __ATOMIC_RELAXED);
			return 0;
		}
		if (st != srtp_err_status_auth_fail) {
			rc = map_err(st); /* malformed: no ROC will do */
			break;
		}
	}
	/* Nothing authenticated: leave the SSRC as the sweep found it. A stream
	 * the sweep added goes (the next packet is tried through the template,
	 * ROC 0, again); one that was there keeps its index and window, which
	 * a candidate that fails never writes, and loses the pending ROC. */
	if (exists)
		srtp_set_stream_roc(s->ctx, ssrc, 0);
	else
		srtp_remove_stream(s->ctx, htonl(ssrc));
	return rc;
}

void mm_srtp_forget(struct mm_srtp *s, uint32_t ssrc)
{
	(void)srtp_remove_stream(s->ctx, htonl(ssrc));
}

int mm_srtp_protect_continue(struct mm_srtp *s, uint8_t *pkt, size_t *len, size_t cap, uint32_t roc,
			     bool *continued)
{
	*continued = false;
	size_t t = PROFILES[s->profile].rtp_tag;
	if (s->inbound || cap < *len || cap - *len < t || *len < 12)
		return MM_SRTP_ERR_OTHER;
	uint32_t ssrc = get_be32(pkt + 8);
	uint32_t known;
	bool exists = srtp_get_stream_roc(s->ctx, ssrc, &known) == srtp_err_status_ok;
	if (roc == 0 || (exists && known > 0))
		return mm_srtp_protect(s, pkt, len, cap);
	if (!exists) {
		/* Create the stream with a throw-away header at index 0 (SEQ 0);
		 * nothing protected that way is sent, so no keystream is
		 * exposed twice. */
		uint8_t hdr[12 + MM_SRTP_MAX_TRAILER] __attribute__((aligned(16))) = {0x80, 0};
		memcpy(hdr + 8, pkt + 8, 4);
		int l = 12;
		srtp_err_status_t st = srtp_protect(s->ctx, hdr, &l);
		explicit_bzero(hdr, sizeof(hdr));
		if (st != srtp_err_status_ok)
			return map_err(st);
	}
	/* The packet's index is ROC * 65536 + SEQ: with ROC >= 1 it is ahead of
	 * the stream's (0, or wherever SRTCP-only or ROC-0 RTP left it below
	 * 65536), which libsrtp2 takes as a jump forward or as in sequence. The
	 * pending ROC is cleared after it, so that the stream's own estimate
	 * goes on from there (libsrtp2 clears it only on a jump). */
	if (srtp_set_stream_roc(s->ctx, ssrc, roc) != srtp_err_status_ok)
		return MM_SRTP_ERR_OTHER;
	int r = mm_srtp_protect(s, pkt, len, cap);
	srtp_set_stream_roc(s->ctx, ssrc, 0);
	*continued = r == 0;
	return r;
}
