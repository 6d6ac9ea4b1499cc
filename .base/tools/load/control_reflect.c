/* --reflect: no meeting to set up. The forwarder (dpdk-testpmd with
 * --forward-mode=5tswap, tools/bench/testpmd.sh) swaps the MACs, IP
 * addresses and UDP ports of every packet, so that it comes back to its
 * sender as if the forwarder had sent it from the address and port the
 * sender sent it to: the forwarder's address (--dp-ip4/--dp-ip6 or the
 * site's MMSITE_DP_IP4/6, as ld_parts_plan assigned) and port
 * --server-port + index. The packet comes back unchanged, so the sender's
 * receive session unprotects with its own send key. No mutes: there is
 * nobody to ask. */
#include "tools/load/run.h"

#include <errno.h>
#include <string.h>

static int reflect_setup(struct ld_run *R)
{
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		p->key_out = p->key_in;
	}
	return 0;
}

static int reflect_mute(struct ld_run *R, uint32_t p, bool muted)
{
	(void)R;
	(void)p;
	(void)muted;
	return -ENOTSUP;
}

static void reflect_teardown(struct ld_run *R)
{
	(void)R;
}

const struct ld_control ld_control_reflect = {
	.name = "reflect",
	.forwarder = "the forwarder",
	.setup = reflect_setup,
	.mute = reflect_mute,
	.teardown = reflect_teardown,
};
