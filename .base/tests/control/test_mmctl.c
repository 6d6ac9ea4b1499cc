/* mmctl, the CLI, as a child process against a real mmctld (real HTTP, a
 * real SQLite file; mmdp's agent socket is the harness's recorder): its
 * human and --json output, and its exit codes (docs/api.md, "mmctl exit
 * codes"). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h_ctl H;
static char URL[64];

static void setup(void)
{
	h_setup(&H);
	h_rec_start(&H);
	h_start(&H);
	snprintf(URL, sizeof(URL), "http://127.0.0.1:%d", H.port);
}

static void teardown(void)
{
	h_teardown(&H);
}

TestSuite(mmctl, .init = setup, .fini = teardown, .timeout = 120);

/* ---- running mmctl ---- */

struct run {
	int rc;                  /* exit status, or 128 + signal */
	char *out, *err;
};

struct child {
	pid_t pid;
	int out, err;
};

/* Start mmctl with argv (argv[0] is replaced by $MMCTL). env: "K=V" strings
 * set in the child (MMCTL_URL / MMCTL_TOKEN are unset otherwise). */
static void spawn(struct child *c, const char *const *argv, const char *const *env)
{
	const char *bin = getenv("MMCTL");
	int po[2], pe[2];
	cr_assert(bin, "MMCTL must name the mmctl binary");
	cr_assert_eq(pipe(po), 0);
	cr_assert_eq(pipe(pe), 0);
	c->pid = fork();
	cr_assert(c->pid >= 0);
	if (c->pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		unsetenv("MMCTL_URL");
		unsetenv("MMCTL_TOKEN");
		/* libcurl honours these; the tests talk to 127.0.0.1 directly. */
		unsetenv("http_proxy");
		unsetenv("https_proxy");
		unsetenv("all_proxy");
		unsetenv("ALL_PROXY");
		for (; env && *env; env++)
			putenv((char *)*env);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	c->out = po[0];
	c->err = pe[0];
}

static void drain(int *fd, char **buf, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof(tmp));
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	*buf = realloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
}

/* Collect its output until it exits (at most 30 s). */
static void finish(struct child *c, struct run *r)
{
	size_t lo = 0, le = 0;
	time_t end = time(NULL) + 30;
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	while (c->out >= 0 || c->err >= 0) {
		struct pollfd p[2] = { { .fd = c->out, .events = POLLIN },
				       { .fd = c->err, .events = POLLIN } };
		if (time(NULL) > end) {
			kill(c->pid, SIGKILL);
			cr_assert_fail("mmctl did not finish in 30 s; stdout: %s", r->out);
		}
		if (poll(p, 2, 200) <= 0)
			continue;
		if (c->out >= 0 && p[0].revents)
			drain(&c->out, &r->out, &lo);
		if (c->err >= 0 && p[1].revents)
			drain(&c->err, &r->err, &le);
	}
	int st;
	cr_assert_eq(waitpid(c->pid, &st, 0), c->pid);
	r->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* mmctl --url url [--token token] args... (NULL-terminated). */
static void mm_va(struct run *r, const char *url, const char *token, const char *const *env,
		  va_list ap)
{
	const char *argv[64];
	int n = 0;
	argv[n++] = "mmctl";
	if (url) {
		argv[n++] = "--url";
		argv[n++] = url;
	}
	if (token) {
		argv[n++] = "--token";
		argv[n++] = token;
	}
	const char *a;
	while ((a = va_arg(ap, const char *)))
		argv[n++] = a;
	argv[n] = NULL;
	cr_assert(n < 64);
	struct child c;
	spawn(&c, argv, env);
	finish(&c, r);
}

static void mm_as(struct run *r, const char *token, ...)
{
	va_list ap;
	va_start(ap, token);
	mm_va(r, URL, token, NULL, ap);
	va_end(ap);
}

/* As the operator. */
#define MM(r, ...) mm_as(r, H.op_token, __VA_ARGS__, (const char *)NULL)
/* As token t (NULL: none). */
#define MM_T(r, t, ...) mm_as(r, t, __VA_ARGS__, (const char *)NULL)

#define EXPECT_RC(r, code) \
	cr_assert_eq((r)->rc, (code), "exit %d, want %d\nstdout: %s\nstderr: %s", (r)->rc, \
		     (code), (r)->out, (r)->err)

/* stdout parsed as one JSON document (owned). */
static json_t *out_json(struct run *r)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);
	cr_assert(j, "--json output is not JSON (%s): %s", e.text, r->out);
	return j;
}

/* The value of a "key   value" line of human output (into buf). */
static const char *kv(const char *out, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) || l[kl] != ' ')
			continue;
		const char *v = l + kl;
		while (*v == ' ')
			v++;
		size_t n = strcspn(v, "\n");
		cr_assert(n < cap);
		memcpy(buf, v, n);
		buf[n] = '\0';
		return buf;
	}
	cr_assert_fail("no \"%s\" line in: %s", key, out);
	return NULL;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Create a room through mmctl --json; its id into id. */
static void room(const char *name, const char *capacity, const char *kind, char *id)
{
	struct run r;
	MM(&r, "--json", "rooms", "create", name, "--capacity", capacity, "--kind", kind);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	snprintf(id, 64, "%s", json_string_value(json_object_get(j, "id")));
	cr_assert(id[0] == 'r');
	json_decref(j);
	run_free(&r);
}

/* Join through mmctl --json; the reply (owned). */
static json_t *join(const char *rid, const char *name, const char *remote, const char *role)
{
	struct run r;
	MM(&r, "--json", "join", rid, "--name", name, "--remote", remote, "--role", role);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	run_free(&r);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A TCP listener that never accepts; its port. */
static int silent_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 64), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- the implemented API ---- */

Test(mmctl, help_lists_every_command_and_exit_code)
{
	static const char *const want[] = {
		"rooms list", "rooms create NAME", "rooms show ROOM", "rooms delete ROOM",
		"rooms end ROOM", "join ROOM", "join --invite", "leave ROOM PID", "role ROOM PID",
		"streams ROOM PID", "subscribe ROOM PID", "mute ROOM PID", "unmute ROOM PID",
		"mute-all ROOM", "kick ROOM PID", "hand ROOM PID", "chat send ROOM", "chat list ROOM",
		"invite ROOM", "events ROOM", "tokens create SCOPE", "tokens revoke ID",
		"blocks list", "blocks delete ID", "bans list", "bans add PREFIX", "bans delete ID",
		"--url", "--token", "--token-file", "--json",
		"--timeout", "Exit codes", "2 usage error", "8 cannot reach",
	};
	struct run r;
	MM_T(&r, NULL, "--help");
	EXPECT_RC(&r, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(r.out, want[i]), "--help lacks \"%s\"", want[i]);
	cr_expect_str_empty(r.err);
	run_free(&r);
	MM_T(&r, NULL, "rooms", "-h");
	EXPECT_RC(&r, 0);
	cr_expect(strstr(r.out, "rooms create NAME"));
	run_free(&r);
}

