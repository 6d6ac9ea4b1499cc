/* A room's meeting, from its first join to its end: the one place where a
 * meeting starts and ends, whichever way it ends (POST .../end, DELETE of
 * the room, the last participant leaving, a plan's limit), so that what
 * follows a meeting (its history, webhooks, plan limits) hooks in here.
 * Every function runs inside the change's transaction, under c->lock. */
#include "control/meeting.h"

#include "control/api.h"
#include "control/history.h"
#include "control/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ctl_meeting_joined(struct ctl *c, struct ctl_room *r, const struct ctl_participant *p)
{
	(void)p;
	int wrc = ctl_webhook_on_joined(c, r, p);  /* before started_at is set */
	if (wrc || r->started_at)
		return wrc ? wrc : ctl_history_joined(c, r, p);
	/* The first participant of an empty room: the meeting starts. */
	r->started_at = p->joined_at ? p->joined_at : ctl_now(c);
	int rc = ctl_store_room_set_started(c->store, r->id, r->started_at);
	return rc ? rc : ctl_history_joined(c, r, p);
}

int ctl_meeting_left(struct ctl *c, struct ctl_room *r, const struct ctl_participant *p,
		     const char *how)
{
	int n = 0;
	(void)p;
	(void)how;
	int rc = ctl_webhook_on_left(c, r, p, how);
	if (!rc)
		rc = ctl_history_left(c, r, p, how);
	if (!rc)
		rc = ctl_store_participant_count(c->store, r->id, &n);
	if (rc || n > 0 || !r->started_at)
		return rc;
	/* The last one left: the meeting is over (the room stays). */
	r->started_at = 0;
	rc = ctl_history_end(c, r, "empty", false);
	return rc ? rc : ctl_store_room_set_started(c->store, r->id, 0);
}

int ctl_meeting_end(struct ctl *c, struct ctl_room *r, const char *reason, const char *by,
		    bool delete_room, json_t **mmdp_req)
{
	char prefix[CTL_SCOPE_MAX];
	bool keep = !delete_room && !strcmp(r->kind, "fixed");

	*mmdp_req = NULL;
	snprintf(prefix, sizeof(prefix), "participant:%s/", r->id);
	int rc = ctl_webhook_on_end(c, r, reason, by);  /* while they are still in */
	if (!rc)
		rc = ctl_history_end(c, r, reason, true);
	if (!rc)
		rc = ctl_store_token_revoke_prefix(c->store, prefix);
	if (!rc)
		rc = ctl_event_emit(c, r, "room.ended",
				    json_pack("{s:s,s:s}", "by", by, "reason", reason), NULL, NULL,
				    NULL);
	if (!rc && keep) {
		/* The meeting's events stay (its history); the room's next
		 * meeting starts empty. */
		rc = ctl_store_room_clear(c->store, r->id);
		if (!rc)
			rc = ctl_store_room_next_meeting(c->store, r->id);
		if (!rc)
			rc = ctl_store_room_set_started(c->store, r->id, 0);
	} else if (!rc) {
		rc = ctl_store_room_delete(c->store, r->id);
	}
	if (rc)
		return rc;
	r->started_at = 0;
	*mmdp_req = keep ?
		json_pack("{s:s,s:[{s:s,s:s},o]}", "op", "batch", "ops", "op", "room.del", "room",
			  r->id, api_room_put(r)) :
		json_pack("{s:s,s:s}", "op", "room.del", "room", r->id);
	return *mmdp_req ? 0 : -ENOMEM;
}
