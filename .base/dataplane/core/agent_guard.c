/* Agent protocol: the XDP guard's allowlist and kicked list kept in step
 * with mmdp's endpoints and blocks (see agent_guard.h).
 *
 * A change request touches a few 5-tuples: before the ops are applied the
 * agent records every 5-tuple they may free or add (an endpoint's or
 * block's current one, the one an op puts); after, it sets each of them in
 * the maps exactly as the tables now have it: put if an endpoint (block)
 * holds it, deleted otherwise. That is correct whatever the ops did in
 * between (moves, a batch deleting what it created, a room removed with its
 * endpoints). state.sync, mmdp's start and recovery after a failed update
 * reconcile the whole maps instead. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent_internal.h"

/* ----------------------------------------------------------- 5-tuples --- */

static void tuple_make(struct mm_guard_tuple *t, const struct net_addr *raddr, uint16_t rport,
		       const struct net_addr *laddr, uint16_t lport)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->remote_addr, raddr->b, 16);
	memcpy(t->local_addr, laddr->b, 16);
	t->remote_port = htons(rport);
	t->local_port = htons(lport);
}

static void tuple_of_ep(const struct mm_endpoint *ep, struct mm_guard_tuple *t)
{
	tuple_make(t, &ep->key.raddr, ep->key.rport, &ep->laddr, ep->key.lport);
}

static void tuple_of_bkey(const struct mm_block_key *k, struct mm_guard_tuple *t)
{
	tuple_make(t, &k->raddr, k->rport, &k->laddr, k->lport);
}

static void bkey_of_tuple(const struct mm_guard_tuple *t, struct mm_block_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->raddr.b, t->remote_addr, 16);
	memcpy(k->laddr.b, t->local_addr, 16);
	k->rport = ntohs(t->remote_port);
	k->lport = ntohs(t->local_port);
}

/* Does an endpoint hold this 5-tuple (local address included)? */
static bool ep_holds(struct mm_tables *t, const struct mm_guard_tuple *gt)
{
	struct mm_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.raddr.b, gt->remote_addr, 16);
	k.lport = ntohs(gt->local_port);
	k.rport = ntohs(gt->remote_port);
	struct mm_endpoint *ep = mm_tables_lookup(t, &k);
	return ep && memcmp(ep->laddr.b, gt->local_addr, 16) == 0;
}

static struct mm_block *block_holding(struct mm_tables *t, const struct mm_guard_tuple *gt)
{
	struct mm_block_key k;
	bkey_of_tuple(gt, &k);
	return mm_tables_block_lookup(t, &k);
}

/* ------------------------------------------------------------ reports --- */

static void guard_log(struct mm_agent_guard *g, const char *line)
{
	if (g->log)
		g->log(g->ctx, line);
}

/* Count one map update; a failure is recorded, logged, and makes the
 * guard dirty (the agent tick reconciles it later). Returns 1 on failure. */
static int note(struct mm_agent *a, int rc, const char *what, const struct mm_guard_tuple *t)
{
	struct mm_agent_guard *g = a->guard;
	if (rc == 0) {
		g->updates++;
		return 0;
	}
	g->errors++;
	g->request_errors++;
	if (!g->dirty)
		g->next_retry_ns = mm_agent_now(a) + MM_AGENT_GUARD_RETRY_NS;
	g->dirty = true;
	char ra[64] = "", la[64] = "";
	if (t) {
		struct net_addr r, l;
		memcpy(r.b, t->remote_addr, 16);
		memcpy(l.b, t->local_addr, 16);
		net_addr_format(&r, ra, sizeof(ra));
		net_addr_format(&l, la, sizeof(la));
		snprintf(g->last_error, sizeof(g->last_error), "%s %s:%u -> %s:%u: %s", what, ra,
			 ntohs(t->remote_port), la, ntohs(t->local_port), strerror(-rc));
	} else {
		snprintf(g->last_error, sizeof(g->last_error), "%s: %s", what, strerror(-rc));
	}
	char line[256];
	snprintf(line, sizeof(line), "guard: %s (retrying)", g->last_error);
	guard_log(g, line);
	return 1;
}

static int set_ep(struct mm_agent *a, const struct mm_guard_tuple *gt)
{
	struct mm_agent_guard *g = a->guard;
	if (ep_holds(a->t, gt))
		return note(a, g->ops->allow_put(g->ctx, gt), "allowlist put", gt);
	int rc = g->ops->allow_del(g->ctx, gt);
	return note(a, rc == -ENOENT ? 0 : rc, "allowlist delete", gt);
}

