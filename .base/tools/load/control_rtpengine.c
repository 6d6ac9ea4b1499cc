/* Setting calls up through rtpengine's ng protocol (--rtpengine HOST:PORT):
 * the side-by-side benchmark of issue 5. Bencode dictionaries over UDP,
 * "COOKIE SP DICT" (tools/load/ng.c for the pure parts).
 *
 * Rooms are two-party calls: per room one call, its call-id the room's
 * name; "offer" with participant 1's SDP (its address and port, one
 * m=audio line: all its streams share that 5-tuple, as with mmdp), then
 * "answer" with participant 2's; "delete" at the end (and before, for a
 * call left by an earlier run). Flags on both: ICE removed, DTLS off,
 * transport RTP/SAVP (RTP/AVP with --srtp none), origin and session
 * connection replaced. rtpengine's rewritten SDPs give each participant
 * the relay address and port to send to, and the key rtpengine sends to
 * it with (key_out).
 *
 * Re-encryption: rtpengine 10.5 offers the answering side the offerer's
 * own crypto line (same suite, same key) among its own; an answerer that
 * takes it gets the offerer's packets passed through untouched (no
 * decryption at all). So participant 2 answers with another suite than
 * participant 1's (and its own key): rtpengine has then to decrypt with
 * one leg's key and encrypt with the other's. mmload checks it: the keys
 * differ on each leg, and the report's "reencrypts" is true only when in
 * addition every receiver authenticated what it got with its own leg's
 * key (key_out; a passed-through packet fails there as an auth error).
 * --rtpengine-same-suite keeps both legs on one suite, for comparison:
 * the answerer then takes the crypto line of its own suite, the offerer's
 * key, and "reencrypts" comes out false. */
#include "tools/load/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dataplane/proto/base64.h"
#include "tools/load/ng.h"

#define NG_TIMEOUT_MS 2000
#define NG_TRIES 3
#define NG_REPLY_MAX 65536

struct rtpe {
	int fd;
	unsigned seq;
	uint32_t salt;
	uint32_t rooms_set;     /* calls offered (to delete) */
	bool keys_differ;       /* on every leg of every call */
	bool passthrough_offered; /* rtpengine offered leg B the offerer's own key */
	enum mm_srtp_profile prof_a, prof_b;
	char ng[96];
};

/* The suite of the answering leg: another one than the offerer's. */
static enum mm_srtp_profile other_profile(enum mm_srtp_profile p)
{
	return p == MM_SRTP_AEAD_AES_128_GCM ? MM_SRTP_AES_CM_128_HMAC_SHA1_80
					      : MM_SRTP_AEAD_AES_128_GCM;
}

static int ng_open(struct ld_run *R, struct rtpe *S)
{
	char host[80];
	const char *a = R->o.rtpengine, *colon = strrchr(a, ':');
	size_t hl = (size_t)(colon - a);
	if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
		a++;
		hl -= 2;
	}
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (hl == 0 || hl >= sizeof(host) || *end || port < 1 || port > 65535) {
		fprintf(stderr, "mmload: --rtpengine %s: not HOST:PORT\n", R->o.rtpengine);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)hl, a);
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc = sim_sockaddr_parse(host, (uint16_t)port, &ss, &sl);
	if (rc) {
		fprintf(stderr, "mmload: --rtpengine %s: not an address and port\n", R->o.rtpengine);
		return rc;
	}
	/* rtpengine listens in the site's dp namespace (tools/bench/rtpengine.sh). */
	const char *ns = R->site.dp_ns[0] ? R->site.dp_ns : NULL;
	rc = sim_udp_open(ns, ss.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, 1 << 20, &S->fd);
	if (!rc && connect(S->fd, (struct sockaddr *)&ss, sl) < 0)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "mmload: ng socket to %s (namespace %s): %s\n", R->o.rtpengine,
			ns ? ns : "mmload's", strerror(-rc));
		return rc;
	}
	snprintf(S->ng, sizeof(S->ng), "%s", R->o.rtpengine);
	return 0;
}

/* Send the dictionary in b and wait for its reply (same cookie; resent
 * with the same cookie, which rtpengine answers from its cache). *reply is
 * the reply's dictionary, result "ok" (else an error, printed). */
