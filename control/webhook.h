/* Webhooks (webhook.c, api_webhooks.c; docs/api.md "Webhooks"): events of
 * meetings and contracts POSTed, signed with HMAC-SHA256, to the URLs that
 * integrating systems registered. A transactional outbox: an event becomes
 * delivery rows inside its change's transaction, and a thread of its own
 * sends them with libcurl, never holding c->lock while it waits on a
 * receiver, retrying with exponential backoff. */
#ifndef CTL_WEBHOOK_H
#define CTL_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>

#include "control/ctl.h"

#define CTL_WEBHOOK_CONNECT_MS 2000   /* a receiver's connect timeout */
#define CTL_WEBHOOK_TIMEOUT_MS 5000   /* and its whole answer's */
#define CTL_WEBHOOK_BACKOFF_MAX_MS (3600 * 1000) /* retries at least hourly */

/* The event types ("*" in a webhook's list: all of them), NULL-ended. */
extern const char *const ctl_webhook_types[];

/* Queue event `type` of tenant ("" = an operator-owned room: only operator
 * webhooks get it) for every webhook that wants it. data is stolen. Call
 * inside the change's transaction with c->lock held: the deliveries commit
 * or roll back with the change. No I/O; wakes the delivery thread.
 * -EINVAL for a type not in ctl_webhook_types. */
int ctl_webhook_emit(struct ctl *c, const char *tenant, const char *type, json_t *data);

/* The meeting lifecycle's events (called from control/meeting.c, in its
 * transaction). joined: before r->started_at is set (0: this join starts the
 * meeting: also meeting.started). left: after p's delete (nobody left in a
 * live meeting: also meeting.ended, reason "empty"). end: before anyone is
 * removed: participant.left for each one still in, then meeting.ended. */
int ctl_webhook_on_joined(struct ctl *c, const struct ctl_room *r,
			  const struct ctl_participant *p);
int ctl_webhook_on_left(struct ctl *c, const struct ctl_room *r,
			const struct ctl_participant *p, const char *how);
int ctl_webhook_on_end(struct ctl *c, const struct ctl_room *r, const char *reason,
		       const char *by);

/* The delivery thread: started before the API serves, stopped after it
 * stopped (a delivery in flight is abandoned and sent again next start). */
int ctl_webhook_start(struct ctl *c);
void ctl_webhook_stop(void);
/* Before the stop (mmctld's exit): give the deliveries the last changes
 * queued their first attempt, waiting up to ms (the thread sends them;
 * called without c->lock). Returns how many webhooks still have one
 * untried (they go after the restart), -1 when the outbox cannot be read. */
int ctl_webhook_flush(struct ctl *c, int ms);

/* "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" into out (at least
 * 96 bytes). */
int ctl_webhook_sign(const char *secret, int64_t t, const char *body, char *out, size_t cap);

#endif
