/* Unit tests of dataplane/proto/net.c: Ethernet/IPv4/IPv6/UDP parsing,
 * header building with checksums checked against a straightforward
 * reference implementation, and the address helpers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "dataplane/proto/net.h"

/* ---- reference implementation ----------------------------------------- */

/* RFC 1071 the obvious way: big-endian 16-bit words, one at a time. */
static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 header checksum of a header of hlen bytes (field taken as 0). */
static uint16_t ref_ip4_csum(const uint8_t *ip, size_t hlen)
{
	uint8_t h[60];
	memcpy(h, ip, hlen);
	h[10] = h[11] = 0;
	return (uint16_t)~ref_fold(ref_sum(h, hlen, 0));
}

/* UDP checksum with an explicitly assembled pseudo-header. */
static uint16_t ref_udp_csum(int family, const uint8_t *ip, const uint8_t *udp)
{
	uint8_t ph[40];
	size_t phl;
	uint16_t ulen = rd16(udp + 4);
	if (family == 4) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 17;
		wr16(ph + 10, ulen);
		phl = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		ph[32] = ph[33] = 0;
		wr16(ph + 34, ulen);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 17;
		phl = 40;
	}
	uint8_t seg[70000];
	memcpy(seg, udp, ulen);
	seg[6] = seg[7] = 0;
	uint32_t sum = ref_sum(ph, phl, 0);
	sum = ref_sum(seg, ulen, sum);
	uint16_t c = (uint16_t)~ref_fold(sum);
	return c ? c : 0xFFFF;
}

static uint32_t lcg_state = 12345;
static uint32_t lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 8;
}

