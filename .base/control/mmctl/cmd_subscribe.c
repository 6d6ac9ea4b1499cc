/* subscribe ROOM PID (--publisher P --kind camera|screen --max-height H)... | --clear
 * Each --publisher starts one subscription; its --kind and --max-height
 * follow it. The list replaces the participant's subscriptions. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

static const char *const sub_kinds[] = { "camera", "screen", NULL };

/* Name and value of argv[*i] if it is the option name (--name V / --name=V). */
static const char *take(int argc, char **argv, int *i, const char *name, int *rc)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) || (a[n] && a[n] != '='))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc) {
		*rc = usage_error("%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

/* Whether the last subscription of arr is complete. */
static int check_last(json_t *arr)
{
	json_t *last = json_array_get(arr, json_array_size(arr) - 1);
	if (last && (!json_object_get(last, "kind") || !json_object_get(last, "max_height")))
		return usage_error("--publisher %s needs --kind and --max-height after it",
				   js(last, "publisher", "?"));
	return 0;
}

/* One of --kind / --max-height for the current subscription. */
static int set_field(json_t *arr, const char *opt, const char *key, json_t *v)
{
	json_t *cur = json_array_get(arr, json_array_size(arr) - 1);
	if (!cur) {
		json_decref(v);
		return usage_error("%s must follow a --publisher", opt);
	}
	if (json_object_get(cur, key)) {
		json_decref(v);
		return usage_error("%s given twice for --publisher %s", opt,
				   js(cur, "publisher", "?"));
	}
	json_object_set_new(cur, key, v);
	return 0;
}

static int parse_subs(int argc, char **argv, json_t *arr, const char **pos, int *npos,
		      bool *clear)
{
	bool only_pos = false;
	int rc = 0;
	for (int i = 0; i < argc && !rc; i++) {
		const char *a = argv[i], *v;
		long long h;
		if (!only_pos && !strcmp(a, "--")) {
			only_pos = true;
		} else if (only_pos || strncmp(a, "--", 2)) {
			if (*npos == 2)
				return usage_error("unexpected argument \"%s\"", a);
			pos[(*npos)++] = a;
		} else if (!strcmp(a, "--clear")) {
			*clear = true;
		} else if ((v = take(argc, argv, &i, "--publisher", &rc))) {
			if (!(rc = check_last(arr)) && !(rc = arg_len("--publisher", v, 1, 256)))
				json_array_append_new(arr, json_pack("{s:s}", "publisher", v));
		} else if ((v = take(argc, argv, &i, "--kind", &rc))) {
			if (!(rc = arg_choice("--kind", v, sub_kinds)))
				rc = set_field(arr, "--kind", "kind", json_string(v));
		} else if ((v = take(argc, argv, &i, "--max-height", &rc))) {
			if (!(rc = arg_int("--max-height", v, 90, 4320, &h)))
				rc = set_field(arr, "--max-height", "max_height", json_integer(h));
		} else if (!rc) {
			rc = usage_error("unknown option %s", a);
		}
	}
	if (rc || (rc = check_last(arr)))
		return rc;
	if (*npos < 2)
		return usage_error("subscribe ROOM PID (--publisher P --kind K --max-height H)...");
	if (*clear && json_array_size(arr))
		return usage_error("subscribe: --clear excludes --publisher");
	if (!*clear && !json_array_size(arr))
		return usage_error("subscribe needs --publisher P --kind K --max-height H, or "
				   "--clear (the list is replaced)");
	return 0;
}

int cmd_subscribe(struct mmctl *m, int argc, char **argv)
{
	const char *pos[2];
	int npos = 0;
	bool clear = false;
	json_t *arr = json_array(), *r = NULL, *body = NULL;
	char *path = NULL;
	int rc = parse_subs(argc, argv, arr, pos, &npos, &clear);
	if (!rc && !(rc = arg_len("ROOM", pos[0], 1, 256)) &&
	    !(rc = arg_len("PID", pos[1], 1, 256))) {
		path = http_path("/v1/rooms/%s/participants/%s/subscriptions", pos[0], pos[1]);
		body = json_pack("{s:O}", "subscriptions", arr);
		rc = path ? http_call(m, "PUT", path, body, true, &r) : MMCTL_EINTERNAL;
	}
	if (!rc && !m->json) {
		size_t i;
		json_t *s;
		fputs("subscriptions of ", stdout);
		out_clean(stdout, js(r, "id", pos[1]));
		fputs(":", stdout);
		json_array_foreach(json_object_get(r, "subscriptions"), i, s) {
			printf("%s ", i ? "," : "");
			out_clean(stdout, js(s, "publisher", "?"));
			printf(" %s up to %lldp", js(s, "kind", "?"),
			       (long long)json_integer_value(json_object_get(s, "max_height")));
		}
		puts(json_array_size(json_object_get(r, "subscriptions")) ? "" : " none");
	}
	free(path);
	json_decref(arr);
	json_decref(body);
	json_decref(r);
	return rc;
}
