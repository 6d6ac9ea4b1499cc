/* Unit tests of mmload's scenario and generator (tools/load/scenario.c,
 * gen.c, payload.c, sched.c): stream layout, audio packets (sizes, talk
 * pattern, RFC 6464 audio level parsed with dataplane/proto's RFC 8285
 * parser, DTX), video frames (packets, marker bits, keyframe sizes,
 * bitrate), simulcast layers, the payload tag and checksum, the schedule,
 * VP8-shaped video payloads (RFC 7741 descriptor, RFC 6386 frame tag and
 * keyframe header) and their parser on good and broken input. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/load/load.h"

static struct ld_scenario build(struct ld_conf *c)
{
	struct ld_scenario sc;
	char err[256] = "";
	cr_assert_eq(ld_conf_check(c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ld_scenario_build(&sc, c), 0);
	return sc;
}

/* Packet k of the stream's next event, parsed; returns the tag. */
static struct ld_tag next_packet(const struct ld_scenario *sc, const struct ld_stream *s,
				 struct ld_gen *g, const struct ld_event *ev, uint32_t k,
				 uint8_t *buf, struct rtp_header *h)
{
	int n = ld_gen_packet(sc, s, g, ev, k, LD_PHASE_EXPECTED, 1234567890123ull + k, buf,
			      LD_PKT_BUF);
	cr_assert_gt(n, 0);
	cr_assert_leq((size_t)n, LD_RTP_MAX);
	cr_assert_eq(rtp_parse(buf, (size_t)n, h), 0);
	struct ld_tag t;
	cr_assert_eq(ld_tag_read(h->payload, h->payload_len, &t), 0);
	cr_assert_eq(t.stream, s->id);
	cr_assert_eq(t.send_ns, 1234567890123ull + k);
	cr_assert_eq(h->ssrc, s->ssrc);
	cr_assert_eq(h->payload_type, s->pt);
	return t;
}

Test(load_scenario, layout)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.rooms = 3;
	c.participants = 5;
	c.video = c.simulcast = c.screen = true;
	struct ld_scenario sc = build(&c);
	cr_assert_eq(sc.streams_per_room, 5 * 4 + 1);
	cr_assert_eq(sc.n_streams, 3 * 21);
	cr_assert_eq(sc.n_parts, 15);
	for (uint32_t p = 0; p < sc.n_parts; p++) {
		uint32_t n = sc.part_first[p + 1] - sc.part_first[p];
		cr_assert_eq(n, p % 5 == 0 ? 5u : 4u, "participant %u has %u streams", p, n);
		const struct ld_stream *s = &sc.streams[sc.part_first[p]];
		cr_assert_eq(s[0].kind, LD_AUDIO);
		for (uint32_t l = 0; l < 3; l++) {
			cr_assert_eq(s[1 + l].kind, LD_VIDEO);
			cr_assert_eq(s[1 + l].layer, l);
			cr_assert_eq(s[1 + l].kbps, 800u >> (2 - l)); /* 200, 400, 800 */
		}
		if (n == 5)
			cr_assert_eq(s[4].kind, LD_SCREEN);
	}
	for (uint32_t i = 0; i < sc.n_streams; i++) {
		const struct ld_stream *s = &sc.streams[i];
		cr_assert_eq(s->id, i);
		cr_assert_eq(s->room, s->part / 5);
		cr_assert_eq(s->room * sc.streams_per_room + s->room_slot, i);
		for (uint32_t j = 0; j < i; j++)
			cr_assert_neq(sc.streams[j].ssrc, s->ssrc, "SSRC %u twice", s->ssrc);
	}
	ld_scenario_free(&sc);
}

