/* join (with a token or an invite), leave, role, streams, resolution. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const roles[] = { "host", "moderator", "attendee", NULL };
static const char *const ssrc_kinds[] = { "audio", "camera", "screen" };

void print_participant_line(json_t *p)
{
	out_clean(stdout, js(p, "id", "?"));
	fputs(" \"", stdout);
	out_clean(stdout, js(p, "display_name", ""));
	printf("\" role %s, audio %s, video %s, hand %s\n", js(p, "role", "-"),
	       fmt_bool(p, "audio_muted", "muted", "on"), fmt_bool(p, "video_muted", "muted", "on"),
	       fmt_bool(p, "hand_raised", "up", "down"));
}

/* The --*-ssrc options (o[0..2]) as a "streams" array in *out (NULL if none). */
static int streams_parse(struct opt *o, json_t **out)
{
	long long v[3];
	*out = NULL;
	for (int i = 0; i < 3; i++) {
		if (o[i].seen && arg_int(o[i].name, o[i].value, 0, 4294967295LL, &v[i]))
			return MMCTL_EUSAGE;
		for (int j = 0; j < i; j++)
			if (o[i].seen && o[j].seen && v[i] == v[j])
				return usage_error("%s and %s: SSRCs must differ", o[j].name,
						   o[i].name);
	}
	for (int i = 0; i < 3; i++) {
		if (!o[i].seen)
			continue;
		if (!*out)
			*out = json_array();
		json_array_append_new(*out, json_pack("{s:s,s:I}", "kind", ssrc_kinds[i],
						      "ssrc", (json_int_t)v[i]));
	}
	return 0;
}

static void print_streams(json_t *p)
{
	size_t i;
	json_t *s;
	fputs("streams of ", stdout);
	out_clean(stdout, js(p, "id", "?"));
	fputs(":", stdout);
	json_array_foreach(json_object_get(p, "streams"), i, s)
		printf("%s %s %lld", i ? "," : "", js(s, "kind", "?"),
		       (long long)json_integer_value(json_object_get(s, "ssrc")));
	puts(json_array_size(json_object_get(p, "streams")) ? "" : " none");
}

static void print_join(json_t *r)
{
	json_t *tr = json_object_get(r, "transport");
	json_t *srtp = json_object_get(tr, "srtp");
	char server[80];
	fmt_addr(json_object_get(tr, "server"), server, sizeof(server));
	out_kv("participant", js(r, "id", "-"));
	out_kv("room", js(r, "room", "-"));
	out_kv("role", js(r, "role", "-"));
	out_kv("token", js(r, "token", "-"));
	out_kv("server", server);
	out_kv("srtp profile", js(srtp, "profile", "-"));
	out_kv("key to server", js(srtp, "key_to_server", "-"));
	out_kv("key from server", js(srtp, "key_from_server", "-"));
}

/* join --join-token TOKEN --room ROOM: the join token is the credential
 * (no bearer token); the name may come from the token. */