static int ng_call(struct rtpe *S, const struct ng_buf *b, const char *what, bool quiet,
		   struct ng_val **reply)
{
	char cookie[32];
	*reply = NULL;
	if (b->err) {
		fprintf(stderr, "mmload: rtpengine %s: out of memory\n", what);
		return -ENOMEM;
	}
	int cl = snprintf(cookie, sizeof(cookie), "%x_%u ", S->salt, ++S->seq);
	size_t mlen = (size_t)cl + b->len;
	char *msg = malloc(mlen), *rbuf = malloc(NG_REPLY_MAX);
	if (!msg || !rbuf) {
		free(msg);
		free(rbuf);
		return -ENOMEM;
	}
	memcpy(msg, cookie, (size_t)cl);
	memcpy(msg + cl, b->p, b->len);
	int rc = -ETIMEDOUT;
	for (int t = 0; t < NG_TRIES && rc == -ETIMEDOUT; t++) {
		if (send(S->fd, msg, mlen, 0) < 0) {
			rc = -errno;
			break;
		}
		uint64_t deadline = ld_now_ns() + NG_TIMEOUT_MS * 1000000ull;
		for (;;) {
			uint64_t now = ld_now_ns();
			if (now >= deadline)
				break;
			struct pollfd pfd = {.fd = S->fd, .events = POLLIN};
			int pr = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr <= 0)
				break;
			ssize_t n = recv(S->fd, rbuf, NG_REPLY_MAX, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				rc = -errno; /* e.g. ECONNREFUSED: nobody listens */
				break;
			}
			size_t ck, off;
			if (ng_split(rbuf, (size_t)n, &ck, &off) || ck != (size_t)cl - 1 ||
			    memcmp(rbuf, cookie, ck))
				continue; /* a late reply to something else */
			char err[160];
			struct ng_val *v = ng_parse(rbuf + off, (size_t)n - off, err, sizeof(err));
			if (!v || v->type != NG_DICT) {
				if (!quiet)
					fprintf(stderr, "mmload: rtpengine %s: bad reply: %s\n", what,
					v ? "not a dictionary" : err);
				ng_free(v);
				rc = -EBADMSG;
				break;
			}
			const char *res = ng_get_str(v, "result");
			if (!res || strcmp(res, "ok")) {
				const char *why = ng_get_str(v, "error-reason");
				if (!quiet)
					fprintf(stderr, "mmload: rtpengine %s: result %s%s%s\n",
						what, res ? res : "(none)", why ? ": " : "",
						why ? why : "");
				ng_free(v);
				rc = -EPROTO;
				break;
			}
			*reply = v;
			rc = 0;
			break;
		}
	}
	if (!quiet && rc == -ETIMEDOUT)
		fprintf(stderr, "mmload: rtpengine %s: no reply from %s\n", what, S->ng);
	else if (!quiet && rc && rc != -EPROTO && rc != -EBADMSG)
		fprintf(stderr, "mmload: rtpengine %s: %s\n", what, strerror(-rc));
	free(msg);
	free(rbuf);
	return rc;
}

/* The flags of offer and answer. */
static void common_flags(struct ng_buf *b, bool srtp)
{
	ng_kv(b, "ICE", "remove");
	ng_kv(b, "DTLS", "off");
	ng_kv(b, "transport-protocol", srtp ? "RTP/SAVP" : "RTP/AVP");
	ng_str(b, "replace");
	ng_list(b);
	ng_str(b, "origin");
	ng_str(b, "session-connection");
	ng_end(b);
}

static int delete_call(struct rtpe *S, const char *call_id, bool quiet_missing)
{
	struct ng_buf b = {0};
	struct ng_val *rep = NULL;
	ng_dict(&b);
	ng_kv(&b, "command", "delete");
	ng_kv(&b, "call-id", call_id);
	ng_end(&b);
	int rc = ng_call(S, &b, "delete", quiet_missing, &rep);
	ng_free(rep);
	ng_buf_free(&b);
	return rc;
}

static bool same_key(const struct mm_srtp_keys *a, const struct mm_srtp_keys *b)
{
	return a->profile == b->profile && a->master_len == b->master_len &&
	       !memcmp(a->master, b->master, a->master_len);
}

/* From rtpengine's SDP for participant p: where it sends, and (SRTP) the
 * key of suite prof rtpengine sends to it with. *tag: that crypto line's. */
