#ifndef MM_AGENT_SERVER_H
#define MM_AGENT_SERVER_H

#include "dataplane/core/agent.h"

/* Create the listening Unix socket at path (replacing a stale one).
 * Returns the fd or a negative errno. */
int mm_agent_listen(const char *path);

/* Serve clients of listen_fd until *stop is set (checked every 100 ms).
 * The calling thread is a registered QSBR reader; it is offline while it
 * waits in poll(). */
int mm_agent_serve(struct mm_agent *a, int listen_fd, volatile int *stop);

#endif
