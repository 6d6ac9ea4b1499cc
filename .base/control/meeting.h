/* A room's meeting lifecycle (meeting.c): it starts with the first join
 * into an empty room and ends with POST .../end, DELETE of the room, the
 * last participant leaving, or a plan's limit. Each function runs inside
 * the change's transaction with c->lock held; 0 or a negative errno. */
#ifndef CTL_MEETING_H
#define CTL_MEETING_H

#include <jansson.h>
#include <stdbool.h>

#include "control/ctl.h"

/* p was just inserted into r: starts the meeting when none is live
 * (r->started_at set). */
int ctl_meeting_joined(struct ctl *c, struct ctl_room *r, const struct ctl_participant *p);
/* p was just deleted from r (how: "left" or "kicked"): the meeting ends
 * when nobody is left (r->started_at = 0; the room stays). */
int ctl_meeting_left(struct ctl *c, struct ctl_room *r, const struct ctl_participant *p,
		     const char *how);
/* End r's meeting (reason: "ended", "deleted", "time_limit", "contract",
 * ...; by: who, for the room.ended event): every participant's token
 * revoked, event room.ended; a fixed room is emptied for its next meeting
 * unless delete_room, any other room deleted. *mmdp_req is the change for
 * mmdp (push it with api_push_commit or ctl_sync_push after the commit). */
int ctl_meeting_end(struct ctl *c, struct ctl_room *r, const char *reason, const char *by,
		    bool delete_room, json_t **mmdp_req);

#endif