static int set_block(struct mm_agent *a, const struct mm_guard_tuple *gt)
{
	struct mm_agent_guard *g = a->guard;
	struct mm_block *b = block_holding(a->t, gt);
	if (b)
		return note(a, g->ops->kick_put(g->ctx, gt, b->expires_ns), "kicked put", gt);
	int rc = g->ops->kick_del(g->ctx, gt);
	return note(a, rc == -ENOENT ? 0 : rc, "kicked delete", gt);
}

static int note_prefix(struct mm_agent *a, int rc, const char *what, const struct mm_guard_prefix *p)
{
	if (rc == 0)
		return note(a, 0, what, NULL);
	char buf[64], w[96];
	struct net_addr x;
	memcpy(x.b, p->addr, 16);
	net_addr_format(&x, buf, sizeof(buf));
	snprintf(w, sizeof(w), "%s %s/%u", what, buf, (unsigned)p->prefixlen);
	return note(a, rc, w, NULL);
}

static int set_prefix(struct mm_agent *a, const struct mm_guard_prefix *p)
{
	struct mm_agent_guard *g = a->guard;
	if (!g->ops->prefix_put || !g->ops->prefix_del)
		return 0;
	struct mm_ban *b = mm_agent_ban_of(a->t, p->addr, (uint8_t)p->prefixlen);
	if (b)
		return note_prefix(a, g->ops->prefix_put(g->ctx, p, b->expires_ns), "prefix put", p);
	int rc = g->ops->prefix_del(g->ctx, p);
	return note_prefix(a, rc == -ENOENT ? 0 : rc, "prefix delete", p);
}

/* ------------------------------------------------------ touched tuples --- */

void mm_agent_guard_touch_prefix(struct guard_touch *tc, const uint8_t addr[16], uint8_t len)
{
	if (tc->n_prefixes == tc->cap_prefixes) {
		size_t cap = tc->cap_prefixes ? 2 * tc->cap_prefixes : 16;
		struct mm_guard_prefix *v = realloc(tc->prefixes, cap * sizeof(*v));
		if (!v) {
			tc->oom = true;
			return;
		}
		tc->prefixes = v;
		tc->cap_prefixes = cap;
	}
	struct mm_guard_prefix *p = &tc->prefixes[tc->n_prefixes++];
	memset(p, 0, sizeof(*p));
	p->prefixlen = len;
	memcpy(p->addr, addr, 16);
}


static void touch_ep(struct guard_touch *tc, const struct mm_guard_tuple *t)
{
	if (tc->n_eps == tc->cap_eps) {
		size_t cap = tc->cap_eps ? 2 * tc->cap_eps : 16;
		struct mm_guard_tuple *v = realloc(tc->eps, cap * sizeof(*v));
		if (!v) {
			tc->oom = true;
			return;
		}
		tc->eps = v;
		tc->cap_eps = cap;
	}
	tc->eps[tc->n_eps++] = *t;
}

static void touch_block(struct guard_touch *tc, const struct mm_block_key *k)
{
	if (tc->n_blocks == tc->cap_blocks) {
		size_t cap = tc->cap_blocks ? 2 * tc->cap_blocks : 16;
		struct mm_block_key *v = realloc(tc->blocks, cap * sizeof(*v));
		if (!v) {
			tc->oom = true;
			return;
		}
		tc->blocks = v;
		tc->cap_blocks = cap;
	}
	tc->blocks[tc->n_blocks++] = *k;
}

static void touch_live_ep(struct guard_touch *tc, const struct mm_endpoint *ep)
{
	struct mm_guard_tuple t;
	if (!ep)
		return;
	tuple_of_ep(ep, &t);
	touch_ep(tc, &t);
}

void mm_agent_guard_touch_ep(struct guard_touch *tc, const struct mm_endpoint *ep)
{
	touch_live_ep(tc, ep);
}

void mm_agent_guard_collect(struct mm_agent *a, const struct op *ops, size_t n,
			    struct guard_touch *tc)
{
	struct mm_tables *t = a->t;
	memset(tc, 0, sizeof(*tc));
	if (!a->guard)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct op *op = &ops[i];
		struct mm_guard_tuple gt;
		struct mm_block *b;
		switch (op->type) {
		case OP_EP_PUT:
			touch_live_ep(tc, mm_tables_endpoint(t, op->endpoint));
			tuple_make(&gt, &op->key.raddr, op->key.rport, &op->laddr, op->key.lport);
			touch_ep(tc, &gt);
			break;
		case OP_EP_DEL:
			touch_live_ep(tc, mm_tables_endpoint(t, op->endpoint));
			break;
		case OP_ROOM_DEL: {
			struct mm_room *r = mm_tables_room(t, op->room);
			for (uint32_t s = 0; r && s < MM_ROOM_CAPACITY_MAX; s++)
				touch_live_ep(tc, r->members[s]);
			break;
		}
		case OP_BLOCK_PUT:
			if ((b = mm_tables_block(t, op->block)))
				touch_block(tc, &b->key);
			touch_block(tc, &op->bkey);
			break;
		case OP_BLOCK_DEL:
			if ((b = mm_tables_block(t, op->block)))
				touch_block(tc, &b->key);
			break;
		case OP_BAN_PUT:
		case OP_BAN_DEL: {
			struct mm_ban *bn = mm_agent_ban(t, op->ban);
			if (bn)
				mm_agent_guard_touch_prefix(tc, bn->addr, bn->prefixlen);
			if (op->type == OP_BAN_PUT)
				mm_agent_guard_touch_prefix(tc, op->ban_addr, op->ban_len);
			break;
		}
		case OP_ROOM_PUT:
		case OP_ROUTE_PUT:
			break;
		}
	}
}

