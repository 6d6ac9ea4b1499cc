/* Browsers (issue 8) as mmctld sees them: webrtc joins get an offer
 * (control/sdp.c) with mmdp's fingerprint and ICE credentials, answers made
 * by real WebRTC stacks (tests/control/sdp/: Chromium, aiortc) become
 * endpoint.put with dtls and streams, renegotiation when the room's streams
 * change (private `renegotiate` events), bad answers refused with nothing
 * stored, and the meeting page's static files. mmdp's agent socket is the
 * recorder (harness.h), whose hello gives H_MMDP_FP. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/sdp.h"
#include "harness.h"

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_rec_reply_op("hello", NULL);
	h_rec_fail_op(NULL);
	h_teardown(&H);
}

TestSuite(webrtc, .init = setup, .fini = teardown, .timeout = 60);

static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int req(const char *method, const char *token, const char *body, json_t **r,
	       const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return h_http(&H, method, path, token ? token : H.op_token, body, 0, r);
}

static void room(char *id)
{
	json_t *r;
	cr_assert_eq(req("POST", NULL, "{\"name\":\"w\"}", &r, "/v1/rooms"), 201);
	snprintf(id, 40, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
}

struct peer {
	char id[40], token[160];
	int64_t version;
	char *offer;
};

/* A browser joins: its offer parses and has the spec's session part. */
static void join(const char *rid, const char *name, struct peer *p)
{
	json_t *r;
	char body[128];
	snprintf(body, sizeof(body), "{\"display_name\":\"%s\",\"webrtc\":true}", name);
	int st = req("POST", NULL, body, &r, "/v1/rooms/%s/participants", rid);
	cr_assert_eq(st, 201, "webrtc join: %d %s", st, h_err_code(r));
	snprintf(p->id, sizeof(p->id), "%s", json_string_value(json_object_get(r, "id")));
	snprintf(p->token, sizeof(p->token), "%s", json_string_value(json_object_get(r, "token")));
	json_t *w = json_object_get(r, "webrtc");
	cr_assert(json_is_object(w));
	p->version = json_integer_value(json_object_get(w, "version"));
	p->offer = strdup(json_string_value(json_object_get(w, "offer")));
	json_t *tr = json_object_get(r, "transport");
	cr_assert_null(json_object_get(tr, "srtp"), "no SRTP keys for a browser");
	cr_assert(json_object_get(tr, "server"));
	json_decref(r);
}

static void offer_get(const struct peer *p, const char *rid, int64_t *version, char **sdp,
		      bool *answered)
{
	json_t *r;
	int st = req("GET", p->token, NULL, &r, "/v1/rooms/%s/participants/%s/offer", rid, p->id);
	cr_assert_eq(st, 200, "offer: %d %s", st, h_err_code(r));
	*version = json_integer_value(json_object_get(r, "version"));
	*sdp = strdup(json_string_value(json_object_get(r, "sdp")));
	if (answered)
		*answered = json_is_true(json_object_get(r, "answered"));
	json_decref(r);
}

