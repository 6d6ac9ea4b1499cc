/* webhooks add | list | show | delete | deliveries (operator or tenant
 * tokens; docs/api.md "Webhooks"). */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const event_types[] = {
	"meeting.started", "meeting.ended", "participant.joined", "participant.left",
	"contract.expiring", "*", NULL,
};

/* "a,b,c" -> ["a","b","c"], each a known type. */
static int events_parse(const char *s, json_t **out)
{
	json_t *arr = json_array();
	char *copy = strdup(s), *save = NULL;
	int rc = arr && copy ? 0 : MMCTL_EINTERNAL;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; !rc && t;
	     t = strtok_r(NULL, ",", &save)) {
		rc = arg_choice("--events", t, event_types);
		if (!rc)
			json_array_append_new(arr, json_string(t));
	}
	if (!rc && json_array_size(arr) == 0)
		rc = usage_error("--events: at least one event type");
	free(copy);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* "meeting.started,participant.joined" from the reply's events array. */
static void events_text(json_t *w, char *buf, size_t cap)
{
	size_t i, n = 0;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(json_object_get(w, "events"), i, v) {
		int k = snprintf(buf + n, cap - n, "%s%s", i ? "," : "",
				 json_string_value(v) ? json_string_value(v) : "?");
		if (k < 0 || (size_t)k >= cap - n)
			break;
		n += (size_t)k;
	}
}

static void print_webhook(json_t *w)
{
	char ev[256], t[32];
	events_text(w, ev, sizeof(ev));
	fmt_time(json_integer_value(json_object_get(w, "created_at")), t, sizeof(t));
	out_kv("id", js(w, "id", "-"));
	out_kv("url", js(w, "url", "-"));
	out_kv("events", ev);
	out_kv("tenant", js(w, "tenant", "(all: operator's)"));
	out_kv("created", t);
}

static int webhooks_add(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--events"), OPT_VAL("--tenant") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *events = NULL;
	if ((rc = opts_parse("webhooks add URL [--events TYPE,...] [--tenant T]", argc, argv, o,
			     N(o), pos, 1, 1, &npos)) ||
	    (rc = arg_len("URL", pos[0], 8, 1024)) ||
	    (rc = events_parse(o[0].seen ? o[0].value : "*", &events)) ||
	    (o[1].seen && (rc = arg_len("--tenant", o[1].value, 1, 64)))) {
		json_decref(events);
		return rc;
	}
	if (strncmp(pos[0], "http://", 7) && strncmp(pos[0], "https://", 8)) {
		json_decref(events);
		return usage_error("URL %s: must start with http:// or https://", pos[0]);
	}
	json_t *body = json_pack("{s:s,s:o}", "url", pos[0], "events", events);
	if (o[1].seen)
		json_object_set_new(body, "tenant", json_string(o[1].value));
	rc = http_call(m, "POST", "/v1/webhooks", body, true, &r);
	if (!rc && !m->json) {
		print_webhook(r);
		out_kv("secret", js(r, "secret", "-"));
		printf("(the secret signs the deliveries; it is not shown again)\n");
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

static int webhooks_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *w;
	size_t i;
	if ((rc = opts_parse("webhooks list", argc, argv, NULL, 0, pos, 0, 0, &npos)) ||
	    (rc = http_call(m, "GET", "/v1/webhooks", NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "TENANT", "EVENTS", "URL" };
	struct table *t = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "webhooks"), i, w) {
		char ev[256];
		events_text(w, ev, sizeof(ev));
		const char *row[] = { js(w, "id", "-"), js(w, "tenant", "*"), ev,
				      js(w, "url", "-") };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

static int webhooks_show(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("webhooks show ID", argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = arg_len("ID", pos[0], 1, 256)))
		return rc;
	char *path = http_path("/v1/webhooks/%s", pos[0]);
	rc = path ? http_call(m, "GET", path, NULL, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		print_webhook(r);
	free(path);
	json_decref(r);
	return rc;
}

static int webhooks_delete(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("webhooks delete ID", argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = arg_len("ID", pos[0], 1, 256)))
		return rc;
	char *path = http_path("/v1/webhooks/%s", pos[0]);
	rc = path ? http_call(m, "DELETE", path, NULL, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json)
		printf("deleted webhook %s\n", pos[0]);
	free(path);
	json_decref(r);
	return rc;
}

static int webhooks_deliveries(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--limit") };
	const char *pos[1];
	long long limit = 50;
	int npos, rc;
	json_t *r = NULL, *d;
	size_t i;
	if ((rc = opts_parse("webhooks deliveries ID [--limit 1..500]", argc, argv, o, N(o), pos,
			     1, 1, &npos)) ||
	    (rc = arg_len("ID", pos[0], 1, 256)) ||
	    (o[0].seen && (rc = arg_int("--limit", o[0].value, 1, 500, &limit))))
		return rc;
	char *path = http_path("/v1/webhooks/%s/deliveries", pos[0]);
	char *full = NULL;
	if (path && asprintf(&full, "%s?limit=%lld", path, limit) < 0)
		full = NULL;
	rc = full ? http_call(m, "GET", full, NULL, true, &r) : MMCTL_EINTERNAL;
	free(path);
	free(full);
	if (rc || m->json)
		goto out;
	static const char *const heads[] = { "DELIVERY", "EVENT", "CREATED", "STATUS", "ATTEMPTS",
					     "LAST", "NEXT" };
	struct table *t = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "deliveries"), i, d) {
		char created[32], next[32], att[16], last[160];
		fmt_time(json_integer_value(json_object_get(d, "created_at")), created,
			 sizeof(created));
		fmt_time(json_integer_value(json_object_get(d, "next_attempt_at")), next,
			 sizeof(next));
		fmt_int(d, "attempts", att, sizeof(att));
		if (json_is_integer(json_object_get(d, "last_status")))
			fmt_int(d, "last_status", last, sizeof(last));
		else
			snprintf(last, sizeof(last), "%s", js(d, "last_error", "-"));
		const char *row[] = { js(d, "id", "-"), js(d, "type", "-"), created,
				      js(d, "status", "-"), att, last, next };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

int cmd_webhooks(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "add"))
		return webhooks_add(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "list"))
		return webhooks_list(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "show"))
		return webhooks_show(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "delete"))
		return webhooks_delete(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "deliveries"))
		return webhooks_deliveries(m, argc - 1, argv + 1);
	return usage_error("webhooks add|list|show|delete|deliveries");
}
