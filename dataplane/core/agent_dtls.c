/* DTLS-SRTP (RFC 5763, RFC 5764) on the agent thread, with OpenSSL.
 *
 * Why here and not in the workers: a handshake is a few datagrams per
 * endpoint per call, costs milliseconds of ECDHE and ECDSA, and needs
 * allocation and timers; the workers must not stall on any of that. The
 * owning worker hands the endpoint's DTLS records up through its mailbox
 * (engine.c), the agent feeds them to the endpoint's SSL through a memory
 * BIO, one datagram per write, and each datagram OpenSSL writes (a custom
 * BIO: one BIO_write is one datagram, so boundaries hold) goes down the
 * room's worker's mailbox, which sends it like any copy.
 *
 * Each endpoint with "dtls" has one association, keyed by endpoint name
 * and the generation of its credentials (ice_gen): an ICE binding keeps
 * it, new credentials start a new one. mmdp is the DTLS server when the
 * peer's setup is active, else the client, starting once the endpoint is
 * bound. At the end of the handshake the peer's certificate must have
 * the SHA-256 fingerprint of its SDP (checked in the verify callback, so
 * a mismatch aborts the handshake with a fatal alert); the SRTP keys
 * exported (RFC 5764 4.2) become the endpoint's keyset: inbound the peer's
 * write key and salt, outbound mmdp's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "dataplane/core/agent_internal.h"
#include "dataplane/core/mailbox.h"

/* The largest datagram mmdp's DTLS writes: fits any path WebRTC uses
 * (browsers assume about 1200 bytes too). */
#define DTLS_MTU 1200

enum dtls_state { DS_NEW = 0, DS_HANDSHAKING, DS_CONNECTED, DS_FAILED };
static const char *const state_names[] = {"new", "handshaking", "connected", "failed"};

struct dtls_ep {
	char name[MM_NAME_MAX + 1];
	uint64_t ice_gen;
	struct mm_agent *a;
	SSL *ssl;
	BIO *rbio; /* memory BIO: the datagrams the peer sent */
	bool server;
	bool fp_mismatch;
	enum dtls_state state;
	enum mm_srtp_profile profile;
	uint8_t fp[32]; /* the peer's, from its SDP */
	uint64_t tx, tx_dropped, rx;
	char error[128];
};

struct mm_dtls {
	SSL_CTX *ctx;
	BIO_METHOD *out_method;
	char fingerprint[8 + 32 * 3];
	json_t *eps; /* endpoint name -> struct dtls_ep * (as an integer) */
};

static struct dtls_ep *ep_of(json_t *v)
{
	return (struct dtls_ep *)(uintptr_t)json_integer_value(v);
}

/* ------------------------------------------------------- certificate --- */

static void ssl_err(char *err, size_t errlen, const char *what)
{
	char buf[160];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "failed");
	ERR_clear_error();
}

/* An ECDSA P-256 key and a self-signed certificate for it, valid from a
 * day ago for a year (WebRTC checks only the fingerprint). */
static int make_cert(X509 **xp, EVP_PKEY **kp, char *err, size_t errlen)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	uint32_t serial = 0;
	if (!k || !x || RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto fail;
	X509_NAME *nm = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(serial & 0x7fffffff)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) || !X509_set_pubkey(x, k) ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"mmdp", -1, -1, 0) ||
	    !X509_set_issuer_name(x, nm) || !X509_sign(x, k, EVP_sha256()))
		goto fail;
	*xp = x;
	*kp = k;
	return 0;
fail:
	ssl_err(err, errlen, "generating the DTLS certificate");
	X509_free(x);
	EVP_PKEY_free(k);
	return -EINVAL;
}

