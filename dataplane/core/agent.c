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

#include "dataplane/proto/base64.h"

struct aerr {
	const char *code; /* NULL: no error */
	char message[256];
	char field[160];
	long index; /* batch index, -1 if none */
};

static int fail(struct aerr *e, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct aerr *e, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	return -EINVAL;
}

/* ---------------------------------------------------------------- ops --- */

enum op_type { OP_ROOM_PUT, OP_ROOM_DEL, OP_EP_PUT, OP_EP_DEL, OP_ROUTE_PUT };

struct op {
	enum op_type type;
	char path[48]; /* "" or "ops[3]." for error fields */
	const char *room;
	const char *endpoint;
	uint32_t capacity;
	/* endpoint.put */
	struct mm_key key;
	struct net_addr laddr;
	uint8_t family;
	struct mm_ep_conf conf;
	bool srtp; /* SRTP wanted (else plain RTP) */
	enum mm_srtp_profile profile;
	bool has_in, has_out;
	uint8_t in_key[MM_SRTP_MASTER_MAX], out_key[MM_SRTP_MASTER_MAX];
	/* route.put */
	enum mm_route_mode mode;
	json_t *subs; /* borrowed from the request */
};

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MM_NAME_MAX)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

static int get_name(json_t *o, const char *key, const char *path, const char **out, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v)
		return fail(e, "missing_field", f, "%s is required", key);
	if (!json_is_string(v) || !name_ok(json_string_value(v)))
		return fail(e, "invalid_field", f,
			    "%s must be a string of 1-64 characters from [A-Za-z0-9._:-]", key);
	*out = json_string_value(v);
	return 0;
}

static int get_uint(json_t *o, const char *key, const char *path, uint64_t lo, uint64_t hi,
		    bool required, uint64_t *out, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			return fail(e, "missing_field", f, "%s is required", key);
		return 1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi)
		return fail(e, "invalid_field", f, "%s must be an integer in %" PRIu64 "..%" PRIu64,
			    key, lo, hi);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(json_t *o, const char *key, const char *path, bool *out, struct aerr *e)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v)) {
		char f[192];
		snprintf(f, sizeof(f), "%s%s", path, key);
		return fail(e, "invalid_field", f, "%s must be true or false", key);
	}
	*out = json_is_true(v);
	return 0;
}

static int get_addr_port(json_t *o, const char *key, const char *path, struct net_addr *addr,
			 uint8_t *family, uint16_t *port, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v)
		return fail(e, "missing_field", f, "%s is required", key);
	if (!json_is_object(v))
		return fail(e, "invalid_field", f, "%s must be {\"addr\":...,\"port\":...}", key);
	json_t *a = json_object_get(v, "addr");
	snprintf(f, sizeof(f), "%s%s.addr", path, key);
	if (!a)
		return fail(e, "missing_field", f, "%s.addr is required", key);
	if (!json_is_string(a) || net_addr_parse(json_string_value(a), addr, family) != 0)
		return fail(e, "invalid_field", f, "%s.addr must be an IPv4 or IPv6 address", key);
	char p[128];
	snprintf(p, sizeof(p), "%s%s.", path, key);
	uint64_t pv;
	if (get_uint(v, "port", p, 1, 65535, true, &pv, e))
		return -EINVAL;
	*port = (uint16_t)pv;
	return 0;
}

