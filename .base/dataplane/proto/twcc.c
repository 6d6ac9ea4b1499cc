/* Transport-wide congestion control feedback. See twcc.h. */
#include "dataplane/proto/twcc.h"

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"

#define TWCC_FB_HDR_LEN 12u    /* RTCP header + sender SSRC + media SSRC */
#define TWCC_FCI_FIXED 8u      /* base seq, status count, ref time, fb count */
#define TWCC_CHUNK_LEN 2u
#define TWCC_RUN_MAX 0x1FFFu   /* 13-bit run length */
#define TWCC_VEC1_SYMBOLS 14u  /* status vector, S=0 */
#define TWCC_VEC2_SYMBOLS 7u   /* status vector, S=1 */
#define TWCC_SYM_RESERVED 3u
#define TWCC_DELTA_SMALL_MAX 255
#define TWCC_DELTA_LARGE_MIN (-32768)
#define TWCC_DELTA_LARGE_MAX 32767
/* Largest RTCP packet the 16-bit length word can describe. */
#define TWCC_PACKET_MAX (((size_t)UINT16_MAX + 1u) * 4u)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Chunk layout: T is the top bit; a run-length chunk (T=0) has its symbol
 * in bits 14..13 and its length below; a vector (T=1) has S in bit 14 and
 * its symbols from bit 13 down, first symbol highest. */
static bool chunk_is_vector(uint16_t c)
{
	return (c & 0x8000u) != 0;
}

static unsigned chunk_symbols(uint16_t c)
{
	if (!chunk_is_vector(c))
		return c & TWCC_RUN_MAX;
	return (c & 0x4000u) ? TWCC_VEC2_SYMBOLS : TWCC_VEC1_SYMBOLS;
}

/* Symbol k (0-based) of chunk c; k < chunk_symbols(c). */
static unsigned chunk_symbol(uint16_t c, unsigned k)
{
	if (!chunk_is_vector(c))
		return (c >> 13) & 3u;
	if (c & 0x4000u)
		return (c >> (12u - 2u * k)) & 3u;
	return (c >> (13u - k)) & 1u;
}

/* Octets of the receive delta a symbol calls for. */
static unsigned delta_octets(unsigned sym)
{
	return sym == TWCC_RECEIVED_SMALL ? 1u : sym == TWCC_RECEIVED_LARGE ? 2u : 0u;
}

/* ---- Parsing ------------------------------------------------------------ */

int twcc_feedback_parse(const uint8_t *buf, size_t len, struct twcc_feedback *out)
{
	struct rtcp_fb fb;
	int rc = rtcp_fb_parse(buf, len, &fb);
	if (rc < 0)
		return rc;
	if (fb.pt != RTCP_PT_RTPFB || fb.fmt != RTCP_RTPFB_FMT_TWCC)
		return -EPROTO;
	if (fb.fci_len < TWCC_FCI_FIXED)
		return -ENODATA;

	const uint8_t *p = fb.fci;
	uint16_t count = rd16(p + 2);
	if (count == 0)
		return -EBADMSG;
	if (count > TWCC_MAX_PACKETS)
		return -E2BIG;
	uint32_t ref = (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];

	/* Walk the chunks until they cover count packets, adding up the
	 * deltas their symbols call for. Symbols past count (the tail of the
	 * last chunk) are ignored. */
	size_t off = TWCC_FCI_FIXED;
	unsigned covered = 0, n_received = 0;
	size_t deltas_len = 0;
	while (covered < count) {
		if (fb.fci_len - off < TWCC_CHUNK_LEN)
			return -ENODATA;
		uint16_t c = rd16(p + off);
		off += TWCC_CHUNK_LEN;
		unsigned n = chunk_symbols(c);
		if (n > count - covered)
			n = count - covered;
		if (!chunk_is_vector(c)) {
			unsigned sym = chunk_symbol(c, 0);
			if (n && sym == TWCC_SYM_RESERVED)
				return -EBADMSG;
			deltas_len += (size_t)n * delta_octets(sym);
			n_received += sym ? n : 0;
		} else {
			for (unsigned k = 0; k < n; k++) {
				unsigned sym = chunk_symbol(c, k);
				if (sym == TWCC_SYM_RESERVED)
					return -EBADMSG;
				deltas_len += delta_octets(sym);
				n_received += sym ? 1u : 0u;
			}
		}
		covered += n;
	}
	size_t rest = fb.fci_len - off;
	if (rest < deltas_len)
		return -ENODATA;
	if (rest - deltas_len > 3u)
		return -EBADMSG; /* more than padding to 32 bits */

	out->sender_ssrc = fb.sender_ssrc;
	out->media_ssrc = fb.media_ssrc;
	out->base_seq = rd16(p);
	out->status_count = count;
	/* Sign-extend the 24-bit two's complement value. */
	out->ref_time = (ref & 0x800000u) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
	out->fb_count = p[7];
	out->n_received = (uint16_t)n_received;
	out->chunks = p + TWCC_FCI_FIXED;
	out->chunks_len = off - TWCC_FCI_FIXED;
	out->deltas = p + off;
	out->deltas_len = deltas_len;
	return 0;
}

