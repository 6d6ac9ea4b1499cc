/* bench_engine: the forwarding engine's cost per packet, as a ratio
 * against the unavoidable work of an SFU copy, measured in one run.
 *
 *   bench_engine [--seconds S] [--sizes 2,10,100] [--payload 160,1200]
 *
 * For each room size N and payload size, one publisher's RTP packet fans out
 * to N-1 subscribers. "engine" is mm_engine_rx on the whole frame (parse,
 * demux, 5-tuple lookup, RTP parse, RFC 3550 statistics, route, per-copy
 * rewrite, headers and checksums). "baseline" does only what any SFU must
 * do per copy: copy the payload and write Ethernet/IP/UDP headers with the
 * checksum (net_write_udp). The ratio engine/baseline is what mmdp's logic
 * adds on top; both run alternately in the same process, best of 5 rounds,
 * so machine noise hits both. No DPDK, no I/O: packet I/O is measured
 * separately (BENCHMARKS.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/engine.h"
#include "dataplane/proto/rtp.h"

static uint8_t sink[2048];
static volatile uint64_t sink_sum;

static uint8_t *tx_alloc(void *ctx, size_t len, void **h)
{
	(void)ctx;
	*h = sink;
	return len <= sizeof(sink) ? sink : NULL;
}

static void tx_send(void *ctx, uint16_t port, void *h, size_t len)
{
	(void)ctx;
	(void)port;
	(void)h;
	sink_sum += sink[len - 1]; /* keep the copy observable */
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

static size_t build_frame(uint8_t *f, unsigned i, uint16_t seq, size_t payload)
{
	uint8_t rtp[1500], data[1500];
	memset(data, 0x5a, payload);
	struct rtp_build_params p = {.payload_type = 111, .seq = seq, .timestamp = seq * 960u,
				     .ssrc = 1000 + i};
	int n = rtp_build(rtp, sizeof(rtp), &p, data, payload);
	struct net_udp_tx tx = {.family = 4, .sport = (uint16_t)(5000 + i), .dport = (uint16_t)(40000 + i)};
	uint8_t fam;
	char ip[32];
	snprintf(ip, sizeof(ip), "198.18.%u.%u", 1 + i / 200, 1 + i % 200);
	net_addr_parse(ip, &tx.src, &fam);
	net_addr_parse("198.18.0.1", &tx.dst, &fam);
	memcpy(f + net_udp_hdr_len(4), rtp, (size_t)n);
	return net_write_udp(f, &tx, (size_t)n);
}

struct result {
	double engine_ns, baseline_ns;
};