static int parse_streams(json_t *o, const char *path, struct mm_ep_conf *c, struct aerr *e)
{
	char f[192];
	json_t *arr = json_object_get(o, "streams");
	snprintf(f, sizeof(f), "%sstreams", path);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return fail(e, "invalid_field", f, "streams must be an array");
	if (json_array_size(arr) > MM_STREAMS_MAX)
		return fail(e, "limit", f, "at most %d streams per endpoint", MM_STREAMS_MAX);
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s) {
		char p[128];
		snprintf(p, sizeof(p), "%sstreams[%zu].", path, i);
		if (!json_is_object(s))
			return fail(e, "invalid_field", p, "a stream must be an object");
		struct mm_stream_conf *sc = &c->streams[i];
		uint64_t v;
		if (get_uint(s, "ssrc", p, 0, UINT32_MAX, true, &v, e))
			return -EINVAL;
		sc->ssrc = (uint32_t)v;
		for (size_t j = 0; j < i; j++)
			if (c->streams[j].ssrc == sc->ssrc) {
				snprintf(f, sizeof(f), "%sssrc", p);
				return fail(e, "invalid_field", f, "ssrc %u listed twice", sc->ssrc);
			}
		json_t *k = json_object_get(s, "kind");
		snprintf(f, sizeof(f), "%skind", p);
		if (!k)
			return fail(e, "missing_field", f, "kind is required");
		const char *ks = json_is_string(k) ? json_string_value(k) : "";
		if (strcmp(ks, "audio") == 0)
			sc->kind = MM_KIND_AUDIO;
		else if (strcmp(ks, "video") == 0)
			sc->kind = MM_KIND_VIDEO;
		else if (strcmp(ks, "screen") == 0)
			sc->kind = MM_KIND_SCREEN;
		else
			return fail(e, "invalid_field", f, "kind must be audio, video or screen");
		int r = get_uint(s, "clock_rate", p, 1000, 1000000, false, &v, e);
		if (r < 0)
			return r;
		sc->clock_rate = r == 0 ? (uint32_t)v : (sc->kind == MM_KIND_AUDIO ? 48000 : 90000);
		sc->muted = sc->kind == MM_KIND_AUDIO ? c->audio_muted : c->video_muted;
	}
	c->n_streams = (uint32_t)json_array_size(arr);
	return 0;
}

static int parse_srtp(json_t *o, struct op *op, struct aerr *e)
{
	char f[192];
	const char *p = op->path;
	json_t *sr = json_object_get(o, "srtp");
	op->srtp = sr != NULL;
	if (!sr)
		return 0;
	snprintf(f, sizeof(f), "%ssrtp", p);
	if (!json_is_object(sr))
		return fail(e, "invalid_field", f, "srtp must be {\"profile\":...,\"in_key\":...,\"out_key\":...}");
	json_t *pr = json_object_get(sr, "profile");
	snprintf(f, sizeof(f), "%ssrtp.profile", p);
	if (!pr)
		return fail(e, "missing_field", f, "srtp.profile is required");
	if (!json_is_string(pr) || mm_srtp_profile_parse(json_string_value(pr), &op->profile) != 0 ||
	    op->profile == MM_SRTP_NONE)
		return fail(e, "invalid_field", f,
			    "srtp.profile must be AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, "
			    "AEAD_AES_128_GCM or AEAD_AES_256_GCM");
	size_t want = mm_srtp_master_len(op->profile);
	const char *names[2] = {"in_key", "out_key"};
	uint8_t *keys[2] = {op->in_key, op->out_key};
	bool *has[2] = {&op->has_in, &op->has_out};
	for (int i = 0; i < 2; i++) {
		json_t *k = json_object_get(sr, names[i]);
		*has[i] = k != NULL;
		if (!k)
			continue;
		snprintf(f, sizeof(f), "%ssrtp.%s", p, names[i]);
		uint8_t buf[64];
		int n = json_is_string(k) ? mm_b64_decode(json_string_value(k), buf, sizeof(buf)) : -1;
		if (n != (int)want)
			return fail(e, "invalid_field", f,
				    "%s must be the base64 of the %zu-byte master key and salt of %s",
				    names[i], want, mm_srtp_profile_name(op->profile));
		memcpy(keys[i], buf, want);
		memset(buf, 0, sizeof(buf));
	}
	return 0;
}

static bool is_local(const struct mm_tables *t, const struct net_addr *a)
{
	for (uint32_t p = 0; p < t->conf.n_ports; p++)
		if (mm_port_is_local(&t->conf.ports[p], a))
			return true;
	return false;
}

