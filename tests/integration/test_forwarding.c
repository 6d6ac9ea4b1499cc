/* Integration tests of mmdp on the test site: real UDP sockets in the
 * site's host namespaces, mmdp on its AF_XDP port in the dataplane
 * namespace, configured through its agent socket.
 *
 * Runs under "tools/mmsite run -- test_forwarding" (see meson.build): the
 * MMSITE_* variables describe the site, MMDP_BIN names the mmdp binary and
 * MMDP_EAL may override its EAL arguments. Every test starts its own mmdp
 * (fresh tables and counters) and stops it. By hand, as root:
 *   tools/mmsite run --prefix mmi- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
 *       build/tests/integration/test_forwarding --jobs=1 [--filter 'forwarding/mute*']
 * On failure it prints what each participant received from whom, mmdp's
 * counters and the end of mmdp's log (kept in /tmp/mmi-test.*). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/sim/sim.h"

/* MMDP_WORKERS=1 (default): one worker, one AF_XDP port on dp0's queue 0.
 * MMDP_WORKERS=2: two workers sharing the second CPU, each owning an AF_XDP
 * port on its own queue of dp0 (one vdev per queue, as veth needs), so
 * rooms belong to different workers and packets that land on the other
 * worker's queue are handed over through its ring. */
#define EAL_1WORKER \
	"-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
#define EAL_2WORKERS                                                                         \
	"--lcores 0@0,1@1,2@1 --in-memory --no-pci "                                         \
	"--vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1 "                          \
	"--vdev net_af_xdp1,iface=dp0,start_queue=1,queue_count=1"
#define MAX_PARTS 16
#define CLIENT_PORT 31000
#define SERVER_PORT 41000
#define SSRC_BASE 0x7a000000u

struct part {
	struct sim_participant p;
	const char *room;
	bool open;
};

static struct {
	struct sim_site site;
	char dir[64];
	char sock[128];
	char log[128];
	pid_t mmdp;
	struct mm_agent_client agent;
	struct part parts[MAX_PARTS];
	int n_parts;
	int failures;
	int workers; /* mmdp's worker lcores (MMDP_WORKERS) */
} T;

/* ---- Diagnostics -------------------------------------------------------- */

static void log_tail(int lines)
{
	FILE *f = fopen(T.log, "r");
	if (!f)
		return;
	static char ring[64][512];
	int n = 0;
	while (fgets(ring[n % 64], sizeof(ring[0]), f))
		n++;
	fclose(f);
	if (lines > 64)
		lines = 64;
	int from = n > lines ? n - lines : 0;
	fprintf(stderr, "---- last lines of mmdp's log (%s) ----\n", T.log);
	for (int i = from; i < n; i++)
		fputs(ring[i % 64], stderr);
	fprintf(stderr, "----\n");
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	if (ok)
		return;
	if (T.failures++ < 60) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "FAIL: ");
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		va_end(ap);
	}
}

static char *dumps(const json_t *j)
{
	static char buf[4096];
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(buf, sizeof(buf), "%s", t ? t : "(null)");
	free(t);
	return buf;
}

/* What each receiver got from each sender: "rtp/rtcp" per cell. */
static void print_matrix(void)
{
	fprintf(stderr, "received matrix (rows: receivers, columns: senders; RTP/RTCP):\n%-14s",
		"");
	for (int s = 0; s < T.n_parts; s++)
		fprintf(stderr, " %9d", s);
	fprintf(stderr, "\n");
	for (int r = 0; r < T.n_parts; r++) {
		const struct sim_participant *rx = &T.parts[r].p;
		fprintf(stderr, "%2d %-11s", r, rx->name);
		for (int s = 0; s < T.n_parts; s++) {
			const struct sim_flow *f = sim_flow_find(rx, T.parts[s].p.stream[0].ssrc);
			if (f)
				fprintf(stderr, " %5llu/%-3llu", (unsigned long long)f->rtp_packets,
					(unsigned long long)f->rtcp_packets);
			else
				fprintf(stderr, " %9s", "-");
		}
		fprintf(stderr, "  (bad %llu foreign %llu wrong-src %llu)\n",
			(unsigned long long)rx->rx_bad_payload, (unsigned long long)rx->rx_foreign,
			(unsigned long long)rx->rx_wrong_source);
	}
}

static json_t *stats(void);

/* mmdp's counters, condensed: non-zero drops, then rooms and endpoints. */
static void print_stats(void)
{
	json_t *st = stats();
	if (!st || !sim_reply_ok(st)) {
		fprintf(stderr, "mmdp stats.get failed\n");
		json_decref(st);
		return;
	}
	const char *k;
	json_t *v, *room, *ep;
	size_t i, j;
	fprintf(stderr, "mmdp drops:");
	json_object_foreach(json_object_get(st, "drops"), k, v)
		if (json_integer_value(v))
			fprintf(stderr, " %s=%lld", k, (long long)json_integer_value(v));
	fprintf(stderr, "\n");
	json_array_foreach(json_object_get(st, "rooms"), i, room) {
		fprintf(stderr, "mmdp room %s: rx %lld tx %lld\n",
			json_string_value(json_object_get(room, "room")),
			sim_json_int(room, "rx_packets"), sim_json_int(room, "tx_packets"));
		json_array_foreach(json_object_get(room, "endpoints"), j, ep)
			fprintf(stderr, "  endpoint %-12s rx %lld tx %lld muted %lld mac_learned %s\n",
				json_string_value(json_object_get(ep, "endpoint")),
				sim_json_int(ep, "rx_packets"), sim_json_int(ep, "tx_packets"),
				sim_json_int(ep, "muted_packets"),
				json_is_true(json_object_get(ep, "mac_learned")) ? "yes" : "no");
	}
	json_decref(st);
}

