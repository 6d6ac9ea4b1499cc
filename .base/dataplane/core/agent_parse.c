/* Agent protocol: the syntax of changing ops, into struct op. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataplane/core/agent_internal.h"
#include "dataplane/proto/base64.h"

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MM_NAME_MAX)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

int mm_agent_get_name(json_t *o, const char *key, const char *path, const char **out, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v)
		return mm_agent_fail(e, "missing_field", f, "%s is required", key);
	if (!json_is_string(v) || !name_ok(json_string_value(v)))
		return mm_agent_fail(e, "invalid_field", f,
			    "%s must be a string of 1-64 characters from [A-Za-z0-9._:-]", key);
	*out = json_string_value(v);
	return 0;
}

int mm_agent_get_uint(json_t *o, const char *key, const char *path, uint64_t lo, uint64_t hi,
		    bool required, uint64_t *out, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			return mm_agent_fail(e, "missing_field", f, "%s is required", key);
		return 1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi)
		return mm_agent_fail(e, "invalid_field", f, "%s must be an integer in %" PRIu64 "..%" PRIu64,
			    key, lo, hi);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(json_t *o, const char *key, const char *path, bool *out, struct aerr *e)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v)) {
		char f[192];
		snprintf(f, sizeof(f), "%s%s", path, key);
		return mm_agent_fail(e, "invalid_field", f, "%s must be true or false", key);
	}
	*out = json_is_true(v);
	return 0;
}

int mm_agent_get_addr_port(json_t *o, const char *key, const char *path, struct net_addr *addr,
			   uint8_t *family, uint16_t *port, struct aerr *e)
{
	char f[192];
	snprintf(f, sizeof(f), "%s%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v)
		return mm_agent_fail(e, "missing_field", f, "%s is required", key);
	if (!json_is_object(v))
		return mm_agent_fail(e, "invalid_field", f, "%s must be {\"addr\":...,\"port\":...}", key);
	json_t *a = json_object_get(v, "addr");
	snprintf(f, sizeof(f), "%s%s.addr", path, key);
	if (!a)
		return mm_agent_fail(e, "missing_field", f, "%s.addr is required", key);
	if (!json_is_string(a) || net_addr_parse(json_string_value(a), addr, family) != 0)
		return mm_agent_fail(e, "invalid_field", f, "%s.addr must be an IPv4 or IPv6 address", key);
	char p[128];
	snprintf(p, sizeof(p), "%s%s.", path, key);
	uint64_t pv;
	if (mm_agent_get_uint(v, "port", p, 1, 65535, true, &pv, e))
		return -EINVAL;
	*port = (uint16_t)pv;
	return 0;
}

/* A stream's RID (RFC 8852 RtpStreamId): 1..16 of [A-Za-z0-9_-]. */
static int parse_rid(json_t *s, const char *p, struct mm_stream_conf *sc, struct aerr *e)
{
	sc->rid[0] = 0;
	json_t *v = json_object_get(s, "rid");
	if (!v)
		return 0;
	const char *r = json_is_string(v) ? json_string_value(v) : "";
	size_t n = strlen(r);
	bool ok = n >= 1 && n <= MM_RID_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z') ||
		     (r[i] >= '0' && r[i] <= '9') || r[i] == '_' || r[i] == '-';
	if (!ok) {
		char f[192];
		snprintf(f, sizeof(f), "%srid", p);
		return mm_agent_fail(e, "invalid_field", f,
				     "rid must be 1-%d characters from [A-Za-z0-9_-]", MM_RID_MAX);
	}
	memcpy(sc->rid, r, n + 1);
	return 0;
}

/* A stream's SFU fields (docs/agent-protocol.md, "Meetings of 100"):
 * codec, audio_level_id, group and layer, rtx_ssrc. *group is the group's
 * name (NULL: a group of its own). */
