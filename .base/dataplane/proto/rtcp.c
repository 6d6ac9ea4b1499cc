/* RTCP compound packets and packet types. See rtcp.h. */
#include "dataplane/proto/rtcp.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#define RTCP_VERSION 2u
#define RTCP_SR_INFO_LEN 24u   /* sender SSRC + sender info */
#define RTCP_FB_HDR_LEN 8u     /* sender SSRC + media SSRC */
#define RTCP_NACK_FCI_LEN 4u
#define RTCP_FIR_FCI_LEN 8u
#define RTCP_REMB_FCI_MIN 8u
#define RTCP_REMB_MANTISSA_MAX 0x3FFFFu /* 18 bits */
/* Largest packet the 16-bit length word can describe. */
#define RTCP_PACKET_MAX (((size_t)UINT16_MAX + 1u) * 4u)

static const uint8_t remb_id[4] = {'R', 'E', 'M', 'B'};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
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

static void wr24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t pad4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

/* ---- Headers ------------------------------------------------------------ */

int rtcp_packet_parse(const uint8_t *buf, size_t len, struct rtcp_packet *out)
{
	if (len < RTCP_HEADER_LEN)
		return -ENODATA;
	if ((buf[0] >> 6) != RTCP_VERSION)
		return -EPROTO;
	if (buf[1] < RTCP_PT_MIN || buf[1] > RTCP_PT_MAX)
		return -EPROTO;
	size_t plen = ((size_t)rd16(buf + 2) + 1u) * 4u;
	if (plen > len)
		return -ENODATA;

	uint8_t pad = 0;
	if (buf[0] & 0x20u) {
		/* The last octet counts the padding, itself included. */
		pad = buf[plen - 1];
		if (pad == 0 || pad > plen - RTCP_HEADER_LEN)
			return -EBADMSG;
	}
	out->pt = buf[1];
	out->count_or_fmt = buf[0] & 0x1Fu;
	out->padding_len = pad;
	out->ssrc = plen - RTCP_HEADER_LEN - pad >= 4u ? rd32(buf + RTCP_HEADER_LEN) : 0;
	out->data = buf;
	out->len = plen;
	return (int)plen;
}

/* The body of exactly one packet of type pt (pt2: a second accepted type,
 * or 0). */
struct body {
	uint8_t pt;
	uint8_t count;
	const uint8_t *p;
	size_t len;  /* without header and padding */
};

static int one_packet(const uint8_t *buf, size_t len, uint8_t pt, uint8_t pt2, struct body *b)
{
	struct rtcp_packet pkt;
	int rc = rtcp_packet_parse(buf, len, &pkt);
	if (rc < 0)
		return rc;
	if (pkt.pt != pt && pkt.pt != pt2)
		return -EPROTO;
	if ((size_t)rc != len)
		return -EBADMSG;
	b->pt = pkt.pt;
	b->count = pkt.count_or_fmt;
	b->p = buf + RTCP_HEADER_LEN;
	b->len = len - RTCP_HEADER_LEN - pkt.padding_len;
	return 0;
}

/* Header of a built packet of total (a multiple of 4) octets. */
static void put_hdr(uint8_t *buf, uint8_t count, uint8_t pt, size_t total)
{
	buf[0] = (uint8_t)(RTCP_VERSION << 6 | count);
	buf[1] = pt;
	wr16(buf + 2, (uint16_t)(total / 4u - 1u));
}

/* Common size check of the builders. */
static int fits(size_t total, size_t cap)
{
	if (total > RTCP_PACKET_MAX || total > cap)
		return -E2BIG;
	return 0;
}

/* ---- SR / RR ------------------------------------------------------------ */

static void rb_read(const uint8_t *p, struct rtcp_report_block *rb)
{
	rb->ssrc = rd32(p);
	rb->fraction_lost = p[4];
	uint32_t lost = rd24(p + 5);
	/* Sign-extend the 24-bit two's complement value. */
	rb->cumulative_lost = (lost & 0x800000u) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	rb->ext_highest_seq = rd32(p + 8);
	rb->jitter = rd32(p + 12);
	rb->lsr = rd32(p + 16);
	rb->dlsr = rd32(p + 20);
}

