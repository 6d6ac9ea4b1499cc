/* The XDP guard with mmdp on the test site: DPDK's af_xdp port loads the
 * guard (xdp_prog=), mmdp keeps its allowlist and kicked list in step with
 * its tables, accepted media is redirected to mmdp's AF_XDP socket and
 * everything else goes to the kernel.
 *
 * Suite guard: media through the guard, a kick in force at XDP when its
 * reply comes, unknown and malformed traffic dropped at XDP, ARP/ND and
 * TCP answered by the kernel, a restarted mmdp clearing what the last one
 * left, mmdp refusing a guard it cannot see. Suite flood: rooms carry media
 * while mmflood sends garbage, spoofed, kicked and banned traffic at more
 * than ten times their packet rate (FLOOD_SECONDS, FLOOD_PPS).
 *
 * Runs under tools/mmsite (on_site.sh) through guard_site.sh, which gives
 * it a mount namespace with a bpffs of its own on /sys/fs/bpf (where DPDK
 * pins the guard's maps) and puts mmdp's addresses on the kernel side of
 * dp0 (the kernel answers ARP and ND with the guard). Environment: MMDP_BIN,
 * GUARD_OBJ (guard.bpf.o), MMFLOOD_BIN; the MMSITE_* variables. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/guard.h"
#include "tools/sim/sim.h"

#define PORT_LO 41000
#define PORT_HI 41999
#define CLIENT_PORT 31000
#define SERVER_PORT 41000
#define SSRC_BASE 0x6a000000u
#define MAX_PARTS 24
#define PIN_DIR "/sys/fs/bpf"
/* The guard's limits in this test: a small global handshake budget, so
 * that spoofed STUN reaching mmdp is bounded and visible. */
#define HANDSHAKE_PPS 100
#define HANDSHAKE_BURST 50

struct part {
	struct sim_participant p;
	const char *room;
	bool open;
};

static struct {
	struct sim_site site;
	char dir[64], sock[128], log[128], conf[128];
	pid_t mmdp;
	struct mm_agent_client agent;
	struct part parts[MAX_PARTS];
	int n_parts;
	int failures;
} T;

/* ---- Diagnostics ---------------------------------------------------------- */

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
	static char buf[4000];
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(buf, sizeof(buf), "%s", t ? t : "(null)");
	free(t);
	return buf;
}

/* ---- The agent ------------------------------------------------------------------ */

static json_t *call(json_t *req)
{
	json_t *r = NULL;
	char text[4096];
	snprintf(text, sizeof(text), "%s", dumps(req));
	int rc = sim_agent_call(&T.agent, req, &r);
	json_decref(req);
	if (rc) {
		log_tail(30);
		cr_assert_fail("agent: no reply to %s: %s", text, strerror(-rc));
	}
	return r;
}

static json_t *call_ok(json_t *req)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s", dumps(req));
	json_t *r = call(req);
	if (!sim_reply_ok(r)) {
		log_tail(20);
		cr_assert_fail("agent refused %s: %s", text, dumps(r));
	}
	cr_assert_null(json_object_get(r, "guard_error"), "the guard fell behind: %s", dumps(r));
	return r;
}

static void do_ok(json_t *req)
{
	json_decref(call_ok(req));
}

static json_t *stats(void)
{
	json_t *r = call_ok(json_pack("{ss}", "op", "stats.get"));
	cr_assert(json_is_object(json_object_get(r, "guard")), "stats.get has no guard: %s", dumps(r));
	return r;
}

static long long jint(const json_t *o, const char *a, const char *b, const char *c)
{
	const json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* The guard's drops of one reason, from stats.get. */
static long long gdrop(const json_t *st, const char *reason)
{
	return jint(json_object_get(st, "guard"), "drops", reason, NULL);
}

static long long gverdict(const json_t *st, const char *verdict)
{
	return jint(json_object_get(st, "guard"), "verdicts", verdict, "packets");
}

static long long gpass(const json_t *st, const char *reason)
{
	return jint(json_object_get(json_object_get(st, "guard"), "reasons"), "pass", reason, "packets");
}

/* All of mmdp's own drops. */
static long long mmdp_drops(const json_t *st)
{
	long long n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get((json_t *)st, "drops"), k, v)
		n += json_integer_value(v);
	return n;
}

static void print_drops(const char *what, const json_t *before, const json_t *after)
{
	const char *k;
	json_t *v;
	fprintf(stderr, "%s:", what);
	json_object_foreach((json_t *)after, k, v) {
		long long d = json_integer_value(v) - json_integer_value(json_object_get(before, k));
		if (d)
			fprintf(stderr, " %s=%lld", k, d);
	}
	fprintf(stderr, "\n");
}

/* ---- mmdp ------------------------------------------------------------------------ */

static void write_conf(void)
{
	FILE *f = fopen(T.conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"agent_socket\":\"%s\",\n"
		" \"ports\":[{\"addresses\":[\"%s\",\"%s\"],\"gateway_mac\":\"%s\"}],\n"
		" \"guard\":{\"pin_dir\":\"%s\",\"port_range\":[%d,%d],\n"
		"           \"handshake\":{\"pps\":%d,\"burst\":%d}}}\n",
		T.sock, T.site.dp_ip4, T.site.dp_ip6, T.site.gw_mac, PIN_DIR, PORT_LO, PORT_HI,
		HANDSHAKE_PPS, HANDSHAKE_BURST);
	fclose(f);
}

/* Start mmdp with the guard (xdp_prog= on its vdev) or, with_prog false,
 * without it (the configuration still asks for the guard). */
