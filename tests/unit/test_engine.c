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
				   .tx = {.alloc = h_cap_alloc, .send = h_cap_send, .discard = h_cap_discard,
					  .ctx = CAP}};
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

/* Captured frames that are RTP (not mmdp's own RTCP: its receiver
 * reports to publishers come once a second of their media). */
static size_t rtp_copies(void)
{
	size_t n = 0;
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		n += !(u.payload_len >= 2 && pl[1] >= 200 && pl[1] <= 206);
	}
	return n;
}

/* An SR of ssrc with an SDES CNAME: what a publisher sends. */
static size_t sender_report(uint8_t *buf, size_t cap, uint32_t ssrc)
{
	struct rtcp_writer wr = {.buf = buf, .cap = cap};
	struct rtcp_sr sr;
	memset(&sr, 0, sizeof(sr));
	sr.ssrc = ssrc;
	sr.ntp = 0x0102030405060708ull;
	sr.rtp_ts = 4242;
	sr.packet_count = 7;
	sr.octet_count = 700;
	struct rtcp_sdes sdes;
	memset(&sdes, 0, sizeof(sdes));
	sdes.n_chunks = 1;
	sdes.chunk[0].ssrc = ssrc;
	sdes.chunk[0].n_items = 1;
	sdes.n_items = 1;
	sdes.item[0].type = RTCP_SDES_CNAME;
	sdes.item[0].len = 4;
	sdes.item[0].data = (const uint8_t *)"a@mm";
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_sr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &sr)), 0);
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_sdes_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &sdes)), 0);
	int len = rtcp_writer_finish(&wr);
	cr_assert_gt(len, 0);
	return (size_t)len;
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
	cr_assert_eq(rtp_copies(), 2);

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

Test(engine, sender_reports_go_on_and_receiver_reports_are_consumed)
{
	/* a's SR + SDES: to b and c, as it came (a's stream has no offsets
	 * in their views yet). */
	uint8_t rtcp[256];
	size_t len = sender_report(rtcp, sizeof(rtcp), 1001);
	uint8_t frame[400];
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtcp, len);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 2);
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		cr_assert_eq(u.payload_len, len);
		cr_assert_eq(memcmp(pl, rtcp, len), 0);
	}
	/* A receiver report and a PLI on an audio stream: consumed. */
	struct rtcp_writer wr = {.buf = rtcp, .cap = sizeof(rtcp)};
	struct rtcp_rr rr;
	memset(&rr, 0, sizeof(rr));
	rr.ssrc = 1001;
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_rr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &rr)), 0);
	cr_assert_geq(rtcp_writer_add(&wr, rtcp_pli_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), 1001, 3001)), 0);
	int l2 = rtcp_writer_finish(&wr);
	cr_assert_gt(l2, 0);
	CAP->n = 0;
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtcp, (size_t)l2);
	cr_assert_eq(mm_engine_rx(&W, frame, fl, 0, 0), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 0, "nothing forwarded");
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"a\"}");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "sfu"), "rtcp_consumed")), 1);
	json_decref(r);
	/* A malformed compound is still a drop. */
	rtcp[3] = 0x40; /* length word past the end */
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtcp, (size_t)l2);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_RTCP_MALFORMED), 1);
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

/* ------------------------------------------------------------------ SRTP */

#include "dataplane/core/srtp.h"
#include "dataplane/proto/base64.h"

/* Distinct master key+salt per (endpoint, direction, generation). */
static void key_of(char who, char dir, int gen, enum mm_srtp_profile p, uint8_t *k)
{
	for (size_t i = 0; i < mm_srtp_master_len(p); i++)
		k[i] = (uint8_t)(who * 31 + dir * 7 + gen * 101 + i);
}

