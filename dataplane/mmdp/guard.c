/* mmdp and the XDP guard: see guard.h. */
#include "dataplane/mmdp/guard.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "bpf/guard.h"
#include "common/log.h"

struct mmdp_guard {
	struct mm_guard *maps;
	struct mm_agent_guard ag;
	char pin_dir[256];
	bool redirect;
};

/* ---- The agent's operations on the pinned maps ------------------------- */

static int op_allow_put(void *ctx, const struct mm_guard_tuple *t)
{
	return mm_guard_allow_put(ctx, t);
}

static int op_allow_del(void *ctx, const struct mm_guard_tuple *t)
{
	return mm_guard_allow_del(ctx, t);
}

static int op_kick_put(void *ctx, const struct mm_guard_tuple *t, uint64_t expires_ns)
{
	/* The agent's clock is CLOCK_MONOTONIC, the program's. */
	return mm_guard_kick_put_until(ctx, t, expires_ns);
}

static int op_kick_del(void *ctx, const struct mm_guard_tuple *t)
{
	return mm_guard_kick_del(ctx, t);
}

static int op_tuples(void *ctx, bool kicked, int (*fn)(void *, const struct mm_guard_tuple *),
		     void *arg)
{
	return mm_guard_tuples(ctx, kicked ? MM_GUARD_M_KICKED : MM_GUARD_M_ALLOW, fn, arg);
}

static int op_prefix_put(void *ctx, const struct mm_guard_prefix *p, uint64_t expires_ns)
{
	return mm_guard_prefix_put_until(ctx, p, expires_ns);
}

static int op_prefix_del(void *ctx, const struct mm_guard_prefix *p)
{
	return mm_guard_prefix_del(ctx, p);
}

static int op_prefixes(void *ctx, int (*fn)(void *, const struct mm_guard_prefix *), void *arg)
{
	return mm_guard_prefixes(ctx, fn, arg);
}

static int op_counters(void *ctx, struct mm_guard_counter out[MM_GUARD_COUNTER_SLOTS])
{
	return mm_guard_counters_read(ctx, out);
}

static const struct mm_agent_guard_ops pinned_ops = {
	.allow_put = op_allow_put,
	.allow_del = op_allow_del,
	.kick_put = op_kick_put,
	.kick_del = op_kick_del,
	.tuples = op_tuples,
	.prefix_put = op_prefix_put,
	.prefix_del = op_prefix_del,
	.prefixes = op_prefixes,
	.counters = op_counters,
};

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	mm_warn("guard_log", "message=%s", mm_q(line));
}

/* ---- Start-up checks ---------------------------------------------------- */

/* Is addr configured on interface ifname (in mmdp's network namespace)? */
static bool kernel_has_addr(const struct ifaddrs *ifs, const char *ifname, const struct net_addr *a,
			    uint8_t family)
{
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (family == 4 && i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;
			if (memcmp(&s->sin_addr, a->b + 12, 4) == 0)
				return true;
		} else if (family == 6 && i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)i->ifa_addr;
			if (memcmp(&s->sin6_addr, a->b, 16) == 0)
				return true;
		}
	}
	return false;
}

/* With the guard, ARP and neighbour solicitations pass to the kernel: it
 * answers for mmdp's addresses only if they are configured on the
 * interface. Warn about each one that is not. */
static void check_kernel_addrs(const struct mm_port_conf *pc, uint16_t port, const char *ifname)
{
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) != 0) {
		mm_warn("guard_addrs_unknown", "error=%s", mm_q(strerror(errno)));
		return;
	}
	for (uint32_t i = 0; i < pc->n_addrs; i++) {
		if (kernel_has_addr(ifs, ifname, &pc->addrs[i], pc->addr_family[i]))
			continue;
		char a[64];
		net_addr_format(&pc->addrs[i], a, sizeof(a));
		char fix[160];
		snprintf(fix, sizeof(fix), "ip addr add %s/%d dev %s", a,
			 pc->addr_family[i] == 4 ? 32 : 128, ifname);
		/* With the guard, ARP and neighbour solicitations go to the
		 * kernel, which answers only for its own addresses. */
		mm_warn("guard_addr_missing", "port=%u addr=%s iface=%s fix=%s doc=docs/xdp-guard.md",
			port, a, mm_q(ifname), mm_q(fix));
	}
	freeifaddrs(ifs);
}