void mm_agent_guard_collect_expiring(struct mm_agent *a, uint64_t now_ns, struct guard_touch *tc)
{
	memset(tc, 0, sizeof(*tc));
	if (!a->guard || now_ns < a->t->blocks_next_expiry)
		return;
	struct cds_lfht_iter it;
	struct mm_block *b;
	MM_LFHT_FOREACH(a->t->blocks_by_name, &it, b, name_node)
		if (b->expires_ns <= now_ns)
			touch_block(tc, &b->key);
}

int mm_agent_guard_sync(struct mm_agent *a, struct guard_touch *tc)
{
	int fails = 0;
	if (a->guard && tc->oom) {
		fails = mm_agent_guard_resync(a);
	} else if (a->guard) {
		for (size_t i = 0; i < tc->n_eps; i++)
			fails += set_ep(a, &tc->eps[i]);
		for (size_t i = 0; i < tc->n_blocks; i++) {
			struct mm_guard_tuple gt;
			tuple_of_bkey(&tc->blocks[i], &gt);
			fails += set_block(a, &gt);
		}
		for (size_t i = 0; i < tc->n_prefixes; i++)
			fails += set_prefix(a, &tc->prefixes[i]);
	}
	free(tc->eps);
	free(tc->blocks);
	free(tc->prefixes);
	memset(tc, 0, sizeof(*tc));
	return fails;
}

/* ------------------------------------------------------ whole lists --- */

struct stale_ctx {
	struct mm_agent *a;
	bool kicked;
	int fails;
};

static int drop_stale(void *arg, const struct mm_guard_tuple *gt)
{
	struct stale_ctx *c = arg;
	struct mm_agent_guard *g = c->a->guard;
	if (!c->kicked && !ep_holds(c->a->t, gt)) {
		int rc = g->ops->allow_del(g->ctx, gt);
		c->fails += note(c->a, rc == -ENOENT ? 0 : rc, "allowlist delete", gt);
	} else if (c->kicked && !block_holding(c->a->t, gt)) {
		int rc = g->ops->kick_del(g->ctx, gt);
		c->fails += note(c->a, rc == -ENOENT ? 0 : rc, "kicked delete", gt);
	}
	return 0;
}

static int drop_stale_prefix(void *arg, const struct mm_guard_prefix *p)
{
	struct stale_ctx *c = arg;
	struct mm_agent_guard *g = c->a->guard;
	if (p->prefixlen > 128 || !mm_agent_ban_of(c->a->t, p->addr, (uint8_t)p->prefixlen)) {
		int rc = g->ops->prefix_del(g->ctx, p);
		c->fails += note_prefix(c->a, rc == -ENOENT ? 0 : rc, "prefix delete", p);
	}
	return 0;
}

int mm_agent_guard_resync(struct mm_agent *a)
{
	struct mm_agent_guard *g = a->guard;
	if (!g)
		return 0;
	bool was_dirty = g->dirty;
	g->dirty = false;
	struct stale_ctx c = {.a = a};
	int rc = g->ops->tuples(g->ctx, false, drop_stale, &c);
	if (rc)
		c.fails += note(a, rc, "listing the allowlist", NULL);
	c.kicked = true;
	rc = g->ops->tuples(g->ctx, true, drop_stale, &c);
	if (rc)
		c.fails += note(a, rc, "listing the kicked 5-tuples", NULL);

	struct cds_lfht_iter it;
	struct mm_endpoint *ep;
	struct mm_guard_tuple gt;
	MM_LFHT_FOREACH(a->t->eps_by_name, &it, ep, name_node) {
		tuple_of_ep(ep, &gt);
		c.fails += note(a, g->ops->allow_put(g->ctx, &gt), "allowlist put", &gt);
	}
	struct mm_block *b;
	MM_LFHT_FOREACH(a->t->blocks_by_name, &it, b, name_node) {
		tuple_of_bkey(&b->key, &gt);
		c.fails += note(a, g->ops->kick_put(g->ctx, &gt, b->expires_ns), "kicked put", &gt);
	}
	if (g->ops->prefix_put && g->ops->prefix_del && g->ops->prefixes) {
		rc = g->ops->prefixes(g->ctx, drop_stale_prefix, &c);
		if (rc)
			c.fails += note(a, rc, "listing the banned prefixes", NULL);
		for (uint32_t i = 0; i < a->t->n_bans; i++) {
			struct mm_guard_prefix p = {.prefixlen = a->t->bans[i].prefixlen};
			memcpy(p.addr, a->t->bans[i].addr, 16);
			c.fails += note_prefix(a, g->ops->prefix_put(g->ctx, &p, a->t->bans[i].expires_ns),
					       "prefix put", &p);
		}
	}
	g->resyncs++;
	if (was_dirty && !g->dirty)
		guard_log(g, "guard: allowlist, kicked 5-tuples and bans back in step with the tables");
	return c.fails;
}

