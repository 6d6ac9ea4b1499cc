/* The receive-side checks: per (receiver, sender stream) sequence
 * accounting over the payload's packet index (loss, duplicates,
 * reordering) with a sliding window of LD_WINDOW indexes, RFC 3550
 * interarrival jitter, and who should not have got a packet. */
#include "tools/load/load.h"

#include <stdlib.h>
#include <string.h>

static bool win_get(const struct ld_flow *f, uint32_t i)
{
	return f->win[(i % LD_WINDOW) / 64] >> (i % 64) & 1;
}

static void win_set(struct ld_flow *f, uint32_t i)
{
	f->win[(i % LD_WINDOW) / 64] |= 1ull << (i % 64);
}

static void win_clear(struct ld_flow *f, uint32_t i)
{
	f->win[(i % LD_WINDOW) / 64] &= ~(1ull << (i % 64));
}

enum ld_seq ld_flow_seq(struct ld_flow *f, uint32_t index, uint16_t rtp_seq, bool *seq_ok)
{
	*seq_ok = true;
	if (f->next == 0 || index >= f->next) {
		enum ld_seq r = LD_SEQ_NEXT;
		if (f->next != 0 && index > f->next) {
			r = LD_SEQ_GAP;
			/* Forget what the window held where the new indexes go. */
			if (index - f->next >= LD_WINDOW)
				memset(f->win, 0, sizeof(f->win));
			else
				for (uint32_t i = f->next; i < index; i++)
					win_clear(f, i);
		} else if (f->next != 0) {
			*seq_ok = rtp_seq == (uint16_t)(f->last_seq + 1);
		} else {
			memset(f->win, 0, sizeof(f->win));
		}
		win_set(f, index);
		f->next = index + 1;
		f->last_seq = rtp_seq;
		return r;
	}
	if (f->next - index > LD_WINDOW) {
		f->reordered++;
		return LD_SEQ_OLD;
	}
	if (win_get(f, index)) {
		f->dups++;
		return LD_SEQ_DUP;
	}
	win_set(f, index);
	f->reordered++;
	return LD_SEQ_LATE;
}

void ld_flow_jitter(struct ld_flow *f, uint32_t arrival, uint32_t rtp_ts)
{
	int32_t transit = (int32_t)(arrival - rtp_ts);
	if (f->have_transit) {
		int32_t d = transit - f->transit;
		uint32_t ad = d < 0 ? (uint32_t)-(int64_t)d : (uint32_t)d;
		/* J += (|D| - J) / 16, with J kept times 16 (RFC 3550 A.8). */
		f->jitter += ad - ((f->jitter + 8) >> 4);
	}
	f->transit = transit;
	f->have_transit = 1;
}

uint32_t ld_ns_to_ts(uint64_t ns, uint32_t clock_rate)
{
	return (uint32_t)((unsigned __int128)ns * clock_rate / 1000000000u);
}

const char *ld_mis_name(enum ld_mis m)
{
	static const char *const names[LD_MIS__COUNT] = {"none", "other_room", "self", "muted",
							 "unknown_stream", "not_sender"};
	return (unsigned)m < LD_MIS__COUNT ? names[m] : "?";
}

enum ld_mis ld_classify(const struct ld_scenario *sc, uint32_t receiver, const struct ld_tag *t)
{
	if (t->stream >= sc->n_streams || t->phase >= LD_PHASES)
		return LD_MIS_UNKNOWN;
	const struct ld_stream *s = &sc->streams[t->stream];
	if (sc->conf.reflect) {
		if (s->part != receiver)
			return LD_MIS_NOT_SENDER;
		return t->phase == LD_PHASE_MUTED ? LD_MIS_MUTED : LD_MIS_NONE;
	}
	if (s->part == receiver)
		return LD_MIS_SELF;
	if (s->room != ld_part_room(sc, receiver))
		return LD_MIS_OTHER_ROOM;
	if (t->phase == LD_PHASE_MUTED)
		return LD_MIS_MUTED;
	return LD_MIS_NONE;
}
