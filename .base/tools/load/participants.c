/* Participants: names, where each one lives on the test site (host
 * namespace, address, port), its server port on mmdp, its SRTP keys and
 * sessions, and its socket.
 *
 * Participant p goes to host (p mod H) + 1, to that host's address
 * ((p / H) mod A) + 1 (mmsite gives each host A addresses,
 * MMSITE_ADDRS_PER_HOST) and to port client_port + p / (H * A): many
 * participants per namespace, on distinct addresses and ports. In memif
 * mode (--io memif) there is no site: see plan_memif. The backend opens
 * what carries their packets (io->open); here: keys and SRTP sessions. */
#include "tools/load/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void ld_room_name(const struct ld_run *R, uint32_t room, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-r%u", R->o.prefix, room + 1);
}

/* base with its last byte raised by add: the host's add-th extra address. */
static int addr_plus(const char *base, unsigned add, char *out, size_t cap)
{
	uint8_t b[16];
	int fam = strchr(base, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, base, b) != 1)
		return -EINVAL;
	uint8_t *last = &b[fam == AF_INET ? 3 : 15];
	if (*last + add > 255)
		return -ERANGE;
	*last = (uint8_t)(*last + add);
	return inet_ntop(fam, b, out, (socklen_t)cap) ? 0 : -EINVAL;
}

int ld_random_key(struct mm_srtp_keys *k, enum mm_srtp_profile profile)
{
	memset(k, 0, sizeof(*k));
	k->profile = profile;
	k->master_len = mm_srtp_master_len(profile);
	size_t got = 0;
	while (got < k->master_len) {
		ssize_t n = getrandom(k->master + got, k->master_len - got, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/* Kernel mode: where participant i lives on the test site (see the top). */
static int plan_site(struct ld_run *R, struct ld_part *p, int fam, char *err, size_t errlen)
{
	uint32_t H = (uint32_t)R->site.hosts, A = (uint32_t)R->addrs_per_host, i = p->id;
	const struct sim_site_host *h = &R->site.host[i % H + 1];
	snprintf(p->netns, sizeof(p->netns), "%s", h->ns);
	snprintf(p->mac, sizeof(p->mac), "%s", h->mac);
	int rc = addr_plus(fam == 6 ? h->ip6 : h->ip4, (i / H) % A, p->addr, sizeof(p->addr));
	if (rc) {
		snprintf(err, errlen, "no address %u on host %s", (i / H) % A + 1, h->ns);
		return rc;
	}
	p->port = (uint16_t)(R->o.client_port + i / (H * A));
	snprintf(p->server_addr, sizeof(p->server_addr), "%s",
		 fam == 6 ? R->site.dp_ip6 : R->site.dp_ip4);
	return 0;
}

/* Memif mode: participants are addresses on the memif link, behind
 * mmload's port (its MAC is everyone's): 198.19.(i / 250).(i % 250 + 1)
 * or 2001:2:0:1::(i + 1), port client_port + i (unique: the receive path
 * finds the participant by it). */
static int plan_memif(struct ld_run *R, struct ld_part *p, int fam, char *err, size_t errlen)
{
	uint32_t i = p->id;
	if (fam == 6)
		snprintf(p->addr, sizeof(p->addr), "2001:2:0:1::%x", i + 1);
	else
		snprintf(p->addr, sizeof(p->addr), "198.19.%u.%u", i / 250, i % 250 + 1);
	snprintf(p->mac, sizeof(p->mac), "%s", R->o.mac);
	p->port = (uint16_t)(R->o.client_port + i);
	snprintf(p->server_addr, sizeof(p->server_addr), "%s", fam == 6 ? R->o.dp_ip6 : R->o.dp_ip4);
	uint8_t f1;
	if (net_addr_parse(p->addr, &p->addr_b, &f1) || net_mac_parse(p->mac, p->mac_b)) {
		snprintf(err, errlen, "%s: bad address %s or MAC %s", p->name, p->addr, p->mac);
		return -EINVAL;
	}
	return 0;
}

int ld_parts_plan(struct ld_run *R, char *err, size_t errlen)
{
	const struct ld_opts *o = &R->o;
	bool memif = o->io == LD_IO_MEMIF;
	uint32_t H = memif ? 1 : (uint32_t)R->site.hosts, A = memif ? 1 : (uint32_t)R->addrs_per_host;
	if (R->sc.n_parts / (H * A) + o->client_port > 65535 ||
	    (uint32_t)o->server_port + R->sc.n_parts > 65536) {
		snprintf(err, errlen, "too many participants for the port ranges");
		return -ERANGE;
	}
	R->parts = calloc(R->sc.n_parts, sizeof(*R->parts));
	if (!R->parts)
		return -ENOMEM;
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		p->fd = -1;
		p->id = i;
		p->max_layer = o->conf.max_layer;
		p->room = ld_part_room(&R->sc, i);
		p->slot = i % R->sc.parts_per_room;
		snprintf(p->name, sizeof(p->name), "%s-r%u-p%u", o->prefix, p->room + 1,
			 p->slot + 1);
		int fam = o->family ? o->family : (i % 2 ? 6 : 4);
		p->family = (uint8_t)fam;
		int rc = memif ? plan_memif(R, p, fam, err, errlen) : plan_site(R, p, fam, err, errlen);
		if (rc)
			return rc;
		p->server_port = (uint16_t)(o->server_port + i);
		p->thread = i % (uint32_t)R->n_threads;
		p->srtp = o->srtp;
		if (p->srtp != MM_SRTP_NONE &&
		    ((rc = ld_random_key(&p->key_in, p->srtp)) || (rc = ld_random_key(&p->key_out, p->srtp)))) {
			snprintf(err, errlen, "getrandom: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int ld_part_srtp(struct ld_part *p)
{
	mm_srtp_destroy(p->tx);
	mm_srtp_destroy(p->rx);
	p->tx = p->rx = NULL;
	if (p->srtp == MM_SRTP_NONE)
		return 0;
	int rc = mm_srtp_create(&p->tx, &p->key_in, false);
	if (!rc)
		rc = mm_srtp_create(&p->rx, &p->key_out, true);
	return rc;
}

int ld_parts_open(struct ld_run *R, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		uint8_t fam;
		int rc = sim_sockaddr_parse(p->server_addr, p->server_port, &p->server,
					    &p->server_len);
		if (!rc)
			rc = net_addr_parse(p->server_addr, &p->server_b, &fam);
		if (!rc)
			rc = ld_part_srtp(p);
		if (rc) {
			snprintf(err, errlen, "%s: server %s port %u, SRTP: %s", p->name,
				 p->server_addr, p->server_port, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void ld_parts_close(struct ld_run *R)
{
	if (!R->parts)
		return;
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		mm_srtp_destroy(p->tx);
		mm_srtp_destroy(p->rx);
		p->tx = p->rx = NULL;
		explicit_bzero(&p->key_in, sizeof(p->key_in));
		explicit_bzero(&p->key_out, sizeof(p->key_out));
		free(p->ctl_token);
		p->ctl_token = NULL;
	}
	free(R->parts);
	R->parts = NULL;
}