static const uint8_t MAC_A[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t MAC_B[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static struct net_udp_tx tx_v4(void)
{
	struct net_udp_tx tx = {.family = 4, .sport = 5000, .dport = 40000};
	memcpy(tx.dst_mac, MAC_A, 6);
	memcpy(tx.src_mac, MAC_B, 6);
	uint8_t f;
	cr_assert_eq(net_addr_parse("10.0.0.1", &tx.src, &f), 0);
	cr_assert_eq(net_addr_parse("192.168.255.254", &tx.dst, &f), 0);
	return tx;
}

static struct net_udp_tx tx_v6(void)
{
	struct net_udp_tx tx = {.family = 6, .sport = 3478, .dport = 65535};
	memcpy(tx.dst_mac, MAC_A, 6);
	memcpy(tx.src_mac, MAC_B, 6);
	uint8_t f;
	cr_assert_eq(net_addr_parse("2001:db8::1", &tx.src, &f), 0);
	cr_assert_eq(net_addr_parse("fe80::abcd:ef01:2345:6789", &tx.dst, &f), 0);
	return tx;
}

/* A valid IPv4/UDP frame with payload "hello"; returns its length. */
static size_t v4_frame(uint8_t *f)
{
	struct net_udp_tx tx = tx_v4();
	memcpy(f + net_udp_hdr_len(4), "hello", 5);
	return net_write_udp(f, &tx, 5);
}

static size_t v6_frame(uint8_t *f)
{
	struct net_udp_tx tx = tx_v6();
	memcpy(f + net_udp_hdr_len(6), "hello", 5);
	return net_write_udp(f, &tx, 5);
}

/* Recompute the IPv4 header checksum after a test edited the header. */
static void fix_ip4(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0F) * 4;
	wr16(ip + 10, ref_ip4_csum(ip, hlen));
}

/* ---- writing ----------------------------------------------------------- */

Test(net_write, ipv4_exact_headers)
{
	uint8_t f[128];
	size_t n = v4_frame(f);
	cr_assert_eq(n, 14 + 20 + 8 + 5);
	cr_assert_eq(memcmp(f, MAC_A, 6), 0);
	cr_assert_eq(memcmp(f + 6, MAC_B, 6), 0);
	cr_assert_eq(rd16(f + 12), 0x0800);
	const uint8_t *ip = f + 14;
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(ip[1], 0);
	cr_assert_eq(rd16(ip + 2), 33);
	cr_assert_eq(rd16(ip + 4), 0, "id 0");
	cr_assert_eq(rd16(ip + 6), 0x4000, "DF, no fragment");
	cr_assert_eq(ip[8], 64);
	cr_assert_eq(ip[9], 17);
	cr_assert_eq(rd16(ip + 10), ref_ip4_csum(ip, 20));
	cr_assert_eq(memcmp(ip + 12, "\x0A\x00\x00\x01\xC0\xA8\xFF\xFE", 8), 0);
	const uint8_t *udp = ip + 20;
	cr_assert_eq(rd16(udp), 5000);
	cr_assert_eq(rd16(udp + 2), 40000);
	cr_assert_eq(rd16(udp + 4), 13);
	cr_assert_eq(rd16(udp + 6), ref_udp_csum(4, ip, udp));
	cr_assert_eq(memcmp(udp + 8, "hello", 5), 0);
}

Test(net_write, ipv6_exact_headers)
{
	uint8_t f[128];
	size_t n = v6_frame(f);
	cr_assert_eq(n, 14 + 40 + 8 + 5);
	cr_assert_eq(rd16(f + 12), 0x86DD);
	const uint8_t *ip = f + 14;
	cr_assert_eq(memcmp(ip, "\x60\x00\x00\x00", 4), 0);
	cr_assert_eq(rd16(ip + 4), 13);
	cr_assert_eq(ip[6], 17);
	cr_assert_eq(ip[7], 64);
	const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	cr_assert_eq(memcmp(ip + 8, src, 16), 0);
	cr_assert_eq(ip[24], 0xfe);
	cr_assert_eq(ip[39], 0x89);
	const uint8_t *udp = ip + 40;
	cr_assert_eq(rd16(udp), 3478);
	cr_assert_eq(rd16(udp + 2), 65535);
	cr_assert_eq(rd16(udp + 4), 13);
	cr_assert_eq(rd16(udp + 6), ref_udp_csum(6, ip, udp));
}

Test(net_write, checksum_matches_reference_for_many_lengths)
{
	static uint8_t f[2][1600];
	for (int family = 4; family <= 6; family += 2) {
		for (size_t len = 0; len <= 1472; len += (len < 80 ? 1 : 37)) {
			struct net_udp_tx tx = family == 4 ? tx_v4() : tx_v6();
			tx.sport = (uint16_t)lcg();
			tx.dport = (uint16_t)lcg();
			for (int i = (family == 4 ? 12 : 0); i < 16; i++) {
				tx.src.b[i] = (uint8_t)lcg();
				tx.dst.b[i] = (uint8_t)lcg();
			}
			/* Both an aligned and an odd frame address. */
			for (int odd = 0; odd < 2; odd++) {
				uint8_t *fr = f[odd] + odd;
				size_t hl = net_udp_hdr_len((uint8_t)family);
				for (size_t i = 0; i < len; i++)
					fr[hl + i] = (uint8_t)lcg();
				size_t n = net_write_udp(fr, &tx, len);
				cr_assert_eq(n, hl + len);
				const uint8_t *ip = fr + 14;
				const uint8_t *udp = fr + hl - 8;
				cr_assert_eq(rd16(udp + 6), ref_udp_csum(family, ip, udp),
					     "family %d len %zu odd %d", family, len, odd);
				if (family == 4)
					cr_assert_eq(rd16(ip + 10), ref_ip4_csum(ip, 20));
				/* And the receiver's view: all words sum to 0xFFFF. */
				struct net_udp u;
				cr_assert_eq(net_parse_udp(fr, n, &u), 0);
				cr_assert_eq(u.payload_len, len);
			}
		}
	}
}

Test(net_write, zero_checksum_becomes_ffff)
{
	for (int family = 4; family <= 6; family += 2) {
		uint8_t f[128];
		struct net_udp_tx tx = family == 4 ? tx_v4() : tx_v6();
		size_t hl = net_udp_hdr_len((uint8_t)family);
		memset(f + hl, 0, 2);
		net_write_udp(f, &tx, 2);
		const uint8_t *ip = f + 14;
		uint8_t *udp = f + hl - 8;
		/* Choose the payload word that brings the sum to 0xFFFF. */
		uint8_t ph[40];
		size_t phl = family == 4 ? 12 : 40;
		memset(ph, 0, sizeof(ph));
		if (family == 4) {
			memcpy(ph, ip + 12, 8);
			ph[9] = 17;
			wr16(ph + 10, 10);
		} else {
			memcpy(ph, ip + 8, 32);
			wr16(ph + 34, 10);
			ph[39] = 17;
		}
		uint8_t seg[10];
		memcpy(seg, udp, 10);
		seg[6] = seg[7] = 0;
		uint16_t s = ref_fold(ref_sum(seg, 10, ref_sum(ph, phl, 0)));
		wr16(f + hl, (uint16_t)~s);
		net_write_udp(f, &tx, 2);
		cr_assert_eq(rd16(udp + 6), 0xFFFF, "family %d", family);
		cr_assert_eq(ref_udp_csum(family, ip, udp), 0xFFFF);
	}
}

Test(net_write, rejects_bad_family_and_oversize)
{
	static uint8_t f[70000];
	struct net_udp_tx tx = tx_v4();
	tx.family = 5;
	cr_assert_eq(net_write_udp(f, &tx, 10), 0);
	tx.family = 4;
	cr_assert_eq(net_write_udp(f, &tx, 65507), 14 + 65535);
	cr_assert_eq(net_write_udp(f, &tx, 65508), 0);
	tx = tx_v6();
	cr_assert_eq(net_write_udp(f, &tx, 65527), 14 + 40 + 65535);
	cr_assert_eq(net_write_udp(f, &tx, 65528), 0);
	cr_assert_eq(net_udp_hdr_len(4), 42);
	cr_assert_eq(net_udp_hdr_len(6), 62);
}

/* ---- parsing ----------------------------------------------------------- */

Test(net_parse, ipv4_round_trip)
{
	uint8_t f[128];
	size_t n = v4_frame(f);
	struct net_udp u;
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE);
	cr_assert_eq(memcmp(u.dst_mac, MAC_A, 6), 0);
	cr_assert_eq(memcmp(u.src_mac, MAC_B, 6), 0);
	cr_assert_eq(u.family, 4);
	cr_assert_eq(u.ttl, 64);
	cr_assert(net_addr_is_v4(&u.src));
	cr_assert_eq(memcmp(u.src.b + 12, "\x0A\x00\x00\x01", 4), 0);
	cr_assert_eq(memcmp(u.dst.b + 12, "\xC0\xA8\xFF\xFE", 4), 0);
	cr_assert_eq(u.sport, 5000);
	cr_assert_eq(u.dport, 40000);
	cr_assert_eq(u.payload_off, 42);
	cr_assert_eq(u.payload_len, 5);
	cr_assert_eq(memcmp(f + u.payload_off, "hello", 5), 0);
}

