/* Packet fixtures for the XDP guard's tests: Ethernet (+ VLAN tags),
 * IPv4 or IPv6 (+ fragment header), UDP or another L4 header, payload.
 * Every length field is consistent unless a test overrides it. */
#ifndef MM_TEST_PKT_H
#define MM_TEST_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 2048

struct pkt_spec {
	int family;          /* 4 or 6 */
	const char *src;     /* remote */
	const char *dst;     /* local */
	uint16_t sport, dport;
	uint8_t proto;       /* 0 = UDP */
	const uint8_t *payload;
	size_t plen;
	int vlans;           /* VLAN tags, 0..3 */
	uint16_t ip4_frag;   /* IPv4 flags+offset field */
	bool frag6;          /* IPv6 fragment header */
	uint16_t frag6_off;  /* its offset+M field */
	uint8_t ip4_ihl;     /* 0 = 5 */
	int udp_len_delta;   /* added to the UDP length field */
	int ip_len_delta;    /* added to the IPv4 total / IPv6 payload length */
	uint16_t ethertype;  /* 0 = by family */
};

/* Offsets of the layers of the last built frame. */
struct pkt_layout {
	size_t l3, l4, payload, len;
};

static inline void pkt_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t pkt_ip4_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

static inline size_t pkt_build(const struct pkt_spec *s, uint8_t *f, struct pkt_layout *lay)
{
	size_t o = 0;
	memset(f, 0, PKT_MAX);
	const uint8_t dmac[6] = {0x02, 0x6d, 0x6d, 0, 0, 1}, smac[6] = {0x02, 0x6d, 0x6d, 0, 1, 2};
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	o = 12;
	for (int i = 0; i < s->vlans; i++) {
		pkt_wr16(f + o, i == 0 && s->vlans > 1 ? 0x88A8 : 0x8100);
		pkt_wr16(f + o + 2, (uint16_t)(100 + i));
		o += 4;
	}
	uint16_t et = s->ethertype ? s->ethertype : (s->family == 4 ? 0x0800 : 0x86DD);
	pkt_wr16(f + o, et);
	o += 2;
	size_t l3 = o;
	uint8_t proto = s->proto ? s->proto : 17;
	size_t l4len = (proto == 17 ? 8 : 20) + s->plen;
	size_t l4;
	if (s->family == 4) {
		size_t ihl = s->ip4_ihl ? s->ip4_ihl : 5;
		uint8_t *ip = f + l3;
		ip[0] = (uint8_t)(0x40 | ihl);
		pkt_wr16(ip + 2, (uint16_t)((int)(ihl * 4 + l4len) + s->ip_len_delta));
		pkt_wr16(ip + 4, 0x1234);
		pkt_wr16(ip + 6, s->ip4_frag);
		ip[8] = 64;
		ip[9] = proto;
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
		size_t hl = (ihl < 5 ? 5 : ihl) * 4;
		pkt_wr16(ip + 10, pkt_ip4_csum(ip, hl));
		l4 = l3 + hl;
	} else {
		uint8_t *ip = f + l3;
		ip[0] = 0x60;
		size_t ext = s->frag6 ? 8 : 0;
		pkt_wr16(ip + 4, (uint16_t)((int)(ext + l4len) + s->ip_len_delta));
		ip[6] = s->frag6 ? 44 : proto;
		ip[7] = 64;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		l4 = l3 + 40;
		if (s->frag6) {
			f[l4] = proto;
			pkt_wr16(f + l4 + 2, s->frag6_off);
			f[l4 + 7] = 0x42;
			l4 += 8;
		}
	}
	pkt_wr16(f + l4, s->sport);
	pkt_wr16(f + l4 + 2, s->dport);
	size_t pl;
	if (proto == 17) {
		pkt_wr16(f + l4 + 4, (uint16_t)((int)l4len + s->udp_len_delta));
		pl = l4 + 8;
	} else {
		f[l4 + 12] = 0x50; /* a TCP-like header of 20 bytes */
		pl = l4 + 20;
	}
	if (s->plen)
		memcpy(f + pl, s->payload, s->plen);
	if (lay)
		*lay = (struct pkt_layout){.l3 = l3, .l4 = l4, .payload = pl, .len = pl + s->plen};
	return pl + s->plen;
}

/* Payloads that pass every check of their class. */
static const uint8_t PKT_RTP[] = {0x80, 96, 0x12, 0x34, 0, 0, 0x10, 0, 0xAA, 0xBB, 0xCC, 0xDD,
				  1,    2,  3,    4,    5, 6, 7,    8};
static const uint8_t PKT_RTCP[] = {0x81, 201, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD}; /* empty RR */
static const uint8_t PKT_STUN[] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2,
				   3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
static const uint8_t PKT_DTLS[] = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0};

#endif
