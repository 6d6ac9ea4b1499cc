/* Tenants, plans and contracts (docs/api.md "Tenants, plans and
 * contracts"): tenants register | list | show | set | delete | events,
 * units and accounts add | list | edit | delete, access set | show,
 * contract show | renew | change | cancel, quote. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 1234567 -> "1,234,567". */
static void fmt_money(long long v, char *buf, size_t cap)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%lld", v < 0 ? -v : v), j = 0;
	char out[48];
	if (v < 0)
		out[j++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = 0;
	snprintf(buf, cap, "%s", out);
}

static int id_check(const char *what, const char *s)
{
	return arg_len(what, s, 1, 64);
}

static int months_check(const char *s, long long *v)
{
	int rc = arg_int("--term", s, 1, 12, v);
	if (!rc && *v != 1 && *v != 6 && *v != 12)
		return usage_error("--term %s: 1, 6 or 12 months", s);
	return rc;
}

static void print_quote(json_t *q)
{
	char price[32], total[32];
	fmt_money(json_integer_value(json_object_get(q, "price_per_room_month")), price,
		  sizeof(price));
	fmt_money(json_integer_value(json_object_get(q, "total")), total, sizeof(total));
	printf("%lld room(s) x %lld month(s) at %s %s per room per month (tier %s): %s %s\n",
	       (long long)json_integer_value(json_object_get(q, "rooms")),
	       (long long)json_integer_value(json_object_get(q, "months")), price,
	       js(q, "currency", "VND"), js(q, "tier", "?"), total, js(q, "currency", "VND"));
}

static void print_contract(json_t *k)
{
	char buf[64];
	out_kv("plan", js(k, "plan", "-"));
	out_kv("status", js(k, "status", "-"));
	fmt_time(json_integer_value(json_object_get(k, "starts_at")), buf, sizeof(buf));
	out_kv("starts", buf);
	if (json_object_get(k, "trial_until")) {
		fmt_time(json_integer_value(json_object_get(k, "trial_until")), buf, sizeof(buf));
		out_kv("trial until", buf);
	}
	if (json_object_get(k, "rooms")) {
		fmt_int(k, "rooms", buf, sizeof(buf));
		out_kv("rooms", buf);
		fmt_int(k, "term_months", buf, sizeof(buf));
		out_kv("term months", buf);
		fmt_time(json_integer_value(json_object_get(k, "ends_at")), buf, sizeof(buf));
		out_kv("ends", buf);
	}
	if (json_object_get(k, "cancel_at")) {
		fmt_time(json_integer_value(json_object_get(k, "cancel_at")), buf, sizeof(buf));
		out_kv("cancel at", buf);
	}
	json_t *lim = json_object_get(k, "limits");
	json_t *mm = json_object_get(lim, "meeting_minutes");
	snprintf(buf, sizeof(buf), "%s", json_is_integer(mm) ? "" : "none");
	if (json_is_integer(mm))
		snprintf(buf, sizeof(buf), "%lld minutes", (long long)json_integer_value(mm));
	out_kv("meeting limit", buf);
	json_t *q = json_object_get(k, "quote");
	if (q) {
		char total[32];
		fmt_money(json_integer_value(json_object_get(q, "total")), total, sizeof(total));
		snprintf(buf, sizeof(buf), "%s VND", total);
		out_kv("value", buf);
	}
}

/* ---- tenants ---- */

