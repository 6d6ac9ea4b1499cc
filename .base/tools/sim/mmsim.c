/* mmsim: simulated meetings on the test site.
 *
 *   mmsim --socket PATH [--rooms 3] [--participants 4] [--ipv6 | --mixed]
 *         [--pps 50] [--duration 20] [--video] [--video-pps 30] [--mac]
 *         [--srtp none | PROFILE | mixed]
 *
 * Creates the rooms and endpoints through mmdp's agent socket, runs the
 * participants (UDP sockets in the site's host namespaces, see
 * tools/mmsite env), prints once a second a line per room with mmdp's
 * forwarding counters (stats.get) and what the participants received,
 * and exits 0 only when every room lost nothing. With --srtp every SRTP
 * participant gets its own random in/out master keys (endpoint.put's
 * srtp), protects what it sends and unprotects what it receives (mmdp
 * forwards hop by hop); the checks run on the decrypted packets, and a
 * packet that fails to unprotect ("srtp-fail") fails the run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sim/sim.h"

#define SSRC_BASE 0x51000000u
/* The SRTP half of --srtp mixed. */
#define MIXED_PROFILE MM_SRTP_AEAD_AES_128_GCM

struct opts {
	const char *socket;
	const char *prefix;
	int rooms, participants, pps, video_pps, duration, rtcp_ms;
	int family; /* 4, 6, or 0 for mixed */
	bool video, mac, keep;
	uint16_t client_port, server_port;
	enum mm_srtp_profile srtp; /* every participant's, unless srtp_mixed */
	bool srtp_mixed;           /* alternate plain and MIXED_PROFILE */
};

/* Per sender stream: packets sent at the previous report; copies of
 * packets sent before that must have arrived by now. */
struct sender {
	uint32_t snap[SIM_MAX_STREAMS];
	uint32_t rtcp_snap;
	uint64_t next_ns[SIM_MAX_STREAMS];
	uint64_t next_rtcp_ns;
};

/* One sender stream at one receiver: indexes below checked were checked. */
struct pair {
	uint32_t checked[SIM_MAX_STREAMS];
	uint32_t rtcp_checked;
};

struct room {
	char name[SIM_NAME_MAX];
	int first, n;  /* participants [first, first + n) */
	long long worker;
	long long prev_rx, prev_tx;
	uint64_t prev_sent, prev_recv;
	uint64_t checked, lost;           /* RTP copies */
	uint64_t rtcp_checked, rtcp_lost; /* RTCP copies */
	struct pair *pairs;               /* [receiver * n + sender] */
};

struct sim {
	struct opts o;
	struct sim_site site;
	struct mm_agent_client agent;
	int n_rooms, n_parts;
	struct room *rooms;
	struct sim_participant *ps;
	struct sim_participant **pp;
	struct sender *senders;
	uint64_t start_ns;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmsim --socket PATH [--rooms N] [--participants N] [--ipv6 | --mixed]\n"
		"             [--pps N] [--duration S] [--video] [--video-pps N] [--mac]\n"
		"             [--rtcp-interval MS] [--prefix NAME] [--keep]\n"
		"             [--srtp none | PROFILE | mixed]\n"
		"  Run it under \"tools/mmsite run -- ...\" (it reads the MMSITE_* variables).\n"
		"  --mixed  alternate IPv4 and IPv6 participants (default IPv4, --ipv6 all v6)\n"
		"  --mac    give mmdp each participant's MAC (else mmdp sends to the site's\n"
		"           gateway until it learns the MAC from the participant's packets)\n"
		"  --keep   leave the rooms in mmdp at the end\n"
		"  --srtp   none (default: plain RTP/RTCP), or SRTP/SRTCP with random keys per\n"
		"           participant and direction: AES_CM_128_HMAC_SHA1_80,\n"
		"           AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM or AEAD_AES_256_GCM;\n"
		"           mixed: alternate plain and AEAD_AES_128_GCM participants in each\n"
		"           room (every other room starts with SRTP)\n"
		"  Exit status: 0 when no room lost anything and every SRTP packet\n"
		"  authenticated, 1 otherwise, 2 on setup errors.\n");
}

