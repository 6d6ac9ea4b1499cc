/* Browsers in mmdp: ICE-lite checks answered by the engine, endpoints bound
 * by the agent, consent freshness, DTLS-SRTP handshakes of the agent
 * against a real OpenSSL peer through the real mailboxes (both roles), and
 * the agent protocol's ice/dtls fields. */
#include "harness.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dataplane/core/engine_internal.h"
#include "dataplane/core/mailbox.h"
#include "dataplane/proto/stun.h"

static struct mm_tables T;
static struct mm_agent A;
static struct h_capture *CAP;
static struct mm_worker_ctx W;

static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 9, 9};
static const uint8_t MAC2[6] = {0x02, 0, 0, 0, 1, 2};
#define UFRAG "mmU1"
#define PWD "abcdefghijklmnopqrstuv0123"
#define NOW 2000000000ull

static void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 1);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
	CAP = calloc(1, sizeof(*CAP));
	W = (struct mm_worker_ctx){.t = &T, .id = 0, .st = &T.wstats[0],
				   .tx = {.alloc = h_cap_alloc, .send = h_cap_send, .discard = h_cap_discard,
					  .ctx = CAP}};
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\"}");
	/* a plain RTP endpoint to publish to, and receive from, the browser */
	H_OK(&A, H_EP_FMT, "plain", "r1", 40002, "198.18.1.2", 5002, 2001, 2002, "");
}

static void teardown(void)
{
	mm_agent_dtls_fini(&A);
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	free(CAP);
	H_ASSERT_NO_LEAKS();
}

static uint64_t drops(enum mm_drop_reason r)
{
	return T.wstats[0].drops[r];
}

/* An ICE-only browser endpoint "br" on port 40001 (plain RTP, so that
 * the ICE tests need no DTLS), no remote. */
static void put_ice_ep(void)
{
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"ice\":{\"ufrag\":\"" UFRAG "\",\"pwd\":\"" PWD "\"},"
	     "\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"}]}");
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A Binding request as a browser sends it: USERNAME "ufrag:peer",
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE (when nominate), then
 * MESSAGE-INTEGRITY with pwd and FINGERPRINT (when fp). Returns its length. */
static size_t stun_req(uint8_t *b, const char *user, const char *pwd, bool nominate, bool fp,
		       uint8_t txid_seed)
{
	size_t n = 20;
	put16(b, STUN_BINDING_REQUEST);
	put32(b + 4, STUN_MAGIC_COOKIE);
	for (int i = 0; i < 12; i++)
		b[8 + i] = (uint8_t)(txid_seed + i);
	size_t ul = strlen(user);
	put16(b + n, STUN_ATTR_USERNAME);
	put16(b + n + 2, (uint16_t)ul);
	memcpy(b + n + 4, user, ul);
	n += 4 + ((ul + 3) & ~(size_t)3);
	memset(b + 24 + ul, 0, ((ul + 3) & ~(size_t)3) - ul);
	put16(b + n, STUN_ATTR_PRIORITY);
	put16(b + n + 2, 4);
	put32(b + n + 4, 0x6e7f1eff);
	n += 8;
	put16(b + n, STUN_ATTR_ICE_CONTROLLING);
	put16(b + n + 2, 8);
	memset(b + n + 4, 0x42, 8);
	n += 12;
	if (nominate) {
		put16(b + n, STUN_ATTR_USE_CANDIDATE);
		put16(b + n + 2, 0);
		n += 4;
	}
	/* MESSAGE-INTEGRITY over the message with the length counting it */
	put16(b + 2, (uint16_t)(n - 20 + 24));
	unsigned hl = 0;
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), b, n, b + n + 4, &hl);
	put16(b + n, STUN_ATTR_MESSAGE_INTEGRITY);
	put16(b + n + 2, 20);
	n += 24;
	if (fp) {
		put16(b + 2, (uint16_t)(n - 20 + 8));
		uint32_t crc = stun_crc32(b, n) ^ STUN_FINGERPRINT_XOR;
		put16(b + n, STUN_ATTR_FINGERPRINT);
		put16(b + n + 2, 4);
		put32(b + n + 4, crc);
		n += 8;
	}
	return n;
}