Test(load_scenario, talk_pattern)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.participants = 6;
	c.speakers = 2;
	c.turn = 1.0; /* 50 frames */
	uint32_t talked[6] = {0};
	for (uint32_t tick = 0; tick < 6 * 50; tick++) {
		int n0 = 0, same = 0;
		for (uint32_t s = 0; s < 6; s++) {
			bool t0 = ld_talking(&c, 0, s, tick), t1 = ld_talking(&c, 1, s, tick);
			n0 += t0;
			talked[s] += t0;
			same += t0 && t1;
		}
		cr_assert_eq(n0, 2, "tick %u: %d talking", tick, n0);
		cr_assert_lt(same, 2, "rooms 0 and 1 in step at tick %u", tick);
		/* The floor holds for a whole turn. */
		if (tick % 50)
			for (uint32_t s = 0; s < 6; s++)
				cr_assert_eq(ld_talking(&c, 0, s, tick), ld_talking(&c, 0, s, tick - 1));
	}
	for (uint32_t s = 0; s < 6; s++)
		cr_assert_eq(talked[s], 2 * 50, "slot %u talked %u frames", s, talked[s]);
}

Test(load_gen, audio_packets_and_level)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.participants = 3;
	c.speakers = 1;
	c.turn = 0.2; /* 10 frames */
	c.audio_level_id = 5;
	struct ld_scenario sc = build(&c);
	const struct ld_stream *s = &sc.streams[sc.part_first[1]];
	struct ld_gen g;
	ld_gen_init(s, &g, 1000);
	cr_assert_geq(g.next_ns, 1000);
	cr_assert_lt(g.next_ns, 1000 + LD_PTIME_NS);
	uint8_t buf[LD_PKT_BUF] __attribute__((aligned(16)));
	uint16_t seq = s->seq0;
	int markers = 0, spurts = 0;
	bool prev_talk = false;
	for (uint32_t tick = 0; tick < 300; tick++) {
		struct ld_event ev;
		struct rtp_header h;
		ld_gen_plan(&sc, s, &g, &ev);
		cr_assert_eq(ev.npkts, 1);
		cr_assert_eq(ev.talking, ld_talking(&c, 0, 1, tick));
		struct ld_tag t = next_packet(&sc, s, &g, &ev, 0, buf, &h);
		cr_assert_eq(t.index, tick);
		cr_assert_eq(h.seq, seq++);
		cr_assert_eq(h.timestamp, s->ts0 + tick * 960u);
		if (ev.talking)
			cr_assert(h.payload_len >= 60 && h.payload_len <= 120, "%zu", h.payload_len);
		else
			cr_assert(h.payload_len >= 24 && h.payload_len <= 32, "%zu", h.payload_len);
		struct rtp_ext_elem e;
		cr_assert_eq(h.ext_profile, RTP_EXT_PROFILE_ONE_BYTE);
		cr_assert_eq(rtp_ext_find(&h, 5, &e), 1);
		cr_assert_eq(e.len, 1);
		cr_assert_eq(e.data[0] >> 7, ev.talking ? 1 : 0, "voice activity bit");
		uint8_t level = e.data[0] & 0x7f;
		cr_assert_eq(level, ld_audio_level(s->ssrc, tick, ev.talking));
		if (ev.talking)
			cr_assert(level >= 25 && level <= 45);
		else
			cr_assert(level >= 90 && level <= 127);
		cr_assert_eq(rtp_ext_find(&h, 1, &e), 0);
		markers += h.marker;
		cr_assert_eq(h.marker, tick == 0 || (ev.talking && !prev_talk));
		spurts += ev.talking && !prev_talk;
		prev_talk = ev.talking;
		ld_gen_advance(s, &g, &ev);
	}
	cr_assert_eq(spurts, 10, "talk spurts: %d", spurts); /* 1 turn in 3, 30 turns */
	cr_assert_eq(markers, spurts + 1);
	cr_assert_eq(g.next_ns - 300 * LD_PTIME_NS < 1000 + LD_PTIME_NS, true);
	ld_scenario_free(&sc);
}

