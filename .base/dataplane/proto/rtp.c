/* RTP header parsing and building (RFC 3550 section 5.1) with RFC 8285
 * header extensions. See rtp.h for the API and the error convention. */
#include "dataplane/proto/rtp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define RTP_VERSION 2u
#define RTP_EXT_HDR_LEN 4u
/* Elements of the one-byte form: ids 1..14 carry data, 15 stops parsing. */
#define RTP_EXT1_ID_MAX 14u
#define RTP_EXT1_ID_STOP 15u
#define RTP_EXT1_LEN_MAX 16u
#define RTP_EXT_PROFILE_TWO_BYTE_MASK 0xFFF0u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_header *out)
{
	int r = rtp_parse_header(buf, len, out);
	if (r)
		return r;
	size_t off = out->header_len;
	size_t rest = len - off;
	if (out->padding) {
		/* The last octet counts the padding, itself included; it must
		 * lie after the header and cannot be 0. */
		uint8_t pad = rest ? buf[len - 1] : 0;
		if (pad == 0 || pad > rest)
			return -EBADMSG;
		out->padding_len = pad;
		rest -= pad;
	}
	out->payload = buf + off;
	out->payload_len = rest;
	return 0;
}

int rtp_parse_header(const uint8_t *buf, size_t len, struct rtp_header *out)
{
	if (len < RTP_HEADER_MIN)
		return -ENODATA;
	if ((buf[0] >> 6) != RTP_VERSION)
		return -EPROTO;

	memset(out, 0, sizeof(*out));
	out->padding = (buf[0] >> 5) & 1u;
	out->extension = (buf[0] >> 4) & 1u;
	out->csrc_count = buf[0] & 0x0Fu;
	out->marker = buf[1] >> 7;
	out->payload_type = buf[1] & 0x7Fu;
	out->seq = rd16(buf + 2);
	out->timestamp = rd32(buf + 4);
	out->ssrc = rd32(buf + 8);

	size_t off = RTP_HEADER_MIN;
	if (len - off < (size_t)out->csrc_count * 4u)
		return -ENODATA;
	for (unsigned i = 0; i < out->csrc_count; i++, off += 4)
		out->csrc[i] = rd32(buf + off);

	if (out->extension) {
		if (len - off < RTP_EXT_HDR_LEN)
			return -ENODATA;
		out->ext_profile = rd16(buf + off);
		size_t ext_len = (size_t)rd16(buf + off + 2) * 4u;
		off += RTP_EXT_HDR_LEN;
		if (len - off < ext_len)
			return -ENODATA;
		out->ext_data = buf + off;
		out->ext_len = ext_len;
		off += ext_len;
	}

	out->header_len = off;
	out->payload = buf + off;
	out->payload_len = len - off;
	return 0;
}

static bool is_one_byte(uint16_t profile)
{
	return profile == RTP_EXT_PROFILE_ONE_BYTE;
}

static bool is_two_byte(uint16_t profile)
{
	return (profile & RTP_EXT_PROFILE_TWO_BYTE_MASK) == RTP_EXT_PROFILE_TWO_BYTE;
}

int rtp_ext_next(const struct rtp_header *h, size_t *off, struct rtp_ext_elem *out)
{
	if (!h->extension)
		return 0;
	const uint8_t *d = h->ext_data;
	size_t n = h->ext_len;

	if (is_one_byte(h->ext_profile)) {
		while (*off < n) {
			uint8_t b = d[*off];
			uint8_t id = b >> 4;
			if (id == 0) { /* padding octet */
				(*off)++;
				continue;
			}
			if (id == RTP_EXT1_ID_STOP) {
				/* RFC 8285 4.2: ignore the rest of the extension. */
				*off = n;
				return 0;
			}
			size_t elen = (size_t)(b & 0x0Fu) + 1u;
			if (n - *off - 1u < elen)
				return -EBADMSG;
			out->id = id;
			out->len = (uint8_t)elen;
			out->data = d + *off + 1u;
			*off += 1u + elen;
			return 1;
		}
		return 0;
	}

	if (is_two_byte(h->ext_profile)) {
		while (*off < n) {
			uint8_t id = d[*off];
			if (id == 0) { /* padding octet */
				(*off)++;
				continue;
			}
			if (n - *off < 2u)
				return -EBADMSG;
			size_t elen = d[*off + 1u];
			if (n - *off - 2u < elen)
				return -EBADMSG;
			out->id = id;
			out->len = (uint8_t)elen;
			out->data = d + *off + 2u;
			*off += 2u + elen;
			return 1;
		}
		return 0;
	}

	return -EPROTO;
}

