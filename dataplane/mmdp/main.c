/* mmdp: the DPDK SFU dataplane.
 *   mmdp <EAL args> -- --config mmdp.json [--agent-socket PATH] [--capture]
 * The main lcore runs the agent thread; every other lcore is a worker.
 * Signals (README "Drain and reload"), taken by the agent thread with
 * sigtimedwait, never in a handler and never on a worker: SIGTERM drains
 * (no new room or meeting, the ones it has go on until their endpoints are
 * gone or drain_timeout_s), a second SIGTERM or SIGINT stops at once,
 * SIGHUP reloads what may change at run time. Exit 0 after a stop by
 * signal, with one stats_final line of the totals. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_mempool.h>

#include "common/log.h"
#include "dataplane/core/agent_proto.h"
#include "dataplane/core/agent_server.h"
#include "dataplane/core/config.h"
#include "dataplane/mmdp/telemetry.h"
#include "dataplane/mmdp/unmap_guard.h"
#include "dataplane/mmdp/worker.h"
#if MMDP_GUARD
#include "dataplane/mmdp/guard.h"
#include "dataplane/mmdp/xdp_stale.h"
#endif

static volatile int g_stop;

/* What the agent thread's serve hook needs for signals, drain and reload. */
struct mmdp_run {
	const char *config_path, *socket_override;
	struct mm_config *cfg;          /* in force (reloadable keys updated) */
	struct mm_config loaded;        /* as the file said at start: what a reload
	                                 * compares the keys it cannot apply to */
	struct mmdp_worker *workers;
	unsigned n_workers;
	sigset_t set;                   /* SIGTERM, SIGINT, SIGHUP: blocked everywhere */
	bool drain;
	uint64_t drain_start_ms;
#if MMDP_GUARD
	struct mmdp_guard *guard;
#endif
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void reload_ignored(const char *key)
{
	mm_warn("reload_ignored", "key=%s reason=%s", key, mm_q("needs a restart"));
}

/* SIGHUP: the file again. Applied: log_level, log_format, drain_timeout_s,
 * idle_sleep_us (each worker reads it per idle spell), the guard's rate
 * limits. The rest needs a restart: named, and kept. A file that does not
 * load changes nothing. */
static void reload(struct mmdp_run *r)
{
	static struct mm_config next;   /* large: not on the agent thread's stack */
	struct mm_config *old = &r->loaded;
	char err[256];
	mm_config_defaults(&next);
	if (mm_config_load(r->config_path, &next, err, sizeof(err)) != 0) {
		mm_err("reload_failed", "config=%s error=%s", mm_q(r->config_path), mm_q(err));
		return;
	}
	if (r->socket_override)
		snprintf(next.agent_socket, sizeof(next.agent_socket), "%s", r->socket_override);
	if (strcmp(next.agent_socket, old->agent_socket))
		reload_ignored("agent_socket");
	if (next.mbufs != old->mbufs)
		reload_ignored("mbufs");
	if (next.rx_desc != old->rx_desc)
		reload_ignored("rx_desc");
	if (next.tx_desc != old->tx_desc)
		reload_ignored("tx_desc");
	/* Both parsed into zeroed structs by the same code: memcmp is fair. */
	if (memcmp(&next.dp, &old->dp, sizeof(next.dp)) ||
	    memcmp(next.workers_set, old->workers_set, sizeof(next.workers_set)))
		reload_ignored("ports");
	if (strcmp(next.dtls_cert, old->dtls_cert) || strcmp(next.dtls_key, old->dtls_key))
		reload_ignored("dtls_cert");
	bool guard_limits = memcmp(&next.guard.s.known, &old->guard.s.known,
				   sizeof(next.guard.s.known)) ||
			    memcmp(&next.guard.s.unknown, &old->guard.s.unknown,
				   sizeof(next.guard.s.unknown)) ||
			    memcmp(&next.guard.s.handshake, &old->guard.s.handshake,
				   sizeof(next.guard.s.handshake));
	if (next.guard.enabled != old->guard.enabled || strcmp(next.guard.pin_dir, old->guard.pin_dir) ||
	    next.guard.s.port_lo != old->guard.s.port_lo ||
	    next.guard.s.port_hi != old->guard.s.port_hi ||
	    next.guard.s.redirect != old->guard.s.redirect)
		reload_ignored("guard");
	else if (guard_limits && next.guard.enabled) {
#if MMDP_GUARD
		int rc = r->guard ? mmdp_guard_set_limits(r->guard, &next.guard.s) : -ENODEV;
		if (rc) {
			mm_err("reload_guard_failed", "error=%s", mm_q(strerror(-rc)));
			next.guard.s = old->guard.s;   /* still the old limits */
		}
#endif
	}
	old->guard.s = next.guard.s;
	old->log_level = r->cfg->log_level = next.log_level;
	old->log_format = r->cfg->log_format = next.log_format;
	old->drain_timeout_s = r->cfg->drain_timeout_s = next.drain_timeout_s;
	old->idle_sleep_us = r->cfg->idle_sleep_us = next.idle_sleep_us;
	for (unsigned w = 0; w < r->n_workers; w++)
		__atomic_store_n(&r->workers[w].idle_sleep_us, next.idle_sleep_us, __ATOMIC_RELAXED);
	mm_log_set_level((enum mm_log_level)next.log_level);
	mm_log_set_format((enum mm_log_format)next.log_format);
	mm_info("reloaded", "config=%s log_level=%s log_format=%s drain_timeout_s=%u "
		"idle_sleep_us=%u", mm_q(r->config_path),
		mm_log_level_name((enum mm_log_level)next.log_level),
		next.log_format == MM_LOG_JSON ? "json" : "logfmt", next.drain_timeout_s,
		next.idle_sleep_us);
}

/* The agent thread's serve hook, after each poll (at most 10 ms apart):
 * the pending signals, one at a time, then the drain's progress. */
static void run_hook(struct mm_agent *a, void *arg)
{
	struct mmdp_run *r = arg;
	const struct timespec zero = {0, 0};
	int sig;
	while ((sig = sigtimedwait(&r->set, NULL, &zero)) > 0) {
		if (sig == SIGHUP) {
			reload(r);
		} else if (sig == SIGINT || r->drain) {
			mm_info("stopping", "signal=%s draining=%s rooms=%u endpoints=%u",
				sig == SIGINT ? "SIGINT" : "SIGTERM", r->drain ? "true" : "false",
				a->t->n_rooms, a->t->n_endpoints);
			__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
			return;
		} else {
			r->drain = true;
			a->draining = true;
			r->drain_start_ms = mono_ms();
			mm_info("drain_started", "rooms=%u endpoints=%u drain_timeout_s=%u",
				a->t->n_rooms, a->t->n_endpoints, r->cfg->drain_timeout_s);
		}
	}
	if (!r->drain)
		return;
	/* Done when no meeting is left: rooms without endpoints carry no
	 * media (mmctld keeps a fixed room's between meetings). */
	uint64_t waited = mono_ms() - r->drain_start_ms;
	if (a->t->n_endpoints == 0) {
		mm_info("drain_done", "waited_ms=%llu rooms=%u", (unsigned long long)waited,
			a->t->n_rooms);
		__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	} else if (waited >= (uint64_t)r->cfg->drain_timeout_s * 1000) {
		mm_warn("drain_timeout", "waited_ms=%llu rooms=%u endpoints=%u",
			(unsigned long long)waited, a->t->n_rooms, a->t->n_endpoints);
		__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	}
}

/* One line of what mmdp did since its start, the workers stopped. */
static void stats_final(const struct mm_tables *t)
{
	uint64_t rx = 0, rxb = 0, tx = 0, txb = 0, drops = 0, hand = 0;
	uint64_t by[MM_DROP__COUNT] = {0};
	for (uint32_t w = 0; w < t->conf.n_workers; w++) {
		const struct mm_worker_stats *ws = &t->wstats[w];
		rx += MM_CNT_GET(ws->rx_packets);
		rxb += MM_CNT_GET(ws->rx_bytes);
		tx += MM_CNT_GET(ws->tx_packets);
		txb += MM_CNT_GET(ws->tx_bytes);
		hand += MM_CNT_GET(ws->handoff_out);
		for (unsigned i = 1; i < MM_DROP__COUNT; i++)
			by[i] += MM_CNT_GET(ws->drops[i]);
	}
	/* The drops by reason that happened, "reason:n,reason:n". */
	char reasons[512] = "";
	size_t len = 0;
	for (unsigned i = 1; i < MM_DROP__COUNT; i++) {
		drops += by[i];
		if (by[i] && len < sizeof(reasons))
			len += (size_t)snprintf(reasons + len, sizeof(reasons) - len, "%s%s:%llu",
						len ? "," : "", mm_drop_reason_name(i),
						(unsigned long long)by[i]);
	}
	mm_info("stats_final", "rx_packets=%llu rx_bytes=%llu tx_packets=%llu tx_bytes=%llu "
		"drops=%llu drop_reasons=%s handoffs=%llu rooms=%u endpoints=%u generation=%llu",
		(unsigned long long)rx, (unsigned long long)rxb, (unsigned long long)tx,
		(unsigned long long)txb, (unsigned long long)drops, mm_q(reasons),
		(unsigned long long)hand, t->n_rooms, t->n_endpoints,
		(unsigned long long)t->generation);
}

/* rte_pdump_init() succeeds even where no secondary process can attach
 * (--in-memory, --no-shconf: DPDK 22.11); registering an IPC action is
 * what fails there, so try one. */
static int mp_probe(const struct rte_mp_msg *msg, const void *peer)
{
	(void)msg;
	(void)peer;
	return 0;
}

static int capture_init(void)
{
	if (rte_mp_action_register("mmdp_capture_probe", mp_probe) != 0)
		return -rte_errno;
	rte_mp_action_unregister("mmdp_capture_probe");
	return rte_pdump_init() != 0 ? -rte_errno : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmdp <EAL options> -- --config FILE [--agent-socket PATH] [--capture]\n"
		   "  The main lcore serves the agent socket; every other lcore given to EAL\n"
		   "  (-l) is a forwarding worker with its own RX/TX queue on every port.\n"
		   "  With \"guard\" in the configuration, the AF_XDP vdev must load the XDP\n"
		   "  guard: xdp_prog=<libdir>/mobifone-meeting/guard.bpf.o (docs/xdp-guard.md).\n"
		   "  --capture: let dpdk-dumpcap (or dpdk-pdump) capture the ports (rte_pdump);\n"
		   "  needs a multi-process EAL: a --file-prefix, no --in-memory, hugepages\n"
		   "  mounted; run dpdk-dumpcap with the same --file-prefix. Nothing is copied\n"
		   "  until a capture starts.\n"
		   "  DPDK telemetry: dpdk-telemetry.py [-f PREFIX], commands /mmdp/info,\n"
		   "  /mmdp/stats, /mmdp/workers, /mmdp/rooms, /mmdp/room,<id>, /mmdp/mempool.\n");
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
		mm_err("port_queues", "port=%u driver=%s rx_queues=%u tx_queues=%u workers=%u hint=%s",
		       port, mm_q(info.driver_name), info.max_rx_queues, info.max_tx_queues, n_queues,
		       mm_q("give it fewer workers (\"workers\" in its port entry) or more queues "
			    "(with AF_XDP, one vdev per queue: see README)"));
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
	mm_info("port_started", "port=%u driver=%s mac=" RTE_ETHER_ADDR_PRT_FMT " queues=%u "
		"workers=0x%x", port, mm_q(info.driver_name), RTE_ETHER_ADDR_BYTES(&mac), n_queues,
		pc->worker_mask);
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
 * this process, ours (MM_AGENT_MBUF_POOL) and any a driver made. Runs on the
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
	static struct mmdp_run run;
	/* Blocked before EAL makes its threads, so that every thread inherits
	 * the mask and only the agent thread's sigtimedwait takes them. */
	sigemptyset(&run.set);
	sigaddset(&run.set, SIGTERM);
	sigaddset(&run.set, SIGINT);
	sigaddset(&run.set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &run.set, NULL);
	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is dropped, not left pending for sigtimedwait. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	mm_log_init("mmdp", MM_LOG_INFO, MM_LOG_LOGFMT);

	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		mm_err("eal_init_failed", "error=%s", mm_q(rte_strerror(rte_errno)));
		return 1;
	}
	argc -= ret;
	argv += ret;

	const char *config_path = NULL, *socket_override = NULL;
	bool capture = false;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"agent-socket", required_argument, NULL, 's'},
					     {"capture", no_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config_path = optarg; break;
		case 's': socket_override = optarg; break;
		case 'p': capture = true; break;
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
		mm_err("config_error", "config=%s error=%s", mm_q(config_path), mm_q(err));
		return 1;
	}
	if (socket_override)
		snprintf(cfg.agent_socket, sizeof(cfg.agent_socket), "%s", socket_override);
	mm_log_set_level((enum mm_log_level)cfg.log_level);
	mm_log_set_format((enum mm_log_format)cfg.log_format);
	run.config_path = config_path;
	run.socket_override = socket_override;
	run.cfg = &cfg;
	run.loaded = cfg;

	/* Packet capture by a secondary process (dpdk-dumpcap): pdump only
	 * registers its request handler here; the RX/TX callbacks that copy
	 * packets exist only while a capture runs. */
	if (capture && (ret = capture_init()) != 0) {
		mm_err("capture_unavailable", "option=--capture error=%s hint=%s", mm_q(rte_strerror(-ret)),
		       mm_q("capture needs a multi-process EAL: a --file-prefix, without --in-memory "
			    "or --no-shconf"));
		rte_eal_cleanup();
		return 1;
	}
	if (capture)
		mm_info("capture_enabled", "runtime_dir=%s", mm_q(rte_eal_get_runtime_dir()));

	uint16_t n_ports = rte_eth_dev_count_avail();
	if (n_ports != cfg.dp.n_ports) {
		mm_err("port_count", "eal_ports=%u config_ports=%u", n_ports, cfg.dp.n_ports);
		return 1;
	}
	unsigned n_workers = rte_lcore_count() - 1;
	if (n_workers < 1 || n_workers > MM_WORKERS_MAX) {
		mm_err("worker_count", "workers=%u max=%d hint=%s", n_workers, MM_WORKERS_MAX,
		       mm_q("need 1..max worker lcores besides the main one (use -l)"));
		return 1;
	}
	cfg.dp.n_workers = n_workers;
	if (mm_dp_conf_assign_workers(&cfg.dp, cfg.workers_set, err, sizeof(err)) != 0) {
		mm_err("config_error", "config=%s error=%s", mm_q(config_path), mm_q(err));
		return 1;
	}

	struct rte_mempool *pool = rte_pktmbuf_pool_create(MM_AGENT_MBUF_POOL, cfg.mbufs, 256, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   (int)rte_socket_id());
	if (!pool) {
		mm_err("mbuf_pool_failed", "error=%s", mm_q(rte_strerror(rte_errno)));
		return 1;
	}
