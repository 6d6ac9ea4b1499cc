/* mute, unmute, mute-all, kick, hand. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* {"audio":..,"video":..} from --audio / --video; neither means audio. Both
 * fields are always sent, so the server's defaults never decide. */
static json_t *media_body(const struct opt *audio, const struct opt *video)
{
	bool a = audio->seen || !video->seen, v = video->seen;
	return json_pack("{s:b,s:b}", "audio", a, "video", v);
}

static const char *media_words(json_t *body)
{
	bool a = json_is_true(json_object_get(body, "audio"));
	bool v = json_is_true(json_object_get(body, "video"));
	return a && v ? "audio and video" : a ? "audio" : "video";
}

static int mute_one(const char *syn, struct mmctl *m, int argc, char **argv,
		    const char *suffix)
{
	struct opt o[] = { OPT_FLAG("--audio"), OPT_FLAG("--video") };
	const char *pos[2];
	char *path;
	json_t *r = NULL, *body = NULL;
	int rc = participant_args(syn, argc, argv, o, N(o), 0, pos, &path, suffix);
	if (!rc) {
		body = media_body(&o[0], &o[1]);
		rc = http_call(m, "POST", path, body, true, &r);
	}
	if (!rc && !m->json) {
		if (json_is_true(json_object_get(r, "requested")))
			printf("asked %s to unmute %s\n", pos[1], media_words(body));
		else
			print_participant_line(r);
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_mute(struct mmctl *m, int argc, char **argv)
{
	return mute_one("mute ROOM PID [--audio] [--video]", m, argc, argv, "/mute");
}

int cmd_unmute(struct mmctl *m, int argc, char **argv)
{
	return mute_one("unmute ROOM PID [--audio] [--video]", m, argc, argv, "/unmute");
}

/* "p1,p2" into an array of ids. */
static int split_ids(const char *s, json_t *arr)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n > 256)
			return usage_error("--except: \"%s\" is not a comma-separated list of ids", s);
		json_array_append_new(arr, json_stringn(p, n));
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int cmd_mute_all(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_FLAG("--audio"), OPT_FLAG("--video"), OPT_VAL("--except"),
			   OPT_FLAG("--include-moderators") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL, *body = NULL, *except = json_array();
	char *path = NULL;
	if ((rc = opts_parse("mute-all ROOM [--except P1,P2] [--include-moderators] [--audio] "
			     "[--video]", argc, argv, o, N(o), pos, 1, 1, &npos)) ||
	    (rc = arg_len("ROOM", pos[0], 1, 256)) ||
	    (o[2].seen && (rc = split_ids(o[2].value, except))))
		goto out;
	body = media_body(&o[0], &o[1]);
	if (json_array_size(except))
		json_object_set(body, "except", except);
	json_object_set_new(body, "except_moderators", json_boolean(!o[3].seen));
	path = http_path("/v1/rooms/%s/mute", pos[0]);
	rc = path ? http_call(m, "POST", path, body, true, &r) : MMCTL_EINTERNAL;
	if (!rc && !m->json) {
		json_t *muted = json_object_get(r, "muted"), *p;
		size_t i;
		printf("muted %s of %zu participant%s%s", media_words(body), json_array_size(muted),
		       json_array_size(muted) == 1 ? "" : "s", json_array_size(muted) ? ":" : "");
		json_array_foreach(muted, i, p) {
			putchar(' ');
			out_clean(stdout, json_string_value(p));
		}
		putchar('\n');
	}
out:
	free(path);
	json_decref(except);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_kick(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--reason"), OPT_VAL("--block-seconds") };
	const char *pos[2];
	char *path;
	long long block = 0;
	json_t *r = NULL, *body = NULL;
	int rc = participant_args("kick ROOM PID [--reason TEXT] [--block-seconds N]", argc, argv,
				  o, N(o), 0, pos, &path, "/kick");
	if (!rc && o[0].seen)
		rc = arg_len("--reason", o[0].value, 0, 128);
	if (!rc && o[1].seen)
		rc = arg_int("--block-seconds", o[1].value, 0, 86400, &block);
	if (!rc) {
		body = json_object();
		if (o[0].seen)
			json_object_set_new(body, "reason", json_string(o[0].value));
		if (o[1].seen)
			json_object_set_new(body, "block_seconds", json_integer(block));
		rc = http_call(m, "POST", path, body, true, &r);
	}
	if (!rc && !m->json) {
		printf("kicked %s from room %s", pos[1], pos[0]);
		if (o[1].seen)
			printf(" (blocked for %lld s)", block);
		putchar('\n');
	}
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}

int cmd_hand(struct mmctl *m, int argc, char **argv)
{
	static const char *const updown[] = { "up", "down", NULL };
	const char *pos[3];
	char *path;
	json_t *r = NULL, *body = NULL;
	int rc = participant_args("hand ROOM PID up|down", argc, argv, NULL, 0, 1, pos, &path,
				  "/hand");
	if (!rc && !(rc = arg_choice("hand", pos[2], updown))) {
		body = json_pack("{s:b}", "raised", !strcmp(pos[2], "up"));
		rc = http_call(m, "POST", path, body, true, &r);
	}
	if (!rc && !m->json)
		print_participant_line(r);
	free(path);
	json_decref(body);
	json_decref(r);
	return rc;
}
