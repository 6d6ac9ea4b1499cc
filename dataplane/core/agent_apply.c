/* Agent protocol: check a list of ops against the live tables plus an
 * overlay of what the earlier ops change (the "view", kept in jansson
 * objects), then apply them all, publish and wait for a grace period. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent_internal.h"

/* --------------------------------------------------------------- view --- */

struct view {
	struct mm_tables *t;
	const struct mm_agent_guard *guard; /* NULL: none */
	json_t *rooms; /* name -> [exists, capacity, count] */
	json_t *eps;   /* name -> [exists, room, keystr] */
	json_t *keys;  /* keystr -> name | null */
	json_t *ufrags; /* ICE ufrag -> name */
	long rooms_delta, eps_delta;
	struct block_view blocks;
	struct ban_view bans;
};

static void key_str(const struct mm_key *k, char out[48])
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * sizeof(*k)] = 0;
}

static bool view_room(struct view *v, const char *name, uint32_t *cap, uint32_t *count)
{
	json_t *o = json_object_get(v->rooms, name);
	if (o) {
		*cap = (uint32_t)json_integer_value(json_array_get(o, 1));
		*count = (uint32_t)json_integer_value(json_array_get(o, 2));
		return json_is_true(json_array_get(o, 0));
	}
	struct mm_room *r = mm_tables_room(v->t, name);
	if (!r)
		return false;
	*cap = r->capacity;
	*count = r->n_members;
	return true;
}

static void view_set_room(struct view *v, const char *name, bool exists, uint32_t cap, uint32_t count)
{
	json_object_set_new(v->rooms, name, json_pack("[bii]", exists, (json_int_t)cap, (json_int_t)count));
}

static bool view_ep(struct view *v, const char *name, const char **room, char keystr[48])
{
	json_t *o = json_object_get(v->eps, name);
	if (o) {
		*room = json_string_value(json_array_get(o, 1));
		snprintf(keystr, 48, "%s", json_string_value(json_array_get(o, 2)));
		return json_is_true(json_array_get(o, 0));
	}
	struct mm_endpoint *ep = mm_tables_endpoint(v->t, name);
	if (!ep)
		return false;
	*room = ep->room->name;
	if (ep->bound)
		key_str(&ep->key, keystr);
	else
		snprintf(keystr, 48, "u:%.44s", ep->name);
	return true;
}

/* Does live endpoint ep have the ICE credentials op asks for? */
static bool same_ice_creds(const struct mm_endpoint *ep, const struct op *op)
{
	if (ep->ice != op->ice)
		return false;
	return !op->ice ||
	       (strcmp(ep->ice_ufrag, op->ice_ufrag) == 0 && strcmp(ep->ice_pwd, op->ice_pwd) == 0);
}

/* Does live endpoint ep have the ICE and DTLS identity op asks for? */
static bool same_ice(const struct mm_endpoint *ep, const struct op *op)
{
	if (!same_ice_creds(ep, op) || ep->dtls != op->dtls)
		return false;
	return !op->dtls || (memcmp(ep->dtls_fp, op->dtls_fp, 32) == 0 &&
			     ep->dtls_peer_active == op->dtls_peer_active);
}

/* The 5-tuple an endpoint.put gives its endpoint: its remote, or for an
 * ICE endpoint without one the 5-tuple it learned (same ICE credentials,
 * same room and local address and port: a repeated put keeps the binding,
 * also when it brings the DTLS fingerprint of the peer's answer or a new
 * one: the path the checks proved is still the peer's), else none yet
 * (*bound false). */
static void put_key(struct mm_tables *t, const struct op *op, struct mm_key *key, bool *bound)
{
	*key = op->key;
	*bound = true;
	if (!op->ice || op->has_remote)
		return;
	struct mm_endpoint *ep = mm_tables_endpoint(t, op->endpoint);
	if (ep && same_ice_creds(ep, op) && strcmp(ep->room->name, op->room) == 0 &&
	    ep->key.lport == op->key.lport && memcmp(&ep->laddr, &op->laddr, sizeof(op->laddr)) == 0) {
		*key = ep->key;
		*bound = ep->bound;
		return;
	}
	memset(key, 0, sizeof(*key));
	key->lport = op->key.lport;
	*bound = false;
}

