/* Join tokens: JSON Web Tokens (RFC 7519) in compact form, HS256 only
 * (HMAC-SHA256, RFC 7518 3.2). A pure module (OpenSSL libcrypto and
 * jansson, no mmctld state) so that tests/control/test_jwt.c tests it alone
 * and mmctl signs with the same code. docs/api.md "Join tokens (JWT)". */
#ifndef CTL_JWT_H
#define CTL_JWT_H

#include <stddef.h>
#include <stdint.h>

/* A token longer than this is refused before any decoding. */
#define JWT_MAX 4096
/* Seconds of clock skew allowed between the app's clock and mmctld's for
 * exp, nbf and iat. */
#define JWT_LEEWAY 30

#define JWT_ISS_MAX 65         /* a tenant id (CTL_TENANT_MAX) */
#define JWT_SUB_MAX 40         /* an account id (CTL_ID_MAX) */
#define JWT_ROOM_MAX 40        /* a room id (CTL_ID_MAX) */
#define JWT_NAME_MAX 129       /* a display name (CTL_NAME_MAX) */

enum jwt_err {
	JWT_OK = 0,
	JWT_TOO_BIG,           /* longer than JWT_MAX */
	JWT_MALFORMED,         /* not three base64url parts of JSON objects */
	JWT_BAD_HEADER,        /* alg not HS256, typ not JWT, an unknown kid, crit */
	JWT_BAD_SIGNATURE,
	JWT_BAD_CLAIMS,        /* a missing or ill-typed claim */
	JWT_EXPIRED,           /* exp (+ leeway) passed */
	JWT_NOT_YET,           /* nbf or iat in the future (beyond the leeway) */
};

struct jwt_claims {
	char iss[JWT_ISS_MAX];         /* the tenant */
	char sub[JWT_SUB_MAX];         /* the account */
	int64_t exp;                   /* required */
	int64_t nbf;                   /* 0: absent */
	int64_t iat;                   /* 0: absent */
	char room[JWT_ROOM_MAX];       /* "": any room of the tenant */
	char name[JWT_NAME_MAX];       /* "": the join body's display_name */
	char role[12];                 /* "": attendee; attendee|moderator|host */
	char kid[JWT_ISS_MAX];         /* header's kid, "" = absent */
};

/* Parse the token's header and claims WITHOUT checking the signature (so
 * the caller can find the key by iss): nothing in out is to be trusted
 * until jwt_verify says so. Checks the shape, the header and the claims'
 * types, not the times. */
enum jwt_err jwt_peek(const char *token, struct jwt_claims *out);

/* Verify token under key (HMAC key bytes) at time now (unix seconds):
 * shape, header (kid, when present, must equal want_kid; NULL: no kid
 * allowed), signature (constant time), claims and their times with
 * JWT_LEEWAY. JWT_OK with out filled. */
enum jwt_err jwt_verify(const char *token, const uint8_t *key, size_t key_len,
			const char *want_kid, int64_t now, struct jwt_claims *out);

/* Sign the claims of c (exp required; nbf, iat, room, name, role, kid
 * written when set) into out (NUL-terminated): JWT_OK, JWT_BAD_CLAIMS for
 * an invalid claim, JWT_TOO_BIG when it does not fit in cap or JWT_MAX. */
enum jwt_err jwt_sign(const struct jwt_claims *c, const uint8_t *key, size_t key_len,
		      char *out, size_t cap);

/* A short English reason for e. */
const char *jwt_strerror(enum jwt_err e);

/* base64url without padding (RFC 7515 2): encoded length, or -1 when out
 * (cap) is too small; decoded length, or -1 when in is not base64url
 * (padding, other characters, a length of 4n+1, non-zero trailing bits). */
long jwt_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap);
long jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
