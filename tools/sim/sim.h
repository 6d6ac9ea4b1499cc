/* Simulated participants for the test site (tools/mmsite): UDP sockets
 * opened inside the site's network namespaces, RTP and RTCP whose bytes
 * encode who sent them (optionally SRTP/SRTCP), receive-side bookkeeping
 * per (receiver, sender SSRC), and a client for mmdp's agent socket. Used by mmsim and by the
 * integration tests. Functions return 0 or a negative errno unless said
 * otherwise. Nothing here is thread-safe: one thread drives a set of
 * participants. */
#ifndef MM_SIM_H
#define MM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SSRC of mmdp's own RTCP (dataplane/core/engine_internal.h). */
#define SIM_MMDP_RTCP_SSRC 0x6d6d6470u
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "dataplane/core/agent_client.h"

#include "dataplane/core/srtp.h"

/* ---- Network namespaces ----------------------------------------------- */

/* Parse "198.18.1.1" or "2001:2::1:1" with a port into a sockaddr. */
int sim_sockaddr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		       socklen_t *len);
/* "198.18.1.1:5004" or "[2001:2::1:1]:5004". */
const char *sim_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t cap);

/* Create a non-blocking UDP socket bound to addr:port inside the network
 * namespace netns (a name under /run/netns; NULL or "" for the current
 * one). The calling thread enters the namespace only for socket() and
 * bind() and returns to its own; the socket stays in netns. rcvbuf/sndbuf
 * (bytes, 0 for the default) are forced with SO_RCVBUFFORCE when allowed.
 * On success *fd is the socket. */
int sim_udp_open(const char *netns, const char *addr, uint16_t port, int rcvbuf, int *fd);

/* fork() and exec argv[0] (a path) with argv inside netns; the child gets
 * SIGTERM when the caller dies, and its stdout/stderr go to log_path
 * (appended) when not NULL. *pid is the child, which runs the program
 * itself (no intermediate shell). */
int sim_spawn_in_netns(const char *netns, char *const argv[], const char *log_path, pid_t *pid);
/* SIGINT pid (mmdp and mmctld stop at once; SIGTERM would drain), wait up
 * to timeout_ms, then SIGKILL. *status gets the
 * wait status when not NULL. */
int sim_stop_process(pid_t pid, int timeout_ms, int *status);

/* ---- Packets ------------------------------------------------------------ */

/* Every RTP payload the simulator sends starts with this 12-byte tag and
 * continues with bytes derived from (ssrc, index), so a receiver can
 * check that what arrived is byte for byte what was sent. */
#define SIM_PAYLOAD_TAG_LEN 12
#define SIM_PAYLOAD_MAGIC 0x4d4d5331u /* "MMS1" */

void sim_payload_fill(uint8_t *buf, size_t len, uint32_t ssrc, uint32_t index);
/* 0 when buf is a whole simulator payload (tag and pattern intact), with
 * the sender's ssrc and the packet index; -EBADMSG otherwise. */
int sim_payload_check(const uint8_t *buf, size_t len, uint32_t *ssrc, uint32_t *index);

/* An RTP packet: index is the sender's packet counter for this SSRC. */
int sim_rtp_build(uint8_t *buf, size_t cap, uint32_t ssrc, uint8_t pt, uint16_t seq,
		  uint32_t ts, bool marker, uint32_t index, size_t payload_len);
/* The same with an RFC 6464 audio level (level_byte: V bit and level) in
 * the one-byte extension level_id (0: none, as sim_rtp_build). */
int sim_rtp_build_level(uint8_t *buf, size_t cap, uint32_t ssrc, uint8_t pt, uint16_t seq,
			uint32_t ts, bool marker, uint32_t index, size_t payload_len,
			uint8_t level_id, uint8_t level_byte);

/* An RTCP compound packet SR + SDES(CNAME) + APP("MMSI", ssrc, index),
 * every field a function of (ssrc, index), so a receiver can rebuild it
 * and compare. Returns the length or a negative error. */
int sim_rtcp_build(uint8_t *buf, size_t cap, uint32_t ssrc, uint32_t index);
/* Identify a received compound: 0 with ssrc/index when it carries our APP
 * packet, -EPROTO when it is not ours, other negatives when malformed. */
int sim_rtcp_identify(const uint8_t *buf, size_t len, uint32_t *ssrc, uint32_t *index);

/* ---- Participants -------------------------------------------------------- */

#define SIM_MAX_STREAMS 2
#define SIM_NAME_MAX 65

enum sim_kind { SIM_AUDIO = 0, SIM_VIDEO = 1 };

