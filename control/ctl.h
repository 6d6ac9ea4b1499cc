/* The daemon's shared state: config, store, mmdp connection, and the lock
 * that serialises HTTP handlers and the mmdp reconnect ticker. */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "control/config.h"
#include "control/mmdp_client.h"
#include "control/store.h"

struct ctl_sse_client;

/* What the ticker knows of mmdp's speakers (control/speakers.c). */
struct ctl_speakers {
	unsigned conn;           /* the mmdp connection (ctl.mmdp_conn) since is of */
	int64_t since;           /* speakers.get's seq of the last reply */
	bool off;                /* mmdp refused speakers.get on this connection */
	json_t *last;            /* room id -> {"dominant","changes"} last published */
};

struct ctl {
	struct ctl_config cfg;
	struct ctl_store *store;
	struct ctl_mmdp mmdp;
	pthread_mutex_t lock;
	size_t key_len;          /* master key + salt bytes of cfg.srtp_profile */
	uint8_t invite_key[32];  /* HMAC-SHA256 key of invites (kept in the store) */
	bool events_dirty;       /* events written since the last SSE wake-up */
	struct ctl_sse_client *sse_waiting; /* suspended SSE streams (under lock) */
	bool stopping;
	/* SIGTERM: no new meeting starts (503 draining) while the live ones
	 * go on (main.c). Under lock. */
	bool draining;
	unsigned mmdp_conn;      /* counts connections to mmdp made (and synced) */
	/* mmdp's generation as it last said (hello, a change's reply). It can
	 * be one ahead of the store's: a change pushed whose commit then
	 * failed (a full disk) or never came (mmctld killed in between). */
	uint64_t mmdp_generation;
	struct ctl_speakers speakers; /* the ticker's (under lock) */
	/* mmdp's DTLS certificate fingerprint from its hello ("sha-256 AB:.."),
	 * "" when the connected mmdp gave none (no browser support). */
	char dtls_fingerprint[CTL_DTLS_FP_MAX];
	/* Seconds added to the system clock (cfg.test_clock only; under lock:
	 * read with __atomic as the ticker and handlers both use ctl_now). */
	int64_t clock_offset;
};

/* mmctld's clock, unix seconds: every time mmctld stores or compares
 * (tokens, invites, blocks, trials, contracts, history) comes from here,
 * so that tests move it with PUT /v1/clock (cfg.test_clock). */
int64_t ctl_now(const struct ctl *c);

/* The outcome of pushing one change to mmdp. */
enum ctl_push_result {
	CTL_PUSH_OK = 0,
	CTL_PUSH_REFUSED,        /* mmdp answered ok:false (message in err) */
	CTL_PUSH_UNAVAILABLE,    /* not connected / transport failure */
	CTL_PUSH_NOT_FOUND,      /* refused with code not_found (message in err) */
	CTL_PUSH_DRAINING,       /* refused with code draining: mmdp is draining
	                          * (SIGTERM) and takes no new room or meeting */
};

/* endpoint.put body (without "op") for a participant. */
json_t *ctl_sync_endpoint_json(const struct ctl *c, const struct ctl_participant *p);
/* room.put body (without "op"): capacity, last_n, video_last_n. */
json_t *ctl_sync_room_json(const struct ctl_room *r);
/* Connect if needed and, on a fresh connection, send state.sync from the
 * committed store. Call with c->lock held and no transaction open.
 * 0 or a negative errno. */
int ctl_sync_ensure(struct ctl *c);
/* Send state.sync with everything in the store. */
int ctl_sync_full(struct ctl *c);
/* Send one change (steals req). err gets mmdp's message when refused. */
enum ctl_push_result ctl_sync_push(struct ctl *c, json_t *req, char *err, size_t errlen);

/* Browsers (api_webrtc.c). Rebuild the offer of every browser participant
 * of room r from the room's current participants: an offer whose text
 * changed gets the next version and (except for `fresh`, the participant
 * just joining) a private `renegotiate` event. Inside the change's
 * transaction, under c->lock. 0 or a negative errno. */
int ctl_webrtc_refresh(struct ctl *c, const struct ctl_room *r, const char *fresh);

/* Meeting events (events.c). Call with c->lock held, inside the change's
 * transaction: the event commits or rolls back with it. data is stolen;
 * party_a/party_b name the two parties of a private event (NULL: public). */
int ctl_event_emit(struct ctl *c, const struct ctl_room *r, const char *type, json_t *data,
		   const char *party_a, const char *party_b, int64_t *seq);
/* The event as clients see it: data + seq, type, at (and message.id for chat). */
json_t *ctl_event_json(const struct ctl_event *e);
/* Wake every suspended SSE stream (after a commit). Under c->lock. */
void ctl_sse_wake(struct ctl *c);
/* Keepalive: wake every suspended stream to send a comment. Under c->lock. */
void ctl_sse_keepalive(struct ctl *c);
/* End every stream (before the HTTP daemon stops). Under c->lock. */
void ctl_sse_shutdown(struct ctl *c);

/* Speaker events (speakers.c), from the ticker with c->lock held: ask mmdp
 * what changed since the last reply and emit `speaker` events (and wake the
 * streams); prune forgets rooms that are gone. */
void ctl_speakers_init(struct ctl_speakers *sp);
void ctl_speakers_fini(struct ctl_speakers *sp);
void ctl_speakers_poll(struct ctl *c);
void ctl_speakers_prune(struct ctl *c);

/* Blocks to mmdp: block.put body (without "op") with the remaining ttl. */
json_t *ctl_sync_block_json(const struct ctl_block *b, int64_t now);
/* A ban as mmdp's ban.put wants it (without "op"). */
json_t *ctl_sync_ban_json(const struct ctl_ban *b, int64_t now);

#endif
