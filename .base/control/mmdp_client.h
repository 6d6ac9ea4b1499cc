/* mmctld's side of the agent protocol (docs/agent-protocol.md): one Unix
 * stream connection to mmdp, one JSON line out, one JSON line back. */
#ifndef CTL_MMDP_CLIENT_H
#define CTL_MMDP_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "dataplane/core/agent_client.h"

struct ctl_mmdp {
	char path[108];
	struct mm_agent_client c; /* 5 s per reply */
};

void ctl_mmdp_init(struct ctl_mmdp *m, const char *path);
void ctl_mmdp_fini(struct ctl_mmdp *m);
int ctl_mmdp_connect(struct ctl_mmdp *m);
void ctl_mmdp_close(struct ctl_mmdp *m);
bool ctl_mmdp_connected(const struct ctl_mmdp *m);
/* True when the peer hung up (or sent something unasked): then closed. */
bool ctl_mmdp_peer_gone(struct ctl_mmdp *m);
/* Send req, wait for the reply. 0 with *reply set (ok true or false);
 * -ENOTCONN, -EIO, -ETIMEDOUT, -EPROTO on transport trouble (closed). */
int ctl_mmdp_call(struct ctl_mmdp *m, json_t *req, json_t **reply);

#endif