static int spawn_mmdp(bool with_prog)
{
	const char *bin = getenv("MMDP_BIN"), *obj = getenv("GUARD_OBJ");
	cr_assert(bin && access(bin, X_OK) == 0, "MMDP_BIN is not set or not executable");
	cr_assert(obj && access(obj, R_OK) == 0, "GUARD_OBJ (guard.bpf.o) is not set or not readable");
	static char vdev[512];
	snprintf(vdev, sizeof(vdev), "net_af_xdp0,iface=%s,start_queue=0,queue_count=1%s%s",
		 T.site.dp_if, with_prog ? ",xdp_prog=" : "", with_prog ? obj : "");
	char *argv[] = {(char *)bin, "-l", "0,1", "--in-memory", "--no-pci", "--vdev", vdev,
			"--", "--config", T.conf, NULL};
	return sim_spawn_in_netns(T.site.dp_ns, argv, T.log, &T.mmdp);
}

static void mmdp_up(void)
{
	int rc = spawn_mmdp(true);
	cr_assert_eq(rc, 0, "cannot start mmdp: %s", strerror(-rc));
	T.agent.fd = -1;
	rc = sim_agent_wait(&T.agent, T.sock, 30000, T.mmdp);
	if (rc) {
		log_tail(40);
		if (rc == -ECHILD)
			T.mmdp = 0;
		cr_assert_fail("mmdp's agent socket did not come up: %s",
			       rc == -ECHILD ? "mmdp exited" : strerror(-rc));
	}
	T.agent.timeout_ms = 15000;
	json_t *h = call_ok(json_pack("{ss}", "op", "hello"));
	cr_assert(json_is_true(json_object_get(h, "guard")), "mmdp runs without the guard: %s", dumps(h));
	json_decref(h);
}

static void mmdp_down(void)
{
	sim_agent_close(&T.agent);
	if (T.mmdp > 0) {
		int st = 0;
		if (sim_stop_process(T.mmdp, 10000, &st) != 0)
			fprintf(stderr, "mmdp did not stop on SIGINT within 10 s; killed\n");
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "mmdp ended with wait status %d\n", st);
			log_tail(20);
		}
		T.mmdp = 0;
	}
}

static void setup(void)
{
	char err[256];
	memset(&T, 0, sizeof(T));
	T.agent.fd = -1;
	for (int i = 0; i < MAX_PARTS; i++)
		T.parts[i].p.fd = -1;
	cr_assert_eq(sim_site_from_env(&T.site, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(T.site.hosts, 3, "the site needs 3 hosts");
	snprintf(T.dir, sizeof(T.dir), "/tmp/mmx-test.XXXXXX");
	cr_assert_not_null(mkdtemp(T.dir));
	snprintf(T.sock, sizeof(T.sock), "%s/agent.sock", T.dir);
	snprintf(T.log, sizeof(T.log), "%s/mmdp.log", T.dir);
	snprintf(T.conf, sizeof(T.conf), "%s/mmdp.json", T.dir);
	write_conf();
	mmdp_up();
	int rc = sim_site_resolve(&T.site);
	cr_assert_eq(rc, 0, "hosts could not resolve mmdp: %s", strerror(-rc));
}

static void teardown(void)
{
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			sim_participant_close(&T.parts[i].p);
	mmdp_down();
	if (T.failures == 0 && T.dir[0]) {
		char f[160];
		unlink(T.log);
		unlink(T.conf);
		snprintf(f, sizeof(f), "%s/flood-h2.out", T.dir);
		unlink(f);
		snprintf(f, sizeof(f), "%s/flood-h3.out", T.dir);
		unlink(f);
		rmdir(T.dir);
	}
}

static void finish(void)
{
	if (T.failures) {
		if (T.failures > 60)
			fprintf(stderr, "(%d more failures not shown)\n", T.failures - 60);
		if (T.agent.fd >= 0) {
			json_t *st = call(json_pack("{ss}", "op", "stats.get"));
			fprintf(stderr, "mmdp drops: %s\n", dumps(json_object_get(st, "drops")));
			fprintf(stderr, "guard: %s\n", dumps(json_object_get(st, "guard")));
			json_decref(st);
		}
		log_tail(30);
	}
	cr_assert_eq(T.failures, 0, "%d check(s) failed, see above", T.failures);
}

/* ---- Participants ------------------------------------------------------------------ */

/* Participant g: host g % 3 + 1, IPv6 when v6. Joined to room unless
 * room is NULL (then it is unknown to mmdp). */
static struct sim_participant *open_part(int g, const char *room, bool v6)
{
	cr_assert_lt(g, MAX_PARTS);
	const struct sim_site_host *h = &T.site.host[g % 3 + 1];
	char name[64];
	snprintf(name, sizeof(name), "%s-p%d", room ? room : "stranger", g);
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
	cr_assert_eq(rc, 0, "participant %s: %s", name, strerror(-rc));
	pt->open = true;
	pt->room = room;
	if (g + 1 > T.n_parts)
		T.n_parts = g + 1;
	if (room)
		do_ok(sim_endpoint_json(&pt->p, room, false, false, false));
	return &pt->p;
}

static struct sim_participant *P(int g)
{
	return &T.parts[g].p;
}

static struct sim_participant *ALL[MAX_PARTS];

static size_t open_parts(void)
{
	size_t n = 0;
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			ALL[n++] = &T.parts[i].p;
	return n;
}

static uint64_t total_rx(void)
{
	uint64_t n = 0;
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			n += T.parts[i].p.rx_datagrams - T.parts[i].p.rx_mmdp_rtcp; /* not mmdp's own RTCP */
	return n;
}

static void send_rounds(const int *senders, int n, int rounds)
{
	size_t na = open_parts();
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < n; k++) {
			int rc = sim_send_rtp(P(senders[k]), 0);
			check(rc == 0, "%s: send RTP: %s", P(senders[k])->name, strerror(-rc));
		}
		(void)sim_receive_all(ALL, na, 2);
	}
}

