/* mmctld's REST API over libmicrohttpd: routing, auth, JSON errors. */
#ifndef CTL_API_H
#define CTL_API_H

#include <jansson.h>
#include <stdbool.h>

#include "control/auth.h"
#include "control/ctl.h"

#define CTL_API_BODY_MAX (64 * 1024)
/* An SDP answer (POST .../answer) grows with the room: about 1 KiB per
 * m-line, three per other participant. */
#define CTL_API_ANSWER_MAX (1024 * 1024)
/* libmicrohttpd's memory per connection: request line and headers. */
#define CTL_API_HEADER_MAX (32 * 1024)

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

/* What a handler answers: status and a JSON body (owned). */
struct api_reply {
	int status;
	json_t *body;
	struct MHD_Response *stream;   /* a streaming reply (SSE) instead of body */
};

/* One authenticated request, as the handlers see it. */
struct api_req {
	struct ctl *c;
	const char *method;
	const char *parts[6];      /* path segments after /v1 */
	int nparts;
	const char *body;          /* NUL-terminated, may be empty */
	size_t body_len;
	struct ctl_scope scope;
	char token_hash[65];
	struct MHD_Connection *conn;
};

/* Who is acting, as far as a meeting is concerned. */
struct api_actor {
	bool moderator;            /* operator, the room's tenant, host or moderator */
	bool manager;              /* operator or the room's tenant */
	bool host;                 /* a participant with role host */
	char participant[CTL_ID_MAX];  /* participant tokens: who; else "" */
	char by[CTL_ID_MAX];       /* for events: participant id, "operator", "tenant" */
};

int ctl_api_start(struct ctl *c, struct MHD_Daemon **out);
/* Ends the event streams, then stops the daemon. */
void ctl_api_stop(struct ctl *c, struct MHD_Daemon *d);

