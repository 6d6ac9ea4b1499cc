/* Plans: the price table (PRODUCT.md "Prices", in this one place),
 * quotes, contract terms, and their enforcement: the join path asks
 * api_plan_admit before a participant goes in, the ticker ends the meetings
 * a plan no longer allows (ctl_plans_tick). */
#include "control/plans.h"
#include "common/log.h"

#include "control/webhook.h"

#include "control/meeting.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Price per room per month (VND) by the contract's number of rooms (the
 * tier: every room at that tier's price) and its term. */
static const int PLAN_TERMS[3] = { 1, 6, 12 };
static const struct {
	int lo, hi;                 /* rooms */
	const char *name;
	int64_t price[3];           /* by PLAN_TERMS */
} PLAN_TIERS[] = {
	{ 1, 4, "1-4", { 500000, 450000, 400000 } },
	{ 5, 10, "5-10", { 450000, 400000, 350000 } },
	{ 11, INT_MAX, "11+", { 400000, 350000, 300000 } },
};

int ctl_plan_quote(int rooms, int term_months, struct ctl_quote *q)
{
	int t;
	for (t = 0; t < 3 && PLAN_TERMS[t] != term_months; t++)
		;
	if (t == 3 || rooms < 1 || rooms > CTL_PLAN_ROOMS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(PLAN_TIERS) / sizeof(PLAN_TIERS[0]); i++) {
		if (rooms < PLAN_TIERS[i].lo || rooms > PLAN_TIERS[i].hi)
			continue;
		q->tier = PLAN_TIERS[i].name;
		q->price_per_room_month = PLAN_TIERS[i].price[t];
		q->months = term_months;
		q->rooms = rooms;
		q->total = q->price_per_room_month * rooms * term_months;
		return 0;
	}
	return -EINVAL;
}

json_t *ctl_quote_json(const struct ctl_quote *q)
{
	return json_pack("{s:s,s:s,s:I,s:i,s:i,s:I}", "currency", "VND", "tier", q->tier,
			 "price_per_room_month", (json_int_t)q->price_per_room_month,
			 "months", q->months, "rooms", q->rooms, "total", (json_int_t)q->total);
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t ctl_plan_add_months(int64_t t, int months)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int m = tm.tm_mon + months;
	tm.tm_year += m / 12;
	tm.tm_mon = m % 12;
	/* Jan 31 + 1 month is the end of February, not early March. */
	int dim = mdays[tm.tm_mon] + (tm.tm_mon == 1 && leap(tm.tm_year + 1900));
	if (tm.tm_mday > dim)
		tm.tm_mday = dim;
	return (int64_t)timegm(&tm);
}

const char *ctl_contract_status(const struct ctl_contract *k, int64_t now)
{
	if (strcmp(k->status, "active"))
		return k->status;
	if (k->cancel_at && now >= k->cancel_at)
		return "cancelled";
	if (!strcmp(k->plan, "subscription") && now >= k->ends_at)
		return "expired";
	return "active";
}

json_t *ctl_contract_json(const struct ctl_contract *k, int64_t now)
{
	bool trial = !strcmp(k->plan, "trial");
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "tenant", k->tenant, "plan", k->plan,
			      "status", ctl_contract_status(k, now), "starts_at",
			      (json_int_t)k->starts_at, "updated_at", (json_int_t)k->updated_at);
	json_t *lim = json_pack("{s:i}", "participants", CTL_PLAN_PARTICIPANTS_MAX);
	if (trial) {
		json_object_set_new(o, "trial_until", json_integer(k->trial_until));
		/* After trial_until every meeting is limited. */
		json_object_set_new(lim, "meeting_minutes",
				    now >= k->trial_until ?
				    json_integer(CTL_PLAN_TRIAL_MEETING_SECS / 60) : json_null());
		json_object_set_new(lim, "concurrent_meetings", json_null());
	} else {
		struct ctl_quote q;
		json_object_set_new(o, "rooms", json_integer(k->rooms));
		json_object_set_new(o, "term_months", json_integer(k->term_months));
		json_object_set_new(o, "ends_at", json_integer(k->ends_at));
		if (!ctl_plan_quote(k->rooms, k->term_months, &q))
			json_object_set_new(o, "quote", ctl_quote_json(&q));
		json_object_set_new(lim, "meeting_minutes", json_null());
		json_object_set_new(lim, "concurrent_meetings", json_integer(k->rooms));
	}
	json_object_set_new(o, "limits", lim);
	if (k->cancel_at)
		json_object_set_new(o, "cancel_at", json_integer(k->cancel_at));
	if (k->expiring_notified_at)
		json_object_set_new(o, "expiring_notified_at",
				    json_integer(k->expiring_notified_at));
	return o;
}

