#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/core/tables.h"

/* mmdp.json:
 * {"agent_socket": "/run/mmdp/agent.sock",
 *  "ports": [{"addresses": ["198.18.0.1", "2001:2::1"],
 *             "gateway_mac": "02:00:00:00:00:01", "workers": [0, 1],
 *             "srtp_ipv4_udp_checksum": false}],
 *  "mbufs": 32768, "rx_desc": 1024, "tx_desc": 1024}
 * ports[i] describes DPDK port i; "workers" (default: all) are the workers
 * that own one RX/TX queue pair each on it, in that order. */
struct mm_config {
	char agent_socket[108];
	uint32_t mbufs, rx_desc, tx_desc;
	struct mm_dp_conf dp; /* ports' addresses and gateways; MACs filled at start */
	bool workers_set[MM_PORTS_MAX]; /* ports[i].workers was given */
};

void mm_config_defaults(struct mm_config *c);
/* Returns 0 or -EINVAL with a message in err. */
int mm_config_load(const char *path, struct mm_config *c, char *err, size_t errlen);

#endif