Test(mmctl, rooms_create_list_show_delete)
{
	struct run r;
	char buf[256];
	MM(&r, "rooms", "create", "standup", "--capacity", "10", "--kind", "fixed");
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "created room r", 14), "%s", r.out);
	cr_assert(strstr(r.out, "\"standup\" (fixed, capacity 10)"), "%s", r.out);
	char fixed[64];
	sscanf(r.out, "created room %63s", fixed);
	run_free(&r);
	json_t *put = h_rec_wait_op("room.put", 1000);
	cr_assert(put, "room.put pushed");
	cr_assert_str_eq(jstr(put, "room"), fixed);
	json_decref(put);

	MM(&r, "--json", "rooms", "create", "other");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	char other[64];
	snprintf(other, sizeof(other), "%s", jstr(j, "id"));
	cr_assert_str_eq(jstr(j, "name"), "other");
	cr_assert_str_eq(jstr(j, "kind"), "adhoc");
	cr_assert_eq(json_integer_value(json_object_get(j, "capacity")), 100);
	json_decref(j);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 2);

	MM(&r, "rooms", "list");
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "ID ", 3) && strstr(r.out, "NAME") && strstr(r.out, "CAPACITY"),
		  "%s", r.out);
	cr_assert(strstr(r.out, fixed) && strstr(r.out, other) && strstr(r.out, "standup"));
	cr_assert_eq(lines(r.out), 3, "%s", r.out);
	run_free(&r);
	MM(&r, "rooms", "list", "--json");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "rooms")), 2);
	json_decref(j);
	run_free(&r);

	json_decref(join(fixed, "An", "198.18.1.2:5000", "host"));
	MM(&r, "rooms", "show", fixed);
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "name", buf, sizeof(buf)), "standup");
	cr_assert_str_eq(kv(r.out, "kind", buf, sizeof(buf)), "fixed");
	cr_assert_str_eq(kv(r.out, "capacity", buf, sizeof(buf)), "10");
	cr_assert_str_eq(kv(r.out, "participants", buf, sizeof(buf)), "1");
	const char *head = strstr(r.out, "\nID ");
	cr_assert(head && strstr(head, "NAME") && strstr(head, "ROLE") && strstr(head, "AUDIO") &&
		  strstr(head, "VIDEO") && strstr(head, "HAND") && strstr(head, "JOINED"),
		  "%s", r.out);
	const char *row = strchr(head + 1, '\n');
	cr_assert(row && strstr(row, " An ") && strstr(row, " host ") &&
		  strstr(row, "198.18.1.2:5000"), "%s", r.out);
	run_free(&r);
	MM(&r, "--json", "rooms", "show", fixed);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert_str_eq(jstr(j, "id"), fixed);
	json_t *p0 = json_array_get(json_object_get(j, "participants"), 0);
	cr_assert_str_eq(jstr(p0, "display_name"), "An");
	cr_assert_str_eq(jstr(p0, "role"), "host");
	json_decref(j);
	run_free(&r);

	MM(&r, "rooms", "delete", fixed);
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "deleted room %s\n", fixed);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	json_t *del = h_rec_wait_op("room.del", 1000);
	cr_assert(del);
	json_decref(del);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	MM(&r, "rooms", "show", fixed);
	EXPECT_RC(&r, 4);
	cr_assert(!strncmp(r.err, "mmctl: not_found: ", 18), "%s", r.err);
	cr_assert_str_empty(r.out);
	run_free(&r);
	MM(&r, "--json", "rooms", "delete", other);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert(json_is_object(j) && json_object_size(j) == 0, "204 is {} with --json");
	json_decref(j);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 0);
}

Test(mmctl, rooms_last_n_and_resolution)
{
	struct run r;
	char buf[256], rid[64];
	MM(&r, "--json", "rooms", "create", "big", "--last-n", "5", "--video-last-n", "9");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	snprintf(rid, sizeof(rid), "%s", jstr(j, "id"));
	cr_assert_eq(json_integer_value(json_object_get(j, "last_n")), 5);
	cr_assert_eq(json_integer_value(json_object_get(j, "video_last_n")), 9);
	json_decref(j);
	run_free(&r);
	json_t *put = h_rec_wait_op("room.put", 1000);
	cr_assert(put);
	cr_assert_eq(json_integer_value(json_object_get(put, "last_n")), 5);
	json_decref(put);
	json_decref(h_rec_take());

	MM(&r, "rooms", "show", rid);
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "last-N", buf, sizeof(buf)), "5", "%s", r.out);
	cr_assert_str_eq(kv(r.out, "video last-N", buf, sizeof(buf)), "9", "%s", r.out);
	run_free(&r);

	MM(&r, "rooms", "set", rid, "--last-n", "0");
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "room %s: last-N 0, video last-N 9\n", rid);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	put = h_rec_wait_op("room.put", 1000);
	cr_assert(put);
	cr_assert_eq(json_integer_value(json_object_get(put, "last_n")), 0);
	cr_assert_eq(json_integer_value(json_object_get(put, "video_last_n")), 9);
	json_decref(put);
	cr_assert_eq(h_db_count(&H, "SELECT last_n FROM rooms"), 0);
	MM(&r, "rooms", "set", "rnothere", "--video-last-n", "2");
	EXPECT_RC(&r, 4);
	run_free(&r);

	json_t *p = join(rid, "An", "198.18.1.2:5000", "host");
	char pid[64];
	snprintf(pid, sizeof(pid), "%s", jstr(p, "id"));
	json_decref(p);
	json_decref(h_rec_take());
	MM(&r, "resolution", rid, pid, "low");
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "%s receives at most low resolution\n", pid);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	put = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(put);
	cr_assert_eq(json_integer_value(json_object_get(put, "max_layer")), 0);
	json_decref(put);
	MM(&r, "--json", "resolution", rid, pid, "medium");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert_str_eq(jstr(j, "max_resolution"), "medium");
	json_decref(j);
	run_free(&r);
	MM(&r, "resolution", rid, "pnothere", "high");
	EXPECT_RC(&r, 4);
	run_free(&r);
}

Test(mmctl, join_prints_transport_and_leave)
{
	char rid[64], buf[256];
	struct run r;
	room("m", "10", "adhoc", rid);
	json_decref(h_rec_take());
	MM(&r, "join", rid, "--name", "An", "--remote", "198.18.1.2:5004", "--role", "host");
	EXPECT_RC(&r, 0);
	char pid[64], key_in[128], key_out[128];
	snprintf(pid, sizeof(pid), "%s", kv(r.out, "participant", buf, sizeof(buf)));
	cr_assert(pid[0] == 'p');
	cr_assert_str_eq(kv(r.out, "room", buf, sizeof(buf)), rid);
	cr_assert_str_eq(kv(r.out, "role", buf, sizeof(buf)), "host");
	cr_assert(!strncmp(kv(r.out, "token", buf, sizeof(buf)), "mmt_", 4));
	int port = 0;
	cr_assert_eq(sscanf(kv(r.out, "server", buf, sizeof(buf)), "198.18.0.1:%d", &port), 1);
	cr_assert(port >= 40000 && port <= 40199);
	cr_assert_str_eq(kv(r.out, "srtp profile", buf, sizeof(buf)), "AEAD_AES_128_GCM");
	snprintf(key_in, sizeof(key_in), "%s", kv(r.out, "key to server", buf, sizeof(buf)));
	snprintf(key_out, sizeof(key_out), "%s", kv(r.out, "key from server", buf, sizeof(buf)));
	run_free(&r);
	json_t *ep = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(ep, "endpoint.put pushed");
	cr_assert_str_eq(jstr(ep, "endpoint"), pid);
	json_t *srtp = json_object_get(ep, "srtp");
	cr_assert_str_eq(jstr(srtp, "in_key"), key_in, "key to server is mmdp's in_key");
	cr_assert_str_eq(jstr(srtp, "out_key"), key_out);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ep, "remote"), "port")),
		     5004);
	json_decref(ep);
	json_decref(h_rec_take());

	/* --json, and an IPv6 remote in brackets. */
	json_t *j = join(rid, "Bình", "[2001:db8::7]:6000", "attendee");
	cr_assert_str_eq(jstr(j, "display_name"), "Bình");
	cr_assert(!strncmp(jstr(j, "token"), "mmt_", 4));
	json_t *tr = json_object_get(j, "transport");
	cr_assert_str_eq(jstr(json_object_get(tr, "server"), "addr"), "198.18.0.1");
	cr_assert_str_eq(jstr(json_object_get(tr, "srtp"), "profile"), "AEAD_AES_128_GCM");
	cr_assert(jstr(json_object_get(tr, "srtp"), "key_to_server"));
	cr_assert(jstr(json_object_get(tr, "srtp"), "key_from_server"));
	ep = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(ep);
	json_t *rem = json_object_get(ep, "remote");
	cr_assert_str_eq(jstr(rem, "addr"), "2001:db8::7");
	cr_assert_eq(json_integer_value(json_object_get(rem, "port")), 6000);
	json_decref(ep);
	json_decref(j);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 2);

	MM(&r, "leave", rid, pid);
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "left room"), "%s", r.out);
	run_free(&r);
	json_t *del = h_rec_wait_op("endpoint.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(jstr(del, "endpoint"), pid);
	json_decref(del);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 1);
	MM(&r, "leave", rid, pid);
	EXPECT_RC(&r, 4);
	run_free(&r);
}

