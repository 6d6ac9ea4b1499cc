/* The scenario: rooms, participants and their streams, the talk model and
 * the sizes of audio and video frames. Everything is a function of the
 * configuration and of (SSRC, frame number), so the generator, the checker
 * and the unit tests agree without sharing state. */
#include "tools/load/load.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSRC_BASE 0x6c000000u
/* RTX SSRCs: the same low 24 bits in a range of their own, so that no
 * retransmission SSRC equals a media SSRC. */
#define RTX_SSRC_BASE 0x6d000000u

/* A 32-bit hash of two words (murmur3's finaliser over a mix). */
uint32_t ld_mix(uint32_t a, uint32_t b)
{
	uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u + (a << 6) + (a >> 2));
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

void ld_conf_defaults(struct ld_conf *c)
{
	*c = (struct ld_conf){
		.rooms = 2, .participants = 4,
		.fps = 30, .video_kbps = 800,
		.screen_fps = 5, .screen_kbps = 1500,
		.keyframe_interval = 3.0, .keyframe_factor = 5,
		.speakers = 2, .turn = 3.0,
		.audio_level_id = 1,
		.seed = 1,
		.last_n = -1, .video_last_n = -1, .max_layer = -1,
		.settle = 2.5,
	};
}

const char *ld_kind_name(enum ld_kind k)
{
	static const char *const names[LD_KINDS] = {"audio", "video", "screen"};
	return (unsigned)k < LD_KINDS ? names[k] : "?";
}

static uint32_t gop_of(double interval, uint32_t fps)
{
	double g = interval * fps + 0.5;
	return g < 1 ? 1 : (uint32_t)g;
}

/* Delta and key frame bytes such that a GOP averages kbps. */
static void frame_sizes(uint32_t kbps, uint32_t fps, uint32_t gop, uint32_t factor,
			uint32_t *key, uint32_t *delta)
{
	double gop_bytes = (double)kbps * 1000.0 / 8.0 * gop / fps;
	double d = gop_bytes / (gop - 1 + factor);
	if (gop == 1)
		d = gop_bytes / factor;
	*delta = d < LD_MIN_FRAME ? LD_MIN_FRAME : (uint32_t)d;
	*key = *delta * factor;
}

int ld_conf_check(const struct ld_conf *c, char *err, size_t errlen)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)
	if (c->rooms < 1 || c->rooms > 10000)
		BAD("--rooms must be 1..10000");
	if (c->participants < (c->reflect ? 1 : 2) || c->participants > 100)
		BAD("--participants must be %d..100 (a room holds at most 100)", c->reflect ? 1 : 2);
	if ((long)c->rooms * c->participants > 20000)
		BAD("at most 20000 participants in all (rooms x participants)");
	if (c->fps < 1 || c->fps > 120 || c->screen_fps < 1 || c->screen_fps > 60)
		BAD("--fps must be 1..120, --screen-fps 1..60");
	if (c->video_kbps < 16 || c->video_kbps > 50000 || c->screen_kbps < 16 ||
	    c->screen_kbps > 50000)
		BAD("--video-kbps and --screen-kbps must be 16..50000");
	if (!(c->keyframe_interval >= 0.1 && c->keyframe_interval <= 600))
		BAD("--keyframe-interval must be 0.1..600 seconds");
	if (c->keyframe_factor < 1 || c->keyframe_factor > 50)
		BAD("--keyframe-factor must be 1..50");
	if (c->speakers < 0 || c->speakers > c->participants)
		BAD("--speakers must be 0..participants");
	if (!(c->turn >= 0.02 && c->turn <= 3600))
		BAD("--turn must be 0.02..3600 seconds");
	if (c->audio_level_id < 1 || c->audio_level_id > 14)
		BAD("--audio-level-id must be 1..14 (RFC 8285 one-byte form)");
	if (c->last_n > 100 || c->video_last_n > 100)
		BAD("--last-n and --video-last-n must be 0..100");
	if (c->max_layer > LD_LAYERS - 1)
		BAD("--max-layer must be 0..%d", LD_LAYERS - 1);
	if (c->rtx_pt && (c->rtx_pt < 96 || c->rtx_pt > 127 || c->rtx_pt == LD_AUDIO_PT ||
			  c->rtx_pt == LD_VIDEO_PT || c->rtx_pt == LD_SCREEN_PT))
		BAD("--rtx-pt must be 96..127 and not a media PT (%d, %d, %d)", LD_VIDEO_PT,
		    LD_SCREEN_PT, LD_AUDIO_PT);
	if (!(c->settle >= 0 && c->settle < c->turn) && (c->last_n > 0 || c->video_last_n > 0))
		BAD("--settle (%.2f s) must be below --turn (%.2f s): the time a turn's speakers "
		    "take to be forwarded", c->settle, c->turn);
	uint32_t key, delta;
	frame_sizes((uint32_t)c->video_kbps, (uint32_t)c->fps,
		    gop_of(c->keyframe_interval, (uint32_t)c->fps), (uint32_t)c->keyframe_factor,
		    &key, &delta);
	uint32_t skey, sdelta;
	frame_sizes((uint32_t)c->screen_kbps, (uint32_t)c->screen_fps,
		    gop_of(c->keyframe_interval, (uint32_t)c->screen_fps),
		    (uint32_t)c->keyframe_factor, &skey, &sdelta);
	if ((c->video && ld_frame_packets(key + key / 10) > LD_MAX_FRAME_PKTS) ||
	    (c->screen && ld_frame_packets(skey + skey / 10) > LD_MAX_FRAME_PKTS))
		BAD("a keyframe would need more than %u packets: lower the bitrate or the "
		    "keyframe interval or factor", LD_MAX_FRAME_PKTS);
	return 0;
