/* The report's data: totals over streams and flows, the mute events, CPU,
 * mmdp's counters, the timeline and the per-stream lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/load/report_priv.h"

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

void ld_sum_stats(const struct ld_run *R, struct ld_tstats *sum, struct ld_hist *h)
{
	memset(sum, 0, sizeof(*sum));
	ld_hist_reset(h);
	for (int i = 0; i < R->n_threads; i++) {
		const uint64_t *src = (const uint64_t *)&R->th[i].st;
		uint64_t *dst = (uint64_t *)sum;
		for (size_t k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			dst[k] += ld_ctr_get(&src[k]);
		ld_hist_merge(h, &R->th[i].hist);
	}
	sum->lag_max_ns = sum->end_lag_ns = 0; /* maxima, not sums */
	for (int i = 0; i < R->n_threads; i++) {
		uint64_t l = ld_ctr_get(&R->th[i].st.lag_max_ns);
		uint64_t e = ld_ctr_get(&R->th[i].st.end_lag_ns);
		if (l > sum->lag_max_ns)
			sum->lag_max_ns = l;
		if (e > sum->end_lag_ns)
			sum->end_lag_ns = e;
	}
}

void ld_timeline_loss(const struct ld_run *R, uint32_t from, uint32_t to, uint64_t *copies,
		      uint64_t *lost)
{
	*copies = *lost = 0;
	for (uint32_t b = from * LD_TL_BINS_PER_S; b < to * LD_TL_BINS_PER_S; b++) {
		uint64_t c, r;
		ld_timeline_bin(R, b, NULL, &c, &r, NULL);
		*copies += c;
		*lost += c > r ? c - r : 0;
	}
}

void ld_timeline_bin(const struct ld_run *R, uint32_t b, uint64_t *sent, uint64_t *copies,
		     uint64_t *rx_unique, uint64_t *rx)
{
	/* Summed over threads first: a copy is counted by its sender's
	 * thread, its arrival by its receiver's. */
	uint64_t s = 0, c = 0, u = 0, d = 0;
	for (int i = 0; i < R->n_threads; i++) {
		const struct ld_thread *T = &R->th[i];
		if (b >= T->n_bins)
			continue;
		s += ld_ctr_get(&T->tl[b].sent);
		c += ld_ctr_get(&T->tl[b].copies);
		u += ld_ctr_get(&T->tl[b].rx_unique);
		d += ld_ctr_get(&T->tl[b].rx);
	}
	if (sent)
		*sent = s;
	if (copies)
		*copies = c;
	if (rx_unique)
		*rx_unique = u;
	if (rx)
		*rx = d;
}

