/* The memif backend (--io memif): mmload is its own DPDK process (its own
 * EAL, --in-memory, --no-pci) with one net_memif client port attached to
 * mmdp's net_memif server port through a Unix socket. It writes the
 * Ethernet/IP/UDP frames itself (participants are addresses on the memif
 * link, all behind mmload's MAC; mmdp is told that MAC through
 * endpoint.put "mac", or learns it), answers nothing (no ARP: MACs are
 * given), sends with rte_eth_tx_burst and receives with rte_eth_rx_burst
 * on one thread (registered with EAL, so the mempool cache works). */
#include "tools/load/report_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#define MBUFS 32767
/* 16,384-slot memif rings (rsize=14, the most DPDK's memif takes; its
 * default is 1024): at 400,000 copies/s a 1024-slot ring overruns when
 * either side of the link is descheduled for 2.5 ms, which a shared VM
 * does now and then, and 4096 slots (rsize=12, used until the capacity
 * searches kept failing at 16 % of mmdp's core on single stalls) ride out
 * 10 ms; 16,384 ride out 40 ms. The client sets up the rings, so this is
 * the link's size; servers (mmdp, testpmd) should be given rsize=14 too. */
#define RING_LOG2 14
#define RING_DESC (1u << RING_LOG2)
#define TX_RETRIES 64
#define RX_ROUNDS_MAX 8  /* full bursts in a row before going back to sending */
#define RT_IDLE_NS 20000 /* --rt-priority: longest sleep after an empty poll */
#define LINK_WAIT_MS 10000
#define EAL_ARGS_MAX 64

struct mstate {
	uint16_t port;
	struct rte_mempool *pool;
	uint8_t dp_mac[6];
	struct rte_eth_stats st[2];
	bool eal, started;
};

struct mthread {
	struct rte_mbuf *pending; /* handed out by tx_buf, not pushed yet */
	uint32_t n;
	struct rte_mbuf *tx[LD_TX_BATCH];
	struct ld_txmeta meta[LD_TX_BATCH];
	bool registered;
};

static bool has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = s; p && (p = strstr(p, w)); p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '=' || !p[n]))
			return true;
	return false;
}

