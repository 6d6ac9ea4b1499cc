/* Per-stream receive statistics of RFC 3550: sequence tracking with
 * cycles and probation (A.1), cumulative loss (A.3) and interarrival
 * jitter (A.8). One writer; plain integers, no allocation. */
#ifndef MM_RTP_STATS_H
#define MM_RTP_STATS_H

#include <stdint.h>

struct rtp_stats {
	uint16_t max_seq;
	uint32_t cycles;       /* shifted count of seq wraps (<< 16) */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint64_t received;     /* packets counted in sequence */
	uint32_t transit;      /* last relative transit time */
	uint32_t jitter_q4;    /* jitter * 16, RFC 3550 A.8 */
	uint8_t initialized;
};

/* Count one packet with sequence number seq, RTP timestamp rtp_ts, that
 * arrived at arrival (same clock rate as rtp_ts). Returns 1 when the packet
 * was counted, 0 when it was not (in probation, or a large jump waiting for
 * confirmation, RFC 3550 A.1). */
int rtp_stats_update(struct rtp_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t arrival);

/* Extended highest sequence number received. */
uint32_t rtp_stats_ext_max(const struct rtp_stats *s);
/* Cumulative packets lost (expected - received), may be negative (dups). */
int64_t rtp_stats_lost(const struct rtp_stats *s);
/* Interarrival jitter in timestamp units. */
uint32_t rtp_stats_jitter(const struct rtp_stats *s);

#endif
