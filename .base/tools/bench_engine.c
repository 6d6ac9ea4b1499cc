/* bench_engine: mmdp's own forwarding code on one core over prebuilt
 * packets (no NIC), against the floor of the same work, in one run.
 *
 *   bench_engine [--seconds S] [--fanout 1,9,99] [--payload 120,1200]
 *                [--profiles plain,AES_CM_128_HMAC_SHA1_80,...]
 *
 * One publisher's packets fan out to F subscribers of the same profile.
 * "mmdp" is mm_engine_rx on whole frames: Ethernet/IP/UDP parse, RFC 7983
 * demux, 5-tuple lookup in the RCU hash, SRTP unprotect with the
 * publisher's session, RTP parse, RFC 3550 statistics, route, and per
 * receiver a copy, the SSRC/seq/timestamp rewrite, SRTP protect with the
 * receiver's session, Ethernet/IP/UDP headers and UDP checksum.
 * "floor" is the least any SFU does per forwarded packet for the same
 * bytes: for plain RTP one copy plus headers and checksum; for SRTP one
 * packet copy plus one OpenSSL EVP encryption with the profile's cipher
 * (AES-GCM with its tag, or AES-CTR plus HMAC-SHA1). Both are timed in
 * alternating slices in the same process, 11 rounds; the numbers printed
 * are medians, and the ratio is the median of each round's mmdp/floor
 * (slices timed back to back see the same host speed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/engine.h"
#include "dataplane/core/srtp.h"
#include "dataplane/proto/base64.h"
#include "dataplane/proto/rtp.h"

#define ROUNDS 11 /* alternating mmdp/floor slices; medians are reported */
#define MAX_FRAMES 32768 /* distinct SRTP packets per round (replay protection) */

static uint8_t sink_buf[2048 + 2] __attribute__((aligned(64)));
static uint8_t *const sink = sink_buf + 2; /* UDP payload 32-bit aligned (struct mm_tx) */
static volatile uint64_t sink_sum;

static uint8_t *tx_alloc(void *ctx, size_t len, void **h)
{
	(void)ctx;
	*h = sink;
	return len <= sizeof(sink_buf) - 2 ? sink : NULL;
}

static void tx_send(void *ctx, uint16_t port, void *h, size_t len)
{
	(void)ctx;
	(void)port;
	(void)h;
	sink_sum += sink[len - 1]; /* keep the copy observable */
}

static void tx_discard(void *ctx, void *h)
{
	(void)ctx;
	(void)h;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_engine: %s\n", what);
	exit(1);
}

static void agent(struct mm_agent *a, const char *line)
{
	char *r = mm_agent_handle(a, line, strlen(line));
	if (!r || !strstr(r, "\"ok\":true")) {
		fprintf(stderr, "bench_engine: agent refused %s: %s\n", line, r ? r : "(null)");
		exit(1);
	}
	free(r);
}

static void master_key(uint8_t *k, size_t n, unsigned who)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(who * 37 + i * 11 + 5);
}

/* A room of 1 + fanout endpoints with profile p (MM_SRTP_NONE: plain). */
static void make_room(struct mm_tables *t, unsigned fanout, enum mm_srtp_profile p)
{
	struct mm_dp_conf c;
	memset(&c, 0, sizeof(c));
	c.n_workers = 1;
	c.n_ports = 1;
	uint8_t fam;
	net_addr_parse("198.18.0.1", &c.ports[0].addrs[0], &fam);
	c.ports[0].addr_family[0] = fam;
	c.ports[0].n_addrs = 1;
	c.ports[0].worker_mask = 1;
	if (mm_tables_init(t, &c) != 0)
		die("tables");
	struct mm_agent a = {.t = t};
	agent(&a, "{\"op\":\"room.put\",\"room\":\"bench\"}");
	for (unsigned i = 0; i <= fanout; i++) {
		char line[1024], srtp[256] = "";
		if (p != MM_SRTP_NONE) {
			uint8_t k[MM_SRTP_MASTER_MAX];
			char in[80], out[80];
			master_key(k, mm_srtp_master_len(p), 2 * i);
			mm_b64_encode(k, mm_srtp_master_len(p), in);
			master_key(k, mm_srtp_master_len(p), 2 * i + 1);
			mm_b64_encode(k, mm_srtp_master_len(p), out);
			snprintf(srtp, sizeof(srtp),
				 ",\"srtp\":{\"profile\":\"%s\",\"in_key\":\"%s\",\"out_key\":\"%s\"}",
				 mm_srtp_profile_name(p), in, out);
		}
		snprintf(line, sizeof(line),
			 "{\"op\":\"endpoint.put\",\"endpoint\":\"e%u\",\"room\":\"bench\","
			 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},"
			 "\"remote\":{\"addr\":\"198.18.%u.%u\",\"port\":%u},"
			 "\"streams\":[{\"ssrc\":%u,\"kind\":\"video\"}]%s}",
			 i, 40000 + i, 1 + i / 200, 1 + i % 200, 5000 + i, 1000 + i, srtp);
		agent(&a, line);
	}
}

