/* The whole receive path: mm_engine_rx over one frame (Ethernet/IP/UDP
 * parse, RFC 7983 demultiplexing, endpoint lookup, SRTP/SRTCP unprotect,
 * RTP/RTCP handling, simulcast and RID, STUN checks of the ICE-lite agent,
 * DTLS records up to the agent and OpenSSL) and forwarding to the other
 * members of a fixed room, without EAL. The tables are set up once through
 * the real agent protocol.
 *
 * Input: byte 0 chooses the sender and what is done to the rest (the UDP
 * payload), so that the fuzzer reaches the paths behind the lookup and the
 * SRTP check instead of spending its time on addresses and MACs:
 *   bits 0-2: 0 plain RTP endpoint "p", 1 SRTP endpoint "s", 2 ICE+DTLS
 *             endpoint "w" (from its bound address), 3 the simulcast
 *             endpoint "v", 4 an unknown source, 5 IPv6 endpoint "q",
 *             6..7 the rest is a whole Ethernet frame as it is;
 *   bit 3:    protect the payload with the sender's SRTP session (RTP or
 *             RTCP as RFC 5761 says; the RTP sequence number is replaced
 *             by a counter, so that the replay window lets it through);
 *   bit 4:    run the agent's tick afterwards (DTLS records, bindings);
 *   bit 5:    the frame arrives on the wrong local port. */
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/engine.h"
#include "dataplane/core/srtp.h"
#include "dataplane/core/tables.h"
#include "dataplane/proto/base64.h"
#include "dataplane/proto/demux.h"
#include "dataplane/proto/net.h"
#include "dataplane/proto/rtp.h"
#include "fuzz.h"
#include "stun_req.h"

static struct mm_tables T;
static struct mm_agent A;
static struct mm_worker_ctx W;
static struct mm_srtp *S_TX; /* what "s" protects with: mmdp's in_key */
static uint64_t now_ns = 1000000000ull;
static uint16_t seq_ctr;

static const uint8_t DP_MAC[6] = {2, 0, 0, 0, 0, 0xdd};
static const uint8_t GW_MAC[6] = {2, 0, 0, 0, 0, 0xee};
static const uint8_t PEER_MAC[6] = {2, 0, 0, 0, 1, 1};

/* A TX that takes every frame into one scratch buffer. */
static uint8_t tx_buf[2048];
static uint8_t *tx_alloc(void *ctx, size_t len, void **handle)
{
	(void)ctx;
	if (len > sizeof(tx_buf) - 2)
		return NULL;
	*handle = tx_buf;
	return tx_buf + 2; /* UDP payload aligned, as mbufs have it */
}
static void tx_send(void *ctx, uint16_t port, void *handle, size_t len)
{
	(void)ctx;
	(void)port;
	(void)handle;
	FUZZ_CHECK(len <= sizeof(tx_buf) - 2);
	struct net_udp u;
	/* Everything mmdp sends must parse as a frame again. */
	FUZZ_CHECK(net_parse_udp(tx_buf + 2, len, &u) == 0);
}
static void tx_discard(void *ctx, void *handle)
{
	(void)ctx;
	(void)handle;
}

static void agent_ok(const char *line)
{
	char *r = mm_agent_handle(&A, line, strlen(line));
	if (!r || !strstr(r, "\"ok\":true")) {
		fprintf(stderr, "fuzz_engine setup: %s\n -> %s\n", line, r ? r : "(null)");
		abort();
	}
	free(r);
}

static void key_of(char who, uint8_t *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(who * 37 + i * 3);
}

