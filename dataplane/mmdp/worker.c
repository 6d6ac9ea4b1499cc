/* A worker lcore: poll RX queues and the hand-off ring in bursts, run the
 * forwarding engine, flush TX, announce a quiescent state. */
#include "dataplane/mmdp/worker.h"
#include "dataplane/core/config.h"

#include <stdbool.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

static uint8_t *tx_alloc(void *ctx, size_t len, void **handle)
{
	struct mmdp_worker *w = ctx;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	if (unlikely(!m))
		return NULL;
	/* Start the frame 2 bytes in, so that its UDP payload is 32-bit
	 * aligned (see struct mm_tx). */
	m->data_off = RTE_PKTMBUF_HEADROOM + 2;
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	if (unlikely(!p)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*handle = m;
	return (uint8_t *)p;
}

static void tx_discard(void *ctx, void *handle)
{
	(void)ctx;
	rte_pktmbuf_free(handle);
}

static void tx_send(void *ctx, uint16_t port, void *handle, size_t len)
{
	struct mmdp_worker *w = ctx;
	struct rte_mbuf *m = handle;
	if (len < m->data_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len)); /* SRTP used less than allowed */
	if (unlikely(w->queue[port] < 0)) {
		/* The agent picks egress ports of the room's worker: a bug. */
		rte_pktmbuf_free(handle);
		MM_CNT_ADD(w->ctx.st->drops[MM_DROP_TX_FULL], 1);
		return;
	}
	rte_eth_tx_buffer(port, (uint16_t)w->queue[port], w->txb[port], handle);
}

/* TX queue full: the frames are lost; count them. */
static void tx_error(struct rte_mbuf **pkts, uint16_t unsent, void *userdata)
{
	struct mmdp_worker *w = userdata;
	rte_pktmbuf_free_bulk(pkts, unsent);
	MM_CNT_ADD(w->ctx.st->drops[MM_DROP_TX_FULL], unsent);
	MM_CNT_ADD(w->ctx.st->tx_packets, -(uint64_t)unsent);
}

int mmdp_worker_init(struct mmdp_worker *w, uint32_t id, unsigned lcore, struct mm_tables *t,
		     uint16_t n_ports, struct rte_mempool *pool, struct mmdp_worker *all,
		     volatile int *stop)
{
	char name[RTE_RING_NAMESIZE];
	memset(w, 0, sizeof(*w));
	w->ctx.t = t;
	w->ctx.id = id;
	w->ctx.st = &t->wstats[id];
	w->ctx.tx = (struct mm_tx){.alloc = tx_alloc, .send = tx_send, .discard = tx_discard, .ctx = w};
	w->lcore = lcore;
	w->n_ports = n_ports;
	for (uint16_t p = 0; p < n_ports; p++)
		w->queue[p] = (t->conf.ports[p].worker_mask >> id & 1)
				      ? (int16_t)t->conf.ports[p].worker_queue[id]
				      : -1;
	w->pool = pool;
	w->all = all;
	w->stop = stop;
	snprintf(name, sizeof(name), "mmdp_handoff_%u", id);
	w->handoff = rte_ring_create(name, MMDP_HANDOFF_RING, (int)rte_lcore_to_socket_id(lcore),
				     RING_F_SC_DEQ);
	if (!w->handoff)
		return -rte_errno;
	for (uint16_t p = 0; p < n_ports; p++) {
		w->txb[p] = rte_zmalloc_socket("mmdp_txb", RTE_ETH_TX_BUFFER_SIZE(MMDP_BURST), 0,
					       (int)rte_lcore_to_socket_id(lcore));
		if (!w->txb[p])
			return -ENOMEM;
		rte_eth_tx_buffer_init(w->txb[p], MMDP_BURST);
		rte_eth_tx_buffer_set_err_callback(w->txb[p], tx_error, w);
	}
	return 0;
}

