/* ICE-lite, the agent's part: bind endpoints to the 5-tuple their valid
 * checks came from, and hand DTLS records to agent_dtls.c, as the
 * workers ask through their worker->agent mailboxes.
 *
 * Binding recreates the endpoint at the new 5-tuple (remove, create,
 * publish, as an endpoint.put that moves it), with the very same conf:
 * keyset, retransmission caches and credentials go on, the old object is
 * freed after the grace period without them (conf_given). Workers thus
 * never see an endpoint's key change under them, and by_key stays a plain
 * insert/delete table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent_internal.h"
#include "dataplane/core/mailbox.h"

/* Messages taken from one worker's mailbox per tick at most: the rest
 * waits for the next (the agent also serves requests). */
#define ICE_DRAIN_MAX 512

/* Bind the endpoint a BIND message names to its 5-tuple. Returns true when
 * the tables changed. */
static bool ice_bind(struct mm_agent *a, const struct mm_mbox_msg *m, struct mm_garbage *g,
		     struct guard_touch *tc)
{
	struct mm_tables *t = a->t;
	struct mm_endpoint *ep = mm_tables_endpoint(t, m->ep);
	if (!ep || !ep->ice || ep->ice_gen != m->ice_gen)
		return false; /* gone, or new credentials since */
	if (ep->bound && memcmp(&ep->key, &m->key, sizeof(m->key)) == 0)
		return false; /* already there (an earlier request) */
	if (m->key.lport != ep->key.lport || memcmp(&m->laddr, &ep->laddr, sizeof(m->laddr)) != 0 ||
	    m->family != ep->family)
		return false;
	if (mm_tables_lookup(t, &m->key))
		return false; /* another endpoint's 5-tuple: it keeps it */

	struct mm_ep_conf *c = malloc(sizeof(*c));
	if (!c)
		return false;
	*c = *ep->conf; /* keys and caches move on with it */
	/* Its worker state as a check just came, set before it is published. */
	struct mm_ep_ice ice = {.ice = true, .bound = true, .dtls = ep->dtls,
				.dtls_peer_active = ep->dtls_peer_active, .ice_gen = ep->ice_gen,
				.last_ns = m->now_ns, .checks = MM_CNT_GET(ep->ice_checks),
				.bad_checks = MM_CNT_GET(ep->ice_bad_checks), .mac_set = true};
	memcpy(ice.ufrag, ep->ice_ufrag, sizeof(ice.ufrag));
	memcpy(ice.pwd, ep->ice_pwd, sizeof(ice.pwd));
	memcpy(ice.fp, ep->dtls_fp, sizeof(ice.fp));
	memcpy(ice.mac, m->mac, 6);
	char name[MM_NAME_MAX + 1];
	memcpy(name, ep->name, sizeof(name));
	struct mm_room *r = ep->room;
	struct net_addr laddr = ep->laddr;
	uint8_t family = ep->family;
	uint16_t port_id = ep->port_id;

	if (a->guard)
		mm_agent_guard_touch_ep(tc, ep);
	ep->conf_given = true;
	mm_endpoint_remove(t, ep, g);
	struct mm_endpoint *n =
		mm_endpoint_create_ice(t, r, name, &m->key, &laddr, family, port_id, c, &ice);
	if (!n) {
		/* Out of memory: the endpoint is gone with its conf. */
		ep->conf_given = false;
		free(c);
		return true;
	}
	if (a->guard)
		mm_agent_guard_touch_ep(tc, n);
	return true;
}

void mm_agent_ice_tick(struct mm_agent *a)
{
	struct mm_tables *t = a->t;
	struct mm_garbage g = {0};
	struct guard_touch tc;
	memset(&tc, 0, sizeof(tc));
	bool changed = false;
	for (uint32_t w = 0; w < t->conf.n_workers && w < MM_WORKERS_MAX; w++) {
		struct mm_mbox *mb = t->mbox_up[w];
		const struct mm_mbox_msg *m;
		for (int n = 0; mb && n < ICE_DRAIN_MAX && (m = mm_mbox_peek(mb)); n++) {
			if (m->type == MM_MBOX_BIND)
				changed |= ice_bind(a, m, &g, &tc);
			else if (m->type == MM_MBOX_DTLS_IN)
				mm_agent_dtls_input(a, m);
			mm_mbox_pop(mb);
		}
	}
	if (changed) {
		mm_tables_publish_routes(t, &g);
		mm_agent_guard_sync(a, &tc);
		urcu_qsbr_synchronize_rcu();
		mm_garbage_collect(&g, true);
	} else {
		free(tc.eps);
	}
	mm_agent_dtls_tick(a);
}
