/* /v1/tenants (issue 9 item 1): organisations, their units and accounts,
 * their events; PUT/GET /v1/rooms/{room}/access (who may join a fixed room).
 * Registration and the contract are in api_contracts.c. Identity stays
 * with the meeting app: an account is a name the app's join tokens assert,
 * not a login of mmctld. */
#include "control/api.h"
#include "control/plans.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/proto/base64.h"

/* ---- shared ---- */

/* The operator, or (unless operator_only) the tenant's own token. */
static int tenants_may(const struct api_req *rq, const char *tenant, bool operator_only,
		       struct api_reply *rep)
{
	if (rq->scope.kind == CTL_SCOPE_OPERATOR ||
	    (!operator_only && rq->scope.kind == CTL_SCOPE_TENANT &&
	     !strcmp(rq->scope.tenant, tenant)))
		return 0;
	api_error(rep, 403, "forbidden", operator_only ? "only an operator may do this" :
		  "token may not access tenant %s", tenant);
	return -EPERM;
}

int api_tenant_load(struct api_req *rq, const char *id, bool operator_only,
		    struct ctl_tenant *t, struct api_reply *rep)
{
	if (tenants_may(rq, id, operator_only, rep))
		return -EPERM;
	int rc = ctl_store_tenant_get(rq->c->store, id, t);
	if (rc == -ENOENT)
		api_error(rep, 404, "not_found", "no tenant %s", id);
	else if (rc)
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
	return rc;
}

void api_b64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
	char buf[128];
	if (mm_b64_encoded_len(n) + 1 > sizeof(buf) || cap < mm_b64_encoded_len(n) + 1) {
		out[0] = 0;
		return;
	}
	mm_b64_encode(in, n, buf);
	size_t j = 0;
	for (size_t i = 0; buf[i] && buf[i] != '='; i++)
		out[j++] = buf[i] == '+' ? '-' : buf[i] == '/' ? '_' : buf[i];
	out[j] = 0;
}

json_t *api_tenant_json(const struct ctl_tenant *t)
{
	return json_pack("{s:s,s:s,s:I}", "id", t->id, "name", t->name, "created_at",
			 (json_int_t)t->created_at);
}

json_t *api_account_json(const struct ctl_account *a)
{
	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:I}", "id", a->id, "tenant", a->tenant,
			 "unit", a->unit[0] ? json_string(a->unit) : json_null(), "name", a->name,
			 "email", a->email, "role", a->role, "created_at",
			 (json_int_t)a->created_at);
}

static json_t *unit_json(const struct ctl_unit *u)
{
	return json_pack("{s:s,s:s,s:s,s:I}", "id", u->id, "tenant", u->tenant, "name", u->name,
			 "created_at", (json_int_t)u->created_at);
}

