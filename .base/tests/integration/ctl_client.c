/* See ctl_client.h. */
#include "ctl_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int ctl_client_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void ctl_client_fini(void)
{
	curl_global_cleanup();
}

/* ---- One request ------------------------------------------------------- */

struct grow {
	char *p;
	size_t len, cap;
	bool oom;
};

static size_t grow_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct grow *g = arg;
	size_t n = size * nmemb;
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + n + 1)
			cap *= 2;
		char *np = realloc(g->p, cap);
		if (!np) {
			g->oom = true;
			return 0;
		}
		g->p = np;
		g->cap = cap;
	}
	memcpy(g->p + g->len, data, n);
	g->len += n;
	g->p[g->len] = '\0';
	return n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR: return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

int ctl_http(const char *base, const char *method, const char *path, const char *token,
	     const json_t *body, json_t **reply, char *raw, size_t rawcap)
{
	char url[1024], auth[512];
	struct grow g = { 0 };
	struct curl_slist *h = NULL;
	char *text = NULL;
	int ret;

	if (reply)
		*reply = NULL;
	if (raw && rawcap)
		raw[0] = '\0';
	CURL *e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, grow_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &g);
	/* No "Expect: 100-continue" round trip for larger bodies. */
	h = curl_slist_append(h, "Expect:");
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			ret = -ENOMEM;
			goto out;
		}
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	CURLcode c = curl_easy_perform(e);
	if (c != CURLE_OK) {
		ret = curl_errno(c);
		if (raw && rawcap)
			snprintf(raw, rawcap, "(curl: %s)", curl_easy_strerror(c));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	ret = (int)status;
	if (raw && rawcap)
		snprintf(raw, rawcap, "%s", g.p ? g.p : "");
	if (reply && g.p && g.len)
		*reply = json_loadb(g.p, g.len, 0, NULL);
out:
	free(text);
	free(g.p);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return ret;
}

/* ---- Server-Sent Events ------------------------------------------------ */

static void sse_reset_event(struct ctl_sse *s)
{
	s->cur_id = -1;
	s->cur_type[0] = '\0';
	free(s->cur_data);
	s->cur_data = NULL;
	s->cur_len = 0;
	s->cur_has_data = false;
}

static void sse_dispatch(struct ctl_sse *s)
{
	if (!s->cur_has_data) {
		sse_reset_event(s);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ctl_sse_event **ne = realloc(s->ev, cap * sizeof(*ne));
		if (!ne) {
			pthread_mutex_unlock(&s->lock);
			sse_reset_event(s);
			return;
		}
		s->ev = ne;
		s->cap = cap;
	}
	struct ctl_sse_event *ev = calloc(1, sizeof(*ev));
	if (!ev) {
		pthread_mutex_unlock(&s->lock);
		sse_reset_event(s);
		return;
	}
	s->ev[s->n] = ev;
	ev->id = s->cur_id;
	snprintf(ev->type, sizeof(ev->type), "%s", s->cur_type[0] ? s->cur_type : "message");
	ev->raw = s->cur_data ? s->cur_data : strdup("");
	s->cur_data = NULL;
	ev->data = json_loads(ev->raw ? ev->raw : "", 0, NULL);
	ev->at_ns = now_ns();
	s->n++;
	pthread_mutex_unlock(&s->lock);
	sse_reset_event(s);
}

/* One line of the stream, without its end of line. */
static void sse_line(struct ctl_sse *s, char *line, size_t len)
{
	if (len == 0) {
		sse_dispatch(s);
		return;
	}
	if (line[0] == ':') {
		pthread_mutex_lock(&s->lock);
		s->comments++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	char *colon = memchr(line, ':', len);
	const char *value = "";
	size_t vlen = 0;
	if (colon) {
		*colon = '\0';
		value = colon + 1;
		vlen = len - (size_t)(colon + 1 - line);
		if (vlen && *value == ' ') {
			value++;
			vlen--;
		}
	} else {
		line[len] = '\0';
	}
	if (!strcmp(line, "id")) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)vlen, value);
		char *end;
		long long v = strtoll(tmp, &end, 10);
		s->cur_id = (*tmp && !*end) ? v : -2; /* -2: present but not a number */
	} else if (!strcmp(line, "event")) {
		snprintf(s->cur_type, sizeof(s->cur_type), "%.*s", (int)vlen, value);
	} else if (!strcmp(line, "data")) {
		char *nd = realloc(s->cur_data, s->cur_len + vlen + 2);
		if (!nd)
			return;
		s->cur_data = nd;
		if (s->cur_has_data)
			s->cur_data[s->cur_len++] = '\n';
		memcpy(s->cur_data + s->cur_len, value, vlen);
		s->cur_len += vlen;
		s->cur_data[s->cur_len] = '\0';
		s->cur_has_data = true;
	}
	/* "retry" and unknown fields: ignored, as the SSE spec says. */
}

static size_t sse_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_sse *s = arg;
	size_t n = size * nmemb;
	if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
		return 0;
	if (s->len + n + 1 > s->bcap) {
		size_t cap = s->bcap ? s->bcap : 8192;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return 0;
		s->buf = nb;
		s->bcap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	size_t start = 0;
	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] != '\n')
			continue;
		size_t l = i - start;
		if (l && s->buf[start + l - 1] == '\r')
			l--;
		sse_line(s, s->buf + start, l);
		start = i + 1;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return n;
}