/* --srtp: none, mixed or a profile name. */
static int parse_srtp(const char *arg, struct opts *o)
{
	o->srtp_mixed = false;
	o->srtp = MM_SRTP_NONE;
	if (strcmp(arg, "none") == 0)
		return 0;
	if (strcmp(arg, "mixed") == 0) {
		o->srtp_mixed = true;
		return 0;
	}
	if (mm_srtp_profile_parse(arg, &o->srtp) == 0)
		return 0;
	fprintf(stderr,
		"mmsim: --srtp %s: want none, mixed, AES_CM_128_HMAC_SHA1_80, "
		"AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM or AEAD_AES_256_GCM\n",
		arg);
	return -EINVAL;
}

/* What --srtp asked for, for the header line. */
static const char *srtp_label(const struct opts *o, char *buf, size_t cap)
{
	if (o->srtp_mixed)
		snprintf(buf, cap, "SRTP mixed (plain / %s)", mm_srtp_profile_name(MIXED_PROFILE));
	else if (o->srtp == MM_SRTP_NONE)
		snprintf(buf, cap, "plain RTP");
	else
		snprintf(buf, cap, "SRTP %s", mm_srtp_profile_name(o->srtp));
	return buf;
}

/* The profile of participant i (0-based) of room r. */
static enum mm_srtp_profile profile_of(const struct opts *o, int r, int i)
{
	if (!o->srtp_mixed)
		return o->srtp;
	/* Alternate within the room, starting with SRTP in every other room:
	 * with --mixed (IPv4/IPv6 alternating by participant) both families
	 * then get both. */
	return (i + r) % 2 ? MIXED_PROFILE : MM_SRTP_NONE;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"socket", required_argument, NULL, 's'}, {"rooms", required_argument, NULL, 'r'},
		{"participants", required_argument, NULL, 'p'}, {"ipv6", no_argument, NULL, '6'},
		{"mixed", no_argument, NULL, 'x'}, {"pps", required_argument, NULL, 'P'},
		{"duration", required_argument, NULL, 'd'}, {"video", no_argument, NULL, 'v'},
		{"video-pps", required_argument, NULL, 'V'}, {"mac", no_argument, NULL, 'm'},
		{"rtcp-interval", required_argument, NULL, 'R'},
		{"prefix", required_argument, NULL, 'n'}, {"keep", no_argument, NULL, 'k'},
		{"srtp", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	*o = (struct opts){.socket = getenv("MMDP_AGENT_SOCKET"), .prefix = "sim", .rooms = 3,
			   .participants = 4, .pps = 50, .video_pps = 30, .duration = 20,
			   .rtcp_ms = 1000, .family = 4, .client_port = 20000,
			   .server_port = 40000};
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'r': o->rooms = atoi(optarg); break;
		case 'p': o->participants = atoi(optarg); break;
		case '6': o->family = 6; break;
		case 'x': o->family = 0; break;
		case 'P': o->pps = atoi(optarg); break;
		case 'd': o->duration = atoi(optarg); break;
		case 'v': o->video = true; break;
		case 'V': o->video_pps = atoi(optarg); break;
		case 'm': o->mac = true; break;
		case 'R': o->rtcp_ms = atoi(optarg); break;
		case 'n': o->prefix = optarg; break;
		case 'k': o->keep = true; break;
		case 'S':
			if (parse_srtp(optarg, o) != 0)
				return -EINVAL;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!o->socket || optind != argc) {
		fprintf(stderr, "mmsim: --socket PATH is required (or MMDP_AGENT_SOCKET)\n");
		return -EINVAL;
	}
	if (o->rooms < 1 || o->participants < 2 || o->participants > 100 ||
	    o->rooms * o->participants > 20000 || o->pps < 1 || o->pps > 10000 ||
	    o->video_pps < 1 || o->video_pps > 10000 || o->duration < 1 || o->rtcp_ms < 10 ||
	    strlen(o->prefix) > 40) {
		fprintf(stderr, "mmsim: option out of range (participants 2..100 per room)\n");
		return -EINVAL;
	}
	return 0;
}