/* A name field (1..128 bytes) at path into dst. */
int api_name_field(json_t *v, const char *path, char *dst, size_t cap, struct api_reply *rep)
{
	size_t n = json_string_length(v);
	if (n == 0 || n >= cap || n >= CTL_NAME_MAX) {
		api_error(rep, 400, "invalid_field", "%s: must be 1..%d bytes", path,
			  CTL_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(dst, cap, "%s", json_string_value(v));
	return 0;
}

/* An email address (one '@' between a local part and a domain with a dot
 * after its first character, no spaces), kept in lower case so that one
 * address is one account whatever its spelling. */
int api_email_field(json_t *v, const char *path, char *dst, size_t cap, struct api_reply *rep)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	const char *at = s ? strchr(s, '@') : NULL;
	bool ok = n > 0 && n < cap && n < CTL_EMAIL_MAX && at && at != s && !strchr(at + 1, '@') &&
		  at[1] && at[1] != '.' && strchr(at + 2, '.') && s[n - 1] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] > ' ' && s[i] != 0x7f;
	if (!ok) {
		api_error(rep, 400, "invalid_field", "%s: not an email address", path);
		return -EINVAL;
	}
	for (size_t i = 0; i <= n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

static bool is(const struct api_req *rq, int n, const char *method)
{
	return rq->nparts == n && !strcmp(rq->method, method);
}

static void reply(struct api_reply *rep, int status, json_t *body)
{
	json_decref(rep->body);
	rep->status = status;
	rep->body = body;
}

/* ---- tenants ---- */

static int tenants_list_add(void *arg, const struct ctl_tenant *t)
{
	return json_array_append_new(arg, api_tenant_json(t)) ? -ENOMEM : 0;
}

static void tenants_list(struct api_req *rq, struct api_reply *rep)
{
	if (tenants_may(rq, "", true, rep))
		return;
	json_t *arr = json_array();
	int rc = ctl_store_tenant_list(rq->c->store, tenants_list_add, arr);
	if (rc) {
		json_decref(arr);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	/* Each with its contract: operators list tenants to see them. */
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		struct ctl_contract k;
		if (!ctl_store_contract_get(rq->c->store, json_string_value(json_object_get(t, "id")),
					    &k))
			json_object_set_new(t, "contract", ctl_contract_json(&k, ctl_now(rq->c)));
	}
	reply(rep, 200, json_pack("{s:o}", "tenants", arr));
}

static void tenants_get(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_tenant t;
	struct ctl_contract k;
	char secret[CTL_JOIN_KEY_LEN + 1];
	int live = 0;
	if (api_tenant_load(rq, rq->parts[1], false, &t, rep))
		return;
	json_t *o = api_tenant_json(&t);
	if (!ctl_store_contract_get(rq->c->store, t.id, &k))
		json_object_set_new(o, "contract", ctl_contract_json(&k, ctl_now(rq->c)));
	if (!ctl_store_tenant_live_meetings(rq->c->store, t.id, &live))
		json_object_set_new(o, "live_meetings", json_integer(live));
	/* The tenant's own token or the operator: the key its app signs
	 * join tokens with. */
	ctl_tenant_join_key(&t, secret);
	json_object_set_new(o, "join_secret", json_string(secret));
	reply(rep, 200, o);
}

static void tenants_update(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = { { "name", API_STRING, true } };
	struct ctl_tenant t;
	json_t *b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 1, rep) ||
	    api_tenant_load(rq, rq->parts[1], true, &t, rep) ||
	    api_name_field(json_object_get(b, "name"), "name", t.name, sizeof(t.name), rep) ||
	    api_begin(rq, rep))
		goto out;
	if (ctl_store_tenant_update(rq->c->store, &t)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot update tenant");
		goto out;
	}
	if (!api_commit(rq, rep))
		reply(rep, 200, api_tenant_json(&t));
out:
	json_decref(b);
}

/* DELETE /v1/tenants/{t}: its running meetings end, its rooms, units,
 * accounts, contract and events go, its tokens are revoked. */
static void tenants_delete(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_tenant t;
	char scope[CTL_SCOPE_MAX];
	json_t *batch = NULL;
	if (api_tenant_load(rq, rq->parts[1], true, &t, rep) || api_mmdp_ready(rq, rep) ||
	    api_begin(rq, rep))
		return;
	snprintf(scope, sizeof(scope), "tenant:%s", t.id);
	if (ctl_plan_end_meetings(c, t.id, "deleted", "operator", true, &batch) ||
	    ctl_store_token_revoke_scope(c->store, scope) || ctl_store_tenant_delete(c->store, t.id)) {
		json_decref(batch);
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot delete tenant");
		return;
	}
	if (batch ? api_push_del_commit(rq, batch, rep) : api_commit(rq, rep))
		return;
	reply(rep, 204, NULL);
}

/* ---- units ---- */

static int units_list_add(void *arg, const struct ctl_unit *u)
{
	return json_array_append_new(arg, unit_json(u)) ? -ENOMEM : 0;
}

