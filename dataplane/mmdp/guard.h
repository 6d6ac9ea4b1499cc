/* mmdp and the XDP guard that DPDK's af_xdp port loaded (xdp_prog=): open
 * its pinned maps, check that the program on each AF_XDP port's interface
 * is the guard that uses them, configure it (media ports, redirect,
 * limits), and hand the agent the operations that keep its allowlist and
 * kicked list in step with the tables (dataplane/core/agent_guard.h). See
 * docs/xdp-guard.md, "Running with mmdp". */
#ifndef MMDP_GUARD_H
#define MMDP_GUARD_H

#include <stdint.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/config.h"

struct mmdp_guard;

/* After the ports started (DPDK loaded the program then). Prints why on
 * failure; returns 0 or a negative errno. */
int mmdp_guard_start(const struct mm_config *cfg, uint16_t n_ports, struct mmdp_guard **out);
/* Attach to the agent and reconcile the lists with its (empty) tables:
 * what an earlier mmdp left in the pinned maps goes. On the agent thread,
 * registered with QSBR. */
void mmdp_guard_attach_agent(struct mmdp_guard *g, struct mm_agent *a);
/* SIGHUP: the rate limits of s (known, unknown, handshake) in force; the
 * program reads its config map per packet, so the next packet sees them.
 * 0 or a negative errno. */
int mmdp_guard_set_limits(struct mmdp_guard *g, const struct mm_guard_settings *s);
/* Detach from the agent and close the maps. The maps stay pinned and the
 * program attached until DPDK closes the port. */
void mmdp_guard_stop(struct mmdp_guard *g, struct mm_agent *a);

#endif