void twcc_iter_init(struct twcc_iter *it, const struct twcc_feedback *fb)
{
	memset(it, 0, sizeof(*it));
	it->chunks = fb->chunks;
	it->chunks_len = fb->chunks_len;
	it->deltas = fb->deltas;
	it->deltas_len = fb->deltas_len;
	it->seq = fb->base_seq;
	it->left = fb->status_count;
	it->time_us = (int64_t)fb->ref_time * TWCC_REF_TIME_US;
}

int twcc_iter_next(struct twcc_iter *it, uint16_t *seq, bool *received, int64_t *arrival_us)
{
	if (it->left == 0)
		return 0;
	while (it->chunk_left == 0) { /* run lengths of 0 cover nothing */
		if (it->chunks_len - it->chunk_off < TWCC_CHUNK_LEN)
			return -ENODATA;
		it->chunk = rd16(it->chunks + it->chunk_off);
		it->chunk_off += TWCC_CHUNK_LEN;
		it->chunk_left = (uint16_t)chunk_symbols(it->chunk);
		it->chunk_pos = 0;
	}
	unsigned sym = chunk_symbol(it->chunk, it->chunk_pos);
	size_t room = it->deltas_len - it->delta_off;
	const uint8_t *d = it->deltas + it->delta_off;
	int64_t delta;
	switch (sym) {
	case TWCC_NOT_RECEIVED:
		delta = 0;
		break;
	case TWCC_RECEIVED_SMALL:
		if (room < 1u)
			return -ENODATA;
		delta = d[0];
		break;
	case TWCC_RECEIVED_LARGE:
		if (room < 2u)
			return -ENODATA;
		delta = (int16_t)rd16(d);
		break;
	default:
		return -EBADMSG;
	}
	it->delta_off += delta_octets(sym);
	it->chunk_pos++;
	it->chunk_left--;
	it->left--;
	*seq = it->seq++;
	*received = sym != TWCC_NOT_RECEIVED;
	if (*received) {
		it->time_us += delta * TWCC_DELTA_US;
		*arrival_us = it->time_us;
	} else {
		*arrival_us = 0;
	}
	return 1;
}

/* ---- Building ----------------------------------------------------------- */

/* Floor division, for negative times too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b < 0)
		q--;
	return q;
}

/* us in 250 us units, to the nearest (halves up); no overflow for any
 * int64_t. */
static int64_t round_units(int64_t us)
{
	int64_t q = us / TWCC_DELTA_US;
	int64_t r = us % TWCC_DELTA_US;
	if (r < 0) {
		q--;
		r += TWCC_DELTA_US;
	}
	if (r >= TWCC_DELTA_US / 2)
		q++;
	return q;
}

/* Choose the chunks for the symbols sym[0..n) and write them at out when
 * it is not NULL. Returns the number of chunks. A run of 14 or more, a
 * run to the end, or a run of 7 or more where a 1-bit vector cannot be
 * used is a run-length chunk; otherwise the next 14 symbols go in a 1-bit
 * vector when all are 0 or 1, else the next 7 in a 2-bit vector. */
