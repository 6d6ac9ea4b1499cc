/* mmctld's storage: the one narrow interface through which everything else
 * reads and writes state (DESIGN.md "Growing past one machine"). SQLite
 * (store_sqlite.c) is the embedded implementation; nothing outside it knows
 * about SQL. Every state-changing request runs between ctl_store_begin and
 * ctl_store_commit / ctl_store_rollback: it happens fully or not at all.
 *
 * Functions return 0 or a negative errno: -ENOENT (no such row), -EEXIST
 * (unique key taken), -EIO (backend failure). */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_ID_MAX 40        /* "r" / "p" / "t" + 16 hex, with room to spare */
#define CTL_NAME_MAX 129     /* 128 bytes + NUL */
#define CTL_TENANT_MAX 65
#define CTL_SCOPE_MAX 160
#define CTL_KEY_B64_MAX 64   /* base64 of at most 46 bytes is 64 */

struct ctl_room {
	char id[CTL_ID_MAX];
	char tenant[CTL_TENANT_MAX];   /* "" = operator-owned */
	char name[CTL_NAME_MAX];
	int capacity;                  /* 1..100 */
	char kind[8];                  /* "adhoc" | "fixed" */
	int64_t created_at;            /* unix seconds */
	int64_t meeting;               /* current meeting number (1, 2, ...); a
	                                * fixed room's next meeting after /end */
	int last_n;                    /* 0..100: audio streams each receiver gets
	                                * (the loudest); 0 = all */
	int video_last_n;              /* 0..100: sources whose video each receiver
	                                * gets (the latest speakers); 0 = all */
	int64_t started_at;            /* when the current meeting started (its
	                                * first join); 0: no meeting is live */
};

#define CTL_LAST_N_DEFAULT 3
#define CTL_VIDEO_LAST_N_DEFAULT 0
#define CTL_LAST_N_MAX 100

/* What a participant publishes, per kind (mmdp: audio, video, screen). */
enum ctl_kind { CTL_KIND_AUDIO, CTL_KIND_CAMERA, CTL_KIND_SCREEN, CTL_KINDS };

#define CTL_LAYERS_MAX 3      /* simulcast layers of a camera or screen */
#define CTL_STREAMS_MAX 8     /* mmdp's limit of streams per endpoint */

/* One source: its simulcast layers (lowest first; audio has one), their
 * RTX SSRCs and how mmdp reads it. */
struct ctl_source {
	int layers;                    /* 0: not published; 1..CTL_LAYERS_MAX */
	int64_t ssrc[CTL_LAYERS_MAX];
	int64_t rtx_ssrc[CTL_LAYERS_MAX]; /* -1: no RTX for that layer */
	char codec[8];                 /* "" (mmdp's default), opus, vp8, h264 */
	int audio_level_id;            /* 0: none; 1..14 (audio only) */
	char rid[CTL_LAYERS_MAX][17];  /* layers known by RID (browsers' simulcast:
	                                * ssrc -1); "" for layers known by SSRC */
	int64_t out_ssrc;              /* SSRC receivers see the source under;
	                                * 0: its layer 0's (required with rids) */
};

#define CTL_ICE_UFRAG_MAX 33          /* 4..32 ice-chars + NUL */
#define CTL_ICE_PWD_MAX 257           /* 22..256 ice-chars + NUL */
#define CTL_DTLS_FP_MAX 104           /* "sha-256 " + 32 hex pairs + NUL */

/* A browser participant's transport (docs/api.md "Browsers (WebRTC)"):
 * mmdp's ICE credentials for it, and from its answer the peer's DTLS
 * certificate fingerprint and role and the extension ids it kept. */
struct ctl_webrtc {
	bool on;                       /* joined with "webrtc": true */
	char ice_ufrag[CTL_ICE_UFRAG_MAX];  /* mmdp's (local) credentials */
	char ice_pwd[CTL_ICE_PWD_MAX];
	char remote_ufrag[CTL_ICE_PWD_MAX]; /* the peer's, "" before an answer */
	char dtls_fingerprint[CTL_DTLS_FP_MAX]; /* the peer's, "" before an answer */
	char dtls_setup[8];            /* the peer's role: active | passive */
	int twcc_id;                   /* 0: transport-cc not kept */
	int rid_id;                    /* 0: rtp-stream-id not kept */
};

