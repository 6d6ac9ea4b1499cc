/* The XDP guard from userspace: its maps, whether this process loaded the
 * program (guard.c) or opened the maps someone else pinned (mmdp, under
 * DPDK's xdp_prog=). Configuration, allowlist, kicked 5-tuples, banned
 * prefixes, counters, text forms. libbpf only: no skeleton. See guard.h
 * and docs/xdp-guard.md. */
#include "bpf/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard_internal.h"

#define NS_PER_S 1000000000ull
/* Bucket times stay far below 2^64 when added to CLOCK_MONOTONIC. */
#define TAU_MAX (1ull << 62)

/* Shapes of the maps, as guard_maps.bpf.h declares them, to check pins. */
static const struct {
	const char *name;
	uint32_t type, key, value, max;
} shapes[MM_GUARD__MAPS] = {
	[MM_GUARD_M_CONFIG] = {MM_GUARD_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, 4,
			       sizeof(struct mm_guard_config), 1},
	[MM_GUARD_M_COUNTERS] = {MM_GUARD_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
				 sizeof(struct mm_guard_counter), MM_GUARD_COUNTER_SLOTS},
	[MM_GUARD_M_ALLOW] = {MM_GUARD_MAP_ALLOW, BPF_MAP_TYPE_HASH, sizeof(struct mm_guard_tuple),
			      sizeof(struct mm_guard_allow), MM_GUARD_ALLOW_MAX},
	[MM_GUARD_M_KICKED] = {MM_GUARD_MAP_KICKED, BPF_MAP_TYPE_HASH, sizeof(struct mm_guard_tuple),
			       sizeof(struct mm_guard_block), MM_GUARD_KICKED_MAX},
	[MM_GUARD_M_PREFIXES] = {MM_GUARD_MAP_PREFIXES, BPF_MAP_TYPE_LPM_TRIE,
				 sizeof(struct mm_guard_prefix), sizeof(struct mm_guard_block),
				 MM_GUARD_PREFIXES_MAX},
	[MM_GUARD_M_SOURCES] = {MM_GUARD_MAP_SOURCES, BPF_MAP_TYPE_LRU_HASH,
				sizeof(struct mm_guard_source), sizeof(struct mm_guard_bucket),
				MM_GUARD_SOURCES_MAX},
	[MM_GUARD_M_HANDSHAKE] = {MM_GUARD_MAP_HANDSHAKE, BPF_MAP_TYPE_ARRAY, 4,
				  sizeof(struct mm_guard_bucket), 1},
	[MM_GUARD_M_XSKS] = {MM_GUARD_MAP_XSKS, BPF_MAP_TYPE_XSKMAP, 4, 4, MM_GUARD_XSKS_MAX},
};

struct mm_guard *mm_guard_new_(void)
{
	struct mm_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->prog_fd = -1;
	for (int i = 0; i < MM_GUARD__MAPS; i++)
		g->fd[i] = -1;
	return g;
}

int mm_guard_open_pinned(const char *pin_dir, struct mm_guard **out)
{
	int err = 0;
	struct mm_guard *g = mm_guard_new_();
	if (!g)
		return -ENOMEM;
	g->own_fds = true;
	for (int m = 0; m < MM_GUARD__MAPS; m++) {
		if (m == MM_GUARD_M_XSKS)
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", pin_dir, shapes[m].name) >=
		    (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		g->fd[m] = bpf_obj_get(path);
		if (g->fd[m] < 0) {
			err = -errno;
			goto fail;
		}
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(g->fd[m], &info, &len)) {
			err = -errno;
			goto fail;
		}
		if (info.type != shapes[m].type || info.key_size != shapes[m].key ||
		    info.value_size != shapes[m].value || info.max_entries != shapes[m].max) {
			err = -EPROTO;
			goto fail;
		}
	}
	*out = g;
	return 0;
fail:
	mm_guard_close(g);
	return err;
}

