/* Plans (issue 9 item 2): the price table, quotes, contract terms, and
 * their enforcement at the media plane: who may start a meeting (the join
 * path) and which meetings end (the ticker). */
#ifndef CTL_PLANS_H
#define CTL_PLANS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "control/api.h"

#define CTL_PLAN_PARTICIPANTS_MAX 100     /* hard limit of every meeting */
#define CTL_PLAN_TRIAL_MEETING_SECS (40 * 60) /* a meeting after trial_until */
#define CTL_PLAN_EXPIRING_SECS (30 * 86400)   /* contract.expiring this early */
#define CTL_PLAN_ROOMS_MAX 100000         /* a quote's sanity bound */

struct ctl_quote {
	const char *tier;                 /* "1-4" | "5-10" | "11+" */
	int64_t price_per_room_month;     /* VND */
	int months;                       /* 1 | 6 | 12 */
	int rooms;
	int64_t total;                    /* rooms * months * price */
};

/* The quote of a contract of rooms (1..CTL_PLAN_ROOMS_MAX) for a term of
 * term_months (1, 6 or 12): -EINVAL for anything else. */
int ctl_plan_quote(int rooms, int term_months, struct ctl_quote *q);
json_t *ctl_quote_json(const struct ctl_quote *q);
/* t + months calendar months (UTC), the day clamped to the month's last. */
int64_t ctl_plan_add_months(int64_t t, int months);
/* The contract's status as of now: "active" until its end or its
 * cancellation takes effect (even before the ticker wrote it). */
const char *ctl_contract_status(const struct ctl_contract *k, int64_t now);
json_t *ctl_contract_json(const struct ctl_contract *k, int64_t now);

/* Join path (api_join_room, in its transaction, n participants in r now):
 * the 100-participant limit of every meeting, and for a room of a
 * registered tenant starting a meeting: an active contract (403
 * contract_inactive) and, on a subscription, a free room of its quota
 * (403 quota_exceeded). Rooms of unregistered tenants and operator rooms
 * have no plan. 0, or rep set. */
int api_plan_admit(struct api_req *rq, const struct ctl_room *r, int n, struct api_reply *rep);

/* End every live meeting of tenant (every room of it when delete_rooms),
 * inside the caller's transaction: *batch the mmdp change (NULL when no
 * room was touched). */
int ctl_plan_end_meetings(struct ctl *c, const char *tenant, const char *reason, const char *by,
			  bool delete_rooms, json_t **batch);
/* Append a tenant event (data stolen), inside the caller's transaction. */
int ctl_tenant_event_emit(struct ctl *c, const char *tenant, const char *type, json_t *data);

/* The ticker (main.c, every second, under c->lock, no transaction open):
 * trial meetings past their 40 minutes, contracts past their end or their
 * cancellation, contract.expiring 30 days before a term's end. */
void ctl_plans_tick(struct ctl *c);

#endif