Test(net_parse, ipv6_round_trip)
{
	uint8_t f[128];
	size_t n = v6_frame(f);
	struct net_udp u;
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE);
	cr_assert_eq(u.family, 6);
	cr_assert_eq(u.ttl, 64);
	cr_assert_not(net_addr_is_v4(&u.src));
	struct net_udp_tx tx = tx_v6();
	cr_assert_eq(memcmp(&u.src, &tx.src, 16), 0);
	cr_assert_eq(memcmp(&u.dst, &tx.dst, 16), 0);
	cr_assert_eq(u.sport, 3478);
	cr_assert_eq(u.dport, 65535);
	cr_assert_eq(u.payload_off, 62);
	cr_assert_eq(u.payload_len, 5);
}

/* Insert an 802.1Q tag after the MAC addresses. */
static size_t add_vlan(uint8_t *f, size_t n, uint16_t tpid)
{
	memmove(f + 16, f + 12, n - 12);
	wr16(f + 12, tpid);
	wr16(f + 14, 0x2064); /* PCP 1, VID 100 */
	return n + 4;
}

Test(net_parse, vlan_tagged)
{
	uint8_t f[128];
	struct net_udp u;
	size_t n = add_vlan(f, v4_frame(f), 0x8100);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE);
	cr_assert_eq(u.family, 4);
	cr_assert_eq(u.payload_off, 46);
	cr_assert_eq(memcmp(f + u.payload_off, "hello", 5), 0);
	n = add_vlan(f, v6_frame(f), 0x8100);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE);
	cr_assert_eq(u.family, 6);
	cr_assert_eq(u.payload_off, 66);
	/* Only one tag: a second is not IP. */
	n = add_vlan(f, n, 0x8100);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_UNSUPPORTED);
}