/* End of a test: on failure print what helps, then fail. */
static void finish(void)
{
	if (T.failures) {
		if (T.failures > 60)
			fprintf(stderr, "(%d more failures not shown)\n", T.failures - 60);
		if (T.n_parts)
			print_matrix();
		print_stats();
		log_tail(30);
	}
	cr_assert_eq(T.failures, 0, "%d check(s) failed, see above", T.failures);
}

/* ---- mmdp and the agent ----------------------------------------------------- */

static json_t *call_raw(const char *line)
{
	char *reply = NULL;
	int rc = sim_agent_roundtrip(&T.agent, line, strlen(line), &reply);
	if (rc) {
		log_tail(30);
		cr_assert_fail("agent: no reply to %s: %s", line, strerror(-rc));
	}
	json_error_t je;
	json_t *j = json_loads(reply, 0, &je);
	cr_assert_not_null(j, "agent reply is not JSON: %s", reply);
	free(reply);
	return j;
}

static json_t *call(json_t *req)
{
	char *t = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	cr_assert_not_null(t);
	json_t *r = call_raw(t);
	free(t);
	return r;
}

/* A request that must succeed; returns the reply. */
static json_t *call_ok(json_t *req)
{
	char req_text[4096];
	snprintf(req_text, sizeof(req_text), "%s", dumps(req));
	json_t *r = call(req);
	if (!sim_reply_ok(r)) {
		log_tail(20);
		cr_assert_fail("agent refused %s: %s", req_text, dumps(r));
	}
	return r;
}

static void do_ok(json_t *req)
{
	json_decref(call_ok(req));
}

static json_t *stats(void)
{
	if (T.agent.fd < 0)
		return NULL;
	json_t *r = NULL;
	if (sim_agent_callf(&T.agent, &r, "{ss}", "op", "stats.get") != 0)
		return NULL;
	return r;
}

static long long drop_count(const char *reason)
{
	json_t *st = stats();
	cr_assert(st && sim_reply_ok(st), "stats.get failed: %s", dumps(st));
	long long v = sim_stats_drop(st, reason);
	json_decref(st);
	cr_assert_geq(v, 0, "stats.get has no drops.%s", reason);
	return v;
}

static void mmdp_start(void)
{
	char err[256];
	memset(&T, 0, sizeof(T));
	T.agent.fd = -1;
	for (int i = 0; i < MAX_PARTS; i++)
		T.parts[i].p.fd = -1;
	cr_assert_eq(sim_site_from_env(&T.site, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(T.site.hosts, 3, "the site needs 3 hosts");
	const char *bin = getenv("MMDP_BIN");
	cr_assert(bin && access(bin, X_OK) == 0, "MMDP_BIN (the mmdp binary) is not set or not executable");

	snprintf(T.dir, sizeof(T.dir), "/tmp/mmi-test.XXXXXX");
	cr_assert_not_null(mkdtemp(T.dir));
	snprintf(T.sock, sizeof(T.sock), "%s/agent.sock", T.dir);
	snprintf(T.log, sizeof(T.log), "%s/mmdp.log", T.dir);
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/mmdp.json", T.dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	const char *nw = getenv("MMDP_WORKERS");
	T.workers = nw && *nw ? atoi(nw) : 1;
	cr_assert(T.workers == 1 || T.workers == 2, "MMDP_WORKERS must be 1 or 2");
	fprintf(f, "{\"agent_socket\":\"%s\",\n \"ports\":[", T.sock);
	for (int w = 0; w < T.workers; w++)
		fprintf(f, "%s{\"addresses\":[\"%s\",\"%s\"],\"gateway_mac\":\"%s\",\"workers\":[%d]}",
			w ? "," : "", T.site.dp_ip4, T.site.dp_ip6, T.site.gw_mac, w);
	fprintf(f, "]}\n");
	fclose(f);

	/* argv: mmdp <EAL words> -- --config conf */
	const char *eal = getenv("MMDP_EAL");
	static char ealbuf[1024];
	snprintf(ealbuf, sizeof(ealbuf), "%s",
		 eal && *eal ? eal : T.workers == 2 ? EAL_2WORKERS : EAL_1WORKER);
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)bin;
	for (char *save = NULL, *w = strtok_r(ealbuf, " ", &save); w && argc < 58;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc++] = "--";
	argv[argc++] = "--config";
	argv[argc++] = conf;
	argv[argc] = NULL;

	int rc = sim_spawn_in_netns(T.site.dp_ns, argv, T.log, &T.mmdp);
	cr_assert_eq(rc, 0, "cannot start mmdp: %s", strerror(-rc));
	rc = sim_agent_wait(&T.agent, T.sock, 30000, T.mmdp);
	if (rc) {
		log_tail(40);
		if (rc == -ECHILD)
			T.mmdp = 0;
		cr_assert_fail("mmdp's agent socket %s did not come up: %s", T.sock,
			       rc == -ECHILD ? "mmdp exited" : strerror(-rc));
	}
	T.agent.timeout_ms = 15000;
	json_t *h = call_ok(json_pack("{ss}", "op", "hello"));
	cr_assert_eq(sim_json_int(h, "version"), 1, "protocol version: %s", dumps(h));
	json_decref(h);
	rc = sim_site_resolve(&T.site);
	cr_assert_eq(rc, 0, "hosts could not resolve mmdp: %s", strerror(-rc));
}

static void mmdp_stop(void)
{
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			sim_participant_close(&T.parts[i].p);
	sim_agent_close(&T.agent);
	if (T.mmdp > 0) {
		int st = 0;
		if (sim_stop_process(T.mmdp, 10000, &st) != 0)
			fprintf(stderr, "mmdp did not stop on SIGINT within 10 s; killed\n");
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "mmdp ended with wait status %d\n", st);
			log_tail(20);
		}
	}
	if (T.failures == 0 && T.dir[0]) {
		unlink(T.log);
		char conf[128];
		snprintf(conf, sizeof(conf), "%s/mmdp.json", T.dir);
		unlink(conf);
		rmdir(T.dir);
	}
}

