/* A simulated participant: one UDP socket in a host namespace, up to two
 * RTP streams, optionally SRTP/SRTCP (one outbound and one inbound
 * mm_srtp session), and a record of what arrived from whom. */
#include "tools/sim/sim.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dataplane/proto/base64.h"
#include "dataplane/proto/rtcp.h"
#include "dataplane/proto/demux.h"
#include "dataplane/proto/rtp.h"

#define RX_BATCH 32
#define RX_BUF 2048
/* libsrtp2 wants 32-bit aligned packets (else mm_srtp bounces them). */
#define PKT_ALIGN __attribute__((aligned(16)))
#define MAX_INDEX (1u << 26) /* bitmap bits; larger indexes are not ours */

static void stream_init(struct sim_stream *s, uint32_t ssrc, enum sim_kind kind, size_t payload)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->kind = kind;
	if (kind == SIM_AUDIO) {
		s->pt = 111;
		s->clock_rate = 48000;
		s->ts_step = 960; /* 20 ms */
		s->payload_len = payload ? payload : 160;
	} else {
		s->pt = 96;
		s->clock_rate = 90000;
		s->ts_step = 3000; /* 30 frames/s, one packet each */
		s->payload_len = payload ? payload : 1100;
	}
	/* Start close to the wrap so that short runs cross it too. */
	s->seq = (uint16_t)(65516u + (ssrc % 8u));
	s->ts = ssrc * 13u;
}

static int random_bytes(uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

/* keys (copied, or random when NULL) for profile into *k. */
static int keys_init(struct mm_srtp_keys *k, enum mm_srtp_profile profile, const uint8_t *keys)
{
	memset(k, 0, sizeof(*k));
	k->profile = profile;
	k->master_len = mm_srtp_master_len(profile);
	if (keys) {
		memcpy(k->master, keys, k->master_len);
		return 0;
	}
	return random_bytes(k->master, k->master_len);
}

static void srtp_free(struct sim_participant *p)
{
	mm_srtp_destroy(p->srtp_tx);
	mm_srtp_destroy(p->srtp_rx);
	p->srtp_tx = p->srtp_rx = NULL;
	p->srtp = MM_SRTP_NONE;
	explicit_bzero(&p->srtp_in_key, sizeof(p->srtp_in_key));
	explicit_bzero(&p->srtp_out_key, sizeof(p->srtp_out_key));
}

/* The participant protects with in_key (mmdp's inbound key for it) and
 * unprotects with out_key (what mmdp protects its copies with). */
static int srtp_open(struct sim_participant *p, const struct sim_participant_conf *c)
{
	if (c->srtp == MM_SRTP_NONE)
		return 0;
	if (mm_srtp_master_len(c->srtp) == 0)
		return -EINVAL;
	int rc = keys_init(&p->srtp_in_key, c->srtp, c->srtp_in_key);
	if (!rc)
		rc = keys_init(&p->srtp_out_key, c->srtp, c->srtp_out_key);
	if (!rc)
		rc = mm_srtp_create(&p->srtp_tx, &p->srtp_in_key, false);
	if (!rc)
		rc = mm_srtp_create(&p->srtp_rx, &p->srtp_out_key, true);
	if (rc) {
		srtp_free(p);
		return rc;
	}
	p->srtp = c->srtp;
	return 0;
}

int sim_participant_open(struct sim_participant *p, const struct sim_participant_conf *c)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (!c->name || strlen(c->name) >= sizeof(p->name) || !c->addr || !c->server_addr)
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", c->name);
	snprintf(p->netns, sizeof(p->netns), "%s", c->netns ? c->netns : "");
	snprintf(p->addr, sizeof(p->addr), "%s", c->addr);
	snprintf(p->server_addr, sizeof(p->server_addr), "%s", c->server_addr);
	snprintf(p->mac, sizeof(p->mac), "%s", c->mac ? c->mac : "");
	p->port = c->port;
	p->server_port = c->server_port;
	int rc = sim_sockaddr_parse(c->server_addr, c->server_port, &p->server, &p->server_len);
	if (rc)
		return rc;
	p->family = p->server.ss_family == AF_INET6 ? 6 : 4;
	if (c->audio_payload && (c->audio_payload < SIM_PAYLOAD_TAG_LEN || c->audio_payload > 1400))
		return -EINVAL;
	if (c->video_payload && (c->video_payload < SIM_PAYLOAD_TAG_LEN || c->video_payload > 1400))
		return -EINVAL;
	if (c->audio_ssrc)
		stream_init(&p->stream[p->n_streams++], c->audio_ssrc, SIM_AUDIO, c->audio_payload);
	if (c->video_ssrc)
		stream_init(&p->stream[p->n_streams++], c->video_ssrc, SIM_VIDEO, c->video_payload);
	rc = srtp_open(p, c);
	if (rc)
		return rc;
	rc = sim_udp_open(p->netns, c->addr, c->port, c->rcvbuf ? c->rcvbuf : 4 << 20, &p->fd);
	if (rc)
		srtp_free(p);
	return rc;
}