static int check_port(struct mmdp_guard *g, const struct mm_port_conf *pc, uint16_t port)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc)
		return rc;
	if (strcmp(info.driver_name, "net_af_xdp") != 0) {
		mm_warn("guard_port_not_af_xdp", "port=%u driver=%s hint=%s", port,
			mm_q(info.driver_name), mm_q("the guard does not see its traffic"));
		return 0;
	}
	char ifname[IF_NAMESIZE] = "?";
	if (!if_indextoname(info.if_index, ifname))
		snprintf(ifname, sizeof(ifname), "ifindex %u", info.if_index);
	rc = mm_guard_check_attached(g->maps, (int)info.if_index);
	if (rc == -ENOENT || rc == -ESRCH) {
		mm_err("guard_not_attached", "port=%u found=%s iface=%s pin_dir=%s hint=%s", port,
		       rc == -ENOENT ? "none" : "another_program", mm_q(ifname), mm_q(g->pin_dir),
		       mm_q("start mmdp with xdp_prog=<libdir>/mobifone-meeting/guard.bpf.o on the "
			    "port's vdev (one vdev per interface) and guard.pin_dir where DPDK pins "
			    "its maps (/sys/fs/bpf); see docs/xdp-guard.md"));
		return -EINVAL;
	}
	if (rc) {
		mm_err("guard_query_failed", "port=%u iface=%s error=%s", port, mm_q(ifname),
		       mm_q(strerror(-rc)));
		return rc;
	}
	check_kernel_addrs(pc, port, ifname);
	mm_info("guard_attached", "port=%u iface=%s port_lo=%u port_hi=%u redirect=%s", port,
		mm_q(ifname), g->ag.port_lo, g->ag.port_hi, g->redirect ? "on" : "off");
	return 0;
}

int mmdp_guard_start(const struct mm_config *cfg, uint16_t n_ports, struct mmdp_guard **out)
{
	struct mmdp_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	snprintf(g->pin_dir, sizeof(g->pin_dir), "%s", cfg->guard.pin_dir);
	g->redirect = cfg->guard.s.redirect;
	int rc = mm_guard_open_pinned(g->pin_dir, &g->maps);
	if (rc == -ENOENT) {
		mm_err("guard_maps_missing", "pin_dir=%s hint=%s", mm_q(g->pin_dir),
		       mm_q("give the AF_XDP vdev xdp_prog=<libdir>/mobifone-meeting/guard.bpf.o "
			    "(DPDK then pins them under /sys/fs/bpf), or set guard.pin_dir to where "
			    "they are; see docs/xdp-guard.md"));
		goto fail;
	}
	if (rc == -EPROTO) {
		mm_err("guard_maps_abi", "pin_dir=%s hint=%s", mm_q(g->pin_dir),
		       mm_q("another shape (an older guard ABI): stop mmdp, remove the mmg_* maps "
			    "there and start again"));
		goto fail;
	}
	if (rc) {
		mm_err("guard_maps_open_failed", "pin_dir=%s error=%s", mm_q(g->pin_dir),
		       mm_q(strerror(-rc)));
		goto fail;
	}
	g->ag = (struct mm_agent_guard){
		.ops = &pinned_ops,
		.ctx = g->maps,
		.port_lo = cfg->guard.s.port_lo,
		.port_hi = cfg->guard.s.port_hi,
		.pin_dir = g->pin_dir,
		.log = log_line,
	};
	for (uint16_t p = 0; p < n_ports; p++)
		if ((rc = check_port(g, &cfg->dp.ports[p], p)))
			goto fail;
	rc = mm_guard_configure(g->maps, &cfg->guard.s);
	if (rc) {
		mm_err("guard_configure_failed", "error=%s", mm_q(strerror(-rc)));
		goto fail;
	}
	if (!cfg->guard.s.redirect)
		mm_warn("guard_redirect_off", "hint=%s",
			mm_q("accepted media goes to the kernel, not to mmdp"));
	*out = g;
	return 0;
fail:
	mm_guard_close(g->maps);
	free(g);
	return rc ? rc : -EINVAL;
}

void mmdp_guard_attach_agent(struct mmdp_guard *g, struct mm_agent *a)
{
	a->guard = &g->ag;
	int fails = mm_agent_guard_resync(a);
	if (fails)
		mm_warn("guard_resync_failed", "fails=%d retry=true", fails);
}

int mmdp_guard_set_limits(struct mmdp_guard *g, const struct mm_guard_settings *s)
{
	/* The port range and redirect stay those of the start. */
	struct mm_guard_settings now = *s;
	now.port_lo = g->ag.port_lo;
	now.port_hi = g->ag.port_hi;
	now.redirect = g->redirect;
	return mm_guard_configure(g->maps, &now);
}

void mmdp_guard_stop(struct mmdp_guard *g, struct mm_agent *a)
{
	if (!g)
		return;
	if (a->guard == &g->ag)
		a->guard = NULL;
	mm_guard_close(g->maps);
	free(g);
}
