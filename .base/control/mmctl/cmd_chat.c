/* chat send | list, invite. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int chat_send(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--to"), OPT_VAL("--from") };
	const char *pos[2];
	int npos, rc;
	json_t *r = NULL, *body;
	if ((rc = opts_parse("chat send ROOM TEXT [--to PID] [--from PID]", argc, argv, o, N(o), pos,
			     2, 2, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) || (rc = arg_len("TEXT", pos[1], 1, 4096)) ||
	    (o[0].seen && (rc = arg_len("--to", o[0].value, 1, 256))) ||
	    (o[1].seen && (rc = arg_len("--from", o[1].value, 1, 256))))
		return rc;
	body = json_pack("{s:s}", "text", pos[1]);
	if (o[0].seen)
		json_object_set_new(body, "to", json_string(o[0].value));
	if (o[1].seen)
		json_object_set_new(body, "from", json_string(o[1].value));
	char *path = http_path("/v1/rooms/%s/chat", pos[0]);
	rc = path ? http_call(m, "POST", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		char id[24];
		fmt_int(r, "id", id, sizeof(id));
		printf("sent message %s%s", id, json_object_get(r, "to") ? " to " : "");
		out_clean(stdout, js(r, "to", ""));
		putchar('\n');
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

static int chat_list(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--since"), OPT_VAL("--limit") };
	const char *pos[1];
	long long since = 0, limit = 0;
	int npos, rc;
	json_t *r = NULL, *msg;
	size_t i;
	if ((rc = opts_parse("chat list ROOM [--since ID] [--limit N]", argc, argv, o, N(o), pos,
			     1, 1, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) ||
	    (o[0].seen && (rc = arg_int("--since", o[0].value, 0, INT64_MAX, &since))) ||
	    (o[1].seen && (rc = arg_int("--limit", o[1].value, 1, 1000, &limit))))
		return rc;
	char *base = http_path("/v1/rooms/%s/chat", pos[0]);
	char *path = base ? malloc(strlen(base) + 64) : NULL;
	if (!path) {
		free(base);
		return MMCTL_EINTERNAL;
	}
	strcpy(path, base);
	if (o[0].seen)
		sprintf(path + strlen(path), "?since=%lld", since);
	if (o[1].seen)
		sprintf(path + strlen(path), "%slimit=%lld", o[0].seen ? "&" : "?", limit);
	rc = http_call(m, "GET", path, NULL, true, &r);
	if (!rc && !m->json) {
		static const char *const heads[] = { "ID", "SENT", "FROM", "TO", "TEXT" };
		struct table *t = table_new(N(heads), heads);
		json_array_foreach(json_object_get(r, "messages"), i, msg) {
			char id[24], sent[32];
			fmt_int(msg, "id", id, sizeof(id));
			fmt_time(json_integer_value(json_object_get(msg, "sent_at")), sent,
				 sizeof(sent));
			const char *row[] = { id, sent, js(msg, "from", "-"), js(msg, "to", "all"),
					      js(msg, "text", "") };
			table_add(t, row);
		}
		table_print(t, stdout);
		table_free(t);
	}
	free(base);
	free(path);
	json_decref(r);
	return rc;
}

int cmd_chat(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "send"))
		return chat_send(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "list"))
		return chat_list(m, argc - 1, argv + 1);
	return usage_error("chat send|list");
}

int cmd_invite(struct mmctl *m, int argc, char **argv)
{
	static const char *const roles[] = { "attendee", "moderator", NULL };
	struct opt o[] = { OPT_VAL("--ttl"), OPT_VAL("--role") };
	const char *pos[1];
	long long ttl = 0;
	int npos, rc;
	json_t *r = NULL, *body;
	if ((rc = opts_parse("invite ROOM [--ttl SECONDS] [--role attendee|moderator]", argc, argv,
			     o, N(o), pos, 1, 1, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) ||
	    (o[0].seen && (rc = arg_int("--ttl", o[0].value, 60, 2592000, &ttl))) ||
	    (o[1].seen && (rc = arg_choice("--role", o[1].value, roles))))
		return rc;
	body = json_object();
	if (o[0].seen)
		json_object_set_new(body, "ttl_seconds", json_integer(ttl));
	if (o[1].seen)
		json_object_set_new(body, "role", json_string(o[1].value));
	char *path = http_path("/v1/rooms/%s/invites", pos[0]);
	rc = path ? http_call(m, "POST", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		char exp[32];
		fmt_time(json_integer_value(json_object_get(r, "expires_at")), exp, sizeof(exp));
		out_kv("invite", js(r, "invite", "-"));
		out_kv("room", js(r, "room", "-"));
		out_kv("role", js(r, "role", "-"));
		out_kv("expires", exp);
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}
