/* The payload of every packet mmload sends: a 24-byte tag, then a fixed
 * fill pattern, with a checksum over all of it.
 *
 *   0  magic "ML" (2)   2 phase (1)   3 flags (1)
 *   4  stream id (4)    8 index (4)  12 checksum (4)
 *  16  send time, CLOCK_MONOTONIC ns (8)
 *  24  fill: byte k is ld_fill[k]
 * Big-endian fields. Video and screen payloads carry the tag after a
 * LD_VP8_PREFIX-byte VP8 prefix (tools/load/gen.c); their checksum is that
 * of the tagged part folded with a hash of the prefix. */
#include "tools/load/load.h"

#include <errno.h>
#include <string.h>

static uint8_t fill_pattern[LD_VIDEO_PAYLOAD];

__attribute__((constructor)) static void fill_init(void)
{
	uint32_t x = 0x6d6d6c64u; /* xorshift32: looks like compressed media */
	for (size_t k = 0; k < sizeof(fill_pattern); k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		fill_pattern[k] = (uint8_t)x;
	}
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void ld_payload_fill(uint8_t *payload, size_t from, size_t len)
{
	if (len > sizeof(fill_pattern))
		len = sizeof(fill_pattern);
	if (from < len)
		memcpy(payload + from, fill_pattern + from, len - from);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t x;
	memcpy(&x, p, sizeof(x));
	return x;
}

uint32_t ld_payload_sum(const uint8_t *p, size_t len)
{
	uint64_t acc = len * 0x9e3779b97f4a7c15ull;
	uint64_t w = 0;
	size_t i = 0;
	if (len >= 16) { /* shorter payloads are not ours: no field to skip */
		uint8_t head[16];
		memcpy(head, p, 16);
		memset(head + 12, 0, 4); /* the checksum field */
		acc += load64(head) * 1u + load64(head + 8) * 3u;
		i = 16;
		w = 2;
	}
	for (; i + 8 <= len; i += 8, w++)
		acc += load64(p + i) * (2 * w + 1);
	if (i < len) {
		uint8_t tail[8] = {0};
		memcpy(tail, p + i, len - i);
		acc += load64(tail) * (2 * w + 1);
	}
	acc ^= acc >> 29;
	acc *= 0xbf58476d1ce4e5b9ull;
	acc ^= acc >> 32;
	return (uint32_t)acc;
}

/* A hash of the VP8 prefix (0 when there is none), folded into the
 * checksum so that it covers every byte of the payload. */
static uint32_t prefix_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 0;
	for (size_t i = 0; i < n; i += 4) {
		uint8_t w[4] = {0};
		memcpy(w, p + i, n - i < 4 ? n - i : 4);
		h = ld_mix(h ^ (uint32_t)i, get32(w));
	}
	return h;
}

void ld_tag_write_at(uint8_t *payload, size_t len, size_t off, const struct ld_tag *t)
{
	uint8_t *g = payload + off;
	put16(g, LD_TAG_MAGIC);
	g[2] = t->phase;
	g[3] = t->flags;
	put32(g + 4, t->stream);
	put32(g + 8, t->index);
	put32(g + 12, 0);
	put32(g + 16, (uint32_t)(t->send_ns >> 32));
	put32(g + 20, (uint32_t)t->send_ns);
	put32(g + 12, ld_payload_sum(g, len - off) ^ prefix_sum(payload, off));
}

void ld_tag_write(uint8_t *payload, size_t len, const struct ld_tag *t)
{
	ld_tag_write_at(payload, len, 0, t);
}

static bool magic_at(const uint8_t *p)
{
	return p[0] == (LD_TAG_MAGIC >> 8) && p[1] == (LD_TAG_MAGIC & 0xff);
}

int ld_tag_read(const uint8_t *payload, size_t len, struct ld_tag *t)
{
	size_t off;
	if (len >= LD_TAG_LEN && magic_at(payload))
		off = 0;
	else if (len >= LD_VP8_PREFIX + LD_TAG_LEN && magic_at(payload + LD_VP8_PREFIX))
		off = LD_VP8_PREFIX;
	else
		return -EPROTO;
	const uint8_t *g = payload + off;
	if (get32(g + 12) != (ld_payload_sum(g, len - off) ^ prefix_sum(payload, off)))
		return -EBADMSG;
	t->phase = g[2];
	t->flags = g[3];
	t->stream = get32(g + 4);
	t->index = get32(g + 8);
	t->send_ns = (uint64_t)get32(g + 16) << 32 | get32(g + 20);
	return 0;
}
