#include "dataplane/proto/base64.h"

#include <errno.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mm_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = ALPHABET[v >> 18 & 63];
		out[o++] = ALPHABET[v >> 12 & 63];
		out[o++] = i + 1 < n ? ALPHABET[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? ALPHABET[v & 63] : '=';
	}
	out[o] = 0;
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mm_b64_decode(const char *s, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, chars = 0;
	for (; *s && *s != '='; s++, chars++) {
		int v = value(*s);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -E2BIG;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	size_t pad = 0;
	for (; *s == '='; s++)
		pad++;
	/* nothing after the padding, no stray bits, and a length a real
	 * encoder could have produced */
	if (*s || chars % 4 == 1 || (pad && (chars + pad) % 4) || (acc & ((1u << bits) - 1)))
		return -EINVAL;
	return (int)n;
}
