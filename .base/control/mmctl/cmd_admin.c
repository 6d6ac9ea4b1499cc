/* Operator commands: tokens create | revoke, blocks list | delete, bans
 * list | add | delete. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* operator | tenant:T | participant:ROOM/PID */
static int scope_check(const char *s)
{
	const char *slash;
	if (!strcmp(s, "operator") || (!strncmp(s, "tenant:", 7) && s[7]))
		return arg_len("SCOPE", s, 1, 200);
	if (!strncmp(s, "participant:", 12) && (slash = strchr(s + 12, '/')) &&
	    slash > s + 12 && slash[1])
		return arg_len("SCOPE", s, 1, 200);
	return usage_error("SCOPE \"%s\": operator, tenant:T or participant:ROOM/PID", s);
}

static int tokens_create(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--ttl") };
	const char *pos[1];
	long long ttl = 0;
	int npos, rc;
	json_t *r = NULL, *body;
	if ((rc = opts_parse("tokens create SCOPE [--ttl SECONDS]", argc, argv, o, N(o), pos,
			     1, 1, &npos)) ||
	    (rc = scope_check(pos[0])) ||
	    (o[0].seen && (rc = arg_int("--ttl", o[0].value, 1, 315360000, &ttl))))
		return rc;
	body = json_pack("{s:s}", "scope", pos[0]);
	if (o[0].seen)
		json_object_set_new(body, "ttl_seconds", json_integer(ttl));
	rc = http_call(m, "POST", "/v1/tokens", body, true, &r);
	if (!rc && !m->json) {
		char exp[32];
		json_int_t e = json_integer_value(json_object_get(r, "expires_at"));
		if (e)
			fmt_time(e, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp), "never");
		out_kv("id", js(r, "id", "-"));
		out_kv("scope", js(r, "scope", "-"));
		out_kv("expires", exp);
		out_kv("token", js(r, "token", "-"));
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

/* DELETE fmt(ID), then "<done> ID". */
static int delete_id(const char *syn, struct mmctl *m, int argc, char **argv,
		     const char *fmt, const char *done)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse(syn, argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = arg_len("ID", pos[0], 1, 256)))
		return rc;
	char *path = http_path(fmt, pos[0]);
	rc = path ? http_call(m, "DELETE", path, NULL, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		printf("%s %s\n", done, pos[0]);
	free(path);
	json_decref(r);
	return rc;
}

int cmd_tokens(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "create"))
		return tokens_create(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "revoke"))
		return delete_id("tokens revoke ID", m, argc - 1, argv + 1, "/v1/tokens/%s", "revoked token");
	return usage_error("tokens create|revoke");
}

static int blocks_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *b;
	size_t i;
	if ((rc = opts_parse("blocks list", argc, argv, NULL, 0, pos, 0, 0, &npos)) ||
	    (rc = http_call(m, "GET", "/v1/blocks", NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "REMOTE", "LOCAL", "REASON", "EXPIRES" };
	struct table *t = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "blocks"), i, b) {
		char remote[80], local[80], exp[32];
		fmt_addr(json_object_get(b, "remote"), remote, sizeof(remote));
		fmt_addr(json_object_get(b, "local"), local, sizeof(local));
		fmt_time(json_integer_value(json_object_get(b, "expires_at")), exp, sizeof(exp));
		const char *row[] = { js(b, "id", "-"), remote, local, js(b, "reason", "-"), exp };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

int cmd_blocks(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "list"))
		return blocks_list(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "delete"))
		return delete_id("blocks delete ID", m, argc - 1, argv + 1, "/v1/blocks/%s", "lifted block");
	return usage_error("blocks list|delete");
}

