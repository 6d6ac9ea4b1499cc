/* control/jwt.c alone (no mmctld): join tokens signed and verified, and
 * every way a token can be bad. Tokens of the bad kinds are built here by
 * hand (header and payload text, then an HMAC) so each is bad in exactly
 * one way. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "control/jwt.h"

#define NOW 1800000000LL

static const char KEY[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char OTHER[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

static enum jwt_err verify_at(const char *tok, const char *key, int64_t now,
			      struct jwt_claims *c)
{
	return jwt_verify(tok, (const uint8_t *)key, strlen(key), "t1", now, c);
}

static enum jwt_err verify(const char *tok, struct jwt_claims *c)
{
	return verify_at(tok, KEY, NOW, c);
}

/* header.payload (texts, base64url'd here) signed with md under key. */
static void make_md(const char *header, const char *payload, const char *key, const EVP_MD *md,
		    char *out, size_t cap)
{
	uint8_t mac[64];
	unsigned int mlen = sizeof(mac);
	long a = jwt_b64url_encode((const uint8_t *)header, strlen(header), out, cap);
	cr_assert(a > 0);
	out[a] = '.';
	long b = jwt_b64url_encode((const uint8_t *)payload, strlen(payload), out + a + 1,
				   cap - (size_t)a - 1);
	cr_assert(b > 0);
	size_t n = (size_t)(a + 1 + b);
	cr_assert(HMAC(md, key, (int)strlen(key), (const uint8_t *)out, n, mac, &mlen));
	out[n] = '.';
	cr_assert(jwt_b64url_encode(mac, mlen, out + n + 1, cap - n - 1) > 0);
}

static void make(const char *header, const char *payload, char *out, size_t cap)
{
	make_md(header, payload, KEY, EVP_sha256(), out, cap);
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void good(char *out, size_t cap)
{
	struct jwt_claims c = { .exp = NOW + 300, .iat = NOW };
	strcpy(c.iss, "t1");
	strcpy(c.sub, "a0123");
	strcpy(c.room, "r42");
	strcpy(c.name, "Lan Nguyen");
	strcpy(c.role, "moderator");
	cr_assert_eq(jwt_sign(&c, (const uint8_t *)KEY, strlen(KEY), out, cap), JWT_OK);
}

Test(jwt, b64url_round_trip_and_strictness)
{
	uint8_t in[7] = { 0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x10, 0x80 }, out[8];
	char txt[16];
	for (size_t n = 0; n <= sizeof(in); n++) {
		long e = jwt_b64url_encode(in, n, txt, sizeof(txt));
		cr_assert_geq(e, 0);
		cr_assert_null(strpbrk(txt, "=+/"), "no padding, url alphabet: %s", txt);
		cr_assert_eq(jwt_b64url_decode(txt, (size_t)e, out, sizeof(out)), (long)n);
		cr_assert_eq(memcmp(in, out, n), 0);
	}
	cr_assert_eq(jwt_b64url_decode("AA==", 4, out, sizeof(out)), -1, "padding");
	cr_assert_eq(jwt_b64url_decode("A+/A", 4, out, sizeof(out)), -1, "standard alphabet");
	cr_assert_eq(jwt_b64url_decode("AAAAA", 5, out, sizeof(out)), -1, "length 4n+1");
	cr_assert_eq(jwt_b64url_decode("AB", 2, out, sizeof(out)), -1, "non-zero spare bits");
	cr_assert_eq(jwt_b64url_decode("AA", 2, out, sizeof(out)), 1);
	cr_assert_eq(jwt_b64url_encode(in, 3, txt, 4), -1, "no room for the NUL");
}

Test(jwt, good_token_verifies_with_its_claims)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	good(tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_OK);
	cr_assert_str_eq(c.iss, "t1");
	cr_assert_str_eq(c.sub, "a0123");
	cr_assert_str_eq(c.room, "r42");
	cr_assert_str_eq(c.name, "Lan Nguyen");
	cr_assert_str_eq(c.role, "moderator");
	cr_assert_eq(c.exp, NOW + 300);
	cr_assert_eq(c.iat, NOW);
	cr_assert_eq(c.nbf, 0);
	/* jwt_peek reads the same without the key. */
	struct jwt_claims p;
	cr_assert_eq(jwt_peek(tok, &p), JWT_OK);
	cr_assert_str_eq(p.iss, "t1");
	/* A token made by another implementation (here: by hand), minimal
	 * claims, no typ. */
	make("{\"alg\":\"HS256\"}", "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060}", tok,
	     sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_OK);
	cr_assert_str_eq(c.role, "");
	cr_assert_str_eq(c.room, "");
	/* Unknown claims (jti) are ignored, as RFC 7519 says. */
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060,\"jti\":\"x\"}", tok,
	     sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_OK);
}

