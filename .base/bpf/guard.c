/* The XDP guard from userspace: the program. Loading (with the embedded
 * skeleton), attaching and detaching. The maps (lists, configuration,
 * counters) are guard_maps.c. See guard.h and docs/xdp-guard.md. */
#include "bpf/guard.h"

#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.skel.h"
#include "bpf/guard_internal.h"

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

static void skel_destroy(void *skel)
{
	mm_guard_bpf__destroy(skel);
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
	struct mm_guard *g = mm_guard_new_();
	if (!g)
		return -ENOMEM;
	if (pin_dir) {
		err = mkdir_one(pin_dir);
		if (err)
			goto fail;
	}
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	struct mm_guard_bpf *skel = mm_guard_bpf__open_opts(&oo);
	if (!skel) {
		err = errno ? -errno : -EINVAL;
		goto fail;
	}
	g->skel = skel;
	g->skel_destroy = skel_destroy;
	for (int m = 0; m < MM_GUARD__MAPS; m++) {
		if (!pin_dir) {
			err = bpf_map__set_pin_path(skel_map(skel, m), NULL);
			if (err)
				goto fail;
		}
	}
	err = mm_guard_bpf__load(skel);
	if (err)
		goto fail;
	for (int m = 0; m < MM_GUARD__MAPS; m++)
		g->fd[m] = bpf_map__fd(skel_map(skel, m));
	g->prog_fd = bpf_program__fd(skel->progs.mm_guard);
	*out = g;
	return 0;
fail:
	mm_guard_close(g);
	return err < 0 ? err : -EINVAL;
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
