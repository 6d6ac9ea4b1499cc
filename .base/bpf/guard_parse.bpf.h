/* Ethernet (up to two VLAN tags), IPv4 and IPv6 (and the IPv6 fragment
 * header) up to the L4 ports, for the XDP guard. Nothing here decides a
 * verdict: it reports what the packet is, or why it cannot say. */
#ifndef MM_GUARD_PARSE_BPF_H
#define MM_GUARD_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/guard_abi.h"

#define GUARD_IP4_MF 0x2000u
#define GUARD_IP4_OFFSET 0x1FFFu
#define GUARD_IP6_NH_FRAGMENT 44
#define GUARD_IP6_FRAG_OFFSET 0xFFF8u

struct guard_vlan {
	__be16 tci;
	__be16 type;
};

struct guard_frag6 {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* An IP packet, as far as the guard needs it. */
struct guard_pkt {
	struct mm_guard_tuple t; /* remote = source, local = destination;
				    ports filled by the caller */
	__u8 *l4;                /* the L4 header (in the frame) */
	__u32 l4_len;            /* L4 bytes according to the IP header */
	__u8 proto;              /* L4 protocol */
	__u8 frag;               /* a first fragment (IPv4 MF, IPv6 frag. header) */
	__u8 ip_ok;              /* IP lengths fit in the frame */
};

static __always_inline void guard_v4_mapped(__u8 *out, const void *v4)
{
	out[10] = 0xFF;
	out[11] = 0xFF;
	__builtin_memcpy(out + 12, v4, 4);
}

static __always_inline int guard_parse_ip4(void *cur, void *end, struct guard_pkt *p)
{
	struct iphdr *ip = cur;
	if ((void *)(ip + 1) > end)
		return MM_DROP_L3_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return MM_DROP_L3_MALFORMED;
	__u32 ihl = (__u32)ip->ihl * 4;
	__u8 *l4 = (__u8 *)ip + ihl;
	if ((void *)l4 > end)
		return MM_DROP_L3_MALFORMED;
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (frag & GUARD_IP4_OFFSET)
		return MM_DROP_L3_FRAGMENT; /* no L4 header: not ours to judge */
	__u32 tot = bpf_ntohs(ip->tot_len);
	p->ip_ok = tot >= ihl && (void *)((__u8 *)ip + tot) <= end;
	p->l4 = l4;
	p->l4_len = p->ip_ok ? tot - ihl : 0;
	p->proto = ip->protocol;
	p->frag = (frag & GUARD_IP4_MF) != 0;
	guard_v4_mapped(p->t.remote_addr, &ip->saddr);
	guard_v4_mapped(p->t.local_addr, &ip->daddr);
	return -1;
}

static __always_inline int guard_parse_ip6(void *cur, void *end, struct guard_pkt *p)
{
	struct ipv6hdr *ip6 = cur;
	if ((void *)(ip6 + 1) > end)
		return MM_DROP_L3_MALFORMED;
	if (ip6->version != 6)
		return MM_DROP_L3_MALFORMED;
	__u32 plen = bpf_ntohs(ip6->payload_len);
	__u8 *l4 = (__u8 *)(ip6 + 1);
	__u8 nh = ip6->nexthdr;
	p->ip_ok = (void *)(l4 + plen) <= end;
	if (nh == GUARD_IP6_NH_FRAGMENT) {
		struct guard_frag6 *f = (void *)l4;
		if ((void *)(f + 1) > end)
			return MM_DROP_L3_MALFORMED;
		if (bpf_ntohs(f->frag_off) & GUARD_IP6_FRAG_OFFSET)
			return MM_DROP_L3_FRAGMENT;
		p->frag = 1;
		nh = f->nexthdr;
		l4 = (__u8 *)(f + 1);
		plen = plen >= sizeof(*f) ? plen - sizeof(*f) : 0;
	}
	/* Any other extension header leaves nh at its own number: not a
	 * protocol with ports, so it passes (mmdp supports none either). */
	p->l4 = l4;
	p->l4_len = p->ip_ok ? plen : 0;
	p->proto = nh;
	__builtin_memcpy(p->t.remote_addr, &ip6->saddr, 16);
	__builtin_memcpy(p->t.local_addr, &ip6->daddr, 16);
	return -1;
}

/* -1 with *p filled for an IPv4/IPv6 packet (p->l4 may still be past the
 * end of a truncated frame), else the reason it is not one. */
static __always_inline int guard_parse(void *data, void *end, struct guard_pkt *p)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return MM_DROP_L2_MALFORMED;
	__be16 type = eth->h_proto;
	void *cur = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (type != bpf_htons(ETH_P_8021Q) && type != bpf_htons(ETH_P_8021AD))
			break;
		struct guard_vlan *v = cur;
		if ((void *)(v + 1) > end)
			return MM_DROP_L2_MALFORMED;
		type = v->type;
		cur = v + 1;
	}
	if (type == bpf_htons(ETH_P_IP))
		return guard_parse_ip4(cur, end, p);
	if (type == bpf_htons(ETH_P_IPV6))
		return guard_parse_ip6(cur, end, p);
	return MM_DROP_L3_UNSUPPORTED;
}

/* Protocols whose destination port is the 16 bits at offset 2, as UDP's. */
static __always_inline int guard_has_ports(__u8 proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_TCP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP;
}

#endif
