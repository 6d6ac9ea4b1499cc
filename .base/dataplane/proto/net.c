/* Ethernet / IPv4 / IPv6 / UDP parsing and header building. See net.h. */
#include "dataplane/proto/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ETH_TYPE_IPV4 0x0800u
#define ETH_TYPE_IPV6 0x86DDu
#define ETH_TYPE_VLAN 0x8100u
#define VLAN_TAG_LEN 4u
#define IP_PROTO_UDP 17u
#define IP4_FLAG_DF 0x4000u
#define IP4_FRAG_MASK 0x3FFFu /* MF flag and fragment offset */
#define TX_TTL 64u
#define MAC_TEXT_LEN 17u /* "aa:bb:cc:dd:ee:ff" */

#define IP6_NH_FRAGMENT 44

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) ---------------------------------------
 * The ones' complement sum does not depend on byte order, so words are
 * loaded in host order (memcpy: no alignment assumption) and the folded
 * result is stored back the same way. Each call must start at an even
 * offset of the checksummed data; an odd last byte is the high-order byte
 * of a zero-padded word. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w[8];

	/* Four independent accumulators: the adds do not wait for each other
	 * (this runs over every forwarded copy). 32-bit words summed in 64
	 * bits cannot overflow before 2^32 words. */
	uint64_t a = 0, b = 0, c = 0, d = 0;
	while (len >= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		a += (uint64_t)w[0] + w[4];
		b += (uint64_t)w[1] + w[5];
		c += (uint64_t)w[2] + w[6];
		d += (uint64_t)w[3] + w[7];
		p += sizeof(w);
		len -= sizeof(w);
	}
	sum += a + b + c + d;
	while (len >= 4) {
		memcpy(w, p, 4);
		sum += w[0];
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0};
		uint16_t h;
		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFFu) + (sum >> 16);
	sum = (sum & 0xFFFFu) + (sum >> 16);
	return (uint16_t)sum;
}

/* Store a checksum computed by csum_fold at p (network order). */
static void csum_store(uint8_t *p, uint16_t folded)
{
	memcpy(p, &folded, 2);
}

uint16_t net_l4_checksum(const struct net_addr *src, const struct net_addr *dst, uint8_t proto,
			 const uint8_t *l4, size_t len)
{
	uint64_t sum;
	if (net_addr_is_v4(src)) {
		/* Pseudo-header: addresses, zero, protocol, length. */
		const uint8_t ph[4] = {0, proto, (uint8_t)(len >> 8), (uint8_t)len};
		sum = csum_add(0, src->b + 12, 4);
		sum = csum_add(sum, dst->b + 12, 4);
		sum = csum_add(sum, ph, sizeof(ph));
	} else {
		/* Pseudo-header: addresses, 32-bit length, zeros, next header. */
		const uint8_t ph[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				       (uint8_t)len, 0, 0, 0, proto};
		sum = csum_add(0, src->b, 16);
		sum = csum_add(sum, dst->b, 16);
		sum = csum_add(sum, ph, sizeof(ph));
	}
	uint16_t c = (uint16_t)~csum_fold(csum_add(sum, l4, len));
	uint8_t b[2];
	memcpy(b, &c, 2); /* folded in load order: its bytes are network order */
	return rd16(b);
}

/* ---- Parsing ------------------------------------------------------------ */

static void addr_from_v4(struct net_addr *a, const uint8_t *v4)
{
	memset(a->b, 0, 10);
	a->b[10] = 0xFF;
	a->b[11] = 0xFF;
	memcpy(a->b + 12, v4, 4);
}

/* The UDP header at udp, with avail octets of IP payload behind it. The
 * UDP length may be shorter than the IP payload (RFC 9868 surplus area)
 * but not longer. The checksum is not verified: offloads may leave it
 * partial. */
static int parse_udp(const uint8_t *frame, const uint8_t *udp, size_t avail,
		     struct net_udp *out)
{
	if (avail < NET_UDP_HLEN)
		return MM_DROP_L4_MALFORMED;
	uint16_t ulen = rd16(udp + 4);
	if (ulen < NET_UDP_HLEN || ulen > avail)
		return MM_DROP_L4_MALFORMED;
	out->sport = rd16(udp);
	out->dport = rd16(udp + 2);
	out->payload_off = (uint16_t)(udp - frame + NET_UDP_HLEN);
	out->payload_len = (uint16_t)(ulen - NET_UDP_HLEN);
	return MM_DROP_NONE;
}

static int parse_ip4(const uint8_t *frame, const uint8_t *ip, size_t rem, struct net_udp *out)
{
	if (rem < NET_IP4_HLEN || (ip[0] >> 4) != 4)
		return MM_DROP_L3_MALFORMED;
	size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4u;
	if (ihl < NET_IP4_HLEN || ihl > rem)
		return MM_DROP_L3_MALFORMED;
	size_t total = rd16(ip + 2);
	if (total < ihl || total > rem)
		return MM_DROP_L3_MALFORMED;
	if (csum_fold(csum_add(0, ip, ihl)) != 0xFFFFu)
		return MM_DROP_L3_MALFORMED;
	if (rd16(ip + 6) & IP4_FRAG_MASK)
		return MM_DROP_L3_FRAGMENT;
	if (ip[9] != IP_PROTO_UDP)
		return MM_DROP_L4_UNSUPPORTED;
	out->family = 4;
	out->ttl = ip[8];
	addr_from_v4(&out->src, ip + 12);
	addr_from_v4(&out->dst, ip + 16);
	return parse_udp(frame, ip + ihl, total - ihl, out);
}

