/* mmload's pure parts: the scenario (rooms, participants, streams), the
 * packet generator, the payload tag, the receive-side checker, the latency
 * histogram and the send schedule. No sockets, no threads, no allocation
 * per packet: unit tests (tests/unit/test_load_*.c) call them directly.
 *
 * Every audio payload mmload sends starts with a 24-byte tag (struct
 * ld_tag): who sent it (stream id), its packet index in that stream, the
 * send time (CLOCK_MONOTONIC ns) and a checksum over the whole payload; the
 * rest is a fixed fill pattern. Video and screen payloads are VP8-shaped
 * (RFC 7741): an 11-byte prefix (payload descriptor, then the VP8 frame
 * tag and keyframe header on a frame's first packet, filler otherwise),
 * then the tag; the checksum covers the prefix too. A receiver checks
 * every byte after SRTP unprotect. */
#ifndef MM_LOAD_H
#define MM_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/core/srtp.h"
#include "dataplane/proto/rtp.h"

/* ---- Scenario ------------------------------------------------------------ */

enum ld_kind { LD_AUDIO = 0, LD_VIDEO = 1, LD_SCREEN = 2, LD_KINDS };

#define LD_AUDIO_PT 111
#define LD_VIDEO_PT 96
#define LD_SCREEN_PT 97
#define LD_AUDIO_RATE 48000u
#define LD_VIDEO_RATE 90000u
#define LD_PTIME_NS 20000000ull  /* one Opus frame */
#define LD_AUDIO_TS_STEP 960u    /* 20 ms at 48 kHz */
#define LD_DTX_EVERY 20u         /* DTX: one comfort-noise packet per 20 frames (400 ms) */
#define LD_TALK_MIN 60u          /* talking: Opus payload 60..120 bytes */
#define LD_TALK_MAX 120u
#define LD_CN_MIN 24u            /* silence: comfort noise 24..32 bytes (tag only) */
#define LD_CN_MAX 32u
#define LD_VIDEO_PAYLOAD 1200u   /* a video frame is cut in packets of at most this */
#define LD_MAX_FRAME_PKTS 512u   /* a frame of at most 600 KB */
#define LD_MIN_FRAME 64u         /* smallest video frame, bytes */
#define LD_LAYERS 3              /* simulcast: 1/4, 1/2 and full bitrate */
#define LD_MAX_PART_STREAMS (1 + LD_LAYERS + 1)
/* Longest RTP packet the generator writes: header, audio-level extension,
 * payload; plus the SRTP trailer. */
#define LD_RTP_MAX (RTP_HEADER_MIN + 8 + LD_VIDEO_PAYLOAD)
#define LD_PKT_BUF 1280

struct ld_conf {
	int rooms, participants;   /* participants per room */
	bool video, simulcast, screen, dtx;
	int fps, video_kbps;       /* camera (the full simulcast layer) */
	int screen_fps, screen_kbps;
	double keyframe_interval;  /* seconds between keyframes */
	int keyframe_factor;       /* keyframe bytes / delta frame bytes */
	int speakers;              /* talking at once in each room */
	double turn;               /* seconds a speaker keeps the floor */
	int audio_level_id;        /* RFC 8285 one-byte id of RFC 6464, 1..14 */
	uint32_t seed;             /* SSRC and phase salt */
	/* mmload --reflect: no meeting; the forwarder (e.g. dpdk-testpmd
	 * 5tswap) returns every packet to its sender, so each stream is
	 * expected once, at its own sender, and --participants may be 1. */
	bool reflect;
	/* Issue 7, the SFU (docs/agent-protocol.md "Meetings of 100"); -1 (0
	 * for rtx_pt): not asked for, mmdp's defaults and no field sent. */
	int last_n;                /* room.put last_n; audio streams declare audio_level_id */
	int video_last_n;          /* room.put video_last_n */
	int max_layer;             /* every endpoint's max_layer */
	int rtx_pt;                /* every endpoint's rtx_pt: receivers expect RTX */
	bool nack;                 /* receivers send generic NACKs for gaps */
	double settle;             /* seconds after a turn starts before audio of a non-speaker counts */
	bool no_sfu;               /* the forwarder is no SFU (--rtpengine): every layer to everyone */
};

