/* Meeting history (history.c): meeting.c's hooks record each meeting and
 * each participant's attendance; the ticker samples mmdp's counters into
 * them; a last sample is taken synchronously before an endpoint or a room
 * leaves mmdp, so that the final numbers are exact. The hooks run inside
 * the change's transaction under c->lock; 0 or a negative errno. */
#ifndef CTL_HISTORY_H
#define CTL_HISTORY_H

#include <jansson.h>

#include "control/ctl.h"

/* p was inserted into r (r->started_at set): the meeting's record (made at
 * its first join), p's attendance, the peak. */
int ctl_history_joined(struct ctl *c, const struct ctl_room *r, const struct ctl_participant *p);
/* p left r (how: left | kicked): its counters from mmdp (endpoint.get),
 * then its attendance closed. */
int ctl_history_left(struct ctl *c, const struct ctl_room *r, const struct ctl_participant *p,
		     const char *how);
/* r's meeting ends (reason as room.ended's). sample: read the room's
 * counters from mmdp first (stats.get of the room) for those still in, who
 * then leave as "ended". */
int ctl_history_end(struct ctl *c, const struct ctl_room *r, const char *reason, bool sample);
/* From the ticker (c->lock held, no transaction): every report_sample_ms,
 * one stats.get of all rooms into the live meetings and attendances. */
void ctl_history_sample(struct ctl *c);
/* The same at once, whenever the last one was (mmctld's exit: the live
 * meetings' counters as fresh as they can be). */
void ctl_history_sample_now(struct ctl *c);

/* mmdp's endpoint counters (stats.get's or endpoint.get's endpoint
 * object) as history keeps them; false when ep has none. */
bool ctl_history_counters(json_t *ep, struct ctl_hist_counters *n);
/* ctl_now in milliseconds (the bitrates' sample times). */
int64_t ctl_history_now_ms(const struct ctl *c);

#endif
