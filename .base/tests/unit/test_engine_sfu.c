/* The SFU behaviour of the forwarding engine (docs/agent-protocol.md,
 * "Meetings of 100"), driven frame by frame with the tables set up through
 * the real agent protocol: last-N audio, simulcast layers switched at
 * keyframes, NACKs answered from the cache with RTX or asked of the
 * publisher, keyframe requests, sender reports translated, receiver
 * reports consumed and generated. */
#include "harness.h"

#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/rtx.h"
#include "dataplane/proto/twcc.h"

static struct mm_tables T;
static struct mm_agent A;
static struct h_capture *CAP;
static struct mm_worker_ctx W;

#define MMDP_SSRC 0x6d6d6470u

static void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 1);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
	CAP = calloc(1, sizeof(*CAP));
	W = (struct mm_worker_ctx){.t = &T, .id = 0, .st = &T.wstats[0],
				   .tx = {.alloc = h_cap_alloc, .send = h_cap_send, .discard = h_cap_discard,
					  .ctx = CAP}};
}

static void teardown(void)
{
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	free(CAP);
	H_ASSERT_NO_LEAKS();
}

TestSuite(sfu, .init = setup, .fini = teardown);

static uint64_t drops(enum mm_drop_reason r)
{
	return T.wstats[0].drops[r];
}

/* Endpoint i of the tests: 198.18.1.<i>:<5000+i> -> 198.18.0.1:<40000+i>. */
static void ep_addr(int i, char ip[32], uint16_t *sport, uint16_t *dport)
{
	snprintf(ip, 32, "198.18.1.%d", i);
	*sport = (uint16_t)(5000 + i);
	*dport = (uint16_t)(40000 + i);
}

/* The endpoint a captured frame went to (by destination port), -1 if none. */
static int frame_to(size_t k, struct net_udp *u, const uint8_t **pl)
{
	cr_assert_eq(net_parse_udp(CAP->f[k].data, CAP->f[k].len, u), 0);
	*pl = CAP->f[k].data + u->payload_off;
	return u->dport >= 5000 && u->dport < 5100 ? u->dport - 5000 : -1;
}

static int push(int from, const uint8_t *pl, size_t len, uint64_t now_ns)
{
	char ip[32];
	uint16_t sp, dp;
	ep_addr(from, ip, &sp, &dp);
	uint8_t frame[1600];
	uint8_t mac[6] = {0x02, 0, 0, 0, 1, (uint8_t)from};
	size_t fl = h_frame(frame, ip, sp, "198.18.0.1", dp, mac, pl, len);
	return mm_engine_rx(&W, frame, fl, 0, now_ns);
}

/* ---- last-N audio --------------------------------------------------------- */

static void put_audio_ep(int i, const char *room, bool level)
{
	char ip[32];
	uint16_t sp, dp;
	ep_addr(i, ip, &sp, &dp);
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e%d\",\"room\":\"%s\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},\"remote\":{\"addr\":\"%s\",\"port\":%u},"
	     "\"streams\":[{\"ssrc\":%d,\"kind\":\"audio\"%s}]}",
	     i, room, dp, ip, sp, 1000 + i, level ? ",\"audio_level_id\":1" : "");
}

/* An audio packet of endpoint i with an RFC 6464 level in extension 1. */
static int send_audio(int i, uint16_t seq, uint8_t level, bool voice, uint64_t now_ns)
{
	uint8_t payload[60] = {0};
	uint8_t lv = (uint8_t)((voice ? 0x80 : 0) | level);
	struct rtp_ext_elem el = {.id = 1, .len = 1, .data = &lv};
	struct rtp_build_params p = {.payload_type = 111, .seq = seq, .timestamp = 960u * seq,
				     .ssrc = (uint32_t)(1000 + i), .n_ext = 1, .ext = &el};
	uint8_t pkt[200];
	int n = rtp_build(pkt, sizeof(pkt), &p, payload, sizeof(payload));
	cr_assert_gt(n, 0);
	return push(i, pkt, (size_t)n, now_ns);
}

/* Copies received by each endpoint from each publisher since CAP was emptied. */
static void tally(int got[16][16])
{
	memset(got, 0, sizeof(int) * 16 * 16);
	for (size_t k = 0; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		int to = frame_to(k, &u, &pl);
		if (to < 0 || to >= 16 || u.payload_len < 12 || (pl[1] >= 200 && pl[1] <= 206))
			continue;
		uint32_t ssrc = rtp_get_ssrc(pl);
		if (ssrc >= 1000 && ssrc < 1016)
			got[to][ssrc - 1000]++;
	}
}

