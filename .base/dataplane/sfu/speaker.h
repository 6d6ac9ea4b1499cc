/* Dominant speaker and last-N audio selection for one room, from the
 * RFC 6464 audio level of every audio packet.
 *
 * Each member slot keeps two scores, exponential averages of (127 - level)
 * while the voice-activity bit is set (0 otherwise), decayed by elapsed
 * time, not by packet count: a short one (speech now, a few hundred ms)
 * ranks the last-N set, a long one (activity over seconds) elects the
 * dominant speaker. A slot that sends nothing decays to silence. Decisions
 * (who replaces whom) are taken at most every MM_SPEAKER_TICK_MS per room,
 * inside mm_speaker_update; between them an update is O(1).
 *
 * - Last-N: while the set has free places a slot enters at its first packet
 *   with voice; when full, a non-member replaces the weakest member only
 *   after being louder than it by a margin for ~400 ms of its own speech.
 *   Members that fall silent stay until replaced. With last_n 0 every slot
 *   is selected (those that speak still join the set, for the order below).
 * - Dominant: a challenger takes over only after its long score exceeded
 *   the dominant's by a margin for ~1 s of its own speech. The dominant is
 *   always in the set, and is the last member to be evicted.
 * - Order (for video last-N): the known slots by speech recency. A slot
 *   moves to the front when it enters the set or becomes dominant; members
 *   stay ahead of non-members; slots that never spoke follow in the order
 *   they became known (first packet, or mm_speaker_join).
 *
 * One thread (the room's worker) owns the state and calls everything but
 * mm_speaker_dominant, mm_speaker_changes and mm_speaker_selected_slots,
 * which any thread may call (relaxed atomics, the set behind a sequence
 * lock). Fixed size, no heap: embed it in the room. Deterministic given
 * the inputs. */
#ifndef MM_SPEAKER_H
/* A level (-dBov, RFC 6464) this loud counts as speech even when the
 * sender leaves the V bit at 0, as senders without voice activity
 * detection do (aiortc): quieter than -50 dBov is room noise. */
#define MM_SPEAKER_LOUD_LEVEL 50
#define MM_SPEAKER_H

#include <stdbool.h>
#include <stdint.h>

#define MM_SPEAKER_SLOTS 100         /* member slots of a room, 0..99 */
#define MM_SPEAKER_NO_RANK UINT32_MAX /* mm_speaker_rank of an unknown slot */
#define MM_SPEAKER_TICK_MS 100        /* at most one decision per room per tick */

/* Per slot. Scores are Q16 fixed point of 0..127, as of last_ms. */
struct mm_speaker_slot {
	uint64_t last_ms;      /* time of the slot's last packet */
	uint32_t short_q16;    /* speech now: half-life a few hundred ms */
	uint32_t long_q16;     /* activity: half-life about a second */
	uint16_t voiced_ms;    /* speech since the last decision */
	uint16_t enter_ms;     /* speech while louder than the weakest member */
	uint16_t lead_ms;      /* speech while ahead of the dominant */
	uint8_t known;         /* in the order (sent a packet, or joined) */
	uint8_t heard;         /* sent a packet: last_ms is valid */
	uint8_t spoke;         /* ever had voice activity */
	uint8_t member;        /* in the last-N set */
};

struct mm_speaker_room {
	struct mm_speaker_slot slot[MM_SPEAKER_SLOTS];
	uint64_t now_ms;       /* latest time seen: earlier times are ignored */
	uint64_t tick_ms;      /* time of the last decision */
	uint32_t last_n;       /* as configured, 0: everyone is selected */
	uint32_t cap;          /* places in the set: last_n, or all with 0 */
	uint32_t n_members;
	uint32_t n_known;
	uint8_t order[MM_SPEAKER_SLOTS]; /* [0, n_known): slots, front first */
	uint8_t pos[MM_SPEAKER_SLOTS];   /* slot -> index in order, 0xFF unknown */
	/* Read by other threads (relaxed atomics), written only at changes:
	 * kept off the lines the per-packet path writes. */
	uint8_t pad_[64];
	int32_t dominant;      /* slot, -1 none */
	uint32_t changes;      /* dominant-speaker changes */
	uint32_t set_seq;      /* sequence lock of sel: odd while it changes,
				* +2 per change (tells a poller the set changed) */
	uint64_t sel[2];       /* bitmap of the set's members */
};

/* Empty room (no dominant, empty set) with last_n places (0: everyone is
 * selected; more than MM_SPEAKER_SLOTS counts as MM_SPEAKER_SLOTS). */
void mm_speaker_init(struct mm_speaker_room *s, uint32_t last_n);

/* Change last_n. A smaller set drops its weakest members at once (the
 * dominant last); a larger one fills as slots speak. */
void mm_speaker_set_last_n(struct mm_speaker_room *s, uint32_t last_n);

/* One audio packet of slot with RFC 6464 level (0 loudest .. 127 silence)
 * and voice-activity bit, at now_ms (monotonic). Returns true when the
 * last-N set or the dominant speaker changed (and with them the order).
 * A slot >= MM_SPEAKER_SLOTS, a level > 127 or a time before the latest
 * seen in the room is ignored (false, nothing changed). */
bool mm_speaker_update(struct mm_speaker_room *s, uint32_t slot, uint8_t level, bool voice,
		       uint64_t now_ms);

/* Put a slot in the order without a level (first packet of a stream that
 * is not ranked, e.g. video only): it gets a rank behind every slot that
 * spoke. No-op for a known or invalid slot. */
void mm_speaker_join(struct mm_speaker_room *s, uint32_t slot);

/* Member left: out of the set, the order and the dominant seat at once
 * (the best remaining speaker, if any, becomes dominant). */
void mm_speaker_forget(struct mm_speaker_room *s, uint32_t slot);

/* The set's members in slot order (with last_n 0: the slots that spoke),
 * at most cap of them; returns how many were written. Any thread: a
 * consistent snapshot of the set. */
uint32_t mm_speaker_selected_slots(const struct mm_speaker_room *s, uint32_t *slots, uint32_t cap);

/* Whether the engine forwards slot's audio: in the set, or last_n 0.
 * Per packet, on the owning thread. */
static inline bool mm_speaker_selected(const struct mm_speaker_room *s, uint32_t slot)
{
	if (slot >= MM_SPEAKER_SLOTS)
		return false;
	if (s->last_n == 0)
		return true;
	return (__atomic_load_n(&s->sel[slot >> 6], __ATOMIC_RELAXED) >> (slot & 63)) & 1;
}

/* Position of slot in the speech-recency order, 0 = front;
 * MM_SPEAKER_NO_RANK for an unknown slot. Forward video from slots with
 * rank < video_last_n. Per packet, on the owning thread. */
static inline uint32_t mm_speaker_rank(const struct mm_speaker_room *s, uint32_t slot)
{
	if (slot >= MM_SPEAKER_SLOTS || s->pos[slot] == 0xFF)
		return MM_SPEAKER_NO_RANK;
	return s->pos[slot];
}

/* Dominant speaker's slot, -1 while nobody has spoken. Any thread. */
static inline int32_t mm_speaker_dominant(const struct mm_speaker_room *s)
{
	return __atomic_load_n(&s->dominant, __ATOMIC_RELAXED);
}

/* How many times the dominant speaker changed. Any thread. */
static inline uint32_t mm_speaker_changes(const struct mm_speaker_room *s)
{
	return __atomic_load_n(&s->changes, __ATOMIC_RELAXED);
}

#endif
