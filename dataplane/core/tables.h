/* mmdp's lookup tables: rooms, endpoints and routes, read by worker lcores
 * under liburcu QSBR and written only by the agent thread.
 *
 * Ownership rules (DESIGN.md, "Tables and RCU"):
 *  - Readers (workers) find an endpoint by its 5-tuple in `by_key`, follow
 *    ep->room, and read rcu pointers ep->conf and room->route. These three
 *    objects are immutable once published: a change builds a new one, swaps
 *    the pointer and frees the old one after a grace period.
 *  - Mutable per-packet state (counters, RTP statistics, rewrite state,
 *    learned MAC) lives in the endpoint and room objects and is written only
 *    by the worker that owns the room (room->worker). The agent reads the
 *    counters with relaxed atomic loads.
 *  - Every agent-only field is marked "agent". */
#ifndef MM_TABLES_H
#define MM_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "dataplane/core/srtp.h"
#include "dataplane/proto/codec.h"
#include "dataplane/sfu/layer.h"
#include "dataplane/sfu/rtx_cache.h"
#include "dataplane/sfu/speaker.h"
#include "dataplane/proto/drop_reason.h"
#include "dataplane/proto/net.h"
#include "dataplane/proto/rtp_stats.h"

#define MM_NAME_MAX 64
#define MM_RID_MAX 16 /* RFC 8852 RtpStreamId: our limit on its length */
#define MM_ROOM_CAPACITY_MAX 100
#define MM_STREAMS_MAX 8
/* SRTCP sender SSRCs an endpoint may use besides its streams' (a receiver's
 * own RTCP SSRCs, one per transceiver): libsrtp2 keeps a stream for every
 * SSRC that authenticates, so the rest are dropped before unprotect. */
#define MM_RTCP_SSRCS_MAX 16
#define MM_WORKERS_MAX 32
#define MM_PORTS_MAX 8
#define MM_PORT_ADDRS_MAX 8
#define MM_ROOMS_MAX 65536
#define MM_ENDPOINTS_MAX (1u << 20)
#define MM_BLOCKS_MAX 65536
#define MM_BLOCK_TTL_MAX 86400 /* seconds */
#define MM_LAST_N_DEFAULT 3
/* Retransmission cache of each video and screen stream: the last packets,
 * at most this many and this many bytes (about half a second of a
 * 2 Mbit/s layer, two seconds of a 500 kbit/s one). */
#define MM_RTX_CACHE_PACKETS 256
#define MM_RTX_CACHE_BYTES (128u * 1024u)
/* PLI/FIR to one publisher stream at most this often (ms), merged over
 * its receivers; mmdp's receiver reports to a publisher at this period. */
#define MM_PLI_INTERVAL_MS 300
#define MM_RR_INTERVAL_MS 1000
/* How often (ms) a receiver's simulcast layers are chosen again. */
#define MM_ALLOC_INTERVAL_MS 250
/* Transport-wide sequence numbers mmdp remembers per receiver (size and
 * send time of each copy), for its transport-wide feedback. */
#define MM_TWCC_RING 512
/* ICE (RFC 8445) credentials mmdp accepts: ufrag 4..32 and password
 * 22..256 ice-chars. */
#define MM_ICE_UFRAG_MIN 4
#define MM_ICE_UFRAG_MAX 32
#define MM_ICE_PWD_MIN 22
#define MM_ICE_PWD_MAX 256
/* RFC 7675 consent freshness: no valid check for this long, and mmdp
 * sends the endpoint nothing. A worker asks the agent to bind an endpoint
 * at most this often (a check from a new 5-tuple). */
#define MM_ICE_CONSENT_NS (30ull * 1000000000ull)
#define MM_ICE_BIND_INTERVAL_NS (100ull * 1000000ull)

#define MM_CACHE_ALIGNED __attribute__((aligned(64)))

/* Counters: one writer, readers on other threads. Relaxed atomics compile to
 * plain loads and stores on x86 but keep the accesses well-defined. */