struct ctl_participant {
	char id[CTL_ID_MAX];
	char room_id[CTL_ID_MAX];
	char display_name[CTL_NAME_MAX];
	char role[12];                 /* host | moderator | attendee */
	char remote_addr[64];
	int remote_port;
	int local_port;                /* mmdp's UDP port for this endpoint */
	struct ctl_source src[CTL_KINDS];  /* indexed by enum ctl_kind */
	int max_layer;                 /* highest simulcast layer received, 0..2
	                                * (max_resolution low/medium/high) */
	int rtx_pt;                    /* negotiated RTX payload type; 0: none */
	bool audio_muted;
	bool video_muted;              /* camera and screen */
	bool unmute_requested;         /* a moderator asked; cleared on unmute */
	int64_t hand_raised_at;        /* 0: hand down */
	char srtp_profile[32];
	char key_in[CTL_KEY_B64_MAX];  /* base64: client -> mmdp (mmdp's in_key) */
	char key_out[CTL_KEY_B64_MAX]; /* base64: mmdp -> client (mmdp's out_key) */
	int64_t joined_at;
	struct ctl_webrtc webrtc;      /* browsers only (webrtc.on) */
	char account[CTL_ID_MAX];      /* the tenant's account it joined as
	                                * (a join token's subject); "" = none */
};

/* A browser participant's current offer. */
struct ctl_offer {
	int64_t version;               /* 1, 2, ...: the o= sess-version */
	bool answered;                 /* an answer to this version was taken */
	int64_t session_id;            /* the o= sess-id, fixed per participant */
	int64_t next_mid;              /* the next "s<n>" m-line; never reused */
	char *sdp;                     /* malloc'd text (NULL before the first) */
};

/* One sendonly m-line of a participant's offer: which stream of which
 * other participant it carries. Kept for good: mids are never reused. */
struct ctl_offer_mid {
	int64_t mid;                   /* the m-line is "s<mid>" */
	char publisher[CTL_ID_MAX];
	char kind[8];                  /* audio | camera | screen */
	int64_t ssrc;                  /* the SSRC receivers see */
	int64_t rtx_ssrc;              /* -1: none */
	bool active;                   /* false: the stream is gone (inactive) */
};

struct ctl_token {
	char id[CTL_ID_MAX];
	char hash[65];                 /* SHA-256 of the token, hex */
	char scope[CTL_SCOPE_MAX];
	int64_t expires_at;            /* unix seconds; 0 = never */
	bool revoked;
};

/* One event of a meeting (also the chat messages: type "chat"). */
struct ctl_event {
	int64_t seq;                   /* global, strictly increasing */
	char room_id[CTL_ID_MAX];
	int64_t meeting;
	char type[32];
	char *data;                    /* JSON object text (owned by the store's
	                                * callback frame: copy to keep) */
	char party_a[CTL_ID_MAX];      /* private: sender; "" = public */
	char party_b[CTL_ID_MAX];      /* private: recipient */
	int64_t at;
};

struct ctl_subscription {
	char publisher[CTL_ID_MAX];
	char kind[8];                  /* camera | screen */
	int max_height;
};

/* A blocked 5-tuple (remote -> local UDP port), e.g. of a kicked participant. */
struct ctl_block {
	char id[CTL_ID_MAX];
	char remote_addr[64];
	int remote_port;
	char local_addr[64];
	int local_port;
	char reason[CTL_NAME_MAX];
	int64_t expires_at;
};

/* A banned source prefix ("203.0.113.0/24", "2001:db8::/32", canonical:
 * host bits cleared). */
struct ctl_ban {
	char id[CTL_ID_MAX];
	char prefix[64];
	char reason[CTL_NAME_MAX];
	int64_t expires_at;
};

struct ctl_store;

int ctl_store_open(const char *path, struct ctl_store **out);
/* From now on the participants' SRTP keys are sealed with key (32 bytes,
 * control/sealed.h) when stored and opened when read; rows stored without
 * it are sealed now. -EKEYREJECTED when a stored key does not open with
 * this key (the key file of another database). */
int ctl_store_seal_keys(struct ctl_store *s, const uint8_t key[32]);
void ctl_store_close(struct ctl_store *s);

int ctl_store_begin(struct ctl_store *s);
int ctl_store_commit(struct ctl_store *s);
void ctl_store_rollback(struct ctl_store *s);
/* How many times this thread's store calls met a full disk (SQLITE_FULL:
 * they return -ENOSPC). The API compares it around a request to answer
 * 507 storage_full instead of 500 internal. */