static void settle(uint64_t expected, int linger_ms)
{
	size_t na = open_parts();
	uint64_t end = sim_now_ns() + 5000000000ull;
	while (total_rx() < expected && sim_now_ns() < end)
		(void)sim_receive_all(ALL, na, 50);
	end = sim_now_ns() + (uint64_t)linger_ms * 1000000u;
	while (sim_now_ns() < end)
		(void)sim_receive_all(ALL, na, 20);
}

static uint64_t rtp_from(int r, int s)
{
	const struct sim_flow *f = sim_flow_find(P(r), P(s)->stream[0].ssrc);
	return f ? f->rtp_packets : 0;
}

/* Poll stats.get until the guard's `reason` drops reach want (2 s). */
static long long wait_gdrop(const char *reason, long long want)
{
	long long v = 0;
	for (int i = 0; i < 40; i++) {
		json_t *st = stats();
		v = gdrop(st, reason);
		json_decref(st);
		if (v >= want)
			break;
		sim_sleep_ms(50);
	}
	return v;
}

TestSuite(guard, .init = setup, .fini = teardown, .timeout = 120);

/* ---- Tests ---------------------------------------------------------------------------- */

Test(guard, media_flows_through_the_guard)
{
	const int rounds = 40;
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "ra"));
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "rb"));
	int senders[5] = {0, 1, 2, 3, 4};
	open_part(0, "ra", false);
	open_part(1, "ra", true);
	open_part(2, "ra", false);
	open_part(3, "rb", true);
	open_part(4, "rb", false);
	json_t *st0 = stats();
	send_rounds(senders, 5, rounds);
	uint64_t expected = (uint64_t)rounds * (3 * 2 + 2 * 1);
	settle(expected, 200);
	for (int r = 0; r < 5; r++)
		for (int s = 0; s < 5; s++) {
			bool same = strcmp(T.parts[r].room, T.parts[s].room) == 0;
			uint64_t want = same && r != s ? (uint64_t)rounds : 0;
			check(rtp_from(r, s) == want, "%s received %llu RTP packets from %s, expected %llu",
			      P(r)->name, (unsigned long long)rtp_from(r, s), P(s)->name,
			      (unsigned long long)want);
		}
	json_t *st = stats();
	long long redirected = gverdict(st, "redirect") - gverdict(st0, "redirect");
	check(redirected == 5 * rounds, "the guard redirected %lld packets to mmdp, expected %d",
	      redirected, 5 * rounds);
	check(gverdict(st, "drop") == gverdict(st0, "drop"), "the guard dropped %lld packets",
	      gverdict(st, "drop") - gverdict(st0, "drop"));
	check(gverdict(st, "accept") == gverdict(st0, "accept"),
	      "%lld packets were accepted without a socket to redirect to",
	      gverdict(st, "accept") - gverdict(st0, "accept"));
	check(mmdp_drops(st) == mmdp_drops(st0), "mmdp dropped %lld packets",
	      mmdp_drops(st) - mmdp_drops(st0));
	json_t *sync = json_object_get(json_object_get(st, "guard"), "sync");
	check(json_is_true(json_object_get(sync, "in_sync")) && jint(sync, "errors", NULL, NULL) == 0,
	      "guard sync: %s", dumps(sync));
	json_decref(st0);
	json_decref(st);
	finish();
}

Test(guard, a_kick_is_in_force_at_xdp_when_it_is_acknowledged)
{
	const int k = 30;
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "kick"));
	int senders[3] = {0, 1, 2};
	open_part(0, "kick", false);
	open_part(1, "kick", true);
	open_part(2, "kick", false);
	send_rounds(senders, 3, 10);
	settle(3 * 2 * 10, 100);

	/* mmctld's kick: endpoint.del and block.put of its 5-tuple, one batch. */
	json_t *st0 = stats();
	json_t *blk = json_pack("{sssss{sssi}s{sssi}si}", "op", "block.put", "block", "kick-p2", "remote",
				"addr", P(2)->addr, "port", P(2)->port, "local", "addr", T.site.dp_ip4,
				"port", P(2)->server_port, "ttl_seconds", 600);
	do_ok(json_pack("{sss[{ssss}o]}", "op", "batch", "ops", "op", "endpoint.del", "endpoint",
			P(2)->name, blk));
	/* Right after the reply, the kicked participant sends. */
	uint64_t before = total_rx();
	send_rounds(senders, 3, k);
	settle(before + 2 * k, 300);
	check(rtp_from(0, 2) == 10 && rtp_from(1, 2) == 10,
	      "after the kick %s's packets still arrived (%llu, %llu)", P(2)->name,
	      (unsigned long long)rtp_from(0, 2), (unsigned long long)rtp_from(1, 2));
	check(rtp_from(2, 0) == 10, "the kicked participant still receives");
	long long blocked = wait_gdrop("blocked", gdrop(st0, "blocked") + k) - gdrop(st0, "blocked");
	json_t *st = stats();
	check(blocked == k, "the guard dropped %lld of the kicked 5-tuple's packets as blocked, expected %d",
	      blocked, k);
	check(mmdp_drops(st) == mmdp_drops(st0),
	      "mmdp itself dropped %lld packets (the guard should have)", mmdp_drops(st) - mmdp_drops(st0));
	const json_t *b = json_array_get(json_object_get(st, "blocks"), 0);
	check(jint(b, "dropped_packets", NULL, NULL) == 0,
	      "mmdp's block counted %lld packets: they reached mmdp", jint(b, "dropped_packets", NULL, NULL));
	json_decref(st0);
	json_decref(st);

	/* The block lifted: the 5-tuple is unknown, its RTP still dropped at
	 * XDP (unknown_endpoint); re-admitted, it is heard again. */
	st0 = stats();
	do_ok(json_pack("{ssss}", "op", "block.del", "block", "kick-p2"));
	int only2[1] = {2};
	send_rounds(only2, 1, 5);
	long long unknown = wait_gdrop("unknown_endpoint", gdrop(st0, "unknown_endpoint") + 5) -
			    gdrop(st0, "unknown_endpoint");
	check(unknown == 5, "after block.del: %lld unknown_endpoint drops at XDP, expected 5", unknown);
	do_ok(sim_endpoint_json(P(2), "kick", false, false, false));
	before = total_rx();
	send_rounds(only2, 1, 5);
	settle(before + 2 * 5, 100);
	check(rtp_from(0, 2) == 15, "re-admitted: %llu packets from %s, expected 15",
	      (unsigned long long)rtp_from(0, 2), P(2)->name);
	st = stats();
	check(mmdp_drops(st) == mmdp_drops(st0), "mmdp dropped %lld packets",
	      mmdp_drops(st) - mmdp_drops(st0));
	json_decref(st0);
	json_decref(st);
	finish();
}

