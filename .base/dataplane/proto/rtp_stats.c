/* RFC 3550 receive statistics: A.1 sequence validation, A.3 cumulative
 * loss, A.8 interarrival jitter. See rtp_stats.h.
 *
 * Differences from the A.1 sample code, both so that a clean stream reads
 * lost == 0 and received == every packet it sent:
 *  - the MIN_SEQUENTIAL packets of probation are counted once the source is
 *    validated (base_seq is the first of them, received starts at
 *    MIN_SEQUENTIAL), where A.1 forgets all but the last;
 *  - likewise after a restart (a large jump confirmed by the next packet in
 *    sequence) both packets are counted, where A.1 counts the second only.
 * A zeroed struct rtp_stats is a source that sent nothing yet. */
#include "dataplane/proto/rtp_stats.h"

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000u
#define MAX_MISORDER 100u
#define MIN_SEQUENTIAL 2u

/* Count from seq on, crediting the `credit` packets in sequence that ended
 * at seq. When they started before a wrap, the count starts in cycle 1 so
 * that base_seq stays the extended number of the first one. */
static void start_count(struct rtp_stats *s, uint16_t seq, uint32_t credit)
{
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1u; /* never equal to a 16-bit seq */
	if ((uint32_t)seq + 1u >= credit) {
		s->cycles = 0;
		s->base_seq = (uint32_t)seq + 1u - credit;
	} else {
		s->cycles = RTP_SEQ_MOD;
		s->base_seq = (uint32_t)seq + RTP_SEQ_MOD + 1u - credit;
	}
	s->received = credit;
}

/* A.8: J += (|D| - J) / 16, kept as jitter_q4 = 16 * J. */
static void jitter_sample(struct rtp_stats *s, uint32_t transit)
{
	uint32_t d = transit - s->transit;
	s->transit = transit;
	if ((int32_t)d < 0)
		d = 0u - d;
	uint64_t j = (uint64_t)s->jitter_q4 + d - (((uint64_t)s->jitter_q4 + 8u) >> 4);
	s->jitter_q4 = j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

int rtp_stats_update(struct rtp_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t arrival)
{
	/* Relative transit time; its unknown offset cancels out in D. */
	uint32_t transit = arrival - rtp_ts;

	if (!s->initialized) {
		s->initialized = 1;
		s->max_seq = (uint16_t)(seq - 1u);
		s->probation = MIN_SEQUENTIAL;
		s->bad_seq = RTP_SEQ_MOD + 1u;
		s->cycles = 0;
		s->base_seq = seq;
		s->received = 0;
		s->transit = transit; /* first sample: no difference yet */
		s->jitter_q4 = 0;
	} else if (s->probation) {
		jitter_sample(s, transit);
	}

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1u)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				start_count(s, seq, MIN_SEQUENTIAL);
				return 1;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1u;
			s->max_seq = seq;
		}
		return 0;
	}

	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (udelta < MAX_DROPOUT) {
		/* In order, with a permissible gap. */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* A very large jump: not counted, and kept out of the jitter,
		 * until the next packet confirms it. */
		if (seq == s->bad_seq) {
			/* Two sequential packets: the source restarted, maybe
			 * with a new timestamp base, so the transit reference
			 * restarts too (the jitter so far is kept). */
			start_count(s, seq, 2u);
			s->transit = transit;
			return 1;
		}
		s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1u);
		return 0;
	}
	/* else: duplicate or reordered packet, counted as A.1 does. */
	s->received++;
	jitter_sample(s, transit);
	return 1;
}

uint32_t rtp_stats_ext_max(const struct rtp_stats *s)
{
	return s->cycles + s->max_seq;
}

int64_t rtp_stats_lost(const struct rtp_stats *s)
{
	if (s->received == 0)
		return 0;
	uint32_t expected = rtp_stats_ext_max(s) - s->base_seq + 1u;
	return (int64_t)expected - (int64_t)s->received;
}

uint32_t rtp_stats_jitter(const struct rtp_stats *s)
{
	/* Rounded (A.8 truncates with >> 4): a steady |D| of n then reads n
	 * rather than n - 1. */
	return (uint32_t)(((uint64_t)s->jitter_q4 + 8u) >> 4);
}