/* Unit parts[3] of tenant t: 404 unless it is t's. */
static int unit_load(struct api_req *rq, const struct ctl_tenant *t, struct ctl_unit *u,
		     struct api_reply *rep)
{
	int rc = ctl_store_unit_get(rq->c->store, rq->parts[3], u);
	if (rc == -ENOENT || (!rc && strcmp(u->tenant, t->id))) {
		api_error(rep, 404, "not_found", "no unit %s in tenant %s", rq->parts[3], t->id);
		return -ENOENT;
	}
	if (rc)
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
	return rc;
}

static void units(struct api_req *rq, const struct ctl_tenant *t, struct api_reply *rep)
{
	static const struct api_field fields[] = { { "name", API_STRING, true } };
	struct ctl *c = rq->c;
	struct ctl_unit u = { 0 };
	json_t *b = NULL;
	int rc;

	if (is(rq, 3, "GET")) {
		json_t *arr = json_array();
		if ((rc = ctl_store_unit_list(c->store, t->id, units_list_add, arr))) {
			json_decref(arr);
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
			return;
		}
		reply(rep, 200, json_pack("{s:o}", "units", arr));
		return;
	}
	if (is(rq, 4, "GET")) {
		if (!unit_load(rq, t, &u, rep))
			reply(rep, 200, unit_json(&u));
		return;
	}
	if (is(rq, 4, "DELETE")) {
		if (unit_load(rq, t, &u, rep) || api_begin(rq, rep))
			return;
		/* Its accounts stay, in no unit; rooms stop naming it. */
		if (ctl_store_unit_delete(c->store, u.id)) {
			ctl_store_rollback(c->store);
			api_error(rep, 500, "internal", "store: cannot delete unit");
			return;
		}
		if (!api_commit(rq, rep))
			reply(rep, 204, NULL);
		return;
	}
	bool create = is(rq, 3, "POST");
	if (!create && !is(rq, 4, "PATCH")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 1, rep) || (!create && unit_load(rq, t, &u, rep)) ||
	    api_name_field(json_object_get(b, "name"), "name", u.name, sizeof(u.name), rep))
		goto out;
	if (create) {
		snprintf(u.tenant, sizeof(u.tenant), "%s", t->id);
		u.created_at = ctl_now(c);
		if (ctl_random_id("u", 8, u.id, sizeof(u.id))) {
			api_error(rep, 500, "internal", "no randomness");
			goto out;
		}
	}
	if (api_begin(rq, rep))
		goto out;
	rc = create ? ctl_store_unit_insert(c->store, &u) : ctl_store_unit_update(c->store, &u);
	if (rc) {
		ctl_store_rollback(c->store);
		if (rc == -EEXIST)
			api_error(rep, 409, "unit_exists", "tenant %s has a unit named \"%s\"", t->id,
				  u.name);
		else
			api_error(rep, 500, "internal", "store: cannot write unit");
		goto out;
	}
	if (!api_commit(rq, rep))
		reply(rep, create ? 201 : 200, unit_json(&u));
out:
	json_decref(b);
}

/* ---- accounts ---- */

static int accounts_list_add(void *arg, const struct ctl_account *a)
{
	return json_array_append_new(arg, api_account_json(a)) ? -ENOMEM : 0;
}

static int account_load(struct api_req *rq, const struct ctl_tenant *t, struct ctl_account *a,
			struct api_reply *rep)
{
	int rc = ctl_store_account_get(rq->c->store, rq->parts[3], a);
	if (rc == -ENOENT || (!rc && strcmp(a->tenant, t->id))) {
		api_error(rep, 404, "not_found", "no account %s in tenant %s", rq->parts[3], t->id);
		return -ENOENT;
	}
	if (rc)
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
	return rc;
}

