/* Join tokens: compact JWS with HS256 (see jwt.h). Deliberately small: one
 * algorithm, so there is no algorithm confusion ("none", RS256 with the
 * HMAC key as a public key) to get wrong. */
#include "control/jwt.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NumericDates above this (year 33658) are refused: no overflow when the
 * leeway is added, and no token that is valid for ever in practice. */
#define JWT_TIME_MAX 1000000000000LL

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

long jwt_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0), o = 0, i;
	if (need + 1 > cap)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	out[o] = '\0';
	return (long)o;
}

static int b64url_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

long jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* The left-over bits must be zero: one token, one encoding (no
	 * second spelling of the same signature). */
	if (acc)
		return -1;
	return (long)o;
}

const char *jwt_strerror(enum jwt_err e)
{
	switch (e) {
	case JWT_OK:
		return "valid";
	case JWT_TOO_BIG:
		return "longer than 4096 bytes";
	case JWT_MALFORMED:
		return "not a compact JWT (three base64url parts of JSON objects)";
	case JWT_BAD_HEADER:
		return "header: only {\"alg\":\"HS256\",\"typ\":\"JWT\"} is accepted";
	case JWT_BAD_SIGNATURE:
		return "signature does not match";
	case JWT_BAD_CLAIMS:
		return "claims: iss, sub (strings) and exp (integer) required; room, name, "
		       "role (attendee|moderator|host) optional; no aud";
	case JWT_EXPIRED:
		return "expired";
	case JWT_NOT_YET:
		return "not valid yet (nbf or iat in the future)";
	}
	return "invalid";
}

/* The three parts of a compact token: [0].[1].[2]; lengths in len. */
static enum jwt_err split(const char *t, const char *part[3], size_t len[3])
{
	size_t n = strnlen(t, JWT_MAX + 1);
	if (n > JWT_MAX)
		return JWT_TOO_BIG;
	const char *d1 = memchr(t, '.', n);
	const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - t)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - t)))
		return JWT_MALFORMED;
	part[0] = t;
	len[0] = (size_t)(d1 - t);
	part[1] = d1 + 1;
	len[1] = (size_t)(d2 - d1 - 1);
	part[2] = d2 + 1;
	len[2] = n - (size_t)(d2 + 1 - t);
	if (!len[0] || !len[1] || !len[2])
		return JWT_MALFORMED;
	return JWT_OK;
}

/* A base64url part holding a JSON object (NULL if not). Duplicate keys are
 * refused: two parsers must not read two different claims sets. */
