/* Helpers of the tenant and plan tests (test_tenants.c, test_plans.c):
 * requests that must succeed, registration, joins, the clock. */
#ifndef CTL_TEST_TENANTS_UTIL_H
#define CTL_TEST_TENANTS_UTIL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A request whose status must be want: the reply (owned), or NULL. */
static inline json_t *t_req(struct h_ctl *h, int want, const char *method, const char *token,
			    const char *body, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static inline json_t *t_req(struct h_ctl *h, int want, const char *method, const char *token,
			    const char *body, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	json_t *r = NULL;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	int st = h_http(h, method, path, token, body, 0, &r);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	cr_assert_eq(st, want, "%s %s %s: %d, want %d: %s", method, path, body ? body : "", st,
		     want, text ? text : "(no body)");
	free(text);
	return r;
}

/* A request that must fail with status and error code. */
static inline void t_fail(struct h_ctl *h, int status, const char *code, const char *method,
			  const char *token, const char *body, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static inline void t_fail(struct h_ctl *h, int status, const char *code, const char *method,
			  const char *token, const char *body, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	json_t *r = t_req(h, status, method, token, body, "%s", path);
	cr_assert_str_eq(h_err_code(r), code, "%s %s %s", method, path, body ? body : "");
	json_decref(r);
}

static inline const char *t_str(json_t *o, const char *path)
{
	/* "a.b": nested objects */
	char key[64];
	const char *dot;
	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_string_value(json_object_get(o, path));
}

static inline long long t_int(json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_integer_value(json_object_get(o, path));
}

static inline long long t_now(struct h_ctl *h)
{
	return h_clock_now(h);
}

static inline void t_advance(struct h_ctl *h, long long secs)
{
	h_clock_advance(h, secs);
}

/* Register tenant id with plan_json (e.g. "\"plan\":\"trial\""); the
 * tenant token into token (strdup'd). Returns the reply. */
static inline json_t *t_register(struct h_ctl *h, const char *id, const char *plan_json,
				 char **token)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"%s Ltd\",\"admin\":{\"name\":"
		 "\"Admin of %s\",\"email\":\"admin@%s.example\"},%s}", id, id, id, id, plan_json);
	json_t *r = t_req(h, 201, "POST", h->op_token, body, "/v1/tenants");
	if (token)
		*token = strdup(t_str(r, "credentials.token"));
	return r;
}

/* A room of the tenant (by its token): kind adhoc or fixed; id strdup'd. */
static inline char *t_room(struct h_ctl *h, const char *token, const char *kind)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"name\":\"a room\",\"kind\":\"%s\"}", kind);
	json_t *r = t_req(h, 201, "POST", token, body, "/v1/rooms");
	char *id = strdup(t_str(r, "id"));
	json_decref(r);
	return id;
}

/* Join room rid as a participant (port: its remote port and SSRC); the
 * status; on 201 the participant id and token into pid/ptok (if given). */
static inline int t_join(struct h_ctl *h, const char *token, const char *rid, int port,
			 char **pid, char **ptok, json_t **reply)
{
	char path[128], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":%d},\"streams\":[{\"kind\":\"audio\",\"ssrc\":%d}]}", port, port, port);
	int st = h_http(h, "POST", path, token, body, 0, &r);
	if (st == 201 && pid)
		*pid = strdup(t_str(r, "id"));
	if (st == 201 && ptok)
		*ptok = strdup(t_str(r, "token"));
	if (reply)
		*reply = r;
	else
		json_decref(r);
	return st;
}

static inline bool t_live(struct h_ctl *h, const char *rid)
{
	json_t *r = t_req(h, 200, "GET", h->op_token, NULL, "/v1/rooms/%s", rid);
	bool live = json_is_true(json_object_get(r, "live"));
	json_decref(r);
	return live;
}

/* Wait (up to ms) for the ticker to end room rid's meeting. */
static inline bool t_wait_not_live(struct h_ctl *h, const char *rid, int ms)
{
	for (int t = 0; t < ms; t += 100) {
		if (!t_live(h, rid))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

#endif
