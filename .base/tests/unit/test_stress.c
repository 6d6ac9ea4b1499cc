/* Stress: the agent changes rooms, endpoints, mutes and routes at a high
 * rate while two worker threads forward through the same tables. Asserts:
 * no crash (and, in the sanitizer build, no leak or UB), the tables agree
 * with the model at the end, and no frame is ever emitted to an endpoint
 * after its removal was acknowledged. Runs MM_STRESS_SECONDS (default 3). */
#include <pthread.h>
#include <time.h>

#include "harness.h"

#define NE 96      /* endpoint universe */
#define NR 6       /* rooms */
#define NWORKERS 2
#define QMAX 4096

static struct mm_tables T;
static struct mm_agent A;
static volatile int stop;
static int acked_removed[NE];       /* set after the agent acked a removal */
static uint64_t violations, emitted, invalid_frames;

struct handq {
	pthread_mutex_t mu;
	size_t n;
	struct {
		size_t len;
		uint8_t data[256];
	} f[QMAX];
};
static struct handq *Q[NWORKERS];

struct wctx {
	uint32_t id;
	uint8_t buf[2048];
	uint64_t forwarded;
};

static uint8_t *st_alloc(void *ctx, size_t len, void **handle)
{
	struct wctx *c = ctx;
	*handle = c;
	return len <= sizeof(c->buf) ? c->buf : NULL;
}

static void st_send(void *ctx, uint16_t port, void *handle, size_t len)
{
	struct wctx *c = ctx;
	struct net_udp u;
	(void)port;
	(void)handle;
	if (net_parse_udp(c->buf, len, &u) != 0) {
		__atomic_add_fetch(&invalid_frames, 1, __ATOMIC_RELAXED);
		return;
	}
	unsigned i = u.dport - 5000u;
	if (i < NE && __atomic_load_n(&acked_removed[i], __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&emitted, 1, __ATOMIC_RELAXED);
	c->forwarded++;
}

static void st_discard(void *ctx, void *handle)
{
	(void)ctx;
	(void)handle;
}

static uint8_t frames[NE][256];
static size_t frame_len[NE];

static void build_frames(void)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 7, 7};
	for (unsigned i = 0; i < NE; i++) {
		uint8_t rtp[128];
		char ip[32];
		snprintf(ip, sizeof(ip), "198.18.1.%u", i + 1);
		size_t n = h_rtp(rtp, sizeof(rtp), 1000 + i, 1, 0, 111, 60);
		frame_len[i] = h_frame(frames[i], ip, (uint16_t)(5000 + i), "198.18.0.1",
				       (uint16_t)(40000 + i), mac, rtp, n);
	}
}

/* Queue a frame for its owner, as mmdp's hand-off ring does. */
static void hand_off(int owner, const uint8_t *data, size_t len)
{
	struct handq *q = Q[owner];
	pthread_mutex_lock(&q->mu);
	if (q->n < QMAX) {
		q->f[q->n].len = len;
		memcpy(q->f[q->n].data, data, len);
		q->n++;
	}
	pthread_mutex_unlock(&q->mu);
}

static void *worker_main(void *arg)
{
	struct wctx *c = arg;
	struct mm_worker_ctx w = {.t = &T, .id = c->id, .st = &T.wstats[c->id],
				  .tx = {.alloc = st_alloc, .send = st_send, .discard = st_discard, .ctx = c}};
	unsigned seed = c->id * 7919u + 1;
	static __thread struct {
		size_t len;
		uint8_t data[256];
	} mine[QMAX];

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int k = 0; k < 32; k++) {
			unsigned i = (unsigned)rand_r(&seed) % NE;
			uint64_t now = (uint64_t)k * 1000000;
			int owner = mm_engine_rx(&w, frames[i], frame_len[i], 0, now);
			if (owner >= 0) {
				cr_assert_neq((uint32_t)owner, c->id);
				hand_off(owner, frames[i], frame_len[i]);
			}
		}
		/* drain hand-offs: copy out under the lock, process outside */
		struct handq *q = Q[c->id];
		pthread_mutex_lock(&q->mu);
		size_t n = q->n;
		for (size_t j = 0; j < n; j++) {
			mine[j].len = q->f[j].len;
			memcpy(mine[j].data, q->f[j].data, q->f[j].len);
		}
		q->n = 0;
		pthread_mutex_unlock(&q->mu);
		for (size_t j = 0; j < n; j++) {
			/* Usually handled here; the endpoint may have moved to a
			 * room of another worker since, then it goes on. */
			int owner = mm_engine_rx(&w, mine[j].data, mine[j].len, 0, 0);
			if (owner >= 0) {
				cr_assert_neq((uint32_t)owner, c->id);
				hand_off(owner, mine[j].data, mine[j].len);
			}
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static int ep_room[NE]; /* model: room index or -1 */
static bool ep_muted[NE];

static json_t *agent_line(const char *line)
{
	char *out = mm_agent_handle(&A, line, strlen(line));
	cr_assert_not_null(out);
	json_t *r = json_loads(out, 0, NULL);
	cr_assert_not_null(r, "%s", out);
	free(out);
	return r;
}

static void ep_json(char *buf, size_t cap, unsigned i, int room, bool muted)
{
	snprintf(buf, cap,
		 "{\"endpoint\":\"e%u\",\"room\":\"r%d\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":%u},"
		 "\"remote\":{\"addr\":\"198.18.1.%u\",\"port\":%u},\"audio_muted\":%s,"
		 "\"streams\":[{\"ssrc\":%u,\"kind\":\"audio\"}]}",
		 i, room, 40000 + i, i + 1, 5000 + i, muted ? "true" : "false", 1000 + i);
}

