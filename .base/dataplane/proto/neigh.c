/* ARP and IPv6 neighbour discovery for mmdp's own addresses. */
#include "dataplane/proto/neigh.h"

#include <errno.h>
#include <string.h>

#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void v4_mapped(struct net_addr *a, const uint8_t *v4)
{
	memset(a->b, 0, 10);
	a->b[10] = a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

int net_arp_parse(const uint8_t *frame, size_t len, struct net_arp *out)
{
	if (len < NET_ETH_HLEN)
		return -ENODATA;
	if (rd16(frame + 12) != NET_ETHERTYPE_ARP)
		return -EPROTO;
	if (len < NET_ARP_FRAME_LEN)
		return -ENODATA;
	const uint8_t *a = frame + NET_ETH_HLEN;
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4 */
	if (rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
		return -EBADMSG;
	out->op = rd16(a + 6);
	memcpy(out->sha, a + 8, 6);
	v4_mapped(&out->spa, a + 14);
	memcpy(out->tha, a + 18, 6);
	v4_mapped(&out->tpa, a + 24);
	return 0;
}

size_t net_arp_reply(uint8_t *buf, const uint8_t my_mac[6], const struct net_addr *my_ip,
		     const struct net_arp *req)
{
	memcpy(buf, req->sha, 6);
	memcpy(buf + 6, my_mac, 6);
	wr16(buf + 12, NET_ETHERTYPE_ARP);
	uint8_t *a = buf + NET_ETH_HLEN;
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 2);
	memcpy(a + 8, my_mac, 6);
	memcpy(a + 14, my_ip->b + 12, 4);
	memcpy(a + 18, req->sha, 6);
	memcpy(a + 24, req->spa.b + 12, 4);
	return NET_ARP_FRAME_LEN;
}

int net_ns_parse(const uint8_t *frame, size_t len, struct net_ns *out)
{
	if (len < NET_ETH_HLEN)
		return -ENODATA;
	if (rd16(frame + 12) != NET_ETHERTYPE_IPV6)
		return -EPROTO;
	if (len < NET_ETH_HLEN + NET_IP6_HLEN)
		return -ENODATA;
	const uint8_t *ip = frame + NET_ETH_HLEN;
	if ((ip[0] >> 4) != 6)
		return -EBADMSG;
	if (ip[6] != 58)
		return -EPROTO;
	size_t plen = rd16(ip + 4);
	if (len < NET_ETH_HLEN + NET_IP6_HLEN + plen)
		return -ENODATA;
	const uint8_t *icmp = ip + NET_IP6_HLEN;
	if (plen < 24 || icmp[0] != ICMP6_NS)
		return plen >= 1 && icmp[0] != ICMP6_NS ? -EPROTO : -EBADMSG;
	if (icmp[1] != 0 || ip[7] != 255)
		return -EBADMSG;
	memcpy(out->src.b, ip + 8, 16);
	struct net_addr dst;
	memcpy(dst.b, ip + 24, 16);
	if (net_l4_checksum(&out->src, &dst, 58, icmp, plen) != 0)
		return -EBADMSG;
	memcpy(out->src_mac, frame + 6, 6);
	memcpy(out->target.b, icmp + 8, 16);
	if (out->target.b[0] == 0xff)
		return -EBADMSG; /* multicast target */
	out->has_slla = false;
	for (size_t off = 24; off < plen;) {
		if (plen - off < 2 || icmp[off + 1] == 0 || plen - off < (size_t)icmp[off + 1] * 8)
			return -EBADMSG;
		if (icmp[off] == ND_OPT_SLLA && icmp[off + 1] == 1) {
			out->has_slla = true;
			memcpy(out->slla, icmp + off + 2, 6);
		}
		off += (size_t)icmp[off + 1] * 8;
	}
	static const uint8_t unspec[16];
	if (memcmp(out->src.b, unspec, 16) == 0 && out->has_slla)
		return -EBADMSG; /* RFC 4861 7.1.1 */
	return 0;
}

size_t net_na_build(uint8_t *buf, const uint8_t my_mac[6], const struct net_ns *ns)
{
	static const uint8_t unspec[16];
	if (memcmp(ns->src.b, unspec, 16) == 0)
		return 0;
	memcpy(buf, ns->has_slla ? ns->slla : ns->src_mac, 6);
	memcpy(buf + 6, my_mac, 6);
	wr16(buf + 12, NET_ETHERTYPE_IPV6);
	uint8_t *ip = buf + NET_ETH_HLEN;
	memset(ip, 0, NET_IP6_HLEN);
	ip[0] = 0x60;
	wr16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, ns->target.b, 16);
	memcpy(ip + 24, ns->src.b, 16);
	uint8_t *icmp = ip + NET_IP6_HLEN;
	memset(icmp, 0, 32);
	icmp[0] = ICMP6_NA;
	icmp[4] = 0x60; /* Solicited, Override */
	memcpy(icmp + 8, ns->target.b, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, my_mac, 6);
	uint16_t c = net_l4_checksum(&ns->target, &ns->src, 58, icmp, 32);
	wr16(icmp + 2, c);
	return NET_NA_FRAME_LEN;
}