static int tenants_register(struct mmctl *m, int argc, char **argv)
{
	static const char *const plans[] = { "trial", "subscription", NULL };
	static const char syn[] = "tenants register ID --name NAME --admin-name NAME "
		"--admin-email EMAIL [--plan trial|subscription] [--rooms N] [--term 1|6|12] "
		"[--trial-until UNIX]";
	struct opt o[] = { OPT_VAL("--name"), OPT_VAL("--admin-name"), OPT_VAL("--admin-email"),
			   OPT_VAL("--plan"), OPT_VAL("--rooms"), OPT_VAL("--term"),
			   OPT_VAL("--trial-until") };
	const char *pos[1];
	long long rooms = 0, term = 0, until = 0;
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse(syn, argc, argv, o, N(o), pos, 1, 1, &npos)) ||
	    (rc = id_check("ID", pos[0])))
		return rc;
	for (int i = 0; i < 3; i++)
		if (!o[i].seen)
			return usage_error("%s needs %s", syn, o[i].name);
	if ((rc = arg_len("--name", o[0].value, 1, 128)) ||
	    (rc = arg_len("--admin-name", o[1].value, 1, 128)) ||
	    (rc = arg_len("--admin-email", o[2].value, 3, 254)) ||
	    (o[3].seen && (rc = arg_choice("--plan", o[3].value, plans))) ||
	    (o[4].seen && (rc = arg_int("--rooms", o[4].value, 1, 100000, &rooms))) ||
	    (o[5].seen && (rc = months_check(o[5].value, &term))) ||
	    (o[6].seen && (rc = arg_int("--trial-until", o[6].value, 1, 253402300799LL, &until))))
		return rc;
	/* The plan: as given, else a subscription when rooms or a term are. */
	const char *plan = o[3].seen ? o[3].value : o[4].seen || o[5].seen ? "subscription" :
			   "trial";
	json_t *body = json_pack("{s:s,s:s,s:{s:s,s:s},s:s}", "id", pos[0], "name", o[0].value,
				 "admin", "name", o[1].value, "email", o[2].value, "plan", plan);
	if (o[4].seen)
		json_object_set_new(body, "rooms", json_integer(rooms));
	if (o[5].seen)
		json_object_set_new(body, "term_months", json_integer(term));
	if (o[6].seen)
		json_object_set_new(body, "trial_until", json_integer(until));
	rc = http_call(m, "POST", "/v1/tenants", body, true, &r);
	if (!rc && !m->json) {
		json_t *cred = json_object_get(r, "credentials");
		json_t *admin = json_object_get(r, "admin");
		out_kv("tenant", js(r, "id", "-"));
		out_kv("name", js(r, "name", "-"));
		print_contract(json_object_get(r, "contract"));
		out_kv("admin", js(admin, "id", "-"));
		out_kv("admin email", js(admin, "email", "-"));
		out_kv("token", js(cred, "token", "-"));
		out_kv("join secret", js(cred, "join_secret", "-"));
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

static int tenants_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *t;
	size_t i;
	if ((rc = opts_parse("tenants list", argc, argv, NULL, 0, pos, 0, 0, &npos)) ||
	    (rc = http_call(m, "GET", "/v1/tenants", NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "NAME", "PLAN", "STATUS", "ROOMS", "ENDS" };
	struct table *tb = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "tenants"), i, t) {
		json_t *k = json_object_get(t, "contract");
		char rooms[24] = "-", ends[32] = "-";
		if (json_object_get(k, "rooms")) {
			fmt_int(k, "rooms", rooms, sizeof(rooms));
			fmt_time(json_integer_value(json_object_get(k, "ends_at")), ends, sizeof(ends));
		} else if (json_object_get(k, "trial_until")) {
			fmt_time(json_integer_value(json_object_get(k, "trial_until")), ends,
				 sizeof(ends));
		}
		const char *row[] = { js(t, "id", "-"), js(t, "name", "-"), js(k, "plan", "-"),
				      js(k, "status", "-"), rooms, ends };
		table_add(tb, row);
	}
	table_print(tb, stdout);
	table_free(tb);
out:
	json_decref(r);
	return rc;
}

