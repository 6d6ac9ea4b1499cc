/* The client side of the agent protocol (docs/agent-protocol.md): one Unix
 * stream connection to mmdp, one JSON line out, one JSON line back. Used by
 * mmctld, mmagent, mmsim and the integration tests. */
#ifndef MM_AGENT_CLIENT_H
#define MM_AGENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct mm_agent_client {
	int fd;         /* -1 while disconnected */
	char *buf;      /* received bytes not yet returned */
	size_t len, cap;
	int timeout_ms; /* per reply */
};

/* fd -1, nothing buffered; timeout_ms per reply. */
void mm_agent_client_init(struct mm_agent_client *c, int timeout_ms);
/* (Re)connect to the socket at path. 0 or a negative errno. */
int mm_agent_client_connect(struct mm_agent_client *c, const char *path);
/* Close the connection and drop what was buffered. */
void mm_agent_client_close(struct mm_agent_client *c);
/* With no request outstanding, is the connection unusable (EOF, error, or
 * the peer speaking out of turn)? Then it is closed. */
bool mm_agent_client_peer_gone(struct mm_agent_client *c);
/* Send one request line (a newline is added when missing) and read the
 * reply line into *reply (malloc'd, NUL-terminated, without newline).
 * 0, or -ENOTCONN, -ETIMEDOUT, -ECONNRESET, -E2BIG (reply over 64 MiB), or
 * another negative errno. */
int mm_agent_client_roundtrip(struct mm_agent_client *c, const char *line, size_t len, char **reply);
/* The same with JSON: *reply is the reply object (ok true or false), or
 * -EBADMSG when the reply is not a JSON object. */
int mm_agent_client_call(struct mm_agent_client *c, json_t *req, json_t **reply);

#endif