/* n frames from endpoint 0, sequence 0.., protected with its in_key. */
static void make_frames(uint8_t (*frames)[1600], size_t *flen, size_t n, size_t payload,
			enum mm_srtp_profile p)
{
	struct mm_srtp *tx = NULL;
	if (p != MM_SRTP_NONE) {
		struct mm_srtp_keys k = {.profile = p, .master_len = mm_srtp_master_len(p)};
		master_key(k.master, k.master_len, 0);
		if (mm_srtp_create(&tx, &k, false) != 0)
			die("srtp session");
	}
	uint8_t data[1500], rtp[1600];
	memset(data, 0x5a, payload);
	struct net_udp_tx hdr = {.family = 4, .sport = 5000, .dport = 40000};
	uint8_t fam;
	net_addr_parse("198.18.1.1", &hdr.src, &fam);
	net_addr_parse("198.18.0.1", &hdr.dst, &fam);
	size_t hl = net_udp_hdr_len(4);
	for (size_t i = 0; i < n; i++) {
		struct rtp_build_params bp = {.payload_type = 96, .seq = (uint16_t)i,
					      .timestamp = (uint32_t)i * 3000u, .ssrc = 1000};
		int len = rtp_build(rtp, sizeof(rtp), &bp, data, payload);
		size_t l = (size_t)len;
		if (tx && mm_srtp_protect(tx, rtp, &l, sizeof(rtp)) != 0)
			die("protect");
		memcpy(frames[i] + hl, rtp, l);
		flen[i] = net_write_udp(frames[i], &hdr, l);
	}
	if (tx)
		mm_srtp_destroy(tx);
}

/* ---- the floor: one copy and one encryption per forwarded packet ---- */

struct floor_ctx {
	enum mm_srtp_profile p;
	EVP_CIPHER_CTX *ctx;
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_ctx; /* HMAC-SHA1 keyed once, as a session keeps it */
	uint8_t key[32], auth_key[20], iv[16];
	uint8_t out[1600];
	struct net_udp_tx hdr;
};

static void floor_init(struct floor_ctx *f, enum mm_srtp_profile p)
{
	memset(f, 0, sizeof(*f));
	f->p = p;
	uint8_t fam;
	f->hdr = (struct net_udp_tx){.family = 4, .sport = 40001, .dport = 5001};
	net_addr_parse("198.18.0.1", &f->hdr.src, &fam);
	net_addr_parse("198.18.1.2", &f->hdr.dst, &fam);
	if (p == MM_SRTP_NONE)
		return;
	f->ctx = EVP_CIPHER_CTX_new();
	memset(f->key, 0x11, sizeof(f->key));
	memset(f->auth_key, 0x22, sizeof(f->auth_key));
	const EVP_CIPHER *c = p == MM_SRTP_AEAD_AES_128_GCM   ? EVP_aes_128_gcm()
			      : p == MM_SRTP_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
							      : EVP_aes_128_ctr();
	if (!EVP_EncryptInit_ex(f->ctx, c, NULL, f->key, NULL))
		die("EVP init");
	if (p == MM_SRTP_AEAD_AES_128_GCM || p == MM_SRTP_AEAD_AES_256_GCM) {
		EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
		return;
	}
	char digest[] = "SHA1";
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	f->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	f->mac_ctx = f->mac ? EVP_MAC_CTX_new(f->mac) : NULL;
	if (!f->mac_ctx || !EVP_MAC_init(f->mac_ctx, f->auth_key, sizeof(f->auth_key), params))
		die("HMAC init");
}

/* One forwarded packet's worth: copy the RTP packet, encrypt its payload
 * (12-byte header as AAD for GCM; CTR plus HMAC-SHA1 over the packet for
 * the CM profiles), append the tag. */
