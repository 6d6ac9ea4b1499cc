/* Webhooks: the outbox writer (ctl_webhook_emit and the meeting hooks) and
 * the delivery thread.
 *
 * An event is written as one delivery row per webhook that wants it, in the
 * transaction of the change it tells of, so a receiver never hears of a
 * change that rolled back and never misses one that committed, even across
 * a crash or restart. The thread takes the due rows under c->lock, lets go
 * of it, POSTs them (all at once, with curl's multi interface), then takes
 * the lock again to write what came of each. Each webhook gets its events
 * in order: only its oldest pending delivery is ever in flight, and later
 * ones wait while it is retried. */
#include "control/webhook.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/auth.h"

const char *const ctl_webhook_types[] = {
	"meeting.started", "meeting.ended", "participant.joined", "participant.left",
	"contract.expiring", NULL,
};

#define WH_BATCH_MAX 64          /* deliveries in flight at once (one per webhook) */
#define WH_RETRIES_MAX 1024      /* retries timed in ms; more wait for their next_at */
#define WH_IDLE_MS 1000          /* look again at least this often (the test clock moves) */
#define WH_KEEP_SECONDS (7 * 86400) /* finished deliveries are shown this long */
#define WH_PRUNE_MS (3600 * 1000)

/* The thread's state. kick and stop under lock; stop also read atomically
 * while a batch is in flight. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kick;
	bool stop;
	bool running;
	pthread_t thread;
	struct ctl *c;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void wh_kick(void)
{
	pthread_mutex_lock(&W.lock);
	W.kick = true;
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
}

int ctl_webhook_emit(struct ctl *c, const char *tenant, const char *type, json_t *data)
{
	char eid[CTL_ID_MAX];
	int n = 0;
	size_t k;
	if (!data)
		return -ENOMEM;
	for (k = 0; ctl_webhook_types[k] && strcmp(ctl_webhook_types[k], type); k++)
		;
	if (!ctl_webhook_types[k]) {
		/* A caller's typo would otherwise reach only "*" webhooks, quietly. */
		mm_err("webhook_unknown_type", "type=%s", mm_q(type));
		json_decref(data);
		return -EINVAL;
	}
	int64_t now = ctl_now(c);
	int rc = ctl_random_id("ev", 8, eid, sizeof(eid));
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_t *body = json_pack("{s:s,s:s,s:I,s:o,s:o}", "id", eid, "type", type, "created_at",
				 (json_int_t)now, "tenant",
				 tenant[0] ? json_string(tenant) : json_null(), "data", data);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return -ENOMEM;
	rc = ctl_store_delivery_enqueue(c->store, tenant, type, eid, text, now, &n);
	free(text);
	/* The thread takes c->lock before it reads the outbox, so it sees the
	 * rows only once this change committed (or not at all). */
	if (!rc && n > 0)
		wh_kick();
	return rc;
}

/* ---- the meeting lifecycle's events ---- */

static json_t *room_data(const struct ctl_room *r)
{
	return json_pack("{s:s,s:s,s:I}", "room", r->id, "room_name", r->name, "meeting",
			 (json_int_t)r->meeting);
}

