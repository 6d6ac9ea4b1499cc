/* Speaker events: the ticker asks mmdp which rooms' speakers changed
 * (speakers.get, docs/agent-protocol.md) and publishes a `speaker` event on
 * the room's stream when its dominant speaker changed. mmdp's endpoint
 * names are our participant ids (ctl_sync_endpoint_json), so its answer
 * needs no translation. An mmdp without speakers.get is asked once per
 * connection. */
#include "control/ctl.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctl_speakers_init(struct ctl_speakers *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->last = json_object();
}

void ctl_speakers_fini(struct ctl_speakers *sp)
{
	json_decref(sp->last);
	sp->last = NULL;
}

/* The speaker event of one room of mmdp's reply, if it is news: 1 emitted
 * (*pub set to what to remember), 0 nothing to say, negative errno. */
static int speakers_room(struct ctl *c, json_t *room, bool *began, json_t **pub)
{
	const char *rid = json_string_value(json_object_get(room, "room"));
	const char *dom = json_string_value(json_object_get(room, "dominant"));
	json_int_t changes = json_integer_value(json_object_get(room, "changes"));
	json_t *prev = rid ? json_object_get(c->speakers.last, rid) : NULL;
	struct ctl_room r;
	struct ctl_participant p;
	*pub = NULL;
	/* Nobody spoke yet, or what we said last time. */
	if (!rid || !dom ||
	    (prev && !strcmp(json_string_value(json_object_get(prev, "dominant")) ?: "", dom) &&
	     json_integer_value(json_object_get(prev, "changes")) == changes))
		return 0;
	int rc = ctl_store_room_get(c->store, rid, &r);
	if (rc == -ENOENT) {
		json_object_del(c->speakers.last, rid);
		return 0;
	}
	/* A participant that left meanwhile is no news either. */
	if (rc || ctl_store_participant_get(c->store, dom, &p) || strcmp(p.room_id, r.id))
		return rc;
	if (!*began) {
		if ((rc = ctl_store_begin(c->store)))
			return rc;
		*began = true;
	}
	json_t *list = json_array(), *v;
	size_t i;
	json_array_foreach(json_object_get(room, "last_n"), i, v)
		if (json_is_string(v))
			json_array_append(list, v);
	rc = ctl_event_emit(c, &r, "speaker",
			    json_pack("{s:s,s:o,s:I}", "participant", dom, "last_n", list,
				      "changes", changes), NULL, NULL, NULL);
	if (rc)
		return rc;
	*pub = json_pack("{s:s,s:I}", "dominant", dom, "changes", changes);
	return 1;
}

void ctl_speakers_poll(struct ctl *c)
{
	struct ctl_speakers *sp = &c->speakers;
	json_t *reply = NULL;
	if (!ctl_mmdp_connected(&c->mmdp))
		return;
	if (sp->conn != c->mmdp_conn) {
		/* A new connection (maybe a new mmdp): its sequence starts over. */
		sp->conn = c->mmdp_conn;
		sp->since = 0;
		sp->off = false;
	}
	if (sp->off)
		return;
	json_t *req = json_pack("{s:s,s:I}", "op", "speakers.get", "since",
				(json_int_t)sp->since);
	int rc = ctl_mmdp_call(&c->mmdp, req, &reply);
	json_decref(req);
	if (rc)
		return;   /* the connection is closed; the next tick reconnects */
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_t *e = json_object_get(reply, "error");
		mm_warn("speakers_refused", "code=%s error=%s until=reconnect",
			mm_q(json_string_value(json_object_get(e, "code")) ?: "?"),
			mm_q(json_string_value(json_object_get(e, "message")) ?: ""));
		sp->off = true;
		json_decref(reply);
		return;
	}
	json_t *seq = json_object_get(reply, "seq");
	json_t *news = json_object(), *room;
	bool began = false;
	size_t i;
	rc = 0;
	json_array_foreach(json_object_get(reply, "rooms"), i, room) {
		json_t *pub;
		rc = speakers_room(c, room, &began, &pub);
		if (rc < 0)
			break;
		if (pub)
			json_object_set_new(news, json_string_value(json_object_get(room, "room")),
					    pub);
	}
	if (began && (rc < 0 || ctl_store_commit(c->store))) {
		ctl_store_rollback(c->store);
		mm_err("speakers_store_failed", NULL);
		/* Ask again from the same point next time. */
		json_object_clear(news);
	} else if (rc < 0) {
		mm_err("speakers_store_failed", "error=%s", mm_q(strerror(-rc)));
	} else if (json_is_integer(seq) && json_integer_value(seq) >= 0) {
		sp->since = json_integer_value(seq);
	}
	json_object_update(sp->last, news);
	json_decref(news);
	json_decref(reply);
	if (c->events_dirty)
		ctl_sse_wake(c);
}

void ctl_speakers_prune(struct ctl *c)
{
	const char *rid;
	json_t *v;
	void *next;
	json_object_foreach_safe(c->speakers.last, next, rid, v) {
		struct ctl_room r;
		if (ctl_store_room_get(c->store, rid, &r) == -ENOENT)
			json_object_del(c->speakers.last, rid);
	}
}