static int tenants_show(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	char *path = NULL, buf[32];
	if ((rc = opts_parse("tenants show ID", argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = id_check("ID", pos[0])))
		return rc;
	if (!(path = http_path("/v1/tenants/%s", pos[0])))
		return MMCTL_EINTERNAL;
	if ((rc = http_call(m, "GET", path, NULL, true, &r)) || m->json)
		goto out;
	out_kv("tenant", js(r, "id", "-"));
	out_kv("name", js(r, "name", "-"));
	fmt_time(json_integer_value(json_object_get(r, "created_at")), buf, sizeof(buf));
	out_kv("created", buf);
	fmt_int(r, "live_meetings", buf, sizeof(buf));
	out_kv("live meetings", buf);
	print_contract(json_object_get(r, "contract"));
	out_kv("join secret", js(r, "join_secret", "-"));
out:
	free(path);
	json_decref(r);
	return rc;
}

static int tenants_set(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--name") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("tenants set ID --name NAME", argc, argv, o, N(o), pos, 1, 1,
			     &npos)) ||
	    (rc = id_check("ID", pos[0])))
		return rc;
	if (!o[0].seen)
		return usage_error("tenants set needs --name");
	if ((rc = arg_len("--name", o[0].value, 1, 128)))
		return rc;
	json_t *body = json_pack("{s:s}", "name", o[0].value);
	char *path = http_path("/v1/tenants/%s", pos[0]);
	rc = path ? http_call(m, "PATCH", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		printf("tenant %s is now \"", js(r, "id", "?"));
		out_clean(stdout, js(r, "name", ""));
		puts("\"");
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

/* DELETE path (fmt with up to two ids), then "<done>". */
static int delete_path(struct mmctl *m, const char *done, const char *fmt, const char *a,
		       const char *b)
{
	json_t *r = NULL;
	char *path = http_path(fmt, a, b);
	int rc = path ? http_call(m, "DELETE", path, NULL, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		printf("%s %s\n", done, b ? b : a);
	free(path);
	json_decref(r);
	return rc;
}

static int tenants_delete(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	if ((rc = opts_parse("tenants delete ID", argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = id_check("ID", pos[0])))
		return rc;
	return delete_path(m, "deleted tenant", "/v1/tenants/%s", pos[0], NULL);
}

static int tenants_events(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--since"), OPT_VAL("--type") };
	const char *pos[1];
	long long since = 0;
	int npos, rc;
	json_t *r = NULL, *e;
	size_t i;
	char *path = NULL;
	if ((rc = opts_parse("tenants events ID [--since SEQ] [--type TYPE]", argc, argv, o, N(o),
			     pos, 1, 1, &npos)) ||
	    (rc = id_check("ID", pos[0])) ||
	    (o[0].seen && (rc = arg_int("--since", o[0].value, 0, 9007199254740991LL, &since))) ||
	    (o[1].seen && (rc = arg_len("--type", o[1].value, 1, 31))))
		return rc;
	char q[160];
	snprintf(q, sizeof(q), "?since=%lld%s%s", since, o[1].seen ? "&type=" : "",
		 o[1].seen ? "%s" : "");
	char fmt[200];
	snprintf(fmt, sizeof(fmt), "/v1/tenants/%%s/events%s", q);
	path = o[1].seen ? http_path(fmt, pos[0], o[1].value) : http_path(fmt, pos[0]);
	if (!path)
		return MMCTL_EINTERNAL;
	if ((rc = http_call(m, "GET", path, NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "SEQ", "TYPE", "AT", "DATA" };
	struct table *tb = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "events"), i, e) {
		char seq[24], at[32];
		fmt_int(e, "seq", seq, sizeof(seq));
		fmt_time(json_integer_value(json_object_get(e, "at")), at, sizeof(at));
		json_t *d = json_deep_copy(e);
		json_object_del(d, "seq");
		json_object_del(d, "type");
		json_object_del(d, "at");
		char *text = json_dumps(d, JSON_COMPACT);
		const char *row[] = { seq, js(e, "type", "-"), at, text ? text : "" };
		table_add(tb, row);
		free(text);
		json_decref(d);
	}
	table_print(tb, stdout);
	table_free(tb);
out:
	free(path);
	json_decref(r);
	return rc;
}

int cmd_tenants(struct mmctl *m, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct mmctl *, int, char **);
	} sub[] = {
		{ "register", tenants_register }, { "list", tenants_list }, { "show", tenants_show },
		{ "set", tenants_set }, { "delete", tenants_delete }, { "events", tenants_events },
	};
	for (size_t i = 0; argc > 0 && i < N(sub); i++)
		if (!strcmp(argv[0], sub[i].name))
			return sub[i].run(m, argc - 1, argv + 1);
	return usage_error("tenants register|list|show|set|delete|events");
}

/* ---- units ---- */

static int units_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *u;
	size_t i;
	char *path = NULL;
	if ((rc = opts_parse("units list TENANT", argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = id_check("TENANT", pos[0])))
		return rc;
	if (!(path = http_path("/v1/tenants/%s/units", pos[0])))
		return MMCTL_EINTERNAL;
	if ((rc = http_call(m, "GET", path, NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "NAME", "CREATED" };
	struct table *tb = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "units"), i, u) {
		char created[32];
		fmt_time(json_integer_value(json_object_get(u, "created_at")), created,
			 sizeof(created));
		const char *row[] = { js(u, "id", "-"), js(u, "name", "-"), created };
		table_add(tb, row);
	}
	table_print(tb, stdout);
	table_free(tb);
out:
	free(path);
	json_decref(r);
	return rc;
}

/* units add TENANT NAME | units edit TENANT UNIT --name NAME */
static int units_write(struct mmctl *m, int argc, char **argv, bool add)
{
	struct opt o[] = { OPT_VAL("--name") };
	const char *pos[2];
	int npos, rc;
	json_t *r = NULL;
	const char *syn = add ? "units add TENANT NAME" : "units edit TENANT UNIT --name NAME";
	if ((rc = opts_parse(syn, argc, argv, o, add ? 0 : 1, pos, 2, 2, &npos)) ||
	    (rc = id_check("TENANT", pos[0])))
		return rc;
	if (!add && !o[0].seen)
		return usage_error("units edit needs --name");
	const char *name = add ? pos[1] : o[0].value;
	if ((rc = arg_len(add ? "NAME" : "--name", name, 1, 128)) ||
	    (!add && (rc = id_check("UNIT", pos[1]))))
		return rc;
	json_t *body = json_pack("{s:s}", "name", name);
	char *path = add ? http_path("/v1/tenants/%s/units", pos[0]) :
		     http_path("/v1/tenants/%s/units/%s", pos[0], pos[1]);
	rc = path ? http_call(m, add ? "POST" : "PATCH", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		printf("%s unit %s \"", add ? "added" : "renamed", js(r, "id", "?"));
		out_clean(stdout, js(r, "name", ""));
		puts("\"");
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

static int units_delete(struct mmctl *m, int argc, char **argv)
{
	const char *pos[2];
	int npos, rc;
	if ((rc = opts_parse("units delete TENANT UNIT", argc, argv, NULL, 0, pos, 2, 2, &npos)) ||
	    (rc = id_check("TENANT", pos[0])) || (rc = id_check("UNIT", pos[1])))
		return rc;
	return delete_path(m, "deleted unit", "/v1/tenants/%s/units/%s", pos[0], pos[1]);
}

int cmd_units(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "list"))
		return units_list(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "add"))
		return units_write(m, argc - 1, argv + 1, true);
	if (argc > 0 && !strcmp(argv[0], "edit"))
		return units_write(m, argc - 1, argv + 1, false);
	if (argc > 0 && !strcmp(argv[0], "delete"))
		return units_delete(m, argc - 1, argv + 1);
	return usage_error("units list|add|edit|delete");
}

