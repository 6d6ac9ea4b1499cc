/* The packet generator: what each stream sends at each of its events and
 * the RTP packets themselves, written into a caller's buffer (no
 * allocation). Audio: one Opus-like packet per 20 ms frame with the RFC
 * 6464 audio level in a one-byte RFC 8285 header extension; silence is
 * comfort noise (small packets every frame) or, with DTX, one packet per
 * 400 ms. Video and screen: a frame per 1/fps cut in packets of at most
 * LD_VIDEO_PAYLOAD bytes, the marker bit on its last one; each packet's
 * payload starts with a VP8 prefix (RFC 7741 descriptor, the RFC 6386
 * frame tag on a frame's first packet) so that a forwarder finds
 * keyframes as in real VP8. */
#include "tools/load/load.h"

#include <errno.h>
#include <string.h>

#define AUDIO_EXT_LEN 8 /* 0xBEDE, length 1, one element of 1 byte, 2 padding */

void ld_gen_init(const struct ld_stream *s, struct ld_gen *g, uint64_t start_ns)
{
	memset(g, 0, sizeof(*g));
	g->period_ns = s->kind == LD_AUDIO ? LD_PTIME_NS : 1000000000ull / s->fps;
	/* Spread the streams' events over one period. */
	g->next_ns = start_ns + ld_mix(s->ssrc, 0x6f666673u) % g->period_ns;
	g->seq = s->seq0;
}

