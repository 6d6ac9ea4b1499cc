/* End-to-end tests of the control plane on the test site: a real mmdp (DPDK
 * AF_XDP on the site's veth), a real mmctld (real HTTP, a real SQLite file
 * in a temp dir) pushing to it, and participants joined THROUGH mmctld's
 * REST API (docs/api.md) exchanging SRTP from the site's host namespaces
 * with the keys the join reply gave them.
 *
 * Runs under "tools/mmsite run -- test_control_site" (see meson.build): the
 * MMSITE_* variables describe the site, MMDP_BIN and MMCTLD name the
 * binaries. Every test starts its own mmdp and mmctld (fresh tables, fresh
 * database) and stops them. By hand, as root:
 *   tools/mmsite run --prefix mmc- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
 *       MMCTLD=build/control/mmctld build/tests/integration/test_control_site \
 *       --jobs=1 [--filter 'control_site/kick*']
 * On failure it prints what each participant received from whom, mmdp's
 * counters and the ends of both logs (kept in /tmp/mmc-test.*). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_client.h"
#include "dataplane/proto/base64.h"
#include "tools/sim/sim.h"

#define EAL_1WORKER \
	"-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
#define MAX_PARTS 8
#define MAX_SSE 4
#define CLIENT_PORT 33000 /* participant g's port: CLIENT_PORT + g */
#define PORT_LO 42000     /* mmctld's port_range for endpoints */
#define PORT_HI 42099
#define SSRC_BASE 0x5c000000u
#define PROFILE_GCM "AEAD_AES_128_GCM"
#define PROFILE_CM80 "AES_CM_128_HMAC_SHA1_80"
#define RESYNC_LIMIT_NS 2000000000ull /* mmdp restart: state back within 2 s */

struct part {
	struct sim_participant p;
	bool open;
	char id[64];       /* participant id (mmdp's endpoint name) */
	char token[160];   /* its participant token */
	char name[32];     /* display name */
	char room[64];
	int server_port;   /* transport.server.port */
};

/* Media sent and received by a thread while the main thread drives the
 * control plane (tests 2 and 3). Only the pump touches the participants
 * while it runs. */
struct pump {
	pthread_t thread;
	bool running;
	bool stop;                /* atomic */
	int pps;                  /* RTP packets per second per stream */
	int rtcp_every;           /* ticks between RTCP compounds (0: none) */
	uint64_t ticks;
	uint64_t max_late_ns;     /* worst lateness of a tick */
	uint64_t mark_ns;         /* atomic: record first arrivals after this */
	/* first arrival (ns) after mark_ns of receiver r from sender s, stream k */
	uint64_t first_after[MAX_PARTS][MAX_PARTS][SIM_MAX_STREAMS];
};

static struct {
	struct sim_site site;
	char dir[64];
	/* mmdp */
	char sock[128];
	char mmdp_conf[128];
	char mmdp_log[128];
	pid_t mmdp;
	struct mm_agent_client agent;
	/* mmctld */
	char ctl_conf[128];
	char ctl_db[128];
	char ctl_log[128];
	char base[64];
	int http_port;
	pid_t mmctld;
	char op_token[160];
	char profile[40];
	/* participants */
	struct part parts[MAX_PARTS];
	int n_parts;
	struct pump pump;
	struct ctl_sse sse[MAX_SSE];
	int failures;
	int level_id; /* join(): audio with RFC 6464 levels in this extension id (0: none) */
} T;

/* ---- Diagnostics -------------------------------------------------------- */

static void log_tail(const char *what, const char *path, int lines)
{
	FILE *f = fopen(path, "r");
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
	fprintf(stderr, "---- last lines of %s's log (%s) ----\n", what, path);
	for (int i = from; i < n; i++)
		fputs(ring[i % 64], stderr);
	fprintf(stderr, "----\n");
}

static void logs_tail(void)
{
	log_tail("mmdp", T.mmdp_log, 20);
	log_tail("mmctld", T.ctl_log, 20);
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

static const char *dumps(const json_t *j)
{
	static char buf[4][4096];
	static int k;
	char *b = buf[k++ % 4];
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	snprintf(b, sizeof(buf[0]), "%s", t ? t : "(null)");
	free(t);
	return b;
}

static struct sim_participant *P(int g)
{
	return &T.parts[g].p;
}

/* What each receiver got from each sender: audio/video RTP and RTCP. */
static void print_matrix(void)
{
	fprintf(stderr, "received (rows: receivers, columns: senders; audio/video RTP, RTCP):\n%-10s",
		"");
	for (int s = 0; s < T.n_parts; s++)
		fprintf(stderr, " %17s", T.parts[s].name);
	fprintf(stderr, "\n");
	for (int r = 0; r < T.n_parts; r++) {
		const struct sim_participant *rx = P(r);
		fprintf(stderr, "%-10s", T.parts[r].name);
		for (int s = 0; s < T.n_parts; s++) {
			const struct sim_participant *tx = P(s);
			const struct sim_flow *a = tx->n_streams > 0 ? sim_flow_find(rx, tx->stream[0].ssrc) : NULL;
			const struct sim_flow *v = tx->n_streams > 1 ? sim_flow_find(rx, tx->stream[1].ssrc) : NULL;
			fprintf(stderr, " %6llu/%-6llu %3llu", a ? (unsigned long long)a->rtp_packets : 0ull,
				v ? (unsigned long long)v->rtp_packets : 0ull,
				a ? (unsigned long long)a->rtcp_packets : 0ull);
		}
		fprintf(stderr, "  (srtp fail %llu replay %llu, bad %llu foreign %llu wrong-src %llu)\n",
			(unsigned long long)rx->rx_srtp_fail, (unsigned long long)rx->rx_srtp_replay,
			(unsigned long long)rx->rx_bad_payload, (unsigned long long)rx->rx_foreign,
			(unsigned long long)rx->rx_wrong_source);
	}
	for (int s = 0; s < T.n_parts; s++)
		fprintf(stderr, "%s (%s) sent audio %u video %u RTCP %u, send errors %llu\n",
			T.parts[s].name, T.parts[s].id, P(s)->n_streams > 0 ? P(s)->stream[0].sent : 0,
			P(s)->n_streams > 1 ? P(s)->stream[1].sent : 0, P(s)->rtcp_sent,
			(unsigned long long)P(s)->send_errors);
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
			fprintf(stderr, "  endpoint %-20s rx %lld tx %lld muted %lld\n",
				json_string_value(json_object_get(ep, "endpoint")),
				sim_json_int(ep, "rx_packets"), sim_json_int(ep, "tx_packets"),
				sim_json_int(ep, "muted_packets"));
	}
	json_decref(st);
}

static void finish(void)
{
	if (T.failures) {
		if (T.failures > 60)
			fprintf(stderr, "(%d more failures not shown)\n", T.failures - 60);
		if (T.n_parts)
			print_matrix();
		print_stats();
		logs_tail();
	}
	cr_assert_eq(T.failures, 0, "%d check(s) failed, see above", T.failures);
}

/* ---- mmdp ------------------------------------------------------------------ */

static json_t *agent_call_ok(json_t *req)
{
	char text[1024];
	snprintf(text, sizeof(text), "%s", dumps(req));
	json_t *r = NULL;
	int rc = sim_agent_call(&T.agent, req, &r);
	json_decref(req);
	if (rc) {
		logs_tail();
		cr_assert_fail("mmdp agent: no reply to %s: %s", text, strerror(-rc));
	}
	if (!sim_reply_ok(r)) {
		logs_tail();
		cr_assert_fail("mmdp agent refused %s: %s", text, dumps(r));
	}
	return r;
}

static long long drop_count(const char *reason)
{
	json_t *st = stats();
	cr_assert(st && sim_reply_ok(st), "mmdp stats.get failed: %s", dumps(st));
	long long v = sim_stats_drop(st, reason);
	json_decref(st);
	cr_assert_geq(v, 0, "mmdp's stats.get has no drops.%s", reason);
	return v;
}

/* Start mmdp in the site's dataplane namespace; returns once its agent
 * socket exists (not waiting for a connection), with *sock_ns the time
 * the socket file appeared. */
static void mmdp_spawn(uint64_t *sock_ns)
{
	const char *bin = getenv("MMDP_BIN");
	cr_assert(bin && access(bin, X_OK) == 0, "MMDP_BIN (the mmdp binary) is not set or not executable");
	static char ealbuf[512];
	snprintf(ealbuf, sizeof(ealbuf), "%s", EAL_1WORKER);
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)bin;
	for (char *save = NULL, *w = strtok_r(ealbuf, " ", &save); w && argc < 26;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc++] = "--";
	argv[argc++] = "--config";
	argv[argc++] = T.mmdp_conf;
	argv[argc] = NULL;
	int rc = sim_spawn_in_netns(T.site.dp_ns, argv, T.mmdp_log, &T.mmdp);
	cr_assert_eq(rc, 0, "cannot start mmdp: %s", strerror(-rc));
	/* Poll for the socket file every millisecond (mmdp creates it once
	 * its ports and workers run). */
	uint64_t end = sim_now_ns() + 30000000000ull;
	struct stat sb;
	while (stat(T.sock, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
		int st;
		if (waitpid(T.mmdp, &st, WNOHANG) == T.mmdp) {
			T.mmdp = 0;
			log_tail("mmdp", T.mmdp_log, 40);
			cr_assert_fail("mmdp exited before its agent socket came up (status %d)", st);
		}
		if (sim_now_ns() > end) {
			log_tail("mmdp", T.mmdp_log, 40);
			cr_assert_fail("mmdp's agent socket %s did not appear within 30 s", T.sock);
		}
		usleep(1000);
	}
	*sock_ns = sim_now_ns();
}

