/* --find-max and --ramp. --find-max: the highest number of rooms (of --participants each, at
 * the scenario's profile) that mmdp carries with loss <= --max-loss and
 * nothing misdelivered over a trial of --trial seconds (after --warmup),
 * by the search of tools/load/search.h, one full run per trial (the rooms
 * set up, loaded, checked and removed). The report: every step (load,
 * offered and received rates, loss, verdict, the bracket after it, which
 * side looked like the limit), the maximum, the full report of the trial
 * at the maximum, and a line a planner can paste. --ramp: trials at
 * --ramp-steps loads evenly spaced from --rooms to --max-rooms, every one
 * run whatever the one before gave (throughput, loss and latency against
 * offered load, past the knee), reported the same way. --plot draws the
 * trials of either (tools/load/plot.h). */
#include <stdlib.h>
#include <string.h>

#include "tools/load/plot.h"
#include "tools/load/run.h"
#include "tools/load/search.h"

static double jreal(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
}

/* Which side looks like the limit of a trial that failed (fwd: what
 * forwards, the control's forwarder); written into buf. */
static const char *limit_of(const json_t *rep, const char *fwd, char *buf, size_t cap)
{
	bool kept = json_is_true(json_object_get(json_object_get(rep, "offered"), "kept_schedule"));
	double mis = jreal(rep, "misdelivered", "total");
	const json_t *drops = json_object_get(json_object_get(rep, "mmdp"), "drops");
	double tx_full = json_integer_value(json_object_get(drops, "tx_full"));
	double send_errors = jreal(rep, "offered", "send_errors");
	double kernel_rcvbuf = jreal(rep, "kernel", "udp_rcvbuf_errors");
	if (mis > 0)
		return "misdelivery";
	if (!kept)
		return "generator: mmload fell behind its schedule";
	if (tx_full > 0 || kernel_rcvbuf > 0)
		return "generator: mmload did not read fast enough (mmdp's TX ring full)";
	if (send_errors > 0)
		snprintf(buf, cap, "%s: it did not take all mmload sent (its receive ring or "
			 "socket buffer full)", fwd);
	else
		snprintf(buf, cap, "%s: packets went in and fewer copies came out", fwd);
	return buf;
}

static json_t *step_json(const char *fwd, int step, int rooms, int parts, const json_t *rep,
			 bool pass,
			 const struct ld_search *s)
{
	json_t *j = json_pack("{sisisisb}", "step", step, "rooms", rooms, "participants",
			      rooms * parts, "pass", pass);
	if (rep) {
		json_object_set_new(j, "offered_pps", json_real(jreal(rep, "offered", "pps")));
		json_object_set_new(j, "received_pps", json_real(jreal(rep, "received", "pps")));
		json_object_set_new(j, "offered_mbps", json_real(jreal(rep, "offered", "mbps")));
		json_object_set_new(j, "received_mbps", json_real(jreal(rep, "received", "mbps")));
		json_object_set_new(j, "copies", json_integer((json_int_t)jreal(rep, "expected", "copies")));
		json_object_set_new(j, "lost", json_integer((json_int_t)jreal(rep, "loss", "packets")));
		json_object_set_new(j, "unsent_copies", json_integer((json_int_t)jreal(rep, "loss", "unsent_copies")));
		json_object_set_new(j, "loss_percent", json_real(jreal(rep, "loss", "with_unsent_percent")));
		json_object_set_new(j, "misdelivered",
				    json_integer((json_int_t)jreal(rep, "misdelivered", "total")));
		double secs = jreal(rep, "measured_s", NULL);
		json_object_set_new(j, "expected_pps",
				    json_real(secs > 0 ? jreal(rep, "expected", "copies") / secs : 0.0));
		json_object_set_new(j, "latency_p50_ms", json_real(jreal(rep, "latency_ms", "p50")));
		json_object_set_new(j, "latency_p90_ms", json_real(jreal(rep, "latency_ms", "p90")));
		json_object_set_new(j, "latency_p99_ms", json_real(jreal(rep, "latency_ms", "p99")));
		json_object_set_new(j, "latency_p999_ms", json_real(jreal(rep, "latency_ms", "p99.9")));
		json_object_set_new(j, "latency_max_ms", json_real(jreal(rep, "latency_ms", "max")));
		json_object_set_new(j, "generator_max_lag_ms", json_real(jreal(rep, "offered", "max_lag_ms")));
		json_object_set_new(j, "generator_end_lag_ms", json_real(jreal(rep, "offered", "end_lag_ms")));
		json_object_set_new(j, "generator_kept_schedule",
				    json_boolean(json_is_true(json_object_get(json_object_get(rep, "offered"), "kept_schedule"))));
		json_object_set_new(j, "generator_cpu_percent",
				    json_real(jreal(rep, "cpu", "percent_of_one_core")));
		json_object_set_new(j, "mmdp_drops",
				    json_deep_copy(json_object_get(json_object_get(rep, "mmdp"), "drops")));
		const json_t *fw = json_object_get(rep, "forwarder_cpu");
		if (fw)
			json_object_set_new(j, "forwarder_cpu", json_deep_copy(fw));
		char buf[160];
		if (!pass)
			json_object_set_new(j, "limit", json_string(limit_of(rep, fwd, buf, sizeof(buf))));
	} else {
		json_object_set_new(j, "error", json_true());
	}
	json_object_set_new(j, "lo", json_integer(s->lo));
	json_object_set_new(j, "hi", json_integer(s->hi));
	return j;
}