int api_plan_admit(struct api_req *rq, const struct ctl_room *r, int n, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	struct ctl_contract k;
	struct ctl_tenant t;
	int live = 0;

	/* Capacity is at most 100 already; this holds whatever a room says. */
	if (n >= CTL_PLAN_PARTICIPANTS_MAX) {
		api_error(rep, 409, "room_full", "a meeting has at most %d participants",
			  CTL_PLAN_PARTICIPANTS_MAX);
		return -ENOSPC;
	}
	if (!r->tenant[0])
		return 0;
	int rc = ctl_store_contract_get(c->store, r->tenant, &k);
	if (rc == -ENOENT) {
		/* A tenant that was never registered (legacy tenant tokens):
		 * no plan applies. */
		rc = ctl_store_tenant_get(c->store, r->tenant, &t);
		if (rc == -ENOENT)
			return 0;
		if (!rc) {
			api_error(rep, 403, "contract_inactive", "tenant %s has no contract",
				  r->tenant);
			return -EPERM;
		}
	}
	if (rc) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	const char *st = ctl_contract_status(&k, ctl_now(c));
	if (strcmp(st, "active")) {
		api_error(rep, 403, "contract_inactive", "the contract of tenant %s is %s",
			  r->tenant, st);
		return -EPERM;
	}
	if (r->started_at || n > 0 || strcmp(k.plan, "subscription"))
		return 0;
	/* A meeting would start: the subscription's rooms are the quota of
	 * concurrent meetings. */
	if ((rc = ctl_store_tenant_live_meetings(c->store, r->tenant, &live))) {
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return rc;
	}
	if (live >= k.rooms) {
		api_error(rep, 403, "quota_exceeded", "tenant %s has %d live meetings: its quota "
			  "of concurrent meetings (the contract's rooms) is %d", r->tenant, live,
			  k.rooms);
		return -EDQUOT;
	}
	return 0;
}

struct plan_rooms {
	struct ctl_room *v;
	size_t n, cap;
	bool all;                   /* every room, not only live ones */
};

static int plan_rooms_add(void *arg, const struct ctl_room *r)
{
	struct plan_rooms *pr = arg;
	if (!pr->all && !r->started_at)
		return 0;
	if (pr->n == pr->cap) {
		size_t cap = pr->cap ? 2 * pr->cap : 8;
		struct ctl_room *v = realloc(pr->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pr->v = v;
		pr->cap = cap;
	}
	pr->v[pr->n++] = *r;
	return 0;
}

/* Add mmdp change req (stolen) to the batch *batch (made on first use):
 * a batch's own ops are flattened into it. */
static int plan_batch_add(json_t **batch, json_t *req)
{
	if (!req)
		return -ENOMEM;
	if (!*batch && !(*batch = json_pack("{s:s,s:[]}", "op", "batch", "ops"))) {
		json_decref(req);
		return -ENOMEM;
	}
	json_t *ops = json_object_get(*batch, "ops");
	int rc = 0;
	if (!strcmp(json_string_value(json_object_get(req, "op")), "batch"))
		rc = json_array_extend(ops, json_object_get(req, "ops"));
	else
		rc = json_array_append(ops, req);
	json_decref(req);
	return rc ? -ENOMEM : 0;
}

/* End the meetings of rooms v[0..n) (delete_rooms: and the rooms). */
static int plan_end_rooms(struct ctl *c, struct ctl_room *v, size_t n, const char *reason,
			  const char *by, bool delete_rooms, json_t **batch)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		json_t *req = NULL;
		rc = ctl_meeting_end(c, &v[i], reason, by, delete_rooms, &req);
		if (!rc)
			rc = plan_batch_add(batch, req);
	}
	return rc;
}

int ctl_plan_end_meetings(struct ctl *c, const char *tenant, const char *reason, const char *by,
			  bool delete_rooms, json_t **batch)
{
	struct plan_rooms pr = { .all = delete_rooms };
	*batch = NULL;
	int rc = ctl_store_room_list(c->store, tenant, plan_rooms_add, &pr);
	if (!rc)
		rc = plan_end_rooms(c, pr.v, pr.n, reason, by, delete_rooms, batch);
	free(pr.v);
	if (rc) {
		json_decref(*batch);
		*batch = NULL;
	}
	return rc;
}

int ctl_tenant_event_emit(struct ctl *c, const char *tenant, const char *type, json_t *data)
{
	struct ctl_tenant_event e = { .at = ctl_now(c) };
	if (!data)
		return -ENOMEM;
	e.data = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!e.data)
		return -ENOMEM;
	snprintf(e.tenant, sizeof(e.tenant), "%s", tenant);
	snprintf(e.type, sizeof(e.type), "%s", type);
	int rc = ctl_store_tenant_event_insert(c->store, &e);
	free(e.data);
	return rc;
}

