/* mmpeer: one simulated participant whose transport comes from outside,
 * e.g. from `mmctl --json join` (server address and port, SRTP profile
 * and keys). It sends audio (and camera video) to its server port and
 * counts what it receives, per sender SSRC, after unprotecting it.
 *
 *   mmpeer --addr A --port P --server ADDR:PORT [--netns NS] [--name N]
 *          [--srtp PROFILE --key-to-server B64 --key-from-server B64]
 *          [--audio-ssrc N] [--video-ssrc N] [--pps 50] [--duration S]
 *          [--status FILE]
 *
 * Once a second it rewrites FILE (atomically) with
 *   {"name":..,"sent":{"<ssrc>":n,..},"received":{"<ssrc>":n,..},
 *    "srtp_fail":n,"srtp_replay":n,"foreign":n}
 * (srtp_fail: packets that did not unprotect; srtp_replay: of which refused
 * as replayed or too old)
 * so a script (tools/demo-meeting) can tell who hears whom. Runs until
 * SIGTERM/SIGINT or --duration; exit 0, or 1 on a setup error, 2 on bad
 * usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dataplane/proto/base64.h"
#include "tools/sim/sim.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmpeer --addr A --port P --server ADDR:PORT [--netns NS] [--name N]\n"
		   "              [--srtp PROFILE --key-to-server B64 --key-from-server B64]\n"
		   "              [--audio-ssrc N] [--video-ssrc N] [--pps 50] [--duration S]\n"
		   "              [--status FILE]\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *end || errno || v > 0xffffffffULL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int write_status(const char *path, const struct sim_participant *p)
{
	char tmp[4200];
	json_t *sent = json_object(), *recv = json_object();
	char key[16];
	for (size_t i = 0; i < p->n_streams; i++) {
		snprintf(key, sizeof(key), "%u", p->stream[i].ssrc);
		json_object_set_new(sent, key, json_integer(p->stream[i].sent));
	}
	for (size_t i = 0; i < p->n_flows; i++) {
		snprintf(key, sizeof(key), "%u", p->flows[i].ssrc);
		json_object_set_new(recv, key, json_integer((json_int_t)p->flows[i].rtp_packets));
	}
	json_t *o = json_pack("{s:s,s:o,s:o,s:I,s:I,s:I}", "name", p->name, "sent", sent,
			      "received", recv, "srtp_fail", (json_int_t)p->rx_srtp_fail,
			      "srtp_replay", (json_int_t)p->rx_srtp_replay,
			      "foreign", (json_int_t)p->rx_foreign);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int rc = json_dump_file(o, tmp, JSON_COMPACT);
	json_decref(o);
	if (rc || rename(tmp, path))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "server", required_argument, NULL, 's' },
		{ "netns", required_argument, NULL, 'n' },
		{ "name", required_argument, NULL, 'N' },
		{ "srtp", required_argument, NULL, 'S' },
		{ "key-to-server", required_argument, NULL, 'K' },
		{ "key-from-server", required_argument, NULL, 'k' },
		{ "audio-ssrc", required_argument, NULL, 'A' },
		{ "video-ssrc", required_argument, NULL, 'V' },
		{ "pps", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_participant_conf pc = { .name = "peer" };
	const char *server = NULL, *kto = NULL, *kfrom = NULL, *status = NULL;
	uint8_t key_in[MM_SRTP_MASTER_MAX], key_out[MM_SRTP_MASTER_MAX];
	char saddr[64];
	uint32_t port = 0;
	int pps = 50, duration = 0, o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'a': pc.addr = optarg; break;
		case 'p':
			if (parse_u32(optarg, &port) || !port || port > 65535)
				goto bad;
			break;
		case 's': server = optarg; break;
		case 'n': pc.netns = optarg; break;
		case 'N': pc.name = optarg; break;
		case 'S':
			if (mm_srtp_profile_parse(optarg, &pc.srtp))
				goto bad;
			break;
		case 'K': kto = optarg; break;
		case 'k': kfrom = optarg; break;
		case 'A': if (parse_u32(optarg, &pc.audio_ssrc)) goto bad; break;
		case 'V': if (parse_u32(optarg, &pc.video_ssrc)) goto bad; break;
		case 'r': pps = atoi(optarg); if (pps < 1 || pps > 1000) goto bad; break;
		case 'd': duration = atoi(optarg); if (duration < 0) goto bad; break;
		case 'o': status = optarg; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (!pc.addr || !port || !server || optind != argc || (!pc.audio_ssrc && !pc.video_ssrc))
		goto bad;
	pc.port = (uint16_t)port;
	/* ADDR:PORT or [V6]:PORT */
	const char *colon = strrchr(server, ':');
	uint32_t sport;
	if (!colon || parse_u32(colon + 1, &sport) || !sport || sport > 65535)
		goto bad;
	size_t alen = (size_t)(colon - server);
	if (server[0] == '[' && alen >= 2 && server[alen - 1] == ']')
		snprintf(saddr, sizeof(saddr), "%.*s", (int)(alen - 2), server + 1);
	else
		snprintf(saddr, sizeof(saddr), "%.*s", (int)alen, server);
	pc.server_addr = saddr;
	pc.server_port = (uint16_t)sport;
	if (pc.srtp != MM_SRTP_NONE) {
		size_t need = mm_srtp_master_len(pc.srtp);
		if (!kto || !kfrom || mm_b64_decode(kto, key_in, sizeof(key_in)) != (int)need ||
		    mm_b64_decode(kfrom, key_out, sizeof(key_out)) != (int)need) {
			fprintf(stderr, "mmpeer: --srtp needs both keys, %zu bytes each in base64\n",
				need);
			return 2;
		}
		pc.srtp_in_key = key_in;
		pc.srtp_out_key = key_out;
	}

	struct sim_participant p;
	int rc = sim_participant_open(&p, &pc);
	if (rc) {
		fprintf(stderr, "mmpeer: cannot open the participant: %s\n", strerror(-rc));
		return 1;
	}
	/* Like WebRTC senders, start the sequence numbers below 2^15: a
	 * receiver that misses the first packets then still guesses the
	 * rollover counter right (the simulator's default starts just below
	 * the wrap, to test it). */
	for (size_t s = 0; s < p.n_streams; s++) {
		uint16_t r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = 1;
		p.stream[s].seq = r & 0x7fff;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	uint64_t start = sim_now_ns(), next_send = start, next_status = start;
	uint64_t gap = 1000000000ull / (uint64_t)pps;
	while (!stop && (!duration || sim_now_ns() - start < (uint64_t)duration * 1000000000ull)) {
		uint64_t now = sim_now_ns();
		if (now >= next_send) {
			for (size_t s = 0; s < p.n_streams; s++)
				sim_send_rtp(&p, s);
			next_send += gap;
		}
		if (now >= next_status) {
			if (status && write_status(status, &p))
				fprintf(stderr, "mmpeer: cannot write %s\n", status);
			next_status += 1000000000ull;
		}
		struct sim_participant *one = &p;
		int wait = (int)((next_send > now ? next_send - now : 0) / 1000000);
		sim_receive_all(&one, 1, wait);
	}
	if (status)
		write_status(status, &p);
	sim_participant_close(&p);
	return 0;
bad:
	usage(stderr);
	return 2;
}
