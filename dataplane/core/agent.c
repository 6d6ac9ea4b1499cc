/* Agent protocol: validate, check, apply, publish, reply.
 *
 * A change request (single op, batch or state.sync) becomes a list of ops.
 * Every op is first checked against the state as the earlier ops would leave
 * it (the "view": the live tables plus an overlay of what the earlier ops
 * changed, kept in jansson objects). Only when every op passes are they
 * applied to the live tables, the touched routes rebuilt and published, and
 * the reply sent after one RCU grace period. A failed request changes
 * nothing. */
#include "dataplane/core/agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dataplane/core/agent_internal.h"

int mm_agent_fail(struct aerr *e, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	return -EINVAL;
}

/* ------------------------------------------------------------ request --- */

/* Parse the objects of a state.sync list as `opname` ops appended to
 * ops[*n]; each name may appear once (recorded in seen). */
static int sync_parse_list(struct mm_tables *t, json_t *arr, const char *list, const char *opname,
			   struct op *ops, size_t *n, json_t *seen, json_t *keep, struct aerr *e)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		struct op *op = &ops[(*n)++];
		snprintf(op->path, sizeof(op->path), "%s[%zu].", list, i);
		json_t *c = json_deep_copy(o);
		json_array_append_new(keep, c);
		if (json_is_object(c))
			json_object_set_new(c, "op", json_string(opname));
		if (mm_agent_parse_op(t, c, op, e))
			return -EINVAL;
		const char *name = op->type == OP_ROOM_PUT    ? op->room
				   : op->type == OP_BLOCK_PUT ? op->block
				   : op->type == OP_BAN_PUT   ? op->ban
							      : op->endpoint;
		if (json_object_get(seen, name))
			return mm_agent_fail(e, "invalid_field", op->path, "%s listed twice", name);
		json_object_set_new(seen, name, json_true());
	}
	return 0;
}

static int sync_to_ops(struct mm_tables *t, json_t *req, struct op **opsp, size_t *np, json_t *keep,
		       struct aerr *e)
{
	json_t *rooms = json_object_get(req, "rooms");
	json_t *eps = json_object_get(req, "endpoints");
	json_t *blocks = json_object_get(req, "blocks");
	json_t *bans = json_object_get(req, "bans");
	if (!rooms || !json_is_array(rooms))
		return mm_agent_fail(e, rooms ? "invalid_field" : "missing_field", "rooms", "rooms must be an array");
	if (eps && !json_is_array(eps))
		return mm_agent_fail(e, "invalid_field", "endpoints", "endpoints must be an array");
	if (blocks && !json_is_array(blocks))
		return mm_agent_fail(e, "invalid_field", "blocks", "blocks must be an array");
	if (bans && !json_is_array(bans))
		return mm_agent_fail(e, "invalid_field", "bans", "bans must be an array");
	size_t nr = json_array_size(rooms), ne = json_array_size(eps), nb = json_array_size(blocks);
	size_t nbn = json_array_size(bans);
	size_t ndel = (size_t)t->n_endpoints + t->n_rooms + t->n_blocks + t->n_bans;
	size_t max = ndel + 2 * nr + ne + nb + nbn + 1;
	struct op *ops = calloc(max, sizeof(*ops));
	if (!ops)
		return mm_agent_fail(e, "internal", "", "out of memory");
	*opsp = ops;
	size_t n = 0;
	json_t *want_rooms = json_object(), *want_eps = json_object(), *want_blocks = json_object();
	json_t *want_bans = json_object();
	json_array_append_new(keep, want_bans);
	json_array_append_new(keep, want_rooms);
	json_array_append_new(keep, want_eps);
	json_array_append_new(keep, want_blocks);