#define MM_CNT_ADD(c, v) \
	__atomic_store_n(&(c), __atomic_load_n(&(c), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define MM_CNT_GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

static inline uint64_t mm_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

enum mm_kind { MM_KIND_AUDIO = 0, MM_KIND_VIDEO = 1, MM_KIND_SCREEN = 2 };

/* The on-the-wire identity of an endpoint: what mmdp sees in a packet from
 * it. memcmp-able (no padding holes: 16 + 2 + 2). */
struct mm_key {
	struct net_addr raddr;
	uint16_t lport;
	uint16_t rport;
};

/* One port of mmdp (a DPDK ethdev), immutable after start. */
struct mm_port_conf {
	uint8_t mac[6];
	uint8_t gateway_mac[6];
	/* Workers that own a queue pair on this port (bit w: worker w), and
	 * which queue: worker_queue[w] is w's rank among them. */
	uint32_t worker_mask;
	uint8_t worker_queue[MM_WORKERS_MAX];
	/* Compute UDP checksums of SRTP/SRTCP copies sent over IPv4 (default:
	 * no, as Linux's VXLAN does for IPv4: the SRTP tag authenticates every
	 * byte of the payload, and the checksum would cost a second pass over
	 * it per copy). IPv6 and plain RTP always get one. */
	bool srtp_udp_csum4;
	uint32_t n_addrs;
	struct net_addr addrs[MM_PORT_ADDRS_MAX];
	uint8_t addr_family[MM_PORT_ADDRS_MAX];
};

struct mm_dp_conf {
	uint32_t n_workers;
	uint32_t n_ports;
	struct mm_port_conf ports[MM_PORTS_MAX];
};

/* Published stream description: immutable, part of struct mm_ep_conf. */
struct mm_stream_conf {
	uint32_t ssrc;
	uint32_t clock_rate;
	uint64_t uid;   /* unique for the stream's life; tags rewrite state */
	uint8_t kind;   /* enum mm_kind */
	uint8_t muted;  /* derived from the endpoint's mute flags */
	uint8_t state_idx; /* index into ep->streams (stable across conf swaps) */
	uint8_t codec;     /* enum mm_codec */
	uint8_t audio_level_id; /* RFC 8285 id of the RFC 6464 level; 0: none */
	uint8_t layer;     /* simulcast layer, 0 lowest */
	uint8_t group;     /* conf index of its group's base (lowest layer); itself alone */
	int8_t layers[MM_LAYERS_MAX]; /* the base: conf index of each layer, -1 none */
	bool has_rtx;
	uint32_t rtx_ssrc; /* RFC 4588 SSRC of this stream's retransmissions */
	/* Known by RID (RFC 8852) rather than SSRC: ssrc is 0 and the
	 * worker binds the SSRC the first packet carrying this RID brings
	 * (once it authenticates), in the stream's state. */
	bool by_rid;
	char rid[MM_RID_MAX + 1]; /* "" when none */
	/* The SSRC receivers see this group under (a group's base); 0: the
	 * base's own SSRC. Required for a group known by RID. */
	uint32_t out_ssrc;
	/* Video and screen: the last packets (plain RTP as received), for
	 * NACKs. The pointer follows the stream across conf swaps; the
	 * contents belong to the room's worker. */
	struct mm_rtx_cache *cache;
};

/* One key generation of an endpoint's SRTP: the inbound session (what the
 * endpoint sends, unprotected by mmdp) and the outbound one (what mmdp
 * sends it). The pointers are immutable; the sessions' state (rollover
 * counters, replay windows, SRTCP index) belongs to the room's worker.
 * The agent frees a keyset once no published conf refers to it. */
struct mm_keyset {
	uint64_t uid; /* distinguishes generations */
	enum mm_srtp_profile profile;
	struct mm_srtp *in, *out; /* NULL: no key in that direction yet */
	bool has_in, has_out;
	uint8_t in_key[MM_SRTP_MASTER_MAX], out_key[MM_SRTP_MASTER_MAX];
};

/* Immutable endpoint configuration, swapped by pointer. */
struct mm_ep_conf {
	struct rcu_head rcu;
	bool audio_muted, video_muted;
	bool mac_set;
	uint8_t max_layer; /* highest simulcast layer it receives */
	uint8_t rtx_pt;    /* RTX payload type it negotiated; 0: plain retransmission */
	uint8_t twcc_id;   /* RFC 8285 id of transport-wide-cc on its copies; 0: none */
	uint8_t rid_id;    /* RFC 8285 id of its rtp-stream-id (RID) extension; 0: none */
	uint8_t mac[6];
	uint32_t n_streams;
	struct mm_stream_conf streams[MM_STREAMS_MAX];
	/* SRTP: NULL for plain RTP. After a rekey, prev_keys is the previous
	 * generation, still tried for packets in flight. */
	struct mm_keyset *keys, *prev_keys;
};

/* Mutable per-stream state, owned by the room's worker. */
struct mm_stream_state {
	uint64_t uid; /* which stream_conf this state belongs to */
	uint64_t packets, bytes;
	uint32_t pause_gen; /* bumped when forwarding pauses (mute) */
	uint8_t paused;
	struct rtp_stats rtp;
	/* SRTP: uid of the keyset whose inbound session has authenticated an
	 * RTP packet of this stream (0: none yet). Until then a packet that
	 * fails authentication may go through ROC recovery (engine.c). */
	uint64_t srtp_in;
	/* The ROC recovery found for this stream under that keyset (0: none:
	 * the stream authenticated at ROC 0, as a stream does from its start). */
	uint32_t roc_recovered;
	/* SFU: the layer's bitrate (simulcast choice), when mmdp last asked
	 * the publisher for a keyframe of it (PLI, merged over receivers). */
	struct mm_rate rate;
	uint64_t pli_ms;
	bool pli_sent;
	uint8_t last_pt; /* payload type of its last packet (RTX restores it) */
	/* mmdp's receiver reports to the publisher: the counts at the last
	 * report, and the publisher's last sender report (LSR, when). */
	uint32_t rr_expected, rr_received;
	uint32_t sr_ntp_mid;
	uint64_t sr_ms;
	/* A stream known by RID: the SSRC it was bound to (bound set). */
	uint32_t bound_ssrc;
	bool bound;
};

/* What a subscriber sees of one publisher stream. Generic: SSRC, sequence
 * and timestamp are mapped through offsets, so that a later change of the
 * source (simulcast layer switch, mute) keeps the subscriber's view
 * continuous. */
struct mm_rewrite {
	uint64_t src_uid;   /* 0: unused */
	uint32_t out_ssrc;
	uint32_t ts_off;
	uint16_t seq_off;
	uint16_t last_seq_out;
	uint32_t pause_gen; /* publisher pause_gen this mapping was synced to */
	/* SFU: the entry of a group's base stream is the receiver's view of
	 * the whole simulcast group: the layer it gets, the last timestamp
	 * and time it sent (to continue them across a switch), and which
	 * source stream each range of its sequence numbers came from (NACKs). */
	uint32_t last_ts_out;
	uint64_t last_out_ms;
	int8_t alloc_layer; /* the layer the allocation chose; -1: none */
	uint16_t rtx_seq;   /* next sequence number of its RTX stream */
	struct mm_layer_sel sel;
	struct mm_seq_map map;
};

struct mm_room;

struct mm_endpoint {
	struct cds_lfht_node key_node;  /* in tables->by_key (workers read) */
	struct cds_lfht_node name_node; /* agent: tables->eps_by_name */
	struct cds_lfht_node ufrag_node; /* in tables->by_ufrag when ice (workers read) */
	struct rcu_head rcu;

	/* Immutable while published. */
	struct mm_room *room;
	struct mm_key key;
	struct net_addr laddr;
	uint8_t family;
	uint16_t port_id;     /* egress port */
	uint32_t slot;        /* member slot in the room, < capacity */
	/* tables->publish_epoch when created: endpoints created by the same
	 * agent request (a state.sync after mmdp restarted) share it. */
	uint64_t created_epoch;
	struct mm_ep_conf *conf; /* rcu */
	char name[MM_NAME_MAX + 1];
	/* ICE-lite and DTLS-SRTP (immutable while published). ice: mmdp's
	 * local credentials (ice_ufrag, ice_pwd) answer STUN checks; an
	 * endpoint that has no 5-tuple yet is not bound: key holds only its
	 * local port, it is in no by_key entry and nothing is sent to it.
	 * dtls: the peer's certificate fingerprint and role; its SRTP keys
	 * come from the agent's handshake. ice_gen names the credentials:
	 * a new one (new ufrag, pwd or fingerprint) starts over; binding
	 * (a new endpoint object at the learned 5-tuple) keeps it. */
	bool ice, bound, dtls;
	bool dtls_peer_active; /* the peer is the DTLS client (mmdp the server) */
	uint8_t ice_ufrag_len;
	uint16_t ice_pwd_len;
	uint64_t ice_gen;
	uint8_t dtls_fp[32]; /* SHA-256 of the peer's certificate */
	char ice_ufrag[MM_ICE_UFRAG_MAX + 1];
	char ice_pwd[MM_ICE_PWD_MAX + 1];
	/* agent: the conf (keys, caches) was handed to the endpoint that
	 * replaced this one: freeing this one frees only the conf struct. */
	bool conf_given;

	/* Owned by the room's worker. */
	MM_CACHE_ALIGNED uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t muted_packets;
	uint8_t learned_mac[6];
	uint8_t mac_learned;
	/* Key generation that authenticated a packet since the last rekey:
	 * from then on the previous generation is not tried (RTP, RTCP). */
	uint64_t rtp_keys_ok, rtcp_keys_ok;
	/* SRTCP sender SSRCs that are none of its streams' and authenticated
	 * (engine.c, rx_rtcp): each holds a libsrtp2 stream. */
	uint32_t rtcp_ssrcs[MM_RTCP_SSRCS_MAX];
	uint32_t n_rtcp_ssrcs;
	/* ROC recovery (engine.c): inbound streams whose ROC was recovered,
	 * recovery sweeps that found none, and outbound streams to this
	 * endpoint that continued a recovered source's ROC. */
	uint64_t roc_recovered, roc_sweeps_failed, roc_continued;
	/* SFU, as a receiver: its downlink estimate, when its layers were last
	 * chosen; as a publisher: when mmdp last sent it a receiver report. */
	struct mm_bwe bwe;
	/* What mmdp sends it, as of its last feedback (its tx_bytes then,
	 * and when): the rate between two reports, without a per-copy meter. */
	uint64_t fb_tx_bytes, fb_tx_ms;
	uint64_t alloc_ms, rr_ms;
	const struct mm_ep_conf *alloc_conf; /* its conf when its layers were chosen */
	/* Feedback counters: NACKed packets it asked for, resent from the
	 * cache, asked of publishers; PLI/FIR it sent and mmdp sent it. */
	uint64_t nack_rx, rtx_tx, nack_fwd, pli_rx, pli_tx, rr_tx, sr_tx, rtcp_consumed;
	/* Transport-wide congestion control toward it: the next sequence
	 * number, what each recent one carried, when its last feedback came,
	 * and the feedback messages and packets they reported lost. */
	uint16_t twcc_seq;
	uint64_t twcc_fb_ms, twcc_fb, twcc_lost;
	struct mm_twcc_sent {
		uint16_t seq;
		uint16_t bytes;
		uint32_t ms; /* low 32 bits of the send time in ms */
	} twcc[MM_TWCC_RING];
	struct mm_stream_state streams[MM_STREAMS_MAX];
	struct mm_rewrite *rw; /* [MM_ROOM_CAPACITY_MAX * MM_STREAMS_MAX] */
	/* ICE: when the last valid check came (worker clock), the valid and
	 * refused checks, and when the worker last asked the agent to bind. */
	uint64_t ice_last_ns, ice_checks, ice_bad_checks, ice_bind_ns;
};

/* The SSRC publisher ep sends stream sc under: its declared one, or for
 * a stream known by RID the one it was bound to (0 while unbound).
 * Worker of ep's room. */
static inline uint32_t mm_stream_ssrc(const struct mm_endpoint *ep, const struct mm_stream_conf *sc)
{
	if (!sc->by_rid)
		return sc->ssrc;
	const struct mm_stream_state *ss = &ep->streams[sc->state_idx];
	return ss->uid == sc->uid && ss->bound ? ss->bound_ssrc : 0;
}

/* Publisher ep's stream whose packets come under ssrc, or NULL. */
static inline const struct mm_stream_conf *mm_stream_of(const struct mm_endpoint *ep,
							const struct mm_ep_conf *c, uint32_t ssrc)
{
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const struct mm_stream_conf *sc = &c->streams[i];
		if (sc->by_rid ? mm_stream_ssrc(ep, sc) == ssrc && ssrc : sc->ssrc == ssrc)
			return sc;
	}
	return NULL;
}

/* Publisher ep's stream whose retransmissions (RFC 4588) come under ssrc,
 * or NULL. */
static inline const struct mm_stream_conf *mm_stream_of_rtx(const struct mm_ep_conf *c,
							    uint32_t ssrc)
{
	for (uint32_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].has_rtx && c->streams[i].rtx_ssrc == ssrc)
			return &c->streams[i];
	return NULL;
}

