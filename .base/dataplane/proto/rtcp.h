/* RTCP (RFC 3550 section 6) compound packets and the packet types an SFU
 * meets: SR, RR, SDES, BYE, APP, generic NACK (RFC 4585), PLI (RFC 4585),
 * FIR (RFC 5104) and REMB (draft-alvestrand-rmcat-remb).
 * No DPDK, no allocation: parsed structures point into the caller's buffer.
 * Errors follow rtp.h: -ENODATA truncated, -EBADMSG inconsistent, -E2BIG
 * oversized (or a build buffer too small), -EPROTO wrong version / not this
 * packet type, -EINVAL invalid builder parameters. */
#ifndef MM_RTCP_H
#define MM_RTCP_H

#include <stddef.h>
#include <stdint.h>

#define RTCP_HEADER_LEN 4
#define RTCP_MAX_PACKETS 16 /* per compound packet */
#define RTCP_MAX_COUNT 31   /* RC / SC: 5-bit field */
#define RTCP_REPORT_BLOCK_LEN 24

/* Packet types. RFC 5761: RTCP types live in 192..223. */
#define RTCP_PT_MIN 192
#define RTCP_PT_MAX 223
#define RTCP_PT_SR 200
#define RTCP_PT_RR 201
#define RTCP_PT_SDES 202
#define RTCP_PT_BYE 203
#define RTCP_PT_APP 204
#define RTCP_PT_RTPFB 205 /* transport-layer feedback (RFC 4585) */
#define RTCP_PT_PSFB 206  /* payload-specific feedback (RFC 4585) */

#define RTCP_RTPFB_FMT_NACK 1 /* generic NACK */
#define RTCP_PSFB_FMT_PLI 1
#define RTCP_PSFB_FMT_FIR 4   /* RFC 5104 */
#define RTCP_PSFB_FMT_AFB 15  /* application layer feedback: REMB */

/* ---- Compound packets ------------------------------------------------ */

/* One packet of a compound packet. */
struct rtcp_packet {
	uint8_t pt;
	uint8_t count_or_fmt;  /* RC, SC, APP subtype or FB FMT (5 bits) */
	uint8_t padding_len;   /* P bit: padding octets at the end, else 0 */
	uint32_t ssrc;         /* first word after the header (packet sender for
				* SR/RR/APP/FB, first SSRC/CSRC of SDES/BYE),
				* 0 when the packet has no body */
	const uint8_t *data;   /* the packet, starting at its 4-byte header */
	size_t len;            /* whole packet: 4 * (length + 1) octets */
};

struct rtcp_compound {
	size_t n;
	struct rtcp_packet pkt[RTCP_MAX_PACKETS];
};

/* The first packet must be SR or RR (RFC 3550 6.1). Without this flag
 * reduced-size RTCP (RFC 5506) is accepted: any packet may come first. */
#define RTCP_COMPOUND_STRICT 0x1u

/* Split buf into its packets and validate it: version 2 everywhere, PT in
 * 192..223 (-EPROTO otherwise), every length word within the buffer
 * (-ENODATA), the lengths adding up to exactly len (a len that is not a
 * multiple of 4 is -EBADMSG), padding only on the last packet and its
 * count within that packet (-EBADMSG), at most RTCP_MAX_PACKETS packets
 * (-E2BIG), and the first packet SR or RR with RTCP_COMPOUND_STRICT
 * (-EBADMSG). The body of every known packet (SR, RR, SDES, BYE, APP,
 * RTPFB, PSFB and their NACK/PLI/FIR/REMB forms) is checked with the
 * parsers below and their error is returned. Other PTs, FB FMTs and AFB
 * messages that are not REMB are kept undecoded. Returns 0. */
int rtcp_parse_compound(const uint8_t *buf, size_t len, unsigned flags,
			struct rtcp_compound *out);

/* Read the header of the packet at the start of buf (len may extend past
 * it, e.g. the rest of a compound packet): version, PT range, length word
 * and padding. Returns the packet length (> 0) or a negative error. */
int rtcp_packet_parse(const uint8_t *buf, size_t len, struct rtcp_packet *out);

/* ---- Type parsers and builders ----------------------------------------
 * Parsers take exactly one packet (e.g. the data/len of a struct
 * rtcp_packet): len must equal the packet's length word (-ENODATA when
 * shorter, -EBADMSG when longer). A packet of another type is -EPROTO.
 * Builders write one packet (no padding) into buf and return its length,
 * -E2BIG when cap is too small, or -EINVAL for invalid parameters. */

