/* Writer side of mmdp's tables (agent thread only) and the 5-tuple hash. */
#include "dataplane/core/tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dataplane/core/mailbox.h"

enum { GT_ENDPOINT = 1, GT_CONF, GT_ROUTE, GT_ROOM, GT_KEYSET, GT_CACHE };

uint64_t mm_key_hash(const struct mm_key *k)
{
	uint64_t a, b;
	memcpy(&a, k->raddr.b, 8);
	memcpy(&b, k->raddr.b + 8, 8);
	uint64_t p = (uint64_t)k->lport << 16 | k->rport;
	return mm_mix64(a ^ mm_mix64(b ^ mm_mix64(p)));
}

int mm_key_match_(struct cds_lfht_node *node, const void *key)
{
	const struct mm_endpoint *ep = caa_container_of(node, struct mm_endpoint, key_node);
	return memcmp(&ep->key, key, sizeof(ep->key)) == 0;
}

uint64_t mm_ufrag_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return mm_mix64(h);
}

int mm_ufrag_match_(struct cds_lfht_node *node, const void *key)
{
	const struct mm_endpoint *ep = caa_container_of(node, struct mm_endpoint, ufrag_node);
	const struct mm_ufrag_key *k = key;
	return ep->ice_ufrag_len == k->len && memcmp(ep->ice_ufrag, k->s, k->len) == 0;
}

unsigned long mm_name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (unsigned long)mm_mix64(h);
}

static int room_name_match(struct cds_lfht_node *node, const void *key)
{
	return strcmp(caa_container_of(node, struct mm_room, name_node)->name, key) == 0;
}

static int ep_name_match(struct cds_lfht_node *node, const void *key)
{
	return strcmp(caa_container_of(node, struct mm_endpoint, name_node)->name, key) == 0;
}

int mm_dp_egress_port(const struct mm_dp_conf *c, const struct net_addr *laddr, uint32_t w)
{
	for (uint32_t p = 0; p < c->n_ports; p++)
		if ((c->ports[p].worker_mask >> w & 1) && mm_port_is_local(&c->ports[p], laddr))
			return (int)p;
	return -ENOENT;
}

int mm_dp_conf_assign_workers(struct mm_dp_conf *c, const bool *mask_set, char *err, size_t errlen)
{
	uint32_t all = c->n_workers >= 32 ? UINT32_MAX : (1u << c->n_workers) - 1;
	for (uint32_t p = 0; p < c->n_ports; p++) {
		struct mm_port_conf *pc = &c->ports[p];
		if (!mask_set[p])
			pc->worker_mask = all;
		if (pc->worker_mask == 0 || (pc->worker_mask & ~all)) {
			snprintf(err, errlen, "ports[%u].workers must name workers 0..%u", p,
				 c->n_workers - 1);
			return -EINVAL;
		}
		uint8_t rank = 0;
		for (uint32_t w = 0; w < c->n_workers; w++)
			if (pc->worker_mask >> w & 1)
				pc->worker_queue[w] = rank++;
	}
	for (uint32_t p = 0; p < c->n_ports; p++)
		for (uint32_t a = 0; a < c->ports[p].n_addrs; a++)
			for (uint32_t w = 0; w < c->n_workers; w++)
				if (mm_dp_egress_port(c, &c->ports[p].addrs[a], w) < 0) {
					char ip[64];
					snprintf(err, errlen,
						 "address %s is on no port of worker %u: every address "
						 "must be reachable from every worker",
						 net_addr_format(&c->ports[p].addrs[a], ip, sizeof(ip)), w);
					return -EINVAL;
				}
	return 0;
}

