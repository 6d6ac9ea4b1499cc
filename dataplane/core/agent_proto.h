/* Names of mmdp's agent protocol (docs/agent-protocol.md) that both sides
 * spell: mmdp (dataplane/) and its client mmctld (control/). No other
 * includes, so the control plane takes it without the tables. */
#ifndef MM_AGENT_PROTO_H
#define MM_AGENT_PROTO_H

#define MM_AGENT_PROTOCOL_VERSION 1

/* mmdp's packet pool, the one its ports take mbufs from: its entry in
 * stats.get's "mempools" is what mmctld's metrics report as mmdp's mbufs. */
#define MM_AGENT_MBUF_POOL "mmdp_mbufs"

#endif