struct rtcp_report_block {
	uint32_t ssrc;
	uint8_t fraction_lost;      /* fixed point, /256 */
	int32_t cumulative_lost;    /* signed 24 bits; builders clamp */
	uint32_t ext_highest_seq;
	uint32_t jitter;
	uint32_t lsr;               /* middle 32 bits of the last SR NTP time */
	uint32_t dlsr;              /* 1/65536 s */
};

struct rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;               /* seconds << 32 | fraction */
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
	uint8_t rc;
	struct rtcp_report_block rb[RTCP_MAX_COUNT];
	const uint8_t *ext;         /* profile-specific extension, may be NULL */
	size_t ext_len;             /* multiple of 4 to build */
};

struct rtcp_rr {
	uint32_t ssrc;
	uint8_t rc;
	struct rtcp_report_block rb[RTCP_MAX_COUNT];
	const uint8_t *ext;
	size_t ext_len;
};

int rtcp_sr_parse(const uint8_t *buf, size_t len, struct rtcp_sr *out);
int rtcp_rr_parse(const uint8_t *buf, size_t len, struct rtcp_rr *out);
int rtcp_sr_build(uint8_t *buf, size_t cap, const struct rtcp_sr *sr);
int rtcp_rr_build(uint8_t *buf, size_t cap, const struct rtcp_rr *rr);

/* The 32 bits of an NTP timestamp that LSR carries. */
static inline uint32_t rtcp_ntp_mid32(uint64_t ntp) { return (uint32_t)(ntp >> 16); }

/* SDES (RFC 3550 6.5). Items of all chunks are kept in one array; chunk
 * i owns item[chunk[i].first_item .. + chunk[i].n_items). */
enum rtcp_sdes_type {
	RTCP_SDES_END = 0,
	RTCP_SDES_CNAME = 1,
	RTCP_SDES_NAME = 2,
	RTCP_SDES_EMAIL = 3,
	RTCP_SDES_PHONE = 4,
	RTCP_SDES_LOC = 5,
	RTCP_SDES_TOOL = 6,
	RTCP_SDES_NOTE = 7,
	RTCP_SDES_PRIV = 8,
};

#define RTCP_SDES_MAX_ITEMS 64 /* our limit over all chunks (-E2BIG) */

struct rtcp_sdes_item {
	uint8_t type;  /* 1..255 */
	uint8_t len;
	const uint8_t *data; /* not NUL-terminated */
};

struct rtcp_sdes_chunk {
	uint32_t ssrc;
	uint8_t first_item;
	uint8_t n_items;
};

struct rtcp_sdes {
	uint8_t n_chunks;
	struct rtcp_sdes_chunk chunk[RTCP_MAX_COUNT];
	uint8_t n_items;
	struct rtcp_sdes_item item[RTCP_SDES_MAX_ITEMS];
};

int rtcp_sdes_parse(const uint8_t *buf, size_t len, struct rtcp_sdes *out);
int rtcp_sdes_build(uint8_t *buf, size_t cap, const struct rtcp_sdes *sdes);
/* First item of this type in the chunk of ssrc, or NULL. */
const struct rtcp_sdes_item *rtcp_sdes_find(const struct rtcp_sdes *sdes, uint32_t ssrc,
					    uint8_t type);

/* BYE (RFC 3550 6.6). */
struct rtcp_bye {
	uint8_t count;
	uint32_t ssrc[RTCP_MAX_COUNT];
	const uint8_t *reason;  /* NULL when absent; not NUL-terminated */
	uint8_t reason_len;
};

int rtcp_bye_parse(const uint8_t *buf, size_t len, struct rtcp_bye *out);
int rtcp_bye_build(uint8_t *buf, size_t cap, const struct rtcp_bye *bye);

/* APP (RFC 3550 6.7). */
struct rtcp_app {
	uint8_t subtype;        /* 0..31 */
	uint32_t ssrc;
	char name[4];           /* four ASCII characters, not NUL-terminated */
	const uint8_t *data;
	size_t data_len;        /* multiple of 4 to build */
};

int rtcp_app_parse(const uint8_t *buf, size_t len, struct rtcp_app *out);
int rtcp_app_build(uint8_t *buf, size_t cap, const struct rtcp_app *app);

/* Common feedback message header (RFC 4585 6.1), PT RTPFB or PSFB. */
struct rtcp_fb {
	uint8_t pt;
	uint8_t fmt;
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	const uint8_t *fci;
	size_t fci_len;
};