/* The account fields of b into a (create: name and email required). */
int api_account_parse(struct api_req *rq, const char *tenant, json_t *b, bool create,
		      struct ctl_account *a, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "name", API_STRING, false }, { "email", API_STRING, false },
		{ "role", API_STRING, false }, { "unit", API_STRING, false },
	};
	json_t *v, *unit = json_object_get(b, "unit");
	/* "unit": null takes the account out of its unit (as "" does). */
	if (json_is_null(unit)) {
		json_object_set_new(b, "unit", json_string(""));
		unit = json_object_get(b, "unit");
	}
	if (api_check_fields(b, "", fields, 4, rep))
		return -EINVAL;
	if (create && !json_object_get(b, "name")) {
		api_error(rep, 400, "missing_field", "name: required");
		return -EINVAL;
	}
	if (create && !json_object_get(b, "email")) {
		api_error(rep, 400, "missing_field", "email: required");
		return -EINVAL;
	}
	if (!create && !json_object_size(b)) {
		api_error(rep, 400, "missing_field", "name, email, role, unit: at least one");
		return -EINVAL;
	}
	if ((v = json_object_get(b, "name")) &&
	    api_name_field(v, "name", a->name, sizeof(a->name), rep))
		return -EINVAL;
	if ((v = json_object_get(b, "email")) &&
	    api_email_field(v, "email", a->email, sizeof(a->email), rep))
		return -EINVAL;
	if (create)
		snprintf(a->role, sizeof(a->role), "user");
	if ((v = json_object_get(b, "role"))) {
		const char *r = json_string_value(v);
		if (strcmp(r, "admin") && strcmp(r, "user")) {
			api_error(rep, 400, "invalid_field", "role: \"admin\" or \"user\"");
			return -EINVAL;
		}
		snprintf(a->role, sizeof(a->role), "%s", r);
	}
	if (unit) {
		struct ctl_unit u;
		const char *id = json_string_value(unit);
		int rc = id[0] ? ctl_store_unit_get(rq->c->store, id, &u) : 0;
		if (rc == -ENOENT || (!rc && id[0] && strcmp(u.tenant, tenant))) {
			api_error(rep, 400, "invalid_field", "unit: no unit %s in tenant %s", id,
				  tenant);
			return -EINVAL;
		}
		if (rc) {
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
			return rc;
		}
		snprintf(a->unit, sizeof(a->unit), "%s", id);
	}
	return 0;
}

/* A tenant keeps at least one administrator (its contact). */
static int accounts_keep_admin(struct api_req *rq, const char *tenant, struct api_reply *rep)
{
	int n = 0;
	int rc = ctl_store_account_admins(rq->c->store, tenant, &n);
	if (rc) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	if (n < 1) {
		api_error(rep, 409, "last_admin", "tenant %s must keep an administrator account",
			  tenant);
		return -EPERM;
	}
	return 0;
}

static void accounts(struct api_req *rq, const struct ctl_tenant *t, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_account a = { 0 };
	json_t *b = NULL;
	int rc;

	if (is(rq, 3, "GET")) {
		const char *unit = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
							       "unit");
		json_t *arr = json_array();
		if ((rc = ctl_store_account_list(c->store, t->id, unit, accounts_list_add, arr))) {
			json_decref(arr);
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
			return;
		}
		reply(rep, 200, json_pack("{s:o}", "accounts", arr));
		return;
	}
	if (is(rq, 4, "GET")) {
		if (!account_load(rq, t, &a, rep))
			reply(rep, 200, api_account_json(&a));
		return;
	}
	if (is(rq, 4, "DELETE")) {
		if (account_load(rq, t, &a, rep) || api_begin(rq, rep))
			return;
		if ((rc = ctl_store_account_delete(c->store, a.id))) {
			ctl_store_rollback(c->store);
			api_error(rep, 500, "internal", "store: cannot delete account");
			return;
		}
		if (accounts_keep_admin(rq, t->id, rep)) {
			ctl_store_rollback(c->store);
			return;
		}
		if (!api_commit(rq, rep))
			reply(rep, 204, NULL);
		return;
	}
	bool create = is(rq, 3, "POST");
	if (!create && !is(rq, 4, "PATCH")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	b = api_body_object(rq, rep);
	if (!b || (!create && account_load(rq, t, &a, rep)) ||
	    api_account_parse(rq, t->id, b, create, &a, rep))
		goto out;
	if (create) {
		snprintf(a.tenant, sizeof(a.tenant), "%s", t->id);
		a.created_at = ctl_now(c);
		if (ctl_random_id("a", 8, a.id, sizeof(a.id))) {
			api_error(rep, 500, "internal", "no randomness");
			goto out;
		}
	}
	if (api_begin(rq, rep))
		goto out;
	rc = create ? ctl_store_account_insert(c->store, &a) : ctl_store_account_update(c->store, &a);
	if (rc) {
		ctl_store_rollback(c->store);
		if (rc == -EEXIST)
			api_error(rep, 409, "email_taken", "tenant %s has an account with email %s",
				  t->id, a.email);
		else
			api_error(rep, 500, "internal", "store: cannot write account");
		goto out;
	}
	if (!create && accounts_keep_admin(rq, t->id, rep)) {
		ctl_store_rollback(c->store);
		goto out;
	}
	if (!api_commit(rq, rep))
		reply(rep, create ? 201 : 200, api_account_json(&a));
out:
	json_decref(b);
}

