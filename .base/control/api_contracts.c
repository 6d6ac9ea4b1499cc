/* The contract lifecycle (issue 9 item 3): register a tenant (with its
 * first administrator and its credentials), read, renew, change and cancel
 * its contract; POST /v1/quote. Operators manage contracts (the signing
 * unit declares them, operations configure them: PRODUCT.md); a tenant
 * reads its own. */
#include "control/api.h"
#include "control/plans.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void reply(struct api_reply *rep, int status, json_t *body)
{
	json_decref(rep->body);
	rep->status = status;
	rep->body = body;
}

/* rooms and term_months of b (either may be missing: *rooms / *term keep
 * their value) checked against the price table. */
static int contract_terms(json_t *b, int *rooms, int *term, struct api_reply *rep)
{
	json_t *r = json_object_get(b, "rooms"), *t = json_object_get(b, "term_months");
	struct ctl_quote q;
	if (r && (json_integer_value(r) < 1 || json_integer_value(r) > CTL_PLAN_ROOMS_MAX)) {
		api_error(rep, 400, "invalid_field", "rooms: must be 1..%d", CTL_PLAN_ROOMS_MAX);
		return -EINVAL;
	}
	if (t && json_integer_value(t) != 1 && json_integer_value(t) != 6 &&
	    json_integer_value(t) != 12) {
		api_error(rep, 400, "invalid_field", "term_months: must be 1, 6 or 12");
		return -EINVAL;
	}
	if (r)
		*rooms = (int)json_integer_value(r);
	if (t)
		*term = (int)json_integer_value(t);
	if (ctl_plan_quote(*rooms, *term, &q)) {
		api_error(rep, 400, "missing_field", "rooms and term_months: required");
		return -EINVAL;
	}
	return 0;
}

/* POST /v1/quote {"rooms":N,"term_months":1|6|12}: any token. */
void api_quote(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "rooms", API_INT, true }, { "term_months", API_INT, true },
	};
	struct ctl_quote q;
	int rooms = 0, term = 0;
	if (rq->nparts != 1) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, "POST")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	json_t *b = api_body_object(rq, rep);
	if (b && !api_check_fields(b, "", fields, 2, rep) &&
	    !contract_terms(b, &rooms, &term, rep) && !ctl_plan_quote(rooms, term, &q))
		reply(rep, 200, ctl_quote_json(&q));
	json_decref(b);
}

/* The contract part of a registration body into k. */
static int register_contract(struct api_req *rq, json_t *b, struct ctl_contract *k,
			     struct api_reply *rep)
{
	int64_t now = ctl_now(rq->c);
	const char *plan = json_string_value(json_object_get(b, "plan"));
	json_t *until = json_object_get(b, "trial_until");
	k->starts_at = k->updated_at = now;
	snprintf(k->status, sizeof(k->status), "active");
	if (!strcmp(plan, "trial")) {
		if (json_object_get(b, "rooms") || json_object_get(b, "term_months")) {
			api_error(rep, 400, "invalid_field", "rooms, term_months: a trial has no "
				  "quota or term (only trial_until)");
			return -EINVAL;
		}
		if (until && json_integer_value(until) <= 0) {
			api_error(rep, 400, "invalid_field", "trial_until: a unix time");
			return -EINVAL;
		}
		snprintf(k->plan, sizeof(k->plan), "trial");
		k->trial_until = until ? json_integer_value(until) :
				 now + (int64_t)rq->c->cfg.trial_days * 86400;
		return 0;
	}
	if (strcmp(plan, "subscription")) {
		api_error(rep, 400, "invalid_field", "plan: \"trial\" or \"subscription\"");
		return -EINVAL;
	}
	if (until) {
		api_error(rep, 400, "invalid_field", "trial_until: only for a trial");
		return -EINVAL;
	}
	if (contract_terms(b, &k->rooms, &k->term_months, rep))
		return -EINVAL;
	snprintf(k->plan, sizeof(k->plan), "subscription");
	k->ends_at = ctl_plan_add_months(now, k->term_months);
	return 0;
}

/* POST /v1/tenants (operator): register an organisation. 201 with the
 * tenant, its contract, its first administrator account and its
 * credentials (a tenant:<id> token and the join secret, shown here). */
