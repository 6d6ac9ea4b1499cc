/* The daemon's shared state: config, store, mmdp connection, and the lock
 * that serialises HTTP handlers and the mmdp reconnect ticker. */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "control/config.h"
#include "control/mmdp_client.h"
#include "control/store.h"

struct ctl {
	struct ctl_config cfg;
	struct ctl_store *store;
	struct ctl_mmdp mmdp;
	pthread_mutex_t lock;
	size_t key_len;          /* master key + salt bytes of cfg.srtp_profile */
};

/* The outcome of pushing one change to mmdp. */
enum ctl_push_result {
	CTL_PUSH_OK = 0,
	CTL_PUSH_REFUSED,        /* mmdp answered ok:false (message in err) */
	CTL_PUSH_UNAVAILABLE,    /* not connected / transport failure */
};

/* endpoint.put body (without "op") for a participant. */
json_t *ctl_sync_endpoint_json(const struct ctl *c, const struct ctl_participant *p);
/* Connect if needed and, on a fresh connection, send state.sync from the
 * committed store. Call with c->lock held and no transaction open.
 * 0 or a negative errno. */
int ctl_sync_ensure(struct ctl *c);
/* Send state.sync with everything in the store. */
int ctl_sync_full(struct ctl *c);
/* Send one change (steals req). err gets mmdp's message when refused. */
enum ctl_push_result ctl_sync_push(struct ctl *c, json_t *req, char *err, size_t errlen);

#endif