Test(sfu, last_n_forwards_only_the_loudest)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":2}");
	for (int i = 1; i <= 5; i++)
		put_audio_ep(i, "r", true);
	/* 2 s: e1 and e2 speak, e3 and e4 are silent, e5 coughs 200 ms in
	 * the middle. */
	uint64_t t0 = 1000000000ull;
	for (uint16_t k = 0; k < 100; k++) {
		uint64_t now = t0 + k * 20000000ull;
		cr_assert_eq(send_audio(1, k, (uint8_t)(30 + k % 7), true, now), MM_ENGINE_DONE);
		cr_assert_eq(send_audio(2, k, (uint8_t)(35 + k % 5), true, now), MM_ENGINE_DONE);
		cr_assert_eq(send_audio(3, k, 127, false, now), MM_ENGINE_DONE);
		cr_assert_eq(send_audio(4, k, 120, false, now), MM_ENGINE_DONE);
		bool cough = k >= 50 && k < 60;
		cr_assert_eq(send_audio(5, k, cough ? 10 : 127, cough, now), MM_ENGINE_DONE);
	}
	int got[16][16];
	tally(got);
	for (int r = 1; r <= 5; r++) {
		for (int s = 1; s <= 5; s++) {
			if (r == s)
				continue;
			if (s <= 2)
				cr_assert_geq(got[r][s], 95, "e%d got %d of e%d's 100", r, got[r][s], s);
			else
				cr_assert_eq(got[r][s], 0, "e%d got %d of e%d (not a speaker)", r,
					     got[r][s], s);
		}
	}
	cr_assert_geq(drops(MM_DROP_LAST_N), 290);

	json_t *sp = h_agent(&A, "{\"op\":\"speakers.get\"}");
	cr_assert(h_ok(sp));
	json_t *room = json_array_get(json_object_get(sp, "rooms"), 0);
	cr_assert_not_null(room, "speakers.get lists the room");
	const char *dom = json_string_value(json_object_get(room, "dominant"));
	cr_assert(dom && (strcmp(dom, "e1") == 0 || strcmp(dom, "e2") == 0), "dominant %s", dom);
	json_t *ln = json_object_get(room, "last_n");
	cr_assert_eq(json_array_size(ln), 2);
	json_int_t seq = json_integer_value(json_object_get(sp, "seq"));
	json_decref(sp);
	/* Nothing changed since: an empty list. */
	sp = h_agent(&A, "{\"op\":\"speakers.get\",\"since\":%lld}", (long long)seq);
	cr_assert(h_ok(sp));
	cr_assert_eq(json_array_size(json_object_get(sp, "rooms")), 0);
	json_decref(sp);
}

Test(sfu, audio_without_a_level_is_always_forwarded)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":1}");
	put_audio_ep(1, "r", true);
	put_audio_ep(2, "r", false);
	put_audio_ep(3, "r", false);
	for (uint16_t k = 0; k < 20; k++) {
		uint64_t now = 1000000000ull + k * 20000000ull;
		send_audio(1, k, 30, true, now);
		send_audio(2, k, 127, false, now);
		send_audio(3, k, 127, false, now);
	}
	int got[16][16];
	tally(got);
	cr_assert_eq(got[1][2], 20);
	cr_assert_eq(got[1][3], 20);
	cr_assert_eq(got[2][3], 20);
	cr_assert_geq(got[2][1], 19);
	cr_assert_eq(drops(MM_DROP_LAST_N), 0);
}

Test(sfu, last_n_zero_forwards_all)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":0}");
	for (int i = 1; i <= 3; i++)
		put_audio_ep(i, "r", true);
	for (uint16_t k = 0; k < 10; k++)
		for (int i = 1; i <= 3; i++)
			send_audio(i, k, 127, false, 1000000000ull + k * 20000000ull);
	int got[16][16];
	tally(got);
	cr_assert_eq(got[1][2] + got[1][3] + got[2][1] + got[2][3] + got[3][1] + got[3][2], 60);
}

Test(sfu, room_put_checks_last_n)
{
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":101}");
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"r\",\"video_last_n\":-1}");
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":5,\"video_last_n\":9}");
	json_t *r = h_agent(&A, "{\"op\":\"room.get\",\"room\":\"r\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "last_n")), 5);
	cr_assert_eq(json_integer_value(json_object_get(r, "video_last_n")), 9);
	json_decref(r);
}

/* ---- simulcast -------------------------------------------------------------- */

#define CAM0 7000u /* layer l's SSRC: CAM0 + l */
#define CAM_RTX 7100u

/* Publisher e1 with audio and a camera of three layers; receivers e2
 * (max_layer mx2, RTX with PT 97 when rtx) and e3. */
static void simulcast_room(int mx2, bool rtx)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\"}");
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e1\",\"room\":\"r\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
	     "\"streams\":[{\"ssrc\":1001,\"kind\":\"audio\"},"
	     "{\"ssrc\":%u,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\",\"layer\":0,\"rtx_ssrc\":%u},"
	     "{\"ssrc\":%u,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\",\"layer\":1,\"rtx_ssrc\":%u},"
	     "{\"ssrc\":%u,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\",\"layer\":2,\"rtx_ssrc\":%u}]}",
	     CAM0, CAM_RTX, CAM0 + 1, CAM_RTX + 1, CAM0 + 2, CAM_RTX + 2);
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\",\"max_layer\":%d%s,"
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":1002,\"kind\":\"audio\"}]}",
	     mx2, rtx ? ",\"rtx_pt\":97" : "");
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e3\",\"room\":\"r\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40003},\"remote\":{\"addr\":\"198.18.1.3\",\"port\":5003},"
	     "\"streams\":[{\"ssrc\":1003,\"kind\":\"audio\"}]}");
}