int ld_timeline_write(const struct ld_run *R, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	/* unix_s: the bin's start on the wall clock, to line the bins up
	 * with events outside mmload (a fault injected, a daemon back). */
	fprintf(f, "# mmload timeline: %llu ms bins by send time (received: by arrival)\n"
		   "# t_s\tunix_s\tmeasured\toffered\texpected\treceived\tlost\tarrived\n",
		(unsigned long long)(LD_TL_BIN_NS / 1000000u));
	uint32_t n = (uint32_t)(R->o.warmup + R->o.duration) * LD_TL_BINS_PER_S;
	for (uint32_t b = 0; b < n; b++) {
		uint64_t sent, copies, got, rx;
		ld_timeline_bin(R, b, &sent, &copies, &got, &rx);
		double t = (double)b * (double)LD_TL_BIN_NS / 1e9;
		fprintf(f, "%.1f\t%.3f\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
			t, R->t0_unix + t, b >= (uint32_t)R->o.warmup * LD_TL_BINS_PER_S, sent, copies,
			got, copies > got ? copies - got : 0, rx);
	}
	int rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

/* What the receivers of stream id got (unique, expected, measured). */
static uint64_t stream_received(const struct ld_run *R, uint32_t id, uint64_t *uncertain,
				uint64_t *dups, uint64_t *reordered, double *jitter_max_ms)
{
	const struct ld_stream *st = &R->sc.streams[id];
	uint32_t P = R->sc.parts_per_room, spr = R->sc.streams_per_room;
	uint64_t rx = 0;
	*uncertain = *dups = *reordered = 0;
	*jitter_max_ms = 0;
	for (uint32_t r = st->room * P; r < (st->room + 1) * P; r++) {
		/* Its receivers: the others in the room (reflect: its sender). */
		if ((r == st->part) != R->sc.conf.reflect)
			continue;
		const struct ld_flow *f = &R->flows[(size_t)r * spr + st->room_slot];
		rx += f->rx;
		*uncertain += f->rx_uncertain;
		*dups += f->dups;
		*reordered += f->reordered;
		double j = (double)f->jitter / 16.0 / st->clock_rate * 1000.0;
		if (j > *jitter_max_ms)
			*jitter_max_ms = j;
	}
	return rx;
}

void ld_totals(const struct ld_run *R, struct ld_totals *t)
{
	memset(t, 0, sizeof(*t));
	uint32_t copies = ld_copies(&R->sc);
	double jsum = 0;
	uint64_t jn = 0;
	for (uint32_t id = 0; id < R->sc.n_streams; id++) {
		const struct ld_sstate *ss = &R->ss[id];
		const struct ld_stream *st = &R->sc.streams[id];
		for (int ph = 0; ph < LD_PHASES; ph++) {
			t->sent_pkts += ss->sent[ph];
			t->sent_bytes += ss->sent_bytes[ph];
			t->kind_pkts[st->kind] += ss->sent[ph];
			t->kind_bytes[st->kind] += ss->sent_bytes[ph];
			t->sent_phase[ph] += ss->sent[ph];
		}
		t->send_errors += ss->send_errors;
		uint64_t want = ss->sent[LD_PHASE_EXPECTED] * copies, unc, dups, reo;
		double jmax;
		uint64_t got = stream_received(R, id, &unc, &dups, &reo, &jmax);
		t->copies += want;
		t->received += got;
		t->lost += want > got ? want - got : 0;
		if (jmax > t->jitter_max_ms)
			t->jitter_max_ms = jmax;
	}
	for (uint32_t r = 0; r < R->sc.n_parts; r++)
		for (uint32_t k = 0; k < R->sc.streams_per_room; k++) {
			const struct ld_flow *f = &R->flows[(size_t)r * R->sc.streams_per_room + k];
			const struct ld_stream *st =
				&R->sc.streams[ld_part_room(&R->sc, r) * R->sc.streams_per_room + k];
			if (!f->have_transit)
				continue;
			jsum += (double)f->jitter / 16.0 / st->clock_rate * 1000.0;
			jn++;
		}
	t->jitter_mean_ms = jn ? jsum / (double)jn : 0.0;
	if (R->views) {
		/* SFU mode: copies and loss from the views' sequence numbers. */
		size_t n = (size_t)R->sc.n_parts * R->sc.streams_per_room;
		t->copies = t->lost = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t e, l;
			ld_view_loss(&R->views[i], &e, &l);
			t->copies += e;
			t->lost += l;
		}
		t->received = t->copies - t->lost;
	}
}

static void range(int v, int *lo, int *hi)
{
	if (v < *lo)
		*lo = v;
	if (v > *hi)
		*hi = v;
}