/* Layers of the simulcast group whose base is base. */
static inline int mm_group_layers(const struct mm_stream_conf *base)
{
	int n = 0;
	for (int l = 0; l < MM_LAYERS_MAX; l++)
		n += base->layers[l] >= 0;
	return n;
}

/* The SSRC receivers see group base under. */
static inline uint32_t mm_group_out_ssrc(const struct mm_stream_conf *base)
{
	return base->out_ssrc ? base->out_ssrc : base->ssrc;
}

/* Do a and b (of two confs of one endpoint) describe the same stream? */
static inline bool mm_stream_same(const struct mm_stream_conf *a, const struct mm_stream_conf *b)
{
	if (a->by_rid != b->by_rid)
		return false;
	return a->by_rid ? __builtin_strcmp(a->rid, b->rid) == 0 && a->kind == b->kind
			 : a->ssrc == b->ssrc;
}

/* Immutable fan-out plan of a room, swapped by pointer. For the member in
 * slot s, subs[pub[s].off .. pub[s].off + pub[s].n) are its subscribers. */
struct mm_route_pub {
	uint32_t off, n;
};
struct mm_route {
	struct rcu_head rcu;
	uint64_t gen; /* unique per route built */
	uint32_t n_slots;
	uint32_t n_subs;
	struct mm_route_pub *pub;     /* [n_slots] */
	struct mm_endpoint **subs;    /* [n_subs] */
	/* The reverse: for the member in slot s, pubs[sub[s].off .. + n) are
	 * the publishers it receives (its simulcast choice, its feedback). */
	struct mm_route_pub *sub;     /* [n_slots] */
	struct mm_endpoint **pubs;    /* [n_subs] */
	struct mm_endpoint **members; /* [n_slots]: who holds each slot (NULL: free) */
};