/* A VP8 packet of layer l: descriptor (S on the first packet of a frame),
 * then on a frame's first packet the frame tag (P bit 0: keyframe, with
 * the start code), then filler with the layer and seq. */
static uint8_t TWCC_ID; /* nonzero: packets carry a transport-wide seq 0xabcd in this id */

static int send_vp8(int layer, uint16_t seq, uint32_t ts, bool first, bool key, uint64_t now_ns)
{
	uint8_t payload[200];
	memset(payload, 0, sizeof(payload));
	payload[0] = first ? 0x10 : 0x00;
	if (first) {
		payload[1] = key ? 0x00 : 0x01;
		payload[2] = 0;
		payload[3] = 0;
		payload[4] = 0x9d;
		payload[5] = 0x01;
		payload[6] = 0x2a;
	}
	payload[20] = (uint8_t)layer;
	payload[21] = (uint8_t)(seq >> 8);
	payload[22] = (uint8_t)seq;
	struct rtp_build_params p = {.payload_type = 96, .seq = seq, .timestamp = ts,
				     .ssrc = CAM0 + (uint32_t)layer, .marker = true};
	static const uint8_t tw[2] = {0xab, 0xcd};
	struct rtp_ext_elem el = {.id = TWCC_ID, .len = 2, .data = tw};
	if (TWCC_ID) {
		p.n_ext = 1;
		p.ext = &el;
	}
	uint8_t pkt[400];
	int n = rtp_build(pkt, sizeof(pkt), &p, payload, sizeof(payload));
	cr_assert_gt(n, 0);
	return push(1, pkt, (size_t)n, now_ns);
}

struct seen {
	uint32_t n;
	uint16_t seq[512];
	uint8_t layer[512];
	uint32_t ssrc[512];
	uint32_t ts[512];
};

/* RTP copies of the camera at endpoint to, in order. */
static void camera_at(int to, struct seen *s, size_t from)
{
	memset(s, 0, sizeof(*s));
	for (size_t k = from; k < CAP->n && s->n < 512; k++) {
		struct net_udp u;
		const uint8_t *pl;
		if (frame_to(k, &u, &pl) != to || u.payload_len < 40 || (pl[1] >= 200 && pl[1] <= 206))
			continue;
		struct rtp_header h;
		cr_assert_eq(rtp_parse(pl, u.payload_len, &h), 0);
		if (h.payload_type != 96)
			continue;
		s->seq[s->n] = h.seq;
		s->layer[s->n] = h.payload[20];
		s->ssrc[s->n] = h.ssrc;
		s->ts[s->n] = h.timestamp;
		s->n++;
	}
}

/* One frame per layer every 33 ms, a keyframe on every layer at frame 0
 * and every key_every frames after (at different frames per layer if
 * stagger). Sequence numbers per layer from seq0[l]. */
static uint16_t LSEQ[3];
static void frames(int from, int to, int key_every, uint64_t t0)
{
	for (int f = from; f < to; f++) {
		uint64_t now = t0 + (uint64_t)f * 33000000ull;
		for (int l = 0; l < 3; l++) {
			bool key = f % key_every == l; /* each layer's keyframes at its own frames */
			cr_assert_eq(send_vp8(l, LSEQ[l]++, (uint32_t)f * 3000u + 11u * (uint32_t)l,
					      true, key, now),
				     MM_ENGINE_DONE);
		}
	}
}