void ld_gen_plan(const struct ld_scenario *sc, const struct ld_stream *s, const struct ld_gen *g,
		 struct ld_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (s->kind == LD_AUDIO) {
		const struct ld_conf *c = &sc->conf;
		uint32_t slot = s->part % sc->parts_per_room;
		ev->talking = ld_talking(c, s->room, slot, g->event);
		ev->ts = s->ts0 + g->event * LD_AUDIO_TS_STEP;
		ev->level = ld_audio_level(s->ssrc, g->event, ev->talking);
		ev->bytes = ld_audio_bytes(s->ssrc, g->event, ev->talking);
		/* DTX: after a talk spurt's first silent frame, one per 400 ms. */
		bool send = ev->talking || !c->dtx || g->talking || g->event % LD_DTX_EVERY == 0;
		ev->npkts = send ? 1 : 0;
		ev->marker_first = g->index == 0 || (ev->talking && !g->talking);
		return;
	}
	ev->bytes = ld_frame_bytes(s, g->event, &ev->key);
	ev->npkts = ld_frame_packets(ev->bytes);
	ev->ts = s->ts0 + (uint32_t)((uint64_t)g->event * s->clock_rate / s->fps);
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

/* Bytes of the RFC 6386 frame tag and of a keyframe's start code and size. */
#define VP8_TAG_LEN 3
#define VP8_KEY_HDR 7

void ld_vp8_write(uint8_t *p, bool first, bool key, uint32_t frame_bytes, uint16_t width,
		  uint16_t height)
{
	/* Descriptor: X=0, N=0, S on the first packet, PID 0. */
	p[0] = first ? 0x10 : 0x00;
	if (!first) {
		ld_payload_fill(p, 1, LD_VP8_PREFIX); /* more of the partition */
		return;
	}
	/* Frame tag, little-endian: bit 0 P (0: keyframe), bits 1-3 version 0,
	 * bit 4 show_frame, bits 5-23 the first partition's size. */
	uint32_t part = frame_bytes / 8 & 0x7ffffu;
	uint32_t tag = (key ? 0u : 1u) | 1u << 4 | part << 5;
	p[1] = (uint8_t)tag;
	p[2] = (uint8_t)(tag >> 8);
	p[3] = (uint8_t)(tag >> 16);
	if (!key) {
		ld_payload_fill(p, 1 + VP8_TAG_LEN, LD_VP8_PREFIX);
		return;
	}
	p[4] = 0x9d;
	p[5] = 0x01;
	p[6] = 0x2a;
	/* 14 bits of size, 2 of scale (0), little-endian. */
	p[7] = (uint8_t)width;
	p[8] = (uint8_t)((width >> 8) & 0x3f);
	p[9] = (uint8_t)height;
	p[10] = (uint8_t)((height >> 8) & 0x3f);
}

int ld_vp8_parse(const uint8_t *b, size_t len, struct ld_vp8 *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -ENODATA;
	size_t n = 1;
	if (b[0] & 0x80) { /* X: the extension octet and what it announces */
		if (len < 2)
			return -ENODATA;
		uint8_t x = b[1];
		n = 2;
		if (x & 0x80) { /* I: PictureID, 7 or 15 bits (M) */
			if (len < n + 1)
				return -ENODATA;
			n += b[n] & 0x80 ? 2 : 1;
		}
		if (x & 0x40) /* L: TL0PICIDX */
			n++;
		if (x & 0x30) /* T or K: TID/Y/KEYIDX */
			n++;
		if (len < n)
			return -ENODATA;
	}
	out->hdr_len = n;
	out->start = (b[0] & 0x10) && (b[0] & 0x07) == 0;
	if (!out->start)
		return 0;
	if (len < n + VP8_TAG_LEN)
		return -ENODATA;
	out->key = (b[n] & 0x01) == 0;
	if (!out->key)
		return 0;
	const uint8_t *k = b + n + VP8_TAG_LEN;
	if (len < n + VP8_TAG_LEN + VP8_KEY_HDR)
		return -ENODATA;
	if (k[0] != 0x9d || k[1] != 0x01 || k[2] != 0x2a)
		return -EBADMSG;
	out->width = (uint16_t)((k[3] | k[4] << 8) & 0x3fff);
	out->height = (uint16_t)((k[5] | k[6] << 8) & 0x3fff);
	return 0;
}

int ld_gen_packet(const struct ld_scenario *sc, const struct ld_stream *s, struct ld_gen *g,
		  const struct ld_event *ev, uint32_t k, uint8_t phase, uint64_t send_ns,
		  uint8_t *buf, size_t cap)
{
	bool audio = s->kind == LD_AUDIO;
	if (k >= ev->npkts || cap < LD_RTP_MAX)
		return -EINVAL;
	uint32_t plen = audio ? ev->bytes : ld_frame_packet_bytes(ev->bytes, ev->npkts, k);
	size_t pre = audio ? 0 : LD_VP8_PREFIX;
	if (plen < pre + LD_TAG_LEN || plen > LD_VIDEO_PAYLOAD)
		return -EINVAL;
	bool marker = audio ? ev->marker_first : k + 1 == ev->npkts;
	buf[0] = (uint8_t)(0x80 | (audio ? 0x10 : 0)); /* V=2, X for the audio level */
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | s->pt);
	put16(buf + 2, g->seq);
	put32(buf + 4, ev->ts);
	put32(buf + 8, s->ssrc);
	size_t off = RTP_HEADER_MIN;
	if (audio) {
		uint8_t *x = buf + off;
		put16(x, RTP_EXT_PROFILE_ONE_BYTE);
		put16(x + 2, 1); /* one 32-bit word */
		x[4] = (uint8_t)(sc->conf.audio_level_id << 4); /* len - 1 = 0: one byte */
		x[5] = (uint8_t)((ev->talking ? 0x80 : 0) | (ev->level & 0x7f)); /* V, level */
		x[6] = x[7] = 0;
		off += AUDIO_EXT_LEN;
	}
	uint8_t *pl = buf + off;
	if (!audio)
		ld_vp8_write(pl, k == 0, ev->key, ev->bytes, s->width, s->height);
	ld_payload_fill(pl, pre + LD_TAG_LEN, plen);
	struct ld_tag t = {
		.phase = phase,
		.flags = ev->key ? LD_TAG_KEY : 0,
		.stream = s->id,
		.index = g->index,
		.send_ns = send_ns,
	};
	ld_tag_write_at(pl, plen, pre, &t);
	g->seq++;
	g->index++;
	return (int)(off + plen);
}

void ld_gen_advance(const struct ld_stream *s, struct ld_gen *g, const struct ld_event *ev)
{
	if (s->kind == LD_AUDIO)
		g->talking = ev->talking;
	g->event++;
	g->next_ns += g->period_ns;
}
