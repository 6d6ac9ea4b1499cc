/* Prometheus metrics (metrics.h, docs/metrics.md): the exposition text,
 * the snapshot of mmdp's counters the ticker renders at each sample, the
 * API's and the agent calls' histograms, and the /metrics listener.
 *
 * Label values are bounded by construction: route templates from a fixed
 * table, five methods, status classes, agent ops mmctld itself sends (at
 * most MET_OPS_MAX names), drop reasons and guard verdicts from mmdp's
 * fixed enums, worker numbers. No room, participant or address is ever a
 * label. */
#include "control/metrics.h"

#include "control/history.h"
#include "dataplane/core/agent_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ buffer --- */

/* A growing text buffer; a failed allocation sets oom and drops the rest. */
struct mb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void mb_printf(struct mb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 8192;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static void mb_family(struct mb *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the exposition format wants it (\\, \" and \n escaped);
 * ours are short identifiers, cut at 63 bytes. */
static const char *lv(const char *s, char out[128])
{
	size_t o = 0;
	for (; s && *s && o < 126 && o < 63 * 2; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\n' ? 'n' : *s;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return out;
}

/* --------------------------------------------------------- histograms --- */

#define MET_BUCKETS_MAX 16

struct met_hist {
	uint64_t counts[MET_BUCKETS_MAX]; /* per bucket, not cumulative (+Inf last) */
	uint64_t count;
	double sum;
};

static void hist_observe(struct met_hist *h, const double *bounds, int nb, double v)
{
	int i = 0;
	while (i < nb && v > bounds[i])
		i++;
	h->counts[i]++;   /* i == nb: +Inf */
	h->count++;
	h->sum += v;
}

/* One histogram's series; labels: "" or `a="x",b="y"`. */
static void hist_render(struct mb *b, const char *name, const char *labels,
			const struct met_hist *h, const double *bounds, int nb)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;
	for (int i = 0; i < nb; i++) {
		cum += h->counts[i];
		mb_printf(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels, sep, bounds[i], cum);
	}
	mb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep, h->count);
	mb_printf(b, "%s_sum%s%s%s %.9g\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		  h->sum);
	mb_printf(b, "%s_count%s%s%s %" PRIu64 "\n", name, labels[0] ? "{" : "", labels,
		  labels[0] ? "}" : "", h->count);
}

/* Request latencies: 1 ms .. 2.5 s. */
static const double api_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				     0.5, 1, 2.5 };
#define API_NB ((int)(sizeof(api_bounds) / sizeof(api_bounds[0])))
/* Agent round trips: 100 us (a local Unix socket) .. 5 s (the client's
 * timeout). */
static const double agent_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
				       0.025, 0.05, 0.1, 0.5, 1, 5 };
#define AGENT_NB ((int)(sizeof(agent_bounds) / sizeof(agent_bounds[0])))
/* An endpoint's loss over one sample interval, as a fraction: 0 exactly
 * is its own bucket (most intervals of a healthy call). */
static const double loss_bounds[] = { 0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1 };
#define LOSS_NB ((int)(sizeof(loss_bounds) / sizeof(loss_bounds[0])))
/* An endpoint's interarrival jitter (RFC 3550, its worst stream). */
static const double jitter_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1,
					0.2, 0.5 };
#define JITTER_NB ((int)(sizeof(jitter_bounds) / sizeof(jitter_bounds[0])))

/* --------------------------------------------------------- API routes --- */