unsigned ctl_store_full_count(void);

/* The generation mmctld gives mmdp: bumped once per state change (inside
 * the change's transaction) to at least at_least + 1, read for state.sync. */
int ctl_store_generation_bump(struct ctl_store *s, uint64_t at_least, uint64_t *gen);
int ctl_store_generation_get(struct ctl_store *s, uint64_t *gen);
/* Raise the generation to at least gen: mmdp is ahead of the store when it
 * applied a change whose reply mmctld gave up waiting for (and rolled
 * back). Outside a change's transaction. */
int ctl_store_generation_raise(struct ctl_store *s, uint64_t gen);

typedef int (*ctl_room_fn)(void *arg, const struct ctl_room *r);
typedef int (*ctl_participant_fn)(void *arg, const struct ctl_participant *p);

int ctl_store_room_insert(struct ctl_store *s, const struct ctl_room *r);
int ctl_store_room_get(struct ctl_store *s, const char *id, struct ctl_room *out);
/* Writes the room's settings: capacity, last_n, video_last_n. */
int ctl_store_room_update(struct ctl_store *s, const struct ctl_room *r);
/* tenant NULL: every room; otherwise that tenant's rooms. Stops at the
 * first non-zero return of fn and returns it. */
int ctl_store_room_list(struct ctl_store *s, const char *tenant, ctl_room_fn fn, void *arg);
/* Deletes the room, (cascade) its participants, and its events. */
int ctl_store_room_delete(struct ctl_store *s, const char *id);
/* Remove every participant of the room (cascade: their subscriptions). */
int ctl_store_room_clear(struct ctl_store *s, const char *id);
/* Start the room's next meeting (meeting + 1). */
int ctl_store_room_next_meeting(struct ctl_store *s, const char *id);
/* The current meeting's start (0: none live). */
int ctl_store_room_set_started(struct ctl_store *s, const char *id, int64_t started_at);

int ctl_store_participant_insert(struct ctl_store *s, const struct ctl_participant *p);
int ctl_store_participant_get(struct ctl_store *s, const char *id, struct ctl_participant *out);
/* Writes the mutable fields: role, streams, max_layer, rtx_pt, mute flags,
 * unmute request, hand. */
int ctl_store_participant_update(struct ctl_store *s, const struct ctl_participant *p);
int ctl_store_participant_delete(struct ctl_store *s, const char *id);
int ctl_store_participant_count(struct ctl_store *s, const char *room_id, int *n);
/* room_id NULL: every participant. */
int ctl_store_participant_list(struct ctl_store *s, const char *room_id,
			       ctl_participant_fn fn, void *arg);
/* Lowest UDP port in [lo, hi] no participant holds and no unexpired block
 * names (a kicked participant's port is not reused while it is blocked):
 * -ENOSPC when none. */
int ctl_store_port_free(struct ctl_store *s, int lo, int hi, int64_t now, int *port);

int ctl_store_token_insert(struct ctl_store *s, const struct ctl_token *t);
int ctl_store_token_by_hash(struct ctl_store *s, const char *hash, struct ctl_token *out);
int ctl_store_token_revoke(struct ctl_store *s, const char *id);
/* Revoke every token whose scope is exactly scope (0 if there are none). */
int ctl_store_token_revoke_scope(struct ctl_store *s, const char *scope);
/* Revoke every token whose scope starts with prefix. */
int ctl_store_token_revoke_prefix(struct ctl_store *s, const char *prefix);

typedef int (*ctl_event_fn)(void *arg, const struct ctl_event *e);

/* Append an event (e->seq is set). */
int ctl_store_event_insert(struct ctl_store *s, struct ctl_event *e);
/* Events of the room's meeting after seq, oldest first, at most limit;
 * visible_to NULL: public events only; otherwise also private events
 * whose party_a or party_b it is. type NULL: any type. */
int ctl_store_event_list(struct ctl_store *s, const char *room_id, int64_t meeting,
			 int64_t after, const char *type, const char *visible_to, int limit,
			 ctl_event_fn fn, void *arg);
/* Highest seq of any event (0: none). */
int ctl_store_event_last(struct ctl_store *s, int64_t *seq);

/* Replace the participant's subscriptions. */
int ctl_store_subscriptions_set(struct ctl_store *s, const char *participant,
				const struct ctl_subscription *subs, size_t n);