static int parse_stream_sfu(json_t *s, const char *p, struct mm_stream_conf *sc, const char **group,
			    struct aerr *e)
{
	char f[192];
	json_t *v = json_object_get(s, "codec");
	int codec = sc->kind == MM_KIND_AUDIO ? MM_CODEC_OPUS : MM_CODEC_VP8;
	if (v) {
		codec = json_is_string(v) ? mm_codec_from_name(json_string_value(v)) : -EINVAL;
		snprintf(f, sizeof(f), "%scodec", p);
		if (codec < 0 || (codec == MM_CODEC_OPUS) != (sc->kind == MM_KIND_AUDIO))
			return mm_agent_fail(e, "invalid_field", f, "codec must be %s",
					     sc->kind == MM_KIND_AUDIO ? "opus" : "vp8 or h264");
	}
	sc->codec = (uint8_t)codec;
	uint64_t u;
	int r = mm_agent_get_uint(s, "audio_level_id", p, 1, 14, false, &u, e);
	if (r < 0)
		return r;
	if (r == 0 && sc->kind != MM_KIND_AUDIO) {
		snprintf(f, sizeof(f), "%saudio_level_id", p);
		return mm_agent_fail(e, "invalid_field", f, "audio_level_id is for audio streams");
	}
	sc->audio_level_id = r == 0 ? (uint8_t)u : 0;
	r = mm_agent_get_uint(s, "layer", p, 0, MM_LAYERS_MAX - 1, false, &u, e);
	if (r < 0)
		return r;
	sc->layer = r == 0 ? (uint8_t)u : 0;
	v = json_object_get(s, "group");
	*group = NULL;
	if (v) {
		if (mm_agent_get_name(s, "group", p, group, e))
			return -EINVAL;
		if (sc->kind == MM_KIND_AUDIO) {
			snprintf(f, sizeof(f), "%sgroup", p);
			return mm_agent_fail(e, "invalid_field", f, "simulcast groups are for video and screen");
		}
	}
	r = mm_agent_get_uint(s, "rtx_ssrc", p, 0, UINT32_MAX, false, &u, e);
	if (r < 0)
		return r;
	sc->has_rtx = r == 0;
	sc->rtx_ssrc = r == 0 ? (uint32_t)u : 0;
	r = mm_agent_get_uint(s, "out_ssrc", p, 1, UINT32_MAX, false, &u, e);
	if (r < 0)
		return r;
	sc->out_ssrc = r == 0 ? (uint32_t)u : 0;
	if (sc->has_rtx && sc->rtx_ssrc == sc->ssrc) {
		snprintf(f, sizeof(f), "%srtx_ssrc", p);
		return mm_agent_fail(e, "invalid_field", f, "rtx_ssrc must differ from ssrc");
	}
	return 0;
}

/* Link the layers of each simulcast group: every stream's group is the
 * conf index of its group's base (its lowest layer), and the base lists
 * the conf index of each layer. Layers of a group are unique and of one
 * kind. */
static int link_groups(struct mm_ep_conf *c, const char **groups, const char *path, struct aerr *e)
{
	char f[192];
	for (uint32_t i = 0; i < c->n_streams; i++) {
		struct mm_stream_conf *sc = &c->streams[i];
		for (int l = 0; l < MM_LAYERS_MAX; l++)
			sc->layers[l] = -1;
		sc->group = (uint8_t)i;
		if (!groups[i])
			continue;
		for (uint32_t j = 0; j < i; j++) {
			if (!groups[j] || strcmp(groups[j], groups[i]) != 0)
				continue;
			snprintf(f, sizeof(f), "%sstreams[%u].layer", path, i);
			if (c->streams[j].kind != sc->kind)
				return mm_agent_fail(e, "invalid_field", f,
						     "the layers of group %s are not of one kind", groups[i]);
			if (c->streams[j].layer == sc->layer)
				return mm_agent_fail(e, "invalid_field", f,
						     "group %s has layer %u twice", groups[i], sc->layer);
		}
	}
	for (uint32_t i = 0; i < c->n_streams; i++) {
		struct mm_stream_conf *sc = &c->streams[i];
		uint32_t base = i;
		for (uint32_t j = 0; j < c->n_streams && groups[i]; j++)
			if (groups[j] && strcmp(groups[j], groups[i]) == 0 &&
			    c->streams[j].layer < c->streams[base].layer)
				base = j;
		sc->group = (uint8_t)base;
		c->streams[base].layers[sc->layer] = (int8_t)i;
	}
	/* A group with a stream known by RID has no SSRC to show its
	 * receivers until it sends: the control plane names one. */
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const struct mm_stream_conf *base = &c->streams[c->streams[i].group];
		if (c->streams[i].by_rid && !base->out_ssrc) {
			snprintf(f, sizeof(f), "%sstreams[%u].out_ssrc", path, c->streams[i].group);
			return mm_agent_fail(e, "missing_field", f,
					     "out_ssrc is required for a group known by rid");
		}
	}
	return 0;
}

