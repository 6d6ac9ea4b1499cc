/* Token material and scopes. */
#include "control/auth.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int ctl_random(void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((char *)buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

static void auth_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int ctl_random_id(const char *prefix, size_t nbytes, char *out, size_t cap)
{
	unsigned char raw[32];
	size_t pl = strlen(prefix);
	if (nbytes > sizeof(raw) || pl + 2 * nbytes + 1 > cap)
		return -ENOSPC;
	int rc = ctl_random(raw, nbytes);
	if (rc)
		return rc;
	memcpy(out, prefix, pl);
	auth_hex(raw, nbytes, out + pl);
	return 0;
}

int ctl_token_generate(char *out, size_t cap)
{
	return ctl_random_id("mmt_", 32, out, cap);
}

int ctl_token_hash(const char *token, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	auth_hex(md, mdlen, hex);
	return 0;
}

int ctl_name_check(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

int ctl_scope_parse(const char *s, struct ctl_scope *out)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "operator")) {
		out->kind = CTL_SCOPE_OPERATOR;
		return 0;
	}
	if (!strncmp(s, "tenant:", 7)) {
		if (ctl_name_check(s + 7, sizeof(out->tenant)))
			return -EINVAL;
		out->kind = CTL_SCOPE_TENANT;
		snprintf(out->tenant, sizeof(out->tenant), "%s", s + 7);
		return 0;
	}
	if (!strncmp(s, "participant:", 12)) {
		const char *slash = strchr(s + 12, '/');
		size_t rl = slash ? (size_t)(slash - (s + 12)) : 0;
		if (!slash || rl == 0 || rl >= sizeof(out->room))
			return -EINVAL;
		memcpy(out->room, s + 12, rl);
		out->room[rl] = '\0';
		if (ctl_name_check(out->room, sizeof(out->room)) ||
		    ctl_name_check(slash + 1, sizeof(out->participant)))
			return -EINVAL;
		snprintf(out->participant, sizeof(out->participant), "%s", slash + 1);
		out->kind = CTL_SCOPE_PARTICIPANT;
		return 0;
	}
	return -EINVAL;
}

int ctl_scope_format(const struct ctl_scope *sc, char *out, size_t cap)
{
	int n;
	switch (sc->kind) {
	case CTL_SCOPE_OPERATOR:
		n = snprintf(out, cap, "operator");
		break;
	case CTL_SCOPE_TENANT:
		n = snprintf(out, cap, "tenant:%s", sc->tenant);
		break;
	default:
		n = snprintf(out, cap, "participant:%s/%s", sc->room, sc->participant);
		break;
	}
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
