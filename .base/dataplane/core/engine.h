/* The forwarding engine: what a worker does with one received frame
 * (DESIGN.md packet path steps 2-4 and 6). No DPDK: the worker hands in the
 * frame's bytes and a TX interface, so tests and sanitizers drive the very
 * same code without EAL. */
#ifndef MM_ENGINE_H
#define MM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/core/tables.h"

/* Largest IP packet mmdp sends (the ports' MTU). */
#define MM_MTU 1500

/* How the engine emits frames. alloc returns a buffer of at least len
 * bytes (and an opaque handle) or NULL when no buffer is left; send queues
 * the frame, len bytes (<= the len allocated), for TX on a port; discard
 * gives back a buffer that will not be sent. All are called only from the
 * worker's own thread. alloc should return an address that is 2 modulo 4:
 * the UDP payload (after 14 + 20 + 8 or 14 + 40 + 8 bytes of headers) is
 * then 32-bit aligned, as libsrtp2 wants it to protect in place; other
 * buffers work through an aligned copy. */
struct mm_tx {
	uint8_t *(*alloc)(void *ctx, size_t len, void **handle);
	void (*send)(void *ctx, uint16_t port, void *handle, size_t len);
	void (*discard)(void *ctx, void *handle);
	void *ctx;
};

/* ROC recovery budget of a worker (engine.c), in authentication attempts,
 * on top of the per-stream rate limit of srtp.h: a token bucket of at most
 * MM_ENGINE_ROC_BURST attempts (two full sweeps: about 5 ms of one core
 * with 1,200-byte packets, the longest a worker stalls on recovery) that
 * refills by MM_ENGINE_ROC_PER_MS per millisecond (128,000 a second: about
 * 15 % of one core when spent entirely, e.g. on garbage from spoofed
 * sources). A sweep gets what is left (at most MM_SRTP_ROC_MAX); with
 * nothing left the packet is dropped unswept and the stream keeps its turn.
 * Recovering 1,000 streams of hour-long calls (ROC <= 30) takes about
 * 0.2 s of this budget. */
#define MM_ENGINE_ROC_BURST 4096u
#define MM_ENGINE_ROC_PER_MS 128u

struct mm_worker_ctx {
	struct mm_tables *t;
	uint32_t id;
	struct mm_worker_stats *st;
	struct mm_tx tx;
	/* ROC recovery budget: zero-initialised, filled at first use. */
	uint32_t roc_tokens;
	bool roc_started;
	uint64_t roc_refill_ns;
	/* now_ns of the frame or mailbox poll being handled (ICE consent). */
	uint64_t now_ns;
};

#define MM_ENGINE_DONE (-1)

/* Process one received frame on port in_port at time now_ns (CLOCK_MONOTONIC
 * nanoseconds). The caller is an online QSBR reader. Returns MM_ENGINE_DONE
 * when the frame was forwarded or dropped (and counted), or the index of the
 * worker that owns the sender's room: the caller hands the frame to that
 * worker, which calls mm_engine_rx again with it. The frame is writable:
 * SRTP is unprotected in place (only by the owner), so a frame handed over
 * is still as received. */
int mm_engine_rx(struct mm_worker_ctx *w, uint8_t *frame, size_t len, uint16_t in_port,
		 uint64_t now_ns);

/* Send what the agent left in this worker's agent->worker mailbox (its
 * DTLS records) to their endpoints, at most MM_ENGINE_MBOX_BURST of them.
 * The worker calls it every loop; the caller is an online QSBR reader.
 * Returns the datagrams handled (sent or dropped). */
#define MM_ENGINE_MBOX_BURST 32u
unsigned mm_engine_poll_mailbox(struct mm_worker_ctx *w, uint64_t now_ns);

#endif
