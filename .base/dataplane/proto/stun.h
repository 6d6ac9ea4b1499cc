/* STUN (RFC 5389 / RFC 8489) Binding messages, as much as an ICE-lite
 * agent (RFC 8445) needs to answer connectivity checks: parse a request,
 * verify its FINGERPRINT and MESSAGE-INTEGRITY (short-term credentials),
 * and build the Binding success response with XOR-MAPPED-ADDRESS.
 * No DPDK, no allocation: parsed fields are offsets into the caller's
 * buffer. Errors follow dataplane/proto/rtp.h. */
#ifndef MM_STUN_H
#define MM_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proto/net.h"

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_HMAC_LEN 20 /* HMAC-SHA1 */
/* Largest message whose MESSAGE-INTEGRITY stun_check_integrity verifies
 * (it hashes a copy: the caller's buffer is const). A UDP datagram on a
 * 1500-byte MTU is smaller. */
#define STUN_MAX_MSG 2048

/* Message types (method and class already interleaved, RFC 5389 6). */
#define STUN_BINDING_REQUEST 0x0001u
#define STUN_BINDING_INDICATION 0x0011u
#define STUN_BINDING_SUCCESS 0x0101u
#define STUN_BINDING_ERROR 0x0111u

/* Attribute types the parser knows. */
#define STUN_ATTR_MAPPED_ADDRESS 0x0001u
#define STUN_ATTR_USERNAME 0x0006u
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008u
#define STUN_ATTR_ERROR_CODE 0x0009u
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000Au
#define STUN_ATTR_REALM 0x0014u
#define STUN_ATTR_NONCE 0x0015u
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020u
#define STUN_ATTR_PRIORITY 0x0024u
#define STUN_ATTR_USE_CANDIDATE 0x0025u
#define STUN_ATTR_SOFTWARE 0x8022u
#define STUN_ATTR_FINGERPRINT 0x8028u
#define STUN_ATTR_ICE_CONTROLLED 0x8029u
#define STUN_ATTR_ICE_CONTROLLING 0x802Au

/* A parsed message. Offsets are from the start of the message; 0 means
 * "absent" (no attribute can start before byte 20). */
struct stun_msg {
	uint16_t type;   /* message type, e.g. STUN_BINDING_REQUEST */
	uint16_t length; /* header length field: bytes after the header */
	uint8_t txid[12];
	uint16_t username_off; /* USERNAME value (not its TLV header) */
	uint16_t username_len;
	uint16_t integrity_off;   /* MESSAGE-INTEGRITY TLV header */
	uint16_t fingerprint_off; /* FINGERPRINT TLV header */
	bool has_priority;
	bool use_candidate;
	bool ice_controlling;
	bool ice_controlled;
	uint32_t priority;     /* PRIORITY, when has_priority */
	uint64_t tie_breaker;  /* ICE-CONTROLLING/CONTROLLED value */
	/* First comprehension-required attribute (type < 0x8000) we do not
	 * know, 0 when none: a request carrying one deserves a 420. */
	uint16_t unknown_required;
};

/* Parse a STUN message that is the whole of buf (one UDP payload).
 * Returns 0, or
 *   -EPROTO   not STUN: first two bits not 0, or wrong magic cookie
 *   -ENODATA  truncated: shorter than the header or its length field says
 *   -EBADMSG  inconsistent: length not a multiple of 4, bytes after the
 *             declared length, an attribute overrunning the message or
 *             with a wrong size for its type, attributes after
 *             FINGERPRINT, anything but FINGERPRINT after
 *             MESSAGE-INTEGRITY. */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *out);

/* Cheap demux test (RFC 7983: first byte 0..3) plus the cookie; for
 * telling STUN from RTP/RTCP/DTLS before parsing. */
static inline bool stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 && buf[4] == 0x21 && buf[5] == 0x12 &&
	       buf[6] == 0xA4 && buf[7] == 0x42;
}

/* CRC-32 (ISO-HDLC, as zlib's crc32) of len bytes. */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

/* m (parsed from buf) has a FINGERPRINT and it is right: CRC-32 of the
 * message before it, XOR 0x5354554e. */
bool stun_check_fingerprint(const uint8_t *buf, size_t len, const struct stun_msg *m);

/* m (parsed from buf) has a MESSAGE-INTEGRITY and it is right: HMAC-SHA1
 * with key over the message before it, the header length field counting
 * up to the end of MESSAGE-INTEGRITY (RFC 5389 15.4). For ICE's
 * short-term credentials the key is the password as is. False as well
 * for a message longer than STUN_MAX_MSG. */
bool stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m, const uint8_t *key,
			  size_t key_len);

/* Write a Binding success response to transaction txid into buf:
 * XOR-MAPPED-ADDRESS (addr and port, family 4 with addr IPv4-mapped, or
 * 6), then MESSAGE-INTEGRITY with key, then FINGERPRINT. Returns the
 * message length, -E2BIG when cap is too small, -EINVAL for another
 * family. */
int stun_build_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[12], const struct net_addr *addr,
			       uint8_t family, uint16_t port, const uint8_t *key, size_t key_len);

/* Split m's USERNAME "local:remote" at its first colon. In a request
 * from an ICE peer, local is our ufrag (the recipient's) and remote the
 * sender's. Pointers are into buf. Returns 0, -ENOENT without USERNAME,
 * -EBADMSG without a colon. */
int stun_username_split(const uint8_t *buf, const struct stun_msg *m, const uint8_t **local, size_t *local_len,
			const uint8_t **remote, size_t *remote_len);

#endif