Test(jwt, tampered_payload)
{
	char tok[JWT_MAX + 1], forged[JWT_MAX + 1], b64[256];
	struct jwt_claims c;
	good(tok, sizeof(tok));
	/* Swap the payload for one naming another account, keep the signature. */
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	const char *evil = "{\"iss\":\"t1\",\"sub\":\"a9999\",\"exp\":1800000300,\"room\":\"r42\","
			   "\"role\":\"host\"}";
	jwt_b64url_encode((const uint8_t *)evil, strlen(evil), b64, sizeof(b64));
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, b64, d2);
	cr_assert_eq(verify(forged, &c), JWT_BAD_SIGNATURE);
	cr_assert_str_eq(c.sub, "", "nothing of a refused token is given out");
	/* One character of the payload changed. */
	strcpy(forged, tok);
	forged[d1 - tok + 5] = forged[d1 - tok + 5] == 'A' ? 'B' : 'A';
	enum jwt_err e = verify(forged, &c);
	cr_assert(e == JWT_BAD_SIGNATURE || e == JWT_MALFORMED, "%s", jwt_strerror(e));
}

Test(jwt, tampered_signature)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	good(tok, sizeof(tok));
	size_t n = strlen(tok);
	tok[n - 3] = tok[n - 3] == 'A' ? 'B' : 'A';
	cr_assert_eq(verify(tok, &c), JWT_BAD_SIGNATURE);
	good(tok, sizeof(tok));
	tok[strlen(tok) - 4] = '\0';   /* a truncated signature */
	enum jwt_err e = verify(tok, &c);
	cr_assert(e == JWT_BAD_SIGNATURE || e == JWT_MALFORMED, "%s", jwt_strerror(e));
	good(tok, sizeof(tok));
	*(strrchr(tok, '.') + 1) = '\0';   /* none at all */
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED);
}

Test(jwt, wrong_key)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	good(tok, sizeof(tok));
	cr_assert_eq(verify_at(tok, OTHER, NOW, &c), JWT_BAD_SIGNATURE);
	cr_assert_eq(verify_at(tok, "", NOW, &c), JWT_BAD_SIGNATURE);
}