static json_t *part_json(const char *p, size_t n)
{
	uint8_t buf[JWT_MAX];
	long m = jwt_b64url_decode(p, n, buf, sizeof(buf));
	if (m <= 0)
		return NULL;
	json_t *j = json_loadb((const char *)buf, (size_t)m, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Optional string claim k into out (1..cap-1 bytes): -1 when ill-typed. */
static int str_claim(json_t *o, const char *k, bool required, char *out, size_t cap)
{
	json_t *v = json_object_get(o, k);
	out[0] = '\0';
	if (!v)
		return required ? -1 : 0;
	size_t n = json_string_length(v);
	if (!json_is_string(v) || n == 0 || n >= cap || strlen(json_string_value(v)) != n)
		return -1;
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int time_claim(json_t *o, const char *k, bool required, int64_t *out)
{
	json_t *v = json_object_get(o, k);
	*out = 0;
	if (!v)
		return required ? -1 : 0;
	json_int_t t = json_integer_value(v);
	if (!json_is_integer(v) || t <= 0 || t > JWT_TIME_MAX)
		return -1;
	*out = t;
	return 0;
}

static enum jwt_err header_check(json_t *h, struct jwt_claims *out)
{
	json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
	/* Exactly HS256: "none", HS512, RS256 and the rest are refused. */
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256"))
		return JWT_BAD_HEADER;
	if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT")))
		return JWT_BAD_HEADER;
	/* crit names extensions the receiver must understand; it knows none. */
	if (json_object_get(h, "crit"))
		return JWT_BAD_HEADER;
	if (str_claim(h, "kid", false, out->kid, sizeof(out->kid)))
		return JWT_BAD_HEADER;
	return JWT_OK;
}

static bool role_ok(const char *r)
{
	return !*r || !strcmp(r, "attendee") || !strcmp(r, "moderator") || !strcmp(r, "host");
}

static enum jwt_err claims_parse(json_t *p, struct jwt_claims *out)
{
	if (str_claim(p, "iss", true, out->iss, sizeof(out->iss)) ||
	    str_claim(p, "sub", true, out->sub, sizeof(out->sub)) ||
	    time_claim(p, "exp", true, &out->exp) || time_claim(p, "nbf", false, &out->nbf) ||
	    time_claim(p, "iat", false, &out->iat) ||
	    str_claim(p, "room", false, out->room, sizeof(out->room)) ||
	    str_claim(p, "name", false, out->name, sizeof(out->name)) ||
	    str_claim(p, "role", false, out->role, sizeof(out->role)) || !role_ok(out->role))
		return JWT_BAD_CLAIMS;
	/* RFC 7519 4.1.3: a recipient not named in aud must refuse the
	 * token; mmctld names itself nowhere, so a token for an audience is
	 * not for it. */
	if (json_object_get(p, "aud"))
		return JWT_BAD_CLAIMS;
	return JWT_OK;
}

/* Shape, header and claims (no signature, no times). */
static enum jwt_err parse(const char *token, struct jwt_claims *out, const char *part[3],
			  size_t len[3])
{
	memset(out, 0, sizeof(*out));
	if (!token)
		return JWT_MALFORMED;
	enum jwt_err e = split(token, part, len);
	if (e)
		return e;
	uint8_t sig[JWT_MAX];
	if (jwt_b64url_decode(part[2], len[2], sig, sizeof(sig)) < 0)
		return JWT_MALFORMED;
	json_t *h = part_json(part[0], len[0]);
	if (!h)
		return JWT_MALFORMED;
	e = header_check(h, out);
	json_decref(h);
	if (e)
		return e;
	json_t *p = part_json(part[1], len[1]);
	if (!p)
		return JWT_MALFORMED;
	e = claims_parse(p, out);
	json_decref(p);
	return e;
}

enum jwt_err jwt_peek(const char *token, struct jwt_claims *out)
{
	const char *part[3];
	size_t len[3];
	return parse(token, out, part, len);
}

static int hs256(const uint8_t *key, size_t key_len, const char *msg, size_t n,
		 uint8_t mac[32])
{
	unsigned int mlen = 32;
	/* HMAC with a NULL key pointer misbehaves on some OpenSSL versions. */
	static const uint8_t empty[1];
	return HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len, (const uint8_t *)msg, n,
		    mac, &mlen) && mlen == 32 ? 0 : -1;
}

enum jwt_err jwt_verify(const char *token, const uint8_t *key, size_t key_len,
			const char *want_kid, int64_t now, struct jwt_claims *out)
{
	const char *part[3];
	size_t len[3];
	uint8_t sig[64], mac[32];
	struct jwt_claims c;
	enum jwt_err e = parse(token, &c, part, len);
	if (e == JWT_BAD_CLAIMS) {
		/* Say "signature" rather than "claims" when both are wrong: the
		 * claims of a token nobody signed are not worth a diagnosis. */
		if (jwt_b64url_decode(part[2], len[2], sig, sizeof(sig)) != 32 ||
		    hs256(key, key_len, token, len[0] + 1 + len[1], mac) ||
		    CRYPTO_memcmp(sig, mac, 32))
			e = JWT_BAD_SIGNATURE;
	}
	if (e)
		goto fail;
	if (c.kid[0] && (!want_kid || strcmp(c.kid, want_kid))) {
		e = JWT_BAD_HEADER;
		goto fail;
	}
	if (jwt_b64url_decode(part[2], len[2], sig, sizeof(sig)) != 32 ||
	    hs256(key, key_len, token, len[0] + 1 + len[1], mac) || CRYPTO_memcmp(sig, mac, 32)) {
		e = JWT_BAD_SIGNATURE;
		goto fail;
	}
	if (now >= c.exp + JWT_LEEWAY) {
		e = JWT_EXPIRED;
		goto fail;
	}
	if ((c.nbf && c.nbf > now + JWT_LEEWAY) || (c.iat && c.iat > now + JWT_LEEWAY)) {
		e = JWT_NOT_YET;
		goto fail;
	}
	*out = c;
	return JWT_OK;
fail:
	memset(out, 0, sizeof(*out));
	return e;
}

enum jwt_err jwt_sign(const struct jwt_claims *c, const uint8_t *key, size_t key_len,
		      char *out, size_t cap)
{
	enum jwt_err e = JWT_BAD_CLAIMS;
	char *htext = NULL, *ptext = NULL;
	uint8_t mac[32];
	json_t *h = json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT");
	json_t *p = json_pack("{s:s,s:s,s:I}", "iss", c->iss, "sub", c->sub, "exp",
			      (json_int_t)c->exp);
	if (!h || !p)
		goto out;
	if (c->kid[0])
		json_object_set_new(h, "kid", json_string(c->kid));
	if (c->nbf)
		json_object_set_new(p, "nbf", json_integer(c->nbf));
	if (c->iat)
		json_object_set_new(p, "iat", json_integer(c->iat));
	if (c->room[0])
		json_object_set_new(p, "room", json_string(c->room));
	if (c->name[0])
		json_object_set_new(p, "name", json_string(c->name));
	if (c->role[0])
		json_object_set_new(p, "role", json_string(c->role));
	/* What is signed must pass jwt_verify's claims check. */
	struct jwt_claims chk;
	if (header_check(h, &chk) || claims_parse(p, &chk))
		goto out;
	htext = json_dumps(h, JSON_COMPACT);
	ptext = json_dumps(p, JSON_COMPACT);
	if (!htext || !ptext)
		goto out;
	e = JWT_TOO_BIG;
	size_t lim = cap < JWT_MAX + 1 ? cap : JWT_MAX + 1;
	long a = jwt_b64url_encode((const uint8_t *)htext, strlen(htext), out, lim);
	if (a < 0 || (size_t)a + 2 > lim)
		goto out;
	out[a] = '.';
	long b = jwt_b64url_encode((const uint8_t *)ptext, strlen(ptext), out + a + 1,
				   lim - (size_t)a - 1);
	if (b < 0 || (size_t)(a + 1 + b) + 2 > lim)
		goto out;
	size_t signed_len = (size_t)(a + 1 + b);
	if (hs256(key, key_len, out, signed_len, mac)) {
		e = JWT_BAD_SIGNATURE;
		goto out;
	}
	out[signed_len] = '.';
	if (jwt_b64url_encode(mac, sizeof(mac), out + signed_len + 1, lim - signed_len - 1) < 0)
		goto out;
	e = JWT_OK;
out:
	if (e && cap)
		out[0] = '\0';
	free(htext);
	free(ptext);
	json_decref(h);
	json_decref(p);
	return e;
}