/* Defaults for every field (2 rooms x 4 participants, audio only). */
void ld_conf_defaults(struct ld_conf *c);
/* 0, or -EINVAL with a message in err. */
int ld_conf_check(const struct ld_conf *c, char *err, size_t errlen);
/* Whether the forwarder is asked to act as an SFU (any of last-N, video
 * last-N, simulcast, max layer, NACK, RTX): receivers then get a subset of
 * the streams, rewritten, and the SFU checker (struct ld_view) counts
 * loss from the sequence numbers they see. */
static inline bool ld_conf_sfu(const struct ld_conf *c)
{
	return !c->reflect && !c->no_sfu && (c->last_n >= 0 || c->video_last_n >= 0 || c->simulcast ||
			       c->max_layer >= 0 || c->nack || c->rtx_pt > 0);
}

struct ld_stream {
	uint32_t id;         /* index in ld_scenario.streams */
	uint32_t ssrc;
	uint32_t part;       /* publishing participant (global index) */
	uint32_t room;
	uint32_t room_slot;  /* index among the streams of its room */
	uint8_t kind;        /* enum ld_kind */
	uint8_t layer;       /* simulcast layer 0 (lowest) .. 2; 0 otherwise */
	uint8_t pt;
	uint32_t clock_rate;
	uint32_t kbps, fps;  /* video and screen */
	uint32_t gop;        /* frames from a keyframe to the next */
	uint32_t key_bytes, delta_bytes;
	uint32_t phase;      /* video: keyframes are the frames n with (n + phase) % gop == 0 */
	uint16_t seq0;
	uint32_t ts0;
	uint16_t width, height; /* video and screen: what the VP8 keyframe header says */
	uint32_t rtx_ssrc;   /* video and screen: its RFC 4588 retransmission SSRC; 0 for audio */
};

struct ld_scenario {
	struct ld_conf conf;
	uint32_t n_parts, n_streams;
	uint32_t parts_per_room, streams_per_room; /* every room is alike */
	struct ld_stream *streams;  /* a participant's streams are contiguous */
	uint32_t *part_first;       /* [n_parts + 1]: first stream of each */
};

int ld_scenario_build(struct ld_scenario *sc, const struct ld_conf *c);
/* A 32-bit hash of two words: every "random" size and level comes from it. */
uint32_t ld_mix(uint32_t a, uint32_t b);
void ld_scenario_free(struct ld_scenario *sc);
const char *ld_kind_name(enum ld_kind k);

static inline uint32_t ld_part_room(const struct ld_scenario *sc, uint32_t p)
{
	return p / sc->parts_per_room;
}

/* Copies mmdp makes of each packet: everyone else in the room (reflect:
 * one, back to its sender). */
static inline uint32_t ld_copies(const struct ld_scenario *sc)
{
	return sc->conf.reflect ? 1 : sc->parts_per_room - 1;
}

/* The talk model: time is cut in turns of conf.turn seconds; in turn n the
 * speakers of room r are the `speakers` participants from slot (n + r) mod
 * P on, so the floor moves round the room and rooms are out of step. tick
 * counts 20 ms audio frames since the start. */
bool ld_talking(const struct ld_conf *c, uint32_t room, uint32_t slot, uint32_t tick);
/* RFC 6464 level (0 = 0 dBov, loudest; 127 = silence) of frame tick:
 * 25..45 while talking (a syllable envelope), 90..127 in silence. */
uint8_t ld_audio_level(uint32_t ssrc, uint32_t tick, bool talking);
/* Opus payload bytes of frame tick. */
uint32_t ld_audio_bytes(uint32_t ssrc, uint32_t tick, bool talking);

/* Video: bytes of frame n (every gop-th from s->phase a keyframe, *key
 * set), packets it needs and the payload of its packet k. */
uint32_t ld_frame_bytes(const struct ld_stream *s, uint32_t frame, bool *key);
uint32_t ld_frame_packets(uint32_t frame_bytes);
uint32_t ld_frame_packet_bytes(uint32_t frame_bytes, uint32_t npkts, uint32_t k);

/* ---- Payload tag ------------------------------------------------------------ */

