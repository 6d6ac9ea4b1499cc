/* The SFU checker (see load.h): per (receiver, view) sequence accounting
 * on the sequence numbers the receiver sees, extended to 32 bits (loss,
 * late packets, repairs after a NACK, duplicates), the gaps it follows
 * for NACKs, simulcast layer switches (at a keyframe, without a gap,
 * without interleaving), and the talk model by time for last-N audio. */
#include "tools/load/load.h"

#include <errno.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"

#define DEFAULT_RTT_US 50000u /* repair time assumed before one is seen */
#define MIN_RETRY_US 20000u /* as libwebrtc's NACK module: about an RTT, not less */

static bool bit_get(const uint64_t *w, uint32_t ext)
{
	return w[(ext % LD_VIEW_WIN) / 64] >> (ext % 64) & 1;
}

static void bit_set(uint64_t *w, uint32_t ext)
{
	w[(ext % LD_VIEW_WIN) / 64] |= 1ull << (ext % 64);
}

static void bit_clear(uint64_t *w, uint32_t ext)
{
	w[(ext % LD_VIEW_WIN) / 64] &= ~(1ull << (ext % 64));
}

void ld_view_init(struct ld_view *v)
{
	memset(v, 0, sizeof(*v));
	v->layer = v->prev_layer = -1;
}

/* seq as the extended number nearest the highest one seen. */
static uint32_t extend(const struct ld_view *v, uint16_t seq)
{
	int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)v->max_ext);
	return v->max_ext + (uint32_t)(int32_t)d;
}

static void miss_remove(struct ld_view *v, int i)
{
	v->miss[i] = v->miss[--v->n_miss];
}

static int miss_find(const struct ld_view *v, uint32_t ext)
{
	for (int i = 0; i < v->n_miss; i++)
		if (v->miss[i].ext == ext)
			return i;
	return -1;
}

/* The layer a packet at ext should be of, after the switches seen; -1
 * when it lies before them. */
static int layer_at(const struct ld_view *v, uint32_t ext)
{
	if ((int32_t)(ext - v->switch_ext) >= 0)
		return v->layer;
	if (v->switches && (int32_t)(ext - v->prev_switch_ext) >= 0)
		return v->prev_layer;
	return -1;
}

/* A packet at the head of a group (ext beyond everything seen). */
static void layer_head(struct ld_view *v, const struct ld_vpkt *p, uint32_t ext, uint32_t prev_max)
{
	if (v->layer < 0) { /* the group's first packet: where it starts */
		v->layer = (int8_t)p->layer;
		v->switch_ext = v->prev_switch_ext = ext;
		return;
	}
	if (p->layer == v->layer)
		return;
	/* Back to the layer just left, soon after, not at a keyframe: two
	 * layers forwarded at once. */
	if (p->layer == v->prev_layer && ext - v->switch_ext < LD_INTERLEAVE_SPAN && !p->key_start) {
		v->interleaved++;
		return;
	}
	v->switches++;
	v->prev_layer = v->layer;
	v->layer = (int8_t)p->layer;
	v->prev_switch_ext = v->switch_ext;
	v->switch_ext = ext;
	v->sgap_key_bad = !p->key_start;
	if (!p->key_start)
		v->not_at_key++;
	v->sgap_open = ext != prev_max + 1;
	if (v->sgap_open) {
		v->gap_at_switch++;
		v->sgap_lo = prev_max + 1;
		v->sgap_hi = ext - 1;
	}
}

/* A late packet of a group: of the layer its place calls for, or filling
 * the gap just before a switch (then not the switch's fault). */
static void layer_late(struct ld_view *v, const struct ld_vpkt *p, uint32_t ext)
{
	if (v->sgap_open && (int32_t)(ext - v->sgap_lo) >= 0 && (int32_t)(v->sgap_hi - ext) >= 0) {
		v->sgap_open = 0;
		v->gap_at_switch--;
		if (p->layer == v->layer) {
			/* The new layer began earlier, at this packet. */
			v->switch_ext = ext;
			if (v->sgap_key_bad && p->key_start) {
				v->not_at_key--;
				v->sgap_key_bad = 0;
			}
		}
		return;
	}
	int want = layer_at(v, ext);
	if (want >= 0 && p->layer != want)
		v->interleaved++;
}

