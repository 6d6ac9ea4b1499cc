/* RTP: rtp_parse / rtp_parse_header, the RFC 8285 header extensions (one-
 * and two-byte forms) as mmdp reads them (audio level, abs-send-time,
 * transport-cc, RID: found by id), the VP8/H.264 keyframe checks, RTX
 * parse/restore/build and a rebuild of what parsed. */
#include <string.h>

#include "dataplane/proto/codec.h"
#include "dataplane/proto/rtp.h"
#include "dataplane/proto/rtx.h"
#include "dataplane/proto/twcc.h"
#include "fuzz.h"

static void extensions(const struct rtp_header *h)
{
	struct rtp_ext_elem e, all[32];
	size_t off = 0, n = 0;
	int rc;
	while ((rc = rtp_ext_next(h, &off, &e)) == 1) {
		FUZZ_INSIDE(e.data, e.len, h->ext_data, h->ext_len);
		FUZZ_CHECK(off <= h->ext_len);
		fuzz_use(e.data, e.len);
		if (n < 32)
			all[n++] = e;
	}
	/* The ids mmdp is configured with (SDP extmap: 1..14 in browsers),
	 * and their readers. */
	for (uint8_t id = 1; id <= 15; id++) {
		if (rtp_ext_find(h, id, &e) != 1)
			continue;
		FUZZ_INSIDE(e.data, e.len, h->ext_data, h->ext_len);
		uint16_t seq;
		if (twcc_ext_seq(&e, &seq) == 0)
			fuzz_use(&seq, sizeof(seq));
		if (e.len >= 1) /* audio level: V + level */
			fuzz_use(e.data, 1);
		if (e.len == 3) /* abs-send-time: 24 bits */
			fuzz_use(e.data, 3);
	}
	(void)rtp_ext_find(h, 255, &e);
	/* Rebuild from the parsed elements and parse again: the builder must
	 * accept what the parser returned, or refuse it cleanly. */
	uint8_t out[RTP_MAX_PACKET + 64];
	struct rtp_build_params p = {.marker = h->marker,
				     .payload_type = h->payload_type,
				     .seq = h->seq,
				     .timestamp = h->timestamp,
				     .ssrc = h->ssrc,
				     .csrc_count = h->csrc_count,
				     .csrc = h->csrc,
				     .n_ext = n,
				     .ext = all,
				     .padding_len = h->padding_len};
	int len = rtp_build(out, sizeof(out), &p, h->payload, h->payload_len);
	if (len > 0) {
		struct rtp_header h2;
		FUZZ_CHECK(rtp_parse(out, (size_t)len, &h2) == 0);
		FUZZ_CHECK(h2.seq == h->seq && h2.ssrc == h->ssrc &&
			   h2.payload_len == h->payload_len);
		FUZZ_CHECK(memcmp(h2.payload, h->payload, h->payload_len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_header h;
	if (rtp_parse_header(data, size, &h) == 0) {
		FUZZ_CHECK(h.header_len <= size);
		FUZZ_INSIDE(h.ext_data, h.ext_len, data, size);
		(void)rtp_ext_find(&h, 1, &(struct rtp_ext_elem){0});
	}
	if (rtp_parse(data, size, &h) == 0) {
		FUZZ_CHECK(h.header_len + h.payload_len + h.padding_len == size);
		FUZZ_INSIDE(h.payload, h.payload_len, data, size);
		FUZZ_INSIDE(h.ext_data, h.ext_len, data, size);
		FUZZ_CHECK(h.csrc_count <= RTP_MAX_CSRC);
		if (h.extension)
			extensions(&h);
		for (int c = MM_CODEC_UNKNOWN; c <= MM_CODEC_H264 + 1; c++)
			(void)codec_keyframe_start((enum mm_codec)c, h.payload, h.payload_len);
		struct codec_vp8_desc d;
		if (codec_vp8_desc_parse(h.payload, h.payload_len, &d) == 0)
			FUZZ_CHECK(d.header_len <= h.payload_len);
	}
	/* The packet as an RTX one: parse, restore, and RTX-wrap it. */
	struct rtx_info ri;
	if (rtx_parse(data, size, &ri) == 0)
		FUZZ_INSIDE(ri.payload, ri.payload_len, data, size);
	uint8_t buf[RTP_MAX_PACKET + 64];
	int n = rtx_restore(buf, sizeof(buf), data, size, 1234, 96);
	if (n > 0)
		FUZZ_CHECK(rtp_parse(buf, (size_t)n, &h) == 0);
	n = rtx_build(buf, sizeof(buf), data, size, 5678, 97, 42);
	if (n > 0) {
		FUZZ_CHECK(rtx_parse(buf, (size_t)n, &ri) == 0);
		FUZZ_CHECK(ri.rtp.ssrc == 5678);
	}
	return 0;
}