int rtp_ext_find(const struct rtp_header *h, uint8_t id, struct rtp_ext_elem *out)
{
	size_t off = 0;
	struct rtp_ext_elem e;
	int rc;

	while ((rc = rtp_ext_next(h, &off, &e)) == 1) {
		if (e.id == id) {
			*out = e;
			return 1;
		}
	}
	return rc;
}

/* Size of the extension body (without its 4-byte header, before padding to
 * a multiple of 4) and its form. Returns 0 or -EINVAL. */
static int ext_layout(const struct rtp_build_params *p, bool *one_byte, size_t *body)
{
	bool one = true;
	for (size_t i = 0; i < p->n_ext; i++) {
		const struct rtp_ext_elem *e = &p->ext[i];
		if (e->id == 0)
			return -EINVAL;
		if (e->len > 0 && !e->data)
			return -EINVAL;
		if (e->id > RTP_EXT1_ID_MAX || e->len < 1 || e->len > RTP_EXT1_LEN_MAX)
			one = false;
	}
	size_t sz = 0;
	for (size_t i = 0; i < p->n_ext; i++) {
		sz += (one ? 1u : 2u) + p->ext[i].len;
		if (sz > (size_t)UINT16_MAX * 4u)
			return -E2BIG;
	}
	*one_byte = one;
	*body = sz;
	return 0;
}

int rtp_build(uint8_t *buf, size_t cap, const struct rtp_build_params *p,
	      const uint8_t *payload, size_t payload_len)
{
	if (p->payload_type > 0x7F || p->csrc_count > RTP_MAX_CSRC)
		return -EINVAL;
	if (p->csrc_count && !p->csrc)
		return -EINVAL;
	if (p->n_ext && !p->ext)
		return -EINVAL;
	if (payload_len && !payload)
		return -EINVAL;

	bool one_byte = true;
	size_t ext_body = 0, ext_total = 0;
	if (p->n_ext) {
		int rc = ext_layout(p, &one_byte, &ext_body);
		if (rc < 0)
			return rc;
		ext_total = RTP_EXT_HDR_LEN + ((ext_body + 3u) & ~(size_t)3u);
		if ((ext_total - RTP_EXT_HDR_LEN) / 4u > UINT16_MAX)
			return -E2BIG;
	}

	size_t hdr = RTP_HEADER_MIN + (size_t)p->csrc_count * 4u + ext_total;
	if (payload_len > (size_t)INT_MAX - hdr - p->padding_len)
		return -E2BIG;
	size_t total = hdr + payload_len + p->padding_len;
	if (total > cap)
		return -E2BIG;

	/* The payload may already sit where it belongs (or anywhere in buf):
	 * move it first, before the header overwrites anything. */
	if (payload_len)
		memmove(buf + hdr, payload, payload_len);

	buf[0] = (uint8_t)(RTP_VERSION << 6 | (p->padding_len ? 0x20u : 0u) |
			   (p->n_ext ? 0x10u : 0u) | p->csrc_count);
	buf[1] = (uint8_t)((p->marker ? 0x80u : 0u) | p->payload_type);
	rtp_set_seq(buf, p->seq);
	rtp_set_ts(buf, p->timestamp);
	rtp_set_ssrc(buf, p->ssrc);
	size_t off = RTP_HEADER_MIN;
	for (unsigned i = 0; i < p->csrc_count; i++, off += 4)
		rtp_put32_(buf + off, p->csrc[i]);

	if (p->n_ext) {
		wr16(buf + off, one_byte ? RTP_EXT_PROFILE_ONE_BYTE : RTP_EXT_PROFILE_TWO_BYTE);
		wr16(buf + off + 2, (uint16_t)((ext_total - RTP_EXT_HDR_LEN) / 4u));
		off += RTP_EXT_HDR_LEN;
		size_t end = off + (ext_total - RTP_EXT_HDR_LEN);
		for (size_t i = 0; i < p->n_ext; i++) {
			const struct rtp_ext_elem *e = &p->ext[i];
			if (one_byte) {
				buf[off++] = (uint8_t)(e->id << 4 | (e->len - 1u));
			} else {
				buf[off++] = e->id;
				buf[off++] = e->len;
			}
			if (e->len)
				memcpy(buf + off, e->data, e->len);
			off += e->len;
		}
		memset(buf + off, 0, end - off);
		off = end;
	}

	off += payload_len;
	if (p->padding_len) {
		memset(buf + off, 0, p->padding_len - 1u);
		buf[off + p->padding_len - 1u] = p->padding_len;
		off += p->padding_len;
	}
	return (int)off;
}