void mm_agent_guard_tick(struct mm_agent *a, uint64_t now_ns)
{
	struct mm_agent_guard *g = a->guard;
	if (!g || !g->dirty || now_ns < g->next_retry_ns)
		return;
	g->next_retry_ns = now_ns + MM_AGENT_GUARD_RETRY_NS;
	mm_agent_guard_resync(a);
}

/* -------------------------------------------------------------- checks --- */

int mm_agent_guard_check_ep(const struct mm_agent_guard *g, const struct op *op, struct aerr *e)
{
	if (!g || op->type != OP_EP_PUT)
		return 0;
	if (op->key.lport < g->port_lo || op->key.lport > g->port_hi) {
		char f[192];
		snprintf(f, sizeof(f), "%slocal.port", op->path);
		return mm_agent_fail(e, "invalid_field", f,
				     "local.port %u is outside the XDP guard's media ports %u..%u "
				     "(its media would never reach mmdp)",
				     op->key.lport, g->port_lo, g->port_hi);
	}
	return 0;
}

/* -------------------------------------------------------------- stats --- */

static const char *const verdict_names[MM_GUARD__VERDICTS] = {
	[MM_GUARD_PASS] = "pass",
	[MM_GUARD_ACCEPT] = "accept",
	[MM_GUARD_REDIRECT] = "redirect",
	[MM_GUARD_DROP] = "drop",
};

static json_t *pb(const struct mm_guard_counter *c)
{
	return json_pack("{sIsI}", "packets", (json_int_t)c->packets, "bytes", (json_int_t)c->bytes);
}

json_t *mm_agent_guard_stats(struct mm_agent *a)
{
	struct mm_agent_guard *g = a->guard;
	if (!g)
		return json_null();
	json_t *o = json_pack("{sss[ii]}", "pin_dir", g->pin_dir ? g->pin_dir : "", "port_range",
			      (int)g->port_lo, (int)g->port_hi);
	json_object_set_new(
		o, "sync",
		json_pack("{sbsIsIsIso}", "in_sync", !g->dirty, "updates", (json_int_t)g->updates,
			  "errors", (json_int_t)g->errors, "resyncs", (json_int_t)g->resyncs,
			  "last_error", g->last_error[0] ? json_string(g->last_error) : json_null()));
	struct mm_guard_counter c[MM_GUARD_COUNTER_SLOTS];
	int rc = g->ops->counters ? g->ops->counters(g->ctx, c) : -ENOTSUP;
	if (rc) {
		json_object_set_new(o, "counters_error", json_string(strerror(-rc)));
		return o;
	}
	json_t *verdicts = json_object(), *reasons = json_object(), *drops = json_object();
	for (unsigned v = 0; v < MM_GUARD__VERDICTS; v++) {
		struct mm_guard_counter sum = {0, 0};
		json_t *per = json_object();
		for (unsigned r = 0; r < MM_GUARD_REASON_SLOTS; r++) {
			const struct mm_guard_counter *x = &c[v * MM_GUARD_REASON_SLOTS + r];
			sum.packets += x->packets;
			sum.bytes += x->bytes;
			const char *name = mm_drop_reason_name(r);
			if (v == MM_GUARD_DROP && name && r > 0)
				json_object_set_new(drops, name, json_integer((json_int_t)x->packets));
			if (x->packets && name)
				json_object_set_new(per, name, pb(x));
		}
		json_object_set_new(verdicts, verdict_names[v], pb(&sum));
		json_object_set_new(reasons, verdict_names[v], per);
	}
	json_object_set_new(o, "verdicts", verdicts);
	json_object_set_new(o, "reasons", reasons);
	json_object_set_new(o, "drops", drops);
	return o;
}
