/* mmctl's tenant, plan and contract commands as a child process against a
 * real mmctld with test_clock: human and --json output, exit codes, and the
 * issue's "done" path: register a tenant, run meetings within its quota,
 * see the trial limit end a meeting, renew and upgrade its contract. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tenants_util.h"

static struct h_ctl H;
static char URL[64];

static void setup(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_rec_start(&H);
	h_start(&H);
	snprintf(URL, sizeof(URL), "http://127.0.0.1:%d", H.port);
}

static void teardown(void)
{
	h_teardown(&H);
}

TestSuite(mmctl_tenants, .init = setup, .fini = teardown, .timeout = 120);

struct run {
	int rc;
	char *out, *err;
};

/* Read fd to the end into *buf. */
static void slurp(int fd, char **buf)
{
	size_t len = 0;
	char tmp[4096];
	ssize_t n;
	*buf = calloc(1, 1);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		*buf = realloc(*buf, len + (size_t)n + 1);
		memcpy(*buf + len, tmp, (size_t)n);
		len += (size_t)n;
		(*buf)[len] = '\0';
	}
	close(fd);
}

/* mmctl --url URL --token token args... (NULL-terminated); stderr goes to
 * a file so that one pipe is read at a time without deadlock. */
static void mm_as(struct run *r, const char *token, ...)
{
	const char *bin = getenv("MMCTL");
	const char *argv[64];
	int n = 0, po[2];
	char errpath[128];
	va_list ap;
	cr_assert(bin, "MMCTL must name the mmctl binary");
	argv[n++] = "mmctl";
	argv[n++] = "--url";
	argv[n++] = URL;
	if (token) {
		argv[n++] = "--token";
		argv[n++] = token;
	}
	va_start(ap, token);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	snprintf(errpath, sizeof(errpath), "%s/mmctl.err", H.dir);
	cr_assert_eq(pipe(po), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		FILE *e = fopen(errpath, "w");
		dup2(po[1], 1);
		if (e)
			dup2(fileno(e), 2);
		close(po[0]);
		close(po[1]);
		unsetenv("MMCTL_URL");
		unsetenv("MMCTL_TOKEN");
		unsetenv("http_proxy");
		unsetenv("all_proxy");
		unsetenv("ALL_PROXY");
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	slurp(po[0], &r->out);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	FILE *e = fopen(errpath, "r");
	cr_assert(e);
	slurp(dup(fileno(e)), &r->err);
	fclose(e);
}

#define MM(r, ...) mm_as(r, H.op_token, __VA_ARGS__, (const char *)NULL)
#define MM_T(r, t, ...) mm_as(r, t, __VA_ARGS__, (const char *)NULL)
#define EXPECT_RC(r, code) \
	cr_assert_eq((r)->rc, (code), "exit %d, want %d\nstdout: %s\nstderr: %s", (r)->rc, \
		     (code), (r)->out, (r)->err)

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

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

Test(mmctl_tenants, quote)
{
	struct run r;
	MM(&r, "quote", "--rooms", "5", "--term", "12");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "5 room(s) x 12 month(s) at 350,000 VND per room per month "
			 "(tier 5-10): 21,000,000 VND"), "%s", r.out);
	run_free(&r);
	MM(&r, "--json", "quote", "--rooms", "11", "--term", "1");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	cr_assert_eq(t_int(j, "total"), 11 * 400000);
	json_decref(j);
	run_free(&r);
	/* Checked before anything is sent. */
	MM(&r, "quote", "--rooms", "5", "--term", "2");
	EXPECT_RC(&r, 2);
	run_free(&r);
	MM(&r, "quote", "--rooms", "0", "--term", "1");
	EXPECT_RC(&r, 2);
	run_free(&r);
	MM(&r, "quote", "--rooms", "5");
	EXPECT_RC(&r, 2);
	run_free(&r);
}

