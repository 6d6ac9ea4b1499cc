/* The engine across a restart of mmdp when streams have wrapped (SRTP
 * rollover counter, RFC 3711 3.3.1): the tables are destroyed and built
 * again from one state.sync, as mmctld does after mmdp restarts, while the
 * participants keep their SRTP sessions. mmdp must recover each sender's
 * ROC, and protect its copies with the ROC each receiver expects. */
#include "harness.h"

#include "dataplane/proto/base64.h"
#include "dataplane/proto/rtcp.h"

static struct mm_dp_conf CONF;
static struct mm_tables T;
static struct mm_agent A;
static struct h_capture *CAP;
static struct mm_worker_ctx W;
static uint64_t NOW = 5000000000ull; /* the engine's clock, ns */

static const uint8_t MAC1[6] = {0x02, 0, 0, 0, 1, 1};

#define GCM MM_SRTP_AEAD_AES_128_GCM
#define GCM256 MM_SRTP_AEAD_AES_256_GCM
#define CM80 MM_SRTP_AES_CM_128_HMAC_SHA1_80
#define CM32 MM_SRTP_AES_CM_128_HMAC_SHA1_32

/* ---- participants ---- */

struct peer {
	char name;
	enum mm_srtp_profile profile;
	uint16_t port; /* its UDP port; mmdp's is 40000 + the same last digit */
	uint32_t ssrc[2];
	struct mm_srtp *tx, *rx; /* its own sessions: they survive mmdp's restart */
};

static struct peer P[] = {
	{'a', GCM, 5001, {1001, 1002}, NULL, NULL},
	{'b', CM80, 5002, {2001, 2002}, NULL, NULL},
	{'c', GCM256, 5003, {3001, 3002}, NULL, NULL},
	{'d', CM32, 5004, {4001, 4002}, NULL, NULL},
};
#define PA (&P[0])
#define PB (&P[1])
#define PC (&P[2])
#define PD (&P[3])

static void key_of(char who, char dir, enum mm_srtp_profile p, uint8_t *k)
{
	for (size_t i = 0; i < mm_srtp_master_len(p); i++)
		k[i] = (uint8_t)(who * 37 + dir * 11 + i * 3);
}

/* endpoint.put body (without "op") of a peer; muted: its audio. */
static const char *ep_body(const struct peer *p, bool muted)
{
	static char buf[1024];
	uint8_t k[MM_SRTP_MASTER_MAX];
	char ki[80], ko[80];
	key_of(p->name, 'i', p->profile, k);
	mm_b64_encode(k, mm_srtp_master_len(p->profile), ki);
	key_of(p->name, 'o', p->profile, k);
	mm_b64_encode(k, mm_srtp_master_len(p->profile), ko);
	snprintf(buf, sizeof(buf),
		 "{\"endpoint\":\"%c\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},"
		 "\"remote\":{\"addr\":\"198.18.1.%c\",\"port\":%u},\"audio_muted\":%s,"
		 "\"streams\":[{\"ssrc\":%u,\"kind\":\"audio\"},{\"ssrc\":%u,\"kind\":\"video\"}],"
		 "\"srtp\":{\"profile\":\"%s\",\"in_key\":\"%s\",\"out_key\":\"%s\"}}",
		 p->name, 40000 + p->port % 10, p->port % 10 + '0', p->port, muted ? "true" : "false",
		 p->ssrc[0], p->ssrc[1], mm_srtp_profile_name(p->profile), ki, ko);
	return buf;
}

static struct mm_srtp *peer_session(const struct peer *p, char dir, bool inbound)
{
	struct mm_srtp_keys k = {.profile = p->profile, .master_len = mm_srtp_master_len(p->profile)};
	key_of(p->name, dir, p->profile, k.master);
	struct mm_srtp *s;
	cr_assert_eq(mm_srtp_create(&s, &k, inbound), 0);
	return s;
}

/* mmdp (re)starts: empty tables, a fresh worker, then mmctld's state.sync
 * with room r1 and the first n peers (a's audio muted if a_muted). */
