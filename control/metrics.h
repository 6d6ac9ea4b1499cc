/* Prometheus metrics of mmctld and of the mmdp it drives (docs/metrics.md),
 * served in the text exposition format on their own listener
 * (metrics_listen), apart from the REST API.
 *
 * What comes from mmdp is a snapshot the ticker renders at each sample
 * (every report_sample_ms, one stats.get shared with the reports), so a
 * scrape never asks mmdp anything and never takes c->lock: it takes only
 * the metrics' own lock, for as long as copying the text takes. The API's
 * and the agent calls' counters and histograms are updated as requests
 * finish, under the same short lock. */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <jansson.h>
#include <stdbool.h>

#include "control/ctl.h"

struct MHD_Daemon;

/* A REST request finished: its method, URL (mapped here onto the route
 * templates of docs/openapi.yaml, "other" when none matches), status and
 * how long mmctld took over it (dispatch to reply queued). Any thread. */
void ctl_metrics_api(const char *method, const char *url, int status, double seconds);
/* An agent call finished (ctl_mmdp_call): its op, how long the round trip
 * took, and its outcome: 0 ok, 1 refused by mmdp (ok:false), -1 transport
 * failure. Any thread. */
void ctl_metrics_agent(const char *op, double seconds, int outcome);

/* From the ticker at each sample, c->lock held: reply is stats.get's
 * answer of all rooms (NULL: mmdp not connected or refused). Counts the
 * store's rooms, meetings and participants and renders the snapshot. */
void ctl_metrics_sample(struct ctl *c, json_t *reply);
/* mmdp's last counters of an endpoint, read just before it leaves mmdp
 * (history.c's final reads), so that the packet and byte totals include
 * everything it did up to its end. c->lock held. */
void ctl_metrics_endpoint_final(const char *name, const struct ctl_hist_counters *n);

/* The whole exposition as a malloc'd NUL-terminated string (*len its
 * length); NULL when out of memory. Any thread. */
char *ctl_metrics_render(size_t *len);

/* Listen on cfg.metrics_listen (GET /metrics); *out NULL when it is "".
 * 0, or -EINVAL (bad address) / -EADDRINUSE. */
int ctl_metrics_start(struct ctl *c, struct MHD_Daemon **out);
void ctl_metrics_stop(struct MHD_Daemon *d);
/* Free the snapshot and the endpoint table (at exit). */
void ctl_metrics_fini(void);

#endif