static void rb_write(uint8_t *p, const struct rtcp_report_block *rb)
{
	int32_t lost = rb->cumulative_lost;
	if (lost > 0x7FFFFF)
		lost = 0x7FFFFF;
	if (lost < -0x800000)
		lost = -0x800000;
	wr32(p, rb->ssrc);
	p[4] = rb->fraction_lost;
	wr24(p + 5, (uint32_t)lost & 0xFFFFFFu);
	wr32(p + 8, rb->ext_highest_seq);
	wr32(p + 12, rb->jitter);
	wr32(p + 16, rb->lsr);
	wr32(p + 20, rb->dlsr);
}

/* Report blocks at body + off, then the profile-specific extension. */
static int blocks_read(const struct body *b, size_t off, struct rtcp_report_block *rb,
		       const uint8_t **ext, size_t *ext_len)
{
	size_t need = off + (size_t)b->count * RTCP_REPORT_BLOCK_LEN;
	if (b->len < need)
		return -EBADMSG;
	for (unsigned i = 0; i < b->count; i++)
		rb_read(b->p + off + i * RTCP_REPORT_BLOCK_LEN, &rb[i]);
	*ext_len = b->len - need;
	*ext = *ext_len ? b->p + need : NULL;
	return 0;
}

int rtcp_sr_parse(const uint8_t *buf, size_t len, struct rtcp_sr *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_SR, 0, &b);
	if (rc < 0)
		return rc;
	if (b.len < RTCP_SR_INFO_LEN)
		return -EBADMSG;
	out->ssrc = rd32(b.p);
	out->ntp = (uint64_t)rd32(b.p + 4) << 32 | rd32(b.p + 8);
	out->rtp_ts = rd32(b.p + 12);
	out->packet_count = rd32(b.p + 16);
	out->octet_count = rd32(b.p + 20);
	out->rc = b.count;
	return blocks_read(&b, RTCP_SR_INFO_LEN, out->rb, &out->ext, &out->ext_len);
}

int rtcp_rr_parse(const uint8_t *buf, size_t len, struct rtcp_rr *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_RR, 0, &b);
	if (rc < 0)
		return rc;
	if (b.len < 4u)
		return -EBADMSG;
	out->ssrc = rd32(b.p);
	out->rc = b.count;
	return blocks_read(&b, 4u, out->rb, &out->ext, &out->ext_len);
}

/* Shared tail of the SR and RR builders: blocks and extension. */
static int report_build(uint8_t *buf, size_t cap, uint8_t pt, size_t info_len, uint8_t rc,
			const struct rtcp_report_block *rb, const uint8_t *ext, size_t ext_len)
{
	if (rc > RTCP_MAX_COUNT || ext_len % 4u || (ext_len && !ext))
		return -EINVAL;
	if (ext_len > RTCP_PACKET_MAX)
		return -E2BIG;
	size_t blocks = (size_t)rc * RTCP_REPORT_BLOCK_LEN;
	size_t total = RTCP_HEADER_LEN + info_len + blocks + ext_len;
	int rc2 = fits(total, cap);
	if (rc2 < 0)
		return rc2;
	put_hdr(buf, rc, pt, total);
	uint8_t *p = buf + RTCP_HEADER_LEN + info_len;
	for (unsigned i = 0; i < rc; i++, p += RTCP_REPORT_BLOCK_LEN)
		rb_write(p, &rb[i]);
	if (ext_len)
		memcpy(p, ext, ext_len);
	return (int)total;
}

int rtcp_sr_build(uint8_t *buf, size_t cap, const struct rtcp_sr *sr)
{
	int rc = report_build(buf, cap, RTCP_PT_SR, RTCP_SR_INFO_LEN, sr->rc, sr->rb, sr->ext,
			      sr->ext_len);
	if (rc < 0)
		return rc;
	uint8_t *p = buf + RTCP_HEADER_LEN;
	wr32(p, sr->ssrc);
	wr32(p + 4, (uint32_t)(sr->ntp >> 32));
	wr32(p + 8, (uint32_t)sr->ntp);
	wr32(p + 12, sr->rtp_ts);
	wr32(p + 16, sr->packet_count);
	wr32(p + 20, sr->octet_count);
	return rc;
}

