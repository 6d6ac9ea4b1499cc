/* mmctld's connection to mmdp: the shared agent-protocol client
 * (dataplane/core/agent_client.h) plus mmctld's rule that any transport
 * trouble closes the connection, so the next request resyncs. */
#include "control/mmdp_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctl_mmdp_init(struct ctl_mmdp *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	mm_agent_client_init(&m->c, 5000);
}

void ctl_mmdp_close(struct ctl_mmdp *m)
{
	mm_agent_client_close(&m->c);
}

void ctl_mmdp_fini(struct ctl_mmdp *m)
{
	ctl_mmdp_close(m);
}

bool ctl_mmdp_connected(const struct ctl_mmdp *m)
{
	return m->c.fd >= 0;
}

int ctl_mmdp_connect(struct ctl_mmdp *m)
{
	return mm_agent_client_connect(&m->c, m->path);
}

bool ctl_mmdp_peer_gone(struct ctl_mmdp *m)
{
	return mm_agent_client_peer_gone(&m->c);
}

int ctl_mmdp_call(struct ctl_mmdp *m, json_t *req, json_t **reply)
{
	if (m->c.fd < 0)
		return -ENOTCONN;
	int rc = mm_agent_client_call(&m->c, req, reply);
	if (rc) {
		*reply = NULL;
		ctl_mmdp_close(m);
		return rc == -EBADMSG ? -EPROTO : rc == -ETIMEDOUT ? rc : -EIO;
	}
	return 0;
}