static void floor_one(struct floor_ctx *f, const uint8_t *pkt, size_t len, uint32_t counter)
{
	if (f->p == MM_SRTP_NONE) {
		/* plain: the copy with its Ethernet/IP/UDP headers and checksum */
		memcpy(f->out + net_udp_hdr_len(4), pkt, len);
		net_write_udp(f->out, &f->hdr, len);
		return;
	}
	memcpy(f->out, pkt, len);
	int n;
	memcpy(f->iv, &counter, sizeof(counter));
	if (f->p == MM_SRTP_AEAD_AES_128_GCM || f->p == MM_SRTP_AEAD_AES_256_GCM) {
		EVP_EncryptInit_ex(f->ctx, NULL, NULL, NULL, f->iv);
		EVP_EncryptUpdate(f->ctx, NULL, &n, f->out, 12);
		EVP_EncryptUpdate(f->ctx, f->out + 12, &n, f->out + 12, (int)len - 12);
		EVP_EncryptFinal_ex(f->ctx, f->out + len, &n);
		EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_GET_TAG, 16, f->out + len);
	} else {
		EVP_EncryptInit_ex(f->ctx, NULL, NULL, NULL, f->iv);
		EVP_EncryptUpdate(f->ctx, f->out + 12, &n, f->out + 12, (int)len - 12);
		size_t ml;
		uint8_t mac[20];
		EVP_MAC_init(f->mac_ctx, NULL, 0, NULL); /* same key, new message */
		EVP_MAC_update(f->mac_ctx, f->out, len);
		EVP_MAC_final(f->mac_ctx, mac, &ml, sizeof(mac));
		memcpy(f->out + len, mac, f->p == MM_SRTP_AES_CM_128_HMAC_SHA1_80 ? 10 : 4);
	}
}

struct result {
	double mmdp_ns, floor_ns; /* per input packet, medians over the rounds */
	double ratio;             /* median of the rounds' mmdp/floor */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static struct result run(unsigned fanout, size_t payload, enum mm_srtp_profile p, double seconds)
{
	static uint8_t frames[MAX_FRAMES][1600];
	static size_t flen[MAX_FRAMES];
	double ev[ROUNDS], bv[ROUNDS], rv[ROUNDS];
	struct floor_ctx fl;
	floor_init(&fl, p);
	uint8_t plain[1600];
	struct rtp_build_params bp = {.payload_type = 96, .ssrc = 1000};
	uint8_t data[1500];
	memset(data, 0x5a, payload);
	size_t plain_len = (size_t)rtp_build(plain, sizeof(plain), &bp, data, payload);

	for (int round = 0; round < ROUNDS; round++) {
		/* how many packets fit the time slot, capped by the distinct
		 * SRTP packets we may send in one session */
		static struct mm_tables t;
		make_room(&t, fanout, p);
		size_t n = MAX_FRAMES;
		make_frames(frames, flen, n, payload, p);
		struct mm_worker_ctx w = {.t = &t, .id = 0, .st = &t.wstats[0],
					  .tx = {.alloc = tx_alloc, .send = tx_send, .discard = tx_discard}};
		double t0 = now_s(), t1;
		size_t i = 0;
		do {
			for (int k = 0; k < 64 && i < n; k++, i++)
				mm_engine_rx(&w, frames[i], flen[i], 0, (uint64_t)i * 20000000u);
			t1 = now_s();
		} while (i < n && t1 - t0 < seconds / (2 * ROUNDS));
		double e = (t1 - t0) * 1e9 / (double)i;
		/* The room's count: the copies forwarded, not mmdp's own receiver
		 * reports to the publisher (the worker's tx_packets has both). */
		uint64_t fwd = mm_tables_room(&t, "bench")->tx_packets;
		uint64_t bad = 0;
		for (unsigned d = 1; d < MM_DROP__COUNT; d++)
			bad += t.wstats[0].drops[d];
		if (bad || fwd != (uint64_t)i * fanout) {
			fprintf(stderr, "bench_engine: %llu drops, %llu of %llu copies\n",
				(unsigned long long)bad, (unsigned long long)fwd,
				(unsigned long long)i * fanout);
			die("mmdp did not forward every copy");
		}
		mm_tables_fini(&t);

		size_t m = 0;
		t0 = now_s();
		do {
			for (int k = 0; k < 64; k++, m++)
				for (unsigned s = 0; s < fanout; s++)
					floor_one(&fl, plain, plain_len, (uint32_t)(m * fanout + s));
			t1 = now_s();
		} while (t1 - t0 < seconds / (2 * ROUNDS));
		double b = (t1 - t0) * 1e9 / (double)m;
		sink_sum += fl.out[plain_len - 1];
		/* The host's speed drifts: a round's two slices are timed back
		 * to back, so their ratio is what stays comparable. */
		ev[round] = e;
		bv[round] = b;
		rv[round] = e / b;
	}
	struct result res = {median(ev, ROUNDS), median(bv, ROUNDS), median(rv, ROUNDS)};
	if (fl.ctx)
		EVP_CIPHER_CTX_free(fl.ctx);
	EVP_MAC_CTX_free(fl.mac_ctx);
	EVP_MAC_free(fl.mac);
	return res;
}

static int parse_list(char *s, long *out, int max, long lo, long hi, const char *what)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v = strtol(tok, NULL, 10);
		if (n == max || v < lo || v > hi) {
			fprintf(stderr, "bench_engine: %s must be %ld..%ld\n", what, lo, hi);
			exit(2);
		}
		out[n++] = v;
	}
	return n;
}