void mmdp_worker_fini(struct mmdp_worker *w)
{
	struct rte_mbuf *m;
	if (w->handoff) {
		while (rte_ring_dequeue(w->handoff, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->handoff);
	}
	for (uint16_t p = 0; p < w->n_ports; p++)
		rte_free(w->txb[p]);
}

static inline void process(struct mmdp_worker *w, struct rte_mbuf *m, uint16_t port, uint64_t now_ns)
{
	if (unlikely(m->nb_segs != 1)) {
		MM_CNT_ADD(w->ctx.st->drops[MM_DROP_L2_MALFORMED], 1);
		rte_pktmbuf_free(m);
		return;
	}
	int owner = mm_engine_rx(&w->ctx, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, port, now_ns);
	if (likely(owner == MM_ENGINE_DONE)) {
		rte_pktmbuf_free(m);
		return;
	}
	m->port = port;
	if (unlikely(rte_ring_enqueue(w->all[owner].handoff, m) != 0)) {
		MM_CNT_ADD(w->ctx.st->drops[MM_DROP_HANDOFF_FULL], 1);
		rte_pktmbuf_free(m);
	}
}

/* Busy cycles: the TSC read at the top of each iteration (the one the loop
 * needs anyway for its clock) closes the iteration before it, which is
 * counted in cycles and polls, and also in busy_cycles and busy_polls when
 * an RX burst or the hand-off ring gave it a frame. Counters lag by at most
 * one iteration. Written by this worker only (relaxed stores, like its
 * other counters); read by the agent for stats.get. */
int mmdp_worker_main(void *arg)
{
	struct mmdp_worker *w = arg;
	struct mm_worker_stats *st = w->ctx.st;
	struct rte_mbuf *pkts[MMDP_BURST];
	const double ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	uint64_t prev = rte_rdtsc();
	bool busy = false;
	uint32_t idle = 0; /* polls in a row that found nothing */
	uint32_t sleep_us;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		uint64_t now = rte_rdtsc();
		uint64_t spent = now - prev;
		prev = now;
		MM_CNT_ADD(st->cycles, spent);
		MM_CNT_ADD(st->polls, 1);
		if (busy) {
			MM_CNT_ADD(st->busy_cycles, spent);
			MM_CNT_ADD(st->busy_polls, 1);
			busy = false;
			idle = 0;
		} else if ((sleep_us = __atomic_load_n(&w->idle_sleep_us, __ATOMIC_RELAXED)) &&
			   ++idle >= MM_IDLE_POLLS) {
			/* Nothing for a while: give the core away briefly, as a
			 * reader that holds nothing (grace periods go on). The
			 * sleep is counted in cycles, not busy_cycles. SIGHUP
			 * may change idle_sleep_us (the agent thread stores it). */
			urcu_qsbr_thread_offline();
			rte_delay_us_sleep(sleep_us);
			urcu_qsbr_thread_online();
			now = rte_rdtsc();
		}
		uint64_t now_ns = (uint64_t)((double)now * ns_per_cycle);
		for (uint16_t p = 0; p < w->n_ports; p++) {
			if (w->queue[p] < 0)
				continue;
			uint16_t n = rte_eth_rx_burst(p, (uint16_t)w->queue[p], pkts, MMDP_BURST);
			if (!n)
				continue;
			busy = true;
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < n; i++)
				bytes += pkts[i]->pkt_len;
			MM_CNT_ADD(st->rx_packets, n);
			MM_CNT_ADD(st->rx_bytes, bytes);
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				process(w, pkts[i], p, now_ns);
			}
		}
		unsigned n = rte_ring_dequeue_burst(w->handoff, (void **)pkts, MMDP_BURST, NULL);
		if (n) {
			busy = true;
			MM_CNT_ADD(st->handoff_in, n);
			for (unsigned i = 0; i < n; i++)
				process(w, pkts[i], pkts[i]->port, now_ns);
		}
		/* What the agent sends through this worker (DTLS records). */
		if (mm_engine_poll_mailbox(&w->ctx, now_ns))
			busy = true;
		/* Flush every iteration: TX never waits more than one loop
		 * (well under 100 us), and no frame decided under old tables is
		 * still queued here once this worker is quiescent. */
		for (uint16_t p = 0; p < w->n_ports; p++)
			if (w->queue[p] >= 0)
				rte_eth_tx_buffer_flush(p, (uint16_t)w->queue[p], w->txb[p]);
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return 0;
}