	/* Desired rooms, endpoints and blocks, syntax first. */
	struct op *puts = ops + ndel;
	size_t np_ = 0;
	if (sync_parse_list(t, rooms, "rooms", "room.put", puts, &np_, want_rooms, keep, e) ||
	    sync_parse_list(t, eps, "endpoints", "endpoint.put", puts, &np_, want_eps, keep, e) ||
	    sync_parse_list(t, blocks, "blocks", "block.put", puts, &np_, want_blocks, keep, e) ||
	    sync_parse_list(t, bans, "bans", "ban.put", puts, &np_, want_bans, keep, e))
		return -EINVAL;
	for (size_t k = 0; k < nr; k++) {
		json_t *c = json_array_get(rooms, k);
		json_t *route = json_object_get(c, "route");
		struct op *op = &puts[np_++];
		snprintf(op->path, sizeof(op->path), "rooms[%zu].route.", k);
		json_t *rc = route ? json_deep_copy(route) : json_object();
		json_array_append_new(keep, rc);
		if (!json_is_object(rc))
			return mm_agent_fail(e, "invalid_field", op->path, "route must be an object");
		json_object_set_new(rc, "op", json_string("route.put"));
		json_object_set(rc, "room", json_object_get(c, "room"));
		if (mm_agent_parse_op(t, rc, op, e))
			return -EINVAL;
	}

	/* Deletions first, so that freed names and 5-tuples can be reused. */
	struct cds_lfht_iter it;
	struct mm_endpoint *ep;
	MM_LFHT_FOREACH(t->eps_by_name, &it, ep, name_node) {
		if (!json_object_get(want_eps, ep->name)) {
			ops[n].type = OP_EP_DEL;
			ops[n++].endpoint = ep->name;
		}
	}
	struct mm_room *r;
	MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node) {
		if (!json_object_get(want_rooms, r->name)) {
			ops[n].type = OP_ROOM_DEL;
			ops[n++].room = r->name;
		}
	}
	struct mm_block *b;
	MM_LFHT_FOREACH(t->blocks_by_name, &it, b, name_node) {
		if (!json_object_get(want_blocks, b->name)) {
			ops[n].type = OP_BLOCK_DEL;
			ops[n++].block = b->name;
		}
	}
	for (uint32_t i = 0; i < t->n_bans; i++) {
		if (!json_object_get(want_bans, t->bans[i].name)) {
			ops[n].type = OP_BAN_DEL;
			ops[n++].ban = t->bans[i].name;
		}
	}
	memmove(ops + n, puts, np_ * sizeof(*ops));
	*np = n + np_;
	return 0;
}

/* While draining: nothing that would start a meeting. Checked against the
 * live tables, so that a batch that deletes a room and puts it again (mmctld
 * emptying a fixed room at its meeting's end) still passes. */
static int drain_check(struct mm_agent *a, const struct op *ops, size_t n, struct aerr *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct op *op = &ops[i];
		char f[64];
		if (op->type == OP_ROOM_PUT && !mm_tables_room(a->t, op->room)) {
			snprintf(f, sizeof(f), "%sroom", op->path);
			return mm_agent_fail(e, "draining", f, "mmdp is draining: no new room (%s)",
					     op->room);
		}
		if (op->type == OP_EP_PUT && !mm_tables_endpoint(a->t, op->endpoint)) {
			struct mm_room *r = mm_tables_room(a->t, op->room);
			if (!r || r->n_members == 0) {
				snprintf(f, sizeof(f), "%sendpoint", op->path);
				return mm_agent_fail(e, "draining", f, "mmdp is draining: no new "
						     "meeting (room %s has no endpoint)", op->room);
			}
		}
	}
	return 0;
}