int mm_tables_init(struct mm_tables *t, const struct mm_dp_conf *conf)
{
	static bool srtp_ready;
	if (!srtp_ready) {
		if (mm_srtp_global_init() != 0)
			return -EIO;
		srtp_ready = true;
	}
	memset(t, 0, sizeof(*t));
	t->conf = *conf;
	t->next_uid = 1;
	int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;
	t->by_key = cds_lfht_new_flavor(1024, 1024, 0, flags, &urcu_qsbr_flavor, NULL);
	t->rooms_by_name = cds_lfht_new_flavor(256, 256, 0, flags, &urcu_qsbr_flavor, NULL);
	t->eps_by_name = cds_lfht_new_flavor(1024, 1024, 0, flags, &urcu_qsbr_flavor, NULL);
	t->by_ufrag = cds_lfht_new_flavor(1024, 1024, 0, flags, &urcu_qsbr_flavor, NULL);
	bool mbox_ok = true;
	for (uint32_t w = 0; w < conf->n_workers && w < MM_WORKERS_MAX; w++) {
		t->mbox_up[w] = mm_mbox_new();
		t->mbox_down[w] = mm_mbox_new();
		mbox_ok &= t->mbox_up[w] && t->mbox_down[w];
	}
	if (!t->by_key || !t->rooms_by_name || !t->eps_by_name || !t->by_ufrag || !mbox_ok ||
	    mm_blocks_init(t) != 0) {
		mm_tables_fini(t);
		return -ENOMEM;
	}
	return 0;
}

static void free_route(struct mm_route *r)
{
	if (!r)
		return;
	free(r->pub);
	free(r->subs);
	free(r->sub);
	free(r->pubs);
	free(r->members);
	free(r);
}

struct mm_keyset *mm_keyset_create(struct mm_tables *t, enum mm_srtp_profile profile,
				   const uint8_t *in_key, const uint8_t *out_key)
{
	struct mm_keyset *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->uid = t->next_uid++;
	k->profile = profile;
	size_t n = mm_srtp_master_len(profile);
	struct mm_srtp_keys keys = {.profile = profile, .master_len = n};
	if (in_key) {
		k->has_in = true;
		memcpy(k->in_key, in_key, n);
		memcpy(keys.master, in_key, n);
		if (mm_srtp_create(&k->in, &keys, true) != 0)
			goto fail;
	}
	if (out_key) {
		k->has_out = true;
		memcpy(k->out_key, out_key, n);
		memcpy(keys.master, out_key, n);
		if (mm_srtp_create(&k->out, &keys, false) != 0)
			goto fail;
	}
	memset(&keys, 0, sizeof(keys));
	return k;
fail:
	memset(&keys, 0, sizeof(keys));
	mm_keyset_destroy(k);
	return NULL;
}

void mm_keyset_destroy(struct mm_keyset *k)
{
	if (!k)
		return;
	if (k->in)
		mm_srtp_destroy(k->in);
	if (k->out)
		mm_srtp_destroy(k->out);
	/* Do not leave master keys in freed memory. */
	memset(k, 0, sizeof(*k));
	free(k);
}

static void free_caches(struct mm_ep_conf *c)
{
	for (uint32_t i = 0; c && i < c->n_streams; i++)
		mm_rtx_cache_destroy(c->streams[i].cache);
}

void mm_conf_drop_caches(const struct mm_ep_conf *old, struct mm_ep_conf *c)
{
	for (uint32_t i = 0; i < c->n_streams; i++) {
		bool shared = false;
		for (uint32_t j = 0; old && j < old->n_streams; j++)
			shared |= old->streams[j].cache == c->streams[i].cache;
		if (!shared)
			mm_rtx_cache_destroy(c->streams[i].cache);
		c->streams[i].cache = NULL;
	}
}

