/* Requests to mmctld over libcurl: JSON in, JSON out, errors mapped to
 * mmctl's exit codes. */
#include "control/mmctl/http_priv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_buf_add(struct http_buf *b, const char *d, size_t n)
{
	if (b->len + n > HTTP_REPLY_MAX) {
		b->overflow = true;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

char *http_path(const char *fmt, ...)
{
	struct http_buf b = { 0 };
	va_list ap;
	int bad = 0;
	va_start(ap, fmt);
	for (const char *f = fmt; *f && !bad; f++) {
		if (f[0] == '%' && f[1] == 's') {
			const char *s = va_arg(ap, const char *);
			char *e = curl_easy_escape(NULL, s, 0);
			bad = !e || http_buf_add(&b, e, strlen(e));
			curl_free(e);
			f++;
		} else {
			bad = http_buf_add(&b, f, 1);
		}
	}
	va_end(ap);
	if (bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

int http_exit_code(long status)
{
	if (status >= 200 && status < 300)
		return MMCTL_OK;
	if (status == 401 || status == 403)
		return MMCTL_EAUTH;
	if (status == 404 || status == 405)
		return MMCTL_ENOTFOUND;
	if (status == 409)
		return MMCTL_ECONFLICT;
	if (status >= 400 && status < 500)
		return MMCTL_EREQUEST;
	return MMCTL_ESERVER;
}

void http_print_error(long status, const char *body, size_t len)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char fallback[32];
	if (!code) {
		snprintf(fallback, sizeof(fallback), "http_%ld", status);
		code = fallback;
	}
	fputs("mmctl: ", stderr);
	out_clean(stderr, code);
	fputs(": ", stderr);
	out_clean(stderr, msg ? msg : "the server gave no error message");
	fputc('\n', stderr);
	json_decref(j);
}

int http_curl_error(struct mmctl *m, const char *path, CURLcode rc, const char *errbuf)
{
	const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
		fprintf(stderr, "mmctl: internal: out of memory\n");
		return MMCTL_EINTERNAL;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return usage_error("--url %s: %s", m->url, why);
	case CURLE_OPERATION_TIMEDOUT:
		fprintf(stderr, "mmctl: timeout: %s%s: %s\n", m->url, path, why);
		return MMCTL_EUNREACHABLE;
	default:
		fprintf(stderr, "mmctl: unreachable: %s%s: %s\n", m->url, path, why);
		return MMCTL_EUNREACHABLE;
	}
}

static size_t http_on_body(char *d, size_t sz, size_t n, void *arg)
{
	return http_buf_add(arg, d, sz * n) ? 0 : sz * n;
}

CURL *http_easy(struct mmctl *m, const char *path, bool auth, const char *accept,
		struct curl_slist **hdrs, char *errbuf)
{
	CURL *c = curl_easy_init();
	char *url = malloc(strlen(m->url) + strlen(path) + 1);
	char *bearer = auth && m->token ? malloc(strlen(m->token) + 32) : NULL;
	char acc[64];
	struct curl_slist *h = NULL, *t;
	bool ok = c && url && (bearer || !auth || !m->token);

	*hdrs = NULL;
	if (ok) {
		sprintf(url, "%s%s", m->url, path);
		snprintf(acc, sizeof(acc), "Accept: %s", accept);
		ok = (t = curl_slist_append(h, acc)) && (h = t) &&
		     (t = curl_slist_append(h, "Expect:")) && (h = t);
		if (ok && bearer) {
			sprintf(bearer, "Authorization: Bearer %s", m->token);
			ok = (t = curl_slist_append(h, bearer)) && (h = t);
		}
	}
	if (ok) {
		errbuf[0] = '\0';
		ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, m->timeout) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_USERAGENT, "mmctl/1") == CURLE_OK;
	}
	free(url);
	free(bearer);
	if (!ok) {
		curl_slist_free_all(h);
		if (c)
			curl_easy_cleanup(c);
		return NULL;
	}
	*hdrs = h;
	return c;
}

/* Body: compact JSON, or "" for a bodiless POST. */
static int http_set_method(CURL *c, const char *method, const char *text)
{
	if (!strcmp(method, "GET"))
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -1;
	if (curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		return -1;
	if (!text && strcmp(method, "POST"))
		return 0;
	if (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(text ? strlen(text) : 0)) ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : ""))
		return -1;
	return 0;
}

int http_call(struct mmctl *m, const char *method, const char *path, json_t *body, bool auth,
	      json_t **reply)
{
	char errbuf[CURL_ERROR_SIZE];
	struct http_buf rb = { 0 };
	struct curl_slist *hdrs = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = 0;
	int ret;

	*reply = NULL;
	CURL *c = (text || !body) ? http_easy(m, path, auth, "application/json", &hdrs, errbuf) :
		  NULL;
	if (c && text) {
		struct curl_slist *t = curl_slist_append(hdrs, "Content-Type: application/json");
		if (t) {
			hdrs = t;
		} else {
			curl_easy_cleanup(c);
			c = NULL;
		}
	}
	if (!c || http_set_method(c, method, text) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, m->timeout) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body) ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb)) {
		fprintf(stderr, "mmctl: internal: cannot set up the request\n");
		ret = MMCTL_EINTERNAL;
		goto out;
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_WRITE_ERROR && rb.overflow) {
		fprintf(stderr, "mmctl: bad_reply: reply over %u bytes\n", HTTP_REPLY_MAX);
		ret = MMCTL_ESERVER;
		goto out;
	}
	if (rc != CURLE_OK) {
		ret = http_curl_error(m, path, rc, errbuf);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	ret = http_exit_code(status);
	if (ret) {
		http_print_error(status, rb.p, rb.len);
		goto out;
	}
	if (status != 204 && rb.len) {
		json_error_t jerr;
		*reply = json_loadb(rb.p, rb.len, 0, &jerr);
		if (!*reply) {
			fprintf(stderr, "mmctl: bad_reply: the reply is not JSON: %s\n", jerr.text);
			ret = MMCTL_ESERVER;
			goto out;
		}
	}
	if (m->json) {
		json_t *empty = *reply ? NULL : json_object();
		out_json(*reply ? *reply : empty);
		json_decref(empty);
	}
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(text);
	free(rb.p);
	return ret;
}
