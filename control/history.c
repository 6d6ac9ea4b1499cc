/* Meeting history: one record per meeting and one per join, filled from
 * meeting.c's hooks, with mmdp's per-endpoint counters sampled by the
 * ticker (one stats.get of every room per sample) and read once more,
 * synchronously, just before mmdp forgets the endpoint (a leave or a kick:
 * endpoint.get) or the room (the meeting's end: stats.get of the room).
 * mmdp's endpoint names are our participant ids and its room names our
 * room ids (ctl_sync_endpoint_json), so its answers need no translation. */
#include "control/history.h"

#include "control/auth.h"
#include "control/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ctl_history_now_ms(const struct ctl *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* ctl_now's offset, on a clock read once (two reads could straddle a
	 * second and step back). */
	int64_t off = __atomic_load_n(&c->clock_offset, __ATOMIC_RELAXED);
	return ((int64_t)ts.tv_sec + off) * 1000 + ts.tv_nsec / 1000000;
}

/* The RTP clock of a stream of mmdp's stats (its kind and codec): jitter
 * is in its units. */
static int64_t hist_clock(json_t *st)
{
	const char *kind = json_string_value(json_object_get(st, "kind")) ?: "";
	const char *codec = json_string_value(json_object_get(st, "codec")) ?: "";
	if (strcmp(kind, "audio"))
		return 90000;
	return !strcmp(codec, "pcmu") || !strcmp(codec, "pcma") || !strcmp(codec, "g722") ?
		       8000 : 48000;
}

bool ctl_history_counters(json_t *ep, struct ctl_hist_counters *n)
{
	memset(n, 0, sizeof(*n));
	if (!json_is_integer(json_object_get(ep, "rx_packets")))
		return false;
	n->rx_packets = json_integer_value(json_object_get(ep, "rx_packets"));
	n->rx_bytes = json_integer_value(json_object_get(ep, "rx_bytes"));
	n->tx_packets = json_integer_value(json_object_get(ep, "tx_packets"));
	n->tx_bytes = json_integer_value(json_object_get(ep, "tx_bytes"));
	json_t *st;
	size_t i;
	json_array_foreach(json_object_get(ep, "streams"), i, st) {
		int64_t lost = json_integer_value(json_object_get(st, "lost"));
		int64_t packets = json_integer_value(json_object_get(st, "packets"));
		int64_t jit = json_integer_value(json_object_get(st, "jitter"));
		/* RFC 3550's cumulative loss goes negative with duplicates. */
		if (lost < 0)
			lost = 0;
		n->lost += lost;
		n->expected += packets + lost;
		int64_t us = jit * 1000000 / hist_clock(st);
		if (us > n->jitter_us)
			n->jitter_us = us;
	}
	return true;
}

/* Ask mmdp (req stolen); the reply when ok, else NULL. A transport failure
 * closes the connection, and the change's own push then fails with 503 as
 * it would have anyway. */
static json_t *hist_ask(struct ctl *c, json_t *req)
{
	json_t *reply = NULL;
	if (!req)
		return NULL;
	if (!ctl_mmdp_connected(&c->mmdp) || ctl_mmdp_call(&c->mmdp, req, &reply)) {
		json_decref(req);
		return NULL;
	}
	json_decref(req);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		return NULL;
	}
	return reply;
}

/* The endpoints of one room of a stats.get reply into the attendances
 * still in. */
static int hist_store_endpoints(struct ctl *c, json_t *room, int64_t now)
{
	json_t *ep;
	size_t i;
	json_array_foreach(json_object_get(room, "endpoints"), i, ep) {
		struct ctl_hist_counters n;
		const char *name = json_string_value(json_object_get(ep, "endpoint"));
		if (!name || !ctl_history_counters(ep, &n))
			continue;
		ctl_metrics_endpoint_final(name, &n);
		int rc = ctl_store_hist_attend_counters(c->store, name, &n, now);
		if (rc)
			return rc;
	}
	return 0;
}

int ctl_history_joined(struct ctl *c, const struct ctl_room *r, const struct ctl_participant *p)
{
	struct ctl_hist_meeting m;
	int n = 0;
	int rc = ctl_store_hist_meeting_live(c->store, r->id, &m);
	if (rc == -ENOENT) {
		/* Its first join: the meeting's record. */
		memset(&m, 0, sizeof(m));
		if (ctl_random_id("m", 8, m.id, sizeof(m.id)))
			return -EIO;
		snprintf(m.room_id, sizeof(m.room_id), "%s", r->id);
		snprintf(m.room_name, sizeof(m.room_name), "%s", r->name);
		snprintf(m.tenant, sizeof(m.tenant), "%s", r->tenant);
		m.meeting = r->meeting;
		m.started_at = r->started_at ? r->started_at : ctl_now(c);
		rc = ctl_store_hist_meeting_insert(c->store, &m);
	}
	if (rc)
		return rc;
	struct ctl_hist_attendance a = { 0 };
	snprintf(a.participant, sizeof(a.participant), "%s", p->id);
	snprintf(a.meeting_id, sizeof(a.meeting_id), "%s", m.id);
	snprintf(a.display_name, sizeof(a.display_name), "%s", p->display_name);
	snprintf(a.account, sizeof(a.account), "%s", p->account);
	snprintf(a.role, sizeof(a.role), "%s", p->role);
	a.joined_at = p->joined_at ? p->joined_at : ctl_now(c);
	rc = ctl_store_hist_attend_insert(c->store, &a);
	if (!rc)
		rc = ctl_store_participant_count(c->store, r->id, &n);
	if (!rc)
		rc = ctl_store_hist_meeting_peak(c->store, m.id, n);
	return rc;
}