static int send_check(const char *src, uint16_t sport, const char *user, const char *pwd,
		      bool nominate, uint64_t now)
{
	uint8_t req[256], frame[512];
	size_t n = stun_req(req, user, pwd, nominate, true, (uint8_t)sport);
	size_t fl = h_frame(frame, src, sport, "198.18.0.1", 40001, PEER_MAC, req, n);
	return mm_engine_rx(&W, frame, fl, 0, now);
}

static int send_rtp(const char *src, uint16_t sport, uint16_t dport, uint32_t ssrc, uint16_t seq,
		    uint64_t now)
{
	uint8_t rtp[400], frame[600];
	size_t n = h_rtp(rtp, sizeof(rtp), ssrc, seq, 960u * seq, 111, 100);
	size_t fl = h_frame(frame, src, sport, "198.18.0.1", dport, MAC2, rtp, n);
	return mm_engine_rx(&W, frame, fl, 0, now);
}

/* Captured frames to a remote port (mmdp also sends the plain publisher
 * its receiver reports). */
static size_t sent_to(uint16_t port)
{
	size_t n = 0;
	for (size_t i = 0; i < CAP->n; i++) {
		struct net_udp u;
		cr_assert_eq(net_parse_udp(CAP->f[i].data, CAP->f[i].len, &u), 0);
		n += u.dport == port;
	}
	return n;
}

static json_t *ep_stats(const char *name)
{
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"%s\"}", name);
	cr_assert(h_ok(r));
	return r;
}

static const char *ice_state(const char *name)
{
	static char s[32];
	json_t *r = ep_stats(name);
	snprintf(s, sizeof(s), "%s",
		 json_string_value(json_object_get(json_object_get(r, "ice"), "state")));
	json_decref(r);
	return s;
}

TestSuite(ice, .init = setup, .fini = teardown);

