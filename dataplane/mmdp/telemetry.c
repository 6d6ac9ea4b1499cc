/* mmdp's DPDK telemetry commands.
 *
 * DPDK runs these callbacks on its telemetry threads (one per connected
 * client), which are not QSBR readers of mmdp's tables. Rather than make
 * them readers, the commands ask the agent thread, the tables' only writer,
 * over mmdp's own agent socket (hello, stats.get, room.list): the agent
 * answers between two requests, so a command sees a consistent state and
 * adds no locking to the tables or the workers. Only what is not the
 * agent's comes from here: ports (ethdev), the mbuf pool's counts (safe to
 * read from any thread), uptime. One connection, kept open, shared under a
 * mutex by every telemetry client.
 *
 * DPDK 22.11's telemetry replies are at most 16 KiB, dictionaries hold 256
 * entries and values nest one level; /mmdp/rooms and /mmdp/room list what
 * fits and say how many there are (stats.get has it all). Keys are made
 * of [A-Za-z0-9_/] only (22.11 refuses others): never a room's or an
 * endpoint's name. */
#include "dataplane/mmdp/telemetry.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "dataplane/core/agent_client.h"
#include "dataplane/core/tables.h"

#ifndef MMDP_VERSION
#define MMDP_VERSION "unknown"
#endif

/* A telemetry command waits this long for the agent (a state.sync of many
 * rooms can hold it for a while). */
#define AGENT_TIMEOUT_MS 2000
/* Bytes of listing /mmdp/rooms and /mmdp/room,<id> put in one reply: DPDK
 * 22.11 drops what does not fit in its 16 KiB output buffer without a word,
 * so they count what they add (as DPDK writes it) and stop in time, with
 * room to spare for the rest of the reply, and say how many they listed. */
