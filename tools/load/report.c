/* The progress line (once a second, stderr) and the JSON report. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/load/report_priv.h"

void ld_progress(struct ld_run *R, uint64_t now, uint64_t *prev_tx, uint64_t *prev_rx,
		 uint64_t *prev_ns)
{
	struct ld_tstats s;
	struct ld_hist *h = malloc(sizeof(*h));
	if (!h)
		return;
	ld_sum_stats(R, &s, h);
	double dt = (double)(now - *prev_ns) / 1e9;
	double t = (double)(now - R->t0) / 1e9;
	uint32_t sec = now > R->t0 ? (uint32_t)((now - R->t0) / 1000000000u) : 0;
	uint32_t to = sec >= 1 ? sec - 1 : 0; /* seconds that ended a second ago or more */
	uint32_t end = (uint32_t)(R->o.warmup + R->o.duration);
	uint64_t copies, lost;
	ld_timeline_loss(R, (uint32_t)R->o.warmup, to < end ? to : end, &copies, &lost);
	uint64_t mis = 0;
	for (int m = 1; m < LD_MIS__COUNT; m++)
		mis += s.mis[m];
	char p99[32] = "-";
	if (h->count)
		snprintf(p99, sizeof(p99), "%.3f", (double)ld_hist_percentile(h, 99) / 1e6);
	fprintf(stderr,
		"[%5.1fs%s] offered %7.0f pps  received %8.0f pps  loss %" PRIu64 " (%.4f%%)"
		"  p99 %s ms  lag max %.1f ms%s",
		t, now < R->t_meas ? " warmup" : now >= R->t_end ? " drain " : "",
		dt > 0 ? (double)(s.tx_pkts - *prev_tx) / dt : 0.0,
		dt > 0 ? (double)(s.rx_datagrams - *prev_rx) / dt : 0.0, lost,
		copies ? 100.0 * (double)lost / (double)copies : 0.0,
		p99, (double)s.lag_max_ns / 1e6,
		mis ? "" : "\n");
	if (mis)
		fprintf(stderr, "  MISDELIVERED %" PRIu64 "\n", mis);
	*prev_tx = s.tx_pkts;
	*prev_rx = s.rx_datagrams;
	*prev_ns = now;
	free(h);
}

static json_t *scenario_json(const struct ld_run *R)
{
	const struct ld_conf *c = &R->sc.conf;
	const struct ld_opts *o = &R->o;
	json_t *j = json_object();
	json_object_set_new(j, "rooms", json_integer(c->rooms));
	json_object_set_new(j, "participants", json_integer(c->participants));
	json_object_set_new(j, "streams", json_integer(R->sc.n_streams));
	json_object_set_new(j, "video", json_boolean(c->video));
	json_object_set_new(j, "simulcast", json_boolean(c->simulcast));
	json_object_set_new(j, "screen", json_boolean(c->screen));
	json_object_set_new(j, "dtx", json_boolean(c->dtx));
	json_object_set_new(j, "fps", json_integer(c->fps));
	json_object_set_new(j, "video_kbps", json_integer(c->video_kbps));
	json_object_set_new(j, "screen_fps", json_integer(c->screen_fps));
	json_object_set_new(j, "screen_kbps", json_integer(c->screen_kbps));
	json_object_set_new(j, "keyframe_interval", json_real(c->keyframe_interval));
	json_object_set_new(j, "keyframe_factor", json_integer(c->keyframe_factor));
	json_object_set_new(j, "speakers", json_integer(c->speakers));
	json_object_set_new(j, "turn", json_real(c->turn));
	json_object_set_new(j, "audio_level_id", json_integer(c->audio_level_id));
	json_object_set_new(j, "srtp", json_string(R->parts && R->parts[0].srtp != MM_SRTP_NONE
							   ? mm_srtp_profile_name(R->parts[0].srtp)
							   : "none"));
	json_object_set_new(j, "family", json_string(o->family == 4   ? "ipv4"
						     : o->family == 6 ? "ipv6"
								      : "mixed"));
	json_object_set_new(j, "seed", json_integer(c->seed));
	if (ld_conf_sfu(c)) {
		json_t *pf = json_array();
		for (int i = 0; i < o->n_prefs; i++)
			json_array_append_new(pf, json_pack("{sfsisi}", "at_s", o->prefs[i].at_s,
							    "participant", (int)o->prefs[i].part,
							    "max_layer", o->prefs[i].layer));
		json_object_set_new(j, "sfu", json_pack("{sisisisisbsfso}", "last_n", c->last_n,
							"video_last_n", c->video_last_n,
							"max_layer", c->max_layer, "rtx_pt",
							c->rtx_pt, "nack", c->nack, "settle_s",
							c->settle, "pref_changes", pf));
	}
	return j;
}