/* ---- Participants -------------------------------------------------------- */

/* Participant number g in room: host g % hosts + 1, IPv6 when v6. */
static struct sim_participant *join(int g, const char *room, bool v6)
{
	cr_assert_lt(g, MAX_PARTS);
	const struct sim_site_host *h = &T.site.host[g % 3 + 1];
	char name[64];
	snprintf(name, sizeof(name), "%s-p%d", room, g);
	struct sim_participant_conf c = {
		.name = name,
		.netns = h->ns,
		.addr = v6 ? h->ip6 : h->ip4,
		.port = (uint16_t)(CLIENT_PORT + g),
		.server_addr = v6 ? T.site.dp_ip6 : T.site.dp_ip4,
		.server_port = (uint16_t)(SERVER_PORT + g),
		.audio_ssrc = SSRC_BASE + (uint32_t)g * 16u,
	};
	struct part *pt = &T.parts[g];
	int rc = sim_participant_open(&pt->p, &c);
	cr_assert_eq(rc, 0, "participant %s (%s port %u in %s): %s", name, c.addr, c.port, c.netns,
		     strerror(-rc));
	pt->open = true;
	pt->room = room;
	if (g + 1 > T.n_parts)
		T.n_parts = g + 1;
	do_ok(sim_endpoint_json(&pt->p, room, false, false, false));
	return &pt->p;
}

static struct sim_participant *P(int g)
{
	return &T.parts[g].p;
}

static struct sim_participant *all[MAX_PARTS];

static size_t open_parts(void)
{
	size_t n = 0;
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			all[n++] = &T.parts[i].p;
	return n;
}

/* Every participant in senders sends `rounds` RTP packets, one per round,
 * plus an RTCP compound every rtcp_every rounds (0: none); receive
 * between rounds. */
static void send_rounds(const int *senders, int n, int rounds, int rtcp_every)
{
	size_t na = open_parts();
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < n; k++) {
			int rc = sim_send_rtp(P(senders[k]), 0);
			check(rc == 0, "%s: send RTP: %s", P(senders[k])->name, strerror(-rc));
			if (rtcp_every && i % rtcp_every == 0) {
				rc = sim_send_rtcp(P(senders[k]));
				check(rc == 0, "%s: send RTCP: %s", P(senders[k])->name, strerror(-rc));
			}
		}
		(void)sim_receive_all(all, na, 4);
	}
}

static uint64_t total_rx(void)
{
	uint64_t n = 0;
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			n += T.parts[i].p.rx_datagrams - T.parts[i].p.rx_mmdp_rtcp; /* not mmdp's own RTCP */
	return n;
}

/* Receive until `expected` datagrams arrived in total (or 5 s passed),
 * then for linger_ms more to catch anything that should not come. */
static void settle(uint64_t expected, int linger_ms)
{
	size_t na = open_parts();
	uint64_t end = sim_now_ns() + 5000000000ull;
	while (total_rx() < expected && sim_now_ns() < end)
		(void)sim_receive_all(all, na, 50);
	end = sim_now_ns() + (uint64_t)linger_ms * 1000000u;
	while (sim_now_ns() < end)
		(void)sim_receive_all(all, na, 20);
}

/* Receiver r got exactly indexes [from, to) of sender s's RTP: nothing
 * else, byte-identical, sequence numbers continuous. */