int rtcp_rr_build(uint8_t *buf, size_t cap, const struct rtcp_rr *rr)
{
	int rc = report_build(buf, cap, RTCP_PT_RR, 4u, rr->rc, rr->rb, rr->ext, rr->ext_len);
	if (rc < 0)
		return rc;
	wr32(buf + RTCP_HEADER_LEN, rr->ssrc);
	return rc;
}

/* ---- SDES --------------------------------------------------------------- */

int rtcp_sdes_parse(const uint8_t *buf, size_t len, struct rtcp_sdes *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_SDES, 0, &b);
	if (rc < 0)
		return rc;

	size_t off = 0;
	unsigned n_items = 0;
	out->n_chunks = 0;
	out->n_items = 0;
	for (unsigned c = 0; c < b.count; c++) {
		if (b.len - off < 4u)
			return -EBADMSG;
		struct rtcp_sdes_chunk *ch = &out->chunk[c];
		ch->ssrc = rd32(b.p + off);
		ch->first_item = (uint8_t)n_items;
		off += 4u;
		for (;;) {
			if (off >= b.len) /* no terminating null octet */
				return -EBADMSG;
			uint8_t type = b.p[off];
			if (type == RTCP_SDES_END) {
				/* Null octets up to the next 32-bit boundary;
				 * chunks start aligned with the body. */
				off = pad4(off + 1u);
				if (off > b.len)
					return -EBADMSG;
				break;
			}
			if (b.len - off < 2u)
				return -EBADMSG;
			uint8_t ilen = b.p[off + 1u];
			if (b.len - off - 2u < ilen)
				return -EBADMSG;
			if (n_items == RTCP_SDES_MAX_ITEMS)
				return -E2BIG;
			out->item[n_items].type = type;
			out->item[n_items].len = ilen;
			out->item[n_items].data = b.p + off + 2u;
			n_items++;
			off += 2u + ilen;
		}
		ch->n_items = (uint8_t)(n_items - ch->first_item);
	}
	if (off != b.len)
		return -EBADMSG;
	out->n_chunks = b.count;
	out->n_items = (uint8_t)n_items;
	return 0;
}

int rtcp_sdes_build(uint8_t *buf, size_t cap, const struct rtcp_sdes *sdes)
{
	if (sdes->n_chunks > RTCP_MAX_COUNT || sdes->n_items > RTCP_SDES_MAX_ITEMS)
		return -EINVAL;
	size_t total = RTCP_HEADER_LEN;
	for (unsigned c = 0; c < sdes->n_chunks; c++) {
		const struct rtcp_sdes_chunk *ch = &sdes->chunk[c];
		if ((unsigned)ch->first_item + ch->n_items > sdes->n_items)
			return -EINVAL;
		size_t sz = 4u + 1u; /* SSRC and at least one null octet */
		for (unsigned i = ch->first_item; i < (unsigned)ch->first_item + ch->n_items; i++) {
			const struct rtcp_sdes_item *it = &sdes->item[i];
			if (it->type == RTCP_SDES_END || (it->len && !it->data))
				return -EINVAL;
			sz += 2u + it->len;
		}
		total += pad4(sz);
	}
	int rc = fits(total, cap);
	if (rc < 0)
		return rc;

	put_hdr(buf, sdes->n_chunks, RTCP_PT_SDES, total);
	size_t off = RTCP_HEADER_LEN;
	for (unsigned c = 0; c < sdes->n_chunks; c++) {
		const struct rtcp_sdes_chunk *ch = &sdes->chunk[c];
		wr32(buf + off, ch->ssrc);
		off += 4u;
		for (unsigned i = ch->first_item; i < (unsigned)ch->first_item + ch->n_items; i++) {
			const struct rtcp_sdes_item *it = &sdes->item[i];
			buf[off] = it->type;
			buf[off + 1u] = it->len;
			if (it->len)
				memcpy(buf + off + 2u, it->data, it->len);
			off += 2u + it->len;
		}
		size_t end = pad4(off + 1u);
		memset(buf + off, 0, end - off);
		off = end;
	}
	return (int)total;
}

const struct rtcp_sdes_item *rtcp_sdes_find(const struct rtcp_sdes *sdes, uint32_t ssrc,
					    uint8_t type)
{
	for (unsigned c = 0; c < sdes->n_chunks; c++) {
		const struct rtcp_sdes_chunk *ch = &sdes->chunk[c];
		if (ch->ssrc != ssrc)
			continue;
		for (unsigned i = ch->first_item; i < (unsigned)ch->first_item + ch->n_items; i++)
			if (sdes->item[i].type == type)
				return &sdes->item[i];
	}
	return NULL;
}