#undef BAD
}

static void stream_video(struct ld_stream *st, enum ld_kind kind, uint32_t kbps, uint32_t fps,
			 const struct ld_conf *c)
{
	st->kind = (uint8_t)kind;
	st->pt = kind == LD_SCREEN ? LD_SCREEN_PT : LD_VIDEO_PT;
	st->clock_rate = LD_VIDEO_RATE;
	st->kbps = kbps;
	st->fps = fps;
	st->gop = gop_of(c->keyframe_interval, fps);
	frame_sizes(kbps, fps, st->gop, (uint32_t)c->keyframe_factor, &st->key_bytes,
		    &st->delta_bytes);
	st->phase = ld_mix(st->ssrc, 0x6b657931u) % st->gop;
	st->rtx_ssrc = RTX_SSRC_BASE + (st->ssrc & 0x00ffffffu);
}

int ld_scenario_build(struct ld_scenario *sc, const struct ld_conf *c)
{
	memset(sc, 0, sizeof(*sc));
	sc->conf = *c;
	sc->parts_per_room = (uint32_t)c->participants;
	sc->n_parts = (uint32_t)c->rooms * sc->parts_per_room;
	uint32_t cam = c->video ? (c->simulcast ? LD_LAYERS : 1) : 0;
	/* Slot 0 of every room also shares its screen: all rooms stay alike. */
	sc->streams_per_room = sc->parts_per_room * (1 + cam) + (c->screen ? 1 : 0);
	sc->n_streams = (uint32_t)c->rooms * sc->streams_per_room;
	sc->streams = calloc(sc->n_streams, sizeof(*sc->streams));
	sc->part_first = calloc(sc->n_parts + 1, sizeof(*sc->part_first));
	if (!sc->streams || !sc->part_first) {
		ld_scenario_free(sc);
		return -ENOMEM;
	}
	uint32_t id = 0;
	for (uint32_t p = 0; p < sc->n_parts; p++) {
		uint32_t room = p / sc->parts_per_room, slot = p % sc->parts_per_room;
		sc->part_first[p] = id;
		uint32_t n = 1 + cam + (c->screen && slot == 0 ? 1 : 0);
		for (uint32_t k = 0; k < n; k++, id++) {
			struct ld_stream *st = &sc->streams[id];
			st->id = id;
			st->ssrc = SSRC_BASE + ((c->seed * 65537u + id + 1u) & 0x00ffffffu);
			st->part = p;
			st->room = room;
			st->room_slot = id - room * sc->streams_per_room;
			st->seq0 = (uint16_t)(ld_mix(st->ssrc, 0x73657130u) & 0x7fffu);
			st->ts0 = ld_mix(st->ssrc, 0x74733030u);
			if (k == 0) {
				st->kind = LD_AUDIO;
				st->pt = LD_AUDIO_PT;
				st->clock_rate = LD_AUDIO_RATE;
			} else if (k <= cam) {
				uint32_t layer = c->simulcast ? k - 1 : LD_LAYERS - 1;
				uint32_t kbps = (uint32_t)c->video_kbps >> (LD_LAYERS - 1 - layer);
				stream_video(st, LD_VIDEO, kbps ? kbps : 1, (uint32_t)c->fps, c);
				st->layer = (uint8_t)(c->simulcast ? layer : 0);
				/* 1280x720 at full rate, halved per layer below. */
				st->width = (uint16_t)(1280u >> (LD_LAYERS - 1 - layer));
				st->height = (uint16_t)(720u >> (LD_LAYERS - 1 - layer));
			} else {
				stream_video(st, LD_SCREEN, (uint32_t)c->screen_kbps,
					     (uint32_t)c->screen_fps, c);
				st->width = 1920;
				st->height = 1080;
			}
		}
	}
	sc->part_first[sc->n_parts] = id;
	return id == sc->n_streams ? 0 : -EINVAL;
}