static void profile_text(const struct ld_run *R, char *buf, size_t cap)
{
	const struct ld_conf *c = &R->o.conf;
	char v[96] = "";
	if (c->video)
		snprintf(v, sizeof(v), "+%svideo %d kbit/s %d fps", c->simulcast ? "simulcast " : "",
			 c->video_kbps, c->fps);
	snprintf(buf, cap, "audio%s%s%s, %s, %s", c->dtx ? " (DTX)" : "", v,
		 c->screen ? "+screen" : "",
		 R->o.srtp == MM_SRTP_NONE ? "plain RTP" : mm_srtp_profile_name(R->o.srtp),
		 R->o.family == 6 ? "IPv6" : R->o.family == 4 ? "IPv4" : "IPv4/IPv6");
}

/* mmdp's worker lcores, from stats.get (0 when unknown). */
static int workers_of(struct ld_run *R)
{
	json_t *rep = NULL;
	int n = 0;
	if (R->have_agent && ld_agent_call(R, json_pack("{ss}", "op", "stats.get"), &rep, "stats.get") == 0)
		n = (int)json_array_size(json_object_get(rep, "workers"));
	json_decref(rep);
	return n;
}

/* The trials: the search's next value, or the ramp's next distinct one. */
struct plan {
	bool ramp;
	struct ld_search s;
	int from, to, n, i, last;
};

static int plan_next(struct plan *p)
{
	if (!p->ramp)
		return ld_search_next(&p->s);
	while (p->i < p->n) {
		int v = ld_ramp_value(p->from, p->to, p->n, p->i);
		if (v != p->last)
			return v;
		p->i++;
	}
	return 0;
}

static void plan_record(struct plan *p, int v, bool pass)
{
	/* The ramp keeps a bracket too, for the report. Its loads only
	 * grow: the bracket is the highest load that passed below the first
	 * that failed, and a pass above that failure moves nothing. */
	if (p->ramp && pass && v >= p->s.hi)
		p->s.steps++;
	else
		ld_search_record(&p->s, v, pass);
	if (p->ramp) {
		p->last = v;
		p->i++;
	}
}