Test(load_gen, dtx_sends_one_silent_frame_in_twenty)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.speakers = 0;
	c.dtx = true;
	struct ld_scenario sc = build(&c);
	const struct ld_stream *s = &sc.streams[0];
	struct ld_gen g;
	ld_gen_init(s, &g, 0);
	uint32_t sent = 0;
	uint8_t buf[LD_PKT_BUF] __attribute__((aligned(16)));
	for (uint32_t tick = 0; tick < 200; tick++) {
		struct ld_event ev;
		ld_gen_plan(&sc, s, &g, &ev);
		cr_assert_eq(ev.npkts, tick % 20 == 0 ? 1u : 0u, "tick %u", tick);
		if (ev.npkts) {
			struct rtp_header h;
			struct ld_tag t = next_packet(&sc, s, &g, &ev, 0, buf, &h);
			cr_assert_eq(t.index, sent++); /* indexes count packets, not frames */
			cr_assert_eq(h.timestamp, s->ts0 + tick * 960u);
		}
		ld_gen_advance(s, &g, &ev);
	}
	cr_assert_eq(sent, 10);
	ld_scenario_free(&sc);
}

Test(load_gen, video_frames_keyframes_and_bitrate)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.video = true; /* 30 fps, 800 kbit/s, keyframe every 3 s, 5 x a delta frame */
	struct ld_scenario sc = build(&c);
	const struct ld_stream *s = &sc.streams[1];
	cr_assert_eq(s->kind, LD_VIDEO);
	cr_assert_eq(s->gop, 90);
	cr_assert_eq(s->key_bytes, 5 * s->delta_bytes);
	struct ld_gen g;
	ld_gen_init(s, &g, 0);
	uint8_t buf[LD_PKT_BUF] __attribute__((aligned(16)));
	uint64_t bytes = 0;
	uint32_t keys = 0, index = 0;
	for (uint32_t f = 0; f < 2 * 90; f++) {
		struct ld_event ev;
		ld_gen_plan(&sc, s, &g, &ev);
		cr_assert_eq(ev.key, (f + s->phase) % 90 == 0);
		keys += ev.key;
		if (ev.key)
			cr_assert_eq(ev.bytes, s->key_bytes);
		else
			cr_assert(ev.bytes >= s->delta_bytes * 9 / 10 - 1 &&
				  ev.bytes <= s->delta_bytes * 11 / 10 + 1);
		cr_assert_eq(ev.npkts, (ev.bytes + 1199) / 1200);
		uint32_t sum = 0;
		for (uint32_t k = 0; k < ev.npkts; k++) {
			struct rtp_header h;
			struct ld_tag t = next_packet(&sc, s, &g, &ev, k, buf, &h);
			cr_assert_leq(h.payload_len, 1200);
			cr_assert_eq(h.marker, k + 1 == ev.npkts, "marker on the last packet only");
			cr_assert_eq(h.timestamp, s->ts0 + f * 3000u);
			cr_assert_eq(h.extension, 0);
			cr_assert_eq(t.index, index++);
			cr_assert_eq(t.flags & LD_TAG_KEY, ev.key ? LD_TAG_KEY : 0);
			sum += (uint32_t)h.payload_len;
		}
		cr_assert_eq(sum, ev.bytes);
		bytes += ev.bytes;
		ld_gen_advance(s, &g, &ev);
	}
	cr_assert_eq(keys, 2);
	double kbps = (double)bytes * 8 / 6.0 / 1000.0; /* 180 frames = 6 s */
	cr_assert(kbps > 800 * 0.95 && kbps < 800 * 1.05, "%.1f kbit/s", kbps);
	/* A keyframe of 5 x ~3.3 KB needs several packets. */
	cr_assert_gt(ld_frame_packets(s->key_bytes), 10);
	ld_scenario_free(&sc);
}

Test(load_gen, screen_stream)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.screen = true;
	c.screen_fps = 5;
	c.screen_kbps = 1000;
	struct ld_scenario sc = build(&c);
	const struct ld_stream *s = &sc.streams[1];
	cr_assert_eq(s->kind, LD_SCREEN);
	cr_assert_eq(s->pt, LD_SCREEN_PT);
	cr_assert_eq(s->gop, 15);
	struct ld_gen g;
	ld_gen_init(s, &g, 0);
	cr_assert_eq(g.period_ns, 200000000ull);
	ld_scenario_free(&sc);
}