int mm_conf_attach_caches(const struct mm_ep_conf *old, struct mm_ep_conf *c)
{
	for (uint32_t i = 0; i < c->n_streams; i++) {
		struct mm_stream_conf *sc = &c->streams[i];
		sc->cache = NULL;
		if (sc->kind == MM_KIND_AUDIO)
			continue;
		for (uint32_t j = 0; old && j < old->n_streams && !sc->cache; j++)
			if (mm_stream_same(&old->streams[j], sc))
				sc->cache = old->streams[j].cache;
		if (!sc->cache)
			sc->cache = mm_rtx_cache_create(MM_RTX_CACHE_PACKETS, MM_RTX_CACHE_BYTES);
		if (!sc->cache) {
			mm_conf_drop_caches(old, c);
			return -ENOMEM;
		}
	}
	return 0;
}

static void free_endpoint(struct mm_endpoint *ep)
{
	if (ep->conf_given) {
		free(ep->conf); /* its keys and caches went on with its successor */
		free(ep->rw);
		free(ep);
		return;
	}
	free_caches(ep->conf);
	if (ep->conf) {
		mm_keyset_destroy(ep->conf->keys);
		mm_keyset_destroy(ep->conf->prev_keys);
	}
	free(ep->conf);
	free(ep->rw);
	free(ep);
}

static void free_room(struct mm_room *r)
{
	free_route(r->route);
	json_decref(r->explicit_subs);
	free(r);
}

void mm_tables_fini(struct mm_tables *t)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	struct mm_garbage g = {0};

	/* Unlink everything (stepping past each node first), destroy the
	 * tables, and only then free: destroying a table waits for a resize
	 * still pending, which may walk the nodes and needs a grace period,
	 * so the calling thread is offline meanwhile. */
	if (t->eps_by_name) {
		cds_lfht_first(t->eps_by_name, &it);
		while ((n = cds_lfht_iter_get_node(&it))) {
			struct mm_endpoint *ep = caa_container_of(n, struct mm_endpoint, name_node);
			cds_lfht_next(t->eps_by_name, &it);
			cds_lfht_del(t->eps_by_name, &ep->name_node);
			if (ep->bound)
				cds_lfht_del(t->by_key, &ep->key_node);
			if (ep->ice)
				cds_lfht_del(t->by_ufrag, &ep->ufrag_node);
			mm_garbage_add(&g, GT_ENDPOINT, ep);
		}
	}
	if (t->rooms_by_name) {
		cds_lfht_first(t->rooms_by_name, &it);
		while ((n = cds_lfht_iter_get_node(&it))) {
			struct mm_room *r = caa_container_of(n, struct mm_room, name_node);
			cds_lfht_next(t->rooms_by_name, &it);
			cds_lfht_del(t->rooms_by_name, &r->name_node);
			mm_garbage_add(&g, GT_ROOM, r);
		}
	}
	mm_blocks_unlink_all(t, &g);
	free(t->bans);
	t->bans = NULL;
	t->n_bans = t->cap_bans = 0;
	bool online = urcu_qsbr_read_ongoing();
	if (online)
		urcu_qsbr_thread_offline();
	struct cds_lfht **hts[] = {&t->by_key, &t->rooms_by_name, &t->eps_by_name, &t->blocks_by_key,
				   &t->blocks_by_name, &t->by_ufrag};
	for (size_t i = 0; i < sizeof(hts) / sizeof(hts[0]); i++) {
		if (*hts[i])
			cds_lfht_destroy(*hts[i], NULL);
		*hts[i] = NULL;
	}
	if (online)
		urcu_qsbr_thread_online();
	mm_garbage_collect(&g, true); /* no reader left */
	for (uint32_t w = 0; w < MM_WORKERS_MAX; w++) {
		mm_mbox_free(t->mbox_up[w]);
		mm_mbox_free(t->mbox_down[w]);
		t->mbox_up[w] = t->mbox_down[w] = NULL;
	}
}

struct mm_room *mm_tables_room(struct mm_tables *t, const char *name)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->rooms_by_name, mm_name_hash(name), room_name_match, name, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_room, name_node) : NULL;
}

struct mm_endpoint *mm_tables_endpoint(struct mm_tables *t, const char *name)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->eps_by_name, mm_name_hash(name), ep_name_match, name, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_endpoint, name_node) : NULL;
}

