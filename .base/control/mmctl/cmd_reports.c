/* reports online | meetings | meeting ID | rooms: mmctld's reports
 * (docs/api.md "Reports") as tables, the server's JSON (--json) or its CSV
 * (--csv, printed as the server sent it). */
#include "control/mmctl/http_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --from / --to: unix seconds, or a UTC date YYYY-MM-DD[THH:MM[:SS]]. */
static int arg_when(const char *what, const char *s, long long *out)
{
	if (s[0] && strspn(s, "0123456789") == strlen(s))
		return arg_int(what, s, 0, 253402300799LL, out);
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);
		end = e2 ? e2 : strptime(end + 1, "%H:%M", &tm);
	}
	if (!end || *end)
		return usage_error("%s \"%s\": unix seconds or YYYY-MM-DD[THH:MM[:SS]] (UTC)",
				   what, s);
	*out = (long long)timegm(&tm);
	return 0;
}

/* path + "?k=v&..." of the options given (values percent-escaped). */
struct query {
	struct http_buf b;
	bool bad;
};

static void q_add(struct query *q, const char *key, const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0);
	q->bad |= !e || http_buf_add(&q->b, q->b.len && strchr(q->b.p, '?') ? "&" : "?", 1) ||
		  http_buf_add(&q->b, key, strlen(key)) || http_buf_add(&q->b, "=", 1) ||
		  http_buf_add(&q->b, e, strlen(e));
	curl_free(e);
}

static void q_num(struct query *q, const char *key, long long v)
{
	char n[32];
	snprintf(n, sizeof(n), "%lld", v);
	q_add(q, key, n);
}

static size_t on_body(char *d, size_t sz, size_t n, void *arg)
{
	return http_buf_add(arg, d, sz * n) ? 0 : sz * n;
}

static size_t on_header(char *d, size_t sz, size_t n, void *arg)
{
	static const char key[] = "x-next-cursor:";
	size_t len = sz * n;
	if (len > sizeof(key) - 1 && !strncasecmp(d, key, sizeof(key) - 1)) {
		const char *v = d + sizeof(key) - 1;
		size_t vl = len - (sizeof(key) - 1);
		while (vl && (*v == ' '))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (http_buf_add(arg, v, vl))
			return 0;
	}
	return len;
}

/* GET path as CSV: the body to stdout as it came; the next page's cursor
 * (if any) to stderr. 0 or an exit code. */
static int get_csv(struct mmctl *m, const char *path)
{
	char errbuf[CURL_ERROR_SIZE];
	struct http_buf rb = { 0 }, next = { 0 };
	struct curl_slist *hdrs = NULL;
	long status = 0;
	int ret;
	CURL *c = http_easy(m, path, true, "text/csv", &hdrs, errbuf);
	if (!c || curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, m->timeout) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb) ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, &next)) {
		fprintf(stderr, "mmctl: internal: cannot set up the request\n");
		ret = MMCTL_EINTERNAL;
		goto out;
	}
	CURLcode rc = curl_easy_perform(c);
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
	if (rb.len)
		fwrite(rb.p, 1, rb.len, stdout);
	if (next.len)
		fprintf(stderr, "next page: --cursor %s\n", next.p);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(rb.p);
	free(next.p);
	return ret;
}

/* Integer field as text ("-" when null or absent). */
static void f_int(json_t *o, const char *k, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, cap, "-");
}

/* bits per second as kbit/s ("-" when null). */
static void f_kbps(json_t *o, const char *k, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		snprintf(buf, cap, "%.1f", (double)json_integer_value(v) / 1000.0);
	else
		snprintf(buf, cap, "-");
}

static void f_real(json_t *o, const char *k, const char *fmt, char *buf, size_t cap)
{
	snprintf(buf, cap, fmt, json_number_value(json_object_get(o, k)));
}

/* Seconds as 1h02m03s / 4m05s / 6s. */
static void f_dur(json_t *o, const char *k, char *buf, size_t cap)
{
	long long d = (long long)json_integer_value(json_object_get(o, k));
	if (d >= 3600)
		snprintf(buf, cap, "%lldh%02lldm%02llds", d / 3600, d / 60 % 60, d % 60);
	else if (d >= 60)
		snprintf(buf, cap, "%lldm%02llds", d / 60, d % 60);
	else
		snprintf(buf, cap, "%llds", d);
}

