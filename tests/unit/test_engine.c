/* The forwarding engine driven frame by frame, with the tables set up
 * through the real agent protocol. */
#include "harness.h"

#include "dataplane/proto/neigh.h"
#include "dataplane/proto/rtcp.h"

static struct mm_tables T;
static struct mm_agent A;
static struct h_capture *CAP;
static struct mm_worker_ctx W;

static const uint8_t MAC1[6] = {0x02, 0, 0, 0, 1, 1};
static const uint8_t MAC2[6] = {0x02, 0, 0, 0, 1, 2};

static void setup_n(uint32_t workers)
{
	struct mm_dp_conf c;
	h_conf(&c, workers);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
	CAP = calloc(1, sizeof(*CAP));
	W = (struct mm_worker_ctx){.t = &T, .id = 0, .st = &T.wstats[0],
				   .tx = {.alloc = h_cap_alloc, .send = h_cap_send, .ctx = CAP}};
}

static void setup(void)
{
	setup_n(1);
	/* r1: a, b, c (b on IPv6); r2: x, y */
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":10}");
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r2\"}");
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, "");
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"b\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"2001:2::1\",\"port\":40002},"
	     "\"remote\":{\"addr\":\"2001:2::1:1\",\"port\":5002},"
	     "\"streams\":[{\"ssrc\":2001,\"kind\":\"audio\"}]}");
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 3001, 3002, "");
	H_OK(&A, H_EP_FMT, "x", "r2", 40004, "198.18.2.1", 5004, 4001, 4002, "");
	H_OK(&A, H_EP_FMT, "y", "r2", 40005, "198.18.2.2", 5005, 5001, 5002, "");
}

static void teardown(void)
{
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	free(CAP);
	H_ASSERT_NO_LEAKS();
}

/* Push one RTP packet from a (198.18.1.1:5001 -> 198.18.0.1:40001). */
static int send_rtp(const char *src, uint16_t sport, uint16_t dport, uint32_t ssrc, uint16_t seq,
		    const uint8_t *mac)
{
	uint8_t rtp[1500], frame[1600];
	size_t n = h_rtp(rtp, sizeof(rtp), ssrc, seq, 960u * seq, 111, 160);
	size_t fl = h_frame(frame, src, sport, strchr(src, ':') ? "2001:2::1" : "198.18.0.1", dport,
			    mac, rtp, n);
	return mm_engine_rx(&W, frame, fl, 0, 1000000000ull + seq * 20000000ull);
}

static void parse_out(size_t i, struct net_udp *u, const uint8_t **payload)
{
	cr_assert_lt(i, CAP->n);
	cr_assert_eq(net_parse_udp(CAP->f[i].data, CAP->f[i].len, u), 0, "emitted frame %zu invalid", i);
	*payload = CAP->f[i].data + u->payload_off;
}

static uint64_t drops(enum mm_drop_reason r)
{
	return T.wstats[0].drops[r];
}

TestSuite(engine, .init = setup, .fini = teardown);

Test(engine, rtp_fans_out_to_every_other_member_only)
{
	cr_assert_eq(send_rtp("198.18.1.1", 5001, 40001, 1001, 7, MAC1), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 2, "a's packet must reach b and c, got %zu copies", CAP->n);

	uint8_t want[1500];
	size_t wn = h_rtp(want, sizeof(want), 1001, 7, 960u * 7, 111, 160);
	bool saw_b = false, saw_c = false;
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		cr_assert_eq(u.payload_len, wn);
		cr_assert_eq(memcmp(pl, want, wn), 0, "payload must be byte-identical");
		cr_assert_eq(memcmp(u.src_mac, H_DP_MAC, 6), 0);
		cr_assert_eq(memcmp(u.dst_mac, H_GW_MAC, 6), 0, "unlearned: gateway MAC");
		char dst[64];
		net_addr_format(&u.dst, dst, sizeof(dst));
		if (u.family == 6) {
			cr_assert_str_eq(dst, "2001:2::1:1");
			cr_assert_eq(u.dport, 5002);
			cr_assert_eq(u.sport, 40002);
			saw_b = true;
		} else {
			cr_assert_str_eq(dst, "198.18.1.3");
			cr_assert_eq(u.dport, 5003);
			cr_assert_eq(u.sport, 40003);
			saw_c = true;
		}
	}
	cr_assert(saw_b && saw_c);
}

