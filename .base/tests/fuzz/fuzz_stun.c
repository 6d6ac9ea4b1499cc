/* STUN as mmdp's ICE-lite agent reads it: stun_parse, USERNAME split,
 * FINGERPRINT and MESSAGE-INTEGRITY checks, and the Binding success
 * response built for a request. The first input byte asks for fixing up:
 * bit 0 a valid MESSAGE-INTEGRITY for the fixed password over the message
 * (so that the authenticated path runs, not only the refusal), bit 1 a
 * valid FINGERPRINT; the rest is the message. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "dataplane/proto/stun.h"
#include "fuzz.h"
#include "stun_req.h"

static const uint8_t KEY[] = "abcdefghijklmnopqrstuv0123";
#define KEY_LEN (sizeof(KEY) - 1)

/* RFC 5389 15.4: HMAC-SHA1 over the message up to the attribute, the
 * length field counting up to the end of MESSAGE-INTEGRITY. */
static void fix_integrity(uint8_t *b, size_t len, size_t off)
{
	if (off < STUN_HEADER_LEN || off + 4 + STUN_HMAC_LEN > len)
		return;
	uint8_t tmp[STUN_MAX_MSG + 64];
	if (off > sizeof(tmp))
		return;
	memcpy(tmp, b, off);
	put16(tmp + 2, (uint16_t)(off + 4 + STUN_HMAC_LEN - STUN_HEADER_LEN));
	unsigned int ml = 0;
	HMAC(EVP_sha1(), KEY, (int)KEY_LEN, tmp, off, b + off + 4, &ml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t fix = data[0];
	uint8_t b[4096];
	size_t len = size - 1;
	if (len > sizeof(b))
		return 0;
	memcpy(b, data + 1, len);

	struct stun_msg m;
	(void)stun_is_stun(b, len);
	if (stun_parse(b, len, &m) != 0)
		return 0;
	FUZZ_CHECK(m.length + STUN_HEADER_LEN <= len);
	FUZZ_INSIDE(b + m.username_off, m.username_len, b, len);
	if (m.integrity_off)
		FUZZ_INSIDE(b + m.integrity_off, 4 + STUN_HMAC_LEN, b, len);
	if (m.fingerprint_off)
		FUZZ_INSIDE(b + m.fingerprint_off, 8, b, len);
	if ((fix & 1) && m.integrity_off) {
		fix_integrity(b, len, m.integrity_off);
		if (m.integrity_off + 4 + STUN_HMAC_LEN <= len && m.integrity_off <= STUN_MAX_MSG)
			FUZZ_CHECK(stun_check_integrity(b, len, &m, KEY, KEY_LEN));
	}
	if ((fix & 2) && m.fingerprint_off && m.fingerprint_off + 8 <= len)
		put32(b + m.fingerprint_off + 4,
		      stun_crc32(b, m.fingerprint_off) ^ STUN_FINGERPRINT_XOR);

	bool fp = stun_check_fingerprint(b, len, &m);
	bool mi = stun_check_integrity(b, len, &m, KEY, KEY_LEN);
	if ((fix & 2) && m.fingerprint_off && m.fingerprint_off + 8 <= len)
		FUZZ_CHECK(fp);

	const uint8_t *l, *r;
	size_t ll, rl;
	if (m.username_off && stun_username_split(b, &m, &l, &ll, &r, &rl) == 0) {
		FUZZ_INSIDE(l, ll, b, len);
		FUZZ_INSIDE(r, rl, b, len);
	}
	/* What mmdp answers to an authenticated request. */
	if (m.type == STUN_BINDING_REQUEST && mi) {
		uint8_t out[256];
		struct net_addr a;
		uint8_t fam;
		net_addr_parse((fix & 4) ? "2001:db8::7" : "198.51.100.7", &a, &fam);
		int n = stun_build_binding_success(out, sizeof(out), m.txid, &a, fam, 5000, KEY,
						   KEY_LEN);
		FUZZ_CHECK(n > 0);
		struct stun_msg rm;
		FUZZ_CHECK(stun_parse(out, (size_t)n, &rm) == 0);
		FUZZ_CHECK(stun_check_integrity(out, (size_t)n, &rm, KEY, KEY_LEN));
		FUZZ_CHECK(stun_check_fingerprint(out, (size_t)n, &rm));
	}
	return 0;
}