static int parse_endpoint_put(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (get_name(o, "endpoint", p, &op->endpoint, e) || get_name(o, "room", p, &op->room, e))
		return -EINVAL;
	uint8_t lfam, rfam;
	uint16_t lport, rport;
	if (get_addr_port(o, "local", p, &op->laddr, &lfam, &lport, e) ||
	    get_addr_port(o, "remote", p, &op->key.raddr, &rfam, &rport, e))
		return -EINVAL;
	if (lfam != rfam) {
		snprintf(f, sizeof(f), "%sremote.addr", p);
		return fail(e, "invalid_field", f, "local and remote must be the same address family");
	}
	if (!is_local(t, &op->laddr)) {
		snprintf(f, sizeof(f), "%slocal.addr", p);
		return fail(e, "not_local", f, "local.addr is not an address of any mmdp port");
	}
	op->family = lfam;
	op->key.lport = lport;
	op->key.rport = rport;

	memset(&op->conf, 0, sizeof(op->conf));
	json_t *mac = json_object_get(o, "mac");
	if (mac) {
		snprintf(f, sizeof(f), "%smac", p);
		if (!json_is_string(mac) || net_mac_parse(json_string_value(mac), op->conf.mac) != 0)
			return fail(e, "invalid_field", f, "mac must look like 02:00:00:00:00:01");
		op->conf.mac_set = true;
	}
	if (get_bool(o, "audio_muted", p, &op->conf.audio_muted, e) ||
	    get_bool(o, "video_muted", p, &op->conf.video_muted, e) || parse_srtp(o, op, e))
		return -EINVAL;
	return parse_streams(o, p, &op->conf, e);
}

static int parse_route_put(json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (get_name(o, "room", p, &op->room, e))
		return -EINVAL;
	json_t *m = json_object_get(o, "mode");
	snprintf(f, sizeof(f), "%smode", p);
	const char *ms = m ? json_string_value(m) : "all";
	if (!ms)
		return fail(e, "invalid_field", f, "mode must be \"all\" or \"explicit\"");
	if (strcmp(ms, "all") == 0) {
		op->mode = MM_ROUTE_ALL;
		op->subs = NULL;
		return 0;
	}
	if (strcmp(ms, "explicit") != 0)
		return fail(e, "invalid_field", f, "mode must be \"all\" or \"explicit\"");
	op->mode = MM_ROUTE_EXPLICIT;
	op->subs = json_object_get(o, "subscriptions");
	snprintf(f, sizeof(f), "%ssubscriptions", p);
	if (!op->subs)
		return fail(e, "missing_field", f, "explicit routes need subscriptions");
	if (!json_is_object(op->subs))
		return fail(e, "invalid_field", f, "subscriptions must map subscriber to publishers");
	const char *sub;
	json_t *list;
	json_object_foreach(op->subs, sub, list) {
		snprintf(f, sizeof(f), "%ssubscriptions.%.40s", p, sub);
		if (!name_ok(sub) || !json_is_array(list))
			return fail(e, "invalid_field", f, "each subscriber maps to an array of names");
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v)
			if (!json_is_string(v) || !name_ok(json_string_value(v)))
				return fail(e, "invalid_field", f, "publishers must be endpoint names");
	}
	return 0;
}

/* Syntax of one changing op. */
static int parse_op(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	snprintf(f, sizeof(f), "%sop", p);
	if (!json_is_object(o))
		return fail(e, "invalid_request", p, "an op must be a JSON object");
	json_t *jop = json_object_get(o, "op");
	if (!jop || !json_is_string(jop))
		return fail(e, "invalid_request", f, "op must be a string");
	const char *name = json_string_value(jop);
	if (strcmp(name, "room.put") == 0) {
		op->type = OP_ROOM_PUT;
		uint64_t cap = MM_ROOM_CAPACITY_MAX;
		if (get_name(o, "room", p, &op->room, e) ||
		    get_uint(o, "capacity", p, 1, MM_ROOM_CAPACITY_MAX, false, &cap, e) < 0)
			return -EINVAL;
		op->capacity = (uint32_t)cap;
		return 0;
	}
	if (strcmp(name, "room.del") == 0) {
		op->type = OP_ROOM_DEL;
		return get_name(o, "room", p, &op->room, e);
	}
	if (strcmp(name, "endpoint.put") == 0) {
		op->type = OP_EP_PUT;
		return parse_endpoint_put(t, o, op, e);
	}
	if (strcmp(name, "endpoint.del") == 0) {
		op->type = OP_EP_DEL;
		return get_name(o, "endpoint", p, &op->endpoint, e);
	}
	if (strcmp(name, "route.put") == 0) {
		op->type = OP_ROUTE_PUT;
		return parse_route_put(o, op, e);
	}
	return fail(e, "unknown_op", f, "unknown or non-batchable op \"%.64s\"", name);
}

