/* Server-Sent Events over libcurl: GET with Accept: text/event-stream,
 * lines parsed as they arrive, one callback per event. */
#include "control/mmctl/http_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sse {
	CURL *c;
	long status;             /* 0 until the headers are in */
	struct http_buf line;    /* the line being received */
	struct http_buf data;    /* data: lines of the event being received */
	char id[64], event[64];
	struct http_buf err;     /* body of a non-2xx reply */
	sse_cb cb;
	void *arg;
	bool stopped;            /* the callback asked to stop */
	bool failed;             /* out of memory or a line over the limit */
	long idle;               /* seconds without bytes before giving up (0: never) */
	time_t last;             /* when bytes last arrived */
	bool idle_out;
};

static void sse_copy(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v);
}

/* One complete line (without its end). 1: stop. */
static int sse_line(struct sse *s, char *l)
{
	size_t n = strlen(l);
	if (n && l[n - 1] == '\r')
		l[--n] = '\0';
	if (n == 0) {
		int stop = 0;
		if (s->data.len || s->event[0])
			stop = s->cb(s->arg, s->id, s->event[0] ? s->event : "message",
				     s->data.p ? s->data.p : "");
		s->data.len = 0;
		if (s->data.p)
			s->data.p[0] = '\0';
		s->event[0] = '\0';
		return stop;
	}
	if (l[0] == ':')
		return 0;   /* comment (keepalive) */
	char *v = strchr(l, ':');
	if (v) {
		*v++ = '\0';
		if (*v == ' ')
			v++;
	} else {
		v = l + n;
	}
	if (!strcmp(l, "data")) {
		if ((s->data.len && http_buf_add(&s->data, "\n", 1)) ||
		    http_buf_add(&s->data, v, strlen(v)))
			s->failed = true;
	} else if (!strcmp(l, "event")) {
		sse_copy(s->event, sizeof(s->event), v);
	} else if (!strcmp(l, "id")) {
		sse_copy(s->id, sizeof(s->id), v);
	}
	return s->failed;
}

static size_t sse_on_body(char *d, size_t sz, size_t n, void *arg)
{
	struct sse *s = arg;
	size_t len = sz * n;
	s->last = time(NULL);
	if (!s->status)
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status < 200 || s->status >= 300)
		return http_buf_add(&s->err, d, len) ? 0 : len;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\n') {
			if (http_buf_add(&s->line, d + i, 1)) {
				s->failed = true;
				return 0;
			}
			continue;
		}
		int stop = sse_line(s, s->line.p ? s->line.p : (char[]){ 0 });
		s->line.len = 0;
		if (s->line.p)
			s->line.p[0] = '\0';
		if (stop) {
			s->stopped = !s->failed;
			return 0;
		}
	}
	return len;
}

static int sse_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sse *s = arg;
	(void)dt, (void)dn, (void)ut, (void)un;
	if (s->idle && time(NULL) - s->last > s->idle) {
		s->idle_out = true;
		return 1;
	}
	return 0;
}

int http_sse(struct mmctl *m, const char *path, sse_cb on_event, void *arg)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	struct sse s = { .cb = on_event, .arg = arg, .idle = m->timeout_set ? m->timeout : 0,
			 .last = time(NULL) };
	int ret = MMCTL_OK;

	s.c = http_easy(m, path, true, "text/event-stream", &hdrs, errbuf);
	if (!s.c || curl_easy_setopt(s.c, CURLOPT_HTTPGET, 1L) ||
	    curl_easy_setopt(s.c, CURLOPT_WRITEFUNCTION, sse_on_body) ||
	    curl_easy_setopt(s.c, CURLOPT_WRITEDATA, &s) ||
	    curl_easy_setopt(s.c, CURLOPT_XFERINFOFUNCTION, sse_on_progress) ||
	    curl_easy_setopt(s.c, CURLOPT_XFERINFODATA, &s) ||
	    curl_easy_setopt(s.c, CURLOPT_NOPROGRESS, 0L)) {
		fprintf(stderr, "mmctl: internal: cannot set up the request\n");
		ret = MMCTL_EINTERNAL;
		goto out;
	}
	CURLcode rc = curl_easy_perform(s.c);
	if (s.stopped)
		goto out;
	if (s.failed) {
		fprintf(stderr, "mmctl: bad_reply: event stream line over %u bytes or no memory\n",
			HTTP_REPLY_MAX);
		ret = MMCTL_ESERVER;
		goto out;
	}
	if (s.idle_out) {
		fprintf(stderr, "mmctl: timeout: %s%s: nothing received for %ld s\n", m->url, path,
			s.idle);
		ret = MMCTL_EUNREACHABLE;
		goto out;
	}
	if (!s.status)
		curl_easy_getinfo(s.c, CURLINFO_RESPONSE_CODE, &s.status);
	if (s.status && (s.status < 200 || s.status >= 300) &&
	    (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)) {
		http_print_error(s.status, s.err.p, s.err.len);
		ret = http_exit_code(s.status);
		goto out;
	}
	/* The server closed the stream (cleanly or not) after 2xx: done. */
	if (rc != CURLE_OK && !((rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR) && s.status))
		ret = http_curl_error(m, path, rc, errbuf);
out:
	if (s.c)
		curl_easy_cleanup(s.c);
	curl_slist_free_all(hdrs);
	free(s.line.p);
	free(s.data.p);
	free(s.err.p);
	return ret;
}