#define LD_TAG_LEN 24
/* Video and screen: the tag follows a VP8 prefix of this many bytes (the
 * 1-byte RFC 7741 descriptor and 10 bytes: the 3-byte frame tag, 3-byte
 * start code and 4 bytes of size of a keyframe's first packet). */
#define LD_VP8_PREFIX 11
#define LD_TAG_MAGIC 0x4d4cu /* "ML" */

/* Phases of a stream, carried in each packet: mute and unmute change them
 * (see control in tools/load/run.h). */
enum ld_phase {
	LD_PHASE_EXPECTED = 0,  /* every receiver must get it */
	LD_PHASE_UNCERTAIN = 1, /* sent while a mute or unmute was under way */
	LD_PHASE_MUTED = 2,     /* nobody may get it */
	LD_PHASES
};

struct ld_tag {
	uint8_t phase;
	uint8_t flags;     /* LD_TAG_KEY for packets of keyframes */
	uint32_t stream;
	uint32_t index;    /* packet counter of the stream, from 0 */
	uint64_t send_ns;  /* CLOCK_MONOTONIC */
};
#define LD_TAG_KEY 0x01

/* Copy the fill pattern into payload[from, len) (len <= LD_VIDEO_PAYLOAD). */
void ld_payload_fill(uint8_t *payload, size_t from, size_t len);
/* Write the tag into payload[0..24) and the checksum over payload[0, len). */
void ld_tag_write(uint8_t *payload, size_t len, const struct ld_tag *t);
/* The same with the tag at payload + off (off 0 or LD_VP8_PREFIX): the
 * checksum covers payload[0, off) too. */
void ld_tag_write_at(uint8_t *payload, size_t len, size_t off, const struct ld_tag *t);
/* 0 with *t; -EPROTO when the payload is not mmload's (short, no magic at
 * 0 nor after a VP8 prefix); -EBADMSG when the checksum does not match
 * (damaged). */
int ld_tag_read(const uint8_t *payload, size_t len, struct ld_tag *t);
/* The checksum: 64-bit words weighted by position, bytes 12..15 (the
 * checksum's own field) taken as zero, folded to 32 bits. */
uint32_t ld_payload_sum(const uint8_t *p, size_t len);

/* ---- VP8 (RFC 7741 payload descriptor, RFC 6386 frame tag) ------------------------ */

struct ld_vp8 {
	bool start;          /* S=1 and PID 0: the first packet of a frame */
	bool key;            /* start and the frame tag's P bit 0: a keyframe */
	uint16_t width, height; /* keyframes: 14 bits each */
	size_t hdr_len;      /* bytes of the payload descriptor */
};

/* Write LD_VP8_PREFIX bytes at p: descriptor (S on a frame's first
 * packet, PID 0), then on a first packet the frame tag (P = !key, shown,
 * first partition size from frame_bytes) and for a keyframe the start
 * code 0x9d 0x01 0x2a and width, height; filler otherwise. */
void ld_vp8_write(uint8_t *p, bool first, bool key, uint32_t frame_bytes, uint16_t width,
		  uint16_t height);
/* Read a VP8 payload's descriptor and, on a frame's first packet, its
 * frame tag (and keyframe header): 0, -ENODATA when truncated, -EBADMSG
 * when a keyframe has no start code. */
int ld_vp8_parse(const uint8_t *payload, size_t len, struct ld_vp8 *out);

/* ---- Generator ---------------------------------------------------------------- */

/* A stream's send state. */
struct ld_gen {
	uint64_t next_ns;    /* when its next event (audio frame, video frame) is due */
	uint64_t period_ns;
	uint32_t event;      /* events so far (tick or frame number) */
	uint32_t index;      /* next packet's index */
	uint16_t seq;
	bool talking;        /* audio: the previous frame was speech */
};

/* What one event sends. */
struct ld_event {
	uint32_t npkts;      /* 0: a DTX gap */
	uint32_t bytes;      /* payload bytes of the whole event */
	uint32_t ts;
	bool key;            /* video keyframe */
	bool talking;        /* audio */
	bool marker_first;   /* audio: first packet of a talk spurt (or of the stream) */
	uint8_t level;       /* audio: RFC 6464 level */
};