static void free_item(int type, void *p)
{
	switch (type) {
	case GT_ENDPOINT: free_endpoint(p); break;
	case GT_CONF: free(p); break;
	case GT_ROUTE: free_route(p); break;
	case GT_ROOM: free_room(p); break;
	case GT_KEYSET: mm_keyset_destroy(p); break;
	case GT_CACHE: mm_rtx_cache_destroy(p); break;
	case MM_GT_BLOCK: free(p); break;
	}
}

void mm_garbage_add(struct mm_garbage *g, int type, void *p)
{
	if (!p)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct mm_gitem *items = realloc(g->items, cap * sizeof(*items));
		if (!items) {
			/* Cannot defer the free: wait for the readers now. */
			urcu_qsbr_synchronize_rcu();
			free_item(type, p);
			return;
		}
		g->items = items;
		g->cap = cap;
	}
	g->items[g->n++] = (struct mm_gitem){type, p};
}

void mm_garbage_collect(struct mm_garbage *g, bool synced)
{
	if (g->n && !synced)
		urcu_qsbr_synchronize_rcu();
	for (size_t i = 0; i < g->n; i++)
		free_item(g->items[i].type, g->items[i].p);
	free(g->items);
	g->items = NULL;
	g->n = g->cap = 0;
}

struct mm_room *mm_room_create(struct mm_tables *t, const char *name, uint32_t capacity)
{
	struct mm_room *r;
	if (posix_memalign((void **)&r, 64, sizeof(*r)))
		return NULL;
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->capacity = capacity;
	r->last_n = MM_LAST_N_DEFAULT;
	mm_speaker_init(&r->spk, MM_LAST_N_DEFAULT);
	r->mode = MM_ROUTE_ALL;
	r->route_dirty = true;
	/* The worker with the fewest rooms owns the new one. */
	uint32_t best = 0;
	for (uint32_t w = 1; w < t->conf.n_workers; w++)
		if (t->rooms_per_worker[w] < t->rooms_per_worker[best])
			best = w;
	r->worker = best;
	t->rooms_per_worker[best]++;
	t->n_rooms++;
	cds_lfht_node_init(&r->name_node);
	cds_lfht_add(t->rooms_by_name, mm_name_hash(r->name), &r->name_node);
	return r;
}

void mm_room_remove(struct mm_tables *t, struct mm_room *r, struct mm_garbage *g)
{
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			mm_endpoint_remove(t, r->members[s], g);
	cds_lfht_del(t->rooms_by_name, &r->name_node);
	t->rooms_per_worker[r->worker]--;
	t->n_rooms--;
	/* Readers reach a room only through its endpoints, all unlinked above;
	 * the room and its route go after the same grace period. */
	mm_garbage_add(g, GT_ROOM, r);
}

struct mm_endpoint *mm_endpoint_create(struct mm_tables *t, struct mm_room *r, const char *name,
				       const struct mm_key *key, const struct net_addr *laddr,
				       uint8_t family, uint16_t port_id, struct mm_ep_conf *conf)
{
	return mm_endpoint_create_ice(t, r, name, key, laddr, family, port_id, conf, NULL);
}