static int take_sdp(struct ld_part *p, const char *sdp, enum mm_srtp_profile prof,
		    const char *what, unsigned *tag)
{
	struct ng_sdp s;
	char err[160];
	if (!sdp) {
		fprintf(stderr, "mmload: rtpengine %s for %s: no SDP in the reply\n", what, p->name);
		return -EBADMSG;
	}
	if (ng_sdp_parse(sdp, &s, err, sizeof(err))) {
		fprintf(stderr, "mmload: rtpengine %s for %s: %s\n", what, p->name, err);
		return -EBADMSG;
	}
	if (s.family != p->family) {
		fprintf(stderr, "mmload: rtpengine %s for %s: an IPv%d relay address (%s) for an "
				"IPv%d participant\n", what, p->name, s.family, s.addr, p->family);
		return -EBADMSG;
	}
	snprintf(p->server_addr, sizeof(p->server_addr), "%s", s.addr);
	p->server_port = s.port;
	if (prof == MM_SRTP_NONE) {
		if (strcmp(s.proto, "RTP/AVP") || s.n_crypto) {
			fprintf(stderr, "mmload: rtpengine %s for %s: %s with %d crypto lines, "
					"plain RTP/AVP asked for\n", what, p->name, s.proto, s.n_crypto);
			return -EBADMSG;
		}
		return 0;
	}
	const char *suite = mm_srtp_profile_name(prof);
	const struct ng_crypto *c = ng_sdp_crypto(&s, suite);
	if (strcmp(s.proto, "RTP/SAVP") || !c) {
		fprintf(stderr, "mmload: rtpengine %s for %s: %s without a %s crypto line (%d "
				"crypto lines)\n", what, p->name, s.proto, suite, s.n_crypto);
		return -EBADMSG;
	}
	memset(&p->key_out, 0, sizeof(p->key_out));
	p->key_out.profile = prof;
	p->key_out.master_len = mm_srtp_master_len(prof);
	int n = mm_b64_decode(c->key, p->key_out.master, sizeof(p->key_out.master));
	if (n != (int)p->key_out.master_len) {
		fprintf(stderr, "mmload: rtpengine %s for %s: the %s key is %d bytes, not %zu\n",
			what, p->name, suite, n, p->key_out.master_len);
		return -EBADMSG;
	}
	*tag = c->tag;
	return 0;
}

/* The offer's extra check: did rtpengine offer leg B the offerer's key? */
static bool offers_key(const char *sdp, const struct mm_srtp_keys *k)
{
	struct ng_sdp s;
	char err[160];
	if (!sdp || ng_sdp_parse(sdp, &s, err, sizeof(err)))
		return false;
	const struct ng_crypto *c = ng_sdp_crypto(&s, mm_srtp_profile_name(k->profile));
	uint8_t key[MM_SRTP_MASTER_MAX];
	return c && mm_b64_decode(c->key, key, sizeof(key)) == (int)k->master_len &&
	       !memcmp(key, k->master, k->master_len);
}

static int sdp_of(const struct ld_part *p, const char *sess, unsigned tag, char *out, size_t cap)
{
	char key[mm_b64_encoded_len(MM_SRTP_MASTER_MAX) + 1];
	const char *suite = NULL;
	if (p->srtp != MM_SRTP_NONE) {
		mm_b64_encode(p->key_in.master, p->key_in.master_len, key);
		suite = mm_srtp_profile_name(p->srtp);
	}
	int n = ng_sdp_build(out, cap, sess, p->addr, p->port, tag, suite, key);
	explicit_bzero(key, sizeof(key));
	return n < 0 ? -EINVAL : 0;
}

static int setup_call(struct ld_run *R, struct rtpe *S, uint32_t room)
{
	struct ld_part *a = &R->parts[room * 2], *b = &R->parts[room * 2 + 1];
	bool srtp = a->srtp != MM_SRTP_NONE;
	char call_id[LD_NAME_MAX], sdp[2048];
	ld_room_name(R, room, call_id, sizeof(call_id));
	delete_call(S, call_id, true);
	if (srtp) {
		/* Leg B: its own suite and key (see the top). */
		b->srtp = S->prof_b;
		int rc = ld_random_key(&b->key_in, b->srtp);
		if (rc)
			return rc;
	}
	/* offer: participant 1 */
	if (sdp_of(a, call_id, 1, sdp, sizeof(sdp)))
		return -EINVAL;
	struct ng_buf m = {0};
	struct ng_val *rep = NULL;
	ng_dict(&m);
	ng_kv(&m, "command", "offer");
	ng_kv(&m, "call-id", call_id);
	ng_kv(&m, "from-tag", a->name);
	ng_kv(&m, "sdp", sdp);
	ng_kv(&m, "address family", b->family == 6 ? "IP6" : "IP4");
	common_flags(&m, srtp);
	ng_end(&m);
	int rc = ng_call(S, &m, "offer", false, &rep);
	ng_buf_free(&m);
	if (rc)
		return rc;
	S->rooms_set = room + 1;
	unsigned tag_b = 0, tag_a = 0;
	const char *osdp = ng_get_str(rep, "sdp");
	rc = take_sdp(b, osdp, b->srtp, "offer", &tag_b);
	if (!rc && srtp && offers_key(osdp, &a->key_in))
		S->passthrough_offered = true;
	ng_free(rep);
	rep = NULL;
	if (rc)
		return rc;
	/* answer: participant 2, with the crypto tag of the suite it took */
	if (sdp_of(b, call_id, srtp ? tag_b : 0, sdp, sizeof(sdp)))
		return -EINVAL;
	ng_dict(&m);
	ng_kv(&m, "command", "answer");
	ng_kv(&m, "call-id", call_id);
	ng_kv(&m, "from-tag", a->name);
	ng_kv(&m, "to-tag", b->name);
	ng_kv(&m, "sdp", sdp);
	common_flags(&m, srtp);
	ng_end(&m);
	rc = ng_call(S, &m, "answer", false, &rep);
	ng_buf_free(&m);
	explicit_bzero(sdp, sizeof(sdp));
	if (rc)
		return rc;
	rc = take_sdp(a, ng_get_str(rep, "sdp"), a->srtp, "answer", &tag_a);
	ng_free(rep);
	if (rc)
		return rc;
	if (srtp && (same_key(&b->key_out, &a->key_in) || same_key(&a->key_out, &b->key_in)))
		S->keys_differ = false;
	return 0;
}