/* --------------------------------------------------------------- view --- */

struct view {
	struct mm_tables *t;
	json_t *rooms; /* name -> [exists, capacity, count] */
	json_t *eps;   /* name -> [exists, room, keystr] */
	json_t *keys;  /* keystr -> name | null */
	long rooms_delta, eps_delta;
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
	key_str(&ep->key, keystr);
	return true;
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
				return fail(e, "room_full", f, "room %s has %u endpoints", op->room, count);
			}
			view_set_room(v, op->room, true, op->capacity, count);
			return 0;
		}
		if (v->t->n_rooms + v->rooms_delta >= MM_ROOMS_MAX)
			return fail(e, "limit", p, "at most %d rooms", MM_ROOMS_MAX);
		v->rooms_delta++;
		view_set_room(v, op->room, true, op->capacity, 0);
		return 0;

	case OP_ROOM_DEL: {
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return fail(e, "not_found", f, "no room %s", op->room);
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
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return fail(e, "not_found", f, "no room %s", op->room);
		char key[48];
		key_str(&op->key, key);
		const char *owner = view_key_owner(v, &op->key, key);
		if (owner && strcmp(owner, op->endpoint) != 0) {
			snprintf(f, sizeof(f), "%sremote", p);
			return fail(e, "conflict", f, "this 5-tuple belongs to endpoint %s", owner);
		}
		bool exists = view_ep(v, op->endpoint, &eroom, ekey);
		bool same_room = exists && strcmp(eroom, op->room) == 0;
		if (!same_room && count >= cap)
			return fail(e, "room_full", f, "room %s is at its capacity of %u", op->room, cap);
		if (exists && (!same_room || strcmp(ekey, key) != 0)) {
			view_del_ep(v, op->endpoint, eroom, ekey); /* moves */
			exists = false;
		}
		if (!exists) {
			if (v->t->n_endpoints + v->eps_delta >= MM_ENDPOINTS_MAX)
				return fail(e, "limit", p, "at most %u endpoints", MM_ENDPOINTS_MAX);
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
			return fail(e, "not_found", f, "no endpoint %s", op->endpoint);
		view_del_ep(v, op->endpoint, eroom, ekey);
		return 0;

	case OP_ROUTE_PUT: {
		snprintf(f, sizeof(f), "%sroom", p);
		if (!view_room(v, op->room, &cap, &count))
			return fail(e, "not_found", f, "no room %s", op->room);
		const char *sub;
		json_t *list;
		json_object_foreach(op->subs, sub, list) {
			snprintf(f, sizeof(f), "%ssubscriptions.%.40s", p, sub);
			if (!view_ep(v, sub, &eroom, ekey) || strcmp(eroom, op->room) != 0)
				return fail(e, "not_found", f, "%s is not an endpoint of room %s", sub,
					    op->room);
			size_t i;
			json_t *pub;
			json_array_foreach(list, i, pub) {
				const char *pn = json_string_value(pub);
				if (!view_ep(v, pn, &eroom, ekey) || strcmp(eroom, op->room) != 0)
					return fail(e, "not_found", f, "%s is not an endpoint of room %s",
						    pn, op->room);
			}
		}
		return 0;
	}
	}
	return fail(e, "internal", p, "unhandled op");
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

static int apply_op(struct mm_tables *t, const struct op *op, struct mm_garbage *g, json_t **result)
{
	struct mm_room *r;
	struct mm_endpoint *ep;
	*result = NULL;

	switch (op->type) {
	case OP_ROOM_PUT:
		r = mm_tables_room(t, op->room);
		if (r)
			r->capacity = op->capacity;
		else if (!(r = mm_room_create(t, op->room, op->capacity)))
			return -ENOMEM;
		*result = json_pack("{sssI}", "room", r->name, "worker", (json_int_t)r->worker);
		return 0;
	case OP_ROOM_DEL:
		mm_room_remove(t, mm_tables_room(t, op->room), g);
		return 0;
	case OP_EP_PUT: {
		r = mm_tables_room(t, op->room);
		ep = mm_tables_endpoint(t, op->endpoint);
		struct mm_ep_conf *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		*c = op->conf;
		bool in_place = ep && ep->room == r && memcmp(&ep->key, &op->key, sizeof(op->key)) == 0 &&
				memcmp(&ep->laddr, &op->laddr, sizeof(op->laddr)) == 0;
		const struct mm_ep_conf *old = in_place ? ep->conf : NULL;
		c->keys = c->prev_keys = NULL;
		if (op->srtp && old && same_keys(old->keys, op)) {
			c->keys = old->keys; /* not a rekey: sessions go on */
			c->prev_keys = old->prev_keys;
		} else if (op->srtp) {
			c->keys = mm_keyset_create(t, op->profile, op->has_in ? op->in_key : NULL,
						   op->has_out ? op->out_key : NULL);
			if (!c->keys) {
				free(c);
				return -ENOMEM;
			}
			c->prev_keys = old ? old->keys : NULL; /* rekey: keep the last keys for media in flight */
		}
		if (in_place) {
			mm_endpoint_set_conf(t, ep, c, g); /* routes hold the endpoint, not its conf */
			return 0;
		}
		if (ep)
			mm_endpoint_remove(t, ep, g);
		/* Send from a port of the room's worker (the configuration
		 * guarantees every address has one). */
		int port = mm_dp_egress_port(&t->conf, &op->laddr, r->worker);
		if (port < 0 || !mm_endpoint_create(t, r, op->endpoint, &op->key, &op->laddr,
						    op->family, (uint16_t)port, c)) {
			mm_keyset_destroy(c->keys);
			free(c);
			return -ENOMEM;
		}
		return 0;
	}
	case OP_EP_DEL:
		mm_endpoint_remove(t, mm_tables_endpoint(t, op->endpoint), g);
		return 0;
	case OP_ROUTE_PUT:
		r = mm_tables_room(t, op->room);
		json_decref(r->explicit_subs);
		r->explicit_subs = op->mode == MM_ROUTE_EXPLICIT ? json_incref(op->subs) : NULL;
		r->mode = op->mode;
		r->route_dirty = true;
		return 0;
	}
	return -EINVAL;
}

/* Check every op, then apply them all and publish. */
static int run_ops(struct mm_tables *t, struct op *ops, size_t n, json_t *results, struct aerr *e)
{
	struct view v = {.t = t, .rooms = json_object(), .eps = json_object(), .keys = json_object()};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = check_op(&v, &ops[i], e);
		if (rc)
			e->index = n > 1 ? (long)i : -1;
	}
	json_decref(v.rooms);
	json_decref(v.eps);
	json_decref(v.keys);
	if (rc)
		return rc;

	struct mm_garbage g = {0};
	for (size_t i = 0; i < n; i++) {
		json_t *res;
		if (apply_op(t, &ops[i], &g, &res) != 0) {
			rc = fail(e, "internal", ops[i].path, "out of memory; ops before index %zu applied", i);
			break;
		}
		if (results)
			json_array_append_new(results, res ? res : json_object());
		else
			json_decref(res);
	}
	if (mm_tables_publish_routes(t, &g) != 0 && rc == 0)
		rc = fail(e, "internal", "", "out of memory while building routes");
	/* The reply is the acknowledgement: after this grace period no
	 * worker uses anything the change replaced. */
	urcu_qsbr_synchronize_rcu();
	mm_garbage_collect(&g, true);
	return rc;
}