struct mm_endpoint *mm_endpoint_create_ice(struct mm_tables *t, struct mm_room *r, const char *name,
					   const struct mm_key *key, const struct net_addr *laddr,
					   uint8_t family, uint16_t port_id, struct mm_ep_conf *conf,
					   const struct mm_ep_ice *ice)
{
	uint32_t slot = 0;
	while (slot < MM_ROOM_CAPACITY_MAX && r->members[slot])
		slot++;
	if (slot == MM_ROOM_CAPACITY_MAX)
		return NULL;

	struct mm_endpoint *ep;
	if (posix_memalign((void **)&ep, 64, sizeof(*ep)))
		return NULL;
	memset(ep, 0, sizeof(*ep));
	ep->rw = calloc((size_t)MM_ROOM_CAPACITY_MAX * MM_STREAMS_MAX, sizeof(*ep->rw));
	if (!ep->rw) {
		free(ep);
		return NULL;
	}
	for (uint32_t i = 0; i < conf->n_streams; i++) {
		conf->streams[i].state_idx = (uint8_t)i;
		conf->streams[i].uid = t->next_uid++;
	}
	mm_bwe_init(&ep->bwe);
	ep->room = r;
	ep->key = *key;
	ep->laddr = *laddr;
	ep->family = family;
	ep->port_id = port_id;
	ep->slot = slot;
	ep->created_epoch = t->publish_epoch;
	ep->conf = conf;
	snprintf(ep->name, sizeof(ep->name), "%s", name);
	ep->bound = true;
	if (ice) {
		ep->ice = ice->ice;
		ep->bound = ice->bound;
		ep->dtls = ice->dtls;
		ep->dtls_peer_active = ice->dtls_peer_active;
		ep->ice_gen = ice->ice_gen;
		memcpy(ep->dtls_fp, ice->fp, sizeof(ep->dtls_fp));
		snprintf(ep->ice_ufrag, sizeof(ep->ice_ufrag), "%s", ice->ufrag);
		snprintf(ep->ice_pwd, sizeof(ep->ice_pwd), "%s", ice->pwd);
		ep->ice_ufrag_len = (uint8_t)strlen(ep->ice_ufrag);
		ep->ice_pwd_len = (uint16_t)strlen(ep->ice_pwd);
		ep->ice_last_ns = ep->ice_bind_ns = ice->last_ns;
		ep->ice_checks = ice->checks;
		ep->ice_bad_checks = ice->bad_checks;
		if (ice->mac_set) {
			memcpy(ep->learned_mac, ice->mac, 6);
			ep->mac_learned = 1;
		}
	}
	if (!ep->bound) {
		/* Only the local port is known; no worker finds it by 5-tuple. */
		memset(&ep->key, 0, sizeof(ep->key));
		ep->key.lport = key->lport;
	}

	r->members[slot] = ep;
	r->n_members++;
	r->route_dirty = true;
	t->n_endpoints++;
	cds_lfht_node_init(&ep->name_node);
	cds_lfht_add(t->eps_by_name, mm_name_hash(ep->name), &ep->name_node);
	cds_lfht_node_init(&ep->key_node);
	cds_lfht_node_init(&ep->ufrag_node);
	/* Publishes ep (the add has release semantics): readers see it whole. */
	struct cds_lfht_node *old = &ep->key_node, *oldu = &ep->ufrag_node;
	if (ep->bound)
		old = cds_lfht_add_unique(t->by_key, (unsigned long)mm_key_hash(key), mm_key_match_,
					  &ep->key, &ep->key_node);
	if (old == &ep->key_node && ep->ice) {
		struct mm_ufrag_key uk = {ep->ice_ufrag, ep->ice_ufrag_len};
		oldu = cds_lfht_add_unique(t->by_ufrag, (unsigned long)mm_ufrag_hash(uk.s, uk.len),
					   mm_ufrag_match_, &uk, &ep->ufrag_node);
		if (oldu != &ep->ufrag_node && ep->bound) {
			/* Not published yet to anyone but by_key readers: a
			 * reader that found it finishes before the free below
			 * only after a grace period. */
			cds_lfht_del(t->by_key, &ep->key_node);
			urcu_qsbr_synchronize_rcu();
		}
	}
	if (old != &ep->key_node || oldu != &ep->ufrag_node) {
		/* The agent checks uniqueness first; this is a bug guard. */
		cds_lfht_del(t->eps_by_name, &ep->name_node);
		r->members[slot] = NULL;
		r->n_members--;
		t->n_endpoints--;
		ep->conf = NULL;
		free(ep->rw);
		free(ep);
		return NULL;
	}
	return ep;
}

