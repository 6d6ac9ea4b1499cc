/* The XDP guard from userspace. See guard.h and docs/xdp-guard.md. */
#include "bpf/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.skel.h"

#define NS_PER_S 1000000000ull
/* Bucket times stay far below 2^64 when added to CLOCK_MONOTONIC. */
#define TAU_MAX (1ull << 62)

struct mm_guard {
	struct mm_guard_bpf *skel; /* NULL when opened from pins */
	int fd[MM_GUARD__MAPS];    /* -1 where absent */
	bool own_fds;              /* opened from pins: ours to close */
};

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

static struct mm_guard *guard_new(void)
{
	struct mm_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	for (int i = 0; i < MM_GUARD__MAPS; i++)
		g->fd[i] = -1;
	return g;
}

static struct bpf_map *skel_map(struct mm_guard_bpf *s, enum mm_guard_map m)
{
	switch (m) {
	case MM_GUARD_M_CONFIG: return s->maps.mmg_config;
	case MM_GUARD_M_COUNTERS: return s->maps.mmg_counters;
	case MM_GUARD_M_ALLOW: return s->maps.mmg_allow;
	case MM_GUARD_M_KICKED: return s->maps.mmg_kicked;
	case MM_GUARD_M_PREFIXES: return s->maps.mmg_prefixes;
	case MM_GUARD_M_SOURCES: return s->maps.mmg_sources;
	case MM_GUARD_M_HANDSHAKE: return s->maps.mmg_handshake;
	case MM_GUARD_M_XSKS: return s->maps.xsks_map;
	case MM_GUARD__MAPS: break;
	}
	return NULL;
}

static int mkdir_one(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

int mm_guard_load(const char *pin_dir, struct mm_guard **out)
{
	int err;
	struct mm_guard *g = guard_new();
	if (!g)
		return -ENOMEM;
	if (pin_dir) {
		err = mkdir_one(pin_dir);
		if (err)
			goto fail;
	}
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	g->skel = mm_guard_bpf__open_opts(&oo);
	if (!g->skel) {
		err = errno ? -errno : -EINVAL;
		goto fail;
	}
	for (int m = 0; m < MM_GUARD__MAPS; m++) {
		if (!pin_dir) {
			err = bpf_map__set_pin_path(skel_map(g->skel, m), NULL);
			if (err)
				goto fail;
		}
	}
	err = mm_guard_bpf__load(g->skel);
	if (err)
		goto fail;
	for (int m = 0; m < MM_GUARD__MAPS; m++)
		g->fd[m] = bpf_map__fd(skel_map(g->skel, m));
	*out = g;
	return 0;
fail:
	mm_guard_close(g);
	return err < 0 ? err : -EINVAL;
}

int mm_guard_open_pinned(const char *pin_dir, struct mm_guard **out)
{
	int err = 0;
	struct mm_guard *g = guard_new();
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
	mm_guard_bpf__destroy(g->skel);
	free(g);
}

int mm_guard_prog_fd(const struct mm_guard *g)
{
	return g->skel ? bpf_program__fd(g->skel->progs.mm_guard) : -ENOENT;
}

int mm_guard_map_fd(const struct mm_guard *g, enum mm_guard_map m)
{
	if ((unsigned)m >= MM_GUARD__MAPS || g->fd[m] < 0)
		return -ENOENT;
	return g->fd[m];
}

/* ---- Attaching ---------------------------------------------------------- */

int mm_guard_attach(struct mm_guard *g, int ifindex, uint32_t xdp_flags)
{
	int fd = mm_guard_prog_fd(g);
	if (fd < 0)
		return fd;
	return bpf_xdp_attach(ifindex, fd, xdp_flags, NULL);
}

int mm_guard_detach(struct mm_guard *g, int ifindex)
{
	int fd = mm_guard_prog_fd(g);
	if (fd < 0)
		return fd;
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	uint32_t mode;
	if (q.skb_prog_id == info.id)
		mode = XDP_FLAGS_SKB_MODE;
	else if (q.drv_prog_id == info.id)
		mode = XDP_FLAGS_DRV_MODE;
	else if (q.hw_prog_id == info.id)
		mode = XDP_FLAGS_HW_MODE;
	else
		return -ENOENT;
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = fd);
	return bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &ao);
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

static uint64_t expiry_ns(uint32_t ttl_seconds)
{
	if (!ttl_seconds)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns's clock */
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec +
	       (uint64_t)ttl_seconds * NS_PER_S;
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

/* Put a block, keeping the counters of the one it replaces. */
static int block_put(int fd, const void *key, uint32_t ttl_seconds)
{
	struct mm_guard_block v = {0};
	if (bpf_map_lookup_elem(fd, key, &v) && errno != ENOENT)
		return -errno;
	v.expires_ns = expiry_ns(ttl_seconds);
	return bpf_map_update_elem(fd, key, &v, BPF_ANY) ? -errno : 0;
}

int mm_guard_kick_put(struct mm_guard *g, const struct mm_guard_tuple *t, uint32_t ttl_seconds)
{
	return block_put(g->fd[MM_GUARD_M_KICKED], t, ttl_seconds);
}

int mm_guard_kick_del(struct mm_guard *g, const struct mm_guard_tuple *t)
{
	return del(g->fd[MM_GUARD_M_KICKED], t);
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
	return err ? err : block_put(g->fd[MM_GUARD_M_PREFIXES], &k, ttl_seconds);
}

int mm_guard_prefix_del(struct mm_guard *g, const struct mm_guard_prefix *p)
{
	struct mm_guard_prefix k;
	int err = prefix_norm(p, &k);
	return err ? err : del(g->fd[MM_GUARD_M_PREFIXES], &k);
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