/* -------------------------------------------------------------- stats --- */

static json_t *drops_json(const uint64_t *d)
{
	json_t *o = json_object();
	for (unsigned i = 1; i < MM_DROP__COUNT; i++)
		json_object_set_new(o, mm_drop_reason_name(i), json_integer((json_int_t)d[i]));
	return o;
}

static const char *kind_name(uint8_t k)
{
	return k == MM_KIND_AUDIO ? "audio" : k == MM_KIND_VIDEO ? "video" : "screen";
}

static json_t *endpoint_stats(const struct mm_endpoint *ep)
{
	const struct mm_ep_conf *c = ep->conf;
	json_t *streams = json_array();
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const struct mm_stream_conf *sc = &c->streams[i];
		const struct mm_stream_state *ss = &ep->streams[sc->state_idx];
		struct rtp_stats st = {0};
		uint64_t packets = 0, bytes = 0;
		if (MM_CNT_GET(ss->uid) == sc->uid) {
			st = ss->rtp; /* racy snapshot of a single-writer struct */
			packets = MM_CNT_GET(ss->packets);
			bytes = MM_CNT_GET(ss->bytes);
		}
		json_array_append_new(
			streams, json_pack("{sIsssIsIsIsIsI}", "ssrc", (json_int_t)sc->ssrc, "kind",
					   kind_name(sc->kind), "packets", (json_int_t)packets, "bytes",
					   (json_int_t)bytes, "lost", (json_int_t)rtp_stats_lost(&st),
					   "jitter", (json_int_t)rtp_stats_jitter(&st), "ext_max_seq",
					   (json_int_t)rtp_stats_ext_max(&st)));
	}
	json_t *srtp = json_null();
	if (c->keys)
		srtp = json_pack("{sssbsbsb}", "profile", mm_srtp_profile_name(c->keys->profile), "in_key",
				 c->keys->has_in, "out_key", c->keys->has_out, "previous_keys",
				 c->prev_keys != NULL);
	return json_pack("{sssIsosIsIsIsIsIsbsbsbso}", "endpoint", ep->name, "memory_bytes",
			 (json_int_t)mm_endpoint_memory(ep), "srtp", srtp, "rx_packets",
			 (json_int_t)MM_CNT_GET(ep->rx_packets), "rx_bytes",
			 (json_int_t)MM_CNT_GET(ep->rx_bytes), "tx_packets",
			 (json_int_t)MM_CNT_GET(ep->tx_packets), "tx_bytes",
			 (json_int_t)MM_CNT_GET(ep->tx_bytes), "muted_packets",
			 (json_int_t)MM_CNT_GET(ep->muted_packets), "mac_learned",
			 MM_CNT_GET(ep->mac_learned) != 0, "audio_muted", c->audio_muted, "video_muted",
			 c->video_muted, "streams", streams);
}