static char *fixture(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", getenv("SDP_FIXTURES"), name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A real answer (fixture) cut to its first n m-lines, which are mic, cam,
 * scr, s1, s2 (the fixtures answer an offer with those mids), with the
 * BUNDLE group to match. */
static char *answer(const char *name, int n)
{
	static const char *const mids[] = { "mic", "cam", "scr", "s1", "s2", "s3" };
	char *t = fixture(name), *m = t;
	for (int i = 0; i <= n && m; i++)
		m = strstr(m + 1, "\r\nm=");
	if (m)
		m[2] = '\0';
	char group[128] = "a=group:BUNDLE";
	for (int i = 0; i < n; i++)
		snprintf(group + strlen(group), sizeof(group) - strlen(group), " %s", mids[i]);
	char *g = strstr(t, "a=group:BUNDLE"), *e = strstr(g, "\r\n");
	char *out = malloc(strlen(t) + 256);
	snprintf(out, strlen(t) + 256, "%.*s%s%s", (int)(g - t), t, group, e);
	free(t);
	return out;
}

/* POST the answer; the status (reply in *r when r). */
static int post_answer(const struct peer *p, const char *rid, int64_t version, const char *sdp,
		       json_t **r)
{
	json_t *b = json_pack("{s:I,s:s}", "version", (json_int_t)version, "sdp", sdp);
	char *text = json_dumps(b, JSON_COMPACT);
	json_t *rr;
	int st = req("POST", p->token, text, &rr, "/v1/rooms/%s/participants/%s/answer", rid,
		     p->id);
	free(text);
	json_decref(b);
	if (r)
		*r = rr;
	else
		json_decref(rr);
	return st;
}

static json_t *last_put(const char *endpoint)
{
	json_t *log = h_rec_take(), *v, *found = NULL;
	size_t i;
	json_array_foreach(log, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "op")) ?: "", "endpoint.put") &&
		    !strcmp(json_string_value(json_object_get(v, "endpoint")) ?: "", endpoint)) {
			json_decref(found);
			found = json_incref(v);
		}
	json_decref(log);
	return found;
}

static void parse_ok(const char *text, struct ctl_sdp *s)
{
	char err[256];
	cr_assert_eq(ctl_sdp_parse((const uint8_t *)text, strlen(text), s, err, sizeof(err)), 0,
		     "offer does not parse: %s", err);
}

Test(webrtc, join_gives_an_offer_and_ice_to_mmdp)
{
	char rid[40];
	struct peer a;
	struct ctl_sdp s;
	room(rid);
	json_decref(h_rec_take());
	join(rid, "A", &a);
	cr_assert_eq(a.version, 1);
	parse_ok(a.offer, &s);
	cr_assert(s.ice_lite);
	cr_assert_str_eq(s.fingerprint, H_MMDP_FP);
	cr_assert_str_eq(s.setup, "actpass");
	cr_assert_eq(strlen(s.ice_ufrag), 8);
	cr_assert_eq(strlen(s.ice_pwd), 24);
	cr_assert_str_eq(s.bundle, "mic cam scr");
	cr_assert_eq(s.nm, 3, "nobody else in the room: no sendonly m-lines");
	cr_assert_str_eq(s.m[0].mid, "mic");
	cr_assert_eq(s.m[0].dir, CTL_SDP_RECVONLY);
	cr_assert_eq(s.m[1].nrid, 3);
	cr_assert(strstr(a.offer, "a=candidate:1 1 udp 2130706431 198.18.0.1 40000 typ host"));

	json_t *put = last_put(a.id);
	cr_assert(put, "endpoint.put for the browser");
	json_t *ice = json_object_get(put, "ice");
	cr_assert_str_eq(json_string_value(json_object_get(ice, "ufrag")), s.ice_ufrag);
	cr_assert_str_eq(json_string_value(json_object_get(ice, "pwd")), s.ice_pwd);
	cr_assert_null(json_object_get(put, "remote"));
	cr_assert_null(json_object_get(put, "srtp"));
	cr_assert_null(json_object_get(put, "dtls"), "no dtls before the answer");
	cr_assert_eq(json_array_size(json_object_get(put, "streams")), 0);
	json_decref(put);

	/* The offer again, by the participant; not yet answered. */
	int64_t v;
	char *sdp;
	bool answered = true;
	offer_get(&a, rid, &v, &sdp, &answered);
	cr_assert_eq(v, 1);
	cr_assert(!answered);
	cr_assert_str_eq(sdp, a.offer);
	free(sdp);
	/* Another participant's token may not read it. */
	struct peer b;
	join(rid, "B", &b);
	json_t *r;
	cr_assert_eq(req("GET", b.token, NULL, &r, "/v1/rooms/%s/participants/%s/offer", rid,
			 a.id), 403);
	json_decref(r);
	ctl_sdp_free(&s);
	free(a.offer);
	free(b.offer);
}