json_t *ld_sfu_json(const struct ld_run *R, const struct ld_tstats *s, bool *fail)
{
	const struct ld_conf *c = &R->sc.conf;
	uint32_t spr = R->sc.streams_per_room;
	uint64_t views = 0, groups = 0, sw = 0, nk = 0, gap = 0, il = 0, layers[LD_LAYERS] = {0};
	uint64_t nacked = 0, rep = 0, lbr = 0, lar = 0, reo = 0, e_all = 0, l_all = 0;
	for (uint32_t r = 0; r < R->sc.n_parts; r++)
		for (uint32_t k = 0; k < spr; k++) {
			const struct ld_view *v = &R->views[(size_t)r * spr + k];
			const struct ld_stream *st = &R->sc.streams[R->parts[r].room * spr + k];
			if (!v->started)
				continue;
			uint64_t e, l;
			ld_view_loss(v, &e, &l);
			views++;
			e_all += e;
			l_all += l;
			reo += v->reordered;
			if (st->kind == LD_AUDIO)
				continue; /* repair is for video and screen (no NACK for audio) */
			nacked += v->nacked;
			rep += v->repaired;
			lbr += v->lost_before_repair;
			/* Gaps still followed at the end were never filled. */
			lar += v->lost_after_repair + v->n_miss;
			if (st->kind != LD_VIDEO)
				continue;
			groups++;
			sw += v->switches;
			nk += v->not_at_key;
			gap += v->gap_at_switch;
			il += v->interleaved;
			if (v->layer >= 0 && v->layer < LD_LAYERS)
				layers[v->layer]++;
		}
	/* Audio heard in the last turn that ended by the window's end (the
	 * current one when none did), per receiver. */
	uint64_t span = R->t_end - R->t0, into;
	uint32_t turn = ld_turn_of(c, span, &into);
	if (turn > 0)
		turn--;
	int amin = 1 << 30, amax = -1, vmin = 1 << 30, vmax = -1;
	uint32_t exact = 0;
	for (uint32_t r = 0; r < R->sc.n_parts; r++) {
		const struct ld_ears *e = &R->ears[r];
		int a = ld_ears_count(e, turn, true), v = ld_ears_count(e, turn, false);
		range(a < 0 ? 0 : a, &amin, &amax);
		range(v < 0 ? 0 : v, &vmin, &vmax);
		exact += ld_ears_exact(e, c, R->parts[r].room, R->parts[r].slot, turn);
	}
	json_t *lay = json_array();
	for (int l = 0; l < LD_LAYERS; l++)
		json_array_append_new(lay, jint(layers[l]));
	json_t *audio = json_pack("{sIsIsisisisisb}", "unexpected_audio", (json_int_t)s->unexpected_audio,
				  "last_turn", (json_int_t)turn, "heard_min", amin, "heard_max", amax,
				  "receivers", (int)R->sc.n_parts, "receivers_exact", (int)exact,
				  "all_exact", exact == R->sc.n_parts);
	json_t *video = json_pack("{sisi}", "sources_last_turn_min", vmin, "sources_last_turn_max",
				  vmax);
	json_t *sim = json_pack("{sIsIsIsIsIso}", "groups", (json_int_t)groups, "switches",
				(json_int_t)sw, "switch_not_at_keyframe", (json_int_t)nk, "gap_at_switch",
				(json_int_t)gap, "layer_interleaved", (json_int_t)il, "layers_at_end",
				lay);
	json_t *rtx = json_pack("{sbsisIsIsIsIsIsIsIsI}", "nack", c->nack, "rtx_pt", c->rtx_pt,
				"nacks_sent", (json_int_t)s->nacks_sent, "nack_send_errors",
				(json_int_t)s->nack_errors, "nacked", (json_int_t)nacked, "repaired",
				(json_int_t)rep, "lost_before_repair", (json_int_t)lbr,
				"lost_after_repair", (json_int_t)lar, "rtx_received",
				(json_int_t)s->rtx_rx, "retransmitted_again", (json_int_t)s->retrans_dups);
	*fail = s->unexpected_audio || nk || gap || il;
	return json_pack("{sIsIsIsIsIsIsosososo}", "views", (json_int_t)views, "expected",
			 (json_int_t)e_all, "lost", (json_int_t)l_all, "reordered", (json_int_t)reo,
			 "wrong_ssrc", (json_int_t)s->wrong_ssrc, "rtcp_received",
			 (json_int_t)s->rtcp_rx, "audio", audio, "video", video, "simulcast", sim,
			 "retransmission", rtx);
}

json_t *ld_mute_json(const struct ld_run *R, const struct ld_totals *t, const struct ld_tstats *s)
{
	json_t *ev = json_array();
	for (int i = 0; i < R->n_mutes; i++) {
		const struct ld_mute_event *m = &R->mutes[i];
		json_array_append_new(ev, json_pack("{sssbsfsfsb}", "participant",
						    R->parts[m->part].name, "muted", m->muted,
						    "at_s", m->at_s, "took_ms", m->took_ms, "ok",
						    m->rc == 0));
	}
	return json_pack("{sosIsIsI}", "events", ev, "sent_uncertain",
			 (json_int_t)t->sent_phase[LD_PHASE_UNCERTAIN], "sent_muted",
			 (json_int_t)t->sent_phase[LD_PHASE_MUTED], "received_uncertain",
			 (json_int_t)s->rx_uncertain);
}

