/* ARP and IPv6 neighbour discovery for mmdp's own addresses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "dataplane/proto/neigh.h"

static const uint8_t MY_MAC[6] = {0x02, 0x6d, 0x6d, 0, 0, 1};
static const uint8_t PEER_MAC[6] = {0x02, 0x6d, 0x6d, 1, 0, 1};

/* Straightforward RFC 1071 checksum over the IPv6 pseudo header and an
 * ICMPv6 message, written independently of net.c. */
static uint16_t ref_icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	uint32_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)len;
	sum += 58;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t arp_request(uint8_t *f, const uint8_t spa[4], const uint8_t tpa[4])
{
	memset(f, 0xff, 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = 0x08, f[13] = 0x06;
	uint8_t *a = f + 14;
	a[0] = 0, a[1] = 1, a[2] = 0x08, a[3] = 0, a[4] = 6, a[5] = 4, a[6] = 0, a[7] = 1;
	memcpy(a + 8, PEER_MAC, 6);
	memcpy(a + 14, spa, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, tpa, 4);
	return 42;
}

Test(arp, request_parsed_and_answered)
{
	uint8_t f[64], r[64];
	const uint8_t spa[4] = {198, 18, 1, 1}, tpa[4] = {198, 18, 0, 1};
	size_t n = arp_request(f, spa, tpa);
	struct net_arp arp;
	cr_assert_eq(net_arp_parse(f, n, &arp), 0);
	cr_assert_eq(arp.op, 1);
	cr_assert(net_addr_is_v4(&arp.tpa));
	cr_assert_eq(memcmp(arp.tpa.b + 12, tpa, 4), 0);

	cr_assert_eq(net_arp_reply(r, MY_MAC, &arp.tpa, &arp), 42);
	cr_assert_eq(memcmp(r, PEER_MAC, 6), 0, "unicast back to the asker");
	cr_assert_eq(memcmp(r + 6, MY_MAC, 6), 0);
	struct net_arp rep;
	cr_assert_eq(net_arp_parse(r, 42, &rep), 0);
	cr_assert_eq(rep.op, 2);
	cr_assert_eq(memcmp(rep.sha, MY_MAC, 6), 0);
	cr_assert_eq(memcmp(rep.spa.b + 12, tpa, 4), 0);
	cr_assert_eq(memcmp(rep.tha, PEER_MAC, 6), 0);
	cr_assert_eq(memcmp(rep.tpa.b + 12, spa, 4), 0);
}

Test(arp, bad_input_rejected)
{
	uint8_t f[64];
	const uint8_t ip[4] = {198, 18, 1, 1};
	struct net_arp arp;
	size_t n = arp_request(f, ip, ip);
	cr_assert_eq(net_arp_parse(f, 10, &arp), -ENODATA);
	cr_assert_eq(net_arp_parse(f, 41, &arp), -ENODATA);
	f[14 + 5] = 16; /* plen 16: not IPv4 */
	cr_assert_eq(net_arp_parse(f, n, &arp), -EBADMSG);
	n = arp_request(f, ip, ip);
	f[12] = 0x08, f[13] = 0x00;
	cr_assert_eq(net_arp_parse(f, n, &arp), -EPROTO);
}

static const uint8_t PEER_IP6[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
static const uint8_t MY_IP6[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* An NS for MY_IP6 from PEER_IP6 (or :: for DAD), with or without SLLA. */
static size_t ns_frame(uint8_t *f, bool dad, bool slla)
{
	memset(f, 0, 128);
	memcpy(f, "\x33\x33\xff\x00\x00\x01", 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14, *m = ip + 40;
	size_t mlen = slla ? 32 : 24;
	ip[0] = 0x60;
	ip[4] = 0, ip[5] = (uint8_t)mlen;
	ip[6] = 58;
	ip[7] = 255;
	if (!dad)
		memcpy(ip + 8, PEER_IP6, 16);
	const uint8_t sn[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1};
	memcpy(ip + 24, sn, 16);
	m[0] = 135;
	memcpy(m + 8, MY_IP6, 16);
	if (slla) {
		m[24] = 1, m[25] = 1;
		memcpy(m + 26, PEER_MAC, 6);
	}
	uint16_t c = ref_icmp6_csum(ip + 8, ip + 24, m, mlen);
	m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
	return 14 + 40 + mlen;
}

Test(nd, solicitation_answered_with_a_valid_advertisement)
{
	uint8_t f[128], r[128];
	size_t n = ns_frame(f, false, true);
	struct net_ns ns;
	cr_assert_eq(net_ns_parse(f, n, &ns), 0);
	cr_assert(ns.has_slla);
	cr_assert_eq(memcmp(ns.target.b, MY_IP6, 16), 0);

	cr_assert_eq(net_na_build(r, MY_MAC, &ns), NET_NA_FRAME_LEN);
	cr_assert_eq(memcmp(r, PEER_MAC, 6), 0);
	cr_assert_eq(memcmp(r + 6, MY_MAC, 6), 0);
	const uint8_t *ip = r + 14, *m = ip + 40;
	cr_assert_eq(ip[6], 58);
	cr_assert_eq(ip[7], 255, "hop limit 255 (RFC 4861)");
	cr_assert_eq(memcmp(ip + 8, MY_IP6, 16), 0);
	cr_assert_eq(memcmp(ip + 24, PEER_IP6, 16), 0);
	cr_assert_eq(m[0], 136);
	cr_assert_eq(m[4], 0x60, "solicited and override");
	cr_assert_eq(memcmp(m + 8, MY_IP6, 16), 0);
	cr_assert_eq(m[24], 2, "target link-layer address option");
	cr_assert_eq(memcmp(m + 26, MY_MAC, 6), 0);
	cr_assert_eq(ref_icmp6_csum(ip + 8, ip + 24, m, 32), 0, "checksum verifies");
}

Test(nd, without_slla_the_reply_goes_to_the_ethernet_source)
{
	uint8_t f[128], r[128];
	size_t n = ns_frame(f, false, false);
	struct net_ns ns;
	cr_assert_eq(net_ns_parse(f, n, &ns), 0);
	cr_assert_not(ns.has_slla);
	cr_assert_eq(net_na_build(r, MY_MAC, &ns), NET_NA_FRAME_LEN);
	cr_assert_eq(memcmp(r, PEER_MAC, 6), 0);
}

Test(nd, dad_probe_gets_no_answer)
{
	uint8_t f[128], r[128];
	size_t n = ns_frame(f, true, false);
	struct net_ns ns;
	cr_assert_eq(net_ns_parse(f, n, &ns), 0);
	cr_assert_eq(net_na_build(r, MY_MAC, &ns), 0);
	n = ns_frame(f, true, true);
	cr_assert_eq(net_ns_parse(f, n, &ns), -EBADMSG, "DAD with SLLA is invalid (RFC 4861 7.1.1)");
}

Test(nd, bad_input_rejected)
{
	uint8_t f[128];
	struct net_ns ns;
	size_t n = ns_frame(f, false, true);
	cr_assert_eq(net_ns_parse(f, n - 1, &ns), -ENODATA);
	n = ns_frame(f, false, true);
	f[14 + 7] = 64; /* hop limit not 255: may have been routed */
	cr_assert_eq(net_ns_parse(f, n, &ns), -EBADMSG);
	n = ns_frame(f, false, true);
	f[14 + 40 + 3] ^= 1; /* checksum */
	cr_assert_eq(net_ns_parse(f, n, &ns), -EBADMSG);
	n = ns_frame(f, false, true);
	f[14 + 40] = 128; /* echo request */
	cr_assert_eq(net_ns_parse(f, n, &ns), -EPROTO);
	n = ns_frame(f, false, true);
	f[14 + 6] = 17; /* UDP */
	cr_assert_eq(net_ns_parse(f, n, &ns), -EPROTO);
	n = ns_frame(f, false, true);
	f[14 + 40 + 25] = 0; /* option of length 0 */
	uint8_t *ip = f + 14, *m = ip + 40;
	m[2] = m[3] = 0;
	uint16_t c = ref_icmp6_csum(ip + 8, ip + 24, m, 32);
	m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
	cr_assert_eq(net_ns_parse(f, n, &ns), -EBADMSG);
}

Test(checksum, l4_checksum_matches_reference)
{
	uint8_t msg[301];
	struct net_addr s, d;
	memcpy(s.b, PEER_IP6, 16);
	memcpy(d.b, MY_IP6, 16);
	for (size_t len = 1; len <= sizeof(msg); len += 7) {
		for (size_t i = 0; i < len; i++)
			msg[i] = (uint8_t)(i * 31 + len);
		cr_assert_eq(net_l4_checksum(&s, &d, 58, msg, len), ref_icmp6_csum(s.b, d.b, msg, len),
			     "length %zu", len);
	}
}
