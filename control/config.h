/* mmctld's configuration file (JSON) and its command-line overrides. */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "control/netpolicy.h"

#define CTL_PATH_MAX 4096

struct ctl_config {
	char listen[128];            /* "127.0.0.1:8080" or "[::1]:8080" */
	char metrics_listen[128];    /* GET /metrics (Prometheus), apart from the
	                              * API; "": none. Default 127.0.0.1:9464 */
	char db[CTL_PATH_MAX];
	char key_file[CTL_PATH_MAX]; /* sealing key of secrets at rest; "": db + ".key" */
	char mmdp_socket[108];       /* sun_path */
	char media_address[64];      /* mmdp's address participants send to */
	int port_lo, port_hi;        /* UDP ports given to endpoints */
	char srtp_profile[32];
	char www_root[CTL_PATH_MAX]; /* the meeting page's files (GET /meet) */
	bool test_clock;             /* PUT /v1/clock may move mmctld's clock
	                              * (tests of trials and expiry); never in
	                              * production */
	int webhook_retry_base_ms;   /* first retry of a webhook delivery after
	                              * this; doubling each time (webhook.c) */
	int webhook_max_attempts;    /* then the delivery has failed */
	struct ctl_net webhook_allow[CTL_ALLOW_NETS_MAX]; /* webhook_allow_nets:
	                              * special-purpose nets webhooks may still
	                              * reach (control/netpolicy.h) */
	size_t n_webhook_allow;
	int report_sample_ms;        /* how often the ticker samples mmdp's
	                              * counters for reports (200..60000, 5000) */
	int trial_days;              /* a registered trial's default length
	                              * (trial_until = now + trial_days) */
	char log_level[8];           /* "error|warn|info|debug" (info) */
	char log_format[8];          /* "logfmt|json" (logfmt) */
	int drain_timeout_s;         /* SIGTERM: how long live meetings may go on
	                              * before they end with reason node_drain
	                              * (0..86400, 600) */
};

/* Read a config file into c (defaults first). On error returns -EINVAL
 * (or -errno) and writes a one-line reason to err. */
int ctl_config_load(const char *path, struct ctl_config *c, char *err, size_t errlen);
/* The keys SIGHUP applies at run time (log_level, log_format,
 * drain_timeout_s, webhook_retry_base_ms, webhook_max_attempts,
 * report_sample_ms, trial_days) copied from next into cur; every other key
 * that differs keeps cur's value and is named to ignored(arg, key). */
void ctl_config_reload(struct ctl_config *cur, const struct ctl_config *next,
		       void (*ignored)(void *arg, const char *key), void *arg);
/* Check the whole config after overrides (addresses, ranges, profile). */
int ctl_config_check(const struct ctl_config *c, char *err, size_t errlen);
/* Parse "host:port" / "[v6]:port" into a socket address. */
int ctl_config_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