static void expect_rtp(int r, int s, uint32_t from, uint32_t to)
{
	const struct sim_participant *rx = P(r), *tx = P(s);
	const struct sim_flow *f = sim_flow_find(rx, tx->stream[0].ssrc);
	if (from == to) {
		check(!f || f->rtp_packets == 0, "%s received %llu RTP packets from %s, expected none",
		      rx->name, f ? (unsigned long long)f->rtp_packets : 0ull, tx->name);
		return;
	}
	check(f != NULL, "%s received nothing from %s (expected RTP %u..%u)", rx->name, tx->name,
	      from, to - 1);
	if (!f)
		return;
	uint32_t missing = sim_flow_count_missing(f, from, to);
	check(missing == 0, "%s is missing %u of RTP %u..%u from %s", rx->name, missing, from,
	      to - 1, tx->name);
	uint32_t extra = 0;
	for (uint32_t i = 0; i < f->max_index; i++)
		if ((i < from || i >= to) && sim_flow_has(f, i))
			extra++;
	check(extra == 0, "%s received %u RTP packets from %s outside %u..%u", rx->name, extra,
	      tx->name, from, to - 1);
	check(f->rtp_dups == 0, "%s received %llu duplicate RTP packets from %s", rx->name,
	      (unsigned long long)f->rtp_dups, tx->name);
	check(f->rtp_seq_gaps == 0,
	      "%s saw %llu breaks in the sequence numbers of %s (not previous + 1)", rx->name,
	      (unsigned long long)f->rtp_seq_gaps, tx->name);
}

static void expect_rtcp(int r, int s, uint32_t count)
{
	const struct sim_participant *rx = P(r), *tx = P(s);
	const struct sim_flow *f = sim_flow_find(rx, tx->stream[0].ssrc);
	uint64_t got = f ? f->rtcp_packets : 0;
	check(got == count, "%s received %llu RTCP compounds from %s, expected %u", rx->name,
	      (unsigned long long)got, tx->name, count);
	for (uint32_t i = 0; f && i < count; i++)
		check(sim_flow_has_rtcp(f, i), "%s is missing RTCP compound %u of %s", rx->name, i,
		      tx->name);
	check(!f || f->rtcp_modified == 0, "%s: %llu RTCP compounds from %s were modified",
	      rx->name, f ? (unsigned long long)f->rtcp_modified : 0ull, tx->name);
}

static void expect_clean(int r)
{
	const struct sim_participant *rx = P(r);
	check(rx->rx_bad_payload == 0, "%s received %llu RTP packets with damaged payload", rx->name,
	      (unsigned long long)rx->rx_bad_payload);
	check(rx->rx_foreign == 0, "%s received %llu datagrams that are not the simulator's",
	      rx->name, (unsigned long long)rx->rx_foreign);
	check(rx->rx_wrong_source == 0,
	      "%s received %llu datagrams not from its mmdp address and port", rx->name,
	      (unsigned long long)rx->rx_wrong_source);
}

TestSuite(forwarding, .init = mmdp_start, .fini = mmdp_stop, .timeout = 180);

/* ---- Tests --------------------------------------------------------------- */

Test(forwarding, three_rooms)
{
	static const char *rooms[] = {"room-a", "room-b", "room-c"};
	static const int sizes[] = {2, 3, 10};
	const int rtp = 50, rtcp_every = 20, rtcp = 3; /* RTCP at rounds 0, 20, 40 */
	int g = 0, senders[MAX_PARTS];
	uint64_t expected = 0;
	for (int r = 0; r < 3; r++) {
		json_decref(call_ok(json_pack("{sssssi}", "op", "room.put", "room", rooms[r],
					      "capacity", 10)));
		for (int i = 0; i < sizes[r]; i++, g++) {
			join(g, rooms[r], g % 2 == 1); /* every other one IPv6 */
			senders[g] = g;
		}
		expected += (uint64_t)sizes[r] * (uint64_t)(sizes[r] - 1) * (uint64_t)(rtp + rtcp);
	}
	send_rounds(senders, g, rtp, rtcp_every);
	settle(expected, 300);

	for (int r = 0; r < g; r++) {
		expect_clean(r);
		for (int s = 0; s < g; s++) {
			bool same = strcmp(T.parts[r].room, T.parts[s].room) == 0;
			if (same && r != s) {
				expect_rtp(r, s, 0, (uint32_t)rtp);
				expect_rtcp(r, s, (uint32_t)rtcp);
			} else {
				expect_rtp(r, s, 0, 0);
				expect_rtcp(r, s, 0);
			}
		}
	}
	check(total_rx() == expected, "participants received %llu datagrams in all, expected %llu",
	      (unsigned long long)total_rx(), (unsigned long long)expected);

	/* mmdp's own counters agree. */
	json_t *st = stats();
	for (int r = 0; r < 3; r++) {
		const json_t *rs = sim_stats_room(st, rooms[r]);
		long long n = sizes[r];
		check(rs != NULL, "stats.get has no room %s", rooms[r]);
		check(sim_json_int(rs, "rx_packets") == n * (rtp + rtcp),
		      "room %s: rx_packets %lld, expected %lld", rooms[r],
		      sim_json_int(rs, "rx_packets"), n * (rtp + rtcp));
		check(sim_json_int(rs, "tx_packets") == n * (n - 1) * (rtp + rtcp),
		      "room %s: tx_packets %lld, expected %lld", rooms[r],
		      sim_json_int(rs, "tx_packets"), n * (n - 1) * (rtp + rtcp));
	}
	check(sim_stats_drop(st, "unknown_endpoint") == 0, "unknown_endpoint drops: %lld",
	      sim_stats_drop(st, "unknown_endpoint"));
	if (T.workers == 2) {
		/* Rooms went to both workers, and packets that arrived on the
		 * other worker's queue were handed over, none lost on the way. */
		long long owners = 0, handoffs = 0;
		for (int r = 0; r < 3; r++)
			owners |= 1LL << sim_json_int(sim_stats_room(st, rooms[r]), "worker");
		for (int w = 0; w < 2; w++)
			handoffs += sim_json_int(json_array_get(json_object_get(st, "workers"), (size_t)w),
						 "handoff_in");
		check(owners == 3, "rooms are owned by workers 0x%llx, expected both", owners);
		check(handoffs > 0, "no packet was handed between workers");
		check(sim_stats_drop(st, "handoff_full") == 0, "hand-off ring overflowed");
		fprintf(stderr, "three_rooms: %lld packets handed between the 2 workers\n", handoffs);
	}
	json_decref(st);
	finish();
}