/* Set an error reply {"error":{"code":..,"message":..}}. */
void api_error(struct api_reply *rep, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Parse the body as a JSON object: NULL with rep set on failure. */
json_t *api_body_object(const struct api_req *rq, struct api_reply *rep);

/* One allowed field of a request body. */
enum api_type { API_STRING, API_INT, API_OBJECT, API_BOOL, API_ARRAY };
struct api_field {
	const char *name;
	enum api_type type;
	bool required;
};
/* Reject unknown fields, wrong types and missing required fields (400). */
int api_check_fields(json_t *obj, const char *path, const struct api_field *f, size_t n,
		     struct api_reply *rep);

/* Shared by the room and participant handlers. Each sets rep on failure. */
int api_room_load(struct api_req *rq, bool change, struct ctl_room *r, struct api_reply *rep);
int api_mmdp_ready(struct api_req *rq, struct api_reply *rep);
/* While mmctld drains (SIGTERM): 503 draining, for what would start a
 * meeting (a room's creation, the first join into a room). 0 otherwise. */
int api_refuse_draining(struct api_req *rq, struct api_reply *rep);
int api_begin(struct api_req *rq, struct api_reply *rep);
/* Push req (stolen) to mmdp, then commit (or roll back: 502 / 503). */
int api_push_commit(struct api_req *rq, json_t *req, struct api_reply *rep);
/* The same for a deletion mmdp may already have made by itself (a block
 * or ban it expired): its not_found counts as done. */
int api_push_del_commit(struct api_req *rq, json_t *req, struct api_reply *rep);
json_t *api_participant_json(const struct ctl *c, const struct ctl_participant *p);
/* max_resolution names, by max_layer. */
extern const char *const api_resolutions[3];
/* {"op":"room.put",...} for r. */
json_t *api_room_put(const struct ctl_room *r);
void api_participant_join(struct api_req *rq, struct api_reply *rep);
void api_participant_leave(struct api_req *rq, struct api_reply *rep);

/* Query parameter name as an integer in [lo, hi] (def when absent). */
int api_query_int(struct api_req *rq, const char *name, int64_t def, int64_t lo, int64_t hi,
		  int64_t *out, struct api_reply *rep);
/* The actor for room r (participant tokens: must be in it). */
int api_actor_load(struct api_req *rq, const struct ctl_room *r, struct api_actor *a,
		   struct api_reply *rep);
/* Load participant parts[3] of room r; 404 in rep otherwise. */
int api_participant_load(struct api_req *rq, const struct ctl_room *r,
			 struct ctl_participant *p, struct api_reply *rep);
/* Commit (no mmdp push); 500 in rep on failure. */
int api_commit(struct api_req *rq, struct api_reply *rep);
/* Parse a "streams" array into p->src (nothing published when s is NULL):
 * at most one source per kind, 1..3 simulcast layers (camera, screen),
 * RTX, codec, audio level id; SSRCs unique, at most 8 streams. */
int api_parse_streams(json_t *s, struct ctl_participant *p, struct api_reply *rep);
/* "rtx_pt" and "max_resolution" of body b (when present) into p. */
int api_parse_endpoint_opts(json_t *b, struct ctl_participant *p, struct api_reply *rep);
void api_reply_participant(struct api_req *rq, const struct ctl_participant *p,
			   struct api_reply *rep);

void api_streams_put(struct api_req *rq, const struct ctl_room *r, const struct api_actor *a,
		     struct ctl_participant *p, json_t *b, struct api_reply *rep);
void api_subscriptions_put(struct api_req *rq, const struct ctl_room *r,
			   const struct api_actor *a, struct ctl_participant *p, json_t *b,
			   struct api_reply *rep);

/* Browsers (api_webrtc.c): make p a browser participant (mmdp's ICE
 * credentials for it; 503 without mmdp's DTLS fingerprint); GET .../offer;
 * POST .../answer; the "webrtc" object of the join reply (after
 * ctl_webrtc_refresh made the offer). */
int api_webrtc_prepare(struct api_req *rq, struct ctl_participant *p, struct api_reply *rep);
void api_webrtc_offer(struct api_req *rq, struct api_reply *rep);
void api_webrtc_answer(struct api_req *rq, struct api_reply *rep);
json_t *api_webrtc_join_json(struct ctl *c, const struct ctl_participant *p);
/* The meeting page's static files (www.c): GET /meet, /meet/<file> from
 * cfg.www_root. Sets rep (a file response in rep->stream, or an error). */
void api_www(struct ctl *c, const char *url, const char *method, struct api_reply *rep);

void api_rooms(struct api_req *rq, struct api_reply *rep);
void api_room_end(struct api_req *rq, struct api_reply *rep);
void api_participant_get(struct api_req *rq, struct api_reply *rep);
void api_participant_action(struct api_req *rq, struct api_reply *rep);
void api_mute_all(struct api_req *rq, struct api_reply *rep);
void api_chat(struct api_req *rq, struct api_reply *rep);
void api_events(struct api_req *rq, struct api_reply *rep);
void api_invite_create(struct api_req *rq, struct api_reply *rep);
void api_invite_join(struct api_req *rq, struct api_reply *rep);
void api_blocks(struct api_req *rq, struct api_reply *rep);
void api_guard(struct api_req *rq, struct api_reply *rep);
void api_bans(struct api_req *rq, struct api_reply *rep);
void api_clock(struct api_req *rq, struct api_reply *rep);
void api_tokens(struct api_req *rq, struct api_reply *rep);
/* Create a token for scope (expires_at 0 = never) into token/id. */
int api_token_issue(struct ctl *c, const char *scope, int64_t expires_at,
		    char *token, size_t tcap, char *id, size_t icap);

/* Webhooks (api_webhooks.c): /v1/webhooks[/{id}[/deliveries]]. */
void api_webhooks(struct api_req *rq, struct api_reply *rep);
/* Reports (api_reports.c): GET /v1/reports/{online,meetings,meetings/{id},rooms}. */
void api_reports(struct api_req *rq, struct api_reply *rep);
/* Join tokens and fixed rooms' access lists (issue 9 item 1;
 * api_jointokens.c, jwt.c). */
#include "control/store.h"
/* A tenant's HMAC key for join tokens: its join secret as 64 lowercase
 * hex characters, used as they are (the string the app got, as JWT
 * libraries take a secret), not decoded. */
#define CTL_JOIN_KEY_LEN (2 * CTL_JOIN_SECRET_LEN)
void ctl_tenant_join_key(const struct ctl_tenant *t, char out[CTL_JOIN_KEY_LEN + 1]);
/* POST /v1/join: an invite or a join token. */
void api_join(struct api_req *rq, struct api_reply *rep);
/* Room r's access list admits account (NULL: an invite -> 403
 * join_token_required; "": nobody named -> 403 not_allowed)? */
int api_access_check(struct api_req *rq, const struct ctl_room *r, const char *account,
		    struct api_reply *rep);
/* account is one of room r's tenant's accounts (else 403 not_allowed). */
int api_room_account(struct api_req *rq, const struct ctl_room *r, const char *account,
		     struct api_reply *rep);
/* A participant joins room r as role: the room's access list (for account:
 * NULL an invite, "" nobody named, else the tenant's account, stored as
 * the participant's), capacity and plan admit it, then the store, mmdp
 * and the reply (201 with token and transport). */
void api_join_room_as(struct api_req *rq, const struct ctl_room *r, const char *role,
		      const char *account, json_t *b, struct api_reply *rep);
/* Tenants, plans and contracts (issue 9 items 1-3: api_tenants.c,
 * api_contracts.c, plans.c). */
void api_tenants(struct api_req *rq, struct api_reply *rep);
void api_tenant_register(struct api_req *rq, struct api_reply *rep);
void api_contract(struct api_req *rq, struct api_reply *rep);
void api_quote(struct api_req *rq, struct api_reply *rep);
void api_room_access(struct api_req *rq, struct api_reply *rep);
/* Tenant id (the operator; or, unless operator_only, its own token). */
int api_tenant_load(struct api_req *rq, const char *id, bool operator_only,
		    struct ctl_tenant *t, struct api_reply *rep);
json_t *api_tenant_json(const struct ctl_tenant *t);
json_t *api_account_json(const struct ctl_account *a);
/* Field checks (400 in rep): a 1..128-byte name; an email (lower-cased). */
int api_name_field(json_t *v, const char *path, char *dst, size_t cap, struct api_reply *rep);
int api_email_field(json_t *v, const char *path, char *dst, size_t cap, struct api_reply *rep);
/* Base64url without padding of n bytes into out. */
void api_b64url(const uint8_t *in, size_t n, char *out, size_t cap);

#endif