static void view_set_ep(struct view *v, const char *name, bool exists, const char *room,
			const char *keystr)
{
	json_object_set_new(v->eps, name, json_pack("[bss]", exists, room, keystr));
}

/* Name of the endpoint holding a 5-tuple in the view, or NULL. */
static const char *view_key_owner(struct view *v, const struct mm_key *k, const char *keystr)
{
	json_t *o = json_object_get(v->keys, keystr);
	if (o)
		return json_string_value(o); /* NULL for json null: freed */
	struct mm_endpoint *ep = mm_tables_lookup(v->t, k);
	return ep ? ep->name : NULL;
}

static void view_room_add_count(struct view *v, const char *room, int d)
{
	uint32_t cap, count;
	if (view_room(v, room, &cap, &count))
		view_set_room(v, room, true, cap, (uint32_t)((int)count + d));
}

static void view_del_ep(struct view *v, const char *name, const char *room, const char *keystr)
{
	char r[MM_NAME_MAX + 1];
	snprintf(r, sizeof(r), "%s", room); /* room may point into v->eps */
	json_object_set_new(v->keys, keystr, json_null());
	view_set_ep(v, name, false, r, keystr);
	view_room_add_count(v, r, -1);
	v->eps_delta--;
}

static int check_op(struct view *v, const struct op *op, struct aerr *e)
{
	char f[192];
	const char *p = op->path;
	uint32_t cap, count;
	const char *eroom;
	char ekey[48];

	switch (op->type) {
	case OP_ROOM_PUT:
		if (view_room(v, op->room, &cap, &count)) {
			if (op->capacity < count) {
				snprintf(f, sizeof(f), "%scapacity", p);
				return mm_agent_fail(e, "room_full", f, "room %s has %u endpoints", op->room, count);
			}
			view_set_room(v, op->room, true, op->capacity, count);
			return 0;
		}
		if (v->t->n_rooms + v->rooms_delta >= MM_ROOMS_MAX)
			return mm_agent_fail(e, "limit", p, "at most %d rooms", MM_ROOMS_MAX);
		v->rooms_delta++;
		view_set_room(v, op->room, true, op->capacity, 0);
		return 0;

	case OP_ROOM_DEL: {
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return mm_agent_fail(e, "not_found", f, "no room %s", op->room);
		/* Its endpoints: live members not yet changed by the view, and
		 * endpoints the view placed in it. */
		struct mm_room *r = mm_tables_room(v->t, op->room);
		for (uint32_t s = 0; r && s < MM_ROOM_CAPACITY_MAX; s++) {
			struct mm_endpoint *ep = r->members[s];
			if (ep && !json_object_get(v->eps, ep->name)) {
				key_str(&ep->key, ekey);
				view_del_ep(v, ep->name, op->room, ekey);
			}
		}
		const char *name;
		json_t *o;
		void *tmp;
		json_object_foreach_safe(v->eps, tmp, name, o) {
			if (json_is_true(json_array_get(o, 0)) &&
			    strcmp(json_string_value(json_array_get(o, 1)), op->room) == 0) {
				snprintf(ekey, sizeof(ekey), "%s", json_string_value(json_array_get(o, 2)));
				view_del_ep(v, name, op->room, ekey);
			}
		}
		view_set_room(v, op->room, false, 0, 0);
		v->rooms_delta--;
		return 0;
	}

	case OP_EP_PUT: {
		if (mm_agent_guard_check_ep(v->guard, op, e))
			return -EINVAL;
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return mm_agent_fail(e, "not_found", f, "no room %s", op->room);
		char key[48];
		struct mm_key k;
		bool bound;
		put_key(v->t, op, &k, &bound);
		if (bound)
			key_str(&k, key);
		else
			snprintf(key, sizeof(key), "u:%.44s", op->endpoint);
		const char *owner = bound ? view_key_owner(v, &k, key) : NULL;
		if (owner && strcmp(owner, op->endpoint) != 0) {
			snprintf(f, sizeof(f), "%sremote", p);
			return mm_agent_fail(e, "conflict", f, "this 5-tuple belongs to endpoint %s", owner);
		}
		if (op->ice) {
			/* A check finds its endpoint by ufrag: one each. */
			json_t *uo = json_object_get(v->ufrags, op->ice_ufrag);
			const char *uowner = uo ? json_string_value(uo) : NULL;
			const char *r_;
			char k_[48];
			struct mm_endpoint *live = uo ? NULL
						      : mm_tables_ufrag_lookup(v->t, op->ice_ufrag,
									       strlen(op->ice_ufrag));
			if (live && view_ep(v, live->name, &r_, k_) && !json_object_get(v->eps, live->name))
				uowner = live->name;
			if (uowner && strcmp(uowner, op->endpoint) != 0) {
				snprintf(f, sizeof(f), "%sice.ufrag", p);
				return mm_agent_fail(e, "conflict", f, "this ufrag belongs to endpoint %s",
						     uowner);
			}
			json_object_set_new(v->ufrags, op->ice_ufrag, json_string(op->endpoint));
		}
		bool exists = view_ep(v, op->endpoint, &eroom, ekey);
		bool same_room = exists && strcmp(eroom, op->room) == 0;
		if (!same_room && count >= cap)
			return mm_agent_fail(e, "room_full", f, "room %s is at its capacity of %u", op->room, cap);
		if (exists && (!same_room || strcmp(ekey, key) != 0)) {
			view_del_ep(v, op->endpoint, eroom, ekey); /* moves */
			exists = false;
		}
		if (!exists) {
			/* With the guard, every endpoint needs an allowlist entry. */
			uint32_t max = v->guard ? MM_GUARD_ALLOW_MAX : MM_ENDPOINTS_MAX;
			if (v->t->n_endpoints + v->eps_delta >= max)
				return mm_agent_fail(e, "limit", p, "at most %u endpoints%s", max,
						     v->guard ? " with the XDP guard" : "");
			v->eps_delta++;
			view_room_add_count(v, op->room, +1);
		}
		view_set_ep(v, op->endpoint, true, op->room, key);
		json_object_set_new(v->keys, key, json_string(op->endpoint));
		return 0;
	}

	case OP_EP_DEL:
		snprintf(f, sizeof(f), "%sendpoint", p);
		if (!view_ep(v, op->endpoint, &eroom, ekey))
			return mm_agent_fail(e, "not_found", f, "no endpoint %s", op->endpoint);
		view_del_ep(v, op->endpoint, eroom, ekey);
		return 0;

	case OP_ROUTE_PUT: {
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return mm_agent_fail(e, "not_found", f, "no room %s", op->room);
		const char *sub;
		json_t *list;
		json_object_foreach(op->subs, sub, list) {
			snprintf(f, sizeof(f), "%ssubscriptions.%.40s", p, sub);
			if (!view_ep(v, sub, &eroom, ekey) || strcmp(eroom, op->room) != 0)
				return mm_agent_fail(e, "not_found", f, "%s is not an endpoint of room %s", sub,
					    op->room);
			size_t i;
			json_t *pub;
			json_array_foreach(list, i, pub) {
				const char *pn = json_string_value(pub);
				if (!view_ep(v, pn, &eroom, ekey) || strcmp(eroom, op->room) != 0)
					return mm_agent_fail(e, "not_found", f, "%s is not an endpoint of room %s",
						    pn, op->room);
			}
		}
		return 0;
	}

	case OP_BLOCK_PUT:
	case OP_BLOCK_DEL:
		return mm_agent_check_block(v->t, &v->blocks, op, e);
	case OP_BAN_PUT:
	case OP_BAN_DEL:
		return mm_agent_check_ban(v->t, &v->bans, op, e);
	}
	return mm_agent_fail(e, "internal", p, "unhandled op");
}