Test(guard, unknown_and_malformed_traffic_is_dropped_at_xdp)
{
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "m"));
	open_part(0, "m", false);
	open_part(1, "m", true);
	struct sim_participant *x = open_part(5, NULL, false); /* not an endpoint */
	json_t *st0 = stats();
	for (int i = 0; i < 10; i++)
		check(sim_send_rtp(x, 0) == 0, "send");
	static const uint8_t garbage[40] = {0x55, 1, 2, 3};
	static const uint8_t short_rtp[6] = {0x80, 0x60};
	for (int i = 0; i < 7; i++) {
		check(sim_send_raw(x, garbage, sizeof(garbage)) == 0, "send");
		check(sim_send_raw(P(0), short_rtp, sizeof(short_rtp)) == 0, "send"); /* known */
	}
	/* A STUN binding request from the unknown 5-tuple: within the
	 * handshake budget the guard lets it through, and mmdp (no ICE yet)
	 * drops it itself. */
	uint8_t stun[20] = {0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	check(sim_send_raw(x, stun, sizeof(stun)) == 0, "send");
	wait_gdrop("rtp_malformed", gdrop(st0, "rtp_malformed") + 7);
	json_t *st = stats();
	check(gdrop(st, "unknown_endpoint") - gdrop(st0, "unknown_endpoint") == 10,
	      "unknown_endpoint at XDP: %lld, expected 10", gdrop(st, "unknown_endpoint") - gdrop(st0, "unknown_endpoint"));
	check(gdrop(st, "demux_unknown") - gdrop(st0, "demux_unknown") == 7,
	      "demux_unknown at XDP: %lld, expected 7", gdrop(st, "demux_unknown") - gdrop(st0, "demux_unknown"));
	check(gdrop(st, "rtp_malformed") - gdrop(st0, "rtp_malformed") == 7,
	      "rtp_malformed at XDP: %lld, expected 7", gdrop(st, "rtp_malformed") - gdrop(st0, "rtp_malformed"));
	long long mm = mmdp_drops(st) - mmdp_drops(st0);
	long long stun_mm = sim_stats_drop(st, "stun_unsupported") - sim_stats_drop(st0, "stun_unsupported");
	check(mm == 1 && stun_mm == 1,
	      "mmdp dropped %lld packets (%lld stun_unsupported); expected only the STUN request", mm,
	      stun_mm);
	print_drops("guard drops", json_object_get(json_object_get(st0, "guard"), "drops"),
		    json_object_get(json_object_get(st, "guard"), "drops"));
	json_decref(st0);
	json_decref(st);
	finish();
}

/* The neighbour entry a host has for addr, as "ip neigh" prints it. */
static void host_neigh(int h, const char *addr, char *out, size_t cap)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "nsenter --net=/run/netns/%s ip neigh show to %s", T.site.host[h].ns,
		 addr);
	out[0] = 0;
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	pclose(p);
}

Test(guard, arp_and_nd_are_answered_by_the_kernel)
{
	char cmd[256], line[512];
	json_t *st0 = stats();
	for (int h = 1; h <= T.site.hosts; h++) {
		snprintf(cmd, sizeof(cmd),
			 "nsenter --net=/run/netns/%s sh -c 'ip neigh flush to %s && ip -6 neigh flush to %s'",
			 T.site.host[h].ns, T.site.dp_ip4, T.site.dp_ip6);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
	}
	cr_assert_eq(sim_site_resolve(&T.site), 0);
	for (int h = 1; h <= T.site.hosts; h++) {
		host_neigh(h, T.site.dp_ip4, line, sizeof(line));
		check(strcasestr(line, T.site.dp_mac) != NULL, "host %d: %s -> \"%s\"", h, T.site.dp_ip4, line);
		host_neigh(h, T.site.dp_ip6, line, sizeof(line));
		check(strcasestr(line, T.site.dp_mac) != NULL, "host %d: %s -> \"%s\"", h, T.site.dp_ip6, line);
	}
	json_t *st = stats();
	long long neigh = jint(json_array_get(json_object_get(st, "workers"), 0), "neigh_replies", NULL, NULL) -
			  jint(json_array_get(json_object_get(st0, "workers"), 0), "neigh_replies", NULL, NULL);
	check(neigh == 0, "mmdp answered %lld ARP/ND requests: they should have gone to the kernel", neigh);
	long long arp = gpass(st, "l3_unsupported") - gpass(st0, "l3_unsupported");
	long long icmp = gpass(st, "l4_unsupported") - gpass(st0, "l4_unsupported");
	check(arp >= T.site.hosts, "the guard passed %lld ARP frames to the kernel, expected >= %d", arp,
	      T.site.hosts);
	check(icmp >= T.site.hosts, "the guard passed %lld ICMP/ICMPv6 frames to the kernel, expected >= %d",
	      icmp, T.site.hosts);
	json_decref(st0);
	json_decref(st);
	finish();
}