/* ---- tenant events ---- */

static int events_add(void *arg, const struct ctl_tenant_event *e)
{
	json_t *o = json_loads(e->data, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "type", json_string(e->type));
	json_object_set_new(o, "at", json_integer(e->at));
	return json_array_append_new(arg, o) ? -ENOMEM : 0;
}

/* GET /v1/tenants/{t}/events?since=&type=&limit=: contract.expiring,
 * contract.ended, ... oldest first. */
static void tenant_events(struct api_req *rq, const struct ctl_tenant *t, struct api_reply *rep)
{
	int64_t since, limit;
	if (!is(rq, 3, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_query_int(rq, "since", 0, 0, INT64_MAX, &since, rep) ||
	    api_query_int(rq, "limit", 100, 1, 1000, &limit, rep))
		return;
	const char *type = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "type");
	json_t *arr = json_array();
	int rc = ctl_store_tenant_event_list(rq->c->store, t->id, since, type, (int)limit,
					     events_add, arr);
	if (rc) {
		json_decref(arr);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	reply(rep, 200, json_pack("{s:o}", "events", arr));
}

void api_tenants(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_tenant t;
	const char *sub = rq->nparts >= 3 ? rq->parts[2] : "";
	if (is(rq, 1, "GET"))
		tenants_list(rq, rep);
	else if (is(rq, 1, "POST"))
		api_tenant_register(rq, rep);
	else if (is(rq, 2, "GET"))
		tenants_get(rq, rep);
	else if (is(rq, 2, "PATCH"))
		tenants_update(rq, rep);
	else if (is(rq, 2, "DELETE"))
		tenants_delete(rq, rep);
	else if (rq->nparts <= 2)
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
	else if (!strcmp(sub, "contract") && rq->nparts <= 4)
		api_contract(rq, rep);
	else if (rq->nparts > 4 || (strcmp(sub, "units") && strcmp(sub, "accounts") &&
				    strcmp(sub, "events")) ||
		 (!strcmp(sub, "events") && rq->nparts != 3))
		api_error(rep, 404, "not_found", "no such resource");
	else if (api_tenant_load(rq, rq->parts[1], false, &t, rep))
		return;
	else if (!strcmp(sub, "units"))
		units(rq, &t, rep);
	else if (!strcmp(sub, "accounts"))
		accounts(rq, &t, rep);
	else
		tenant_events(rq, &t, rep);
}

/* ---- fixed rooms' access ---- */

struct access_arg {
	json_t *units, *accounts;
};

static int access_add(void *arg, const char *kind, const char *ref)
{
	struct access_arg *a = arg;
	return json_array_append_new(!strcmp(kind, "unit") ? a->units : a->accounts,
				     json_string(ref)) ? -ENOMEM : 0;
}

static json_t *access_json(struct ctl *c, const struct ctl_room *r)
{
	struct access_arg a = { json_array(), json_array() };
	if (ctl_store_room_access_list(c->store, r->id, access_add, &a)) {
		json_decref(a.units);
		json_decref(a.accounts);
		return NULL;
	}
	bool restricted = json_array_size(a.units) || json_array_size(a.accounts);
	return json_pack("{s:s,s:o,s:o,s:b}", "room", r->id, "units", a.units, "accounts",
			 a.accounts, "restricted", restricted);
}

/* The ids of array arr (field name) into ids (at most cap): each must be
 * a unit / account of tenant. */
static int access_ids(struct api_req *rq, json_t *arr, const char *name, const char *tenant,
		      const char **ids, size_t cap, size_t *n, struct api_reply *rep)
{
	size_t i;
	json_t *v;
	bool unit = !strcmp(name, "units");
	*n = 0;
	if (json_array_size(arr) > cap) {
		api_error(rep, 400, "invalid_field", "%s: at most %zu", name, cap);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		const char *id = json_string_value(v);
		char owner[CTL_TENANT_MAX] = "";
		int rc = -ENOENT;
		if (id && unit) {
			struct ctl_unit u;
			if (!(rc = ctl_store_unit_get(rq->c->store, id, &u)))
				snprintf(owner, sizeof(owner), "%s", u.tenant);
		} else if (id) {
			struct ctl_account a;
			if (!(rc = ctl_store_account_get(rq->c->store, id, &a)))
				snprintf(owner, sizeof(owner), "%s", a.tenant);
		}
		if (!id) {
			api_error(rep, 400, "invalid_field", "%s[%zu]: must be a string", name, i);
			return -EINVAL;
		}
		if (rc == -ENOENT || (!rc && strcmp(owner, tenant))) {
			api_error(rep, 400, "invalid_field", "%s[%zu]: no %s %s in tenant %s", name, i,
				  unit ? "unit" : "account", id, tenant);
			return -EINVAL;
		}
		if (rc) {
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
			return rc;
		}
		ids[(*n)++] = id;
	}
	return 0;
}

#define ACCESS_MAX 1000

/* GET / PUT /v1/rooms/{room}/access {"units":[..],"accounts":[..]}: who may
 * join a fixed room of a registered tenant (both empty: anyone the tenant
 * lets in). Operator or the room's tenant. */
void api_room_access(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "units", API_ARRAY, false }, { "accounts", API_ARRAY, false },
	};
	static const char *units[ACCESS_MAX], *accts[ACCESS_MAX];
	struct ctl_room r;
	struct ctl_tenant t;
	size_t nu = 0, na = 0;
	json_t *b = NULL;
	bool put = !strcmp(rq->method, "PUT");

	if (!put && strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_room_load(rq, put, &r, rep))
		return;
	if (!put) {
		json_t *o = access_json(rq->c, &r);
		if (o)
			reply(rep, 200, o);
		else
			api_error(rep, 500, "internal", "store: cannot read access");
		return;
	}
	if (strcmp(r.kind, "fixed")) {
		api_error(rep, 409, "not_fixed", "room %s is not a fixed room", r.id);
		return;
	}
	if (!r.tenant[0] || ctl_store_tenant_get(rq->c->store, r.tenant, &t)) {
		api_error(rep, 409, "tenant_not_registered", "room %s is not of a registered "
			  "tenant (its units and accounts)", r.id);
		return;
	}
	b = api_body_object(rq, rep);
	/* units/accts point into b: static only for their size, under c->lock. */
	if (!b || api_check_fields(b, "", fields, 2, rep) ||
	    access_ids(rq, json_object_get(b, "units"), "units", r.tenant, units, ACCESS_MAX, &nu,
		       rep) ||
	    access_ids(rq, json_object_get(b, "accounts"), "accounts", r.tenant, accts, ACCESS_MAX,
		       &na, rep) ||
	    api_begin(rq, rep))
		goto out;
	if (ctl_store_room_access_set(rq->c->store, r.id, units, nu, accts, na)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot write access");
		goto out;
	}
	json_t *o = access_json(rq->c, &r);
	if (!o) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot read access");
		goto out;
	}
	if (api_commit(rq, rep))
		json_decref(o);
	else
		reply(rep, 200, o);
out:
	json_decref(b);
}