static void mmdp_connect(void)
{
	int rc = sim_agent_wait(&T.agent, T.sock, 10000, T.mmdp);
	if (rc) {
		log_tail("mmdp", T.mmdp_log, 40);
		cr_assert_fail("cannot connect to mmdp's agent socket %s: %s", T.sock, strerror(-rc));
	}
	T.agent.timeout_ms = 15000;
}

static void mmdp_start(void)
{
	uint64_t t;
	mmdp_spawn(&t);
	mmdp_connect();
	json_t *h = agent_call_ok(json_pack("{ss}", "op", "hello"));
	cr_assert_eq(sim_json_int(h, "version"), 1, "agent protocol version: %s", dumps(h));
	json_decref(h);
}

static void mmdp_stop(void)
{
	sim_agent_close(&T.agent);
	if (T.mmdp > 0) {
		int st = 0;
		if (sim_stop_process(T.mmdp, 10000, &st) != 0)
			check(false, "mmdp did not stop on SIGINT within 10 s; killed");
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			check(false, "mmdp ended with wait status %d", st);
		T.mmdp = 0;
	}
}

/* ---- mmctld -------------------------------------------------------------- */

static const char *mmctld_bin(void)
{
	const char *p = getenv("MMCTLD");
	cr_assert(p && access(p, X_OK) == 0, "MMCTLD (the mmctld binary) is not set or not executable");
	return p;
}

static int free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void ctl_write_config(const char *profile)
{
	snprintf(T.profile, sizeof(T.profile), "%s", profile);
	FILE *f = fopen(T.ctl_conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"listen\":\"127.0.0.1:%d\",\"db\":\"%s\",\"mmdp_socket\":\"%s\",\n"
		" \"media_address\":\"%s\",\"port_range\":[%d,%d],\"srtp_profile\":\"%s\"}\n",
		T.http_port, T.ctl_db, T.sock, T.site.dp_ip4, PORT_LO, PORT_HI, profile);
	fclose(f);
}

/* mmctld --config F --create-operator-token: the token on stdout. */
static void ctl_operator_token(void)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		int lfd = open(T.ctl_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (lfd >= 0)
			dup2(lfd, 2);
		execl(mmctld_bin(), "mmctld", "--config", T.ctl_conf, "--create-operator-token",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(T.op_token) - 1 &&
	       (r = read(pfd[0], T.op_token + n, sizeof(T.op_token) - 1 - n)) > 0)
		n += (size_t)r;
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	T.op_token[n] = '\0';
	T.op_token[strcspn(T.op_token, "\n")] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_tail("mmctld", T.ctl_log, 20);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "mmctld --create-operator-token failed (status %d)", st);
	cr_assert(strncmp(T.op_token, "mmt_", 4) == 0, "operator token \"%s\" is not mmt_...",
		  T.op_token);
}

/* Start mmctld (in the root namespace: it talks HTTP on 127.0.0.1 and to
 * mmdp's agent socket through the file system); returns once it answers
 * GET /v1/rooms. */
static void ctl_start(void)
{
	char *argv[] = { (char *)mmctld_bin(), "--config", T.ctl_conf, NULL };
	int rc = sim_spawn_in_netns(NULL, argv, T.ctl_log, &T.mmctld);
	cr_assert_eq(rc, 0, "cannot start mmctld: %s", strerror(-rc));
	uint64_t end = sim_now_ns() + 15000000000ull;
	for (;;) {
		int st;
		if (waitpid(T.mmctld, &st, WNOHANG) == T.mmctld) {
			T.mmctld = 0;
			log_tail("mmctld", T.ctl_log, 30);
			cr_assert_fail("mmctld exited at start (status %d)", st);
		}
		int s = ctl_http(T.base, "GET", "/v1/rooms", T.op_token, NULL, NULL, NULL, 0);
		if (s == 200)
			return;
		if (s > 0) {
			log_tail("mmctld", T.ctl_log, 30);
			cr_assert_fail("mmctld answers GET /v1/rooms with %d", s);
		}
		if (sim_now_ns() > end) {
			log_tail("mmctld", T.ctl_log, 30);
			cr_assert_fail("mmctld did not answer HTTP on %s within 15 s", T.base);
		}
		usleep(5000);
	}
}

/* SIGINT mmctld (stop now: SIGTERM would drain) and wait: it must exit 0. */
static void ctl_stop(void)
{
	if (T.mmctld <= 0)
		return;
	int st = 0;
	if (sim_stop_process(T.mmctld, 10000, &st) != 0)
		check(false, "mmctld did not stop on SIGINT within 10 s; killed");
	else
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mmctld ended with wait status %d", st);
	T.mmctld = 0;
}

/* How many times mmctld logged a completed state.sync to mmdp. */
static int ctl_syncs_logged(void)
{
	FILE *f = fopen(T.ctl_log, "r");
	if (!f)
		return 0;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "event=state_synced"))
			n++;
	fclose(f);
	return n;
}

/* ---- The REST API --------------------------------------------------------- */

/* A request; returns the status. body is stolen. *reply (optional) gets
 * the parsed body. */
static int api(const char *method, const char *path, const char *token, json_t *body,
	       json_t **reply)
{
	char raw[2048];
	json_t *r = NULL;
	int st = ctl_http(T.base, method, path, token, body, &r, raw, sizeof(raw));
	json_decref(body);
	if (st < 0) {
		logs_tail();
		cr_assert_fail("%s %s: no HTTP reply from mmctld: %s %s", method, path,
			       strerror(-st), raw);
	}
	if (reply)
		*reply = r;
	else
		json_decref(r);
	return st;
}

/* A request that must answer `want`; returns the reply body (or NULL). */
static json_t *api_want(int want, const char *method, const char *path, const char *token,
			json_t *body)
{
	char btext[2048];
	snprintf(btext, sizeof(btext), "%s", body ? dumps(body) : "");
	json_t *r = NULL;
	int st = api(method, path, token, body, &r);
	if (st != want) {
		logs_tail();
		cr_assert_fail("%s %s %s: HTTP %d, expected %d; reply %s", method, path, btext, st,
			       want, dumps(r));
	}
	return r;
}

static const char *err_code(const json_t *reply)
{
	const char *c = json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
	return c ? c : "";
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void create_room(const char *name, char *id, size_t cap)
{
	json_t *r = api_want(201, "POST", "/v1/rooms", T.op_token,
			     json_pack("{sssi}", "name", name, "capacity", 10));
	const char *rid = jstr(r, "id");
	cr_assert(rid[0] == 'r', "room id \"%s\" does not start with r: %s", rid, dumps(r));
	snprintf(id, cap, "%s", rid);
	json_decref(r);
}

/* Decode a base64 SRTP master key + salt of the test's profile. */
static void decode_key(const char *what, const char *b64, enum mm_srtp_profile prof, uint8_t *out)
{
	uint8_t buf[MM_SRTP_MASTER_MAX + 8];
	int n = mm_b64_decode(b64, buf, sizeof(buf));
	cr_assert_eq((size_t)n, mm_srtp_master_len(prof),
		     "%s \"%s\" decodes to %d bytes, %s needs %zu", what, b64, n,
		     mm_srtp_profile_name(prof), mm_srtp_master_len(prof));
	memcpy(out, buf, (size_t)n);
}

static uint32_t audio_ssrc(int g)
{
	return SSRC_BASE + (uint32_t)g * 16u;
}

static uint32_t video_ssrc(int g)
{
	return SSRC_BASE + (uint32_t)g * 16u + 1u;
}

/* Participant g joins room through the API (operator token) from host
 * g % 3 + 1, port CLIENT_PORT + g, with an audio and a camera stream, and
 * opens its socket with the transport the reply gives. */
static struct part *join(int g, const char *room, const char *role)
{
	cr_assert_lt(g, MAX_PARTS);
	struct part *pt = &T.parts[g];
	const struct sim_site_host *h = &T.site.host[g % 3 + 1];
	char path[160];
	snprintf(pt->name, sizeof(pt->name), "p%d", g);
	snprintf(pt->room, sizeof(pt->room), "%s", room);
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", room);
	json_t *body = json_pack("{sssss{sssi}s[{sssI}{sssI}]}", "display_name", pt->name, "role",
				 role, "remote", "addr", h->ip4, "port", CLIENT_PORT + g, "streams",
				 "kind", "audio", "ssrc", (json_int_t)audio_ssrc(g), "kind", "camera",
				 "ssrc", (json_int_t)video_ssrc(g));
	if (T.level_id) /* the audio carries RFC 6464 levels in this extension */
		json_object_set_new(json_array_get(json_object_get(body, "streams"), 0),
				    "audio_level_id", json_integer(T.level_id));
	json_t *r = api_want(201, "POST", path, T.op_token, body);

	snprintf(pt->id, sizeof(pt->id), "%s", jstr(r, "id"));
	snprintf(pt->token, sizeof(pt->token), "%s", jstr(r, "token"));
	cr_assert(pt->id[0] == 'p', "join: participant id \"%s\" does not start with p: %s", pt->id,
		  dumps(r));
	cr_assert(strncmp(pt->token, "mmt_", 4) == 0, "join: token \"%s\" is not mmt_...: %s",
		  pt->token, dumps(r));
	check(strcmp(jstr(r, "room"), room) == 0, "join: room \"%s\", expected %s", jstr(r, "room"),
	      room);
	const json_t *tr = json_object_get(r, "transport");
	const json_t *srv = json_object_get(tr, "server");
	const json_t *srtp = json_object_get(tr, "srtp");
	const char *saddr = jstr(srv, "addr");
	json_int_t sport = json_integer_value(json_object_get(srv, "port"));
	cr_assert(strcmp(saddr, T.site.dp_ip4) == 0,
		  "join: transport.server.addr \"%s\", expected mmdp's %s: %s", saddr, T.site.dp_ip4,
		  dumps(r));
	cr_assert(sport >= PORT_LO && sport <= PORT_HI,
		  "join: transport.server.port %lld outside port_range %d..%d", (long long)sport,
		  PORT_LO, PORT_HI);
	cr_assert(strcmp(jstr(srtp, "profile"), T.profile) == 0,
		  "join: transport.srtp.profile \"%s\", mmctld is configured with %s",
		  jstr(srtp, "profile"), T.profile);
	pt->server_port = (int)sport;
	enum mm_srtp_profile prof;
	cr_assert_eq(mm_srtp_profile_parse(T.profile, &prof), 0);
	uint8_t to_server[MM_SRTP_MASTER_MAX], from_server[MM_SRTP_MASTER_MAX];
	decode_key("key_to_server", jstr(srtp, "key_to_server"), prof, to_server);
	decode_key("key_from_server", jstr(srtp, "key_from_server"), prof, from_server);
	check(memcmp(to_server, from_server, mm_srtp_master_len(prof)) != 0,
	      "join: key_to_server and key_from_server are the same key");

	struct sim_participant_conf c = {
		.name = pt->name,
		.netns = h->ns,
		.addr = h->ip4,
		.port = (uint16_t)(CLIENT_PORT + g),
		.server_addr = saddr,
		.server_port = (uint16_t)sport,
		.audio_ssrc = audio_ssrc(g),
		.video_ssrc = video_ssrc(g),
		.srtp = prof,
		/* The participant protects what it sends with key_to_server
		 * and unprotects what it receives with key_from_server. */
		.srtp_in_key = to_server,
		.srtp_out_key = from_server,
	};
	int rc = sim_participant_open(&pt->p, &c);
	explicit_bzero(to_server, sizeof(to_server));
	explicit_bzero(from_server, sizeof(from_server));
	json_decref(r);
	cr_assert_eq(rc, 0, "participant %s (%s port %u in %s): %s", pt->name, c.addr, c.port,
		     c.netns, strerror(-rc));
	pt->open = true;
	pt->p.stream[0].level_id = (uint8_t)T.level_id;
	pt->p.stream[0].level_byte = 127; /* silence until the test speaks */
	if (g + 1 > T.n_parts)
		T.n_parts = g + 1;
	return pt;
}

/* GET /v1/rooms/{room} with token; returns the reply (status checked). */
static json_t *room_get(const char *room, const char *token)
{
	char path[160];
	snprintf(path, sizeof(path), "/v1/rooms/%s", room);
	return api_want(200, "GET", path, token, NULL);
}

/* The participant object with this id in a meeting-info reply. */
static const json_t *room_participant(const json_t *room, const char *id)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(room, "participants"), i, p)
		if (!strcmp(jstr(p, "id"), id))
			return p;
	return NULL;
}

