/* STUN Binding messages for ICE-lite: see stun.h. */
#include "dataplane/proto/stun.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Attributes whose meaning we know (comprehension-required range only:
 * the others may be ignored by anyone). */
static bool known_required(uint16_t t)
{
	switch (t) {
	case STUN_ATTR_MAPPED_ADDRESS:
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_ERROR_CODE:
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
	case STUN_ATTR_PRIORITY:
	case STUN_ATTR_USE_CANDIDATE:
		return true;
	default:
		return false;
	}
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *out)
{
	if (len < 1)
		return -ENODATA;
	if (buf[0] & 0xC0)
		return -EPROTO; /* RTP/RTCP (0x80..0xBF) and the like */
	if (len < STUN_HEADER_LEN)
		return -ENODATA;
	if (rd32(buf + 4) != STUN_MAGIC_COOKIE)
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->type = rd16(buf);
	out->length = rd16(buf + 2);
	memcpy(out->txid, buf + 8, 12);
	if (out->length % 4)
		return -EBADMSG;
	size_t end = STUN_HEADER_LEN + (size_t)out->length;
	if (end > len)
		return -ENODATA;
	if (end < len)
		return -EBADMSG; /* one message per datagram: trailing bytes */

	size_t off = STUN_HEADER_LEN;
	while (off < end) {
		if (end - off < 4)
			return -EBADMSG; /* cannot happen with length % 4 == 0 */
		uint16_t t = rd16(buf + off);
		uint16_t alen = rd16(buf + off + 2);
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > end - off - 4)
			return -EBADMSG;
		if (out->fingerprint_off)
			return -EBADMSG; /* FINGERPRINT is last */
		if (out->integrity_off && t != STUN_ATTR_FINGERPRINT)
			return -EBADMSG; /* only FINGERPRINT may follow MESSAGE-INTEGRITY */
		const uint8_t *v = buf + off + 4;
		switch (t) {
		case STUN_ATTR_USERNAME:
			if (!out->username_off) {
				out->username_off = (uint16_t)(off + 4);
				out->username_len = alen;
			}
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (alen != STUN_HMAC_LEN)
				return -EBADMSG;
			out->integrity_off = (uint16_t)off;
			break;
		case STUN_ATTR_FINGERPRINT:
			if (alen != 4)
				return -EBADMSG;
			out->fingerprint_off = (uint16_t)off;
			break;
		case STUN_ATTR_PRIORITY:
			if (alen != 4)
				return -EBADMSG;
			if (!out->has_priority) {
				out->has_priority = true;
				out->priority = rd32(v);
			}
			break;
		case STUN_ATTR_USE_CANDIDATE:
			if (alen != 0)
				return -EBADMSG;
			out->use_candidate = true;
			break;
		case STUN_ATTR_ICE_CONTROLLED:
		case STUN_ATTR_ICE_CONTROLLING:
			if (alen != 8)
				return -EBADMSG;
			if (!out->ice_controlled && !out->ice_controlling)
				out->tie_breaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
			if (t == STUN_ATTR_ICE_CONTROLLED)
				out->ice_controlled = true;
			else
				out->ice_controlling = true;
			break;
		default:
			if (t < 0x8000u && !known_required(t) && !out->unknown_required)
				out->unknown_required = t;
			break;
		}
		off += 4 + padded;
	}
	return 0;
}

/* CRC-32, reflected polynomial 0xEDB88320, four bits at a time: a
 * 16-entry table is small enough to stay in cache next to the packet. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
	0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		c ^= buf[i];
		c = (c >> 4) ^ crc_nibble[c & 15];
		c = (c >> 4) ^ crc_nibble[c & 15];
	}
	return ~c;
}

bool stun_check_fingerprint(const uint8_t *buf, size_t len, const struct stun_msg *m)
{
	size_t off = m->fingerprint_off;
	if (!off || off + 8 > len)
		return false;
	return (stun_crc32(buf, off) ^ STUN_FINGERPRINT_XOR) == rd32(buf + off + 4);
}

/* HMAC-SHA1 of msg[0..mi_off) with the header length field set to end
 * right after a MESSAGE-INTEGRITY at mi_off. msg is writable scratch. */