void api_tenant_register(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "id", API_STRING, true }, { "name", API_STRING, true },
		{ "admin", API_OBJECT, true }, { "plan", API_STRING, true },
		{ "rooms", API_INT, false }, { "term_months", API_INT, false },
		{ "trial_until", API_INT, false },
	};
	static const struct api_field admin_fields[] = {
		{ "name", API_STRING, true }, { "email", API_STRING, true },
	};
	struct ctl *c = rq->c;
	struct ctl_tenant t = { 0 };
	struct ctl_account a = { 0 };
	struct ctl_contract k = { 0 };
	char scope[CTL_SCOPE_MAX], token[CTL_TOKEN_LEN + 1], tid[CTL_ID_MAX], secret[CTL_JOIN_KEY_LEN + 1];
	json_t *b = NULL;
	int rc;

	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only an operator registers tenants");
		return;
	}
	b = api_body_object(rq, rep);
	if (!b || api_check_fields(b, "", fields, 7, rep))
		goto out;
	json_t *admin = json_object_get(b, "admin");
	const char *id = json_string_value(json_object_get(b, "id"));
	if (api_check_fields(admin, "admin.", admin_fields, 2, rep))
		goto out;
	if (ctl_name_check(id, sizeof(t.id))) {
		api_error(rep, 400, "invalid_field", "id: 1..%d of [A-Za-z0-9._-]",
			  CTL_TENANT_MAX - 1);
		goto out;
	}
	snprintf(t.id, sizeof(t.id), "%s", id);
	if (api_name_field(json_object_get(b, "name"), "name", t.name, sizeof(t.name), rep) ||
	    api_name_field(json_object_get(admin, "name"), "admin.name", a.name, sizeof(a.name),
			   rep) ||
	    api_email_field(json_object_get(admin, "email"), "admin.email", a.email,
			    sizeof(a.email), rep) ||
	    register_contract(rq, b, &k, rep))
		goto out;
	t.created_at = a.created_at = ctl_now(c);
	snprintf(a.tenant, sizeof(a.tenant), "%s", t.id);
	snprintf(a.role, sizeof(a.role), "admin");
	snprintf(k.tenant, sizeof(k.tenant), "%s", t.id);
	snprintf(scope, sizeof(scope), "tenant:%s", t.id);
	if (ctl_random(t.join_secret, sizeof(t.join_secret)) ||
	    ctl_random_id("a", 8, a.id, sizeof(a.id))) {
		api_error(rep, 500, "internal", "no randomness");
		goto out;
	}
	if (api_begin(rq, rep))
		goto out;
	rc = ctl_store_tenant_insert(c->store, &t);
	if (rc == -EEXIST) {
		ctl_store_rollback(c->store);
		api_error(rep, 409, "tenant_exists", "tenant %s is registered already", t.id);
		goto out;
	}
	if (rc || ctl_store_account_insert(c->store, &a) || ctl_store_contract_put(c->store, &k) ||
	    api_token_issue(c, scope, 0, token, sizeof(token), tid, sizeof(tid)) ||
	    ctl_tenant_event_emit(c, t.id, "contract.registered",
				  ctl_contract_json(&k, k.starts_at))) {
		ctl_store_rollback(c->store);
		api_error(rep, 500, "internal", "store: cannot register tenant");
		goto out;
	}
	if (api_commit(rq, rep))
		goto out;
	ctl_tenant_join_key(&t, secret);
	json_t *o = api_tenant_json(&t);
	json_object_set_new(o, "contract", ctl_contract_json(&k, k.starts_at));
	json_object_set_new(o, "admin", api_account_json(&a));
	json_object_set_new(o, "credentials",
			    json_pack("{s:s,s:s,s:s,s:s}", "token", token, "token_id", tid,
				      "scope", scope, "join_secret", secret));
	reply(rep, 201, o);
out:
	json_decref(b);
}

/* Write k (updated now) with a tenant event of type, its data the contract
 * and extra's members (extra stolen, may be NULL); 0 or rep set. */
static int contract_write(struct api_req *rq, struct ctl_contract *k, const char *type,
			  json_t *extra, struct api_reply *rep)
{
	json_t *data = ctl_contract_json(k, ctl_now(rq->c));
	if (extra)
		json_object_update(data, extra);
	json_decref(extra);
	if (ctl_store_contract_put(rq->c->store, k) ||
	    ctl_tenant_event_emit(rq->c, k->tenant, type, data)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot write contract");
		return -EIO;
	}
	return 0;
}

/* POST .../contract/renew {"term_months":1|6|12} (default: the current
 * term): the term is extended from its end (or from now when it is past);
 * a pending cancellation is withdrawn. */
static void contract_renew(struct api_req *rq, struct ctl_contract *k, json_t *b,
			   struct api_reply *rep)
{
	static const struct api_field fields[] = { { "term_months", API_INT, false } };
	struct ctl_quote q;
	int64_t now = ctl_now(rq->c);
	if (api_check_fields(b, "", fields, 1, rep))
		return;
	if (!strcmp(k->plan, "trial")) {
		api_error(rep, 409, "trial_contract", "tenant %s is on a trial: subscribe with "
			  "POST .../contract/change", k->tenant);
		return;
	}
	if (contract_terms(b, &k->rooms, &k->term_months, rep))
		return;
	if (!strcmp(ctl_contract_status(k, now), "cancelled")) {
		api_error(rep, 409, "contract_cancelled", "the contract of tenant %s is cancelled: "
			  "a new package starts with POST .../contract/change", k->tenant);
		return;
	}
	if (now >= k->ends_at)
		k->starts_at = now;      /* an expired contract starts over */
	k->ends_at = ctl_plan_add_months(now > k->ends_at ? now : k->ends_at, k->term_months);
	snprintf(k->status, sizeof(k->status), "active");
	k->cancel_at = 0;
	k->expiring_notified_at = 0;
	k->updated_at = now;
	ctl_plan_quote(k->rooms, k->term_months, &q);
	if (api_begin(rq, rep) ||
	    contract_write(rq, k, "contract.renewed",
			   json_pack("{s:o}", "renewal", ctl_quote_json(&q)), rep) ||
	    api_commit(rq, rep))
		return;
	reply(rep, 200, json_pack("{s:o,s:o}", "contract", ctl_contract_json(k, now), "quote",
				  ctl_quote_json(&q)));
}