enum mm_route_mode { MM_ROUTE_ALL = 0, MM_ROUTE_EXPLICIT = 1 };

struct mm_room {
	struct cds_lfht_node name_node; /* agent: tables->rooms_by_name */
	struct rcu_head rcu;
	struct mm_route *route; /* rcu */
	uint32_t worker;        /* owner worker index, immutable */
	uint32_t capacity;      /* agent */
	uint32_t n_members;     /* agent */
	bool route_dirty;       /* agent */
	enum mm_route_mode mode; /* agent */
	/* agent: explicit subscriptions, subscriber name -> publisher names,
	 * kept as a jansson object (json_t *) to rebuild routes. */
	void *explicit_subs;
	struct mm_endpoint *members[MM_ROOM_CAPACITY_MAX]; /* agent */
	char name[MM_NAME_MAX + 1];
	/* Set by the agent (relaxed atomics), read by the worker. */
	uint32_t last_n, video_last_n;
	/* agent: speakers.get bookkeeping (the speaker changes seen, and the
	 * agent's sequence number when they were). */
	uint32_t spk_seen;
	uint64_t spk_seq;
	/* worker: the route whose members the speaker detector knows */
	uint64_t spk_route_gen;

	/* Owned by the room's worker. */
	MM_CACHE_ALIGNED uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	struct mm_speaker_room spk;
};