static double tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

json_t *ld_cpu_json(const struct ld_run *R)
{
	double user = tv(&R->ru1.ru_utime) - tv(&R->ru0.ru_utime);
	double sys = tv(&R->ru1.ru_stime) - tv(&R->ru0.ru_stime);
	double wall = (double)(R->ru1_ns - R->ru0_ns) / 1e9;
	return json_pack("{sfsfsf}", "user_s", user, "system_s", sys, "percent_of_one_core",
			 wall > 0 ? 100.0 * (user + sys) / wall : 0.0);
}

static json_int_t drop_of(const json_t *stats, const char *reason)
{
	return json_integer_value(json_object_get(json_object_get(stats, "drops"), reason));
}

static json_int_t workers_sum(const json_t *stats, const char *key)
{
	json_int_t n = 0;
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(stats, "workers"), i, w)
		n += json_integer_value(json_object_get(w, key));
	return n;
}

json_t *ld_mmdp_json(const struct ld_run *R)
{
	if (!R->stats1)
		return json_null();
	json_t *drops = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(R->stats1, "drops"), k, v) {
		json_int_t d = json_integer_value(v) - drop_of(R->stats0, k);
		if (d)
			json_object_set_new(drops, k, json_integer(d));
	}
	return json_pack("{sosIsI}", "drops", drops, "rx_packets",
			 workers_sum(R->stats1, "rx_packets") - workers_sum(R->stats0, "rx_packets"),
			 "tx_packets",
			 workers_sum(R->stats1, "tx_packets") - workers_sum(R->stats0, "tx_packets"));
}

static json_int_t worker_delta(const json_t *w0, const json_t *w1, const char *key)
{
	return json_integer_value(json_object_get(w1, key)) -
	       json_integer_value(json_object_get(w0, key));
}

static json_t *ratio(double num, double den)
{
	return den > 0 ? json_real(num / den) : json_null();
}

/* mmdp's forwarding cost over the run, from its workers' loop counters
 * (stats.get before the setup and after the I/O threads stopped: warmup
 * and setup included): busy cycles (loop iterations that got frames) per
 * packet forwarded, in cycles and in ns at the TSC's rate, and the share of
 * the workers' cycles that were busy. Sums over the workers (busy_fraction:
 * of all their cycles), then a line per worker. null when mmdp reports no
 * cycles (an mmdp before them, or no stats.get). */
json_t *ld_forwarder_json(const struct ld_run *R)
{
	if (!R->stats0 || !R->stats1)
		return json_null();
	json_int_t hz = json_integer_value(json_object_get(R->stats1, "tsc_hz"));
	const json_t *ws0 = json_object_get(R->stats0, "workers");
	const json_t *ws1 = json_object_get(R->stats1, "workers");
	if (hz <= 0 || json_array_size(ws0) != json_array_size(ws1) || !json_array_size(ws1) ||
	    !json_object_get(json_array_get(ws1, 0), "busy_cycles"))
		return json_null();
	json_int_t cyc = 0, busy = 0, polls = 0, bpolls = 0, rx = 0, tx = 0;
	json_t *per = json_array();
	size_t i;
	json_t *w1;
	json_array_foreach(ws1, i, w1) {
		const json_t *w0 = json_array_get(ws0, i);
		json_int_t c = worker_delta(w0, w1, "cycles"), b = worker_delta(w0, w1, "busy_cycles");
		json_int_t t = worker_delta(w0, w1, "tx_packets");
		cyc += c;
		busy += b;
		polls += worker_delta(w0, w1, "polls");
		bpolls += worker_delta(w0, w1, "busy_polls");
		rx += worker_delta(w0, w1, "rx_packets");
		tx += t;
		json_array_append_new(
			per, json_pack("{sIsIsIsIsoso}", "worker",
				       json_integer_value(json_object_get(w1, "worker")), "lcore",
				       json_integer_value(json_object_get(w1, "lcore")), "busy_cycles", b,
				       "tx_packets", t, "cycles_per_packet", ratio((double)b, (double)t),
				       "busy_fraction", ratio((double)b, (double)c)));
	}
	return json_pack("{sIsIsIsIsIsIsIsososososo}", "tsc_hz", hz, "cycles", cyc, "busy_cycles",
			 busy, "polls", polls, "busy_polls", bpolls, "rx_packets", rx, "tx_packets",
			 tx, "cycles_per_packet", ratio((double)busy, (double)tx), "ns_per_packet",
			 ratio((double)busy * 1e9 / (double)hz, (double)tx), "cycles_per_rx_packet",
			 ratio((double)busy, (double)rx), "busy_fraction",
			 ratio((double)busy, (double)cyc), "workers", per);
}