/* The workers' loop counters (stats.get: cycles, busy_cycles, polls,
 * busy_polls, tsc_hz): the loop's cycles follow the wall clock; idle, the
 * busy share stays small; traffic makes the busy counters grow; every
 * counter only grows; busy never exceeds the total. */
#define CYC_KEYS 5
static const char *cyc_keys[CYC_KEYS] = {"cycles", "busy_cycles", "polls", "busy_polls", "rx_packets"};

struct cyc_snap {
	long long tsc_hz, v[2][CYC_KEYS];
	double t; /* seconds, CLOCK_MONOTONIC, around the request */
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cyc_snap(struct cyc_snap *c, const char *when)
{
	double a = mono_s();
	json_t *st = stats();
	c->t = (a + mono_s()) / 2;
	cr_assert(st && sim_reply_ok(st), "stats.get failed: %s", dumps(st));
	c->tsc_hz = sim_json_int(st, "tsc_hz");
	json_t *ws = json_object_get(st, "workers");
	cr_assert_eq((int)json_array_size(ws), T.workers, "%s: %zu workers in stats.get", when,
		     json_array_size(ws));
	for (int w = 0; w < T.workers; w++) {
		json_t *wj = json_array_get(ws, (size_t)w);
		for (int k = 0; k < CYC_KEYS; k++) {
			json_t *v = json_object_get(wj, cyc_keys[k]);
			cr_assert(json_is_integer(v), "%s: worker %d has no %s", when, w, cyc_keys[k]);
			c->v[w][k] = (long long)json_integer_value(v);
		}
		check(c->v[w][1] <= c->v[w][0], "%s: worker %d busy_cycles %lld > cycles %lld", when,
		      w, c->v[w][1], c->v[w][0]);
		check(c->v[w][3] <= c->v[w][2], "%s: worker %d busy_polls %lld > polls %lld", when, w,
		      c->v[w][3], c->v[w][2]);
	}
	json_decref(st);
}

/* b is later than a: nothing went back; cycles and polls went forward, the
 * cycles at the TSC's rate (the worker polls without pause; preempted time
 * counts too). */
static void cyc_later(const struct cyc_snap *a, const struct cyc_snap *b, const char *when)
{
	for (int w = 0; w < T.workers; w++) {
		for (int k = 0; k < CYC_KEYS; k++)
			check(b->v[w][k] >= a->v[w][k], "%s: worker %d %s went back: %lld -> %lld",
			      when, w, cyc_keys[k], a->v[w][k], b->v[w][k]);
		check(b->v[w][2] > a->v[w][2], "%s: worker %d made no poll", when, w);
		double want = (b->t - a->t) * (double)a->tsc_hz;
		double got = (double)(b->v[w][0] - a->v[w][0]);
		check(got > 0.5 * want && got < 1.5 * want,
		      "%s: worker %d counted %.0f cycles in %.3f s, expected about %.0f", when, w,
		      got, b->t - a->t, want);
	}
}

static long long cyc_sum(const struct cyc_snap *c, int k)
{
	long long n = 0;
	for (int w = 0; w < T.workers; w++)
		n += c->v[w][k];
	return n;
}

Test(forwarding, worker_busy_cycles)
{
	struct cyc_snap s0, s1, s2, s3;
	cyc_snap(&s0, "start");
	check(s0.tsc_hz > 100000000, "tsc_hz %lld", s0.tsc_hz);

	/* Idle for half a second: the loop runs, the traffic is nil. */
	usleep(500000);
	cyc_snap(&s1, "idle");
	cyc_later(&s0, &s1, "idle");
	long long idle_cyc = cyc_sum(&s1, 0) - cyc_sum(&s0, 0);
	long long idle_busy = cyc_sum(&s1, 1) - cyc_sum(&s0, 1);
	check(idle_busy * 4 < idle_cyc, "idle: %lld of %lld cycles counted busy", idle_busy, idle_cyc);

	/* Traffic: a room of 3, 100 rounds (RTP and some RTCP). */
	const int n = 3, rounds = 100;
	int senders[] = {0, 1, 2};
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "cyc"));
	join(0, "cyc", false);
	join(1, "cyc", true);
	join(2, "cyc", false);
	send_rounds(senders, n, rounds, 25);
	settle((uint64_t)n * (n - 1) * (uint64_t)(rounds + rounds / 25), 100);
	cyc_snap(&s2, "traffic");
	cyc_later(&s1, &s2, "traffic");
	long long rx = cyc_sum(&s2, 4) - cyc_sum(&s1, 4);
	long long busy = cyc_sum(&s2, 1) - cyc_sum(&s1, 1);
	long long busy_polls = cyc_sum(&s2, 3) - cyc_sum(&s1, 3);
	check(rx >= (long long)n * rounds, "traffic: workers received %lld packets", rx);
	check(busy > 0, "traffic: busy_cycles did not grow");
	check(busy_polls > 0 && busy_polls <= rx * T.workers,
	      "traffic: %lld busy polls for %lld packets received", busy_polls, rx);
	fprintf(stderr, "worker_busy_cycles: %lld packets in, %lld busy polls, %.0f busy cycles per packet in\n",
		rx, busy_polls, rx ? (double)busy / (double)rx : 0.0);

	/* And on: still only forward. */
	usleep(500000);
	cyc_snap(&s3, "after");
	cyc_later(&s2, &s3, "after");
	finish();
}