/* ---- accounts ---- */

static void print_account(json_t *a)
{
	json_t *u = json_object_get(a, "unit");
	printf("account %s: ", js(a, "id", "?"));
	out_clean(stdout, js(a, "name", ""));
	printf(" <");
	out_clean(stdout, js(a, "email", ""));
	printf(">, %s, unit %s\n", js(a, "role", "?"), json_is_string(u) ? json_string_value(u) :
	       "none");
}

static int accounts_list(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--unit") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *a;
	size_t i;
	char *path = NULL;
	if ((rc = opts_parse("accounts list TENANT [--unit UNIT]", argc, argv, o, N(o), pos, 1, 1,
			     &npos)) ||
	    (rc = id_check("TENANT", pos[0])) || (o[0].seen && (rc = id_check("--unit", o[0].value))))
		return rc;
	path = o[0].seen ? http_path("/v1/tenants/%s/accounts?unit=%s", pos[0], o[0].value) :
	       http_path("/v1/tenants/%s/accounts", pos[0]);
	if (!path)
		return MMCTL_EINTERNAL;
	if ((rc = http_call(m, "GET", path, NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "NAME", "EMAIL", "ROLE", "UNIT" };
	struct table *tb = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "accounts"), i, a) {
		const char *row[] = { js(a, "id", "-"), js(a, "name", "-"), js(a, "email", "-"),
				      js(a, "role", "-"), js(a, "unit", "-") };
		table_add(tb, row);
	}
	table_print(tb, stdout);
	table_free(tb);
out:
	free(path);
	json_decref(r);
	return rc;
}