static size_t frame_of(uint8_t *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		       const uint8_t *pl, size_t plen)
{
	struct net_udp_tx tx;
	uint8_t f2;
	memset(&tx, 0, sizeof(tx));
	net_addr_parse(src, &tx.src, &tx.family);
	net_addr_parse(dst, &tx.dst, &f2);
	memcpy(tx.src_mac, PEER_MAC, 6);
	memcpy(tx.dst_mac, DP_MAC, 6);
	tx.sport = sport;
	tx.dport = dport;
	memcpy(f + net_udp_hdr_len(tx.family), pl, plen);
	return net_write_udp(f, &tx, plen);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct mm_dp_conf c;
	memset(&c, 0, sizeof(c));
	c.n_workers = 1;
	c.n_ports = 1;
	memcpy(c.ports[0].mac, DP_MAC, 6);
	memcpy(c.ports[0].gateway_mac, GW_MAC, 6);
	net_addr_parse("198.18.0.1", &c.ports[0].addrs[0], &c.ports[0].addr_family[0]);
	net_addr_parse("2001:2::1", &c.ports[0].addrs[1], &c.ports[0].addr_family[1]);
	c.ports[0].n_addrs = 2;
	bool all[MM_PORTS_MAX] = {false};
	char err[128];
	FUZZ_CHECK(mm_dp_conf_assign_workers(&c, all, err, sizeof(err)) == 0);
	urcu_qsbr_register_thread();
	FUZZ_CHECK(mm_tables_init(&T, &c) == 0);
	A.t = &T;
	W = (struct mm_worker_ctx){
	    .t = &T,
	    .id = 0,
	    .st = &T.wstats[0],
	    .tx = {.alloc = tx_alloc, .send = tx_send, .discard = tx_discard}};

	enum mm_srtp_profile prof = MM_SRTP_AES_CM_128_HMAC_SHA1_80;
	size_t ml = mm_srtp_master_len(prof);
	uint8_t k[MM_SRTP_MASTER_MAX];
	char ki[80], ko[80], line[2048];
	key_of('i', k, ml);
	mm_b64_encode(k, ml, ki);
	struct mm_srtp_keys keys = {.profile = prof, .master_len = ml};
	memcpy(keys.master, k, ml);
	FUZZ_CHECK(mm_srtp_create(&S_TX, &keys, false) == 0);
	key_of('o', k, ml);
	mm_b64_encode(k, ml, ko);

	agent_ok("{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":10}");
	agent_ok("{\"op\":\"endpoint.put\",\"endpoint\":\"p\",\"room\":\"r1\",\"twcc_id\":5,"
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
		 "\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
		 "\"streams\":[{\"ssrc\":1001,\"kind\":\"audio\",\"codec\":\"opus\","
		 "\"audio_level_id\":1},"
		 "{\"ssrc\":1002,\"kind\":\"video\",\"codec\":\"vp8\",\"rtx_ssrc\":1003}]}");
	snprintf(line, sizeof(line),
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"s\",\"room\":\"r1\",\"twcc_id\":3,"
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},"
		 "\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
		 "\"streams\":[{\"ssrc\":2001,\"kind\":\"audio\",\"codec\":\"opus\","
		 "\"audio_level_id\":1},"
		 "{\"ssrc\":2002,\"kind\":\"video\",\"codec\":\"h264\"}],"
		 "\"srtp\":{\"profile\":\"%s\",\"in_key\":\"%s\",\"out_key\":\"%s\"}}",
		 mm_srtp_profile_name(prof), ki, ko);
	agent_ok(line);
	agent_ok("{\"op\":\"endpoint.put\",\"endpoint\":\"w\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40003},"
		 "\"ice\":{\"ufrag\":\"mmU1\",\"pwd\":\"abcdefghijklmnopqrstuv0123\"},"
		 "\"dtls\":{\"fingerprint\":\"sha-256 "
		 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
		 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\",\"setup\":\"active\"},"
		 "\"streams\":[{\"ssrc\":3001,\"kind\":\"audio\"}]}");
	agent_ok(
	    "{\"op\":\"endpoint.put\",\"endpoint\":\"v\",\"room\":\"r1\",\"rid_id\":4,"
	    "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40004},"
	    "\"remote\":{\"addr\":\"198.18.1.4\",\"port\":5004},"
	    "\"streams\":[{\"ssrc\":4001,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\","
	    "\"layer\":0,\"rid\":\"q\"},"
	    "{\"ssrc\":4002,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\",\"layer\":1,"
	    "\"rid\":\"h\"},"
	    "{\"ssrc\":4003,\"kind\":\"video\",\"codec\":\"vp8\",\"group\":\"cam\",\"layer\":2,"
	    "\"rid\":\"f\"}]}");
	agent_ok("{\"op\":\"endpoint.put\",\"endpoint\":\"q\",\"room\":\"r1\","
		 "\"local\":{\"addr\":\"2001:2::1\",\"port\":40005},"
		 "\"remote\":{\"addr\":\"2001:2::1:5\",\"port\":5005},"
		 "\"streams\":[{\"ssrc\":5001,\"kind\":\"audio\"}]}");
	/* "w" bound to 198.18.1.3:5003 by a valid, nominating ICE check,
	 * so that its DTLS records (and media) get past the lookup. */
	uint8_t req[512], f[1024];
	size_t rn = stun_req(req, "mmU1:peer", "abcdefghijklmnopqrstuv0123", true, false);
	size_t fl = frame_of(f, "198.18.1.3", 5003, "198.18.0.1", 40003, req, rn);
	FUZZ_CHECK(mm_engine_rx(&W, f, fl, 0, now_ns) == MM_ENGINE_DONE);
	mm_agent_tick(&A);
	mm_engine_poll_mailbox(&W, now_ns);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MM_MTU + 64)
		return 0;