int main(int argc, char **argv)
{
	double seconds = 2.0;
	char fanouts[128] = "1,9,99", payloads[128] = "120,1200",
	     profiles[256] = "plain,AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32,AEAD_AES_128_GCM,"
			     "AEAD_AES_256_GCM";
	static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
					     {"fanout", required_argument, NULL, 'f'},
					     {"payload", required_argument, NULL, 'p'},
					     {"profiles", required_argument, NULL, 'P'},
					     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': seconds = atof(optarg); break;
		case 'f': snprintf(fanouts, sizeof(fanouts), "%s", optarg); break;
		case 'p': snprintf(payloads, sizeof(payloads), "%s", optarg); break;
		case 'P': snprintf(profiles, sizeof(profiles), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: bench_engine [--seconds S] [--fanout 1,9,99] "
					"[--payload 120,1200] [--profiles plain,AEAD_AES_128_GCM,...]\n");
			return 2;
		}
	}
	long fo[8], pl[8];
	int nf = parse_list(fanouts, fo, 8, 1, MM_ROOM_CAPACITY_MAX - 1, "fan-outs");
	int np = parse_list(payloads, pl, 8, 20, 1400, "payloads");
	enum mm_srtp_profile prof[8];
	int npr = 0;
	char *save = NULL;
	for (char *tok = strtok_r(profiles, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (npr == 8)
			die("too many profiles");
		if (strcmp(tok, "plain") == 0)
			prof[npr++] = MM_SRTP_NONE;
		else if (mm_srtp_profile_parse(tok, &prof[npr++]) != 0) {
			fprintf(stderr, "bench_engine: unknown profile %s\n", tok);
			return 2;
		}
	}

	urcu_qsbr_register_thread();
	if (mm_srtp_global_init() != 0)
		die("srtp init");
	printf("floor per forwarded packet: plain = copy + Ethernet/IP/UDP headers and checksum;\n"
	       "SRTP = copy + one OpenSSL EVP encryption with the profile's cipher (and HMAC-SHA1)\n");
	printf("%-24s %7s %6s %12s %12s %12s %12s %7s\n", "profile", "payload", "fanout",
	       "mmdp ns/pkt", "ns/fwd", "floor ns/fwd", "fwd/s/core", "ratio");
	for (int a = 0; a < npr; a++)
		for (int b = 0; b < np; b++)
			for (int c = 0; c < nf; c++) {
				struct result r = run((unsigned)fo[c], (size_t)pl[b], prof[a], seconds);
				double per_fwd = r.mmdp_ns / (double)fo[c];
				double floor_fwd = r.floor_ns / (double)fo[c];
				printf("%-24s %7ld %6ld %12.0f %12.1f %12.1f %12.0f %7.2f\n",
				       prof[a] == MM_SRTP_NONE ? "plain" : mm_srtp_profile_name(prof[a]),
				       pl[b], fo[c], r.mmdp_ns, per_fwd, floor_fwd, 1e9 / per_fwd,
				       r.ratio);
				fflush(stdout);
			}
	urcu_qsbr_unregister_thread();
	return 0;
}