void mm_guard_close(struct mm_guard *g)
{
	if (!g)
		return;
	if (g->own_fds)
		for (int m = 0; m < MM_GUARD__MAPS; m++)
			if (g->fd[m] >= 0)
				close(g->fd[m]);
	if (g->skel && g->skel_destroy)
		g->skel_destroy(g->skel);
	free(g);
}

int mm_guard_prog_fd(const struct mm_guard *g)
{
	return g->prog_fd >= 0 ? g->prog_fd : -ENOENT;
}

int mm_guard_map_fd(const struct mm_guard *g, enum mm_guard_map m)
{
	if ((unsigned)m >= MM_GUARD__MAPS || g->fd[m] < 0)
		return -ENOENT;
	return g->fd[m];
}

/* Does program `id` use the map whose id is map_id? */
static int prog_uses_map(uint32_t id, uint32_t map_id)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	uint32_t ids[64];
	struct bpf_prog_info info = {0};
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uint64_t)(uintptr_t)ids;
	uint32_t len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	uint32_t n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;
	for (uint32_t i = 0; i < n; i++)
		if (ids[i] == map_id)
			return 1;
	return 0;
}

int mm_guard_check_attached(struct mm_guard *g, int ifindex)
{
	struct bpf_map_info mi = {0};
	uint32_t len = sizeof(mi);
	if (g->fd[MM_GUARD_M_CONFIG] < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(g->fd[MM_GUARD_M_CONFIG], &mi, &len))
		return -errno;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	uint32_t ids[] = {q.drv_prog_id, q.skb_prog_id, q.hw_prog_id, q.prog_id};
	bool any = false;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (!ids[i])
			continue;
		any = true;
		int r = prog_uses_map(ids[i], mi.id);
		if (r < 0)
			return r;
		if (r)
			return 0;
	}
	return any ? -ESRCH : -ENOENT;
}

/* ---- Configuration ------------------------------------------------------ */

int mm_guard_rate_set(const struct mm_guard_limit *l, struct mm_guard_rate *out)
{
	memset(out, 0, sizeof(*out));
	if (l->pps) {
		if (!l->pkt_burst)
			return -EINVAL;
		uint64_t cost = l->pps >= NS_PER_S ? 1 : NS_PER_S / l->pps;
		out->pkt_cost_ns = cost;
		out->pkt_tau_ns = l->pkt_burst > TAU_MAX / cost ? TAU_MAX : l->pkt_burst * cost;
	}
	if (l->bytes_ps) {
		if (!l->byte_burst)
			return -EINVAL;
		unsigned __int128 fp = ((unsigned __int128)NS_PER_S << MM_GUARD_BYTE_SHIFT) / l->bytes_ps;
		out->byte_cost_fp = fp ? (uint64_t)fp : 1;
		unsigned __int128 tau = (unsigned __int128)l->byte_burst * NS_PER_S / l->bytes_ps;
		out->byte_tau_ns = tau > TAU_MAX ? TAU_MAX : (uint64_t)tau;
	}
	return 0;
}

int mm_guard_configure(struct mm_guard *g, const struct mm_guard_settings *s)
{
	struct mm_guard_config c = {
		.abi_version = MM_GUARD_ABI_VERSION,
		.flags = s->redirect ? MM_GUARD_F_REDIRECT : 0,
		.port_lo = s->port_lo,
		.port_hi = s->port_hi,
	};
	if (s->port_lo > s->port_hi || (!s->port_lo && s->port_hi))
		return -EINVAL;
	int err;
	if ((err = mm_guard_rate_set(&s->known, &c.known)) ||
	    (err = mm_guard_rate_set(&s->unknown, &c.unknown)) ||
	    (err = mm_guard_rate_set(&s->handshake, &c.handshake)))
		return err;
	uint32_t zero = 0;
	return bpf_map_update_elem(g->fd[MM_GUARD_M_CONFIG], &zero, &c, BPF_ANY) ? -errno : 0;
}

