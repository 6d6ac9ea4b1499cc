/* Internals of the agent shared by its files: the parsed form of a change
 * (struct op), the error being built (struct aerr), and the steps
 * agent.c chains: parse (agent_parse.c), check and apply (agent_apply.c),
 * stats (agent_stats.c). Not for other modules. */
#ifndef MM_AGENT_INTERNAL_H
#define MM_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dataplane/core/agent.h"

struct aerr {
	const char *code; /* NULL: no error */
	char message[256];
	char field[160];
	long index; /* batch index, -1 if none */
};


/* Fill e (code, field path, message) and return -EINVAL. */
int mm_agent_fail(struct aerr *e, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

enum op_type { OP_ROOM_PUT, OP_ROOM_DEL, OP_EP_PUT, OP_EP_DEL, OP_ROUTE_PUT, OP_BLOCK_PUT, OP_BLOCK_DEL,
	       OP_BAN_PUT, OP_BAN_DEL };

struct op {
	enum op_type type;
	char path[48]; /* "" or "ops[3]." for error fields */
	const char *room;
	const char *endpoint;
	uint32_t capacity;
	uint32_t last_n, video_last_n; /* room.put */
	/* endpoint.put */
	struct mm_key key;
	struct net_addr laddr;
	uint8_t family;
	struct mm_ep_conf conf;
	bool srtp; /* SRTP wanted (else plain RTP) */
	enum mm_srtp_profile profile;
	bool has_in, has_out;
	uint8_t in_key[MM_SRTP_MASTER_MAX], out_key[MM_SRTP_MASTER_MAX];
	/* endpoint.put of a browser: ICE-lite credentials (mmdp's), and the
	 * peer's DTLS fingerprint and role. Without remote (has_remote
	 * false) an ICE endpoint keeps the 5-tuple it learned, or waits for
	 * its first valid check. */
	bool has_remote;
	bool ice, dtls, dtls_peer_active;
	char ice_ufrag[MM_ICE_UFRAG_MAX + 1], ice_pwd[MM_ICE_PWD_MAX + 1];
	uint8_t dtls_fp[32];
	/* route.put */
	enum mm_route_mode mode;
	json_t *subs; /* borrowed from the request */
	/* block.put, block.del */
	const char *block;
	struct mm_block_key bkey;
	uint32_t ttl_s; /* block.put, ban.put */
	/* ban.put, ban.del */
	const char *ban;
	uint8_t ban_addr[16]; /* host bits cleared */
	uint8_t ban_len;      /* bits of ban_addr (IPv4 /n: 96 + n) */
};

/* What the ops checked so far did to bans (agent_ban.c). */
struct ban_view {
	json_t *names;    /* ban -> prefix string, or null: deleted */
	json_t *prefixes; /* prefix string -> ban, or null: freed */
	long delta;
};

/* What the ops checked so far did to blocks (agent_block.c). */
struct block_view {
	json_t *names; /* block -> keystr, or null: deleted */
	json_t *keys;  /* keystr -> block, or null: freed */
	long delta;    /* blocks added minus removed */
};

/* Field readers: 0 read, 1 absent (when not required), negative on error. */
int mm_agent_get_name(json_t *o, const char *key, const char *path, const char **out, struct aerr *e);
int mm_agent_get_uint(json_t *o, const char *key, const char *path, uint64_t lo, uint64_t hi,
		      bool required, uint64_t *out, struct aerr *e);

/* {"addr":...,"port":...} at o[key]; errors name path+key. */
int mm_agent_get_addr_port(json_t *o, const char *key, const char *path, struct net_addr *addr,
			   uint8_t *family, uint16_t *port, struct aerr *e);
/* Is a one of the addresses of mmdp's ports? */
bool mm_agent_is_local(const struct mm_tables *t, const struct net_addr *a);

/* Syntax of one changing op (room.put, room.del, endpoint.put,
 * endpoint.del, route.put, block.put, block.del) into op; op->path
 * prefixes error fields. */
int mm_agent_parse_op(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e);

/* Check every op against the state as the earlier ones leave it; if all
 * pass, apply them, publish the touched routes, bring the XDP guard's
 * lists in step (all of them when full_sync: state.sync) and wait for a
 * grace period. results (may be NULL) gets one object per op. */
int mm_agent_run_ops(struct mm_agent *a, struct op *ops, size_t n, json_t *results, bool full_sync,
		     struct aerr *e);

/* The XDP guard (agent_guard.c). Before ops are applied, collect the
 * 5-tuples they may add or free; after, set each one in the guard's maps
 * as the tables now have it. */
struct guard_touch {
	struct mm_guard_tuple *eps;  /* endpoints' 5-tuples */
	size_t n_eps, cap_eps;
	struct mm_block_key *blocks; /* blocks' 5-tuples */
	size_t n_blocks, cap_blocks;
	struct mm_guard_prefix *prefixes; /* bans' prefixes */
	size_t n_prefixes, cap_prefixes;
	bool oom;                    /* could not record all: resync instead */
};
void mm_agent_guard_collect(struct mm_agent *a, const struct op *ops, size_t n,
			    struct guard_touch *tc);
/* Add ep's 5-tuple to tc (an ICE binding moves it). */
void mm_agent_guard_touch_ep(struct guard_touch *tc, const struct mm_endpoint *ep);
/* The blocks that expire at now_ns (before mm_blocks_expire). */
void mm_agent_guard_collect_expiring(struct mm_agent *a, uint64_t now_ns, struct guard_touch *tc);
/* Apply and free tc. Returns the number of failed updates. */
int mm_agent_guard_sync(struct mm_agent *a, struct guard_touch *tc);
/* Is this endpoint.put acceptable to the guard (local port in its media
 * range)? */
int mm_agent_guard_check_ep(const struct mm_agent_guard *g, const struct op *op, struct aerr *e);
/* Retry a failed synchronisation when due (agent tick). */
void mm_agent_guard_tick(struct mm_agent *a, uint64_t now_ns);
/* stats.get's "guard" object (json null without a guard). */
json_t *mm_agent_guard_stats(struct mm_agent *a);

/* Blocks (agent_block.c): syntax, check against the view, apply, expiry,
 * stats. */
uint64_t mm_agent_now(const struct mm_agent *a);
int mm_agent_parse_block(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e);
int mm_agent_check_block(struct mm_tables *t, struct block_view *v, const struct op *op,
			 struct aerr *e);
int mm_agent_apply_block(struct mm_tables *t, const struct op *op, uint64_t now_ns,
			 struct mm_garbage *g);
json_t *mm_agent_blocks_stats(struct mm_tables *t, uint64_t now_ns);

/* Bans (agent_ban.c): banned source prefixes, kept in the tables and put
 * in the guard's prefix map. */
int mm_agent_parse_ban(json_t *o, struct op *op, struct aerr *e);
int mm_agent_check_ban(struct mm_tables *t, struct ban_view *v, const struct op *op,
		       struct aerr *e);
int mm_agent_apply_ban(struct mm_tables *t, const struct op *op, uint64_t now_ns);
struct mm_ban *mm_agent_ban(struct mm_tables *t, const char *name);
/* The ban holding exactly this prefix, or NULL. */
struct mm_ban *mm_agent_ban_of(struct mm_tables *t, const uint8_t addr[16], uint8_t len);
/* Remove the bans expired at now_ns; their prefixes into tc (may be NULL). */
void mm_agent_bans_expire(struct mm_agent *a, uint64_t now_ns, struct guard_touch *tc);
void mm_agent_guard_touch_prefix(struct guard_touch *tc, const uint8_t addr[16], uint8_t len);
json_t *mm_agent_bans_stats(struct mm_tables *t, uint64_t now_ns);

/* ICE-lite and DTLS-SRTP (agent_ice.c, agent_dtls.c). */
/* Drain the workers' mailboxes (binds, DTLS records), run DTLS timers. */
void mm_agent_ice_tick(struct mm_agent *a);
/* After a change: a DTLS state for every endpoint with dtls (a new one
 * when its credentials changed), none for the others. */
void mm_agent_dtls_sync(struct mm_agent *a);
struct mm_mbox_msg;
/* A DTLS datagram from an endpoint (a worker's mailbox message). */
void mm_agent_dtls_input(struct mm_agent *a, const struct mm_mbox_msg *m);
/* Retransmissions and clients to start (endpoints bound since). */
void mm_agent_dtls_tick(struct mm_agent *a);
/* stats.get's "dtls" object of ep (NULL when it has no DTLS). */
json_t *mm_agent_dtls_stats(struct mm_agent *a, const struct mm_endpoint *ep);

json_t *mm_agent_stats(struct mm_agent *a, json_t *req, struct aerr *e);
/* speakers.get: rooms whose dominant speaker changed since "since". */
json_t *mm_agent_speakers(struct mm_agent *a, json_t *req, struct aerr *e);
json_t *mm_agent_room_info(const struct mm_room *r);
json_t *mm_agent_endpoint_stats(struct mm_agent *a, const struct mm_endpoint *ep);

#endif