Test(mmctl_tenants, organisation_units_accounts_access)
{
	struct run r;
	char tok[128], buf[256], unit[64], acct[64];
	MM(&r, "tenants", "register", "acme", "--name", "Acme Ltd", "--admin-name", "Ann",
	   "--admin-email", "ann@acme.vn", "--rooms", "2", "--term", "6");
	EXPECT_RC(&r, 0);
	snprintf(tok, sizeof(tok), "%s", kv(r.out, "token", buf, sizeof(buf)));
	cr_assert_str_eq(kv(r.out, "plan", buf, sizeof(buf)), "subscription");
	cr_assert_str_eq(kv(r.out, "value", buf, sizeof(buf)), "5,400,000 VND");
	cr_assert_eq(strlen(kv(r.out, "join secret", buf, sizeof(buf))), 64);
	run_free(&r);
	/* Twice: a conflict. */
	MM(&r, "tenants", "register", "acme", "--name", "Acme Ltd", "--admin-name", "Ann",
	   "--admin-email", "ann@acme.vn");
	EXPECT_RC(&r, 5);
	cr_assert(strstr(r.err, "tenant_exists"), "%s", r.err);
	run_free(&r);
	MM(&r, "tenants", "register", "globex", "--name", "Globex");
	EXPECT_RC(&r, 2);
	run_free(&r);

	MM(&r, "tenants", "list");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "acme") && strstr(r.out, "subscription") && strstr(r.out, "active"),
		  "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "tenants", "show", "acme");
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "live meetings", buf, sizeof(buf)), "0");
	run_free(&r);
	MM_T(&r, tok, "tenants", "list");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM(&r, "tenants", "show", "nobody");
	EXPECT_RC(&r, 4);
	run_free(&r);
	MM(&r, "tenants", "set", "acme", "--name", "Acme Corporation");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "Acme Corporation"));
	run_free(&r);

	/* Units and accounts, with the tenant's own token. */
	MM_T(&r, tok, "--json", "units", "add", "acme", "Board");
	EXPECT_RC(&r, 0);
	json_t *j = out_json(&r);
	snprintf(unit, sizeof(unit), "%s", t_str(j, "id"));
	json_decref(j);
	run_free(&r);
	MM_T(&r, tok, "units", "add", "acme", "Board");
	EXPECT_RC(&r, 5);
	run_free(&r);
	MM_T(&r, tok, "units", "edit", "acme", unit, "--name", "The Board");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "units", "list", "acme");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "The Board") && strstr(r.out, unit), "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "--json", "accounts", "add", "acme", "--name", "Bob", "--email",
	     "Bob@Acme.vn", "--unit", unit);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	snprintf(acct, sizeof(acct), "%s", t_str(j, "id"));
	cr_assert_str_eq(t_str(j, "email"), "bob@acme.vn");
	json_decref(j);
	run_free(&r);
	MM_T(&r, tok, "accounts", "add", "acme", "--name", "Bob 2", "--email", "bob@acme.vn");
	EXPECT_RC(&r, 5);
	cr_assert(strstr(r.err, "email_taken"), "%s", r.err);
	run_free(&r);
	MM_T(&r, tok, "accounts", "add", "acme", "--name", "X", "--email", "x@acme.vn", "--role",
	     "owner");
	EXPECT_RC(&r, 2);
	run_free(&r);
	MM_T(&r, tok, "accounts", "add", "acme", "--name", "X", "--email", "x@acme.vn", "--unit",
	     "unothere");
	EXPECT_RC(&r, 6);
	run_free(&r);
	MM_T(&r, tok, "accounts", "edit", "acme", acct, "--role", "admin", "--no-unit");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "admin, unit none"), "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "accounts", "edit", "acme", acct, "--unit", unit);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "accounts", "list", "acme", "--unit", unit);
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "bob@acme.vn") && !strstr(r.out, "ann@acme.vn"), "%s", r.out);
	run_free(&r);

	/* Access of a fixed room. */
	MM_T(&r, tok, "--json", "rooms", "create", "Boardroom", "--kind", "fixed");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	char room[64];
	snprintf(room, sizeof(room), "%s", t_str(j, "id"));
	json_decref(j);
	run_free(&r);
	char units_arg[80];
	snprintf(units_arg, sizeof(units_arg), "%s", unit);
	MM_T(&r, tok, "access", "set", room, "--units", units_arg, "--accounts", acct);
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "restricted") && strstr(r.out, unit) && strstr(r.out, acct),
		  "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "--json", "access", "show", room);
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	cr_assert(json_is_true(json_object_get(j, "restricted")));
	json_decref(j);
	run_free(&r);
	MM_T(&r, tok, "access", "set", room, "--accounts", "anobody");
	EXPECT_RC(&r, 6);
	run_free(&r);

	/* Deleting the unit unassigns Bob. */
	MM_T(&r, tok, "units", "delete", "acme", unit);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "--json", "accounts", "list", "acme");
	EXPECT_RC(&r, 0);
	j = out_json(&r);
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(j, "accounts"), i, x)
		cr_assert(json_is_null(json_object_get(x, "unit")));
	json_decref(j);
	run_free(&r);
	MM_T(&r, tok, "accounts", "delete", "acme", acct);
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM(&r, "tenants", "delete", "acme");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "tenants", "show", "acme");
	EXPECT_RC(&r, 3);
	run_free(&r);
}

/* The "done": an operator registers a tenant, it runs meetings
 * within its quota, the trial limit ends a meeting, the contract is renewed
 * and upgraded, all through mmctl (the clock moved through the API). */