Test(net_parse, short_frames)
{
	uint8_t f[128];
	size_t n = v4_frame(f);
	struct net_udp u;
	for (size_t len = 0; len < 14; len++)
		cr_assert_eq(net_parse_udp(f, len, &u), MM_DROP_L2_MALFORMED, "len %zu", len);
	/* Ethernet header only: no IP header. */
	cr_assert_eq(net_parse_udp(f, 14, &u), MM_DROP_L3_MALFORMED);
	/* Every cut inside the IP header or before the IP total length. */
	for (size_t len = 15; len < n; len++)
		cr_assert_eq(net_parse_udp(f, len, &u), MM_DROP_L3_MALFORMED, "len %zu", len);
	/* A VLAN tag cut short. */
	n = add_vlan(f, n, 0x8100);
	for (size_t len = 14; len < 18; len++)
		cr_assert_eq(net_parse_udp(f, len, &u), MM_DROP_L2_MALFORMED, "len %zu", len);
	n = v6_frame(f);
	for (size_t len = 14; len < n; len++)
		cr_assert_eq(net_parse_udp(f, len, &u), MM_DROP_L3_MALFORMED, "v6 len %zu", len);
}

Test(net_parse, ethernet_padding_ignored)
{
	uint8_t f[128];
	size_t n = v4_frame(f); /* 47 bytes: a real NIC pads to 60 */
	memset(f + n, 0xAB, 60 - n);
	struct net_udp u;
	cr_assert_eq(net_parse_udp(f, 60, &u), MM_DROP_NONE);
	cr_assert_eq(u.payload_len, 5);
	n = v6_frame(f);
	memset(f + n, 0xAB, 16);
	cr_assert_eq(net_parse_udp(f, n + 16, &u), MM_DROP_NONE);
	cr_assert_eq(u.payload_len, 5);
}

Test(net_parse, not_ip)
{
	uint8_t f[128];
	size_t n = v4_frame(f);
	struct net_udp u;
	wr16(f + 12, 0x0806); /* ARP */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_UNSUPPORTED);
	wr16(f + 12, 0x88A8); /* 802.1ad outer tag */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_UNSUPPORTED);
	wr16(f + 12, 0x0040); /* 802.3 length */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_UNSUPPORTED);
}

Test(net_parse, ipv4_header_errors)
{
	uint8_t f[128];
	struct net_udp u;
	size_t n = v4_frame(f);
	uint8_t *ip = f + 14;

	ip[11] ^= 0x01; /* bad header checksum */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v4_frame(f);
	ip[0] = 0x44; /* IHL 4 */
	fix_ip4(ip);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v4_frame(f);
	ip[0] = 0x65; /* version 6 in an IPv4 frame */
	fix_ip4(ip);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v4_frame(f);
	wr16(ip + 2, (uint16_t)(n - 14 + 1)); /* total length beyond the frame */
	fix_ip4(ip);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v4_frame(f);
	wr16(ip + 2, 19); /* total length shorter than the header */
	fix_ip4(ip);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v4_frame(f);
	ip[0] = 0x4F; /* IHL 15: 60 bytes, more than the frame holds */
	fix_ip4(ip);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);
}

Test(net_parse, ipv4_fragments)
{
	uint8_t f[128];
	struct net_udp u;
	const struct {
		uint16_t flags_off;
		int want;
	} cases[] = {
		{0x0000, MM_DROP_NONE},        /* no DF: still whole */
		{0x4000, MM_DROP_NONE},        /* DF */
		{0x2000, MM_DROP_L3_FRAGMENT}, /* MF, offset 0: first fragment */
		{0x0001, MM_DROP_L3_FRAGMENT}, /* offset 8: last fragment */
		{0x1FFF, MM_DROP_L3_FRAGMENT},
		{0x6000, MM_DROP_L3_FRAGMENT}, /* DF and MF */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = v4_frame(f);
		wr16(f + 14 + 6, cases[i].flags_off);
		fix_ip4(f + 14);
		cr_assert_eq(net_parse_udp(f, n, &u), cases[i].want, "case %zu", i);
	}
}

