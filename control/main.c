/* mmctld: the control daemon. Reads its config, opens the store, syncs
 * mmdp, serves the REST API. Signals (README "Drain and reload"):
 * SIGTERM drains (no new meeting, the live ones go on until they end or
 * drain_timeout_s, then they end with reason node_drain), a second
 * SIGTERM or SIGINT stops at once, SIGHUP reloads what may change at run
 * time. Exit codes: 0 done, 1 runtime failure, 2 bad usage or config. */
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "control/api.h"
#include "control/auth.h"
#include "control/ctl.h"
#include "control/history.h"
#include "control/metrics.h"
#include "control/plans.h"
#include "control/sealed.h"
#include "control/webhook.h"
#include "common/log.h"
#include "dataplane/core/srtp.h"

#define TICK_MS 250             /* mmdp reconnect and resync check, speakers.get */
#define KEEPALIVE_TICKS 60      /* SSE keepalive comments every 15 s */
#define EXPIRE_TICKS 40         /* expired blocks and bans dropped every 10 s */
#define PLANS_TICKS 4           /* plan limits and contract terms every 1 s */
#define DRAIN_CHECK_MS 250      /* while draining: are the meetings over yet? */
#define WEBHOOK_FLUSH_MS 5000   /* at exit: first attempts of queued webhooks */

/* The command line, for SIGHUP's reload: the file again, the same
 * overrides on top. */
static const char *opt_config, *opt_listen, *opt_db, *opt_sock;

static bool ticker_stop;                 /* under ticker_lock */
static pthread_mutex_t ticker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ticker_cond = PTHREAD_COND_INITIALIZER;

/* Sleep one tick; false when told to stop (at once, not after the tick). */
static bool ticker_sleep(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += TICK_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&ticker_lock);
	while (!ticker_stop && pthread_cond_timedwait(&ticker_cond, &ticker_lock, &ts) == 0)
		;
	bool go = !ticker_stop;
	pthread_mutex_unlock(&ticker_lock);
	return go;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmctld --config FILE [--listen ADDR:PORT] [--db PATH] "
		   "[--mmdp-socket PATH] [--create-operator-token]\n");
}


/* Expired blocks and bans leave the store (mmdp drops its copies itself). */
static void expire_blocks(struct ctl *c)
{
	int n = 0;
	if (ctl_store_begin(c->store))
		return;
	if (ctl_store_block_expire(c->store, ctl_now(c), &n) ||
	    ctl_store_ban_expire(c->store, ctl_now(c), &n) ||
	    ctl_store_commit(c->store))
		ctl_store_rollback(c->store);
}

/* Reconnect to mmdp (with a full state.sync) when it went away; speaker
 * events; SSE keepalives; block expiry. */
