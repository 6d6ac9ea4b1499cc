/* Agent protocol: blocked 5-tuples. block.put and block.del (syntax, check
 * against the view of a batch, apply), their expiry, their stats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/core/agent_internal.h"

#define NS_PER_S 1000000000ull

uint64_t mm_agent_now(const struct mm_agent *a)
{
	if (a->now_ns)
		return a->now_ns();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int mm_agent_parse_block(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (mm_agent_get_name(o, "block", p, &op->block, e))
		return -EINVAL;
	if (op->type == OP_BLOCK_DEL)
		return 0;
	uint8_t rfam, lfam;
	memset(&op->bkey, 0, sizeof(op->bkey));
	if (mm_agent_get_addr_port(o, "remote", p, &op->bkey.raddr, &rfam, &op->bkey.rport, e) ||
	    mm_agent_get_addr_port(o, "local", p, &op->bkey.laddr, &lfam, &op->bkey.lport, e))
		return -EINVAL;
	if (lfam != rfam) {
		snprintf(f, sizeof(f), "%sremote.addr", p);
		return mm_agent_fail(e, "invalid_field", f, "local and remote must be the same address family");
	}
	if (!mm_agent_is_local(t, &op->bkey.laddr)) {
		snprintf(f, sizeof(f), "%slocal.addr", p);
		return mm_agent_fail(e, "not_local", f, "local.addr is not an address of any mmdp port");
	}
	op->family = lfam;
	uint64_t ttl;
	if (mm_agent_get_uint(o, "ttl_seconds", p, 1, MM_BLOCK_TTL_MAX, true, &ttl, e))
		return -EINVAL;
	op->ttl_s = (uint32_t)ttl;
	return 0;
}

/* ----------------------------------------------------------- the view --- */

#define BKEY_STR (2 * sizeof(struct mm_block_key) + 1)

static void bkey_str(const struct mm_block_key *k, char out[BKEY_STR])
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * sizeof(*k)] = 0;
}

/* Does block `name` exist in the view? Its 5-tuple into keystr. */
static bool view_block(struct mm_tables *t, struct block_view *v, const char *name,
		       char keystr[BKEY_STR])
{
	json_t *o = json_object_get(v->names, name);
	if (o) {
		if (!json_is_string(o))
			return false; /* deleted by an earlier op */
		snprintf(keystr, BKEY_STR, "%s", json_string_value(o));
		return true;
	}
	struct mm_block *b = mm_tables_block(t, name);
	if (!b)
		return false;
	bkey_str(&b->key, keystr);
	return true;
}

/* Name of the block holding a 5-tuple in the view, or NULL. */
static const char *view_bkey_owner(struct mm_tables *t, struct block_view *v,
				   const struct mm_block_key *k, const char *keystr)
{
	json_t *o = json_object_get(v->keys, keystr);
	if (o)
		return json_string_value(o); /* NULL for json null: freed */
	struct mm_block *b = mm_tables_block_lookup(t, k);
	return b ? b->name : NULL;
}

int mm_agent_check_block(struct mm_tables *t, struct block_view *v, const struct op *op,
			 struct aerr *e)
{
	char f[192], key[BKEY_STR], cur[BKEY_STR];
	const char *p = op->path;
	bool exists = view_block(t, v, op->block, cur);
	if (op->type == OP_BLOCK_DEL) {
		snprintf(f, sizeof(f), "%sblock", p);
		if (!exists)
			return mm_agent_fail(e, "not_found", f, "no block %s", op->block);
		json_object_set_new(v->keys, cur, json_null());
		json_object_set_new(v->names, op->block, json_null());
		v->delta--;
		return 0;
	}
	bkey_str(&op->bkey, key);
	const char *owner = view_bkey_owner(t, v, &op->bkey, key);
	if (owner && strcmp(owner, op->block) != 0) {
		snprintf(f, sizeof(f), "%sremote", p);
		return mm_agent_fail(e, "conflict", f, "this 5-tuple is blocked by block %s", owner);
	}
	if (!exists) {
		if (t->n_blocks + v->delta >= MM_BLOCKS_MAX)
			return mm_agent_fail(e, "limit", p, "at most %d blocks", MM_BLOCKS_MAX);
		v->delta++;
	} else if (strcmp(cur, key) != 0) {
		json_object_set_new(v->keys, cur, json_null()); /* replaced: its old 5-tuple is free */
	}
	json_object_set_new(v->names, op->block, json_string(key));
	json_object_set_new(v->keys, key, json_string(op->block));
	return 0;
}