int ld_find_max(struct ld_run *R)
{
	struct ld_opts *o = &R->o;
	int parts = o->conf.participants;
	int max = o->max_rooms > 0 ? o->max_rooms : 20000 / parts;
	if (max > 20000 / parts)
		max = 20000 / parts;
	if (max > 10000) /* --rooms' bound (reflect: rooms of 1) */
		max = 10000;
	struct plan P = {.ramp = o->ramp};
	ld_search_init(&P.s, o->conf.rooms, 1, max, o->precision);
	if (P.ramp) {
		P.from = o->conf.rooms < max ? o->conf.rooms : max;
		P.to = max;
		P.n = o->ramp_steps;
	}
	const char *mode = P.ramp ? "ramp" : "find-max";
	const char *fwd = R->ctl->forwarder;
	o->duration = o->trial;
	json_t *steps = json_array(), *at_max = NULL;
	const char *last_limit = NULL;
	FILE *sf = o->steps_file ? fopen(o->steps_file, "a") : NULL;
	int v, errors = 0, fails = 0;
	if (o->steps_file && !sf)
		fprintf(stderr, "mmload: cannot append to %s: %m\n", o->steps_file);
	int attempt = 0, prev_v = 0;
	while ((v = plan_next(&P)) != 0 && !ld_interrupted()) {
		attempt = v == prev_v ? attempt + 1 : 1;
		prev_v = v;
		o->conf.rooms = v;
		json_t *rep = NULL;
		bool pass = false;
		int st = ld_run_once(R, &rep, &pass);
		if (st == 2 || !rep) {
			/* A run that could not be set up is no measurement: stop. */
			errors++;
			json_array_append_new(steps, step_json(fwd, P.s.steps + 1, v, parts, NULL, false, &P.s));
			json_decref(rep);
			break;
		}
		/* A trial measures the load it was meant to only when mmload
		 * offered it: one whose generator fell behind (an event skipped,
		 * or a backlog over 1 % of the window when it closed; report.c)
		 * is no pass, however little of what it did send was lost. */
		if (pass && !json_is_true(json_object_get(json_object_get(rep, "offered"),
							  "kept_schedule")))
			pass = false;
		/* A search repeats a failed trial (--retries): a load fails
		 * only when every attempt fails, so that one stall of a shared
		 * machine (a vCPU descheduled for some ms overruns a ring)
		 * does not end the search below what the forwarder carries;
		 * real overload fails every time. A ramp takes what each load
		 * gives, failures past the knee too, but not a trial the
		 * generator itself failed (behind its schedule, or not reading
		 * its ring): that measured mmload, not the forwarder. */
		json_t *aj = NULL;
		if (!pass && attempt <= o->retries) {
			aj = step_json(fwd, P.s.steps + 1, v, parts, rep, false, &P.s);
			const char *lim = json_string_value(json_object_get(aj, "limit"));
			if (P.ramp && !(lim && strncmp(lim, "generator:", 10) == 0)) {
				json_decref(aj);
				aj = NULL;
			}
		}
		if (aj) {
			json_object_set_new(aj, "attempt", json_integer(attempt));
			json_object_set_new(aj, "retried", json_true());
			fprintf(stderr, "mmload: %s: %d rooms failed (%s), attempt %d of %d: again\n",
				mode, v, json_string_value(json_object_get(aj, "limit")), attempt,
				o->retries + 1);
			json_array_append_new(steps, aj);
			json_decref(rep);
			continue;
		}
		bool best_so_far = pass && v > P.s.lo && v < P.s.hi;
		plan_record(&P, v, pass);
		if (!pass)
			fails++;
		json_t *sj = step_json(fwd, P.s.steps, v, parts, rep, pass, &P.s);
		json_object_set_new(sj, "attempt", json_integer(attempt));
		if (!pass)
			last_limit = json_string_value(json_object_get(sj, "limit"));
		fprintf(stderr,
			"mmload: %s step %d: %d rooms x %d (%d participants): offered %.0f pps, "
			"received %.0f pps, loss %.4f%%, p99 %.2f ms => %s%s%s; bracket [%d, %d]\n",
			mode, P.s.steps, v, parts, v * parts, jreal(rep, "offered", "pps"),
			jreal(rep, "received", "pps"), jreal(rep, "loss", "with_unsent_percent"),
			jreal(rep, "latency_ms", "p99"), pass ? "pass" : "FAIL", pass ? "" : ": ",
			pass ? "" : last_limit, P.s.lo, P.s.hi);
		if (sf) {
			char *t = json_dumps(sj, JSON_COMPACT);
			if (t)
				fprintf(sf, "%s\n", t), fflush(sf);
			free(t);
		}
		json_array_append_new(steps, sj);
		if (pass && (P.ramp ? best_so_far : v == ld_search_result(&P.s))) {
			json_decref(at_max);
			at_max = rep;
		} else {
			json_decref(rep);
		}
	}
	if (sf)
		fclose(sf);
	int best = ld_search_result(&P.s);
	bool converged = plan_next(&P) == 0 && !errors && !ld_interrupted();
	char prof[160], line[768];
	profile_text(R, prof, sizeof(prof));
	int workers = workers_of(R);
	const char *bound = "";
	char bbuf[128];
	if (best && P.s.hi > P.s.max)
		snprintf(bbuf, sizeof(bbuf), " (the %s, --max-rooms: %s may carry more)",
			 P.ramp ? "ramp's top" : "search's upper bound", fwd);
	else if (best && last_limit && strncmp(last_limit, "generator", 9) == 0)
		snprintf(bbuf, sizeof(bbuf), " (a lower bound: mmload, not %s, was the limit)", fwd);
	else
		bbuf[0] = 0;
	bound = bbuf;
	char cores[128];
	if (o->conf.reflect)
		snprintf(cores, sizeof(cores), "the forwarder (reflect: each packet back to its sender, 1 copy) carries");
	else if (workers > 1)
		snprintf(cores, sizeof(cores), "%d %s worker cores carry", workers, fwd);
	else
		snprintf(cores, sizeof(cores), "one %s %s carries", fwd,
			 strcmp(fwd, "mmdp") ? "forwarding core" : "worker core");
	snprintf(line, sizeof(line), "%s %d participants in rooms of %d at profile %s: %.0f "
		 "packets/s in, %.0f copies/s out, over %s%s",
		 cores, best * parts, parts, prof, at_max ? jreal(at_max, "offered", "pps") : 0.0,
		 at_max ? jreal(at_max, "received", "pps") : 0.0, R->io->name, bound);
	/* Where mmload, not mmdp, stopped the search, mmdp's worker was not
	 * full at the maximum: its busy cycles per copy there (the report's
	 * "forwarder") project what one core would carry at that cost. A
	 * projection, linear in the load, and said so; but it does not move
	 * with the generator's own capacity as the measured maximum does. */
	json_t *proj = json_null();
	const json_t *fw = at_max ? json_object_get(at_max, "forwarder") : NULL;
	double busy = fw ? jreal(fw, "busy_fraction", NULL) : 0.0;
	int workers_busy = fw ? (int)json_array_size(json_object_get(fw, "workers")) : 0;
	if (busy > 0.05 && busy <= 1.0 && workers_busy > 0) {
		/* busy_fraction is over all the workers' cycles: the share each
		 * would be at were the load spread evenly. */
		double p_parts = (double)(best * parts) / busy, p_copies = jreal(at_max, "received", "pps") / busy;
		proj = json_pack("{sfsfsfsfss}", "busy_fraction", busy, "participants", p_parts,
				 "copies_per_s", p_copies, "ns_per_copy", jreal(fw, "ns_per_packet", NULL),
				 "note", "linear projection from the worker's busy share at the maximum");
		if (last_limit && strncmp(last_limit, "generator", 9) == 0) {
			size_t n = strlen(line);
			snprintf(line + n, sizeof(line) - n,
				 "; mmdp's worker%s %.0f %% busy there: at %.0f ns per copy, about %.0f "
				 "participants (%.0f copies/s) at full load",
				 workers_busy > 1 ? "s were" : " was", busy * 100,
				 jreal(fw, "ns_per_packet", NULL), p_parts, p_copies);
		}
	}

	json_t *j = json_object();
	json_object_set_new(j, "tool", json_string("mmload"));
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "mode", json_string(mode));
	json_object_set_new(j, "io", json_string(R->io->name));
	json_object_set_new(j, "control", json_string(R->ctl->name));
	json_t *sj = json_pack("{sssisisisisfsisisisfso}", "variable", "rooms", "participants_per_room",
			       parts, "start", P.s.start, "min", P.s.min, "max", P.s.max,
			       "precision_percent", P.s.precision, "retries", o->retries, "trial_s", o->trial, "warmup_s",
			       o->warmup, "max_loss_percent", o->max_loss, "steps", steps);
	if (P.ramp)
		json_object_set_new(sj, "ramp", json_pack("{sisisi}", "from", P.from, "to", P.to,
							  "steps", P.n));
	json_object_set_new(j, "search", sj);
	json_object_set_new(j, "reflect", json_boolean(o->conf.reflect));
	json_object_set_new(j, "converged", json_boolean(converged));
	if (best && at_max)
		json_object_set_new(
			j, "max",
			json_pack("{sisisisfsfsfsf}", "rooms", best, "participants", best * parts,
				  "participants_per_room", parts, "offered_pps",
				  jreal(at_max, "offered", "pps"), "received_pps",
				  jreal(at_max, "received", "pps"), "offered_mbps",
				  jreal(at_max, "offered", "mbps"), "received_mbps",
				  jreal(at_max, "received", "mbps")));
	else
		json_object_set_new(j, "max", json_null());
	json_object_set_new(j, "limit_above_max", last_limit ? json_string(last_limit) : json_null());
	json_object_set_new(j, "mmdp_workers", json_integer(workers));
	json_object_set_new(j, "profile", json_string(prof));
	json_object_set_new(j, "summary", json_string(line));
	json_object_set_new(j, "projected", proj);
	json_object_set_new(j, "at_max", at_max ? at_max : json_null());
	/* A ramp passes when it ran every step and its lowest load passed. */
	bool ok = P.ramp ? converged && best > 0 && (size_t)fails < json_array_size(steps)
			 : best > 0 && converged;
	json_object_set_new(j, "pass", json_boolean(ok));
	int plot_rc = 0;
	if (o->plot) {
		char title[256], err[512];
		snprintf(title, sizeof(title), "%s, rooms of %d, %s (%s, %s)", fwd, parts, prof,
			 R->io->name, mode);
		plot_rc = ld_plot(steps, o->plot, title, o->max_loss, err, sizeof(err));
		if (plot_rc)
			fprintf(stderr, "mmload: --plot: %s\n", err);
		else
			json_object_set_new(j, "plots", json_pack("{s:s+,s:s+,s:s+}", "throughput",
								  o->plot, "-throughput.png", "loss",
								  o->plot, "-loss.png", "latency", o->plot,
								  "-latency.png"));
	}
	if (o->report && json_dump_file(j, o->report, JSON_INDENT(1)) != 0)
		fprintf(stderr, "mmload: cannot write %s\n", o->report);
	if (o->json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	fprintf(stderr, "mmload: %s: %s%s\n", mode, line, converged ? "" : " (not finished)");
	json_decref(j);
	return errors || plot_rc ? 2 : ok ? 0 : 1;
}