static void *ticker_main(void *arg)
{
	struct ctl *c = arg;
	for (unsigned long tick = 1; ticker_sleep(); tick++) {
		pthread_mutex_lock(&c->lock);
		bool was = ctl_mmdp_connected(&c->mmdp);
		if (ctl_sync_ensure(c) && was)
			mm_warn("mmdp_lost", "path=%s", mm_q(c->mmdp.path));
		ctl_speakers_poll(c);
		ctl_history_sample(c);
		if (tick % KEEPALIVE_TICKS == 0)
			ctl_sse_keepalive(c);
		if (tick % EXPIRE_TICKS == 0) {
			expire_blocks(c);
			ctl_speakers_prune(c);
		}
		if (tick % PLANS_TICKS == 0)
			ctl_plans_tick(c);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

/* The key that seals the participants' SRTP keys in the database, from its
 * own file. 0, or the exit code. */
static int open_secrets(struct ctl *c)
{
	uint8_t key[CTL_SEAL_KEY_LEN];
	char path[CTL_PATH_MAX + 8], err[CTL_PATH_MAX + 128];
	bool created;
	if (c->cfg.key_file[0])
		snprintf(path, sizeof(path), "%s", c->cfg.key_file);
	else
		snprintf(path, sizeof(path), "%s.key", c->cfg.db);
	if (ctl_key_file_load(path, key, &created, err, sizeof(err))) {
		mm_err("key_file_error", "error=%s", mm_q(err));
		return 2;
	}
	if (created)
		mm_warn("key_file_created", "path=%s hint=%s", mm_q(path),
			mm_q("keep it with the database, apart from its backups"));
	int rc = ctl_store_seal_keys(c->store, key);
	explicit_bzero(key, sizeof(key));
	if (rc == -EKEYREJECTED) {
		mm_err("key_file_mismatch", "db=%s key_file=%s error=%s", mm_q(c->cfg.db),
		       mm_q(path), mm_q("the sealed keys do not open: not this database's key file"));
		return 1;
	}
	if (rc) {
		mm_err("seal_failed", "db=%s", mm_q(c->cfg.db));
		return 1;
	}
	return 0;
}

/* The invite signing key: made once, kept in the store. */
static int load_invite_key(struct ctl *c)
{
	int rc = ctl_store_begin(c->store);
	if (!rc)
		rc = ctl_store_secret(c->store, "invite_key", c->invite_key,
				      sizeof(c->invite_key));
	if (!rc)
		rc = ctl_store_commit(c->store);
	if (rc)
		ctl_store_rollback(c->store);
	return rc;
}

static int create_operator_token(struct ctl *c)
{
	char token[CTL_TOKEN_LEN + 1], id[CTL_ID_MAX];
	int rc = ctl_store_begin(c->store);
	if (!rc)
		rc = api_token_issue(c, "operator", 0, token, sizeof(token), id, sizeof(id));
	if (!rc)
		rc = ctl_store_commit(c->store);
	if (rc) {
		ctl_store_rollback(c->store);
		mm_err("token_store_failed", "error=%s", mm_q(strerror(-rc)));
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

/* log_level and log_format of cfg in force (both checked by the load). */
static void log_apply(const struct ctl_config *cfg)
{
	enum mm_log_level l = MM_LOG_INFO;
	enum mm_log_format f = MM_LOG_LOGFMT;
	mm_log_level_parse(cfg->log_level, &l);
	mm_log_format_parse(cfg->log_format, &f);
	mm_log_init("mmctld", l, f);
}

/* The config file with the command line's overrides on top, checked.
 * 0, or 2 with the reason in err. */
static int config_read(struct ctl_config *cfg, char *err, size_t errlen)
{
	if (ctl_config_load(opt_config, cfg, err, errlen))
		return 2;
	if ((opt_listen && strlen(opt_listen) >= sizeof(cfg->listen)) ||
	    (opt_db && strlen(opt_db) >= sizeof(cfg->db)) ||
	    (opt_sock && strlen(opt_sock) >= sizeof(cfg->mmdp_socket))) {
		snprintf(err, errlen, "an option value is too long");
		return 2;
	}
	if (opt_listen)
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", opt_listen);
	if (opt_db)
		snprintf(cfg->db, sizeof(cfg->db), "%s", opt_db);
	if (opt_sock)
		snprintf(cfg->mmdp_socket, sizeof(cfg->mmdp_socket), "%s", opt_sock);
	return ctl_config_check(cfg, err, errlen) ? 2 : 0;
}

static void reload_ignored(void *arg, const char *key)
{
	(void)arg;
	mm_warn("reload_ignored", "key=%s reason=%s", key, mm_q("needs a restart"));
}

/* SIGHUP: the file again. A file that does not load changes nothing. */
static void reload(struct ctl *c)
{
	static struct ctl_config next;   /* large (paths): not on the stack */
	char err[512];
	if (config_read(&next, err, sizeof(err))) {
		mm_err("reload_failed", "config=%s error=%s", mm_q(opt_config), mm_q(err));
		return;
	}
	pthread_mutex_lock(&c->lock);
	ctl_config_reload(&c->cfg, &next, reload_ignored, NULL);
	pthread_mutex_unlock(&c->lock);
	log_apply(&c->cfg);
	mm_info("reloaded", "config=%s log_level=%s log_format=%s drain_timeout_s=%d "
		"webhook_retry_base_ms=%d webhook_max_attempts=%d report_sample_ms=%d "
		"trial_days=%d", mm_q(opt_config), c->cfg.log_level, c->cfg.log_format,
		c->cfg.drain_timeout_s, c->cfg.webhook_retry_base_ms, c->cfg.webhook_max_attempts,
		c->cfg.report_sample_ms, c->cfg.trial_days);
}

static int live_count(void *arg, const struct ctl_room *r)
{
	if (r->started_at)
		(*(int *)arg)++;
	return 0;
}

/* Meetings live now (c->lock held); -1 when the store cannot say. */
static int live_meetings(struct ctl *c)
{
	int n = 0;
	return ctl_store_room_list(c->store, NULL, live_count, &n) ? -1 : n;
}

/* drain_timeout_s passed: every live meeting ends with reason node_drain,
 * as an operator's POST .../end would end it (events, webhooks, history
 * with mmdp's last counters), and mmdp forgets the rooms. */
static void drain_end_all(struct ctl *c)
{
	json_t *batch = NULL;
	char err[400];
	pthread_mutex_lock(&c->lock);
	int n = live_meetings(c);
	int rc = ctl_store_begin(c->store);
	if (!rc)
		rc = ctl_plan_end_meetings(c, NULL, "node_drain", "node", false, &batch);
	if (!rc)
		rc = ctl_store_commit(c->store);
	if (rc) {
		ctl_store_rollback(c->store);
		json_decref(batch);
		mm_err("drain_end_failed", "error=%s", mm_q(strerror(-rc)));
	} else {
		mm_info("drain_timeout", "ended=%d reason=node_drain", n);
		if (batch && ctl_sync_push(c, batch, err, sizeof(err)) == CTL_PUSH_REFUSED)
			mm_warn("drain_mmdp_refused", "error=%s", mm_q(err));
	}
	if (c->events_dirty)
		ctl_sse_wake(c);
	pthread_mutex_unlock(&c->lock);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The main thread takes the signals (blocked in every thread) one at a
 * time: nothing runs in a signal handler. Returns when mmctld must stop. */
static void signal_loop(struct ctl *c, const sigset_t *set)
{
	bool drain = false;
	int64_t drain_start = 0;

	for (;;) {
		struct timespec to = { 0, DRAIN_CHECK_MS * 1000000L };
		int sig = sigtimedwait(set, NULL, drain ? &to : NULL);
		if (sig == SIGHUP) {
			reload(c);
		} else if (sig == SIGINT || (sig == SIGTERM && drain)) {
			mm_info("stopping", "signal=%s draining=%s", sig == SIGINT ? "SIGINT" :
				"SIGTERM", drain ? "true" : "false");
			return;
		} else if (sig == SIGTERM) {
			drain = true;
			drain_start = mono_ms();
			pthread_mutex_lock(&c->lock);
			c->draining = true;
			int n = live_meetings(c);
			pthread_mutex_unlock(&c->lock);
			mm_info("drain_started", "live_meetings=%d drain_timeout_s=%d", n,
				c->cfg.drain_timeout_s);
		}
		if (!drain)
			continue;
		pthread_mutex_lock(&c->lock);
		int n = live_meetings(c);
		int64_t limit_ms = (int64_t)c->cfg.drain_timeout_s * 1000;
		pthread_mutex_unlock(&c->lock);
		if (n == 0) {
			mm_info("drain_done", "waited_ms=%lld", (long long)(mono_ms() - drain_start));
			return;
		}
		if (mono_ms() - drain_start >= limit_ms) {
			drain_end_all(c);
			return;
		}
	}
}

static int serve(struct ctl *c)
{
	struct MHD_Daemon *d = NULL, *md = NULL;
	pthread_t ticker;
	sigset_t set;
	int rc;

	/* Blocked before any thread starts, so that every thread inherits
	 * the mask and only signal_loop's sigtimedwait takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is dropped, not left pending for sigtimedwait. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_lock(&c->lock);
	rc = ctl_sync_ensure(c);
	pthread_mutex_unlock(&c->lock);
	if (rc)
		mm_warn("mmdp_unreachable", "path=%s error=%s retry=true", mm_q(c->cfg.mmdp_socket),
			mm_q(strerror(-rc)));
	if (ctl_webhook_start(c)) {
		mm_err("webhook_thread_failed", NULL);
		return 1;
	}
	/* Before the API: its handlers feed the metrics (metrics.c). A
	 * metrics port that is taken is as fatal as the API's: the operator
	 * asked for it, and silently going without would only show as a gap
	 * in the dashboards. */
	rc = ctl_metrics_start(c, &md);
	if (rc) {
		mm_err("metrics_listen_failed", "addr=%s error=%s", mm_q(c->cfg.metrics_listen),
		       mm_q(strerror(-rc)));
		ctl_webhook_stop();
		return 1;
	}
	rc = ctl_api_start(c, &d);
	if (rc) {
		mm_err("listen_failed", "listen=%s", mm_q(c->cfg.listen));
		ctl_metrics_stop(md);
		ctl_webhook_stop();
		return 1;
	}
	if (pthread_create(&ticker, NULL, ticker_main, c)) {
		ctl_metrics_stop(md);
		ctl_api_stop(c, d);
		ctl_webhook_stop();
		return 1;
	}
	mm_info("listening", "listen=%s db=%s mmdp_socket=%s", mm_q(c->cfg.listen),
		mm_q(c->cfg.db), mm_q(c->cfg.mmdp_socket));
	if (md)
		mm_info("metrics_listening", "addr=%s path=/metrics", mm_q(c->cfg.metrics_listen));
	signal_loop(c, &set);
	ctl_api_stop(c, d);
	ctl_metrics_stop(md);
	pthread_mutex_lock(&ticker_lock);
	ticker_stop = true;
	pthread_cond_signal(&ticker_cond);
	pthread_mutex_unlock(&ticker_lock);
	pthread_join(ticker, NULL);
	/* What must not be lost: the live meetings' counters as of now (a
	 * meeting still live goes on after a restart), the webhooks the last
	 * changes queued (they stay in the outbox when a receiver is slow, and
	 * go after the restart). */
	pthread_mutex_lock(&c->lock);
	ctl_history_sample_now(c);
	pthread_mutex_unlock(&c->lock);
	int pending = ctl_webhook_flush(c, WEBHOOK_FLUSH_MS);
	ctl_webhook_stop();
	mm_info("stopped", "webhooks_pending=%d", pending);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "mmdp-socket", required_argument, NULL, 's' },
		{ "create-operator-token", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool make_token = false;
	struct ctl c = { 0 };
	char err[512];
	enum mm_srtp_profile prof;
	int o, rc;

	mm_log_init("mmctld", MM_LOG_INFO, MM_LOG_LOGFMT);
	while ((o = getopt_long(argc, argv, "c:l:d:s:Th", opts, NULL)) != -1) {
		switch (o) {
		case 'c': opt_config = optarg; break;
		case 'l': opt_listen = optarg; break;
		case 'd': opt_db = optarg; break;
		case 's': opt_sock = optarg; break;
		case 'T': make_token = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt_config || optind != argc) {
		usage(stderr);
		return 2;
	}
	mm_log_init("mmctld", MM_LOG_INFO, MM_LOG_LOGFMT);
	if (config_read(&c.cfg, err, sizeof(err))) {
		mm_err("config_error", "config=%s error=%s", mm_q(opt_config), mm_q(err));
		return 2;
	}
	log_apply(&c.cfg);
	mm_srtp_profile_parse(c.cfg.srtp_profile, &prof);
	c.key_len = mm_srtp_master_len(prof);
	pthread_mutex_init(&c.lock, NULL);
	ctl_mmdp_init(&c.mmdp, c.cfg.mmdp_socket);
	ctl_speakers_init(&c.speakers);
	rc = ctl_store_open(c.cfg.db, &c.store);
	if (rc) {
		/* A full disk (-ENOSPC) says so: the operator frees space and
		 * starts again; nothing was written. */
		mm_err("db_open_failed", "db=%s err=%s", mm_q(c.cfg.db), mm_q(strerror(-rc)));
		rc = 1;
		goto out;
	}
	if ((rc = open_secrets(&c)))
		goto out;
	if (load_invite_key(&c)) {
		mm_err("invite_key_failed", "db=%s", mm_q(c.cfg.db));
		rc = 1;
		goto out;
	}
	rc = make_token ? create_operator_token(&c) : serve(&c);
out:
	ctl_store_close(c.store);
	ctl_mmdp_fini(&c.mmdp);
	ctl_speakers_fini(&c.speakers);
	ctl_metrics_fini();
	pthread_mutex_destroy(&c.lock);
	return rc;
}