static struct result run(unsigned n, size_t payload, double seconds)
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
	static struct mm_tables t;
	if (mm_tables_init(&t, &c) != 0)
		exit(1);
	struct mm_agent a = {.t = &t};
	agent(&a, "{\"op\":\"room.put\",\"room\":\"bench\"}");
	for (unsigned i = 0; i < n; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"op\":\"endpoint.put\",\"endpoint\":\"e%u\",\"room\":\"bench\","
			 "\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},"
			 "\"remote\":{\"addr\":\"198.18.%u.%u\",\"port\":%u},"
			 "\"streams\":[{\"ssrc\":%u,\"kind\":\"audio\"}]}",
			 i, 40000 + i, 1 + i / 200, 1 + i % 200, 5000 + i, 1000 + i);
		agent(&a, line);
	}
	/* 64 frames per publisher slot would be plenty; 16 distinct ones keep
	 * the sequence moving without rebuilding frames in the timed loop. */
	enum { NF = 16 };
	static uint8_t frames[NF][1600];
	size_t flen[NF];
	for (unsigned k = 0; k < NF; k++)
		flen[k] = build_frame(frames[k], 0, (uint16_t)k, payload);

	struct mm_worker_ctx w = {.t = &t, .id = 0, .st = &t.wstats[0],
				  .tx = {.alloc = tx_alloc, .send = tx_send}};
	struct net_udp_tx hdr = {.family = 4, .sport = 40001, .dport = 5001};
	net_addr_parse("198.18.0.1", &hdr.src, &fam);
	net_addr_parse("198.18.1.2", &hdr.dst, &fam);
	size_t hl = net_udp_hdr_len(4);

	struct result best = {1e30, 1e30};
	for (int round = 0; round < 5; round++) {
		uint64_t iters = 0;
		double t0 = now_s(), t1;
		uint16_t seq = 0;
		do {
			for (int k = 0; k < 256; k++, seq++) {
				unsigned f = seq % NF;
				/* keep sequence numbers in order for the statistics */
				rtp_set_seq(frames[f] + hl, seq);
				mm_engine_rx(&w, frames[f], flen[f], 0, (uint64_t)seq * 20000000u);
			}
			iters += 256;
			t1 = now_s();
		} while (t1 - t0 < seconds / 10);
		double e = (t1 - t0) * 1e9 / (double)iters;

		iters = 0;
		t0 = now_s();
		do {
			for (int k = 0; k < 256; k++) {
				const uint8_t *pl = frames[k % NF] + hl;
				size_t plen = flen[k % NF] - hl;
				for (unsigned s = 1; s < n; s++) {
					memcpy(sink + hl, pl, plen);
					size_t fl = net_write_udp(sink, &hdr, plen);
					sink_sum += sink[fl - 1];
				}
			}
			iters += 256;
			t1 = now_s();
		} while (t1 - t0 < seconds / 10);
		double b = (t1 - t0) * 1e9 / (double)iters;
		if (e < best.engine_ns)
			best.engine_ns = e;
		if (b < best.baseline_ns)
			best.baseline_ns = b;
	}
	if (t.wstats[0].tx_packets == 0) {
		fprintf(stderr, "bench_engine: the engine forwarded nothing\n");
		exit(1);
	}
	mm_tables_fini(&t);
	return best;
}

int main(int argc, char **argv)
{
	double seconds = 2.0;
	char sizes[128] = "2,10,100", payloads[128] = "160,1200";
	static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
					     {"sizes", required_argument, NULL, 'n'},
					     {"payload", required_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': seconds = atof(optarg); break;
		case 'n': snprintf(sizes, sizeof(sizes), "%s", optarg); break;
		case 'p': snprintf(payloads, sizeof(payloads), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: bench_engine [--seconds S] [--sizes 2,10,100] [--payload 160,1200]\n");
			return 2;
		}
	}
	urcu_qsbr_register_thread();
	printf("%-6s %-8s %14s %14s %14s %10s\n", "room", "payload", "engine ns/pkt", "ns/copy",
	       "baseline ns", "ratio");
	char *save1 = NULL;
	for (char *ns = strtok_r(sizes, ",", &save1); ns; ns = strtok_r(NULL, ",", &save1)) {
		unsigned n = (unsigned)atoi(ns);
		if (n < 2 || n > MM_ROOM_CAPACITY_MAX) {
			fprintf(stderr, "bench_engine: room sizes are 2..%d\n", MM_ROOM_CAPACITY_MAX);
			return 2;
		}
		char pl[128], *save2 = NULL;
		snprintf(pl, sizeof(pl), "%s", payloads);
		for (char *ps = strtok_r(pl, ",", &save2); ps; ps = strtok_r(NULL, ",", &save2)) {
			size_t p = (size_t)atoi(ps);
			if (p < 1 || p > 1400) {
				fprintf(stderr, "bench_engine: payloads are 1..1400 bytes\n");
				return 2;
			}
			struct result r = run(n, p, seconds);
			printf("%-6u %-8zu %14.0f %14.1f %14.0f %10.2f\n", n, p, r.engine_ns,
			       r.engine_ns / (n - 1), r.baseline_ns, r.engine_ns / r.baseline_ns);
			fflush(stdout);
		}
	}
	urcu_qsbr_unregister_thread();
	return 0;
}