int rtcp_fb_parse(const uint8_t *buf, size_t len, struct rtcp_fb *out);

/* Generic NACK (RTPFB FMT 1, RFC 4585 6.2.1): lost packet pid and the
 * following 16 packets for every set bit of blp (bit i: pid + i + 1). */
struct rtcp_nack_item {
	uint16_t pid;
	uint16_t blp;
};

struct rtcp_nack {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	size_t n_items;          /* >= 1 */
	const uint8_t *fci;      /* n_items * 4 octets, read by rtcp_nack_get */
};

int rtcp_nack_parse(const uint8_t *buf, size_t len, struct rtcp_nack *out);
struct rtcp_nack_item rtcp_nack_get(const struct rtcp_nack *nack, size_t i);
/* Write the lost sequence numbers, in FCI order, into seq. Returns how
 * many there are, or -E2BIG when more than cap (seq then holds the first
 * cap of them). */
int rtcp_nack_expand(const struct rtcp_nack *nack, uint16_t *seq, size_t cap);
/* Pack sequence numbers into PID/BLP items (each seq joins the current
 * item when it lies 1..16 after its pid, else starts a new one: give them
 * in increasing order for the fewest items). Returns the item count or
 * -E2BIG when more than cap are needed. */
int rtcp_nack_pack(const uint16_t *seq, size_t n, struct rtcp_nack_item *items, size_t cap);
int rtcp_nack_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    const struct rtcp_nack_item *items, size_t n_items);

/* PLI (PSFB FMT 1, RFC 4585 6.3.1): no FCI. */
struct rtcp_pli {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
};

int rtcp_pli_parse(const uint8_t *buf, size_t len, struct rtcp_pli *out);
int rtcp_pli_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* FIR (PSFB FMT 4, RFC 5104 4.3.1): one entry per requested SSRC; the
 * media source field is 0 on build and ignored on parse. */
struct rtcp_fir_entry {
	uint32_t ssrc;
	uint8_t seq_nr;
};

struct rtcp_fir {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	size_t n_entries;        /* >= 1 */
	const uint8_t *fci;      /* n_entries * 8 octets, read by rtcp_fir_get */
};

int rtcp_fir_parse(const uint8_t *buf, size_t len, struct rtcp_fir *out);
struct rtcp_fir_entry rtcp_fir_get(const struct rtcp_fir *fir, size_t i);
int rtcp_fir_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const struct rtcp_fir_entry *entries, size_t n_entries);

/* REMB (PSFB FMT 15 with identifier "REMB"): bitrate = mantissa << exp,
 * saturated to UINT64_MAX. A PSFB FMT 15 message that is not REMB is
 * -EPROTO. The builder rounds the bitrate down to 18 bits of mantissa. */
#define RTCP_REMB_MAX_SSRC 255

struct rtcp_remb {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;     /* 0 per the draft */
	uint64_t bitrate;        /* bits per second */
	uint8_t n_ssrc;
	uint32_t ssrc[RTCP_REMB_MAX_SSRC];
};

int rtcp_remb_parse(const uint8_t *buf, size_t len, struct rtcp_remb *out);
int rtcp_remb_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
		    const uint32_t *ssrc, size_t n_ssrc);

/* ---- Building compound packets ----------------------------------------
 *   struct rtcp_writer w;
 *   rtcp_writer_init(&w, buf, sizeof(buf));
 *   rtcp_writer_add(&w, rtcp_rr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &rr));
 *   rtcp_writer_add(&w, rtcp_sdes_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sdes));
 *   int len = rtcp_writer_finish(&w);   // total length or the first error
 */
struct rtcp_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;     /* first error of an add, else 0 */
};

void rtcp_writer_init(struct rtcp_writer *w, uint8_t *buf, size_t cap);
static inline uint8_t *rtcp_writer_ptr(const struct rtcp_writer *w) { return w->buf + w->len; }
static inline size_t rtcp_writer_room(const struct rtcp_writer *w) { return w->cap - w->len; }
/* Account for a builder's result written at rtcp_writer_ptr(): a length
 * is appended, a negative error is latched (later adds are then ignored).
 * Returns built. */
int rtcp_writer_add(struct rtcp_writer *w, int built);
/* Total length (> 0), the first latched error, or -ENODATA when empty. */
int rtcp_writer_finish(const struct rtcp_writer *w);

#endif