static void f_time(json_t *o, const char *k, char *buf, size_t cap)
{
	fmt_time(json_integer_value(json_object_get(o, k)), buf, cap);
}

/* The common options: --tenant, --csv; more per report. path gets the
 * query. 0 or an exit code. */
static int reports_get(struct mmctl *m, const char *path, bool csv, json_t **r)
{
	*r = NULL;
	if (csv)
		return get_csv(m, path);
	return http_call(m, "GET", path, NULL, true, r);
}

static int rep_online(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--tenant"), OPT_FLAG("--csv") };
	const char *pos[1];
	int npos, rc;
	struct query q = { 0 };
	json_t *r = NULL;
	if ((rc = opts_parse("reports online [--tenant T] [--csv]", argc, argv, o, N(o), pos, 0,
			     0, &npos)) ||
	    (o[0].seen && (rc = arg_len("--tenant", o[0].value, 1, 64))))
		return rc;
	http_buf_add(&q.b, "/v1/reports/online", 18);
	if (o[0].seen)
		q_add(&q, "tenant", o[0].value);
	if (o[1].seen)
		q_add(&q, "format", "csv");
	if (q.bad || !q.b.p) {
		free(q.b.p);
		return MMCTL_EINTERNAL;
	}
	if ((rc = reports_get(m, q.b.p, o[1].seen, &r)) || m->json || o[1].seen)
		goto out;
	static const char *const h[] = { "MEETING", "ROOM", "NAME", "TENANT", "PARTICIPANTS",
					 "DURATION", "RX-KBPS", "TX-KBPS" };
	struct table *t = table_new(N(h), h);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(r, "online"), i, v) {
		char n[32], d[32], rx[32], tx[32];
		f_int(v, "participants", n, sizeof(n));
		f_dur(v, "duration_s", d, sizeof(d));
		f_kbps(v, "bitrate_rx_bps", rx, sizeof(rx));
		f_kbps(v, "bitrate_tx_bps", tx, sizeof(tx));
		const char *row[] = { js(v, "meeting", "-"), js(v, "room", "-"),
				      js(v, "room_name", "-"), js(v, "tenant", "-"), n, d, rx, tx };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	free(q.b.p);
	json_decref(r);
	return rc;
}