static size_t put_chunks(const uint8_t *sym, size_t n, uint8_t *out)
{
	size_t i = 0, k = 0;
	while (i < n) {
		size_t run = 1;
		while (i + run < n && run < TWCC_RUN_MAX && sym[i + run] == sym[i])
			run++;
		size_t span = n - i < TWCC_VEC1_SYMBOLS ? n - i : TWCC_VEC1_SYMBOLS;
		bool one_bit = true;
		for (size_t j = 0; j < span; j++)
			if (sym[i + j] > TWCC_RECEIVED_SMALL)
				one_bit = false;

		uint16_t c;
		if (run >= TWCC_VEC1_SYMBOLS || run == n - i ||
		    (!one_bit && run >= TWCC_VEC2_SYMBOLS)) {
			c = (uint16_t)((unsigned)sym[i] << 13 | run);
			i += run;
		} else if (one_bit) {
			c = 0x8000u;
			for (size_t j = 0; j < span; j++)
				c |= (uint16_t)((unsigned)sym[i + j] << (13u - j));
			i += span;
		} else {
			span = n - i < TWCC_VEC2_SYMBOLS ? n - i : TWCC_VEC2_SYMBOLS;
			c = 0xC000u;
			for (size_t j = 0; j < span; j++)
				c |= (uint16_t)((unsigned)sym[i + j] << (12u - 2u * j));
			i += span;
		}
		if (out)
			wr16(out + k * TWCC_CHUNK_LEN, c);
		k++;
	}
	return k;
}

int twcc_feedback_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			uint16_t base_seq, uint16_t count, const bool *received,
			const int64_t *arrival_us, uint8_t fb_count)
{
	if (count == 0 || count > TWCC_MAX_PACKETS || !received || !arrival_us)
		return -EINVAL;

	/* Reference time from the first received packet. */
	int64_t ref = 0;
	for (size_t i = 0; i < count; i++) {
		if (received[i]) {
			ref = floor_div(arrival_us[i], TWCC_REF_TIME_US);
			break;
		}
	}
	if (ref < TWCC_REF_TIME_MIN || ref > TWCC_REF_TIME_MAX)
		return -EINVAL;

	/* Symbols and the size of the deltas, between rounded times. */
	uint8_t sym[TWCC_MAX_PACKETS];
	int64_t prev = ref * (TWCC_REF_TIME_US / TWCC_DELTA_US);
	size_t deltas_len = 0;
	for (size_t i = 0; i < count; i++) {
		if (!received[i]) {
			sym[i] = TWCC_NOT_RECEIVED;
			continue;
		}
		int64_t units = round_units(arrival_us[i]);
		int64_t delta = units - prev;
		if (delta < TWCC_DELTA_LARGE_MIN || delta > TWCC_DELTA_LARGE_MAX)
			return -EINVAL;
		sym[i] = delta >= 0 && delta <= TWCC_DELTA_SMALL_MAX ? TWCC_RECEIVED_SMALL
								     : TWCC_RECEIVED_LARGE;
		deltas_len += delta_octets(sym[i]);
		prev = units;
	}

	size_t n_chunks = put_chunks(sym, count, NULL);
	size_t body = TWCC_FB_HDR_LEN + TWCC_FCI_FIXED + n_chunks * TWCC_CHUNK_LEN + deltas_len;
	size_t total = (body + 3u) & ~(size_t)3u;
	if (total > TWCC_PACKET_MAX || total > cap)
		return -E2BIG;

	buf[0] = (uint8_t)(2u << 6 | RTCP_RTPFB_FMT_TWCC);
	buf[1] = RTCP_PT_RTPFB;
	wr16(buf + 2, (uint16_t)(total / 4u - 1u));
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, media_ssrc);
	uint8_t *p = buf + TWCC_FB_HDR_LEN;
	wr16(p, base_seq);
	wr16(p + 2, count);
	uint32_t ref24 = (uint32_t)ref & 0xFFFFFFu;
	p[4] = (uint8_t)(ref24 >> 16);
	p[5] = (uint8_t)(ref24 >> 8);
	p[6] = (uint8_t)ref24;
	p[7] = fb_count;
	p += TWCC_FCI_FIXED;
	put_chunks(sym, count, p);
	p += n_chunks * TWCC_CHUNK_LEN;

	prev = ref * (TWCC_REF_TIME_US / TWCC_DELTA_US);
	for (size_t i = 0; i < count; i++) {
		if (!received[i])
			continue;
		int64_t units = round_units(arrival_us[i]);
		int64_t delta = units - prev;
		prev = units;
		if (sym[i] == TWCC_RECEIVED_SMALL) {
			*p++ = (uint8_t)delta;
		} else {
			wr16(p, (uint16_t)(int16_t)delta);
			p += 2;
		}
	}
	memset(p, 0, total - body);
	return (int)total;
}