static json_t *handle_change(struct mm_agent *a, json_t *req, const char *opname, struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t gen = 0;
	int has_gen = mm_agent_get_uint(req, "generation", "", 0, INT64_MAX, false, &gen, e);
	if (has_gen < 0)
		return NULL;
	if (has_gen == 0 && gen < t->generation) {
		mm_agent_fail(e, "stale_generation", "generation",
		     "generation %" PRIu64 " is older than mmdp's %" PRIu64, gen, t->generation);
		return NULL;
	}

	struct op *ops = NULL;
	size_t n = 0;
	json_t *keep = json_array(); /* request pieces the ops borrow from */
	json_t *results = NULL;
	int rc;
	if (strcmp(opname, "batch") == 0) {
		json_t *arr = json_object_get(req, "ops");
		if (!arr || !json_is_array(arr)) {
			rc = mm_agent_fail(e, arr ? "invalid_field" : "missing_field", "ops", "ops must be an array");
			goto out;
		}
		n = json_array_size(arr);
		ops = calloc(n ? n : 1, sizeof(*ops));
		if (!ops) {
			rc = mm_agent_fail(e, "internal", "", "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(ops[i].path, sizeof(ops[i].path), "ops[%zu].", i);
			rc = mm_agent_parse_op(t, json_array_get(arr, i), &ops[i], e);
			if (rc) {
				e->index = (long)i;
				goto out;
			}
		}
		results = json_array();
	} else if (strcmp(opname, "state.sync") == 0) {
		rc = sync_to_ops(t, req, &ops, &n, keep, e);
		if (rc)
			goto out;
	} else {
		n = 1;
		ops = calloc(1, sizeof(*ops));
		if (!ops) {
			rc = mm_agent_fail(e, "internal", "", "out of memory");
			goto out;
		}
		rc = mm_agent_parse_op(t, req, &ops[0], e);
		if (rc)
			goto out;
		results = json_array();
	}
	if (a->draining && (rc = drain_check(a, ops, n, e)))
		goto out;
	if (a->guard)
		a->guard->request_errors = 0;
	rc = mm_agent_run_ops(a, ops, n, results, strcmp(opname, "state.sync") == 0, e);
	if (rc == 0 && has_gen == 0)
		t->generation = gen;

out:
	free(ops);
	json_decref(keep);
	if (rc) {
		json_decref(results);
		return NULL;
	}
	json_t *reply = json_pack("{sbsI}", "ok", 1, "generation", (json_int_t)t->generation);
	if (a->guard && a->guard->request_errors)
		/* Applied in mmdp all the same (it enforces endpoints and blocks
		 * itself); the guard is retried until it is back in step. */
		json_object_set_new(reply, "guard_error", json_string(a->guard->last_error));
	if (strcmp(opname, "batch") == 0) {
		json_object_set_new(reply, "results", results);
	} else {
		json_t *one = json_array_get(results, 0);
		if (one)
			json_object_update(reply, one);
		json_decref(results);
	}
	return reply;
}

static json_t *handle_read(struct mm_agent *a, json_t *req, const char *op, struct aerr *e)
{
	struct mm_tables *t = a->t;
	if (strcmp(op, "hello") == 0) {
		json_t *o = json_pack("{sbsisIsIsIsIsIsIsb}", "ok", 1, "version", MM_AGENT_PROTOCOL_VERSION,
				      "generation", (json_int_t)t->generation, "workers",
				      (json_int_t)t->conf.n_workers, "rooms", (json_int_t)t->n_rooms,
				      "endpoints", (json_int_t)t->n_endpoints, "blocks",
				      (json_int_t)t->n_blocks, "bans", (json_int_t)t->n_bans, "guard",
				      a->guard != NULL);
		const char *fp = mm_agent_dtls_fingerprint(a);
		if (fp)
			json_object_set_new(o, "dtls_fingerprint", json_string(fp));
		return o;
	}
	if (strcmp(op, "stats.get") == 0)
		return mm_agent_stats(a, req, e);
	if (strcmp(op, "speakers.get") == 0)
		return mm_agent_speakers(a, req, e);
	if (strcmp(op, "room.list") == 0) {
		json_t *rooms = json_array();
		struct cds_lfht_iter it;
		struct mm_room *r;
		MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node)
			json_array_append_new(rooms, mm_agent_room_info(r));
		return json_pack("{sbso}", "ok", 1, "rooms", rooms);
	}
	if (strcmp(op, "room.get") == 0) {
		const char *name;
		if (mm_agent_get_name(req, "room", "", &name, e))
			return NULL;
		struct mm_room *r = mm_tables_room(t, name);
		if (!r) {
			mm_agent_fail(e, "not_found", "room", "no room %s", name);
			return NULL;
		}
		json_t *o = mm_agent_room_info(r);
		json_object_set_new(o, "ok", json_true());
		return o;
	}
	if (strcmp(op, "endpoint.get") == 0) {
		const char *name;
		if (mm_agent_get_name(req, "endpoint", "", &name, e))
			return NULL;
		struct mm_endpoint *ep = mm_tables_endpoint(t, name);
		if (!ep) {
			mm_agent_fail(e, "not_found", "endpoint", "no endpoint %s", name);
			return NULL;
		}
		json_t *o = mm_agent_endpoint_stats(a, ep);
		char la[64], ra[64];
		json_object_set_new(o, "ok", json_true());
		json_object_set_new(o, "room", json_string(ep->room->name));
		json_object_set_new(o, "local",
				    json_pack("{sssi}", "addr", net_addr_format(&ep->laddr, la, sizeof(la)),
					      "port", ep->key.lport));
		if (ep->bound) /* an ICE endpoint has none before its first check */
			json_object_set_new(o, "remote",
					    json_pack("{sssi}", "addr",
						      net_addr_format(&ep->key.raddr, ra, sizeof(ra)), "port",
						      ep->key.rport));
		return o;
	}
	return NULL;
}