static bool integrity_hmac(uint8_t *msg, size_t mi_off, const uint8_t *key, size_t key_len,
			   uint8_t mac[STUN_HMAC_LEN])
{
	unsigned int mac_len = 0;
	wr16(msg + 2, (uint16_t)(mi_off + 4 + STUN_HMAC_LEN - STUN_HEADER_LEN));
	if (key_len > (size_t)INT32_MAX)
		return false;
	if (!HMAC(EVP_sha1(), key, (int)key_len, msg, mi_off, mac, &mac_len))
		return false;
	return mac_len == STUN_HMAC_LEN;
}

bool stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m, const uint8_t *key,
			  size_t key_len)
{
	size_t off = m->integrity_off;
	if (!off || off + 4 + STUN_HMAC_LEN > len || off > STUN_MAX_MSG)
		return false;
	uint8_t copy[STUN_MAX_MSG];
	uint8_t mac[STUN_HMAC_LEN];
	memcpy(copy, buf, off);
	if (!integrity_hmac(copy, off, key, key_len, mac))
		return false;
	/* Constant-time compare: the MAC authenticates the peer. */
	uint8_t diff = 0;
	for (size_t i = 0; i < STUN_HMAC_LEN; i++)
		diff |= (uint8_t)(mac[i] ^ buf[off + 4 + i]);
	return diff == 0;
}

int stun_build_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[12], const struct net_addr *addr,
			       uint8_t family, uint16_t port, const uint8_t *key, size_t key_len)
{
	if (family != 4 && family != 6)
		return -EINVAL;
	size_t alen = family == 4 ? 8 : 20; /* XOR-MAPPED-ADDRESS value */
	size_t mi_off = STUN_HEADER_LEN + 4 + alen;
	size_t total = mi_off + 4 + STUN_HMAC_LEN + 8;
	if (cap < total)
		return -E2BIG;

	wr16(buf, STUN_BINDING_SUCCESS);
	wr16(buf + 2, 0); /* set below */
	wr32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, 12);

	/* XOR-MAPPED-ADDRESS: port XOR the cookie's top half, address XOR
	 * the cookie (IPv4) or the cookie and transaction id (IPv6). */
	uint8_t *a = buf + STUN_HEADER_LEN;
	wr16(a, STUN_ATTR_XOR_MAPPED_ADDRESS);
	wr16(a + 2, (uint16_t)alen);
	a[4] = 0;
	a[5] = family == 4 ? 0x01 : 0x02;
	wr16(a + 6, (uint16_t)(port ^ (STUN_MAGIC_COOKIE >> 16)));
	const uint8_t *mask = buf + 4; /* cookie then txid, as just written */
	const uint8_t *ip = family == 4 ? addr->b + 12 : addr->b;
	for (size_t i = 0; i < alen - 4; i++)
		a[8 + i] = (uint8_t)(ip[i] ^ mask[i]);

	/* MESSAGE-INTEGRITY: its HMAC covers the header with a length
	 * ending after it (integrity_hmac sets that). */
	uint8_t *mi = buf + mi_off;
	wr16(mi, STUN_ATTR_MESSAGE_INTEGRITY);
	wr16(mi + 2, STUN_HMAC_LEN);
	if (!integrity_hmac(buf, mi_off, key, key_len, mi + 4))
		return -EINVAL;

	/* FINGERPRINT: over everything before it, with the final length. */
	uint8_t *fp = mi + 4 + STUN_HMAC_LEN;
	wr16(buf + 2, (uint16_t)(total - STUN_HEADER_LEN));
	wr16(fp, STUN_ATTR_FINGERPRINT);
	wr16(fp + 2, 4);
	wr32(fp + 4, stun_crc32(buf, (size_t)(fp - buf)) ^ STUN_FINGERPRINT_XOR);
	return (int)total;
}

int stun_username_split(const uint8_t *buf, const struct stun_msg *m, const uint8_t **local, size_t *local_len,
			const uint8_t **remote, size_t *remote_len)
{
	if (!m->username_off)
		return -ENOENT;
	const uint8_t *u = buf + m->username_off;
	const uint8_t *colon = memchr(u, ':', m->username_len);
	if (!colon)
		return -EBADMSG;
	*local = u;
	*local_len = (size_t)(colon - u);
	*remote = colon + 1;
	*remote_len = m->username_len - *local_len - 1;
	return 0;
}