static int parse_streams(json_t *o, const char *path, struct mm_ep_conf *c, struct aerr *e)
{
	char f[192];
	json_t *arr = json_object_get(o, "streams");
	snprintf(f, sizeof(f), "%sstreams", path);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return mm_agent_fail(e, "invalid_field", f, "streams must be an array");
	if (json_array_size(arr) > MM_STREAMS_MAX)
		return mm_agent_fail(e, "limit", f, "at most %d streams per endpoint", MM_STREAMS_MAX);
	const char *groups[MM_STREAMS_MAX] = {NULL};
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s) {
		char p[128];
		snprintf(p, sizeof(p), "%sstreams[%zu].", path, i);
		if (!json_is_object(s))
			return mm_agent_fail(e, "invalid_field", p, "a stream must be an object");
		struct mm_stream_conf *sc = &c->streams[i];
		uint64_t v;
		if (parse_rid(s, p, sc, e))
			return -EINVAL;
		int r0 = mm_agent_get_uint(s, "ssrc", p, 0, UINT32_MAX, sc->rid[0] == 0, &v, e);
		if (r0 < 0)
			return -EINVAL;
		sc->by_rid = r0 == 1; /* a RID and no SSRC: bound at its first packet */
		sc->ssrc = sc->by_rid ? 0 : (uint32_t)v;
		for (size_t j = 0; j < i; j++) {
			if (!sc->by_rid && !c->streams[j].by_rid && c->streams[j].ssrc == sc->ssrc) {
				snprintf(f, sizeof(f), "%sssrc", p);
				return mm_agent_fail(e, "invalid_field", f, "ssrc %u listed twice", sc->ssrc);
			}
			if (sc->rid[0] && strcmp(c->streams[j].rid, sc->rid) == 0) {
				snprintf(f, sizeof(f), "%srid", p);
				return mm_agent_fail(e, "invalid_field", f, "rid %s listed twice", sc->rid);
			}
		}
		json_t *k = json_object_get(s, "kind");
		snprintf(f, sizeof(f), "%skind", p);
		if (!k)
			return mm_agent_fail(e, "missing_field", f, "kind is required");
		const char *ks = json_is_string(k) ? json_string_value(k) : "";
		if (strcmp(ks, "audio") == 0)
			sc->kind = MM_KIND_AUDIO;
		else if (strcmp(ks, "video") == 0)
			sc->kind = MM_KIND_VIDEO;
		else if (strcmp(ks, "screen") == 0)
			sc->kind = MM_KIND_SCREEN;
		else
			return mm_agent_fail(e, "invalid_field", f, "kind must be audio, video or screen");
		int r = mm_agent_get_uint(s, "clock_rate", p, 1000, 1000000, false, &v, e);
		if (r < 0)
			return r;
		sc->clock_rate = r == 0 ? (uint32_t)v : (sc->kind == MM_KIND_AUDIO ? 48000 : 90000);
		sc->muted = sc->kind == MM_KIND_AUDIO ? c->audio_muted : c->video_muted;
		if (parse_stream_sfu(s, p, sc, &groups[i], e))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (sc->has_rtx && ((c->streams[j].has_rtx && c->streams[j].rtx_ssrc == sc->rtx_ssrc) ||
					    c->streams[j].ssrc == sc->rtx_ssrc)) {
				snprintf(f, sizeof(f), "%srtx_ssrc", p);
				return mm_agent_fail(e, "invalid_field", f, "rtx_ssrc %u is another stream's",
						     sc->rtx_ssrc);
			}
	}
	c->n_streams = (uint32_t)json_array_size(arr);
	for (uint32_t i = 0; i < c->n_streams; i++)
		for (uint32_t j = 0; j < c->n_streams; j++)
			if (c->streams[j].has_rtx && c->streams[j].rtx_ssrc == c->streams[i].ssrc) {
				snprintf(f, sizeof(f), "%sstreams[%u].rtx_ssrc", path, j);
				return mm_agent_fail(e, "invalid_field", f, "rtx_ssrc %u is another stream's",
						     c->streams[i].ssrc);
			}
	return link_groups(c, groups, path, e);
}

