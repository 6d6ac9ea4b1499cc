/* Agent protocol: banned source prefixes. ban.put and ban.del (syntax,
 * check against the view of a batch, apply), their expiry, their stats.
 *
 * mmdp keeps the bans in its tables (agent thread only) and, with an XDP
 * guard, in the guard's prefix map (agent_guard.c), which drops the
 * banned sources before they reach mmdp. The workers never look at bans:
 * without a guard a banned source that holds no endpoint is dropped as
 * unknown anyway, and one that holds an endpoint is the controller's to
 * remove. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/agent_internal.h"

#define NS_PER_S 1000000000ull

static void clear_host_bits(uint8_t addr[16], unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

/* "203.0.113.0/24" or "2001:db8::/32" (an address alone: /32, /128). */
static int prefix_parse(const char *text, uint8_t addr[16], uint8_t *len, uint8_t *family)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(a))
		return -EINVAL;
	memcpy(a, text, alen);
	a[alen] = 0;
	unsigned max;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, a, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		*family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, a, addr) == 1) {
		*family = 6;
		max = 128;
	} else {
		return -EINVAL;
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
	*len = (uint8_t)(*family == 4 ? 96 + n : n);
	clear_host_bits(addr, *len);
	return 0;
}

static void prefix_format(const uint8_t addr[16], uint8_t len, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (len >= 96 && memcmp(addr, mapped, 12) == 0) {
		inet_ntop(AF_INET, addr + 12, a, sizeof(a));
		snprintf(out, size, "%s/%u", a, (unsigned)len - 96);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(out, size, "%s/%u", a, (unsigned)len);
	}
}

int mm_agent_parse_ban(json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (mm_agent_get_name(o, "ban", p, &op->ban, e))
		return -EINVAL;
	if (op->type == OP_BAN_DEL)
		return 0;
	snprintf(f, sizeof(f), "%sprefix", p);
	json_t *jp = json_object_get(o, "prefix");
	if (!jp)
		return mm_agent_fail(e, "missing_field", f, "prefix is required");
	if (!json_is_string(jp) ||
	    prefix_parse(json_string_value(jp), op->ban_addr, &op->ban_len, &op->family))
		return mm_agent_fail(e, "invalid_field", f,
				     "prefix must be an IPv4 or IPv6 address with an optional "
				     "/length (at most /32 or /128)");
	uint64_t ttl;
	if (mm_agent_get_uint(o, "ttl_seconds", p, 1, MM_BAN_TTL_MAX, true, &ttl, e))
		return -EINVAL;
	op->ttl_s = (uint32_t)ttl;
	return 0;
}

/* ----------------------------------------------------------- tables --- */

struct mm_ban *mm_agent_ban(struct mm_tables *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_bans; i++)
		if (strcmp(t->bans[i].name, name) == 0)
			return &t->bans[i];
	return NULL;
}

struct mm_ban *mm_agent_ban_of(struct mm_tables *t, const uint8_t addr[16], uint8_t len)
{
	for (uint32_t i = 0; i < t->n_bans; i++)
		if (t->bans[i].prefixlen == len && memcmp(t->bans[i].addr, addr, 16) == 0)
			return &t->bans[i];
	return NULL;
}

static void ban_remove(struct mm_tables *t, struct mm_ban *b)
{
	*b = t->bans[--t->n_bans];
}

/* ----------------------------------------------------------- the view --- */

static bool view_ban(struct mm_tables *t, struct ban_view *v, const char *name, char cur[64])
{
	json_t *o = json_object_get(v->names, name);
	if (o) {
		if (!json_is_string(o))
			return false;
		snprintf(cur, 64, "%s", json_string_value(o));
		return true;
	}
	struct mm_ban *b = mm_agent_ban(t, name);
	if (!b)
		return false;
	prefix_format(b->addr, b->prefixlen, cur, 64);
	return true;
}