/* ---- BYE ---------------------------------------------------------------- */

int rtcp_bye_parse(const uint8_t *buf, size_t len, struct rtcp_bye *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_BYE, 0, &b);
	if (rc < 0)
		return rc;
	size_t off = (size_t)b.count * 4u;
	if (b.len < off)
		return -EBADMSG;
	out->count = b.count;
	for (unsigned i = 0; i < b.count; i++)
		out->ssrc[i] = rd32(b.p + i * 4u);
	out->reason = NULL;
	out->reason_len = 0;
	if (off < b.len) {
		uint8_t rlen = b.p[off];
		if (b.len - off - 1u < rlen)
			return -EBADMSG;
		out->reason = b.p + off + 1u;
		out->reason_len = rlen;
	}
	return 0;
}

int rtcp_bye_build(uint8_t *buf, size_t cap, const struct rtcp_bye *bye)
{
	if (bye->count > RTCP_MAX_COUNT || (bye->reason_len && !bye->reason))
		return -EINVAL;
	size_t reason = bye->reason ? pad4(1u + bye->reason_len) : 0;
	size_t total = RTCP_HEADER_LEN + (size_t)bye->count * 4u + reason;
	int rc = fits(total, cap);
	if (rc < 0)
		return rc;
	put_hdr(buf, bye->count, RTCP_PT_BYE, total);
	size_t off = RTCP_HEADER_LEN;
	for (unsigned i = 0; i < bye->count; i++, off += 4u)
		wr32(buf + off, bye->ssrc[i]);
	if (bye->reason) {
		buf[off] = bye->reason_len;
		if (bye->reason_len)
			memcpy(buf + off + 1u, bye->reason, bye->reason_len);
		memset(buf + off + 1u + bye->reason_len, 0, reason - 1u - bye->reason_len);
	}
	return (int)total;
}

/* ---- APP ---------------------------------------------------------------- */

int rtcp_app_parse(const uint8_t *buf, size_t len, struct rtcp_app *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_APP, 0, &b);
	if (rc < 0)
		return rc;
	if (b.len < 8u)
		return -EBADMSG;
	out->subtype = b.count;
	out->ssrc = rd32(b.p);
	memcpy(out->name, b.p + 4, 4);
	out->data_len = b.len - 8u;
	out->data = out->data_len ? b.p + 8 : NULL;
	return 0;
}

int rtcp_app_build(uint8_t *buf, size_t cap, const struct rtcp_app *app)
{
	if (app->subtype > 31 || app->data_len % 4u || (app->data_len && !app->data))
		return -EINVAL;
	if (app->data_len > RTCP_PACKET_MAX)
		return -E2BIG;
	size_t total = RTCP_HEADER_LEN + 8u + app->data_len;
	int rc = fits(total, cap);
	if (rc < 0)
		return rc;
	put_hdr(buf, app->subtype, RTCP_PT_APP, total);
	wr32(buf + 4, app->ssrc);
	memcpy(buf + 8, app->name, 4);
	if (app->data_len)
		memcpy(buf + 12, app->data, app->data_len);
	return (int)total;
}

/* ---- Feedback ----------------------------------------------------------- */

int rtcp_fb_parse(const uint8_t *buf, size_t len, struct rtcp_fb *out)
{
	struct body b;
	int rc = one_packet(buf, len, RTCP_PT_RTPFB, RTCP_PT_PSFB, &b);
	if (rc < 0)
		return rc;
	if (b.len < RTCP_FB_HDR_LEN)
		return -EBADMSG;
	out->pt = b.pt;
	out->fmt = b.count;
	out->sender_ssrc = rd32(b.p);
	out->media_ssrc = rd32(b.p + 4);
	out->fci_len = b.len - RTCP_FB_HDR_LEN;
	out->fci = out->fci_len ? b.p + RTCP_FB_HDR_LEN : NULL;
	return 0;
}

