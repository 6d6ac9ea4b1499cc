/* rtpengine's ng protocol, the pure parts: see tools/load/ng.h. */
#include "tools/load/ng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/load/load.h"

/* ---- Writing ------------------------------------------------------------- */

void ng_buf_free(struct ng_buf *b)
{
	free(b->p);
	*b = (struct ng_buf){0};
}

void ng_raw(struct ng_buf *b, const void *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ng_strn(struct ng_buf *b, const char *s, size_t n)
{
	char hdr[24];
	int k = snprintf(hdr, sizeof(hdr), "%zu:", n);
	ng_raw(b, hdr, (size_t)k);
	ng_raw(b, s, n);
}

void ng_str(struct ng_buf *b, const char *s)
{
	ng_strn(b, s, strlen(s));
}

void ng_int(struct ng_buf *b, int64_t v)
{
	char t[32];
	int k = snprintf(t, sizeof(t), "i%llde", (long long)v);
	ng_raw(b, t, (size_t)k);
}

void ng_dict(struct ng_buf *b)
{
	ng_raw(b, "d", 1);
}

void ng_list(struct ng_buf *b)
{
	ng_raw(b, "l", 1);
}

void ng_end(struct ng_buf *b)
{
	ng_raw(b, "e", 1);
}

void ng_kv(struct ng_buf *b, const char *key, const char *val)
{
	ng_str(b, key);
	ng_str(b, val);
}

/* ---- Reading ------------------------------------------------------------- */

struct rd {
	char *p;      /* the tree's copy of the input */
	size_t len, pos;
	unsigned items;
	char *err;
	size_t errlen;
};

static struct ng_val *fail(struct rd *r, const char *what)
{
	snprintf(r->err, r->errlen, "bencode: %s at offset %zu", what, r->pos);
	return NULL;
}

/* Digits up to the terminator; value in *out. */
static int rd_num(struct rd *r, char term, bool sign, int64_t *out)
{
	size_t start = r->pos;
	bool neg = false;
	if (sign && r->pos < r->len && r->p[r->pos] == '-') {
		neg = true;
		r->pos++;
	}
	size_t digits = r->pos;
	uint64_t v = 0;
	while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
		if (v > (uint64_t)INT64_MAX / 10)
			return -1;
		v = v * 10 + (uint64_t)(r->p[r->pos] - '0');
		if (v > (uint64_t)INT64_MAX)
			return -1;
		r->pos++;
	}
	size_t nd = r->pos - digits;
	if (nd == 0 || r->pos >= r->len || r->p[r->pos] != term)
		return -1;
	/* No leading zeros (but "0"), no "-0". */
	if ((nd > 1 && r->p[digits] == '0') || (neg && v == 0))
		return -1;
	(void)start;
	r->pos++;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static struct ng_val *rd_val(struct rd *r, int depth);
static void drop(struct ng_val *v);

static struct ng_val *rd_items(struct rd *r, struct ng_val *v, int depth, bool dict)
{
	struct ng_val **tail = &v->child;
	bool key = true;
	for (;;) {
		if (r->pos >= r->len) {
			drop(v);
			return fail(r, "truncated list or dictionary");
		}
		if (r->p[r->pos] == 'e') {
			if (dict && !key) {
				drop(v);
				return fail(r, "dictionary key without a value");
			}
			r->pos++;
			return v;
		}
		if (dict && key && !(r->p[r->pos] >= '0' && r->p[r->pos] <= '9')) {
			drop(v);
			return fail(r, "dictionary key is not a string");
		}
		struct ng_val *c = rd_val(r, depth + 1);
		if (!c) {
			drop(v);
			return NULL;
		}
		*tail = c;
		tail = &c->next;
		key = !key;
	}
}

static struct ng_val *rd_val(struct rd *r, int depth)
{
	if (depth > NG_MAX_DEPTH)
		return fail(r, "nested too deep");
	if (++r->items > NG_MAX_ITEMS)
		return fail(r, "too many items");
	if (r->pos >= r->len)
		return fail(r, "truncated");
	struct ng_val *v = calloc(1, sizeof(*v));
	if (!v)
		return fail(r, "out of memory");
	char c = r->p[r->pos];
	if (c == 'i') {
		r->pos++;
		v->type = NG_INT;
		if (rd_num(r, 'e', true, &v->i)) {
			free(v);
			return fail(r, "bad integer");
		}
		return v;
	}
	if (c == 'l' || c == 'd') {
		r->pos++;
		v->type = c == 'l' ? NG_LIST : NG_DICT;
		return rd_items(r, v, depth, c == 'd');
	}
	if (c >= '0' && c <= '9') {
		int64_t n;
		size_t at = r->pos;
		if (rd_num(r, ':', false, &n) || (uint64_t)n > r->len - r->pos) {
			r->pos = at;
			free(v);
			return fail(r, "bad or overlong string length");
		}
		v->type = NG_STR;
		v->s = r->p + r->pos;
		v->len = (size_t)n;
		r->pos += (size_t)n;
		return v;
	}
	free(v);
	return fail(r, "unexpected byte");
}

/* What ng_parse returns: the top value, first, and the buffer that holds
 * every string NUL-terminated (the input's bytes, one more per string). */
struct ng_root {
	struct ng_val v;
	char *copy;
	char *strs;
};

static void terminate(struct ng_val *v, char **dst)
{
	for (; v; v = v->next) {
		if (v->type == NG_STR) {
			memcpy(*dst, v->s, v->len);
			(*dst)[v->len] = '\0';
			v->s = *dst;
			*dst += v->len + 1;
		}
		terminate(v->child, dst);
	}
}

struct ng_val *ng_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct rd r = {.len = len, .err = err, .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	r.p = malloc(len + 1);
	if (!r.p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(r.p, buf, len);
	r.p[len] = '\0';
	struct ng_val *v = rd_val(&r, 0);
	if (v && r.pos != len) {
		drop(v);
		v = fail(&r, "trailing bytes");
	}
	if (!v) {
		free(r.p);
		return NULL;
	}
	/* A root node that owns the copies: the value itself moves into it. */
	struct ng_root *root = calloc(1, sizeof(*root));
	char *strs = malloc(len + r.items + 1);
	if (!root || !strs) {
		free(root);
		free(strs);
		drop(v);
		free(r.p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	root->v = *v;
	free(v);
	root->copy = r.p;
	root->strs = strs;
	char *dst = strs;
	struct ng_val *top = &root->v;
	struct ng_val *next = top->next;
	top->next = NULL;
	terminate(top, &dst);
	top->next = next;
	free(r.p);
	root->copy = NULL;
	return top;
}

static void free_tree(struct ng_val *v)
{
	while (v) {
		struct ng_val *n = v->next;
		free_tree(v->child);
		free(v);
		v = n;
	}
}

/* An inner node and what hangs below it (not its siblings). */
static void drop(struct ng_val *v)
{
	if (v) {
		free_tree(v->child);
		free(v);
	}
}

void ng_free(struct ng_val *v)
{
	if (!v)
		return;
	free_tree(v->child);
	struct ng_root *root = (struct ng_root *)v; /* only ng_parse's results come here */
	free(root->copy);
	free(root->strs);
	free(root);
}

const struct ng_val *ng_get(const struct ng_val *d, const char *key)
{
	if (!d || d->type != NG_DICT)
		return NULL;
	size_t kl = strlen(key);
	for (const struct ng_val *k = d->child; k && k->next; k = k->next->next)
		if (k->type == NG_STR && k->len == kl && !memcmp(k->s, key, kl))
			return k->next;
	return NULL;
}

const char *ng_get_str(const struct ng_val *d, const char *key)
{
	const struct ng_val *v = ng_get(d, key);
	return v && v->type == NG_STR ? v->s : NULL;
}

int ng_split(const char *msg, size_t len, size_t *cookie_len, size_t *payload_off)
{
	const char *sp = memchr(msg, ' ', len);
	if (!sp || sp == msg)
		return -1;
	*cookie_len = (size_t)(sp - msg);
	*payload_off = *cookie_len + 1;
	return 0;
}

/* ---- SDP ----------------------------------------------------------------- */

/* The next line of s (without CR/LF) into line; returns where the one
 * after starts, or NULL at the end. */
static const char *next_line(const char *s, char *line, size_t cap, bool *toolong)
{
	if (!*s)
		return NULL;
	size_t n = strcspn(s, "\r\n");
	*toolong = n >= cap;
	snprintf(line, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
	s += n;
	if (*s == '\r')
		s++;
	if (*s == '\n')
		s++;
	return s;
}

static int parse_conn(const char *v, char *addr, size_t cap, int *family)
{
	char nt[8], at[8], a[80];
	if (sscanf(v, "%7s %7s %79s", nt, at, a) != 3 || strcmp(nt, "IN"))
		return -1;
	if (!strcmp(at, "IP4"))
		*family = 4;
	else if (!strcmp(at, "IP6"))
		*family = 6;
	else
		return -1;
	char *slash = strchr(a, '/'); /* multicast TTL: not ours, but harmless */
	if (slash)
		*slash = '\0';
	if (strlen(a) >= cap || !a[0])
		return -1;
	snprintf(addr, cap, "%s", a);
	return 0;
}

/* "TAG SUITE inline:KEY[|...] [params]" */
static int parse_crypto(const char *v, struct ng_crypto *c)
{
	char *end;
	unsigned long tag = strtoul(v, &end, 10);
	if (end == v || *end != ' ' || tag > 999999999)
		return -1;
	c->tag = (unsigned)tag;
	v = end + 1;
	size_t n = strcspn(v, " ");
	if (n == 0 || n >= sizeof(c->suite))
		return -1;
	snprintf(c->suite, sizeof(c->suite), "%.*s", (int)n, v);
	v += n;
	if (strncmp(v, " inline:", 8))
		return -1;
	v += 8;
	n = strcspn(v, "| ;");
	if (n == 0 || n >= sizeof(c->key))
		return -1;
	snprintf(c->key, sizeof(c->key), "%.*s", (int)n, v);
	return 0;
}

int ng_sdp_parse(const char *sdp, struct ng_sdp *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char line[512], sess_addr[64] = "", med_addr[64] = "";
	int sess_fam = 0, med_fam = 0, nline = 0;
	bool in_audio = false, seen_audio = false, toolong;
	const char *s = sdp ? sdp : "";
	while ((s = next_line(s, line, sizeof(line), &toolong)) != NULL) {
		nline++;
		if (toolong) {
			snprintf(err, errlen, "SDP line %d too long", nline);
			return -1;
		}
		if (!line[0])
			continue;
		if (nline == 1 && strncmp(line, "v=", 2)) {
			snprintf(err, errlen, "SDP does not start with v=");
			return -1;
		}
		if (line[1] != '=') {
			snprintf(err, errlen, "SDP line %d is not TYPE=VALUE: %.40s", nline, line);
			return -1;
		}
		const char *v = line + 2;
		if (line[0] == 'm') {
			if (seen_audio) {
				in_audio = false;
				continue;
			}
			if (strncmp(v, "audio ", 6))
				continue;
			char *end;
			unsigned long port = strtoul(v + 6, &end, 10);
			if (end == v + 6 || *end != ' ' || port < 1 || port > 65535) {
				snprintf(err, errlen, "SDP m=audio with a bad port: %.40s", line);
				return -1;
			}
			size_t n = strcspn(end + 1, " ");
			if (n == 0 || n >= sizeof(out->proto)) {
				snprintf(err, errlen, "SDP m=audio without a protocol: %.40s", line);
				return -1;
			}
			snprintf(out->proto, sizeof(out->proto), "%.*s", (int)n, end + 1);
			out->port = (uint16_t)port;
			in_audio = seen_audio = true;
		} else if (line[0] == 'c') {
			bool media = seen_audio;
			if (media && !in_audio)
				continue;
			if (parse_conn(v, media ? med_addr : sess_addr, sizeof(med_addr),
				       media ? &med_fam : &sess_fam)) {
				snprintf(err, errlen, "SDP bad connection line: %.60s", line);
				return -1;
			}
		} else if (line[0] == 'a' && in_audio && !strncmp(v, "crypto:", 7)) {
			if (out->n_crypto == NG_SDP_MAX_CRYPTO)
				continue;
			if (parse_crypto(v + 7, &out->crypto[out->n_crypto])) {
				snprintf(err, errlen, "SDP malformed a=crypto: %.60s", line);
				return -1;
			}
			out->n_crypto++;
		}
	}
	if (nline == 0) {
		snprintf(err, errlen, "SDP is empty");
		return -1;
	}
	if (!seen_audio) {
		snprintf(err, errlen, "SDP has no m=audio section");
		return -1;
	}
	if (!med_addr[0] && !sess_addr[0]) {
		snprintf(err, errlen, "SDP has no connection address for its audio");
		return -1;
	}
	snprintf(out->addr, sizeof(out->addr), "%s", med_addr[0] ? med_addr : sess_addr);
	out->family = med_addr[0] ? med_fam : sess_fam;
	return 0;
}

const struct ng_crypto *ng_sdp_crypto(const struct ng_sdp *s, const char *suite)
{
	for (int i = 0; i < s->n_crypto; i++)
		if (!strcmp(s->crypto[i].suite, suite))
			return &s->crypto[i];
	return NULL;
}

int ng_sdp_build(char *out, size_t cap, const char *sess_id, const char *addr, uint16_t port,
		 unsigned tag, const char *suite, const char *key_b64)
{
	if (!addr || !*addr || !port || !sess_id || strpbrk(sess_id, " \r\n") ||
	    strpbrk(addr, " \r\n") || (suite && (!key_b64 || strpbrk(suite, " \r\n") ||
						 strpbrk(key_b64, " |\r\n"))))
		return -1;
	const char *ip = strchr(addr, ':') ? "IP6" : "IP4";
	int n = snprintf(out, cap,
			 "v=0\r\n"
			 "o=- %s 1 IN %s %s\r\n"
			 "s=mmload\r\n"
			 "c=IN %s %s\r\n"
			 "t=0 0\r\n"
			 "m=audio %u %s %d %d %d\r\n"
			 "a=rtpmap:%d opus/48000/2\r\n"
			 "a=rtpmap:%d VP8/90000\r\n"
			 "a=rtpmap:%d VP8/90000\r\n"
			 "a=sendrecv\r\n"
			 "a=rtcp-mux\r\n",
			 sess_id, ip, addr, ip, addr, port, suite ? "RTP/SAVP" : "RTP/AVP",
			 LD_AUDIO_PT, LD_VIDEO_PT, LD_SCREEN_PT, LD_AUDIO_PT, LD_VIDEO_PT,
			 LD_SCREEN_PT);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	if (suite) {
		int k = snprintf(out + n, cap - (size_t)n, "a=crypto:%u %s inline:%s\r\n", tag, suite,
				 key_b64);
		if (k < 0 || (size_t)k >= cap - (size_t)n)
			return -1;
		n += k;
	}
	return n;
}
