/* Where mmctld's webhooks may connect (SSRF): a tenant registers any URL
 * it likes, and mmctld, inside the carrier's network, would POST to it.
 * Destinations in loopback, private, link-local, shared (CGNAT),
 * benchmarking, multicast and other special-purpose ranges are refused
 * unless a net of the config's webhook_allow_nets holds them (the
 * operator's own receivers). Checked on the address curl is about to
 * connect to, after DNS, so a name that resolves to 127.0.0.1 is caught
 * too; an IP literal is also refused when the webhook is created. */
#ifndef CTL_NETPOLICY_H
#define CTL_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CTL_ALLOW_NETS_MAX 32

struct ctl_net {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t bits;     /* prefix length over the 128 bits */
};

/* "10.1.0.0/16", "2001:db8::/32" or a bare address (a host). 0 or -EINVAL. */
int ctl_net_parse(const char *cidr, struct ctl_net *n);

/* Whether a webhook may connect to sa (AF_INET or AF_INET6). When not,
 * *why says which range refused it (a static string). */
bool ctl_webhook_dest_allowed(const struct sockaddr *sa, const struct ctl_net *allow,
			      size_t n_allow, const char **why);

/* The same for an address as text (an IP literal in a URL's host, with or
 * without [brackets]); a name that is not an address is allowed here
 * (checked when curl connects). */
bool ctl_webhook_host_allowed(const char *host, const struct ctl_net *allow, size_t n_allow,
			      const char **why);

#endif
