#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/guard.h"
#include "dataplane/core/tables.h"

/* mmdp.json:
 * {"agent_socket": "/run/mmdp/agent.sock",
 *  "ports": [{"addresses": ["198.18.0.1", "2001:2::1"],
 *             "gateway_mac": "02:00:00:00:00:01", "workers": [0, 1],
 *             "srtp_ipv4_udp_checksum": false}],
 *  "mbufs": 32768, "rx_desc": 1024, "tx_desc": 1024,
 *  "guard": {"pin_dir": "/sys/fs/bpf", "port_range": [40000, 49999],
 *            "redirect": true,
 *            "known": {"pps": 5000, "burst": 2500,
 *                      "bytes_per_s": 12500000, "byte_burst": 3000000},
 *            "unknown": {...}, "handshake": {...}},
 *  "idle_sleep_us": 0}
 * "dtls_cert" and "dtls_key" (optional, together): PEM files of mmdp's
 * DTLS certificate and private key, else one is generated at start.
 * ports[i] describes DPDK port i; "workers" (default: all) are the workers
 * that own one RX/TX queue pair each on it, in that order. "guard"
 * (optional): the XDP guard DPDK's af_xdp port loaded (xdp_prog=), whose
 * maps mmdp keeps in step with its tables (docs/xdp-guard.md); limits
 * default to MM_GUARD_CONF_* below, a rate of 0 is no limit.
 * "idle_sleep_us" (default 0: poll without pause, for cores of its own):
 * a worker that found nothing to do in MM_IDLE_POLLS polls in a row
 * sleeps this long before polling again, so that mmdp can share its cores
 * (a small VM, a laptop demo, browsers on the same machine) at the cost of
 * up to that much latency on the first packet after a quiet spell.
 * "log_level" ("error|warn|info|debug", info) and "log_format"
 * ("logfmt|json", logfmt): mmdp's own log lines (common/log.h; DPDK's EAL
 * logs as it always does). "drain_timeout_s" (0..86400, 600): after
 * SIGTERM, how long mmdp goes on forwarding the meetings it has before it
 * stops anyway (README "Drain and reload"). */
#define MM_DRAIN_TIMEOUT_MAX 86400
#define MM_IDLE_SLEEP_US_MAX 10000
#define MM_IDLE_POLLS 256
#define MM_GUARD_CONF_KNOWN {.pps = 5000, .pkt_burst = 2500, .bytes_ps = 12500000, .byte_burst = 3000000}
#define MM_GUARD_CONF_UNKNOWN {.pps = 500, .pkt_burst = 250, .bytes_ps = 0, .byte_burst = 0}
#define MM_GUARD_CONF_HANDSHAKE {.pps = 5000, .pkt_burst = 2500, .bytes_ps = 0, .byte_burst = 0}

struct mm_guard_conf {
	bool enabled; /* "guard" given */
	char pin_dir[256];
	struct mm_guard_settings s; /* port range, redirect, limits */
};

struct mm_config {
	char agent_socket[108];
	uint32_t mbufs, rx_desc, tx_desc;
	struct mm_dp_conf dp; /* ports' addresses and gateways; MACs filled at start */
	bool workers_set[MM_PORTS_MAX]; /* ports[i].workers was given */
	struct mm_guard_conf guard;
	uint32_t idle_sleep_us;
	/* mmdp's DTLS certificate and key (PEM); both empty: generated at
	 * start (ECDSA P-256, self-signed). */
	char dtls_cert[256], dtls_key[256];
	int log_level;           /* enum mm_log_level */
	int log_format;          /* enum mm_log_format */
	uint32_t drain_timeout_s;
};

void mm_config_defaults(struct mm_config *c);
/* Returns 0 or -EINVAL with a message in err. */
int mm_config_load(const char *path, struct mm_config *c, char *err, size_t errlen);

#endif