static int parse_srtp(json_t *o, struct op *op, struct aerr *e)
{
	char f[192];
	const char *p = op->path;
	json_t *sr = json_object_get(o, "srtp");
	op->srtp = sr != NULL;
	if (!sr)
		return 0;
	snprintf(f, sizeof(f), "%ssrtp", p);
	if (!json_is_object(sr))
		return mm_agent_fail(e, "invalid_field", f, "srtp must be {\"profile\":...,\"in_key\":...,\"out_key\":...}");
	json_t *pr = json_object_get(sr, "profile");
	snprintf(f, sizeof(f), "%ssrtp.profile", p);
	if (!pr)
		return mm_agent_fail(e, "missing_field", f, "srtp.profile is required");
	if (!json_is_string(pr) || mm_srtp_profile_parse(json_string_value(pr), &op->profile) != 0 ||
	    op->profile == MM_SRTP_NONE)
		return mm_agent_fail(e, "invalid_field", f,
			    "srtp.profile must be AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, "
			    "AEAD_AES_128_GCM or AEAD_AES_256_GCM");
	size_t want = mm_srtp_master_len(op->profile);
	const char *names[2] = {"in_key", "out_key"};
	uint8_t *keys[2] = {op->in_key, op->out_key};
	bool *has[2] = {&op->has_in, &op->has_out};
	for (int i = 0; i < 2; i++) {
		json_t *k = json_object_get(sr, names[i]);
		*has[i] = k != NULL;
		if (!k)
			continue;
		snprintf(f, sizeof(f), "%ssrtp.%s", p, names[i]);
		uint8_t buf[64];
		int n = json_is_string(k) ? mm_b64_decode(json_string_value(k), buf, sizeof(buf)) : -1;
		if (n != (int)want)
			return mm_agent_fail(e, "invalid_field", f,
				    "%s must be the base64 of the %zu-byte master key and salt of %s",
				    names[i], want, mm_srtp_profile_name(op->profile));
		memcpy(keys[i], buf, want);
		memset(buf, 0, sizeof(buf));
	}
	return 0;
}

/* ICE's ice-char (RFC 8445 15.4): ALPHA / DIGIT / "+" / "/". */
static bool ice_chars(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '+' || *s == '/'))
			return false;
	return true;
}

/* "sha-256 AB:CD:..." (32 bytes, hex in either case) into fp. */
static bool parse_fingerprint(const char *s, uint8_t fp[32])
{
	if (strncasecmp(s, "sha-256 ", 8) != 0 || strlen(s) != 8 + 32 * 3 - 1)
		return false;
	s += 8;
	for (int i = 0; i < 32; i++, s += 3) {
		int v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[j];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				return false;
			v = v * 16 + d;
		}
		if (i < 31 && s[2] != ':')
			return false;
		fp[i] = (uint8_t)v;
	}
	return true;
}

