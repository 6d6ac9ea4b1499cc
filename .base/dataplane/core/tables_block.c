/* Blocked 5-tuples in mmdp's tables: the writer side (agent thread only)
 * and the hash the workers look them up with. */
#include "dataplane/core/tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct mm_block_key) == 36, "struct mm_block_key must have no padding");

uint64_t mm_block_key_hash(const struct mm_block_key *k)
{
	uint64_t a, b, c, d;
	memcpy(&a, k->raddr.b, 8);
	memcpy(&b, k->raddr.b + 8, 8);
	memcpy(&c, k->laddr.b, 8);
	memcpy(&d, k->laddr.b + 8, 8);
	uint64_t p = (uint64_t)k->lport << 16 | k->rport;
	return mm_mix64(a ^ mm_mix64(b ^ mm_mix64(c ^ mm_mix64(d ^ mm_mix64(p)))));
}

int mm_block_key_match_(struct cds_lfht_node *node, const void *key)
{
	const struct mm_block *b = caa_container_of(node, struct mm_block, key_node);
	return memcmp(&b->key, key, sizeof(b->key)) == 0;
}

static int block_name_match(struct cds_lfht_node *node, const void *key)
{
	return strcmp(caa_container_of(node, struct mm_block, name_node)->name, key) == 0;
}

int mm_blocks_init(struct mm_tables *t)
{
	int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;
	t->blocks_by_key = cds_lfht_new_flavor(64, 64, 0, flags, &urcu_qsbr_flavor, NULL);
	t->blocks_by_name = cds_lfht_new_flavor(64, 64, 0, flags, &urcu_qsbr_flavor, NULL);
	t->n_blocks = 0;
	t->blocks_next_expiry = UINT64_MAX;
	return t->blocks_by_key && t->blocks_by_name ? 0 : -ENOMEM;
}

void mm_blocks_unlink_all(struct mm_tables *t, struct mm_garbage *g)
{
	if (!t->blocks_by_name || !t->blocks_by_key)
		return;
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	cds_lfht_first(t->blocks_by_name, &it);
	while ((n = cds_lfht_iter_get_node(&it))) {
		struct mm_block *b = caa_container_of(n, struct mm_block, name_node);
		cds_lfht_next(t->blocks_by_name, &it); /* step past b before unlinking it */
		mm_block_remove(t, b, g);
	}
}

struct mm_block *mm_tables_block(struct mm_tables *t, const char *name)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->blocks_by_name, mm_name_hash(name), block_name_match, name, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_block, name_node) : NULL;
}

void mm_block_set_expiry(struct mm_tables *t, struct mm_block *b, uint64_t expires_ns)
{
	b->expires_ns = expires_ns;
	/* A later expiry leaves blocks_next_expiry early: the next expiry
	 * pass then finds nothing due and recomputes it. */
	if (expires_ns < t->blocks_next_expiry)
		t->blocks_next_expiry = expires_ns;
}

struct mm_block *mm_block_create(struct mm_tables *t, const char *name,
				 const struct mm_block_key *key, uint8_t family, uint64_t expires_ns)
{
	uint32_t nw = t->conf.n_workers ? t->conf.n_workers : 1;
	struct mm_block *b = calloc(1, sizeof(*b) + nw * sizeof(b->dropped[0]));
	if (!b)
		return NULL;
	b->key = *key;
	b->family = family;
	b->n_workers = nw;
	snprintf(b->name, sizeof(b->name), "%s", name);
	cds_lfht_node_init(&b->key_node);
	cds_lfht_node_init(&b->name_node);
	/* Publishes b (the add has release semantics): readers see it whole. */
	struct cds_lfht_node *old = cds_lfht_add_unique(
		t->blocks_by_key, (unsigned long)mm_block_key_hash(key), mm_block_key_match_, &b->key,
		&b->key_node);
	if (old != &b->key_node) {
		free(b); /* never published */
		return NULL;
	}
	cds_lfht_add(t->blocks_by_name, mm_name_hash(b->name), &b->name_node);
	t->n_blocks++;
	mm_block_set_expiry(t, b, expires_ns);
	return b;
}

void mm_block_remove(struct mm_tables *t, struct mm_block *b, struct mm_garbage *g)
{
	cds_lfht_del(t->blocks_by_key, &b->key_node);
	cds_lfht_del(t->blocks_by_name, &b->name_node);
	t->n_blocks--;
	if (t->n_blocks == 0)
		t->blocks_next_expiry = UINT64_MAX;
	mm_garbage_add(g, MM_GT_BLOCK, b);
}

uint32_t mm_blocks_expire(struct mm_tables *t, uint64_t now_ns, struct mm_garbage *g)
{
	if (now_ns < t->blocks_next_expiry)
		return 0;
	uint64_t next = UINT64_MAX;
	uint32_t removed = 0;
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	cds_lfht_first(t->blocks_by_name, &it);
	while ((n = cds_lfht_iter_get_node(&it))) {
		struct mm_block *b = caa_container_of(n, struct mm_block, name_node);
		cds_lfht_next(t->blocks_by_name, &it); /* step past b before unlinking it */
		if (b->expires_ns <= now_ns) {
			mm_block_remove(t, b, g);
			removed++;
		} else if (b->expires_ns < next) {
			next = b->expires_ns;
		}
	}
	t->blocks_next_expiry = next;
	return removed;
}

struct mm_block_counter mm_block_dropped(const struct mm_block *b)
{
	struct mm_block_counter s = {0, 0};
	for (uint32_t w = 0; w < b->n_workers; w++) {
		s.packets += MM_CNT_GET(b->dropped[w].packets);
		s.bytes += MM_CNT_GET(b->dropped[w].bytes);
	}
	return s;
}
