#include "dataplane/core/agent_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX (64u << 20)

void mm_agent_client_init(struct mm_agent_client *c, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
}

void mm_agent_client_close(struct mm_agent_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int mm_agent_client_connect(struct mm_agent_client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mm_agent_client_close(c);
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	c->fd = fd;
	return 0;
}

bool mm_agent_client_peer_gone(struct mm_agent_client *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (c->fd < 0)
		return true;
	if (poll(&p, 1, 0) > 0) {
		mm_agent_client_close(c);
		return true;
	}
	return false;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take one line out of the buffer, reading more as needed. */
static int read_line(struct mm_agent_client *c, char **line)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *out = malloc(n + 1);
			if (!out)
				return -ENOMEM;
			memcpy(out, c->buf, n);
			out[n] = 0;
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			*line = out;
			return 0;
		}
		if (c->len + 4096 > c->cap) {
			if (c->cap >= REPLY_MAX)
				return -E2BIG;
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, cap);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->cap = cap;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno != EINTR)
			return -errno;
		if (pr <= 0)
			continue;
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		c->len += (size_t)r;
	}
}

int mm_agent_client_roundtrip(struct mm_agent_client *c, const char *line, size_t len, char **reply)
{
	if (c->fd < 0)
		return -ENOTCONN;
	int rc = send_all(c->fd, line, len);
	if (!rc && (len == 0 || line[len - 1] != '\n'))
		rc = send_all(c->fd, "\n", 1);
	if (rc)
		return rc;
	return read_line(c, reply);
}

int mm_agent_client_call(struct mm_agent_client *c, json_t *req, json_t **reply)
{
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	char *line = NULL;
	int rc = mm_agent_client_roundtrip(c, text, strlen(text), &line);
	free(text);
	if (rc)
		return rc;
	json_error_t je;
	*reply = json_loads(line, 0, &je);
	free(line);
	if (!*reply || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		return -EBADMSG;
	}
	return 0;
}