Test(forwarding, mute_stops_a_publisher)
{
	const int n = 3, k = 20;
	int senders[] = {0, 1, 2};
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "mute"));
	join(0, "mute", false);
	join(1, "mute", true);
	join(2, "mute", false);

	/* Before: everyone hears everyone. */
	send_rounds(senders, n, k, 0);
	settle((uint64_t)n * (n - 1) * k, 100);

	/* Mute participant 0; the reply comes after a grace period. */
	do_ok(sim_endpoint_json(P(0), "mute", true, false, false));
	send_rounds(senders, n, k, 10); /* RTCP still flows while muted */
	settle((uint64_t)n * (n - 1) * k + 4 * k + (uint64_t)n * (n - 1) * 2, 300);

	for (int r = 1; r < n; r++) {
		expect_rtp(r, 0, 0, (uint32_t)k); /* nothing sent after the mute */
		expect_rtcp(r, 0, 2);
	}
	for (int r = 0; r < n; r++)
		for (int s = 1; s < n; s++)
			if (r != s)
				expect_rtp(r, s, 0, (uint32_t)(2 * k));
	json_t *st = stats();
	const json_t *ep = sim_stats_endpoint(st, "mute", P(0)->name);
	check(sim_json_int(ep, "muted_packets") == k, "muted_packets of %s: %lld, expected %d",
	      P(0)->name, sim_json_int(ep, "muted_packets"), k);
	check(sim_stats_drop(st, "muted") == k, "drops.muted: %lld, expected %d",
	      sim_stats_drop(st, "muted"), k);
	json_decref(st);

	/* Unmute: participant 0 is heard again, and its receivers see no
	 * hole in its sequence numbers. */
	do_ok(sim_endpoint_json(P(0), "mute", false, false, false));
	uint64_t before = total_rx();
	send_rounds(senders, n, k, 0);
	settle(before + (uint64_t)n * (n - 1) * k, 100);
	for (int r = 1; r < n; r++) {
		const struct sim_flow *f = sim_flow_find(P(r), P(0)->stream[0].ssrc);
		check(f && sim_flow_count_missing(f, 2 * k, 3 * k) == 0,
		      "%s did not receive %s's packets after the unmute", P(r)->name, P(0)->name);
		check(f && sim_flow_count_missing(f, k, 2 * k) == (uint32_t)k,
		      "%s received some of %s's muted packets", P(r)->name, P(0)->name);
		check(f && f->rtp_seq_gaps == 0,
		      "%s saw %llu breaks in %s's sequence numbers across the mute", P(r)->name,
		      f ? (unsigned long long)f->rtp_seq_gaps : 0ull, P(0)->name);
	}
	for (int r = 0; r < n; r++)
		expect_clean(r);
	finish();
}

Test(forwarding, removed_endpoint_is_dropped)
{
	const int n = 3, k = 10;
	int senders[] = {0, 1, 2};
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "del"));
	join(0, "del", false);
	join(1, "del", true);
	join(2, "del", true);
	send_rounds(senders, n, k, 0);
	settle((uint64_t)n * (n - 1) * k, 100);

	long long unknown0 = drop_count("unknown_endpoint");
	do_ok(json_pack("{ssss}", "op", "endpoint.del", "endpoint", P(2)->name));
	uint64_t before = total_rx();
	send_rounds(senders, n, k, 0);
	settle(before + 2 * k, 300);

	expect_rtp(0, 1, 0, 2 * k);
	expect_rtp(1, 0, 0, 2 * k);
	for (int r = 0; r < 2; r++)
		expect_rtp(r, 2, 0, k); /* nothing of what 2 sent after its removal */
	for (int s = 0; s < 2; s++)
		expect_rtp(2, s, 0, k); /* and nothing forwarded to it */

	/* Its packets are counted as unknown_endpoint drops. */
	long long unknown = 0;
	for (int i = 0; i < 40; i++) {
		unknown = drop_count("unknown_endpoint") - unknown0;
		if (unknown >= k)
			break;
		sim_sleep_ms(50);
	}
	check(unknown == k, "unknown_endpoint drops grew by %lld, expected %d", unknown, k);

	json_t *r = call(json_pack("{ssss}", "op", "endpoint.get", "endpoint", P(2)->name));
	check(!sim_reply_ok(r) && strcmp(sim_reply_code(r), "not_found") == 0,
	      "endpoint.get of a removed endpoint: %s", dumps(r));
	json_decref(r);
	json_t *h = call_ok(json_pack("{ss}", "op", "hello"));
	check(sim_json_int(h, "endpoints") == 2, "hello says %lld endpoints, expected 2",
	      sim_json_int(h, "endpoints"));
	json_decref(h);
	finish();
}

