/* mmctld's REST request bodies, through the parts that run without a
 * daemon (no store, no mmdp): api_body_object (JSON, duplicates refused,
 * an object), api_check_fields with the join body's field list (as
 * api_participant_join has it) and the nested objects' lists, then
 * api_parse_streams and api_parse_endpoint_opts as the join and streams
 * handlers call them; the name and email field checks of the tenant
 * handlers; and join tokens (jwt_peek, jwt_verify with a fixed key, the
 * base64url decoder). Byte 0 picks which; the rest is the body (or the
 * token). What needs the store (room and access checks, the commit) is
 * covered by the control suite, not here. */
#include <string.h>

#include "control/api.h"
#include "control/jwt.h"
#include "fuzz.h"

/* The join body (api_participants.c, api_participant_join). */
static const struct api_field JOIN[] = {
    {"display_name", API_STRING, true}, {"role", API_STRING, false},
    {"remote", API_OBJECT, false},      {"streams", API_ARRAY, false},
    {"rtx_pt", API_INT, false},         {"max_resolution", API_STRING, false},
    {"webrtc", API_BOOL, false},        {"account", API_STRING, false},
};
/* PUT .../streams (api_meeting.c). */
static const struct api_field STREAMS[] = {
    {"streams", API_ARRAY, true},
    {"rtx_pt", API_INT, false},
    {"max_resolution", API_STRING, false},
};
/* A tenant (api_tenants.c): name and email checks. */
static const struct api_field TENANT[] = {
    {"name", API_STRING, true},
    {"email", API_STRING, false},
};

static void reply_check(struct api_reply *rep, int rc)
{
	if (rc) {
		/* A refusal is a 4xx with {"error":{"code","message"}}. */
		FUZZ_CHECK(rep->status >= 400 && rep->status < 500);
		json_t *e = json_object_get(rep->body, "error");
		FUZZ_CHECK(json_is_string(json_object_get(e, "code")));
		FUZZ_CHECK(json_is_string(json_object_get(e, "message")));
	}
	json_decref(rep->body);
	rep->body = NULL;
	rep->status = 0;
}

static void body(uint8_t sel, const char *text, size_t len)
{
	struct api_req rq = {.method = "POST", .body = text, .body_len = len};
	struct api_reply rep = {0};
	json_t *b = api_body_object(&rq, &rep);
	if (!b) {
		reply_check(&rep, -1);
		return;
	}
	static struct ctl_participant p;
	memset(&p, 0, sizeof(p));
	int rc;
	switch (sel % 3) {
	case 0:
		rc = api_check_fields(b, "", JOIN, sizeof(JOIN) / sizeof(JOIN[0]), &rep);
		if (!rc && json_object_get(b, "remote")) {
			static const struct api_field R[] = {{"addr", API_STRING, true},
							     {"port", API_INT, true}};
			rc = api_check_fields(json_object_get(b, "remote"), "remote.", R, 2, &rep);
		}
		if (!rc)
			rc = api_parse_streams(json_object_get(b, "streams"), &p, &rep);
		if (!rc)
			rc = api_parse_endpoint_opts(b, &p, &rep);
		break;
	case 1:
		rc = api_check_fields(b, "", STREAMS, sizeof(STREAMS) / sizeof(STREAMS[0]), &rep);
		if (!rc)
			rc = api_parse_streams(json_object_get(b, "streams"), &p, &rep);
		if (!rc)
			rc = api_parse_endpoint_opts(b, &p, &rep);
		break;
	default: {
		char name[129], email[256];
		rc = api_check_fields(b, "", TENANT, sizeof(TENANT) / sizeof(TENANT[0]), &rep);
		if (!rc)
			rc = api_name_field(json_object_get(b, "name"), "name", name, sizeof(name),
					    &rep);
		if (!rc && json_object_get(b, "email"))
			rc = api_email_field(json_object_get(b, "email"), "email", email,
					     sizeof(email), &rep);
		break;
	}
	}
	if (!rc) {
		FUZZ_CHECK(rep.body == NULL);
		for (int k = 0; k < CTL_KINDS; k++)
			FUZZ_CHECK(p.src[k].layers >= 0 && p.src[k].layers <= CTL_LAYERS_MAX);
	}
	reply_check(&rep, rc);
	json_decref(b);
}

static void token(const char *t, size_t len)
{
	static const uint8_t key[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct jwt_claims c;
	(void)jwt_peek(t, &c);
	enum jwt_err e = jwt_verify(t, key, sizeof(key) - 1, NULL, 1800000000, &c);
	if (e == JWT_OK) {
		FUZZ_CHECK(c.exp != 0);
		FUZZ_CHECK(strnlen(c.iss, sizeof(c.iss)) < sizeof(c.iss));
	}
	(void)jwt_verify(t, key, sizeof(key) - 1, "k1", 1800000000, &c);
	FUZZ_CHECK(jwt_strerror(e) != NULL);
	uint8_t out[4096];
	(void)jwt_b64url_decode(t, len, out, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	/* The body as mmctld holds it: NUL-terminated. */
	char *t = malloc(size);
	FUZZ_CHECK(t);
	memcpy(t, data + 1, size - 1);
	t[size - 1] = 0;
	if (data[0] & 0x80)
		token(t, size - 1);
	else
		body(data[0], t, size - 1);
	free(t);
	return 0;
}