Test(net_parse, ipv4_not_udp)
{
	uint8_t f[128];
	struct net_udp u;
	const uint8_t protos[] = {1, 6, 47, 50, 132};
	for (size_t i = 0; i < sizeof(protos); i++) {
		size_t n = v4_frame(f);
		f[14 + 9] = protos[i];
		fix_ip4(f + 14);
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_UNSUPPORTED, "proto %u", protos[i]);
	}
}

Test(net_parse, ipv4_options)
{
	/* IHL 6: one word of options (four NOPs). */
	uint8_t f[128];
	size_t n = v4_frame(f);
	memmove(f + 14 + 24, f + 14 + 20, n - 34);
	memset(f + 14 + 20, 0x01, 4);
	n += 4;
	f[14] = 0x46;
	wr16(f + 16, (uint16_t)(n - 14));
	fix_ip4(f + 14);
	struct net_udp u;
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE);
	cr_assert_eq(u.payload_off, 46);
	cr_assert_eq(u.payload_len, 5);
	cr_assert_eq(memcmp(f + u.payload_off, "hello", 5), 0);
}

Test(net_parse, udp_length_errors)
{
	uint8_t f[128];
	struct net_udp u;
	for (int family = 4; family <= 6; family += 2) {
		size_t hl = net_udp_hdr_len((uint8_t)family);
		uint8_t *udp = f + hl - 8;
		size_t n = family == 4 ? v4_frame(f) : v6_frame(f);
		wr16(udp + 4, 14); /* one more than the IP payload */
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_MALFORMED, "family %d", family);
		wr16(udp + 4, 7); /* shorter than its own header */
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_MALFORMED, "family %d", family);
		/* Shorter than the IP payload: the rest is a surplus area
		 * (RFC 9868), the payload ends where UDP says. */
		wr16(udp + 4, 10);
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE, "family %d", family);
		cr_assert_eq(u.payload_len, 2);
		/* The UDP checksum is not verified (offloads). */
		n = family == 4 ? v4_frame(f) : v6_frame(f);
		udp[6] ^= 0xFF;
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_NONE, "family %d", family);
	}
	/* An IP payload too short for a UDP header. */
	size_t n = v4_frame(f);
	wr16(f + 16, 20 + 7);
	fix_ip4(f + 14);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_MALFORMED);
	n = v6_frame(f);
	wr16(f + 18, 7);
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_MALFORMED);
}

Test(net_parse, ipv6_errors)
{
	uint8_t f[128];
	struct net_udp u;
	size_t n = v6_frame(f);
	uint8_t *ip = f + 14;

	wr16(ip + 4, (uint16_t)(n - 54 + 1)); /* payload length beyond the frame */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	n = v6_frame(f);
	ip[0] = 0x40; /* version 4 in an IPv6 frame */
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_MALFORMED);

	/* A fragment header counts as a fragment, as in IPv4. */
	n = v6_frame(f);
	ip[6] = 44;
	cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L3_FRAGMENT);

	/* Anything else but UDP right after the fixed header. */
	const uint8_t nh[] = {0, 6, 43, 58, 59, 60};
	for (size_t i = 0; i < sizeof(nh); i++) {
		n = v6_frame(f);
		ip[6] = nh[i];
		cr_assert_eq(net_parse_udp(f, n, &u), MM_DROP_L4_UNSUPPORTED, "nh %u", nh[i]);
	}
}

/* ---- addresses ---------------------------------------------------------- */