static uint32_t ssrc_of(int g, int stream)
{
	return SSRC_BASE | (uint32_t)g << 4 | (uint32_t)(stream + 1);
}

/* The room of the participant that owns ssrc, or -1. */
static int room_of_ssrc(const struct sim *S, uint32_t ssrc)
{
	if ((ssrc & 0xff000000u) != SSRC_BASE)
		return -1;
	int g = (int)((ssrc & 0x00fffff0u) >> 4);
	for (int r = 0; r < S->n_rooms; r++)
		if (g >= S->rooms[r].first && g < S->rooms[r].first + S->rooms[r].n)
			return r;
	return -1;
}

/* Send req (consumed) and require "ok":true; *out gets the reply when
 * not NULL. */
static int agent_ok(struct sim *S, json_t *req, const char *what, json_t **out)
{
	json_t *reply = NULL;
	int rc = req ? sim_agent_call(&S->agent, req, &reply) : -ENOMEM;
	json_decref(req);
	if (rc) {
		fprintf(stderr, "mmsim: %s: agent: %s\n", what, strerror(-rc));
		return rc;
	}
	if (!sim_reply_ok(reply)) {
		char *t = json_dumps(reply, JSON_COMPACT);
		fprintf(stderr, "mmsim: %s refused: %s\n", what, t ? t : "?");
		free(t);
		json_decref(reply);
		return -EPROTO;
	}
	if (out)
		*out = reply;
	else
		json_decref(reply);
	return 0;
}

