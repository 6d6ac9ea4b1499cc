/* The XDP guard from userspace: load the program (or open the maps another
 * process pinned), attach and detach it, configure it, keep its allowlist
 * and blocklists, and read its counters. See docs/xdp-guard.md.
 *
 * Two files: guard.c (loading, attaching: needs the skeleton that clang and
 * bpftool build) and guard_maps.c (everything else: libbpf only), which a
 * manager of a program loaded by someone else (mmdp under DPDK's
 * xdp_prog=) can link alone.
 *
 * Functions return 0 or a negative errno. Loading needs CAP_BPF and
 * CAP_NET_ADMIN (root); so does every map access through pinned maps. */
#ifndef MM_GUARD_H
#define MM_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/guard_abi.h"

/* Where the maps are pinned unless told otherwise: libbpf's default pin
 * root, which is also where a program loaded by DPDK's af_xdp port
 * (xdp_prog=) pins and finds them. */
#define MM_GUARD_PIN_DIR_DEFAULT "/sys/fs/bpf"

struct mm_guard;

enum mm_guard_map {
	MM_GUARD_M_CONFIG,
	MM_GUARD_M_COUNTERS,
	MM_GUARD_M_ALLOW,
	MM_GUARD_M_KICKED,
	MM_GUARD_M_PREFIXES,
	MM_GUARD_M_SOURCES,
	MM_GUARD_M_HANDSHAKE,
	MM_GUARD_M_XSKS, /* only with a loaded program (never pinned) */
	MM_GUARD__MAPS
};

/* A limit as an operator says it. 0 rate = no limit on that count; a
 * rate needs a burst of at least 1 packet, or of at least 1 byte. */
struct mm_guard_limit {
	uint64_t pps;        /* packets per second */
	uint64_t pkt_burst;  /* packets */
	uint64_t bytes_ps;   /* UDP payload bytes per second */
	uint64_t byte_burst; /* UDP payload bytes */
};

struct mm_guard_settings {
	uint16_t port_lo, port_hi; /* media ports, inclusive; 0,0 = none */
	bool redirect;             /* accepted media into xsks_map */
	struct mm_guard_limit known;     /* per allowlisted 5-tuple */
	struct mm_guard_limit unknown;   /* per source address otherwise */
	struct mm_guard_limit handshake; /* global, unknown STUN/DTLS */
};

/* Load the program. Its maps are pinned by name under pin_dir (created if
 * missing), reusing maps already pinned there (a reload keeps the
 * configuration, lists and counters); pin_dir NULL = no pinning. */
int mm_guard_load(const char *pin_dir, struct mm_guard **out);

/* Open the maps pinned under pin_dir, without a program (a manager of a
 * program that someone else loaded, e.g. DPDK). -EPROTO if a pinned map's
 * shape differs from this ABI. */
int mm_guard_open_pinned(const char *pin_dir, struct mm_guard **out);

/* Release the handles. Pins and an attached program stay. */
void mm_guard_close(struct mm_guard *g);

/* Is the XDP program attached to ifindex (any mode) one that uses these
 * maps (the same mmg_config map)? 0 yes; -ENOENT no program attached (or
 * g has no maps); -ESRCH another program, or the guard with other maps
 * (pinned elsewhere, another bpffs). */
int mm_guard_check_attached(struct mm_guard *g, int ifindex);

/* The program's fd, or -ENOENT if opened from pins. */
int mm_guard_prog_fd(const struct mm_guard *g);
int mm_guard_map_fd(const struct mm_guard *g, enum mm_guard_map m);

/* Attach to an interface; xdp_flags from <linux/if_link.h>
 * (XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST...).
 * The attachment outlives this process until detached. */
int mm_guard_attach(struct mm_guard *g, int ifindex, uint32_t xdp_flags);
/* Detach this program from an interface: -ENOENT if it is not the one
 * attached there (another program is never removed). */
int mm_guard_detach(struct mm_guard *g, int ifindex);

/* Replace the configuration. -EINVAL for a bad range or limit. */
int mm_guard_configure(struct mm_guard *g, const struct mm_guard_settings *s);
int mm_guard_rate_set(const struct mm_guard_limit *l, struct mm_guard_rate *out);

/* Allowlist (mmdp's endpoints). Putting a known 5-tuple again keeps its
 * bucket and counters. */
int mm_guard_allow_put(struct mm_guard *g, const struct mm_guard_tuple *t);
int mm_guard_allow_del(struct mm_guard *g, const struct mm_guard_tuple *t);

/* Kicked 5-tuples (mmdp's block.put). ttl_seconds 0 = until deleted.
 * Putting one again only moves its expiry; its counters go on. */
int mm_guard_kick_put(struct mm_guard *g, const struct mm_guard_tuple *t, uint32_t ttl_seconds);
/* The same with an absolute expiry on mm_guard_now_ns's clock (0 = never). */
int mm_guard_kick_put_until(struct mm_guard *g, const struct mm_guard_tuple *t, uint64_t expires_ns);
int mm_guard_kick_del(struct mm_guard *g, const struct mm_guard_tuple *t);

/* Call fn for every 5-tuple of the allowlist (MM_GUARD_M_ALLOW) or of the
 * kicked list (MM_GUARD_M_KICKED), from a snapshot of the keys taken
 * first (fn may delete them). Stops at fn's first non-zero return and
 * returns it. */
int mm_guard_tuples(struct mm_guard *g, enum mm_guard_map m,
		    int (*fn)(void *arg, const struct mm_guard_tuple *t), void *arg);

/* CLOCK_MONOTONIC in ns: the program's clock (bpf_ktime_get_ns), that of
 * every expires_ns. */
uint64_t mm_guard_now_ns(void);

/* Banned source prefixes. Host bits are cleared. */
int mm_guard_prefix_put(struct mm_guard *g, const struct mm_guard_prefix *p, uint32_t ttl_seconds);
int mm_guard_prefix_del(struct mm_guard *g, const struct mm_guard_prefix *p);
/* The same with an absolute expiry on mm_guard_now_ns's clock (0 = never). */
int mm_guard_prefix_put_until(struct mm_guard *g, const struct mm_guard_prefix *p, uint64_t expires_ns);
/* Call fn for every banned prefix, from a snapshot of the keys (fn may
 * delete them). Stops at fn's first non-zero return and returns it. */
int mm_guard_prefixes(struct mm_guard *g, int (*fn)(void *arg, const struct mm_guard_prefix *p),
		      void *arg);

/* Counters summed over CPUs: out[verdict * MM_GUARD_REASON_SLOTS + reason]. */
int mm_guard_counters_read(struct mm_guard *g, struct mm_guard_counter out[MM_GUARD_COUNTER_SLOTS]);

/* "198.18.1.2" or "2001:2::5" to the 16-byte form (IPv4-mapped). 4 or 6
 * in *family. */
int mm_guard_addr_parse(const char *text, uint8_t out[16], int *family);
/* A 5-tuple from text addresses and host-order ports; both addresses of
 * one family. */
int mm_guard_tuple_make(const char *remote, uint16_t remote_port, const char *local,
			uint16_t local_port, struct mm_guard_tuple *out);
/* "198.18.0.0/15", "2001:db8::/32", or an address alone (/32, /128). */
int mm_guard_prefix_parse(const char *text, struct mm_guard_prefix *out);

/* "pass", "accept", "redirect", "drop"; NULL out of range. */
const char *mm_guard_verdict_name(unsigned verdict);

#endif
