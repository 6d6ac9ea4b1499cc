/* The test site's description, from the variables "mmsite env" prints. */
#include "tools/sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int get(const char *name, char *out, size_t cap, char *err, size_t errlen)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		snprintf(err, errlen, "%s is not set (run under \"tools/mmsite run -- ...\")", name);
		return -ENOENT;
	}
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s is too long", name);
		return -EINVAL;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int sim_site_from_env(struct sim_site *s, char *err, size_t errlen)
{
	char tmp[32], name[64];
	int rc;
	memset(s, 0, sizeof(*s));
	if ((rc = get("MMSITE_DP_NS", s->dp_ns, sizeof(s->dp_ns), err, errlen)) ||
	    (rc = get("MMSITE_DP_IF", s->dp_if, sizeof(s->dp_if), err, errlen)) ||
	    (rc = get("MMSITE_DP_MAC", s->dp_mac, sizeof(s->dp_mac), err, errlen)) ||
	    (rc = get("MMSITE_DP_IP4", s->dp_ip4, sizeof(s->dp_ip4), err, errlen)) ||
	    (rc = get("MMSITE_DP_IP6", s->dp_ip6, sizeof(s->dp_ip6), err, errlen)) ||
	    (rc = get("MMSITE_GW_MAC", s->gw_mac, sizeof(s->gw_mac), err, errlen)) ||
	    (rc = get("MMSITE_HOSTS", tmp, sizeof(tmp), err, errlen)))
		return rc;
	s->hosts = atoi(tmp);
	if (s->hosts < 1 || s->hosts > SIM_SITE_MAX_HOSTS) {
		snprintf(err, errlen, "MMSITE_HOSTS=%s is not 1..%d", tmp, SIM_SITE_MAX_HOSTS);
		return -EINVAL;
	}
	for (int i = 1; i <= s->hosts; i++) {
		struct sim_site_host *h = &s->host[i];
		snprintf(name, sizeof(name), "MMSITE_H%d_NS", i);
		if ((rc = get(name, h->ns, sizeof(h->ns), err, errlen)))
			return rc;
		snprintf(name, sizeof(name), "MMSITE_H%d_IP4", i);
		if ((rc = get(name, h->ip4, sizeof(h->ip4), err, errlen)))
			return rc;
		snprintf(name, sizeof(name), "MMSITE_H%d_IP6", i);
		if ((rc = get(name, h->ip6, sizeof(h->ip6), err, errlen)))
			return rc;
		snprintf(name, sizeof(name), "MMSITE_H%d_MAC", i);
		if ((rc = get(name, h->mac, sizeof(h->mac), err, errlen)))
			return rc;
	}
	return 0;
}

/* Send an empty datagram from every host to each of mmdp's addresses, so
 * that the hosts resolve mmdp's MAC (ARP, ND) before media starts: packets
 * a kernel queues while it resolves a neighbour can be overtaken by the
 * next ones when the answer comes, which would show as reordering. mmdp
 * drops the probes (demux_unknown). */
int sim_site_resolve(const struct sim_site *s)
{
	for (int i = 1; i <= s->hosts; i++) {
		const char *src[2] = {s->host[i].ip4, s->host[i].ip6};
		const char *dst[2] = {s->dp_ip4, s->dp_ip6};
		for (int f = 0; f < 2; f++) {
			struct sockaddr_storage ss;
			socklen_t sl;
			int fd, rc = sim_udp_open(s->host[i].ns, src[f], 0, 0, &fd);
			if (rc)
				return rc;
			rc = sim_sockaddr_parse(dst[f], 9, &ss, &sl);
			if (rc == 0 && sendto(fd, "", 0, 0, (struct sockaddr *)&ss, sl) < 0)
				rc = -errno;
			close(fd);
			if (rc)
				return rc;
		}
	}
	sim_sleep_ms(200);
	return 0;
}