static int eal_start(struct ld_run *R, char *err, size_t errlen)
{
	const struct ld_opts *o = &R->o;
	static char vdev[512], prefix[64], extra[1024];
	char *argv[EAL_ARGS_MAX];
	int argc = 0;
	argv[argc++] = "mmload";
	const char *eal = o->eal ? o->eal : "";
	if (!has_word(eal, "-l") && !has_word(eal, "--lcores") && !has_word(eal, "-c")) {
		argv[argc++] = "-l";
		argv[argc++] = "0";
	}
	if (!has_word(eal, "--in-memory") && !has_word(eal, "--file-prefix"))
		argv[argc++] = "--in-memory";
	snprintf(prefix, sizeof(prefix), "mmload-%ld", (long)getpid());
	if (!has_word(eal, "--file-prefix")) {
		argv[argc++] = "--file-prefix";
		argv[argc++] = prefix;
	}
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--log-level=lib.eal:warning";
	snprintf(vdev, sizeof(vdev),
		 "net_memif0,role=client,id=0,socket=%s,socket-abstract=no,mac=%s,rsize=%d", o->memif,
		 o->mac, RING_LOG2);
	argv[argc++] = "--vdev";
	argv[argc++] = vdev;
	snprintf(extra, sizeof(extra), "%s", eal);
	for (char *sp, *w = strtok_r(extra, " \t", &sp); w; w = strtok_r(NULL, " \t", &sp)) {
		if (argc == EAL_ARGS_MAX - 1) {
			snprintf(err, errlen, "--eal: too many words");
			return -E2BIG;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	int rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		snprintf(err, errlen, "EAL init failed: %s", rte_strerror(rte_errno));
		return -EINVAL;
	}
	return 0;
}

static int port_start(struct ld_run *R, struct mstate *S, char *err, size_t errlen)
{
	if (rte_eth_dev_count_avail() != 1) {
		snprintf(err, errlen, "EAL found %u ports, expected the memif port only",
			 rte_eth_dev_count_avail());
		return -ENODEV;
	}
	RTE_ETH_FOREACH_DEV(S->port)
		break;
	S->pool = rte_pktmbuf_pool_create("mmload_mbufs", MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!S->pool) {
		snprintf(err, errlen, "mbuf pool: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint16_t nrx = RING_DESC, ntx = RING_DESC;
	int rc = rte_eth_dev_configure(S->port, 1, 1, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(S->port, &nrx, &ntx);
	if (!rc)
		rc = rte_eth_rx_queue_setup(S->port, 0, nrx, rte_eth_dev_socket_id(S->port), NULL, S->pool);
	if (!rc)
		rc = rte_eth_tx_queue_setup(S->port, 0, ntx, rte_eth_dev_socket_id(S->port), NULL);
	if (!rc)
		rc = rte_eth_dev_start(S->port);
	if (rc) {
		snprintf(err, errlen, "memif port setup: %s", rte_strerror(-rc));
		return rc;
	}
	S->started = true;
	struct rte_eth_link link = {0};
	for (int ms = 0; ms < LINK_WAIT_MS; ms += 10) {
		if (rte_eth_link_get_nowait(S->port, &link) == 0 && link.link_status)
			break;
		usleep(10000);
	}
	if (!link.link_status) {
		snprintf(err, errlen, "memif link to %s did not come up within %d s (is mmdp running "
			 "with --vdev net_memif0,role=server,socket=%s,socket-abstract=no?)",
			 R->o.memif, LINK_WAIT_MS / 1000, R->o.memif);
		return -ENOTCONN;
	}
	if (!R->o.quiet)
		fprintf(stderr, "mmload: memif port up (%s), MAC %s -> mmdp %s\n", R->o.memif, R->o.mac,
			R->o.dp_mac);
	return 0;
}

static int m_init(struct ld_run *R, char *err, size_t errlen)
{
	struct mstate *S = calloc(1, sizeof(*S));
	if (!S)
		return -ENOMEM;
	R->io_state = S;
	if (net_mac_parse(R->o.dp_mac, S->dp_mac) != 0) {
		snprintf(err, errlen, "--dp-mac %s is not a MAC address", R->o.dp_mac);
		return -EINVAL;
	}
	int rc = eal_start(R, err, errlen);
	if (rc)
		return rc;
	S->eal = true;
	return port_start(R, S, err, errlen);
}

static void m_fini(struct ld_run *R)
{
	struct mstate *S = R->io_state;
	if (!S)
		return;
	if (S->started) {
		rte_eth_dev_stop(S->port);
		rte_eth_dev_close(S->port);
	}
	if (S->pool)
		rte_mempool_free(S->pool);
	if (S->eal)
		rte_eal_cleanup();
	free(S);
	R->io_state = NULL;
}

static int m_open(struct ld_run *R, char *err, size_t errlen)
{
	if (R->n_threads != 1) {
		snprintf(err, errlen, "--io memif runs one I/O thread (--threads 1)");
		return -EINVAL;
	}
	return 0;
}

static int m_thread_init(struct ld_thread *T)
{
	T->io = calloc(1, sizeof(struct mthread));
	return T->io ? 0 : -ENOMEM;
}

static void m_thread_start(struct ld_thread *T)
{
	struct mthread *M = T->io;
	/* An lcore id of its own: the mempool's per-lcore cache. */
	M->registered = rte_thread_register() == 0;
}

static void m_thread_stop(struct ld_thread *T)
{
	struct mthread *M = T->io;
	if (M->registered)
		rte_thread_unregister();
	M->registered = false;
}

static void m_thread_fini(struct ld_thread *T)
{
	struct mthread *M = T->io;
	if (!M)
		return;
	rte_pktmbuf_free(M->pending);
	for (uint32_t i = 0; i < M->n; i++)
		rte_pktmbuf_free(M->tx[i]);
	free(M);
	T->io = NULL;
}

static void m_flush(struct ld_thread *T)
{
	struct mthread *M = T->io;
	struct mstate *S = T->R->io_state;
	uint32_t done = 0;
	for (int tries = 0; done < M->n && tries < TX_RETRIES; tries++)
		done += rte_eth_tx_burst(S->port, 0, M->tx + done, (uint16_t)(M->n - done));
	for (uint32_t i = 0; i < M->n; i++) {
		if (i < done) {
			ld_io_sent(T, &M->meta[i]);
		} else {
			rte_pktmbuf_free(M->tx[i]);
			ld_io_unsent(T, &M->meta[i]);
		}
	}
	M->n = 0;
}

static size_t hdr_len(const struct ld_part *p)
{
	return net_udp_hdr_len(p->family);
}

static uint8_t *m_tx_buf(struct ld_thread *T, struct ld_part *p)
{
	struct mthread *M = T->io;
	struct mstate *S = T->R->io_state;
	if (M->n == LD_TX_BATCH)
		m_flush(T);
	if (!M->pending) {
		M->pending = rte_pktmbuf_alloc(S->pool);
		if (!M->pending)
			return NULL;
		/* 2 bytes in: the UDP payload (RTP) 32-bit aligned, as in mmdp. */
		M->pending->data_off = RTE_PKTMBUF_HEADROOM + 2;
	}
	return rte_pktmbuf_mtod(M->pending, uint8_t *) + hdr_len(p);
}

static void m_tx_push(struct ld_thread *T, struct ld_part *p, size_t len, const struct ld_txmeta *m)
{
	struct mthread *M = T->io;
	struct mstate *S = T->R->io_state;
	struct rte_mbuf *mb = M->pending;
	struct net_udp_tx tx = {.family = p->family, .no_udp_csum4 = 1, .src = p->addr_b,
				.dst = p->server_b, .sport = p->port, .dport = p->server_port};
	memcpy(tx.dst_mac, S->dp_mac, 6);
	memcpy(tx.src_mac, p->mac_b, 6);
	size_t flen = net_write_udp(rte_pktmbuf_mtod(mb, uint8_t *), &tx, len);
	mb->data_len = (uint16_t)flen;
	mb->pkt_len = (uint32_t)flen;
	M->pending = NULL;
	M->tx[M->n] = mb;
	M->meta[M->n] = *m;
	M->n++;
}

/* A control packet (RTCP) now, in a frame of its own: not through the
 * media batch, whose packets are accounted as sent media. */
static int m_send_ctl(struct ld_thread *T, struct ld_part *p, const uint8_t *buf, size_t len)
{
	struct mstate *S = T->R->io_state;
	struct rte_mbuf *mb = rte_pktmbuf_alloc(S->pool);
	if (!mb)
		return -ENOBUFS;
	mb->data_off = RTE_PKTMBUF_HEADROOM + 2;
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	memcpy(f + hdr_len(p), buf, len);
	struct net_udp_tx tx = {.family = p->family, .no_udp_csum4 = 1, .src = p->addr_b,
				.dst = p->server_b, .sport = p->port, .dport = p->server_port};
	memcpy(tx.dst_mac, S->dp_mac, 6);
	memcpy(tx.src_mac, p->mac_b, 6);
	size_t flen = net_write_udp(f, &tx, len);
	mb->data_len = (uint16_t)flen;
	mb->pkt_len = (uint32_t)flen;
	for (int tries = 0; tries < TX_RETRIES; tries++)
		if (rte_eth_tx_burst(S->port, 0, &mb, 1) == 1)
			return 0;
	rte_pktmbuf_free(mb);
	return -ENOBUFS;
}

/* A frame for mmload: the participant its destination port names. */
static void rx_frame(struct ld_thread *T, struct rte_mbuf *mb, uint64_t now, uint64_t *bytes)
{
	struct ld_run *R = T->R;
	struct net_udp u;
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	if (mb->nb_segs != 1 || net_parse_udp(f, mb->data_len, &u) != 0) {
		ld_ctr_add(&T->st.foreign, 1);
		return;
	}
	*bytes += u.payload_len;
	uint32_t i = (uint32_t)u.dport - R->o.client_port;
	if (u.dport < R->o.client_port || i >= R->sc.n_parts ||
	    memcmp(&R->parts[i].addr_b, &u.dst, sizeof(u.dst)) != 0) {
		ld_ctr_add(&T->st.foreign, 1);
		return;
	}
	struct ld_part *p = &R->parts[i];
	if (u.sport != p->server_port || memcmp(&u.src, &p->server_b, sizeof(u.src)) != 0)
		ld_ctr_add(&T->st.wrong_source, 1);
	ld_rx_packet(T, p, f + u.payload_off, u.payload_len, now);
}

static void m_rx_wait(struct ld_thread *T, uint64_t wait)
{
	struct mstate *S = T->R->io_state;
	struct rte_mbuf *pkts[LD_RX_BATCH];
	uint64_t deadline = ld_now_ns() + wait;
	for (int full = 0;;) {
		uint16_t n = rte_eth_rx_burst(S->port, 0, pkts, LD_RX_BATCH);
		uint64_t now = ld_now_ns();
		if (n) {
			uint64_t bytes = 0;
			for (uint16_t k = 0; k < n; k++) {
				if (k + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[k + 1], void *));
				rx_frame(T, pkts[k], now, &bytes);
			}
			ld_io_received(T, n, bytes, now);
			rte_pktmbuf_free_bulk(pkts, n);
		}
		full = n == LD_RX_BATCH ? full + 1 : 0;
		if ((now >= deadline && full == 0) || full >= RX_ROUNDS_MAX ||
		    __atomic_load_n(&T->R->stop, __ATOMIC_RELAXED))
			return;
		if (n == 0 && T->R->o.rt_priority) {
			/* Under SCHED_FIFO a poll loop that never sleeps would
			 * keep every ordinary process (mmdp's agent, mmctld) off
			 * this CPU until the kernel's RT throttling stopped the
			 * generator for 50 ms: sleep through the idle instead.
			 * 20 us of copies fit many times in the ring. */
			uint64_t left = deadline - now;
			struct timespec ts = {0, (long)(left < RT_IDLE_NS ? left : RT_IDLE_NS)};
			nanosleep(&ts, NULL);
		}
	}
}

static void m_stats(struct ld_run *R, int which)
{
	struct mstate *S = R->io_state;
	rte_eth_stats_get(S->port, &S->st[which ? 1 : 0]);
}

static json_t *m_report(const struct ld_run *R)
{
	const struct mstate *S = R->io_state;
	const struct rte_eth_stats *a = &S->st[0], *b = &S->st[1];
	return json_pack("{sssssIsIsIsIsIsI}", "port", "net_memif", "socket", R->o.memif,
			 "ipackets", (json_int_t)(b->ipackets - a->ipackets), "opackets",
			 (json_int_t)(b->opackets - a->opackets), "imissed",
			 (json_int_t)(b->imissed - a->imissed), "ierrors",
			 (json_int_t)(b->ierrors - a->ierrors), "oerrors",
			 (json_int_t)(b->oerrors - a->oerrors), "rx_nombuf",
			 (json_int_t)(b->rx_nombuf - a->rx_nombuf));
}

const struct ld_io ld_io_memif = {
	.name = "memif",
	.init = m_init,
	.fini = m_fini,
	.open = m_open,
	.thread_init = m_thread_init,
	.thread_start = m_thread_start,
	.thread_stop = m_thread_stop,
	.thread_fini = m_thread_fini,
	.tx_buf = m_tx_buf,
	.tx_push = m_tx_push,
	.tx_flush = m_flush,
	.send_ctl = m_send_ctl,
	.rx_wait = m_rx_wait,
	.stats = m_stats,
	.report = m_report,
};