static void mmdp_start(int n, bool a_muted)
{
	cr_assert_eq(mm_tables_init(&T, &CONF), 0);
	A.t = &T;
	memset(&W, 0, sizeof(W));
	W = (struct mm_worker_ctx){.t = &T, .id = 0, .st = &T.wstats[0],
				   .tx = {.alloc = h_cap_alloc, .send = h_cap_send, .discard = h_cap_discard,
					  .ctx = CAP}};
	char req[8192];
	size_t o = (size_t)snprintf(req, sizeof(req),
				    "{\"op\":\"state.sync\",\"generation\":7,\"rooms\":[{\"room\":\"r1\"}],"
				    "\"endpoints\":[");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(req + o, sizeof(req) - o, "%s%s", i ? "," : "",
				      ep_body(&P[i], i == 0 && a_muted));
	snprintf(req + o, sizeof(req) - o, "]}");
	H_OK(&A, "%s", req);
}

static void mmdp_stop(void)
{
	mm_tables_fini(&T);
}

static void setup(void)
{
	h_conf(&CONF, 1);
	urcu_qsbr_register_thread();
	CAP = calloc(1, sizeof(*CAP));
	for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
		P[i].tx = peer_session(&P[i], 'i', false);
		P[i].rx = peer_session(&P[i], 'o', true);
	}
	mmdp_start(3, false);
}

static void teardown(void)
{
	mmdp_stop();
	for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
		mm_srtp_destroy(P[i].tx);
		mm_srtp_destroy(P[i].rx);
	}
	urcu_qsbr_unregister_thread();
	free(CAP);
	H_ASSERT_NO_LEAKS();
}

TestSuite(engine_roc, .init = setup, .fini = teardown, .timeout = 240);

/* ---- traffic ---- */

/* p sends RTP (stream q, seq) protected with its own session: returns
 * mm_engine_rx's result. The clock moves 1 ms per packet. */
static int send(struct peer *p, int q, uint16_t seq)
{
	uint8_t rtp[1500], frame[1600];
	size_t n = h_rtp(rtp, sizeof(rtp), p->ssrc[q], seq, 90u * seq, 96, 200);
	cr_assert_eq(mm_srtp_protect(p->tx, rtp, &n, sizeof(rtp)), 0);
	char src[32];
	snprintf(src, sizeof(src), "198.18.1.%d", p->port % 10);
	size_t fl = h_frame(frame, src, p->port, "198.18.0.1", (uint16_t)(40000 + p->port % 10), MAC1,
			    rtp, n);
	NOW += 1000000;
	return mm_engine_rx(&W, frame, fl, 0, NOW);
}

/* The copy of (ssrc, seq) that reached receiver r since CAP was cleared:
 * r's own session must take it, with the sender's plain text. Returns
 * false if r got no such copy. */
static bool received(struct peer *r, uint32_t ssrc, uint16_t seq)
{
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		cr_assert_eq(net_parse_udp(CAP->f[i].data, CAP->f[i].len, &u), 0);
		if (u.dport != r->port)
			continue;
		uint8_t pl[1600] __attribute__((aligned(16)));
		memcpy(pl, CAP->f[i].data + u.payload_off, u.payload_len);
		if (rtp_get_ssrc(pl) != ssrc || rtp_get_seq(pl) != seq)
			continue;
		size_t n = u.payload_len;
		int rc = mm_srtp_unprotect(r->rx, pl, &n);
		if (rc != 0)
			cr_assert_fail("%c cannot unprotect SSRC %u SEQ %u from mmdp: %d", r->name, ssrc, seq,
				       rc);
		uint8_t want[1500];
		size_t wn = h_rtp(want, sizeof(want), ssrc, seq, 90u * seq, 96, 200);
		cr_assert(n == wn && memcmp(pl, want, wn) == 0, "%c: SSRC %u SEQ %u damaged", r->name,
			  ssrc, seq);
		return true;
	}
	return false;
}

/* p sends stream q from seq for count packets; each one must reach every
 * receiver in rx[] and be taken by its session. */
static void flow(struct peer *p, int q, uint16_t seq, uint32_t count, struct peer **rx, int nrx)
{
	for (uint32_t i = 0; i < count; i++, seq++) {
		CAP->n = 0;
		int r = send(p, q, seq);
		if (r != MM_ENGINE_DONE)
			cr_assert_fail("engine returned %d", r);
		for (int j = 0; j < nrx; j++)
			if (!received(rx[j], p->ssrc[q], seq))
				cr_assert_fail("%c got no copy of %c's SSRC %u SEQ %u (drops: auth %llu)",
					       rx[j]->name, p->name, p->ssrc[q], seq,
					       (unsigned long long)T.wstats[0].drops[MM_DROP_SRTP_AUTH]);
	}
}

