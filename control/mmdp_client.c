/* Agent-protocol client: blocking writes, replies read with a timeout. */
#include "control/mmdp_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MMDP_LINE_MAX (1u << 20)

void ctl_mmdp_init(struct ctl_mmdp *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->fd = -1;
	m->timeout_ms = 5000;
}

void ctl_mmdp_close(struct ctl_mmdp *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->len = 0;
}

void ctl_mmdp_fini(struct ctl_mmdp *m)
{
	ctl_mmdp_close(m);
	free(m->buf);
	m->buf = NULL;
	m->cap = 0;
}

bool ctl_mmdp_connected(const struct ctl_mmdp *m)
{
	return m->fd >= 0;
}

int ctl_mmdp_connect(struct ctl_mmdp *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ctl_mmdp_close(m);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	m->fd = fd;
	return 0;
}

bool ctl_mmdp_peer_gone(struct ctl_mmdp *m)
{
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	if (m->fd < 0)
		return true;
	if (poll(&p, 1, 0) > 0) {
		/* Nothing is outstanding: readable means EOF, an error, or a
		 * peer speaking out of turn. Any of them: start over. */
		ctl_mmdp_close(m);
		return true;
	}
	return false;
}

static int mmdp_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int64_t mmdp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until a full line is buffered; returns its length (without \n). */
static int mmdp_read_line(struct ctl_mmdp *m, size_t *linelen)
{
	int64_t deadline = mmdp_now_ms() + m->timeout_ms;
	for (;;) {
		char *nl = m->len ? memchr(m->buf, '\n', m->len) : NULL;
		if (nl) {
			*linelen = (size_t)(nl - m->buf);
			return 0;
		}
		if (m->len >= MMDP_LINE_MAX)
			return -EPROTO;
		if (m->cap - m->len < 4096) {
			size_t ncap = m->cap ? m->cap * 2 : 8192;
			char *nb = realloc(m->buf, ncap);
			if (!nb)
				return -ENOMEM;
			m->buf = nb;
			m->cap = ncap;
		}
		int64_t left = deadline - mmdp_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = m->fd, .events = POLLIN };
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return -ETIMEDOUT;
		if (pr < 0)
			return -EIO;
		ssize_t r = recv(m->fd, m->buf + m->len, m->cap - m->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		m->len += (size_t)r;
	}
}

int ctl_mmdp_call(struct ctl_mmdp *m, json_t *req, json_t **reply)
{
	size_t linelen;
	json_error_t jerr;
	int rc;

	if (m->fd < 0)
		return -ENOTCONN;
	char *line = json_dumps(req, JSON_COMPACT);
	if (!line)
		return -ENOMEM;
	size_t n = strlen(line);
	line[n] = '\n';   /* json_dumps leaves room: replace NUL, send n + 1 */
	rc = mmdp_send_all(m->fd, line, n + 1);
	free(line);
	if (rc)
		goto fail;
	rc = mmdp_read_line(m, &linelen);
	if (rc)
		goto fail;
	*reply = json_loadb(m->buf, linelen, 0, &jerr);
	memmove(m->buf, m->buf + linelen + 1, m->len - linelen - 1);
	m->len -= linelen + 1;
	if (!*reply || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		rc = -EPROTO;
		goto fail;
	}
	return 0;
fail:
	ctl_mmdp_close(m);
	return rc;
}