void mm_endpoint_remove(struct mm_tables *t, struct mm_endpoint *ep, struct mm_garbage *g)
{
	struct mm_room *r = ep->room;
	if (ep->bound)
		cds_lfht_del(t->by_key, &ep->key_node);
	if (ep->ice)
		cds_lfht_del(t->by_ufrag, &ep->ufrag_node);
	cds_lfht_del(t->eps_by_name, &ep->name_node);
	r->members[ep->slot] = NULL;
	r->n_members--;
	r->route_dirty = true;
	t->n_endpoints--;
	mm_garbage_add(g, GT_ENDPOINT, ep);
}

void mm_endpoint_set_conf(struct mm_tables *t, struct mm_endpoint *ep, struct mm_ep_conf *conf,
			  struct mm_garbage *g)
{
	const struct mm_ep_conf *old = ep->conf;
	bool used[MM_STREAMS_MAX] = {false};
	bool placed[MM_STREAMS_MAX] = {false};

	/* Streams that stay keep their state slot and uid, so counters and
	 * the subscribers' rewrite state carry on. */
	for (uint32_t i = 0; i < conf->n_streams; i++) {
		for (uint32_t j = 0; j < old->n_streams; j++) {
			if (mm_stream_same(&old->streams[j], &conf->streams[i])) {
				conf->streams[i].state_idx = old->streams[j].state_idx;
				conf->streams[i].uid = old->streams[j].uid;
				used[old->streams[j].state_idx] = true;
				placed[i] = true;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < conf->n_streams; i++) {
		if (placed[i])
			continue;
		uint8_t idx = 0;
		while (used[idx])
			idx++;
		used[idx] = true;
		conf->streams[i].state_idx = idx;
		conf->streams[i].uid = t->next_uid++;
	}
	rcu_assign_pointer(ep->conf, conf);
	/* Caches of streams the new conf no longer has go with the old conf
	 * (mm_conf_attach_caches moved the others). */
	for (uint32_t j = 0; j < old->n_streams; j++) {
		bool kept = false;
		for (uint32_t i = 0; i < conf->n_streams; i++)
			kept |= conf->streams[i].cache == old->streams[j].cache;
		if (!kept)
			mm_garbage_add(g, GT_CACHE, old->streams[j].cache);
	}
	/* Keysets the new conf no longer names go with the old conf. */
	struct mm_keyset *gone[2] = {old->keys, old->prev_keys};
	for (int i = 0; i < 2; i++)
		if (gone[i] && gone[i] != conf->keys && gone[i] != conf->prev_keys)
			mm_garbage_add(g, GT_KEYSET, gone[i]);
	mm_garbage_add(g, GT_CONF, (void *)old);
}

static size_t keyset_memory(const struct mm_keyset *k, size_t in_streams, size_t out_streams)
{
	if (!k)
		return 0;
	size_t n = sizeof(*k);
	if (k->in)
		n += mm_srtp_session_bytes(k->profile, true) +
		     in_streams * mm_srtp_stream_bytes(k->profile, true) + mm_srtp_recovery_bytes(k->in);
	if (k->out)
		n += mm_srtp_session_bytes(k->profile, false) + out_streams * mm_srtp_stream_bytes(k->profile, false);
	return n;
}

size_t mm_endpoint_memory(const struct mm_endpoint *ep)
{
	const struct mm_ep_conf *c = ep->conf;
	/* Streams libsrtp2 holds: inbound, one per SSRC the endpoint sent
	 * (at most its declared streams and the RTCP-only SSRCs let in);
	 * outbound, one per source stream forwarded to it (rewrite slots in
	 * use). */
	size_t out_streams = 0;
	for (size_t i = 0; i < (size_t)MM_ROOM_CAPACITY_MAX * MM_STREAMS_MAX; i++)
		out_streams += MM_CNT_GET(ep->rw[i].src_uid) != 0;
	size_t n = sizeof(*ep) + (size_t)MM_ROOM_CAPACITY_MAX * MM_STREAMS_MAX * sizeof(*ep->rw) +
		   sizeof(*c);
	for (uint32_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].cache)
			n += mm_rtx_cache_memory(c->streams[i].cache);
	size_t in_streams = c->n_streams + MM_CNT_GET(ep->n_rtcp_ssrcs);
	n += keyset_memory(c->keys, in_streams, out_streams);
	n += keyset_memory(c->prev_keys, in_streams, out_streams);
	return n;
}

/* Does subscriber sub receive publisher pub in room r? */
static bool route_wants(const struct mm_room *r, const struct mm_endpoint *sub,
			const struct mm_endpoint *pub)
{
	if (sub == pub)
		return false;
	if (r->mode == MM_ROUTE_ALL)
		return true;
	json_t *list = json_object_get(r->explicit_subs, sub->name);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), pub->name) == 0)
			return true;
	return false;
}