/* -------------------------------------------------------------- apply --- */

int mm_agent_apply_block(struct mm_tables *t, const struct op *op, uint64_t now_ns,
			 struct mm_garbage *g)
{
	struct mm_block *b = mm_tables_block(t, op->block);
	if (op->type == OP_BLOCK_DEL) {
		mm_block_remove(t, b, g);
		return 0;
	}
	uint64_t expires = now_ns + (uint64_t)op->ttl_s * NS_PER_S;
	if (b && memcmp(&b->key, &op->bkey, sizeof(b->key)) == 0) {
		mm_block_set_expiry(t, b, expires); /* same 5-tuple: counters go on */
		return 0;
	}
	if (b)
		mm_block_remove(t, b, g); /* another 5-tuple: a new block */
	return mm_block_create(t, op->block, &op->bkey, op->family, expires) ? 0 : -ENOMEM;
}

void mm_agent_tick(struct mm_agent *a)
{
	struct mm_tables *t = a->t;
	uint64_t now = mm_agent_now(a);
	mm_agent_ice_tick(a); /* ICE bindings, DTLS records and timers */
	mm_agent_guard_tick(a, now); /* retry a failed guard update */
	bool bans_due = false;
	for (uint32_t i = 0; i < t->n_bans && !bans_due; i++)
		bans_due = t->bans[i].expires_ns <= now;
	if (bans_due) {
		struct guard_touch tc = {0};
		mm_agent_bans_expire(a, now, a->guard ? &tc : NULL);
		mm_agent_guard_sync(a, &tc);
	}
	if (now < t->blocks_next_expiry)
		return;
	struct guard_touch expiring;
	mm_agent_guard_collect_expiring(a, now, &expiring);
	struct mm_garbage g = {0};
	mm_blocks_expire(t, now, &g);
	mm_agent_guard_sync(a, &expiring); /* the guard's entries go too */
	mm_garbage_collect(&g, false); /* waits for a grace period if any went */
}

/* -------------------------------------------------------------- stats --- */

static int by_name(const void *x, const void *y)
{
	return strcmp((*(struct mm_block *const *)x)->name, (*(struct mm_block *const *)y)->name);
}

json_t *mm_agent_blocks_stats(struct mm_tables *t, uint64_t now_ns)
{
	json_t *arr = json_array();
	size_t n = 0, cap = t->n_blocks;
	struct mm_block **v = cap ? malloc(cap * sizeof(*v)) : NULL;
	if (cap && !v) {
		json_decref(arr);
		return NULL;
	}
	struct cds_lfht_iter it;
	struct mm_block *b;
	MM_LFHT_FOREACH(t->blocks_by_name, &it, b, name_node) {
		if (n < cap)
			v[n++] = b;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++) {
		b = v[i];
		struct mm_block_counter c = mm_block_dropped(b);
		uint64_t left = b->expires_ns > now_ns ? (b->expires_ns - now_ns + NS_PER_S - 1) / NS_PER_S : 0;
		json_array_append_new(arr, json_pack("{sssIsIsI}", "block", b->name, "dropped_packets",
						     (json_int_t)c.packets, "dropped_bytes",
						     (json_int_t)c.bytes, "expires_in", (json_int_t)left));
	}
	free(v);
	return arr;
}