Test(webrtc, answers_renegotiate_and_leave)
{
	char rid[40];
	struct peer a, b;
	json_t *r;
	struct h_sse sa, sb;
	struct h_sse_event e;
	room(rid);
	join(rid, "A", &a);
	json_decref(h_rec_take());

	/* A answers like Chromium: mic by SSRC, camera simulcast by RID. */
	char *ans = answer("chromium-answer.sdp", 3);
	cr_assert_eq(post_answer(&a, rid, 1, ans, &r), 200, "%s", h_err_code(r));
	cr_assert_eq(json_integer_value(json_object_get(r, "version")), 1);
	json_decref(r);
	free(ans);
	json_t *put = last_put(a.id);
	cr_assert(put);
	json_t *dtls = json_object_get(put, "dtls");
	cr_assert_str_eq(json_string_value(json_object_get(dtls, "fingerprint")),
			 "sha-256 8E:23:4A:7F:E2:3F:F1:06:56:56:7A:D0:10:EC:78:6D:25:EF:C2:E7:2B:"
			 "8B:7E:BF:54:54:AE:63:7B:B5:93:4A");
	cr_assert_str_eq(json_string_value(json_object_get(dtls, "setup")), "active");
	cr_assert(json_object_get(put, "ice"));
	cr_assert_null(json_object_get(put, "remote"));
	cr_assert_null(json_object_get(put, "srtp"));
	cr_assert_eq(json_integer_value(json_object_get(put, "twcc_id")), 3);
	cr_assert_eq(json_integer_value(json_object_get(put, "rid_id")), 10);
	cr_assert_eq(json_integer_value(json_object_get(put, "rtx_pt")), 97);
	json_t *st = json_object_get(put, "streams");
	cr_assert_eq(json_array_size(st), 4, "mic + 3 camera layers");
	json_t *mic = json_array_get(st, 0);
	cr_assert_str_eq(json_string_value(json_object_get(mic, "kind")), "audio");
	cr_assert_eq(json_integer_value(json_object_get(mic, "ssrc")), 1241854590LL);
	cr_assert_eq(json_integer_value(json_object_get(mic, "audio_level_id")), 1);
	static const char *const rids[] = { "l", "m", "h" };
	json_int_t cam_out = 0;
	for (int l = 0; l < 3; l++) {
		json_t *v = json_array_get(st, 1 + (size_t)l);
		cr_assert_str_eq(json_string_value(json_object_get(v, "kind")), "video");
		cr_assert_str_eq(json_string_value(json_object_get(v, "rid")), rids[l]);
		cr_assert_null(json_object_get(v, "ssrc"));
		cr_assert_str_eq(json_string_value(json_object_get(v, "group")), "camera");
		cr_assert_eq(json_integer_value(json_object_get(v, "layer")), l);
		cr_assert_str_eq(json_string_value(json_object_get(v, "codec")), "vp8");
		if (l == 0)
			cam_out = json_integer_value(json_object_get(v, "out_ssrc"));
		else
			cr_assert_null(json_object_get(v, "out_ssrc"));
	}
	cr_assert_gt(cam_out, 0, "an out_ssrc for the RID group");
	json_decref(put);

	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", rid);
	cr_assert_eq(h_sse_open(&H, &sa, path, a.token, NULL), 200);

	/* B joins: its offer has A's streams (sendonly, A's SSRCs). */
	join(rid, "B", &b);
	struct ctl_sdp s;
	parse_ok(b.offer, &s);
	cr_assert_eq(s.nm, 5);
	cr_assert_str_eq(s.m[3].mid, "s1");
	cr_assert_eq(s.m[3].dir, CTL_SDP_SENDONLY);
	cr_assert_eq(s.m[3].ssrc[0], 1241854590u);
	cr_assert_str_eq(s.m[3].msid, a.id);
	cr_assert_str_eq(s.m[4].mid, "s2");
	cr_assert_eq(s.m[4].ssrc[0], (uint32_t)cam_out, "receivers see the RID group's out_ssrc");
	cr_assert(!s.m[4].has_rtx[0]);
	ctl_sdp_free(&s);
	cr_assert_eq(h_sse_open(&H, &sb, path, b.token, NULL), 200);

	/* B answers like aiortc: A's offer gets version 2 and a renegotiate
	 * event on A's stream only. */
	ans = answer("aiortc-answer.sdp", 5);
	cr_assert_eq(post_answer(&b, rid, 1, ans, &r), 200, "%s", h_err_code(r));
	json_decref(r);
	free(ans);
	bool got = false;
	while (!got && h_sse_next(&sa, &e, 3000) == 1) {
		if (!strcmp(e.type, "renegotiate")) {
			cr_assert_str_eq(json_string_value(json_object_get(e.data, "participant")),
					 a.id);
			cr_assert_eq(json_integer_value(json_object_get(e.data, "version")), 2);
			got = true;
		}
		json_decref(e.data);
	}
	cr_assert(got, "A's stream got renegotiate");
	while (h_sse_next(&sb, &e, 500) == 1) {
		cr_assert_str_neq(e.type, "renegotiate", "B's stream must not see A's renegotiate");
		json_decref(e.data);
	}
	int64_t v;
	char *sdp;
	bool answered = true;
	offer_get(&a, rid, &v, &sdp, &answered);
	cr_assert_eq(v, 2);
	cr_assert(!answered);
	parse_ok(sdp, &s);
	cr_assert_eq(s.nm, 5);
	cr_assert_str_eq(s.m[3].mid, "s1");
	cr_assert(s.m[3].audio);
	cr_assert_eq(s.m[3].dir, CTL_SDP_SENDONLY);
	cr_assert_eq(s.m[3].ssrc[0], 3904349435u);
	cr_assert_str_eq(s.m[3].cname, b.id);
	cr_assert_eq(s.m[4].ssrc[0], 616724529u);
	cr_assert(s.m[4].has_rtx[0]);
	cr_assert_eq(s.m[4].rtx_ssrc[0], 4290177043u);
	ctl_sdp_free(&s);
	free(sdp);

	/* A answers version 2 (same streams): no new version for B. */
	ans = answer("chromium-answer.sdp", 5);
	cr_assert_eq(post_answer(&a, rid, 1, ans, &r), 409);
	cr_assert_str_eq(h_err_code(r), "stale_offer");
	json_decref(r);
	cr_assert_eq(post_answer(&a, rid, 2, ans, &r), 200, "%s", h_err_code(r));
	json_decref(r);
	free(ans);
	put = last_put(a.id);
	cr_assert(put);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(
		json_object_get(put, "streams"), 1), "out_ssrc")), cam_out,
		"the same RIDs keep their out_ssrc");
	json_decref(put);
	offer_get(&b, rid, &v, &sdp, &answered);
	cr_assert_eq(v, 1, "A's streams did not change: B's offer stays");
	cr_assert(answered);
	free(sdp);

	/* B leaves: A's offer gets version 3 with B's m-lines inactive. */
	cr_assert_eq(req("DELETE", b.token, NULL, &r, "/v1/rooms/%s/participants/%s", rid, b.id),
		     204);
	json_decref(r);
	got = false;
	while (!got && h_sse_next(&sa, &e, 3000) == 1) {
		got = !strcmp(e.type, "renegotiate") &&
		      json_integer_value(json_object_get(e.data, "version")) == 3;
		json_decref(e.data);
	}
	cr_assert(got, "renegotiate version 3 after B left");
	offer_get(&a, rid, &v, &sdp, NULL);
	cr_assert_eq(v, 3);
	parse_ok(sdp, &s);
	cr_assert_eq(s.nm, 5, "mids are not removed (never reused)");
	cr_assert_eq(s.m[3].dir, CTL_SDP_INACTIVE);
	cr_assert_eq(s.m[4].dir, CTL_SDP_INACTIVE);
	cr_assert_eq(s.m[3].nssrc, 0);
	ctl_sdp_free(&s);
	free(sdp);
	h_sse_close(&sa);
	h_sse_close(&sb);
	free(a.offer);
	free(b.offer);
}

