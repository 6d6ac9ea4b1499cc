/* The packet generator: what each stream sends at each of its events and
 * the RTP packets themselves, written into a caller's buffer (no
 * allocation). Audio: one Opus-like packet per 20 ms frame with the RFC
 * 6464 audio level in a one-byte RFC 8285 header extension; silence is
 * comfort noise (small packets every frame) or, with DTX, one packet per
 * 400 ms. Video and screen: a frame per 1/fps cut in packets of at most
 * LD_VIDEO_PAYLOAD bytes, the marker bit on its last one. */
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

int ld_gen_packet(const struct ld_scenario *sc, const struct ld_stream *s, struct ld_gen *g,
		  const struct ld_event *ev, uint32_t k, uint8_t phase, uint64_t send_ns,
		  uint8_t *buf, size_t cap)
{
	bool audio = s->kind == LD_AUDIO;
	if (k >= ev->npkts || cap < LD_RTP_MAX)
		return -EINVAL;
	uint32_t plen = audio ? ev->bytes : ld_frame_packet_bytes(ev->bytes, ev->npkts, k);
	if (plen < LD_TAG_LEN || plen > LD_VIDEO_PAYLOAD)
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
	ld_payload_fill(pl, LD_TAG_LEN, plen);
	struct ld_tag t = {
		.phase = phase,
		.flags = ev->key ? LD_TAG_KEY : 0,
		.stream = s->id,
		.index = g->index,
		.send_ns = send_ns,
	};
	ld_tag_write(pl, plen, &t);
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