void ld_gen_init(const struct ld_stream *s, struct ld_gen *g, uint64_t start_ns);
void ld_gen_plan(const struct ld_scenario *sc, const struct ld_stream *s, const struct ld_gen *g,
		 struct ld_event *ev);
/* Write packet k of ev (plain RTP) into buf (cap >= LD_RTP_MAX): uses up
 * one sequence number and index. Returns its length or -EINVAL. */
int ld_gen_packet(const struct ld_scenario *sc, const struct ld_stream *s, struct ld_gen *g,
		  const struct ld_event *ev, uint32_t k, uint8_t phase, uint64_t send_ns,
		  uint8_t *buf, size_t cap);
/* Move to the next event. */
void ld_gen_advance(const struct ld_stream *s, struct ld_gen *g, const struct ld_event *ev);

/* ---- Checker ---------------------------------------------------------------- */

#define LD_WINDOW 256 /* indexes behind the highest one a flow tells dups from late packets */

/* What one receiver got from one sender stream (64 bytes). */
struct ld_flow {
	uint64_t win[LD_WINDOW / 64]; /* bit i % LD_WINDOW: index i arrived (i >= next - LD_WINDOW) */
	uint32_t next;         /* highest index seen + 1; 0 before the first */
	uint32_t rx;           /* unique, expected, sent in the measured window */
	uint32_t rx_uncertain; /* sent during a mute transition */
	uint32_t dups;
	uint32_t reordered;    /* arrived after a higher index */
	uint32_t jitter;       /* RFC 3550 J, in 1/16 timestamp units */
	int32_t transit;       /* previous arrival - RTP timestamp, timestamp units */
	uint16_t last_seq;     /* RTP header sequence number of index next - 1 */
	uint8_t have_transit;
	uint8_t pad;
};

enum ld_seq {
	LD_SEQ_NEXT,   /* the next index (or the first) */
	LD_SEQ_GAP,    /* past a gap: some indexes skipped (lost, muted or still to come) */
	LD_SEQ_LATE,   /* fills a gap: reordered */
	LD_SEQ_OLD,    /* older than the window: reordered, cannot tell a duplicate */
	LD_SEQ_DUP,
};

/* Account index in f (updates next, win, dups, reordered). rtp_seq is the
 * header's sequence number: *seq_ok is false when index follows the
 * previous one directly but rtp_seq does not (mmdp's rewriting). */
enum ld_seq ld_flow_seq(struct ld_flow *f, uint32_t index, uint16_t rtp_seq, bool *seq_ok);
/* RFC 3550 A.8: arrival and rtp_ts in timestamp units. */
void ld_flow_jitter(struct ld_flow *f, uint32_t arrival, uint32_t rtp_ts);
/* ns (any epoch) to timestamp units of clock_rate, modulo 2^32. */
uint32_t ld_ns_to_ts(uint64_t ns, uint32_t clock_rate);

/* Who should not have got a packet. */
enum ld_mis {
	LD_MIS_NONE = 0,
	LD_MIS_OTHER_ROOM, /* from a stream of another room */
	LD_MIS_SELF,       /* its own stream came back */
	LD_MIS_MUTED,      /* sent after its mute was acknowledged */
	LD_MIS_UNKNOWN,    /* a stream id mmload never had */
	LD_MIS_NOT_SENDER, /* reflect: a stream arrived at someone other than its sender */
	LD_MIS__COUNT
};
const char *ld_mis_name(enum ld_mis m);
/* With sc->conf.reflect a receiver must get its own streams only (any
 * other stream: LD_MIS_NOT_SENDER); otherwise those of the others in
 * its room. */
enum ld_mis ld_classify(const struct ld_scenario *sc, uint32_t receiver, const struct ld_tag *t);

/* ---- SFU checker (tools/load/sfu.c) ------------------------------------------------
 * With an SFU (ld_conf_sfu) a receiver gets a subset of the streams and
 * each video group as one rewritten stream, so loss is counted per
 * (receiver, view) from the RTP sequence numbers it sees, extended to 32
 * bits: a view is what one received SSRC carries (an audio stream, a
 * camera group under its layer 0's SSRC, a screen share). A view also
 * checks simulcast layer switches and keeps the gaps to NACK. */

