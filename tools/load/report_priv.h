/* Between the report's two files: report.c (progress line, the report's
 * frame) and report_data.c (totals over streams and flows, mute events,
 * CPU, mmdp's counters, timeline, per-stream lines). */
#ifndef MM_LOAD_REPORT_PRIV_H
#define MM_LOAD_REPORT_PRIV_H

#include "tools/load/run.h"

/* Sums over every stream (its sender's counters, measured window) and
 * every flow (what its receivers got). */
struct ld_totals {
	uint64_t sent_pkts, sent_bytes;          /* all phases */
	uint64_t kind_pkts[LD_KINDS], kind_bytes[LD_KINDS];
	uint64_t sent_phase[LD_PHASES];
	uint64_t send_errors;
	uint64_t copies;                         /* expected copies */
	uint64_t received;                       /* of which arrived (unique) */
	uint64_t lost;
	double jitter_mean_ms, jitter_max_ms;    /* over flows */
};

void ld_totals(const struct ld_run *R, struct ld_totals *t);
/* Every thread's counters and latency histograms summed. */
void ld_sum_stats(const struct ld_run *R, struct ld_tstats *sum, struct ld_hist *h);
/* Copies expected and lost of packets sent in timeline seconds [from, to). */
void ld_timeline_loss(const struct ld_run *R, uint32_t from, uint32_t to, uint64_t *copies,
		      uint64_t *lost);
json_t *ld_mute_json(const struct ld_run *R, const struct ld_totals *t, const struct ld_tstats *s);
json_t *ld_cpu_json(const struct ld_run *R);
json_t *ld_mmdp_json(const struct ld_run *R);
/* mmdp's cost per forwarded packet over the run (its workers' busy cycles). */
json_t *ld_forwarder_json(const struct ld_run *R);
/* UDP drops in the host namespaces' kernels (mmload's sockets) during the run. */
json_t *ld_kernel_json(const struct ld_run *R);
json_t *ld_timeline_json(const struct ld_run *R);
/* Bin b of the timeline summed over the threads (any output may be NULL). */
void ld_timeline_bin(const struct ld_run *R, uint32_t b, uint64_t *sent, uint64_t *copies,
		     uint64_t *rx_unique, uint64_t *rx);
json_t *ld_streams_json(const struct ld_run *R);
/* SFU mode: the report's "sfu" (loss per view, last-N audio, simulcast
 * switches, NACK repair); *fail when a verdict fails the trial. */
json_t *ld_sfu_json(const struct ld_run *R, const struct ld_tstats *s, bool *fail);

#endif