/* A feedback message of this PT and FMT. */
static int fb_typed(const uint8_t *buf, size_t len, uint8_t pt, uint8_t fmt, struct rtcp_fb *fb)
{
	int rc = rtcp_fb_parse(buf, len, fb);
	if (rc < 0)
		return rc;
	if (fb->pt != pt || fb->fmt != fmt)
		return -EPROTO;
	return 0;
}

/* Header of a feedback message with fci_len octets of FCI. */
static int fb_build(uint8_t *buf, size_t cap, uint8_t pt, uint8_t fmt, uint32_t sender_ssrc,
		    uint32_t media_ssrc, size_t fci_len)
{
	if (fci_len > RTCP_PACKET_MAX)
		return -E2BIG;
	size_t total = RTCP_HEADER_LEN + RTCP_FB_HDR_LEN + fci_len;
	int rc = fits(total, cap);
	if (rc < 0)
		return rc;
	put_hdr(buf, fmt, pt, total);
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, media_ssrc);
	return (int)total;
}

int rtcp_nack_parse(const uint8_t *buf, size_t len, struct rtcp_nack *out)
{
	struct rtcp_fb fb;
	int rc = fb_typed(buf, len, RTCP_PT_RTPFB, RTCP_RTPFB_FMT_NACK, &fb);
	if (rc < 0)
		return rc;
	if (fb.fci_len == 0 || fb.fci_len % RTCP_NACK_FCI_LEN)
		return -EBADMSG;
	out->sender_ssrc = fb.sender_ssrc;
	out->media_ssrc = fb.media_ssrc;
	out->n_items = fb.fci_len / RTCP_NACK_FCI_LEN;
	out->fci = fb.fci;
	return 0;
}

struct rtcp_nack_item rtcp_nack_get(const struct rtcp_nack *nack, size_t i)
{
	const uint8_t *p = nack->fci + i * RTCP_NACK_FCI_LEN;
	struct rtcp_nack_item it = {.pid = rd16(p), .blp = rd16(p + 2)};
	return it;
}

int rtcp_nack_expand(const struct rtcp_nack *nack, uint16_t *seq, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < nack->n_items; i++) {
		struct rtcp_nack_item it = rtcp_nack_get(nack, i);
		if (n < cap)
			seq[n] = it.pid;
		n++;
		for (unsigned bit = 0; bit < 16; bit++) {
			if (!(it.blp >> bit & 1u))
				continue;
			if (n < cap)
				seq[n] = (uint16_t)(it.pid + bit + 1u);
			n++;
		}
	}
	if (n > cap)
		return -E2BIG;
	return (int)n;
}

int rtcp_nack_pack(const uint16_t *seq, size_t n, struct rtcp_nack_item *items, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k) {
			uint16_t d = (uint16_t)(seq[i] - items[k - 1].pid);
			if (d == 0)
				continue; /* already there */
			if (d <= 16) {
				items[k - 1].blp |= (uint16_t)(1u << (d - 1u));
				continue;
			}
		}
		if (k == cap)
			return -E2BIG;
		items[k].pid = seq[i];
		items[k].blp = 0;
		k++;
	}
	return (int)k;
}

int rtcp_nack_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    const struct rtcp_nack_item *items, size_t n_items)
{
	if (n_items == 0 || !items)
		return -EINVAL;
	if (n_items > RTCP_PACKET_MAX / RTCP_NACK_FCI_LEN)
		return -E2BIG;
	int rc = fb_build(buf, cap, RTCP_PT_RTPFB, RTCP_RTPFB_FMT_NACK, sender_ssrc, media_ssrc,
			  n_items * RTCP_NACK_FCI_LEN);
	if (rc < 0)
		return rc;
	uint8_t *p = buf + RTCP_HEADER_LEN + RTCP_FB_HDR_LEN;
	for (size_t i = 0; i < n_items; i++, p += RTCP_NACK_FCI_LEN) {
		wr16(p, items[i].pid);
		wr16(p + 2, items[i].blp);
	}
	return rc;
}

int rtcp_pli_parse(const uint8_t *buf, size_t len, struct rtcp_pli *out)
{
	struct rtcp_fb fb;
	int rc = fb_typed(buf, len, RTCP_PT_PSFB, RTCP_PSFB_FMT_PLI, &fb);
	if (rc < 0)
		return rc;
	if (fb.fci_len != 0)
		return -EBADMSG;
	out->sender_ssrc = fb.sender_ssrc;
	out->media_ssrc = fb.media_ssrc;
	return 0;
}