static json_t *room_stats(const struct mm_room *r)
{
	json_t *eps = json_array();
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			json_array_append_new(eps, endpoint_stats(r->members[s]));
	return json_pack("{sssIsIsIsIsIso}", "room", r->name, "worker", (json_int_t)r->worker,
			 "rx_packets", (json_int_t)MM_CNT_GET(r->rx_packets), "rx_bytes",
			 (json_int_t)MM_CNT_GET(r->rx_bytes), "tx_packets",
			 (json_int_t)MM_CNT_GET(r->tx_packets), "tx_bytes",
			 (json_int_t)MM_CNT_GET(r->tx_bytes), "endpoints", eps);
}

static json_t *room_info(const struct mm_room *r)
{
	json_t *eps = json_array();
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			json_array_append_new(eps, json_string(r->members[s]->name));
	json_t *o = json_pack("{sssIsIsssIso}", "room", r->name, "capacity", (json_int_t)r->capacity,
			      "worker", (json_int_t)r->worker, "route",
			      r->mode == MM_ROUTE_ALL ? "all" : "explicit", "count",
			      (json_int_t)r->n_members, "endpoints", eps);
	if (r->mode == MM_ROUTE_EXPLICIT)
		json_object_set(o, "subscriptions", r->explicit_subs);
	return o;
}