static int room_count(int r)
{
	int n = 0;
	for (unsigned i = 0; i < NE; i++)
		n += ep_room[i] == r;
	return n;
}

#define ROOM_CAP 20

static void mark_removed(unsigned i)
{
	ep_room[i] = -1;
	__atomic_store_n(&acked_removed[i], 1, __ATOMIC_RELEASE);
}

static unsigned agent_step(unsigned *seed)
{
	char line[16384], body[512];
	unsigned i = (unsigned)rand_r(seed) % NE;
	int dice = rand_r(seed) % 100;
	json_t *r;

	if (dice < 2) { /* delete a room and everything in it, then recreate it */
		int room = rand_r(seed) % NR;
		snprintf(line, sizeof(line), "{\"op\":\"room.del\",\"room\":\"r%d\"}", room);
		r = agent_line(line);
		cr_assert(h_ok(r));
		json_decref(r);
		for (unsigned k = 0; k < NE; k++)
			if (ep_room[k] == room)
				mark_removed(k);
		snprintf(line, sizeof(line), "{\"op\":\"room.put\",\"room\":\"r%d\",\"capacity\":%d}",
			 room, ROOM_CAP);
		r = agent_line(line);
		cr_assert(h_ok(r));
		json_decref(r);
		return 2;
	}
	if (dice < 4) { /* full resync to a random subset */
		size_t o = (size_t)snprintf(line, sizeof(line), "{\"op\":\"state.sync\",\"rooms\":[");
		for (int k = 0; k < NR; k++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s{\"room\":\"r%d\",\"capacity\":%d}",
					      k ? "," : "", k, ROOM_CAP);
		o += (size_t)snprintf(line + o, sizeof(line) - o, "],\"endpoints\":[");
		int want[NE];
		int cnt[NR] = {0};
		bool first = true;
		for (unsigned k = 0; k < NE; k++) {
			want[k] = ep_room[k] >= 0 && rand_r(seed) % 4 ? ep_room[k] : -1;
			if (want[k] >= 0) {
				cnt[want[k]]++;
				ep_json(body, sizeof(body), k, want[k], ep_muted[k]);
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s", first ? "" : ",", body);
				first = false;
			}
		}
		snprintf(line + o, sizeof(line) - o, "]}");
		r = agent_line(line);
		cr_assert(h_ok(r), "state.sync refused");
		json_decref(r);
		for (unsigned k = 0; k < NE; k++)
			if (ep_room[k] >= 0 && want[k] < 0)
				mark_removed(k);
		return 1;
	}
	if (dice < 8) { /* reroute a room */
		int room = rand_r(seed) % NR;
		unsigned a = NE, b = NE;
		for (unsigned k = 0; k < NE; k++)
			if (ep_room[k] == room)
				a == NE ? (a = k) : (b = k);
		if (b == NE || rand_r(seed) % 2)
			snprintf(line, sizeof(line), "{\"op\":\"route.put\",\"room\":\"r%d\"}", room);
		else
			snprintf(line, sizeof(line),
				 "{\"op\":\"route.put\",\"room\":\"r%d\",\"mode\":\"explicit\","
				 "\"subscriptions\":{\"e%u\":[\"e%u\"]}}", room, a, b);
		r = agent_line(line);
		cr_assert(h_ok(r));
		json_decref(r);
		return 1;
	}
	if (ep_room[i] < 0) { /* add */
		int room = rand_r(seed) % NR;
		ep_json(body, sizeof(body), i, room, false);
		snprintf(line, sizeof(line), "{\"op\":\"endpoint.put\",%s", body + 1);
		__atomic_store_n(&acked_removed[i], 0, __ATOMIC_RELEASE);
		r = agent_line(line);
		if (h_ok(r)) {
			ep_room[i] = room;
			ep_muted[i] = false;
		} else {
			cr_assert_str_eq(h_code(r), "room_full");
			cr_assert_geq(room_count(room), ROOM_CAP);
			__atomic_store_n(&acked_removed[i], 1, __ATOMIC_RELEASE);
		}
		json_decref(r);
		return 1;
	}
	if (dice < 50) { /* remove */
		snprintf(line, sizeof(line), "{\"op\":\"endpoint.del\",\"endpoint\":\"e%u\"}", i);
		r = agent_line(line);
		cr_assert(h_ok(r));
		json_decref(r);
		mark_removed(i);
		return 1;
	}
	/* mute toggle, or move to another room */
	int room = dice < 75 ? ep_room[i] : rand_r(seed) % NR;
	bool muted = dice < 75 ? !ep_muted[i] : ep_muted[i];
	ep_json(body, sizeof(body), i, room, muted);
	snprintf(line, sizeof(line), "{\"op\":\"endpoint.put\",%s", body + 1);
	r = agent_line(line);
	if (h_ok(r)) {
		ep_room[i] = room;
		ep_muted[i] = muted;
	} else {
		cr_assert_str_eq(h_code(r), "room_full");
	}
	json_decref(r);
	return 1;
}

Test(stress, agent_churn_while_workers_forward, .timeout = 240)
{
	struct mm_dp_conf c;
	h_conf(&c, NWORKERS);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
	build_frames();
	for (unsigned i = 0; i < NE; i++) {
		ep_room[i] = -1;
		acked_removed[i] = 1;
	}
	for (int k = 0; k < NR; k++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"op\":\"room.put\",\"room\":\"r%d\",\"capacity\":%d}", k,
			 ROOM_CAP);
		json_decref(agent_line(line));
	}

	pthread_t th[NWORKERS];
	struct wctx *wc = calloc(NWORKERS, sizeof(*wc));
	for (uint32_t w = 0; w < NWORKERS; w++) {
		Q[w] = calloc(1, sizeof(*Q[w]));
		pthread_mutex_init(&Q[w]->mu, NULL);
		wc[w].id = w;
		cr_assert_eq(pthread_create(&th[w], NULL, worker_main, &wc[w]), 0);
	}

	/* At least MM_STRESS_SECONDS (default 3) and at least MIN_OPS changes:
	 * on a loaded machine (the sanitizer build, tests run side by side)
	 * the grace periods get slow, so the run is bounded by work, with a
	 * hard stop at 120 s. */
	const char *env = getenv("MM_STRESS_SECONDS");
	double secs = env ? atof(env) : 3.0, el;
	enum { MIN_OPS = 500 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned seed = 12345, ops = 0;
	do {
		ops += agent_step(&seed);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	} while ((el < secs || ops < MIN_OPS) && el < 120);

	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (uint32_t w = 0; w < NWORKERS; w++)
		pthread_join(th[w], NULL);

	/* The tables agree with the model. */
	unsigned present = 0;
	for (unsigned i = 0; i < NE; i++) {
		char name[16];
		snprintf(name, sizeof(name), "e%u", i);
		struct mm_endpoint *ep = mm_tables_endpoint(&T, name);
		cr_assert_eq(ep != NULL, ep_room[i] >= 0, "endpoint e%u presence differs", i);
		if (ep) {
			char rn[8];
			snprintf(rn, sizeof(rn), "r%d", ep_room[i]);
			cr_assert_str_eq(ep->room->name, rn);
			cr_assert_eq(ep->conf->audio_muted, ep_muted[i]);
			present++;
		}
	}
	cr_assert_eq(T.n_endpoints, present);
	uint64_t handoffs = T.wstats[0].handoff_out + T.wstats[1].handoff_out;
	cr_log_info("stress: %u agent ops, %llu frames emitted, %llu hand-offs", ops,
		    (unsigned long long)emitted, (unsigned long long)handoffs);
	fprintf(stderr, "stress: %u agent ops, %llu frames emitted, %llu hand-offs\n", ops,
		(unsigned long long)emitted, (unsigned long long)handoffs);
	cr_assert_geq(ops, MIN_OPS, "the agent made too few changes to stress anything");
	cr_assert_gt(emitted, 1000, "the workers forwarded too little");
	cr_assert_gt(handoffs, 0, "hand-offs between workers were not exercised");
	cr_assert_eq(invalid_frames, 0);
	cr_assert_eq(violations, 0, "%llu frames reached endpoints after their removal was acked",
		     (unsigned long long)violations);

	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	for (uint32_t w = 0; w < NWORKERS; w++) {
		pthread_mutex_destroy(&Q[w]->mu);
		free(Q[w]);
	}
	free(wc);
	H_ASSERT_NO_LEAKS();
}
