/* mmctld's configuration: JSON file, every key optional except
 * media_address; unknown keys are refused so typos do not pass silently. */
#include "control/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dataplane/core/srtp.h"

static void config_defaults(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "127.0.0.1:9464");
	snprintf(c->db, sizeof(c->db), "/var/lib/mmctld/mmctld.db");
	snprintf(c->mmdp_socket, sizeof(c->mmdp_socket), "/run/mmdp/agent.sock");
	c->port_lo = 40000;
	c->port_hi = 49999;
	snprintf(c->srtp_profile, sizeof(c->srtp_profile), "AEAD_AES_128_GCM");
	snprintf(c->www_root, sizeof(c->www_root), "%s", CTL_WWW_ROOT);
	c->webhook_retry_base_ms = 1000;
	c->webhook_max_attempts = 8;
	c->report_sample_ms = 5000;
	c->trial_days = 30;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	snprintf(c->log_format, sizeof(c->log_format), "logfmt");
	c->drain_timeout_s = 600;
}

/* An integer key in [lo, hi]. */
static int config_int(json_t *v, const char *key, long long lo, long long hi, int *dst,
		      char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s: must be an integer in %lld..%lld", key, lo, hi);
		return -EINVAL;
	}
	*dst = (int)json_integer_value(v);
	return 0;
}

static int config_string(json_t *v, const char *key, char *dst, size_t cap,
			 char *err, size_t errlen)
{
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: must be a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) == 0 || json_string_length(v) >= cap) {
		snprintf(err, errlen, "%s: must be 1..%zu characters", key, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int config_range(json_t *v, struct ctl_config *c, char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1))) {
		snprintf(err, errlen, "port_range: must be [first, last] (integers)");
		return -EINVAL;
	}
	json_int_t lo = json_integer_value(json_array_get(v, 0));
	json_int_t hi = json_integer_value(json_array_get(v, 1));
	if (lo < 1 || hi > 65535 || lo > hi) {
		snprintf(err, errlen, "port_range: need 1 <= first <= last <= 65535");
		return -EINVAL;
	}
	c->port_lo = (int)lo;
	c->port_hi = (int)hi;
	return 0;
}

/* An array of CIDR strings ("10.0.0.0/8", "2001:db8::/32", a bare address). */
static int config_nets(json_t *v, const char *key, struct ctl_net *nets, size_t max, size_t *n,
		       char *err, size_t errlen)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v) || json_array_size(v) > max) {
		snprintf(err, errlen, "%s: must be an array of at most %zu CIDR strings", key, max);
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || ctl_net_parse(json_string_value(e), &nets[i])) {
			snprintf(err, errlen, "%s[%zu]: not a net like \"10.0.0.0/8\" or "
				 "\"2001:db8::/32\" (no host bits past the prefix)", key, i);
			return -EINVAL;
		}
	}
	*n = json_array_size(v);
	return 0;
}

int ctl_config_load(const char *path, struct ctl_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *key;
	json_t *v;
	int rc = 0;

	config_defaults(c);
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s: line %d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: must be a JSON object", path);
		rc = -EINVAL;
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "listen"))
			rc = config_string(v, key, c->listen, sizeof(c->listen), err, errlen);
		else if (!strcmp(key, "metrics_listen") && json_is_string(v) &&
			 !json_string_length(v))
			c->metrics_listen[0] = '\0';   /* "": no metrics listener */
		else if (!strcmp(key, "metrics_listen"))
			rc = config_string(v, key, c->metrics_listen, sizeof(c->metrics_listen),
					   err, errlen);
		else if (!strcmp(key, "db"))
			rc = config_string(v, key, c->db, sizeof(c->db), err, errlen);
		else if (!strcmp(key, "key_file"))
			rc = config_string(v, key, c->key_file, sizeof(c->key_file), err, errlen);
		else if (!strcmp(key, "mmdp_socket"))
			rc = config_string(v, key, c->mmdp_socket, sizeof(c->mmdp_socket), err, errlen);
		else if (!strcmp(key, "media_address"))
			rc = config_string(v, key, c->media_address, sizeof(c->media_address), err, errlen);
		else if (!strcmp(key, "srtp_profile"))
			rc = config_string(v, key, c->srtp_profile, sizeof(c->srtp_profile), err, errlen);
		else if (!strcmp(key, "www_root"))
			rc = config_string(v, key, c->www_root, sizeof(c->www_root), err, errlen);
		else if (!strcmp(key, "port_range"))
			rc = config_range(v, c, err, errlen);
		else if (!strcmp(key, "test_clock")) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen, "test_clock: must be true or false");
				rc = -EINVAL;
			} else {
				c->test_clock = json_is_true(v);
			}
		}
		else if (!strcmp(key, "webhook_retry_base_ms"))
			rc = config_int(v, key, 1, 3600000, &c->webhook_retry_base_ms, err, errlen);
		else if (!strcmp(key, "webhook_max_attempts"))
			rc = config_int(v, key, 1, 100, &c->webhook_max_attempts, err, errlen);
		else if (!strcmp(key, "webhook_allow_nets"))
			rc = config_nets(v, key, c->webhook_allow, CTL_ALLOW_NETS_MAX, &c->n_webhook_allow,
					 err, errlen);
		else if (!strcmp(key, "report_sample_ms"))
			rc = config_int(v, key, 200, 60000, &c->report_sample_ms, err, errlen);
		else if (!strcmp(key, "trial_days"))
			rc = config_int(v, key, 1, 3650, &c->trial_days, err, errlen);
		else if (!strcmp(key, "drain_timeout_s"))
			rc = config_int(v, key, 0, 86400, &c->drain_timeout_s, err, errlen);
		else if (!strcmp(key, "log_level")) {
			enum mm_log_level l;
			if (!json_is_string(v) || mm_log_level_parse(json_string_value(v), &l)) {
				snprintf(err, errlen, "log_level: must be \"error\", \"warn\", "
					 "\"info\" or \"debug\"");
				rc = -EINVAL;
			} else {
				snprintf(c->log_level, sizeof(c->log_level), "%s", mm_log_level_name(l));
			}
		} else if (!strcmp(key, "log_format")) {
			enum mm_log_format f;
			if (!json_is_string(v) || mm_log_format_parse(json_string_value(v), &f)) {
				snprintf(err, errlen, "log_format: must be \"logfmt\" or \"json\"");
				rc = -EINVAL;
			} else {
				snprintf(c->log_format, sizeof(c->log_format), "%s",
					 json_string_value(v));
			}
		}
		else {
			snprintf(err, errlen, "%s: unknown key \"%s\"", path, key);
			rc = -EINVAL;
		}
		if (rc)
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