Test(sfu, simulcast_sends_one_layer_and_switches_at_a_keyframe)
{
	simulcast_room(1, false);
	LSEQ[0] = 100;
	LSEQ[1] = 20000;
	LSEQ[2] = 65500; /* wraps */
	uint64_t t0 = 1000000000ull;
	frames(0, 45, 30, t0); /* 1.5 s; keyframes of layer l at frames l, 30 + l */
	struct seen s;
	camera_at(2, &s, 0);
	cr_assert_gt(s.n, 20, "e2 got %u camera packets (captured %zu, not_selected %lu, unknown_ssrc %lu, malformed %lu)", s.n, CAP->n, (unsigned long)drops(MM_DROP_NOT_SELECTED), (unsigned long)drops(MM_DROP_UNKNOWN_SSRC), (unsigned long)drops(MM_DROP_RTP_MALFORMED));
	/* e2 (max_layer 1) gets layer 1 only once it started, under layer 0's SSRC. */
	uint32_t l1 = 0;
	for (uint32_t i = 0; i < s.n; i++) {
		cr_assert_eq(s.ssrc[i], CAM0, "one stream under the group's SSRC");
		if (i > 0)
			cr_assert_eq((uint16_t)(s.seq[i] - s.seq[i - 1]), 1, "continuous at %u", i);
		l1 += s.layer[i] == 1;
		if (i > 0 && s.layer[i] != s.layer[i - 1])
			cr_assert_leq(s.layer[i], 1);
	}
	cr_assert_geq(l1, 10, "layer 1 from its keyframe at frame 31");
	cr_assert_eq(s.layer[s.n - 1], 1);
	camera_at(3, &s, 0);
	cr_assert_eq(s.layer[s.n - 1], 2, "e3 (max_layer 2) ends on layer 2");
	for (uint32_t i = 1; i < s.n; i++)
		cr_assert_eq((uint16_t)(s.seq[i] - s.seq[i - 1]), 1, "e3 continuous at %u", i);

	/* e2 drops to low resolution at frame 45: it keeps layer 1 until
	 * layer 0's next keyframe (frame 60: 60 % 30 == 0), then layer 0,
	 * with no gap. */
	size_t mark = CAP->n;
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\",\"max_layer\":0,"
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":1002,\"kind\":\"audio\"}]}");
	uint16_t last_before = s.seq[s.n - 1];
	frames(45, 90, 30, t0);
	camera_at(2, &s, mark);
	cr_assert_gt(s.n, 40);
	cr_assert_eq((uint16_t)(s.seq[0] - last_before), 1, "no gap at the change");
	uint32_t sw = 0, at = 0;
	for (uint32_t i = 1; i < s.n; i++) {
		cr_assert_eq((uint16_t)(s.seq[i] - s.seq[i - 1]), 1, "no gap at %u", i);
		if (s.layer[i] != s.layer[i - 1]) {
			sw++;
			cr_assert_eq(s.layer[i], 0);
			at = i;
		}
	}
	cr_assert_eq(sw, 1, "one switch");
	cr_assert_eq(s.layer[0], 1, "layer 1 until the keyframe");
	cr_assert_eq(at, 15, "switched at frame 60, the keyframe of layer 0");
	cr_assert_eq(s.layer[s.n - 1], 0);
	/* A keyframe of layer 0 was asked for (PLI to e1 on CAM0). */
	bool pli = false;
	for (size_t k = 0; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		if (frame_to(k, &u, &pl) != 1)
			continue;
		struct rtcp_compound cp;
		if (rtcp_parse_compound(pl, u.payload_len, 0, &cp) != 0)
			continue;
		for (size_t i = 0; i < cp.n; i++) {
			struct rtcp_pli p;
			if (cp.pkt[i].pt == RTCP_PT_PSFB && cp.pkt[i].count_or_fmt == RTCP_PSFB_FMT_PLI &&
			    rtcp_pli_parse(cp.pkt[i].data, cp.pkt[i].len, &p) == 0 && p.media_ssrc == CAM0)
				pli = true;
		}
	}
	cr_assert(pli, "mmdp asked e1 for a keyframe of layer 0");
	cr_assert_gt(drops(MM_DROP_NOT_SELECTED), 0, "packets of a layer nobody gets are counted");
}

Test(sfu, agent_checks_simulcast_fields)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\"}");
	const char *pre = "{\"op\":\"endpoint.put\",\"endpoint\":\"e1\",\"room\":\"r\","
			  "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
			  "\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},";
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"audio\",\"codec\":\"vp8\"}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"codec\":\"theora\"}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"audio_level_id\":1}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"audio\",\"audio_level_id\":15}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"audio\",\"group\":\"g\"}]}", pre);
	H_ERR(&A, "invalid_field",
	      "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"group\":\"g\",\"layer\":1},"
	      "{\"ssrc\":2,\"kind\":\"video\",\"group\":\"g\",\"layer\":1}]}", pre);
	H_ERR(&A, "invalid_field",
	      "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"group\":\"g\",\"layer\":3}]}", pre);
	H_ERR(&A, "invalid_field",
	      "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"rtx_ssrc\":2},{\"ssrc\":2,\"kind\":\"video\"}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"rtx_ssrc\":1}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"max_layer\":3,\"streams\":[]}", pre);
	H_ERR(&A, "invalid_field", "%s\"rtx_pt\":95,\"streams\":[]}", pre);
	/* Nothing was created by the refused puts. */
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"e1\"}");
	cr_assert_str_eq(h_code(r), "not_found");
	json_decref(r);
	H_OK(&A, "%s\"max_layer\":1,\"rtx_pt\":97,\"streams\":[{\"ssrc\":1,\"kind\":\"video\",\"codec\":\"h264\","
		 "\"group\":\"g\",\"layer\":0,\"rtx_ssrc\":11},{\"ssrc\":2,\"kind\":\"video\",\"group\":\"g\",\"layer\":2}]}",
	     pre);
}

/* ---- retransmissions ---------------------------------------------------- */

/* A receiver's NACK for out_seq of SSRC media, from endpoint `from`. */
static void send_nack(int from, uint32_t media, const uint16_t *seqs, size_t n, uint64_t now_ns)
{
	struct rtcp_nack_item items[16];
	int ni = rtcp_nack_pack(seqs, n, items, 16);
	cr_assert_gt(ni, 0);
	uint8_t buf[256];
	struct rtcp_writer wr;
	rtcp_writer_init(&wr, buf, sizeof(buf));
	struct rtcp_rr rr = {.ssrc = (uint32_t)(1000 + from)};
	rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr));
	rtcp_writer_add(&wr, rtcp_nack_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr),
					     (uint32_t)(1000 + from), media, items, (size_t)ni));
	int len = rtcp_writer_finish(&wr);
	cr_assert_gt(len, 0);
	cr_assert_eq(push(from, buf, (size_t)len, now_ns), MM_ENGINE_DONE);
}

