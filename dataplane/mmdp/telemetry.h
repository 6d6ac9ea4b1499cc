/* mmdp's DPDK telemetry commands (/mmdp/...), read with dpdk-telemetry.py
 * next to DPDK's own (/ethdev/..., /mempool/...). */
#ifndef MMDP_TELEMETRY_H
#define MMDP_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

struct mmdp_telemetry_conf {
	const char *agent_socket; /* where the commands ask the agent */
	struct rte_mempool *pool; /* the mbuf pool, for /mmdp/mempool */
	uint16_t n_ports;
	unsigned n_workers;
	const uint32_t *worker_lcore; /* [n_workers] */
	bool capture;                 /* --capture: rte_pdump_init done */
};

/* Register the commands; "uptime_s" counts from here. Call once, with the agent socket listening; what
 * conf points to must outlive the process's EAL (it is static in main).
 * 0 or a negative errno. */
int mmdp_telemetry_init(const struct mmdp_telemetry_conf *conf);
/* Before the agent socket closes and the pool goes: the commands answer
 * "mmdp is stopping" from then on (DPDK cannot unregister them). */
void mmdp_telemetry_fini(void);

#endif