struct plan_contracts {
	struct ctl_contract *v;
	size_t n, cap;
};

static int plan_contracts_add(void *arg, const struct ctl_contract *k)
{
	struct plan_contracts *pc = arg;
	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? 2 * pc->cap : 8;
		struct ctl_contract *v = realloc(pc->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pc->v = v;
		pc->cap = cap;
	}
	pc->v[pc->n++] = *k;
	return 0;
}

/* What the ticker does for one contract, in one transaction: end the
 * meetings its plan no longer allows, write a status its end or its
 * cancellation reached, raise contract.expiring once per term. */
static void plans_tick_one(struct ctl *c, struct ctl_contract *k, int64_t now)
{
	const char *st = ctl_contract_status(k, now);
	bool active = !strcmp(st, "active"), trial = !strcmp(k->plan, "trial");
	bool ended = strcmp(st, k->status) != 0;
	bool expiring = active && !trial && !k->cancel_at && !k->expiring_notified_at &&
			k->ends_at - now <= CTL_PLAN_EXPIRING_SECS;
	struct plan_rooms live = { 0 };
	json_t *batch = NULL;
	const char *reason = active ? "time_limit" : "contract_ended";
	size_t n = 0;
	int rc;

	if (ctl_store_room_list(c->store, k->tenant, plan_rooms_add, &live))
		goto out;
	for (size_t i = 0; i < live.n; i++) {
		struct ctl_room *r = &live.v[i];
		/* A trial's meeting runs 40 minutes from its start or from
		 * trial_until, whichever is later: one running when the trial
		 * ends is not cut off at once. */
		int64_t from = r->started_at > k->trial_until ? r->started_at : k->trial_until;
		if (!active || (trial && now >= k->trial_until &&
				now - from >= CTL_PLAN_TRIAL_MEETING_SECS))
			live.v[n++] = *r;
	}
	if (!n && !ended && !expiring)
		goto out;
	if (ctl_store_begin(c->store))
		goto out;
	rc = plan_end_rooms(c, live.v, n, reason, "plan", false, &batch);
	if (!rc && ended) {
		snprintf(k->status, sizeof(k->status), "%s", st);
		k->updated_at = now;
		rc = ctl_store_contract_put(c->store, k);
		if (!rc)
			rc = ctl_tenant_event_emit(c, k->tenant, "contract.ended",
						   json_pack("{s:s,s:s}", "tenant", k->tenant,
							     "status", st));
	}
	if (!rc && expiring) {
		k->expiring_notified_at = now;
		rc = ctl_store_contract_put(c->store, k);
		json_t *data = json_pack("{s:s,s:I,s:I,s:i,s:i}", "tenant", k->tenant, "ends_at",
					 (json_int_t)k->ends_at, "days_left",
					 (json_int_t)((k->ends_at - now + 86399) / 86400), "rooms",
					 k->rooms, "term_months", k->term_months);
		if (!rc)
			rc = ctl_tenant_event_emit(c, k->tenant, "contract.expiring",
						   json_deep_copy(data));
		/* The integrating systems hear of it in the same transaction. */
		if (!rc)
			rc = ctl_webhook_emit(c, k->tenant, "contract.expiring", data);
		else
			json_decref(data);
	}
	if (!rc)
		rc = ctl_store_commit(c->store);
	if (rc) {
		ctl_store_rollback(c->store);
		json_decref(batch);
		mm_err("plans_tick_failed", "tenant=%s error=%s", mm_q(k->tenant), mm_q(strerror(-rc)));
		goto out;
	}
	if (n)
		mm_info("plans_ended_meetings", "tenant=%s meetings=%zu reason=%s", mm_q(k->tenant), n,
			reason);
	if (batch) {
		char err[400];
		/* Committed: mmdp follows now, or from state.sync when it is
		 * away (or refuses: then its state is resynced). */
		if (ctl_sync_push(c, batch, err, sizeof(err)) == CTL_PUSH_REFUSED) {
			mm_warn("plans_mmdp_refused", "error=%s", mm_q(err));
			ctl_mmdp_close(&c->mmdp);
		}
	}
out:
	free(live.v);
}

void ctl_plans_tick(struct ctl *c)
{
	struct plan_contracts pc = { 0 };
	int64_t now = ctl_now(c);
	if (ctl_store_contract_list(c->store, plan_contracts_add, &pc) == 0)
		for (size_t i = 0; i < pc.n; i++)
			plans_tick_one(c, &pc.v[i], now);
	free(pc.v);
	if (c->events_dirty)
		ctl_sse_wake(c);
}
