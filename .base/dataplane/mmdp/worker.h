#ifndef MMDP_WORKER_H
#define MMDP_WORKER_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/core/engine.h"

#define MMDP_BURST 32
#define MMDP_HANDOFF_RING 4096

struct mmdp_worker {
	struct mm_worker_ctx ctx;
	unsigned lcore;
	uint16_t n_ports;
	int16_t queue[MM_PORTS_MAX]; /* this worker's RX/TX queue on each port, -1: none */
	struct rte_mempool *pool;
	struct rte_ring *handoff;         /* frames handed to this worker */
	struct mmdp_worker *all;          /* every worker, for hand-offs */
	struct rte_eth_dev_tx_buffer *txb[MM_PORTS_MAX];
	volatile int *stop;
	uint32_t idle_sleep_us; /* mmdp.json idle_sleep_us (0: never sleep) */
} __rte_cache_aligned;

int mmdp_worker_init(struct mmdp_worker *w, uint32_t id, unsigned lcore, struct mm_tables *t,
		     uint16_t n_ports, struct rte_mempool *pool, struct mmdp_worker *all,
		     volatile int *stop);
void mmdp_worker_fini(struct mmdp_worker *w);
/* lcore entry point (arg: struct mmdp_worker *). */
int mmdp_worker_main(void *arg);

#endif