/* endpoint.put's "ice" and "dtls" objects. */
static int parse_ice(json_t *o, struct op *op, struct aerr *e)
{
	char f[192];
	const char *p = op->path;
	json_t *ice = json_object_get(o, "ice"), *dtls = json_object_get(o, "dtls");
	op->ice = ice != NULL;
	op->dtls = dtls != NULL;
	if (ice) {
		snprintf(f, sizeof(f), "%sice", p);
		if (!json_is_object(ice))
			return mm_agent_fail(e, "invalid_field", f, "ice must be {\"ufrag\":...,\"pwd\":...}");
		json_t *u = json_object_get(ice, "ufrag"), *w = json_object_get(ice, "pwd");
		snprintf(f, sizeof(f), "%sice.ufrag", p);
		if (!u)
			return mm_agent_fail(e, "missing_field", f, "ice.ufrag is required");
		if (!json_is_string(u) ||
		    !ice_chars(json_string_value(u), MM_ICE_UFRAG_MIN, MM_ICE_UFRAG_MAX))
			return mm_agent_fail(e, "invalid_field", f,
					     "ice.ufrag must be 4-32 characters from [A-Za-z0-9+/]");
		snprintf(f, sizeof(f), "%sice.pwd", p);
		if (!w)
			return mm_agent_fail(e, "missing_field", f, "ice.pwd is required");
		if (!json_is_string(w) || !ice_chars(json_string_value(w), MM_ICE_PWD_MIN, MM_ICE_PWD_MAX))
			return mm_agent_fail(e, "invalid_field", f,
					     "ice.pwd must be 22-256 characters from [A-Za-z0-9+/]");
		snprintf(op->ice_ufrag, sizeof(op->ice_ufrag), "%s", json_string_value(u));
		snprintf(op->ice_pwd, sizeof(op->ice_pwd), "%s", json_string_value(w));
	}
	if (!dtls)
		return 0;
	snprintf(f, sizeof(f), "%sdtls", p);
	if (!json_is_object(dtls))
		return mm_agent_fail(e, "invalid_field", f,
				     "dtls must be {\"fingerprint\":\"sha-256 ...\",\"setup\":...}");
	if (!ice) {
		snprintf(f, sizeof(f), "%sice", p);
		return mm_agent_fail(e, "missing_field", f, "dtls requires ice");
	}
	json_t *fp = json_object_get(dtls, "fingerprint"), *setup = json_object_get(dtls, "setup");
	snprintf(f, sizeof(f), "%sdtls.fingerprint", p);
	if (!fp)
		return mm_agent_fail(e, "missing_field", f, "dtls.fingerprint is required");
	if (!json_is_string(fp) || !parse_fingerprint(json_string_value(fp), op->dtls_fp))
		return mm_agent_fail(e, "invalid_field", f,
				     "dtls.fingerprint must be \"sha-256 \" and 32 hex bytes separated by colons");
	snprintf(f, sizeof(f), "%sdtls.setup", p);
	if (!setup)
		return mm_agent_fail(e, "missing_field", f, "dtls.setup is required");
	const char *sv = json_is_string(setup) ? json_string_value(setup) : "";
	if (strcmp(sv, "active") != 0 && strcmp(sv, "passive") != 0)
		return mm_agent_fail(e, "invalid_field", f, "dtls.setup must be \"active\" or \"passive\"");
	op->dtls_peer_active = strcmp(sv, "active") == 0;
	return 0;
}

bool mm_agent_is_local(const struct mm_tables *t, const struct net_addr *a)
{
	for (uint32_t p = 0; p < t->conf.n_ports; p++)
		if (mm_port_is_local(&t->conf.ports[p], a))
			return true;
	return false;
}