Test(load_payload, checksum_catches_every_byte)
{
	uint8_t p[300];
	ld_payload_fill(p, LD_TAG_LEN, sizeof(p));
	struct ld_tag t = {.phase = LD_PHASE_UNCERTAIN, .flags = LD_TAG_KEY, .stream = 77,
			   .index = 123456, .send_ns = 0x0123456789abcdefull}, u;
	ld_tag_write(p, sizeof(p), &t);
	cr_assert_eq(ld_tag_read(p, sizeof(p), &u), 0);
	cr_assert(u.phase == t.phase && u.flags == t.flags && u.stream == t.stream &&
		  u.index == t.index && u.send_ns == t.send_ns);
	for (size_t i = 2; i < sizeof(p); i++) {
		p[i] ^= 0x10;
		cr_assert_eq(ld_tag_read(p, sizeof(p), &u), -EBADMSG, "byte %zu", i);
		p[i] ^= 0x10;
	}
	cr_assert_eq(ld_tag_read(p, sizeof(p) - 1, &u), -EBADMSG, "cut short");
	p[0] ^= 1;
	cr_assert_eq(ld_tag_read(p, sizeof(p), &u), -EPROTO);
	cr_assert_eq(ld_tag_read(p, 20, &u), -EPROTO);
}

Test(load_conf, refuses_bad_values)
{
	struct ld_conf c;
	char err[256];
	ld_conf_defaults(&c);
	cr_assert_eq(ld_conf_check(&c, err, sizeof(err)), 0);
	struct ld_conf bad[6];
	for (int i = 0; i < 6; i++)
		bad[i] = c;
	bad[0].participants = 1;
	bad[1].participants = 101;
	bad[2].audio_level_id = 15;
	bad[3].speakers = 5;
	bad[4].video = true, bad[4].video_kbps = 50000, bad[4].fps = 1, bad[4].keyframe_interval = 60;
	bad[5].rooms = 300, bad[5].participants = 100;
	for (int i = 0; i < 6; i++)
		cr_assert_eq(ld_conf_check(&bad[i], err, sizeof(err)), -EINVAL, "case %d", i);
}

Test(load_sched, pops_in_time_order)
{
	struct ld_sched s;
	cr_assert_eq(ld_sched_init(&s, 2), 0);
	srand(7);
	for (uint32_t i = 0; i < 1000; i++)
		cr_assert_eq(ld_sched_push(&s, (uint64_t)rand() % 100000, i), 0);
	struct ld_sched_item it;
	uint64_t last = 0;
	/* Retime half of them to the future, then drain. */
	for (int i = 0; i < 500; i++) {
		cr_assert(ld_sched_top(&s, &it));
		cr_assert_geq(it.at, last);
		last = it.at;
		ld_sched_retime(&s, it.at + 200000);
	}
	last = 0;
	uint32_t n = 0;
	while (ld_sched_top(&s, &it)) {
		cr_assert_geq(it.at, last);
		last = it.at;
		ld_sched_pop(&s);
		n++;
	}
	cr_assert_eq(n, 1000);
	ld_sched_free(&s);
}

/* Every video and screen packet: a VP8 descriptor with S on a frame's
 * first packet only, the frame tag's P bit 0 on a keyframe's first packet
 * with the start code and the layer's size, 1 on a delta frame's; the tag
 * after the 11-byte prefix; the checksum covering the prefix. */