Test(ice, check_is_answered_with_verifiable_response)
{
	put_ice_ep();
	cr_assert_str_eq(ice_state("br"), "waiting");
	cr_assert_eq(send_check("198.18.1.1", 5001, UFRAG ":peer", PWD, false, NOW), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 1, "one Binding success response");
	struct net_udp u;
	cr_assert_eq(net_parse_udp(CAP->f[0].data, CAP->f[0].len, &u), 0);
	char ip[64];
	cr_assert_str_eq(net_addr_format(&u.dst, ip, sizeof(ip)), "198.18.1.1");
	cr_assert_eq(u.dport, 5001);
	cr_assert_eq(u.sport, 40001, "from the port the check came to");
	cr_assert_arr_eq(u.dst_mac, PEER_MAC, 6);
	const uint8_t *pl = CAP->f[0].data + u.payload_off;
	struct stun_msg m;
	cr_assert_eq(stun_parse(pl, u.payload_len, &m), 0);
	cr_assert_eq(m.type, STUN_BINDING_SUCCESS);
	for (int i = 0; i < 12; i++)
		cr_assert_eq(m.txid[i], (uint8_t)(5001 + i), "same transaction");
	cr_assert(stun_check_integrity(pl, u.payload_len, &m, (const uint8_t *)PWD, strlen(PWD)));
	cr_assert(stun_check_fingerprint(pl, u.payload_len, &m));
	/* XOR-MAPPED-ADDRESS: the sender */
	size_t off = 20;
	bool found = false;
	while (off + 4 <= u.payload_len) {
		uint16_t t = (uint16_t)(pl[off] << 8 | pl[off + 1]);
		uint16_t l = (uint16_t)(pl[off + 2] << 8 | pl[off + 3]);
		if (t == STUN_ATTR_XOR_MAPPED_ADDRESS) {
			cr_assert_eq(pl[off + 5], 0x01, "IPv4");
			uint16_t port = (uint16_t)((pl[off + 6] << 8 | pl[off + 7]) ^ 0x2112);
			cr_assert_eq(port, 5001);
			uint8_t a[4];
			for (int i = 0; i < 4; i++)
				a[i] = pl[off + 8 + i] ^ ((const uint8_t *)"\x21\x12\xa4\x42")[i];
			cr_assert_eq(memcmp(a, "\xc6\x12\x01\x01", 4), 0, "198.18.1.1");
			found = true;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	cr_assert(found, "has XOR-MAPPED-ADDRESS");
}

Test(ice, wrong_password_is_refused_and_counted)
{
	put_ice_ep();
	send_check("198.18.1.1", 5001, UFRAG ":peer", "wrongwrongwrongwrongwrong", false, NOW);
	cr_assert_eq(CAP->n, 0, "no response");
	cr_assert_eq(drops(MM_DROP_ICE_BAD_INTEGRITY), 1);
	json_t *r = ep_stats("br");
	json_t *ice = json_object_get(r, "ice");
	cr_assert_eq(json_integer_value(json_object_get(ice, "bad_checks")), 1);
	cr_assert_eq(json_integer_value(json_object_get(ice, "checks")), 0);
	json_decref(r);
	mm_agent_tick(&A);
	cr_assert_str_eq(ice_state("br"), "waiting", "a bad check binds nothing");

	/* a corrupted FINGERPRINT is refused too */
	uint8_t req[256], frame[512];
	size_t n = stun_req(req, UFRAG ":peer", PWD, false, true, 1);
	req[n - 1] ^= 1;
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, PEER_MAC, req, n);
	mm_engine_rx(&W, frame, fl, 0, NOW);
	cr_assert_eq(drops(MM_DROP_ICE_BAD_INTEGRITY), 2);
}

Test(ice, unknown_ufrag_and_malformed_checks_are_dropped)
{
	put_ice_ep();
	send_check("198.18.1.1", 5001, "nobody:peer", PWD, false, NOW);
	cr_assert_eq(drops(MM_DROP_ICE_UNKNOWN_USER), 1);
	/* the ufrag on another local port is no match either */
	uint8_t req[256], frame[512];
	size_t n = stun_req(req, UFRAG ":peer", PWD, false, true, 1);
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40009, PEER_MAC, req, n);
	mm_engine_rx(&W, frame, fl, 0, NOW);
	cr_assert_eq(drops(MM_DROP_ICE_UNKNOWN_USER), 2);
	/* truncated: not a check */
	fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, PEER_MAC, req, n - 10);
	mm_engine_rx(&W, frame, fl, 0, NOW);
	cr_assert_eq(drops(MM_DROP_STUN_UNSUPPORTED), 1);
	cr_assert_eq(CAP->n, 0);
}