Test(webrtc, bad_answers_store_nothing)
{
	char rid[40];
	struct peer a;
	json_t *r;
	room(rid);
	join(rid, "A", &a);
	json_decref(h_rec_take());
	char *good = answer("chromium-answer.sdp", 3);
	char *fp = strstr(good, "a=fingerprint:sha-256 ");
	cr_assert(fp);
	char fpline[160];
	snprintf(fpline, sizeof(fpline), "%.*s", (int)(strstr(fp, "\r\n") + 2 - fp), fp);
	char *nofp = strdup(good);
	for (char *q; (q = strstr(nofp, fpline));)
		memmove(q, q + strlen(fpline), strlen(q + strlen(fpline)) + 1);
	char *md5 = strdup(good);
	for (char *q; (q = strstr(md5, "a=fingerprint:sha-256 "));)
		memcpy(q, "a=fingerprint:md5     ", 22);
	char *pass = strdup(good);
	for (char *q; (q = strstr(pass, "a=setup:active"));)
		memcpy(q, "a=setup:holdcn", 14);
	struct { const char *sdp; int status; const char *code, *msg; } cases[] = {
		{ nofp, 400, "invalid_sdp", "fingerprint" },
		{ md5, 400, "invalid_sdp", "sha-256" },
		{ pass, 400, "invalid_sdp", "a=setup" },
		{ "garbage", 400, "invalid_sdp", "SDP line" },
		{ "", 400, "invalid_sdp", "empty" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = post_answer(&a, rid, 1, cases[i].sdp, &r);
		cr_assert_eq(st, cases[i].status, "case %zu: %d", i, st);
		cr_assert_str_eq(h_err_code(r), cases[i].code, "case %zu", i);
		const char *msg = json_string_value(json_object_get(json_object_get(r, "error"),
								    "message"));
		cr_assert(msg && strstr(msg, cases[i].msg), "case %zu: message %s", i, msg);
		json_decref(r);
	}
	cr_assert_eq(post_answer(&a, rid, 7, good, &r), 409);
	cr_assert_str_eq(h_err_code(r), "stale_offer");
	json_decref(r);
	/* Wrong body shape. */
	cr_assert_eq(req("POST", a.token, "{\"sdp\":\"v=0\"}", &r,
			 "/v1/rooms/%s/participants/%s/answer", rid, a.id), 400);
	json_decref(r);

	/* Nothing stored, nothing pushed. */
	json_t *log = h_rec_take();
	cr_assert_eq(json_array_size(log), 0, "no push for a refused answer");
	json_decref(log);
	int64_t v;
	char *sdp;
	bool answered = true;
	offer_get(&a, rid, &v, &sdp, &answered);
	cr_assert_eq(v, 1);
	cr_assert(!answered);
	free(sdp);
	cr_assert_eq(req("GET", NULL, NULL, &r, "/v1/rooms/%s/participants/%s", rid, a.id), 200);
	cr_assert_eq(json_array_size(json_object_get(r, "streams")), 0);
	json_decref(r);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM participants WHERE id='%s' AND "
		 "webrtc LIKE '%%\"fp\":\"\"%%'", a.id);
	cr_assert_eq(h_db_count(&H, sql), 1, "no fingerprint stored");
	/* A non-browser participant has no offer; mixing webrtc and remote is refused. */
	cr_assert_eq(req("POST", NULL, "{\"display_name\":\"x\",\"webrtc\":true,\"remote\":"
			 "{\"addr\":\"192.0.2.1\",\"port\":5000}}", &r,
			 "/v1/rooms/%s/participants", rid), 400);
	json_decref(r);
	cr_assert_eq(req("POST", NULL, "{\"display_name\":\"x\"}", &r,
			 "/v1/rooms/%s/participants", rid), 400);
	cr_assert_str_eq(h_err_code(r), "missing_field");
	json_decref(r);
	free(good);
	free(nofp);
	free(md5);
	free(pass);
	free(a.offer);
}