Test(mmctl_tenants, register_run_limit_renew_upgrade)
{
	struct run r;
	char tok[128], buf[256], until[32], room[2][64];
	long long now = t_now(&H);
	snprintf(until, sizeof(until), "%lld", now + 600);
	MM(&r, "tenants", "register", "acme", "--name", "Acme", "--admin-name", "Ann",
	   "--admin-email", "ann@acme.vn", "--trial-until", until);
	EXPECT_RC(&r, 0);
	snprintf(tok, sizeof(tok), "%s", kv(r.out, "token", buf, sizeof(buf)));
	cr_assert_str_eq(kv(r.out, "plan", buf, sizeof(buf)), "trial");
	cr_assert_str_eq(kv(r.out, "meeting limit", buf, sizeof(buf)), "none");
	run_free(&r);
	for (int i = 0; i < 2; i++) {
		MM_T(&r, tok, "--json", "rooms", "create", i ? "Two" : "One", "--kind", "fixed");
		EXPECT_RC(&r, 0);
		json_t *j = out_json(&r);
		snprintf(room[i], sizeof(room[i]), "%s", t_str(j, "id"));
		json_decref(j);
		run_free(&r);
	}
	/* Past trial_until: a meeting has 40 minutes. */
	t_advance(&H, 601);
	MM_T(&r, tok, "join", room[0], "--name", "Ann", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "contract", "show", "acme");
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "meeting limit", buf, sizeof(buf)), "40 minutes");
	run_free(&r);
	t_advance(&H, 40 * 60);
	cr_assert(t_wait_not_live(&H, room[0], 3000));
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE room_id='%s' AND "
		 "type='room.ended' AND json_extract(data,'$.reason')='time_limit'", room[0]);
	cr_assert_eq(h_db_count(&H, sql), 1);

	/* Upgrade to a subscription of 1 room: the quota holds. */
	MM(&r, "contract", "change", "acme", "--rooms", "1", "--term", "1");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "package: 1 room(s) x 1 month(s) at 500,000 VND"), "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "join", room[0], "--name", "Ann", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "join", room[1], "--name", "Bob", "--remote", "198.18.1.2:5002");
	EXPECT_RC(&r, 3);
	cr_assert(strstr(r.err, "quota_exceeded"), "%s", r.err);
	run_free(&r);
	MM(&r, "contract", "change", "acme", "--rooms", "5");
	EXPECT_RC(&r, 0);
	run_free(&r);
	MM_T(&r, tok, "join", room[1], "--name", "Bob", "--remote", "198.18.1.2:5002");
	EXPECT_RC(&r, 0);
	run_free(&r);

	/* Renew for 12 months; the tenant may read but not renew. */
	MM_T(&r, tok, "contract", "renew", "acme", "--term", "12");
	EXPECT_RC(&r, 3);
	run_free(&r);
	MM(&r, "contract", "renew", "acme", "--term", "12");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "renewal: 5 room(s) x 12 month(s) at 350,000 VND"), "%s", r.out);
	cr_assert_str_eq(kv(r.out, "term months", buf, sizeof(buf)), "12");
	run_free(&r);
	MM(&r, "contract", "renew", "acme", "--term", "3");
	EXPECT_RC(&r, 2);
	run_free(&r);
	MM(&r, "--json", "contract", "show", "acme");
	EXPECT_RC(&r, 0);
	json_t *k = out_json(&r);
	cr_assert_eq(t_int(k, "rooms"), 5);
	cr_assert_str_eq(t_str(k, "status"), "active");
	json_decref(k);
	run_free(&r);

	/* Cancel at term end, then now. */
	MM(&r, "contract", "cancel", "acme", "term_end");
	EXPECT_RC(&r, 0);
	kv(r.out, "cancel at", buf, sizeof(buf));
	run_free(&r);
	MM(&r, "contract", "cancel", "acme", "soon");
	EXPECT_RC(&r, 2);
	run_free(&r);
	MM(&r, "contract", "cancel", "acme", "now");
	EXPECT_RC(&r, 0);
	cr_assert_str_eq(kv(r.out, "status", buf, sizeof(buf)), "cancelled");
	run_free(&r);
	cr_assert_not(t_live(&H, room[0]));
	cr_assert_not(t_live(&H, room[1]));
	MM_T(&r, tok, "join", room[0], "--name", "Ann", "--remote", "198.18.1.2:5000");
	EXPECT_RC(&r, 3);
	cr_assert(strstr(r.err, "contract_inactive"), "%s", r.err);
	run_free(&r);
	MM_T(&r, tok, "tenants", "events", "acme");
	EXPECT_RC(&r, 0);
	cr_assert(strstr(r.out, "contract.registered") && strstr(r.out, "contract.changed") &&
		  strstr(r.out, "contract.renewed") && strstr(r.out, "contract.cancelled"),
		  "%s", r.out);
	run_free(&r);
	MM_T(&r, tok, "--json", "tenants", "events", "acme", "--type", "contract.cancelled");
	EXPECT_RC(&r, 0);
	k = out_json(&r);
	cr_assert_eq(json_array_size(json_object_get(k, "events")), 2);
	json_decref(k);
	run_free(&r);
}