/* POST .../contract/change {"rooms":..,"term_months":..}: the package
 * changes now and a new term starts now (a trial becomes a subscription:
 * both fields required then; otherwise missing ones stay). */
static void contract_change(struct api_req *rq, struct ctl_contract *k, json_t *b,
			    struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "rooms", API_INT, false }, { "term_months", API_INT, false },
	};
	struct ctl_quote q;
	int64_t now = ctl_now(rq->c);
	if (api_check_fields(b, "", fields, 2, rep))
		return;
	if (!json_object_size(b)) {
		api_error(rep, 400, "missing_field", "rooms, term_months: at least one");
		return;
	}
	if (!strcmp(k->plan, "trial"))
		k->rooms = k->term_months = 0;
	if (contract_terms(b, &k->rooms, &k->term_months, rep))
		return;
	snprintf(k->plan, sizeof(k->plan), "subscription");
	snprintf(k->status, sizeof(k->status), "active");
	k->starts_at = k->updated_at = now;
	k->ends_at = ctl_plan_add_months(now, k->term_months);
	k->cancel_at = 0;
	k->expiring_notified_at = 0;
	ctl_plan_quote(k->rooms, k->term_months, &q);
	if (api_begin(rq, rep) || contract_write(rq, k, "contract.changed", NULL, rep) ||
	    api_commit(rq, rep))
		return;
	reply(rep, 200, json_pack("{s:o,s:o}", "contract", ctl_contract_json(k, now), "quote",
				  ctl_quote_json(&q)));
}

/* POST .../contract/cancel {"when":"now"|"term_end"}: now ends the
 * tenant's running meetings at once; term_end lets the term run out (the
 * ticker ends them then). */
static void contract_cancel(struct api_req *rq, struct ctl_contract *k, json_t *b,
			    struct api_reply *rep)
{
	static const struct api_field fields[] = { { "when", API_STRING, true } };
	int64_t now = ctl_now(rq->c);
	json_t *batch = NULL;
	if (api_check_fields(b, "", fields, 1, rep))
		return;
	const char *when = json_string_value(json_object_get(b, "when"));
	bool at_once = !strcmp(when, "now");
	if (!at_once && strcmp(when, "term_end")) {
		api_error(rep, 400, "invalid_field", "when: \"now\" or \"term_end\"");
		return;
	}
	if (strcmp(ctl_contract_status(k, now), "active")) {
		api_error(rep, 409, "contract_inactive", "the contract of tenant %s is %s already",
			  k->tenant, ctl_contract_status(k, now));
		return;
	}
	if (!at_once && !strcmp(k->plan, "trial")) {
		api_error(rep, 409, "trial_contract", "a trial has no term end: cancel it now");
		return;
	}
	k->cancel_at = at_once ? now : k->ends_at;
	k->updated_at = now;
	if (at_once)
		snprintf(k->status, sizeof(k->status), "cancelled");
	if ((at_once && api_mmdp_ready(rq, rep)) || api_begin(rq, rep))
		return;
	if (at_once && ctl_plan_end_meetings(rq->c, k->tenant, "contract_ended", "operator", false,
					     &batch)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot end meetings");
		return;
	}
	if (contract_write(rq, k, "contract.cancelled", NULL, rep)) {
		json_decref(batch);
		return;
	}
	if (batch ? api_push_del_commit(rq, batch, rep) : api_commit(rq, rep))
		return;
	reply(rep, 200, json_pack("{s:o}", "contract", ctl_contract_json(k, now)));
}

/* /v1/tenants/{t}/contract[/renew|change|cancel]. */
void api_contract(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_tenant t;
	struct ctl_contract k;
	bool get = rq->nparts == 3;
	const char *act = get ? "" : rq->parts[3];
	if (!get && strcmp(act, "renew") && strcmp(act, "change") && strcmp(act, "cancel")) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, get ? "GET" : "POST")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_tenant_load(rq, rq->parts[1], !get, &t, rep))
		return;
	int rc = ctl_store_contract_get(rq->c->store, t.id, &k);
	if (rc) {
		if (rc == -ENOENT)
			api_error(rep, 404, "not_found", "tenant %s has no contract", t.id);
		else
			api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	if (get) {
		reply(rep, 200, ctl_contract_json(&k, ctl_now(rq->c)));
		return;
	}
	json_t *b = api_body_object(rq, rep);
	if (!b)
		return;
	if (!strcmp(act, "renew"))
		contract_renew(rq, &k, b, rep);
	else if (!strcmp(act, "change"))
		contract_change(rq, &k, b, rep);
	else
		contract_cancel(rq, &k, b, rep);
	json_decref(b);
}