/* ---- Lists -------------------------------------------------------------- */

uint64_t mm_guard_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns's clock */
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t expiry_ns(uint32_t ttl_seconds)
{
	return ttl_seconds ? mm_guard_now_ns() + (uint64_t)ttl_seconds * NS_PER_S : 0;
}

int mm_guard_allow_put(struct mm_guard *g, const struct mm_guard_tuple *t)
{
	struct mm_guard_allow v = {0};
	if (bpf_map_update_elem(g->fd[MM_GUARD_M_ALLOW], t, &v, BPF_NOEXIST) == 0)
		return 0;
	return errno == EEXIST ? 0 : -errno;
}

static int del(int fd, const void *key)
{
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

int mm_guard_allow_del(struct mm_guard *g, const struct mm_guard_tuple *t)
{
	return del(g->fd[MM_GUARD_M_ALLOW], t);
}

/* Put a block ending at expires_ns (0: never), keeping the counters of
 * the one it replaces. */
static int block_put(int fd, const void *key, uint64_t expires_ns)
{
	struct mm_guard_block v = {0};
	if (bpf_map_lookup_elem(fd, key, &v) && errno != ENOENT)
		return -errno;
	v.expires_ns = expires_ns;
	return bpf_map_update_elem(fd, key, &v, BPF_ANY) ? -errno : 0;
}

int mm_guard_kick_put(struct mm_guard *g, const struct mm_guard_tuple *t, uint32_t ttl_seconds)
{
	return block_put(g->fd[MM_GUARD_M_KICKED], t, expiry_ns(ttl_seconds));
}

int mm_guard_kick_put_until(struct mm_guard *g, const struct mm_guard_tuple *t, uint64_t expires_ns)
{
	return block_put(g->fd[MM_GUARD_M_KICKED], t, expires_ns);
}

int mm_guard_kick_del(struct mm_guard *g, const struct mm_guard_tuple *t)
{
	return del(g->fd[MM_GUARD_M_KICKED], t);
}

/* Every key of a hash map, copied out first (the caller's callback may
 * delete them while we go), in a malloc'd array of *n keys of ksz bytes. */
static int map_keys(int fd, size_t ksz, size_t limit, void **out, size_t *n_out)
{
	size_t n = 0, cap = 64;
	unsigned char *keys = malloc(cap * ksz);
	if (!keys)
		return -ENOMEM;
	const void *prev = NULL;
	int err = 0;
	for (;;) {
		if (n == cap) {
			unsigned char *k = realloc(keys, 2 * cap * ksz);
			if (!k) {
				err = -ENOMEM;
				break;
			}
			keys = k;
			cap *= 2;
		}
		if (bpf_map_get_next_key(fd, prev, keys + n * ksz)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		prev = keys + n * ksz;
		if (++n > 4 * limit) { /* changing under us */
			err = -EAGAIN;
			break;
		}
	}
	if (err) {
		free(keys);
		return err;
	}
	*out = keys;
	*n_out = n;
	return 0;
}

int mm_guard_tuples(struct mm_guard *g, enum mm_guard_map m,
		    int (*fn)(void *arg, const struct mm_guard_tuple *t), void *arg)
{
	if (m != MM_GUARD_M_ALLOW && m != MM_GUARD_M_KICKED)
		return -EINVAL;
	void *keys;
	size_t n;
	int err = map_keys(g->fd[m], sizeof(struct mm_guard_tuple), MM_GUARD_ALLOW_MAX, &keys, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++)
		err = fn(arg, (const struct mm_guard_tuple *)keys + i);
	free(keys);
	return err;
}

static int prefix_norm(const struct mm_guard_prefix *in, struct mm_guard_prefix *out)
{
	if (in->prefixlen > 128)
		return -EINVAL;
	*out = *in;
	for (unsigned bit = in->prefixlen; bit < 128; bit++)
		out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

int mm_guard_prefix_put(struct mm_guard *g, const struct mm_guard_prefix *p, uint32_t ttl_seconds)
{
	struct mm_guard_prefix k;
	int err = prefix_norm(p, &k);
	return err ? err : block_put(g->fd[MM_GUARD_M_PREFIXES], &k, expiry_ns(ttl_seconds));
}

int mm_guard_prefix_del(struct mm_guard *g, const struct mm_guard_prefix *p)
{
	struct mm_guard_prefix k;
	int err = prefix_norm(p, &k);
	return err ? err : del(g->fd[MM_GUARD_M_PREFIXES], &k);
}

int mm_guard_prefix_put_until(struct mm_guard *g, const struct mm_guard_prefix *p, uint64_t expires_ns)
{
	struct mm_guard_prefix k;
	int err = prefix_norm(p, &k);
	return err ? err : block_put(g->fd[MM_GUARD_M_PREFIXES], &k, expires_ns);
}

int mm_guard_prefixes(struct mm_guard *g, int (*fn)(void *arg, const struct mm_guard_prefix *p),
		      void *arg)
{
	void *keys;
	size_t n;
	int err = map_keys(g->fd[MM_GUARD_M_PREFIXES], sizeof(struct mm_guard_prefix),
			   MM_GUARD_PREFIXES_MAX, &keys, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++)
		err = fn(arg, (const struct mm_guard_prefix *)keys + i);
	free(keys);
	return err;
}

/* ---- Counters ----------------------------------------------------------- */

int mm_guard_counters_read(struct mm_guard *g, struct mm_guard_counter out[MM_GUARD_COUNTER_SLOTS])
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	struct mm_guard_counter *per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	int err = 0;
	for (uint32_t i = 0; i < MM_GUARD_COUNTER_SLOTS; i++) {
		if (bpf_map_lookup_elem(g->fd[MM_GUARD_M_COUNTERS], &i, per)) {
			err = -errno;
			break;
		}
		out[i] = (struct mm_guard_counter){0};
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += per[c].packets;
			out[i].bytes += per[c].bytes;
		}
	}
	free(per);
	return err;
}

/* ---- Text forms --------------------------------------------------------- */

int mm_guard_addr_parse(const char *text, uint8_t out[16], int *family)
{
	uint8_t v4[4];
	if (inet_pton(AF_INET, text, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xFF;
		memcpy(out + 12, v4, 4);
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out) == 1) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

int mm_guard_tuple_make(const char *remote, uint16_t remote_port, const char *local,
			uint16_t local_port, struct mm_guard_tuple *out)
{
	int fr, fl;
	memset(out, 0, sizeof(*out));
	if (mm_guard_addr_parse(remote, out->remote_addr, &fr) ||
	    mm_guard_addr_parse(local, out->local_addr, &fl) || fr != fl)
		return -EINVAL;
	out->remote_port = htons(remote_port);
	out->local_port = htons(local_port);
	return 0;
}

int mm_guard_prefix_parse(const char *text, struct mm_guard_prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	int family;
	struct mm_guard_prefix p = {0};
	if (mm_guard_addr_parse(addr, p.addr, &family))
		return -EINVAL;
	unsigned max = family == 4 ? 32 : 128, len = max;
	if (slash) {
		char *endp;
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		unsigned long n = strtoul(slash + 1, &endp, 10);
		if (errno || endp == slash + 1 || *endp || n > max)
			return -EINVAL;
		len = (unsigned)n;
	}
	p.prefixlen = family == 4 ? 96 + len : len;
	return prefix_norm(&p, out);
}

const char *mm_guard_verdict_name(unsigned verdict)
{
	static const char *const names[MM_GUARD__VERDICTS] = {
		[MM_GUARD_PASS] = "pass",
		[MM_GUARD_ACCEPT] = "accept",
		[MM_GUARD_REDIRECT] = "redirect",
		[MM_GUARD_DROP] = "drop",
	};
	return verdict < MM_GUARD__VERDICTS ? names[verdict] : NULL;
}