/* accounts add TENANT --name N --email E [--role R] [--unit U]
 * accounts edit TENANT ACCOUNT [--name N] [--email E] [--role R] [--unit U | --no-unit] */
static int accounts_write(struct mmctl *m, int argc, char **argv, bool add)
{
	static const char *const roles[] = { "admin", "user", NULL };
	struct opt o[] = { OPT_VAL("--name"), OPT_VAL("--email"), OPT_VAL("--role"),
			   OPT_VAL("--unit"), OPT_FLAG("--no-unit") };
	const char *syn = add ? "accounts add TENANT --name NAME --email EMAIL "
				"[--role admin|user] [--unit UNIT]" :
				"accounts edit TENANT ACCOUNT [--name NAME] [--email EMAIL] "
				"[--role admin|user] [--unit UNIT | --no-unit]";
	const char *pos[2];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse(syn, argc, argv, o, add ? 4 : 5, pos, add ? 1 : 2, add ? 1 : 2,
			     &npos)) ||
	    (rc = id_check("TENANT", pos[0])) || (!add && (rc = id_check("ACCOUNT", pos[1]))))
		return rc;
	if (add && (!o[0].seen || !o[1].seen))
		return usage_error("accounts add needs --name and --email");
	if (!add && !o[0].seen && !o[1].seen && !o[2].seen && !o[3].seen && !o[4].seen)
		return usage_error("accounts edit needs at least one of --name, --email, --role, "
				   "--unit, --no-unit");
	if (o[3].seen && o[4].seen)
		return usage_error("--unit and --no-unit exclude each other");
	if ((o[0].seen && (rc = arg_len("--name", o[0].value, 1, 128))) ||
	    (o[1].seen && (rc = arg_len("--email", o[1].value, 3, 254))) ||
	    (o[2].seen && (rc = arg_choice("--role", o[2].value, roles))) ||
	    (o[3].seen && (rc = id_check("--unit", o[3].value))))
		return rc;
	json_t *body = json_object();
	static const char *const keys[] = { "name", "email", "role", "unit" };
	for (int i = 0; i < 4; i++)
		if (o[i].seen)
			json_object_set_new(body, keys[i], json_string(o[i].value));
	if (o[4].seen)
		json_object_set_new(body, "unit", json_null());
	char *path = add ? http_path("/v1/tenants/%s/accounts", pos[0]) :
		     http_path("/v1/tenants/%s/accounts/%s", pos[0], pos[1]);
	rc = path ? http_call(m, add ? "POST" : "PATCH", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		print_account(r);
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

static int accounts_delete(struct mmctl *m, int argc, char **argv)
{
	const char *pos[2];
	int npos, rc;
	if ((rc = opts_parse("accounts delete TENANT ACCOUNT", argc, argv, NULL, 0, pos, 2, 2,
			     &npos)) ||
	    (rc = id_check("TENANT", pos[0])) || (rc = id_check("ACCOUNT", pos[1])))
		return rc;
	return delete_path(m, "deleted account", "/v1/tenants/%s/accounts/%s", pos[0], pos[1]);
}

int cmd_accounts(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "list"))
		return accounts_list(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "add"))
		return accounts_write(m, argc - 1, argv + 1, true);
	if (argc > 0 && !strcmp(argv[0], "edit"))
		return accounts_write(m, argc - 1, argv + 1, false);
	if (argc > 0 && !strcmp(argv[0], "delete"))
		return accounts_delete(m, argc - 1, argv + 1);
	return usage_error("accounts list|add|edit|delete");
}

