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
};

struct ctl_participant {
	char id[CTL_ID_MAX];
	char room_id[CTL_ID_MAX];
	char display_name[CTL_NAME_MAX];
	char role[12];                 /* host | moderator | attendee */
	char remote_addr[64];
	int remote_port;
	int local_port;                /* mmdp's UDP port for this endpoint */
	int64_t ssrc_audio;            /* -1: none declared */
	int64_t ssrc_video;
	char srtp_profile[32];
	char key_in[CTL_KEY_B64_MAX];  /* base64: client -> mmdp (mmdp's in_key) */
	char key_out[CTL_KEY_B64_MAX]; /* base64: mmdp -> client (mmdp's out_key) */
	int64_t joined_at;
};

struct ctl_token {
	char id[CTL_ID_MAX];
	char hash[65];                 /* SHA-256 of the token, hex */
	char scope[CTL_SCOPE_MAX];
	int64_t expires_at;            /* unix seconds; 0 = never */
	bool revoked;
};

struct ctl_store;

int ctl_store_open(const char *path, struct ctl_store **out);
void ctl_store_close(struct ctl_store *s);

int ctl_store_begin(struct ctl_store *s);
int ctl_store_commit(struct ctl_store *s);
void ctl_store_rollback(struct ctl_store *s);

/* The generation mmctld gives mmdp: bumped once per state change (inside
 * the change's transaction), read for state.sync. */
int ctl_store_generation_bump(struct ctl_store *s, uint64_t *gen);
int ctl_store_generation_get(struct ctl_store *s, uint64_t *gen);

typedef int (*ctl_room_fn)(void *arg, const struct ctl_room *r);
typedef int (*ctl_participant_fn)(void *arg, const struct ctl_participant *p);

int ctl_store_room_insert(struct ctl_store *s, const struct ctl_room *r);
int ctl_store_room_get(struct ctl_store *s, const char *id, struct ctl_room *out);
/* tenant NULL: every room; otherwise that tenant's rooms. Stops at the
 * first non-zero return of fn and returns it. */
int ctl_store_room_list(struct ctl_store *s, const char *tenant, ctl_room_fn fn, void *arg);
/* Deletes the room and (cascade) its participants. */
int ctl_store_room_delete(struct ctl_store *s, const char *id);

int ctl_store_participant_insert(struct ctl_store *s, const struct ctl_participant *p);
int ctl_store_participant_get(struct ctl_store *s, const char *id, struct ctl_participant *out);
int ctl_store_participant_delete(struct ctl_store *s, const char *id);
int ctl_store_participant_count(struct ctl_store *s, const char *room_id, int *n);
/* room_id NULL: every participant. */
int ctl_store_participant_list(struct ctl_store *s, const char *room_id,
			       ctl_participant_fn fn, void *arg);
/* Lowest UDP port in [lo, hi] no participant holds: -ENOSPC when none. */
int ctl_store_port_free(struct ctl_store *s, int lo, int hi, int *port);

int ctl_store_token_insert(struct ctl_store *s, const struct ctl_token *t);
int ctl_store_token_by_hash(struct ctl_store *s, const char *hash, struct ctl_token *out);
int ctl_store_token_revoke(struct ctl_store *s, const char *id);
/* Revoke every token whose scope is exactly scope (0 if there are none). */
int ctl_store_token_revoke_scope(struct ctl_store *s, const char *scope);
/* Revoke every token whose scope starts with prefix. */
int ctl_store_token_revoke_prefix(struct ctl_store *s, const char *prefix);

#endif