Test(net_addr, parse_and_format)
{
	struct net_addr a;
	uint8_t fam = 0;
	char buf[64];

	cr_assert_eq(net_addr_parse("203.0.113.7", &a, &fam), 0);
	cr_assert_eq(fam, 4);
	const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 203, 0, 113, 7};
	cr_assert_eq(memcmp(a.b, mapped, 16), 0);
	cr_assert(net_addr_is_v4(&a));
	cr_assert_str_eq(net_addr_format(&a, buf, sizeof(buf)), "203.0.113.7");

	cr_assert_eq(net_addr_parse("2001:db8::42", &a, &fam), 0);
	cr_assert_eq(fam, 6);
	cr_assert_eq(a.b[0], 0x20);
	cr_assert_eq(a.b[15], 0x42);
	cr_assert_not(net_addr_is_v4(&a));
	cr_assert_str_eq(net_addr_format(&a, buf, sizeof(buf)), "2001:db8::42");

	cr_assert_eq(net_addr_parse("::1", &a, &fam), 0);
	cr_assert_eq(fam, 6);
	cr_assert_str_eq(net_addr_format(&a, buf, sizeof(buf)), "::1");

	/* IPv4-mapped text is the IPv4 address. */
	cr_assert_eq(net_addr_parse("::ffff:198.51.100.1", &a, &fam), 0);
	cr_assert_eq(fam, 4);
	cr_assert_str_eq(net_addr_format(&a, buf, sizeof(buf)), "198.51.100.1");

	/* family is optional */
	cr_assert_eq(net_addr_parse("1.2.3.4", &a, NULL), 0);
	cr_assert_eq(a.b[15], 4);
}

Test(net_addr, parse_rejects)
{
	const char *bad[] = {"", "1.2.3", "1.2.3.256", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ",
			     "::g", "1:2:3:4:5:6:7:8:9", "localhost", "[::1]", "1.2.3.4/24"};
	struct net_addr a;
	memset(&a, 0x5A, sizeof(a));
	uint8_t fam = 77;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(net_addr_parse(bad[i], &a, &fam), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(net_addr_parse(NULL, &a, &fam), -EINVAL);
	cr_assert_eq(a.b[0], 0x5A, "output untouched on error");
	cr_assert_eq(fam, 77);
}

Test(net_addr, format_small_buffer)
{
	struct net_addr a;
	char buf[64];
	cr_assert_eq(net_addr_parse("255.255.255.255", &a, NULL), 0);
	cr_assert_null(net_addr_format(&a, buf, 15));
	cr_assert_str_eq(net_addr_format(&a, buf, 16), "255.255.255.255");
	cr_assert_eq(net_addr_parse("2001:db8:1:2:3:4:5:6", &a, NULL), 0);
	cr_assert_null(net_addr_format(&a, buf, 10));
	cr_assert_null(net_addr_format(&a, buf, 0));
}

Test(net_mac, parse)
{
	uint8_t m[6];
	cr_assert_eq(net_mac_parse("aa:bb:cc:dd:ee:ff", m), 0);
	cr_assert_eq(memcmp(m, "\xaa\xbb\xcc\xdd\xee\xff", 6), 0);
	cr_assert_eq(net_mac_parse("00:1B:2c:3D:4e:5F", m), 0);
	cr_assert_eq(memcmp(m, "\x00\x1b\x2c\x3d\x4e\x5f", 6), 0);

	const char *bad[] = {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa-bb-cc-dd-ee-ff",
			     "aabb.ccdd.eeff", "a:bb:cc:dd:ee:fff", "gg:bb:cc:dd:ee:ff",
			     "aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:ff ", " aa:bb:cc:dd:ee:ff",
			     "aa:bb:cc:dd:ee:fg", "aa:bb:cc:dd:ee::f", "aa:bb:cc:dd:ee:+f",
			     "aabbccddeeff"};
	memset(m, 0x11, 6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(net_mac_parse(bad[i], m), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(net_mac_parse(NULL, m), -EINVAL);
	cr_assert_eq(memcmp(m, "\x11\x11\x11\x11\x11\x11", 6), 0, "output untouched on error");
}

Test(net_write, no_udp_csum4_sends_zero_on_ipv4_only)
{
	for (int family = 4; family <= 6; family += 2) {
		uint8_t f[256];
		struct net_udp_tx tx = family == 4 ? tx_v4() : tx_v6();
		tx.no_udp_csum4 = 1;
		size_t hl = net_udp_hdr_len((uint8_t)family);
		memset(f + hl, 0x5a, 100);
		size_t n = net_write_udp(f, &tx, 100);
		cr_assert_eq(n, hl + 100);
		uint16_t c = rd16(f + hl - 2);
		if (family == 4) {
			cr_assert_eq(c, 0, "IPv4: zero means no checksum");
			cr_assert_eq(ref_ip4_csum(f + 14, 20), rd16(f + 14 + 10), "IP header still summed");
		} else {
			cr_assert_neq(c, 0, "IPv6 UDP always has a checksum");
		}
	}
}
