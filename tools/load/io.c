/* The I/O threads: each sends the streams of its participants on their
 * schedules (SRTP protect in place in the backend's buffers) and receives
 * between sends, checking every packet (tools/load/rx.c). How packets
 * leave and come back is the backend's (struct ld_io): the kernel's
 * sockets (io_kernel.c) or a DPDK memif port (io_memif.c). */
#include "tools/load/run.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SKIP_LAG_NS 1000000000ull /* an event later than this is skipped, not sent */
#define LATE_NS 1000000ull        /* an event later than this counts as late */
#define IDLE_WAIT_NS 50000000ull  /* longest wait: the stop flag is checked this often */
#define SEND_SLICE_NS 500000ull   /* longest stretch of sending before receiving */

uint64_t ld_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ld_io_sent(struct ld_thread *T, const struct ld_txmeta *m)
{
	struct ld_run *R = T->R;
	struct ld_sstate *ss = &R->ss[m->stream];
	ss->sent_total++;
	ld_ctr_add(&T->st.tx_pkts, 1);
	ld_ctr_add(&T->st.tx_bytes, m->len);
	if (m->send_ns >= R->t_meas && m->send_ns < R->t_end) {
		ss->sent[m->phase]++;
		ss->sent_bytes[m->phase] += m->len;
	}
	uint64_t bin = (m->send_ns - R->t0) / LD_TL_BIN_NS;
	if (bin < T->n_bins) {
		ld_ctr_add(&T->tl[bin].sent, 1);
		/* SFU mode: who gets what is mmdp's choice; the receivers
		 * count the copies from the sequence numbers (rx.c). */
		if (m->phase == LD_PHASE_EXPECTED && !R->views)
			ld_ctr_add(&T->tl[bin].copies, ld_copies(&R->sc));
	}
}

void ld_io_unsent(struct ld_thread *T, const struct ld_txmeta *m)
{
	T->R->ss[m->stream].send_errors++;
	ld_ctr_add(&T->st.tx_errors, 1);
}

void ld_io_received(struct ld_thread *T, uint32_t n, uint64_t bytes, uint64_t now)
{
	struct ld_run *R = T->R;
	uint64_t bin = (now - R->t0) / LD_TL_BIN_NS;
	if (now >= R->t0 && bin < T->n_bins)
		ld_ctr_add(&T->tl[bin].rx, n);
	ld_ctr_add(&T->st.rx_datagrams, n);
	ld_ctr_add(&T->st.rx_bytes, bytes);
}

/* Build, protect and queue the packets of one event of stream id. */
static void send_event(struct ld_thread *T, uint32_t id, uint64_t now)
{
	struct ld_run *R = T->R;
	const struct ld_io *io = R->io;
	const struct ld_stream *s = &R->sc.streams[id];
	struct ld_sstate *ss = &R->ss[id];
	struct ld_part *p = &R->parts[s->part];
	struct ld_event ev;
	ld_gen_plan(&R->sc, s, &ss->gen, &ev);
	uint8_t phase = __atomic_load_n(&ss->phase, __ATOMIC_RELAXED);
	for (uint32_t k = 0; k < ev.npkts; k++) {
		struct ld_txmeta m = {.stream = id, .phase = phase, .send_ns = now};
		uint8_t *buf = io->tx_buf(T, p);
		if (!buf) {
			/* Use up the packet's index and sequence number all the
			 * same: the receivers count it lost, as on a real path. */
			uint8_t scratch[LD_PKT_BUF];
			(void)ld_gen_packet(&R->sc, s, &ss->gen, &ev, k, phase, now, scratch,
					    sizeof(scratch));
			ld_io_unsent(T, &m);
			continue;
		}
		int n = ld_gen_packet(&R->sc, s, &ss->gen, &ev, k, phase, now, buf, LD_PKT_BUF);
		size_t len = n > 0 ? (size_t)n : 0;
		if (n < 0 || (p->tx && mm_srtp_protect(p->tx, buf, &len, LD_PKT_BUF) != 0)) {
			ld_io_unsent(T, &m);
			continue;
		}
		m.len = (uint32_t)len;
		io->tx_push(T, p, len, &m);
	}
	ld_gen_advance(s, &ss->gen, &ev);
}

/* Send the events due by now (and not past the end), for at most
 * SEND_SLICE_NS: then the caller receives, so that a generator that falls
 * behind still reads. Returns true when events are still due. */
static bool send_due(struct ld_thread *T)
{
	struct ld_run *R = T->R;
	struct ld_sched_item it;
	uint64_t start = ld_now_ns();
	bool more = false;
	while (ld_sched_top(&T->sched, &it)) {
		uint64_t now = ld_now_ns();
		if (now >= R->t_end && it.at < R->t_end && !T->end_seen) {
			__atomic_store_n(&T->st.end_lag_ns, R->t_end - it.at, __ATOMIC_RELAXED);
			T->end_seen = true;
		}
		if (it.at > now || now >= R->t_end)
			break;
		if (now - start > SEND_SLICE_NS) {
			more = true;
			break;
		}
		struct ld_sstate *ss = &R->ss[it.id];
		uint64_t lag = now - it.at;
		if (lag > ld_ctr_get(&T->st.lag_max_ns))
			__atomic_store_n(&T->st.lag_max_ns, lag, __ATOMIC_RELAXED);
		if (lag > LATE_NS)
			ld_ctr_add(&T->st.late_events, 1);
		if (lag > SKIP_LAG_NS) {
			struct ld_event ev;
			ld_gen_plan(&R->sc, &R->sc.streams[it.id], &ss->gen, &ev);
			ld_gen_advance(&R->sc.streams[it.id], &ss->gen, &ev);
			ld_ctr_add(&T->st.skipped_events, 1);
		} else {
			send_event(T, it.id, now);
		}
		ld_sched_retime(&T->sched, ss->gen.next_ns);
	}
	R->io->tx_flush(T);
	return more;
}

