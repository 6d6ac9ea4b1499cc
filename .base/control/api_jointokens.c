/* Join tokens (issue 9 item 1): POST /v1/join with {"join_token", "room",
 * ...} where the token is a JWT (control/jwt.c) the tenant's meeting app
 * signed with the tenant's join secret, naming the account that joins; and
 * the check of fixed rooms' access lists for every way in (join token,
 * invite, the app's backend). docs/api.md "Join tokens (JWT)". */
#include "control/api.h"
#include "control/jwt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctl_tenant_join_key(const struct ctl_tenant *t, char out[CTL_JOIN_KEY_LEN + 1])
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < CTL_JOIN_SECRET_LEN; i++) {
		out[2 * i] = d[t->join_secret[i] >> 4];
		out[2 * i + 1] = d[t->join_secret[i] & 15];
	}
	out[CTL_JOIN_KEY_LEN] = '\0';
}

/* Is account (NULL: an invite, "": nobody named) admitted to room r by its
 * access list? 0, or rep set to 403. The account is known to be the room's
 * tenant's. */
int api_access_check(struct api_req *rq, const struct ctl_room *r, const char *account,
		    struct api_reply *rep)
{
	bool restricted, allowed;
	struct ctl_account a;
	int rc = ctl_store_room_access_check(rq->c->store, r->id, account, &restricted, &allowed);
	if (rc) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	if (!restricted || allowed)
		return 0;
	/* The messages name the rule and the joiner's own account and unit,
	 * never who else is on the list. */
	if (!account) {
		api_error(rep, 403, "join_token_required", "room %s admits only the accounts and "
			  "units on its access list: join with a join token, not an invite "
			  "(an invite can be passed on to anyone)", r->id);
		return -EPERM;
	}
	if (!account[0]) {
		api_error(rep, 403, "not_allowed", "room %s admits only the accounts and units "
			  "on its access list: name the joining \"account\"", r->id);
		return -EPERM;
	}
	rc = ctl_store_account_get(rq->c->store, account, &a);
	if (rc) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	if (a.unit[0])
		api_error(rep, 403, "not_allowed", "room %s admits only the accounts and units on "
			  "its access list: neither account %s nor its unit %s is on it", r->id,
			  a.id, a.unit);
	else
		api_error(rep, 403, "not_allowed", "room %s admits only the accounts and units on "
			  "its access list: account %s is not on it and is in no unit", r->id,
			  a.id);
	return -EPERM;
}

/* account must be an account of room r's tenant: 0, or rep set to 403. */
int api_room_account(struct api_req *rq, const struct ctl_room *r, const char *account,
		     struct api_reply *rep)
{
	struct ctl_account a;
	int rc = ctl_store_account_get(rq->c->store, account, &a);
	if (rc && rc != -ENOENT) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	/* The same answer whether the account does not exist or is another
	 * tenant's: a tenant learns nothing of the others. */
	if (rc || !r->tenant[0] || strcmp(a.tenant, r->tenant)) {
		api_error(rep, 403, "not_allowed", "no account %s in the tenant of room %s",
			  account, r->id);
		return -EPERM;
	}
	return 0;
}

static void token_error(struct api_reply *rep, enum jwt_err e)
{
	if (e == JWT_EXPIRED)
		api_error(rep, 401, "join_token_expired", "join token: %s", jwt_strerror(e));
	else
		api_error(rep, 401, "join_token_invalid", "join token: %s", jwt_strerror(e));
}

/* POST /v1/join with a join token: the token is the credential. */
static void join_with_token(struct api_req *rq, json_t *b, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "join_token", API_STRING, true }, { "room", API_STRING, true },
		{ "display_name", API_STRING, false }, { "remote", API_OBJECT, false },
		{ "streams", API_ARRAY, false }, { "rtx_pt", API_INT, false },
		{ "max_resolution", API_STRING, false }, { "webrtc", API_BOOL, false },
	};
	struct jwt_claims cl;
	struct ctl_tenant t;
	struct ctl_room r;
	char key[CTL_JOIN_KEY_LEN + 1];
	if (api_check_fields(b, "", fields, 8, rep))
		return;
	const char *tok = json_string_value(json_object_get(b, "join_token"));
	const char *room = json_string_value(json_object_get(b, "room"));
	enum jwt_err e = jwt_peek(tok, &cl);
	if (e) {
		token_error(rep, e);
		return;
	}
	/* Nothing of the claims counts until the signature is checked: iss
	 * only says which tenant's secret to check it with. */
	int rc = ctl_store_tenant_get(rq->c->store, cl.iss, &t);
	if (rc == -ENOENT) {
		api_error(rep, 401, "join_token_invalid", "join token: not signed by a tenant of "
			  "this service");
		return;
	}
	if (rc) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	ctl_tenant_join_key(&t, key);
	e = jwt_verify(tok, (const uint8_t *)key, CTL_JOIN_KEY_LEN, t.id, ctl_now(rq->c), &cl);
	memset(key, 0, sizeof(key));
	if (e) {
		token_error(rep, e);
		return;
	}
	if (cl.room[0] && strcmp(cl.room, room)) {
		api_error(rep, 403, "not_allowed", "the join token is for room %s, not %s", cl.room,
			  room);
		return;
	}
	/* Another tenant's room gets the answer of a room that does not
	 * exist. */
	rc = ctl_store_room_get(rq->c->store, room, &r);
	if (rc && rc != -ENOENT) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	if (rc || strcmp(r.tenant, t.id)) {
		api_error(rep, 404, "not_found", "no room %s", room);
		return;
	}
	if (api_room_account(rq, &r, cl.sub, rep) || api_access_check(rq, &r, cl.sub, rep))
		return;
	/* The app asserts the name too when it puts one in the token. */
	if (cl.name[0])
		json_object_set_new(b, "display_name", json_string(cl.name));
	else if (!json_object_get(b, "display_name")) {
		api_error(rep, 400, "missing_field", "display_name: required (the join token has "
			  "no name)");
		return;
	}
	api_join_room_as(rq, &r, cl.role[0] ? cl.role : "attendee", cl.sub, b, rep);
}

void api_join(struct api_req *rq, struct api_reply *rep)
{
	json_t *b = api_body_object(rq, rep);
	if (!b)
		return;
	json_t *inv = json_object_get(b, "invite"), *tok = json_object_get(b, "join_token");
	if (inv && tok)
		api_error(rep, 400, "invalid_field", "invite and join_token: give one, not both");
	else if (tok)
		join_with_token(rq, b, rep);
	else if (inv)
		api_invite_join(rq, rep);
	else
		api_error(rep, 400, "missing_field", "invite or join_token: one is required");
	json_decref(b);
}