static const char *srtp_json(char who, enum mm_srtp_profile p, int gen, bool in, bool out)
{
	static char buf[512];
	uint8_t k[MM_SRTP_MASTER_MAX];
	char ki[80], ko[80];
	key_of(who, 'i', gen, p, k);
	mm_b64_encode(k, mm_srtp_master_len(p), ki);
	key_of(who, 'o', gen, p, k);
	mm_b64_encode(k, mm_srtp_master_len(p), ko);
	size_t o = (size_t)snprintf(buf, sizeof(buf), ",\"srtp\":{\"profile\":\"%s\"", mm_srtp_profile_name(p));
	if (in)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ",\"in_key\":\"%s\"", ki);
	if (out)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ",\"out_key\":\"%s\"", ko);
	snprintf(buf + o, sizeof(buf) - o, "}");
	return buf;
}

/* The participant's side of a session: protects with what mmdp unprotects
 * (its in_key) or unprotects with what mmdp protects (its out_key). */
static struct mm_srtp *peer_session(char who, char dir, int gen, enum mm_srtp_profile p, bool inbound)
{
	struct mm_srtp_keys k = {.profile = p, .master_len = mm_srtp_master_len(p)};
	key_of(who, dir, gen, p, k.master);
	struct mm_srtp *s;
	cr_assert_eq(mm_srtp_create(&s, &k, inbound), 0);
	return s;
}

#define GCM MM_SRTP_AEAD_AES_128_GCM
#define CM80 MM_SRTP_AES_CM_128_HMAC_SHA1_80

static void setup_srtp(void)
{
	setup_n(1);
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, srtp_json('a', GCM, 0, true, true));
	H_OK(&A, H_EP_FMT, "b", "r1", 40002, "198.18.1.2", 5002, 2001, 2002, srtp_json('b', CM80, 0, true, true));
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 3001, 3002, "");
}

/* a's participant protects an RTP packet with generation gen. */
static size_t a_srtp(struct mm_srtp *a_tx, uint8_t *frame, uint16_t seq, uint8_t *plain, size_t *plain_len)
{
	uint8_t pkt[1500];
	size_t n = h_rtp(pkt, sizeof(pkt), 1001, seq, 960u * seq, 111, 160);
	memcpy(plain, pkt, n);
	*plain_len = n;
	cr_assert_eq(mm_srtp_protect(a_tx, pkt, &n, sizeof(pkt)), 0);
	return h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, pkt, n);
}

/* Find the copy sent to UDP port dport; returns its payload (copied). */
static size_t copy_to(uint16_t dport, uint8_t *out)
{
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		if (u.dport == dport) {
			memcpy(out, pl, u.payload_len);
			return u.payload_len;
		}
	}
	cr_assert_fail("no copy to port %u", dport);
	return 0;
}

Test(engine_srtp, decrypted_once_and_encrypted_for_each_receiver, .init = setup_srtp, .fini = teardown)
{
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	struct mm_srtp *b_rx = peer_session('b', 'o', 0, CM80, true);
	uint8_t frame[1600], plain[1500], got[1600];
	size_t plen;
	for (uint16_t seq = 65530; seq != 10; seq++) { /* across the wrap: ROC 0 -> 1 */
		CAP->n = 0;
		size_t fl = a_srtp(a_tx, frame, seq, plain, &plen);
		cr_assert_eq(mm_engine_rx(&W, frame, fl, 0, 0), MM_ENGINE_DONE);
		cr_assert_eq(CAP->n, 2, "seq %u: copies %zu", seq, CAP->n);
		size_t n = copy_to(5002, got);
		cr_assert_eq(n, plen + mm_srtp_rtp_trailer(CM80), "b gets SRTP with its profile's tag");
		cr_assert_eq(mm_srtp_unprotect(b_rx, got, &n), 0, "b decrypts seq %u with its key", seq);
		cr_assert_eq(n, plen);
		cr_assert_eq(memcmp(got, plain, plen), 0, "byte-identical after the hop");
		n = copy_to(5003, got);
		cr_assert_eq(n, plen, "c is plain RTP");
		cr_assert_eq(memcmp(got, plain, plen), 0);
	}
	mm_srtp_destroy(a_tx);
	mm_srtp_destroy(b_rx);
	cr_assert_eq(T.wstats[0].drops[MM_DROP_SRTP_AUTH], 0);
}

