/* The XDP guard's ABI: map names, keys, values and the configuration,
 * shared by the BPF program (bpf/guard.bpf.c) and every userspace reader or
 * writer of its maps (bpf/guard.c, later mmctld and mmdp). See
 * docs/xdp-guard.md.
 *
 * Rules: fixed-width fields only, explicit padding, every size checked
 * below. A change to any of these structs is an ABI change: bump
 * MM_GUARD_ABI_VERSION. libbpf refuses to reuse a pinned map whose key or
 * value size or max_entries differ, so old pins must be removed first.
 *
 * Includable from BPF C: no libc headers, only <linux/types.h>. */
#ifndef MM_GUARD_ABI_H
#define MM_GUARD_ABI_H

#include <linux/types.h>

#include "dataplane/proto/drop_reason.h"

#define MM_GUARD_ABI_VERSION 1u

/* Map names: also the file names of their pins under the pin directory
 * (libbpf pins by name). At most 15 characters (BPF_OBJ_NAME_LEN - 1). */
#define MM_GUARD_MAP_CONFIG "mmg_config"       /* ARRAY[1] of config */
#define MM_GUARD_MAP_COUNTERS "mmg_counters"   /* PERCPU_ARRAY of counter */
#define MM_GUARD_MAP_ALLOW "mmg_allow"         /* HASH tuple -> allow */
#define MM_GUARD_MAP_KICKED "mmg_kicked"       /* HASH tuple -> block */
#define MM_GUARD_MAP_PREFIXES "mmg_prefixes"   /* LPM_TRIE prefix -> block */
#define MM_GUARD_MAP_SOURCES "mmg_sources"     /* LRU_HASH source -> bucket */
#define MM_GUARD_MAP_HANDSHAKE "mmg_handshake" /* ARRAY[1] of bucket */
#define MM_GUARD_MAP_XSKS "xsks_map"           /* XSKMAP, not pinned; the
						  name DPDK's af_xdp port
						  looks for (xdp_prog=) */

#define MM_GUARD_ALLOW_MAX 65536u   /* known 5-tuples (mmdp's endpoints) */
#define MM_GUARD_KICKED_MAX 65536u  /* = mmdp's block limit */
#define MM_GUARD_PREFIXES_MAX 16384u
#define MM_GUARD_SOURCES_MAX 65536u /* unknown sources with a bucket (LRU) */
#define MM_GUARD_XSKS_MAX 64u       /* RX queues */

/* What the guard did with a packet. Counters are kept per verdict and per
 * reason: for DROP the reason is why; for PASS it says why the packet is
 * none of the guard's business (l3_unsupported: ARP; l4_unsupported: TCP
 * to another port, ICMP; none: UDP outside the media port range; ...); for
 * ACCEPT and REDIRECT it is none. */
enum mm_guard_verdict {
	MM_GUARD_PASS = 0,     /* not media: XDP_PASS, untouched */
	MM_GUARD_ACCEPT = 1,   /* media that passed every check: XDP_PASS */
	MM_GUARD_REDIRECT = 2, /* same, XDP_REDIRECT into its queue's XSK */
	MM_GUARD_DROP = 3,     /* XDP_DROP */
	MM_GUARD__VERDICTS
};

/* Counter slots: index = verdict * MM_GUARD_REASON_SLOTS + reason. Fixed
 * at 64 so that appending drop reasons keeps the pinned map compatible. */
#define MM_GUARD_REASON_SLOTS 64u
#define MM_GUARD_COUNTER_SLOTS (MM_GUARD__VERDICTS * MM_GUARD_REASON_SLOTS)
_Static_assert(MM_DROP__COUNT <= MM_GUARD_REASON_SLOTS, "more drop reasons than counter slots");

/* Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), as
 * in mmdp (struct net_addr). Ports are in network byte order, as on the
 * wire. */

/* A UDP 5-tuple, seen from the guard (the packet's source is the remote
 * participant, its destination one of mmdp's addresses): the key of the
 * allowlist (mmdp's endpoints) and of the kicked 5-tuples (mmdp's
 * block.put: remote addr/port -> local addr/port). */
struct mm_guard_tuple {
	__u8 remote_addr[16];
	__u8 local_addr[16];
	__be16 remote_port;
	__be16 local_port;
};
_Static_assert(sizeof(struct mm_guard_tuple) == 36, "mm_guard_tuple");

/* LPM trie key. prefixlen counts bits of addr: an IPv4 /n is 96 + n. */
struct mm_guard_prefix {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct mm_guard_prefix) == 20, "mm_guard_prefix");

/* Key of the unknown sources' buckets: the source address alone. */
struct mm_guard_source {
	__u8 addr[16];
};
_Static_assert(sizeof(struct mm_guard_source) == 16, "mm_guard_source");

/* A token bucket for packets and one for bytes, as GCRA theoretical
 * arrival times (CLOCK_MONOTONIC ns, the clock of bpf_ktime_get_ns): a
 * packet conforms if max(tat, now) + cost - now <= tau; conforming packets
 * move tat to max(tat, now) + cost. 0 = full bucket. */
struct mm_guard_bucket {
	__u64 pkt_tat_ns;
	__u64 byte_tat_ns;
};
_Static_assert(sizeof(struct mm_guard_bucket) == 16, "mm_guard_bucket");

/* Allowlist value: a known 5-tuple's bucket (known limits) and what it had
 * accepted (UDP payload bytes, as mmdp's rx_bytes). */
struct mm_guard_allow {
	struct mm_guard_bucket bucket;
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct mm_guard_allow) == 32, "mm_guard_allow");

/* Value of a kicked 5-tuple or a banned prefix: when it ends and what it
 * dropped (UDP payload bytes). */
struct mm_guard_block {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = never */
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct mm_guard_block) == 24, "mm_guard_block");

/* Byte costs are fixed point: ns per byte << MM_GUARD_BYTE_SHIFT. */
#define MM_GUARD_BYTE_SHIFT 16

/* One limit, in the form the program uses (userspace converts rates and
 * bursts, see mm_guard_rate_set). A cost of 0 = no limit on that count. */
struct mm_guard_rate {
	__u64 pkt_cost_ns;  /* 1e9 / packets per second */
	__u64 pkt_tau_ns;   /* burst packets * pkt_cost_ns */
	__u64 byte_cost_fp; /* (1e9 << MM_GUARD_BYTE_SHIFT) / bytes per second */
	__u64 byte_tau_ns;  /* burst bytes * 1e9 / bytes per second */
};
_Static_assert(sizeof(struct mm_guard_rate) == 32, "mm_guard_rate");

/* flags */
#define MM_GUARD_F_REDIRECT 0x1u /* accepted media -> xsks_map[rx queue]
				    (XDP_PASS where the queue has no XSK) */

/* The one entry of mmg_config. All zero (the state after loading) = no
 * media port range: every packet passes. */
struct mm_guard_config {
	__u32 abi_version; /* MM_GUARD_ABI_VERSION, for readers */
	__u32 flags;
	__u16 port_lo; /* media port range, host byte order, inclusive */
	__u16 port_hi;
	__u32 pad;
	struct mm_guard_rate known;     /* per allowlisted 5-tuple */
	struct mm_guard_rate unknown;   /* per source address of unknown 5-tuples */
	struct mm_guard_rate handshake; /* global: STUN/DTLS from unknown 5-tuples */
};
_Static_assert(sizeof(struct mm_guard_config) == 112, "mm_guard_config");

struct mm_guard_counter {
	__u64 packets;
	__u64 bytes; /* whole frames */
};
_Static_assert(sizeof(struct mm_guard_counter) == 16, "mm_guard_counter");

#endif