static int load_cert(const char *cert_path, const char *key_path, X509 **xp, EVP_PKEY **kp,
		     char *err, size_t errlen)
{
	FILE *f = fopen(cert_path, "r");
	if (!f) {
		snprintf(err, errlen, "dtls_cert %s: %s", cert_path, strerror(errno));
		return -EINVAL;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		ssl_err(err, errlen, "dtls_cert: not a PEM certificate");
		return -EINVAL;
	}
	f = fopen(key_path, "r");
	if (!f) {
		snprintf(err, errlen, "dtls_key %s: %s", key_path, strerror(errno));
		X509_free(x);
		return -EINVAL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || X509_check_private_key(x, k) != 1) {
		ssl_err(err, errlen, k ? "dtls_key does not match dtls_cert" : "dtls_key: not a PEM private key");
		X509_free(x);
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*xp = x;
	*kp = k;
	return 0;
}

/* "sha-256 AB:CD:..." of a certificate (the SDP a=fingerprint form). */
static int cert_fingerprint(X509 *x, uint8_t md[32])
{
	unsigned n = 0;
	return X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32 ? 0 : -EINVAL;
}

static void fingerprint_str(const uint8_t md[32], char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	memcpy(out, "sha-256 ", 8);
	char *p = out + 8;
	for (int i = 0; i < 32; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
		*p++ = i < 31 ? ':' : 0;
	}
}

/* ------------------------------------------------- the datagram BIO --- */

static void send_datagram(struct dtls_ep *d, const uint8_t *data, size_t len);

static int out_write(BIO *b, const char *data, int len)
{
	struct dtls_ep *d = BIO_get_data(b);
	if (len > 0)
		send_datagram(d, (const uint8_t *)data, (size_t)len);
	return len;
}

/* Answers the DTLS layer's questions of a datagram BIO: what it needs to
 * know is that nothing is pending and writes are whole datagrams. */
static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 0; /* DTLS_MTU is already the UDP payload */
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return 0;
	default:
		return 0;
	}
}

static int out_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* ------------------------------------------------------- the context --- */

static int verify_cb(int ok, X509_STORE_CTX *x);