static int join_with_token(struct mmctl *m, struct opt *o)
{
	char addr[64];
	int port, rc;
	json_t *streams = NULL, *r = NULL;
	if (o[5].seen || o[6].seen || o[9].seen)
		return usage_error("join --join-token takes no --%s (the token has it)",
				   o[5].seen ? "role" : o[6].seen ? "invite" : "account");
	if (!o[8].seen || !o[4].seen)
		return usage_error("join --join-token needs --room ROOM and --remote ADDR:PORT");
	if ((rc = arg_len("--join-token", o[7].value, 1, 4096)) ||
	    (rc = arg_len("--room", o[8].value, 1, 256)) ||
	    (o[3].seen && (rc = arg_len("--name", o[3].value, 1, 128))) ||
	    (rc = arg_addr_port("--remote", o[4].value, addr, sizeof(addr), &port)) ||
	    (rc = streams_parse(o, &streams)))
		return rc;
	json_t *body = json_pack("{s:s,s:s,s:{s:s,s:i}}", "join_token", o[7].value, "room",
				 o[8].value, "remote", "addr", addr, "port", port);
	if (o[3].seen)
		json_object_set_new(body, "display_name", json_string(o[3].value));
	if (streams)
		json_object_set_new(body, "streams", streams);
	rc = http_call(m, "POST", "/v1/join", body, false, &r);
	if (!rc && !m->json) {
		print_join(r);
		out_kv("account", js(r, "account", "-"));
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_join(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--audio-ssrc"), OPT_VAL("--camera-ssrc"),
			   OPT_VAL("--screen-ssrc"), OPT_VAL("--name"), OPT_VAL("--remote"),
			   OPT_VAL("--role"), OPT_VAL("--invite"), OPT_VAL("--join-token"),
			   OPT_VAL("--room"), OPT_VAL("--account") };
	const char *pos[1];
	char addr[64];
	int npos, port, rc;
	json_t *streams = NULL, *r = NULL, *body;
	if ((rc = opts_parse("join ROOM|--invite INVITE --name NAME --remote ADDR:PORT ...", argc,
			     argv, o, N(o), pos, 0, 1, &npos)))
		return rc;
	bool invite = o[6].seen, jt = o[7].seen;
	if (jt && npos)
		return usage_error("join --join-token takes --room ROOM, not a positional ROOM");
	if (jt)
		return join_with_token(m, o);
	if (o[8].seen)
		return usage_error("join --room goes with --join-token (else: join ROOM)");
	if (invite && o[9].seen)
		return usage_error("join --invite takes no --account (use a join token)");
	if (invite && npos)
		return usage_error("join --invite takes no ROOM (the invite names it)");
	if (invite && o[5].seen)
		return usage_error("join --invite takes no --role (the invite has it)");
	if (!invite && !npos)
		return usage_error("join ROOM or join --invite INVITE");
	if (!o[3].seen || !o[4].seen)
		return usage_error("join needs --name NAME and --remote ADDR:PORT");
	if ((rc = arg_len("--name", o[3].value, 1, 128)) ||
	    (rc = arg_addr_port("--remote", o[4].value, addr, sizeof(addr), &port)) ||
	    (o[5].seen && (rc = arg_choice("--role", o[5].value, roles))) ||
	    (invite && (rc = arg_len("--invite", o[6].value, 1, 8192))) ||
	    (rc = streams_parse(o, &streams)))
		return rc;
	body = json_pack("{s:s,s:{s:s,s:i}}", "display_name", o[3].value, "remote", "addr", addr,
			 "port", port);
	if (o[5].seen)
		json_object_set_new(body, "role", json_string(o[5].value));
	if (o[9].seen)
		json_object_set_new(body, "account", json_string(o[9].value));
	if (streams)
		json_object_set_new(body, "streams", streams);
	if (invite) {
		json_object_set_new(body, "invite", json_string(o[6].value));
		rc = http_call(m, "POST", "/v1/join", body, false, &r);
	} else {
		char *path = http_path("/v1/rooms/%s/participants", pos[0]);
		rc = path ? http_call(m, "POST", path, body, true, &r) : MMCTL_EINTERNAL;
		free(path);
	}
	if (!rc && !m->json)
		print_join(r);
	json_decref(body);
	json_decref(r);
	return rc;
}

int participant_args(const char *syn, int argc, char **argv, struct opt *o, size_t nopt, int nextra,
			    const char **pos, char **path, const char *suffix)
{
	int npos, rc;
	*path = NULL;
	if ((rc = opts_parse(syn, argc, argv, o, nopt, pos, 2 + nextra, 2 + nextra, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) || (rc = arg_len("PID", pos[1], 1, 256)))
		return rc;
	char fmt[96];
	snprintf(fmt, sizeof(fmt), "/v1/rooms/%%s/participants/%%s%s", suffix);
	*path = http_path(fmt, pos[0], pos[1]);
	return *path ? 0 : MMCTL_EINTERNAL;
}

int cmd_leave(struct mmctl *m, int argc, char **argv)
{
	const char *pos[2];
	char *path;
	json_t *r = NULL;
	int rc = participant_args("leave ROOM PID", argc, argv, NULL, 0, 0, pos, &path, "");
	if (!rc)
		rc = http_call(m, "DELETE", path, NULL, true, &r);
	if (!rc && !m->json)
		printf("%s left room %s\n", pos[1], pos[0]);
	free(path);
	json_decref(r);
	return rc;
}

int cmd_role(struct mmctl *m, int argc, char **argv)
{
	const char *pos[3];
	char *path;
	json_t *r = NULL, *body = NULL;
	int rc = participant_args("role ROOM PID ROLE", argc, argv, NULL, 0, 1, pos, &path,
				  "/role");
	if (!rc && !(rc = arg_choice("ROLE", pos[2], roles))) {
		body = json_pack("{s:s}", "role", pos[2]);
		rc = http_call(m, "POST", path, body, true, &r);
	}
	if (!rc && !m->json)
		print_participant_line(r);
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_streams(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--audio-ssrc"), OPT_VAL("--camera-ssrc"),
			   OPT_VAL("--screen-ssrc"), OPT_FLAG("--clear") };
	const char *pos[2];
	char *path;
	json_t *r = NULL, *streams = NULL, *body = NULL;
	int rc = participant_args("streams ROOM PID [--audio-ssrc N] [--camera-ssrc N] "
				  "[--screen-ssrc N] | --clear", argc, argv, o, N(o), 0, pos,
				  &path, "/streams");
	if (!rc && !(rc = streams_parse(o, &streams))) {
		if (!streams && !o[3].seen)
			rc = usage_error("streams needs --audio-ssrc, --camera-ssrc, --screen-ssrc "
					 "or --clear (the list is replaced)");
		else if (streams && o[3].seen)
			rc = usage_error("streams: --clear excludes the --*-ssrc options");
	}
	if (!rc) {
		body = json_pack("{s:o}", "streams", streams ? streams : json_array());
		streams = NULL;
		rc = http_call(m, "PUT", path, body, true, &r);
	}
	if (!rc && !m->json)
		print_streams(r);
	free(path);
	json_decref(streams);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_resolution(struct mmctl *m, int argc, char **argv)
{
	static const char *const levels[] = { "low", "medium", "high", NULL };
	const char *pos[3];
	char *path;
	json_t *r = NULL, *body = NULL;
	int rc = participant_args("resolution ROOM PID low|medium|high", argc, argv, NULL, 0, 1,
				  pos, &path, "/resolution");
	if (!rc && !(rc = arg_choice("RESOLUTION", pos[2], levels))) {
		body = json_pack("{s:s}", "max_resolution", pos[2]);
		rc = http_call(m, "POST", path, body, true, &r);
	}
	if (!rc && !m->json) {
		out_clean(stdout, js(r, "id", "?"));
		printf(" receives at most %s resolution\n", js(r, "max_resolution", "?"));
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}