static void flows_free(struct sim_participant *p)
{
	for (size_t i = 0; i < p->n_flows; i++) {
		free(p->flows[i].seen);
		free(p->flows[i].rtcp_seen);
	}
	free(p->flows);
	p->flows = NULL;
	p->n_flows = p->cap_flows = 0;
}

void sim_participant_close(struct sim_participant *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	flows_free(p);
	srtp_free(p);
}

void sim_participant_reset_rx(struct sim_participant *p)
{
	flows_free(p);
	p->rx_datagrams = p->rx_bytes = p->rx_foreign = p->rx_mmdp_rtcp = 0;
	p->rx_bad_payload = p->rx_wrong_source = 0;
	p->rx_srtp_fail = p->rx_srtp_replay = 0;
}

static int send_to_server(struct sim_participant *p, const void *buf, size_t len)
{
	ssize_t n = sendto(p->fd, buf, len, 0, (const struct sockaddr *)&p->server, p->server_len);
	if (n < 0) {
		p->send_errors++;
		return -errno;
	}
	return 0;
}

int sim_send_rtp(struct sim_participant *p, size_t s)
{
	if (s >= p->n_streams)
		return -EINVAL;
	struct sim_stream *st = &p->stream[s];
	uint8_t pkt[RTP_MAX_PACKET + MM_SRTP_MAX_TRAILER] PKT_ALIGN;
	bool marker = st->kind == SIM_AUDIO ? st->sent == 0 : true;
	int n = sim_rtp_build_level(pkt, RTP_MAX_PACKET, st->ssrc, st->pt, st->seq, st->ts, marker,
				    st->sent, st->payload_len, st->level_id, st->level_byte);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	if (p->srtp_tx && mm_srtp_protect(p->srtp_tx, pkt, &len, sizeof(pkt)) != 0) {
		p->send_errors++;
		return -EIO;
	}
	int rc = send_to_server(p, pkt, len);
	if (rc) {
		/* Not counted: the index stays for the next try, and so does
		 * seq for plain RTP; SRTP has used this seq up (see sim.h). */
		if (p->srtp_tx)
			st->seq++;
		return rc;
	}
	st->seq++;
	st->ts += st->ts_step;
	st->sent++;
	st->sent_bytes += len;
	return 0;
}

int sim_send_rtcp(struct sim_participant *p)
{
	if (p->n_streams == 0)
		return -EINVAL;
	uint8_t pkt[512 + MM_SRTCP_MAX_TRAILER] PKT_ALIGN;
	int n = sim_rtcp_build(pkt, 512, p->stream[0].ssrc, p->rtcp_sent);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	if (p->srtp_tx && mm_srtcp_protect(p->srtp_tx, pkt, &len, sizeof(pkt)) != 0) {
		p->send_errors++;
		return -EIO;
	}
	int rc = send_to_server(p, pkt, len);
	if (rc)
		return rc; /* SRTCP: the next try gets the next SRTCP index */
	p->rtcp_sent++;
	return 0;
}

int sim_send_raw(struct sim_participant *p, const void *buf, size_t len)
{
	return send_to_server(p, buf, len);
}

static struct sim_flow *flow_get(struct sim_participant *p, uint32_t ssrc)
{
	for (size_t i = 0; i < p->n_flows; i++)
		if (p->flows[i].ssrc == ssrc)
			return &p->flows[i];
	if (p->n_flows == p->cap_flows) {
		size_t cap = p->cap_flows ? p->cap_flows * 2 : 16;
		struct sim_flow *f = realloc(p->flows, cap * sizeof(*f));
		if (!f)
			return NULL;
		p->flows = f;
		p->cap_flows = cap;
	}
	struct sim_flow *f = &p->flows[p->n_flows++];
	memset(f, 0, sizeof(*f));
	f->ssrc = ssrc;
	return f;
}