int ctl_history_left(struct ctl *c, const struct ctl_room *r, const struct ctl_participant *p,
		     const char *how)
{
	struct ctl_hist_meeting m;
	struct ctl_hist_counters n;
	int rc = ctl_store_hist_meeting_live(c->store, r->id, &m);
	if (rc == -ENOENT)
		return 0;   /* joined before history was kept */
	if (rc)
		return rc;
	/* mmdp still has the endpoint: the leave's endpoint.del is pushed
	 * after this, at the commit. */
	json_t *ep = hist_ask(c, json_pack("{s:s,s:s}", "op", "endpoint.get", "endpoint", p->id));
	int64_t now = ctl_now(c);
	if (ep && ctl_history_counters(ep, &n)) {
		ctl_metrics_endpoint_final(p->id, &n);
		rc = ctl_store_hist_attend_counters(c->store, p->id, &n, now);
	}
	json_decref(ep);
	if (!rc)
		rc = ctl_store_hist_attend_leave(c->store, m.id, p->id, now, how);
	return rc;
}

int ctl_history_end(struct ctl *c, const struct ctl_room *r, const char *reason, bool sample)
{
	struct ctl_hist_meeting m;
	int rc = ctl_store_hist_meeting_live(c->store, r->id, &m);
	if (rc == -ENOENT)
		return 0;   /* no meeting live (an empty room deleted or ended) */
	if (rc)
		return rc;
	int64_t now = ctl_now(c);
	if (sample) {
		json_t *reply = hist_ask(c, json_pack("{s:s,s:s}", "op", "stats.get", "room",
						      r->id));
		json_t *room = NULL, *v;
		size_t i;
		json_array_foreach(json_object_get(reply, "rooms"), i, v)
			if (!strcmp(json_string_value(json_object_get(v, "room")) ?: "", r->id))
				room = v;
		if (room) {
			rc = hist_store_endpoints(c, room, now);
			if (!rc && json_is_integer(json_object_get(room, "rx_bytes")))
				rc = ctl_store_hist_meeting_sample(
					c->store, m.id, ctl_history_now_ms(c),
					json_integer_value(json_object_get(room, "rx_bytes")),
					json_integer_value(json_object_get(room, "tx_bytes")));
		}
		json_decref(reply);
	}
	if (!rc)
		rc = ctl_store_hist_attend_leave(c->store, m.id, NULL, now, "ended");
	if (!rc)
		rc = ctl_store_hist_meeting_end(c->store, m.id, now, reason);
	return rc;
}

static int hist_live_add(void *arg, const struct ctl_hist_meeting *m)
{
	return json_object_set_new(arg, m->room_id, json_string(m->id)) ? -ENOMEM : 0;
}

static int64_t sample_last_ms;

void ctl_history_sample(struct ctl *c)
{
	int64_t now_ms = ctl_history_now_ms(c);
	/* The clock may be moved back in tests: sample then too. */
	if (now_ms >= sample_last_ms && now_ms - sample_last_ms < c->cfg.report_sample_ms)
		return;
	ctl_history_sample_now(c);
}

void ctl_history_sample_now(struct ctl *c)
{
	sample_last_ms = ctl_history_now_ms(c);
	bool metrics = c->cfg.metrics_listen[0] != '\0';
	if (!ctl_mmdp_connected(&c->mmdp)) {
		if (metrics)
			ctl_metrics_sample(c, NULL);
		return;
	}
	struct ctl_hist_filter f = { .live_only = true };
	json_t *live = json_object();
	int rc = ctl_store_hist_meeting_list(c->store, &f, hist_live_add, live);
	if (!metrics && (rc || !json_object_size(live))) {
		/* Nothing live and no metrics: no need to ask mmdp. */
		json_decref(live);
		return;
	}
	/* One stats.get for both: the metrics' snapshot (mmdp's workers,
	 * drops and guard, also with no meeting live) and the reports. */
	json_t *reply = hist_ask(c, json_pack("{s:s}", "op", "stats.get"));
	if (metrics)
		ctl_metrics_sample(c, reply);
	json_t *room;
	size_t i;
	if (!reply || rc || !json_object_size(live) || ctl_store_begin(c->store)) {
		json_decref(reply);
		json_decref(live);
		return;
	}
	int64_t now = ctl_now(c);
	json_array_foreach(json_object_get(reply, "rooms"), i, room) {
		const char *rid = json_string_value(json_object_get(room, "room"));
		const char *mid = rid ? json_string_value(json_object_get(live, rid)) : NULL;
		if (!mid)
			continue;
		rc = hist_store_endpoints(c, room, now);
		if (!rc && json_is_integer(json_object_get(room, "rx_bytes")))
			rc = ctl_store_hist_meeting_sample(
				c->store, mid, sample_last_ms,
				json_integer_value(json_object_get(room, "rx_bytes")),
				json_integer_value(json_object_get(room, "tx_bytes")));
		if (rc)
			break;
	}
	if (rc || ctl_store_commit(c->store))
		ctl_store_rollback(c->store);
	json_decref(reply);
	json_decref(live);
}