Test(engine_srtp, tampered_replayed_wrong_key_and_truncated_are_dropped, .init = setup_srtp,
     .fini = teardown)
{
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	struct mm_srtp *wrong = peer_session('z', 'i', 0, GCM, false);
	uint8_t frame[1600], copy[1600], plain[1500];
	size_t plen;
	size_t fl = a_srtp(a_tx, frame, 1, plain, &plen);
	memcpy(copy, frame, fl);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 2);

	mm_engine_rx(&W, copy, fl, 0, 0); /* the same packet again */
	cr_assert_eq(drops(MM_DROP_SRTP_REPLAY), 1);

	fl = a_srtp(a_tx, frame, 2, plain, &plen);
	frame[fl - 20] ^= 0x01; /* one bit of the ciphertext */
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 1);

	fl = a_srtp(wrong, frame, 3, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 2, "wrong key");

	fl = a_srtp(a_tx, frame, 4, plain, &plen);
	/* cut to the RTP header + 5 bytes: shorter than the GCM tag */
	size_t hl = net_udp_hdr_len(4), cut = 12 + 5;
	fl = h_frame(copy, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, frame + hl, cut);
	mm_engine_rx(&W, copy, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH) + drops(MM_DROP_RTP_MALFORMED), 3, "truncated");

	cr_assert_eq(CAP->n, 2, "no bad packet reached anyone");
	mm_srtp_destroy(a_tx);
	mm_srtp_destroy(wrong);
}

Test(engine_srtp, srtcp_is_decrypted_and_reencrypted, .init = setup_srtp, .fini = teardown)
{
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	struct mm_srtp *b_rx = peer_session('b', 'o', 0, CM80, true);
	uint8_t rtcp[256], pkt[300], frame[400], got[400];
	size_t len = sender_report(rtcp, sizeof(rtcp), 1001);
	for (int i = 0; i < 3; i++) {
		CAP->n = 0;
		memcpy(pkt, rtcp, len);
		size_t n = len;
		cr_assert_eq(mm_srtcp_protect(a_tx, pkt, &n, sizeof(pkt)), 0);
		size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, pkt, n);
		mm_engine_rx(&W, frame, fl, 0, 0);
		cr_assert_eq(CAP->n, 2);
		n = copy_to(5002, got);
		cr_assert_eq(mm_srtcp_unprotect(b_rx, got, &n), 0, "b decrypts SRTCP %d", i);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(got, rtcp, len), 0);
		n = copy_to(5003, got);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(got, rtcp, len), 0, "c gets plain RTCP");
	}
	mm_srtp_destroy(a_tx);
	mm_srtp_destroy(b_rx);
}

static json_int_t ep_memory(const char *ep)
{
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"%s\"}", ep);
	json_int_t m = json_integer_value(json_object_get(r, "memory_bytes"));
	json_decref(r);
	return m;
}

/* libsrtp2 keeps a stream for every SSRC that authenticates: an endpoint's
 * SRTCP from SSRCs none of its streams use is let in for at most
 * MM_RTCP_SSRCS_MAX of them; the rest are dropped before unprotect, so an
 * authenticated participant cannot grow mmdp's session without end. Its
 * own stream's SSRC stays in. */