static json_t *kinds_json(const uint64_t *pkts, const uint64_t *bytes)
{
	json_t *j = json_object();
	for (int k = 0; k < LD_KINDS; k++)
		json_object_set_new(j, ld_kind_name(k),
				    json_pack("{sIsI}", "packets", (json_int_t)pkts[k], "bytes",
					      (json_int_t)bytes[k]));
	return j;
}

static json_t *latency_json(const struct ld_hist *h)
{
	return json_pack("{sIsfsfsfsfsfsfsf}", "count", (json_int_t)h->count, "min",
			 h->count ? (double)h->min / 1e6 : 0.0, "mean",
			 h->count ? (double)h->sum / (double)h->count / 1e6 : 0.0, "p50",
			 (double)ld_hist_percentile(h, 50) / 1e6, "p90",
			 (double)ld_hist_percentile(h, 90) / 1e6, "p99",
			 (double)ld_hist_percentile(h, 99) / 1e6, "p99.9",
			 (double)ld_hist_percentile(h, 99.9) / 1e6, "max", (double)h->max / 1e6);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

json_t *ld_report(struct ld_run *R, bool *pass)
{
	struct ld_tstats s;
	struct ld_hist *h = malloc(sizeof(*h));
	struct ld_totals t;
	if (!h)
		return NULL;
	ld_sum_stats(R, &s, h);
	ld_totals(R, &t);
	double dur = (double)(R->t_end - R->t_meas) / 1e9;
	uint64_t rx_pkts = 0, rx_bytes = 0, mis = 0;
	for (int k = 0; k < LD_KINDS; k++) {
		rx_pkts += s.rx_pkts[k];
		rx_bytes += s.rx_kbytes[k];
	}
	json_t *misj = json_object();
	for (int m = 1; m < LD_MIS__COUNT; m++) {
		mis += s.mis[m];
		set(misj, ld_mis_name(m), jint(s.mis[m]));
	}
	set(misj, "total", jint(mis));
	double loss_pct = t.copies ? 100.0 * (double)t.lost / (double)t.copies : 0.0;
	/* A packet mmload could not send (the forwarder's memif receive ring
	 * full, or the host's socket buffer) is lost too, with every copy it
	 * would have made: RFC 2544 counts what the device under test did
	 * not take. A run that skipped events did not offer the load asked
	 * for. */
	/* SFU mode: an unsent packet is a sequence gap at its receivers,
	 * already lost in t.lost. */
	double unsent = R->views ? 0.0 : (double)t.send_errors * (double)ld_copies(&R->sc);
	double all_loss_pct = t.copies + unsent > 0
				      ? 100.0 * ((double)t.lost + unsent) / ((double)t.copies + unsent)
				      : 0.0;
	*pass = t.copies > 0 && all_loss_pct <= R->o.max_loss && mis == 0 && s.skipped_events == 0;
	for (int i = 0; i < R->n_threads; i++)
		if (R->th[i].error)
			*pass = false;
	json_t *sfu = NULL;
	if (R->views) {
		bool fail;
		sfu = ld_sfu_json(R, &s, &fail);
		if (fail)
			*pass = false;
	}

	json_t *j = json_object();
	set(j, "tool", json_string("mmload"));
	set(j, "version", json_integer(1));
	set(j, "control", json_string(R->ctl->name));
	set(j, "reflect", json_boolean(R->sc.conf.reflect));
	set(j, "io", json_string(R->io->name));
	set(j, "scenario", scenario_json(R));
	set(j, "duration_s", json_integer(R->o.duration));
	set(j, "warmup_s", json_integer(R->o.warmup));
	set(j, "measured_s", json_real(dur));
	set(j, "threads", json_integer(R->n_threads));
	set(j, "rt_priority", json_integer(R->o.rt_priority)); /* 0: ordinary scheduling */
	json_t *off = json_object();
	set(off, "packets", jint(t.sent_pkts));
	set(off, "bytes", jint(t.sent_bytes));
	set(off, "pps", json_real((double)t.sent_pkts / dur));
	set(off, "mbps", json_real((double)t.sent_bytes * 8 / dur / 1e6));
	set(off, "by_kind", kinds_json(t.kind_pkts, t.kind_bytes));
	set(off, "send_errors", jint(t.send_errors));
	set(off, "late_events", jint(s.late_events));
	set(off, "skipped_events", jint(s.skipped_events));
	set(off, "max_lag_ms", json_real((double)s.lag_max_ns / 1e6));
	set(off, "end_lag_ms", json_real((double)s.end_lag_ns / 1e6));
	/* Did mmload offer the load asked for? No event skipped (over 1 s
	 * late), and when the window closed it was behind by at most 1 % of
	 * the window (20 ms at least): what it sent is then at least 99 % of
	 * what the scenario schedules. Single events late by a few ms (the
	 * thread descheduled) are jitter, not a shortfall: late_events. */
	double end_lag_limit = dur * 0.01 > 0.02 ? dur * 0.01 : 0.02;
	set(off, "kept_schedule", json_boolean(s.skipped_events == 0 &&
					       (double)s.end_lag_ns / 1e9 <= end_lag_limit));
	set(j, "offered", off);
	set(j, "expected", json_pack("{sIsi}", "copies", (json_int_t)t.copies,
				     "copies_per_packet", R->views ? 0 : (int)ld_copies(&R->sc)));
	json_t *rx = json_object();
	set(rx, "packets", jint(rx_pkts));
	set(rx, "bytes", jint(rx_bytes));
	set(rx, "pps", json_real((double)rx_pkts / dur));
	set(rx, "mbps", json_real((double)rx_bytes * 8 / dur / 1e6));
	set(rx, "by_kind", kinds_json(s.rx_pkts, s.rx_kbytes));
	set(rx, "datagrams_total", jint(s.rx_datagrams));
	set(j, "received", rx);
	set(j, "loss", json_pack("{sIsfsIsf}", "packets", (json_int_t)t.lost, "percent", loss_pct,
				 "unsent_copies", (json_int_t)unsent, "with_unsent_percent",
				 all_loss_pct));
	set(j, "duplicates", jint(s.dups + s.srtp_replay));
	set(j, "reordered", jint(s.reordered));
	set(j, "misdelivered", misj);
	set(j, "corrupt", jint(s.corrupt));
	set(j, "foreign", jint(s.foreign));
	set(j, "wrong_source", jint(s.wrong_source));
	set(j, "srtp_failures", json_pack("{sIsIsI}", "auth", (json_int_t)s.srtp_auth, "replay",
					  (json_int_t)s.srtp_replay, "other",
					  (json_int_t)s.srtp_other));
	set(j, "seq_mismatch", jint(s.seq_mismatch));
	set(j, "latency_ms", latency_json(h));
	set(j, "jitter_ms",
	    json_pack("{sfsf}", "mean", t.jitter_mean_ms, "max", t.jitter_max_ms));
	set(j, "mute", ld_mute_json(R, &t, &s));
	if (R->o.n_prefs) {
		json_t *pe = json_array();
		for (int i = 0; i < R->n_prefs; i++)
			json_array_append_new(pe, json_pack("{sssisfsfsb}", "participant",
							    R->parts[R->prefs[i].part].name, "max_layer",
							    R->prefs[i].layer, "at_s", R->prefs[i].at_s,
							    "took_ms", R->prefs[i].took_ms, "ok",
							    R->prefs[i].rc == 0));
		set(j, "pref_changes", pe);
	}
	set(j, "cpu", ld_cpu_json(R));
	set(j, "mmdp", ld_mmdp_json(R));
	set(j, "forwarder", ld_forwarder_json(R));
	set(j, R->io->name, R->io->report ? R->io->report(R) : json_null());
	set(j, "timeline", ld_timeline_json(R));
	if (sfu)
		set(j, "sfu", sfu);
	if (R->o.per_stream)
		set(j, "streams", ld_streams_json(R));
	set(j, "pass", json_boolean(*pass));
	set(j, "max_loss_percent", json_real(R->o.max_loss));
	free(h);
	return j;
}