struct sim_stream {
	uint32_t ssrc;
	enum sim_kind kind;
	uint8_t pt;
	uint32_t clock_rate;
	size_t payload_len;
	uint16_t seq;           /* next sequence number */
	uint32_t ts;            /* next timestamp */
	uint32_t ts_step;       /* per packet */
	uint32_t sent;          /* packets sent = next index */
	uint64_t sent_bytes;
	/* Audio: an RFC 6464 level in the one-byte extension with this id
	 * (0: none), level_byte as on the wire (V bit, level 0..127). */
	uint8_t level_id;
	uint8_t level_byte;
};

/* What one receiver got from one sender SSRC. Indexes are the sender's
 * packet counters, read from the payload (RTP) or the APP packet (RTCP). */
struct sim_flow {
	uint32_t ssrc;              /* sender's SSRC (from the payload) */
	uint64_t rtp_packets;
	uint64_t rtp_dups;          /* index seen before */
	uint64_t rtp_seq_gaps;      /* header seq not previous + 1 */
	uint64_t rtp_ssrc_changed;  /* header SSRC differs from the sender's */
	uint16_t last_seq;
	bool have_seq;
	uint32_t max_index;         /* highest index + 1 */
	uint8_t *seen;              /* bitmap of RTP indexes */
	uint32_t seen_cap;          /* bits */
	uint64_t rtcp_packets;
	uint64_t rtcp_modified;     /* not byte-identical to what was sent */
	uint8_t *rtcp_seen;
	uint32_t rtcp_seen_cap;
	uint32_t checked_upto;      /* sim_flow_missing() cursor */
};

struct sim_participant_conf {
	const char *name;      /* endpoint name */
	const char *netns;     /* where the socket lives */
	const char *addr;      /* participant address */
	uint16_t port;         /* participant port */
	const char *server_addr; /* mmdp address of the endpoint */
	uint16_t server_port;
	const char *mac;       /* participant's MAC or NULL */
	uint32_t audio_ssrc;   /* 0: none */
	uint32_t video_ssrc;   /* 0: none */
	size_t audio_payload;  /* bytes, >= SIM_PAYLOAD_TAG_LEN; 0: 160 */
	size_t video_payload;  /* 0: 1100 */
	int rcvbuf;            /* 0: 4 MiB */
	/* SRTP (hop by hop, as mmdp does it): MM_SRTP_NONE (the default) is
	 * plain RTP/RTCP. Otherwise the participant protects what it sends
	 * with in_key (what mmdp unprotects with: endpoint.put's srtp.in_key)
	 * and unprotects what it receives with out_key. Each key is the master
	 * key || salt, mm_srtp_master_len(srtp) bytes; NULL: random
	 * (getrandom). */
	enum mm_srtp_profile srtp;
	const uint8_t *srtp_in_key;
	const uint8_t *srtp_out_key;
};

struct sim_participant {
	char name[SIM_NAME_MAX];
	char netns[64];
	char addr[64];
	uint16_t port;
	char server_addr[64];
	uint16_t server_port;
	char mac[18];
	int family;
	int fd;
	struct sockaddr_storage server;
	socklen_t server_len;
	size_t n_streams;
	struct sim_stream stream[SIM_MAX_STREAMS];
	uint32_t rtcp_sent;
	uint64_t send_errors;     /* sendto failed, or SRTP protect did */
	/* SRTP: profile NONE, or keys and sessions. srtp_tx (outbound, in_key)
	 * protects what is sent, srtp_rx (inbound, out_key, replay protection
	 * on) unprotects what arrives. */
	enum mm_srtp_profile srtp;
	struct mm_srtp_keys srtp_in_key;
	struct mm_srtp_keys srtp_out_key;
	struct mm_srtp *srtp_tx;
	struct mm_srtp *srtp_rx;
	/* receive side */
	uint64_t rx_datagrams;
	uint64_t rx_bytes;
	uint64_t rx_foreign;      /* not recognisably from the simulator */
	uint64_t rx_mmdp_rtcp;    /* RTCP of mmdp's own (receiver reports, PLI, NACK) */
	uint64_t rx_bad_payload;  /* RTP whose payload was damaged */
	uint64_t rx_wrong_source; /* not from server_addr:server_port */
	uint64_t rx_srtp_fail;    /* SRTP/SRTCP that failed to unprotect (dropped) */
	uint64_t rx_srtp_replay;  /* of which refused as replayed or too old */
	size_t n_flows;
	size_t cap_flows;
	struct sim_flow *flows;
};

int sim_participant_open(struct sim_participant *p, const struct sim_participant_conf *c);
void sim_participant_close(struct sim_participant *p);

/* Send the next RTP packet of stream s (index into p->stream), SRTP
 * when the participant has a profile. With SRTP a failed send still uses
 * up the sequence number (SRTP never protects a packet index twice under
 * one key): the retry goes with the next one, so a receiver sees a
 * sequence gap but no loss. */