/* -------------------------------------------------------------- apply --- */

/* Does the op name the very keys of keyset k? */
static bool same_keys(const struct mm_keyset *k, const struct op *op)
{
	size_t n = mm_srtp_master_len(op->profile);
	return k && k->profile == op->profile && k->has_in == op->has_in && k->has_out == op->has_out &&
	       (!op->has_in || memcmp(k->in_key, op->in_key, n) == 0) &&
	       (!op->has_out || memcmp(k->out_key, op->out_key, n) == 0);
}

static int apply_op(struct mm_tables *t, const struct op *op, uint64_t now_ns, struct mm_garbage *g,
		    struct mm_agent_op_counts *cnt, json_t **result)
{
	struct mm_room *r;
	struct mm_endpoint *ep;
	*result = NULL;

	switch (op->type) {
	case OP_ROOM_PUT:
		r = mm_tables_room(t, op->room);
		if (r) {
			r->capacity = op->capacity;
			cnt->room_updated++;
		} else if (!(r = mm_room_create(t, op->room, op->capacity))) {
			return -ENOMEM;
		} else {
			cnt->room_created++;
		}
		__atomic_store_n(&r->last_n, op->last_n, __ATOMIC_RELAXED);
		__atomic_store_n(&r->video_last_n, op->video_last_n, __ATOMIC_RELAXED);
		*result = json_pack("{sssI}", "room", r->name, "worker", (json_int_t)r->worker);
		return 0;
	case OP_ROOM_DEL:
		r = mm_tables_room(t, op->room);
		cnt->room_deleted++;
		cnt->endpoint_deleted += r->n_members; /* they go with it */
		mm_room_remove(t, r, g);
		return 0;
	case OP_EP_PUT: {
		r = mm_tables_room(t, op->room);
		ep = mm_tables_endpoint(t, op->endpoint);
		struct mm_ep_conf *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		*c = op->conf;
		struct mm_key key;
		bool bound;
		put_key(t, op, &key, &bound);
		bool in_place = ep && ep->room == r && ep->bound == bound &&
				memcmp(&ep->key, &key, sizeof(key)) == 0 &&
				memcmp(&ep->laddr, &op->laddr, sizeof(op->laddr)) == 0 && same_ice(ep, op);
		const struct mm_ep_conf *old = in_place ? ep->conf : NULL;
		c->keys = c->prev_keys = NULL;
		if (mm_conf_attach_caches(old, c) != 0) {
			free(c);
			return -ENOMEM;
		}
		if (op->dtls) {
			/* Keys come from the handshake: kept while it stands. */
			if (old) {
				c->keys = old->keys;
				c->prev_keys = old->prev_keys;
			}
		} else if (op->srtp && old && same_keys(old->keys, op)) {
			c->keys = old->keys; /* not a rekey: sessions go on */
			c->prev_keys = old->prev_keys;
		} else if (op->srtp) {
			c->keys = mm_keyset_create(t, op->profile, op->has_in ? op->in_key : NULL,
						   op->has_out ? op->out_key : NULL);
			if (!c->keys) {
				mm_conf_drop_caches(old, c);
				free(c);
				return -ENOMEM;
			}
			c->prev_keys = old ? old->keys : NULL; /* rekey: keep the last keys for media in flight */
		}
		if (in_place) {
			mm_endpoint_set_conf(t, ep, c, g); /* routes hold the endpoint, not its conf */
			cnt->endpoint_updated++;
			return 0;
		}
		/* A binding kept across the recreation keeps its consent too:
		 * the peer's next check may be seconds away, and until then
		 * nothing (its DTLS handshake neither) would go to it. */
		uint64_t last_check = ep && bound && op->ice ? MM_CNT_GET(ep->ice_last_ns) : 0;
		if (ep)
			mm_endpoint_remove(t, ep, g);
		/* Send from a port of the room's worker (the configuration
		 * guarantees every address has one). */
		int port = mm_dp_egress_port(&t->conf, &op->laddr, r->worker);
		struct mm_ep_ice ice = {.ice = op->ice, .bound = bound, .dtls = op->dtls,
					.dtls_peer_active = op->dtls_peer_active,
					.ice_gen = t->next_uid++};
		memcpy(ice.ufrag, op->ice_ufrag, sizeof(ice.ufrag));
		memcpy(ice.pwd, op->ice_pwd, sizeof(ice.pwd));
		memcpy(ice.fp, op->dtls_fp, sizeof(ice.fp));
		struct mm_endpoint *created =
			port < 0 ? NULL
				 : mm_endpoint_create_ice(t, r, op->endpoint, &key, &op->laddr, op->family,
							  (uint16_t)port, c, op->ice ? &ice : NULL);
		if (!created) {
			mm_keyset_destroy(c->keys);
			mm_conf_drop_caches(NULL, c);
			free(c);
			return -ENOMEM;
		}
		if (last_check)
			__atomic_store_n(&created->ice_last_ns, last_check, __ATOMIC_RELAXED);
		if (ep)
			cnt->endpoint_recreated++;
		else
			cnt->endpoint_created++;
		return 0;
	}
	case OP_EP_DEL:
		mm_endpoint_remove(t, mm_tables_endpoint(t, op->endpoint), g);
		cnt->endpoint_deleted++;
		return 0;
	case OP_ROUTE_PUT:
		cnt->route_put++;
		r = mm_tables_room(t, op->room);
		json_decref(r->explicit_subs);
		r->explicit_subs = op->mode == MM_ROUTE_EXPLICIT ? json_incref(op->subs) : NULL;
		r->mode = op->mode;
		r->route_dirty = true;
		return 0;
	case OP_BLOCK_PUT:
	case OP_BLOCK_DEL:
		return mm_agent_apply_block(t, op, now_ns, g);
	case OP_BAN_PUT:
	case OP_BAN_DEL:
		return mm_agent_apply_ban(t, op, now_ns);
	}
	return -EINVAL;
}