void ld_scenario_free(struct ld_scenario *sc)
{
	free(sc->streams);
	free(sc->part_first);
	sc->streams = NULL;
	sc->part_first = NULL;
}

bool ld_talking(const struct ld_conf *c, uint32_t room, uint32_t slot, uint32_t tick)
{
	uint32_t P = (uint32_t)c->participants;
	uint32_t per_turn = (uint32_t)(c->turn * 1e9 / (double)LD_PTIME_NS + 0.5);
	if (per_turn == 0)
		per_turn = 1;
	uint32_t first = (tick / per_turn + room) % P;
	return (slot + P - first) % P < (uint32_t)c->speakers;
}

uint8_t ld_audio_level(uint32_t ssrc, uint32_t tick, bool talking)
{
	uint32_t h = ld_mix(ssrc, tick);
	if (!talking)
		return (uint8_t)(90 + h % 38); /* 90..127 */
	/* A syllable every 10 frames: loud at its start, fading. */
	return (uint8_t)(25 + (tick % 10) * 2 + h % 3); /* 25..45 */
}

uint32_t ld_audio_bytes(uint32_t ssrc, uint32_t tick, bool talking)
{
	uint32_t h = ld_mix(ssrc ^ 0x55aa55aau, tick);
	if (talking)
		return LD_TALK_MIN + h % (LD_TALK_MAX - LD_TALK_MIN + 1);
	return LD_CN_MIN + h % (LD_CN_MAX - LD_CN_MIN + 1);
}

uint32_t ld_frame_bytes(const struct ld_stream *s, uint32_t frame, bool *key)
{
	*key = (frame + s->phase) % s->gop == 0;
	if (*key)
		return s->key_bytes;
	/* Delta frames vary by +-10 % around their mean. */
	uint32_t b = (uint32_t)((uint64_t)s->delta_bytes * (90 + ld_mix(s->ssrc, frame) % 21) / 100);
	return b < LD_MIN_FRAME ? LD_MIN_FRAME : b;
}

uint32_t ld_frame_packets(uint32_t frame_bytes)
{
	uint32_t n = (frame_bytes + LD_VIDEO_PAYLOAD - 1) / LD_VIDEO_PAYLOAD;
	return n ? n : 1;
}

uint32_t ld_frame_packet_bytes(uint32_t frame_bytes, uint32_t npkts, uint32_t k)
{
	/* Equal shares; the first frame_bytes % npkts packets one byte more. */
	return frame_bytes / npkts + (k < frame_bytes % npkts ? 1 : 0);
}
