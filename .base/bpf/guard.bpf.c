/* The XDP guard: drops abusive and malformed traffic to mmdp's media ports
 * before it costs userspace anything, passes everything else to the kernel
 * untouched. The checks and their order are documented in
 * docs/xdp-guard.md; keep the two in step.
 *
 * Built with UAPI headers only (no vmlinux.h): the program reads packet
 * bytes and struct xdp_md, both stable ABI, and no kernel-internal struct,
 * so there is nothing for CO-RE to relocate. libbpf still loads it the CO-RE
 * way (BTF-defined maps, skeleton). */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/guard_abi.h"
#include "bpf/guard_bucket.bpf.h"
#include "bpf/guard_maps.bpf.h"
#include "bpf/guard_parse.bpf.h"

/* The RFC 7983 classes the guard lets through (dataplane/proto/demux.h
 * classifies the same way; it is not includable here: <stdint.h>). */
enum guard_kind { GUARD_STUN = 1, GUARD_DTLS, GUARD_RTP, GUARD_RTCP };

#define GUARD_STUN_HLEN 20u
#define GUARD_DTLS_HLEN 13u
#define GUARD_RTP_HLEN 12u
#define GUARD_RTCP_HLEN 8u

static __always_inline void guard_count(__u32 verdict, __u32 reason, __u64 bytes)
{
	__u32 idx = verdict * MM_GUARD_REASON_SLOTS + reason;
	struct mm_guard_counter *c = bpf_map_lookup_elem(&mmg_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int guard_pass(__u32 reason, __u64 bytes)
{
	guard_count(MM_GUARD_PASS, reason, bytes);
	return XDP_PASS;
}

static __always_inline int guard_drop(__u32 reason, __u64 bytes)
{
	guard_count(MM_GUARD_DROP, reason, bytes);
	return XDP_DROP;
}

static __always_inline int guard_block_live(struct mm_guard_block *b, __u64 now, __u32 bytes)
{
	if (b->expires_ns && now >= b->expires_ns)
		return 0;
	__sync_fetch_and_add(&b->packets, 1);
	__sync_fetch_and_add(&b->bytes, bytes);
	return 1;
}

/* The UDP payload's class (enum guard_kind), or the drop reason (negated)
 * if its first byte is in no range the guard accepts or it is shorter
 * than its header. len is the payload length per the UDP header, already
 * known to fit in the frame; the `> end` checks are for the verifier. */
static __always_inline int guard_classify(const __u8 *pl, __u32 len, void *end)
{
	if (len < 1 || (void *)(pl + 1) > end)
		return -MM_DROP_DEMUX_UNKNOWN;
	__u8 b = pl[0];
	if (b <= 3) {
		/* STUN (RFC 8489): 20-byte header, magic cookie, a body
		 * length that is a multiple of 4 and fits. */
		if (len < GUARD_STUN_HLEN || (void *)(pl + GUARD_STUN_HLEN) > end)
			return -MM_DROP_STUN_MALFORMED;
		__u32 body = (__u32)pl[2] << 8 | pl[3];
		if (pl[4] != 0x21 || pl[5] != 0x12 || pl[6] != 0xA4 || pl[7] != 0x42 ||
		    (body & 3) || GUARD_STUN_HLEN + body > len)
			return -MM_DROP_STUN_MALFORMED;
		return GUARD_STUN;
	}
	if (b >= 20 && b <= 63) {
		/* DTLS record header (RFC 6347, 9147): 13 bytes. Content
		 * types 20..25 carry a version (major 0xFE) and a length;
		 * 32..63 is DTLS 1.3's unified header. */
		if (len < GUARD_DTLS_HLEN || (void *)(pl + GUARD_DTLS_HLEN) > end)
			return -MM_DROP_DTLS_MALFORMED;
		if (b <= 25) {
			__u32 rec = (__u32)pl[11] << 8 | pl[12];
			if (pl[1] != 0xFE || GUARD_DTLS_HLEN + rec > len)
				return -MM_DROP_DTLS_MALFORMED;
		}
		return GUARD_DTLS;
	}
	if (b >= 128 && b <= 191) {
		/* Version 2 is exactly this range: any other RTP version
		 * falls outside it and is demux_unknown. */
		if (len < 2 || (void *)(pl + 2) > end)
			return -MM_DROP_RTP_MALFORMED;
		if (pl[1] >= 192 && pl[1] <= 223) {
			/* RTCP (RFC 5761 demux): 8-byte header, the first
			 * packet's length fits. */
			if ((b >> 6) != 2 || len < GUARD_RTCP_HLEN ||
			    (void *)(pl + GUARD_RTCP_HLEN) > end)
				return -MM_DROP_RTCP_MALFORMED;
			__u32 words = (__u32)pl[2] << 8 | pl[3];
			if ((words + 1) * 4 > len)
				return -MM_DROP_RTCP_MALFORMED;
			return GUARD_RTCP;
		}
		/* RTP: 12-byte header plus its CSRC list. */
		if ((b >> 6) != 2 || len < GUARD_RTP_HLEN + 4u * (b & 0x0F))
			return -MM_DROP_RTP_MALFORMED;
		return GUARD_RTP;
	}
	/* 4..15, ZRTP (16..19), TURN channels (64..79), 80..127, 192..255:
	 * nothing mmdp serves. */
	return -MM_DROP_DEMUX_UNKNOWN;
}

SEC("xdp")
int mm_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 flen = bpf_xdp_get_buff_len(ctx);
	struct guard_pkt p = {};

	/* 1. Not an IP packet with ports in the media range: pass. */
	int r = guard_parse(data, end, &p);
	if (r >= 0)
		return guard_pass((__u32)r, flen);
	if (!guard_has_ports(p.proto))
		return guard_pass(MM_DROP_L4_UNSUPPORTED, flen);
	__be16 *ports = (__be16 *)p.l4;
	if ((void *)(ports + 2) > end)
		return guard_pass(MM_DROP_L4_MALFORMED, flen);
	__u32 zero = 0;
	struct mm_guard_config *cfg = bpf_map_lookup_elem(&mmg_config, &zero);
	if (!cfg)
		return guard_pass(MM_DROP_NONE, flen);
	__u16 dport = bpf_ntohs(ports[1]);
	if (!cfg->port_lo || dport < cfg->port_lo || dport > cfg->port_hi)
		return guard_pass(MM_DROP_NONE, flen);

	/* 2. On the media range: well-formed UDP only. */
	if (p.frag)
		return guard_drop(MM_DROP_L3_FRAGMENT, flen);
	if (p.proto != IPPROTO_UDP)
		return guard_drop(MM_DROP_L4_UNSUPPORTED, flen);
	if (!p.ip_ok)
		return guard_drop(MM_DROP_L3_MALFORMED, flen);
	struct udphdr *udp = (struct udphdr *)p.l4;
	if ((void *)(udp + 1) > end)
		return guard_drop(MM_DROP_L4_MALFORMED, flen);
	__u32 ulen = bpf_ntohs(udp->len);
	if (ulen < sizeof(*udp) || ulen > p.l4_len)
		return guard_drop(MM_DROP_L4_MALFORMED, flen);
	__u32 plen = ulen - sizeof(*udp);
	const __u8 *pl = (const __u8 *)(udp + 1);
	__u64 now = bpf_ktime_get_ns();

	/* 3. Banned source prefixes, then kicked 5-tuples (a kick never
	 * shadows a live endpoint, as in mmdp). */
	struct mm_guard_prefix pk = {.prefixlen = 128};
	__builtin_memcpy(pk.addr, p.t.remote_addr, 16);
	struct mm_guard_block *blk = bpf_map_lookup_elem(&mmg_prefixes, &pk);
	if (blk && guard_block_live(blk, now, plen))
		return guard_drop(MM_DROP_BLOCKED_PREFIX, flen);
	p.t.remote_port = ports[0];
	p.t.local_port = ports[1];
	struct mm_guard_allow *known = bpf_map_lookup_elem(&mmg_allow, &p.t);
	if (!known) {
		blk = bpf_map_lookup_elem(&mmg_kicked, &p.t);
		if (blk && guard_block_live(blk, now, plen))
			return guard_drop(MM_DROP_BLOCKED, flen);
	}

	/* 4. RFC 7983 first byte, header lengths, RTP version. */
	int kind = guard_classify(pl, plen, end);
	if (kind < 0)
		return guard_drop((__u32)-kind, flen);

	/* 5. Unknown 5-tuples: STUN and DTLS only (ICE, handshakes), within
	 * their source's bucket and the global handshake bucket. Known ones:
	 * their own bucket. */
	if (!known) {
		if (kind == GUARD_RTP || kind == GUARD_RTCP)
			return guard_drop(MM_DROP_UNKNOWN_ENDPOINT, flen);
		if (!guard_rate_unlimited(&cfg->unknown)) {
			struct mm_guard_source sk;
			__builtin_memcpy(sk.addr, p.t.remote_addr, 16);
			struct mm_guard_bucket *b = bpf_map_lookup_elem(&mmg_sources, &sk);
			if (!b) {
				struct mm_guard_bucket fresh = {};
				bpf_map_update_elem(&mmg_sources, &sk, &fresh, BPF_NOEXIST);
				b = bpf_map_lookup_elem(&mmg_sources, &sk);
			}
			if (b && !guard_bucket_take(b, &cfg->unknown, now, plen))
				return guard_drop(MM_DROP_RATE_LIMITED, flen);
		}
		struct mm_guard_bucket *hs = bpf_map_lookup_elem(&mmg_handshake, &zero);
		if (hs && !guard_bucket_take(hs, &cfg->handshake, now, plen))
			return guard_drop(MM_DROP_HANDSHAKE_RATE_LIMITED, flen);
	} else {
		if (!guard_bucket_take(&known->bucket, &cfg->known, now, plen))
			return guard_drop(MM_DROP_RATE_LIMITED, flen);
		known->packets++;
		known->bytes += plen;
	}

	/* 6. Accepted media: into the queue's AF_XDP socket when redirecting
	 * (XDP_PASS if that queue has none), else to the kernel. */
	if (cfg->flags & MM_GUARD_F_REDIRECT) {
		long act = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
		if (act == XDP_REDIRECT) {
			guard_count(MM_GUARD_REDIRECT, MM_DROP_NONE, flen);
			return XDP_REDIRECT;
		}
	}
	guard_count(MM_GUARD_ACCEPT, MM_DROP_NONE, flen);
	return XDP_PASS;
}

/* No GPL-only helper is used. */
char LICENSE[] SEC("license") = "Proprietary";
