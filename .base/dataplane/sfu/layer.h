/* Simulcast for one receiver: what each publisher layer carries (rate
 * meter), what the receiver's downlink takes (estimate from REMB or from
 * the loss in its receiver reports), which layer of each source it gets
 * (allocation), and when its stream moves from one layer to another
 * (switching, only at a keyframe of the new layer).
 *
 * Pure code: no DPDK, no I/O, no allocation. Each structure belongs to one
 * worker thread (the one serving the room) and takes no lock. Times are
 * milliseconds of a monotonic clock the caller passes in, so tests drive a
 * fake one. Per packet the engine calls mm_rate_add (the publisher's
 * layer) and mm_layer_sel_packet (each receiver of the source); the rest
 * runs per RTCP report or when the engine re-allocates a receiver. */
#ifndef MM_SFU_LAYER_H
#define MM_SFU_LAYER_H

#include <stdbool.h>
#include <stdint.h>

/* Simulcast layers per source: 0 lowest .. 2 highest. */
#define MM_LAYERS_MAX 3

/* ---- Rate meter ------------------------------------------------------- */

/* The meter adds bytes into 100 ms slots and reads the last 1000 ms: the
 * 9 slots before the current one, the current one (partly elapsed), and
 * the share of the 10th slot back that lies inside the second (assuming its
 * bytes spread evenly over it). So the figure is the traffic of the last
 * second, no spikier: a keyframe moves it by its own size, for one second.
 * The first second after a stream starts reads low (the window still holds
 * the silence before it). */
#define MM_RATE_SLOT_MS 100u
#define MM_RATE_WINDOW_MS 1000u
#define MM_RATE_SLOTS (MM_RATE_WINDOW_MS / MM_RATE_SLOT_MS + 1)

/* Rate of one stream (one layer of a publisher). All zeros is a valid
 * empty meter (mm_rate_init does that). */
struct mm_rate {
	uint32_t slot_bytes[MM_RATE_SLOTS]; /* slot n at index n % MM_RATE_SLOTS */
	uint64_t head;                      /* newest slot number (now_ms / 100) */
	uint64_t last_ms;                   /* when the last bytes came */
	bool started;                       /* some bytes came */
};

void mm_rate_init(struct mm_rate *r);
/* Count a packet of `bytes` (the caller's choice of what to count, e.g.
 * the RTP packet) arriving at now_ms. A time before the meter's newest slot
 * goes into its own slot if that is still in the window, else is ignored.
 * O(1) (a jump forward clears at most MM_RATE_SLOTS slots). */
void mm_rate_add(struct mm_rate *r, uint32_t bytes, uint64_t now_ms);
/* Bits per second over the last second; 0 when nothing came for more than
 * MM_RATE_WINDOW_MS (the publisher stopped sending this layer). Saturates at
 * UINT32_MAX - 1. */
uint32_t mm_rate_bps(const struct mm_rate *r, uint64_t now_ms);
/* The stream sent something in the last second: the layer is active. */
static inline bool mm_rate_active(const struct mm_rate *r, uint64_t now_ms)
{
	return r->started && (now_ms <= r->last_ms || now_ms - r->last_ms <= MM_RATE_WINDOW_MS);
}

/* ---- Downlink estimate ------------------------------------------------- */

/* The estimate of what a receiver's downlink takes.
 * - Unknown (MM_BWE_UNKNOWN: no constraint) until its first REMB or
 *   receiver report.
 * - A REMB received in the last MM_BWE_REMB_FRESH_MS is the estimate.
 * - Otherwise the loss-based estimate of Google congestion control's loss
 *   controller (draft-ietf-rmcat-gcc-02 section 6), each receiver report
 *   acting on the time since the previous one: loss under 2 %: up 8 % per
 *   second elapsed (at most MM_BWE_MAX_STEP_MS counted per report); 2 to
 *   10 %: held; over 10 %: times (1 - loss / 2). As in GCC it never exceeds
 *   the last REMB while that is fresh, and a REMB seeds it when no report
 *   did. It does not grow past MM_BWE_HEADROOM x what the receiver gets now
 *   + MM_BWE_HEADROOM_BPS, so that a receiver that takes little (or
 *   nothing) with no loss does not run up an estimate it never carried.
 * - Never below MM_BWE_FLOOR_BPS. */
#define MM_BWE_UNKNOWN UINT32_MAX
#define MM_BWE_FLOOR_BPS 50000u
#define MM_BWE_START_BPS 300000u /* first report, when the receiver gets less */
#define MM_BWE_REMB_FRESH_MS 3000u
#define MM_BWE_MAX_STEP_MS 2000u
#define MM_BWE_HEADROOM 2u
#define MM_BWE_HEADROOM_BPS 1000000u

struct mm_bwe {
	uint32_t remb_bps; /* last REMB, valid when has_remb */
	uint32_t loss_bps; /* loss-based estimate, valid when has_loss */
	uint64_t remb_ms;  /* when the last REMB came */
	uint64_t loss_ms;  /* when loss_bps last took a report (or a REMB seed) */
	bool has_remb;
	bool has_loss;
};