/* mmdp's visible state: hello (minus nothing) and room.list. */
static json_t *snapshot(void)
{
	json_t *h = call_ok(json_pack("{ss}", "op", "hello"));
	json_t *l = call_ok(json_pack("{ss}", "op", "room.list"));
	json_t *s = json_pack("{soso}", "hello", h, "rooms", json_incref(json_object_get(l, "rooms")));
	json_decref(l);
	return s;
}

/* A bad request gets `code` and changes nothing. */
static void expect_refused(const char *line, const char *code)
{
	json_t *before = snapshot();
	json_t *r = call_raw(line);
	check(json_is_false(json_object_get(r, "ok")), "%s was not refused: %s", line, dumps(r));
	check(strcmp(sim_reply_code(r), code) == 0, "%s: got error %s, expected %s (reply %s)",
	      line, sim_reply_code(r), code, dumps(r));
	check(json_is_string(json_object_get(json_object_get(r, "error"), "message")),
	      "%s: the error has no message: %s", line, dumps(r));
	json_decref(r);
	json_t *after = snapshot();
	if (!json_equal(before, after)) {
		char b[4096];
		snprintf(b, sizeof(b), "%s", dumps(before));
		check(false, "%s changed mmdp's state:\n  before %s\n  after  %s", line, b,
		      dumps(after));
	}
	json_decref(before);
	json_decref(after);
}

static char *endpoint_line(const char *name, const char *room, const char *laddr, int lport,
			   const char *raddr, int rport, const char *kind)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"op\":\"endpoint.put\",\"endpoint\":\"%s\",\"room\":\"%s\","
		 "\"local\":{\"addr\":\"%s\",\"port\":%d},\"remote\":{\"addr\":\"%s\",\"port\":%d},"
		 "\"streams\":[{\"ssrc\":4242,\"kind\":\"%s\"}]}",
		 name, room, laddr, lport, raddr, rport, kind);
	return buf;
}

Test(forwarding, bad_requests_change_nothing)
{
	const int k = 10;
	int senders[] = {0, 1};
	do_ok(json_pack("{sssssisi}", "op", "room.put", "room", "bad", "capacity", 2,
			"generation", 10));
	join(0, "bad", false);
	join(1, "bad", true);
	const char *ip4 = T.site.dp_ip4, *h1 = T.site.host[1].ip4, *h1v6 = T.site.host[1].ip6;

	expect_refused("{\"op\":\"room.put\",\"room\":\"x\"", "parse_error");
	expect_refused("[1,2]", "invalid_request");
	expect_refused("{\"room\":\"x\"}", "invalid_request");
	expect_refused("{\"op\":42}", "invalid_request");
	expect_refused("{\"op\":\"room.explode\"}", "unknown_op");
	expect_refused("{\"op\":\"room.put\"}", "missing_field");
	expect_refused("{\"op\":\"room.put\",\"room\":\"bad name\"}", "invalid_field");
	expect_refused("{\"op\":\"room.put\",\"room\":\"x\",\"capacity\":101}", "invalid_field");
	expect_refused("{\"op\":\"room.put\",\"room\":\"bad\",\"capacity\":1}", "room_full");
	expect_refused(endpoint_line("e9", "bad", ip4, 45000, h1, 5000, "audio"), "room_full");
	expect_refused(endpoint_line("e9", "nosuch", ip4, 45000, h1, 5000, "audio"), "not_found");
	do_ok(json_pack("{sssssi}", "op", "room.put", "room", "bad2", "capacity", 5));
	expect_refused(endpoint_line("e9", "bad2", "198.18.0.99", 45000, h1, 5000, "audio"),
		       "not_local");
	/* Participant 0's 5-tuple. */
	expect_refused(endpoint_line("e9", "bad2", ip4, P(0)->server_port, P(0)->addr, P(0)->port,
				     "audio"),
		       "conflict");
	expect_refused(endpoint_line("e9", "bad2", ip4, 45000, h1v6, 5000, "audio"),
		       "invalid_field");
	expect_refused(endpoint_line("e9", "bad2", ip4, 45000, h1, 5000, "smell"), "invalid_field");
	expect_refused(endpoint_line("e9", "bad2", ip4, 70000, h1, 5000, "audio"), "invalid_field");
	expect_refused("{\"op\":\"endpoint.del\",\"endpoint\":\"nosuch\"}", "not_found");
	expect_refused("{\"op\":\"route.put\",\"room\":\"bad\",\"mode\":\"explicit\","
		       "\"subscriptions\":{\"ghost\":[]}}",
		       "not_found");
	expect_refused("{\"op\":\"room.put\",\"room\":\"x\",\"generation\":9}", "stale_generation");
	/* A batch is all or nothing: its first op is not applied either. */
	expect_refused("{\"op\":\"batch\",\"ops\":[{\"op\":\"room.put\",\"room\":\"x\"},"
		       "{\"op\":\"endpoint.del\",\"endpoint\":\"nosuch\"}]}",
		       "not_found");
	json_t *r = call_raw("{\"op\":\"batch\",\"ops\":[{\"op\":\"room.put\",\"room\":\"x\"},"
			     "{\"op\":\"room.put\"}]}");
	check(sim_json_int(json_object_get(r, "error"), "index") == 1,
	      "a failed batch names the failing op's index: %s", dumps(r));
	json_decref(r);
	r = call_raw("{\"op\":\"nope\",\"id\":\"req-17\"}");
	const char *id = json_string_value(json_object_get(r, "id"));
	check(id && strcmp(id, "req-17") == 0, "the reply does not echo the request id: %s",
	      dumps(r));
	json_decref(r);

	/* The data path is untouched: both still hear each other. */
	send_rounds(senders, 2, k, 0);
	settle(2 * k, 100);
	expect_rtp(0, 1, 0, k);
	expect_rtp(1, 0, 0, k);
	expect_clean(0);
	expect_clean(1);

	finish();
}