json_t *ld_kernel_json(const struct ld_run *R)
{
	const struct ld_kstats *a = &R->kst0, *b = &R->kst1;
	if (!a->valid || !b->valid)
		return json_null();
	return json_pack("{sIsIsIsI}", "udp_in_datagrams",
			 (json_int_t)(b->in_datagrams - a->in_datagrams), "udp_in_errors",
			 (json_int_t)(b->in_errors - a->in_errors), "udp_rcvbuf_errors",
			 (json_int_t)(b->rcvbuf_errors - a->rcvbuf_errors), "udp_sndbuf_errors",
			 (json_int_t)(b->sndbuf_errors - a->sndbuf_errors));
}

json_t *ld_timeline_json(const struct ld_run *R)
{
	json_t *a = json_array();
	uint32_t n = (uint32_t)(R->o.warmup + R->o.duration);
	for (uint32_t s = 0; s < n; s++) {
		uint64_t sent = 0, rx = 0, copies, lost;
		for (uint32_t b = s * LD_TL_BINS_PER_S; b < (s + 1) * LD_TL_BINS_PER_S; b++) {
			uint64_t bs, br;
			ld_timeline_bin(R, b, &bs, NULL, NULL, &br);
			sent += bs;
			rx += br;
		}
		ld_timeline_loss(R, s, s + 1, &copies, &lost);
		json_array_append_new(a, json_pack("{sIsbsIsIsIsI}", "t", (json_int_t)s, "measured",
						   s >= (uint32_t)R->o.warmup, "offered",
						   (json_int_t)sent, "received", (json_int_t)rx,
						   "copies", (json_int_t)copies, "lost",
						   (json_int_t)lost));
	}
	return a;
}

json_t *ld_streams_json(const struct ld_run *R)
{
	json_t *a = json_array();
	uint32_t copies = ld_copies(&R->sc);
	for (uint32_t id = 0; id < R->sc.n_streams; id++) {
		const struct ld_sstate *ss = &R->ss[id];
		const struct ld_stream *st = &R->sc.streams[id];
		uint64_t unc, dups, reo;
		double jmax;
		uint64_t got = stream_received(R, id, &unc, &dups, &reo, &jmax);
		uint64_t want = ss->sent[LD_PHASE_EXPECTED] * copies;
		json_t *o = json_object();
		json_object_set_new(o, "id", jint(id));
		json_object_set_new(o, "ssrc", jint(st->ssrc));
		json_object_set_new(o, "participant", json_string(R->parts[st->part].name));
		json_object_set_new(o, "kind", json_string(ld_kind_name(st->kind)));
		json_object_set_new(o, "layer", jint(st->layer));
		json_object_set_new(o, "sent", jint(ss->sent[0] + ss->sent[1] + ss->sent[2]));
		json_object_set_new(o, "sent_expected", jint(ss->sent[LD_PHASE_EXPECTED]));
		json_object_set_new(o, "sent_uncertain", jint(ss->sent[LD_PHASE_UNCERTAIN]));
		json_object_set_new(o, "sent_muted", jint(ss->sent[LD_PHASE_MUTED]));
		json_object_set_new(o, "receivers", jint(copies));
		json_object_set_new(o, "copies_expected", jint(want));
		json_object_set_new(o, "copies_received", jint(got));
		json_object_set_new(o, "received_uncertain", jint(unc));
		json_object_set_new(o, "lost", jint(want > got ? want - got : 0));
		json_object_set_new(o, "dups", jint(dups));
		json_object_set_new(o, "reordered", jint(reo));
		json_object_set_new(o, "jitter_ms_max", json_real(jmax));
		json_array_append_new(a, o);
	}
	return a;
}