Test(ice, unbound_endpoint_is_bound_by_the_agent_and_consent_expires)
{
	put_ice_ep();
	/* unbound: the plain endpoint's audio is not sent to it */
	send_rtp("198.18.1.2", 5002, 40002, 2001, 1, NOW);
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(drops(MM_DROP_ICE_CONSENT_EXPIRED), 1);
	/* and RTP from its future address is nobody's yet */
	send_rtp("198.18.1.1", 5001, 40001, 7001, 1, NOW);
	cr_assert_eq(drops(MM_DROP_UNKNOWN_ENDPOINT), 1);

	send_check("198.18.1.1", 5001, UFRAG ":peer", PWD, false, NOW);
	cr_assert_eq(CAP->n, 1);
	cr_assert_eq(T.mbox_up[0]->tail, 1, "the worker asked the agent to bind");
	mm_agent_tick(&A);
	json_t *r = ep_stats("br");
	json_t *ice = json_object_get(r, "ice");
	cr_assert_str_eq(json_string_value(json_object_get(ice, "state")), "bound");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ice, "remote"), "addr")),
			 "198.18.1.1");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ice, "remote"), "port")), 5001);
	cr_assert_eq(json_integer_value(json_object_get(ice, "checks")), 1, "counters move with it");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "remote"), "port")), 5001);
	json_decref(r);

	/* now media flows both ways */
	CAP->n = 0;
	send_rtp("198.18.1.2", 5002, 40002, 2001, 2, NOW + 1000000);
	cr_assert_eq(CAP->n, 1, "plain -> browser");
	send_rtp("198.18.1.1", 5001, 40001, 7001, 2, NOW + 2000000);
	cr_assert_eq(CAP->n, 2, "browser -> plain");

	/* a repeated endpoint.put (new streams) keeps the learned 5-tuple */
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"ice\":{\"ufrag\":\"" UFRAG "\",\"pwd\":\"" PWD "\"},"
	     "\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"},{\"ssrc\":7002,\"kind\":\"video\"}]}");
	cr_assert_str_eq(ice_state("br"), "bound");

	/* 31 s without a check: consent expired, nothing sent */
	uint64_t later = NOW + 31000000000ull;
	CAP->n = 0;
	send_rtp("198.18.1.2", 5002, 40002, 2001, 3, later);
	cr_assert_eq(sent_to(5001), 0);
	cr_assert_eq(drops(MM_DROP_ICE_CONSENT_EXPIRED), 2);
	cr_assert_str_eq(ice_state("br"), "expired");
	/* a valid check renews it */
	send_check("198.18.1.1", 5001, UFRAG ":peer", PWD, false, later + 1);
	CAP->n = 0;
	send_rtp("198.18.1.2", 5002, 40002, 2001, 4, later + 2);
	cr_assert_eq(sent_to(5001), 1);
	cr_assert_str_eq(ice_state("br"), "bound");

	/* a nominated check from another 5-tuple moves it; one without
	 * USE-CANDIDATE does not */
	send_check("198.18.1.9", 6001, UFRAG ":peer", PWD, false, later + 200000000ull);
	mm_agent_tick(&A);
	r = ep_stats("br");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "remote"), "port")), 5001);
	json_decref(r);
	send_check("198.18.1.9", 6001, UFRAG ":peer", PWD, true, later + 400000000ull);
	mm_agent_tick(&A);
	r = ep_stats("br");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "remote"), "port")), 6001);
	json_decref(r);

	/* new credentials start over: unbound */
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"ice\":{\"ufrag\":\"mmU2\",\"pwd\":\"" PWD "\"},"
	     "\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"}]}");
	cr_assert_str_eq(ice_state("br"), "waiting");
}

/* ---------------------------------------------------------------- DTLS --- */

/* The peer's datagram BIO: each write is one datagram, queued. */
struct dgq {
	size_t n;
	size_t len[64];
	uint8_t d[64][1600];
};
static struct dgq PEER_OUT;

static int dg_write(BIO *b, const char *data, int len)
{
	(void)b;
	if (PEER_OUT.n < 64 && len <= 1600) {
		memcpy(PEER_OUT.d[PEER_OUT.n], data, (size_t)len);
		PEER_OUT.len[PEER_OUT.n++] = (size_t)len;
	}
	return len;
}

static long dg_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	if (cmd == BIO_CTRL_FLUSH)
		return 1;
	if (cmd == BIO_CTRL_DGRAM_QUERY_MTU)
		return 1200;
	return 0;
}

static int dg_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

