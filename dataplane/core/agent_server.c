/* The agent's Unix socket: newline-delimited JSON, one reply per request,
 * several clients, requests applied one at a time. */
#include "dataplane/core/agent_server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS 64

struct client {
	int fd;
	char *buf;
	size_t len, cap;
};

int mm_agent_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 16) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int reply(int fd, char *line)
{
	if (!line)
		line = mm_agent_error_reply("internal", "out of memory");
	if (!line)
		return -ENOMEM;
	size_t n = strlen(line);
	line[n] = '\n'; /* overwrite the terminator: send n + 1 bytes */
	int rc = write_all(fd, line, n + 1);
	free(line);
	return rc;
}

/* Handle every complete line in c->buf. Returns <0 to drop the client. */
static int drain_lines(struct mm_agent *a, struct client *c)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->buf + start, '\n', c->len - start);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (c->buf + start));
		if (n > MM_AGENT_LINE_MAX) {
			reply(c->fd, mm_agent_error_reply("line_too_long", "a request line exceeds 1 MiB"));
			return -E2BIG;
		}
		if (n > 0 && !(n == 1 && c->buf[start] == '\r')) {
			if (reply(c->fd, mm_agent_handle(a, c->buf + start, n)) < 0)
				return -EIO;
		}
		start += n + 1;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len > MM_AGENT_LINE_MAX) {
		/* Tell the client, then close: the rest of the line is lost. */
		reply(c->fd, mm_agent_error_reply("line_too_long", "a request line exceeds 1 MiB"));
		return -E2BIG;
	}
	return 0;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int mm_agent_serve(struct mm_agent *a, int listen_fd, volatile int *stop)
{
	struct client clients[MAX_CLIENTS];
	for (int i = 0; i < MAX_CLIENTS; i++) {
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = -1;
	}
	struct pollfd pfd[MAX_CLIENTS + 1];

	while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
		int n = 0;
		pfd[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};

		/* Not a reader while blocked: workers' grace periods go on. */
		urcu_qsbr_thread_offline();
		/* 10 ms: DTLS records the workers hand up and DTLS retransmit
		 * timers are served promptly (mm_agent_tick). */
		int r = poll(pfd, (nfds_t)n, 10);
		urcu_qsbr_thread_online();
		mm_agent_tick(a); /* block expiry, ICE, DTLS: also when no request comes */
		if (a->serve_hook)
			a->serve_hook(a, a->serve_arg); /* may set *stop */
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				int i = 0;
				while (i < MAX_CLIENTS && clients[i].fd >= 0)
					i++;
				if (i == MAX_CLIENTS) {
					reply(fd, mm_agent_error_reply("limit", "too many agent clients"));
					close(fd);
				} else {
					struct timeval tv = {.tv_sec = 5};
					setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
					clients[i].fd = fd;
				}
			}
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (c->cap - c->len < 65536) {
				size_t cap = c->cap ? c->cap * 2 : 65536;
				char *b = realloc(c->buf, cap);
				if (!b) {
					client_close(c);
					continue;
				}
				c->buf = b;
				c->cap = cap;
			}
			ssize_t got = read(c->fd, c->buf + c->len, c->cap - c->len);
			if (got <= 0) {
				if (got < 0 && errno == EINTR)
					continue;
				client_close(c);
				continue;
			}
			c->len += (size_t)got;
			if (drain_lines(a, c) < 0)
				client_close(c);
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	return 0;
}