static int build_route(struct mm_room *r, struct mm_route **out)
{
	uint32_t n_slots = 0;
	for (uint32_t s = 0; s < MM_ROOM_CAPACITY_MAX; s++)
		if (r->members[s])
			n_slots = s + 1;
	struct mm_route *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	static uint64_t route_gen; /* agent thread only */
	rt->gen = ++route_gen;
	rt->n_slots = n_slots;
	rt->pub = calloc(n_slots ? n_slots : 1, sizeof(*rt->pub));
	rt->sub = calloc(n_slots ? n_slots : 1, sizeof(*rt->sub));
	rt->members = calloc(n_slots ? n_slots : 1, sizeof(*rt->members));
	size_t max_subs = (size_t)r->n_members * (r->n_members ? r->n_members - 1 : 0);
	rt->subs = calloc(max_subs ? max_subs : 1, sizeof(*rt->subs));
	rt->pubs = calloc(max_subs ? max_subs : 1, sizeof(*rt->pubs));
	if (!rt->pub || !rt->subs || !rt->sub || !rt->pubs || !rt->members) {
		free_route(rt);
		return -ENOMEM;
	}
	uint32_t k = 0;
	for (uint32_t p = 0; p < n_slots; p++) {
		struct mm_endpoint *pub = r->members[p];
		rt->pub[p].off = k;
		if (!pub)
			continue;
		for (uint32_t s = 0; s < n_slots; s++) {
			struct mm_endpoint *sub = r->members[s];
			if (sub && route_wants(r, sub, pub))
				rt->subs[k++] = sub;
		}
		rt->pub[p].n = k - rt->pub[p].off;
		rt->members[p] = pub;
	}
	rt->n_subs = k;
	k = 0;
	for (uint32_t s = 0; s < n_slots; s++) {
		struct mm_endpoint *sub = r->members[s];
		rt->sub[s].off = k;
		for (uint32_t p = 0; sub && p < n_slots; p++) {
			struct mm_endpoint *pub = r->members[p];
			if (pub && route_wants(r, sub, pub))
				rt->pubs[k++] = pub;
		}
		rt->sub[s].n = k - rt->sub[s].off;
	}
	*out = rt;
	return 0;
}

int mm_tables_publish_routes(struct mm_tables *t, struct mm_garbage *g)
{
	struct cds_lfht_iter it;
	struct mm_room *r;
	int rc = 0;

	/* Endpoints created from here on belong to the next request. */
	t->publish_epoch++;
	MM_LFHT_FOREACH(t->rooms_by_name, &it, r, name_node) {
		if (!r->route_dirty)
			continue;
		struct mm_route *rt;
		int e = build_route(r, &rt);
		if (e) {
			rc = e;
			continue;
		}
		struct mm_route *old = r->route;
		rcu_assign_pointer(r->route, rt);
		mm_garbage_add(g, GT_ROUTE, old);
		r->route_dirty = false;
	}
	return rc;
}