static json_t *participant_data(const struct ctl_room *r, const struct ctl_participant *p)
{
	json_t *o = room_data(r);
	if (o && json_object_update_new(o, json_pack("{s:s,s:s,s:s,s:o,s:I}", "participant", p->id,
						      "display_name", p->display_name, "role",
						      p->role, "account",
						      p->account[0] ? json_string(p->account) :
						      json_null(), "joined_at",
						      (json_int_t)p->joined_at))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* participant.left for p, leaving at now. */
static int emit_left(struct ctl *c, const struct ctl_room *r, json_t *d, int64_t now,
		     const char *how, const char *reason)
{
	if (!d)
		return -ENOMEM;
	json_int_t joined = json_integer_value(json_object_get(d, "joined_at"));
	json_object_set_new(d, "left_at", json_integer(now));
	json_object_set_new(d, "duration", json_integer(now - joined > 0 ? now - joined : 0));
	json_object_set_new(d, "how", json_string(how));
	if (reason)
		json_object_set_new(d, "reason", json_string(reason));
	return ctl_webhook_emit(c, r->tenant, "participant.left", d);
}

static int emit_ended(struct ctl *c, const struct ctl_room *r, int64_t now, const char *reason,
		      const char *by)
{
	json_t *d = room_data(r);
	if (!d)
		return -ENOMEM;
	json_object_set_new(d, "started_at", json_integer(r->started_at));
	json_object_set_new(d, "ended_at", json_integer(now));
	json_object_set_new(d, "duration", json_integer(now - r->started_at > 0 ?
							now - r->started_at : 0));
	json_object_set_new(d, "reason", json_string(reason));
	json_object_set_new(d, "by", by && by[0] ? json_string(by) : json_null());
	return ctl_webhook_emit(c, r->tenant, "meeting.ended", d);
}

int ctl_webhook_on_joined(struct ctl *c, const struct ctl_room *r,
			  const struct ctl_participant *p)
{
	int rc = 0;
	if (!r->started_at) {
		/* This join starts the meeting: the meeting first, then who is in
		 * it (and at the end the other way round). */
		json_t *d = room_data(r);
		if (d) {
			json_object_set_new(d, "started_at",
					    json_integer(p->joined_at ? p->joined_at : ctl_now(c)));
			json_object_set_new(d, "by", json_string(p->id));
		}
		rc = ctl_webhook_emit(c, r->tenant, "meeting.started", d);
	}
	return rc ? rc : ctl_webhook_emit(c, r->tenant, "participant.joined",
					  participant_data(r, p));
}

int ctl_webhook_on_left(struct ctl *c, const struct ctl_room *r,
			const struct ctl_participant *p, const char *how)
{
	int64_t now = ctl_now(c);
	int n = 0;
	int rc = emit_left(c, r, participant_data(r, p), now, how, NULL);
	if (!rc)
		rc = ctl_store_participant_count(c->store, r->id, &n);
	if (rc || n > 0 || !r->started_at)
		return rc;
	return emit_ended(c, r, now, "empty", p->id);
}

static int collect_participant(void *arg, const struct ctl_participant *p)
{
	struct { const struct ctl_room *r; json_t *arr; } *a = arg;
	json_t *d = participant_data(a->r, p);
	return d && !json_array_append_new(a->arr, d) ? 0 : -ENOMEM;
}

int ctl_webhook_on_end(struct ctl *c, const struct ctl_room *r, const char *reason,
		       const char *by)
{
	struct { const struct ctl_room *r; json_t *arr; } a = { r, json_array() };
	int64_t now = ctl_now(c);
	size_t i;
	json_t *d;
	if (!a.arr)
		return -ENOMEM;
	/* Read them all before emitting: no insert while the list is read. */
	int rc = ctl_store_participant_list(c->store, r->id, collect_participant, &a);
	json_array_foreach(a.arr, i, d) {
		if (rc)
			break;
		rc = emit_left(c, r, json_incref(d), now, "ended", reason);
	}
	json_decref(a.arr);
	if (!rc && r->started_at)
		rc = emit_ended(c, r, now, reason, by);
	return rc;
}

/* ---- signing ---- */

int ctl_webhook_sign(const char *secret, int64_t t, const char *body, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char ts[24];
	int tl = snprintf(ts, sizeof(ts), "%lld.", (long long)t);
	size_t bl = strlen(body);
	unsigned char *msg = malloc((size_t)tl + bl);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, ts, (size_t)tl);
	memcpy(msg + tl, body, bl);
	unsigned char *ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, (size_t)tl + bl,
				 md, &mdlen);
	free(msg);
	if (!ok || mdlen != 32 || cap < 96)
		return -EIO;
	int n = snprintf(out, cap, "t=%lld,v1=", (long long)t);
	for (unsigned i = 0; i < mdlen; i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	out[n] = '\0';
	return 0;
}

/* ---- the delivery thread ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When a delivery attempted by this process is due again, by the monotonic
 * clock (backoffs are shorter than the stored seconds can say). Deliveries
 * not here (new ones, or from before a restart) are due by their next_at. */
struct wh_retry {
	char id[CTL_ID_MAX];
	int64_t due_ms;
	bool seen;                 /* still a head in this round */
};

/* One request in flight (a slot of the thread's table). */
struct wh_job {
	bool used;
	bool done;
	struct ctl_delivery d;     /* d.body points at body */
	char *body;
	char url[CTL_URL_MAX];
	char secret[CTL_WEBHOOK_SECRET_MAX];
	CURL *easy;
	struct curl_slist *hdrs;
	CURLcode res;
	long status;
	char errbuf[CURL_ERROR_SIZE];
	const struct ctl_config *cfg; /* webhook_allow_nets */
	char refused[160];            /* why the destination was refused */
};

struct wh_state {
	struct ctl *c;
	CURLM *multi;
	struct wh_job *jobs;       /* WH_BATCH_MAX slots */
	size_t inflight;
	struct wh_retry *retries;  /* WH_RETRIES_MAX */
	size_t nretries;
	int64_t now, mono, wait_ms;
};

static bool stopping(void)
{
	return __atomic_load_n(&W.stop, __ATOMIC_RELAXED);
}

static struct wh_retry *retry_find(struct wh_state *w, const char *id)
{
	for (size_t i = 0; i < w->nretries; i++)
		if (!strcmp(w->retries[i].id, id))
			return &w->retries[i];
	return NULL;
}

static void wait_at_most(struct wh_state *w, int64_t ms)
{
	if (ms < w->wait_ms)
		w->wait_ms = ms < 10 ? 10 : ms;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* curl's socket for a connection about to be made to addr: refused (no
 * socket, so no connection) when the destination is in a special-purpose
 * range that webhook_allow_nets does not open (control/netpolicy.h). Here
 * the name is resolved already, so a host name pointing at 127.0.0.1 or
 * the carrier's own nets is caught, and so is every address of a name
 * that has several. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct wh_job *j = arg;
	const char *why = NULL;
	if (purpose == CURLSOCKTYPE_IPCXN &&
	    !ctl_webhook_dest_allowed(&addr->addr, j->cfg->webhook_allow, j->cfg->n_webhook_allow,
				      &why)) {
		char host[INET6_ADDRSTRLEN] = "?";
		if (addr->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&addr->addr)->sin_addr, host,
				  sizeof(host));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr->addr)->sin6_addr, host,
				  sizeof(host));
		snprintf(j->refused, sizeof(j->refused), "destination %s refused: %s "
			 "(webhook_allow_nets)", host, why);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static int job_prepare(struct wh_job *j, int64_t t)
{
	char sig[128], h[200];
	if (ctl_webhook_sign(j->secret, t, j->body, sig, sizeof(sig)))
		return -EIO;
	j->easy = curl_easy_init();
	if (!j->easy)
		return -ENOMEM;
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(h, sizeof(h), "X-MM-Signature: %s", sig);
	l = l ? curl_slist_append(l, h) : NULL;
	snprintf(h, sizeof(h), "X-MM-Event: %s", j->d.type);
	l = l ? curl_slist_append(l, h) : NULL;
	snprintf(h, sizeof(h), "X-MM-Delivery: %s", j->d.id);
	l = l ? curl_slist_append(l, h) : NULL;
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	l = l ? curl_slist_append(l, "Expect:") : NULL;
	if (!l)
		return -ENOMEM;
	j->hdrs = l;
	curl_easy_setopt(j->easy, CURLOPT_URL, j->url);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->body));
	curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "mmctld-webhooks/1");
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CTL_WEBHOOK_CONNECT_MS);
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)CTL_WEBHOOK_TIMEOUT_MS);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(j->easy, CURLOPT_OPENSOCKETDATA, j);
	/* Never follow a redirect: it would lead past the check above only
	 * in that it is a second request the receiver chose (curl's default
	 * is not to follow; said here so that nobody turns it on). */
	curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}

