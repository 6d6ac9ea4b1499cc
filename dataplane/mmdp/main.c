/* mmdp: the DPDK SFU dataplane.
 *   mmdp <EAL args> -- --config mmdp.json [--agent-socket PATH]
 * The main lcore runs the agent thread; every other lcore is a worker. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/core/agent_server.h"
#include "dataplane/core/config.h"
#include "dataplane/mmdp/unmap_guard.h"
#include "dataplane/mmdp/worker.h"
#if MMDP_GUARD
#include "dataplane/mmdp/guard.h"
#endif

static volatile int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmdp <EAL options> -- --config FILE [--agent-socket PATH]\n"
		   "  The main lcore serves the agent socket; every other lcore given to EAL\n"
		   "  (-l) is a forwarding worker with its own RX/TX queue on every port.\n"
		   "  With \"guard\" in the configuration, the AF_XDP vdev must load the XDP\n"
		   "  guard: xdp_prog=<libdir>/mobifone-meeting/guard.bpf.o (docs/xdp-guard.md).\n");
}

static int port_setup(uint16_t port, uint16_t n_queues, const struct mm_config *cfg,
		      struct rte_mempool *pool, struct mm_port_conf *pc)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc)
		return rc;
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		fprintf(stderr,
			"mmdp: port %u (%s) has %u RX / %u TX queues but %u workers use it; give it\n"
			"  fewer workers (\"workers\" in its port entry) or more queues (with AF_XDP,\n"
			"  one vdev per queue: see README)\n",
			port, info.driver_name, info.max_rx_queues, info.max_tx_queues, n_queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (n_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	}
	rc = rte_eth_dev_configure(port, n_queues, n_queues, &conf);
	if (rc)
		return rc;
	uint16_t nrx = (uint16_t)cfg->rx_desc, ntx = (uint16_t)cfg->tx_desc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (rc)
		return rc;
	int socket = rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nrx, (unsigned)socket, NULL, pool);
		if (rc)
			return rc;
		rc = rte_eth_tx_queue_setup(port, q, ntx, (unsigned)socket, NULL);
		if (rc)
			return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc)
		return rc;
	rte_eth_promiscuous_enable(port); /* not every PMD supports it */
	struct rte_ether_addr mac;
	rc = rte_eth_macaddr_get(port, &mac);
	if (rc)
		return rc;
	memcpy(pc->mac, mac.addr_bytes, 6);
	fprintf(stderr, "mmdp: port %u: %s, MAC " RTE_ETHER_ADDR_PRT_FMT ", %u queue(s), workers 0x%x\n",
		port, info.driver_name, RTE_ETHER_ADDR_BYTES(&mac), n_queues, pc->worker_mask);
	return 0;
}

/* Stop and close every port (an AF_XDP port detaches its XDP program). */
static void ports_close(uint16_t n_ports)
{
	for (uint16_t p = 0; p < n_ports; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
}

/* stats.get's "mempools" (struct mm_agent.mempools): every DPDK mempool of
 * this process, ours ("mmdp_mbufs") and any a driver made. Runs on the
 * agent thread; the counts are a racy snapshot of the lcores' caches,
 * which is what a leak check over minutes needs. */
struct mempools_walk {
	struct mm_agent_mempool *out;
	unsigned cap, n;
};

static void mempool_one(struct rte_mempool *mp, void *arg)
{
	struct mempools_walk *w = arg;
	if (w->n >= w->cap)
		return;
	struct mm_agent_mempool *o = &w->out[w->n++];
	snprintf(o->name, sizeof(o->name), "%s", mp->name);
	o->size = mp->size;
	o->available = rte_mempool_avail_count(mp);
	o->in_use = rte_mempool_in_use_count(mp);
	o->cache_size = mp->cache_size;
}

static unsigned mempools_get(struct mm_agent_mempool *out, unsigned cap)
{
	struct mempools_walk w = {.out = out, .cap = cap};
	rte_mempool_walk(mempool_one, &w);
	return w.n;
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct mm_config *)0)->agent_socket)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "mmdp: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;

	const char *config_path = NULL, *socket_override = NULL;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"agent-socket", required_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config_path = optarg; break;
		case 's': socket_override = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path) {
		usage(stderr);
		return 2;
	}

	static struct mm_config cfg;
	char err[256];
	mm_config_defaults(&cfg);
	if (mm_config_load(config_path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "mmdp: %s\n", err);
		return 1;
	}
	if (socket_override)
		snprintf(cfg.agent_socket, sizeof(cfg.agent_socket), "%s", socket_override);

	uint16_t n_ports = rte_eth_dev_count_avail();
	if (n_ports != cfg.dp.n_ports) {
		fprintf(stderr, "mmdp: EAL found %u port(s) but the configuration describes %u\n",
			n_ports, cfg.dp.n_ports);
		return 1;
	}
	unsigned n_workers = rte_lcore_count() - 1;
	if (n_workers < 1 || n_workers > MM_WORKERS_MAX) {
		fprintf(stderr, "mmdp: need 1..%d worker lcores besides the main one (use -l)\n",
			MM_WORKERS_MAX);
		return 1;
	}
	cfg.dp.n_workers = n_workers;
	if (mm_dp_conf_assign_workers(&cfg.dp, cfg.workers_set, err, sizeof(err)) != 0) {
		fprintf(stderr, "mmdp: %s\n", err);
		return 1;
	}

	struct rte_mempool *pool = rte_pktmbuf_pool_create("mmdp_mbufs", cfg.mbufs, 256, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "mmdp: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (uint16_t p = 0; p < n_ports; p++) {
		uint16_t nq = (uint16_t)__builtin_popcount(cfg.dp.ports[p].worker_mask);
		int rc = port_setup(p, nq, &cfg, pool, &cfg.dp.ports[p]);
		if (rc) {
			fprintf(stderr, "mmdp: port %u setup failed: %s\n", p, rte_strerror(-rc));
			return 1;
		}
	}

