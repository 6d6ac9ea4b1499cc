/* Base64 (RFC 4648, standard alphabet) for SRTP keys in the agent protocol
 * (SDES-style inline keys) and the tools that produce them. */
#ifndef MM_BASE64_H
#define MM_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters mm_b64_encode writes for n bytes, without the NUL. */
static inline size_t mm_b64_encoded_len(size_t n)
{
	return 4 * ((n + 2) / 3);
}

/* Encode n bytes with '=' padding; out holds mm_b64_encoded_len(n) + 1. */
void mm_b64_encode(const uint8_t *in, size_t n, char *out);

/* Decode a NUL-terminated string (padding optional, no whitespace) into at
 * most cap bytes. Returns the length, or -EINVAL for a character outside
 * the alphabet, padding in the middle or bits left over, -E2BIG when cap
 * is too small. */
int mm_b64_decode(const char *s, uint8_t *out, size_t cap);

#endif