Test(load_vp8, generator_writes_descriptor_and_keyframe_header)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.video = c.simulcast = c.screen = true;
	c.keyframe_interval = 0.5;
	struct ld_scenario sc = build(&c);
	uint8_t buf[LD_PKT_BUF] __attribute__((aligned(16)));
	static const uint16_t w[3] = {320, 640, 1280}, hgt[3] = {180, 360, 720};
	for (uint32_t id = 1; id <= 4; id++) { /* participant 0: 3 layers and the screen */
		const struct ld_stream *s = &sc.streams[id];
		cr_assert_neq(s->kind, LD_AUDIO);
		struct ld_gen g;
		ld_gen_init(s, &g, 0);
		uint32_t keys = 0, deltas = 0;
		for (uint32_t f = 0; f < 40; f++) {
			struct ld_event ev;
			ld_gen_plan(&sc, s, &g, &ev);
			for (uint32_t k = 0; k < ev.npkts; k++) {
				struct rtp_header h;
				struct ld_tag t = next_packet(&sc, s, &g, &ev, k, buf, &h);
				struct ld_vp8 v;
				cr_assert_eq(ld_vp8_parse(h.payload, h.payload_len, &v), 0);
				cr_assert_eq(v.hdr_len, 1);
				cr_assert_eq(v.start, k == 0, "S on the first packet only");
				cr_assert_eq(h.payload[0] & 0x07, 0, "PID 0");
				cr_assert_eq(v.key, k == 0 && ev.key);
				cr_assert_eq(h.payload[LD_VP8_PREFIX], 0x4d, "tag at offset 11");
				cr_assert_eq(t.flags & LD_TAG_KEY, ev.key ? LD_TAG_KEY : 0);
				if (k == 0 && ev.key) {
					keys++;
					cr_assert_eq(h.payload[1] & 1, 0, "P bit 0");
					cr_assert_eq(h.payload[4], 0x9d);
					cr_assert_eq(h.payload[5], 0x01);
					cr_assert_eq(h.payload[6], 0x2a);
					cr_assert_eq(v.width, s->kind == LD_SCREEN ? 1920 : w[s->layer]);
					cr_assert_eq(v.height, s->kind == LD_SCREEN ? 1080 : hgt[s->layer]);
				} else if (k == 0) {
					deltas++;
					cr_assert_eq(h.payload[1] & 1, 1, "P bit 1");
					cr_assert_eq(h.payload[1] & 0x10, 0x10, "show_frame");
				}
			}
			ld_gen_advance(s, &g, &ev);
		}
		cr_assert_gt(keys, 0, "stream %u", id);
		cr_assert_gt(deltas, 0, "stream %u", id);
	}
	/* Audio keeps its tag at offset 0, no prefix. */
	struct ld_gen g;
	ld_gen_init(&sc.streams[0], &g, 0);
	struct ld_event ev;
	ld_gen_plan(&sc, &sc.streams[0], &g, &ev);
	struct rtp_header h;
	next_packet(&sc, &sc.streams[0], &g, &ev, 0, buf, &h);
	cr_assert_eq(h.payload[0], 0x4d);
	ld_scenario_free(&sc);
}

Test(load_vp8, checksum_covers_the_prefix)
{
	uint8_t p[200];
	ld_vp8_write(p, true, true, 5000, 640, 360);
	ld_payload_fill(p, LD_VP8_PREFIX + LD_TAG_LEN, sizeof(p));
	struct ld_tag t = {.stream = 9, .index = 3, .send_ns = 42}, r;
	ld_tag_write_at(p, sizeof(p), LD_VP8_PREFIX, &t);
	cr_assert_eq(ld_tag_read(p, sizeof(p), &r), 0);
	cr_assert_eq(r.stream, 9);
	cr_assert_eq(r.index, 3);
	for (size_t i = 0; i < sizeof(p); i++) {
		p[i] ^= 0x04;
		int rc = ld_tag_read(p, sizeof(p), &r);
		cr_assert(rc == -EBADMSG || rc == -EPROTO, "byte %zu: %d", i, rc);
		p[i] ^= 0x04;
	}
	/* Too short for a prefix and a tag: not ours. */
	cr_assert_eq(ld_tag_read(p, LD_VP8_PREFIX + LD_TAG_LEN - 1, &r), -EPROTO);
}