Test(sfu, nack_is_answered_with_rtx_from_the_cache)
{
	simulcast_room(1, true);
	LSEQ[0] = 10;
	LSEQ[1] = 500;
	LSEQ[2] = 900;
	uint64_t t0 = 1000000000ull;
	frames(0, 20, 30, t0);
	struct seen s;
	camera_at(2, &s, 0);
	cr_assert_gt(s.n, 10);
	uint16_t want[2] = {s.seq[3], s.seq[5]};
	uint8_t want_layer[2] = {s.layer[3], s.layer[5]};
	size_t mark = CAP->n;
	send_nack(2, CAM0, want, 2, t0 + 20 * 33000000ull);
	uint32_t rtx = 0;
	for (size_t k = mark; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		if (frame_to(k, &u, &pl) != 2)
			continue;
		struct rtp_header h;
		cr_assert_eq(rtp_parse(pl, u.payload_len, &h), 0);
		cr_assert_eq(h.payload_type, 97, "RTX with the receiver's PT");
		cr_assert_eq(h.ssrc, CAM_RTX, "on the group's RTX SSRC");
		uint16_t osn = (uint16_t)(h.payload[0] << 8 | h.payload[1]);
		cr_assert_eq(osn, want[rtx], "OSN is the receiver's sequence number");
		cr_assert_eq(h.payload[2 + 20], want_layer[rtx], "the very packet");
		rtx++;
	}
	cr_assert_eq(rtx, 2);
	/* Asked again at once: not resent (per-packet guard). */
	mark = CAP->n;
	send_nack(2, CAM0, want, 1, t0 + 20 * 33000000ull + 1000000);
	cr_assert_eq(CAP->n, mark);
	/* A sequence number never sent (in the future): nothing, no crash. */
	uint16_t future = (uint16_t)(s.seq[s.n - 1] + 100);
	send_nack(2, CAM0, &future, 1, t0 + 21 * 33000000ull);
	cr_assert_eq(CAP->n, mark);
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"e2\"}");
	json_t *sfu = json_object_get(r, "sfu");
	cr_assert_eq(json_integer_value(json_object_get(sfu, "rtx_tx")), 2);
	cr_assert_eq(json_integer_value(json_object_get(sfu, "nack_rx")), 4);
	json_decref(r);
}

Test(sfu, nack_for_what_the_cache_lacks_goes_to_the_publisher)
{
	simulcast_room(0, true);
	LSEQ[0] = 10;
	LSEQ[1] = 500;
	LSEQ[2] = 900;
	uint64_t t0 = 1000000000ull;
	/* Layer 0 loses its packet seq 15 on the way in. */
	for (int f = 0; f < 20; f++) {
		uint64_t now = t0 + (uint64_t)f * 33000000ull;
		for (int l = 0; l < 3; l++) {
			uint16_t q = LSEQ[l]++;
			if (l == 0 && q == 15)
				continue;
			send_vp8(l, q, (uint32_t)f * 3000u, true, f == 0, now);
		}
	}
	struct seen s;
	camera_at(2, &s, 0);
	/* e2 saw layer 0 from seq 10: its out seq 10..14 then 16..: 15 missing. */
	cr_assert_eq(s.seq[0], 10);
	uint16_t miss = 15;
	size_t mark = CAP->n;
	send_nack(2, CAM0, &miss, 1, t0 + 20 * 33000000ull);
	bool asked = false;
	for (size_t k = mark; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		int to = frame_to(k, &u, &pl);
		cr_assert_neq(to, 2, "nothing to resend to e2");
		struct rtcp_compound cp;
		if (to != 1 || rtcp_parse_compound(pl, u.payload_len, 0, &cp) != 0)
			continue;
		for (size_t i = 0; i < cp.n; i++) {
			struct rtcp_nack nk;
			uint16_t q[4];
			if (cp.pkt[i].pt == RTCP_PT_RTPFB &&
			    rtcp_nack_parse(cp.pkt[i].data, cp.pkt[i].len, &nk) == 0 &&
			    nk.media_ssrc == CAM0 && rtcp_nack_expand(&nk, q, 4) == 1 && q[0] == 15)
				asked = true;
		}
	}
	cr_assert(asked, "mmdp asked e1 for layer 0's packet 15");
	/* e1 answers with RTX on its layer-0 RTX SSRC: e2 gets the packet. */
	uint8_t payload[200] = {0x10, 0x01};
	payload[20] = 0;
	struct rtp_build_params p = {.payload_type = 96, .seq = 15, .timestamp = 5 * 3000u,
				     .ssrc = CAM0, .marker = true};
	uint8_t orig[400], rtxp[420];
	int n = rtp_build(orig, sizeof(orig), &p, payload, sizeof(payload));
	int rn = rtx_build(rtxp, sizeof(rtxp), orig, (size_t)n, CAM_RTX, 98, 1);
	cr_assert_gt(rn, 0);
	mark = CAP->n;
	cr_assert_eq(push(1, rtxp, (size_t)rn, t0 + 21 * 33000000ull), MM_ENGINE_DONE);
	camera_at(2, &s, mark);
	cr_assert_eq(s.n, 1, "the repaired packet reached e2");
	cr_assert_eq(s.seq[0], 15);
}

/* ---- RTCP ------------------------------------------------------------------- */