static json_t *stats_get(struct mm_agent *a, json_t *req, struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t total[MM_DROP__COUNT] = {0};
	json_t *workers = json_array();
	for (uint32_t w = 0; w < t->conf.n_workers; w++) {
		const struct mm_worker_stats *ws = &t->wstats[w];
		uint64_t d[MM_DROP__COUNT];
		for (unsigned i = 0; i < MM_DROP__COUNT; i++) {
			d[i] = MM_CNT_GET(ws->drops[i]);
			total[i] += d[i];
		}
		json_array_append_new(
			workers,
			json_pack("{sIsIsIsIsIsIsIsIso}", "worker", (json_int_t)w, "lcore",
				  (json_int_t)a->worker_lcore[w], "neigh_replies",
				  (json_int_t)MM_CNT_GET(ws->neigh_replies), "rx_packets",
				  (json_int_t)MM_CNT_GET(ws->rx_packets), "tx_packets",
				  (json_int_t)MM_CNT_GET(ws->tx_packets), "tx_bytes",
				  (json_int_t)MM_CNT_GET(ws->tx_bytes), "handoff_out",
				  (json_int_t)MM_CNT_GET(ws->handoff_out), "handoff_in",
				  (json_int_t)MM_CNT_GET(ws->handoff_in), "drops", drops_json(d)));
	}
	json_t *rooms = json_array();
	json_t *jr = json_object_get(req, "room");
	if (jr) {
		struct mm_room *r = json_is_string(jr) ? mm_tables_room(t, json_string_value(jr)) : NULL;
		if (!r) {
			json_decref(workers);
			json_decref(rooms);
			fail(e, json_is_string(jr) ? "not_found" : "invalid_field", "room", "no such room");
			return NULL;
		}
		json_array_append_new(rooms, room_stats(r));
	} else {
		struct cds_lfht_iter it;
		struct mm_room *r;
		MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node)
			json_array_append_new(rooms, room_stats(r));
	}
	return json_pack("{sbsIsososo}", "ok", 1, "generation", (json_int_t)t->generation, "drops",
			 drops_json(total), "workers", workers, "rooms", rooms);
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
		if (parse_op(t, c, op, e))
			return -EINVAL;
		const char *name = op->type == OP_ROOM_PUT ? op->room : op->endpoint;
		if (json_object_get(seen, name))
			return fail(e, "invalid_field", op->path, "%s listed twice", name);
		json_object_set_new(seen, name, json_true());
	}
	return 0;
}

static int sync_to_ops(struct mm_tables *t, json_t *req, struct op **opsp, size_t *np, json_t *keep,
		       struct aerr *e)
{
	json_t *rooms = json_object_get(req, "rooms");
	json_t *eps = json_object_get(req, "endpoints");
	if (!rooms || !json_is_array(rooms))
		return fail(e, rooms ? "invalid_field" : "missing_field", "rooms", "rooms must be an array");
	if (eps && !json_is_array(eps))
		return fail(e, "invalid_field", "endpoints", "endpoints must be an array");
	size_t nr = json_array_size(rooms), ne = json_array_size(eps);
	size_t max = t->n_endpoints + t->n_rooms + 2 * nr + ne + 1;
	struct op *ops = calloc(max, sizeof(*ops));
	if (!ops)
		return fail(e, "internal", "", "out of memory");
	*opsp = ops;
	size_t n = 0;
	json_t *want_rooms = json_object(), *want_eps = json_object();
	json_array_append_new(keep, want_rooms);
	json_array_append_new(keep, want_eps);

