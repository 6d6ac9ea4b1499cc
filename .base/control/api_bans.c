/* /v1/bans (operator): banned source prefixes, added, listed and lifted.
 * Pushed to mmdp (ban.put, ban.del), which puts them in the XDP guard's
 * prefix map; expired by the ticker (control/main.c) and by mmdp itself. */
#include "control/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BAN_TTL_DEFAULT 3600
#define BAN_TTL_MAX (30 * 86400) /* mmdp's MM_BAN_TTL_MAX */

/* "203.0.113.7/24" -> "203.0.113.0/24"; an address alone is a /32 or
 * /128. -EINVAL for anything else. */
static int prefix_canon(const char *text, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	unsigned char addr[16] = { 0 };
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(a))
		return -EINVAL;
	memcpy(a, text, alen);
	a[alen] = 0;
	int af = AF_INET;
	unsigned max = 32;
	if (inet_pton(AF_INET, a, addr) != 1) {
		if (inet_pton(AF_INET6, a, addr) != 1)
			return -EINVAL;
		af = AF_INET6;
		max = 128;
	}
	unsigned n = max;
	if (slash) {
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			return -EINVAL;
		n = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			n = n * 10 + (unsigned)(*d - '0');
		}
		if (n > max)
			return -EINVAL;
	}
	for (unsigned bit = n; bit < max; bit++)
		addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	inet_ntop(af, addr, a, sizeof(a));
	snprintf(out, cap, "%s/%u", a, n);
	return 0;
}

static json_t *ban_json(const struct ctl_ban *b)
{
	return json_pack("{s:s,s:s,s:s,s:I}", "id", b->id, "prefix", b->prefix, "reason",
			 b->reason, "expires_at", (json_int_t)b->expires_at);
}

static int bans_add(void *arg, const struct ctl_ban *b)
{
	return json_array_append_new(arg, ban_json(b)) ? -ENOMEM : 0;
}

static void ban_create(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "prefix", API_STRING, true },
		{ "ttl_seconds", API_INT, false },
		{ "reason", API_STRING, false },
	};
	struct ctl_ban ban = { 0 };
	json_t *b = api_body_object(rq, rep);
	if (!b)
		return;
	if (api_check_fields(b, "", fields, 3, rep))
		goto out;
	if (prefix_canon(json_string_value(json_object_get(b, "prefix")), ban.prefix,
			 sizeof(ban.prefix))) {
		api_error(rep, 400, "invalid_field",
			  "prefix: an IPv4 or IPv6 address with an optional /length "
			  "(at most /32 or /128)");
		goto out;
	}
	json_int_t ttl = BAN_TTL_DEFAULT;
	json_t *v = json_object_get(b, "ttl_seconds");
	if (v && ((ttl = json_integer_value(v)) < 1 || ttl > BAN_TTL_MAX)) {
		api_error(rep, 400, "invalid_field", "ttl_seconds: 1..%d", BAN_TTL_MAX);
		goto out;
	}
	v = json_object_get(b, "reason");
	if (v && json_string_length(v) >= sizeof(ban.reason)) {
		api_error(rep, 400, "invalid_field", "reason: at most %zu bytes",
			  sizeof(ban.reason) - 1);
		goto out;
	}
	snprintf(ban.reason, sizeof(ban.reason), "%s", v ? json_string_value(v) : "ban");
	int64_t now = ctl_now(rq->c);
	ban.expires_at = now + ttl;
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		goto out;
	int rc = ctl_random_id("n", 8, ban.id, sizeof(ban.id));
	if (!rc)
		rc = ctl_store_ban_insert(rq->c->store, &ban, now);
	if (rc) {
		ctl_store_rollback(rq->c->store);
		if (rc == -EEXIST)
			api_error(rep, 409, "conflict", "%s is banned already", ban.prefix);
		else
			api_error(rep, 500, "internal", "store: cannot insert ban");
		goto out;
	}
	json_t *put = ctl_sync_ban_json(&ban, now);
	json_object_set_new(put, "op", json_string("ban.put"));
	if (api_push_commit(rq, put, rep) == 0) {
		rep->status = 201;
		rep->body = ban_json(&ban);
	}
out:
	json_decref(b);
}

static void ban_delete(struct api_req *rq, struct api_reply *rep)
{
	if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
		return;
	int rc = ctl_store_ban_delete(rq->c->store, rq->parts[1]);
	if (rc) {
		ctl_store_rollback(rq->c->store);
		if (rc == -ENOENT)
			api_error(rep, 404, "not_found", "no ban %s", rq->parts[1]);
		else
			api_error(rep, 500, "internal", "store: cannot delete ban");
		return;
	}
	/* mmdp forgets a ban by itself when it expires. */
	if (api_push_del_commit(rq, json_pack("{s:s,s:s}", "op", "ban.del", "ban", rq->parts[1]),
				rep) == 0)
		rep->status = 204;
}

void api_bans(struct api_req *rq, struct api_reply *rep)
{
	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only operator tokens manage bans");
		return;
	}
	if (rq->nparts == 1 && !strcmp(rq->method, "GET")) {
		json_t *arr = json_array();
		if (ctl_store_ban_list(rq->c->store, ctl_now(rq->c), bans_add, arr)) {
			json_decref(arr);
			api_error(rep, 500, "internal", "store: cannot list bans");
			return;
		}
		rep->status = 200;
		rep->body = json_pack("{s:o}", "bans", arr);
	} else if (rq->nparts == 1 && !strcmp(rq->method, "POST")) {
		ban_create(rq, rep);
	} else if (rq->nparts == 2 && !strcmp(rq->method, "DELETE")) {
		ban_delete(rq, rep);
	} else if (rq->nparts <= 2) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
	} else {
		api_error(rep, 404, "not_found", "no such resource");
	}
}