int rtcp_pli_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	return fb_build(buf, cap, RTCP_PT_PSFB, RTCP_PSFB_FMT_PLI, sender_ssrc, media_ssrc, 0);
}

int rtcp_fir_parse(const uint8_t *buf, size_t len, struct rtcp_fir *out)
{
	struct rtcp_fb fb;
	int rc = fb_typed(buf, len, RTCP_PT_PSFB, RTCP_PSFB_FMT_FIR, &fb);
	if (rc < 0)
		return rc;
	if (fb.fci_len == 0 || fb.fci_len % RTCP_FIR_FCI_LEN)
		return -EBADMSG;
	out->sender_ssrc = fb.sender_ssrc;
	out->media_ssrc = fb.media_ssrc;
	out->n_entries = fb.fci_len / RTCP_FIR_FCI_LEN;
	out->fci = fb.fci;
	return 0;
}

struct rtcp_fir_entry rtcp_fir_get(const struct rtcp_fir *fir, size_t i)
{
	const uint8_t *p = fir->fci + i * RTCP_FIR_FCI_LEN;
	struct rtcp_fir_entry e = {.ssrc = rd32(p), .seq_nr = p[4]};
	return e;
}

int rtcp_fir_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const struct rtcp_fir_entry *entries, size_t n_entries)
{
	if (n_entries == 0 || !entries)
		return -EINVAL;
	if (n_entries > RTCP_PACKET_MAX / RTCP_FIR_FCI_LEN)
		return -E2BIG;
	int rc = fb_build(buf, cap, RTCP_PT_PSFB, RTCP_PSFB_FMT_FIR, sender_ssrc, 0,
			  n_entries * RTCP_FIR_FCI_LEN);
	if (rc < 0)
		return rc;
	uint8_t *p = buf + RTCP_HEADER_LEN + RTCP_FB_HDR_LEN;
	for (size_t i = 0; i < n_entries; i++, p += RTCP_FIR_FCI_LEN) {
		wr32(p, entries[i].ssrc);
		p[4] = entries[i].seq_nr;
		p[5] = p[6] = p[7] = 0;
	}
	return rc;
}

int rtcp_remb_parse(const uint8_t *buf, size_t len, struct rtcp_remb *out)
{
	struct rtcp_fb fb;
	int rc = fb_typed(buf, len, RTCP_PT_PSFB, RTCP_PSFB_FMT_AFB, &fb);
	if (rc < 0)
		return rc;
	/* Other application layer feedback is not ours to judge. */
	if (fb.fci_len < sizeof(remb_id) || memcmp(fb.fci, remb_id, sizeof(remb_id)) != 0)
		return -EPROTO;
	if (fb.fci_len < RTCP_REMB_FCI_MIN)
		return -EBADMSG;
	uint8_t n = fb.fci[4];
	if (fb.fci_len != RTCP_REMB_FCI_MIN + (size_t)n * 4u)
		return -EBADMSG;
	unsigned exp = fb.fci[5] >> 2;
	uint64_t mantissa = rd24(fb.fci + 5) & RTCP_REMB_MANTISSA_MAX;
	out->sender_ssrc = fb.sender_ssrc;
	out->media_ssrc = fb.media_ssrc;
	out->bitrate = mantissa > (UINT64_MAX >> exp) ? UINT64_MAX : mantissa << exp;
	out->n_ssrc = n;
	for (unsigned i = 0; i < n; i++)
		out->ssrc[i] = rd32(fb.fci + RTCP_REMB_FCI_MIN + i * 4u);
	return 0;
}

int rtcp_remb_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
		    const uint32_t *ssrc, size_t n_ssrc)
{
	if (n_ssrc > RTCP_REMB_MAX_SSRC || (n_ssrc && !ssrc))
		return -EINVAL;
	int rc = fb_build(buf, cap, RTCP_PT_PSFB, RTCP_PSFB_FMT_AFB, sender_ssrc, 0,
			  RTCP_REMB_FCI_MIN + n_ssrc * 4u);
	if (rc < 0)
		return rc;
	unsigned exp = 0;
	while ((bitrate >> exp) > RTCP_REMB_MANTISSA_MAX)
		exp++;
	uint32_t mantissa = (uint32_t)(bitrate >> exp);
	uint8_t *p = buf + RTCP_HEADER_LEN + RTCP_FB_HDR_LEN;
	memcpy(p, remb_id, sizeof(remb_id));
	p[4] = (uint8_t)n_ssrc;
	wr24(p + 5, (uint32_t)exp << 18 | mantissa);
	for (size_t i = 0; i < n_ssrc; i++)
		wr32(p + RTCP_REMB_FCI_MIN + i * 4u, ssrc[i]);
	return rc;
}