#if MMDP_GUARD
	mmdp_xdp_stale_remove(n_ports); /* what a killed mmdp left on the interfaces */
#endif
	for (uint16_t p = 0; p < n_ports; p++) {
		uint16_t nq = (uint16_t)__builtin_popcount(cfg.dp.ports[p].worker_mask);
		int rc = port_setup(p, nq, &cfg, pool, &cfg.dp.ports[p]);
		if (rc) {
			mm_err("port_setup_failed", "port=%u error=%s", p, mm_q(rte_strerror(-rc)));
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
		mm_err("guard_unsupported", "hint=%s",
		       mm_q("the configuration has a \"guard\" but mmdp was built without libbpf "
			    "(apt-get install libbpf-dev, then rebuild)"));
		ports_close(n_ports);
		rte_eal_cleanup();
		return 1;
	}
#endif

	static struct mm_tables tables;
	if (mm_tables_init(&tables, &cfg.dp) != 0) {
		mm_err("out_of_memory", NULL);
		return 1;
	}
	static struct mm_agent agent;
	agent.t = &tables;
	agent.tsc_hz = rte_get_tsc_hz();
	agent.mempools = mempools_get;
	/* mmdp's DTLS certificate: hello announces its fingerprint. */
	if (mm_agent_dtls_init(&agent, cfg.dtls_cert, cfg.dtls_key, err, sizeof(err)) != 0) {
		mm_err("dtls_init_failed", "error=%s", mm_q(err));
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
			mm_err("worker_init_failed", "worker=%u error=%s", id, mm_q(rte_strerror(-rc)));
			return 1;
		}
		workers[id].idle_sleep_us = cfg.idle_sleep_us;
		agent.worker_lcore[id] = lcore;
		id++;
	}

	signal(SIGPIPE, SIG_IGN);
	run.workers = workers;
	run.n_workers = n_workers;
