/* RTP and RTCP whose bytes say who sent them. */
#include "tools/sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/rtp.h"

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint8_t pattern_byte(uint32_t ssrc, uint32_t index, size_t k)
{
	uint32_t x = ssrc * 2654435761u + index * 40503u;
	return (uint8_t)((x >> ((k & 3) * 8)) + k);
}

void sim_payload_fill(uint8_t *buf, size_t len, uint32_t ssrc, uint32_t index)
{
	uint8_t tag[SIM_PAYLOAD_TAG_LEN];
	put32(tag, SIM_PAYLOAD_MAGIC);
	put32(tag + 4, ssrc);
	put32(tag + 8, index);
	size_t n = len < sizeof(tag) ? len : sizeof(tag);
	memcpy(buf, tag, n);
	for (size_t k = n; k < len; k++)
		buf[k] = pattern_byte(ssrc, index, k);
}

int sim_payload_check(const uint8_t *buf, size_t len, uint32_t *ssrc, uint32_t *index)
{
	if (len < SIM_PAYLOAD_TAG_LEN || get32(buf) != SIM_PAYLOAD_MAGIC)
		return -EBADMSG;
	uint32_t s = get32(buf + 4), i = get32(buf + 8);
	for (size_t k = SIM_PAYLOAD_TAG_LEN; k < len; k++)
		if (buf[k] != pattern_byte(s, i, k))
			return -EBADMSG;
	*ssrc = s;
	*index = i;
	return 0;
}

int sim_rtp_build(uint8_t *buf, size_t cap, uint32_t ssrc, uint8_t pt, uint16_t seq,
		  uint32_t ts, bool marker, uint32_t index, size_t payload_len)
{
	return sim_rtp_build_level(buf, cap, ssrc, pt, seq, ts, marker, index, payload_len, 0, 0);
}

int sim_rtp_build_level(uint8_t *buf, size_t cap, uint32_t ssrc, uint8_t pt, uint16_t seq,
			uint32_t ts, bool marker, uint32_t index, size_t payload_len,
			uint8_t level_id, uint8_t level_byte)
{
	uint8_t payload[RTP_MAX_PACKET];
	if (payload_len < SIM_PAYLOAD_TAG_LEN || payload_len > sizeof(payload) - RTP_HEADER_MIN)
		return -EINVAL;
	sim_payload_fill(payload, payload_len, ssrc, index);
	struct rtp_build_params p = {
		.marker = marker,
		.payload_type = pt,
		.seq = seq,
		.timestamp = ts,
		.ssrc = ssrc,
	};
	struct rtp_ext_elem el = {.id = level_id, .len = 1, .data = &level_byte};
	if (level_id) {
		p.n_ext = 1;
		p.ext = &el;
	}
	return rtp_build(buf, cap, &p, payload, payload_len);
}

static const char app_name[4] = {'M', 'M', 'S', 'I'};

int sim_rtcp_build(uint8_t *buf, size_t cap, uint32_t ssrc, uint32_t index)
{
	struct rtcp_sr sr;
	struct rtcp_sdes sdes;
	memset(&sr, 0, sizeof(sr));
	sr.ssrc = ssrc;
	sr.ntp = (uint64_t)(index + 1u) << 32 | (ssrc ^ 0x5a5a5a5au);
	sr.rtp_ts = index * 48000u;
	sr.packet_count = index * 50u;
	sr.octet_count = index * 8000u;

	char cname[32];
	int cl = snprintf(cname, sizeof(cname), "sim-%08x@mmsite", ssrc);
	memset(&sdes, 0, sizeof(sdes));
	sdes.n_chunks = 1;
	sdes.chunk[0].ssrc = ssrc;
	sdes.chunk[0].first_item = 0;
	sdes.chunk[0].n_items = 1;
	sdes.n_items = 1;
	sdes.item[0].type = RTCP_SDES_CNAME;
	sdes.item[0].len = (uint8_t)cl;
	sdes.item[0].data = (const uint8_t *)cname;

	uint8_t app_data[8];
	put32(app_data, ssrc);
	put32(app_data + 4, index);
	struct rtcp_app app = {.subtype = 0, .ssrc = ssrc, .data = app_data,
			       .data_len = sizeof(app_data)};
	memcpy(app.name, app_name, 4);

	struct rtcp_writer w;
	rtcp_writer_init(&w, buf, cap);
	rtcp_writer_add(&w, rtcp_sr_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sr));
	rtcp_writer_add(&w, rtcp_sdes_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &sdes));
	rtcp_writer_add(&w, rtcp_app_build(rtcp_writer_ptr(&w), rtcp_writer_room(&w), &app));
	return rtcp_writer_finish(&w);
}

int sim_rtcp_identify(const uint8_t *buf, size_t len, uint32_t *ssrc, uint32_t *index)
{
	struct rtcp_compound c;
	int rc = rtcp_parse_compound(buf, len, 0, &c);
	if (rc)
		return rc;
	for (size_t i = 0; i < c.n; i++) {
		struct rtcp_app app;
		if (c.pkt[i].pt != RTCP_PT_APP)
			continue;
		if (rtcp_app_parse(c.pkt[i].data, c.pkt[i].len, &app) != 0)
			continue;
		if (memcmp(app.name, app_name, 4) != 0 || app.data_len < 8)
			continue;
		*ssrc = get32(app.data);
		*index = get32(app.data + 4);
		return 0;
	}
	return -EPROTO;
}