static void *io_main(void *arg)
{
	struct ld_thread *T = arg;
	struct ld_run *R = T->R;
	if (R->io->thread_start)
		R->io->thread_start(T);
	while (!__atomic_load_n(&R->stop, __ATOMIC_RELAXED) && !T->error) {
		bool more = send_due(T);
		uint64_t now = ld_now_ns(), wait = IDLE_WAIT_NS;
		struct ld_sched_item it;
		if (more)
			wait = 0;
		else if (now < R->t_end && ld_sched_top(&T->sched, &it))
			wait = it.at > now ? it.at - now : 0;
		if (wait > IDLE_WAIT_NS)
			wait = IDLE_WAIT_NS;
		R->io->rx_wait(T, wait);
		if (R->views)
			ld_rx_nacks(T, ld_now_ns());
	}
	if (R->io->thread_stop)
		R->io->thread_stop(T);
	return NULL;
}

static int thread_init(struct ld_run *R, struct ld_thread *T, int idx)
{
	T->R = R;
	T->idx = idx;
	ld_hist_reset(&T->hist);
	T->n_bins = (uint32_t)(R->o.warmup + R->o.duration + 4) * LD_TL_BINS_PER_S;
	T->tl = calloc(T->n_bins, sizeof(*T->tl));
	T->parts = calloc(R->sc.n_parts, sizeof(*T->parts));
	T->txbuf = aligned_alloc(64, sizeof(*T->txbuf) * LD_TX_BATCH);
	T->rxbuf = aligned_alloc(64, sizeof(*T->rxbuf) * LD_RX_BATCH);
	int rc = ld_sched_init(&T->sched, 64);
	if (rc || !T->tl || !T->parts || !T->txbuf || !T->rxbuf)
		return -ENOMEM;
	for (uint32_t i = 0; i < R->sc.n_parts; i++) {
		struct ld_part *p = &R->parts[i];
		if (p->thread != (uint32_t)idx)
			continue;
		T->parts[T->n_parts++] = i;
		T->cap_gapq += R->views ? R->sc.streams_per_room : 0;
		for (uint32_t s = R->sc.part_first[i]; s < R->sc.part_first[i + 1]; s++) {
			ld_gen_init(&R->sc.streams[s], &R->ss[s].gen, R->t0);
			if ((rc = ld_sched_push(&T->sched, R->ss[s].gen.next_ns, s)) != 0)
				return rc;
		}
	}
	if (T->cap_gapq && !(T->gapq = calloc(T->cap_gapq, sizeof(*T->gapq))))
		return -ENOMEM;
	return R->io->thread_init ? R->io->thread_init(T) : 0;
}

int ld_io_start(struct ld_run *R)
{
	R->th = calloc((size_t)R->n_threads, sizeof(*R->th));
	if (!R->th)
		return -ENOMEM;
	for (int i = 0; i < R->n_threads; i++) {
		R->th[i].epfd = -1;
		int rc = thread_init(R, &R->th[i], i);
		if (rc)
			return rc;
	}
	for (int i = 0; i < R->n_threads; i++) {
		int rc = pthread_create(&R->th[i].th, NULL, io_main, &R->th[i]);
		if (rc) {
			__atomic_store_n(&R->stop, 1, __ATOMIC_RELAXED);
			return -rc;
		}
		R->th[i].started = true;
		if (R->o.n_cpus) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(R->o.cpus[i % R->o.n_cpus], &set);
			rc = pthread_setaffinity_np(R->th[i].th, sizeof(set), &set);
			if (rc)
				fprintf(stderr, "mmload: --cpu %d: %s\n", R->o.cpus[i % R->o.n_cpus],
					strerror(rc));
		}
		if (R->o.rt_priority) {
			/* Asked for and not had, the run would measure what it
			 * was meant not to: fail instead of going on without. */
			struct sched_param sp = {.sched_priority = R->o.rt_priority};
			rc = pthread_setschedparam(R->th[i].th, SCHED_FIFO, &sp);
			if (rc) {
				fprintf(stderr, "mmload: --rt-priority %d: %s\n", R->o.rt_priority,
					strerror(rc));
				__atomic_store_n(&R->stop, 1, __ATOMIC_RELAXED);
				return -rc;
			}
		}
	}
	return 0;
}

void ld_io_join(struct ld_run *R)
{
	__atomic_store_n(&R->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; R->th && i < R->n_threads; i++)
		if (R->th[i].started) {
			pthread_join(R->th[i].th, NULL);
			R->th[i].started = false;
		}
}

void ld_io_free(struct ld_run *R)
{
	for (int i = 0; R->th && i < R->n_threads; i++) {
		struct ld_thread *T = &R->th[i];
		if (R->io && R->io->thread_fini)
			R->io->thread_fini(T);
		ld_sched_free(&T->sched);
		free(T->tl);
		free(T->parts);
		free(T->txbuf);
		free(T->rxbuf);
		free(T->gapq);
	}
	free(R->th);
	R->th = NULL;
}