static void job_release(struct wh_state *w, struct wh_job *j)
{
	if (j->easy) {
		curl_multi_remove_handle(w->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->hdrs);
	free(j->body);
	memset(j, 0, sizeof(*j));
	w->inflight--;
}

/* A head of the outbox: in flight already, due now (a new request), or
 * how long until it is. */
static int take_head(void *arg, const struct ctl_delivery *d, const struct ctl_webhook *wh)
{
	struct wh_state *w = arg;
	struct wh_retry *rt = retry_find(w, d->id);
	struct wh_job *free_slot = NULL;
	if (rt)
		rt->seen = true;
	for (size_t i = 0; i < WH_BATCH_MAX; i++) {
		if (w->jobs[i].used && !strcmp(w->jobs[i].d.id, d->id))
			return 0;
		if (!w->jobs[i].used && !free_slot)
			free_slot = &w->jobs[i];
	}
	if (rt && rt->due_ms > w->mono) {
		wait_at_most(w, rt->due_ms - w->mono);
		return 0;
	}
	if (!rt && d->next_at > w->now) {
		wait_at_most(w, (d->next_at - w->now) * 1000);
		return 0;
	}
	if (!free_slot) {
		wait_at_most(w, 0);
		return 0;
	}
	struct wh_job *j = free_slot;
	j->body = strdup(d->body);
	if (!j->body)
		return -ENOMEM;
	j->used = true;
	w->inflight++;
	j->d = *d;
	j->d.body = j->body;
	snprintf(j->url, sizeof(j->url), "%s", wh->url);
	snprintf(j->secret, sizeof(j->secret), "%s", wh->secret);
	j->cfg = &w->c->cfg;
	j->refused[0] = '\0';
	if (job_prepare(j, w->now) || curl_multi_add_handle(w->multi, j->easy)) {
		/* Counts as an attempt that failed (and is retried). */
		j->done = true;
		j->res = CURLE_OUT_OF_MEMORY;
		snprintf(j->errbuf, sizeof(j->errbuf), "cannot prepare the request");
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	explicit_bzero(j->secret, sizeof(j->secret));
	return 0;
}

/* The delay before attempt a + 1 (a >= 1 attempts made): base, doubling,
 * capped. */
static int64_t backoff_ms(const struct ctl *c, int a)
{
	int64_t ms = c->cfg.webhook_retry_base_ms;
	for (int i = 1; i < a && ms < CTL_WEBHOOK_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < CTL_WEBHOOK_BACKOFF_MAX_MS ? ms : CTL_WEBHOOK_BACKOFF_MAX_MS;
}

/* What came of job j: its row's new state (and a retry's monotonic due). */
static void job_outcome(struct wh_state *w, struct wh_job *j)
{
	struct ctl *c = w->c;
	struct ctl_delivery *d = &j->d;
	d->attempts++;
	d->last_status = j->res == CURLE_OK ? (int)j->status : 0;
	if (j->res == CURLE_OK && j->status >= 200 && j->status < 300) {
		snprintf(d->status, sizeof(d->status), "delivered");
		d->last_error[0] = '\0';
		d->done_at = w->now;
		return;
	}
	if (j->res != CURLE_OK)
		snprintf(d->last_error, sizeof(d->last_error), "%.*s",
			 (int)sizeof(d->last_error) - 1,
			 j->refused[0] ? j->refused : j->errbuf[0] ? j->errbuf : curl_easy_strerror(j->res));
	else
		snprintf(d->last_error, sizeof(d->last_error), "HTTP %ld", j->status);
	if (d->attempts >= c->cfg.webhook_max_attempts) {
		snprintf(d->status, sizeof(d->status), "failed");
		d->done_at = w->now;
		mm_warn("webhook_delivery_failed", "webhook=%s delivery=%s type=%s attempts=%d "
			"error=%s", mm_q(d->webhook), mm_q(d->id), mm_q(d->type), d->attempts,
			mm_q(d->last_error));
		return;
	}
	int64_t ms = backoff_ms(c, d->attempts);
	d->next_at = w->now + (ms + 999) / 1000;
	struct wh_retry *rt = retry_find(w, d->id);
	if (!rt && w->nretries < WH_RETRIES_MAX)
		rt = &w->retries[w->nretries++];
	if (!rt)
		return;  /* no room: due by its next_at, a little later */
	snprintf(rt->id, sizeof(rt->id), "%s", d->id);
	rt->due_ms = mono_ms() + ms;
	rt->seen = true;
}

/* Write what came of the finished requests, in one transaction, and free
 * their slots. A row that is gone (its webhook was deleted meanwhile) is
 * skipped. */
static void record(struct wh_state *w)
{
	struct ctl *c = w->c;
	pthread_mutex_lock(&c->lock);
	w->now = ctl_now(c);
	int rc = ctl_store_begin(c->store);
	for (size_t i = 0; !rc && i < WH_BATCH_MAX; i++) {
		struct wh_job *j = &w->jobs[i];
		if (!j->used || !j->done)
			continue;
		job_outcome(w, j);
		rc = ctl_store_delivery_update(c->store, &j->d);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (!rc)
		rc = ctl_store_commit(c->store);
	if (rc) {
		ctl_store_rollback(c->store);
		mm_err("webhook_record_failed", "error=%s", mm_q(strerror(-rc)));
	}
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < WH_BATCH_MAX; i++)
		if (w->jobs[i].used && w->jobs[i].done)
			job_release(w, &w->jobs[i]);
}

/* Start what is due (under c->lock: the outbox as committed). */
static void take_due(struct wh_state *w)
{
	w->wait_ms = WH_IDLE_MS;
	for (size_t i = 0; i < w->nretries; i++)
		w->retries[i].seen = false;
	pthread_mutex_lock(&w->c->lock);
	w->now = ctl_now(w->c);
	w->mono = mono_ms();
	int rc = ctl_store_delivery_heads(w->c->store, take_head, w);
	pthread_mutex_unlock(&w->c->lock);
	if (rc) {
		mm_err("webhook_outbox_failed", "error=%s", mm_q(strerror(-rc)));
		return;
	}
	/* Retries of deliveries that are no longer heads (delivered, failed,
	 * deleted) are forgotten. */
	size_t k = 0;
	for (size_t i = 0; i < w->nretries; i++)
		if (w->retries[i].seen)
			w->retries[k++] = w->retries[i];
	w->nretries = k;
}

/* Let curl work for up to ms; note the finished requests. */
static bool transfer(struct wh_state *w, int64_t ms)
{
	CURLMsg *msg;
	int running = 0, q;
	bool any = false;
	curl_multi_perform(w->multi, &running);
	if (running)
		curl_multi_poll(w->multi, NULL, 0, (int)ms, NULL);
	curl_multi_perform(w->multi, &running);
	while ((msg = curl_multi_info_read(w->multi, &q))) {
		struct wh_job *j = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		j->done = true;
		j->res = msg->data.result;
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
		any = true;
	}
	for (size_t i = 0; !any && i < WH_BATCH_MAX; i++)
		any = w->jobs[i].used && w->jobs[i].done;
	return any;
}

static void prune(struct ctl *c)
{
	int n = 0;
	pthread_mutex_lock(&c->lock);
	if (!ctl_store_begin(c->store)) {
		if (ctl_store_delivery_prune(c->store, ctl_now(c) - WH_KEEP_SECONDS, &n) ||
		    ctl_store_commit(c->store))
			ctl_store_rollback(c->store);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Nothing in flight: wait for a kick, stop or ms. Clears the kick. */
static void wh_wait(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&W.lock);
	while (!W.stop && !W.kick && pthread_cond_timedwait(&W.cond, &W.lock, &ts) == 0)
		;
	pthread_mutex_unlock(&W.lock);
}

static bool kicked(void)
{
	pthread_mutex_lock(&W.lock);
	bool k = W.kick;
	W.kick = false;
	pthread_mutex_unlock(&W.lock);
	return k;
}

/* Requests run side by side, one per webhook at most: a receiver that
 * stalls holds up only its own webhook's next events. While some are in
 * flight, new events are looked for every WH_INFLIGHT_POLL_MS. */
#define WH_INFLIGHT_POLL_MS 50

static void *wh_main(void *arg)
{
	struct wh_state w = { .c = arg };
	int64_t last_prune = 0, next_look = 0;
	w.multi = curl_multi_init();
	w.jobs = calloc(WH_BATCH_MAX, sizeof(*w.jobs));
	w.retries = calloc(WH_RETRIES_MAX, sizeof(*w.retries));
	if (!w.multi || !w.jobs || !w.retries) {
		mm_err("webhook_thread_no_memory", NULL);
		goto out;
	}
	while (!stopping()) {
		if (mono_ms() - last_prune >= WH_PRUNE_MS) {
			prune(w.c);
			last_prune = mono_ms();
		}
		if (kicked() || mono_ms() >= next_look) {
			take_due(&w);
			next_look = mono_ms() + w.wait_ms;
		}
		int64_t left = next_look - mono_ms();
		if (left < 0)
			left = 0;
		if (w.inflight) {
			if (transfer(&w, left < WH_INFLIGHT_POLL_MS ? left : WH_INFLIGHT_POLL_MS)) {
				record(&w);
				next_look = 0;  /* a webhook's next event may go now */
			}
		} else if (left > 0) {
			wh_wait(left);
		}
	}
	/* Requests still in flight are abandoned: not recorded, so they are
	 * sent again after the restart (receivers drop the duplicate id). */
	for (size_t i = 0; i < WH_BATCH_MAX; i++)
		if (w.jobs[i].used)
			job_release(&w, &w.jobs[i]);
out:
	if (w.multi)
		curl_multi_cleanup(w.multi);
	free(w.jobs);
	free(w.retries);
	return NULL;
}

int ctl_webhook_start(struct ctl *c)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	W.c = c;
	W.stop = false;
	W.kick = true;  /* deliveries left from before a restart */
	if (pthread_create(&W.thread, NULL, wh_main, c)) {
		curl_global_cleanup();
		return -EAGAIN;
	}
	W.running = true;
	return 0;
}

static int count_untried(void *arg, const struct ctl_delivery *d, const struct ctl_webhook *wh)
{
	(void)wh;
	if (d->attempts == 0)
		(*(int *)arg)++;
	return 0;
}

int ctl_webhook_flush(struct ctl *c, int ms)
{
	int64_t until = mono_ms() + ms;
	for (;;) {
		int n = 0;
		pthread_mutex_lock(&c->lock);
		int rc = ctl_store_delivery_heads(c->store, count_untried, &n);
		pthread_mutex_unlock(&c->lock);
		if (rc)
			return -1;
		if (!n || !W.running || mono_ms() >= until)
			return n;
		wh_kick();
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

void ctl_webhook_stop(void)
{
	if (!W.running)
		return;
	pthread_mutex_lock(&W.lock);
	__atomic_store_n(&W.stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
	pthread_join(W.thread, NULL);
	W.running = false;
	curl_global_cleanup();
}