/* Set bit index in *bits (growing it); returns 1 if it was already set,
 * 0 if not, negative on error. */
static int bitmap_set(uint8_t **bits, uint32_t *cap, uint32_t index)
{
	if (index >= MAX_INDEX)
		return -E2BIG;
	if (index >= *cap) {
		uint32_t ncap = *cap ? *cap : 1024;
		while (ncap <= index)
			ncap *= 2;
		uint8_t *nb = realloc(*bits, ncap / 8);
		if (!nb)
			return -ENOMEM;
		memset(nb + *cap / 8, 0, (ncap - *cap) / 8);
		*bits = nb;
		*cap = ncap;
	}
	uint8_t mask = (uint8_t)(1u << (index & 7));
	int was = ((*bits)[index / 8] & mask) != 0;
	(*bits)[index / 8] |= mask;
	return was;
}

static bool bitmap_get(const uint8_t *bits, uint32_t cap, uint32_t index)
{
	return index < cap && (bits[index / 8] >> (index & 7) & 1);
}

static void rx_rtp(struct sim_participant *p, const uint8_t *buf, size_t len)
{
	struct rtp_header h;
	uint32_t ssrc, index;
	if (rtp_parse(buf, len, &h) != 0) {
		p->rx_foreign++;
		return;
	}
	if (sim_payload_check(h.payload, h.payload_len, &ssrc, &index) != 0) {
		p->rx_bad_payload++;
		return;
	}
	struct sim_flow *f = flow_get(p, ssrc);
	if (!f) {
		p->rx_foreign++;
		return;
	}
	int was = bitmap_set(&f->seen, &f->seen_cap, index);
	if (was < 0) {
		p->rx_foreign++;
		return;
	}
	f->rtp_packets++;
	if (was)
		f->rtp_dups++;
	if (h.ssrc != ssrc)
		f->rtp_ssrc_changed++;
	if (f->have_seq && h.seq != (uint16_t)(f->last_seq + 1))
		f->rtp_seq_gaps++;
	f->last_seq = h.seq;
	f->have_seq = true;
	if (index + 1 > f->max_index)
		f->max_index = index + 1;
}

static void rx_rtcp(struct sim_participant *p, const uint8_t *buf, size_t len)
{
	uint32_t ssrc, index;
	uint8_t again[512];
	if (sim_rtcp_identify(buf, len, &ssrc, &index) != 0) {
		/* mmdp's own RTCP (its receiver reports, keyframe requests
		 * and NACKs to a publisher) is not the simulator's. */
		struct rtcp_packet first;
		if (rtcp_packet_parse(buf, len, &first) > 0 && first.ssrc == SIM_MMDP_RTCP_SSRC)
			p->rx_mmdp_rtcp++;
		else
			p->rx_foreign++;
		return;
	}
	struct sim_flow *f = flow_get(p, ssrc);
	if (!f || bitmap_set(&f->rtcp_seen, &f->rtcp_seen_cap, index) < 0) {
		p->rx_foreign++;
		return;
	}
	f->rtcp_packets++;
	int n = sim_rtcp_build(again, sizeof(again), ssrc, index);
	if (n < 0 || (size_t)n != len || memcmp(again, buf, len) != 0)
		f->rtcp_modified++;
}