static int parse_endpoint_put(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (mm_agent_get_name(o, "endpoint", p, &op->endpoint, e) || mm_agent_get_name(o, "room", p, &op->room, e))
		return -EINVAL;
	uint8_t lfam, rfam;
	uint16_t lport, rport = 0;
	if (parse_ice(o, op, e))
		return -EINVAL;
	op->has_remote = !op->ice || json_object_get(o, "remote") != NULL;
	memset(&op->key.raddr, 0, sizeof(op->key.raddr));
	if (mm_agent_get_addr_port(o, "local", p, &op->laddr, &lfam, &lport, e) ||
	    (op->has_remote && mm_agent_get_addr_port(o, "remote", p, &op->key.raddr, &rfam, &rport, e)))
		return -EINVAL;
	if (!op->has_remote)
		rfam = lfam;
	if (lfam != rfam) {
		snprintf(f, sizeof(f), "%sremote.addr", p);
		return mm_agent_fail(e, "invalid_field", f, "local and remote must be the same address family");
	}
	if (!mm_agent_is_local(t, &op->laddr)) {
		snprintf(f, sizeof(f), "%slocal.addr", p);
		return mm_agent_fail(e, "not_local", f, "local.addr is not an address of any mmdp port");
	}
	op->family = lfam;
	op->key.lport = lport;
	op->key.rport = rport;

	memset(&op->conf, 0, sizeof(op->conf));
	json_t *mac = json_object_get(o, "mac");
	if (mac) {
		snprintf(f, sizeof(f), "%smac", p);
		if (!json_is_string(mac) || net_mac_parse(json_string_value(mac), op->conf.mac) != 0)
			return mm_agent_fail(e, "invalid_field", f, "mac must look like 02:00:00:00:00:01");
		op->conf.mac_set = true;
	}
	if (get_bool(o, "audio_muted", p, &op->conf.audio_muted, e) ||
	    get_bool(o, "video_muted", p, &op->conf.video_muted, e) || parse_srtp(o, op, e))
		return -EINVAL;
	if (op->dtls && op->srtp) {
		snprintf(f, sizeof(f), "%ssrtp", p);
		return mm_agent_fail(e, "invalid_field", f,
				     "srtp keys cannot come with dtls: the DTLS handshake makes them");
	}
	uint64_t v = MM_LAYERS_MAX - 1;
	if (mm_agent_get_uint(o, "max_layer", p, 0, MM_LAYERS_MAX - 1, false, &v, e) < 0)
		return -EINVAL;
	op->conf.max_layer = (uint8_t)v;
	v = 0;
	if (mm_agent_get_uint(o, "rtx_pt", p, 96, 127, false, &v, e) < 0)
		return -EINVAL;
	op->conf.rtx_pt = (uint8_t)v;
	v = 0;
	if (mm_agent_get_uint(o, "twcc_id", p, 1, 14, false, &v, e) < 0)
		return -EINVAL;
	op->conf.twcc_id = (uint8_t)v;
	v = 0;
	if (mm_agent_get_uint(o, "rid_id", p, 1, 14, false, &v, e) < 0)
		return -EINVAL;
	op->conf.rid_id = (uint8_t)v;
	if (parse_streams(o, p, &op->conf, e))
		return -EINVAL;
	for (uint32_t i = 0; i < op->conf.n_streams; i++)
		if (op->conf.streams[i].by_rid && !op->conf.rid_id) {
			snprintf(f, sizeof(f), "%srid_id", p);
			return mm_agent_fail(e, "missing_field", f,
					     "rid_id is required for streams known by rid");
		}
	return 0;
}