static int rtpe_setup(struct ld_run *R)
{
	if (R->sc.parts_per_room != 2) {
		fprintf(stderr, "mmload: --rtpengine relays two-party calls: rooms of exactly 2 "
				"participants, not %u\n", R->sc.parts_per_room);
		return -EINVAL;
	}
	struct rtpe *S = calloc(1, sizeof(*S));
	if (!S)
		return -ENOMEM;
	S->fd = -1;
	S->keys_differ = true;
	if (getrandom(&S->salt, sizeof(S->salt), 0) != sizeof(S->salt))
		S->salt = (uint32_t)getpid();
	R->rtpe = S;
	int rc = ng_open(R, S);
	if (rc)
		return rc;
	S->prof_a = R->parts[0].srtp;
	S->prof_b = S->prof_a == MM_SRTP_NONE || R->o.rtpe_same_suite ? S->prof_a
									 : other_profile(S->prof_a);
	for (uint32_t r = 0; r < (uint32_t)R->sc.conf.rooms; r++) {
		rc = setup_call(R, S, r);
		if (rc) {
			char room[LD_NAME_MAX];
			ld_room_name(R, r, room, sizeof(room));
			fprintf(stderr, "mmload: rtpengine: call %s not set up\n", room);
			return rc;
		}
	}
	return 0;
}

static int rtpe_mute(struct ld_run *R, uint32_t p, bool muted)
{
	(void)R;
	(void)p;
	(void)muted;
	return -ENOTSUP; /* refused at the options (--mute-one) */
}

static void rtpe_teardown(struct ld_run *R)
{
	struct rtpe *S = R->rtpe;
	if (!S)
		return;
	if (!R->o.keep && S->fd >= 0) {
		char call_id[LD_NAME_MAX];
		for (uint32_t r = 0; r < S->rooms_set; r++) {
			ld_room_name(R, r, call_id, sizeof(call_id));
			delete_call(S, call_id, false);
		}
	}
	if (S->fd >= 0)
		close(S->fd);
	free(S);
	R->rtpe = NULL;
}

/* "rtpengine": what was set up and whether it really re-encrypted;
 * "reencrypts" at the top as well. */
static void rtpe_report(struct ld_run *R, json_t *rep)
{
	struct rtpe *S = R->rtpe;
	if (!S)
		return;
	json_t *fail = json_object_get(rep, "srtp_failures");
	json_int_t auth = json_integer_value(json_object_get(fail, "auth"));
	json_int_t other = json_integer_value(json_object_get(fail, "other"));
	json_int_t rx = json_integer_value(json_object_get(json_object_get(rep, "received"), "packets"));
	bool srtp = S->prof_a != MM_SRTP_NONE;
	bool decrypted = rx > 0 && auth == 0 && other == 0;
	json_t *re = srtp ? json_boolean(S->keys_differ && decrypted) : json_null();
	json_t *j = json_object();
	json_object_set_new(j, "ng", json_string(S->ng));
	json_object_set_new(j, "calls", json_integer(S->rooms_set));
	json_object_set_new(j, "offerer_srtp", json_string(srtp ? mm_srtp_profile_name(S->prof_a)
								 : "none"));
	json_object_set_new(j, "answerer_srtp", json_string(srtp ? mm_srtp_profile_name(S->prof_b)
								  : "none"));
	json_object_set_new(j, "keys_differ_per_leg", srtp ? json_boolean(S->keys_differ)
							   : json_null());
	json_object_set_new(j, "offered_offerer_key_to_answerer",
			    json_boolean(S->passthrough_offered));
	json_object_set_new(j, "received_decrypt_with_own_leg_key",
			    srtp ? json_boolean(decrypted) : json_null());
	json_object_set_new(j, "reencrypts", json_copy(re));
	json_object_set_new(rep, "rtpengine", j);
	json_object_set_new(rep, "reencrypts", re);
}

const struct ld_control ld_control_rtpengine = {
	.name = "rtpengine",
	.setup = rtpe_setup,
	.mute = rtpe_mute,
	.teardown = rtpe_teardown,
	.report = rtpe_report,
	.forwarder = "rtpengine",
};
