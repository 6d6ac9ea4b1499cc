/* mmload: the load and capacity tool (issue 5).
 *
 * Order of things: options; the site (MMSITE_*, kernel mode) or the EAL
 * and the memif port (memif mode); mmdp's agent socket (hello). Then one
 * run (ld_run_once), or with --find-max a run per trial of the search
 * (tools/load/findmax.c). A run: the scenario; stats.get before; the
 * participants' addresses and keys; the meeting set up (agent or mmctld);
 * SRTP sessions and the backend's sockets; the I/O threads; warmup, the
 * measured window (progress once a second, --mute-one's mute and unmute),
 * the drain; stats.get after; the report; the rooms removed. See
 * tools/load/run.h for threads, mutes and backends. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/load/report_priv.h"

#define MAX_FLOWS (4u << 20) /* 256 MB of per-(receiver, stream) state */
#define DRAIN_QUIET_NS 300000000ull
#define DRAIN_MAX_NS 2000000000ull

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u)};
	while (!g_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int connect_agent(struct ld_run *R)
{
	int rc = sim_agent_connect(&R->agent, R->o.socket);
	if (rc) {
		fprintf(stderr, "mmload: agent socket %s: %s\n", R->o.socket, strerror(-rc));
		return rc;
	}
	rc = ld_agent_call(R, json_pack("{ss}", "op", "hello"), &R->hello, "hello");
	if (rc)
		sim_agent_close(&R->agent);
	R->have_agent = rc == 0;
	return rc;
}

/* --mute-one: through the phases described in run.h. */
static void mute_step(struct ld_run *R, uint32_t part, bool muted)
{
	uint32_t audio = R->sc.part_first[part];
	struct ld_mute_event *m = &R->mutes[R->n_mutes++];
	__atomic_store_n(&R->ss[audio].phase, (uint8_t)LD_PHASE_UNCERTAIN, __ATOMIC_RELAXED);
	sleep_until(ld_now_ns() + LD_MUTE_MARGIN_MS * 1000000ull);
	uint64_t t = ld_now_ns();
	m->part = part;
	m->muted = muted;
	m->at_s = (double)((int64_t)t - (int64_t)R->t_meas) / 1e9;
	m->rc = R->ctl->mute(R, part, muted);
	m->took_ms = (double)(ld_now_ns() - t) / 1e6;
	enum ld_phase ph = m->rc ? (muted ? LD_PHASE_EXPECTED : LD_PHASE_MUTED)
				 : (muted ? LD_PHASE_MUTED : LD_PHASE_EXPECTED);
	__atomic_store_n(&R->ss[audio].phase, (uint8_t)ph, __ATOMIC_RELAXED);
	if (!R->o.quiet)
		fprintf(stderr, "mmload: %s %s's audio: %s in %.1f ms\n", muted ? "muted" : "unmuted",
			R->parts[part].name, m->rc ? "FAILED" : "acknowledged", m->took_ms);
}

/* --pref-change: participant's endpoint put again with another max_layer. */
static void pref_step(struct ld_run *R, const struct ld_pref *pf)
{
	struct ld_pref_event *e = &R->prefs[R->n_prefs++];
	uint64_t t = ld_now_ns();
	e->part = pf->part;
	e->layer = pf->layer;
	e->at_s = (double)((int64_t)t - (int64_t)R->t_meas) / 1e9;
	e->rc = R->ctl->max_layer ? R->ctl->max_layer(R, pf->part, pf->layer) : -ENOTSUP;
	e->took_ms = (double)(ld_now_ns() - t) / 1e6;
	if (!R->o.quiet)
		fprintf(stderr, "mmload: %s's max_layer %d: %s in %.1f ms\n", R->parts[pf->part].name,
			pf->layer, e->rc ? "FAILED" : "acknowledged", e->took_ms);
}

static uint64_t rx_total(const struct ld_run *R)
{
	uint64_t n = 0;
	for (int i = 0; i < R->n_threads; i++)
		n += ld_ctr_get(&R->th[i].st.rx_datagrams);
	return n;
}

static void run(struct ld_run *R)
{
	uint64_t prev_tx = 0, prev_rx = 0, prev_ns = R->t0;
	uint64_t next = R->t0 + 1000000000u;
	uint64_t mute_at[2] = {UINT64_MAX, UINT64_MAX};
	int mutes = 0;
	if (R->o.mute_one) {
		uint64_t d = R->t_end - R->t_meas;
		mute_at[0] = R->t_meas + d / 3;
		mute_at[1] = R->t_meas + 2 * d / 3;
	}
	bool ru0 = false;
	int prefs = 0;
	while (!g_stop) {
		uint64_t wake = next < R->t_end ? next : R->t_end;
		uint64_t pref_at = prefs < R->o.n_prefs
					   ? R->t0 + (uint64_t)(R->o.prefs[prefs].at_s * 1e9)
					   : UINT64_MAX;
		if (!ru0 && R->t_meas < wake)
			wake = R->t_meas;
		if (mutes < 2 && mute_at[mutes] < wake)
			wake = mute_at[mutes];
		if (pref_at < wake)
			wake = pref_at;
		sleep_until(wake);
		uint64_t now = ld_now_ns();
		if (!ru0 && now >= R->t_meas) {
			getrusage(RUSAGE_SELF, &R->ru0);
			R->ru0_ns = now;
			ld_fwcpu_sample(R, 0);
			ru0 = true;
		}
		if (now >= R->t_end)
			break;
		if (mutes < 2 && now >= mute_at[mutes]) {
			mute_step(R, 0, mutes == 0);
			mutes++;
		}
		while (prefs < R->o.n_prefs && now >= pref_at) {
			pref_step(R, &R->o.prefs[prefs++]);
			pref_at = prefs < R->o.n_prefs
					  ? R->t0 + (uint64_t)(R->o.prefs[prefs].at_s * 1e9)
					  : UINT64_MAX;
		}
		if (now >= next) {
			if (!R->o.quiet)
				ld_progress(R, now, &prev_tx, &prev_rx, &prev_ns);
			next += 1000000000u;
		}
	}
	getrusage(RUSAGE_SELF, &R->ru1);
	R->ru1_ns = ld_now_ns();
	ld_fwcpu_sample(R, 1);
	/* Let the last copies arrive: until quiet for a while. */
	uint64_t last = rx_total(R), quiet_since = ld_now_ns(), end = quiet_since + DRAIN_MAX_NS;
	while (!g_stop && ld_now_ns() < end && ld_now_ns() - quiet_since < DRAIN_QUIET_NS) {
		sleep_until(ld_now_ns() + 50000000u);
		uint64_t n = rx_total(R);
		if (n != last) {
			last = n;
			quiet_since = ld_now_ns();
		}
	}
	if (!R->o.quiet)
		ld_progress(R, ld_now_ns(), &prev_tx, &prev_rx, &prev_ns);
}

static void summary(const json_t *j)
{
	const json_t *off = json_object_get(j, "offered"), *rx = json_object_get(j, "received");
	const json_t *lat = json_object_get(j, "latency_ms"), *loss = json_object_get(j, "loss");
	fprintf(stderr,
		"mmload: offered %.0f pps (%.1f Mbit/s), received %.0f pps (%.1f Mbit/s); lost %lld "
		"of %lld copies (%.4f%%), misdelivered %lld; latency p50 %.3f p99 %.3f p99.9 %.3f "
		"max %.3f ms; jitter mean %.3f ms; CPU %.0f%% of a core => %s\n",
		json_real_value(json_object_get(off, "pps")),
		json_real_value(json_object_get(off, "mbps")),
		json_real_value(json_object_get(rx, "pps")),
		json_real_value(json_object_get(rx, "mbps")),
		(long long)json_integer_value(json_object_get(loss, "packets")),
		(long long)json_integer_value(json_object_get(json_object_get(j, "expected"), "copies")),
		json_real_value(json_object_get(loss, "percent")),
		(long long)json_integer_value(
			json_object_get(json_object_get(j, "misdelivered"), "total")),
		json_real_value(json_object_get(lat, "p50")), json_real_value(json_object_get(lat, "p99")),
		json_real_value(json_object_get(lat, "p99.9")), json_real_value(json_object_get(lat, "max")),
		json_real_value(json_object_get(json_object_get(j, "jitter_ms"), "mean")),
		json_real_value(json_object_get(json_object_get(j, "cpu"), "percent_of_one_core")),
		json_is_true(json_object_get(j, "pass")) ? "PASS" : "FAIL");
	const json_t *fw = json_object_get(j, "forwarder_cpu");
	if (fw && !json_object_get(fw, "error"))
		fprintf(stderr, "mmload: forwarder (pid %lld): %.1f%% of a core, %.0f ns CPU per "
				"forwarded packet\n",
			(long long)json_integer_value(json_object_get(fw, "pid")),
			json_real_value(json_object_get(fw, "percent_of_one_core")),
			json_real_value(json_object_get(fw, "ns_per_packet")));
	const json_t *re = json_object_get(j, "reencrypts");
	if (re && !json_is_null(re))
		fprintf(stderr, "mmload: rtpengine re-encrypts: %s\n",
			json_is_true(re) ? "yes (own key on each leg, every copy authenticated with it)"
					 : "NO (a key passed from leg to leg, or copies failed SRTP)");
	const json_t *sfu = json_object_get(j, "sfu");
	if (sfu) {
		const json_t *a = json_object_get(sfu, "audio"), *sm = json_object_get(sfu, "simulcast");
		const json_t *rt = json_object_get(sfu, "retransmission");
		const json_t *ly = json_object_get(sm, "layers_at_end");
		fprintf(stderr,
			"mmload: SFU: %lld views; audio: %lld unexpected, last turn heard %lld..%lld "
			"(%s); simulcast: %lld groups, %lld switches, %lld not at a keyframe, %lld "
			"with a seq gap, %lld interleaved, layers at end %lld/%lld/%lld; NACK: %lld "
			"sent, %lld asked, %lld repaired, %lld lost before / %lld after repair\n",
			(long long)json_integer_value(json_object_get(sfu, "views")),
			(long long)json_integer_value(json_object_get(a, "unexpected_audio")),
			(long long)json_integer_value(json_object_get(a, "heard_min")),
			(long long)json_integer_value(json_object_get(a, "heard_max")),
			json_is_true(json_object_get(a, "all_exact")) ? "everyone exactly the speakers"
								     : "not exactly the speakers",
			(long long)json_integer_value(json_object_get(sm, "groups")),
			(long long)json_integer_value(json_object_get(sm, "switches")),
			(long long)json_integer_value(json_object_get(sm, "switch_not_at_keyframe")),
			(long long)json_integer_value(json_object_get(sm, "gap_at_switch")),
			(long long)json_integer_value(json_object_get(sm, "layer_interleaved")),
			(long long)json_integer_value(json_array_get(ly, 0)),
			(long long)json_integer_value(json_array_get(ly, 1)),
			(long long)json_integer_value(json_array_get(ly, 2)),
			(long long)json_integer_value(json_object_get(rt, "nacks_sent")),
			(long long)json_integer_value(json_object_get(rt, "nacked")),
			(long long)json_integer_value(json_object_get(rt, "repaired")),
			(long long)json_integer_value(json_object_get(rt, "lost_before_repair")),
			(long long)json_integer_value(json_object_get(rt, "lost_after_repair")));
	}
	json_int_t k = json_integer_value(
		json_object_get(json_object_get(j, "kernel"), "udp_rcvbuf_errors"));
	if (k)
		fprintf(stderr, "mmload: %lld datagrams dropped by mmload's own full socket buffers "
				"(the generator, not mmdp, was too slow)\n", (long long)k);
}

/* Once per process. */
static int prepare(struct ld_run *R)
{
	char err[256] = "";
	if (R->o.io == LD_IO_KERNEL) {
		const char *a = getenv("MMSITE_ADDRS_PER_HOST");
		if (sim_site_from_env(&R->site, err, sizeof(err)) != 0) {
			fprintf(stderr, "mmload: %s\n", err);
			return -ENOENT;
		}
		R->addrs_per_host = a && atoi(a) > 0 ? atoi(a) : 1;
		int rc = sim_site_resolve(&R->site);
		if (rc) {
			fprintf(stderr, "mmload: test site: %s\n", strerror(-rc));
			return rc;
		}
	}
	if (mm_srtp_global_init())
		return -ENOMEM;
	R->ctl = R->o.conf.reflect ? &ld_control_reflect
		 : R->o.rtpengine   ? &ld_control_rtpengine
		 : R->o.mmctld	    ? &ld_control_rest
				    : &ld_control_agent;
	if (R->o.socket && connect_agent(R) != 0 && !R->o.mmctld)
		return -ENOTCONN;
	if (R->io->init) {
		int rc = R->io->init(R, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "mmload: %s\n", err[0] ? err : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The scenario and the per-run state. */
static int plan(struct ld_run *R)
{
	char err[256];
	if (ld_scenario_build(&R->sc, &R->o.conf))
		return -ENOMEM;
	size_t flows = (size_t)R->sc.n_parts * R->sc.streams_per_room;
	if (flows > MAX_FLOWS) {
		fprintf(stderr, "mmload: %zu (receiver, stream) pairs, at most %u\n", flows, MAX_FLOWS);
		return -E2BIG;
	}
	R->ss = calloc(R->sc.n_streams, sizeof(*R->ss));
	R->flows = calloc(flows, sizeof(*R->flows));
	if (!R->ss || !R->flows)
		return -ENOMEM;
	if (ld_conf_sfu(&R->sc.conf)) {
		R->views = malloc(flows * sizeof(*R->views));
		R->view_queued = calloc(flows, 1);
		R->ears = calloc(R->sc.n_parts, sizeof(*R->ears));
		if (!R->views || !R->view_queued || !R->ears) {
			fprintf(stderr, "mmload: out of memory for %zu SFU views\n", flows);
			return -ENOMEM;
		}
		for (size_t i = 0; i < flows; i++)
			ld_view_init(&R->views[i]);
	}
	int rc = ld_parts_plan(R, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mmload: %s\n", rc == -ENOMEM ? "out of memory" : err);
		return rc;
	}
	return 0;
}

/* Free what one run made, so that the next starts clean. */
static void run_free(struct ld_run *R)
{
	if (R->io && R->io->close)
		R->io->close(R);
	ld_io_free(R);
	ld_parts_close(R);
	json_decref(R->stats0);
	json_decref(R->stats1);
	free(R->ss);
	free(R->flows);
	free(R->views);
	free(R->view_queued);
	free(R->ears);
	ld_scenario_free(&R->sc);
	R->stats0 = R->stats1 = NULL;
	R->ss = NULL;
	R->flows = NULL;
	R->views = NULL;
	R->view_queued = NULL;
	R->ears = NULL;
	memset(&R->sc, 0, sizeof(R->sc));
	memset(&R->kst0, 0, sizeof(R->kst0));
	memset(&R->kst1, 0, sizeof(R->kst1));
	R->n_mutes = 0;
	R->n_prefs = 0;
	R->stop = 0;
	memset(&R->fw0, 0, sizeof(R->fw0));
	memset(&R->fw1, 0, sizeof(R->fw1));
}

int ld_run_once(struct ld_run *R, json_t **report, bool *pass)
{
	int status = 2, rc;
	char err[256] = "";
	*report = NULL;
	*pass = false;
	if (plan(R) != 0)
		goto out;
	R->stats0 = ld_agent_stats(R);
	if (R->ctl->setup(R) != 0 || ld_parts_open(R, err, sizeof(err)) != 0 ||
	    R->io->open(R, err, sizeof(err)) != 0) {
		if (err[0])
			fprintf(stderr, "mmload: %s\n", err);
		goto teardown;
	}
	R->t0 = ld_now_ns() + 100000000u;
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	R->t0_unix = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 +
		     ((double)R->t0 - (double)ld_now_ns()) / 1e9;
	R->t_meas = R->t0 + (uint64_t)R->o.warmup * 1000000000u;
	R->t_end = R->t_meas + (uint64_t)R->o.duration * 1000000000u;
	if (!R->o.quiet)
		fprintf(stderr, "mmload: %d rooms x %d participants, %u streams, %s, set up through %s, "
			"%s I/O; %d s warmup + %d s\n", R->o.conf.rooms, R->o.conf.participants,
			R->sc.n_streams,
			R->parts[0].srtp ? mm_srtp_profile_name(R->parts[0].srtp) : "plain RTP",
			R->ctl->name, R->io->name, R->o.warmup, R->o.duration);
	if (R->io->stats)
		R->io->stats(R, 0);
	if ((rc = ld_io_start(R)) != 0) {
		fprintf(stderr, "mmload: I/O threads: %s\n", strerror(-rc));
		ld_io_join(R);
		goto teardown;
	}
	run(R);
	ld_io_join(R);
	if (R->io->stats)
		R->io->stats(R, 1);
	R->stats1 = ld_agent_stats(R);
	json_t *rep = ld_report(R, pass);
	if (R->o.timeline && !R->o.find_max && !R->o.ramp &&
	    (rc = ld_timeline_write(R, R->o.timeline)) != 0)
		fprintf(stderr, "mmload: cannot write %s: %s\n", R->o.timeline, strerror(-rc));
	if (rep) {
		ld_fwcpu_report(R, rep);
		if (R->ctl->report)
			R->ctl->report(R, rep);
	}
	if (rep && g_stop) {
		json_object_set_new(rep, "interrupted", json_true());
		json_object_set_new(rep, "pass", json_false());
		*pass = false;
	}
	if (!rep)
		fprintf(stderr, "mmload: cannot build the report\n");
	else
		status = *pass ? 0 : 1;
	*report = rep;
teardown:
	R->ctl->teardown(R);
out:
	run_free(R);
	return status;
}

bool ld_interrupted(void)
{
	return g_stop != 0;
}

int main(int argc, char **argv)
{
	static struct ld_run R;
	R.agent.fd = -1;
	int rc = ld_opts_parse(argc, argv, &R.o);
	if (rc)
		return rc == 1 ? 0 : (fprintf(stderr, "(mmload --help for the options)\n"), 2);
	R.n_threads = R.o.threads;
#if LD_HAVE_DPDK
	R.io = R.o.io == LD_IO_MEMIF ? &ld_io_memif : &ld_io_kernel;
#else
	if (R.o.io == LD_IO_MEMIF) {
		fprintf(stderr, "mmload: built without DPDK: no --io memif\n");
		return 2;
	}
	R.io = &ld_io_kernel;
#endif
	int status = 2;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (prepare(&R) != 0)
		goto out;
	if (R.o.find_max || R.o.ramp) {
		status = ld_find_max(&R);
		goto out;
	}
	bool pass;
	json_t *rep = NULL;
	status = ld_run_once(&R, &rep, &pass);
	if (rep) {
		if (R.o.report && json_dump_file(rep, R.o.report, JSON_INDENT(1)) != 0)
			fprintf(stderr, "mmload: cannot write %s\n", R.o.report);
		if (R.o.json) {
			json_dumpf(rep, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		summary(rep);
	}
	json_decref(rep);
out:
	if (R.io && R.io->fini)
		R.io->fini(&R);
	if (R.have_agent)
		sim_agent_close(&R.agent);
	json_decref(R.hello);
	return status;
}