/* Bytes >= 0x80 of s as '?': ASCII, which jansson always takes. */
static void ascii_only(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			*s = '?';
}

static char *error_line(json_t *id, const struct aerr *e)
{
	json_t *err = json_pack("{ssss}", "code", e->code, "message", e->message);
	struct aerr a;
	if (!err) {
		/* The message quotes the request (jansson's parse error shows the
		 * bytes where it stopped, "%.64s" may cut a character in half)
		 * and was not UTF-8, which jansson refuses: say the same in
		 * ASCII rather than send no reply at all (found by
		 * tests/fuzz/fuzz_agent.c). */
		a = *e;
		ascii_only(a.message);
		e = &a;
		err = json_pack("{ssss}", "code", e->code, "message", e->message);
	}
	if (e->field[0]) {
		json_t *f = json_string(e->field);
		if (!f) {
			char fb[sizeof(e->field)];
			snprintf(fb, sizeof(fb), "%s", e->field);
			ascii_only(fb);
			f = json_string(fb);
		}
		json_object_set_new(err, "field", f);
	}
	if (e->index >= 0)
		json_object_set_new(err, "index", json_integer(e->index));
	json_t *r = json_pack("{sbso}", "ok", 0, "error", err);
	if (id)
		json_object_set(r, "id", id);
	char *s = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return s;
}

char *mm_agent_error_reply(const char *code, const char *message)
{
	struct aerr e = {.code = code, .index = -1};
	snprintf(e.message, sizeof(e.message), "%s", message);
	return error_line(NULL, &e);
}

char *mm_agent_handle(struct mm_agent *a, const char *line, size_t len)
{
	struct aerr e = {.index = -1};
	mm_agent_tick(a); /* no request sees an expired block */
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		mm_agent_fail(&e, "parse_error", NULL, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return error_line(NULL, &e);
	}
	json_t *id = json_object_get(req, "id");
	json_t *jop = json_object_get(req, "op");
	json_t *reply = NULL;
	if (!json_is_object(req) || !json_is_string(jop)) {
		mm_agent_fail(&e, "invalid_request", "op", "a request is an object with a string \"op\"");
	} else {
		const char *op = json_string_value(jop);
		static const char *const changes[] = {"room.put",  "room.del",  "endpoint.put",
						      "endpoint.del", "route.put", "block.put",
						      "block.del", "ban.put",   "ban.del",
						      "batch",     "state.sync"};
		bool change = false;
		for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
			change |= strcmp(op, changes[i]) == 0;
		if (change)
			reply = handle_change(a, req, op, &e);
		else if (!(reply = handle_read(a, req, op, &e)) && !e.code)
			mm_agent_fail(&e, "unknown_op", "op", "unknown op \"%.64s\"", op);
	}
	char *out;
	if (reply) {
		if (id)
			json_object_set(reply, "id", id);
		out = json_dumps(reply, JSON_COMPACT);
		json_decref(reply);
	} else {
		out = error_line(id, &e);
	}
	json_decref(req);
	return out;
}