enum ld_vseq ld_view_rx(struct ld_view *v, const struct ld_vpkt *p)
{
	uint32_t ext;
	enum ld_vseq r;
	uint32_t now_us = (uint32_t)(p->now_ns / 1000u);
	if (!v->started) {
		v->started = 1;
		ext = (uint32_t)p->seq + 0x10000u; /* room to go back */
		v->max_ext = ext;
		bit_set(v->got, ext);
		r = LD_V_NEXT;
		if (p->group)
			layer_head(v, p, ext, ext - 1);
	} else {
		ext = extend(v, p->seq);
		if ((int32_t)(ext - v->max_ext) > 0) {
			uint32_t prev = v->max_ext;
			r = ext == prev + 1 ? LD_V_NEXT : LD_V_GAP;
			/* Clear the slots the window moves over; follow the gap. */
			uint32_t from = ext - prev > LD_VIEW_WIN ? ext - LD_VIEW_WIN + 1 : prev + 1;
			for (uint32_t e = from; e != ext + 1; e++) {
				bit_clear(v->got, e);
				bit_clear(v->asked, e);
			}
			v->lost_before_repair += ext - prev - 1;
			uint32_t e = ext - prev - 1 > LD_VIEW_MISS ? ext - LD_VIEW_MISS : prev + 1;
			for (; e != ext && v->n_miss < LD_VIEW_MISS; e++)
				v->miss[v->n_miss++] = (struct ld_miss){.ext = e, .first_us = now_us};
			v->max_ext = ext;
			bit_set(v->got, ext);
			if (p->group)
				layer_head(v, p, ext, prev);
		} else if (v->max_ext - ext >= LD_VIEW_WIN) {
			v->reordered++;
			return LD_V_OLD;
		} else if (bit_get(v->got, ext)) {
			if (p->retrans || bit_get(v->asked, ext)) {
				v->retrans_dups++;
				return LD_V_RETRANS_DUP;
			}
			v->dups++;
			return LD_V_DUP;
		} else {
			bit_set(v->got, ext);
			int i = miss_find(v, ext);
			bool asked = bit_get(v->asked, ext);
			if (i >= 0) {
				if (v->miss[i].tries) {
					uint32_t took = now_us - v->miss[i].asked_us;
					v->rtt_us = v->rtt_us ? (v->rtt_us * 7 + took) / 8 : took;
				}
				miss_remove(v, i);
			}
			if (asked || p->retrans) {
				v->repaired++;
				r = LD_V_REPAIRED;
			} else {
				v->reordered++;
				if (v->lost_before_repair)
					v->lost_before_repair--; /* late, not lost */
				r = LD_V_LATE;
			}
			if (p->group)
				layer_late(v, p, ext);
		}
	}
	if (p->measured) {
		if (!v->have_meas) {
			v->have_meas = 1;
			v->meas_lo = v->meas_hi = ext;
		}
		if ((int32_t)(ext - v->meas_lo) < 0)
			v->meas_lo = ext;
		if ((int32_t)(ext - v->meas_hi) > 0)
			v->meas_hi = ext;
		v->rx_meas++;
	}
	return r;
}

bool ld_view_was_asked(const struct ld_view *v, uint16_t seq)
{
	if (!v->started)
		return false;
	uint32_t ext = extend(v, seq);
	return (int32_t)(v->max_ext - ext) >= 0 && v->max_ext - ext < LD_VIEW_WIN &&
	       bit_get(v->asked, ext);
}

int ld_view_nack_due(struct ld_view *v, uint64_t now_ns, bool nack, uint16_t *seqs, int cap)
{
	uint32_t now_us = (uint32_t)(now_ns / 1000u);
	uint32_t retry = 2 * (v->rtt_us ? v->rtt_us : DEFAULT_RTT_US);
	if (retry < MIN_RETRY_US)
		retry = MIN_RETRY_US;
	int n = 0;
	for (int i = 0; i < v->n_miss;) {
		struct ld_miss *m = &v->miss[i];
		if ((uint64_t)(now_us - m->first_us) * 1000u >= LD_GIVE_UP_NS ||
		    v->max_ext - m->ext >= LD_VIEW_WIN) {
			v->lost_after_repair++;
			miss_remove(v, i);
			continue;
		}
		bool due = m->tries == 0 || (m->tries < LD_NACK_TRIES && now_us - m->asked_us >= retry);
		if (nack && due && n < cap) {
			if (m->tries == 0)
				v->nacked++;
			m->tries++;
			m->asked_us = now_us;
			bit_set(v->asked, m->ext);
			/* Increasing order: insert. */
			int k = n++;
			uint16_t s = (uint16_t)m->ext;
			while (k > 0 && (int16_t)(uint16_t)(seqs[k - 1] - s) > 0) {
				seqs[k] = seqs[k - 1];
				k--;
			}
			seqs[k] = s;
		}
		i++;
	}
	return n;
}