/* Per-worker counters, written by that worker only. */
struct mm_worker_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t handoff_out, handoff_in;
	uint64_t neigh_replies; /* ARP replies and IPv6 neighbour advertisements sent */
	uint64_t drops[MM_DROP__COUNT];
	/* The worker's poll loop, in TSC cycles (mmdp's worker.c; 0 where no
	 * DPDK worker runs, e.g. in unit tests): cycles and polls count every
	 * loop iteration since the worker started; busy_cycles and busy_polls
	 * those in which an RX burst or the hand-off ring gave it at least one
	 * frame. busy_cycles / forwarded packets is the cost per packet. */
	uint64_t cycles, busy_cycles, polls, busy_polls;
	/* The worker's clock (now_ns) as of its last packet or mailbox poll:
	 * the agent tells ICE consent expiry against it. Messages it could not
	 * put in its worker->agent mailbox (full). */
	uint64_t clock_ns;
	uint64_t mbox_full;
} MM_CACHE_ALIGNED;

/* A blocked UDP 5-tuple (a kicked participant): packets from raddr:rport
 * to laddr:lport that match no endpoint are dropped as MM_DROP_BLOCKED and
 * counted here. memcmp-able (no padding: 16 + 16 + 2 + 2). */
struct mm_block_key {
	struct net_addr raddr, laddr;
	uint16_t rport, lport;
};