static size_t sse_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_sse *s = arg;
	size_t n = size * nmemb;
	static const char ct[] = "content-type:";
	if (n >= sizeof(ct) - 1 && !strncasecmp(data, ct, sizeof(ct) - 1)) {
		const char *v = data + sizeof(ct) - 1;
		size_t vl = n - (sizeof(ct) - 1);
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		pthread_mutex_lock(&s->lock);
		snprintf(s->content_type, sizeof(s->content_type), "%.*s", (int)vl, v);
		pthread_mutex_unlock(&s->lock);
	} else if (!strncmp(data, "HTTP/", 5)) {
		int st = 0;
		const char *sp = memchr(data, ' ', n);
		if (sp)
			st = atoi(sp + 1);
		pthread_mutex_lock(&s->lock);
		s->status = st;
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

static void *sse_main(void *arg)
{
	struct ctl_sse *s = arg;
	struct curl_slist *h = NULL;
	char lid[64];
	CURLcode result = CURLE_FAILED_INIT;
	CURL *e = curl_easy_init();
	CURLM *m = curl_multi_init();
	if (!e || !m)
		goto out;
	h = curl_slist_append(h, "Accept: text/event-stream");
	h = curl_slist_append(h, "Cache-Control: no-cache");
	h = curl_slist_append(h, s->auth);
	if (s->last_id[0]) {
		snprintf(lid, sizeof(lid), "Last-Event-ID: %s", s->last_id);
		h = curl_slist_append(h, lid);
	}
	curl_easy_setopt(e, CURLOPT_URL, s->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sse_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sse_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_multi_add_handle(m, e);
	int running = 1;
	while (running) {
		if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
			result = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	if (!running) {
		int left;
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
	}
	curl_multi_remove_handle(m, e);
out:
	pthread_mutex_lock(&s->lock);
	s->done = true;
	s->result = (int)result;
	snprintf(s->error, sizeof(s->error), "%s", curl_easy_strerror(result));
	s->done_ns = now_ns();
	pthread_mutex_unlock(&s->lock);
	if (m)
		curl_multi_cleanup(m);
	if (e)
		curl_easy_cleanup(e);
	curl_slist_free_all(h);
	return NULL;
}

int ctl_sse_open(struct ctl_sse *s, const char *name, const char *base, const char *path,
		 const char *token, const char *last_id)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->url, sizeof(s->url), "%s%s", base, path);
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", token ? token : "");
	snprintf(s->last_id, sizeof(s->last_id), "%s", last_id ? last_id : "");
	s->cur_id = -1;
	pthread_mutex_init(&s->lock, NULL);
	int rc = pthread_create(&s->thread, NULL, sse_main, s);
	if (rc) {
		pthread_mutex_destroy(&s->lock);
		memset(s, 0, sizeof(*s));
		return -rc;
	}
	s->started = true;
	return 0;
}

long ctl_sse_wait_status(struct ctl_sse *s, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		long st = s->status;
		bool done = s->done;
		pthread_mutex_unlock(&s->lock);
		if (st || done || now_ns() >= end)
			return st;
		sleep_ms(5);
	}
}

size_t ctl_sse_wait_events(struct ctl_sse *s, size_t n, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		size_t got = s->n;
		bool done = s->done;
		pthread_mutex_unlock(&s->lock);
		if (got >= n || done || now_ns() >= end)
			return got;
		sleep_ms(5);
	}
}

long ctl_sse_wait_type(struct ctl_sse *s, const char *type, const char *participant,
		       int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	size_t from = 0;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		size_t got = s->n;
		bool done = s->done;
		for (size_t i = from; i < got; i++) {
			const char *p = json_string_value(json_object_get(s->ev[i]->data, "participant"));
			if (!strcmp(s->ev[i]->type, type) &&
			    (!participant || (p && !strcmp(p, participant)))) {
				pthread_mutex_unlock(&s->lock);
				return (long)i;
			}
		}
		pthread_mutex_unlock(&s->lock);
		from = got;
		if (done || now_ns() >= end)
			return -1;
		sleep_ms(5);
	}
}

bool ctl_sse_wait_done(struct ctl_sse *s, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		if (ctl_sse_is_done(s))
			return true;
		if (now_ns() >= end)
			return false;
		sleep_ms(5);
	}
}

size_t ctl_sse_count(struct ctl_sse *s)
{
	pthread_mutex_lock(&s->lock);
	size_t n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

bool ctl_sse_is_done(struct ctl_sse *s)
{
	pthread_mutex_lock(&s->lock);
	bool d = s->done;
	pthread_mutex_unlock(&s->lock);
	return d;
}

const struct ctl_sse_event *ctl_sse_event(struct ctl_sse *s, size_t i)
{
	pthread_mutex_lock(&s->lock);
	const struct ctl_sse_event *e = i < s->n ? s->ev[i] : NULL;
	pthread_mutex_unlock(&s->lock);
	return e;
}

void ctl_sse_close(struct ctl_sse *s)
{
	if (!s->started)
		return;
	__atomic_store_n(&s->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->n; i++) {
		json_decref(s->ev[i]->data);
		free(s->ev[i]->raw);
		free(s->ev[i]);
	}
	free(s->ev);
	free(s->buf);
	free(s->cur_data);
	pthread_mutex_destroy(&s->lock);
	s->started = false;
	s->ev = NULL;
	s->n = s->cap = 0;
	s->buf = NULL;
	s->cur_data = NULL;
}
