/* The agent: mmdp's only table writer. Requests are the JSON lines of
 * docs/agent-protocol.md; this module turns one request line into one reply
 * line. No DPDK and no I/O here (agent_server.c owns the socket), so tests
 * call it directly, also under sanitizers. */
#ifndef MM_AGENT_H
#define MM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/core/agent_guard.h"
#include "dataplane/core/agent_proto.h"
#include "dataplane/core/tables.h"

#define MM_AGENT_LINE_MAX (1u << 20)
#define MM_AGENT_MEMPOOLS_MAX 16

/* One DPDK mempool's counts for stats.get's "mempools" (mmdp's mbuf pool
 * and any pool a driver made): objects in all, in use (taken out of the
 * pool, which counts those parked in the lcores' caches as available), and
 * available. */
struct mm_agent_mempool {
	char name[32];
	uint32_t size, in_use, available, cache_size;
};

struct mm_agent {
	struct mm_tables *t;
	uint32_t worker_lcore[MM_WORKERS_MAX]; /* for stats: lcore of each worker */
	uint64_t tsc_hz; /* for stats: the TSC's frequency (the workers' cycles); 0: unknown */
	/* For stats: fill out with up to cap mempools, return how many; NULL:
	 * none (the agent has no DPDK; mmdp's main.c sets it). A leak of mbufs
	 * shows here as in_use growing under a steady load (tools/soak). */
	unsigned (*mempools)(struct mm_agent_mempool *out, unsigned cap);
	/* Monotonic nanoseconds for block expiry; NULL: CLOCK_MONOTONIC
	 * (tests set their own). */
	uint64_t (*now_ns)(void);
	/* The XDP guard whose allowlist and kicked list follow the tables
	 * (agent_guard.h); NULL: none. */
	struct mm_agent_guard *guard;
	/* speakers.get: bumped when a call finds rooms whose speaker changed */
	uint64_t speaker_seq;
	/* DTLS-SRTP (agent_dtls.c): mmdp's certificate and the handshake of
	 * each endpoint with dtls. NULL until mm_agent_dtls_init (or the first
	 * use, which generates a certificate). */
	struct mm_dtls *dtls;
	/* mmdp drains (SIGTERM): a room.put of a room it does not have, and
	 * the first endpoint.put into a room without endpoints (a meeting
	 * starting), are refused with code "draining"; what it has goes on.
	 * Set on the agent thread. */
	bool draining;
	/* Called by mm_agent_serve on the agent thread after each poll (at
	 * least every 10 ms): mmdp's signals, drain and reload. NULL: none. */
	void (*serve_hook)(struct mm_agent *a, void *arg);
	void *serve_arg;
	/* What the applied changes did to the tables since mmdp started
	 * (stats.get "agent"): a controller's resync that finds everything
	 * in place only updates; a delete or a recreation shows here. */
	struct mm_agent_op_counts {
		uint64_t requests;        /* change requests applied */
		uint64_t syncs;           /* ... of which state.sync */
		uint64_t room_created, room_updated, room_deleted;
		uint64_t endpoint_created;   /* a new endpoint */
		uint64_t endpoint_updated;   /* in place: same room, 5-tuple, ICE */
		uint64_t endpoint_recreated; /* removed and created again (moved) */
		uint64_t endpoint_deleted;   /* endpoint.del, and a room's members on room.del */
		uint64_t route_put;
	} ops;
};

/* Handle one request (without its newline). Returns the reply line
 * (malloc'd, no newline) or NULL when out of memory. Must run on the agent
 * thread, registered as a QSBR reader; replies to changes are returned
 * after a grace period. */
char *mm_agent_handle(struct mm_agent *a, const char *line, size_t len);

/* Periodic work of the agent thread, at least once a second even when no
 * request arrives: removes expired blocks (and waits for a grace period
 * when it did). Cheap when nothing is due. mm_agent_handle does it too. */
void mm_agent_tick(struct mm_agent *a);

/* mmdp's DTLS certificate: from PEM files (cert_path and key_path, both
 * or neither), else an ECDSA P-256 self-signed one generated now. Returns
 * 0 or -EINVAL with a message in err. */
int mm_agent_dtls_init(struct mm_agent *a, const char *cert_path, const char *key_path, char *err,
		       size_t errlen);
/* Free the certificate and every DTLS association. */
void mm_agent_dtls_fini(struct mm_agent *a);
/* "sha-256 AB:CD:..." of mmdp's certificate (generated on first use), or
 * NULL when OpenSSL could not make one. */
const char *mm_agent_dtls_fingerprint(struct mm_agent *a);

/* The reply for a line that exceeded MM_AGENT_LINE_MAX. */
char *mm_agent_error_reply(const char *code, const char *message);

#endif