void ld_view_loss(const struct ld_view *v, uint64_t *expected, uint64_t *lost)
{
	*expected = v->have_meas ? (uint64_t)(v->meas_hi - v->meas_lo) + 1 : 0;
	*lost = *expected > v->rx_meas ? *expected - v->rx_meas : 0;
}

uint64_t ld_turn_ns(const struct ld_conf *c)
{
	uint64_t per_turn = (uint64_t)(c->turn * 1e9 / (double)LD_PTIME_NS + 0.5);
	return (per_turn ? per_turn : 1) * LD_PTIME_NS;
}

uint32_t ld_turn_of(const struct ld_conf *c, uint64_t since_t0_ns, uint64_t *into_ns)
{
	uint64_t t = ld_turn_ns(c);
	*into_ns = since_t0_ns % t;
	return (uint32_t)(since_t0_ns / t);
}

bool ld_turn_speaker(const struct ld_conf *c, uint32_t room, uint32_t slot, uint32_t turn)
{
	uint32_t per_turn = (uint32_t)(ld_turn_ns(c) / LD_PTIME_NS);
	return ld_talking(c, room, slot, turn * per_turn);
}

/* The ears' entry for turn: found, or the older one recycled. */
static int ears_slot(struct ld_ears *e, uint32_t turn)
{
	for (int i = 0; i < 2; i++)
		if (e->have[i] && e->turn[i] == turn)
			return i;
	int i = !e->have[0] ? 0 : !e->have[1] ? 1 : e->turn[0] < e->turn[1] ? 0 : 1;
	if (e->have[i] && e->have[!i] && turn < e->turn[i])
		return -1; /* older than both: forget it */
	e->have[i] = 1;
	e->turn[i] = turn;
	memset(e->audio[i], 0, sizeof(e->audio[i]));
	memset(e->video[i], 0, sizeof(e->video[i]));
	return i;
}

bool ld_ears_rx(struct ld_ears *e, const struct ld_conf *c, uint32_t room, uint32_t slot,
		bool audio, uint64_t since_t0_ns)
{
	uint64_t into;
	uint32_t turn = ld_turn_of(c, since_t0_ns, &into);
	if ((double)into < c->settle * 1e9 || slot >= LD_MAX_SLOTS)
		return false;
	int i = ears_slot(e, turn);
	if (i >= 0) {
		uint64_t *set = audio ? e->audio[i] : e->video[i];
		set[slot / 64] |= 1ull << (slot % 64);
	}
	return audio && !ld_turn_speaker(c, room, slot, turn);
}

int ld_ears_count(const struct ld_ears *e, uint32_t turn, bool audio)
{
	for (int i = 0; i < 2; i++)
		if (e->have[i] && e->turn[i] == turn) {
			const uint64_t *set = audio ? e->audio[i] : e->video[i];
			int n = 0;
			for (int w = 0; w < LD_MAX_SLOTS / 64; w++)
				n += __builtin_popcountll(set[w]);
			return n;
		}
	return -1;
}

bool ld_ears_exact(const struct ld_ears *e, const struct ld_conf *c, uint32_t room, uint32_t self,
		   uint32_t turn)
{
	uint64_t want[LD_MAX_SLOTS / 64] = {0};
	for (uint32_t s = 0; s < (uint32_t)c->participants && s < LD_MAX_SLOTS; s++)
		if (s != self && ld_turn_speaker(c, room, s, turn))
			want[s / 64] |= 1ull << (s % 64);
	for (int i = 0; i < 2; i++)
		if (e->have[i] && e->turn[i] == turn)
			return memcmp(want, e->audio[i], sizeof(want)) == 0;
	for (int w = 0; w < LD_MAX_SLOTS / 64; w++)
		if (want[w])
			return false;
	return true;
}

int ld_nack_build(uint8_t *buf, size_t cap, uint32_t own_ssrc, uint32_t media_ssrc,
		  const uint16_t *seqs, int n)
{
	struct rtcp_nack_item items[LD_NACK_MAX];
	if (n < 1 || n > LD_NACK_MAX)
		return -EINVAL;
	int ni = rtcp_nack_pack(seqs, (size_t)n, items, LD_NACK_MAX);
	if (ni < 0)
		return ni;
	struct rtcp_rr rr = {.ssrc = own_ssrc};
	struct rtcp_writer w;
	rtcp_writer_init(&w, buf, cap);
	rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr));
	rtcp_writer_add(&w, rtcp_nack_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), own_ssrc,
					    media_ssrc, items, (size_t)ni));
	return rtcp_writer_finish(&w);
}
