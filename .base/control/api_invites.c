/* Invites: "mmi_<room>.<role>.<expires>.<nonce>.<mac>", where mac is
 * HMAC-SHA256 (hex) of everything before it under the deployment's invite
 * key (a secret kept in the store). Stateless: nothing is stored per invite,
 * and one invite admits many people until it expires. */
#include "control/api.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INVITE_TTL_DEFAULT 86400
#define INVITE_TTL_MIN 60
#define INVITE_TTL_MAX (30 * 86400)
#define INVITE_MAX 256

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int invite_mac(const struct ctl *c, const char *payload, size_t len, char out[65])
{
	uint8_t mac[32];
	unsigned int mlen = sizeof(mac);
	if (!HMAC(EVP_sha256(), c->invite_key, sizeof(c->invite_key), (const uint8_t *)payload,
		  len, mac, &mlen))
		return -EIO;
	hex(mac, sizeof(mac), out);
	return 0;
}

void api_invite_create(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "ttl_seconds", API_INT, false }, { "role", API_STRING, false },
	};
	struct ctl_room r;
	struct api_actor a;
	uint8_t nonce[8];
	char nhex[17], payload[160], mac[65], invite[INVITE_MAX];
	json_t *b = rq->body_len ? api_body_object(rq, rep) : json_object(), *v;
	if (!b || api_check_fields(b, "", fields, 2, rep))
		goto out;
	json_int_t ttl = (v = json_object_get(b, "ttl_seconds")) ? json_integer_value(v) :
								    INVITE_TTL_DEFAULT;
	if (ttl < INVITE_TTL_MIN || ttl > INVITE_TTL_MAX) {
		api_error(rep, 400, "invalid_field", "ttl_seconds: %d..%d", INVITE_TTL_MIN,
			  INVITE_TTL_MAX);
		goto out;
	}
	const char *role = (v = json_object_get(b, "role")) ? json_string_value(v) : "attendee";
	if (strcmp(role, "attendee") && strcmp(role, "moderator")) {
		api_error(rep, 400, "invalid_field", "role: attendee or moderator");
		goto out;
	}
	if (api_room_load(rq, false, &r, rep) || api_actor_load(rq, &r, &a, rep))
		goto out;
	if (!a.moderator) {
		api_error(rep, 403, "forbidden", "only a moderator may invite");
		goto out;
	}
	int64_t exp = ctl_now(rq->c) + ttl;
	if (ctl_random(nonce, sizeof(nonce))) {
		api_error(rep, 500, "internal", "no randomness");
		goto out;
	}
	hex(nonce, sizeof(nonce), nhex);
	int n = snprintf(payload, sizeof(payload), "%s.%s.%lld.%s", r.id, role, (long long)exp,
			 nhex);
	if (invite_mac(rq->c, payload, (size_t)n, mac)) {
		api_error(rep, 500, "internal", "cannot sign the invite");
		goto out;
	}
	snprintf(invite, sizeof(invite), "mmi_%s.%s", payload, mac);
	rep->status = 201;
	rep->body = json_pack("{s:s,s:s,s:s,s:I}", "invite", invite, "room", r.id, "role", role,
			      "expires_at", (json_int_t)exp);
out:
	json_decref(b);
}

/* Check an invite: 0 with room and role, or rep set to 401. */
static int invite_check(const struct ctl *c, const char *inv, char *room, size_t rcap,
			char *role, size_t lcap, struct api_reply *rep)
{
	char buf[INVITE_MAX], mac[65];
	if (strncmp(inv, "mmi_", 4) || strlen(inv) >= sizeof(buf))
		goto invalid;
	snprintf(buf, sizeof(buf), "%s", inv + 4);
	char *dot = strrchr(buf, '.');
	if (!dot || strlen(dot + 1) != 64 || invite_mac(c, buf, (size_t)(dot - buf), mac) ||
	    CRYPTO_memcmp(mac, dot + 1, 64))
		goto invalid;
	*dot = '\0';
	char *save = NULL, *f[4];
	f[0] = strtok_r(buf, ".", &save);
	for (int i = 1; i < 4; i++)
		f[i] = f[i - 1] ? strtok_r(NULL, ".", &save) : NULL;
	if (!f[3] || strlen(f[0]) >= rcap || strlen(f[1]) >= lcap)
		goto invalid;
	char *end;
	long long exp = strtoll(f[2], &end, 10);
	if (*end)
		goto invalid;
	if (exp <= ctl_now(c)) {
		api_error(rep, 401, "invite_expired", "the invite expired at %lld", exp);
		return -EACCES;
	}
	snprintf(room, rcap, "%s", f[0]);
	snprintf(role, lcap, "%s", f[1]);
	return 0;
invalid:
	api_error(rep, 401, "invite_invalid", "not an invite of this service");
	return -EACCES;
}

/* POST /v1/join: the invite is the credential. */
void api_invite_join(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "invite", API_STRING, true }, { "display_name", API_STRING, true },
		{ "remote", API_OBJECT, false }, { "streams", API_ARRAY, false },
		{ "rtx_pt", API_INT, false }, { "max_resolution", API_STRING, false },
		{ "webrtc", API_BOOL, false },
	};
	struct ctl_room r;
	char room[CTL_ID_MAX], role[12];
	json_t *b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 7, rep) ||
	    invite_check(rq->c, json_string_value(json_object_get(b, "invite")), room,
			 sizeof(room), role, sizeof(role), rep))
		goto out;
	int rc = ctl_store_room_get(rq->c->store, room, &r);
	if (rc) {
		if (rc == -ENOENT)
			api_error(rep, 404, "not_found", "room %s no longer exists", room);
		else
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		goto out;
	}
	if (api_access_check(rq, &r, NULL, rep))
		goto out;
	api_join_room(rq, &r, role, b, rep);
out:
	json_decref(b);
}