/* Check every op, then apply them all, publish, and bring the guard in
 * step. */
int mm_agent_run_ops(struct mm_agent *a, struct op *ops, size_t n, json_t *results, bool full_sync,
		     struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t now_ns = mm_agent_now(a);
	struct view v = {.t = t, .guard = a->guard, .rooms = json_object(), .eps = json_object(),
			 .keys = json_object(), .ufrags = json_object(),
			 .blocks = {.names = json_object(), .keys = json_object()},
			 .bans = {.names = json_object(), .prefixes = json_object()}};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = check_op(&v, &ops[i], e);
		if (rc)
			e->index = n > 1 ? (long)i : -1;
	}
	json_decref(v.rooms);
	json_decref(v.eps);
	json_decref(v.keys);
	json_decref(v.ufrags);
	json_decref(v.blocks.names);
	json_decref(v.blocks.keys);
	json_decref(v.bans.names);
	json_decref(v.bans.prefixes);
	if (rc)
		return rc;

	struct guard_touch touched;
	mm_agent_guard_collect(a, full_sync ? NULL : ops, full_sync ? 0 : n, &touched);
	struct mm_garbage g = {0};
	for (size_t i = 0; i < n; i++) {
		json_t *res;
		if (apply_op(t, &ops[i], now_ns, &g, &a->ops, &res) != 0) {
			rc = mm_agent_fail(e, "internal", ops[i].path, "out of memory; ops before index %zu applied", i);
			break;
		}
		if (results)
			json_array_append_new(results, res ? res : json_object());
		else
			json_decref(res);
	}
	if (rc == 0) {
		a->ops.requests++;
		a->ops.syncs += full_sync;
	}
	if (mm_tables_publish_routes(t, &g) != 0 && rc == 0)
		rc = mm_agent_fail(e, "internal", "", "out of memory while building routes");
	/* The guard's lists before the reply: a kick acknowledged is in force
	 * at XDP. After the tables changed, so that each touched 5-tuple is
	 * set as the tables have it now. */
	if (full_sync || rc)
		touched.oom = true; /* whole lists: after a partial apply too */
	mm_agent_guard_sync(a, &touched);
	/* The reply is the acknowledgement: after this grace period no
	 * worker uses anything the change replaced. */
	urcu_qsbr_synchronize_rcu();
	mm_garbage_collect(&g, true);
	mm_agent_dtls_sync(a); /* handshakes follow the endpoints */
	return rc;
}