Test(mmctl, tokens_create_use_revoke)
{
	struct run r;
	char buf[256], tfile[160];
	MM(&r, "--json", "tokens", "create", "tenant:acme", "--ttl", "3600");
	EXPECT_RC(&r, 0);
	json_t *acme = out_json(&r);
	run_free(&r);
	cr_assert_str_eq(jstr(acme, "scope"), "tenant:acme");
	cr_assert(jstr(acme, "id")[0] == 't');
	cr_assert(!strncmp(jstr(acme, "token"), "mmt_", 4));
	cr_assert(json_integer_value(json_object_get(acme, "expires_at")) > (json_int_t)time(NULL));
	const char *atok = jstr(acme, "token");

	MM(&r, "tokens", "create", "tenant:globex");
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "scope", buf, sizeof(buf)), "tenant:globex");
	cr_assert_str_eq(kv(r.out, "expires", buf, sizeof(buf)), "never");
	snprintf(tfile, sizeof(tfile), "%s/globex.token", H.dir);
	FILE *f = fopen(tfile, "w");
	fprintf(f, "%s\n", kv(r.out, "token", buf, sizeof(buf)));
	fclose(f);
	run_free(&r);

	MM_T(&r, atok, "rooms", "create", "acme-room");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "tenant acme"), "%s", r.out);
	char rid[64];
	sscanf(r.out, "created room %63s", rid);
	run_free(&r);
	MM_T(&r, atok, "rooms", "list");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "acme-room"));
	run_free(&r);

	/* --token-file; the other tenant sees nothing and may not look. */
	MM_T(&r, NULL, "--token-file", tfile, "rooms", "list");
	EXPECT_RC(&r, 0);
	cr_assert_eq(lines(r.out), 1, "only the heads: %s", r.out);
	run_free(&r);
	MM_T(&r, NULL, "--token-file", tfile, "rooms", "show", rid);
	EXPECT_RC(&r, 3);
	cr_assert(!strncmp(r.err, "mmctl: forbidden: ", 18), "%s", r.err);
	run_free(&r);
	MM_T(&r, atok, "tokens", "create", "operator");
	EXPECT_RC(&r, 3);
	run_free(&r);

	MM(&r, "tokens", "revoke", jstr(acme, "id"));
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "revoked token %s\n", jstr(acme, "id"));
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	MM_T(&r, atok, "rooms", "list");
	EXPECT_RC(&r, 3);
	cr_assert(!strncmp(r.err, "mmctl: unauthorized: ", 21), "%s", r.err);
	run_free(&r);
	MM(&r, "tokens", "revoke", "tnosuchtoken");
	EXPECT_RC(&r, 4);
	run_free(&r);
	json_decref(acme);
}

Test(mmctl, env_defaults_and_overrides)
{
	char url[96], tok[160], v1[96];
	snprintf(url, sizeof(url), "MMCTL_URL=%s", URL);
	snprintf(v1, sizeof(v1), "MMCTL_URL=%s/v1/", URL);
	snprintf(tok, sizeof(tok), "MMCTL_TOKEN=%s", H.op_token);
	const char *env[] = { url, tok, NULL }, *env_v1[] = { v1, tok, NULL };
	const char *list[] = { "mmctl", "rooms", "list", NULL };
	const char *bogus[] = { "mmctl", "--token", "mmt_bogus", "rooms", "list", NULL };
	struct child c;
	struct run r;
	spawn(&c, list, env);
	finish(&c, &r);
	EXPECT_RC(&r, 0);
	run_free(&r);
	spawn(&c, list, env_v1);
	finish(&c, &r);
	EXPECT_RC(&r, 0);
	run_free(&r);
	spawn(&c, bogus, env);
	finish(&c, &r);
	EXPECT_RC(&r, 3);
	run_free(&r);
	/* No token at all: the server says 401. */
	MM_T(&r, NULL, "rooms", "list");
	EXPECT_RC(&r, 3);
	cr_assert(!strncmp(r.err, "mmctl: unauthorized: ", 21), "%s", r.err);
	run_free(&r);
}