#define LD_VIEW_WIN 512        /* extended sequence numbers a view remembers */
#define LD_VIEW_MISS 32        /* missing packets a view follows (NACK, repair) */
#define LD_GIVE_UP_NS 1000000000ull /* a gap not filled by then is lost after repair */
#define LD_NACK_TRIES 3        /* a missing packet is asked for at most this often */
#define LD_INTERLEAVE_SPAN 64  /* a switch back within this many seq numbers: interleaving */

struct ld_miss {
	uint32_t ext;       /* extended sequence number */
	uint32_t first_us;  /* when it was found missing (ns / 1000, modulo 2^32) */
	uint32_t asked_us;  /* last NACK */
	uint32_t tries;     /* NACKs sent for it */
};

struct ld_view {
	uint64_t got[LD_VIEW_WIN / 64];   /* bit ext % WIN: arrived (ext > max_ext - WIN) */
	uint64_t asked[LD_VIEW_WIN / 64]; /* bit ext % WIN: NACKed */
	uint32_t max_ext;      /* highest extended seq seen */
	uint32_t meas_lo, meas_hi; /* extended seqs of packets sent in the measured window */
	uint32_t rx_meas;      /* unique arrivals sent in the measured window */
	uint32_t reordered;    /* late, not after a NACK */
	uint32_t repaired;     /* filled after a NACK (RTX or a plain retransmission) */
	uint32_t retrans_dups; /* a retransmission of what had arrived: neither dup nor loss */
	uint32_t dups;         /* the same sequence number twice, not retransmitted */
	uint32_t lost_before_repair, lost_after_repair, nacked;
	uint32_t rtt_us;       /* NACK to repair, smoothed; 0: none seen yet */
	/* Simulcast (video groups): layer of the stream in use, the switch to it. */
	uint32_t switch_ext, prev_switch_ext;
	uint32_t switches, not_at_key, gap_at_switch, interleaved;
	uint32_t sgap_lo, sgap_hi; /* seqs missing just before the last switch */
	int8_t layer, prev_layer;  /* -1: none yet */
	uint8_t started, have_meas, sgap_open, sgap_key_bad;
	uint8_t n_miss;
	struct ld_miss miss[LD_VIEW_MISS];
};

/* One received packet, as the view sees it. */
struct ld_vpkt {
	uint16_t seq;        /* the receiver's sequence number (RTX: its OSN) */
	bool retrans;        /* came as RTX */
	bool group;          /* a video group: check layers */
	int layer;           /* of the stream the tag names */
	bool key_start;      /* the first packet of a keyframe (VP8) */
	bool measured;       /* sent in the measured window */
	uint64_t now_ns;     /* arrival */
};

enum ld_vseq {
	LD_V_NEXT,     /* the next seq (or the first) */
	LD_V_GAP,      /* past a gap (missing seqs now followed) */
	LD_V_LATE,     /* fills a gap nobody asked for: reordered */
	LD_V_REPAIRED, /* fills a gap after a NACK */
	LD_V_OLD,      /* older than the window */
	LD_V_DUP,      /* a seq that had arrived */
	LD_V_RETRANS_DUP, /* the same, retransmitted after a NACK */
};

void ld_view_init(struct ld_view *v);
enum ld_vseq ld_view_rx(struct ld_view *v, const struct ld_vpkt *p);
/* After a NACK was asked of ext's packet and it arrived already: whether
 * the view asked for (ext of) seq, e.g. for an SRTP replay. */
bool ld_view_was_asked(const struct ld_view *v, uint16_t seq);
/* Give up the gaps older than LD_GIVE_UP_NS (lost after repair) and, with
 * nack, put in seqs (increasing) what is due a NACK at now_ns: found
 * missing and not asked yet, or asked fewer than LD_NACK_TRIES times and
 * not repaired within twice the observed repair time. Returns how many. */
int ld_view_nack_due(struct ld_view *v, uint64_t now_ns, bool nack, uint16_t *seqs, int cap);
/* A receiver's compound RTCP asking for seqs (increasing, 1..LD_NACK_MAX)
 * of media_ssrc: an RR of own_ssrc with no report block, then a generic
 * NACK (RFC 4585) packing them as PID/BLP. Its length, or -EINVAL / -E2BIG. */