static int rep_meetings(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--tenant"), OPT_VAL("--room"), OPT_VAL("--account"),
			   OPT_VAL("--from"), OPT_VAL("--to"), OPT_VAL("--limit"),
			   OPT_VAL("--cursor"), OPT_FLAG("--csv") };
	const char *pos[1];
	int npos, rc;
	long long from = 0, to = 0, limit = 0;
	struct query q = { 0 };
	json_t *r = NULL;
	if ((rc = opts_parse("reports meetings [--tenant T] [--room R] [--account A] [--from WHEN] "
			     "[--to WHEN] [--limit 1..1000] [--cursor C] [--csv]", argc, argv, o,
			     N(o), pos, 0, 0, &npos)) ||
	    (o[0].seen && (rc = arg_len("--tenant", o[0].value, 1, 64))) ||
	    (o[1].seen && (rc = arg_len("--room", o[1].value, 1, 39))) ||
	    (o[2].seen && (rc = arg_len("--account", o[2].value, 1, 39))) ||
	    (o[3].seen && (rc = arg_when("--from", o[3].value, &from))) ||
	    (o[4].seen && (rc = arg_when("--to", o[4].value, &to))) ||
	    (o[5].seen && (rc = arg_int("--limit", o[5].value, 1, 1000, &limit))) ||
	    (o[6].seen && (rc = arg_len("--cursor", o[6].value, 1, 64))))
		return rc;
	if (o[3].seen && o[4].seen && from > to)
		return usage_error("--from is after --to");
	http_buf_add(&q.b, "/v1/reports/meetings", 20);
	static const char *const keys[] = { "tenant", "room", "account" };
	for (size_t i = 0; i < 3; i++)
		if (o[i].seen)
			q_add(&q, keys[i], o[i].value);
	if (o[3].seen)
		q_num(&q, "from", from);
	if (o[4].seen)
		q_num(&q, "to", to);
	if (o[5].seen)
		q_num(&q, "limit", limit);
	if (o[6].seen)
		q_add(&q, "cursor", o[6].value);
	if (o[7].seen)
		q_add(&q, "format", "csv");
	if (q.bad || !q.b.p) {
		free(q.b.p);
		return MMCTL_EINTERNAL;
	}
	if ((rc = reports_get(m, q.b.p, o[7].seen, &r)) || m->json || o[7].seen)
		goto out;
	static const char *const h[] = { "MEETING", "STARTED", "DURATION", "ROOM", "NAME",
					 "TENANT", "PEAK", "JOINS", "ENDED" };
	struct table *t = table_new(N(h), h);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(r, "meetings"), i, v) {
		char st[32], d[32], peak[16], joins[16];
		f_time(v, "started_at", st, sizeof(st));
		f_dur(v, "duration_s", d, sizeof(d));
		f_int(v, "peak", peak, sizeof(peak));
		f_int(v, "participants", joins, sizeof(joins));
		const char *row[] = { js(v, "id", "-"), st, d, js(v, "room", "-"),
				      js(v, "room_name", "-"), js(v, "tenant", "-"), peak, joins,
				      json_is_true(json_object_get(v, "live")) ?
					      "live" : js(v, "end_reason", "-") };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	if (json_is_string(json_object_get(r, "next_cursor")))
		printf("next page: --cursor %s\n", js(r, "next_cursor", ""));
out:
	free(q.b.p);
	json_decref(r);
	return rc;
}

static int rep_meeting(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_FLAG("--csv") };
	const char *pos[1];
	int npos, rc;
	json_t *r = NULL;
	if ((rc = opts_parse("reports meeting MEETING [--csv]", argc, argv, o, N(o), pos, 1, 1,
			     &npos)) ||
	    (rc = arg_len("MEETING", pos[0], 1, 39)))
		return rc;
	char *path = http_path(o[0].seen ? "/v1/reports/meetings/%s?format=csv" :
					   "/v1/reports/meetings/%s", pos[0]);
	if (!path)
		return MMCTL_EINTERNAL;
	if ((rc = reports_get(m, path, o[0].seen, &r)) || m->json || o[0].seen)
		goto out;
	json_t *mt = json_object_get(r, "meeting");
	char buf[64];
	out_kv("meeting", js(mt, "id", "-"));
	out_kv("room", js(mt, "room", "-"));
	out_kv("name", js(mt, "room_name", "-"));
	out_kv("tenant", js(mt, "tenant", "-"));
	f_time(mt, "started_at", buf, sizeof(buf));
	out_kv("started", buf);
	if (json_is_true(json_object_get(mt, "live"))) {
		out_kv("ended", "- (live)");
	} else {
		char e[32];
		f_time(mt, "ended_at", e, sizeof(e));
		snprintf(buf, sizeof(buf), "%s (%s)", e, js(mt, "end_reason", "-"));
		out_kv("ended", buf);
	}
	f_dur(mt, "duration_s", buf, sizeof(buf));
	out_kv("duration", buf);
	f_int(mt, "peak", buf, sizeof(buf));
	out_kv("peak", buf);
	printf("\n");
	static const char *const h[] = { "PARTICIPANT", "NAME", "ACCOUNT", "JOINED", "LEFT",
					 "HOW", "DURATION", "RX-PKTS", "TX-PKTS", "RX-BYTES",
					 "TX-BYTES", "LOSS%", "JITTER-MS", "RX-KBPS", "TX-KBPS" };
	struct table *t = table_new(N(h), h);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(r, "attendances"), i, v) {
		char jn[32], lf[32], d[32], rxp[24], txp[24], rxb[24], txb[24], loss[16], jit[16],
			rx[24], tx[24];
		f_time(v, "joined_at", jn, sizeof(jn));
		f_time(v, "left_at", lf, sizeof(lf));
		f_dur(v, "duration_s", d, sizeof(d));
		f_int(v, "rx_packets", rxp, sizeof(rxp));
		f_int(v, "tx_packets", txp, sizeof(txp));
		f_int(v, "rx_bytes", rxb, sizeof(rxb));
		f_int(v, "tx_bytes", txb, sizeof(txb));
		f_real(v, "loss_pct", "%.2f", loss, sizeof(loss));
		f_real(v, "jitter_ms", "%.1f", jit, sizeof(jit));
		f_kbps(v, "avg_bitrate_rx_bps", rx, sizeof(rx));
		f_kbps(v, "avg_bitrate_tx_bps", tx, sizeof(tx));
		const char *acc = js(v, "account", "");
		const char *row[] = { js(v, "participant", "-"), js(v, "display_name", "-"),
				      acc[0] ? acc : "-", jn, lf, js(v, "how", "in"), d, rxp, txp,
				      rxb, txb, loss, jit, rx, tx };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	free(path);
	json_decref(r);
	return rc;
}