struct peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio;
	BIO_METHOD *meth;
	char fp[128];
	bool done, failed;
};

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static void peer_init(struct peer *p, bool client)
{
	memset(p, 0, sizeof(*p));
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"peer", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	cr_assert(X509_sign(x, k, EVP_sha256()));
	uint8_t md[32];
	unsigned mdl;
	X509_digest(x, EVP_sha256(), md, &mdl);
	int o = snprintf(p->fp, sizeof(p->fp), "sha-256 ");
	for (int i = 0; i < 32; i++)
		o += snprintf(p->fp + o, sizeof(p->fp) - (size_t)o, "%02X%s", md[i], i < 31 ? ":" : "");
	p->ctx = SSL_CTX_new(DTLS_method());
	SSL_CTX_use_certificate(p->ctx, x);
	SSL_CTX_use_PrivateKey(p->ctx, k);
	X509_free(x);
	EVP_PKEY_free(k);
	cr_assert_eq(SSL_CTX_set_tlsext_use_srtp(p->ctx, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"), 0);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, accept_any);
	SSL_CTX_set_read_ahead(p->ctx, 1);
	p->ssl = SSL_new(p->ctx);
	p->rbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(p->rbio, -1);
	p->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "test dgram");
	BIO_meth_set_write(p->meth, dg_write);
	BIO_meth_set_ctrl(p->meth, dg_ctrl);
	BIO_meth_set_create(p->meth, dg_create);
	SSL_set_bio(p->ssl, p->rbio, BIO_new(p->meth));
	SSL_set_options(p->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(p->ssl, 1200);
	if (client)
		SSL_set_connect_state(p->ssl);
	else
		SSL_set_accept_state(p->ssl);
	PEER_OUT.n = 0;
}

static void peer_fini(struct peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
	BIO_meth_free(p->meth);
}

static void peer_step(struct peer *p)
{
	if (p->done || p->failed)
		return;
	int r = SSL_do_handshake(p->ssl);
	if (r == 1)
		p->done = true;
	else if (SSL_get_error(p->ssl, r) != SSL_ERROR_WANT_READ)
		p->failed = true;
	ERR_clear_error();
}

/* Put the browser endpoint with dtls (setup = the peer's role), bind it
 * with a check, and run the handshake through engine, mailboxes and agent. */
static void dtls_run(struct peer *p, const char *fp, const char *setup)
{
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"ice\":{\"ufrag\":\"" UFRAG "\",\"pwd\":\"" PWD "\"},"
	     "\"dtls\":{\"fingerprint\":\"%s\",\"setup\":\"%s\"},"
	     "\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"}]}",
	     fp, setup);
	send_check("198.18.1.1", 5001, UFRAG ":peer", PWD, true, NOW);
	mm_agent_tick(&A);
	cr_assert_str_eq(ice_state("br"), "bound");
	for (int round = 0; round < 40; round++) {
		peer_step(p);
		for (size_t i = 0; i < PEER_OUT.n; i++) {
			uint8_t frame[1700];
			size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, PEER_MAC,
					    PEER_OUT.d[i], PEER_OUT.len[i]);
			mm_engine_rx(&W, frame, fl, 0, NOW + (uint64_t)round);
		}
		PEER_OUT.n = 0;
		mm_agent_tick(&A);
		CAP->n = 0;
		mm_engine_poll_mailbox(&W, NOW + (uint64_t)round);
		for (size_t i = 0; i < CAP->n; i++) {
			struct net_udp u;
			cr_assert_eq(net_parse_udp(CAP->f[i].data, CAP->f[i].len, &u), 0);
			cr_assert_eq(u.dport, 5001, "DTLS goes to the bound 5-tuple");
			cr_assert_eq(u.sport, 40001);
			BIO_write(p->rbio, CAP->f[i].data + u.payload_off, u.payload_len);
			peer_step(p);
		}
		CAP->n = 0;
		if ((p->done || p->failed) && PEER_OUT.n == 0)
			break;
	}
}

static json_t *dtls_stats(void)
{
	json_t *r = ep_stats("br");
	json_t *d = json_incref(json_object_get(r, "dtls"));
	cr_assert_not_null(d);
	json_decref(r);
	return d;
}

/* Both ends derived the same keys; an SRTP packet protected with the
 * peer's write key authenticates in mmdp (forwarded to the plain one). */