#if MMDP_GUARD
	struct mmdp_guard *guard = NULL;
	if (cfg.guard.enabled && mmdp_guard_start(&cfg, n_ports, &guard) != 0) {
		ports_close(n_ports);
		rte_eal_cleanup();
		return 1;
	}
#else
	if (cfg.guard.enabled) {
		fprintf(stderr, "mmdp: the configuration has a \"guard\" but mmdp was built without\n"
				"  libbpf (apt-get install libbpf-dev, then rebuild)\n");
		ports_close(n_ports);
		rte_eal_cleanup();
		return 1;
	}
#endif

	static struct mm_tables tables;
	if (mm_tables_init(&tables, &cfg.dp) != 0) {
		fprintf(stderr, "mmdp: out of memory\n");
		return 1;
	}
	static struct mm_agent agent;
	agent.t = &tables;
	agent.tsc_hz = rte_get_tsc_hz();
	agent.mempools = mempools_get;
	/* mmdp's DTLS certificate: hello announces its fingerprint. */
	if (mm_agent_dtls_init(&agent, cfg.dtls_cert, cfg.dtls_key, err, sizeof(err)) != 0) {
		fprintf(stderr, "mmdp: %s\n", err);
		return 1;
	}

	struct mmdp_worker *workers = rte_zmalloc("mmdp_workers", sizeof(*workers) * n_workers, 64);
	if (!workers)
		return 1;
	unsigned lcore, id = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		int rc = mmdp_worker_init(&workers[id], id, lcore, &tables, n_ports, pool, workers,
					  &g_stop);
		if (rc) {
			fprintf(stderr, "mmdp: worker %u: %s\n", id, rte_strerror(-rc));
			return 1;
		}
		workers[id].idle_sleep_us = cfg.idle_sleep_us;
		agent.worker_lcore[id] = lcore;
		id++;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	urcu_qsbr_register_thread();
#if MMDP_GUARD
	if (guard)
		mmdp_guard_attach_agent(guard, &agent); /* before any request */
#endif
	/* A PMD that unmaps shared memory on its interrupt thread (net_memif
	 * when its peer leaves) waits for the workers: unmap_guard.c. */
	mmdp_unmap_guard_arm(true);
	id = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(mmdp_worker_main, &workers[id++], lcore);

	int rc = mkdir_parent(cfg.agent_socket);
	int lfd = rc < 0 ? rc : mm_agent_listen(cfg.agent_socket);
	int status = 0;
	if (lfd < 0) {
		fprintf(stderr, "mmdp: agent socket %s: %s\n", cfg.agent_socket, strerror(-lfd));
		status = 1;
		g_stop = 1;
	} else {
		fprintf(stderr, "mmdp: ready: %u worker(s), %u port(s), agent socket %s\n", n_workers,
			n_ports, cfg.agent_socket);
		mm_agent_serve(&agent, lfd, &g_stop);
		close(lfd);
		unlink(cfg.agent_socket);
	}
	/* The agent reads no table from here on: offline, so that a grace
	 * period the interrupt thread waits for (unmap_guard.c) does not wait
	 * for this thread's shutdown. */
	urcu_qsbr_thread_offline();
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	mmdp_unmap_guard_arm(false);
	fprintf(stderr, "mmdp: stopping (%llu unmap(s) by the interrupt thread waited for the workers)\n",
		(unsigned long long)mmdp_unmap_guard_waits());

	ports_close(n_ports);
#if MMDP_GUARD
	mmdp_guard_stop(guard, &agent);
#endif
	for (unsigned w = 0; w < n_workers; w++)
		mmdp_worker_fini(&workers[w]);
	rte_free(workers);
	urcu_qsbr_unregister_thread();
	mm_tables_fini(&tables);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return status;
}