Test(sfu, sender_reports_are_translated_and_receiver_reports_consumed)
{
	simulcast_room(2, false);
	LSEQ[0] = 10;
	LSEQ[1] = 500;
	LSEQ[2] = 900;
	uint64_t t0 = 1000000000ull;
	frames(0, 40, 30, t0); /* e2 and e3 on layer 2 from frame 32 (its keyframe) */
	struct seen s;
	camera_at(2, &s, 0);
	cr_assert_eq(s.layer[s.n - 1], 2);
	uint32_t ts_off = s.ts[s.n - 1] - (39u * 3000u + 22u); /* frame 39's, layer 2 */
	cr_assert_neq(ts_off, 0, "the switches moved the timestamps");
	/* e1's SR on layer 2: to e2 and e3 under CAM0, timestamp translated. */
	struct rtcp_sr sr;
	memset(&sr, 0, sizeof(sr));
	sr.ssrc = CAM0 + 2;
	sr.ntp = 0x1122334455667788ull;
	sr.rtp_ts = 40u * 3000u + 22u;
	sr.packet_count = 10;
	uint8_t buf[256];
	int len = rtcp_sr_build(buf, sizeof(buf), &sr);
	size_t mark = CAP->n;
	cr_assert_eq(push(1, buf, (size_t)len, t0 + 10 * 33000000ull), MM_ENGINE_DONE);
	uint32_t got = 0;
	for (size_t k = mark; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		int to = frame_to(k, &u, &pl);
		struct rtcp_sr t;
		cr_assert_eq(rtcp_sr_parse(pl, u.payload_len, &t), 0);
		cr_assert(to == 2 || to == 3);
		cr_assert_eq(t.ssrc, CAM0);
		cr_assert_eq(t.ntp, sr.ntp);
		cr_assert_eq(t.rtp_ts, sr.rtp_ts + ts_off, "timestamp in the receiver's view");
		got++;
	}
	cr_assert_eq(got, 2);
	/* A receiver report from e2 goes nowhere. */
	struct rtcp_rr rr = {.ssrc = 1002, .rc = 1};
	rr.rb[0].ssrc = CAM0;
	rr.rb[0].fraction_lost = 128;
	len = rtcp_rr_build(buf, sizeof(buf), &rr);
	mark = CAP->n;
	cr_assert_eq(push(2, buf, (size_t)len, t0 + 11 * 33000000ull), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, mark);
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"e2\"}");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "sfu"), "rtcp_consumed")), 1);
	json_decref(r);
}

Test(sfu, mmdp_sends_receiver_reports_to_publishers)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\"}");
	put_audio_ep(1, "r", false);
	put_audio_ep(2, "r", false);
	/* 3 s of e1's audio with packet 30 lost. */
	for (uint16_t k = 0; k < 150; k++)
		if (k != 30)
			send_audio(1, k, 127, false, 1000000000ull + k * 20000000ull);
	uint32_t reports = 0;
	int64_t lost = -1;
	for (size_t k = 0; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		if (frame_to(k, &u, &pl) != 1)
			continue;
		struct rtcp_rr rr;
		cr_assert_eq(rtcp_rr_parse(pl, u.payload_len, &rr), 0);
		cr_assert_eq(rr.ssrc, MMDP_SSRC);
		cr_assert_eq(rr.rc, 1);
		cr_assert_eq(rr.rb[0].ssrc, 1001u);
		lost = rr.rb[0].cumulative_lost;
		reports++;
	}
	cr_assert(reports >= 2 && reports <= 3, "%u reports in 3 s", reports);
	cr_assert_eq(lost, 1);
}

/* ---- transport-wide congestion control ------------------------------------ */

Test(sfu, copies_get_transport_wide_sequence_numbers_and_feedback_is_read)
{
	simulcast_room(2, false);
	/* e2 negotiated transport-cc with id 5, e3 did not. */
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\",\"twcc_id\":5,"
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":1002,\"kind\":\"audio\"}]}");
	H_ERR(&A, "invalid_field",
	      "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\",\"twcc_id\":15,"
	      "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002}}");
	TWCC_ID = 5;
	LSEQ[0] = 10;
	LSEQ[1] = 500;
	LSEQ[2] = 900;
	uint64_t t0 = 1000000000ull;
	frames(0, 20, 30, t0);
	TWCC_ID = 0;
	uint16_t expect = 0;
	uint32_t n2 = 0, n3 = 0;
	for (size_t k = 0; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		int to = frame_to(k, &u, &pl);
		struct rtp_header h;
		if ((to != 2 && to != 3) || rtp_parse(pl, u.payload_len, &h) != 0 || h.payload_type != 96)
			continue;
		struct rtp_ext_elem el;
		cr_assert_eq(rtp_ext_find(&h, 5, &el), 1);
		uint16_t q = (uint16_t)(el.data[0] << 8 | el.data[1]);
		if (to == 2) {
			cr_assert_eq(q, expect, "e2's copies numbered in order: %u, expected %u", q, expect);
			expect++;
			n2++;
		} else {
			cr_assert_eq(q, 0xabcd, "e3 did not negotiate it: the publisher's value");
			n3++;
		}
	}
	cr_assert_geq(n2, 19);
	cr_assert_geq(n3, 19);
	/* e2 reports: every other copy lost. */
	bool rx[64];
	int64_t at[64];
	for (int i = 0; i < (int)n2 && i < 64; i++) {
		rx[i] = i % 2 == 0;
		at[i] = 1000000 + i * 33000;
	}
	uint8_t buf[512];
	struct rtcp_writer wr;
	rtcp_writer_init(&wr, buf, sizeof(buf));
	struct rtcp_rr rr = {.ssrc = 1002};
	rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr));
	rtcp_writer_add(&wr, twcc_feedback_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), 1002,
						 CAM0, 0, (uint16_t)(n2 < 64 ? n2 : 64), rx, at, 0));
	int len = rtcp_writer_finish(&wr);
	cr_assert_gt(len, 0);
	size_t mark = CAP->n;
	cr_assert_eq(push(2, buf, (size_t)len, t0 + 21 * 33000000ull), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, mark, "feedback is consumed");
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"e2\"}");
	json_t *sfu = json_object_get(r, "sfu");
	cr_assert_eq(json_integer_value(json_object_get(sfu, "twcc_id")), 5);
	cr_assert_eq(json_integer_value(json_object_get(sfu, "twcc_feedback")), 1);
	cr_assert_eq(json_integer_value(json_object_get(sfu, "twcc_lost")), (json_int_t)(n2 < 64 ? n2 : 64) / 2);
	json_decref(r);
}