/* Up to cap subscriptions into subs; *n the count. */
int ctl_store_subscriptions_get(struct ctl_store *s, const char *participant,
				struct ctl_subscription *subs, size_t cap, size_t *n);

typedef int (*ctl_block_fn)(void *arg, const struct ctl_block *b);
int ctl_store_block_insert(struct ctl_store *s, const struct ctl_block *b);
int ctl_store_block_delete(struct ctl_store *s, const char *id);
/* Blocks with expires_at > now. */
int ctl_store_block_list(struct ctl_store *s, int64_t now, ctl_block_fn fn, void *arg);
/* Delete blocks with expires_at <= now; *n how many. */
int ctl_store_block_expire(struct ctl_store *s, int64_t now, int *n);

/* Bans: -EEXIST when an unexpired ban holds the prefix already. */
typedef int (*ctl_ban_fn)(void *arg, const struct ctl_ban *b);
int ctl_store_ban_insert(struct ctl_store *s, const struct ctl_ban *b, int64_t now);
int ctl_store_ban_delete(struct ctl_store *s, const char *id);
/* Unexpired bans (expires_at > now), soonest to expire first. */
int ctl_store_ban_list(struct ctl_store *s, int64_t now, ctl_ban_fn fn, void *arg);
/* Delete bans with expires_at <= now; *n how many. */
int ctl_store_ban_expire(struct ctl_store *s, int64_t now, int *n);

/* A browser participant's offer: -ENOENT before the first. o->sdp is
 * malloc'd (free it). */
int ctl_store_offer_get(struct ctl_store *s, const char *participant, struct ctl_offer *o);
int ctl_store_offer_put(struct ctl_store *s, const char *participant, const struct ctl_offer *o);
/* The participant's offer m-lines, by mid (malloc'd array into *out). */
int ctl_store_offer_mids(struct ctl_store *s, const char *participant,
			 struct ctl_offer_mid **out, size_t *n);
/* Insert or replace one. */
int ctl_store_offer_mid_put(struct ctl_store *s, const char *participant,
			    const struct ctl_offer_mid *m);

/* A named secret of the deployment (e.g. the invite signing key), made of
 * n random bytes the first time it is asked for. */
int ctl_store_secret(struct ctl_store *s, const char *name, uint8_t *out, size_t n);

/* ---- Webhooks (store_webhooks.c; docs/api.md "Webhooks") ---- */

#define CTL_URL_MAX 1025             /* 1024 bytes + NUL */
#define CTL_WEBHOOK_EVENTS_MAX 256   /* the events array as JSON text */
#define CTL_WEBHOOK_SECRET_MAX 80    /* "whsec_" + 64 hex + NUL, with room */

struct ctl_webhook {
	char id[CTL_ID_MAX];
	char tenant[CTL_TENANT_MAX];   /* "" = the operator's: every tenant's events */
	char url[CTL_URL_MAX];
	char events[CTL_WEBHOOK_EVENTS_MAX]; /* JSON array of types, or ["*"] */
	char secret[CTL_WEBHOOK_SECRET_MAX]; /* plain (sealed at rest) */
	int64_t created_at;
};

/* One event to one webhook: a row of the outbox, written in the change's
 * transaction, sent by the delivery thread (control/webhook.c). */
struct ctl_delivery {
	int64_t seq;                   /* outbox order (event order) */
	char id[CTL_ID_MAX];           /* X-MM-Delivery */
	char event_id[CTL_ID_MAX];     /* the body's "id": one per event */
	char webhook[CTL_ID_MAX];
	char type[32];
	const char *body;              /* the JSON body (valid in the callback) */
	int64_t created_at;
	char status[12];               /* pending | delivered | failed */
	int attempts;
	int64_t next_at;               /* pending: when the next attempt is due */
	int last_status;               /* last HTTP status; 0: none */
	char last_error[CTL_NAME_MAX]; /* last transport error; "" */
	int64_t done_at;               /* delivered or failed at; 0 */
};

typedef int (*ctl_webhook_fn)(void *arg, const struct ctl_webhook *w);
typedef int (*ctl_delivery_fn)(void *arg, const struct ctl_delivery *d,
			       const struct ctl_webhook *w);