Test(engine, next_hop_mac_is_learned_then_configured_mac_wins)
{
	/* c sends once: its MAC is learned */
	cr_assert_eq(send_rtp("198.18.1.3", 5003, 40003, 3001, 1, MAC2), MM_ENGINE_DONE);
	CAP->n = 0;
	send_rtp("198.18.1.1", 5001, 40001, 1001, 1, MAC1);
	struct net_udp u;
	const uint8_t *pl;
	for (size_t i = 0; i < CAP->n; i++) {
		parse_out(i, &u, &pl);
		if (u.family == 4)
			cr_assert_eq(memcmp(u.dst_mac, MAC2, 6), 0, "learned MAC used for c");
	}
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 3001, 3002,
	     ",\"mac\":\"02:00:00:00:09:09\"");
	CAP->n = 0;
	send_rtp("198.18.1.1", 5001, 40001, 1001, 2, MAC1);
	static const uint8_t cfg[6] = {2, 0, 0, 0, 9, 9};
	for (size_t i = 0; i < CAP->n; i++) {
		parse_out(i, &u, &pl);
		if (u.family == 4)
			cr_assert_eq(memcmp(u.dst_mac, cfg, 6), 0, "configured MAC wins");
	}
}

Test(engine, rooms_are_isolated)
{
	send_rtp("198.18.2.1", 5004, 40004, 4001, 1, MAC1);
	cr_assert_eq(CAP->n, 1);
	struct net_udp u;
	const uint8_t *pl;
	parse_out(0, &u, &pl);
	cr_assert_eq(u.dport, 5005, "only y, the other member of r2");
}

Test(engine, audio_mute_stops_audio_and_resumes_without_a_sequence_gap)
{
	for (uint16_t s = 10; s < 12; s++)
		send_rtp("198.18.1.1", 5001, 40001, 1001, s, MAC1);
	cr_assert_eq(CAP->n, 4);
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002,
	     ",\"audio_muted\":true");
	CAP->n = 0;
	for (uint16_t s = 12; s < 15; s++)
		send_rtp("198.18.1.1", 5001, 40001, 1001, s, MAC1);
	cr_assert_eq(CAP->n, 0, "muted audio reaches nobody");
	cr_assert_eq(drops(MM_DROP_MUTED), 3);
	send_rtp("198.18.1.1", 5001, 40001, 1002, 100, MAC1); /* video still flows */
	cr_assert_eq(CAP->n, 2);

	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, "");
	CAP->n = 0;
	send_rtp("198.18.1.1", 5001, 40001, 1001, 15, MAC1);
	cr_assert_eq(CAP->n, 2);
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		cr_assert_eq(rtp_get_seq(pl), 12, "subscribers continue at 12, got %u",
			     rtp_get_seq(pl));
		cr_assert_eq(rtp_get_ssrc(pl), 1001);
	}
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"a\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "muted_packets")), 3);
	json_decref(r);
}

Test(engine, drops_are_counted_by_reason)
{
	uint8_t rtp[200], frame[400];
	size_t n = h_rtp(rtp, sizeof(rtp), 1001, 1, 0, 111, 20);
	size_t fl;

	fl = h_frame(frame, "198.18.9.9", 5001, "198.18.0.1", 40001, MAC1, rtp, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_UNKNOWN_ENDPOINT), 1);

	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.7", 40001, MAC1, rtp, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_NOT_LOCAL), 1);

	uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, stun, sizeof(stun));
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_STUN_UNSUPPORTED), 1);

	uint8_t dtls[13] = {22, 0xfe, 0xfd};
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, dtls, sizeof(dtls));
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_DTLS_UNSUPPORTED), 1);

	uint8_t junk[8] = {0xff, 1, 2, 3};
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, junk, sizeof(junk));
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_DEMUX_UNKNOWN), 1);

	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtp, 9);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_RTP_MALFORMED), 1, "9 bytes is no RTP header");

	n = h_rtp(rtp, sizeof(rtp), 7777, 1, 0, 111, 20);
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtp, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_UNKNOWN_SSRC), 1);

	uint8_t bad_rtcp[8] = {0x80, 200, 0x00, 0x05, 0, 0, 0, 1}; /* length past the end */
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, bad_rtcp, sizeof(bad_rtcp));
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_RTCP_MALFORMED), 1);

	cr_assert_eq(mm_engine_rx(&W, frame, 10, 0, 0), MM_ENGINE_DONE);
	cr_assert_eq(drops(MM_DROP_L2_MALFORMED), 1, "a 10-byte frame");

	cr_assert_eq(CAP->n, 0, "nothing dropped may be forwarded");
}

Test(engine, rtcp_is_forwarded_unchanged)
{
	uint8_t rtcp[256];
	struct rtcp_writer wr = {.buf = rtcp, .cap = sizeof(rtcp)};
	struct rtcp_rr rr;
	memset(&rr, 0, sizeof(rr));
	rr.ssrc = 1001;
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr)), 0);
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_pli_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), 1001, 3001)), 0);
	int len = rtcp_writer_finish(&wr);
	cr_assert_gt(len, 0);
	uint8_t frame[400];
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtcp, (size_t)len);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 2);
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		cr_assert_eq(u.payload_len, (size_t)len);
		cr_assert_eq(memcmp(pl, rtcp, (size_t)len), 0);
	}
}