static json_int_t srtp_stat(const char *ep, const char *key)
{
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"%s\"}", ep);
	json_t *v = json_object_get(json_object_get(r, "srtp"), key);
	cr_assert(json_is_integer(v), "endpoint %s has no srtp.%s", ep, key);
	json_int_t n = json_integer_value(v);
	json_decref(r);
	return n;
}

static uint64_t drops(enum mm_drop_reason r)
{
	return T.wstats[0].drops[r];
}

/* ---- tests ---- */

/* a's audio wraps (ROC 0 -> 1) before mmdp restarts, its video does not.
 * After the restart: mmdp recovers a's audio at ROC 1 on its first packet
 * (nothing dropped), b and c (restored by the same state.sync) take every
 * copy with the sessions they had, through the next wrap (ROC 2); d, who
 * joins after the restart, takes its copies from ROC 0 as any newcomer. */
Test(engine_roc, receivers_keep_authenticating_after_mmdp_restarts)
{
	struct peer *bc[] = {PB, PC}, *bcd[] = {PB, PC, PD};
	flow(PA, 0, 65000, 736, bc, 2); /* audio: SEQ 65000 .. 199, ROC 0 -> 1 */
	flow(PA, 1, 1000, 20, bc, 2);   /* video: ROC 0 */
	uint32_t roc = 0;
	cr_assert_eq(mm_srtp_stream_roc(PB->rx, 1001, &roc), 0);
	cr_assert_eq(roc, 1, "b's receiver is at ROC 1");

	mmdp_stop();
	mmdp_start(3, false);
	flow(PA, 0, 200, 1, bc, 2);
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 1);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 0, "the packet that recovered the ROC is forwarded");
	cr_assert_eq(srtp_stat("b", "roc_continued"), 1);
	cr_assert_eq(srtp_stat("c", "roc_continued"), 1);
	flow(PA, 1, 1020, 20, bc, 2); /* video: ROC 0 stays 0 */

	H_OK(&A, "{\"op\":\"endpoint.put\",%s", ep_body(PD, false) + 1);
	flow(PA, 0, 201, 65535 - 201 + 1 + 100, bcd, 3); /* on to ROC 2 */
	flow(PA, 1, 1040, 5, bcd, 3);
	cr_assert_eq(mm_srtp_stream_roc(PB->rx, 1001, &roc), 0);
	cr_assert_eq(roc, 2);
	cr_assert_eq(mm_srtp_stream_roc(PD->rx, 1001, &roc), 0);
	cr_assert_eq(roc, 1, "d started at ROC 0 after the restart, and wrapped once");
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 1, "recovered once");
	cr_assert_eq(srtp_stat("a", "roc_sweeps_failed"), 0);
	cr_assert_eq(srtp_stat("d", "roc_continued"), 0, "a newcomer starts at ROC 0");
	cr_assert_eq(srtp_stat("b", "roc_continued"), 1);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 0);
	cr_assert_eq(drops(MM_DROP_SRTP_REPLAY), 0);
}

/* a's audio is muted when mmdp restarts: its packets are recovered (and
 * dropped as muted); once unmuted, b and c take its copies at its ROC. */
Test(engine_roc, source_muted_across_the_restart)
{
	struct peer *bc[] = {PB, PC};
	flow(PA, 0, 65400, 400, bc, 2); /* ROC 1 */
	mmdp_stop();
	mmdp_start(3, true);
	for (uint16_t s = 264; s < 300; s++) {
		CAP->n = 0;
		send(PA, 0, s);
		cr_assert_eq(CAP->n, 0);
	}
	cr_assert_eq(drops(MM_DROP_MUTED), 36);
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 1);
	H_OK(&A, "{\"op\":\"endpoint.put\",%s", ep_body(PA, false) + 1); /* unmute in place */
	flow(PA, 0, 300, 50, bc, 2);
	cr_assert_eq(srtp_stat("b", "roc_continued"), 1);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 0);
}

/* After the restart a's SRTCP (a sender report) arrives before its RTP: it creates a's
 * inbound stream for SSRC 1001 in mmdp (and b's and c's outbound ones, by
 * forwarding it); the RTP that follows is still recovered and continued. */
