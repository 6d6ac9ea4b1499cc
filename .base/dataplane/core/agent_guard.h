/* The XDP guard's lists as mmdp's agent keeps them (agent_guard.c): the
 * allowlist (mmg_allow) follows the endpoint table, the kicked 5-tuples
 * (mmg_kicked) follow the blocks. The agent updates them after it applied
 * a change and before it replies, so a kick is in force at XDP once it is
 * acknowledged. See docs/xdp-guard.md, "Running with mmdp".
 *
 * The agent reaches the maps only through these operations: mmdp fills
 * them with libmmguard on the pinned maps (dataplane/mmdp/guard.c), unit
 * tests with a map of their own. No libbpf here. */
#ifndef MM_AGENT_GUARD_H
#define MM_AGENT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/guard_abi.h"

struct mm_agent;

/* Each returns 0 or a negative errno; deleting an absent entry is
 * -ENOENT (which the agent takes as done). */
struct mm_agent_guard_ops {
	/* Add a 5-tuple to the allowlist; one already there keeps its
	 * bucket and counters. */
	int (*allow_put)(void *ctx, const struct mm_guard_tuple *t);
	int (*allow_del)(void *ctx, const struct mm_guard_tuple *t);
	/* Kick a 5-tuple until expires_ns (CLOCK_MONOTONIC, the agent's
	 * clock); again: only the expiry changes. */
	int (*kick_put)(void *ctx, const struct mm_guard_tuple *t, uint64_t expires_ns);
	int (*kick_del)(void *ctx, const struct mm_guard_tuple *t);
	/* fn for every 5-tuple of the allowlist (kicked false) or of the
	 * kicked list, from a snapshot (fn may delete). */
	int (*tuples)(void *ctx, bool kicked, int (*fn)(void *arg, const struct mm_guard_tuple *t),
		      void *arg);
	/* Banned source prefixes (the LPM map), host bits cleared, until
	 * expires_ns; prefixes lists them from a snapshot (fn may delete).
	 * All three NULL: bans are kept in mmdp's tables only. */
	int (*prefix_put)(void *ctx, const struct mm_guard_prefix *p, uint64_t expires_ns);
	int (*prefix_del)(void *ctx, const struct mm_guard_prefix *p);
	int (*prefixes)(void *ctx, int (*fn)(void *arg, const struct mm_guard_prefix *p), void *arg);
	/* The counters summed over CPUs (NULL: stats.get shows none). */
	int (*counters)(void *ctx, struct mm_guard_counter out[MM_GUARD_COUNTER_SLOTS]);
};

/* Retry a failed synchronisation this often (agent tick). */
#define MM_AGENT_GUARD_RETRY_NS 1000000000ull

struct mm_agent_guard {
	const struct mm_agent_guard_ops *ops;
	void *ctx;
	uint16_t port_lo, port_hi; /* the guard's media ports: endpoints' local
				      ports must be in range */
	const char *pin_dir;       /* for stats.get */
	void (*log)(void *ctx, const char *line); /* NULL: silent */

	/* Synchronisation state, agent thread only. */
	bool dirty;              /* a map update failed: resync at next_retry_ns */
	uint64_t next_retry_ns;
	uint64_t updates;        /* map entries written or deleted */
	uint64_t errors;         /* map updates that failed */
	uint64_t resyncs;        /* full reconciliations done */
	int request_errors;      /* failures during the request being handled */
	char last_error[192];
};

/* Make the allowlist exactly mmdp's endpoints, the kicked list exactly
 * its blocks and the prefix map exactly its bans (entries of neither are removed, missing ones added). Run at
 * start (clearing what an earlier mmdp left in the pinned maps), for
 * state.sync, and to recover from a failed update. Returns the number of
 * map updates that failed (0: in sync). */
int mm_agent_guard_resync(struct mm_agent *a);

#endif