struct mm_block_counter {
	uint64_t packets, bytes; /* bytes: UDP payload, as endpoints count */
};

/* A block, found by workers through tables->blocks_by_key (only after the
 * endpoint lookup missed) and freed after a grace period. A 5-tuple may
 * arrive on any worker (and a drop is not handed over), so every worker
 * has its own counters: dropped[w] is written only by worker w. */
struct mm_block {
	struct cds_lfht_node key_node;  /* in tables->blocks_by_key (workers read) */
	struct cds_lfht_node name_node; /* agent: tables->blocks_by_name */
	struct mm_block_key key;        /* immutable while published */
	uint8_t family;                 /* 4 or 6 */
	uint32_t n_workers;             /* entries in dropped[] */
	uint64_t expires_ns;            /* agent: on the agent's monotonic clock */
	char name[MM_NAME_MAX + 1];
	struct mm_block_counter dropped[]; /* [n_workers] */
};

/* A banned source prefix (ban.put): agent thread only, never read by the
 * workers; the XDP guard's prefix map enforces it (agent_ban.c). addr is
 * the 16-byte form (IPv4-mapped), host bits cleared; prefixlen counts its
 * bits (an IPv4 /n is 96 + n). */
struct mm_ban {
	char name[MM_NAME_MAX + 1];
	uint8_t addr[16];
	uint8_t prefixlen;
	uint8_t family; /* 4 or 6 */
	uint64_t expires_ns;
};
#define MM_BANS_MAX 4096
#define MM_BAN_TTL_MAX (30u * 86400u)

struct mm_mbox;

struct mm_tables {
	struct cds_lfht *by_key;        /* workers read */
	struct cds_lfht *by_ufrag;      /* workers read: ICE endpoints by local ufrag */
	/* Mailboxes of each worker (mailbox.h): up to the agent, down to the
	 * worker. Created by mm_tables_init for conf.n_workers workers. */
	struct mm_mbox *mbox_up[MM_WORKERS_MAX], *mbox_down[MM_WORKERS_MAX];
	struct cds_lfht *blocks_by_key; /* workers read (after a by_key miss) */
	struct mm_dp_conf conf;         /* immutable after start */
	struct mm_worker_stats wstats[MM_WORKERS_MAX];

	/* agent */
	struct cds_lfht *rooms_by_name;
	struct cds_lfht *eps_by_name;
	uint64_t generation;
	uint64_t next_uid;
	uint64_t publish_epoch; /* mm_tables_publish_routes calls so far */
	uint32_t n_rooms, n_endpoints;
	uint32_t rooms_per_worker[MM_WORKERS_MAX];
	struct cds_lfht *blocks_by_name;
	uint32_t n_blocks;
	uint64_t blocks_next_expiry; /* no block expires before; UINT64_MAX: none */
	struct mm_ban *bans; /* [n_bans] of cap_bans, unordered (agent only) */
	uint32_t n_bans, cap_bans;
};

/* Iterate a cds_lfht. (cds_lfht_for_each_entry forms container_of(NULL)
 * after the last node, which is undefined behaviour that UBSan reports;
 * this converts only real nodes.) Do not free pos inside the loop. */