/* The paths of docs/openapi.yaml; "{x}" matches one segment. */
static const char *const routes[] = {
	"/v1/rooms", "/v1/rooms/{room}", "/v1/rooms/{room}/end",
	"/v1/rooms/{room}/participants", "/v1/rooms/{room}/participants/{participant}",
	"/v1/rooms/{room}/participants/{participant}/role",
	"/v1/rooms/{room}/participants/{participant}/resolution",
	"/v1/rooms/{room}/participants/{participant}/streams",
	"/v1/rooms/{room}/participants/{participant}/subscriptions",
	"/v1/rooms/{room}/participants/{participant}/mute",
	"/v1/rooms/{room}/participants/{participant}/unmute", "/v1/rooms/{room}/mute",
	"/v1/rooms/{room}/participants/{participant}/kick",
	"/v1/rooms/{room}/participants/{participant}/hand", "/v1/rooms/{room}/chat",
	"/v1/rooms/{room}/invites", "/v1/rooms/{room}/participants/{participant}/offer",
	"/v1/rooms/{room}/participants/{participant}/answer", "/meet", "/v1/join",
	"/v1/rooms/{room}/events", "/v1/tokens", "/v1/tokens/{token}", "/v1/blocks",
	"/v1/blocks/{block}", "/v1/guard", "/v1/bans", "/v1/bans/{ban}",
	"/v1/rooms/{room}/access", "/v1/clock", "/v1/tenants", "/v1/tenants/{tenant}",
	"/v1/tenants/{tenant}/units", "/v1/tenants/{tenant}/units/{unit}",
	"/v1/tenants/{tenant}/accounts", "/v1/tenants/{tenant}/accounts/{account}",
	"/v1/tenants/{tenant}/events", "/v1/tenants/{tenant}/contract",
	"/v1/tenants/{tenant}/contract/renew", "/v1/tenants/{tenant}/contract/change",
	"/v1/tenants/{tenant}/contract/cancel", "/v1/quote", "/v1/reports/online",
	"/v1/reports/meetings", "/v1/reports/meetings/{meeting}", "/v1/reports/rooms",
	"/v1/webhooks", "/v1/webhooks/{webhook}", "/v1/webhooks/{webhook}/deliveries",
};
#define N_ROUTES ((int)(sizeof(routes) / sizeof(routes[0])))
#define ROUTE_OTHER N_ROUTES

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "other" };
#define N_METHODS ((int)(sizeof(methods) / sizeof(methods[0])))
static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
#define N_CLASSES 5

static int route_of_meet(void)
{
	for (int i = 0; i < N_ROUTES; i++)
		if (!strcmp(routes[i], "/meet"))
			return i;
	return ROUTE_OTHER;
}

/* The route of url (query already stripped by libmicrohttpd). A segment
 * matches "{x}" when it is non-empty; "/meet/..." are the page's files. */
static int route_of(const char *raw)
{
	/* As api.c splits paths: empty segments ("//", a trailing "/") are
	 * not there. */
	char url[512];
	size_t o = 0;
	for (const char *p = raw; *p && o < sizeof(url) - 1; p++)
		if (*p != '/' || (p[1] && p[1] != '/'))
			url[o++] = *p;
	url[o] = '\0';
	if (!strcmp(url, "/meet") || !strncmp(url, "/meet/", 6))
		return route_of_meet();
	for (int i = 0; i < N_ROUTES; i++) {
		const char *t = routes[i], *u = url;
		for (;;) {
			if (*t == '{') {
				const char *te = strchr(t, '}');
				size_t ul = strcspn(u, "/");
				if (!ul)
					break;
				t = te + 1;
				u += ul;
			} else if (*t != *u) {
				break;
			} else if (!*t) {
				return i;
			} else {
				t++;
				u++;
			}
		}
	}
	return ROUTE_OTHER;
}

static int method_of(const char *m)
{
	for (int i = 0; i < N_METHODS - 1; i++)
		if (!strcmp(m, methods[i]))
			return i;
	return N_METHODS - 1;
}

/* -------------------------------------------------------------- state --- */

#define MET_OPS_MAX 32   /* agent ops mmctld sends: far fewer */

static pthread_mutex_t met_lock = PTHREAD_MUTEX_INITIALIZER;
/* Under met_lock: */
static uint64_t api_requests[N_ROUTES + 1][N_METHODS][N_CLASSES];
static struct met_hist api_hist[N_ROUTES + 1][N_METHODS];
static char agent_ops[MET_OPS_MAX][32];
static int n_agent_ops;
static uint64_t agent_calls[MET_OPS_MAX + 1][3];   /* ok, refused, error */
static struct met_hist agent_hist[MET_OPS_MAX + 1];
static char *snapshot;      /* the ticker's last rendering */

/* The ticker's (under c->lock): the last counters of each endpoint mmdp
 * has (name -> [rx_packets, rx_bytes, tx_packets, tx_bytes, lost,
 * expected]) and the sums of those that are gone, so that the totals only
 * grow while endpoints come and go (and mmdp restarts). */