int sim_send_rtp(struct sim_participant *p, size_t s);
/* Send an RTCP compound for the first stream (SRTCP with a profile). */
int sim_send_rtcp(struct sim_participant *p);
/* Send an arbitrary datagram to the server as is, never protected (for
 * bad-traffic tests). */
int sim_send_raw(struct sim_participant *p, const void *buf, size_t len);

/* Read everything queued on the socket (non-blocking). With SRTP, RTP and
 * RTCP are unprotected first and only what authenticates is checked;
 * the rest counts in rx_srtp_fail. Returns the number of datagrams read
 * or a negative error. */
int sim_receive(struct sim_participant *p);
/* Wait up to timeout_ms for any of the participants' sockets to become
 * readable, then drain all of them. Returns datagrams read. */
int sim_receive_all(struct sim_participant *const *ps, size_t n, int timeout_ms);

/* The flow of sender SSRC ssrc at receiver p, or NULL. */
const struct sim_flow *sim_flow_find(const struct sim_participant *p, uint32_t ssrc);
bool sim_flow_has(const struct sim_flow *f, uint32_t index);
bool sim_flow_has_rtcp(const struct sim_flow *f, uint32_t index);
/* Count indexes in [from, to) that did not arrive. */
uint32_t sim_flow_count_missing(const struct sim_flow *f, uint32_t from, uint32_t to);
/* Reset a participant's receive-side records (counters and flows). */
void sim_participant_reset_rx(struct sim_participant *p);

/* The endpoint.put request for p in room (without "op" when bare), with
 * its "srtp" object (profile and both keys, base64) when it has one. */
json_t *sim_endpoint_json(const struct sim_participant *p, const char *room, bool audio_muted,
			  bool video_muted, bool bare);

/* ---- Agent client -------------------------------------------------------- */

/* sim_agent_*: the shared agent-protocol client (dataplane/core/
 * agent_client.h) with the simulator's defaults (30 s per reply). */
int sim_agent_connect(struct mm_agent_client *a, const char *path);
/* Retry connecting until the socket accepts or timeout_ms passes; when
 * watch_pid > 0, give up early (-ECHILD) if that child exits. */
int sim_agent_wait(struct mm_agent_client *a, const char *path, int timeout_ms, pid_t watch_pid);
void sim_agent_close(struct mm_agent_client *a);
/* Send one line (a '\n' is appended) and read one reply line; *reply is
 * malloc'ed and NUL-terminated, without the '\n'. -EPIPE/-ECONNRESET when
 * the peer closed, -ETIMEDOUT when no reply came. */
int sim_agent_roundtrip(struct mm_agent_client *a, const char *line, size_t len, char **reply);
/* Send a JSON object, return the parsed reply (new reference). */
int sim_agent_call(struct mm_agent_client *a, json_t *req, json_t **reply);
/* Same, building the request with json_pack's format. */
int sim_agent_callf(struct mm_agent_client *a, json_t **reply, const char *fmt, ...);

/* Helpers over replies. */
bool sim_reply_ok(const json_t *reply);
/* The error code of a failed reply, or "" */
const char *sim_reply_code(const json_t *reply);
/* A counter from a stats.get reply: drops.<reason> (total), or -1. */
long long sim_stats_drop(const json_t *stats, const char *reason);
/* The room object of a stats.get reply, or NULL. */
const json_t *sim_stats_room(const json_t *stats, const char *room);
const json_t *sim_stats_endpoint(const json_t *stats, const char *room, const char *endpoint);
long long sim_json_int(const json_t *obj, const char *key);

/* ---- The site --------------------------------------------------------- */

#define SIM_SITE_MAX_HOSTS 250

struct sim_site_host {
	char ns[64];
	char ip4[64];
	char ip6[64];
	char mac[18];
};

struct sim_site {
	char dp_ns[64];
	char dp_if[32];
	char dp_mac[18];
	char dp_ip4[64];
	char dp_ip6[64];
	char gw_mac[18];
	int hosts;
	struct sim_site_host host[SIM_SITE_MAX_HOSTS + 1]; /* 1-based */
};

/* Read the MMSITE_* variables that "mmsite env" prints. -ENOENT with a
 * message in err when the environment lacks them. */
int sim_site_from_env(struct sim_site *s, char *err, size_t errlen);

/* Have every host resolve mmdp's IPv4 and IPv6 addresses (ARP, ND) now,
 * before media flows; call once mmdp is up. */
int sim_site_resolve(const struct sim_site *s);

/* Monotonic clock. */
uint64_t sim_now_ns(void);
void sim_sleep_ms(int ms);

#endif