/* Bad arguments: exit 2, "mmctl: usage: ...", and nothing is sent. */
static const char *const usage_cases[][14] = {
	{ "bogus" },
	{ "rooms" },
	{ "rooms", "create" },
	{ "rooms", "create", "" },
	{ "rooms", "create", "@129" },
	{ "rooms", "create", "x", "--capacity", "0" },
	{ "rooms", "create", "x", "--capacity", "101" },
	{ "rooms", "create", "x", "--capacity", "ten" },
	{ "rooms", "create", "x", "--capacity", "5x" },
	{ "rooms", "create", "x", "--capacity" },
	{ "rooms", "create", "x", "--kind", "weird" },
	{ "rooms", "create", "x", "--color", "red" },
	{ "rooms", "list", "extra" },
	{ "rooms", "show" },
	{ "rooms", "show", "@R", "more" },
	{ "rooms", "delete" },
	{ "rooms", "end" },
	{ "rooms", "create", "x", "--last-n", "101" },
	{ "rooms", "create", "x", "--last-n", "-1" },
	{ "rooms", "create", "x", "--video-last-n", "1000" },
	{ "rooms", "set", "@R" },
	{ "rooms", "set", "@R", "--last-n", "101" },
	{ "rooms", "set", "@R", "--video-last-n", "x" },
	{ "rooms", "set", "--last-n", "3" },
	{ "resolution", "@R", "p1" },
	{ "resolution", "@R", "p1", "ultra" },
	{ "resolution", "@R", "p1", "low", "more" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:0" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:65536" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:-5" },
	{ "join", "@R", "--name", "a", "--remote", "999.18.1.2:5000" },
	{ "join", "@R", "--name", "a", "--remote", "host.example:5000" },
	{ "join", "@R", "--name", "a", "--remote", "2001:db8::1:5000" },
	{ "join", "@R", "--name", "a", "--remote", "[2001:db8::1]5000" },
	{ "join", "@R", "--name", "a", "--remote", "[zz::1]:5000" },
	{ "join", "@R", "--name", "a", "--remote", "[198.18.1.2]:5000" },
	{ "join", "@R", "--remote", "198.18.1.2:5000" },
	{ "join", "@R", "--name", "a" },
	{ "join", "@R", "--name", "", "--remote", "198.18.1.2:5000" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:5000", "--role", "king" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:5000", "--audio-ssrc",
	  "4294967296" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:5000", "--audio-ssrc", "-1" },
	{ "join", "@R", "--name", "a", "--remote", "198.18.1.2:5000", "--audio-ssrc", "7",
	  "--camera-ssrc", "7" },
	{ "join", "--name", "a", "--remote", "198.18.1.2:5000" },
	{ "join", "@R", "--invite", "mmi_x", "--name", "a", "--remote", "198.18.1.2:5000" },
	{ "join", "--invite", "mmi_x", "--role", "host", "--name", "a", "--remote",
	  "198.18.1.2:5000" },
	{ "leave", "@R" },
	{ "leave", "@R", "p1", "p2" },
	{ "role", "@R", "p1" },
	{ "role", "@R", "p1", "king" },
	{ "streams", "@R", "p1" },
	{ "streams", "@R", "p1", "--clear", "--audio-ssrc", "1" },
	{ "streams", "@R", "p1", "--screen-ssrc", "x" },
	{ "subscribe", "@R", "p1" },
	{ "subscribe", "@R", "p1", "--publisher", "p2", "--kind", "camera" },
	{ "subscribe", "@R", "p1", "--kind", "camera", "--publisher", "p2", "--max-height",
	  "360" },
	{ "subscribe", "@R", "p1", "--publisher", "p2", "--kind", "mic", "--max-height", "360" },
	{ "subscribe", "@R", "p1", "--publisher", "p2", "--kind", "camera", "--max-height",
	  "89" },
	{ "subscribe", "@R", "p1", "--publisher", "p2", "--kind", "camera", "--max-height",
	  "4321" },
	{ "subscribe", "@R", "p1", "--publisher", "p2", "--kind", "camera", "--kind", "screen",
	  "--max-height", "360" },
	{ "subscribe", "@R", "p1", "--clear", "--publisher", "p2", "--kind", "camera",
	  "--max-height", "360" },
	{ "mute", "@R" },
	{ "mute", "@R", "p1", "--loud" },
	{ "mute", "@R", "p1", "--audio=yes" },
	{ "unmute", "@R" },
	{ "mute-all" },
	{ "mute-all", "@R", "--except", "," },
	{ "mute-all", "@R", "--except", "p1,,p2" },
	{ "kick", "@R", "p1", "--block-seconds", "86401" },
	{ "kick", "@R", "p1", "--block-seconds", "-1" },
	{ "kick", "@R", "p1", "--reason", "@129" },
	{ "hand", "@R", "p1" },
	{ "hand", "@R", "p1", "sideways" },
	{ "chat" },
	{ "chat", "shout", "@R", "hi" },
	{ "chat", "send", "@R" },
	{ "chat", "send", "@R", "" },
	{ "chat", "send", "@R", "@4097" },
	{ "chat", "list", "@R", "--limit", "0" },
	{ "chat", "list", "@R", "--limit", "1001" },
	{ "chat", "list", "@R", "--since", "-1" },
	{ "invite", "@R", "--ttl", "59" },
	{ "invite", "@R", "--ttl", "2592001" },
	{ "invite", "@R", "--role", "host" },
	{ "events" },
	{ "events", "@R", "--count", "0" },
	{ "events", "@R", "--since", "x" },
	{ "tokens" },
	{ "tokens", "create" },
	{ "tokens", "create", "king" },
	{ "tokens", "create", "tenant:" },
	{ "tokens", "create", "participant:r1" },
	{ "tokens", "create", "operator", "--ttl", "0" },
	{ "tokens", "revoke" },
	{ "blocks" },
	{ "blocks", "list", "extra" },
	{ "blocks", "delete" },
	{ "bans" },
	{ "bans", "list", "extra" },
	{ "bans", "add" },
	{ "bans", "add", "10.0.0.0/8", "extra" },
	{ "bans", "add", "not an address" },
	{ "bans", "add", "10.0.0.0/8", "--ttl", "0" },
	{ "bans", "add", "10.0.0.0/8", "--ttl", "2592001" },
	{ "bans", "add", "10.0.0.0/8", "--ttl" },
	{ "bans", "add", "10.0.0.0/8", "--reason", "@129" },
	{ "bans", "add", "10.0.0.0/8", "--color", "red" },
	{ "bans", "delete" },
	{ "--timeout", "0", "rooms", "list" },
	{ "--timeout", "3601", "rooms", "list" },
	{ "--timeout", "soon", "rooms", "list" },
	{ "--url", "ftp://127.0.0.1/", "rooms", "list" },
	{ "--token", "a", "--token-file", "/nonexistent", "rooms", "list" },
	{ "--token-file", "/nonexistent/token", "rooms", "list" },
	{ "rooms", "list", "--url" },
	{},
};

static void usage_case(const char *url, const char *const *c, const char *rid)
{
	static char l129[130], l4097[4098];
	memset(l129, 'x', 129);
	memset(l4097, 'x', 4097);
	const char *argv[24];
	int n = 0;
	argv[n++] = "mmctl";
	argv[n++] = "--url";
	argv[n++] = url;
	bool tfile = false;
	for (int i = 0; i < 14 && c[i]; i++)
		tfile |= !strcmp(c[i], "--token-file");
	if (!tfile) {
		argv[n++] = "--token";
		argv[n++] = H.op_token;
	}
	int first = n;
	for (int i = 0; i < 14 && c[i]; i++)
		argv[n++] = !strcmp(c[i], "@R") ? rid : !strcmp(c[i], "@129") ? l129 :
			    !strcmp(c[i], "@4097") ? l4097 : c[i];
	argv[n] = NULL;
	struct child ch;
	struct run r;
	spawn(&ch, argv, NULL);
	finish(&ch, &r);
	char what[256] = "";
	for (int i = first; i < n; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " %.40s", argv[i]);
	cr_expect_eq(r.rc, 2, "mmctl%s: exit %d\nstdout: %s\nstderr: %s", what, r.rc, r.out,
		     r.err);
	cr_expect_str_empty(r.out, "mmctl%s: stdout: %s", what, r.out);
	cr_expect(!strncmp(r.err, "mmctl: usage: ", 14), "mmctl%s: stderr: %s", what, r.err);
	run_free(&r);
}

Test(mmctl, usage_errors_exit_2_and_send_nothing, .timeout = 240)
{
	char rid[64], silent[64];
	int port;
	room("m", "10", "adhoc", rid);
	json_decref(h_rec_take());
	/* Against a listener that never accepts: no connection may arrive. */
	int lfd = silent_listener(&port);
	snprintf(silent, sizeof(silent), "http://127.0.0.1:%d", port);
	for (size_t i = 0; usage_cases[i][0]; i++)
		usage_case(silent, usage_cases[i], rid);
	int fd = accept(lfd, NULL, NULL);
	cr_assert(fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
		  "a usage error connected to the server");
	close(lfd);
	/* And against mmctld: nothing stored, nothing pushed to mmdp. */
	for (size_t i = 0; usage_cases[i][0]; i++)
		usage_case(URL, usage_cases[i], rid);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM tokens"), 1, "the operator's only");
	json_t *rec = h_rec_take();
	cr_assert_eq(json_array_size(rec), 0, "pushed to mmdp: %s",
		     json_string_value(json_object_get(json_array_get(rec, 0), "op")));
	json_decref(rec);
	/* No command at all. */
	struct run r;
	MM(&r, "--json");
	EXPECT_RC(&r, 2);
	run_free(&r);
}

Test(mmctl, unknown_room_is_4)
{
	char rid[64];
	struct run r;
	room("m", "10", "adhoc", rid);
	MM(&r, "rooms", "show", "rnosuchroom");
	EXPECT_RC(&r, 4);
	cr_assert(!strncmp(r.err, "mmctl: not_found: ", 18), "%s", r.err);
	run_free(&r);
	MM(&r, "rooms", "delete", "rnosuchroom");
	EXPECT_RC(&r, 4);
	run_free(&r);
	MM(&r, "join", "rnosuchroom", "--name", "a", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 4);
	run_free(&r);
	MM(&r, "leave", rid, "pnosuchone");
	EXPECT_RC(&r, 4);
	run_free(&r);
	/* An id with slashes is escaped: it reaches no other resource. */
	MM(&r, "rooms", "show", "r/../../v1/rooms");
	EXPECT_RC(&r, 4);
	run_free(&r);
}

Test(mmctl, room_full_is_5)
{
	char rid[64];
	struct run r;
	room("tiny", "1", "adhoc", rid);
	json_decref(join(rid, "first", "198.18.1.2:5000", "attendee"));
	MM(&r, "join", rid, "--name", "second", "--remote", "198.18.1.3:5000");
	EXPECT_RC(&r, 5);
	cr_assert(!strncmp(r.err, "mmctl: room_full: ", 18), "%s", r.err);
	cr_assert_str_empty(r.out);
	run_free(&r);
	MM(&r, "--json", "join", rid, "--name", "second", "--remote", "198.18.1.3:5000");
	EXPECT_RC(&r, 5);
	cr_assert_str_empty(r.out, "nothing on stdout when it failed");
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 1);
}

Test(mmctl, bad_input_is_6)
{
	struct run r;
	/* Passes the local checks, refused by the server. */
	MM(&r, "rooms", "create", "x", "--tenant", "bad tenant!");
	EXPECT_RC(&r, 6);
	cr_assert(!strncmp(r.err, "mmctl: invalid_field: ", 22), "%s", r.err);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 0);
}

