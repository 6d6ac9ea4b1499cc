/* The kernel backend: each participant is a UDP socket in one of the test
 * site's host namespaces; packets leave by sendmmsg (a batch per socket)
 * and come back through epoll and recvmmsg. */
#include "tools/load/report_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define SOCK_BUF (2 << 20)
#define RX_ROUNDS 2 /* recvmmsg batches per socket before going back to sending */

struct ktx {
	int fd;
	uint32_t n;
	struct mmsghdr msg[LD_TX_BATCH];
	struct iovec iov[LD_TX_BATCH];
	struct ld_txmeta meta[LD_TX_BATCH];
};

static int k_open(struct ld_run *R, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		int rc = sim_udp_open(p->netns, p->addr, p->port, SOCK_BUF, &p->fd);
		if (rc) {
			snprintf(err, errlen, "%s: socket %s port %u in %s: %s", p->name, p->addr,
				 p->port, p->netns, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int k_thread_init(struct ld_thread *T)
{
	struct ld_run *R = T->R;
	T->io = calloc(1, sizeof(struct ktx));
	T->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!T->io || T->epfd < 0)
		return T->io ? -errno : -ENOMEM;
	for (uint32_t k = 0; k < T->n_parts; k++) {
		uint32_t i = T->parts[k];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		if (epoll_ctl(T->epfd, EPOLL_CTL_ADD, R->parts[i].fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static void k_thread_fini(struct ld_thread *T)
{
	if (T->epfd >= 0)
		close(T->epfd);
	T->epfd = -1;
	free(T->io);
	T->io = NULL;
}

static void k_flush(struct ld_thread *T)
{
	struct ktx *b = T->io;
	uint32_t done = 0;
	int again = 0;
	while (done < b->n) {
		int r = sendmmsg(b->fd, b->msg + done, b->n - done, 0);
		if (r > 0) {
			done += (uint32_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS) && again++ < 3)
			continue;
		break;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		if (i < done)
			ld_io_sent(T, &b->meta[i]);
		else
			ld_io_unsent(T, &b->meta[i]);
	}
	b->n = 0;
}

static uint8_t *k_tx_buf(struct ld_thread *T, struct ld_part *p)
{
	struct ktx *b = T->io;
	if (b->n == LD_TX_BATCH || (b->n && b->fd != p->fd))
		k_flush(T);
	return T->txbuf[b->n];
}

static void k_tx_push(struct ld_thread *T, struct ld_part *p, size_t len, const struct ld_txmeta *m)
{
	struct ktx *b = T->io;
	uint32_t i = b->n;
	b->iov[i] = (struct iovec){.iov_base = T->txbuf[i], .iov_len = len};
	b->msg[i].msg_hdr = (struct msghdr){.msg_name = &p->server,
					    .msg_namelen = p->server_len,
					    .msg_iov = &b->iov[i],
					    .msg_iovlen = 1};
	b->meta[i] = *m;
	b->fd = p->fd;
	b->n++;
}

static int k_send_ctl(struct ld_thread *T, struct ld_part *p, const uint8_t *buf, size_t len)
{
	(void)T;
	ssize_t n = sendto(p->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&p->server,
			   p->server_len);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static bool from_server(const struct ld_part *p, const struct sockaddr_storage *ss)
{
	if (ss->ss_family != p->server.ss_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&p->server;
		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&p->server;
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

/* Read what is queued on participant p's socket (a few recvmmsg batches
 * at most, so that sending is not held up) and check every packet. */
static void rx_drain(struct ld_thread *T, struct ld_part *p)
{
	struct mmsghdr msg[LD_RX_BATCH];
	struct iovec iov[LD_RX_BATCH];
	struct sockaddr_storage from[LD_RX_BATCH];
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (int i = 0; i < LD_RX_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = T->rxbuf[i], .iov_len = LD_RX_BUF};
			msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							 .msg_namelen = sizeof(from[i]),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1};
			msg[i].msg_len = 0;
		}
		int n = recvmmsg(p->fd, msg, LD_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		uint64_t now = ld_now_ns(), bytes = 0;
		for (int i = 0; i < n; i++)
			bytes += msg[i].msg_len;
		ld_io_received(T, (uint32_t)n, bytes, now);
		for (int i = 0; i < n; i++) {
			if (!from_server(p, &from[i]))
				ld_ctr_add(&T->st.wrong_source, 1);
			ld_rx_packet(T, p, T->rxbuf[i], msg[i].msg_len, now);
		}
		if (n < LD_RX_BATCH)
			return;
	}
}

static void k_rx_wait(struct ld_thread *T, uint64_t wait)
{
	struct epoll_event evs[64];
	struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
			      .tv_nsec = (long)(wait % 1000000000u)};
	int n = epoll_pwait2(T->epfd, evs, 64, &ts, NULL);
	if (n < 0 && errno != EINTR) {
		T->error = -errno;
		return;
	}
	for (int i = 0; i < n; i++)
		rx_drain(T, &T->R->parts[evs[i].data.u32]);
}

static void k_stats(struct ld_run *R, int which)
{
	if (which == 0)
		(void)ld_kstats_read(R, &R->kst0);
	else if (R->kst0.valid)
		(void)ld_kstats_read(R, &R->kst1);
}

const struct ld_io ld_io_kernel = {
	.name = "kernel",
	.open = k_open,
	.thread_init = k_thread_init,
	.thread_start = NULL,
	.thread_fini = k_thread_fini,
	.tx_buf = k_tx_buf,
	.tx_push = k_tx_push,
	.tx_flush = k_flush,
	.send_ctl = k_send_ctl,
	.rx_wait = k_rx_wait,
	.stats = k_stats,
	.report = ld_kernel_json,
};
