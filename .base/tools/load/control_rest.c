/* Setting the meeting up through mmctld's REST API (docs/api.md), as the
 * services around a meeting do: POST /v1/rooms per room, a join per
 * participant (its transport, server port and SRTP keys, comes back in
 * the reply), mute by the operator's token, unmute by the participant's
 * own token (a moderator's unmute is only a request), DELETE at the end.
 * One libcurl handle, reused (keep-alive). Without libcurl at build time
 * the REST path reports itself unavailable. */
#include "tools/load/run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/proto/base64.h"

#if LD_HAVE_CURL
#include <curl/curl.h>

#define REPLY_MAX (4 << 20)

struct rest {
	CURL *c;
	char **room_ids;
	uint32_t n_rooms;
};

struct body {
	char *p;
	size_t len;
};

static size_t on_body(char *d, size_t sz, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = sz * n;
	if (b->len + add > REPLY_MAX)
		return 0;
	char *np = realloc(b->p, b->len + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, d, add);
	b->p = np;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* One request; body (consumed) may be NULL. Returns the HTTP status or a
 * negative errno; *reply gets the parsed JSON (or NULL). */
static long call(struct ld_run *R, const char *method, const char *path, const char *token,
		 json_t *body, json_t **reply)
{
	struct rest *S = R->rest;
	char url[1024], auth[600];
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	struct body rb = {0};
	struct curl_slist *h = NULL;
	snprintf(url, sizeof(url), "%s%s", R->o.mmctld, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (token)
		h = curl_slist_append(h, auth);
	curl_easy_reset(S->c);
	curl_easy_setopt(S->c, CURLOPT_URL, url);
	curl_easy_setopt(S->c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(S->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(S->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(S->c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(S->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(S->c, CURLOPT_WRITEDATA, &rb);
	if (text)
		curl_easy_setopt(S->c, CURLOPT_POSTFIELDS, text);
	CURLcode cc = curl_easy_perform(S->c);
	long status = -EIO;
	if (cc == CURLE_OK)
		curl_easy_getinfo(S->c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "mmload: %s %s: %s\n", method, url, curl_easy_strerror(cc));
	if (reply)
		*reply = rb.p ? json_loads(rb.p, 0, NULL) : NULL;
	if (status >= 300)
		fprintf(stderr, "mmload: %s %s: HTTP %ld %s\n", method, path, status,
			rb.p ? rb.p : "");
	curl_slist_free_all(h);
	free(rb.p);
	free(text);
	return status;
}

static int key_from(const char *b64, enum mm_srtp_profile prof, struct mm_srtp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->profile = prof;
	k->master_len = mm_srtp_master_len(prof);
	int n = b64 ? mm_b64_decode(b64, k->master, sizeof(k->master)) : -EINVAL;
	return n == (int)k->master_len ? 0 : -EBADMSG;
}

/* Join participant p and take its transport from the reply. */
static int join(struct ld_run *R, struct ld_part *p)
{
	struct rest *S = R->rest;
	static const char *const kinds[LD_KINDS] = {"audio", "camera", "screen"};
	json_t *streams = json_array();
	for (uint32_t s = R->sc.part_first[p->id]; s < R->sc.part_first[p->id + 1]; s++)
		json_array_append_new(streams, json_pack("{sssI}", "kind", kinds[R->sc.streams[s].kind],
							 "ssrc", (json_int_t)R->sc.streams[s].ssrc));
	char path[256];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", S->room_ids[p->room]);
	json_t *rep = NULL;
	long st = call(R, "POST", path, R->o.token,
		       json_pack("{sss{sssi}so}", "display_name", p->name, "remote", "addr", p->addr,
				 "port", (int)p->port, "streams", streams),
		       &rep);
	int rc = st == 201 ? 0 : -EPROTO;
	json_t *tr = json_object_get(rep, "transport");
	json_t *srv = json_object_get(tr, "server"), *srtp = json_object_get(tr, "srtp");
	const char *id = json_string_value(json_object_get(rep, "id"));
	const char *tok = json_string_value(json_object_get(rep, "token"));
	const char *addr = json_string_value(json_object_get(srv, "addr"));
	json_int_t port = json_integer_value(json_object_get(srv, "port"));
	const char *prof = json_string_value(json_object_get(srtp, "profile"));
	if (!rc && (!id || !tok || !addr || port < 1 || port > 65535 ||
		    strlen(addr) >= sizeof(p->server_addr) || strlen(id) >= sizeof(p->ctl_id)))
		rc = -EBADMSG;
	if (!rc) {
		snprintf(p->ctl_id, sizeof(p->ctl_id), "%s", id);
		p->ctl_token = strdup(tok);
		snprintf(p->server_addr, sizeof(p->server_addr), "%s", addr);
		p->server_port = (uint16_t)port;
		p->srtp = MM_SRTP_NONE;
		if (prof && mm_srtp_profile_parse(prof, &p->srtp) != 0)
			rc = -EBADMSG;
	}
	if (!rc && R->o.srtp_set && p->srtp != R->o.srtp) {
		fprintf(stderr, "mmload: mmctld gives %s, --srtp asked for %s\n",
			mm_srtp_profile_name(p->srtp), mm_srtp_profile_name(R->o.srtp));
		rc = -EINVAL;
	}
	if (!rc && p->srtp != MM_SRTP_NONE &&
	    (key_from(json_string_value(json_object_get(srtp, "key_to_server")), p->srtp,
		      &p->key_in) ||
	     key_from(json_string_value(json_object_get(srtp, "key_from_server")), p->srtp,
		      &p->key_out)))
		rc = -EBADMSG;
	if (rc && st == 201)
		fprintf(stderr, "mmload: join of %s: unexpected reply\n", p->name);
	json_decref(rep);
	return rc;
}

static int rest_setup(struct ld_run *R)
{
	struct rest *S = calloc(1, sizeof(*S));
	if (!S || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(S->c = curl_easy_init())) {
		free(S);
		return -ENOMEM;
	}
	R->rest = S;
	S->room_ids = calloc((size_t)R->sc.conf.rooms, sizeof(*S->room_ids));
	if (!S->room_ids)
		return -ENOMEM;
	for (uint32_t r = 0; r < (uint32_t)R->sc.conf.rooms; r++) {
		char name[LD_NAME_MAX];
		ld_room_name(R, r, name, sizeof(name));
		json_t *rep = NULL;
		long st = call(R, "POST", "/v1/rooms", R->o.token,
			       json_pack("{sssi}", "name", name, "capacity", (int)R->sc.parts_per_room),
			       &rep);
		const char *id = json_string_value(json_object_get(rep, "id"));
		if (st == 201 && id)
			S->room_ids[r] = strdup(id);
		json_decref(rep);
		if (!S->room_ids[r])
			return -EPROTO;
		S->n_rooms = r + 1;
	}
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		int rc = join(R, &R->parts[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int rest_mute(struct ld_run *R, uint32_t i, bool muted)
{
	struct rest *S = R->rest;
	struct ld_part *p = &R->parts[i];
	char path[256];
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s/%s", S->room_ids[p->room],
		 p->ctl_id, muted ? "mute" : "unmute");
	long st = call(R, "POST", path, muted ? R->o.token : p->ctl_token,
		       json_pack("{sb}", "audio", true), NULL);
	if (st != 200)
		return -EPROTO;
	p->audio_muted = muted;
	return 0;
}

static void rest_teardown(struct ld_run *R)
{
	struct rest *S = R->rest;
	if (!S)
		return;
	for (uint32_t r = 0; r < S->n_rooms; r++) {
		char path[256];
		snprintf(path, sizeof(path), "/v1/rooms/%s", S->room_ids[r]);
		if (!R->o.keep)
			(void)call(R, "DELETE", path, R->o.token, NULL, NULL);
		free(S->room_ids[r]);
	}
	free(S->room_ids);
	curl_easy_cleanup(S->c);
	curl_global_cleanup();
	free(S);
	R->rest = NULL;
}

#else /* !LD_HAVE_CURL */

static int rest_setup(struct ld_run *R)
{
	(void)R;
	fprintf(stderr, "mmload: built without libcurl: --mmctld is not available\n");
	return -ENOTSUP;
}

static int rest_mute(struct ld_run *R, uint32_t i, bool muted)
{
	(void)R, (void)i, (void)muted;
	return -ENOTSUP;
}

static void rest_teardown(struct ld_run *R)
{
	(void)R;
}
#endif

const struct ld_control ld_control_rest = {
	.name = "mmctld",
	.forwarder = "mmdp",
	.setup = rest_setup,
	.mute = rest_mute,
	.teardown = rest_teardown,
};
