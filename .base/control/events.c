/* Meeting events: written to the store inside the change's transaction (so
 * an event exists exactly when its change does), read back by the SSE
 * streams and the chat history. */
#include "control/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ctl_event_emit(struct ctl *c, const struct ctl_room *r, const char *type, json_t *data,
		   const char *party_a, const char *party_b, int64_t *seq)
{
	struct ctl_event e = { .meeting = r->meeting, .at = ctl_now(c) };
	if (!data)
		return -ENOMEM;
	e.data = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!e.data)
		return -ENOMEM;
	snprintf(e.room_id, sizeof(e.room_id), "%s", r->id);
	snprintf(e.type, sizeof(e.type), "%s", type);
	snprintf(e.party_a, sizeof(e.party_a), "%s", party_a ? party_a : "");
	snprintf(e.party_b, sizeof(e.party_b), "%s", party_b ? party_b : "");
	int rc = ctl_store_event_insert(c->store, &e);
	free(e.data);
	if (rc)
		return rc;
	c->events_dirty = true;
	if (seq)
		*seq = e.seq;
	return 0;
}

json_t *ctl_event_json(const struct ctl_event *e)
{
	json_t *o = json_loads(e->data, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "type", json_string(e->type));
	json_object_set_new(o, "at", json_integer(e->at));
	json_t *m = json_object_get(o, "message");
	if (json_is_object(m))
		json_object_set_new(m, "id", json_integer(e->seq));
	return o;
}