Test(engine_roc, srtcp_before_rtp_after_the_restart)
{
	struct peer *bc[] = {PB, PC};
	flow(PA, 0, 65400, 400, bc, 2); /* ROC 1 */
	mmdp_stop();
	mmdp_start(3, false);

	uint8_t rtcp[256], frame[400];
	struct rtcp_writer wr = {.buf = rtcp, .cap = sizeof(rtcp)};
	struct rtcp_sr sr;
	memset(&sr, 0, sizeof(sr));
	sr.ssrc = 1001; /* a sender report: mmdp forwards it (translated) */
	sr.ntp = 1ull << 32;
	rtcp_writer_add(&wr, rtcp_sr_build(rtcp_writer_ptr(&wr), rtcp_writer_room(&wr), &sr));
	size_t n = (size_t)rtcp_writer_finish(&wr);
	cr_assert_eq(mm_srtcp_protect(PA->tx, rtcp, &n, sizeof(rtcp)), 0);
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, MAC1, rtcp, n);
	CAP->n = 0;
	mm_engine_rx(&W, frame, fl, 0, NOW);
	cr_assert_eq(CAP->n, 2, "SRTCP forwarded to b and c");

	flow(PA, 0, 264, 100, bc, 2);
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 1);
	cr_assert_eq(srtp_stat("b", "roc_continued"), 1);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 0);
}

/* Garbage under a's SSRC after the restart (a spoofed source, or packets
 * under a key mmdp does not have) is swept at most once per 100 ms per
 * stream and never forwarded; a's genuine stream is recovered at its turn.
 * The worker's budget caps the sweeps of many streams at once. */
Test(engine_roc, garbage_is_rate_limited_and_not_forwarded)
{
	struct peer *bc[] = {PB, PC};
	flow(PA, 0, 65400, 400, bc, 2); /* ROC 1 */
	mmdp_stop();
	mmdp_start(3, false);

	/* forged: the right 5-tuple and SSRC, another key */
	struct peer forger = *PA;
	forger.name = 'z';
	forger.tx = peer_session(&forger, 'i', false);
	for (int i = 0; i < 50; i++) { /* 50 ms: one sweep */
		CAP->n = 0;
		send(&forger, 0, (uint16_t)(300 + i));
		cr_assert_eq(CAP->n, 0);
	}
	cr_assert_eq(srtp_stat("a", "roc_sweeps_failed"), 1);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), 50);
	/* a's genuine packets within the same 100 ms wait (dropped) */
	uint16_t s = 264;
	while (NOW < 5000000000ull + 400 * 1000000ull + 100000000ull) {
		CAP->n = 0;
		send(PA, 0, s++);
	}
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 0, "still a's turn to wait");
	flow(PA, 0, s, 10, bc, 2);
	cr_assert_eq(srtp_stat("a", "roc_recovered"), 1);
	cr_assert_eq(srtp_stat("a", "roc_sweeps_failed"), 1);
	/* once recovered, forged packets are ordinary failures: no sweep */
	for (int i = 0; i < 300; i++)
		send(&forger, 0, (uint16_t)(s + 1000 + i));
	cr_assert_eq(srtp_stat("a", "roc_sweeps_failed"), 1);

	/* the worker's budget: four fresh streams forged at the same instant
	 * (a's video, b's and c's audio and video) get two full sweeps, then
	 * 128 attempts per ms */
	uint32_t sweeps0 = (uint32_t)(srtp_stat("a", "roc_sweeps_failed") +
				      srtp_stat("b", "roc_sweeps_failed") +
				      srtp_stat("c", "roc_sweeps_failed"));
	struct peer fb = *PB, fc = *PC;
	fb.name = 'y';
	fc.name = 'x';
	fb.tx = peer_session(&fb, 'i', false);
	fc.tx = peer_session(&fc, 'i', false);
	NOW += 1000000000ull; /* full budget */
	uint64_t t = NOW;
	struct peer *who[] = {&forger, &fb, &fb, &fc, &fc};
	int q[] = {1, 0, 1, 0, 1};
	for (int i = 0; i < 5; i++) {
		NOW = t - 1000000; /* send() adds 1 ms: all at t */
		send(who[i], q[i], 7);
	}
	uint32_t sweeps = (uint32_t)(srtp_stat("a", "roc_sweeps_failed") +
				     srtp_stat("b", "roc_sweeps_failed") +
				     srtp_stat("c", "roc_sweeps_failed")) -
			  sweeps0;
	cr_assert_eq(sweeps, 2, "%u sweeps from a budget of %u", sweeps, MM_ENGINE_ROC_BURST);
	cr_assert_eq(W.roc_tokens, MM_ENGINE_ROC_BURST - 2 * MM_SRTP_ROC_MAX);
	mm_srtp_destroy(forger.tx);
	mm_srtp_destroy(fb.tx);
	mm_srtp_destroy(fc.tx);
}