/* A TCP socket in netns (the thread enters it for socket() only). */
static int tcp_socket_in(const char *ns, int family)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int target = open(path, O_RDONLY | O_CLOEXEC), self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(target >= 0 && self >= 0);
	cr_assert_eq(setns(target, CLONE_NEWNET), 0, "setns %s: %s", path, strerror(errno));
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int e = errno;
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(target);
	close(self);
	cr_assert_geq(fd, 0, "socket: %s", strerror(e));
	return fd;
}

/* Connect from host 1 to mmdp's address at port; true when connected
 * within timeout_ms. */
static bool tcp_connects(const char *addr, int family, uint16_t port, int timeout_ms, int *out_fd)
{
	int fd = tcp_socket_in(T.site.host[1].ns, family);
	struct sockaddr_storage ss;
	socklen_t sl;
	cr_assert_eq(sim_sockaddr_parse(addr, port, &ss, &sl), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	int rc = connect(fd, (struct sockaddr *)&ss, sl);
	bool ok = rc == 0;
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, timeout_ms) == 1) {
			int err = 0;
			socklen_t el = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			ok = err == 0;
		}
	}
	if (ok && out_fd) {
		*out_fd = fd;
		return true;
	}
	close(fd);
	return ok;
}

Test(guard, non_media_goes_to_the_kernel)
{
	json_t *st0 = stats();
	const char *addrs[2] = {T.site.dp_ip4, T.site.dp_ip6};
	int fams[2] = {AF_INET, AF_INET6};
	for (int f = 0; f < 2; f++) {
		/* A TCP service in mmdp's namespace (the API, SSH...), on a
		 * port outside the media range. */
		int l = tcp_socket_in(T.site.dp_ns, fams[f]);
		int one = 1;
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_storage ss;
		socklen_t sl;
		cr_assert_eq(sim_sockaddr_parse(addrs[f], 8080, &ss, &sl), 0);
		cr_assert_eq(bind(l, (struct sockaddr *)&ss, sl), 0, "bind %s: %s", addrs[f], strerror(errno));
		cr_assert_eq(listen(l, 4), 0);
		int c = -1;
		check(tcp_connects(addrs[f], fams[f], 8080, 3000, &c), "TCP to %s:8080 did not connect",
		      addrs[f]);
		if (c >= 0) {
			struct pollfd p = {.fd = l, .events = POLLIN};
			check(poll(&p, 1, 2000) == 1, "the listener saw no connection");
			int a = accept(l, NULL, NULL);
			check(a >= 0, "accept: %s", strerror(errno));
			check(send(c, "ping", 4, 0) == 4, "send");
			char buf[8] = "";
			struct pollfd pa = {.fd = a, .events = POLLIN};
			check(poll(&pa, 1, 2000) == 1 && recv(a, buf, sizeof(buf), 0) == 4 &&
				      memcmp(buf, "ping", 4) == 0,
			      "data over TCP did not arrive");
			if (a >= 0)
				close(a);
			close(c);
		}
		close(l);
		/* TCP to a media port is dropped at XDP: no connection, not
		 * even a reset. */
		check(!tcp_connects(addrs[f], fams[f], PORT_LO + 500, 400, NULL),
		      "TCP to media port %d of %s connected", PORT_LO + 500, addrs[f]);
	}
	json_t *st = stats();
	long long tcp_pass = gpass(st, "none") - gpass(st0, "none");
	check(tcp_pass >= 6, "the guard passed %lld non-media packets to the kernel, expected >= 6",
	      tcp_pass);
	check(gdrop(st, "l4_unsupported") - gdrop(st0, "l4_unsupported") >= 2,
	      "TCP SYNs to the media ports: %lld dropped at XDP, expected >= 2",
	      gdrop(st, "l4_unsupported") - gdrop(st0, "l4_unsupported"));
	check(mmdp_drops(st) == mmdp_drops(st0), "mmdp saw and dropped %lld packets",
	      mmdp_drops(st) - mmdp_drops(st0));
	json_decref(st0);
	json_decref(st);
	finish();
}