/* An old mmdp: hello without dtls_fingerprint. */
static void setup_old(void)
{
	h_setup(&H);
	h_rec_start(&H);
	h_rec_reply_op("hello", "{\"ok\":true,\"version\":1,\"generation\":0}");
	h_start(&H);
}

TestSuite(webrtc_old_mmdp, .init = setup_old, .fini = teardown, .timeout = 60);

Test(webrtc_old_mmdp, refuses_browsers)
{
	char rid[40];
	json_t *r;
	room(rid);
	int st = req("POST", NULL, "{\"display_name\":\"A\",\"webrtc\":true}", &r,
		     "/v1/rooms/%s/participants", rid);
	cr_assert_eq(st, 503);
	cr_assert_str_eq(h_err_code(r), "mmdp_unavailable");
	const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
	cr_assert(strstr(msg, "dtls_fingerprint"), "%s", msg);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	/* Others still join. */
	cr_assert_eq(req("POST", NULL, "{\"display_name\":\"B\",\"remote\":{\"addr\":\"192.0.2.1\","
			 "\"port\":5000}}", &r, "/v1/rooms/%s/participants", rid), 201);
	json_decref(r);
}

/* GET path over raw HTTP: status, Content-Type into type, body into body. */
static int raw_get(const char *path, char *type, size_t tcap, char **body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)H.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char head[512];
	int n = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			 path);
	cr_assert_eq(send(fd, head, (size_t)n, 0), n);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while ((r = recv(fd, buf + len, cap - len - 1, 0)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	int status = 0;
	sscanf(buf, "HTTP/1.1 %d", &status);
	type[0] = '\0';
	char *ct = strcasestr(buf, "\r\nContent-Type: ");
	if (ct)
		snprintf(type, tcap, "%.*s", (int)strcspn(ct + 16, "\r"), ct + 16);
	char *b = strstr(buf, "\r\n\r\n");
	*body = strdup(b ? b + 4 : "");
	free(buf);
	return status;
}

static void write_file(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", H.dir, rel);
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

Test(webrtc, meeting_page_files)
{
	char type[128], *body, path[256];
	snprintf(path, sizeof(path), "%s/www", H.dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/www/img", H.dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	write_file("www/index.html", "<!doctype html><title>meet</title>");
	write_file("www/app.js", "console.log(1);");
	write_file("www/style.css", "body{}");
	write_file("www/img/logo.svg", "<svg/>");
	write_file("secret.txt", "not served");
	char link[256];
	snprintf(link, sizeof(link), "%s/www/leak.txt", H.dir);
	snprintf(path, sizeof(path), "%s/secret.txt", H.dir);
	cr_assert_eq(symlink(path, link), 0);

	cr_assert_eq(raw_get("/meet", type, sizeof(type), &body), 200);
	cr_assert_eq(strncmp(type, "text/html", 9), 0, "%s", type);
	cr_assert_str_eq(body, "<!doctype html><title>meet</title>");
	free(body);
	cr_assert_eq(raw_get("/meet/", type, sizeof(type), &body), 200);
	free(body);
	cr_assert_eq(raw_get("/meet/app.js", type, sizeof(type), &body), 200);
	cr_assert_eq(strncmp(type, "text/javascript", 15), 0, "%s", type);
	cr_assert_str_eq(body, "console.log(1);");
	free(body);
	cr_assert_eq(raw_get("/meet/style.css", type, sizeof(type), &body), 200);
	cr_assert_eq(strncmp(type, "text/css", 8), 0, "%s", type);
	free(body);
	cr_assert_eq(raw_get("/meet/img/logo.svg", type, sizeof(type), &body), 200);
	cr_assert_str_eq(type, "image/svg+xml");
	free(body);
	static const char *const refused[] = {
		"/meet/../secret.txt", "/meet/..%2fsecret.txt", "/meet/%2e%2e/secret.txt",
		"/meet/img/../../secret.txt", "/meet/leak.txt", "/meet/nothing.js",
		"/meet//etc/passwd", "/meet/./app.js", "/meet/img", "/meet/a%00b",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int st = raw_get(refused[i], type, sizeof(type), &body);
		cr_assert(st == 404 || st == 400, "%s -> %d", refused[i], st);
		cr_assert_null(strstr(body, "not served"), "%s leaked", refused[i]);
		free(body);
	}
}