#define MM_LFHT_FOREACH(ht, it, pos, member)                                                      \
	for (cds_lfht_first((ht), (it));                                                          \
	     cds_lfht_iter_get_node(it) &&                                                        \
	     ((pos) = caa_container_of(cds_lfht_iter_get_node(it), __typeof__(*(pos)), member), 1); \
	     cds_lfht_next((ht), (it)))

/* --- reader side (workers) --- */

uint64_t mm_key_hash(const struct mm_key *k);
int mm_key_match_(struct cds_lfht_node *node, const void *key);

/* Find the endpoint of a 5-tuple. Call from a registered, online QSBR
 * reader; the pointer is valid until the caller's next quiescent state. */
static inline struct mm_endpoint *mm_tables_lookup(struct mm_tables *t, const struct mm_key *k)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->by_key, (unsigned long)mm_key_hash(k), mm_key_match_, k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_endpoint, key_node) : NULL;
}

uint64_t mm_ufrag_hash(const char *s, size_t len);
int mm_ufrag_match_(struct cds_lfht_node *node, const void *key);
struct mm_ufrag_key {
	const char *s;
	size_t len;
};

/* Find the ICE endpoint whose local ufrag is s[0..len); same rules as
 * mm_tables_lookup. */
static inline struct mm_endpoint *mm_tables_ufrag_lookup(struct mm_tables *t, const char *s,
							 size_t len)
{
	struct cds_lfht_iter it;
	struct mm_ufrag_key k = {s, len};
	cds_lfht_lookup(t->by_ufrag, (unsigned long)mm_ufrag_hash(s, len), mm_ufrag_match_, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_endpoint, ufrag_node) : NULL;
}

uint64_t mm_block_key_hash(const struct mm_block_key *k);
int mm_block_key_match_(struct cds_lfht_node *node, const void *key);

/* Find the block of a 5-tuple; same rules as mm_tables_lookup. */
static inline struct mm_block *mm_tables_block_lookup(struct mm_tables *t,
						      const struct mm_block_key *k)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->blocks_by_key, (unsigned long)mm_block_key_hash(k), mm_block_key_match_, k,
			&it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct mm_block, key_node) : NULL;
}

/* Is addr one of port p's addresses? */
static inline bool mm_port_is_local(const struct mm_port_conf *p, const struct net_addr *a)
{
	for (uint32_t i = 0; i < p->n_addrs; i++)
		if (__builtin_memcmp(&p->addrs[i], a, sizeof(*a)) == 0)
			return true;
	return false;
}

/* The port an endpoint with local address laddr sends from when its room
 * belongs to worker w: one that carries laddr and on which w owns a queue.
 * Returns the port id or -ENOENT. */
int mm_dp_egress_port(const struct mm_dp_conf *c, const struct net_addr *laddr, uint32_t w);

/* Fill worker_mask (all workers where mask_set is false) and worker_queue,
 * and check that every port address is served by all workers (through one
 * port or another), so any room can send from any address. Returns 0 or
 * -EINVAL with a message in err. */
int mm_dp_conf_assign_workers(struct mm_dp_conf *c, const bool *mask_set, char *err, size_t errlen);

/* --- writer side (agent thread only) --- */

int mm_tables_init(struct mm_tables *t, const struct mm_dp_conf *conf);
/* Free everything. No other reader may be running; the caller may be an
 * online QSBR reader (it is put offline while the tables are destroyed). */
void mm_tables_fini(struct mm_tables *t);

unsigned long mm_name_hash(const char *s);
struct mm_room *mm_tables_room(struct mm_tables *t, const char *name);
struct mm_endpoint *mm_tables_endpoint(struct mm_tables *t, const char *name);

/* Objects unlinked by a change, freed after the next grace period. */
struct mm_garbage {
	size_t n, cap;
	struct mm_gitem {
		int type;
		void *p;
	} *items;
};
/* Garbage types of other files (tables.c keeps its own private ones). */
enum { MM_GT_BLOCK = 100 };
void mm_garbage_add(struct mm_garbage *g, int type, void *p);
/* synchronize_rcu() (if anything was unlinked) and free it all. */
void mm_garbage_collect(struct mm_garbage *g, bool synced);