static int setup(struct sim *S)
{
	const struct opts *o = &S->o;
	S->n_rooms = o->rooms;
	S->n_parts = o->rooms * o->participants;
	S->rooms = calloc((size_t)S->n_rooms, sizeof(*S->rooms));
	S->ps = calloc((size_t)S->n_parts, sizeof(*S->ps));
	S->pp = calloc((size_t)S->n_parts, sizeof(*S->pp));
	S->senders = calloc((size_t)S->n_parts, sizeof(*S->senders));
	if (!S->rooms || !S->ps || !S->pp || !S->senders)
		return -ENOMEM;
	for (int g = 0; g < S->n_parts; g++)
		S->ps[g].fd = -1;

	for (int r = 0; r < S->n_rooms; r++) {
		struct room *rm = &S->rooms[r];
		snprintf(rm->name, sizeof(rm->name), "%s-r%d", o->prefix, r + 1);
		rm->first = r * o->participants;
		rm->n = o->participants;
		rm->pairs = calloc((size_t)rm->n * (size_t)rm->n, sizeof(*rm->pairs));
		if (!rm->pairs)
			return -ENOMEM;
		/* A leftover room of an earlier run would hold stale endpoints. */
		json_t *reply = NULL;
		if (sim_agent_callf(&S->agent, &reply, "{ssss}", "op", "room.del", "room",
				    rm->name) == 0)
			json_decref(reply);
		json_t *res = NULL;
		int rc = agent_ok(S, json_pack("{sssssi}", "op", "room.put", "room", rm->name,
					      "capacity", o->participants),
				  "room.put", &res);
		if (rc)
			return rc;
		rm->worker = sim_json_int(res, "worker");
		json_decref(res);
	}

	for (int g = 0; g < S->n_parts; g++) {
		int r = g / o->participants;
		int host = g % S->site.hosts + 1;
		int fam = o->family ? o->family : (g % 2 ? 6 : 4);
		const struct sim_site_host *h = &S->site.host[host];
		int i = g - S->rooms[r].first;
		char name[2 * SIM_NAME_MAX];
		snprintf(name, sizeof(name), "%s-p%d", S->rooms[r].name, i + 1);
		struct sim_participant_conf pc = {
			.name = name,
			.netns = h->ns,
			.addr = fam == 6 ? h->ip6 : h->ip4,
			.port = (uint16_t)(o->client_port + g),
			.server_addr = fam == 6 ? S->site.dp_ip6 : S->site.dp_ip4,
			.server_port = (uint16_t)(o->server_port + g),
			.mac = o->mac ? h->mac : NULL,
			.audio_ssrc = ssrc_of(g, 0),
			.video_ssrc = o->video ? ssrc_of(g, 1) : 0,
			.srtp = profile_of(o, r, i), /* random keys */
		};
		int rc = sim_participant_open(&S->ps[g], &pc);
		if (rc) {
			fprintf(stderr, "mmsim: participant %s (%s port %u in %s): %s\n", name,
				pc.addr, pc.port, pc.netns, strerror(-rc));
			return rc;
		}
		S->pp[g] = &S->ps[g];
		rc = agent_ok(S, sim_endpoint_json(&S->ps[g], S->rooms[r].name, false, false, false),
			      "endpoint.put", NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static void teardown(struct sim *S)
{
	if (!S->o.keep && S->agent.fd >= 0)
		for (int r = 0; r < S->n_rooms; r++) {
			json_t *reply = NULL;
			if (sim_agent_callf(&S->agent, &reply, "{ssss}", "op", "room.del", "room",
					    S->rooms[r].name) == 0)
				json_decref(reply);
		}
	for (int g = 0; g < S->n_parts; g++)
		sim_participant_close(&S->ps[g]);
	for (int r = 0; r < S->n_rooms; r++)
		free(S->rooms[r].pairs);
	free(S->rooms);
	free(S->ps);
	free(S->pp);
	free(S->senders);
}

/* Check the copies of everything sent before each sender's limit. With
 * final, the limit is everything sent; otherwise what was sent up to the
 * previous report. */
static void check_room(struct sim *S, struct room *rm, bool final)
{
	int n = rm->n;
	for (int r = 0; r < n; r++) {
		const struct sim_participant *rx = &S->ps[rm->first + r];
		for (int s = 0; s < n; s++) {
			if (s == r)
				continue;
			const struct sim_participant *tx = &S->ps[rm->first + s];
			const struct sender *sd = &S->senders[rm->first + s];
			struct pair *pr = &rm->pairs[r * n + s];
			for (size_t k = 0; k < tx->n_streams; k++) {
				uint32_t limit = final ? tx->stream[k].sent : sd->snap[k];
				const struct sim_flow *f = sim_flow_find(rx, tx->stream[k].ssrc);
				if (limit > pr->checked[k]) {
					rm->lost += sim_flow_count_missing(f, pr->checked[k], limit);
					rm->checked += limit - pr->checked[k];
					pr->checked[k] = limit;
				}
			}
			uint32_t limit = final ? tx->rtcp_sent : sd->rtcp_snap;
			const struct sim_flow *f = sim_flow_find(rx, tx->stream[0].ssrc);
			for (uint32_t i = pr->rtcp_checked; i < limit; i++) {
				rm->rtcp_checked++;
				if (!sim_flow_has_rtcp(f, i))
					rm->rtcp_lost++;
			}
			if (limit > pr->rtcp_checked)
				pr->rtcp_checked = limit;
		}
	}
}

static void snapshot_senders(struct sim *S)
{
	for (int g = 0; g < S->n_parts; g++) {
		for (size_t k = 0; k < S->ps[g].n_streams; k++)
			S->senders[g].snap[k] = S->ps[g].stream[k].sent;
		S->senders[g].rtcp_snap = S->ps[g].rtcp_sent;
	}
}

/* The room's SRTP profiles: "AEAD_AES_128_GCM", "plain", or
 * "2 plain + 2 AEAD_AES_128_GCM" for a mixed room. */
static const char *room_srtp(const struct sim *S, const struct room *rm, char *buf, size_t cap)
{
	int count[MM_SRTP__COUNT] = {0};
	int kinds = 0;
	for (int i = 0; i < rm->n; i++)
		if (count[S->ps[rm->first + i].srtp]++ == 0)
			kinds++;
	size_t len = 0;
	buf[0] = '\0';
	for (int p = 0; p < MM_SRTP__COUNT; p++) {
		if (!count[p])
			continue;
		const char *name = p == MM_SRTP_NONE ? "plain" : mm_srtp_profile_name(p);
		int n = kinds == 1 ? snprintf(buf + len, cap - len, "%s", name)
				   : snprintf(buf + len, cap - len, "%s%d %s", len ? " + " : "",
					      count[p], name);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

static uint64_t room_srtp_fail(const struct sim *S, const struct room *rm)
{
	uint64_t fail = 0;
	for (int i = 0; i < rm->n; i++)
		fail += S->ps[rm->first + i].rx_srtp_fail;
	return fail;
}

static void room_sums(const struct sim *S, const struct room *rm, uint64_t *sent, uint64_t *recv)
{
	*sent = *recv = 0;
	for (int i = 0; i < rm->n; i++) {
		const struct sim_participant *p = &S->ps[rm->first + i];
		for (size_t k = 0; k < p->n_streams; k++)
			*sent += p->stream[k].sent;
		*sent += p->rtcp_sent;
		*recv += p->rx_datagrams;
	}
}

static void report(struct sim *S, double dt, bool final)
{
	json_t *stats = NULL;
	int rc = sim_agent_callf(&S->agent, &stats, "{ss}", "op", "stats.get");
	if (rc || !sim_reply_ok(stats)) {
		fprintf(stderr, "mmsim: stats.get failed: %s\n", rc ? strerror(-rc) : "refused");
		json_decref(stats);
		stats = NULL;
	}
	double t = (double)(sim_now_ns() - S->start_ns) / 1e9;
	for (int r = 0; r < S->n_rooms; r++) {
		struct room *rm = &S->rooms[r];
		check_room(S, rm, final);
		const json_t *st = stats ? sim_stats_room(stats, rm->name) : NULL;
		long long rx = st ? sim_json_int(st, "rx_packets") : -1;
		long long tx = st ? sim_json_int(st, "tx_packets") : -1;
		uint64_t sent, recv;
		room_sums(S, rm, &sent, &recv);
		uint64_t srtp_fail = room_srtp_fail(S, rm);
		if (!final) {
			printf("[%5.1fs] %-12s w%lld  mmdp rx %6.0f/s tx %7.0f/s (total rx %lld tx %lld)"
			       "  |  sim sent %6.0f/s recv %7.0f/s  copies expected %" PRIu64
			       " received %" PRIu64 " lost %" PRIu64,
			       t, rm->name, rm->worker, (double)(rx - rm->prev_rx) / dt,
			       (double)(tx - rm->prev_tx) / dt, rx, tx,
			       (double)(sent - rm->prev_sent) / dt, (double)(recv - rm->prev_recv) / dt,
			       rm->checked + rm->rtcp_checked,
			       rm->checked + rm->rtcp_checked - rm->lost - rm->rtcp_lost,
			       rm->lost + rm->rtcp_lost);
			if (srtp_fail)
				printf(" srtp-fail %" PRIu64, srtp_fail);
			printf("\n");
		}
		rm->prev_rx = rx;
		rm->prev_tx = tx;
		rm->prev_sent = sent;
		rm->prev_recv = recv;
	}
	if (final && stats) {
		printf("mmdp drops:");
		const char *k;
		json_t *v;
		int any = 0;
		json_object_foreach(json_object_get(stats, "drops"), k, v) {
			if (json_integer_value(v)) {
				printf(" %s=%lld", k, (long long)json_integer_value(v));
				any = 1;
			}
		}
		printf("%s\n", any ? "" : " none");
	}
	fflush(stdout);
	json_decref(stats);
}

/* The end: per room, what should have arrived against what did. */
static int summary(struct sim *S)
{
	int bad_rooms = 0;
	printf("summary:\n");
	for (int r = 0; r < S->n_rooms; r++) {
		struct room *rm = &S->rooms[r];
		uint64_t rtp_sent = 0, rtcp_sent = 0, dups = 0, gaps = 0, damaged = 0, leaked = 0;
		uint64_t rtcp_mod = 0, foreign = 0, send_err = 0, recv = 0;
		uint64_t srtp_fail = 0, srtp_replay = 0;
		char profiles[160];
		for (int i = 0; i < rm->n; i++) {
			const struct sim_participant *p = &S->ps[rm->first + i];
			srtp_fail += p->rx_srtp_fail;
			srtp_replay += p->rx_srtp_replay;
			for (size_t k = 0; k < p->n_streams; k++)
				rtp_sent += p->stream[k].sent;
			rtcp_sent += p->rtcp_sent;
			damaged += p->rx_bad_payload;
			foreign += p->rx_foreign;
			send_err += p->send_errors;
			for (size_t f = 0; f < p->n_flows; f++) {
				const struct sim_flow *fl = &p->flows[f];
				recv += fl->rtp_packets;
				dups += fl->rtp_dups;
				gaps += fl->rtp_seq_gaps;
				rtcp_mod += fl->rtcp_modified;
				if (room_of_ssrc(S, fl->ssrc) != r)
					leaked += fl->rtp_packets + fl->rtcp_packets;
			}
		}
		bool ok = rm->lost == 0 && rm->rtcp_lost == 0 && dups == 0 && damaged == 0 &&
			  leaked == 0 && foreign == 0 && srtp_fail == 0 && rm->checked > 0;
		bad_rooms += !ok;
		printf("  %-12s %3d participants (%s)  RTP sent %" PRIu64 ", copies expected %" PRIu64
		       " received %" PRIu64 " lost %" PRIu64 " (%.3f%%)  RTCP sent %" PRIu64
		       ", copies expected %" PRIu64 " lost %" PRIu64 "\n"
		       "  %-12s     dups %" PRIu64 " seq-gaps %" PRIu64 " damaged %" PRIu64
		       " from-other-rooms %" PRIu64 " foreign %" PRIu64 " rtcp-modified %" PRIu64
		       " srtp-fail %" PRIu64 " (replay %" PRIu64 ") send-errors %" PRIu64
		       "  => %s\n",
		       rm->name, rm->n, room_srtp(S, rm, profiles, sizeof(profiles)), rtp_sent,
		       rm->checked, recv, rm->lost,
		       rm->checked ? 100.0 * (double)rm->lost / (double)rm->checked : 0.0,
		       rtcp_sent, rm->rtcp_checked, rm->rtcp_lost, "", dups, gaps, damaged, leaked,
		       foreign, rtcp_mod, srtp_fail, srtp_replay, send_err,
		       ok ? "OK" : srtp_fail ? "SRTP-FAIL" : "LOSS");
	}
	printf("%d of %d rooms without loss or SRTP failure\n", S->n_rooms - bad_rooms, S->n_rooms);
	return bad_rooms ? 1 : 0;
}

static uint64_t period_ns(int per_second)
{
	return 1000000000ull / (uint64_t)per_second;
}

static int run(struct sim *S)
{
	const struct opts *o = &S->o;
	uint64_t now = sim_now_ns();
	S->start_ns = now;
	/* Spread the participants' send times over one period. */
	for (int g = 0; g < S->n_parts; g++) {
		struct sender *sd = &S->senders[g];
		for (size_t k = 0; k < S->ps[g].n_streams; k++) {
			uint64_t per = period_ns(k == 0 ? o->pps : o->video_pps);
			sd->next_ns[k] = now + per * (uint64_t)g / (uint64_t)S->n_parts;
		}
		sd->next_rtcp_ns = now + (uint64_t)o->rtcp_ms * 1000000u * (uint64_t)g /
						 (uint64_t)S->n_parts;
	}
	uint64_t end = now + (uint64_t)o->duration * 1000000000u;
	uint64_t next_report = now + 1000000000u, last_report = now;
	while (!g_stop && now < end) {
		uint64_t deadline = next_report < end ? next_report : end;
		for (int g = 0; g < S->n_parts; g++) {
			for (size_t k = 0; k < S->ps[g].n_streams; k++)
				if (S->senders[g].next_ns[k] < deadline)
					deadline = S->senders[g].next_ns[k];
			if (S->senders[g].next_rtcp_ns < deadline)
				deadline = S->senders[g].next_rtcp_ns;
		}
		int wait_ms = deadline > now ? (int)((deadline - now) / 1000000u) : 0;
		int rrc = sim_receive_all(S->pp, (size_t)S->n_parts, wait_ms);
		if (rrc < 0)
			fprintf(stderr, "mmsim: receive: %s\n", strerror(-rrc));
		now = sim_now_ns();
		for (int g = 0; g < S->n_parts; g++) {
			struct sender *sd = &S->senders[g];
			for (size_t k = 0; k < S->ps[g].n_streams; k++) {
				uint64_t per = period_ns(k == 0 ? o->pps : o->video_pps);
				if (sd->next_ns[k] > now)
					continue;
				(void)sim_send_rtp(&S->ps[g], k);
				sd->next_ns[k] += per;
				if (sd->next_ns[k] + 100000000u < now)
					sd->next_ns[k] = now + per; /* fell behind: no burst */
			}
			if (sd->next_rtcp_ns <= now) {
				(void)sim_send_rtcp(&S->ps[g]);
				sd->next_rtcp_ns += (uint64_t)o->rtcp_ms * 1000000u;
				if (sd->next_rtcp_ns < now)
					sd->next_rtcp_ns = now + (uint64_t)o->rtcp_ms * 1000000u;
			}
		}
		if (now >= next_report) {
			report(S, (double)(now - last_report) / 1e9, false);
			snapshot_senders(S);
			last_report = now;
			next_report += 1000000000u;
		}
	}
	/* Let the last copies arrive: until quiet for 300 ms, at most 2 s. */
	uint64_t drain_end = sim_now_ns() + 2000000000u;
	while (sim_now_ns() < drain_end)
		if (sim_receive_all(S->pp, (size_t)S->n_parts, 300) == 0)
			break;
	report(S, (double)(sim_now_ns() - last_report) / 1e9, true);
	return summary(S);
}

int main(int argc, char **argv)
{
	struct sim S;
	memset(&S, 0, sizeof(S));
	S.agent.fd = -1;
	if (parse_opts(argc, argv, &S.o)) {
		usage(stderr);
		return 2;
	}
	char err[256];
	if (sim_site_from_env(&S.site, err, sizeof(err)) != 0) {
		fprintf(stderr, "mmsim: %s\n", err);
		return 2;
	}
	int rc = sim_agent_connect(&S.agent, S.o.socket);
	if (rc) {
		fprintf(stderr, "mmsim: agent socket %s: %s\n", S.o.socket, strerror(-rc));
		return 2;
	}
	json_t *hello = NULL;
	if (agent_ok(&S, json_pack("{ss}", "op", "hello"), "hello", &hello) != 0) {
		sim_agent_close(&S.agent);
		return 2;
	}
	char srtp[96];
	printf("mmsim: mmdp protocol %lld, %lld worker(s); %d rooms x %d participants, %s, %s, "
	       "%d pps audio%s, RTCP every %d ms, %d s\n",
	       sim_json_int(hello, "version"), sim_json_int(hello, "workers"), S.o.rooms,
	       S.o.participants, S.o.family == 4 ? "IPv4" : S.o.family == 6 ? "IPv6" : "IPv4+IPv6",
	       srtp_label(&S.o, srtp, sizeof(srtp)), S.o.pps, S.o.video ? " + video" : "",
	       S.o.rtcp_ms, S.o.duration);
	json_decref(hello);
	if ((rc = sim_site_resolve(&S.site)) != 0) {
		fprintf(stderr, "mmsim: hosts could not resolve mmdp: %s\n", strerror(-rc));
		sim_agent_close(&S.agent);
		return 2;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int status = 2;
	if (setup(&S) == 0)
		status = run(&S);
	teardown(&S);
	sim_agent_close(&S.agent);
	return status;
}