static void check_keys(struct peer *p, bool peer_client)
{
	json_t *d = dtls_stats();
	char *s = json_dumps(d, JSON_COMPACT);
	cr_assert_str_eq(json_string_value(json_object_get(d, "state")), "connected", "%s", s);
	free(s);
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(p->ssl);
	cr_assert_not_null(sp);
	size_t kl = 16, sl = sp->id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
	enum mm_srtp_profile prof =
		sp->id == SRTP_AEAD_AES_128_GCM ? MM_SRTP_AEAD_AES_128_GCM : MM_SRTP_AES_CM_128_HMAC_SHA1_80;
	cr_assert_str_eq(json_string_value(json_object_get(d, "profile")), mm_srtp_profile_name(prof));
	json_decref(d);
	uint8_t km[60], cli[46], srv[46];
	cr_assert_eq(SSL_export_keying_material(p->ssl, km, 2 * (kl + sl), "EXTRACTOR-dtls_srtp", 19,
						NULL, 0, 0), 1);
	memcpy(cli, km, kl);
	memcpy(cli + kl, km + 2 * kl, sl);
	memcpy(srv, km + kl, kl);
	memcpy(srv + kl, km + 2 * kl + sl, sl);
	const uint8_t *peer_write = peer_client ? cli : srv, *mmdp_write = peer_client ? srv : cli;
	struct mm_endpoint *ep = mm_tables_endpoint(&T, "br");
	const struct mm_keyset *k = ep->conf->keys;
	cr_assert_not_null(k);
	cr_assert_eq(k->profile, prof);
	cr_assert_eq(memcmp(k->in_key, peer_write, kl + sl), 0, "inbound = the peer's write key");
	cr_assert_eq(memcmp(k->out_key, mmdp_write, kl + sl), 0, "outbound = mmdp's write key");

	struct mm_srtp_keys keys = {.profile = prof, .master_len = kl + sl};
	memcpy(keys.master, peer_write, kl + sl);
	struct mm_srtp *out;
	cr_assert_eq(mm_srtp_create(&out, &keys, false), 0);
	uint8_t rtp[400], frame[600];
	size_t n = h_rtp(rtp, sizeof(rtp), 7001, 1, 960, 111, 100);
	cr_assert_eq(mm_srtp_protect(out, rtp, &n, sizeof(rtp)), 0);
	mm_srtp_destroy(out);
	size_t fl = h_frame(frame, "198.18.1.1", 5001, "198.18.0.1", 40001, PEER_MAC, rtp, n);
	CAP->n = 0;
	uint64_t auth = drops(MM_DROP_SRTP_AUTH);
	mm_engine_rx(&W, frame, fl, 0, NOW + 1000);
	cr_assert_eq(drops(MM_DROP_SRTP_AUTH), auth, "authenticates");
	cr_assert_eq(CAP->n, 1, "forwarded to the plain endpoint");
}

Test(ice, dtls_mmdp_server_against_openssl_client)
{
	struct peer p;
	peer_init(&p, true);
	dtls_run(&p, p.fp, "active");
	cr_assert(p.done, "the peer finished its handshake");
	json_t *d = dtls_stats();
	cr_assert_str_eq(json_string_value(json_object_get(d, "role")), "server");
	json_decref(d);
	check_keys(&p, true);
	/* a repeated put (same ice, same dtls) keeps the association and keys */
	const struct mm_keyset *k = mm_tables_endpoint(&T, "br")->conf->keys;
	H_OK(&A,
	     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
	     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"ice\":{\"ufrag\":\"" UFRAG "\",\"pwd\":\"" PWD "\"},"
	     "\"dtls\":{\"fingerprint\":\"%s\",\"setup\":\"active\"},"
	     "\"audio_muted\":true,\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"}]}",
	     p.fp);
	cr_assert_eq(mm_tables_endpoint(&T, "br")->conf->keys, k);
	d = dtls_stats();
	cr_assert_str_eq(json_string_value(json_object_get(d, "state")), "connected");
	json_decref(d);
	peer_fini(&p);
}

Test(ice, dtls_mmdp_client_against_openssl_server)
{
	struct peer p;
	peer_init(&p, false);
	dtls_run(&p, p.fp, "passive");
	cr_assert(p.done, "the peer finished its handshake");
	json_t *d = dtls_stats();
	cr_assert_str_eq(json_string_value(json_object_get(d, "role")), "client");
	json_decref(d);
	check_keys(&p, false);
	peer_fini(&p);
}

Test(ice, dtls_fingerprint_mismatch_fails_without_keys)
{
	struct peer p;
	peer_init(&p, true);
	char wrong[128];
	snprintf(wrong, sizeof(wrong), "%s", p.fp);
	wrong[8] = wrong[8] == 'A' ? 'B' : 'A';
	dtls_run(&p, wrong, "active");
	cr_assert(!p.done, "the peer got a fatal alert");
	json_t *d = dtls_stats();
	cr_assert_str_eq(json_string_value(json_object_get(d, "state")), "failed");
	cr_assert_str_eq(json_string_value(json_object_get(d, "error")), "fingerprint mismatch");
	json_decref(d);
	cr_assert_null(mm_tables_endpoint(&T, "br")->conf->keys, "no keys installed");
	/* media from it is not accepted, nor sent to it */
	uint64_t nr = drops(MM_DROP_DTLS_NOT_READY);
	send_rtp("198.18.1.1", 5001, 40001, 7001, 1, NOW + 10);
	cr_assert_eq(drops(MM_DROP_DTLS_NOT_READY), nr + 1);
	CAP->n = 0;
	send_rtp("198.18.1.2", 5002, 40002, 2001, 1, NOW + 20);
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(drops(MM_DROP_DTLS_NOT_READY), nr + 2);
	peer_fini(&p);
}

