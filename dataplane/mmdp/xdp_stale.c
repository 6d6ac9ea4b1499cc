/* XDP programs left behind by an mmdp that did not stop (see xdp_stale.h). */
#include "dataplane/mmdp/xdp_stale.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/xdp_diag.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <rte_ethdev.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* Is an AF_XDP socket of this network namespace bound to ifindex? 1 yes,
 * 0 no, -errno when the kernel cannot tell (no xsk_diag). */
static int xsk_bound(unsigned int ifindex)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr nlh;
		struct xdp_diag_req r;
	} req = {
		.nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
		.r = {.sdiag_family = AF_XDP, .xdiag_show = XDP_SHOW_INFO},
	};
	int rc = 0;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		rc = -errno;
		goto out;
	}
	/* The dump, to its end: a socket bound to the interface anywhere in
	 * it is enough, but the rest must be read off the socket anyway. */
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (bool done = false; !done;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				rc = e->error ? e->error : -EPROTO;
				goto out;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct xdp_diag_msg)))
				continue;
			const struct xdp_diag_msg *m = NLMSG_DATA(h);
			int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen)) {
				const struct xdp_diag_info *info = RTA_DATA(a);
				if (a->rta_type == XDP_DIAG_INFO && RTA_PAYLOAD(a) >= sizeof(*info) &&
				    info->ifindex == ifindex)
					rc = 1;
			}
		}
	}
out:
	close(fd);
	return rc;
}

/* Does a live process (that this one can see in /proc) hold an fd of BPF
 * program id? The loader of an attached program keeps it while it runs
 * (libxdp for its socket, DPDK for xdp_prog=); the fallback where the
 * kernel has no xsk_diag. 1 yes, 0 no. */
static int prog_held(uint32_t id)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return -errno;
	int found = 0;
	struct dirent *pe;
	while (!found && (pe = readdir(proc))) {
		char *end;
		long pid = strtol(pe->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		DIR *fds = opendir(path);
		if (!fds)
			continue; /* gone, or not ours to see */
		struct dirent *fe;
		while (!found && (fe = readdir(fds))) {
			char link[PATH_MAX], target[64];
			snprintf(link, sizeof(link), "/proc/%ld/fd/%s", pid, fe->d_name);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			if (strcmp(target, "anon_inode:bpf-prog") != 0)
				continue;
			snprintf(link, sizeof(link), "/proc/%ld/fdinfo/%s", pid, fe->d_name);
			FILE *f = fopen(link, "r");
			if (!f)
				continue;
			char line[128];
			uint32_t v;
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "prog_id: %" SCNu32, &v) == 1 && v == id)
					found = 1;
			fclose(f);
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* Is program id one that mmdp's AF_XDP ports load: libxdp's default
 * (DPDK without xdp_prog=) or the XDP guard (bpf/guard.bpf.c)? Others
 * are someone else's to remove. */
static bool ours(uint32_t id, char name[BPF_OBJ_NAME_LEN])
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (rc)
		return false;
	snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
	return strcmp(info.name, "xsk_def_prog") == 0 || strcmp(info.name, "mm_guard") == 0;
}

/* Detach program id, attached in mode (XDP_FLAGS_DRV_MODE or
 * XDP_FLAGS_SKB_MODE), from ifindex: only that program (XDP_FLAGS_REPLACE
 * with its fd), so one attached meanwhile by someone else stays. */
static int detach(unsigned int ifindex, uint32_t id, uint32_t mode)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);
	int rc = bpf_xdp_detach((int)ifindex, mode | XDP_FLAGS_REPLACE, &o);
	close(fd);
	return rc;
}

void mmdp_xdp_stale_remove(uint16_t n_ports)
{
	for (uint16_t p = 0; p < n_ports; p++) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(p, &info) != 0 || strcmp(info.driver_name, "net_af_xdp") != 0)
			continue;
		unsigned int ifindex = info.if_index;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		if (bpf_xdp_query((int)ifindex, 0, &q) != 0 || (!q.drv_prog_id && !q.skb_prog_id))
			continue;
		char ifname[IF_NAMESIZE] = "?";
		if (!if_indextoname(ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "ifindex %u", ifindex);
		/* In use: leave it (DPDK's setup then reports the conflict). */
		int bound = xsk_bound(ifindex);
		if (bound > 0)
			continue;
		const struct {
			uint32_t id, mode;
		} progs[] = {{q.drv_prog_id, XDP_FLAGS_DRV_MODE}, {q.skb_prog_id, XDP_FLAGS_SKB_MODE}};
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
			char name[BPF_OBJ_NAME_LEN] = "";
			if (!progs[i].id)
				continue;
			if (!ours(progs[i].id, name)) {
				fprintf(stderr, "mmdp: port %u: XDP program %u (%s) on %s is not one mmdp "
						"loads: left in place\n", p, progs[i].id, name, ifname);
				continue;
			}
			/* Without xsk_diag (kernels built without it), whether
			 * a live process holds the program. */
			int held = bound < 0 ? prog_held(progs[i].id) : 0;
			if (held != 0) {
				if (held < 0)
					fprintf(stderr, "mmdp: port %u: XDP program %u on %s: cannot tell "
							"whether it is in use (%s): left in place\n",
						p, progs[i].id, ifname, strerror(-held));
				continue;
			}
			int rc = detach(ifindex, progs[i].id, progs[i].mode);
			if (rc)
				fprintf(stderr, "mmdp: port %u: cannot remove the stale XDP program %u "
						"on %s: %s\n", p, progs[i].id, ifname, strerror(-rc));
			else
				fprintf(stderr,
					"mmdp: port %u: removed XDP program %u (%s) from %s: no AF_XDP "
					"socket is bound there, an earlier mmdp left it (killed, not "
					"stopped)\n", p, progs[i].id, name, ifname);
		}
	}
}