int ctl_store_webhook_insert(struct ctl_store *s, const struct ctl_webhook *w);
int ctl_store_webhook_get(struct ctl_store *s, const char *id, struct ctl_webhook *out);
/* Deletes the webhook and (cascade) its deliveries. */
int ctl_store_webhook_delete(struct ctl_store *s, const char *id);
/* tenant NULL: every webhook; otherwise that tenant's; oldest first. */
int ctl_store_webhook_list(struct ctl_store *s, const char *tenant, ctl_webhook_fn fn,
			   void *arg);
/* One pending delivery of the event (body, JSON text) per webhook that
 * wants type from tenant (operator webhooks, tenant "", get every
 * tenant's); *n how many. */
int ctl_store_delivery_enqueue(struct ctl_store *s, const char *tenant, const char *type,
			       const char *event_id, const char *body, int64_t now, int *n);
/* The oldest pending delivery of each webhook (due or not), with its
 * webhook: later ones wait for it, so that each webhook gets its events
 * in order. */
int ctl_store_delivery_heads(struct ctl_store *s, ctl_delivery_fn fn, void *arg);
/* Write status, attempts, next_at, last_status, last_error, done_at. */
int ctl_store_delivery_update(struct ctl_store *s, const struct ctl_delivery *d);
/* The webhook's deliveries, newest first, at most limit (w is NULL). */
int ctl_store_delivery_list(struct ctl_store *s, const char *webhook, int limit,
			    ctl_delivery_fn fn, void *arg);
/* Forget finished deliveries created before `before`; *n how many. */
int ctl_store_delivery_prune(struct ctl_store *s, int64_t before, int *n);
/* ---- Meeting history (store_history.c): what reports rest on ---------- */

/* mmdp's counters of one participant's endpoint (docs/api.md "Reports"):
 * rx = what mmdp received from the participant, tx = what it sent to it. */
struct ctl_hist_counters {
	int64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	int64_t lost;                  /* RTP packets lost (its streams, RFC 3550) */
	int64_t expected;              /* RTP packets expected (received + lost) */
	int64_t jitter_us;             /* highest interarrival jitter of its streams */
};

struct ctl_hist_meeting {
	int64_t seq;                   /* insertion order (the cursor's tie-break) */
	char id[CTL_ID_MAX];           /* "m" + hex */
	char room_id[CTL_ID_MAX];
	char room_name[CTL_NAME_MAX];
	char tenant[CTL_TENANT_MAX];
	int64_t meeting;               /* the room's meeting number */
	int64_t started_at, ended_at;  /* ended_at 0: live */
	char end_reason[32];
	int peak;                      /* most participants at once */
	int64_t attendances;           /* joins (filled by reads) */
	/* The room's byte counters at the last two samples (ms of ctl_now). */
	int64_t s0_ms, s0_rx_bytes, s0_tx_bytes, s1_ms, s1_rx_bytes, s1_tx_bytes;
	struct ctl_hist_counters sum;  /* over its attendances (filled by reads) */
};

struct ctl_hist_attendance {
	char participant[CTL_ID_MAX];
	char meeting_id[CTL_ID_MAX];
	char display_name[CTL_NAME_MAX];
	char account[CTL_ID_MAX];
	char role[12];
	int64_t joined_at, left_at;    /* left_at 0: still in */
	char how[12];                  /* left | kicked | ended; "" while in */
	struct ctl_hist_counters n;
	int64_t sampled_at;            /* when n was read from mmdp (0: never) */
};

/* Which meetings to list: NULL/0 = any. Newest first (started_at, seq);
 * after_* is the last row of the previous page (has_after). */
struct ctl_hist_filter {
	const char *tenant, *room, *account;
	int64_t from, to;              /* started_at in [from, to); to 0: no end */
	bool has_after;
	int64_t after_started, after_seq;
	int limit;
	bool live_only;
};

/* One room of the all-rooms report. */
struct ctl_hist_room {
	char room_id[CTL_ID_MAX];
	char room_name[CTL_NAME_MAX];
	char tenant[CTL_TENANT_MAX];
	int64_t meetings, seconds, attendances;
	int peak;
	struct ctl_hist_counters sum;
};

typedef int (*ctl_hist_meeting_fn)(void *arg, const struct ctl_hist_meeting *m);
typedef int (*ctl_hist_attendance_fn)(void *arg, const struct ctl_hist_attendance *a);
typedef int (*ctl_hist_room_fn)(void *arg, const struct ctl_hist_room *r);