Test(engine_srtp, srtcp_from_new_ssrcs_is_bounded, .init = setup_srtp, .fini = teardown)
{
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	uint8_t rtcp[256], pkt[300], frame[400];
	json_int_t before = ep_memory("a");
	const uint32_t n_new = MM_RTCP_SSRCS_MAX + 24;
	for (uint32_t i = 0; i < n_new + 2; i++) {
		/* the last two: an SSRC let in before, and a's own stream's */
		uint32_t ssrc = i < n_new ? 0x50000000u + i : i == n_new ? 0x50000000u : 1001;
		size_t n = sender_report(rtcp, sizeof(rtcp), ssrc);
		memcpy(pkt, rtcp, n);
		cr_assert_eq(mm_srtcp_protect(a_tx, pkt, &n, sizeof(pkt)), 0);
		size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, pkt, n);
		mm_engine_rx(&W, frame, fl, 0, 0);
	}
	cr_assert_eq(drops(MM_DROP_UNKNOWN_SSRC), n_new - MM_RTCP_SSRCS_MAX,
		     "every new SSRC past the bound is dropped");
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 0, "none reached libsrtp2 and failed");
	cr_assert_eq(ep_memory("a") - before,
		     (json_int_t)(MM_RTCP_SSRCS_MAX * mm_srtp_stream_bytes(GCM, true)),
		     "a's inbound session holds one stream per SSRC let in, no more");
	/* a's stream and an SSRC let in still authenticate and go on */
	CAP->n = 0;
	size_t n = sender_report(rtcp, sizeof(rtcp), 1001);
	memcpy(pkt, rtcp, n);
	cr_assert_eq(mm_srtcp_protect(a_tx, pkt, &n, sizeof(pkt)), 0);
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, pkt, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 2, "a's sender report still reaches b and c");
	mm_srtp_destroy(a_tx);
}

Test(engine_srtp, missing_keys_are_dropped_as_no_key, .init = setup_srtp, .fini = teardown)
{
	/* b has a profile but no keys yet (as while DTLS runs) */
	H_OK(&A, H_EP_FMT, "b", "r1", 40002, "198.18.1.2", 5002, 2001, 2002, srtp_json('b', CM80, 0, false, false));
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	uint8_t frame[1600], plain[1500];
	size_t plen;
	size_t fl = a_srtp(a_tx, frame, 1, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 1, "only c; b has no out key");
	cr_assert_eq(drops(MM_DROP_SRTP_NO_KEY), 1);
	uint8_t rtp[200];
	size_t n = h_rtp(rtp, sizeof(rtp), 2001, 1, 0, 111, 40);
	fl = h_frame(frame, "198.18.1.2", 5002, "198.18.0.1", 40002, MAC1, rtp, n);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_SRTP_NO_KEY), 2, "b's packets cannot be decrypted");
	cr_assert_eq(CAP->n, 1);
	mm_srtp_destroy(a_tx);
}

Test(engine_srtp, rekey_keeps_media_in_flight, .init = setup_srtp, .fini = teardown)
{
	struct mm_srtp *old_tx = peer_session('a', 'i', 0, GCM, false);
	struct mm_srtp *new_tx = peer_session('a', 'i', 1, GCM, false);
	uint8_t frame[1600], plain[1500];
	size_t plen, fl;
	fl = a_srtp(old_tx, frame, 1, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 2);

	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, srtp_json('a', GCM, 1, true, true));
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"a\"}");
	cr_assert(json_is_true(json_object_get(json_object_get(r, "srtp"), "previous_keys")));
	json_decref(r);

	fl = a_srtp(old_tx, frame, 2, plain, &plen); /* sent before the client switched */
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 4, "in-flight packet under the old key is forwarded");
	fl = a_srtp(new_tx, frame, 3, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 6, "new key works");
	fl = a_srtp(old_tx, frame, 4, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 6, "once the new key is in use the old one is refused");
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 1);

	/* the same keys again is no rekey: sessions (and replay state) go on */
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1001, 1002, srtp_json('a', GCM, 1, true, true));
	fl = a_srtp(new_tx, frame, 5, plain, &plen);
	uint8_t again[1600];
	memcpy(again, frame, fl);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(CAP->n, 8);
	mm_engine_rx(&W, again, fl, 0, 0);
	cr_assert_eq(drops(MM_DROP_SRTP_REPLAY), 1, "replay window survived the put");
	mm_srtp_destroy(old_tx);
	mm_srtp_destroy(new_tx);
}

Test(engine_srtp, memory_is_reported_and_grows_with_streams, .init = setup_srtp, .fini = teardown)
{
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"b\"}");
	json_int_t before = json_integer_value(json_object_get(r, "memory_bytes"));
	json_decref(r);
	cr_assert_gt(before, (json_int_t)sizeof(struct mm_endpoint));
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	uint8_t frame[1600], plain[1500];
	size_t plen;
	size_t fl = a_srtp(a_tx, frame, 1, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"b\"}");
	json_int_t after = json_integer_value(json_object_get(r, "memory_bytes"));
	json_decref(r);
	cr_assert_eq(after - before, (json_int_t)mm_srtp_stream_bytes(CM80, false),
		     "one forwarded stream adds one outbound SRTP stream");
	mm_srtp_destroy(a_tx);
}