/* ---- Compound ----------------------------------------------------------- */

/* Decode the body of a known packet type to validate it. */
static int check_body(const struct rtcp_packet *p)
{
	union {
		struct rtcp_sr sr;
		struct rtcp_rr rr;
		struct rtcp_sdes sdes;
		struct rtcp_bye bye;
		struct rtcp_app app;
		struct rtcp_fb fb;
		struct rtcp_nack nack;
		struct rtcp_pli pli;
		struct rtcp_fir fir;
		struct rtcp_remb remb;
	} u;
	int rc;

	switch (p->pt) {
	case RTCP_PT_SR:
		return rtcp_sr_parse(p->data, p->len, &u.sr);
	case RTCP_PT_RR:
		return rtcp_rr_parse(p->data, p->len, &u.rr);
	case RTCP_PT_SDES:
		return rtcp_sdes_parse(p->data, p->len, &u.sdes);
	case RTCP_PT_BYE:
		return rtcp_bye_parse(p->data, p->len, &u.bye);
	case RTCP_PT_APP:
		return rtcp_app_parse(p->data, p->len, &u.app);
	case RTCP_PT_RTPFB:
		if (p->count_or_fmt == RTCP_RTPFB_FMT_NACK)
			return rtcp_nack_parse(p->data, p->len, &u.nack);
		return rtcp_fb_parse(p->data, p->len, &u.fb);
	case RTCP_PT_PSFB:
		switch (p->count_or_fmt) {
		case RTCP_PSFB_FMT_PLI:
			return rtcp_pli_parse(p->data, p->len, &u.pli);
		case RTCP_PSFB_FMT_FIR:
			return rtcp_fir_parse(p->data, p->len, &u.fir);
		case RTCP_PSFB_FMT_AFB:
			rc = rtcp_remb_parse(p->data, p->len, &u.remb);
			if (rc != -EPROTO)
				return rc;
			break; /* some other AFB */
		default:
			break;
		}
		return rtcp_fb_parse(p->data, p->len, &u.fb);
	default:
		return 0;
	}
}

int rtcp_parse_compound(const uint8_t *buf, size_t len, unsigned flags,
			struct rtcp_compound *out)
{
	out->n = 0;
	if (len == 0)
		return -ENODATA;
	if (len % 4u)
		return -EBADMSG;

	size_t off = 0;
	size_t n = 0;
	while (off < len) {
		if (n == RTCP_MAX_PACKETS)
			return -E2BIG;
		struct rtcp_packet *p = &out->pkt[n];
		int rc = rtcp_packet_parse(buf + off, len - off, p);
		if (rc < 0)
			return rc;
		off += (size_t)rc;
		if (p->padding_len && off != len)
			return -EBADMSG; /* padding only on the last packet */
		if (n == 0 && (flags & RTCP_COMPOUND_STRICT) && p->pt != RTCP_PT_SR &&
		    p->pt != RTCP_PT_RR)
			return -EBADMSG;
		rc = check_body(p);
		if (rc < 0)
			return rc;
		n++;
	}
	out->n = n;
	return 0;
}

void rtcp_writer_init(struct rtcp_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

int rtcp_writer_add(struct rtcp_writer *w, int built)
{
	if (w->err)
		return built;
	if (built < 0) {
		w->err = built;
	} else if ((size_t)built > w->cap - w->len) {
		w->err = -E2BIG; /* not written by a builder given the room */
	} else {
		w->len += (size_t)built;
	}
	return built;
}

int rtcp_writer_finish(const struct rtcp_writer *w)
{
	if (w->err)
		return w->err;
	if (w->len == 0)
		return -ENODATA;
	if (w->len > INT_MAX)
		return -E2BIG;
	return (int)w->len;
}