/* ---- Media, synchronous ----------------------------------------------- */

static struct sim_participant *all[MAX_PARTS];

static size_t open_parts(void)
{
	size_t n = 0;
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open)
			all[n++] = &T.parts[i].p;
	return n;
}

/* Each participant in mask (bit g) sends `rounds` audio and video RTP
 * packets, one of each per round, plus an RTCP compound every rtcp_every
 * rounds (0: none); receive between rounds. */
static void send_rounds(unsigned mask, int rounds, int rtcp_every)
{
	size_t na = open_parts();
	for (int i = 0; i < rounds; i++) {
		for (int g = 0; g < T.n_parts; g++) {
			if (!(mask >> g & 1) || !T.parts[g].open)
				continue;
			for (size_t s = 0; s < P(g)->n_streams; s++) {
				int rc = sim_send_rtp(P(g), s);
				check(rc == 0, "%s: send RTP: %s", P(g)->name, strerror(-rc));
			}
			if (rtcp_every && i % rtcp_every == 0) {
				int rc = sim_send_rtcp(P(g));
				check(rc == 0, "%s: send RTCP: %s", P(g)->name, strerror(-rc));
			}
		}
		(void)sim_receive_all(all, na, 2);
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

/* Receive until `expected` datagrams arrived in all (or 5 s passed), then
 * for linger_ms more to catch anything that should not come. */
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

static const char *kind_name(const struct sim_participant *p, size_t k)
{
	return p->stream[k].kind == SIM_AUDIO ? "audio" : "video";
}

/* Receiver r got exactly indexes [from, to) of stream k of sender s:
 * nothing else, no duplicates; with seq_continuous, no break in the
 * sequence numbers either. */
static void expect_stream(int r, int s, size_t k, uint32_t from, uint32_t to, bool seq_continuous)
{
	const struct sim_participant *rx = P(r), *tx = P(s);
	const struct sim_flow *f = sim_flow_find(rx, tx->stream[k].ssrc);
	if (from == to) {
		check(!f || f->rtp_packets == 0, "%s received %llu %s packets from %s, expected none",
		      rx->name, f ? (unsigned long long)f->rtp_packets : 0ull, kind_name(tx, k),
		      tx->name);
		return;
	}
	check(f != NULL, "%s received no %s from %s (expected RTP %u..%u)", rx->name,
	      kind_name(tx, k), tx->name, from, to - 1);
	if (!f)
		return;
	uint32_t missing = sim_flow_count_missing(f, from, to);
	check(missing == 0, "%s is missing %u of %s's %s RTP %u..%u", rx->name, missing, tx->name,
	      kind_name(tx, k), from, to - 1);
	uint32_t extra = 0;
	for (uint32_t i = 0; i < f->max_index; i++)
		if ((i < from || i >= to) && sim_flow_has(f, i))
			extra++;
	check(extra == 0, "%s received %u of %s's %s RTP outside %u..%u", rx->name, extra,
	      tx->name, kind_name(tx, k), from, to - 1);
	check(f->rtp_dups == 0, "%s received %llu duplicate %s RTP packets from %s", rx->name,
	      (unsigned long long)f->rtp_dups, kind_name(tx, k), tx->name);
	if (seq_continuous)
		check(f->rtp_seq_gaps == 0,
		      "%s saw %llu breaks in the sequence numbers of %s's %s (not previous + 1)",
		      rx->name, (unsigned long long)f->rtp_seq_gaps, tx->name, kind_name(tx, k));
}

/* Receiver r got exactly RTCP compounds [from, to) of sender s. */
static void expect_rtcp(int r, int s, uint32_t from, uint32_t to)
{
	const struct sim_participant *rx = P(r), *tx = P(s);
	const struct sim_flow *f = sim_flow_find(rx, tx->stream[0].ssrc);
	uint64_t got = f ? f->rtcp_packets : 0;
	check(got == to - from, "%s received %llu RTCP compounds from %s, expected %u", rx->name,
	      (unsigned long long)got, tx->name, to - from);
	for (uint32_t i = from; f && i < to; i++)
		if (!sim_flow_has_rtcp(f, i)) {
			check(false, "%s is missing RTCP compound %u of %s", rx->name, i, tx->name);
			break;
		}
	check(!f || f->rtcp_modified == 0, "%s: %llu RTCP compounds from %s were modified",
	      rx->name, f ? (unsigned long long)f->rtcp_modified : 0ull, tx->name);
}

static void expect_clean(int r)
{
	const struct sim_participant *rx = P(r);
	check(rx->rx_srtp_fail == 0,
	      "%s: %llu datagrams failed to unprotect with key_from_server (%llu as replays)",
	      rx->name, (unsigned long long)rx->rx_srtp_fail,
	      (unsigned long long)rx->rx_srtp_replay);
	check(rx->rx_bad_payload == 0, "%s received %llu RTP packets with damaged payload",
	      rx->name, (unsigned long long)rx->rx_bad_payload);
	check(rx->rx_foreign == 0, "%s received %llu datagrams that are not the simulator's",
	      rx->name, (unsigned long long)rx->rx_foreign);
	check(rx->rx_wrong_source == 0,
	      "%s received %llu datagrams not from its transport.server address and port",
	      rx->name, (unsigned long long)rx->rx_wrong_source);
	check(rx->send_errors == 0, "%s had %llu send errors", rx->name,
	      (unsigned long long)rx->send_errors);
}

/* Every receiver got everything every other participant sent, from the
 * first packet (whole-run checks for tests 1 and 2). */
static void expect_everything(bool seq_continuous)
{
	for (int r = 0; r < T.n_parts; r++) {
		expect_clean(r);
		for (int s = 0; s < T.n_parts; s++) {
			if (r == s)
				continue;
			for (size_t k = 0; k < P(s)->n_streams; k++)
				expect_stream(r, s, k, 0, P(s)->stream[k].sent, seq_continuous);
			expect_rtcp(r, s, 0, P(s)->rtcp_sent);
		}
	}
}

/* Datagrams all participants should get when everyone in the room hears
 * everyone else: sum over senders of (n - 1) * what each sent. */
static uint64_t all_to_all(void)
{
	uint64_t e = 0;
	for (int s = 0; s < T.n_parts; s++) {
		uint64_t sent = P(s)->rtcp_sent;
		for (size_t k = 0; k < P(s)->n_streams; k++)
			sent += P(s)->stream[k].sent;
		e += sent * (uint64_t)(T.n_parts - 1);
	}
	return e;
}

/* ---- Media, paced by a thread ------------------------------------------- */

static void *pump_main(void *arg)
{
	struct pump *pu = arg;
	size_t na = open_parts();
	uint64_t period = 1000000000ull / (uint64_t)pu->pps;
	uint64_t next = sim_now_ns();
	uint64_t prev[MAX_PARTS][MAX_PARTS][SIM_MAX_STREAMS];
	memset(prev, 0, sizeof(prev));
	while (!__atomic_load_n(&pu->stop, __ATOMIC_SEQ_CST)) {
		uint64_t now = sim_now_ns();
		if (now > next && now - next > pu->max_late_ns)
			pu->max_late_ns = now - next;
		for (int g = 0; g < T.n_parts; g++) {
			if (!T.parts[g].open)
				continue;
			for (size_t s = 0; s < P(g)->n_streams; s++)
				(void)sim_send_rtp(P(g), s);
			if (pu->rtcp_every && pu->ticks % (uint64_t)pu->rtcp_every == 0)
				(void)sim_send_rtcp(P(g));
		}
		pu->ticks++;
		next += period;
		for (;;) {
			now = sim_now_ns();
			int wait = now >= next ? 0 : (int)((next - now) / 1000000u);
			(void)sim_receive_all(all, na, wait);
			/* First arrivals after the mark, per (receiver, sender, stream). */
			uint64_t mark = __atomic_load_n(&pu->mark_ns, __ATOMIC_SEQ_CST);
			for (int r = 0; mark && r < T.n_parts; r++)
				for (int s = 0; s < T.n_parts; s++) {
					if (r == s)
						continue;
					for (size_t k = 0; k < P(s)->n_streams; k++) {
						const struct sim_flow *f = sim_flow_find(P(r), P(s)->stream[k].ssrc);
						uint64_t c = f ? f->rtp_packets : 0;
						if (c > prev[r][s][k] &&
						    !__atomic_load_n(&pu->first_after[r][s][k], __ATOMIC_SEQ_CST))
							__atomic_store_n(&pu->first_after[r][s][k], sim_now_ns(),
									 __ATOMIC_SEQ_CST);
						prev[r][s][k] = c;
					}
				}
			if (!mark)
				for (int r = 0; r < T.n_parts; r++)
					for (int s = 0; s < T.n_parts; s++)
						for (size_t k = 0; k < SIM_MAX_STREAMS && k < P(s)->n_streams; k++) {
							const struct sim_flow *f =
								r == s ? NULL : sim_flow_find(P(r), P(s)->stream[k].ssrc);
							prev[r][s][k] = f ? f->rtp_packets : 0;
						}
			if (sim_now_ns() >= next)
				break;
		}
	}
	return NULL;
}

static void pump_start(int pps, int rtcp_every)
{
	struct pump *pu = &T.pump;
	memset(pu, 0, sizeof(*pu));
	pu->pps = pps;
	pu->rtcp_every = rtcp_every;
	open_parts();
	cr_assert_eq(pthread_create(&pu->thread, NULL, pump_main, pu), 0);
	pu->running = true;
}

static void pump_stop(void)
{
	struct pump *pu = &T.pump;
	if (!pu->running)
		return;
	__atomic_store_n(&pu->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(pu->thread, NULL);
	pu->running = false;
}

/* Latest first arrival after the mark over every (receiver, sender,
 * stream), or 0 when some flow has not resumed yet (*missing tells which). */
static uint64_t pump_all_resumed(char *missing, size_t cap)
{
	uint64_t latest = 0;
	for (int r = 0; r < T.n_parts; r++)
		for (int s = 0; s < T.n_parts; s++) {
			if (r == s)
				continue;
			for (size_t k = 0; k < P(s)->n_streams; k++) {
				uint64_t t = __atomic_load_n(&T.pump.first_after[r][s][k], __ATOMIC_SEQ_CST);
				if (!t) {
					snprintf(missing, cap, "%s has received nothing of %s's %s since",
						 T.parts[r].name, T.parts[s].name, kind_name(P(s), k));
					return 0;
				}
				if (t > latest)
					latest = t;
			}
		}
	return latest;
}

/* ---- Suite ------------------------------------------------------------------ */

static void suite_init(void)
{
	char err[256];
	memset(&T, 0, sizeof(T));
	T.agent.fd = -1;
	for (int i = 0; i < MAX_PARTS; i++)
		T.parts[i].p.fd = -1;
	cr_assert_eq(sim_site_from_env(&T.site, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(T.site.hosts, 3, "the site needs 3 hosts");
	cr_assert_eq(ctl_client_init(), 0, "curl_global_init failed");

	snprintf(T.dir, sizeof(T.dir), "/tmp/mmc-test.XXXXXX");
	cr_assert_not_null(mkdtemp(T.dir));
	snprintf(T.sock, sizeof(T.sock), "%s/agent.sock", T.dir);
	snprintf(T.mmdp_conf, sizeof(T.mmdp_conf), "%s/mmdp.json", T.dir);
	snprintf(T.mmdp_log, sizeof(T.mmdp_log), "%s/mmdp.log", T.dir);
	snprintf(T.ctl_conf, sizeof(T.ctl_conf), "%s/mmctld.json", T.dir);
	snprintf(T.ctl_db, sizeof(T.ctl_db), "%s/mmctld.db", T.dir);
	snprintf(T.ctl_log, sizeof(T.ctl_log), "%s/mmctld.log", T.dir);
	FILE *f = fopen(T.mmdp_conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"agent_socket\":\"%s\",\n \"ports\":[{\"addresses\":[\"%s\",\"%s\"],"
		   "\"gateway_mac\":\"%s\",\"workers\":[0]}]}\n",
		T.sock, T.site.dp_ip4, T.site.dp_ip6, T.site.gw_mac);
	fclose(f);

	mmdp_start();
	int rc = sim_site_resolve(&T.site);
	cr_assert_eq(rc, 0, "hosts could not resolve mmdp: %s", strerror(-rc));

	T.http_port = free_tcp_port();
	snprintf(T.base, sizeof(T.base), "http://127.0.0.1:%d", T.http_port);
	ctl_write_config(PROFILE_GCM);
	ctl_operator_token();
	ctl_start();
}

static void suite_fini(void)
{
	pump_stop();
	for (int i = 0; i < MAX_SSE; i++)
		ctl_sse_close(&T.sse[i]);
	for (int i = 0; i < T.n_parts; i++)
		if (T.parts[i].open) {
			sim_participant_close(&T.parts[i].p);
			T.parts[i].open = false;
		}
	int before = T.failures;
	ctl_stop();
	mmdp_stop();
	if (T.failures > before)
		logs_tail();
	ctl_client_fini();
	if (T.failures == 0 && T.dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", T.dir);
	} else if (T.dir[0]) {
		fprintf(stderr, "logs and database kept in %s\n", T.dir);
	}
}

TestSuite(control_site, .init = suite_init, .fini = suite_fini, .timeout = 90);

/* ---- 1. SRTP media between participants joined through the API --------- */

Test(control_site, srtp_media_between_api_joined_participants)
{
	const int n = 3, rounds = 200, rtcp_every = 20, rtcp = 10;
	char room[64];
	create_room("srtp-media", room, sizeof(room));
	join(0, room, "host");
	join(1, room, "attendee");
	join(2, room, "attendee");

	/* mmdp has exactly what the API says: one endpoint per participant,
	 * named by its id, on its transport port, with its SSRCs and the
	 * configured profile. */
	json_t *info = room_get(room, T.op_token);
	check(json_array_size(json_object_get(info, "participants")) == (size_t)n,
	      "GET /v1/rooms/%s lists %zu participants, expected %d", room,
	      json_array_size(json_object_get(info, "participants")), n);
	for (int g = 0; g < n; g++) {
		const json_t *pj = room_participant(info, T.parts[g].id);
		check(pj != NULL, "meeting info has no participant %s", T.parts[g].id);
		const json_t *srv = json_object_get(pj, "server");
		check(json_integer_value(json_object_get(srv, "port")) == T.parts[g].server_port,
		      "meeting info: %s's server port %lld, the join said %d", T.parts[g].id,
		      (long long)json_integer_value(json_object_get(srv, "port")),
		      T.parts[g].server_port);
		json_t *ep = agent_call_ok(json_pack("{ssss}", "op", "endpoint.get", "endpoint",
						     T.parts[g].id));
		check(strcmp(jstr(ep, "room"), room) == 0, "mmdp: endpoint %s is in room %s, not %s",
		      T.parts[g].id, jstr(ep, "room"), room);
		const json_t *loc = json_object_get(ep, "local"), *rem = json_object_get(ep, "remote");
		check(json_integer_value(json_object_get(loc, "port")) == T.parts[g].server_port &&
			      strcmp(jstr(loc, "addr"), T.site.dp_ip4) == 0,
		      "mmdp: endpoint %s local %s, expected %s:%d", T.parts[g].id, dumps(loc),
		      T.site.dp_ip4, T.parts[g].server_port);
		check(json_integer_value(json_object_get(rem, "port")) == CLIENT_PORT + g &&
			      strcmp(jstr(rem, "addr"), P(g)->addr) == 0,
		      "mmdp: endpoint %s remote %s, expected %s:%d", T.parts[g].id, dumps(rem),
		      P(g)->addr, CLIENT_PORT + g);
		check(strcmp(jstr(json_object_get(ep, "srtp"), "profile"), T.profile) == 0,
		      "mmdp: endpoint %s srtp %s, expected profile %s", T.parts[g].id,
		      dumps(json_object_get(ep, "srtp")), T.profile);
		const json_t *streams = json_object_get(ep, "streams");
		bool audio = false, video = false;
		size_t i;
		json_t *s;
		json_array_foreach(streams, i, s) {
			json_int_t ssrc = json_integer_value(json_object_get(s, "ssrc"));
			audio |= ssrc == audio_ssrc(g) && !strcmp(jstr(s, "kind"), "audio");
			video |= ssrc == video_ssrc(g) && !strcmp(jstr(s, "kind"), "video");
		}
		check(audio && video && json_array_size(streams) == 2,
		      "mmdp: endpoint %s streams %s, expected audio %u and video (camera) %u",
		      T.parts[g].id, dumps(streams), audio_ssrc(g), video_ssrc(g));
		json_decref(ep);
	}
	json_decref(info);

	send_rounds(0x7, rounds, rtcp_every);
	settle(all_to_all(), 300);

	for (int s = 0; s < n; s++)
		check(P(s)->stream[0].sent == (uint32_t)rounds && P(s)->stream[1].sent == (uint32_t)rounds &&
			      P(s)->rtcp_sent == (uint32_t)rtcp,
		      "%s sent %u audio, %u video, %u RTCP; expected %d, %d, %d", P(s)->name,
		      P(s)->stream[0].sent, P(s)->stream[1].sent, P(s)->rtcp_sent, rounds, rounds, rtcp);
	expect_everything(true);
	uint64_t expected = (uint64_t)n * (n - 1) * (2 * rounds + rtcp);
	check(total_rx() == expected, "participants received %llu datagrams in all, expected %llu",
	      (unsigned long long)total_rx(), (unsigned long long)expected);

	/* mmdp's counters agree with what the participants saw. */
	json_t *st = stats();
	cr_assert(st && sim_reply_ok(st), "stats.get: %s", dumps(st));
	const json_t *rs = sim_stats_room(st, room);
	long long per = 2 * rounds + rtcp;
	check(rs != NULL, "mmdp's stats have no room %s", room);
	check(sim_json_int(rs, "rx_packets") == n * per, "mmdp room rx_packets %lld, expected %lld",
	      sim_json_int(rs, "rx_packets"), n * per);
	check(sim_json_int(rs, "tx_packets") == n * (n - 1) * per,
	      "mmdp room tx_packets %lld, expected %lld", sim_json_int(rs, "tx_packets"),
	      (long long)n * (n - 1) * per);
	for (int g = 0; g < n; g++) {
		const json_t *ep = sim_stats_endpoint(st, room, T.parts[g].id);
		check(sim_json_int(ep, "rx_packets") == per, "mmdp endpoint %s rx_packets %lld, expected %lld",
		      T.parts[g].id, sim_json_int(ep, "rx_packets"), per);
		check(sim_json_int(ep, "tx_packets") == (n - 1) * per,
		      "mmdp endpoint %s tx_packets %lld, expected %lld", T.parts[g].id,
		      sim_json_int(ep, "tx_packets"), (long long)(n - 1) * per);
		check(sim_json_int(ep, "tx_packets") == (long long)(P(g)->rx_datagrams - P(g)->rx_mmdp_rtcp),
		      "mmdp sent %lld packets to %s, it received %llu", sim_json_int(ep, "tx_packets"),
		      T.parts[g].id, (unsigned long long)(P(g)->rx_datagrams - P(g)->rx_mmdp_rtcp));
	}
	static const char *zero[] = { "srtp_auth", "srtp_replay", "srtp_no_key", "srtp_protect",
				      "unknown_ssrc", "unknown_endpoint", "tx_full", "no_buffer" };
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		check(sim_stats_drop(st, zero[i]) == 0, "mmdp drops.%s = %lld, expected 0", zero[i],
		      sim_stats_drop(st, zero[i]));
	json_decref(st);
	fprintf(stderr,
		"srtp_media (%s): %d participants sent %d audio + %d video + %d RTCP each; "
		"received %llu of %llu, mmdp room rx %lld tx %lld\n",
		T.profile, n, rounds, rounds, rtcp, (unsigned long long)total_rx(),
		(unsigned long long)expected, n * per, (long long)n * (n - 1) * per);
	finish();
}

/* ---- 2. mmctld restart while media flows ------------------------------- */

Test(control_site, mmctld_restart_loses_no_packet)
{
	const int n = 3, pps = 50;
	char room[64];
	/* This test uses the other profile family: mmctld restarted on a
	 * config with AES_CM_128_HMAC_SHA1_80 (HMAC-SHA1 auth, 10-byte tag). */
	ctl_stop();
	ctl_write_config(PROFILE_CM80);
	ctl_start();
	create_room("restart-ctl", room, sizeof(room));
	join(0, room, "host");
	join(1, room, "attendee");
	join(2, room, "attendee");
	json_t *before = room_get(room, T.op_token);
	int syncs0 = ctl_syncs_logged();

	pump_start(pps, 25);
	sim_sleep_ms(1500);
	uint64_t t0 = sim_now_ns();
	ctl_stop();
	uint64_t t1 = sim_now_ns();
	/* Media keeps flowing with no controller at all. */
	sim_sleep_ms(500);
	uint64_t t2 = sim_now_ns();
	ctl_start();
	uint64_t t3 = sim_now_ns();
	/* The API shows the same room and participants, and the participant
	 * tokens issued before the restart still work. */
	json_t *after = room_get(room, T.op_token);
	json_t *self = room_get(room, T.parts[1].token);
	sim_sleep_ms(1500);
	pump_stop();
	settle(all_to_all(), 300);

	check(ctl_syncs_logged() > syncs0,
	      "mmctld logged no state.sync to mmdp after its restart (event=state_synced %d times "
	      "before, %d after)", syncs0, ctl_syncs_logged());
	check(json_equal(json_object_get(before, "participants"), json_object_get(after, "participants")),
	      "participants changed across the restart:\n  before %s\n  after  %s",
	      dumps(json_object_get(before, "participants")), dumps(json_object_get(after, "participants")));
	check(!strcmp(jstr(before, "id"), jstr(after, "id")) && !strcmp(jstr(after, "name"), "restart-ctl"),
	      "room changed across the restart: %s / %s", dumps(before), dumps(after));
	check(json_array_size(json_object_get(self, "participants")) == (size_t)n,
	      "GET with a participant token after the restart: %s", dumps(self));
	json_decref(before);
	json_decref(after);
	json_decref(self);

	for (int s = 0; s < n; s++)
		check(P(s)->stream[0].sent >= (uint32_t)(pps * 3),
		      "%s sent only %u packets per stream in about 3.5 s at %d pps", P(s)->name,
		      P(s)->stream[0].sent, pps);
	expect_everything(true);
	check(total_rx() == all_to_all(), "participants received %llu datagrams, expected %llu",
	      (unsigned long long)total_rx(), (unsigned long long)all_to_all());

	json_t *st = stats();
	cr_assert(st && sim_reply_ok(st), "stats.get: %s", dumps(st));
	for (int g = 0; g < n; g++) {
		const json_t *ep = sim_stats_endpoint(st, room, T.parts[g].id);
		long long sent = (long long)P(g)->stream[0].sent + P(g)->stream[1].sent + P(g)->rtcp_sent;
		check(sim_json_int(ep, "rx_packets") == sent,
		      "mmdp endpoint %s rx_packets %lld, %s sent %lld (counters must survive the resync)",
		      T.parts[g].id, sim_json_int(ep, "rx_packets"), P(g)->name, sent);
		check(strcmp(jstr(json_object_get(ep, "srtp"), "profile"), PROFILE_CM80) == 0,
		      "mmdp endpoint %s srtp %s, expected %s", T.parts[g].id,
		      dumps(json_object_get(ep, "srtp")), PROFILE_CM80);
	}
	static const char *zero[] = { "srtp_auth", "srtp_replay", "srtp_no_key", "unknown_endpoint",
				      "unknown_ssrc" };
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		check(sim_stats_drop(st, zero[i]) == 0, "mmdp drops.%s = %lld, expected 0", zero[i],
		      sim_stats_drop(st, zero[i]));
	json_decref(st);
	fprintf(stderr,
		"mmctld_restart (%s): %d participants x %u audio + %u video + %u RTCP at %d pps, "
		"received %llu of %llu; mmctld stopped in %.0f ms, down %.0f ms, back in %.0f ms; "
		"pump worst lateness %.1f ms\n",
		T.profile, n, P(0)->stream[0].sent, P(0)->stream[1].sent, P(0)->rtcp_sent, pps,
		(unsigned long long)total_rx(), (unsigned long long)all_to_all(), (t1 - t0) / 1e6,
		(t2 - t1) / 1e6, (t3 - t2) / 1e6, T.pump.max_late_ns / 1e6);
	finish();
}

/* ---- 3. mmdp restart: mmctld pushes everything back ---------------------- */

/* Participants 0..2 stream at 50 pps while mmdp is stopped and started
 * again. Every stream's next sequence number starts at first_seq: whether
 * the streams cross 65535 (SRTP rollover counter 0 -> 1) before the
 * restart is what tells the two tests below apart. */
static void mmdp_restart(const char *room_name, uint16_t first_seq)
{
	const int n = 3, pps = 50, k = 50;
	char room[64], missing[160] = "";
	create_room(room_name, room, sizeof(room));
	join(0, room, "host");
	join(1, room, "attendee");
	join(2, room, "attendee");
	for (int g = 0; g < n; g++)
		for (size_t q = 0; q < P(g)->n_streams; q++)
			P(g)->stream[q].seq = (uint16_t)(first_seq + 4 * g + 2 * q);
	json_t *rooms0 = api_want(200, "GET", "/v1/rooms", T.op_token, NULL);

	pump_start(pps, 0);
	sim_sleep_ms(1000);
	/* mmdp goes away; media stops. */
	mmdp_stop();
	sim_sleep_ms(300);
	/* A change while mmdp is down is refused and leaves nothing behind. */
	json_t *r = NULL;
	int st = api("POST", "/v1/rooms", T.op_token, json_pack("{ss}", "name", "while-down"), &r);
	check(st == 503 && !strcmp(err_code(r), "mmdp_unavailable"),
	      "POST /v1/rooms while mmdp is down: HTTP %d %s, expected 503 mmdp_unavailable", st,
	      dumps(r));
	json_decref(r);
	json_t *rooms1 = api_want(200, "GET", "/v1/rooms", T.op_token, NULL);
	check(json_equal(rooms0, rooms1), "a refused change left something: %s, before %s",
	      dumps(rooms1), dumps(rooms0));
	json_decref(rooms0);
	json_decref(rooms1);

	/* mmdp comes back with empty tables. From the moment its agent socket
	 * appears: mmctld must have pushed the whole state, and every flow
	 * must be forwarded again, within 2 s. */
	uint64_t t_sock;
	mmdp_spawn(&t_sock);
	__atomic_store_n(&T.pump.mark_ns, t_sock, __ATOMIC_SEQ_CST);
	mmdp_connect();
	uint64_t t_sync = 0, end = t_sock + 5000000000ull;
	while (!t_sync && sim_now_ns() < end) {
		json_t *h = agent_call_ok(json_pack("{ss}", "op", "hello"));
		if (sim_json_int(h, "rooms") == 1 && sim_json_int(h, "endpoints") == n)
			t_sync = sim_now_ns();
		json_decref(h);
		if (!t_sync)
			usleep(2000);
	}
	uint64_t t_fwd = 0;
	while (!(t_fwd = pump_all_resumed(missing, sizeof(missing))) && sim_now_ns() < end)
		usleep(5000);
	pump_stop();
	check(t_sync != 0, "mmdp did not get the room and %d endpoints back within 5 s", n);
	check(t_fwd != 0, "forwarding not restored within 5 s of mmdp's socket appearing: %s", missing);
	if (t_sync)
		check(t_sync - t_sock < RESYNC_LIMIT_NS,
		      "mmctld pushed the state %.0f ms after mmdp's socket appeared (limit 2000 ms)",
		      (t_sync - t_sock) / 1e6);
	if (t_fwd)
		check(t_fwd - t_sock < RESYNC_LIMIT_NS,
		      "every flow was forwarded again %.0f ms after mmdp's socket appeared (limit 2000 ms)",
		      (t_fwd - t_sock) / 1e6);

	/* The state mmdp got is the state the API shows. */
	json_t *rg = agent_call_ok(json_pack("{ssss}", "op", "room.get", "room", room));
	json_t *eps = json_object_get(rg, "endpoints");
	for (int g = 0; g < n; g++) {
		bool found = false;
		size_t i;
		json_t *e;
		json_array_foreach(eps, i, e)
			found |= !strcmp(json_string_value(e) ?: "", T.parts[g].id);
		check(found, "mmdp's room %s after the resync lacks endpoint %s: %s", room,
		      T.parts[g].id, dumps(rg));
	}
	json_decref(rg);

	/* Media flows again, completely: k more rounds, none lost. */
	uint32_t from[MAX_PARTS][SIM_MAX_STREAMS];
	for (int g = 0; g < n; g++) {
		for (size_t s = 0; s < P(g)->n_streams; s++)
			from[g][s] = P(g)->stream[s].sent;
		sim_participant_reset_rx(P(g));
	}
	long long auth0 = drop_count("srtp_auth");
	send_rounds(0x7, k, 0);
	settle((uint64_t)n * (n - 1) * 2 * k, 300);
	for (int r = 0; r < n; r++) {
		expect_clean(r);
		for (int s = 0; s < n; s++)
			if (r != s)
				for (size_t q = 0; q < P(s)->n_streams; q++)
					expect_stream(r, s, q, from[s][q], from[s][q] + k, true);
	}
	long long auth = drop_count("srtp_auth") - auth0;
	check(auth == 0,
	      "mmdp dropped %lld of the %d packets sent after the restart as srtp_auth "
	      "(the participants' streams are at SRTP rollover counter %d)",
	      auth, n * 2 * k, P(0)->stream[0].seq < first_seq ? 1 : 0);
	char sync_txt[32] = "never", fwd_txt[32] = "never";
	if (t_sync)
		snprintf(sync_txt, sizeof(sync_txt), "%.0f ms", (t_sync - t_sock) / 1e6);
	if (t_fwd)
		snprintf(fwd_txt, sizeof(fwd_txt), "%.0f ms", (t_fwd - t_sock) / 1e6);
	fprintf(stderr,
		"%s: streams from seq %u (now %u): after mmdp's socket appeared, state pushed: %s, "
		"all %d flows forwarded: %s; then %d x %d packets, received %llu of %d\n",
		room_name, first_seq, P(0)->stream[0].seq, sync_txt, n * (n - 1) * 2, fwd_txt, n,
		2 * k, (unsigned long long)total_rx(), n * (n - 1) * 2 * k);
	finish();
}

/* Streams that have not wrapped (sequence numbers from 1000): the resync
 * itself, and its timing. */
Test(control_site, mmdp_restart_restores_forwarding)
{
	mmdp_restart("restart-dp", 1000);
}

/* The same with streams that crossed 65535 before the restart (from
 * 65500: about 0.7 s into the 1 s of media), as every long enough call
 * does whatever its random first sequence number: mmdp's new SRTP sessions
 * must still decrypt them (and the receivers its copies). RFC 3711 3.3.1:
 * the rollover counter is not in the packet; whoever restarts a session in
 * the middle of a stream has to recover or be given it. */
Test(control_site, mmdp_restart_restores_srtp_after_rollover)
{
	mmdp_restart("restart-dp-roc", 65500);
}

/* ---- 4. kick ---------------------------------------------------------------- */

Test(control_site, kick_stops_packets_and_token)
{
	const int n = 3, k = 40;
	char room[64], path[256];
	create_room("kick", room, sizeof(room));
	join(0, room, "host");
	join(1, room, "attendee");
	struct part *victim = join(2, room, "attendee");

	send_rounds(0x7, k, 0);
	settle((uint64_t)n * (n - 1) * 2 * k, 100);
	long long blocked0 = drop_count("blocked");
	long long unknown0 = drop_count("unknown_endpoint");

	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/kick", room, victim->id);
	json_decref(api_want(204, "POST", path, T.op_token,
			     json_pack("{sssi}", "reason", "integration test", "block_seconds", 600)));

	/* Its token is revoked. */
	json_t *r = NULL;
	snprintf(path, sizeof(path), "/v1/rooms/%s", room);
	int st = api("GET", path, victim->token, NULL, &r);
	check(st == 401 && !strcmp(err_code(r), "unauthorized"),
	      "the kicked participant's token: HTTP %d %s, expected 401 unauthorized", st, dumps(r));
	json_decref(r);

	/* Everyone keeps sending, the kicked one included. */
	send_rounds(0x7, k, 0);
	settle((uint64_t)n * (n - 1) * 2 * k + 2 * 2 * k, 300);
	for (int rx = 0; rx < 2; rx++) {
		expect_clean(rx);
		for (size_t q = 0; q < 2; q++) {
			expect_stream(rx, 1 - rx, q, 0, 2 * k, true);
			expect_stream(rx, 2, q, 0, k, true); /* nothing sent after the 204 */
			expect_stream(2, rx, q, 0, k, true); /* and nothing forwarded to it */
		}
	}
	expect_clean(2);

	/* mmdp drops what it sends as "blocked" (not as unknown_endpoint). */
	long long blocked = 0;
	for (int i = 0; i < 40 && blocked < 2 * k; i++) {
		blocked = drop_count("blocked") - blocked0;
		if (blocked < 2 * k)
			sim_sleep_ms(50);
	}
	check(blocked == 2 * k, "mmdp drops.blocked grew by %lld, the kicked participant sent %d",
	      blocked, 2 * k);
	check(drop_count("unknown_endpoint") == unknown0,
	      "mmdp counted %lld of the kicked participant's packets as unknown_endpoint",
	      drop_count("unknown_endpoint") - unknown0);
	json_t *ep = NULL;
	sim_agent_callf(&T.agent, &ep, "{ssss}", "op", "endpoint.get", "endpoint", victim->id);
	check(ep && !sim_reply_ok(ep) && !strcmp(sim_reply_code(ep), "not_found"),
	      "mmdp still has the kicked participant's endpoint: %s", dumps(ep));
	json_decref(ep);

	/* The API: gone from the meeting, and a block for its 5-tuple. */
	json_t *info = room_get(room, T.op_token);
	check(room_participant(info, victim->id) == NULL && room_participant(info, T.parts[0].id) &&
		      room_participant(info, T.parts[1].id),
	      "meeting info after the kick: %s", dumps(info));
	json_decref(info);
	json_t *blocks = api_want(200, "GET", "/v1/blocks", T.op_token, NULL);
	size_t i;
	json_t *b;
	bool found = false;
	json_array_foreach(json_object_get(blocks, "blocks"), i, b) {
		const json_t *rem = json_object_get(b, "remote"), *loc = json_object_get(b, "local");
		if (!strcmp(jstr(rem, "addr"), victim->p.addr) &&
		    json_integer_value(json_object_get(rem, "port")) == victim->p.port &&
		    json_integer_value(json_object_get(loc, "port")) == victim->server_port) {
			found = true;
			/* docs/api.md shows "kick"; the kick's own reason is as good */
			check(!strcmp(jstr(b, "reason"), "kick") ||
				      !strcmp(jstr(b, "reason"), "integration test"),
			      "block reason \"%s\", expected \"kick\" or the kick's reason",
			      jstr(b, "reason"));
			check(json_integer_value(json_object_get(b, "expires_at")) > 0,
			      "block without expires_at: %s", dumps(b));
		}
	}
	check(found, "GET /v1/blocks has no block for %s:%u -> %d: %s", victim->p.addr,
	      victim->p.port, victim->server_port, dumps(blocks));
	json_decref(blocks);
	fprintf(stderr, "kick: %lld packets of the kicked participant dropped as blocked\n", blocked);
	finish();
}

/* ---- 5. mute all but one -------------------------------------------------- */

Test(control_site, mute_all_but_one_leaves_exactly_one_audible)
{
	const int n = 4, k = 40;
	char room[64], path[160];
	create_room("mute-all", room, sizeof(room));
	join(0, room, "host");
	join(1, room, "attendee");
	join(2, room, "moderator");
	join(3, room, "attendee");
	const char *keep = T.parts[1].id;

	send_rounds(0xf, k, 0);
	settle((uint64_t)n * (n - 1) * 2 * k, 100);
	long long muted0 = drop_count("muted");

	snprintf(path, sizeof(path), "/v1/rooms/%s/mute", room);
	json_t *r = api_want(200, "POST", path, T.op_token,
			     json_pack("{s[s]sb}", "except", keep, "except_moderators", 0));
	const json_t *muted = json_object_get(r, "muted");
	check(json_array_size(muted) == 3, "mute reply lists %zu muted, expected 3: %s",
	      json_array_size(muted), dumps(r));
	for (int g = 0; g < n; g++) {
		bool listed = false;
		size_t i;
		json_t *v;
		json_array_foreach(muted, i, v)
			listed |= !strcmp(json_string_value(v) ?: "", T.parts[g].id);
		check(listed == (g != 1), "mute reply %s %s (%s)", listed ? "lists" : "does not list",
		      T.parts[g].id, dumps(r));
	}
	json_decref(r);

	json_t *info = room_get(room, T.op_token);
	for (int g = 0; g < n; g++) {
		const json_t *pj = room_participant(info, T.parts[g].id);
		check(pj && json_is_boolean(json_object_get(pj, "audio_muted")) &&
			      json_is_true(json_object_get(pj, "audio_muted")) == (g != 1) &&
			      json_is_false(json_object_get(pj, "video_muted")),
		      "meeting info for %s (%s): %s", T.parts[g].name,
		      g == 1 ? "audible" : "audio muted, video not", dumps(pj));
	}
	json_decref(info);

	send_rounds(0xf, k, 0);
	/* Phase 2 delivers: every video to 3 receivers, p1's audio to 3. */
	settle((uint64_t)n * (n - 1) * 2 * k + (uint64_t)n * (n - 1) * k + (n - 1) * k, 300);
	for (int rx = 0; rx < n; rx++) {
		expect_clean(rx);
		for (int s = 0; s < n; s++) {
			if (rx == s)
				continue;
			expect_stream(rx, s, 1, 0, 2 * k, true);              /* video: unaffected */
			expect_stream(rx, s, 0, 0, s == 1 ? 2 * k : k, true); /* audio: only p1's */
		}
	}
	long long dropped = 0;
	for (int i = 0; i < 40 && dropped < 3 * k; i++) {
		dropped = drop_count("muted") - muted0;
		if (dropped < 3 * k)
			sim_sleep_ms(50);
	}
	check(dropped == 3 * k, "mmdp drops.muted grew by %lld, expected %d (3 muted x %d)", dropped,
	      3 * k, k);
	for (int g = 0; g < n; g++) {
		json_t *ep = agent_call_ok(json_pack("{ssss}", "op", "endpoint.get", "endpoint",
						     T.parts[g].id));
		check(json_is_true(json_object_get(ep, "audio_muted")) == (g != 1) &&
			      json_is_false(json_object_get(ep, "video_muted")),
		      "mmdp endpoint %s: audio_muted %s video_muted %s", T.parts[g].id,
		      dumps(json_object_get(ep, "audio_muted")), dumps(json_object_get(ep, "video_muted")));
		json_decref(ep);
	}
	finish();
}

/* ---- 6. events ---------------------------------------------------------------- */

struct want_ev {
	const char *type;
	const char *participant; /* data.participant, or NULL */
};

/* The stream's events match want exactly (types, participants, in
 * order), with strictly increasing ids equal to data.seq and data.type
 * equal to the event name. */
static void expect_events(struct ctl_sse *s, const struct want_ev *want, size_t n)
{
	size_t got = ctl_sse_count(s);
	long long last = -1;
	for (size_t i = 0; i < got; i++) {
		const struct ctl_sse_event *e = ctl_sse_event(s, i);
		check(e->id > last, "%s: event %zu (%s) has id %lld after %lld (ids must increase)",
		      s->name, i, e->type, e->id, last);
		last = e->id;
		check(e->data != NULL, "%s: event %zu (%s) data is not JSON: %s", s->name, i, e->type,
		      e->raw);
		check(sim_json_int(e->data, "seq") == e->id, "%s: event id %lld but data.seq %lld",
		      s->name, e->id, sim_json_int(e->data, "seq"));
		check(!strcmp(jstr(e->data, "type"), e->type), "%s: event: %s but data.type \"%s\"",
		      s->name, e->type, jstr(e->data, "type"));
		check(json_integer_value(json_object_get(e->data, "at")) > 0,
		      "%s: event %lld has no \"at\": %s", s->name, e->id, e->raw);
	}
	bool same = got == n;
	for (size_t i = 0; same && i < n; i++) {
		const struct ctl_sse_event *e = ctl_sse_event(s, i);
		same = !strcmp(e->type, want[i].type) &&
		       (!want[i].participant ||
			!strcmp(jstr(e->data, "participant"), want[i].participant));
	}
	if (!same) {
		check(false, "%s saw %zu events, expected %zu in this order:", s->name, got, n);
		for (size_t i = 0; i < n || i < got; i++) {
			const struct ctl_sse_event *e = i < got ? ctl_sse_event(s, i) : NULL;
			fprintf(stderr, "  %2zu expected %-20s %-20s got %s\n", i,
				i < n ? want[i].type : "-", i < n && want[i].participant ? want[i].participant : "",
				e ? e->raw : "-");
		}
	}
}

static long long find_event(struct ctl_sse *s, const char *type, const char *participant)
{
	long i = ctl_sse_wait_type(s, type, participant, 3000);
	return i < 0 ? -1 : ctl_sse_event(s, (size_t)i)->id;
}

Test(control_site, sse_client_sees_every_event_in_order)
{
	char room[64], path[256], ev_path[160];
	create_room("events", room, sizeof(room));
	snprintf(ev_path, sizeof(ev_path), "/v1/rooms/%s/events", room);

	/* An operator's stream from the start. */
	struct ctl_sse *op = &T.sse[0];
	cr_assert_eq(ctl_sse_open(op, "operator stream", T.base, ev_path, T.op_token, NULL), 0);
	long status = ctl_sse_wait_status(op, 3000);
	cr_assert_eq(status, 200, "GET %s (text/event-stream): HTTP %ld", ev_path, status);
	check(strncmp(op->content_type, "text/event-stream", 17) == 0,
	      "events Content-Type \"%s\", expected text/event-stream", op->content_type);

	struct part *p1 = join(0, room, "host");
	struct part *p2 = join(1, room, "attendee");
	struct part *p3 = join(2, room, "attendee");
	long long joined3 = find_event(op, "participant.joined", p3->id);
	cr_assert(joined3 >= 0, "the operator stream did not see %s join within 3 s", p3->id);

	/* The participants' own streams, from the last join on (replay after
	 * Last-Event-ID covers the time before they are subscribed). */
	char last[32];
	snprintf(last, sizeof(last), "%lld", joined3);
	struct ctl_sse *s1 = &T.sse[1], *s2 = &T.sse[2], *s3 = &T.sse[3];
	cr_assert_eq(ctl_sse_open(s1, "p1's stream", T.base, ev_path, p1->token, last), 0);
	cr_assert_eq(ctl_sse_open(s2, "p2's stream", T.base, ev_path, p2->token, last), 0);
	cr_assert_eq(ctl_sse_open(s3, "p3's stream", T.base, ev_path, p3->token, last), 0);
	for (int i = 1; i < 4; i++)
		check(ctl_sse_wait_status(&T.sse[i], 3000) == 200, "%s: HTTP %ld", T.sse[i].name,
		      T.sse[i].status);

	/* The requests, in this order. */
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/mute", room, p2->id);
	json_decref(api_want(200, "POST", path, T.op_token, json_pack("{sb}", "audio", 1)));
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/hand", room, p3->id);
	json_decref(api_want(200, "POST", path, p3->token, json_pack("{sb}", "raised", 1)));
	snprintf(path, sizeof(path), "/v1/rooms/%s/chat", room);
	json_t *m1 = api_want(201, "POST", path, p1->token, json_pack("{ss}", "text", "hello room"));
	json_t *m2 = api_want(201, "POST", path, p1->token,
			      json_pack("{ssss}", "text", "just for you", "to", p2->id));
	json_t *m3 = api_want(201, "POST", path, p2->token, json_pack("{ss}", "text", "thanks all"));
	/* The chat history honours privacy too. */
	snprintf(path, sizeof(path), "/v1/rooms/%s/chat?since=0", room);
	json_t *h3 = api_want(200, "GET", path, p3->token, NULL);
	json_t *h2 = api_want(200, "GET", path, p2->token, NULL);
	check(json_array_size(json_object_get(h3, "messages")) == 2,
	      "p3's chat history has %zu messages, expected the 2 group ones: %s",
	      json_array_size(json_object_get(h3, "messages")), dumps(h3));
	check(json_array_size(json_object_get(h2, "messages")) == 3,
	      "p2's chat history has %zu messages, expected 3: %s",
	      json_array_size(json_object_get(h2, "messages")), dumps(h2));
	json_decref(h3);
	json_decref(h2);
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/kick", room, p3->id);
	json_decref(api_want(204, "POST", path, T.op_token, json_pack("{ss}", "reason", "sse test")));
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", room, p2->id);
	json_decref(api_want(204, "DELETE", path, p2->token, NULL));

	/* Wait for the last event each stream must see. */
	check(find_event(op, "participant.left", p2->id) >= 0,
	      "the operator stream did not see %s leave within 3 s", p2->id);
	check(find_event(s1, "participant.left", p2->id) >= 0,
	      "p1's stream did not see %s leave within 3 s", p2->id);
	/* Streams of revoked tokens close. */
	check(ctl_sse_wait_done(s3, 3000), "p3's stream is still open 3 s after its kick");
	check(ctl_sse_wait_done(s2, 3000), "p2's stream is still open 3 s after it left");
	sim_sleep_ms(200); /* anything that should not come */

	const char *id1 = p1->id, *id2 = p2->id, *id3 = p3->id;
	const struct want_ev w_op[] = {
		{ "participant.joined", id1 }, { "participant.joined", id2 },
		{ "participant.joined", id3 }, { "mute", id2 }, { "hand", id3 }, { "chat", NULL },
		{ "chat", NULL }, { "participant.kicked", id3 }, { "participant.left", id2 },
	};
	const struct want_ev w_p1[] = {
		{ "mute", id2 }, { "hand", id3 }, { "chat", NULL }, { "chat", NULL }, { "chat", NULL },
		{ "participant.kicked", id3 }, { "participant.left", id2 },
	};
	expect_events(op, w_op, sizeof(w_op) / sizeof(w_op[0]));
	expect_events(s1, w_p1, sizeof(w_p1) / sizeof(w_p1[0]));
	/* p2 and p3 see the same up to their own departure, which they may or
	 * may not see before their stream closes. */
	size_t n2 = ctl_sse_count(s2), n3 = ctl_sse_count(s3);
	check(n2 == 6 || n2 == 7, "p2's stream saw %zu events, expected 6 (7 with its own leave)", n2);
	expect_events(s2, w_p1, n2 < 7 ? n2 : 7);
	const struct want_ev w_p3[] = {
		{ "mute", id2 }, { "hand", id3 }, { "chat", NULL }, { "chat", NULL },
		{ "participant.kicked", id3 },
	};
	check(n3 == 4 || n3 == 5, "p3's stream saw %zu events, expected 4 (5 with its own kick)", n3);
	expect_events(s3, w_p3, n3 < 5 ? n3 : 5);

	/* Field checks, on the operator stream. */
	const struct ctl_sse_event *e;
	e = ctl_sse_event(op, 0);
	check(e && !strcmp(jstr(e->data, "display_name"), p1->name) &&
		      !strcmp(jstr(e->data, "role"), "host"),
	      "join event: %s", e ? e->raw : "-");
	e = ctl_sse_event(op, 3);
	check(e && json_is_true(json_object_get(e->data, "audio_muted")) &&
		      json_is_false(json_object_get(e->data, "video_muted")) &&
		      !strcmp(jstr(e->data, "by"), "operator"),
	      "mute event: %s", e ? e->raw : "-");
	e = ctl_sse_event(op, 4);
	check(e && json_is_true(json_object_get(e->data, "raised")) && !strcmp(jstr(e->data, "by"), id3),
	      "hand event: %s", e ? e->raw : "-");
	e = ctl_sse_event(op, 5);
	check(e && json_equal(json_object_get(e->data, "message"), m1),
	      "first chat event %s, the POST returned %s", e ? e->raw : "-", dumps(m1));
	e = ctl_sse_event(op, 6);
	check(e && json_equal(json_object_get(e->data, "message"), m3),
	      "second group chat event %s, the POST returned %s", e ? e->raw : "-", dumps(m3));
	e = ctl_sse_event(op, 7);
	check(e && !strcmp(jstr(e->data, "by"), "operator") && !strcmp(jstr(e->data, "reason"), "sse test"),
	      "kick event: %s", e ? e->raw : "-");
	/* The private message: p1 and p2 see it (same id everywhere), the
	 * operator's and p3's streams do not. */
	long long priv = -1;
	for (size_t i = 0; i < ctl_sse_count(s1); i++) {
		e = ctl_sse_event(s1, i);
		if (!strcmp(e->type, "chat") && json_equal(json_object_get(e->data, "message"), m2))
			priv = e->id;
	}
	check(priv > 0, "p1's stream has no chat event for the private message %s", dumps(m2));
	bool in2 = false;
	for (size_t i = 0; i < ctl_sse_count(s2); i++) {
		e = ctl_sse_event(s2, i);
		in2 |= e->id == priv && json_equal(json_object_get(e->data, "message"), m2);
	}
	check(in2, "p2's stream has no event %lld for the private message sent to it", priv);
	struct ctl_sse *others[] = { op, s3 };
	for (size_t o = 0; o < 2; o++)
		for (size_t i = 0; i < ctl_sse_count(others[o]); i++) {
			e = ctl_sse_event(others[o], i);
			check(e->id != priv && !strstr(e->raw, "just for you"),
			      "%s saw the private message between p1 and p2: %s", others[o]->name, e->raw);
		}
	/* Ids are the same event everywhere: p1's events are the operator's
	 * with the private one in between. */
	for (size_t i = 0, j = 3; i < ctl_sse_count(s1); i++) {
		e = ctl_sse_event(s1, i);
		if (e->id == priv)
			continue;
		const struct ctl_sse_event *oe = ctl_sse_event(op, j++);
		check(oe && oe->id == e->id && json_equal(oe->data, e->data),
		      "p1's event %s differs from the operator's %s", e->raw, oe ? oe->raw : "-");
	}
	json_decref(m1);
	json_decref(m2);
	json_decref(m3);
	fprintf(stderr, "sse: operator saw %zu events, p1 %zu, p2 %zu, p3 %zu\n", ctl_sse_count(op),
		ctl_sse_count(s1), n2, n3);
	finish();
}

/* ---- mmdp's dominant speaker through mmctld's event stream ----------------- */

/* Three participants whose audio carries RFC 6464 levels (joined with
 * audio_level_id): p1 speaks, p0 and p2 are silent. mmdp's speaker
 * detector elects p1, mmctld polls speakers.get and publishes a "speaker"
 * event naming p1 with p1 in the last-N list; the silent ones' audio
 * reaches nobody (last-N in mmdp, the room's default of 3 places, but a
 * participant who never spoke never takes one). */
Test(control_site, speaker_events_follow_mmdp)
{
	char room[64], ev_path[160];
	create_room("speakers", room, sizeof(room));
	snprintf(ev_path, sizeof(ev_path), "/v1/rooms/%s/events", room);
	struct ctl_sse *op = &T.sse[0];
	cr_assert_eq(ctl_sse_open(op, "operator stream", T.base, ev_path, T.op_token, NULL), 0);
	cr_assert_eq(ctl_sse_wait_status(op, 3000), 200);
	T.level_id = 1;
	join(0, room, "host");
	join(1, room, "attendee");
	join(2, room, "attendee");
	T.level_id = 0;
	P(1)->stream[0].level_byte = 0x80 | 25; /* voice, -25 dBov */
	size_t na = open_parts();
	uint64_t next = sim_now_ns();
	for (int round = 0; round < 100; round++) { /* 2 s of 20 ms audio, in real time */
		for (int g = 0; g < 3; g++) {
			int rc = sim_send_rtp(P(g), 0);
			check(rc == 0, "%s: send RTP: %s", P(g)->name, strerror(-rc));
		}
		next += 20000000u;
		for (uint64_t now = sim_now_ns(); now < next; now = sim_now_ns())
			(void)sim_receive_all(all, na, (int)((next - now) / 1000000u) + 1);
	}
	long i = ctl_sse_wait_type(op, "speaker", T.parts[1].id, 3000);
	if (i < 0) {
		json_t *sp = agent_call_ok(json_pack("{ss}", "op", "speakers.get"));
		json_t *ep = agent_call_ok(json_pack("{ssss}", "op", "endpoint.get", "endpoint",
						     T.parts[1].id));
		fprintf(stderr, "mmdp speakers.get: %s\nmmdp endpoint.get %s: %s\n", dumps(sp),
			T.parts[1].id, dumps(ep));
		json_decref(sp);
		json_decref(ep);
	}
	check(i >= 0, "no \"speaker\" event naming %s within 3 s", T.parts[1].id);
	if (i >= 0) {
		const json_t *d = ctl_sse_event(op, (size_t)i)->data;
		const json_t *ln = json_object_get(json_object_get(d, "data"), "last_n");
		if (!ln)
			ln = json_object_get(d, "last_n");
		bool listed = false;
		size_t k;
		json_t *v;
		json_array_foreach(ln, k, v)
			listed |= json_is_string(v) && strcmp(json_string_value(v), T.parts[1].id) == 0;
		check(listed, "speaker event without %s in its last_n: %s", T.parts[1].id, dumps(d));
	}
	settle(0, 200);
	const struct sim_flow *f0 = sim_flow_find(P(0), audio_ssrc(1));
	const struct sim_flow *f1 = sim_flow_find(P(1), audio_ssrc(0));
	check(f0 && f0->rtp_packets >= 95, "p0 got %llu of p1's 100 audio packets",
	      f0 ? (unsigned long long)f0->rtp_packets : 0ull);
	check(!f1 || f1->rtp_packets == 0, "p1 got %llu audio packets of silent p0",
	      f1 ? (unsigned long long)f1->rtp_packets : 0ull);
	check(drop_count("last_n") >= 190, "mmdp dropped %lld packets as last_n, expected the silent ones' 200",
	      drop_count("last_n"));
	finish();
}