int ctl_store_hist_meeting_insert(struct ctl_store *s, const struct ctl_hist_meeting *m);
/* The room's live meeting (-ENOENT: none). */
int ctl_store_hist_meeting_live(struct ctl_store *s, const char *room_id,
				struct ctl_hist_meeting *out);
int ctl_store_hist_meeting_get(struct ctl_store *s, const char *id, struct ctl_hist_meeting *out);
int ctl_store_hist_meeting_end(struct ctl_store *s, const char *id, int64_t ended_at,
			       const char *reason);
/* peak = max(peak, n). */
int ctl_store_hist_meeting_peak(struct ctl_store *s, const char *id, int n);
/* A new sample of the room's counters: the last one becomes the one before. */
int ctl_store_hist_meeting_sample(struct ctl_store *s, const char *id, int64_t ms,
				  int64_t rx_bytes, int64_t tx_bytes);
int ctl_store_hist_meeting_list(struct ctl_store *s, const struct ctl_hist_filter *f,
				ctl_hist_meeting_fn fn, void *arg);
int ctl_store_hist_attend_insert(struct ctl_store *s, const struct ctl_hist_attendance *a);
/* mmdp's counters of a participant still in (no row changes once it left);
 * each counter only grows (a restarted mmdp's fresh counters do not undo
 * what was read before). */
int ctl_store_hist_attend_counters(struct ctl_store *s, const char *participant,
				   const struct ctl_hist_counters *n, int64_t at);
/* participant NULL: everyone of meeting_id still in. */
int ctl_store_hist_attend_leave(struct ctl_store *s, const char *meeting_id,
				const char *participant, int64_t left_at, const char *how);
/* Oldest join first. */
int ctl_store_hist_attend_list(struct ctl_store *s, const char *meeting_id,
			       ctl_hist_attendance_fn fn, void *arg);
/* Per room, the meetings started in [from, to) (to 0: no end) of tenant
 * (NULL: all); now closes the live meetings' durations. */
int ctl_store_hist_rooms(struct ctl_store *s, const char *tenant, int64_t from, int64_t to,
			 int64_t now, ctl_hist_room_fn fn, void *arg);
/* Tenants, units, accounts, contracts and fixed-room access (issue 9 items
 * 1-3; store_tenants.c). A tenant's id is the name its `tenant:<id>` tokens
 * and rooms.tenant use; units ("u"+hex) and accounts ("a"+hex) belong to one
 * tenant and go with it. */
#define CTL_EMAIL_MAX 255
#define CTL_JOIN_SECRET_LEN 32

struct ctl_tenant {
	char id[CTL_TENANT_MAX];
	char name[CTL_NAME_MAX];
	uint8_t join_secret[CTL_JOIN_SECRET_LEN]; /* HMAC key of its join tokens */
	int64_t created_at;
};

struct ctl_unit {
	char id[CTL_ID_MAX];
	char tenant[CTL_TENANT_MAX];
	char name[CTL_NAME_MAX];
	int64_t created_at;
};

struct ctl_account {
	char id[CTL_ID_MAX];
	char tenant[CTL_TENANT_MAX];
	char unit[CTL_ID_MAX];         /* "" = in no unit */
	char name[CTL_NAME_MAX];
	char email[CTL_EMAIL_MAX];
	char role[8];                  /* admin | user */
	int64_t created_at;
};

/* A tenant's contract (one per tenant; renewals and changes rewrite it). */
struct ctl_contract {
	char tenant[CTL_TENANT_MAX];
	char plan[16];                 /* trial | subscription */
	int64_t trial_until;           /* trial: unlimited meetings until then */
	int rooms;                     /* subscription: concurrent-meeting quota */
	int term_months;               /* subscription: 1 | 6 | 12 */
	int64_t starts_at;
	int64_t ends_at;               /* subscription: end of the paid term;
	                                * trial: 0 (no end) */
	char status[12];               /* active | cancelled | expired */
	int64_t cancel_at;             /* 0, or when a cancellation takes effect */
	int64_t expiring_notified_at;  /* contract.expiring raised for this term
	                                * (0: not yet; reset by renew/change) */
	int64_t updated_at;
};

/* A tenant-level event (contract.expiring, ...; GET /v1/tenants/{t}/events). */
struct ctl_tenant_event {
	int64_t seq;
	char tenant[CTL_TENANT_MAX];
	char type[32];
	char *data;                    /* JSON object text (callback frame's) */
	int64_t at;
};