Test(jwt, alg_none_refused)
{
	char tok[JWT_MAX + 1], b64[256];
	struct jwt_claims c;
	const char *h = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
	const char *p = "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060}";
	/* The classic unsecured JWT: empty signature. */
	long a = jwt_b64url_encode((const uint8_t *)h, strlen(h), tok, sizeof(tok));
	tok[a] = '.';
	jwt_b64url_encode((const uint8_t *)p, strlen(p), b64, sizeof(b64));
	snprintf(tok + a + 1, sizeof(tok) - (size_t)a - 1, "%s.", b64);
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED);
	/* And with a valid HS256 signature, still the header says none. */
	make(h, p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
	make("{\"alg\":\"None\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
}

Test(jwt, other_algs_refused)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	const char *p = "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060}";
	make_md("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", p, KEY, EVP_sha512(), tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
	make("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
	make("{\"typ\":\"JWT\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER, "no alg");
	make("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER, "typ other than JWT");
	make("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER, "crit");
	make("{\"alg\":\"HS256\",\"alg\":\"none\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "duplicate header keys");
}

Test(jwt, kid_must_be_the_tenant)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	const char *p = "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060}";
	make("{\"alg\":\"HS256\",\"kid\":\"t1\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_OK);
	cr_assert_str_eq(c.kid, "t1");
	make("{\"alg\":\"HS256\",\"kid\":\"old-key\"}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
	cr_assert_eq(jwt_verify(tok, (const uint8_t *)KEY, strlen(KEY), NULL, NOW, &c),
		     JWT_BAD_HEADER, "no kid known at all");
	make("{\"alg\":\"HS256\",\"kid\":7}", p, tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_HEADER);
}

Test(jwt, claims_missing_or_ill_typed)
{
	static const char *const bad[] = {
		"{\"iss\":\"t1\",\"sub\":\"a1\"}",                              /* no exp */
		"{\"iss\":\"t1\",\"exp\":1800000060}",                          /* no sub */
		"{\"sub\":\"a1\",\"exp\":1800000060}",                          /* no iss */
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":\"1800000060\"}",       /* exp a string */
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060.5}",         /* exp a real */
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":-5}",
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":9223372036854775807}",  /* overflow */
		"{\"iss\":\"t1\",\"sub\":\"\",\"exp\":1800000060}",
		"{\"iss\":1,\"sub\":\"a1\",\"exp\":1800000060}",
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060,\"role\":\"owner\"}",
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060,\"room\":5}",
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060,\"nbf\":\"soon\"}",
		"{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060,\"aud\":\"x\"}",
		"{\"iss\":\"t1\",\"sub\":\"a1234567890123456789012345678901234567890\","
		"\"exp\":1800000060}",                                          /* sub too long */
	};
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make(HDR, bad[i], tok, sizeof(tok));
		cr_assert_eq(verify(tok, &c), JWT_BAD_CLAIMS, "%s", bad[i]);
	}
	/* Bad claims under a wrong signature: the signature is what is wrong. */
	make_md(HDR, bad[0], OTHER, EVP_sha256(), tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_BAD_SIGNATURE);
	/* jwt_sign will not make such tokens either. */
	struct jwt_claims s = { .exp = NOW };
	strcpy(s.iss, "t1");
	cr_assert_eq(jwt_sign(&s, (const uint8_t *)KEY, strlen(KEY), tok, sizeof(tok)),
		     JWT_BAD_CLAIMS, "no sub");
	strcpy(s.sub, "a1");
	strcpy(s.role, "owner");
	cr_assert_eq(jwt_sign(&s, (const uint8_t *)KEY, strlen(KEY), tok, sizeof(tok)),
		     JWT_BAD_CLAIMS, "role owner");
	cr_assert_str_eq(tok, "");
}

Test(jwt, expiry_with_leeway)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000000}", tok, sizeof(tok));
	cr_assert_eq(verify_at(tok, KEY, NOW - 1, &c), JWT_OK);
	cr_assert_eq(verify_at(tok, KEY, NOW + JWT_LEEWAY - 1, &c), JWT_OK, "within the leeway");
	cr_assert_eq(verify_at(tok, KEY, NOW + JWT_LEEWAY, &c), JWT_EXPIRED);
	cr_assert_eq(verify_at(tok, KEY, NOW + 3600, &c), JWT_EXPIRED);
}

Test(jwt, not_yet_valid)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800003600,\"nbf\":1800000100}", tok,
	     sizeof(tok));
	cr_assert_eq(verify_at(tok, KEY, NOW, &c), JWT_NOT_YET);
	cr_assert_eq(verify_at(tok, KEY, NOW + 100 - JWT_LEEWAY, &c), JWT_OK);
	cr_assert_eq(c.nbf, 1800000100);
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800003600,\"iat\":1800000600}", tok,
	     sizeof(tok));
	cr_assert_eq(verify_at(tok, KEY, NOW, &c), JWT_NOT_YET, "issued in the future");
	cr_assert_eq(verify_at(tok, KEY, NOW + 600, &c), JWT_OK);
}

Test(jwt, bad_base64_and_shape)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	static const char *const bad[] = {
		"", "abc", "a.b", "a.b.c.d", "..", "a..c", ".b.c",
		"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ0MSJ9+.AAAA",   /* '+' */
		"eyJhbGciOiJIUzI1NiJ9=.eyJpc3MiOiJ0MSJ9.AAAA",   /* padding */
		"eyJhbGciOiJIUzI1NiJ9.e.AAAA",                   /* 4n+1 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(verify(bad[i], &c), JWT_MALFORMED, "'%s'", bad[i]);
	cr_assert_eq(verify(NULL, &c), JWT_MALFORMED);
	/* A good token with whitespace or a second token's part appended. */
	good(tok, sizeof(tok));
	strcat(tok, " ");
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED);
}

