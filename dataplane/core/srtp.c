/* SRTP and SRTCP sessions over libsrtp2 (see srtp.h). */
#include "dataplane/core/srtp.h"

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

struct mm_srtp {
	srtp_t ctx;
	enum mm_srtp_profile profile;
	bool inbound;
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
};

#if defined(MM_SRTP_OPENSSL)
#define MEM(openssl, nss) openssl
#else
#define MEM(openssl, nss) nss
#endif

static const struct profile_info PROFILES[MM_SRTP__COUNT] = {
	[MM_SRTP_NONE] = {"NONE", 0, 0, 0, 0, 0, 0},
	[MM_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10,
					     MEM(4064, 30470), MEM(384, 392)},
	/* SRTCP keeps an 80-bit tag with this profile (RFC 5764 section
	 * 4.1.2; libsrtp2's own profile mapping): only SRTP's tag is 32 bits. */
	[MM_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10,
					     MEM(4064, 30470), MEM(384, 392)},
	[MM_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 16, 12, 16, 16, MEM(3200, 18700),
				      MEM(384, 384)},
	[MM_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 32, 12, 16, 16, MEM(3200, 18720),
				      MEM(384, 384)},
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
	memset(&pol, 0, sizeof(pol));
	set_policy(&pol.rtp, &pol.rtcp, keys->profile);
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.ssrc.value = 0;
	pol.key = master;
	pol.window_size = inbound ? MM_SRTP_REPLAY_WINDOW : MM_SRTP_TX_WINDOW;
	pol.allow_repeat_tx = 0;
	pol.next = NULL;
	srtp_err_status_t st = srtp_create(&s->ctx, &pol);
	explicit_bzero(master, sizeof(master));
	if (st != srtp_err_status_ok) {
		free(s);
		return st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
	}
	*out = s;
	return 0;
}

void mm_srtp_destroy(struct mm_srtp *s)
{
	if (!s)
		return;
	srtp_dealloc(s->ctx);
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
