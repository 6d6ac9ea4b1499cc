/* mmctld: the control daemon. Reads its config, opens the store, syncs
 * mmdp, serves the REST API until SIGTERM/SIGINT. Exit codes: 0 done,
 * 1 runtime failure, 2 bad usage or config. */
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
#include "control/plans.h"
#include "control/sealed.h"
#include "control/webhook.h"
#include "dataplane/core/srtp.h"

#define TICK_MS 250             /* mmdp reconnect and resync check, speakers.get */
#define KEEPALIVE_TICKS 60      /* SSE keepalive comments every 15 s */
#define EXPIRE_TICKS 40         /* expired blocks and bans dropped every 10 s */
#define PLANS_TICKS 4           /* plan limits and contract terms every 1 s */

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
			fprintf(stderr, "mmctld: lost mmdp at %s, retrying\n", c->mmdp.path);
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
		fprintf(stderr, "mmctld: key file: %s\n", err);
		return 2;
	}
	if (created)
		fprintf(stderr, "mmctld: made the key file %s (keep it with the database, "
			"apart from its backups)\n", path);
	int rc = ctl_store_seal_keys(c->store, key);
	explicit_bzero(key, sizeof(key));
	if (rc == -EKEYREJECTED) {
		fprintf(stderr, "mmctld: the keys in %s do not open with %s: not this "
			"database's key file\n", c->cfg.db, path);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "mmctld: cannot seal the keys in %s\n", c->cfg.db);
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
		fprintf(stderr, "mmctld: cannot store token: %s\n", strerror(-rc));
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

static int serve(struct ctl *c)
{
	struct MHD_Daemon *d = NULL;
	pthread_t ticker;
	sigset_t set;
	int sig, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_lock(&c->lock);
	rc = ctl_sync_ensure(c);
	pthread_mutex_unlock(&c->lock);
	if (rc)
		fprintf(stderr, "mmctld: mmdp not reachable at %s (%s); will retry\n",
			c->cfg.mmdp_socket, strerror(-rc));
	if (ctl_webhook_start(c)) {
		fprintf(stderr, "mmctld: cannot start the webhook delivery thread\n");
		return 1;
	}
	rc = ctl_api_start(c, &d);
	if (rc) {
		fprintf(stderr, "mmctld: cannot listen on %s\n", c->cfg.listen);
		ctl_webhook_stop();
		return 1;
	}
	if (pthread_create(&ticker, NULL, ticker_main, c)) {
		ctl_api_stop(c, d);
		ctl_webhook_stop();
		return 1;
	}
	fprintf(stderr, "mmctld: listening on %s\n", c->cfg.listen);
	sigwait(&set, &sig);
	fprintf(stderr, "mmctld: signal %d, stopping\n", sig);
	ctl_api_stop(c, d);
	pthread_mutex_lock(&ticker_lock);
	ticker_stop = true;
	pthread_cond_signal(&ticker_cond);
	pthread_mutex_unlock(&ticker_lock);
	pthread_join(ticker, NULL);
	ctl_webhook_stop();
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
	const char *config = NULL, *listen = NULL, *db = NULL, *sock = NULL;
	bool make_token = false;
	struct ctl c = { 0 };
	char err[512];
	enum mm_srtp_profile prof;
	int o, rc;

	mm_log_init("mmctld", MM_LOG_INFO, MM_LOG_LOGFMT);
	while ((o = getopt_long(argc, argv, "c:l:d:s:Th", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'l': listen = optarg; break;
		case 'd': db = optarg; break;
		case 's': sock = optarg; break;
		case 'T': make_token = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (ctl_config_load(config, &c.cfg, err, sizeof(err))) {
		fprintf(stderr, "mmctld: config: %s\n", err);
		return 2;
	}
	if ((listen && strlen(listen) >= sizeof(c.cfg.listen)) ||
	    (db && strlen(db) >= sizeof(c.cfg.db)) ||
	    (sock && strlen(sock) >= sizeof(c.cfg.mmdp_socket))) {
		fprintf(stderr, "mmctld: an option value is too long\n");
		return 2;
	}
	if (listen)
		snprintf(c.cfg.listen, sizeof(c.cfg.listen), "%s", listen);
	if (db)
		snprintf(c.cfg.db, sizeof(c.cfg.db), "%s", db);
	if (sock)
		snprintf(c.cfg.mmdp_socket, sizeof(c.cfg.mmdp_socket), "%s", sock);
	if (ctl_config_check(&c.cfg, err, sizeof(err))) {
		fprintf(stderr, "mmctld: config: %s\n", err);
		return 2;
	}
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
		fprintf(stderr, "mmctld: cannot read or make the invite key in %s\n", c.cfg.db);
		rc = 1;
		goto out;
	}
	rc = make_token ? create_operator_token(&c) : serve(&c);
out:
	ctl_store_close(c.store);
	ctl_mmdp_fini(&c.mmdp);
	ctl_speakers_fini(&c.speakers);
	pthread_mutex_destroy(&c.lock);
	return rc;
}