static int parse_ip6(const uint8_t *frame, const uint8_t *ip, size_t rem, struct net_udp *out)
{
	if (rem < NET_IP6_HLEN || (ip[0] >> 4) != 6)
		return MM_DROP_L3_MALFORMED;
	size_t plen = rd16(ip + 4);
	if (plen > rem - NET_IP6_HLEN)
		return MM_DROP_L3_MALFORMED;
	/* Only UDP right after the fixed header: extension headers are not
	 * supported; fragments are counted as such, as for IPv4. */
	if (ip[6] == IP6_NH_FRAGMENT)
		return MM_DROP_L3_FRAGMENT;
	if (ip[6] != IP_PROTO_UDP)
		return MM_DROP_L4_UNSUPPORTED;
	out->family = 6;
	out->ttl = ip[7];
	memcpy(out->src.b, ip + 8, 16);
	memcpy(out->dst.b, ip + 24, 16);
	return parse_udp(frame, ip + NET_IP6_HLEN, plen, out);
}

int net_parse_udp(const uint8_t *frame, size_t len, struct net_udp *out)
{
	if (len < NET_ETH_HLEN)
		return MM_DROP_L2_MALFORMED;
	memcpy(out->dst_mac, frame, 6);
	memcpy(out->src_mac, frame + 6, 6);
	size_t off = NET_ETH_HLEN;
	uint16_t type = rd16(frame + 12);
	if (type == ETH_TYPE_VLAN) {
		if (len < NET_ETH_HLEN + VLAN_TAG_LEN)
			return MM_DROP_L2_MALFORMED;
		type = rd16(frame + 16);
		off += VLAN_TAG_LEN;
	}
	/* A second tag (QinQ) falls here too: only one is supported. */
	switch (type) {
	case ETH_TYPE_IPV4:
		return parse_ip4(frame, frame + off, len - off, out);
	case ETH_TYPE_IPV6:
		return parse_ip6(frame, frame + off, len - off, out);
	default:
		return MM_DROP_L3_UNSUPPORTED;
	}
}

/* ---- Building ----------------------------------------------------------- */

size_t net_write_udp(uint8_t *frame, const struct net_udp_tx *tx, size_t payload_len)
{
	size_t ip_hlen;
	if (tx->family == 4)
		ip_hlen = NET_IP4_HLEN;
	else if (tx->family == 6)
		ip_hlen = NET_IP6_HLEN;
	else
		return 0;
	/* IPv4 total length / IPv6 payload length are 16 bits. */
	size_t udp_len = NET_UDP_HLEN + payload_len;
	if (payload_len > UINT16_MAX || udp_len + (tx->family == 4 ? ip_hlen : 0) > UINT16_MAX)
		return 0;

	memcpy(frame, tx->dst_mac, 6);
	memcpy(frame + 6, tx->src_mac, 6);
	wr16(frame + 12, tx->family == 4 ? ETH_TYPE_IPV4 : ETH_TYPE_IPV6);

	uint8_t *ip = frame + NET_ETH_HLEN;
	uint8_t *udp = ip + ip_hlen;
	if (tx->family == 4) {
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, (uint16_t)(ip_hlen + udp_len));
		wr16(ip + 4, 0);
		wr16(ip + 6, IP4_FLAG_DF);
		ip[8] = TX_TTL;
		ip[9] = IP_PROTO_UDP;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, tx->src.b + 12, 4);
		memcpy(ip + 16, tx->dst.b + 12, 4);
		csum_store(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, NET_IP4_HLEN)));
	} else {
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;
		wr16(ip + 4, (uint16_t)udp_len);
		ip[6] = IP_PROTO_UDP;
		ip[7] = TX_TTL;
		memcpy(ip + 8, tx->src.b, 16);
		memcpy(ip + 24, tx->dst.b, 16);
	}

	wr16(udp, tx->sport);
	wr16(udp + 2, tx->dport);
	wr16(udp + 4, (uint16_t)udp_len);
	udp[6] = udp[7] = 0;
	if (tx->family == 4 && tx->no_udp_csum4)
		return NET_ETH_HLEN + ip_hlen + udp_len; /* zero: no checksum */
	uint16_t c = net_l4_checksum(&tx->src, &tx->dst, IP_PROTO_UDP, udp, udp_len);
	wr16(udp + 6, c ? c : 0xFFFF); /* 0 means "no checksum" (RFC 768) */
	return NET_ETH_HLEN + ip_hlen + udp_len;
}

/* ---- Text --------------------------------------------------------------- */

int net_addr_parse(const char *s, struct net_addr *out, uint8_t *family)
{
	uint8_t v4[4];
	struct net_addr a;

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, v4) == 1) {
		addr_from_v4(&a, v4);
	} else if (inet_pton(AF_INET6, s, a.b) != 1) {
		return -EINVAL;
	}
	*out = a;
	/* "::ffff:a.b.c.d" has the same representation as "a.b.c.d" and is
	 * never sent as such: it is an IPv4 address. */
	if (family)
		*family = net_addr_is_v4(out) ? 4 : 6;
	return 0;
}

const char *net_addr_format(const struct net_addr *a, char *buf, size_t cap)
{
	socklen_t n = cap > INET6_ADDRSTRLEN ? INET6_ADDRSTRLEN : (socklen_t)cap;
	if (net_addr_is_v4(a))
		return inet_ntop(AF_INET, a->b + 12, buf, n);
	return inet_ntop(AF_INET6, a->b, buf, n);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (!s || strnlen(s, MAC_TEXT_LEN + 1u) != MAC_TEXT_LEN)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + i * 3u;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && p[2] != ':')
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}