struct mm_room *mm_room_create(struct mm_tables *t, const char *name, uint32_t capacity);
void mm_room_remove(struct mm_tables *t, struct mm_room *r, struct mm_garbage *g);

/* ICE and DTLS identity of a new endpoint (NULL: neither). bound false:
 * key holds only the local port and the endpoint gets no by_key entry. */
struct mm_ep_ice {
	bool ice, bound, dtls, dtls_peer_active;
	uint64_t ice_gen;
	char ufrag[MM_ICE_UFRAG_MAX + 1];
	char pwd[MM_ICE_PWD_MAX + 1];
	uint8_t fp[32];
	/* Initial worker state (a binding: the check that made it). */
	uint64_t last_ns, checks, bad_checks;
	uint8_t mac[6];
	bool mac_set;
};

/* Create and publish an endpoint (conf is taken over). */
struct mm_endpoint *mm_endpoint_create(struct mm_tables *t, struct mm_room *r, const char *name,
				       const struct mm_key *key, const struct net_addr *laddr,
				       uint8_t family, uint16_t port_id, struct mm_ep_conf *conf);
struct mm_endpoint *mm_endpoint_create_ice(struct mm_tables *t, struct mm_room *r, const char *name,
					   const struct mm_key *key, const struct net_addr *laddr,
					   uint8_t family, uint16_t port_id, struct mm_ep_conf *conf,
					   const struct mm_ep_ice *ice);
void mm_endpoint_remove(struct mm_tables *t, struct mm_endpoint *ep, struct mm_garbage *g);
/* Swap in a new conf (taken over); stream state follows SSRCs, and
 * keysets the new conf no longer names are freed after the grace period. */
void mm_endpoint_set_conf(struct mm_tables *t, struct mm_endpoint *ep, struct mm_ep_conf *conf,
			  struct mm_garbage *g);

/* Give every video and screen stream of c a retransmission cache: the
 * one of old's stream with the same SSRC (it moves with the stream), else
 * a new one. 0 or -ENOMEM (then c holds none it created). */
int mm_conf_attach_caches(const struct mm_ep_conf *old, struct mm_ep_conf *c);
/* Destroy the caches of c that old does not share (a conf never published). */
void mm_conf_drop_caches(const struct mm_ep_conf *old, struct mm_ep_conf *c);

/* Create a keyset (sessions for the directions that have keys). Returns
 * NULL when libsrtp2 cannot (out of memory). */
struct mm_keyset *mm_keyset_create(struct mm_tables *t, enum mm_srtp_profile profile,
				   const uint8_t *in_key, const uint8_t *out_key);
void mm_keyset_destroy(struct mm_keyset *k);

/* Heap bytes an endpoint holds now: the object, its rewrite table, its
 * conf and its SRTP sessions with their per-SSRC streams. */
size_t mm_endpoint_memory(const struct mm_endpoint *ep);

/* Rebuild and publish the route of every room marked route_dirty. */
int mm_tables_publish_routes(struct mm_tables *t, struct mm_garbage *g);

/* Blocks (tables_block.c). mm_tables_init creates their tables with
 * mm_blocks_init; mm_tables_fini unlinks them all (into g) and destroys. */
int mm_blocks_init(struct mm_tables *t);
void mm_blocks_unlink_all(struct mm_tables *t, struct mm_garbage *g);
struct mm_block *mm_tables_block(struct mm_tables *t, const char *name);
/* Create and publish a block; NULL when out of memory (or, a bug guard,
 * when another block holds the 5-tuple: the agent checks first). */
struct mm_block *mm_block_create(struct mm_tables *t, const char *name,
				 const struct mm_block_key *key, uint8_t family, uint64_t expires_ns);
void mm_block_set_expiry(struct mm_tables *t, struct mm_block *b, uint64_t expires_ns);
void mm_block_remove(struct mm_tables *t, struct mm_block *b, struct mm_garbage *g);
/* Remove every block whose expires_ns <= now_ns (nothing to do, O(1),
 * before blocks_next_expiry). Returns how many were removed. */
uint32_t mm_blocks_expire(struct mm_tables *t, uint64_t now_ns, struct mm_garbage *g);
/* Sum of a block's counters over the workers. */
struct mm_block_counter mm_block_dropped(const struct mm_block *b);

#endif
