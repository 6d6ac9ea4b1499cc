/* Local argument checks: nothing is sent when they fail (exit 2). */
#include "control/mmctl/mmctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("mmctl: usage: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (mmctl --help lists the commands)\n", stderr);
	return MMCTL_EUSAGE;
}

int arg_int(const char *what, const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return usage_error("%s: \"%s\" is not an integer", what, s ? s : "");
	long long v = strtoll(s, &end, 10);
	if (*end)
		return usage_error("%s: \"%s\" is not an integer", what, s);
	if (errno == ERANGE || v < lo || v > hi)
		return usage_error("%s: %s is out of range %lld..%lld", what, s, lo, hi);
	*out = v;
	return 0;
}

int arg_addr_port(const char *what, const char *s, char *addr, size_t cap, int *port)
{
	unsigned char bin[16];
	const char *colon, *a = s;
	size_t alen;
	int family = AF_INET;
	long long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return usage_error("%s: \"%s\" is not [IPv6]:PORT", what, s);
		a = s + 1;
		alen = (size_t)(close - a);
		colon = close + 1;
		family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return usage_error("%s: \"%s\" has no :PORT (ADDR:PORT or [IPv6]:PORT)",
					   what, s);
		if (strchr(s, ':') != colon)
			return usage_error("%s: \"%s\": an IPv6 address goes in brackets, "
					   "[ADDR]:PORT", what, s);
		alen = (size_t)(colon - s);
	}
	if (alen == 0 || alen >= cap)
		return usage_error("%s: \"%s\" has no valid address", what, s);
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (inet_pton(family, addr, bin) != 1)
		return usage_error("%s: \"%s\" is not an IP%s address", what, addr,
				   family == AF_INET ? "v4" : "v6");
	if (arg_int(what, colon + 1, 1, 65535, &p))
		return MMCTL_EUSAGE;
	*port = (int)p;
	return 0;
}

int arg_choice(const char *what, const char *s, const char *const *choices)
{
	char list[256] = "";
	for (const char *const *c = choices; *c; c++) {
		if (!strcmp(s, *c))
			return 0;
		if (strlen(list) + strlen(*c) + 2 < sizeof(list)) {
			if (c != choices)
				strcat(list, "|");
			strcat(list, *c);
		}
	}
	return usage_error("%s: \"%s\" is not one of %s", what, s, list);
}

int arg_len(const char *what, const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return usage_error("%s: must be %zu..%zu bytes (is %zu)", what, lo, hi, n);
	return 0;
}

static struct opt *opt_find(struct opt *o, size_t nopt, const char *arg, size_t len)
{
	for (size_t i = 0; i < nopt; i++)
		if (strlen(o[i].name) == len && !strncmp(o[i].name, arg, len))
			return &o[i];
	return NULL;
}

int opts_parse(const char *syn, int argc, char **argv, struct opt *o, size_t nopt,
	       const char **pos, int npos_min, int npos_max, int *npos)
{
	bool only_pos = false;
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && !strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (only_pos || strncmp(a, "--", 2) || !a[2]) {
			if (*npos >= npos_max)
				return usage_error("unexpected argument \"%s\"; %s", a, syn);
			pos[(*npos)++] = a;
			continue;
		}
		const char *eq = strchr(a, '=');
		struct opt *op = opt_find(o, nopt, a, eq ? (size_t)(eq - a) : strlen(a));
		if (!op)
			return usage_error("unknown option %.*s; %s",
					   eq ? (int)(eq - a) : (int)strlen(a), a, syn);
		if (!op->has_value && eq)
			return usage_error("%s takes no value", op->name);
		if (op->has_value && !eq && i + 1 >= argc)
			return usage_error("%s needs a value", op->name);
		op->seen++;
		if (op->has_value)
			op->value = eq ? eq + 1 : argv[++i];
	}
	if (*npos < npos_min)
		return usage_error("missing argument%s; %s", npos_min - *npos > 1 ? "s" : "", syn);
	return 0;
}