#define LD_NACK_MAX 64
int ld_nack_build(uint8_t *buf, size_t cap, uint32_t own_ssrc, uint32_t media_ssrc,
		  const uint16_t *seqs, int n);
/* Expected (span of seqs sent in the measured window) and lost. */
void ld_view_loss(const struct ld_view *v, uint64_t *expected, uint64_t *lost);

/* The talk model by time: turn of the instant since_t0_ns after the start
 * of sending, and how far into it (ns). */
uint32_t ld_turn_of(const struct ld_conf *c, uint64_t since_t0_ns, uint64_t *into_ns);
uint64_t ld_turn_ns(const struct ld_conf *c);
bool ld_turn_speaker(const struct ld_conf *c, uint32_t room, uint32_t slot, uint32_t turn);

/* What a receiver heard: the sources (room slots) of audio and video it
 * got after the settle time of the last two turns. */
#define LD_MAX_SLOTS 128
struct ld_ears {
	uint32_t turn[2];
	uint64_t audio[2][LD_MAX_SLOTS / 64];
	uint64_t video[2][LD_MAX_SLOTS / 64];
	uint8_t have[2];
};
/* Account audio (or video) from slot sent since_t0_ns after the start at
 * receiver (room, self). Returns true for unexpected audio: from a
 * non-speaker of its turn, later than conf.settle into the turn. */
bool ld_ears_rx(struct ld_ears *e, const struct ld_conf *c, uint32_t room, uint32_t slot,
		bool audio, uint64_t since_t0_ns);
/* Sources heard in turn (audio or video); -1 when the ears hold no such turn. */
int ld_ears_count(const struct ld_ears *e, uint32_t turn, bool audio);
/* Whether the audio heard in turn is exactly its speakers other than self. */
bool ld_ears_exact(const struct ld_ears *e, const struct ld_conf *c, uint32_t room, uint32_t self,
		   uint32_t turn);

/* ---- Latency histogram ------------------------------------------------------- */

/* Log-linear: 2^LD_HIST_SUB buckets per power of two (relative error below
 * 1/64), exact below 128 ns, values up to 2^40 ns (18 minutes). */
#define LD_HIST_SUB 6
#define LD_HIST_BITS 40
#define LD_HIST_BUCKETS ((LD_HIST_BITS - LD_HIST_SUB + 1) << LD_HIST_SUB)

struct ld_hist {
	uint64_t count, sum, min, max;
	uint64_t b[LD_HIST_BUCKETS];
};

void ld_hist_reset(struct ld_hist *h);
/* Single writer; others may read concurrently with ld_hist_merge. */
void ld_hist_add(struct ld_hist *h, uint64_t v);
void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src);
uint32_t ld_hist_index(uint64_t v);
uint64_t ld_hist_low(uint32_t idx);  /* smallest value of bucket idx */
uint64_t ld_hist_high(uint32_t idx); /* largest */
/* q-th percentile (0 < q <= 100): the highest value of the bucket that
 * holds the ceil(q% * count)-th smallest value, at most max; 0 when empty. */
uint64_t ld_hist_percentile(const struct ld_hist *h, double q);

/* Counters written by one thread and read by others (progress): relaxed
 * atomics, plain moves on x86. */
static inline void ld_ctr_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}
static inline uint64_t ld_ctr_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ---- Schedule ----------------------------------------------------------------- */

/* A min-heap of (time, stream id). */
struct ld_sched_item {
	uint64_t at;
	uint32_t id;
};
struct ld_sched {
	struct ld_sched_item *h;
	uint32_t n, cap;
};

int ld_sched_init(struct ld_sched *s, uint32_t cap);
void ld_sched_free(struct ld_sched *s);
int ld_sched_push(struct ld_sched *s, uint64_t at, uint32_t id);
/* The earliest item, without removing it; false when empty. */
bool ld_sched_top(const struct ld_sched *s, struct ld_sched_item *out);
/* Replace the earliest item's time (pop and push in one). */
void ld_sched_retime(struct ld_sched *s, uint64_t at);
void ld_sched_pop(struct ld_sched *s);

#endif