enum { EP_RXP, EP_RXB, EP_TXP, EP_TXB, EP_LOST, EP_EXP, EP_N };
static bool met_on;          /* the listener runs: the ticker samples for it */
static json_t *eps;
static int64_t retired[4];
static struct met_hist loss_hist, jitter_hist;
/* Each worker's cycles at the previous sample, for its busy ratio. */
#define MET_WORKERS_MAX 64
static int64_t prev_cycles[MET_WORKERS_MAX], prev_busy[MET_WORKERS_MAX];
static double ratio[MET_WORKERS_MAX] = { [0 ... MET_WORKERS_MAX - 1] = -1 };

void ctl_metrics_api(const char *method, const char *url, int status, double seconds)
{
	int r = route_of(url), m = method_of(method);
	int k = status >= 100 && status < 600 ? status / 100 - 1 : 4;
	pthread_mutex_lock(&met_lock);
	api_requests[r][m][k]++;
	hist_observe(&api_hist[r][m], api_bounds, API_NB, seconds);
	pthread_mutex_unlock(&met_lock);
}

void ctl_metrics_agent(const char *op, double seconds, int outcome)
{
	int i;
	pthread_mutex_lock(&met_lock);
	for (i = 0; i < n_agent_ops && strcmp(agent_ops[i], op); i++)
		;
	if (i == n_agent_ops) {
		if (n_agent_ops < MET_OPS_MAX && strlen(op) < sizeof(agent_ops[0]))
			snprintf(agent_ops[n_agent_ops++], sizeof(agent_ops[0]), "%s", op);
		else
			i = MET_OPS_MAX;   /* "other" */
	}
	agent_calls[i][outcome == 0 ? 0 : outcome > 0 ? 1 : 2]++;
	hist_observe(&agent_hist[i], agent_bounds, AGENT_NB, seconds);
	pthread_mutex_unlock(&met_lock);
}

/* ---------------------------------------------------- mmdp's snapshot --- */

/* mmdp's packet pool among stats.get's "mempools" (every DPDK pool of the
 * process; MM_AGENT_MBUF_POOL is the one its ports take mbufs from); NULL where
 * there is none (no reply, or an agent without DPDK). */