static int parse_route_put(json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	if (mm_agent_get_name(o, "room", p, &op->room, e))
		return -EINVAL;
	json_t *m = json_object_get(o, "mode");
	snprintf(f, sizeof(f), "%smode", p);
	const char *ms = m ? json_string_value(m) : "all";
	if (!ms)
		return mm_agent_fail(e, "invalid_field", f, "mode must be \"all\" or \"explicit\"");
	if (strcmp(ms, "all") == 0) {
		op->mode = MM_ROUTE_ALL;
		op->subs = NULL;
		return 0;
	}
	if (strcmp(ms, "explicit") != 0)
		return mm_agent_fail(e, "invalid_field", f, "mode must be \"all\" or \"explicit\"");
	op->mode = MM_ROUTE_EXPLICIT;
	op->subs = json_object_get(o, "subscriptions");
	snprintf(f, sizeof(f), "%ssubscriptions", p);
	if (!op->subs)
		return mm_agent_fail(e, "missing_field", f, "explicit routes need subscriptions");
	if (!json_is_object(op->subs))
		return mm_agent_fail(e, "invalid_field", f, "subscriptions must map subscriber to publishers");
	const char *sub;
	json_t *list;
	json_object_foreach(op->subs, sub, list) {
		snprintf(f, sizeof(f), "%ssubscriptions.%.40s", p, sub);
		if (!name_ok(sub) || !json_is_array(list))
			return mm_agent_fail(e, "invalid_field", f, "each subscriber maps to an array of names");
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v)
			if (!json_is_string(v) || !name_ok(json_string_value(v)))
				return mm_agent_fail(e, "invalid_field", f, "publishers must be endpoint names");
	}
	return 0;
}

/* Syntax of one changing op. */
int mm_agent_parse_op(struct mm_tables *t, json_t *o, struct op *op, struct aerr *e)
{
	const char *p = op->path;
	char f[192];
	snprintf(f, sizeof(f), "%sop", p);
	if (!json_is_object(o))
		return mm_agent_fail(e, "invalid_request", p, "an op must be a JSON object");
	json_t *jop = json_object_get(o, "op");
	if (!jop || !json_is_string(jop))
		return mm_agent_fail(e, "invalid_request", f, "op must be a string");
	const char *name = json_string_value(jop);
	if (strcmp(name, "room.put") == 0) {
		op->type = OP_ROOM_PUT;
		uint64_t cap = MM_ROOM_CAPACITY_MAX, last_n = MM_LAST_N_DEFAULT, video_last_n = 0;
		if (mm_agent_get_name(o, "room", p, &op->room, e) ||
		    mm_agent_get_uint(o, "capacity", p, 1, MM_ROOM_CAPACITY_MAX, false, &cap, e) < 0 ||
		    mm_agent_get_uint(o, "last_n", p, 0, MM_ROOM_CAPACITY_MAX, false, &last_n, e) < 0 ||
		    mm_agent_get_uint(o, "video_last_n", p, 0, MM_ROOM_CAPACITY_MAX, false,
				      &video_last_n, e) < 0)
			return -EINVAL;
		op->capacity = (uint32_t)cap;
		op->last_n = (uint32_t)last_n;
		op->video_last_n = (uint32_t)video_last_n;
		return 0;
	}
	if (strcmp(name, "room.del") == 0) {
		op->type = OP_ROOM_DEL;
		return mm_agent_get_name(o, "room", p, &op->room, e);
	}
	if (strcmp(name, "endpoint.put") == 0) {
		op->type = OP_EP_PUT;
		return parse_endpoint_put(t, o, op, e);
	}
	if (strcmp(name, "endpoint.del") == 0) {
		op->type = OP_EP_DEL;
		return mm_agent_get_name(o, "endpoint", p, &op->endpoint, e);
	}
	if (strcmp(name, "route.put") == 0) {
		op->type = OP_ROUTE_PUT;
		return parse_route_put(o, op, e);
	}
	if (strcmp(name, "block.put") == 0 || strcmp(name, "block.del") == 0) {
		op->type = strcmp(name, "block.put") == 0 ? OP_BLOCK_PUT : OP_BLOCK_DEL;
		return mm_agent_parse_block(t, o, op, e);
	}
	if (strcmp(name, "ban.put") == 0 || strcmp(name, "ban.del") == 0) {
		op->type = strcmp(name, "ban.put") == 0 ? OP_BAN_PUT : OP_BAN_DEL;
		return mm_agent_parse_ban(o, op, e);
	}
	return mm_agent_fail(e, "unknown_op", f, "unknown or non-batchable op \"%.64s\"", name);
}