/* ---- fixed rooms' access ---- */

/* "a,b,c" into a JSON array of strings ("" : empty). */
static json_t *id_list(const char *s)
{
	json_t *arr = json_array();
	char *copy = strdup(s), *save = NULL;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(t));
	free(copy);
	return arr;
}

static void print_access(json_t *r)
{
	size_t i;
	json_t *v;
	printf("room %s: %s\n", js(r, "room", "?"),
	       json_is_true(json_object_get(r, "restricted")) ? "restricted" :
	       "open to the tenant's participants");
	static const char *const keys[] = { "units", "accounts" };
	for (int k = 0; k < 2; k++) {
		printf("%-9s", keys[k]);
		if (!json_array_size(json_object_get(r, keys[k])))
			printf(" -");
		json_array_foreach(json_object_get(r, keys[k]), i, v) {
			putchar(' ');
			out_clean(stdout, json_string_value(v));
		}
		putchar('\n');
	}
}

int cmd_access(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--units"), OPT_VAL("--accounts") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *body = NULL;
	bool set = argc > 0 && !strcmp(argv[0], "set");
	if (!set && !(argc > 0 && !strcmp(argv[0], "show")))
		return usage_error("access set|show");
	if ((rc = opts_parse(set ? "access set ROOM [--units U1,U2] [--accounts A1,A2]" :
			     "access show ROOM", argc - 1, argv + 1, o, set ? 2 : 0, pos, 1, 1,
			     &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) ||
	    (o[0].seen && (rc = arg_len("--units", o[0].value, 0, 60000))) ||
	    (o[1].seen && (rc = arg_len("--accounts", o[1].value, 0, 60000))))
		return rc;
	char *path = http_path("/v1/rooms/%s/access", pos[0]);
	if (set) {
		/* Both lists are sent: set replaces the room's list. */
		body = json_pack("{s:o,s:o}", "units", id_list(o[0].seen ? o[0].value : ""),
				 "accounts", id_list(o[1].seen ? o[1].value : ""));
	}
	rc = path ? http_call(m, set ? "PUT" : "GET", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		print_access(r);
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

/* ---- contracts ---- */

int cmd_contract(struct mmctl *m, int argc, char **argv)
{
	static const char *const whens[] = { "now", "term_end", NULL };
	struct opt o[] = { OPT_VAL("--rooms"), OPT_VAL("--term") };
	const char *sub = argc > 0 ? argv[0] : "";
	const char *pos[2];
	long long rooms = 0, term = 0;
	int npos, rc;
	json_t *r = NULL, *body = NULL;
	char *path = NULL;

	if (!strcmp(sub, "show")) {
		if ((rc = opts_parse("contract show TENANT", argc - 1, argv + 1, NULL, 0, pos, 1, 1,
				     &npos)) ||
		    (rc = id_check("TENANT", pos[0])))
			return rc;
		path = http_path("/v1/tenants/%s/contract", pos[0]);
		rc = path ? http_call(m, "GET", path, NULL, true, &r) : MMCTL_EINTERNAL;
		if (!rc && !m->json) {
			out_kv("tenant", js(r, "tenant", "-"));
			print_contract(r);
		}
		goto out;
	}
	if (!strcmp(sub, "renew")) {
		if ((rc = opts_parse("contract renew TENANT [--term 1|6|12]", argc - 1, argv + 1,
				     &o[1], 1, pos, 1, 1, &npos)) ||
		    (rc = id_check("TENANT", pos[0])) ||
		    (o[1].seen && (rc = months_check(o[1].value, &term))))
			return rc;
		body = json_object();
		if (o[1].seen)
			json_object_set_new(body, "term_months", json_integer(term));
	} else if (!strcmp(sub, "change")) {
		if ((rc = opts_parse("contract change TENANT [--rooms N] [--term 1|6|12]", argc - 1,
				     argv + 1, o, 2, pos, 1, 1, &npos)) ||
		    (rc = id_check("TENANT", pos[0])) ||
		    (o[0].seen && (rc = arg_int("--rooms", o[0].value, 1, 100000, &rooms))) ||
		    (o[1].seen && (rc = months_check(o[1].value, &term))))
			return rc;
		if (!o[0].seen && !o[1].seen)
			return usage_error("contract change needs --rooms or --term");
		body = json_object();
		if (o[0].seen)
			json_object_set_new(body, "rooms", json_integer(rooms));
		if (o[1].seen)
			json_object_set_new(body, "term_months", json_integer(term));
	} else if (!strcmp(sub, "cancel")) {
		if ((rc = opts_parse("contract cancel TENANT now|term_end", argc - 1, argv + 1, NULL,
				     0, pos, 2, 2, &npos)) ||
		    (rc = id_check("TENANT", pos[0])) || (rc = arg_choice("WHEN", pos[1], whens)))
			return rc;
		body = json_pack("{s:s}", "when", pos[1]);
	} else {
		return usage_error("contract show|renew|change|cancel");
	}
	char fmt[64];
	snprintf(fmt, sizeof(fmt), "/v1/tenants/%%s/contract/%s", sub);
	path = http_path(fmt, pos[0]);
	rc = path ? http_call(m, "POST", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		json_t *k = json_object_get(r, "contract");
		printf("%s: contract of %s\n", !strcmp(sub, "renew") ? "renewed" :
		       !strcmp(sub, "change") ? "changed" : "cancelled", js(k, "tenant", "?"));
		print_contract(k);
		if (json_object_get(r, "quote")) {
			printf("%s: ", !strcmp(sub, "renew") ? "renewal" : "package");
			print_quote(json_object_get(r, "quote"));
		}
	}
out:
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_quote(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--rooms"), OPT_VAL("--term") };
	const char *pos[1];
	long long rooms = 0, term = 0;
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("quote --rooms N --term 1|6|12", argc, argv, o, N(o), pos, 0, 0,
			     &npos)))
		return rc;
	if (!o[0].seen || !o[1].seen)
		return usage_error("quote needs --rooms and --term");
	if ((rc = arg_int("--rooms", o[0].value, 1, 100000, &rooms)) ||
	    (rc = months_check(o[1].value, &term)))
		return rc;
	json_t *body = json_pack("{s:I,s:I}", "rooms", (json_int_t)rooms, "term_months",
				 (json_int_t)term);
	rc = http_call(m, "POST", "/v1/quote", body, true, &r);
	if (!rc && !m->json)
		print_quote(r);
	json_decref(body);
	json_decref(r);
	return rc;
}