int mm_agent_check_ban(struct mm_tables *t, struct ban_view *v, const struct op *op, struct aerr *e)
{
	char f[192], key[64], cur[64];
	const char *p = op->path;
	bool exists = view_ban(t, v, op->ban, cur);
	if (op->type == OP_BAN_DEL) {
		snprintf(f, sizeof(f), "%sban", p);
		if (!exists)
			return mm_agent_fail(e, "not_found", f, "no ban %s", op->ban);
		json_object_set_new(v->prefixes, cur, json_null());
		json_object_set_new(v->names, op->ban, json_null());
		v->delta--;
		return 0;
	}
	prefix_format(op->ban_addr, op->ban_len, key, sizeof(key));
	json_t *o = json_object_get(v->prefixes, key);
	const char *owner;
	if (o) {
		owner = json_string_value(o);
	} else {
		struct mm_ban *b = mm_agent_ban_of(t, op->ban_addr, op->ban_len);
		owner = b ? b->name : NULL;
	}
	if (owner && strcmp(owner, op->ban) != 0) {
		snprintf(f, sizeof(f), "%sprefix", p);
		return mm_agent_fail(e, "conflict", f, "%s is banned by ban %s", key, owner);
	}
	if (!exists) {
		if ((long)t->n_bans + v->delta >= MM_BANS_MAX)
			return mm_agent_fail(e, "limit", p, "at most %d bans", MM_BANS_MAX);
		v->delta++;
	} else if (strcmp(cur, key) != 0) {
		json_object_set_new(v->prefixes, cur, json_null());
	}
	json_object_set_new(v->names, op->ban, json_string(key));
	json_object_set_new(v->prefixes, key, json_string(op->ban));
	return 0;
}

/* -------------------------------------------------------------- apply --- */

int mm_agent_apply_ban(struct mm_tables *t, const struct op *op, uint64_t now_ns)
{
	struct mm_ban *b = mm_agent_ban(t, op->ban);
	if (op->type == OP_BAN_DEL) {
		if (b)
			ban_remove(t, b);
		return 0;
	}
	if (!b) {
		if (t->n_bans == t->cap_bans) {
			uint32_t cap = t->cap_bans ? 2 * t->cap_bans : 16;
			struct mm_ban *v = realloc(t->bans, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			t->bans = v;
			t->cap_bans = cap;
		}
		b = &t->bans[t->n_bans++];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", op->ban);
	}
	memcpy(b->addr, op->ban_addr, 16);
	b->prefixlen = op->ban_len;
	b->family = op->family;
	b->expires_ns = now_ns + (uint64_t)op->ttl_s * NS_PER_S;
	return 0;
}

void mm_agent_bans_expire(struct mm_agent *a, uint64_t now_ns, struct guard_touch *tc)
{
	struct mm_tables *t = a->t;
	for (uint32_t i = 0; i < t->n_bans;) {
		struct mm_ban *b = &t->bans[i];
		if (b->expires_ns > now_ns) {
			i++;
			continue;
		}
		if (tc)
			mm_agent_guard_touch_prefix(tc, b->addr, b->prefixlen);
		ban_remove(t, b); /* the last one moved to i: look at it next */
	}
}

/* -------------------------------------------------------------- stats --- */

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct mm_ban *)x)->name, ((const struct mm_ban *)y)->name);
}

json_t *mm_agent_bans_stats(struct mm_tables *t, uint64_t now_ns)
{
	json_t *arr = json_array();
	if (!t->n_bans)
		return arr;
	struct mm_ban *v = malloc(t->n_bans * sizeof(*v));
	if (!v) {
		json_decref(arr);
		return NULL;
	}
	memcpy(v, t->bans, t->n_bans * sizeof(*v));
	qsort(v, t->n_bans, sizeof(*v), by_name);
	for (uint32_t i = 0; i < t->n_bans; i++) {
		char pfx[64];
		prefix_format(v[i].addr, v[i].prefixlen, pfx, sizeof(pfx));
		uint64_t left = v[i].expires_ns > now_ns
					? (v[i].expires_ns - now_ns + NS_PER_S - 1) / NS_PER_S
					: 0;
		json_array_append_new(arr, json_pack("{sssssI}", "ban", v[i].name, "prefix", pfx,
						     "expires_in", (json_int_t)left));
	}
	free(v);
	return arr;
}