Test(guard, a_restarted_mmdp_clears_what_the_last_one_left)
{
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "rs"));
	open_part(0, "rs", false);
	open_part(1, "rs", false);
	int senders[2] = {0, 1};
	send_rounds(senders, 2, 5);
	settle(10, 50);
	do_ok(json_pack("{sssss{sssi}s{sssi}si}", "op", "block.put", "block", "b", "remote", "addr",
			"198.18.3.99", "port", 999, "local", "addr", T.site.dp_ip4, "port", PORT_LO + 99,
			"ttl_seconds", 600));
	json_t *st0 = stats();
	long long redirected0 = gverdict(st0, "redirect");
	json_decref(st0);

	/* Stop and start: the maps stay pinned (DPDK's program reuses them),
	 * so the new mmdp finds the old allowlist and kicked list, and
	 * empties them to match its empty tables. */
	mmdp_down();
	mmdp_up();
	json_t *st = stats();
	check(gverdict(st, "redirect") >= redirected0,
	      "the counters did not survive the restart (%lld < %lld): the maps were not reused",
	      gverdict(st, "redirect"), redirected0);
	json_t *sync = json_object_get(json_object_get(st, "guard"), "sync");
	check(jint(sync, "resyncs", NULL, NULL) == 1 && jint(sync, "updates", NULL, NULL) == 3,
	      "start-up reconciliation: %s (expected 1 resync deleting 2 endpoints and 1 block)",
	      dumps(sync));
	json_decref(st);
	st0 = stats();
	send_rounds(senders, 2, 4);
	long long unknown = wait_gdrop("unknown_endpoint", gdrop(st0, "unknown_endpoint") + 8) -
			    gdrop(st0, "unknown_endpoint");
	check(unknown == 8, "the old endpoints' packets: %lld dropped at XDP as unknown, expected 8",
	      unknown);
	st = stats();
	check(mmdp_drops(st) == mmdp_drops(st0), "mmdp dropped %lld packets", mmdp_drops(st) - mmdp_drops(st0));
	json_decref(st0);
	json_decref(st);
	finish();
}

/* Does mmdp's log hold this text? */
static bool log_has(const char *text)
{
	FILE *f = fopen(T.log, "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* kill -9 (a crash, the OOM killer): DPDK never closes the port, so the
 * guard's program stays attached to dp0, and DPDK 22.11 cannot attach it
 * again ("XDP program already attached": port setup failed and mmdp did not
 * start). mmdp now removes a program nobody uses before it sets the port up
 * (dataplane/mmdp/xdp_stale.c); media flows through the new guard. */
Test(guard, a_killed_mmdp_starts_again)
{
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "rk"));
	open_part(0, "rk", false);
	open_part(1, "rk", false);
	int senders[2] = {0, 1};
	send_rounds(senders, 2, 5);
	settle(10, 50);

	sim_agent_close(&T.agent);
	cr_assert_eq(kill(T.mmdp, SIGKILL), 0);
	cr_assert_eq(waitpid(T.mmdp, NULL, 0), T.mmdp);
	T.mmdp = 0;
	mmdp_up(); /* fails the test when mmdp does not come up with the guard */
	check(log_has("removed XDP program"),
	      "mmdp did not say it removed the program the killed one left");

	/* Empty tables: the meeting again, as a controller's resync would. */
	do_ok(json_pack("{ssss}", "op", "room.put", "room", "rk"));
	for (int g = 0; g < 2; g++)
		do_ok(sim_endpoint_json(P(g), "rk", false, false, false));
	uint64_t from0 = rtp_from(1, 0), from1 = rtp_from(0, 1);
	uint64_t want = total_rx() + 20;
	send_rounds(senders, 2, 10);
	settle(want, 100);
	check(rtp_from(1, 0) - from0 == 10 && rtp_from(0, 1) - from1 == 10,
	      "after the restart: %llu and %llu of 10 RTP packets each way through the guard",
	      (unsigned long long)(rtp_from(1, 0) - from0),
	      (unsigned long long)(rtp_from(0, 1) - from1));
	finish();
}

Test(guard, mmdp_refuses_a_guard_it_cannot_see)
{
	/* The configuration asks for the guard but the vdev has no xdp_prog:
	 * the program on dp0 is not the guard (or there is none), and mmdp
	 * would get no media at all. It must not start. */
	mmdp_down();
	int rc = spawn_mmdp(false);
	cr_assert_eq(rc, 0);
	int st = 0;
	pid_t r = 0;
	for (int i = 0; i < 300 && r == 0; i++) {
		r = waitpid(T.mmdp, &st, WNOHANG);
		if (r == 0)
			sim_sleep_ms(100);
	}
	if (r == 0) {
		sim_stop_process(T.mmdp, 5000, NULL);
		T.mmdp = 0;
		cr_assert_fail("mmdp started without the guard's program");
	}
	T.mmdp = 0;
	check(WIFEXITED(st) && WEXITSTATUS(st) == 1, "mmdp's exit status %d, expected 1", st);
	char buf[8192] = "";
	FILE *f = fopen(T.log, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	check(strstr(buf, "xdp_prog=") != NULL, "mmdp's message does not say what to do:\n%s", buf);
	/* and it closed its port: no XDP program left on the interface */
	char cmd[256], line[512] = "";
	snprintf(cmd, sizeof(cmd), "nsenter --net=/run/netns/%s ip -d link show dev %s", T.site.dp_ns,
		 T.site.dp_if);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(line, 1, sizeof(line) - 1, p);
	line[n] = 0;
	pclose(p);
	check(strstr(line, "prog/xdp") == NULL, "mmdp left an XDP program on %s:\n%s", T.site.dp_if, line);
	finish();
}

/* ---- The flood ----------------------------------------------------------------------- */

static pid_t spawn_flood(int host, double pps, double seconds, const char *kicked, const char *out,
			 int seed)
{
	const char *bin = getenv("MMFLOOD_BIN");
	cr_assert(bin && access(bin, X_OK) == 0, "MMFLOOD_BIN is not set or not executable");
	const struct sim_site_host *h = &T.site.host[host];
	static char a[24][128];
	int n = 0;
#define ARG(...) snprintf(a[n++], sizeof(a[0]), __VA_ARGS__)
	ARG("--ifname=eth0");
	ARG("--dst-mac=%s", T.site.dp_mac);
	ARG("--dst4=%s", T.site.dp_ip4);
	ARG("--dst6=%s", T.site.dp_ip6);
	ARG("--src4=%s", h->ip4);
	ARG("--src6=%s", h->ip6);
	ARG("--ports=%d-%d", PORT_LO, PORT_HI);
	ARG("--spoof4=198.18.128.0/18");
	ARG("--spoof6=2001:2:0:8000::/49");
	ARG("--banned4=198.18.200.0/24");
	ARG("--banned6=2001:2:0:bad::/64");
	ARG("--kicked=%s", kicked);
	ARG("--mix=garbage=30,spoofed=40,stun=5,kicked=10,banned=15");
	ARG("--rate=%.0f", pps);
	ARG("--duration=%.1f", seconds);
	ARG("--cpu=0");
	ARG("--seed=%d", seed);
#undef ARG
	char *argv[32];
	int c = 0;
	argv[c++] = (char *)bin;
	for (int i = 0; i < n; i++)
		argv[c++] = a[i];
	argv[c] = NULL;
	pid_t pid;
	unlink(out);
	int rc = sim_spawn_in_netns(h->ns, argv, out, &pid);
	cr_assert_eq(rc, 0, "cannot start mmflood: %s", strerror(-rc));
	return pid;
}

static json_t *flood_result(pid_t pid, const char *out)
{
	int st = 0;
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (i == 99) {
			sim_stop_process(pid, 2000, &st);
			break;
		}
		sim_sleep_ms(100);
	}
	char buf[4096] = "";
	FILE *f = fopen(out, "r");
	cr_assert_not_null(f, "mmflood wrote nothing");
	json_t *j = NULL;
	while (fgets(buf, sizeof(buf), f)) /* the JSON line is the last one */
		if (buf[0] == '{') {
			json_decref(j);
			j = json_loads(buf, 0, NULL);
		}
	fclose(f);
	cr_assert_not_null(j, "mmflood's summary is missing (exit %d): %s", st, buf);
	return j;
}

