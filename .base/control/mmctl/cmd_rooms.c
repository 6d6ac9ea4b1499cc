/* rooms list | create | show | set | delete | end */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int rooms_list(struct mmctl *m, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	json_t *r, *room;
	size_t i;
	if ((rc = opts_parse("rooms list", argc, argv, NULL, 0, pos, 0, 0, &npos)))
		return rc;
	if ((rc = http_call(m, "GET", "/v1/rooms", NULL, true, &r)) || m->json)
		goto out;
	static const char *const heads[] = { "ID", "NAME", "KIND", "CAPACITY", "TENANT",
					     "CREATED" };
	struct table *t = table_new(N(heads), heads);
	json_array_foreach(json_object_get(r, "rooms"), i, room) {
		char cap[24], created[32];
		fmt_int(room, "capacity", cap, sizeof(cap));
		fmt_time(json_integer_value(json_object_get(room, "created_at")), created,
			 sizeof(created));
		const char *row[] = { js(room, "id", "-"), js(room, "name", "-"),
				      js(room, "kind", "-"), cap, js(room, "tenant", "-"), created };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	json_decref(r);
	return rc;
}

/* --last-n / --video-last-n (o[0], o[1]) into body; 0 or the exit code. */
static int last_n_opts(struct opt *o, json_t *body)
{
	static const char *const keys[] = { "last_n", "video_last_n" };
	for (int i = 0; i < 2; i++) {
		long long v;
		if (!o[i].seen)
			continue;
		if (arg_int(o[i].name, o[i].value, 0, 100, &v))
			return MMCTL_EUSAGE;
		json_object_set_new(body, keys[i], json_integer(v));
	}
	return 0;
}

static int rooms_create(struct mmctl *m, int argc, char **argv)
{
	static const char *const kinds[] = { "adhoc", "fixed", NULL };
	struct opt o[] = { OPT_VAL("--capacity"), OPT_VAL("--kind"), OPT_VAL("--tenant"),
			   OPT_VAL("--last-n"), OPT_VAL("--video-last-n") };
	const char *pos[1];
	long long cap = 0;
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("rooms create NAME [--capacity N] [--kind adhoc|fixed] [--tenant T] "
			     "[--last-n N] [--video-last-n N]",
			     argc, argv, o, N(o), pos, 1, 1, &npos)) ||
	    (rc = arg_len("NAME", pos[0], 1, 128)) ||
	    (o[0].seen && (rc = arg_int("--capacity", o[0].value, 1, 100, &cap))) ||
	    (o[1].seen && (rc = arg_choice("--kind", o[1].value, kinds))) ||
	    (o[2].seen && (rc = arg_len("--tenant", o[2].value, 1, 64))))
		return rc;
	json_t *body = json_pack("{s:s}", "name", pos[0]);
	if ((rc = last_n_opts(&o[3], body))) {
		json_decref(body);
		return rc;
	}
	if (o[0].seen)
		json_object_set_new(body, "capacity", json_integer(cap));
	if (o[1].seen)
		json_object_set_new(body, "kind", json_string(o[1].value));
	if (o[2].seen)
		json_object_set_new(body, "tenant", json_string(o[2].value));
	rc = http_call(m, "POST", "/v1/rooms", body, true, &r);
	if (!rc && !m->json) {
		char c[24];
		fmt_int(r, "capacity", c, sizeof(c));
		printf("created room %s \"", js(r, "id", "?"));
		out_clean(stdout, js(r, "name", ""));
		printf("\" (%s, capacity %s", js(r, "kind", "?"), c);
		if (json_object_get(r, "tenant")) {
			fputs(", tenant ", stdout);
			out_clean(stdout, js(r, "tenant", ""));
		}
		puts(")");
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

/* rooms set ROOM [--last-n N] [--video-last-n N]: PATCH the room. */
static int rooms_set(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--last-n"), OPT_VAL("--video-last-n") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *body;
	if ((rc = opts_parse("rooms set ROOM [--last-n 0..100] [--video-last-n 0..100]", argc,
			     argv, o, N(o), pos, 1, 1, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)))
		return rc;
	if (!o[0].seen && !o[1].seen)
		return usage_error("rooms set needs --last-n or --video-last-n");
	body = json_object();
	char *path = NULL;
	if (!(rc = last_n_opts(o, body))) {
		path = http_path("/v1/rooms/%s", pos[0]);
		rc = path ? http_call(m, "PATCH", path, body, true, &r) : MMCTL_EINTERNAL;
	}
	if (!rc && !m->json) {
		char ln[24], vln[24];
		fmt_int(r, "last_n", ln, sizeof(ln));
		fmt_int(r, "video_last_n", vln, sizeof(vln));
		printf("room %s: last-N %s, video last-N %s\n", js(r, "id", "?"), ln, vln);
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

static void show_participants(json_t *parts)
{
	static const char *const heads[] = { "ID", "NAME", "ROLE", "AUDIO", "VIDEO", "HAND",
					     "JOINED", "REMOTE" };
	struct table *t = table_new(N(heads), heads);
	size_t i;
	json_t *p;
	json_array_foreach(parts, i, p) {
		char since[32], remote[80];
		const char *audio = fmt_bool(p, "audio_muted", "muted", "on");
		if (json_is_true(json_object_get(p, "unmute_requested")))
			audio = "muted (asked)";
		fmt_since(json_integer_value(json_object_get(p, "joined_at")), since,
			  sizeof(since));
		fmt_addr(json_object_get(p, "remote"), remote, sizeof(remote));
		const char *row[] = { js(p, "id", "-"), js(p, "display_name", "-"),
				      js(p, "role", "-"), audio,
				      fmt_bool(p, "video_muted", "muted", "on"),
				      fmt_bool(p, "hand_raised", "up", "-"), since, remote };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

static int room_path_cmd(const char *syn, struct mmctl *m, int argc, char **argv,
			 const char *method, const char *fmt, json_t **r, const char **room)
{
	const char *pos[1];
	int npos, rc;
	*r = NULL;
	*room = "";
	if ((rc = opts_parse(syn, argc, argv, NULL, 0, pos, 1, 1, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)))
		return rc;
	char *path = http_path(fmt, pos[0]);
	if (!path)
		return MMCTL_EINTERNAL;
	*room = pos[0];
	rc = http_call(m, method, path, NULL, true, r);
	free(path);
	return rc;
}

static int rooms_show(struct mmctl *m, int argc, char **argv)
{
	json_t *r;
	const char *room;
	int rc = room_path_cmd("rooms show ROOM", m, argc, argv, "GET", "/v1/rooms/%s", &r, &room);
	if (!rc && !m->json) {
		char v[32];
		json_t *parts = json_object_get(r, "participants");
		out_kv("room", js(r, "id", "-"));
		out_kv("name", js(r, "name", "-"));
		out_kv("kind", js(r, "kind", "-"));
		fmt_int(r, "capacity", v, sizeof(v));
		out_kv("capacity", v);
		fmt_int(r, "last_n", v, sizeof(v));
		out_kv("last-N", v);
		fmt_int(r, "video_last_n", v, sizeof(v));
		out_kv("video last-N", v);
		out_kv("tenant", js(r, "tenant", "-"));
		fmt_time(json_integer_value(json_object_get(r, "created_at")), v, sizeof(v));
		out_kv("created", v);
		snprintf(v, sizeof(v), "%zu", json_array_size(parts));
		out_kv("participants", v);
		if (json_array_size(parts)) {
			putchar('\n');
			show_participants(parts);
		}
	}
	json_decref(r);
	return rc;
}

static int rooms_delete(struct mmctl *m, int argc, char **argv)
{
	json_t *r;
	const char *room;
	int rc = room_path_cmd("rooms delete ROOM", m, argc, argv, "DELETE", "/v1/rooms/%s", &r, &room);
	if (!rc && !m->json)
		printf("deleted room %s\n", room);
	json_decref(r);
	return rc;
}

static int rooms_end(struct mmctl *m, int argc, char **argv)
{
	json_t *r;
	const char *room;
	int rc = room_path_cmd("rooms end ROOM", m, argc, argv, "POST", "/v1/rooms/%s/end", &r, &room);
	if (!rc && !m->json)
		printf("ended the meeting in room %s\n", room);
	json_decref(r);
	return rc;
}

int cmd_rooms(struct mmctl *m, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct mmctl *, int, char **);
	} subs[] = {
		{ "list", rooms_list }, { "create", rooms_create }, { "show", rooms_show },
		{ "delete", rooms_delete }, { "end", rooms_end }, { "set", rooms_set },
	};
	for (size_t i = 0; argc > 0 && i < N(subs); i++)
		if (!strcmp(argv[0], subs[i].name))
			return subs[i].run(m, argc - 1, argv + 1);
	return usage_error("rooms list|create|show|set|delete|end");
}