Test(load_vp8, parser_rejects_truncated_and_malformed)
{
	uint8_t p[LD_VP8_PREFIX] = {0};
	struct ld_vp8 v;
	cr_assert_eq(ld_vp8_parse(p, 0, &v), -ENODATA);
	ld_vp8_write(p, true, true, 3000, 1280, 720);
	for (size_t n = 1; n < LD_VP8_PREFIX; n++)
		cr_assert_eq(ld_vp8_parse(p, n, &v), -ENODATA, "keyframe header cut at %zu", n);
	cr_assert_eq(ld_vp8_parse(p, sizeof(p), &v), 0);
	cr_assert(v.start && v.key);
	p[5] = 0x02; /* broken start code */
	cr_assert_eq(ld_vp8_parse(p, sizeof(p), &v), -EBADMSG);
	/* A delta frame needs only the frame tag. */
	ld_vp8_write(p, true, false, 3000, 1280, 720);
	cr_assert_eq(ld_vp8_parse(p, 4, &v), 0);
	cr_assert(v.start && !v.key);
	cr_assert_eq(ld_vp8_parse(p, 3, &v), -ENODATA);
	/* Not a frame's first packet: the descriptor is enough. */
	ld_vp8_write(p, false, false, 3000, 1280, 720);
	cr_assert_eq(ld_vp8_parse(p, 1, &v), 0);
	cr_assert(!v.start && !v.key);
	/* S with a PID other than 0 starts no frame. */
	uint8_t q[4] = {0x11, 0x00, 0x00, 0x00};
	cr_assert_eq(ld_vp8_parse(q, sizeof(q), &v), 0);
	cr_assert(!v.start && !v.key);
	/* Extensions: X with a 15-bit PictureID, then a keyframe's tag. */
	uint8_t x[14] = {0x90, 0x80, 0x81, 0x23, 0x10, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0};
	cr_assert_eq(ld_vp8_parse(x, sizeof(x), &v), 0);
	cr_assert_eq(v.hdr_len, 4);
	cr_assert(v.start && v.key);
	cr_assert_eq(v.width, 320);
	cr_assert_eq(v.height, 240);
	cr_assert_eq(ld_vp8_parse(x, 3, &v), -ENODATA, "PictureID cut");
}

/* Every video and screen stream has an RTX SSRC of its own: distinct from
 * every media SSRC and from each other; audio has none. */
Test(load_scenario, rtx_ssrcs_unique)
{
	struct ld_conf c;
	ld_conf_defaults(&c);
	c.rooms = 4;
	c.participants = 10;
	c.video = c.simulcast = c.screen = true;
	struct ld_scenario sc = build(&c);
	uint32_t n = 0, *all = calloc(2 * sc.n_streams, sizeof(*all));
	cr_assert_not_null(all);
	for (uint32_t i = 0; i < sc.n_streams; i++) {
		const struct ld_stream *s = &sc.streams[i];
		all[n++] = s->ssrc;
		if (s->kind == LD_AUDIO) {
			cr_assert_eq(s->rtx_ssrc, 0);
			continue;
		}
		cr_assert_neq(s->rtx_ssrc, 0);
		all[n++] = s->rtx_ssrc;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			cr_assert_neq(all[i], all[j], "SSRC %08x twice", all[i]);
	free(all);
	ld_scenario_free(&sc);
}

/* The SFU options: defaults ask for nothing (old runs unchanged), any of
 * them turns the SFU checks on, bad values are refused. */
Test(load_scenario, sfu_options)
{
	struct ld_conf c;
	char err[256];
	ld_conf_defaults(&c);
	cr_assert_not(ld_conf_sfu(&c));
	cr_assert_eq(c.last_n, -1);
	cr_assert_eq(c.video_last_n, -1);
	cr_assert_eq(c.max_layer, -1);
	struct ld_conf v = c;
	v.simulcast = v.video = true;
	cr_assert(ld_conf_sfu(&v));
	v = c, v.last_n = 0;
	cr_assert(ld_conf_sfu(&v));
	v = c, v.nack = true;
	cr_assert(ld_conf_sfu(&v));
	v.reflect = true;
	cr_assert_not(ld_conf_sfu(&v), "--reflect has no SFU");
	v = c, v.max_layer = 3;
	cr_assert_eq(ld_conf_check(&v, err, sizeof(err)), -EINVAL);
	v = c, v.rtx_pt = LD_VIDEO_PT;
	cr_assert_eq(ld_conf_check(&v, err, sizeof(err)), -EINVAL, "RTX PT may not be a media PT");
	v = c, v.rtx_pt = 120;
	cr_assert_eq(ld_conf_check(&v, err, sizeof(err)), 0);
	v = c, v.last_n = 2, v.turn = 2.0; /* settle 2.5 s would never end */
	cr_assert_eq(ld_conf_check(&v, err, sizeof(err)), -EINVAL);
	v.settle = 1.0;
	cr_assert_eq(ld_conf_check(&v, err, sizeof(err)), 0, "%s", err);
}