Test(jwt, not_json)
{
	char tok[JWT_MAX + 1];
	struct jwt_claims c;
	make(HDR, "not json", tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED);
	make(HDR, "[\"iss\",\"t1\"]", tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "an array, not an object");
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060", tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "cut short");
	make("alg=HS256", "{\"iss\":\"t1\",\"sub\":\"a1\",\"exp\":1800000060}", tok, sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "header not JSON");
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a1\",\"sub\":\"a2\",\"exp\":1800000060}", tok,
	     sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "duplicate claims");
	/* A NUL inside a string (jansson refuses it; a C string would be cut). */
	make(HDR, "{\"iss\":\"t1\",\"sub\":\"a\\u0000b\",\"exp\":1800000060}", tok,
	     sizeof(tok));
	cr_assert_eq(verify(tok, &c), JWT_MALFORMED, "NUL in a claim");
}

Test(jwt, too_big)
{
	static char payload[4000], tok[8192];
	struct jwt_claims c;
	/* Under 4 KiB of payload text, over 4 KiB once base64url'd. */
	int n = snprintf(payload, sizeof(payload), "{\"iss\":\"t1\",\"sub\":\"a1\","
			 "\"exp\":1800000060,\"pad\":\"");
	memset(payload + n, 'x', 3200);
	strcpy(payload + n + 3200, "\"}");
	make(HDR, payload, tok, sizeof(tok));
	cr_assert_gt(strlen(tok), JWT_MAX);
	cr_assert_eq(verify(tok, &c), JWT_TOO_BIG);
	cr_assert_eq(jwt_peek(tok, &c), JWT_TOO_BIG);
	/* Just under the limit is fine (unknown claims are ignored). */
	payload[n + 2900] = '\0';
	strcat(payload, "\"}");
	make(HDR, payload, tok, sizeof(tok));
	cr_assert_leq(strlen(tok), JWT_MAX);
	cr_assert_eq(verify(tok, &c), JWT_OK);
	/* jwt_sign into a buffer too small. */
	char small[64];
	struct jwt_claims s = { .exp = NOW };
	strcpy(s.iss, "t1");
	strcpy(s.sub, "a1");
	cr_assert_eq(jwt_sign(&s, (const uint8_t *)KEY, strlen(KEY), small, sizeof(small)),
		     JWT_TOO_BIG);
}

/* Interop: a token made by another implementation (Python's standard
 * library: json, base64, hmac) with the tenant's secret string as the key,
 * UTF-8 in the name. */
Test(jwt, made_elsewhere_verifies)
{
	static const char tok[] =
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0MSIsInN1YiI6ImE3IiwiZXhwIjoxODAw"
		"MDAwMzAwLCJpYXQiOjE4MDAwMDAwMDAsInJvb20iOiJyMSIsIm5hbWUiOiJMw6ogVsSDbiBUw6JtIiwi"
		"cm9sZSI6Imhvc3QifQ.GVRVbKudYHeU7inJPpsAmvGOfpA3euY6E7lvVluFL-o";
	static const char secret[] =
		"1111111111111111111111111111111111111111111111111111111111111111";
	struct jwt_claims c;
	cr_assert_eq(verify_at(tok, secret, NOW, &c), JWT_OK);
	cr_assert_str_eq(c.sub, "a7");
	cr_assert_str_eq(c.room, "r1");
	cr_assert_str_eq(c.name, "L\xc3\xaa V\xc4\x83n T\xc3\xa2m");
	cr_assert_str_eq(c.role, "host");
	cr_assert_eq(c.exp, 1800000300);
	cr_assert_eq(verify_at(tok, KEY, NOW, &c), JWT_BAD_SIGNATURE);
}

/* RFC 7515 appendix A.1 (HS256, a binary key, CRLF and spaces in the
 * JSON): the signature checks out; its claims are not a join token's (no
 * sub), so claims is what is wrong, and only with the right key. */
Test(jwt, rfc7515_a1)
{
	static const char tok[] =
		"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkz"
		"ODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU"
		"1p1r_wW1gFWFOEjXk";
	static const char k64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0"
				  "iPS4hcgUuTwjAzZr1Z9CAow";
	uint8_t key[64];
	struct jwt_claims c;
	cr_assert_eq(jwt_b64url_decode(k64, strlen(k64), key, sizeof(key)), 64);
	cr_assert_eq(jwt_verify(tok, key, sizeof(key), NULL, 1300819000, &c), JWT_BAD_CLAIMS);
	key[0] ^= 1;
	cr_assert_eq(jwt_verify(tok, key, sizeof(key), NULL, 1300819000, &c), JWT_BAD_SIGNATURE);
}
