/* Webhook destinations: see netpolicy.h. */
#include "control/netpolicy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Special-purpose ranges (IANA's registries, RFC 6890 and successors) a
 * webhook has no business reaching. IPv4 ones are written as IPv4 and
 * matched on IPv4-mapped addresses; IPv4 embedded in NAT64 (64:ff9b::/96)
 * and mapped addresses are checked as the IPv4 address they carry. */
static const struct {
	const char *net;
	const char *why;
} blocked[] = {
	{ "0.0.0.0/8", "this network (0.0.0.0/8)" },
	{ "10.0.0.0/8", "private (10.0.0.0/8)" },
	{ "100.64.0.0/10", "shared address space (100.64.0.0/10)" },
	{ "127.0.0.0/8", "loopback (127.0.0.0/8)" },
	{ "169.254.0.0/16", "link-local (169.254.0.0/16)" },
	{ "172.16.0.0/12", "private (172.16.0.0/12)" },
	{ "192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)" },
	{ "192.0.2.0/24", "documentation (192.0.2.0/24)" },
	{ "192.168.0.0/16", "private (192.168.0.0/16)" },
	{ "198.18.0.0/15", "benchmarking (198.18.0.0/15)" },
	{ "198.51.100.0/24", "documentation (198.51.100.0/24)" },
	{ "203.0.113.0/24", "documentation (203.0.113.0/24)" },
	{ "224.0.0.0/4", "multicast (224.0.0.0/4)" },
	{ "240.0.0.0/4", "reserved (240.0.0.0/4)" },
	{ "::/128", "unspecified (::)" },
	{ "::1/128", "loopback (::1)" },
	{ "100::/64", "discard-only (100::/64)" },
	{ "2001::/23", "IETF protocol assignments (2001::/23)" },
	{ "2001:db8::/32", "documentation (2001:db8::/32)" },
	{ "fc00::/7", "unique local (fc00::/7)" },
	{ "fe80::/10", "link-local (fe80::/10)" },
	{ "ff00::/8", "multicast (ff00::/8)" },
};

int ctl_net_parse(const char *cidr, struct ctl_net *n)
{
	char buf[64];
	if (!cidr || strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", cidr);
	char *slash = strchr(buf, '/');
	long bits = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end)
			return -EINVAL;
	}
	memset(n, 0, sizeof(*n));
	struct in_addr a4;
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (bits > 32)
			return -EINVAL;
		n->addr[10] = n->addr[11] = 0xff;
		memcpy(n->addr + 12, &a4, 4);
		n->bits = (uint8_t)(96 + (bits < 0 ? 32 : bits));
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		if (bits > 128)
			return -EINVAL;
		n->bits = (uint8_t)(bits < 0 ? 128 : bits);
	} else {
		return -EINVAL;
	}
	/* No host bits past the prefix: "10.1.2.3/8" is a typo, not a net. */
	for (int i = n->bits; i < 128; i++)
		if (n->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

static bool net_has(const struct ctl_net *n, const uint8_t a[16])
{
	int full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(n->addr, a, (size_t)full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

/* a as 16 bytes, IPv4 mapped; IPv4 carried in NAT64 or in the deprecated
 * IPv4-compatible form is unwrapped to its mapped form too. */
static bool addr16(const struct sockaddr *sa, uint8_t a[16])
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	memset(a, 0, 16);
	if (sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	if (!memcmp(a, nat64, 12)) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
	}
	return true;
}

static bool allowed16(const uint8_t a[16], const struct ctl_net *allow, size_t n_allow,
		      const char **why)
{
	for (size_t i = 0; i < n_allow; i++)
		if (net_has(&allow[i], a))
			return true;
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		struct ctl_net n;
		if (ctl_net_parse(blocked[i].net, &n) == 0 && net_has(&n, a)) {
			if (why)
				*why = blocked[i].why;
			return false;
		}
	}
	return true;
}

bool ctl_webhook_dest_allowed(const struct sockaddr *sa, const struct ctl_net *allow,
			      size_t n_allow, const char **why)
{
	uint8_t a[16];
	if (!addr16(sa, a)) {
		if (why)
			*why = "not an IPv4 or IPv6 address";
		return false;
	}
	return allowed16(a, allow, n_allow, why);
}

bool ctl_webhook_host_allowed(const char *host, const struct ctl_net *allow, size_t n_allow,
			      const char **why)
{
	char buf[64];
	size_t len = host ? strlen(host) : 0;
	if (!len || len >= sizeof(buf))
		return true;
	if (host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)len, host);
	char *zone = strchr(buf, '%'); /* fe80::1%eth0 */
	if (zone)
		*zone = '\0';
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, buf, &s4.sin_addr) == 1)
		return ctl_webhook_dest_allowed((struct sockaddr *)&s4, allow, n_allow, why);
	if (inet_pton(AF_INET6, buf, &s6.sin6_addr) == 1)
		return ctl_webhook_dest_allowed((struct sockaddr *)&s6, allow, n_allow, why);
	return true;
}