#ifdef FUZZ_DTLS
	/* The RFC 7983 demultiplexing and the DTLS record path alone: every
	 * input is a datagram from the bound WebRTC endpoint, and the agent
	 * (OpenSSL) takes its records at once. */
	uint8_t sel = 2 | 16;
	static uint8_t pl[2048], frame[2048 + 128];
	size_t plen = size;
	memcpy(pl, data, plen);
	enum mm_demux d = mm_demux_classify(pl, plen);
	if (plen >= 2) {
		uint8_t b = pl[0];
		FUZZ_CHECK((d == MM_DEMUX_STUN) == (b <= 3));
		FUZZ_CHECK((d == MM_DEMUX_DTLS) == (b >= 20 && b <= 63));
		FUZZ_CHECK((d == MM_DEMUX_RTP || d == MM_DEMUX_RTCP) == (b >= 128 && b <= 191));
	}
#else
	uint8_t sel = data[0];
	static uint8_t pl[2048], frame[2048 + 128];
	size_t plen = size - 1;
	memcpy(pl, data + 1, plen);
#endif
	now_ns += 20000000ull;

	static const struct {
		const char *src, *dst;
		uint16_t sport, dport;
	} who[] = {
	    {"198.18.1.1", "198.18.0.1", 5001, 40001}, {"198.18.1.2", "198.18.0.1", 5002, 40002},
	    {"198.18.1.3", "198.18.0.1", 5003, 40003}, {"198.18.1.4", "198.18.0.1", 5004, 40004},
	    {"198.18.9.9", "198.18.0.1", 5009, 40001}, {"2001:2::1:5", "2001:2::1", 5005, 40005},
	};
	size_t fl;
	unsigned w = sel & 7;
	if (w >= 6) {
		fl = plen;
		memcpy(frame, pl, plen);
	} else {
		if (sel & 8) {
			enum mm_demux k = mm_demux_classify(pl, plen);
			int rc = -1;
			if (k == MM_DEMUX_RTP && plen >= 12) {
				seq_ctr++;
				pl[2] = (uint8_t)(seq_ctr >> 8);
				pl[3] = (uint8_t)seq_ctr;
				rc = mm_srtp_protect(S_TX, pl, &plen, sizeof(pl));
			} else if (k == MM_DEMUX_RTCP && plen >= 8) {
				rc = mm_srtcp_protect(S_TX, pl, &plen, sizeof(pl));
			}
			/* S_TX is the participant's side, not mmdp's: it keeps a
			 * stream for every SSRC it protects, which would make it,
			 * not mmdp, slower with every input. Keep the streams of
			 * SSRCs the endpoints declare; the rest start afresh. */
			if (rc == 0) {
				uint32_t ssrc = k == MM_DEMUX_RTP ? rtp_get_ssrc(pl)
								   : (uint32_t)pl[4] << 24 | (uint32_t)pl[5] << 16 |
									 (uint32_t)pl[6] << 8 | pl[7];
				static const uint32_t declared[] = {1001, 1002, 1003, 2001, 2002, 3001,
								    4001, 4002, 4003, 5001};
				bool keep = false;
				for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++)
					keep |= declared[i] == ssrc;
				if (!keep)
					mm_srtp_forget(S_TX, ssrc);
			}
		}
		fl = frame_of(frame, who[w].src, who[w].sport, who[w].dst, who[w].dport, pl, plen);
	}
#ifdef FUZZ_DTLS
	uint64_t unsupported = T.wstats[0].drops[MM_DROP_DTLS_UNSUPPORTED];
#endif
	int rc = mm_engine_rx(&W, frame, fl, (sel & 32) ? 1 : 0, now_ns);
	FUZZ_CHECK(rc == MM_ENGINE_DONE || rc >= 0);
#ifdef FUZZ_DTLS
	/* The endpoint is bound: its records must reach the agent. */
	FUZZ_CHECK(T.wstats[0].drops[MM_DROP_DTLS_UNSUPPORTED] == unsupported);
#endif
	mm_engine_poll_mailbox(&W, now_ns);
	if (sel & 16)
		mm_agent_tick(&A);
	return 0;
}
