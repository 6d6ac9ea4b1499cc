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

int sim_agent_connect(struct mm_agent_client *a, const char *path)
{
	mm_agent_client_init(a, 30000);
	return mm_agent_client_connect(a, path);
}

int sim_agent_wait(struct mm_agent_client *a, const char *path, int timeout_ms, pid_t watch_pid)
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

void sim_agent_close(struct mm_agent_client *a)
{
	mm_agent_client_close(a);
}

int sim_agent_roundtrip(struct mm_agent_client *a, const char *line, size_t len, char **reply)
{
	return mm_agent_client_roundtrip(a, line, len, reply);
}

int sim_agent_call(struct mm_agent_client *a, json_t *req, json_t **reply)
{
	return mm_agent_client_call(a, req, reply);
}

int sim_agent_callf(struct mm_agent_client *a, json_t **reply, const char *fmt, ...)
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