Test(forwarding, line_over_1mib_is_refused)
{
	/* A line over 1 MiB (sent at once): line_too_long, then mmdp closes
	 * the connection, and nothing changed. */
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "long"));
	size_t big = (1u << 20) + 100;
	char *line = malloc(big + 1);
	cr_assert_not_null(line);
	/* Valid JSON that would create a room: the padding is whitespace. */
	static const char head[] = "{\"op\":\"room.put\",", tail[] = "\"room\":\"long2\"}";
	memset(line, ' ', big);
	memcpy(line, head, strlen(head));
	memcpy(line + big - strlen(tail), tail, strlen(tail));
	line[big] = 0;
	json_t *before = snapshot();
	char *reply = NULL;
	int rc = sim_agent_roundtrip(&T.agent, line, big, &reply);
	free(line);
	if (rc == 0) {
		json_error_t je;
		json_t *j = json_loads(reply, 0, &je);
		check(j && strcmp(sim_reply_code(j), "line_too_long") == 0,
		      "a line over 1 MiB got %s, expected line_too_long", reply);
		json_decref(j);
		free(reply);
	} else {
		check(rc == -ECONNRESET || rc == -EPIPE,
		      "a line over 1 MiB: %s (expected a line_too_long reply or a close)",
		      strerror(-rc));
	}
	sim_agent_close(&T.agent);
	rc = sim_agent_connect(&T.agent, T.sock);
	cr_assert_eq(rc, 0, "cannot reconnect to the agent: %s", strerror(-rc));
	json_t *after = snapshot();
	check(json_equal(before, after), "the long line changed mmdp's state");
	json_decref(before);
	json_decref(after);
	finish();
}

/* The neighbour entry a host has for addr, as "ip neigh" prints it. */
static void host_neigh(int h, const char *addr, char *out, size_t cap)
{
	char cmd[256];
	/* nsenter rather than "ip -n", which needs / to be a mount point */
	snprintf(cmd, sizeof(cmd), "nsenter --net=/run/netns/%s ip neigh show to %s",
		 T.site.host[h].ns, addr);
	out[0] = 0;
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	pclose(p);
}

Test(forwarding, hosts_resolve_mmdp_with_arp_and_nd)
{
	char cmd[256], line[512];
	for (int h = 1; h <= T.site.hosts; h++) {
		snprintf(cmd, sizeof(cmd),
			 "nsenter --net=/run/netns/%s sh -c 'ip neigh flush to %s && ip -6 neigh flush to %s'",
			 T.site.host[h].ns, T.site.dp_ip4, T.site.dp_ip6);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		host_neigh(h, T.site.dp_ip4, line, sizeof(line));
		cr_assert(strstr(line, T.site.dp_mac) == NULL, "flush left %s", line);
	}
	cr_assert_eq(sim_site_resolve(&T.site), 0);
	for (int h = 1; h <= T.site.hosts; h++) {
		host_neigh(h, T.site.dp_ip4, line, sizeof(line));
		check(strcasestr(line, T.site.dp_mac) != NULL, "host %d: %s -> \"%s\"", h, T.site.dp_ip4,
		      line);
		host_neigh(h, T.site.dp_ip6, line, sizeof(line));
		check(strcasestr(line, T.site.dp_mac) != NULL, "host %d: %s -> \"%s\"", h, T.site.dp_ip6,
		      line);
	}
	json_t *st = stats();
	long long neigh = 0;
	for (int w = 0; w < T.workers; w++)
		neigh += sim_json_int(json_array_get(json_object_get(st, "workers"), (size_t)w),
				      "neigh_replies");
	check(neigh >= 2 * T.site.hosts, "mmdp answered %lld ARP/ND requests, expected at least %d",
	      neigh, 2 * T.site.hosts);
	json_decref(st);
	finish();
}