static bool from_server(const struct sim_participant *p, const struct sockaddr_storage *ss)
{
	if (ss->ss_family != p->server.ss_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&p->server;
		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&p->server;
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

/* With SRTP, unprotect an RTP or RTCP datagram in place: 0 when it
 * authenticated (*len is then the plain length), -EBADMSG when it did not
 * (counted). */
static int rx_unprotect(struct sim_participant *p, enum mm_demux kind, uint8_t *buf, size_t *len)
{
	if (!p->srtp_rx)
		return 0;
	int rc = kind == MM_DEMUX_RTP ? mm_srtp_unprotect(p->srtp_rx, buf, len)
				      : mm_srtcp_unprotect(p->srtp_rx, buf, len);
	if (rc == 0)
		return 0;
	p->rx_srtp_fail++;
	if (rc == MM_SRTP_ERR_REPLAY)
		p->rx_srtp_replay++;
	return -EBADMSG;
}

int sim_receive(struct sim_participant *p)
{
	static uint8_t bufs[RX_BATCH][RX_BUF] PKT_ALIGN;
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage from[RX_BATCH];
	int total = 0;
	for (;;) {
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = RX_BUF;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(p->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return total;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;
			uint8_t *b = bufs[i];
			p->rx_datagrams++;
			p->rx_bytes += len;
			if (!from_server(p, &from[i]))
				p->rx_wrong_source++;
			enum mm_demux kind = mm_demux_classify(b, len);
			if (kind != MM_DEMUX_RTP && kind != MM_DEMUX_RTCP) {
				p->rx_foreign++;
				continue;
			}
			if (rx_unprotect(p, kind, b, &len) != 0)
				continue;
			if (kind == MM_DEMUX_RTP)
				rx_rtp(p, b, len);
			else
				rx_rtcp(p, b, len);
		}
		total += n;
		if (n < RX_BATCH)
			return total;
	}
}

int sim_receive_all(struct sim_participant *const *ps, size_t n, int timeout_ms)
{
	struct pollfd stackfds[64];
	struct pollfd *fds = n <= 64 ? stackfds : calloc(n, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fds[i].fd = ps[i]->fd;
		fds[i].events = POLLIN;
		fds[i].revents = 0;
	}
	int rc = poll(fds, (nfds_t)n, timeout_ms);
	int total = 0;
	if (rc < 0 && errno != EINTR)
		total = -errno;
	else
		for (size_t i = 0; i < n; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			int r = sim_receive(ps[i]);
			if (r < 0) {
				total = r;
				break;
			}
			total += r;
		}
	if (fds != stackfds)
		free(fds);
	return total;
}

const struct sim_flow *sim_flow_find(const struct sim_participant *p, uint32_t ssrc)
{
	for (size_t i = 0; i < p->n_flows; i++)
		if (p->flows[i].ssrc == ssrc)
			return &p->flows[i];
	return NULL;
}

bool sim_flow_has(const struct sim_flow *f, uint32_t index)
{
	return f && bitmap_get(f->seen, f->seen_cap, index);
}

bool sim_flow_has_rtcp(const struct sim_flow *f, uint32_t index)
{
	return f && bitmap_get(f->rtcp_seen, f->rtcp_seen_cap, index);
}

uint32_t sim_flow_count_missing(const struct sim_flow *f, uint32_t from, uint32_t to)
{
	uint32_t missing = 0;
	for (uint32_t i = from; i < to; i++)
		if (!sim_flow_has(f, i))
			missing++;
	return missing;
}

/* endpoint.put's "srtp": {"profile":..,"in_key":..,"out_key":..}. */
static json_t *srtp_json(const struct sim_participant *p)
{
	char in[4 * ((MM_SRTP_MASTER_MAX + 2) / 3) + 1]; /* mm_b64_encoded_len + 1 */
	char out[sizeof(in)];
	mm_b64_encode(p->srtp_in_key.master, p->srtp_in_key.master_len, in);
	mm_b64_encode(p->srtp_out_key.master, p->srtp_out_key.master_len, out);
	json_t *o = json_pack("{ssssss}", "profile", mm_srtp_profile_name(p->srtp), "in_key", in,
			      "out_key", out);
	explicit_bzero(in, sizeof(in));
	explicit_bzero(out, sizeof(out));
	return o;
}

json_t *sim_endpoint_json(const struct sim_participant *p, const char *room, bool audio_muted,
			  bool video_muted, bool bare)
{
	json_t *streams = json_array();
	for (size_t i = 0; i < p->n_streams; i++) {
		const struct sim_stream *s = &p->stream[i];
		json_array_append_new(streams,
				      json_pack("{sIsssI}", "ssrc", (json_int_t)s->ssrc, "kind",
						s->kind == SIM_AUDIO ? "audio" : "video", "clock_rate",
						(json_int_t)s->clock_rate));
	}
	json_t *o = json_pack("{sssss{sssi}s{sssi}sbsbso}", "endpoint", p->name, "room", room,
			      "local", "addr", p->server_addr, "port", (int)p->server_port,
			      "remote", "addr", p->addr, "port", (int)p->port, "audio_muted",
			      audio_muted, "video_muted", video_muted, "streams", streams);
	if (!o)
		return NULL;
	if (p->mac[0])
		json_object_set_new(o, "mac", json_string(p->mac));
	if (p->srtp != MM_SRTP_NONE && json_object_set_new(o, "srtp", srtp_json(p)) != 0) {
		json_decref(o);
		return NULL;
	}
	if (!bare)
		json_object_set_new(o, "op", json_string("endpoint.put"));
	return o;
}