#define REPLY_BUDGET 15000

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct mmdp_telemetry_conf *g_conf; /* NULL: not started or stopped */
static struct mm_agent_client g_agent;
static uint64_t g_start_ns;
/* /mmdp/workers' "recent" ratio: each worker's counters at the last call. */
static uint64_t g_prev_cycles[MM_WORKERS_MAX], g_prev_busy[MM_WORKERS_MAX];

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A reply that says what went wrong: {"error": msg}. */
static int tel_error(struct rte_tel_data *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int tel_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static const char *jstr(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

static uint64_t jint(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
	return v > 0 ? (uint64_t)v : 0;
}

/* Dictionary entries that count the bytes DPDK will write for them:
 * "key": value plus the ", " between entries (and quotes for strings). */
static void add_u64(struct rte_tel_data *d, const char *key, uint64_t v, size_t *bytes)
{
	char digits[24];
	*bytes += strlen(key) + (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v) + 6;
	rte_tel_data_add_dict_u64(d, key, v);
}

static void add_str(struct rte_tel_data *d, const char *key, const char *v, size_t *bytes)
{
	*bytes += strlen(key) + strlen(v) + 8;
	rte_tel_data_add_dict_string(d, key, v);
}

/* One request to the agent, with g_lock held. Returns the reply object
 * ("ok" true) or NULL with a message in err. A connection that failed is
 * closed, so that a late reply never answers the next request. */
static json_t *ask_agent(json_t *req, char *err, size_t errlen)
{
	json_t *reply = NULL;
	int rc = -ENOTCONN;
	/* Twice: the first attempt may find the kept connection gone. */
	for (int attempt = 0; attempt < 2 && rc; attempt++) {
		if (g_agent.fd < 0 || mm_agent_client_peer_gone(&g_agent)) {
			rc = mm_agent_client_connect(&g_agent, g_conf->agent_socket);
			if (rc)
				break;
		}
		rc = mm_agent_client_call(&g_agent, req, &reply);
		if (rc)
			mm_agent_client_close(&g_agent);
	}
	json_decref(req);
	if (rc) {
		snprintf(err, errlen, "agent %s: %s", g_conf->agent_socket, strerror(-rc));
		return NULL;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_t *e = json_object_get(reply, "error");
		snprintf(err, errlen, "%s: %s", jstr(e, "code", "error"), jstr(e, "message", ""));
		json_decref(reply);
		return NULL;
	}
	return reply;
}

/* Common start of every command: mmdp still running, no parameter unless
 * the command takes one. Takes g_lock (released by the caller) on 0. */
static int begin(const char *cmd, const char *params, bool takes_params, struct rte_tel_data *d)
{
	if (!takes_params && params && *params) {
		tel_error(d, "%s takes no parameter", cmd);
		return -1;
	}
	pthread_mutex_lock(&g_lock);
	if (!g_conf) {
		pthread_mutex_unlock(&g_lock);
		tel_error(d, "mmdp is stopping");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- info --- */

static int cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (begin(cmd, params, false, d))
		return 0;
	const struct mmdp_telemetry_conf *c = g_conf;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", MMDP_VERSION);
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	rte_tel_data_add_dict_int(d, "pid", (int)getpid());
	rte_tel_data_add_dict_u64(d, "uptime_s", (mono_ns() - g_start_ns) / 1000000000u);
	rte_tel_data_add_dict_int(d, "workers", (int)c->n_workers);
	struct rte_tel_data *lc = rte_tel_data_alloc();
	if (lc) {
		rte_tel_data_start_array(lc, RTE_TEL_INT_VAL);
		for (unsigned w = 0; w < c->n_workers; w++)
			rte_tel_data_add_array_int(lc, (int)c->worker_lcore[w]);
		rte_tel_data_add_dict_container(d, "worker_lcores", lc, 0);
	}
	struct rte_tel_data *ports = rte_tel_data_alloc();
	if (ports) {
		rte_tel_data_start_array(ports, RTE_TEL_STRING_VAL);
		for (uint16_t p = 0; p < c->n_ports; p++) {
			char name[RTE_ETH_NAME_MAX_LEN];
			if (rte_eth_dev_get_name_by_port(p, name) != 0)
				snprintf(name, sizeof(name), "port%u", p);
			rte_tel_data_add_array_string(ports, name);
		}
		rte_tel_data_add_dict_container(d, "ports", ports, 0);
	}
	rte_tel_data_add_dict_int(d, "capture", c->capture);
	rte_tel_data_add_dict_string(d, "agent_socket", c->agent_socket);
	char err[RTE_TEL_MAX_STRING_LEN];
	json_t *h = ask_agent(json_pack("{ss}", "op", "hello"), err, sizeof(err));
	if (h) {
		rte_tel_data_add_dict_int(d, "agent_protocol", (int)jint(h, "version"));
		rte_tel_data_add_dict_u64(d, "generation", jint(h, "generation"));
		rte_tel_data_add_dict_u64(d, "rooms", jint(h, "rooms"));
		rte_tel_data_add_dict_u64(d, "endpoints", jint(h, "endpoints"));
		rte_tel_data_add_dict_u64(d, "blocks", jint(h, "blocks"));
		rte_tel_data_add_dict_u64(d, "bans", jint(h, "bans"));
		rte_tel_data_add_dict_int(d, "guard", json_is_true(json_object_get(h, "guard")));
		json_decref(h);
	} else {
		rte_tel_data_add_dict_string(d, "error", err); /* the rest is still true */
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* --------------------------------------------------------------- stats --- */

/* stats.get without the rooms, or NULL with the error reply in d. */
static json_t *stats_totals(struct rte_tel_data *d)
{
	char err[RTE_TEL_MAX_STRING_LEN];
	json_t *s = ask_agent(json_pack("{sssb}", "op", "stats.get", "rooms", 0), err, sizeof(err));
	if (!s)
		tel_error(d, "%s", err);
	return s;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (begin(cmd, params, false, d))
		return 0;
	json_t *s = stats_totals(d);
	if (s) {
		static const char *const sums[] = {"rx_packets", "tx_packets",   "tx_bytes",
						   "handoff_out", "handoff_in", "neigh_replies",
						   "mbox_full"};
		uint64_t total[sizeof(sums) / sizeof(sums[0])] = {0};
		size_t i;
		json_t *w;
		json_array_foreach(json_object_get(s, "workers"), i, w)
			for (size_t k = 0; k < sizeof(sums) / sizeof(sums[0]); k++)
				total[k] += jint(w, sums[k]);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_u64(d, "generation", jint(s, "generation"));
		for (size_t k = 0; k < sizeof(sums) / sizeof(sums[0]); k++)
			rte_tel_data_add_dict_u64(d, sums[k], total[k]);
		uint64_t all = 0;
		struct rte_tel_data *drops = rte_tel_data_alloc();
		if (drops)
			rte_tel_data_start_dict(drops);
		const char *reason;
		json_t *v;
		json_object_foreach(json_object_get(s, "drops"), reason, v) {
			all += (uint64_t)json_integer_value(v);
			if (drops)
				rte_tel_data_add_dict_u64(drops, reason, (uint64_t)json_integer_value(v));
		}
		rte_tel_data_add_dict_u64(d, "drops_total", all);
		if (drops)
			rte_tel_data_add_dict_container(d, "drops", drops, 0);
		json_decref(s);
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* ------------------------------------------------------------- workers --- */

static uint64_t permille(uint64_t part, uint64_t whole)
{
	return whole ? (uint64_t)((double)part * 1000.0 / (double)whole + 0.5) : 0;
}

static int cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (begin(cmd, params, false, d))
		return 0;
	json_t *s = stats_totals(d);
	if (s) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_u64(d, "tsc_hz", jint(s, "tsc_hz"));
		static const char *const keys[] = {"lcore",      "rx_packets",  "tx_packets",
						   "tx_bytes",   "handoff_out", "handoff_in",
						   "cycles",     "busy_cycles", "polls",
						   "busy_polls", "mbox_full"};
		size_t i;
		json_t *w;
		json_array_foreach(json_object_get(s, "workers"), i, w) {
			struct rte_tel_data *o = rte_tel_data_alloc();
			if (!o)
				break;
			rte_tel_data_start_dict(o);
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				rte_tel_data_add_dict_u64(o, keys[k], jint(w, keys[k]));
			uint64_t drops = 0;
			const char *reason;
			json_t *v;
			json_object_foreach(json_object_get(w, "drops"), reason, v)
				drops += (uint64_t)json_integer_value(v);
			rte_tel_data_add_dict_u64(o, "drops", drops);
			/* Since start, and since the previous /mmdp/workers
			 * (of any client): is it saturated now? */
			uint64_t cyc = jint(w, "cycles"), busy = jint(w, "busy_cycles");
			rte_tel_data_add_dict_u64(o, "busy_permille", permille(busy, cyc));
			if (i < MM_WORKERS_MAX) {
				rte_tel_data_add_dict_u64(o, "busy_permille_recent",
							  permille(busy - g_prev_busy[i],
								   cyc - g_prev_cycles[i]));
				g_prev_busy[i] = busy;
				g_prev_cycles[i] = cyc;
			}
			char key[24];
			snprintf(key, sizeof(key), "%zu", i);
			rte_tel_data_add_dict_container(d, key, o, 0);
		}
		json_decref(s);
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* --------------------------------------------------------------- rooms --- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmd_rooms(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (begin(cmd, params, false, d))
		return 0;
	char err[RTE_TEL_MAX_STRING_LEN];
	json_t *r = ask_agent(json_pack("{ss}", "op", "room.list"), err, sizeof(err));
	if (!r) {
		tel_error(d, "%s", err);
		pthread_mutex_unlock(&g_lock);
		return 0;
	}
	json_t *rooms = json_object_get(r, "rooms");
	size_t n = json_array_size(rooms), listed = 0, used = 0;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	struct rte_tel_data *arr = rte_tel_data_alloc();
	if (!names || !arr) {
		free(names);
		rte_tel_data_free(arr);
		json_decref(r);
		pthread_mutex_unlock(&g_lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		names[i] = jstr(json_array_get(rooms, i), "room", "");
	qsort(names, n, sizeof(*names), cmp_str); /* a stable listing */
	rte_tel_data_start_array(arr, RTE_TEL_STRING_VAL);
	for (; listed < n && listed < RTE_TEL_MAX_ARRAY_ENTRIES; listed++) {
		used += strlen(names[listed]) + 4; /* "name", */
		if (used > REPLY_BUDGET)
			break;
		rte_tel_data_add_array_string(arr, names[listed]);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", n);
	rte_tel_data_add_dict_u64(d, "listed", listed);
	rte_tel_data_add_dict_container(d, "rooms", arr, 0);
	free(names);
	json_decref(r);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* /mmdp/room,<id>: "room" holds the room's counters, "ep0", "ep1", ...
 * each endpoint's with its name (as many as fit): DPDK 22.11 takes only
 * [A-Za-z0-9_/] in a key, and endpoint names may hold '-', '.' or ':'. */
static int cmd_room(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (!params || !*params)
		return tel_error(d, "usage: %s,<room id>", cmd);
	if (begin(cmd, params, true, d))
		return 0;
	char err[RTE_TEL_MAX_STRING_LEN];
	json_t *s = ask_agent(json_pack("{ssss}", "op", "stats.get", "room", params), err, sizeof(err));
	json_t *room = s ? json_array_get(json_object_get(s, "rooms"), 0) : NULL;
	if (!room) {
		tel_error(d, "%s", s ? "no room in the reply" : err);
		json_decref(s);
		pthread_mutex_unlock(&g_lock);
		return 0;
	}
	json_t *eps = json_object_get(room, "endpoints");
	struct rte_tel_data *o = rte_tel_data_alloc();
	if (!o) {
		json_decref(s);
		pthread_mutex_unlock(&g_lock);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_start_dict(o);
	rte_tel_data_add_dict_string(o, "name", jstr(room, "room", ""));
	static const char *const rkeys[] = {"worker", "rx_packets", "rx_bytes", "tx_packets",
					    "tx_bytes"};
	for (size_t k = 0; k < sizeof(rkeys) / sizeof(rkeys[0]); k++)
		rte_tel_data_add_dict_u64(o, rkeys[k], jint(room, rkeys[k]));
	rte_tel_data_add_dict_u64(o, "endpoints", json_array_size(eps));
	static const char *const ekeys[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
					    "muted_packets"};
	size_t i, listed = 0, used = 0;
	json_t *ep;
	json_array_foreach(eps, i, ep) {
		if (listed + 2 >= RTE_TEL_MAX_DICT_ENTRIES)
			break;
		struct rte_tel_data *e = rte_tel_data_alloc();
		if (!e)
			break;
		size_t bytes = 0;
		rte_tel_data_start_dict(e);
		add_str(e, "name", jstr(ep, "endpoint", ""), &bytes);
		for (size_t k = 0; k < sizeof(ekeys) / sizeof(ekeys[0]); k++)
			add_u64(e, ekeys[k], jint(ep, ekeys[k]), &bytes);
		uint64_t lost = 0, streams = 0;
		size_t j;
		json_t *st;
		json_array_foreach(json_object_get(ep, "streams"), j, st) {
			lost += jint(st, "lost");
			streams++;
		}
		add_u64(e, "streams", streams, &bytes);
		add_u64(e, "lost", lost, &bytes);
		add_u64(e, "audio_muted", json_is_true(json_object_get(ep, "audio_muted")), &bytes);
		add_u64(e, "video_muted", json_is_true(json_object_get(ep, "video_muted")), &bytes);
		add_str(e, "srtp", jstr(json_object_get(ep, "srtp"), "profile", "none"), &bytes);
		json_t *ice = json_object_get(ep, "ice");
		if (ice)
			add_str(e, "ice", jstr(ice, "state", ""), &bytes);
		char key[24];
		snprintf(key, sizeof(key), "ep%zu", listed);
		bytes += strlen(key) + 8; /* "epN": {}, */
		if (used + bytes > REPLY_BUDGET) {
			rte_tel_data_free(e);
			break;
		}
		used += bytes;
		rte_tel_data_add_dict_container(d, key, e, 0);
		listed++;
	}
	rte_tel_data_add_dict_u64(o, "listed", listed);
	rte_tel_data_add_dict_container(d, "room", o, 0);
	json_decref(s);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* ------------------------------------------------------------- mempool --- */

static int cmd_mempool(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (begin(cmd, params, false, d))
		return 0;
	struct rte_mempool *mp = g_conf->pool;
	/* Both counts read the per-lcore caches and the ring without locks:
	 * each is exact only when nothing moves, their sum is the size. */
	unsigned avail = rte_mempool_avail_count(mp);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", mp->name);
	rte_tel_data_add_dict_u64(d, "size", mp->size);
	rte_tel_data_add_dict_u64(d, "available", avail);
	rte_tel_data_add_dict_u64(d, "in_use", avail <= mp->size ? mp->size - avail : 0);
	rte_tel_data_add_dict_u64(d, "cache_size", mp->cache_size);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

int mmdp_telemetry_init(const struct mmdp_telemetry_conf *conf)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/mmdp/info", cmd_info,
		 "mmdp: version, uptime, workers, ports, capture, rooms. No parameters"},
		{"/mmdp/stats", cmd_stats, "mmdp: packets over all workers, drops by reason. No parameters"},
		{"/mmdp/workers", cmd_workers,
		 "mmdp: per worker packets, cycles, busy permille. No parameters"},
		{"/mmdp/rooms", cmd_rooms, "mmdp: the room ids. No parameters"},
		{"/mmdp/room", cmd_room, "mmdp: a room's and its endpoints' counters. Parameter: room id"},
		{"/mmdp/mempool", cmd_mempool, "mmdp: mbufs in use and available. No parameters"},
	};
	pthread_mutex_lock(&g_lock);
	g_conf = conf;
	g_start_ns = mono_ns();
	mm_agent_client_init(&g_agent, AGENT_TIMEOUT_MS);
	pthread_mutex_unlock(&g_lock);
	/* DPDK 22.11 refuses (-EINVAL) a help text of 128 bytes or more. */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (rc)
			return rc;
	}
	return 0;
}

void mmdp_telemetry_fini(void)
{
	pthread_mutex_lock(&g_lock);
	g_conf = NULL;
	mm_agent_client_close(&g_agent);
	pthread_mutex_unlock(&g_lock);
}