/* ---- simulcast by RID ------------------------------------------------------- */

/* A VP8 packet of layer l of a publisher that names its layers by RID
 * (extension id 4: "q", "h", "f") on SSRCs nobody declared. */
static int send_vp8_rid(uint32_t ssrc, const char *rid, uint16_t seq, uint32_t ts, bool key,
			uint64_t now_ns)
{
	uint8_t payload[200];
	memset(payload, 0, sizeof(payload));
	payload[0] = 0x10;
	payload[1] = key ? 0x00 : 0x01;
	payload[4] = 0x9d;
	payload[5] = 0x01;
	payload[6] = 0x2a;
	payload[20] = (uint8_t)rid[0];
	struct rtp_ext_elem el = {.id = 4, .len = (uint8_t)strlen(rid), .data = (const uint8_t *)rid};
	struct rtp_build_params p = {.payload_type = 96, .seq = seq, .timestamp = ts, .ssrc = ssrc,
				     .marker = true, .n_ext = 1, .ext = &el};
	uint8_t pkt[400];
	int n = rtp_build(pkt, sizeof(pkt), &p, payload, sizeof(payload));
	cr_assert_gt(n, 0);
	return push(1, pkt, (size_t)n, now_ns);
}

Test(sfu, simulcast_layers_known_by_rid_are_bound_at_their_first_packet)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\"}");
	const char *pre = "{\"op\":\"endpoint.put\",\"endpoint\":\"e1\",\"room\":\"r\","
			  "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
			  "\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},";
	/* A group known by RID needs the SSRC its receivers see, and rid_id. */
	H_ERR(&A, "missing_field", "%s\"rid_id\":4,\"streams\":[{\"rid\":\"q\",\"kind\":\"video\"}]}", pre);
	H_ERR(&A, "missing_field", "%s\"streams\":[{\"rid\":\"q\",\"kind\":\"video\",\"out_ssrc\":9}]}", pre);
	H_ERR(&A, "invalid_field", "%s\"rid_id\":4,\"streams\":[{\"rid\":\"q!\",\"kind\":\"video\",\"out_ssrc\":9}]}", pre);
	H_ERR(&A, "invalid_field",
	      "%s\"rid_id\":4,\"streams\":[{\"rid\":\"q\",\"kind\":\"video\",\"out_ssrc\":9},"
	      "{\"rid\":\"q\",\"kind\":\"video\"}]}", pre);
	H_OK(&A,
	     "%s\"rid_id\":4,\"streams\":["
	     "{\"rid\":\"q\",\"kind\":\"video\",\"group\":\"cam\",\"layer\":0,\"out_ssrc\":8000},"
	     "{\"rid\":\"h\",\"kind\":\"video\",\"group\":\"cam\",\"layer\":1},"
	     "{\"rid\":\"f\",\"kind\":\"video\",\"group\":\"cam\",\"layer\":2}]}", pre);
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\",\"max_layer\":1,"
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":1002,\"kind\":\"audio\"}]}");
	static const char *rids[3] = {"q", "h", "f"};
	const uint32_t ssrcs[3] = {0x11110000u, 0x22220000u, 0x33330000u};
	uint64_t t0 = 1000000000ull;
	/* Every layer a keyframe at frame 0 and 20; a stranger's RID-less
	 * packet on a fourth SSRC is not bound. */
	for (int f = 0; f < 40; f++)
		for (int l = 0; l < 3; l++)
			cr_assert_eq(send_vp8_rid(ssrcs[l], rids[l], (uint16_t)(100 * l + f),
						  (uint32_t)f * 3000u, f % 20 == 0, t0 + f * 33000000ull),
				     MM_ENGINE_DONE);
	uint8_t junk[60] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0x44, 0x44, 0, 0};
	cr_assert_eq(push(1, junk, sizeof(junk), t0 + 41 * 33000000ull), MM_ENGINE_DONE);
	cr_assert_eq(drops(MM_DROP_UNKNOWN_SSRC), 1);
	struct seen s;
	camera_at(2, &s, 0);
	cr_assert_gt(s.n, 15);
	for (uint32_t i = 0; i < s.n; i++) {
		cr_assert_eq(s.ssrc[i], 8000u, "under the group's out_ssrc");
		if (i)
			cr_assert_eq((uint16_t)(s.seq[i] - s.seq[i - 1]), 1, "continuous at %u", i);
	}
	cr_assert_eq(s.layer[s.n - 1], 'h', "e2 (max_layer 1) ends on the h layer");
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"e1\"}");
	json_t *st = json_object_get(r, "streams");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(st, 1), "rid")), "h");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(st, 1), "ssrc")), 0x22220000);
	json_decref(r);
	/* The publisher restarts its encoder: layer h comes on a new SSRC and is bound again. */
	size_t mark = CAP->n;
	for (int f = 40; f < 50; f++)
		send_vp8_rid(0x55550000u, "h", (uint16_t)(7000 + f), (uint32_t)f * 3000u, f == 40,
			     t0 + f * 33000000ull);
	camera_at(2, &s, mark);
	cr_assert_gt(s.n, 5, "the new SSRC of layer h reaches e2");
}