Test(engine, explicit_route_and_alone_in_room)
{
	H_OK(&A, "{\"op\":\"route.put\",\"room\":\"r1\",\"mode\":\"explicit\","
		 "\"subscriptions\":{\"c\":[\"a\"],\"a\":[\"b\",\"c\"]}}");
	send_rtp("198.18.1.1", 5001, 40001, 1001, 1, MAC1);
	cr_assert_eq(CAP->n, 1, "only c subscribes to a");
	struct net_udp u;
	const uint8_t *pl;
	parse_out(0, &u, &pl);
	cr_assert_eq(u.dport, 5003);
	CAP->n = 0;
	send_rtp("2001:2::1:1", 5002, 40002, 2001, 1, MAC1);
	cr_assert_eq(CAP->n, 1, "b reaches a only");
	parse_out(0, &u, &pl);
	cr_assert_eq(u.family, 4, "IPv6 publisher, IPv4 subscriber");
	cr_assert_eq(u.dport, 5001);

	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"y\"}");
	CAP->n = 0;
	send_rtp("198.18.2.1", 5004, 40004, 4001, 1, MAC1);
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(drops(MM_DROP_NO_SUBSCRIBER), 1);
}

Test(engine, removed_endpoint_is_dropped_and_no_longer_receives)
{
	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"c\"}");
	cr_assert_eq(send_rtp("198.18.1.3", 5003, 40003, 3001, 1, MAC2), MM_ENGINE_DONE);
	cr_assert_eq(drops(MM_DROP_UNKNOWN_ENDPOINT), 1);
	send_rtp("198.18.1.1", 5001, 40001, 1001, 1, MAC1);
	cr_assert_eq(CAP->n, 1, "only b is left for a");
}

Test(engine, copy_larger_than_mtu_is_dropped)
{
	uint8_t rtp[1500], frame[1600];
	/* IPv4 in at 1500 bytes; the IPv6 copy would be 20 bytes over. */
	size_t n = h_rtp(rtp, sizeof(rtp), 1001, 1, 0, 111, 1472 - 12);
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtp, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 1, "the IPv4 copy fits");
	cr_assert_eq(drops(MM_DROP_TOO_LARGE), 1);
}

Test(engine, stream_statistics_follow_rfc3550)
{
	for (uint16_t s = 1; s <= 20; s++)
		if (s != 5 && s != 6) /* two lost */
			send_rtp("198.18.1.1", 5001, 40001, 1001, s, MAC1);
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"a\"}");
	json_t *st = json_array_get(json_object_get(r, "streams"), 0);
	cr_assert_eq(json_integer_value(json_object_get(st, "ssrc")), 1001);
	cr_assert_eq(json_integer_value(json_object_get(st, "packets")), 18);
	cr_assert_eq(json_integer_value(json_object_get(st, "lost")), 2);
	cr_assert_eq(json_integer_value(json_object_get(st, "ext_max_seq")), 20);
	/* sent every 20 ms with timestamps 960 apart at 48 kHz: no jitter */
	cr_assert_eq(json_integer_value(json_object_get(st, "jitter")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "rx_packets")), 18);
	json_decref(r);
}

static void setup2(void)
{
	setup_n(2);
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r0\"}");
	json_t *r = h_agent(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "worker")), 1,
		     "second room goes to the idle worker");
	json_decref(r);
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, "");
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 3001, 3002, "");
}

Test(engine_handoff, packets_for_another_workers_room_are_handed_over, .init = setup2,
     .fini = teardown)
{
	cr_assert_eq(send_rtp("198.18.1.1", 5001, 40001, 1001, 1, MAC1), 1,
		     "worker 0 hands r1's packet to worker 1");
	cr_assert_eq(CAP->n, 0);
	W.id = 1;
	W.st = &T.wstats[1];
	cr_assert_eq(send_rtp("198.18.1.1", 5001, 40001, 1001, 1, MAC1), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 1);
}

Test(engine, arp_and_neighbour_solicitations_for_own_addresses_are_answered)
{
	uint8_t f[128];
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, MAC1, 6);
	f[12] = 0x08, f[13] = 0x06;
	const uint8_t req[28] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 1, 1, 198, 18, 1, 1,
				 0, 0, 0, 0, 0, 0, 198, 18, 0, 1};
	memcpy(f + 14, req, sizeof(req));
	cr_assert_eq(mm_engine_rx(&W, f, 60, 0, 0), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 1, "ARP for 198.18.0.1 is answered");
	struct net_arp rep;
	cr_assert_eq(net_arp_parse(CAP->f[0].data, CAP->f[0].len, &rep), 0);
	cr_assert_eq(rep.op, 2);
	cr_assert_eq(memcmp(rep.sha, H_DP_MAC, 6), 0);
	cr_assert_geq(CAP->f[0].len, 60, "padded to the Ethernet minimum");

	f[14 + 27] = 9; /* 198.18.0.9 is not ours */
	cr_assert_eq(mm_engine_rx(&W, f, 60, 0, 0), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 1);
	cr_assert_eq(drops(MM_DROP_L3_UNSUPPORTED), 1);
	cr_assert_eq(T.wstats[0].neigh_replies, 1);
}