Test(engine_srtp, bad_keys_are_refused, .init = setup_srtp, .fini = teardown)
{
	H_ERR(&A, "invalid_field", H_EP_FMT, "d", "r1", 40004, "198.18.1.4", 5004, 1, 2,
	      ",\"srtp\":{\"profile\":\"AES_CM_128_NULL\"}");
	H_ERR(&A, "missing_field", H_EP_FMT, "d", "r1", 40004, "198.18.1.4", 5004, 1, 2,
	      ",\"srtp\":{\"in_key\":\"AAAA\"}");
	H_ERR(&A, "invalid_field", H_EP_FMT, "d", "r1", 40004, "198.18.1.4", 5004, 1, 2,
	      ",\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"in_key\":\"AAAA\"}");
	H_ERR(&A, "invalid_field", H_EP_FMT, "d", "r1", 40004, "198.18.1.4", 5004, 1, 2,
	      ",\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"out_key\":\"not base64!\"}");
	H_ERR(&A, "not_found", "{\"op\":\"endpoint.get\",\"endpoint\":\"d\"}");
}

/* UDP checksum of the copy sent to dport (0: none). */
static uint16_t udp_csum_to(uint16_t dport)
{
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		if (u.dport == dport)
			return (uint16_t)(pl[-2] << 8 | pl[-1]);
	}
	cr_assert_fail("no copy to port %u", dport);
	return 0;
}