Test(mmctl, mmdp_failures_are_7)
{
	char rid[64];
	struct run r;
	room("m", "10", "adhoc", rid);
	h_rec_fail_op("endpoint.put");
	MM(&r, "join", rid, "--name", "a", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 7);
	cr_assert(!strncmp(r.err, "mmctl: mmdp_error: ", 19), "%s", r.err);
	run_free(&r);
	h_rec_fail_op("room.put");
	MM(&r, "rooms", "create", "n");
	EXPECT_RC(&r, 7);
	run_free(&r);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	h_rec_stop();
	unlink(H.sock);
	MM(&r, "join", rid, "--name", "a", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 7);
	cr_assert(!strncmp(r.err, "mmctl: mmdp_unavailable: ", 25), "%s", r.err);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
}

Test(mmctl, unreachable_is_8)
{
	char url[64];
	struct run r;
	int port;
	/* Nothing listening. */
	int lfd = silent_listener(&port);
	close(lfd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	MM_T(&r, NULL, "--url", url, "rooms", "list");
	EXPECT_RC(&r, 8);
	cr_assert(!strncmp(r.err, "mmctl: unreachable: ", 20), "%s", r.err);
	cr_assert_str_empty(r.out);
	run_free(&r);
	/* Listening but never answering: --timeout. */
	lfd = silent_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	time_t t0 = time(NULL);
	MM_T(&r, NULL, "--url", url, "--timeout", "1", "rooms", "list");
	EXPECT_RC(&r, 8);
	cr_assert(!strncmp(r.err, "mmctl: timeout: ", 16), "%s", r.err);
	cr_assert(time(NULL) - t0 <= 5, "--timeout 1 took %lld s", (long long)(time(NULL) - t0));
	run_free(&r);
	close(lfd);
}

/* ---- the rest of docs/api.md: meetings ---- */
TestSuite(mmctl_meeting, .init = setup, .fini = teardown, .timeout = 120);

struct who {
	char id[64];
	char token[128];
};

static void join_who(const char *rid, const char *name, const char *remote, const char *role,
		     struct who *w)
{
	json_t *j = join(rid, name, remote, role);
	snprintf(w->id, sizeof(w->id), "%s", jstr(j, "id"));
	snprintf(w->token, sizeof(w->token), "%s", jstr(j, "token"));
	json_decref(j);
}

/* The participant pid as --json rooms show has it (owned). */
static json_t *participant(const char *rid, const char *pid)
{
	struct run r;
	MM(&r, "--json", "rooms", "show", rid);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r), *p, *found = NULL;
	size_t i;
	run_free(&r);
	json_array_foreach(json_object_get(j, "participants"), i, p)
		if (!strcmp(jstr(p, "id"), pid))
			found = json_incref(p);
	json_decref(j);
	cr_assert(found, "no participant %s in %s", pid, rid);
	return found;
}

static bool jtrue(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

Test(mmctl_meeting, mute_unmute_hand_role)
{
	char rid[64];
	struct who host, b;
	struct run r;
	room("m", "10", "adhoc", rid);
	join_who(rid, "Host", "198.18.1.2:5000", "host", &host);
	join_who(rid, "B", "198.18.1.3:5000", "attendee", &b);
	json_decref(h_rec_take());

	MM(&r, "mute", rid, b.id, "--video");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "audio on, video muted"), "%s", r.out);
	run_free(&r);
	json_t *rec = h_rec_take();
	cr_assert(json_array_size(rec) > 0, "the mute was pushed to mmdp");
	json_decref(rec);
	MM(&r, "--json", "mute", rid, b.id);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	cr_assert(jtrue(j, "audio_muted") && jtrue(j, "video_muted"));
	json_decref(j);
	run_free(&r);

	/* A moderator's unmute is a request (202); the participant's own is real. */
	MM(&r, "unmute", rid, b.id, "--audio");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "asked") && strstr(r.out, "audio"), "%s", r.out);
	run_free(&r);
	MM(&r, "--json", "unmute", rid, b.id);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert(jtrue(j, "requested"));
	json_decref(j);
	run_free(&r);
	json_t *p = participant(rid, b.id);
	cr_assert(jtrue(p, "unmute_requested") && jtrue(p, "audio_muted"));
	json_decref(p);
	MM_T(&r, b.token, "unmute", rid, b.id, "--audio", "--video");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "audio on, video on"), "%s", r.out);
	run_free(&r);
	p = participant(rid, b.id);
	cr_assert(!jtrue(p, "audio_muted") && !jtrue(p, "unmute_requested"));
	json_decref(p);

	/* Hands: raised by itself, lowered by a moderator; not raised by others. */
	MM_T(&r, b.token, "hand", rid, b.id, "up");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "hand up"), "%s", r.out);
	run_free(&r);
	MM(&r, "hand", rid, b.id, "up");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM_T(&r, host.token, "--json", "hand", rid, b.id, "down");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert(!jtrue(j, "hand_raised"));
	json_decref(j);
	run_free(&r);

	/* Roles: by the host; an attendee may not. */
	MM_T(&r, b.token, "role", rid, host.id, "attendee");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM_T(&r, host.token, "role", rid, b.id, "moderator");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "role moderator"), "%s", r.out);
	run_free(&r);
	p = participant(rid, b.id);
	cr_assert_str_eq(jstr(p, "role"), "moderator");
	json_decref(p);
	MM(&r, "mute", rid, "pnosuchone");
	EXPECT_RC(&r, 4);
	run_free(&r);
}