typedef int (*ctl_tenant_fn)(void *arg, const struct ctl_tenant *t);
typedef int (*ctl_unit_fn)(void *arg, const struct ctl_unit *u);
typedef int (*ctl_account_fn)(void *arg, const struct ctl_account *a);
typedef int (*ctl_contract_fn)(void *arg, const struct ctl_contract *k);
typedef int (*ctl_tenant_event_fn)(void *arg, const struct ctl_tenant_event *e);
/* kind: "unit" | "account"; ref: its id. */
typedef int (*ctl_access_fn)(void *arg, const char *kind, const char *ref);

/* -EEXIST when the id is taken. */
int ctl_store_tenant_insert(struct ctl_store *s, const struct ctl_tenant *t);
int ctl_store_tenant_get(struct ctl_store *s, const char *id, struct ctl_tenant *out);
/* Writes the name. */
int ctl_store_tenant_update(struct ctl_store *s, const struct ctl_tenant *t);
/* Deletes the tenant and (cascade) its units, accounts and contract. Its
 * rooms are the caller's (end their meetings first). */
int ctl_store_tenant_delete(struct ctl_store *s, const char *id);
int ctl_store_tenant_list(struct ctl_store *s, ctl_tenant_fn fn, void *arg);

/* -EEXIST: the tenant has a unit of that name already. */
int ctl_store_unit_insert(struct ctl_store *s, const struct ctl_unit *u);
int ctl_store_unit_get(struct ctl_store *s, const char *id, struct ctl_unit *out);
/* Writes the name (-EEXIST when taken in the tenant). */
int ctl_store_unit_update(struct ctl_store *s, const struct ctl_unit *u);
/* Its accounts are left in no unit; its room_access rows go. */
int ctl_store_unit_delete(struct ctl_store *s, const char *id);
int ctl_store_unit_list(struct ctl_store *s, const char *tenant, ctl_unit_fn fn, void *arg);

/* -EEXIST: the tenant has an account with that email already. */
int ctl_store_account_insert(struct ctl_store *s, const struct ctl_account *a);
int ctl_store_account_get(struct ctl_store *s, const char *id, struct ctl_account *out);
/* Writes name, email, role, unit (-EEXIST: email taken in the tenant). */
int ctl_store_account_update(struct ctl_store *s, const struct ctl_account *a);
/* Its room_access rows go too. */
int ctl_store_account_delete(struct ctl_store *s, const char *id);
/* unit NULL: every account of the tenant; otherwise that unit's. */
int ctl_store_account_list(struct ctl_store *s, const char *tenant, const char *unit,
			   ctl_account_fn fn, void *arg);
/* Accounts of the tenant with role admin. */
int ctl_store_account_admins(struct ctl_store *s, const char *tenant, int *n);

/* Insert or replace the tenant's contract. */
int ctl_store_contract_put(struct ctl_store *s, const struct ctl_contract *k);
int ctl_store_contract_get(struct ctl_store *s, const char *tenant, struct ctl_contract *out);
int ctl_store_contract_list(struct ctl_store *s, ctl_contract_fn fn, void *arg);

/* Live meetings (rooms with started_at > 0) of the tenant. */
int ctl_store_tenant_live_meetings(struct ctl_store *s, const char *tenant, int *n);

/* Replace the room's access list: units and accounts allowed to join it
 * (no rows: no restriction). */
int ctl_store_room_access_set(struct ctl_store *s, const char *room, const char *const *units,
			      size_t nunits, const char *const *accounts, size_t naccounts);
/* The room's rows, units first, each kind by ref. */
int ctl_store_room_access_list(struct ctl_store *s, const char *room, ctl_access_fn fn,
			       void *arg);
/* *restricted: the room has access rows; *allowed: account (or its unit)
 * is among them (account "" is never allowed in a restricted room). */
int ctl_store_room_access_check(struct ctl_store *s, const char *room, const char *account,
				bool *restricted, bool *allowed);

/* Append a tenant event (e->seq set). */
int ctl_store_tenant_event_insert(struct ctl_store *s, struct ctl_tenant_event *e);
/* The tenant's events after seq, oldest first, at most limit; type NULL: any. */
int ctl_store_tenant_event_list(struct ctl_store *s, const char *tenant, int64_t after,
				const char *type, int limit, ctl_tenant_event_fn fn, void *arg);

#endif
