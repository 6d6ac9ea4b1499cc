/* mmdp's configuration file (JSON). */
#include "dataplane/core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"

static int cfg_fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfg_fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void mm_config_defaults(struct mm_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->agent_socket, sizeof(c->agent_socket), "%s", "/run/mmdp/agent.sock");
	c->mbufs = 32768;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	snprintf(c->guard.pin_dir, sizeof(c->guard.pin_dir), "%s", MM_GUARD_PIN_DIR_DEFAULT);
	c->guard.s.redirect = true;
	c->guard.s.known = (struct mm_guard_limit)MM_GUARD_CONF_KNOWN;
	c->guard.s.unknown = (struct mm_guard_limit)MM_GUARD_CONF_UNKNOWN;
	c->guard.s.handshake = (struct mm_guard_limit)MM_GUARD_CONF_HANDSHAKE;
	c->log_level = MM_LOG_INFO;
	c->log_format = MM_LOG_LOGFMT;
	c->drain_timeout_s = 600;
}

/* A guard limit: {"pps":N,"burst":N,"bytes_per_s":N,"byte_burst":N}, each
 * optional (keeps the default); a rate needs a burst. */
static int parse_limit(json_t *o, const char *name, struct mm_guard_limit *l, char *err, size_t n)
{
	if (!json_is_object(o))
		return cfg_fail(err, n, "guard.%s must be an object", name);
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		uint64_t *dst = strcmp(key, "pps") == 0           ? &l->pps
				: strcmp(key, "burst") == 0       ? &l->pkt_burst
				: strcmp(key, "bytes_per_s") == 0 ? &l->bytes_ps
				: strcmp(key, "byte_burst") == 0  ? &l->byte_burst
								  : NULL;
		if (!dst)
			return cfg_fail(err, n, "unknown key guard.%s.%s", name, key);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)1e12)
			return cfg_fail(err, n, "guard.%s.%s must be an integer in 0..10^12", name, key);
		*dst = (uint64_t)json_integer_value(v);
	}
	if ((l->pps && !l->pkt_burst) || (l->bytes_ps && !l->byte_burst))
		return cfg_fail(err, n, "guard.%s: a rate needs a burst of at least 1", name);
	return 0;
}

static int parse_guard(json_t *o, struct mm_config *c, char *err, size_t n)
{
	struct mm_guard_conf *g = &c->guard;
	if (!json_is_object(o))
		return cfg_fail(err, n, "guard must be an object");
	bool range = false;
	const char *key;
	json_t *v;
	int rc;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "pin_dir") == 0) {
			if (!json_is_string(v) || json_string_value(v)[0] != '/' ||
			    strlen(json_string_value(v)) >= sizeof(g->pin_dir) - 16)
				return cfg_fail(err, n, "guard.pin_dir must be an absolute path under 240 bytes");
			snprintf(g->pin_dir, sizeof(g->pin_dir), "%s", json_string_value(v));
		} else if (strcmp(key, "port_range") == 0) {
			json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
			if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(lo) ||
			    !json_is_integer(hi) || json_integer_value(lo) < 1 ||
			    json_integer_value(hi) > 65535 ||
			    json_integer_value(lo) > json_integer_value(hi))
				return cfg_fail(err, n, "guard.port_range must be [lo, hi] with 1 <= lo <= hi <= 65535");
			g->s.port_lo = (uint16_t)json_integer_value(lo);
			g->s.port_hi = (uint16_t)json_integer_value(hi);
			range = true;
		} else if (strcmp(key, "redirect") == 0) {
			if (!json_is_boolean(v))
				return cfg_fail(err, n, "guard.redirect must be true or false");
			g->s.redirect = json_is_true(v);
		} else if (strcmp(key, "known") == 0) {
			if ((rc = parse_limit(v, key, &g->s.known, err, n)))
				return rc;
		} else if (strcmp(key, "unknown") == 0) {
			if ((rc = parse_limit(v, key, &g->s.unknown, err, n)))
				return rc;
		} else if (strcmp(key, "handshake") == 0) {
			if ((rc = parse_limit(v, key, &g->s.handshake, err, n)))
				return rc;
		} else {
			return cfg_fail(err, n, "unknown key guard.%s", key);
		}
	}
	if (!range)
		return cfg_fail(err, n, "guard.port_range is required (the media ports of mmdp's endpoints)");
	g->enabled = true;
	return 0;
}

