/* Ethernet / IPv4 / IPv6 / UDP parsing and header building for the
 * forwarding path. Pure code over byte buffers (no DPDK). */
#ifndef MM_NET_H
#define MM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/proto/drop_reason.h"

#define NET_ETH_HLEN 14
#define NET_IP4_HLEN 20
#define NET_IP6_HLEN 40
#define NET_UDP_HLEN 8

/* IP addresses are kept as 16 bytes; IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d) so one key layout serves both families. */
struct net_addr {
	uint8_t b[16];
};

struct net_udp {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t family;  /* 4 or 6 */
	uint8_t ttl;     /* TTL / hop limit */
	struct net_addr src, dst;
	uint16_t sport, dport; /* host byte order */
	uint16_t payload_off;  /* UDP payload offset in the frame */
	uint16_t payload_len;  /* UDP payload bytes: UDP length field - 8 */
};

/* Parse an Ethernet frame carrying UDP over IPv4 or IPv6 (one optional
 * 802.1Q tag is skipped). Returns 0, or a positive enum mm_drop_reason:
 * L2_MALFORMED, L3_UNSUPPORTED, L3_MALFORMED, L3_FRAGMENT, L4_UNSUPPORTED,
 * L4_MALFORMED. IPv4 header checksum and UDP length are verified; trailing
 * Ethernet padding beyond the IP length is ignored. */
int net_parse_udp(const uint8_t *frame, size_t len, struct net_udp *out);

/* What net_write_udp writes before a payload. */
struct net_udp_tx {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t family; /* 4 or 6 */
	/* IPv4 only: send a zero UDP checksum ("none", RFC 768), for payloads
	 * that carry their own integrity (SRTP). IPv6 always has one. */
	uint8_t no_udp_csum4;
	struct net_addr src, dst;
	uint16_t sport, dport;
};

/* Header length (Ethernet + IP + UDP) for a family. */
static inline size_t net_udp_hdr_len(uint8_t family)
{
	return NET_ETH_HLEN + (family == 6 ? NET_IP6_HLEN : NET_IP4_HLEN) + NET_UDP_HLEN;
}

/* Write Ethernet, IP and UDP headers into frame, whose payload of
 * payload_len bytes already sits at frame + net_udp_hdr_len(family).
 * Computes the IPv4 header checksum and the UDP checksum (mandatory for
 * IPv6; for IPv4 unless no_udp_csum4). Returns the whole frame length. */
size_t net_write_udp(uint8_t *frame, const struct net_udp_tx *tx, size_t payload_len);

/* Internet checksum of an L4 segment (UDP, ICMPv6, ...) with its pseudo
 * header; the family follows src (IPv4-mapped: IPv4). Over a segment whose
 * checksum field is zero it is the value to store (network order, as a
 * host integer); over a segment with its checksum in place it is 0 when
 * that checksum is right. */
uint16_t net_l4_checksum(const struct net_addr *src, const struct net_addr *dst, uint8_t proto,
			 const uint8_t *l4, size_t len);

/* Address helpers. */
int net_addr_parse(const char *s, struct net_addr *out, uint8_t *family);
const char *net_addr_format(const struct net_addr *a, char *buf, size_t cap);
int net_mac_parse(const char *s, uint8_t mac[6]);
static inline int net_addr_is_v4(const struct net_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	for (int i = 0; i < 12; i++)
		if (a->b[i] != pfx[i])
			return 0;
	return 1;
}

#endif