static int rep_rooms(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--tenant"), OPT_VAL("--from"), OPT_VAL("--to"),
			   OPT_FLAG("--csv") };
	const char *pos[1];
	int npos, rc;
	long long from = 0, to = 0;
	struct query q = { 0 };
	json_t *r = NULL;
	if ((rc = opts_parse("reports rooms [--tenant T] [--from WHEN] [--to WHEN] [--csv]", argc,
			     argv, o, N(o), pos, 0, 0, &npos)) ||
	    (o[0].seen && (rc = arg_len("--tenant", o[0].value, 1, 64))) ||
	    (o[1].seen && (rc = arg_when("--from", o[1].value, &from))) ||
	    (o[2].seen && (rc = arg_when("--to", o[2].value, &to))))
		return rc;
	if (o[1].seen && o[2].seen && from > to)
		return usage_error("--from is after --to");
	http_buf_add(&q.b, "/v1/reports/rooms", 17);
	if (o[0].seen)
		q_add(&q, "tenant", o[0].value);
	if (o[1].seen)
		q_num(&q, "from", from);
	if (o[2].seen)
		q_num(&q, "to", to);
	if (o[3].seen)
		q_add(&q, "format", "csv");
	if (q.bad || !q.b.p) {
		free(q.b.p);
		return MMCTL_EINTERNAL;
	}
	if ((rc = reports_get(m, q.b.p, o[3].seen, &r)) || m->json || o[3].seen)
		goto out;
	static const char *const h[] = { "ROOM", "NAME", "TENANT", "MEETINGS", "MINUTES",
					 "JOINS", "PEAK", "RX-PKTS", "TX-PKTS", "RX-BYTES",
					 "TX-BYTES" };
	struct table *t = table_new(N(h), h);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(r, "rooms"), i, v) {
		char mt[16], min[24], j[16], pk[16], rxp[24], txp[24], rxb[24], txb[24];
		f_int(v, "meetings", mt, sizeof(mt));
		f_real(v, "minutes", "%.1f", min, sizeof(min));
		f_int(v, "participants", j, sizeof(j));
		f_int(v, "peak", pk, sizeof(pk));
		f_int(v, "rx_packets", rxp, sizeof(rxp));
		f_int(v, "tx_packets", txp, sizeof(txp));
		f_int(v, "rx_bytes", rxb, sizeof(rxb));
		f_int(v, "tx_bytes", txb, sizeof(txb));
		const char *row[] = { js(v, "room", "-"), js(v, "room_name", "-"),
				      js(v, "tenant", "-"), mt, min, j, pk, rxp, txp, rxb, txb };
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
out:
	free(q.b.p);
	json_decref(r);
	return rc;
}

int cmd_reports(struct mmctl *m, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "online"))
		return rep_online(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "meetings"))
		return rep_meetings(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "meeting"))
		return rep_meeting(m, argc - 1, argv + 1);
	if (argc > 0 && !strcmp(argv[0], "rooms"))
		return rep_rooms(m, argc - 1, argv + 1);
	return usage_error("reports online|meetings|meeting MEETING|rooms");
}