Test(mmctl_meeting, mute_all)
{
	char rid[64];
	struct who host, mod, b, c;
	struct run r;
	room("m", "10", "adhoc", rid);
	join_who(rid, "Host", "198.18.1.2:5000", "host", &host);
	join_who(rid, "Mod", "198.18.1.3:5000", "moderator", &mod);
	join_who(rid, "B", "198.18.1.4:5000", "attendee", &b);
	join_who(rid, "C", "198.18.1.5:5000", "attendee", &c);

	MM(&r, "--json", "mute-all", rid, "--except", c.id);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r), *muted = json_object_get(j, "muted");
	cr_assert_eq(json_array_size(muted), 1, "%s", r.out);
	cr_assert_str_eq(json_string_value(json_array_get(muted, 0)), b.id);
	json_decref(j);
	run_free(&r);

	MM(&r, "mute-all", rid, "--include-moderators", "--except", b.id, "--audio");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "muted audio of 3 participants:"), "%s", r.out);
	cr_assert(strstr(r.out, host.id) && strstr(r.out, mod.id) && strstr(r.out, c.id));
	run_free(&r);
	json_t *p = participant(rid, host.id);
	cr_assert(jtrue(p, "audio_muted") && !jtrue(p, "video_muted"));
	json_decref(p);

	MM(&r, "mute-all", rid, "--video");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "muted video of 2 participants:"), "%s", r.out);
	run_free(&r);
	/* A participant moderator may, an attendee may not. */
	MM_T(&r, mod.token, "mute-all", rid);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, b.token, "mute-all", rid);
	EXPECT_RC(&r, 3);
	run_free(&r);
}

Test(mmctl_meeting, kick_and_blocks)
{
	char rid[64], buf[256];
	struct who host, mod, b;
	struct run r;
	room("m", "10", "adhoc", rid);
	join_who(rid, "Host", "198.18.1.2:5000", "host", &host);
	join_who(rid, "Mod", "198.18.1.4:5000", "moderator", &mod);
	join_who(rid, "B", "198.18.1.3:5002", "attendee", &b);
	MM(&r, "kick", rid, b.id, "--reason", "spam", "--block-seconds", "600");
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "kicked %s from room %s (blocked for 600 s)\n", b.id, rid);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 2);
	MM_T(&r, b.token, "rooms", "show", rid);
	EXPECT_RC(&r, 3);
	run_free(&r);

	MM(&r, "blocks", "list");
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "ID ", 3) && strstr(r.out, "REMOTE") && strstr(r.out, "EXPIRES"));
	cr_assert(strstr(r.out, "198.18.1.3:5002") && strstr(r.out, "spam"), "%s", r.out);
	cr_assert_eq(lines(r.out), 2);
	run_free(&r);
	MM(&r, "--json", "blocks", "list");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r), *bl = json_array_get(json_object_get(j, "blocks"), 0);
	run_free(&r);
	cr_assert_str_eq(jstr(json_object_get(bl, "remote"), "addr"), "198.18.1.3");
	cr_assert_str_eq(jstr(json_object_get(bl, "local"), "addr"), "198.18.0.1");
	cr_assert(json_integer_value(json_object_get(bl, "expires_at")) > (json_int_t)time(NULL));
	char bid[64];
	snprintf(bid, sizeof(bid), "%s", jstr(bl, "id"));
	json_decref(j);
	MM(&r, "blocks", "delete", bid);
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "lifted block %s\n", bid);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	MM(&r, "blocks", "delete", bid);
	EXPECT_RC(&r, 4);
	run_free(&r);
	MM(&r, "blocks", "list");
	EXPECT_RC(&r, 0);
	cr_assert_eq(lines(r.out), 1, "%s", r.out);
	run_free(&r);
	MM_T(&r, host.token, "blocks", "list");
	EXPECT_RC(&r, 3);
	run_free(&r);
	/* A participant moderator may not kick a host; a host may kick a moderator. */
	MM_T(&r, mod.token, "kick", rid, host.id);
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM_T(&r, host.token, "kick", rid, mod.id, "--block-seconds", "0");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "(blocked for 0 s)"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 1);
}

Test(mmctl, bans_add_list_delete)
{
	char buf[256];
	struct run r;
	MM(&r, "bans", "add", "203.0.113.9/24", "--ttl", "600", "--reason", "flood");
	EXPECT_RC(&r, 0);
	char id[64] = "";
	cr_assert_eq(sscanf(r.out, "banned 203.0.113.0/24 as %63s until", id), 1, "%s", r.out);
	cr_assert(id[0] == 'n', "%s", r.out);
	run_free(&r);
	json_t *put = h_rec_wait_op("ban.put", 1000);
	cr_assert(put, "ban.put pushed");
	cr_assert_str_eq(jstr(put, "ban"), id);
	cr_assert_str_eq(jstr(put, "prefix"), "203.0.113.0/24");
	json_decref(put);
	MM(&r, "--json", "bans", "add", "2001:db8::/32");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	run_free(&r);
	cr_assert_str_eq(jstr(j, "prefix"), "2001:db8::/32");
	cr_assert_str_eq(jstr(j, "reason"), "ban");
	json_decref(j);

	/* the server's refusals: conflict 5, bad prefix 6 */
	MM(&r, "bans", "add", "203.0.113.0/24");
	EXPECT_RC(&r, 5);
	cr_assert(!strncmp(r.err, "mmctl: conflict: ", 17), "%s", r.err);
	run_free(&r);
	MM(&r, "bans", "add", "203.0.113.0/33");
	EXPECT_RC(&r, 6);
	cr_assert(!strncmp(r.err, "mmctl: invalid_field: ", 22), "%s", r.err);
	run_free(&r);

	MM(&r, "bans", "list");
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "ID ", 3) && strstr(r.out, "PREFIX") && strstr(r.out, "EXPIRES"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "203.0.113.0/24") && strstr(r.out, "flood"), "%s", r.out);
	cr_assert(strstr(r.out, "2001:db8::/32"), "%s", r.out);
	cr_assert_eq(lines(r.out), 3, "%s", r.out);
	run_free(&r);
	MM(&r, "--json", "bans", "list");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	run_free(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "bans")), 2);
	json_decref(j);

	MM(&r, "bans", "delete", id);
	EXPECT_RC(&r, 0);
	snprintf(buf, sizeof(buf), "lifted ban %s\n", id);
	cr_assert_str_eq(r.out, buf);
	run_free(&r);
	json_t *del = h_rec_wait_op("ban.del", 1000);
	cr_assert(del);
	cr_assert_str_eq(jstr(del, "ban"), id);
	json_decref(del);
	MM(&r, "bans", "delete", id);
	EXPECT_RC(&r, 4);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 1);

	/* not an operator: 3 */
	MM(&r, "tokens", "create", "tenant:acme");
	EXPECT_RC(&r, 0);
	char tok[128];
	cr_assert(kv(r.out, "token", tok, sizeof(tok)));
	run_free(&r);
	MM_T(&r, tok, "bans", "list");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM_T(&r, tok, "bans", "add", "10.0.0.0/8");
	EXPECT_RC(&r, 3);
	run_free(&r);
	/* mmdp refuses: 7, nothing stored */
	h_rec_fail_op("ban.put");
	MM(&r, "bans", "add", "10.0.0.0/8");
	EXPECT_RC(&r, 7);
	run_free(&r);
	h_rec_fail_op(NULL);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM bans"), 1);
}

