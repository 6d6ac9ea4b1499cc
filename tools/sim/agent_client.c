/* Client of mmdp's agent socket: one JSON object per line, one reply line
 * per request (docs/agent-protocol.md). */
#include "tools/sim/sim.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define AGENT_MAX_LINE (64u << 20)

int sim_agent_connect(struct sim_agent *a, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->timeout_ms = 30000;
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
	a->fd = fd;
	return 0;
}

int sim_agent_wait(struct sim_agent *a, const char *path, int timeout_ms, pid_t watch_pid)
{
	uint64_t end = sim_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int rc = sim_agent_connect(a, path);
		if (rc == 0)
			return 0;
		if (watch_pid > 0) {
			int st;
			if (waitpid(watch_pid, &st, WNOHANG) == watch_pid)
				return -ECHILD;
		}
		if (sim_now_ns() >= end)
			return rc;
		sim_sleep_ms(50);
	}
}

void sim_agent_close(struct sim_agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = 0;
}

static int write_all(int fd, const char *p, size_t n)
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

/* Take one line out of the buffer, reading more as needed. */
static int read_line(struct sim_agent *a, char **line)
{
	uint64_t end = sim_now_ns() + (uint64_t)a->timeout_ms * 1000000u;
	for (;;) {
		char *nl = a->len ? memchr(a->buf, '\n', a->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - a->buf);
			char *out = malloc(n + 1);
			if (!out)
				return -ENOMEM;
			memcpy(out, a->buf, n);
			out[n] = 0;
			memmove(a->buf, nl + 1, a->len - n - 1);
			a->len -= n + 1;
			*line = out;
			return 0;
		}
		if (a->len + 4096 > a->cap) {
			if (a->cap >= AGENT_MAX_LINE)
				return -E2BIG;
			size_t cap = a->cap ? a->cap * 2 : 65536;
			char *nb = realloc(a->buf, cap);
			if (!nb)
				return -ENOMEM;
			a->buf = nb;
			a->cap = cap;
		}
		uint64_t now = sim_now_ns();
		if (now >= end)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = a->fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)((end - now) / 1000000u) + 1);
		if (pr < 0 && errno != EINTR)
			return -errno;
		if (pr <= 0)
			continue;
		ssize_t r = recv(a->fd, a->buf + a->len, a->cap - a->len, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		a->len += (size_t)r;
	}
}

int sim_agent_roundtrip(struct sim_agent *a, const char *line, size_t len, char **reply)
{
	if (a->fd < 0)
		return -ENOTCONN;
	int rc = write_all(a->fd, line, len);
	if (!rc && (len == 0 || line[len - 1] != '\n'))
		rc = write_all(a->fd, "\n", 1);
	if (rc)
		return rc;
	return read_line(a, reply);
}

int sim_agent_call(struct sim_agent *a, json_t *req, json_t **reply)
{
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	char *line = NULL;
	int rc = sim_agent_roundtrip(a, text, strlen(text), &line);
	free(text);
	if (rc)
		return rc;
	json_error_t je;
	*reply = json_loads(line, 0, &je);
	free(line);
	return *reply ? 0 : -EBADMSG;
}

int sim_agent_callf(struct sim_agent *a, json_t **reply, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_error_t je;
	json_t *req = json_vpack_ex(&je, 0, fmt, ap);
	va_end(ap);
	if (!req)
		return -EINVAL;
	int rc = sim_agent_call(a, req, reply);
	json_decref(req);
	return rc;
}

bool sim_reply_ok(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

const char *sim_reply_code(const json_t *reply)
{
	const char *c = json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
	return c ? c : "";
}

long long sim_json_int(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

long long sim_stats_drop(const json_t *stats, const char *reason)
{
	return sim_json_int(json_object_get(stats, "drops"), reason);
}

const json_t *sim_stats_room(const json_t *stats, const char *room)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(stats, "rooms"), i, r) {
		const char *name = json_string_value(json_object_get(r, "room"));
		if (name && strcmp(name, room) == 0)
			return r;
	}
	return NULL;
}

const json_t *sim_stats_endpoint(const json_t *stats, const char *room, const char *endpoint)
{
	size_t i;
	json_t *e;
	const json_t *r = sim_stats_room(stats, room);
	json_array_foreach(json_object_get(r, "endpoints"), i, e) {
		const char *name = json_string_value(json_object_get(e, "endpoint"));
		if (name && strcmp(name, endpoint) == 0)
			return e;
	}
	return NULL;
}