/* The same with mmdp as the DTLS client (the peer's setup passive): the
 * server's certificate is not the one its SDP named (issue 10 item 4). */
Test(ice, dtls_fingerprint_mismatch_as_client_fails_without_keys)
{
	struct peer p;
	peer_init(&p, false);
	char wrong[128];
	snprintf(wrong, sizeof(wrong), "%s", p.fp);
	size_t last = strlen(wrong) - 1;
	wrong[last] = wrong[last] == '0' ? '1' : '0';
	dtls_run(&p, wrong, "passive");
	json_t *d = dtls_stats();
	cr_assert_str_eq(json_string_value(json_object_get(d, "role")), "client");
	cr_assert_str_eq(json_string_value(json_object_get(d, "state")), "failed");
	cr_assert_str_eq(json_string_value(json_object_get(d, "error")), "fingerprint mismatch");
	json_decref(d);
	cr_assert_null(mm_tables_endpoint(&T, "br")->conf->keys, "no keys installed");
	CAP->n = 0;
	send_rtp("198.18.1.2", 5002, 40002, 2001, 1, NOW + 20);
	cr_assert_eq(CAP->n, 0, "nothing is sent to it");
	peer_fini(&p);
}

/* ----------------------------------------------------- agent protocol --- */

#define EP_PRE                                                                                  \
	"{\"op\":\"endpoint.put\",\"endpoint\":\"e\",\"room\":\"r1\","                           \
	"\"local\":{\"addr\":\"198.18.0.1\",\"port\":40005}"
#define FP32                                                                                    \
	"sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:" \
	"AA:BB:CC:DD:EE:FF"

static void expect_err(const char *code, const char *field, const char *line)
{
	json_t *r = h_agent(&A, "%s", line);
	char *s = json_dumps(r, JSON_COMPACT);
	cr_assert(!h_ok(r), "accepted: %s", s);
	cr_assert_str_eq(h_code(r), code, "%s", s);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")), field,
			 "%s", s);
	free(s);
	json_decref(r);
}

Test(ice, agent_refuses_bad_ice_and_dtls)
{
	expect_err("missing_field", "ice.ufrag", EP_PRE ",\"ice\":{\"pwd\":\"" PWD "\"}}");
	expect_err("missing_field", "ice.pwd", EP_PRE ",\"ice\":{\"ufrag\":\"abcd\"}}");
	expect_err("invalid_field", "ice.ufrag", EP_PRE ",\"ice\":{\"ufrag\":\"ab\",\"pwd\":\"" PWD "\"}}");
	expect_err("invalid_field", "ice.ufrag",
		   EP_PRE ",\"ice\":{\"ufrag\":\"ab-cd\",\"pwd\":\"" PWD "\"}}");
	expect_err("invalid_field", "ice.pwd", EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"short\"}}");
	expect_err("missing_field", "ice",
		   EP_PRE ",\"remote\":{\"addr\":\"198.18.1.5\",\"port\":5005},"
			  "\"dtls\":{\"fingerprint\":\"" FP32 "\",\"setup\":\"active\"}}");
	expect_err("invalid_field", "dtls.fingerprint",
		   EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"},"
			  "\"dtls\":{\"fingerprint\":\"sha-1 00:11\",\"setup\":\"active\"}}");
	expect_err("invalid_field", "dtls.fingerprint",
		   EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"},"
			  "\"dtls\":{\"fingerprint\":\"sha-256 00:11:22\",\"setup\":\"active\"}}");
	expect_err("invalid_field", "dtls.setup",
		   EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"},"
			  "\"dtls\":{\"fingerprint\":\"" FP32 "\",\"setup\":\"actpass\"}}");
	expect_err("invalid_field", "srtp",
		   EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"},"
			  "\"dtls\":{\"fingerprint\":\"" FP32 "\",\"setup\":\"active\"},"
			  "\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\","
			  "\"in_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}}");
	expect_err("missing_field", "remote", EP_PRE "}");
	/* a ufrag is one endpoint's */
	H_OK(&A, EP_PRE ",\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"}}");
	expect_err("conflict", "ice.ufrag",
		   "{\"op\":\"endpoint.put\",\"endpoint\":\"f\",\"room\":\"r1\","
		   "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40006},"
		   "\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"" PWD "\"}}");
	/* nothing stored on error; the good one has no remote yet */
	json_t *r = h_agent(&A, "{\"op\":\"endpoint.get\",\"endpoint\":\"f\"}");
	cr_assert_str_eq(h_code(r), "not_found");
	json_decref(r);
	r = ep_stats("e");
	cr_assert_null(json_object_get(r, "remote"));
	json_decref(r);
}

