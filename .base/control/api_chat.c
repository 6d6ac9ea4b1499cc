/* /v1/rooms/{room}/chat: group and private messages, stored per meeting as
 * events of type "chat". A private message is visible only to its sender
 * and its recipient, in the history as in the event streams. */
#include "control/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CHAT_TEXT_MAX 4096
#define CHAT_LIST_MAX 1000

static int chat_party(struct api_req *rq, const struct ctl_room *r, const char *field,
		      const char *id, struct api_reply *rep)
{
	struct ctl_participant p;
	if (strlen(id) >= CTL_ID_MAX || ctl_store_participant_get(rq->c->store, id, &p) ||
	    strcmp(p.room_id, r->id)) {
		api_error(rep, 400, "invalid_field", "%s: not a participant of room %s", field, r->id);
		return -EINVAL;
	}
	return 0;
}

static void chat_send(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		      struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "text", API_STRING, true }, { "to", API_STRING, false },
		{ "from", API_STRING, false },
	};
	json_t *b = api_body_object(rq, rep);
	int64_t seq;
	if (!b || api_check_fields(b, "", fields, 3, rep))
		goto out;
	json_t *text = json_object_get(b, "text"), *to = json_object_get(b, "to"),
	       *from = json_object_get(b, "from");
	if (json_string_length(text) < 1 || json_string_length(text) > CHAT_TEXT_MAX) {
		api_error(rep, 400, "invalid_field", "text: 1..%d bytes", CHAT_TEXT_MAX);
		goto out;
	}
	if (a->participant[0] && from) {
		api_error(rep, 400, "invalid_field", "from: a participant token sends as itself");
		goto out;
	}
	if (!a->participant[0] && !from) {
		api_error(rep, 400, "missing_field", "from: required with this token");
		goto out;
	}
	const char *sender = from ? json_string_value(from) : a->participant;
	if ((from && chat_party(rq, r, "from", sender, rep)) ||
	    (to && chat_party(rq, r, "to", json_string_value(to), rep)))
		goto out;
	if (to && !strcmp(json_string_value(to), sender)) {
		api_error(rep, 400, "invalid_field", "to: a private message goes to someone else");
		goto out;
	}
	json_t *msg = json_pack("{s:s,s:O,s:I}", "from", sender, "text", text, "sent_at",
				(json_int_t)ctl_now(rq->c));
	if (to)
		json_object_set(msg, "to", to);
	if (api_begin(rq, rep)) {
		json_decref(msg);
		goto out;
	}
	if (ctl_event_emit(rq->c, r, "chat", json_pack("{s:O}", "message", msg), to ? sender : NULL,
			   to ? json_string_value(to) : NULL, &seq)) {
		ctl_store_rollback(rq->c->store);
		json_decref(msg);
		api_error(rep, 500, "internal", "store: cannot store the message");
		goto out;
	}
	if (api_commit(rq, rep) == 0) {
		json_object_set_new(msg, "id", json_integer(seq));
		rep->status = 201;
		rep->body = json_incref(msg);
	}
	json_decref(msg);
out:
	json_decref(b);
}

static int chat_add(void *arg, const struct ctl_event *e)
{
	json_t *o = ctl_event_json(e);
	json_t *m = json_object_get(o, "message");
	int rc = json_is_object(m) ? json_array_append(arg, m) : 0;
	json_decref(o);
	return rc ? -ENOMEM : 0;
}

static void chat_list(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		      struct api_reply *rep)
{
	int64_t since, limit;
	if (api_query_int(rq, "since", 0, 0, INT64_MAX, &since, rep) ||
	    api_query_int(rq, "limit", 100, 1, CHAT_LIST_MAX, &limit, rep))
		return;
	json_t *arr = json_array();
	int rc = ctl_store_event_list(rq->c->store, r->id, r->meeting, since, "chat",
				      a->participant[0] ? a->participant : NULL, (int)limit,
				      chat_add, arr);
	if (rc) {
		json_decref(arr);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:o}", "messages", arr);
}

void api_chat(struct api_req *rq, struct api_reply *rep)
{
	struct ctl_room r;
	struct api_actor a;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "POST")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_room_load(rq, false, &r, rep) || api_actor_load(rq, &r, &a, rep))
		return;
	if (!strcmp(rq->method, "POST"))
		chat_send(rq, &r, &a, rep);
	else
		chat_list(rq, &r, &a, rep);
}