Test(engine_srtp, srtp_over_ipv4_skips_the_udp_checksum_unless_configured, .init = setup_srtp,
     .fini = teardown)
{
	struct mm_srtp *a_tx = peer_session('a', 'i', 0, GCM, false);
	uint8_t frame[1600], plain[1500];
	size_t plen;
	size_t fl = a_srtp(a_tx, frame, 1, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_eq(udp_csum_to(5002), 0, "SRTP to b over IPv4: the tag protects it, no checksum");
	uint16_t c = udp_csum_to(5003);
	cr_assert_neq(c, 0, "plain RTP to c keeps its checksum");
	for (size_t i = 0; i < CAP->n; i++) { /* and it is right */
		struct net_udp u;
		const uint8_t *pl;
		parse_out(i, &u, &pl);
		if (u.dport == 5003)
			cr_assert_eq(net_l4_checksum(&u.src, &u.dst, 17, pl - 8, u.payload_len + 8), 0);
	}
	T.conf.ports[0].srtp_udp_csum4 = true; /* "srtp_ipv4_udp_checksum": true */
	CAP->n = 0;
	fl = a_srtp(a_tx, frame, 2, plain, &plen);
	mm_engine_rx(&W, frame, fl, 0, 0);
	cr_assert_neq(udp_csum_to(5002), 0, "configured: SRTP copies are summed too");
	mm_srtp_destroy(a_tx);
}

/* Issue 10 item 4: for an AEAD and an HMAC profile, for SRTP and SRTCP, a
 * flipped bit anywhere the sender authenticated (header, payload, the tag
 * itself, SRTCP's index) and a replay are dropped and counted by reason;
 * nothing reaches a receiver, and the genuine packet still goes after its
 * tampered copy was dropped (a forgery does not use up the replay window). */
static void tamper_and_replay(char who, enum mm_srtp_profile p, const char *ip, uint16_t sport,
			      uint16_t dport, uint32_t ssrc, bool rtcp)
{
	struct mm_srtp *tx = peer_session(who, 'i', 0, p, false);
	uint8_t pkt[1500], frame[1600];
	size_t n, fl;
	uint64_t auth0 = drops(MM_DROP_SRTP_AUTH), replay0 = drops(MM_DROP_SRTP_REPLAY);
	const char *what = rtcp ? "SRTCP" : "SRTP";

	/* Packets 1..4, protected in order. */
	uint8_t sent[4][1500];
	size_t len[4];
	for (int i = 0; i < 4; i++) {
		uint16_t seq = (uint16_t)(i + 1);
		n = rtcp ? sender_report(pkt, sizeof(pkt), ssrc)
			 : h_rtp(pkt, sizeof(pkt), ssrc, seq, 960u * seq, 111, 160);
		cr_assert_eq(rtcp ? mm_srtcp_protect(tx, pkt, &n, sizeof(pkt))
				  : mm_srtp_protect(tx, pkt, &n, sizeof(pkt)), 0);
		memcpy(sent[i], pkt, n);
		len[i] = n;
	}
	size_t tag = p == GCM ? 16 : 10;
	/* Where a flip goes in each of packets 2..4: the last byte of the tag,
	 * a header byte (RTP timestamp; RTCP: the sender's packet count, which
	 * SRTCP encrypts), for SRTCP the index just before the tag, and for
	 * SRTP the payload. */
	size_t at[3] = { len[1] - 1, rtcp ? 20 : 5,
			 rtcp ? len[3] - tag - 1 : len[3] - tag - 3 };
	for (int i = 0; i < 4; i++) {
		CAP->n = 0;
		if (i == 0) {
			fl = h_frame(frame, ip, sport, "198.18.0.1", dport, MAC1, sent[0], len[0]);
			mm_engine_rx(&W, frame, fl, 0, 0);
			cr_assert_eq(CAP->n, 2, "%s %s: the genuine first packet goes", what,
				     mm_srtp_profile_name(p));
			continue;
		}
		memcpy(pkt, sent[i], len[i]);
		pkt[at[i - 1]] ^= 0x01;
		fl = h_frame(frame, ip, sport, "198.18.0.1", dport, MAC1, pkt, len[i]);
		mm_engine_rx(&W, frame, fl, 0, 0);
		cr_assert_eq(CAP->n, 0, "%s %s: flip at %zu of %zu reached someone", what,
			     mm_srtp_profile_name(p), at[i - 1], len[i]);
		cr_assert_eq(drops(MM_DROP_SRTP_AUTH), auth0 + (uint64_t)i,
			     "%s %s: flip at %zu counted as srtp_auth", what,
			     mm_srtp_profile_name(p), at[i - 1]);
		/* The genuine one after it still goes. */
		fl = h_frame(frame, ip, sport, "198.18.0.1", dport, MAC1, sent[i], len[i]);
		mm_engine_rx(&W, frame, fl, 0, 0);
		cr_assert_eq(CAP->n, 2, "%s %s: packet %d after its forgery", what,
			     mm_srtp_profile_name(p), i + 1);
	}
	/* Replays of every one, the newest and the oldest. */
	for (int i = 3; i >= 0; i--) {
		CAP->n = 0;
		fl = h_frame(frame, ip, sport, "198.18.0.1", dport, MAC1, sent[i], len[i]);
		mm_engine_rx(&W, frame, fl, 0, 0);
		cr_assert_eq(CAP->n, 0, "%s %s: replay of %d went on", what,
			     mm_srtp_profile_name(p), i + 1);
	}
	cr_assert_eq(drops(MM_DROP_SRTP_REPLAY), replay0 + 4, "%s %s: replays counted", what,
		     mm_srtp_profile_name(p));
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), auth0 + 3);
	mm_srtp_destroy(tx);
}

Test(engine_srtp, tampered_tags_headers_and_replays_dropped_for_srtp_and_srtcp,
     .init = setup_srtp, .fini = teardown)
{
	tamper_and_replay('a', GCM, "198.18.1.1", 5001, 40001, 1001, false);
	tamper_and_replay('b', CM80, "198.18.1.2", 5002, 40002, 2001, false);
	tamper_and_replay('a', GCM, "198.18.1.1", 5001, 40001, 1001, true);
	tamper_and_replay('b', CM80, "198.18.1.2", 5002, 40002, 2001, true);
}