void ctl_config_reload(struct ctl_config *cur, const struct ctl_config *next,
		       void (*ignored)(void *arg, const char *key), void *arg)
{
	/* What the daemon opened, bound or handed out at start: a change
	 * needs a restart. */
#define FIXED_STR(k) do { if (strcmp(cur->k, next->k)) ignored(arg, #k); } while (0)
	FIXED_STR(listen);
	FIXED_STR(db);
	FIXED_STR(key_file);
	FIXED_STR(mmdp_socket);
	FIXED_STR(media_address);
	FIXED_STR(srtp_profile);
	FIXED_STR(www_root);
#undef FIXED_STR
	if (cur->port_lo != next->port_lo || cur->port_hi != next->port_hi)
		ignored(arg, "port_range");
	if (cur->test_clock != next->test_clock)
		ignored(arg, "test_clock");
	/* Read where they are used, each time. */
	memcpy(cur->log_level, next->log_level, sizeof(cur->log_level));
	memcpy(cur->log_format, next->log_format, sizeof(cur->log_format));
	cur->drain_timeout_s = next->drain_timeout_s;
	cur->webhook_retry_base_ms = next->webhook_retry_base_ms;
	cur->webhook_max_attempts = next->webhook_max_attempts;
	cur->report_sample_ms = next->report_sample_ms;
	cur->trial_days = next->trial_days;
}

int ctl_config_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return 0;
}

int ctl_config_check(const struct ctl_config *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char buf[16];
	enum mm_srtp_profile p;

	if (ctl_config_parse_listen(c->listen, &ss, &len)) {
		snprintf(err, errlen, "listen: \"%s\" is not ADDR:PORT", c->listen);
		return -EINVAL;
	}
	if (c->metrics_listen[0] && ctl_config_parse_listen(c->metrics_listen, &ss, &len)) {
		snprintf(err, errlen, "metrics_listen: \"%s\" is not ADDR:PORT (or \"\" for none)",
			 c->metrics_listen);
		return -EINVAL;
	}
	if (c->metrics_listen[0] && !strcmp(c->metrics_listen, c->listen)) {
		snprintf(err, errlen, "metrics_listen: must not be the API's listen address");
		return -EINVAL;
	}
	if (!c->media_address[0]) {
		snprintf(err, errlen, "media_address: required (mmdp's address participants send to)");
		return -EINVAL;
	}
	if (inet_pton(AF_INET, c->media_address, buf) != 1 &&
	    inet_pton(AF_INET6, c->media_address, buf) != 1) {
		snprintf(err, errlen, "media_address: \"%s\" is not an IP address", c->media_address);
		return -EINVAL;
	}
	if (mm_srtp_profile_parse(c->srtp_profile, &p) || p == MM_SRTP_NONE) {
		snprintf(err, errlen, "srtp_profile: unknown profile \"%s\"", c->srtp_profile);
		return -EINVAL;
	}
	if (!c->db[0] || !c->mmdp_socket[0]) {
		snprintf(err, errlen, "db and mmdp_socket must not be empty");
		return -EINVAL;
	}
	return 0;
}