static int dtls_setup(struct mm_agent *a, X509 *cert, EVP_PKEY *key, char *err, size_t errlen)
{
	struct mm_dtls *D = calloc(1, sizeof(*D));
	uint8_t md[32];
	if (!D) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	D->eps = json_object();
	D->ctx = SSL_CTX_new(DTLS_method());
	D->out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mmdp dtls datagram");
	if (!D->eps || !D->ctx || !D->out_method) {
		ssl_err(err, errlen, "creating the DTLS context");
		goto fail;
	}
	BIO_meth_set_write(D->out_method, out_write);
	BIO_meth_set_ctrl(D->out_method, out_ctrl);
	BIO_meth_set_create(D->out_method, out_create);
	if (!SSL_CTX_set_min_proto_version(D->ctx, DTLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(D->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(D->ctx, key) != 1 ||
	    /* 0 is success for this one */
	    SSL_CTX_set_tlsext_use_srtp(D->ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0 ||
	    cert_fingerprint(cert, md) != 0) {
		ssl_err(err, errlen, "setting up the DTLS context");
		goto fail;
	}
	/* Both roles ask for the peer's certificate: its fingerprint is the
	 * only authentication WebRTC has. */
	SSL_CTX_set_verify(D->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_read_ahead(D->ctx, 1);
	fingerprint_str(md, D->fingerprint);
	X509_free(cert);
	EVP_PKEY_free(key);
	a->dtls = D;
	return 0;
fail:
	X509_free(cert);
	EVP_PKEY_free(key);
	if (D) {
		SSL_CTX_free(D->ctx);
		BIO_meth_free(D->out_method);
		json_decref(D->eps);
		free(D);
	}
	return -EINVAL;
}

int mm_agent_dtls_init(struct mm_agent *a, const char *cert_path, const char *key_path, char *err,
		       size_t errlen)
{
	X509 *x;
	EVP_PKEY *k;
	if (a->dtls)
		mm_agent_dtls_fini(a);
	bool have_cert = cert_path && cert_path[0], have_key = key_path && key_path[0];
	if (have_cert != have_key) {
		snprintf(err, errlen, "dtls_cert and dtls_key go together");
		return -EINVAL;
	}
	int rc = have_cert ? load_cert(cert_path, key_path, &x, &k, err, errlen)
			   : make_cert(&x, &k, err, errlen);
	if (rc)
		return rc;
	return dtls_setup(a, x, k, err, errlen);
}

static void ep_free(struct dtls_ep *d)
{
	if (!d)
		return;
	SSL_free(d->ssl); /* frees both BIOs */
	OPENSSL_cleanse(d, sizeof(*d));
	free(d);
}

void mm_agent_dtls_fini(struct mm_agent *a)
{
	struct mm_dtls *D = a->dtls;
	if (!D)
		return;
	const char *name;
	json_t *v;
	json_object_foreach(D->eps, name, v)
		ep_free(ep_of(v));
	json_decref(D->eps);
	SSL_CTX_free(D->ctx);
	BIO_meth_free(D->out_method);
	free(D);
	a->dtls = NULL;
}

/* The context, made on first use when mmdp's start did not. */
static struct mm_dtls *dtls_ctx(struct mm_agent *a)
{
	char err[256];
	if (!a->dtls && mm_agent_dtls_init(a, NULL, NULL, err, sizeof(err)) != 0)
		mm_err("dtls_init_failed", "error=%s", mm_q(err));
	return a->dtls;
}

const char *mm_agent_dtls_fingerprint(struct mm_agent *a)
{
	struct mm_dtls *D = dtls_ctx(a);
	return D ? D->fingerprint : NULL;
}

/* ------------------------------------------------------ associations --- */

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	(void)ok; /* self-signed: the chain means nothing, the fingerprint all */
	if (X509_STORE_CTX_get_error_depth(x) != 0)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls_ep *d = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	uint8_t md[32];
	if (!d || !cert || cert_fingerprint(cert, md) != 0 || CRYPTO_memcmp(md, d->fp, 32) != 0) {
		if (d)
			d->fp_mismatch = true;
		X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
		return 0; /* fatal alert, handshake fails */
	}
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static void send_datagram(struct dtls_ep *d, const uint8_t *data, size_t len)
{
	struct mm_tables *t = d->a->t;
	struct mm_endpoint *ep = mm_tables_endpoint(t, d->name);
	struct mm_mbox *mb = ep ? t->mbox_down[ep->room->worker] : NULL;
	struct mm_mbox_msg *m;
	if (!ep || ep->ice_gen != d->ice_gen || !ep->bound || len > MM_MBOX_DATA || !mb ||
	    !(m = mm_mbox_reserve(mb))) {
		d->tx_dropped++; /* DTLS retransmits */
		return;
	}
	m->type = MM_MBOX_DTLS_OUT;
	m->family = ep->family;
	memset(m->mac, 0, 6);
	m->len = (uint16_t)len;
	m->in_port = ep->port_id;
	m->key = ep->key;
	m->laddr = ep->laddr;
	m->now_ns = 0;
	m->ice_gen = ep->ice_gen;
	memcpy(m->ep, ep->name, sizeof(m->ep));
	memcpy(m->data, data, len);
	mm_mbox_commit(mb);
	d->tx++;
}

static struct dtls_ep *ep_new(struct mm_agent *a, const struct mm_endpoint *ep)
{
	struct mm_dtls *D = a->dtls;
	struct dtls_ep *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	memcpy(d->name, ep->name, sizeof(d->name));
	d->ice_gen = ep->ice_gen;
	d->a = a;
	d->server = ep->dtls_peer_active;
	memcpy(d->fp, ep->dtls_fp, 32);
	d->ssl = SSL_new(D->ctx);
	d->rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(D->out_method);
	if (!d->ssl || !d->rbio || !wbio) {
		BIO_free(d->rbio);
		BIO_free(wbio);
		SSL_free(d->ssl);
		free(d);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_mem_eof_return(d->rbio, -1); /* empty: "retry", not end of file */
	BIO_set_data(wbio, d);
	SSL_set_bio(d->ssl, d->rbio, wbio);
	SSL_set_app_data(d->ssl, d);
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(d->ssl, DTLS_MTU);
	if (d->server)
		SSL_set_accept_state(d->ssl);
	else
		SSL_set_connect_state(d->ssl);
	return d;
}

static void fail(struct dtls_ep *d, const char *why)
{
	d->state = DS_FAILED;
	snprintf(d->error, sizeof(d->error), "%s", why);
	ERR_clear_error();
}

/* Make ep's keyset from the exported keys (the same swap as an
 * endpoint.put with new SDES keys: a new conf, published, the old one
 * freed after a grace period). */
static int install_keys(struct mm_agent *a, struct dtls_ep *d, enum mm_srtp_profile p,
			const uint8_t *in, const uint8_t *out)
{
	struct mm_tables *t = a->t;
	struct mm_endpoint *ep = mm_tables_endpoint(t, d->name);
	if (!ep || ep->ice_gen != d->ice_gen)
		return -ENOENT;
	struct mm_ep_conf *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = *ep->conf;
	c->keys = mm_keyset_create(t, p, in, out);
	c->prev_keys = NULL;
	if (!c->keys) {
		free(c);
		return -ENOMEM;
	}
	if (mm_conf_attach_caches(ep->conf, c) != 0) {
		mm_keyset_destroy(c->keys);
		free(c);
		return -ENOMEM;
	}
	struct mm_garbage g = {0};
	mm_endpoint_set_conf(t, ep, c, &g);
	urcu_qsbr_synchronize_rcu();
	mm_garbage_collect(&g, true);
	return 0;
}

/* The handshake is done: the negotiated profile and its keys. */
static void connected(struct mm_agent *a, struct dtls_ep *d)
{
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(d->ssl);
	size_t kl = 16, sl;
	enum mm_srtp_profile p;
	if (!sp) {
		fail(d, "no SRTP profile negotiated (use_srtp)");
		return;
	}
	if (sp->id == SRTP_AEAD_AES_128_GCM) {
		p = MM_SRTP_AEAD_AES_128_GCM;
		sl = 12;
	} else if (sp->id == SRTP_AES128_CM_SHA1_80) {
		p = MM_SRTP_AES_CM_128_HMAC_SHA1_80;
		sl = 14;
	} else {
		fail(d, "unsupported SRTP profile");
		return;
	}
	/* RFC 5764 4.2: client key, server key, client salt, server salt. */
	uint8_t km[2 * (16 + 14)], cli[MM_SRTP_MASTER_MAX], srv[MM_SRTP_MASTER_MAX];
	static const char label[] = "EXTRACTOR-dtls_srtp";
	if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), label, sizeof(label) - 1, NULL, 0,
				       0) != 1) {
		fail(d, "keying material export failed");
		return;
	}
	memcpy(cli, km, kl);
	memcpy(cli + kl, km + 2 * kl, sl);
	memcpy(srv, km + kl, kl);
	memcpy(srv + kl, km + 2 * kl + sl, sl);
	/* Inbound: what the peer writes; outbound: what mmdp writes. */
	int rc = d->server ? install_keys(a, d, p, cli, srv) : install_keys(a, d, p, srv, cli);
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(cli, sizeof(cli));
	OPENSSL_cleanse(srv, sizeof(srv));
	if (rc) {
		fail(d, rc == -ENOMEM ? "out of memory installing the SRTP keys" : "endpoint gone");
		return;
	}
	d->profile = p;
	d->state = DS_CONNECTED;
}

/* Run the handshake (or read what comes after it) on what arrived. */
static void step(struct mm_agent *a, struct dtls_ep *d)
{
	if (d->state == DS_FAILED)
		return;
	if (d->state == DS_CONNECTED) {
		/* Application data (no data channels here) and alerts. */
		uint8_t buf[2048];
		while (SSL_read(d->ssl, buf, sizeof(buf)) > 0)
			;
		ERR_clear_error();
		return;
	}
	d->state = DS_HANDSHAKING;
	int r = SSL_do_handshake(d->ssl);
	if (r == 1) {
		connected(a, d);
		return;
	}
	int e = SSL_get_error(d->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	if (d->fp_mismatch) {
		fail(d, "fingerprint mismatch");
		return;
	}
	char buf[120];
	unsigned long ec = ERR_peek_error();
	ERR_error_string_n(ec, buf, sizeof(buf));
	fail(d, ec ? buf : "handshake failed");
}

static struct dtls_ep *find(struct mm_dtls *D, const char *name)
{
	json_t *v = json_object_get(D->eps, name);
	return v ? ep_of(v) : NULL;
}

void mm_agent_dtls_input(struct mm_agent *a, const struct mm_mbox_msg *m)
{
	struct mm_dtls *D = a->dtls;
	struct dtls_ep *d = D ? find(D, m->ep) : NULL;
	if (!d || d->ice_gen != m->ice_gen || d->state == DS_FAILED)
		return;
	if (m->len > MM_MBOX_DATA || BIO_write(d->rbio, m->data, (int)m->len) != (int)m->len)
		return;
	d->rx++;
	step(a, d);
	(void)BIO_reset(d->rbio); /* whatever SSL left unread is not DTLS */
}

void mm_agent_dtls_sync(struct mm_agent *a)
{
	struct mm_tables *t = a->t;
	struct mm_dtls *D = a->dtls;
	const char *name;
	json_t *v;
	void *tmp;
	if (D) {
		json_object_foreach_safe(D->eps, tmp, name, v) {
			struct dtls_ep *d = ep_of(v);
			struct mm_endpoint *ep = mm_tables_endpoint(t, name);
			if (!ep || !ep->dtls || ep->ice_gen != d->ice_gen) {
				ep_free(d);
				json_object_del(D->eps, name);
			}
		}
	}
	struct cds_lfht_iter it;
	struct mm_endpoint *ep;
	MM_LFHT_FOREACH(t->eps_by_name, &it, ep, name_node) {
		if (!ep->dtls || (D && json_object_get(D->eps, ep->name)))
			continue;
		if (!D && !(D = dtls_ctx(a)))
			return;
		struct dtls_ep *d = ep_new(a, ep);
		if (d)
			json_object_set_new(D->eps, ep->name, json_integer((json_int_t)(uintptr_t)d));
	}
}

void mm_agent_dtls_tick(struct mm_agent *a)
{
	struct mm_dtls *D = a->dtls;
	if (!D)
		return;
	const char *name;
	json_t *v;
	json_object_foreach(D->eps, name, v) {
		struct dtls_ep *d = ep_of(v);
		if (d->state == DS_NEW && !d->server) {
			/* The client speaks first, once it knows where to. */
			struct mm_endpoint *ep = mm_tables_endpoint(a->t, name);
			if (ep && ep->bound && ep->ice_gen == d->ice_gen)
				step(a, d);
		} else if (d->state == DS_HANDSHAKING) {
			/* Retransmit a flight when its timer ran out. */
			if (DTLSv1_handle_timeout(d->ssl) < 0)
				fail(d, "handshake timed out");
		}
	}
}

json_t *mm_agent_dtls_stats(struct mm_agent *a, const struct mm_endpoint *ep)
{
	if (!ep->dtls)
		return NULL;
	struct dtls_ep *d = a->dtls ? find(a->dtls, ep->name) : NULL;
	json_t *o = json_pack("{sssssIsI}", "state",
			      d && d->ice_gen == ep->ice_gen ? state_names[d->state] : "new", "role",
			      ep->dtls_peer_active ? "server" : "client", "tx", (json_int_t)(d ? d->tx : 0),
			      "rx", (json_int_t)(d ? d->rx : 0));
	if (d && d->state == DS_CONNECTED)
		json_object_set_new(o, "profile", json_string(mm_srtp_profile_name(d->profile)));
	if (d && d->state == DS_FAILED)
		json_object_set_new(o, "error", json_string(d->error));
	return o;
}
