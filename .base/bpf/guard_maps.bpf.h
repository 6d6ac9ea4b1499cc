/* The XDP guard's maps (BPF side). Names, keys and values: bpf/guard_abi.h.
 * Every map but xsks_map is pinned by name under the pin directory the
 * loader chooses (libbpf's default, /sys/fs/bpf, when DPDK's af_xdp port
 * loads the object itself with xdp_prog=), so a reloaded program finds the
 * allowlist, the blocklists and the configuration where it left them. */
#ifndef MM_GUARD_MAPS_BPF_H
#define MM_GUARD_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/guard_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_guard_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MM_GUARD_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct mm_guard_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MM_GUARD_ALLOW_MAX);
	__type(key, struct mm_guard_tuple);
	__type(value, struct mm_guard_allow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MM_GUARD_KICKED_MAX);
	__type(key, struct mm_guard_tuple);
	__type(value, struct mm_guard_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_kicked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MM_GUARD_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__type(key, struct mm_guard_prefix);
	__type(value, struct mm_guard_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_prefixes SEC(".maps");

/* Unknown sources: LRU, so that a flood of spoofed sources evicts other
 * unknown sources' buckets and never a known 5-tuple's (those live in the
 * allowlist's values). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MM_GUARD_SOURCES_MAX);
	__type(key, struct mm_guard_source);
	__type(value, struct mm_guard_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_guard_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mmg_handshake SEC(".maps");

/* AF_XDP sockets by RX queue, filled by whoever owns the sockets (DPDK's
 * af_xdp port looks this map up by name). Not pinned: sockets belong to
 * one process. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MM_GUARD_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

#endif