static json_t *mmdp_pool(json_t *reply)
{
	size_t i;
	json_t *p;
	json_array_foreach(reply ? json_object_get(reply, "mempools") : NULL, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		if (name && strcmp(name, MM_AGENT_MBUF_POOL) == 0)
			return p;
	}
	return NULL;
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static json_t *ep_array(const struct ctl_hist_counters *n)
{
	return json_pack("[IIIIII]", (json_int_t)n->rx_packets, (json_int_t)n->rx_bytes,
			 (json_int_t)n->tx_packets, (json_int_t)n->tx_bytes, (json_int_t)n->lost,
			 (json_int_t)n->expected);
}

static int64_t ep_get(json_t *a, int i)
{
	return json_integer_value(json_array_get(a, (size_t)i));
}

/* The endpoint's counters went down: a new endpoint of the same name, or
 * a restarted mmdp. Its old ones count as gone. */
static bool ep_reset(json_t *prev, const struct ctl_hist_counters *n)
{
	return n->rx_packets < ep_get(prev, EP_RXP) || n->rx_bytes < ep_get(prev, EP_RXB) ||
	       n->tx_packets < ep_get(prev, EP_TXP) || n->tx_bytes < ep_get(prev, EP_TXB);
}

static void ep_retire(json_t *prev)
{
	for (int i = 0; i < 4; i++)
		retired[i] += ep_get(prev, i);
}

void ctl_metrics_endpoint_final(const char *name, const struct ctl_hist_counters *n)
{
	/* Without the listener no sample retires what is put here. */
	if (!met_on)
		return;
	if (!eps)
		eps = json_object();
	json_t *prev = json_object_get(eps, name);
	if (prev && ep_reset(prev, n))
		ep_retire(prev);
	json_object_set_new(eps, name, ep_array(n));
}

/* One endpoint of stats.get into the new table, observing its loss and
 * jitter over the interval since the previous sample. */
static void sample_endpoint(json_t *ep, json_t *now_eps)
{
	const char *name = json_string_value(json_object_get(ep, "endpoint"));
	struct ctl_hist_counters n;
	if (!name || !ctl_history_counters(ep, &n))
		return;
	json_t *prev = json_object_get(eps, name);
	int64_t lost = n.lost, expected = n.expected;
	if (prev && ep_reset(prev, &n)) {
		ep_retire(prev);
	} else if (prev) {
		lost -= ep_get(prev, EP_LOST);
		expected -= ep_get(prev, EP_EXP);
	}
	/* Only endpoints that sent RTP in the interval: a silent one has no
	 * loss or jitter to speak of. */
	if (expected > 0) {
		double ratio = lost <= 0 ? 0 : lost >= expected ? 1 : (double)lost / (double)expected;
		hist_observe(&loss_hist, loss_bounds, LOSS_NB, ratio);
		hist_observe(&jitter_hist, jitter_bounds, JITTER_NB, (double)n.jitter_us / 1e6);
	}
	json_object_set_new(now_eps, name, ep_array(&n));
}

struct store_counts {
	struct ctl_store *store;
	int64_t rooms, meetings, participants;
};

static int count_room(void *arg, const struct ctl_room *r)
{
	struct store_counts *sc = arg;
	int n = 0;
	sc->rooms++;
	if (ctl_store_participant_count(sc->store, r->id, &n) == 0 && n > 0) {
		sc->meetings++;
		sc->participants += n;
	}
	return 0;
}

static void render_drops(struct mb *b, const char *name, json_t *drops)
{
	const char *reason;
	json_t *v;
	char l[128];
	json_object_foreach(drops, reason, v)
		if (json_is_integer(v))
			mb_printf(b, "%s{reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n", name, lv(reason, l),
				  json_integer_value(v));
}

static void render_workers(struct mb *b, json_t *reply)
{
	double hz = (double)jint(reply, "tsc_hz");
	json_t *w;
	size_t i;
	static const struct { const char *key, *name, *type, *help; } wc[] = {
		{ "rx_packets", "mm_worker_received_packets_total", "counter",
		  "Frames a worker took from its RX queues (all ports)." },
		{ "tx_packets", "mm_worker_sent_packets_total", "counter",
		  "Frames a worker transmitted." },
		{ "tx_bytes", "mm_worker_sent_bytes_total", "counter",
		  "Frame bytes a worker transmitted." },
		{ "handoff_out", "mm_worker_handoff_out_packets_total", "counter",
		  "Frames a worker passed to the worker of their room." },
		{ "handoff_in", "mm_worker_handoff_in_packets_total", "counter",
		  "Frames a worker took over from another worker." },
	};
	for (size_t k = 0; k < sizeof(wc) / sizeof(wc[0]); k++) {
		mb_family(b, wc[k].name, wc[k].type, wc[k].help);
		json_array_foreach(json_object_get(reply, "workers"), i, w)
			mb_printf(b, "%s{worker=\"%" JSON_INTEGER_FORMAT "\",lcore=\"%" JSON_INTEGER_FORMAT
				  "\"} %" JSON_INTEGER_FORMAT "\n", wc[k].name, jint(w, "worker"),
				  jint(w, "lcore"), jint(w, wc[k].key));
	}
	mb_family(b, "mm_worker_seconds_total", "counter",
		  "Time a worker's poll loop ran (TSC cycles / tsc_hz; preempted time included).");
	json_array_foreach(json_object_get(reply, "workers"), i, w)
		if (hz > 0)
			mb_printf(b, "mm_worker_seconds_total{worker=\"%" JSON_INTEGER_FORMAT "\",lcore=\"%"
				  JSON_INTEGER_FORMAT "\"} %.6f\n", jint(w, "worker"), jint(w, "lcore"),
				  (double)jint(w, "cycles") / hz);
	mb_family(b, "mm_worker_busy_seconds_total", "counter",
		  "Time of the poll loop iterations that had frames to handle.");
	json_array_foreach(json_object_get(reply, "workers"), i, w)
		if (hz > 0)
			mb_printf(b, "mm_worker_busy_seconds_total{worker=\"%" JSON_INTEGER_FORMAT
				  "\",lcore=\"%" JSON_INTEGER_FORMAT "\"} %.6f\n", jint(w, "worker"),
				  jint(w, "lcore"), (double)jint(w, "busy_cycles") / hz);
	mb_family(b, "mm_worker_busy_ratio", "gauge",
		  "Busy cycles / cycles of a worker between the last two samples (0..1).");
	json_array_foreach(json_object_get(reply, "workers"), i, w) {
		int64_t id = jint(w, "worker"), cy = jint(w, "cycles"), bu = jint(w, "busy_cycles");
		if (id < 0 || id >= MET_WORKERS_MAX)
			continue;
		int64_t dc = cy - prev_cycles[id], db = bu - prev_busy[id];
		/* The first sample, or a restarted mmdp: no interval yet. No cycle
		 * passed (only a scripted mmdp): the last ratio stands. */
		if (!prev_cycles[id] || dc < 0 || db < 0 || db > dc)
			ratio[id] = -1;
		else if (dc > 0)
			ratio[id] = (double)db / (double)dc;
		if (ratio[id] >= 0)
			mb_printf(b, "mm_worker_busy_ratio{worker=\"%" PRId64 "\",lcore=\"%"
				  JSON_INTEGER_FORMAT "\"} %.6f\n", id, jint(w, "lcore"), ratio[id]);
		prev_cycles[id] = cy;
		prev_busy[id] = bu;
	}
}

static void render_guard(struct mb *b, json_t *g)
{
	bool on = json_is_object(g);
	json_t *verdicts = on ? json_object_get(g, "verdicts") : NULL;
	const char *k;
	json_t *v;
	char l[128];
	mb_family(b, "mm_guard_up", "gauge",
		  "1 when mmdp runs with the XDP guard and its counters could be read.");
	mb_printf(b, "mm_guard_up %d\n", on && verdicts ? 1 : 0);
	mb_family(b, "mm_guard_packets_total", "counter",
		  "Packets the XDP guard gave each verdict (pass, accept, redirect, drop).");
	json_object_foreach(verdicts, k, v)
		mb_printf(b, "mm_guard_packets_total{verdict=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			  lv(k, l), jint(v, "packets"));
	mb_family(b, "mm_guard_bytes_total", "counter", "Frame bytes per verdict of the XDP guard.");
	json_object_foreach(verdicts, k, v)
		mb_printf(b, "mm_guard_bytes_total{verdict=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			  lv(k, l), jint(v, "bytes"));
	mb_family(b, "mm_guard_drops_total", "counter",
		  "Packets the XDP guard dropped, by reason (dataplane/proto/drop_reason.c).");
	if (verdicts)
		render_drops(b, "mm_guard_drops_total", json_object_get(g, "drops"));
	json_t *sync = on ? json_object_get(g, "sync") : NULL;
	mb_family(b, "mm_guard_sync_errors_total", "counter",
		  "Failed updates of the guard's maps by mmdp's agent.");
	if (sync)
		mb_printf(b, "mm_guard_sync_errors_total %" JSON_INTEGER_FORMAT "\n",
			  jint(sync, "errors"));
}

void ctl_metrics_sample(struct ctl *c, json_t *reply)
{
	struct mb b = { 0 };
	struct store_counts sc = { .store = c->store };
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);

	/* mmctld's own view: rooms, meetings (rooms with someone in), people. */
	ctl_store_room_list(c->store, NULL, count_room, &sc);
	mb_family(&b, "mm_rooms", "gauge", "Rooms in mmctld's store.");
	mb_printf(&b, "mm_rooms %" PRId64 "\n", sc.rooms);
	mb_family(&b, "mm_meetings", "gauge", "Meetings in progress: rooms with participants.");
	mb_printf(&b, "mm_meetings %" PRId64 "\n", sc.meetings);
	mb_family(&b, "mm_participants", "gauge", "Participants in all rooms.");
	mb_printf(&b, "mm_participants %" PRId64 "\n", sc.participants);
	mb_family(&b, "mm_dataplane_up", "gauge",
		  "1 when the last sample read mmdp's counters (stats.get), else 0.");
	mb_printf(&b, "mm_dataplane_up %d\n", reply ? 1 : 0);
	mb_family(&b, "mm_sample_timestamp_seconds", "gauge",
		  "When this snapshot was taken (unix time): scrapes between samples repeat it.");
	mb_printf(&b, "mm_sample_timestamp_seconds %.3f\n",
		  (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);

	/* The endpoints: totals that survive their leaving, loss and jitter. */
	json_t *now_eps = json_object(), *room, *ep, *st;
	int64_t n_rooms = 0, n_eps = 0, n_streams[3] = { 0 };
	size_t i, j, k;
	if (!eps)
		eps = json_object();
	json_array_foreach(reply ? json_object_get(reply, "rooms") : NULL, i, room) {
		n_rooms++;
		json_array_foreach(json_object_get(room, "endpoints"), j, ep) {
			n_eps++;
			sample_endpoint(ep, now_eps);
			json_array_foreach(json_object_get(ep, "streams"), k, st) {
				const char *kind = json_string_value(json_object_get(st, "kind")) ?: "";
				n_streams[!strcmp(kind, "audio") ? 0 : !strcmp(kind, "video") ? 1 : 2]++;
			}
		}
	}
	if (reply) {
		/* Those mmdp no longer has are gone, with their last counters. */
		const char *name;
		json_t *prev;
		json_object_foreach(eps, name, prev)
			if (!json_object_get(now_eps, name))
				ep_retire(prev);
		json_decref(eps);
		eps = now_eps;
	} else {
		json_decref(now_eps);   /* nothing known: keep the table as it is */
	}
	int64_t tot[4];
	memcpy(tot, retired, sizeof(tot));
	const char *name;
	json_t *cur;
	json_object_foreach(eps, name, cur)
		for (int x = 0; x < 4; x++)
			tot[x] += ep_get(cur, x);
	static const char *const tot_names[4][2] = {
		{ "mm_media_received_packets_total", "RTP/RTCP packets mmdp received from participants." },
		{ "mm_media_received_bytes_total", "UDP payload bytes mmdp received from participants." },
		{ "mm_media_sent_packets_total", "RTP/RTCP packets mmdp forwarded to participants." },
		{ "mm_media_sent_bytes_total", "UDP payload bytes mmdp forwarded to participants." },
	};
	for (int x = 0; x < 4; x++) {
		mb_family(&b, tot_names[x][0], "counter", tot_names[x][1]);
		mb_printf(&b, "%s %" PRId64 "\n", tot_names[x][0], tot[x]);
	}
	mb_family(&b, "mm_endpoint_loss_ratio", "histogram",
		  "Each endpoint's RTP loss over each sample interval (lost / expected), "
		  "one observation per endpoint that sent RTP in the interval.");
	hist_render(&b, "mm_endpoint_loss_ratio", "", &loss_hist, loss_bounds, LOSS_NB);
	mb_family(&b, "mm_endpoint_jitter_seconds", "histogram",
		  "Each endpoint's interarrival jitter (its worst stream) at each sample.");
	hist_render(&b, "mm_endpoint_jitter_seconds", "", &jitter_hist, jitter_bounds, JITTER_NB);

	/* mmdp's own counters: each family's samples right after its header. */
	mb_family(&b, "mm_dataplane_rooms", "gauge", "Rooms in mmdp's tables.");
	if (reply)
		mb_printf(&b, "mm_dataplane_rooms %" PRId64 "\n", n_rooms);
	mb_family(&b, "mm_dataplane_endpoints", "gauge", "Endpoints in mmdp's tables.");
	if (reply)
		mb_printf(&b, "mm_dataplane_endpoints %" PRId64 "\n", n_eps);
	mb_family(&b, "mm_streams", "gauge", "Streams the endpoints declared, by kind.");
	static const char *const kinds[3] = { "audio", "video", "screen" };
	for (int x = 0; reply && x < 3; x++)
		mb_printf(&b, "mm_streams{kind=\"%s\"} %" PRId64 "\n", kinds[x], n_streams[x]);
	mb_family(&b, "mm_dataplane_drops_total", "counter",
		  "Frames mmdp's workers dropped, by reason (dataplane/proto/drop_reason.c).");
	if (reply)
		render_drops(&b, "mm_dataplane_drops_total", json_object_get(reply, "drops"));
	render_workers(&b, reply);
	json_t *mp = mmdp_pool(reply);
	mb_family(&b, "mm_mempool_mbufs_in_use", "gauge", "Mbufs of mmdp's packet pool in use.");
	if (json_is_object(mp))
		mb_printf(&b, "mm_mempool_mbufs_in_use %" JSON_INTEGER_FORMAT "\n", jint(mp, "in_use"));
	mb_family(&b, "mm_mempool_mbufs_capacity", "gauge", "Mbufs in mmdp's packet pool.");
	if (json_is_object(mp))
		mb_printf(&b, "mm_mempool_mbufs_capacity %" JSON_INTEGER_FORMAT "\n", jint(mp, "size"));
	render_guard(&b, reply ? json_object_get(reply, "guard") : NULL);

	if (b.oom) {
		free(b.p);
		return;   /* keep the previous snapshot */
	}
	pthread_mutex_lock(&met_lock);
	free(snapshot);
	snapshot = b.p;
	pthread_mutex_unlock(&met_lock);
}

/* ------------------------------------------------------------- render --- */

char *ctl_metrics_render(size_t *len)
{
	struct mb b = { 0 };
	char l1[128], l2[128];
	pthread_mutex_lock(&met_lock);
	mb_family(&b, "mm_api_requests_total", "counter",
		  "REST API requests by route template, method and status class.");
	for (int r = 0; r <= N_ROUTES; r++)
		for (int m = 0; m < N_METHODS; m++)
			for (int k = 0; k < N_CLASSES; k++)
				if (api_requests[r][m][k])
					mb_printf(&b, "mm_api_requests_total{route=\"%s\",method=\"%s\","
						  "code=\"%s\"} %" PRIu64 "\n",
						  r == ROUTE_OTHER ? "other" : routes[r], methods[m],
						  classes[k], api_requests[r][m][k]);
	mb_family(&b, "mm_api_request_duration_seconds", "histogram",
		  "Time mmctld took over a REST request, from dispatch to the reply queued "
		  "(for the event stream: until it starts).");
	for (int r = 0; r <= N_ROUTES; r++)
		for (int m = 0; m < N_METHODS; m++)
			if (api_hist[r][m].count) {
				char labels[256];
				snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\"",
					 r == ROUTE_OTHER ? "other" : routes[r], methods[m]);
				hist_render(&b, "mm_api_request_duration_seconds", labels, &api_hist[r][m],
					    api_bounds, API_NB);
			}
	static const char *const outcomes[3] = { "ok", "refused", "error" };
	mb_family(&b, "mm_agent_requests_total", "counter",
		  "Requests mmctld sent to mmdp's agent socket, by op and outcome "
		  "(ok, refused: ok false, error: transport failure).");
	for (int i = 0; i <= MET_OPS_MAX; i++)
		for (int o = 0; o < 3; o++)
			if (agent_calls[i][o])
				mb_printf(&b, "mm_agent_requests_total{op=\"%s\",result=\"%s\"} %" PRIu64
					  "\n", i < n_agent_ops ? lv(agent_ops[i], l1) : "other",
					  lv(outcomes[o], l2), agent_calls[i][o]);
	mb_family(&b, "mm_agent_request_duration_seconds", "histogram",
		  "Round-trip time of mmctld's requests to mmdp's agent socket, by op.");
	for (int i = 0; i <= MET_OPS_MAX; i++)
		if (agent_hist[i].count) {
			char labels[160];
			snprintf(labels, sizeof(labels), "op=\"%s\"",
				 i < n_agent_ops ? lv(agent_ops[i], l1) : "other");
			hist_render(&b, "mm_agent_request_duration_seconds", labels, &agent_hist[i],
				    agent_bounds, AGENT_NB);
		}
	if (snapshot)
		mb_printf(&b, "%s", snapshot);
	pthread_mutex_unlock(&met_lock);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ----------------------------------------------------------- listener --- */

static enum MHD_Result met_reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result met_handle(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	/* First call: headers only. A body (nobody should send one) is
	 * swallowed, then the reply. */
	if (!*con_cls) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics"))
		return met_reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return met_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	size_t len = 0;
	char *text = ctl_metrics_render(&len);
	if (!text)
		return met_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int ctl_metrics_start(struct ctl *c, struct MHD_Daemon **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	*out = NULL;
	if (!c->cfg.metrics_listen[0])
		return 0;
	if (ctl_config_parse_listen(c->cfg.metrics_listen, &ss, &len))
		return -EINVAL;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
				((struct sockaddr_in *)&ss)->sin_port);
	/* Its own thread: a slow scraper never holds up the API. */
	struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL, met_handle, NULL,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
						MHD_OPTION_CONNECTION_TIMEOUT, 30u,
						MHD_OPTION_CONNECTION_LIMIT, 16u,
						MHD_OPTION_END);
	if (!d)
		return -EADDRINUSE;
	*out = d;
	met_on = true;
	return 0;
}

void ctl_metrics_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}

void ctl_metrics_fini(void)
{
	json_decref(eps);
	eps = NULL;
	pthread_mutex_lock(&met_lock);
	free(snapshot);
	snapshot = NULL;
	pthread_mutex_unlock(&met_lock);
}