#if MMDP_GUARD
	run.guard = guard;
#endif
	agent.serve_hook = run_hook;
	agent.serve_arg = &run;

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
		mm_err("agent_socket_failed", "path=%s error=%s", mm_q(cfg.agent_socket),
		       mm_q(strerror(-lfd)));
		status = 1;
		g_stop = 1;
	} else {
		/* Telemetry commands ask the agent, so they start with its socket. */
		static struct mmdp_telemetry_conf tel;
		tel = (struct mmdp_telemetry_conf){.agent_socket = cfg.agent_socket, .pool = pool,
						   .n_ports = n_ports, .n_workers = n_workers,
						   .worker_lcore = agent.worker_lcore,
						   .capture = capture};
		rc = mmdp_telemetry_init(&tel);
		if (rc)
			mm_warn("telemetry_not_registered", "error=%s", mm_q(strerror(-rc)));
		mm_info("ready", "workers=%u ports=%u agent_socket=%s", n_workers, n_ports,
			mm_q(cfg.agent_socket));
		mm_agent_serve(&agent, lfd, &g_stop);
		mmdp_telemetry_fini();
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
	mm_info("workers_stopped", "unmap_waits=%llu",
		(unsigned long long)mmdp_unmap_guard_waits());
	stats_final(&tables);

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
	if (capture)
		rte_pdump_uninit();
	rte_eal_cleanup();
	return status;
}