TestSuite(flood, .init = setup, .fini = teardown, .timeout = 900);

Test(flood, legitimate_media_survives_a_flood_dropped_at_xdp)
{
	const char *env_s = getenv("FLOOD_SECONDS"), *env_pps = getenv("FLOOD_PPS");
	const double seconds = env_s && *env_s ? atof(env_s) : 20.0;
	const double flood_pps = env_pps && *env_pps ? atof(env_pps) : 60000.0;
	const int rooms = 4, per_room = 4, n = rooms * per_room;
	static const char *names[] = {"fa", "fb", "fc", "fd"};
	cr_assert_leq(n + 1, MAX_PARTS);

	/* Everything but mmdp's worker (CPU 1) on CPU 0, as mmflood. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	for (int r = 0; r < rooms; r++)
		do_ok(json_pack("{ssss}", "op", "room.put", "room", names[r]));
	for (int g = 0; g < n; g++)
		open_part(g, names[g / per_room], g % 2 == 1);
	/* A participant kicked before the flood: the flood sends from its
	 * 5-tuple (spoofed) too. */
	struct sim_participant *kicked = open_part(n, "fa", false);
	json_t *blk = json_pack("{sssss{sssi}s{sssi}si}", "op", "block.put", "block", "kick", "remote",
				"addr", kicked->addr, "port", kicked->port, "local", "addr", T.site.dp_ip4,
				"port", kicked->server_port, "ttl_seconds", 3600);
	do_ok(json_pack("{sss[{ssss}o]}", "op", "batch", "ops", "op", "endpoint.del", "endpoint",
			kicked->name, blk));
	char kick_arg[128];
	snprintf(kick_arg, sizeof(kick_arg), "%s:%u>%u", kicked->addr, kicked->port, kicked->server_port);

	/* Banned prefixes, as mmctld pushes an operator's ban (ban.put): in
	 * force at XDP once acknowledged. */
	do_ok(json_pack("{s:s,s:[{s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:i}]}", "op", "batch", "ops",
			"op", "ban.put", "ban", "ban4", "prefix", "198.18.200.0/24", "ttl_seconds", 3600,
			"op", "ban.put", "ban", "ban6", "prefix", "2001:2:0:bad::/64", "ttl_seconds", 3600));
	int rc;

	/* Legitimate media: every participant sends 50 RTP packets/s (20 ms
	 * audio) and an RTCP compound a second; two mmflood processes send
	 * flood_pps between them. */
	const int tick_ms = 20, rounds = (int)(seconds * 1000 / tick_ms);
	json_t *st0 = stats();
	char out1[128], out2[128];
	snprintf(out1, sizeof(out1), "%s/flood-h2.out", T.dir);
	snprintf(out2, sizeof(out2), "%s/flood-h3.out", T.dir);
	pid_t f1 = spawn_flood(2, flood_pps / 2, seconds + 1, kick_arg, out1, 2);
	pid_t f2 = spawn_flood(3, flood_pps / 2, seconds + 1, kick_arg, out2, 3);
	sim_sleep_ms(500); /* the flood first */
	size_t na = open_parts();
	uint64_t t0 = sim_now_ns(), rtcp = 0, late = 0;
	for (int i = 0; i < rounds; i++) {
		uint64_t due = t0 + (uint64_t)i * tick_ms * 1000000ull;
		while (sim_now_ns() < due) {
			int ms = (int)((due - sim_now_ns()) / 1000000ull);
			(void)sim_receive_all(ALL, na, ms > 0 ? ms : 0);
		}
		if (sim_now_ns() > due + 10000000ull)
			late++;
		for (int g = 0; g < n; g++) {
			rc = sim_send_rtp(P(g), 0);
			check(rc == 0, "%s: send RTP: %s", P(g)->name, strerror(-rc));
			if (i % 50 == 0) {
				rc = sim_send_rtcp(P(g));
				check(rc == 0, "%s: send RTCP: %s", P(g)->name, strerror(-rc));
			}
		}
		if (i % 50 == 0)
			rtcp++;
	}
	uint64_t legit_secs_ns = sim_now_ns() - t0;
	uint64_t per_recv = (uint64_t)(per_room - 1) * ((uint64_t)rounds + rtcp);
	settle((uint64_t)n * per_recv, 300);
	json_t *r1 = flood_result(f1, out1), *r2 = flood_result(f2, out2);
	json_t *st = stats();

	/* Legitimate loss. */
	uint64_t expected = 0, missing = 0;
	for (int r = 0; r < n; r++)
		for (int s = 0; s < n; s++) {
			if (r == s || r / per_room != s / per_room)
				continue;
			const struct sim_flow *f = sim_flow_find(P(r), P(s)->stream[0].ssrc);
			expected += (uint64_t)rounds;
			missing += f ? sim_flow_count_missing(f, 0, (uint32_t)rounds) : (uint64_t)rounds;
		}
	double loss = expected ? 100.0 * (double)missing / (double)expected : 100.0;
	long long flood_sent = jint(r1, "sent", NULL, NULL) + jint(r2, "sent", NULL, NULL);
	double secs = (double)legit_secs_ns / 1e9;
	double legit_in = (double)n * ((double)rounds + (double)rtcp) / secs;
	double legit_out = legit_in * (per_room - 1);
	double flood_rate = json_number_value(json_object_get(r1, "pps")) +
			    json_number_value(json_object_get(r2, "pps"));
	const json_t *g0 = json_object_get(json_object_get(st0, "guard"), "drops");
	const json_t *g1 = json_object_get(json_object_get(st, "guard"), "drops");
	long long gdrops = gverdict(st, "drop") - gverdict(st0, "drop");
	long long mm_stun = sim_stats_drop(st, "stun_unsupported") - sim_stats_drop(st0, "stun_unsupported");
	long long mm_other = mmdp_drops(st) - mmdp_drops(st0) - mm_stun;
	long long budget = (long long)(HANDSHAKE_PPS * (seconds + 2)) + HANDSHAKE_BURST;

	fprintf(stderr,
		"flood result (%.1f s): legitimate %d participants in %d rooms, %.0f packets/s to mmdp, "
		"%.0f/s forwarded; loss %llu of %llu RTP copies (%.4f %%), %llu late ticks\n"
		"  flood: %lld frames, %.0f/s (%.1fx the packets sent to mmdp, %.1fx all legitimate "
		"packets): %s + %s\n"
		"  guard: dropped %lld, redirected %lld (legitimate + STUN within the handshake budget)\n",
		seconds, n, rooms, legit_in, legit_out, (unsigned long long)missing,
		(unsigned long long)expected, loss, (unsigned long long)late, flood_sent, flood_rate,
		flood_rate / legit_in, flood_rate / (legit_in + legit_out), dumps(r1), dumps(r2), gdrops,
		gverdict(st, "redirect") - gverdict(st0, "redirect"));
	print_drops("  guard drops by reason", g0, g1);
	print_drops("  mmdp drops by reason", json_object_get(st0, "drops"), json_object_get(st, "drops"));

	check(loss <= 0.1, "legitimate loss %.4f %% > 0.1 %%", loss);
	check(flood_rate >= 10 * legit_in, "the flood (%.0f/s) is not 10x the legitimate rate (%.0f/s)",
	      flood_rate, legit_in);
	check(gdrops >= (long long)(0.99 * (double)flood_sent) - budget,
	      "the guard dropped %lld of %lld flood frames", gdrops, flood_sent);
	static const char *reasons[] = {"demux_unknown", "stun_malformed", "dtls_malformed",
					"rtp_malformed", "rtcp_malformed", "l4_unsupported",
					"l3_fragment", "unknown_endpoint", "blocked", "blocked_prefix",
					"handshake_rate_limited"};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		check(jint(g1, reasons[i], NULL, NULL) > jint(g0, reasons[i], NULL, NULL),
		      "the guard counted no %s drop", reasons[i]);
	/* Every kicked and banned frame that reached dp0 is counted under its
	 * reason (an overloaded site may lose a few on the way: 1 %). */
	long long kicked_sent = jint(r1, "classes", "kicked", NULL) + jint(r2, "classes", "kicked", NULL);
	long long blocked = jint(g1, "blocked", NULL, NULL) - jint(g0, "blocked", NULL, NULL);
	check(blocked <= kicked_sent && blocked >= kicked_sent - kicked_sent / 100,
	      "blocked at XDP %lld, the flood sent %lld from the kicked 5-tuple", blocked, kicked_sent);
	long long banned_sent = jint(r1, "classes", "banned", NULL) + jint(r2, "classes", "banned", NULL);
	long long banned = jint(g1, "blocked_prefix", NULL, NULL) - jint(g0, "blocked_prefix", NULL, NULL);
	check(banned <= banned_sent && banned >= banned_sent - banned_sent / 100,
	      "blocked_prefix at XDP %lld, the flood sent %lld from banned prefixes", banned, banned_sent);
	check(mm_other == 0, "mmdp dropped %lld packets besides STUN", mm_other);
	check(mm_stun <= budget, "mmdp dropped %lld spoofed STUN requests, more than the handshake "
				 "budget of %lld", mm_stun, budget);
	for (int r = 0; r < n; r++)
		check(P(r)->rx_foreign == 0 && P(r)->rx_bad_payload == 0,
		      "%s received something that is not the simulator's", P(r)->name);
	json_decref(r1);
	json_decref(r2);
	json_decref(st0);
	json_decref(st);
	finish();
}