static int bans_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *b;
	size_t i;
	if ((rc = opts_parse("bans list", argc, argv, NULL, 0, pos, 0, 0, &npos)) ||
	    (rc = http_call(m, "GET", "/v1/bans", NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "PREFIX", "REASON", "EXPIRES" };
	struct table *t = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "bans"), i, b) {
		char exp[32];
		fmt_time(json_integer_value(json_object_get(b, "expires_at")), exp, sizeof(exp));
		const char *row[] = { js(b, "id", "-"), js(b, "prefix", "-"), js(b, "reason", "-"),
				      exp };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

/* A prefix as the server takes it: ADDR or ADDR/LEN, checked loosely here
 * (the server checks the address and the length). */
static int prefix_check(const char *s)
{
	int rc = arg_len("PREFIX", s, 2, 64);
	if (rc)
		return rc;
	for (const char *c = s; *c; c++)
		if (!strchr("0123456789abcdefABCDEF.:/", *c))
			return usage_error("PREFIX \"%s\": an IPv4 or IPv6 address, optionally /LEN", s);
	return 0;
}

static int bans_add(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--ttl"), OPT_VAL("--reason") };
	const char *pos[1];
	long long ttl = 0;
	int npos, rc;
	json_t *r = NULL, *body;
	if ((rc = opts_parse("bans add PREFIX [--ttl SECONDS] [--reason TEXT]", argc, argv, o,
			     N(o), pos, 1, 1, &npos)) ||
	    (rc = prefix_check(pos[0])) ||
	    (o[0].seen && (rc = arg_int("--ttl", o[0].value, 1, 2592000, &ttl))) ||
	    (o[1].seen && (rc = arg_len("--reason", o[1].value, 1, 128))))
		return rc;
	body = json_pack("{s:s}", "prefix", pos[0]);
	if (o[0].seen)
		json_object_set_new(body, "ttl_seconds", json_integer(ttl));
	if (o[1].seen)
		json_object_set_new(body, "reason", json_string(o[1].value));
	rc = http_call(m, "POST", "/v1/bans", body, true, &r);
	if (!rc && !m->json) {
		char exp[32];
		fmt_time(json_integer_value(json_object_get(r, "expires_at")), exp, sizeof(exp));
		printf("banned %s as %s until %s\n", js(r, "prefix", "-"), js(r, "id", "-"), exp);
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_bans(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "list"))
		return bans_list(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "add"))
		return bans_add(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "delete"))
		return delete_id("bans delete ID", m, argc - 1, argv + 1, "/v1/bans/%s", "lifted ban");
	return usage_error("bans list|add|delete");
}

/* guard: the XDP guard's verdicts and its drops by reason. */
int cmd_guard(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("guard", argc, argv, NULL, 0, pos, 0, 0, &npos)) ||
	    (rc = http_call(m, "GET", "/v1/guard", NULL, true, &r)) || m->json)
		goto out;
	json_t *g = json_object_get(r, "guard");
	if (!json_is_object(g)) {
		printf("mmdp runs without the XDP guard\n");
		goto out;
	}
	json_t *sync = json_object_get(g, "sync");
	printf("pin dir          %s\n", js(g, "pin_dir", "-"));
	printf("lists in sync    %s (%lld errors)\n",
	       json_is_true(json_object_get(sync, "in_sync")) ? "yes" : "NO",
	       (long long)json_integer_value(json_object_get(sync, "errors")));
	static const char *const vh[] = { "VERDICT", "PACKETS", "BYTES" };
	struct table *t = table_new(N(vh), vh);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(g, "verdicts"), key, v) {
		char p[32], b[32];
		snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(json_object_get(v, "packets")));
		snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(json_object_get(v, "bytes")));
		const char *row[] = { key, p, b };
		table_add(t, row);
	}
	printf("\n");
	table_print(t, stdout);
	table_free(t);
	static const char *const dh[] = { "DROPPED AT XDP", "PACKETS" };
	t = table_new(N(dh), dh);
	json_object_foreach(json_object_get(g, "drops"), key, v) {
		if (!json_integer_value(v))
			continue;
		char p[32];
		snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(v));
		const char *row[] = { key, p };
		table_add(t, row);
	}
	printf("\n");
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

/* mmctl clock [--advance S | --now T]: mmctld's clock (docs/api.md "Clock");
 * moving it needs "test_clock" in mmctld's config (tests and demos). */
int cmd_clock(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--advance"), OPT_VAL("--now") };
	const char *pos[1];
	int npos, rc;
	long long v = 0;
	json_t *r = NULL, *body = NULL;
	if ((rc = opts_parse("clock [--advance SECONDS | --now UNIX]", argc, argv, o, N(o), pos, 0,
			     0, &npos)))
		return rc;
	if (o[0].seen && o[1].seen)
		return usage_error("clock: --advance or --now, not both");
	if (o[0].seen || o[1].seen) {
		const char *name = o[0].seen ? "advance" : "now";
		if ((rc = arg_int(name, o[0].seen ? o[0].value : o[1].value,
				  o[0].seen ? -3153600000LL : 0, 9999999999LL, &v)))
			return rc;
		body = json_pack("{s:I}", name, (json_int_t)v);
	}
	rc = http_call(m, body ? "PUT" : "GET", "/v1/clock", body, true, &r);
	json_decref(body);
	if (rc || m->json)
		goto out;
	time_t now = (time_t)json_integer_value(json_object_get(r, "now"));
	char when[64];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	printf("now              %s (%lld)\n", when, (long long)now);
	printf("offset           %lld s\n", (long long)json_integer_value(json_object_get(r, "offset")));
	printf("settable         %s\n", json_is_true(json_object_get(r, "settable")) ? "yes" : "no");
out:
	json_decref(r);
	return rc;
}