/* ---- levels without the V bit, keyframes for new receivers ------------------- */

Test(sfu, loud_levels_count_as_speech_without_the_v_bit)
{
	/* aiortc and other senders without voice activity detection leave V
	 * at 0: a level of -50 dBov or louder still counts, room noise not. */
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\",\"last_n\":1}");
	for (int i = 1; i <= 3; i++)
		put_audio_ep(i, "r", true);
	for (uint16_t k = 0; k < 100; k++) {
		uint64_t now = 1000000000ull + k * 20000000ull;
		send_audio(1, k, 20, false, now); /* a tone at -20 dBov, V = 0 */
		send_audio(2, k, 127, false, now);
		send_audio(3, k, 70, false, now); /* noise at -70 dBov */
	}
	int got[16][16];
	tally(got);
	cr_assert_geq(got[2][1], 95, "e2 got %d of e1's 100", got[2][1]);
	cr_assert_geq(got[3][1], 95, "e3 got %d of e1's 100", got[3][1]);
	cr_assert_eq(got[1][3] + got[2][3], 0, "noise is not speech");
	cr_assert_eq(got[1][2] + got[3][2], 0);
}

/* PLIs mmdp sent to endpoint to for media SSRC ssrc. */
static int plis_to(int to, uint32_t ssrc)
{
	int n = 0;
	for (size_t k = 0; k < CAP->n; k++) {
		struct net_udp u;
		const uint8_t *pl;
		if (frame_to(k, &u, &pl) != to || u.payload_len < 12)
			continue;
		struct rtcp_compound cp;
		if (pl[1] < 200 || pl[1] > 206 || rtcp_parse_compound(pl, u.payload_len, 0, &cp) != 0)
			continue;
		for (size_t i = 0; i < cp.n; i++) {
			struct rtcp_pli pli;
			if (cp.pkt[i].pt == RTCP_PT_PSFB && cp.pkt[i].count_or_fmt == RTCP_PSFB_FMT_PLI &&
			    rtcp_pli_parse(cp.pkt[i].data, cp.pkt[i].len, &pli) == 0 && pli.media_ssrc == ssrc)
				n++;
		}
	}
	return n;
}

Test(sfu, a_new_receiver_of_a_single_layer_video_gets_a_keyframe_asked_for)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r\"}");
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e1\",\"room\":\"r\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
	     "\"streams\":[{\"ssrc\":%u,\"kind\":\"video\",\"codec\":\"vp8\"}]}",
	     CAM0);
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e2\",\"room\":\"r\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":1002,\"kind\":\"audio\"}]}");
	uint64_t t0 = 1000000000ull;
	/* e2's first copy is a delta frame: mmdp asks e1 for a keyframe
	 * once, after the copy; the next delta frame asks nothing more. */
	cr_assert_eq(send_vp8(0, 100, 9000, true, false, t0), MM_ENGINE_DONE);
	struct seen s;
	camera_at(2, &s, 0);
	cr_assert_eq(s.n, 1, "e2 got the delta frame");
	cr_assert_eq(plis_to(1, CAM0), 1, "one PLI to the publisher");
	cr_assert_eq(send_vp8(0, 101, 12000, true, false, t0 + 33000000ull), MM_ENGINE_DONE);
	cr_assert_eq(plis_to(1, CAM0), 1, "a view that goes on asks nothing");

	/* A receiver whose first copy is a keyframe needs none. */
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"e3\",\"room\":\"r\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40003},\"remote\":{\"addr\":\"198.18.1.3\",\"port\":5003},"
	     "\"streams\":[{\"ssrc\":1003,\"kind\":\"audio\"}]}");
	size_t before = CAP->n;
	cr_assert_eq(send_vp8(0, 102, 15000, true, true, t0 + 2000000000ull), MM_ENGINE_DONE);
	camera_at(3, &s, before);
	cr_assert_eq(s.n, 1, "e3 got the keyframe");
	cr_assert_eq(plis_to(1, CAM0), 1, "no PLI for a view that starts at a keyframe");
}