Test(mmctl_meeting, chat_send_and_list)
{
	char rid[64];
	struct who a, b, c;
	struct run r;
	room("m", "10", "adhoc", rid);
	join_who(rid, "A", "198.18.1.2:5000", "host", &a);
	join_who(rid, "B", "198.18.1.3:5000", "attendee", &b);
	join_who(rid, "C", "198.18.1.4:5000", "attendee", &c);
	MM_T(&r, a.token, "chat", "send", rid, "hello all");
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "sent message ", 13), "%s", r.out);
	run_free(&r);
	MM_T(&r, a.token, "--json", "chat", "send", rid, "psst", "--to", b.id);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	cr_assert_str_eq(jstr(j, "from"), a.id);
	cr_assert_str_eq(jstr(j, "to"), b.id);
	cr_assert_str_eq(jstr(j, "text"), "psst");
	json_int_t private_id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	run_free(&r);
	/* The operator names the sender; without one it is refused (400). */
	MM(&r, "chat", "send", rid, "from the operator", "--from", c.id);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM(&r, "chat", "send", rid, "from nobody");
	EXPECT_RC(&r, 6);
	run_free(&r);

	MM_T(&r, b.token, "chat", "list", rid);
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(r.out, "ID ", 3) && strstr(r.out, "FROM") && strstr(r.out, "TEXT"));
	cr_assert(strstr(r.out, "hello all") && strstr(r.out, "psst"), "%s", r.out);
	cr_assert_eq(lines(r.out), 4, "%s", r.out);
	run_free(&r);
	MM_T(&r, c.token, "--json", "chat", "list", rid);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "messages")), 2, "no private: %s", r.out);
	json_decref(j);
	run_free(&r);
	char since[32];
	snprintf(since, sizeof(since), "%lld", (long long)private_id);
	MM_T(&r, b.token, "--json", "chat", "list", rid, "--since", since, "--limit", "1");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	json_t *msgs = json_object_get(j, "messages");
	cr_assert_eq(json_array_size(msgs), 1);
	cr_assert_str_eq(jstr(json_array_get(msgs, 0), "text"), "from the operator");
	json_decref(j);
	run_free(&r);
}

Test(mmctl_meeting, invites_and_join_with_invite)
{
	char rid[64], buf[512];
	struct run r;
	room("m", "10", "adhoc", rid);
	MM(&r, "--json", "invite", rid, "--ttl", "600", "--role", "moderator");
	EXPECT_RC(&r, 0);
	json_t *inv = out_json(&r);
	run_free(&r);
	cr_assert(!strncmp(jstr(inv, "invite"), "mmi_", 4));
	cr_assert_str_eq(jstr(inv, "room"), rid);
	cr_assert_str_eq(jstr(inv, "role"), "moderator");
	cr_assert(json_integer_value(json_object_get(inv, "expires_at")) > (json_int_t)time(NULL));
	MM(&r, "invite", rid);
	EXPECT_RC(&r, 0);
	cr_assert(!strncmp(kv(r.out, "invite", buf, sizeof(buf)), "mmi_", 4));
	cr_assert_str_eq(kv(r.out, "role", buf, sizeof(buf)), "attendee");
	run_free(&r);

	/* No bearer token is needed (nor sent). */
	MM_T(&r, NULL, "join", "--invite", jstr(inv, "invite"), "--name", "Guest", "--remote",
	     "198.18.1.9:7000");
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "role", buf, sizeof(buf)), "moderator");
	cr_assert_str_eq(kv(r.out, "room", buf, sizeof(buf)), rid);
	cr_assert(!strncmp(kv(r.out, "token", buf, sizeof(buf)), "mmt_", 4));
	run_free(&r);
	MM_T(&r, "mmt_bogus", "join", "--invite", jstr(inv, "invite"), "--name", "Guest2",
	     "--remote", "198.18.1.9:7002");
	EXPECT_RC(&r, 0);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 2);
	MM_T(&r, NULL, "join", "--invite", "mmi_forged", "--name", "X", "--remote",
	     "198.18.1.9:7001");
	EXPECT_RC(&r, 3);
	cr_assert(!strncmp(r.err, "mmctl: invite_invalid: ", 23), "%s", r.err);
	run_free(&r);
	MM(&r, "rooms", "delete", rid);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, NULL, "join", "--invite", jstr(inv, "invite"), "--name", "Late", "--remote",
	     "198.18.1.9:7003");
	EXPECT_RC(&r, 4);
	run_free(&r);
	json_decref(inv);
}

/* The lines of s (owned array of owned strings). */
static json_t *split_lines(const char *s)
{
	json_t *a = json_array();
	while (*s) {
		size_t n = strcspn(s, "\n");
		json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == '\n');
	}
	return a;
}