Test(ice, hello_has_the_dtls_fingerprint)
{
	json_t *r = h_agent(&A, "{\"op\":\"hello\"}");
	const char *fp = json_string_value(json_object_get(r, "dtls_fingerprint"));
	cr_assert_not_null(fp);
	cr_assert_eq(strlen(fp), 8 + 32 * 3 - 1);
	cr_assert_eq(strncmp(fp, "sha-256 ", 8), 0);
	for (int i = 0; i < 32; i++) {
		const char *b = fp + 8 + 3 * i;
		cr_assert(strchr("0123456789ABCDEF", b[0]) && strchr("0123456789ABCDEF", b[1]), "%s", fp);
		if (i < 31)
			cr_assert_eq(b[2], ':');
	}
	/* stable while mmdp runs */
	json_t *r2 = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_str_eq(json_string_value(json_object_get(r2, "dtls_fingerprint")), fp);
	json_decref(r2);
	json_decref(r);
}

/* The browser's checks often come before mmctld has its answer: the
 * endpoint.put that adds the peer's DTLS fingerprint (or a new one, when
 * the browser starts over with a new peer connection) keeps the 5-tuple
 * the checks proved, and its consent, so the handshake's first flight
 * goes out at once. */
Test(ice, adding_dtls_keeps_the_binding_and_its_consent)
{
	put_ice_ep();
	send_check("198.18.1.1", 5001, UFRAG ":peer", PWD, true, NOW);
	mm_agent_tick(&A);
	cr_assert_str_eq(ice_state("br"), "bound");
	const char *fp[2] = {"AA", "BB"};
	for (int k = 0; k < 2; k++) {
		char f[200] = "sha-256 ";
		for (int i = 0; i < 32; i++)
			snprintf(f + strlen(f), sizeof(f) - strlen(f), "%s%s", i ? ":" : "", fp[k]);
		H_OK(&A,
		     "{\"op\":\"endpoint.put\",\"endpoint\":\"br\",\"room\":\"r1\","
		     "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
		     "\"ice\":{\"ufrag\":\"" UFRAG "\",\"pwd\":\"" PWD "\"},"
		     "\"dtls\":{\"fingerprint\":\"%s\",\"setup\":\"active\"},"
		     "\"streams\":[{\"ssrc\":7001,\"kind\":\"audio\"}]}",
		     f);
		json_t *r = ep_stats("br");
		json_t *ice = json_object_get(r, "ice");
		cr_assert_str_eq(json_string_value(json_object_get(ice, "state")), "bound",
				 "fingerprint %s: still bound", fp[k]);
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(ice, "remote"), "port")), 5001);
		json_decref(r);
		/* no new check: the consent of the checks before still holds */
		struct mm_endpoint *ep = mm_tables_endpoint(&T, "br");
		cr_assert_not_null(ep);
		cr_assert_eq(mm_eng_ice_gate(&W, ep, rcu_dereference(ep->conf)), MM_DROP_DTLS_NOT_READY,
			     "only the keys are missing, not the path or its consent");
	}
}
