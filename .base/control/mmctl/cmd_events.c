/* events ROOM [--since ID] [--count N]: follow the room's event stream.
 * Human: "seq type summary" per event; --json: the event's data, one line.
 * Ends after N events, at room.ended, or when the server closes. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct follow {
	struct mmctl *m;
	long long count;         /* 0: no limit */
	long long seen;
};

static void print_value(json_t *v)
{
	if (json_is_string(v)) {
		out_clean(stdout, json_string_value(v));
		return;
	}
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	out_clean(stdout, t ? t : "?");
	free(t);
}

/* chat: "from -> to: text"; everything else: key=value of its fields. */
static void print_summary(const char *type, json_t *ev)
{
	const char *key;
	json_t *v;
	bool first = true;
	if (!strcmp(type, "chat")) {
		json_t *msg = json_object_get(ev, "message");
		out_clean(stdout, js(msg, "from", "?"));
		fputs(" -> ", stdout);
		out_clean(stdout, js(msg, "to", "all"));
		fputs(": ", stdout);
		out_clean(stdout, js(msg, "text", ""));
		return;
	}
	json_object_foreach(ev, key, v) {
		if (!strcmp(key, "seq") || !strcmp(key, "type") || !strcmp(key, "at"))
			continue;
		printf("%s", first ? "" : " ");
		out_clean(stdout, key);
		putchar('=');
		print_value(v);
		first = false;
	}
}

static int on_event(void *arg, const char *id, const char *event, const char *data)
{
	struct follow *f = arg;
	json_t *ev = json_loads(data, 0, NULL);
	const char *type = js(ev, "type", event);
	bool ended = !strcmp(type, "room.ended");
	if (f->m->json) {
		if (ev)
			json_dumpf(ev, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		else
			out_clean(stdout, data);
		putchar('\n');
	} else {
		json_t *seq = json_object_get(ev, "seq");
		if (json_is_integer(seq))
			printf("%lld ", (long long)json_integer_value(seq));
		else
			printf("%s ", id[0] ? id : "-");
		out_clean(stdout, type);
		putchar(' ');
		print_summary(type, ev);
		putchar('\n');
	}
	fflush(stdout);
	json_decref(ev);
	f->seen++;
	return ended || (f->count && f->seen >= f->count);
}

int cmd_events(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--since"), OPT_VAL("--count") };
	const char *pos[1];
	long long since = 0;
	struct follow f = { .m = m };
	int npos, rc;
	if ((rc = opts_parse("events ROOM [--since ID] [--count N]", argc, argv, o, N(o), pos, 1, 1,
			     &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) ||
	    (o[0].seen && (rc = arg_int("--since", o[0].value, 0, INT64_MAX, &since))) ||
	    (o[1].seen && (rc = arg_int("--count", o[1].value, 1, 1000000000, &f.count))))
		return rc;
	char *base = http_path("/v1/rooms/%s/events", pos[0]);
	char *path = base ? malloc(strlen(base) + 32) : NULL;
	if (!path) {
		free(base);
		return MMCTL_EINTERNAL;
	}
	strcpy(path, base);
	if (o[0].seen)
		sprintf(path + strlen(path), "?since=%lld", since);
	rc = http_sse(m, path, on_event, &f);
	free(base);
	free(path);
	return rc;
}