Test(mmctl_meeting, events_replay_follow_and_end)
{
	char rid[64];
	struct who a, b;
	struct run r;
	room("m", "10", "fixed", rid);
	join_who(rid, "A", "198.18.1.2:5000", "host", &a);
	join_who(rid, "B", "198.18.1.3:5000", "attendee", &b);

	/* Replay, --json: the data of each event, one per line. */
	MM(&r, "--json", "events", rid, "--count", "2");
	EXPECT_RC(&r, 0);
	json_t *ls = split_lines(r.out);
	cr_assert_eq(json_array_size(ls), 2, "%s", r.out);
	json_t *e0 = json_loads(json_string_value(json_array_get(ls, 0)), 0, NULL);
	json_t *e1 = json_loads(json_string_value(json_array_get(ls, 1)), 0, NULL);
	cr_assert(e0 && e1, "%s", r.out);
	cr_assert_str_eq(jstr(e0, "type"), "participant.joined");
	cr_assert_str_eq(jstr(e0, "participant"), a.id);
	cr_assert_str_eq(jstr(e1, "participant"), b.id);
	json_int_t seq1 = json_integer_value(json_object_get(e1, "seq"));
	cr_assert(seq1 > json_integer_value(json_object_get(e0, "seq")));
	json_decref(e0);
	json_decref(e1);
	json_decref(ls);
	run_free(&r);

	/* Human: "seq type summary"; --since skips what was seen. */
	char since[32];
	snprintf(since, sizeof(since), "%lld", (long long)seq1 - 1);
	MM(&r, "events", rid, "--since", since, "--count", "1");
	EXPECT_RC(&r, 0);
	long long seq = 0;
	char type[64];
	cr_assert_eq(sscanf(r.out, "%lld %63s", &seq, type), 2, "%s", r.out);
	cr_assert_eq(seq, seq1);
	cr_assert_str_eq(type, "participant.joined");
	cr_assert(strstr(r.out, b.id) && strstr(r.out, "role=attendee"), "%s", r.out);
	cr_assert_eq(lines(r.out), 1);
	run_free(&r);

	/* Follow: new events as they commit, to room.ended (then it exits). */
	snprintf(since, sizeof(since), "%lld", (long long)seq1);
	const char *argv[] = { "mmctl", "--url", URL, "--token", a.token, "events", rid,
			       "--since", since, NULL };
	struct child ch;
	spawn(&ch, argv, NULL);
	usleep(300000);
	MM(&r, "mute", rid, b.id);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, a.token, "chat", "send", rid, "bye");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM(&r, "rooms", "end", rid);
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "ended the meeting in room"), "%s", r.out);
	run_free(&r);
	finish(&ch, &r);
	EXPECT_RC(&r, 0);
	ls = split_lines(r.out);
	cr_assert(json_array_size(ls) >= 3, "%s", r.out);
	cr_assert(strstr(json_string_value(json_array_get(ls, 0)), " mute "), "%s", r.out);
	cr_assert(strstr(json_string_value(json_array_get(ls, 0)), "audio_muted=true"), "%s",
		  r.out);
	cr_assert(strstr(r.out, " chat ") && strstr(r.out, ": bye"), "%s", r.out);
	cr_assert(strstr(json_string_value(json_array_get(ls, json_array_size(ls) - 1)),
			 " room.ended"), "%s", r.out);
	json_decref(ls);
	run_free(&r);

	/* The fixed room stays for its next meeting, empty. */
	MM(&r, "--json", "rooms", "show", rid);
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "participants")), 0);
	json_decref(j);
	run_free(&r);
	MM(&r, "events", "rnosuchroom");
	EXPECT_RC(&r, 4);
	run_free(&r);
	/* --timeout bounds the silence of the stream (keepalives come every 15 s). */
	time_t t0 = time(NULL);
	MM(&r, "--timeout", "1", "events", rid, "--since", "1000000");
	EXPECT_RC(&r, 8);
	cr_assert(!strncmp(r.err, "mmctl: timeout: ", 16), "%s", r.err);
	cr_assert(time(NULL) - t0 <= 6);
	run_free(&r);
	MM_T(&r, "mmt_bogus", "events", rid);
	EXPECT_RC(&r, 3);
	run_free(&r);
}

Test(mmctl_meeting, end_adhoc_room_deletes_it)
{
	char rid[64];
	struct run r;
	room("m", "10", "adhoc", rid);
	json_decref(join(rid, "A", "198.18.1.2:5000", "host"));
	MM(&r, "--json", "rooms", "end", rid);
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(r.out, "{}\n");
	run_free(&r);
	MM(&r, "rooms", "show", rid);
	EXPECT_RC(&r, 4);
	run_free(&r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
}

Test(mmctl_meeting, join_with_streams_then_streams_and_subscriptions)
{
	char rid[64];
	struct who a, b;
	struct run r;
	room("m", "10", "adhoc", rid);
	json_decref(h_rec_take());
	MM(&r, "--json", "join", rid, "--name", "A", "--remote", "198.18.1.2:5000",
	   "--audio-ssrc", "1111", "--camera-ssrc", "2222", "--screen-ssrc", "3333");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	run_free(&r);
	snprintf(a.id, sizeof(a.id), "%s", jstr(j, "id"));
	snprintf(a.token, sizeof(a.token), "%s", jstr(j, "token"));
	json_t *st = json_object_get(j, "streams");
	cr_assert_eq(json_array_size(st), 3);
	cr_assert_str_eq(jstr(json_array_get(st, 0), "kind"), "audio");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(st, 2), "ssrc")), 3333);
	json_decref(j);
	json_t *ep = h_rec_wait_op("endpoint.put", 1000);
	cr_assert(ep);
	cr_assert_eq(json_array_size(json_object_get(ep, "streams")), 3);
	json_decref(ep);
	join_who(rid, "B", "198.18.1.3:5000", "attendee", &b);

	MM_T(&r, a.token, "streams", rid, a.id, "--audio-ssrc", "4444", "--camera-ssrc", "5555");
	EXPECT_RC(&r, 0);
	char want[256];
	snprintf(want, sizeof(want), "streams of %s: audio 4444, camera 5555\n", a.id);
	cr_assert_str_eq(r.out, want);
	run_free(&r);
	MM(&r, "--json", "streams", rid, a.id, "--clear");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert_eq(json_array_size(json_object_get(j, "streams")), 0);
	json_decref(j);
	run_free(&r);

	MM_T(&r, b.token, "--json", "subscribe", rid, b.id, "--publisher", a.id, "--kind",
	     "camera", "--max-height", "360", "--publisher", a.id, "--kind", "screen",
	     "--max-height", "1080");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	json_t *subs = json_object_get(j, "subscriptions");
	cr_assert_eq(json_array_size(subs), 2, "%s", r.out);
	cr_assert_str_eq(jstr(json_array_get(subs, 0), "publisher"), a.id);
	cr_assert_str_eq(jstr(json_array_get(subs, 1), "kind"), "screen");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(subs, 1), "max_height")),
		     1080);
	json_decref(j);
	run_free(&r);
	MM_T(&r, b.token, "subscribe", rid, b.id, "--publisher", a.id, "--kind", "camera",
	     "--max-height", "720");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "camera up to 720p"), "%s", r.out);
	run_free(&r);
	/* Publishers must be in the room (400); others may not change it (403). */
	MM(&r, "subscribe", rid, b.id, "--publisher", "pnotinroom", "--kind", "camera",
	   "--max-height", "360");
	EXPECT_RC(&r, 6);
	run_free(&r);
	MM_T(&r, a.token, "subscribe", rid, b.id, "--clear");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM_T(&r, b.token, "subscribe", rid, b.id, "--clear");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, ": none"), "%s", r.out);
	run_free(&r);
}

/* mmctl guard: mmctld asks mmdp (stats.get) and passes its "guard" on. The
 * recorder stands for an mmdp without the guard (no "guard" in its reply);
 * the guard's own counters are tested on the site (test_guard_site.c). */
Test(mmctl, guard_counters)
{
	struct run r;
	json_decref(h_rec_take());
	MM(&r, "guard");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "without the XDP guard"), "%s", r.out);
	run_free(&r);
	json_t *q = h_rec_wait_op("stats.get", 1000);
	cr_assert(q, "mmctld asked mmdp");
	json_decref(q);
	MM(&r, "--json", "guard");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	run_free(&r);
	cr_assert(json_is_null(json_object_get(j, "guard")));
	json_decref(j);
	MM(&r, "guard", "extra");
	EXPECT_RC(&r, 2);
	run_free(&r);
	h_rec_fail_op("stats.get");
	MM(&r, "guard");
	EXPECT_RC(&r, 7);
	run_free(&r);
	h_rec_fail_op(NULL);
	json_t *t;
	cr_assert_eq(h_http(&H, "POST", "/v1/tokens", H.op_token, "{\"scope\":\"tenant:acme\"}", 0,
			    &t), 201);
	struct run r2;
	mm_as(&r2, json_string_value(json_object_get(t, "token")), "guard", (const char *)NULL);
	EXPECT_RC(&r2, 3);
	run_free(&r2);
	json_decref(t);
}