void mm_bwe_init(struct mm_bwe *b);
/* A REMB from the receiver: it can take bps. */
void mm_bwe_on_remb(struct mm_bwe *b, uint32_t bps, uint64_t now_ms);
/* A receiver report: fraction_lost as in RFC 3550 (loss * 256, over the
 * interval since the receiver's previous report; for a receiver of several
 * streams, the engine's aggregate of its report blocks), current_bps what
 * mmdp sends it now (its first report starts from that, or from
 * MM_BWE_START_BPS if more). */
void mm_bwe_on_loss(struct mm_bwe *b, uint8_t fraction_lost, uint32_t current_bps, uint64_t now_ms);
/* The estimate in bits per second, or MM_BWE_UNKNOWN. */
uint32_t mm_bwe_bps(const struct mm_bwe *b, uint64_t now_ms);

/* ---- Allocation -------------------------------------------------------- */

enum mm_layer_kind {
	MM_LAYER_CAMERA = 0,
	MM_LAYER_SCREEN = 1,
};

/* One source (a simulcast group) a receiver gets. */
struct mm_layer_src {
	uint8_t kind;        /* enum mm_layer_kind */
	uint8_t active_mask; /* bit l: the publisher sends layer l now */
	bool priority;       /* served first, e.g. the dominant speaker */
	uint32_t layer_bps[MM_LAYERS_MAX]; /* each layer's rate (mm_rate_bps) */
};

/* Choose the layer of each of the n sources for one receiver, into out[i]
 * (-1: none). max_layer (clamped to MM_LAYERS_MAX - 1) caps cameras only;
 * budget_bps is the receiver's estimate (MM_BWE_UNKNOWN: no constraint).
 * Inactive layers are never chosen; a camera with no active layer up to
 * max_layer gets none. Within a budget, in this order:
 * 1. screens: the highest active layer that fits what is left;
 * 2. cameras: the lowest active layer, while it fits;
 * 3. cameras again, one layer step (to the next active layer) at a time, up
 *    to max_layer: the priority ones until none fits another step, then the
 *    others in turns, until none fits.
 * "Priority first" holds in every step; otherwise sources go in index
 * order. Without a budget, screens get their highest active layer and
 * cameras the highest active one up to max_layer. O(n x MM_LAYERS_MAX). */
void mm_layer_allocate(const struct mm_layer_src *src, uint32_t n, uint8_t max_layer,
		       uint32_t budget_bps, int8_t *out);

/* ---- Switching --------------------------------------------------------- */

/* Keyframe requests (PLI) for one layer go out at most this often. */
#define MM_LAYER_KEYFRAME_INTERVAL_MS 300u

/* The layer one receiver gets of one source. Start it with
 * mm_layer_sel_init (all zeros would mean "layer 0 flowing"). */
struct mm_layer_sel {
	int8_t current;     /* layer being forwarded, -1: none yet / stopped */
	int8_t target;      /* layer wanted (the allocation's), -1: none */
	uint8_t asked_mask; /* bit l: a keyframe of layer l was requested */
	uint64_t asked_ms[MM_LAYERS_MAX]; /* when, per layer */
};

enum mm_layer_verdict {
	MM_LAYER_DROP = 0,
	MM_LAYER_FORWARD,
	/* Forward this packet: the receiver's stream moves to this packet's
	 * layer here (a keyframe start), so the caller re-bases its sequence
	 * number and timestamp rewrite to continue from the previous layer's. */
	MM_LAYER_SWITCH,
};

void mm_layer_sel_init(struct mm_layer_sel *s);
/* Set the wanted layer (-1 for none: from now on everything is dropped and
 * the current layer is forgotten). Out-of-range values are taken as -1. */
void mm_layer_sel_set_target(struct mm_layer_sel *s, int8_t target);

/* Per packet of the source on `layer`; keyframe_start: the packet starts a
 * keyframe of that layer (codec's business). Packets of the current layer
 * are forwarded; the stream moves (up or down) only at a keyframe start of
 * the target; with no current layer it starts at the first keyframe start
 * of the target or of any layer below it, and climbs to the target at the
 * target's keyframe. So a receiver gets one layer at a time, and each new
 * layer from a keyframe on. */
static inline enum mm_layer_verdict mm_layer_sel_packet(struct mm_layer_sel *s, uint8_t layer,
							 bool keyframe_start)
{
	int8_t l = (int8_t)layer;
	if (s->target < 0 || layer >= MM_LAYERS_MAX)
		return MM_LAYER_DROP;
	if (l == s->current)
		return MM_LAYER_FORWARD;
	if (!keyframe_start)
		return MM_LAYER_DROP;
	if (l == s->target || (s->current < 0 && l < s->target)) {
		s->current = l;
		return MM_LAYER_SWITCH;
	}
	return MM_LAYER_DROP;
}

/* True when the receiver waits for a keyframe of a layer (the target is
 * not the current one) and no request for that layer was made in the last
 * MM_LAYER_KEYFRAME_INTERVAL_MS; *layer is then the layer: the caller sends
 * a PLI for that layer's SSRC to the publisher and calls
 * mm_layer_sel_keyframe_requested (which records it for the target).
 * Requests are remembered per layer, so a target that flaps between two
 * layers does not ask either more often than that. */
bool mm_layer_sel_needs_keyframe(const struct mm_layer_sel *s, uint64_t now_ms, uint8_t *layer);
void mm_layer_sel_keyframe_requested(struct mm_layer_sel *s, uint64_t now_ms);

#endif
