/* A STUN Binding request as browsers send it (USERNAME, PRIORITY,
 * ICE-CONTROLLING, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY with
 * pwd, FINGERPRINT): the seeds' and fuzz_engine's binding check. */
#ifndef MM_FUZZ_STUN_REQ_H
#define MM_FUZZ_STUN_REQ_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/proto/stun.h"

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A Binding request as browsers send it; MI with pwd, FINGERPRINT. */
static inline size_t stun_req(uint8_t *b, const char *user, const char *pwd, bool nominate, bool v6)
{
	size_t n = 20;
	put16(b, STUN_BINDING_REQUEST);
	put32(b + 4, STUN_MAGIC_COOKIE);
	for (int i = 0; i < 12; i++)
		b[8 + i] = (uint8_t)(i * 17 + (v6 ? 3 : 1));
	size_t ul = strlen(user);
	put16(b + n, STUN_ATTR_USERNAME);
	put16(b + n + 2, (uint16_t)ul);
	memcpy(b + n + 4, user, ul);
	memset(b + n + 4 + ul, 0, ((ul + 3) & ~(size_t)3) - ul); /* padding: zeros, not stack */
	n += 4 + ((ul + 3) & ~(size_t)3);
	put16(b + n, STUN_ATTR_PRIORITY);
	put16(b + n + 2, 4);
	put32(b + n + 4, 1853824767u);
	n += 8;
	put16(b + n, STUN_ATTR_ICE_CONTROLLING);
	put16(b + n + 2, 8);
	put32(b + n + 4, 0x01020304);
	put32(b + n + 8, 0x05060708);
	n += 12;
	if (nominate) {
		put16(b + n, STUN_ATTR_USE_CANDIDATE);
		put16(b + n + 2, 0);
		n += 4;
	}
	put16(b + 2, (uint16_t)(n + 24 - 20));
	unsigned int hl = 0;
	put16(b + n, STUN_ATTR_MESSAGE_INTEGRITY);
	put16(b + n + 2, 20);
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), b, n, b + n + 4, &hl);
	n += 24;
	put16(b + 2, (uint16_t)(n + 8 - 20));
	put16(b + n, STUN_ATTR_FINGERPRINT);
	put16(b + n + 2, 4);
	put32(b + n + 4, stun_crc32(b, n) ^ STUN_FINGERPRINT_XOR);
	return n + 8;
}

#endif