	/* Desired rooms and endpoints, syntax first. */
	struct op *puts = ops + t->n_endpoints + t->n_rooms;
	size_t np_ = 0;
	if (sync_parse_list(t, rooms, "rooms", "room.put", puts, &np_, want_rooms, keep, e) ||
	    sync_parse_list(t, eps, "endpoints", "endpoint.put", puts, &np_, want_eps, keep, e))
		return -EINVAL;
	for (size_t k = 0; k < nr; k++) {
		json_t *c = json_array_get(rooms, k);
		json_t *route = json_object_get(c, "route");
		struct op *op = &puts[np_++];
		snprintf(op->path, sizeof(op->path), "rooms[%zu].route.", k);
		json_t *rc = route ? json_deep_copy(route) : json_object();
		json_array_append_new(keep, rc);
		if (!json_is_object(rc))
			return fail(e, "invalid_field", op->path, "route must be an object");
		json_object_set_new(rc, "op", json_string("route.put"));
		json_object_set(rc, "room", json_object_get(c, "room"));
		if (parse_op(t, rc, op, e))
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
	memmove(ops + n, puts, np_ * sizeof(*ops));
	*np = n + np_;
	return 0;
}

static json_t *handle_change(struct mm_agent *a, json_t *req, const char *opname, struct aerr *e)
{
	struct mm_tables *t = a->t;
	uint64_t gen = 0;
	int has_gen = get_uint(req, "generation", "", 0, INT64_MAX, false, &gen, e);
	if (has_gen < 0)
		return NULL;
	if (has_gen == 0 && gen < t->generation) {
		fail(e, "stale_generation", "generation",
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
			rc = fail(e, arr ? "invalid_field" : "missing_field", "ops", "ops must be an array");
			goto out;
		}
		n = json_array_size(arr);
		ops = calloc(n ? n : 1, sizeof(*ops));
		if (!ops) {
			rc = fail(e, "internal", "", "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(ops[i].path, sizeof(ops[i].path), "ops[%zu].", i);
			rc = parse_op(t, json_array_get(arr, i), &ops[i], e);
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
			rc = fail(e, "internal", "", "out of memory");
			goto out;
		}
		rc = parse_op(t, req, &ops[0], e);
		if (rc)
			goto out;
		results = json_array();
	}
	rc = run_ops(t, ops, n, results, e);
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
	if (strcmp(op, "hello") == 0)
		return json_pack("{sbsisIsIsIsI}", "ok", 1, "version", MM_AGENT_PROTOCOL_VERSION,
				 "generation", (json_int_t)t->generation, "workers",
				 (json_int_t)t->conf.n_workers, "rooms", (json_int_t)t->n_rooms,
				 "endpoints", (json_int_t)t->n_endpoints);
	if (strcmp(op, "stats.get") == 0)
		return stats_get(a, req, e);
	if (strcmp(op, "room.list") == 0) {
		json_t *rooms = json_array();
		struct cds_lfht_iter it;
		struct mm_room *r;
		MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node)
			json_array_append_new(rooms, room_info(r));
		return json_pack("{sbso}", "ok", 1, "rooms", rooms);
	}
	if (strcmp(op, "room.get") == 0) {
		const char *name;
		if (get_name(req, "room", "", &name, e))
			return NULL;
		struct mm_room *r = mm_tables_room(t, name);
		if (!r) {
			fail(e, "not_found", "room", "no room %s", name);
			return NULL;
		}
		json_t *o = room_info(r);
		json_object_set_new(o, "ok", json_true());
		return o;
	}
	if (strcmp(op, "endpoint.get") == 0) {
		const char *name;
		if (get_name(req, "endpoint", "", &name, e))
			return NULL;
		struct mm_endpoint *ep = mm_tables_endpoint(t, name);
		if (!ep) {
			fail(e, "not_found", "endpoint", "no endpoint %s", name);
			return NULL;
		}
		json_t *o = endpoint_stats(ep);
		char la[64], ra[64];
		json_object_set_new(o, "ok", json_true());
		json_object_set_new(o, "room", json_string(ep->room->name));
		json_object_set_new(o, "local",
				    json_pack("{sssi}", "addr", net_addr_format(&ep->laddr, la, sizeof(la)),
					      "port", ep->key.lport));
		json_object_set_new(o, "remote",
				    json_pack("{sssi}", "addr", net_addr_format(&ep->key.raddr, ra, sizeof(ra)),
					      "port", ep->key.rport));
		return o;
	}
	return NULL;
}

static char *error_line(json_t *id, const struct aerr *e)
{
	json_t *err = json_pack("{ssss}", "code", e->code, "message", e->message);
	if (e->field[0])
		json_object_set_new(err, "field", json_string(e->field));
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
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		fail(&e, "parse_error", NULL, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return error_line(NULL, &e);
	}
	json_t *id = json_object_get(req, "id");
	json_t *jop = json_object_get(req, "op");
	json_t *reply = NULL;
	if (!json_is_object(req) || !json_is_string(jop)) {
		fail(&e, "invalid_request", "op", "a request is an object with a string \"op\"");
	} else {
		const char *op = json_string_value(jop);
		static const char *const changes[] = {"room.put", "room.del", "endpoint.put",
						      "endpoint.del", "route.put", "batch",
						      "state.sync"};
		bool change = false;
		for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
			change |= strcmp(op, changes[i]) == 0;
		if (change)
			reply = handle_change(a, req, op, &e);
		else if (!(reply = handle_read(a, req, op, &e)) && !e.code)
			fail(&e, "unknown_op", "op", "unknown op \"%.64s\"", op);
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
