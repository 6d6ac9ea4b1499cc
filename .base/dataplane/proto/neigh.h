/* Address resolution for mmdp's own addresses: ARP (RFC 826) requests and
 * IPv6 neighbour solicitations (RFC 4861) in, replies out. A kernel-bypass
 * port has no kernel to answer them; without this the router in front of
 * mmdp would need static neighbour entries. */
#ifndef MM_NEIGH_H
#define MM_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proto/net.h"

#define NET_ETHERTYPE_ARP 0x0806
#define NET_ETHERTYPE_IPV6 0x86DD
#define NET_ARP_FRAME_LEN 42 /* Ethernet + ARP for IPv4, unpadded */
#define NET_NA_FRAME_LEN 86  /* Ethernet + IPv6 + NA with target LL option */

struct net_arp {
	uint16_t op; /* 1 request, 2 reply */
	uint8_t sha[6];
	struct net_addr spa; /* IPv4-mapped */
	uint8_t tha[6];
	struct net_addr tpa; /* IPv4-mapped */
};

/* Parse an Ethernet frame carrying ARP for IPv4 over Ethernet.
 * -EPROTO: not ARP; -ENODATA: truncated; -EBADMSG: not Ethernet/IPv4 ARP. */
int net_arp_parse(const uint8_t *frame, size_t len, struct net_arp *out);

/* Write the reply to req, from my_mac/my_ip, into buf (NET_ARP_FRAME_LEN
 * bytes). Returns the length. */
size_t net_arp_reply(uint8_t *buf, const uint8_t my_mac[6], const struct net_addr *my_ip,
		     const struct net_arp *req);

struct net_ns {
	uint8_t src_mac[6];    /* Ethernet source */
	struct net_addr src;   /* IPv6 source (may be :: for DAD) */
	struct net_addr target;
	bool has_slla;
	uint8_t slla[6];       /* source link-layer address option */
};

/* Parse an ICMPv6 neighbour solicitation: IPv6 next header 58 directly,
 * hop limit 255, ICMPv6 checksum valid, type 135 code 0, options well
 * formed (RFC 4861 7.1.1). -EPROTO: not an NS; -ENODATA: truncated;
 * -EBADMSG: invalid. */
int net_ns_parse(const uint8_t *frame, size_t len, struct net_ns *out);

/* Write the solicited neighbour advertisement for ns (target = ns->target,
 * which the caller has checked is its own) into buf (NET_NA_FRAME_LEN
 * bytes). Returns the length, or 0 for a DAD probe (unspecified source),
 * which gets no answer. */
size_t net_na_build(uint8_t *buf, const uint8_t my_mac[6], const struct net_ns *ns);

#endif