static int parse_ports(json_t *ports, struct mm_config *c, char *err, size_t n)
{
	if (!json_is_array(ports) || json_array_size(ports) == 0 ||
	    json_array_size(ports) > MM_PORTS_MAX)
		return cfg_fail(err, n, "ports must be an array of 1..%d port objects", MM_PORTS_MAX);
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p) {
		struct mm_port_conf *pc = &c->dp.ports[i];
		json_t *addrs = json_object_get(p, "addresses");
		if (!json_is_array(addrs) || json_array_size(addrs) == 0 ||
		    json_array_size(addrs) > MM_PORT_ADDRS_MAX)
			return cfg_fail(err, n, "ports[%zu].addresses must list 1..%d addresses", i,
					MM_PORT_ADDRS_MAX);
		size_t j;
		json_t *a;
		json_array_foreach(addrs, j, a) {
			if (!json_is_string(a) ||
			    net_addr_parse(json_string_value(a), &pc->addrs[j], &pc->addr_family[j]) != 0)
				return cfg_fail(err, n, "ports[%zu].addresses[%zu] is not an IP address", i, j);
		}
		pc->n_addrs = (uint32_t)json_array_size(addrs);
		json_t *gw = json_object_get(p, "gateway_mac");
		if (gw && (!json_is_string(gw) || net_mac_parse(json_string_value(gw), pc->gateway_mac) != 0))
			return cfg_fail(err, n, "ports[%zu].gateway_mac is not a MAC address", i);
		if (!gw)
			memset(pc->gateway_mac, 0xff, 6); /* broadcast until learned */
		json_t *ck = json_object_get(p, "srtp_ipv4_udp_checksum");
		if (ck && !json_is_boolean(ck))
			return cfg_fail(err, n, "ports[%zu].srtp_ipv4_udp_checksum must be true or false", i);
		pc->srtp_udp_csum4 = json_is_true(ck);
		json_t *ws = json_object_get(p, "workers");
		if (ws) {
			size_t k;
			json_t *w;
			if (!json_is_array(ws) || json_array_size(ws) == 0)
				return cfg_fail(err, n, "ports[%zu].workers must list worker indexes", i);
			pc->worker_mask = 0;
			json_array_foreach(ws, k, w) {
				if (!json_is_integer(w) || json_integer_value(w) < 0 ||
				    json_integer_value(w) >= MM_WORKERS_MAX)
					return cfg_fail(err, n, "ports[%zu].workers[%zu] must be 0..%d", i, k,
							MM_WORKERS_MAX - 1);
				pc->worker_mask |= 1u << json_integer_value(w);
			}
			c->workers_set[i] = true;
		}
	}
	c->dp.n_ports = (uint32_t)json_array_size(ports);
	return 0;
}

int mm_config_load(const char *path, struct mm_config *c, char *err, size_t n)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cfg_fail(err, n, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	int rc = 0;
	if (!json_is_object(root)) {
		rc = cfg_fail(err, n, "%s: the configuration must be a JSON object", path);
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "agent_socket") == 0) {
			if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(c->agent_socket)) {
				rc = cfg_fail(err, n, "agent_socket must be a path of at most 107 bytes");
				goto out;
			}
			snprintf(c->agent_socket, sizeof(c->agent_socket), "%s", json_string_value(v));
		} else if (strcmp(key, "dtls_cert") == 0 || strcmp(key, "dtls_key") == 0) {
			char *dst = key[5] == 'c' ? c->dtls_cert : c->dtls_key;
			if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(c->dtls_cert)) {
				rc = cfg_fail(err, n, "%s must be a path of at most 255 bytes", key);
				goto out;
			}
			snprintf(dst, sizeof(c->dtls_cert), "%s", json_string_value(v));
		} else if (strcmp(key, "ports") == 0) {
			if ((rc = parse_ports(v, c, err, n)))
				goto out;
		} else if (strcmp(key, "mbufs") == 0 || strcmp(key, "rx_desc") == 0 ||
			   strcmp(key, "tx_desc") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 64 ||
			    json_integer_value(v) > (1 << 22)) {
				rc = cfg_fail(err, n, "%s must be an integer in 64..4194304", key);
				goto out;
			}
			uint32_t x = (uint32_t)json_integer_value(v);
			if (key[0] == 'm')
				c->mbufs = x;
			else if (key[0] == 'r')
				c->rx_desc = x;
			else
				c->tx_desc = x;
		} else if (strcmp(key, "guard") == 0) {
			if ((rc = parse_guard(v, c, err, n)))
				goto out;
		} else if (strcmp(key, "idle_sleep_us") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > MM_IDLE_SLEEP_US_MAX) {
				rc = cfg_fail(err, n, "idle_sleep_us must be an integer in 0..%d",
					      MM_IDLE_SLEEP_US_MAX);
				goto out;
			}
			c->idle_sleep_us = (uint32_t)json_integer_value(v);
		} else if (strcmp(key, "drain_timeout_s") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > MM_DRAIN_TIMEOUT_MAX) {
				rc = cfg_fail(err, n, "drain_timeout_s must be an integer in 0..%d",
					      MM_DRAIN_TIMEOUT_MAX);
				goto out;
			}
			c->drain_timeout_s = (uint32_t)json_integer_value(v);
		} else if (strcmp(key, "log_level") == 0) {
			enum mm_log_level l;
			if (!json_is_string(v) || mm_log_level_parse(json_string_value(v), &l)) {
				rc = cfg_fail(err, n, "log_level must be \"error\", \"warn\", \"info\" "
					      "or \"debug\"");
				goto out;
			}
			c->log_level = (int)l;
		} else if (strcmp(key, "log_format") == 0) {
			enum mm_log_format f;
			if (!json_is_string(v) || mm_log_format_parse(json_string_value(v), &f)) {
				rc = cfg_fail(err, n, "log_format must be \"logfmt\" or \"json\"");
				goto out;
			}
			c->log_format = (int)f;
		} else {
			rc = cfg_fail(err, n, "unknown configuration key \"%s\"", key);
			goto out;
		}
	}
	if (c->dp.n_ports == 0)
		rc = cfg_fail(err, n, "%s: ports is required", path);
out:
	json_decref(root);
	return rc;
}
