/* mmctld's Prometheus endpoint (docs/metrics.md) against a real mmctld: the
 * exposition text checked line by line here and by Prometheus' own parser
 * (promtool check metrics) when it is installed; mmdp's counters from the
 * recorder's scripted stats.get replies into packet and byte totals that
 * survive endpoints leaving and mmdp restarting, loss and jitter histograms,
 * workers, drops, mempool and guard; the API's counters by route template
 * (never an id) for every path of docs/openapi.yaml; the agent calls'
 * outcomes; the listener's config and its refusals. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	/* The minimum: a sample every 200 ms. */
	h_config_set(&H, "report_sample_ms", "200");
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_rec_reply_op("stats.get", NULL);
	h_rec_fail_op(NULL);
	h_teardown(&H);
}

/* ------------------------------------------------ the format, checked --- */

/* Checks the text exposition format (version 0.0.4) as Prometheus reads it:
 * every sample belongs to the family of the last # TYPE (histograms: its
 * _bucket/_sum/_count), a family is declared once, names and labels are
 * well-formed, values are numbers, a histogram's buckets are cumulative
 * and end with +Inf equal to _count. */
static void check_format(const char *text)
{
	char fam[128] = "", type[16] = "";
	json_t *seen = json_object();
	double last_bucket = -1;
	const char *line = text;
	int lineno = 0;
	cr_assert(text[0], "empty exposition");
	while (*line) {
		const char *nl = strchr(line, '\n');
		cr_assert(nl, "the last line has no newline");
		char buf[1024];
		size_t len = (size_t)(nl - line);
		cr_assert(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		lineno++;
		if (!strncmp(buf, "# HELP ", 7))
			continue;
		if (!strncmp(buf, "# TYPE ", 7)) {
			cr_assert_eq(sscanf(buf + 7, "%127s %15s", fam, type), 2, "line %d", lineno);
			cr_assert(!json_object_get(seen, fam), "family %s declared twice", fam);
			json_object_set_new(seen, fam, json_true());
			cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
				  !strcmp(type, "histogram"), "%s: type %s", fam, type);
			if (!strcmp(type, "counter"))
				cr_assert(strlen(fam) > 6 && !strcmp(fam + strlen(fam) - 6, "_total"),
					  "counter %s does not end in _total", fam);
			cr_assert(!strncmp(fam, "mm_", 3), "%s: not prefixed mm_", fam);
			last_bucket = -1;
			continue;
		}
		cr_assert(buf[0] != '#', "line %d: unknown comment %s", lineno, buf);
		/* name */
		char *p = buf;
		cr_assert(isalpha((unsigned char)*p) || *p == '_', "line %d: %s", lineno, buf);
		while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
			p++;
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(p - buf), buf);
		size_t fl = strlen(fam);
		bool ok = !strcmp(name, fam);
		const char *suffix = !strncmp(name, fam, fl) ? name + fl : "";
		if (!strcmp(type, "histogram"))
			ok = !strcmp(suffix, "_bucket") || !strcmp(suffix, "_sum") ||
			     !strcmp(suffix, "_count");
		cr_assert(fam[0] && ok, "line %d: %s outside its family (%s)", lineno, name, fam);
		/* labels */
		double le = -2;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				char *k = p;
				cr_assert(isalpha((unsigned char)*p) || *p == '_', "line %d", lineno);
				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				bool is_le = p - k == 2 && !strncmp(k, "le", 2);
				cr_assert_eq(*p, '=', "line %d: %s", lineno, buf);
				cr_assert_eq(p[1], '"', "line %d: %s", lineno, buf);
				p += 2;
				char *v = p;
				while (*p && *p != '"')
					p += *p == '\\' ? 2 : 1;
				cr_assert_eq(*p, '"', "line %d: unterminated label", lineno);
				if (is_le)
					le = !strncmp(v, "+Inf", 4) ? 1e300 : strtod(v, NULL);
				p++;
				if (*p == ',')
					p++;
			}
			p++;
		}
		cr_assert_eq(*p, ' ', "line %d: %s", lineno, buf);
		char *end;
		double val = strtod(p + 1, &end);
		cr_assert(end != p + 1 && !*end, "line %d: value of %s", lineno, buf);
		cr_assert(val >= 0, "line %d: negative %s", lineno, buf);
		if (!strcmp(suffix, "_bucket")) {
			cr_assert(le > -2, "line %d: a bucket without le", lineno);
			if (last_bucket >= 0 && le != 1e300 && le > 0)
				cr_assert(val >= last_bucket, "line %d: buckets not cumulative", lineno);
			last_bucket = le == 1e300 ? -1 : val;
		}
	}
	json_decref(seen);
}

/* Prometheus' own parser, when installed (./quickstart test installs it;
 * the site test 'metrics' requires it). */
static void promtool_check(const char *text)
{
	if (access("/usr/bin/promtool", X_OK)) {
		cr_log_warn("promtool not installed: only this file's own format checks ran");
		return;
	}
	char path[160], cmd[400];
	snprintf(path, sizeof(path), "%s/metrics.txt", H.dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s' 2>&1", path);
	FILE *out = popen(cmd, "r");
	char msg[4096] = "";
	size_t n = fread(msg, 1, sizeof(msg) - 1, out);
	msg[n] = '\0';
	int st = pclose(out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool check metrics: %s", msg);
}

static char *scrape(void)
{
	char *text = NULL, *head = NULL;
	cr_assert_eq(h_metrics_get(&H, "GET", "/metrics", &text, &head), 200);
	cr_assert(strstr(head, "Content-Type: text/plain; version=0.0.4"), "%s", head);
	free(head);
	check_format(text);
	promtool_check(text);
	return text;
}

/* The value of one series (`name{labels}` exactly as rendered), -1 when
 * it is not there. */
static double val(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

#define VAL_EQ(text, series, want)                                                         \
	do {                                                                               \
		double v_ = val(text, series);                                             \
		cr_assert(v_ > (want) - 1e-6 && v_ < (want) + 1e-6, "%s = %g, want %g", series, \
			  v_, (double)(want));                                             \
	} while (0)

/* Wait for n stats.get requests after now: the reply to the first has then
 * been rendered into the snapshot (the ticker renders before it asks again). */
static void wait_samples(int n)
{
	int got = 0;
	json_decref(h_rec_reads_take());
	for (int i = 0; i < 200 && got < n; i++) {
		usleep(25000);
		json_t *reads = h_rec_reads_take(), *v;
		size_t k;
		json_array_foreach(reads, k, v)
			got += !strcmp(json_string_value(json_object_get(v, "op")) ?: "", "stats.get");
		json_decref(reads);
	}
	cr_assert(got >= n, "%d samples, want %d", got, n);
}

/* stats.get of room r1 with endpoints e1 (audio, 48 kHz) and, if e2_rx >= 0, e2. */
static void script(long long e1_rx, long long e1_lost, long long e1_jitter, long long e2_rx,
		   long long cycles, long long busy)
{
	char e2[512] = "", *rep = NULL;
	if (e2_rx >= 0)
		snprintf(e2, sizeof(e2),
			 ",{\"endpoint\":\"e2\",\"rx_packets\":%lld,\"rx_bytes\":%lld,\"tx_packets\":%lld,"
			 "\"tx_bytes\":%lld,\"streams\":[{\"ssrc\":2,\"kind\":\"video\",\"packets\":%lld,"
			 "\"bytes\":1,\"lost\":0,\"jitter\":0,\"ext_max_seq\":1}]}",
			 e2_rx, e2_rx * 1000, e2_rx * 2, e2_rx * 2000, e2_rx);
	cr_assert(asprintf(&rep,
		"{\"ok\":true,\"generation\":3,\"tsc_hz\":2400000000,"
		"\"drops\":{\"unknown_endpoint\":7,\"blocked\":2},"
		"\"workers\":[{\"worker\":0,\"lcore\":1,\"rx_packets\":1600,\"tx_packets\":3000,"
		"\"tx_bytes\":480000,\"handoff_out\":4,\"handoff_in\":0,\"neigh_replies\":1,"
		"\"cycles\":%lld,\"busy_cycles\":%lld,\"polls\":10,\"busy_polls\":5,\"drops\":{}}],"
		"\"rooms\":[{\"room\":\"r1\",\"worker\":0,\"rx_packets\":0,\"rx_bytes\":0,"
		"\"tx_packets\":0,\"tx_bytes\":0,\"endpoints\":["
		"{\"endpoint\":\"e1\",\"rx_packets\":%lld,\"rx_bytes\":%lld,\"tx_packets\":%lld,"
		"\"tx_bytes\":%lld,\"streams\":[{\"ssrc\":1,\"kind\":\"audio\",\"packets\":%lld,"
		"\"bytes\":1,\"lost\":%lld,\"jitter\":%lld,\"ext_max_seq\":1}]}%s]}],"
		"\"blocks\":[],\"bans\":[],"
		"\"mempools\":[{\"name\":\"memif_pool\",\"size\":1024,\"in_use\":7,"
		"\"available\":1017,\"cache_size\":0},{\"name\":\"mmdp_mbufs\",\"size\":8191,"
		"\"in_use\":1200,\"available\":6991,\"cache_size\":256}],"
		"\"guard\":{\"verdicts\":{\"pass\":{\"packets\":5,\"bytes\":300},"
		"\"drop\":{\"packets\":9,\"bytes\":900}},\"drops\":{\"blocked\":4,\"malformed\":5},"
		"\"sync\":{\"in_sync\":true,\"updates\":1,\"errors\":0,\"resyncs\":1}}}",
		cycles, busy, e1_rx, e1_rx * 100, e1_rx * 2, e1_rx * 200, e1_rx, e1_lost, e1_jitter,
		e2) > 0);
	h_rec_reply_op("stats.get", rep);
	free(rep);
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 60);

Test(metrics, dataplane_snapshot_and_totals)
{
	/* e1: 1000 packets, none lost, jitter 480 / 48 kHz = 10 ms; e2: 500. */
	script(1000, 0, 480, 500, 2400000000LL, 600000000LL);
	wait_samples(2);
	char *t = scrape();
	VAL_EQ(t, "mm_dataplane_up", 1);
	VAL_EQ(t, "mm_media_received_packets_total", 1500);
	VAL_EQ(t, "mm_media_received_bytes_total", 1000 * 100 + 500 * 1000);
	VAL_EQ(t, "mm_media_sent_packets_total", 2000 + 1000);
	VAL_EQ(t, "mm_media_sent_bytes_total", 200000 + 1000000);
	VAL_EQ(t, "mm_dataplane_rooms", 1);
	VAL_EQ(t, "mm_dataplane_endpoints", 2);
	VAL_EQ(t, "mm_streams{kind=\"audio\"}", 1);
	VAL_EQ(t, "mm_streams{kind=\"video\"}", 1);
	VAL_EQ(t, "mm_streams{kind=\"screen\"}", 0);
	VAL_EQ(t, "mm_dataplane_drops_total{reason=\"unknown_endpoint\"}", 7);
	VAL_EQ(t, "mm_dataplane_drops_total{reason=\"blocked\"}", 2);
	VAL_EQ(t, "mm_worker_received_packets_total{worker=\"0\",lcore=\"1\"}", 1600);
	VAL_EQ(t, "mm_worker_handoff_out_packets_total{worker=\"0\",lcore=\"1\"}", 4);
	VAL_EQ(t, "mm_worker_seconds_total{worker=\"0\",lcore=\"1\"}", 1.0);
	VAL_EQ(t, "mm_worker_busy_seconds_total{worker=\"0\",lcore=\"1\"}", 0.25);
	VAL_EQ(t, "mm_mempool_mbufs_in_use", 1200);
	VAL_EQ(t, "mm_mempool_mbufs_capacity", 8191);
	VAL_EQ(t, "mm_guard_up", 1);
	VAL_EQ(t, "mm_guard_packets_total{verdict=\"drop\"}", 9);
	VAL_EQ(t, "mm_guard_bytes_total{verdict=\"pass\"}", 300);
	VAL_EQ(t, "mm_guard_drops_total{reason=\"malformed\"}", 5);
	/* Both endpoints sent RTP once (the repeats add nothing): no loss. */
	VAL_EQ(t, "mm_endpoint_loss_ratio_count", 2);
	VAL_EQ(t, "mm_endpoint_loss_ratio_bucket{le=\"0\"}", 2);
	VAL_EQ(t, "mm_endpoint_jitter_seconds_bucket{le=\"0.001\"}", 1);
	VAL_EQ(t, "mm_endpoint_jitter_seconds_bucket{le=\"0.005\"}", 1);
	VAL_EQ(t, "mm_endpoint_jitter_seconds_bucket{le=\"0.01\"}", 2);
	VAL_EQ(t, "mm_endpoint_jitter_seconds_sum", 0.01);
	/* No room or endpoint name is a label. */
	cr_assert_null(strstr(t, "\"e1\""));
	cr_assert_null(strstr(t, "\"r1\""));
	free(t);

	/* e1 sends 900 more and loses 100 of 1000 (10 %); e2 leaves; the
	 * worker was busy half of the last 2.4e9 cycles. */
	script(1900, 100, 480, -1, 4800000000LL, 1800000000LL);
	wait_samples(2);
	t = scrape();
	VAL_EQ(t, "mm_media_received_packets_total", 1900 + 500);
	VAL_EQ(t, "mm_media_sent_bytes_total", 1900 * 200 + 1000000);
	VAL_EQ(t, "mm_dataplane_endpoints", 1);
	VAL_EQ(t, "mm_worker_busy_ratio{worker=\"0\",lcore=\"1\"}", 0.5);
	VAL_EQ(t, "mm_endpoint_loss_ratio_count", 3);
	VAL_EQ(t, "mm_endpoint_loss_ratio_bucket{le=\"0.05\"}", 2);
	VAL_EQ(t, "mm_endpoint_loss_ratio_bucket{le=\"0.1\"}", 3);
	VAL_EQ(t, "mm_endpoint_loss_ratio_sum", 0.1);
	free(t);

	/* mmdp restarted: e1 counts from 10 again; the totals do not go back. */
	script(10, 0, 0, -1, 4800000000LL, 1800000000LL);
	wait_samples(2);
	t = scrape();
	VAL_EQ(t, "mm_media_received_packets_total", 1900 + 500 + 10);
	VAL_EQ(t, "mm_media_sent_packets_total", 3800 + 1000 + 20);
	free(t);

	/* mmdp refuses stats.get: the snapshot says so, the totals stay. */
	h_rec_fail_op("stats.get");
	wait_samples(2);
	t = scrape();
	VAL_EQ(t, "mm_dataplane_up", 0);
	VAL_EQ(t, "mm_media_received_packets_total", 2410);
	cr_assert(val(t, "mm_agent_requests_total{op=\"stats.get\",result=\"refused\"}") >= 1);
	cr_assert(val(t, "mm_agent_requests_total{op=\"stats.get\",result=\"ok\"}") >= 6);
	cr_assert(val(t, "mm_agent_request_duration_seconds_count{op=\"stats.get\"}") >= 7);
	/* No guard, no mempool: the families stay, their series go. */
	cr_assert_lt(val(t, "mm_guard_drops_total{reason=\"malformed\"}"), 0);
	VAL_EQ(t, "mm_guard_up", 0);
	cr_assert(strstr(t, "# TYPE mm_mempool_mbufs_in_use gauge\n"));
	cr_assert_lt(val(t, "mm_mempool_mbufs_in_use"), 0);
	free(t);
}

Test(metrics, store_gauges)
{
	json_t *r;
	char body[160], path[200];
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, "{\"name\":\"a\"}", 0, &r), 201);
	const char *rid = json_string_value(json_object_get(r, "id"));
	cr_assert(rid);
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	for (int i = 0; i < 3; i++) {
		json_t *p;
		snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":"
			 "\"198.18.1.%d\",\"port\":5000}}", i, i + 2);
		cr_assert_eq(h_http(&H, "POST", path, H.op_token, body, 0, &p), 201, "%s",
			     h_err_code(p));
		json_decref(p);
	}
	json_t *r2;
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, "{\"name\":\"b\"}", 0, &r2), 201);
	json_decref(r2);
	wait_samples(2);
	char *t = scrape();
	VAL_EQ(t, "mm_rooms", 2);
	VAL_EQ(t, "mm_meetings", 1);
	VAL_EQ(t, "mm_participants", 3);
	VAL_EQ(t, "mm_api_requests_total{route=\"/v1/rooms/{room}/participants\",method=\"POST\","
		  "code=\"2xx\"}", 3);
	cr_assert_null(strstr(t, rid), "a room id in the metrics");
	free(t);
	json_decref(r);
}

Test(metrics, api_counters_by_route)
{
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &r), 200);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms/rSecretId42", H.op_token, NULL, 0, &r), 404);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms/rSecretId43", H.op_token, NULL, 0, &r), 404);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/tokens", NULL, NULL, 0, &r), 401);
	json_decref(r);
	cr_assert_eq(h_http(&H, "POST", "/v1/rooms", H.op_token, "{nope", 0, &r), 400);
	json_decref(r);
	cr_assert_eq(h_http(&H, "GET", "/v1/no/such/thing/x1", H.op_token, NULL, 0, &r), 404);
	json_decref(r);
	/* Empty segments are nothing to the API: still /v1/rooms. */
	cr_assert_eq(h_http(&H, "GET", "/v1//rooms/", H.op_token, NULL, 0, &r), 200);
	json_decref(r);
	char *t = scrape();
	VAL_EQ(t, "mm_api_requests_total{route=\"/v1/rooms\",method=\"GET\",code=\"2xx\"}", 2);
	VAL_EQ(t, "mm_api_requests_total{route=\"/v1/rooms/{room}\",method=\"GET\",code=\"4xx\"}", 2);
	VAL_EQ(t, "mm_api_requests_total{route=\"/v1/tokens\",method=\"GET\",code=\"4xx\"}", 1);
	VAL_EQ(t, "mm_api_requests_total{route=\"/v1/rooms\",method=\"POST\",code=\"4xx\"}", 1);
	VAL_EQ(t, "mm_api_requests_total{route=\"other\",method=\"GET\",code=\"4xx\"}", 1);
	VAL_EQ(t, "mm_api_request_duration_seconds_count{route=\"/v1/rooms/{room}\","
		  "method=\"GET\"}", 2);
	VAL_EQ(t, "mm_api_request_duration_seconds_bucket{route=\"/v1/rooms/{room}\","
		  "method=\"GET\",le=\"+Inf\"}", 2);
	cr_assert_null(strstr(t, "SecretId"), "an id from a URL in the metrics");
	cr_assert_null(strstr(t, "no/such"), "a raw URL in the metrics");
	free(t);
}

/* Every path of docs/openapi.yaml is its own route (the table in
 * control/metrics.c follows the API's documentation). */
Test(metrics, every_openapi_path_has_its_route)
{
	const char *spec = getenv("OPENAPI");
	cr_assert(spec, "OPENAPI must name docs/openapi.yaml");
	FILE *f = fopen(spec, "r");
	cr_assert(f, "%s", spec);
	char line[512];
	json_t *paths = json_array();
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		if (strncmp(line, "  /", 3) || n < 5 || strcmp(line + n - 2, ":\n"))
			continue;
		line[n - 2] = '\0';
		json_array_append_new(paths, json_string(line + 2));
	}
	fclose(f);
	cr_assert_gt(json_array_size(paths), 40, "paths of %s", spec);
	json_t *p;
	size_t i;
	json_array_foreach(paths, i, p) {
		/* {x} -> an id no resource has. */
		char url[512], *o = url;
		for (const char *s = json_string_value(p); *s; s++) {
			if (*s == '{') {
				o += sprintf(o, "zz%zu", i);
				s = strchr(s, '}');
			} else {
				*o++ = *s;
			}
		}
		*o = '\0';
		json_t *r;
		h_http(&H, "GET", url, H.op_token, NULL, 0, &r);
		json_decref(r);
	}
	char *t = scrape();
	json_array_foreach(paths, i, p) {
		char want[600];
		snprintf(want, sizeof(want), "mm_api_requests_total{route=\"%s\",method=\"GET\",",
			 json_string_value(p));
		cr_assert(strstr(t, want), "no series for %s", json_string_value(p));
	}
	cr_assert_null(strstr(t, "route=\"other\""), "a documented path counted as other");
	free(t);
	json_decref(paths);
}

Test(metrics, listener_refuses_other_paths_and_methods)
{
	char *text = NULL;
	cr_assert_eq(h_metrics_get(&H, "GET", "/", &text, NULL), 404);
	cr_assert(strstr(text, "/metrics"), "%s", text);
	free(text);
	cr_assert_eq(h_metrics_get(&H, "GET", "/v1/rooms", NULL, NULL), 404);
	cr_assert_eq(h_metrics_get(&H, "POST", "/metrics", NULL, NULL), 405);
	cr_assert_eq(h_metrics_get(&H, "DELETE", "/metrics", NULL, NULL), 405);
	/* Nor is /metrics on the API's port. */
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/metrics", H.op_token, NULL, 0, &r), 404);
	json_decref(r);
}

/* ------------------------------------------------------------ config --- */

/* mmctld with H's config: its exit status within 3 s, or -1 when it is
 * still running (then stopped); its stderr into err. */
static int run_mmctld(char *err, size_t errlen)
{
	char log[160];
	snprintf(log, sizeof(log), "%s/stderr.txt", H.dir);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		freopen(log, "w", stderr);
		execl(getenv("MMCTLD"), "mmctld", "--config", H.config, (char *)NULL);
		_exit(127);
	}
	int st = 0, rc = -1;
	for (int i = 0; i < 60; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
			break;
		}
		usleep(50000);
	}
	if (rc == -1) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
	}
	FILE *f = fopen(log, "r");
	size_t n = f ? fread(err, 1, errlen - 1, f) : 0;
	err[n] = '\0';
	if (f)
		fclose(f);
	return rc;
}

static void setup_stopped(void)
{
	h_setup(&H);
}

TestSuite(metrics_config, .init = setup_stopped, .fini = teardown, .timeout = 60);

Test(metrics_config, empty_means_no_listener)
{
	h_config_set(&H, "metrics_listen", "\"\"");
	h_start(&H);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)H.metrics_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_neq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "something listens");
	close(fd);
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &r), 200);
	json_decref(r);
}

Test(metrics_config, bad_values_refused)
{
	char err[2048];
	static const char *const bad[] = { "\"nonsense\"", "\"127.0.0.1:0\"", "\"127.0.0.1\"",
					   "9464", "null" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_config_set(&H, "metrics_listen", bad[i]);
		cr_assert_eq(run_mmctld(err, sizeof(err)), 2, "metrics_listen %s: %s", bad[i], err);
		cr_assert(strstr(err, "metrics_listen"), "%s: %s", bad[i], err);
	}
	/* The API's own address. */
	char same[64];
	snprintf(same, sizeof(same), "\"127.0.0.1:%d\"", H.port);
	h_config_set(&H, "metrics_listen", same);
	cr_assert_eq(run_mmctld(err, sizeof(err)), 2, "%s", err);
	cr_assert(strstr(err, "metrics_listen"), "%s", err);
}

Test(metrics_config, port_taken_is_fatal)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)H.metrics_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	char err[2048];
	cr_assert_eq(run_mmctld(err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "metrics_listen_failed"), "%s", err);
	close(fd);
}

/* -------------------------------------------------------- dashboard --- */

/* The metric of a name in an expression: histograms are queried through
 * their _bucket (_sum, _count) series. */
static void dashboard_name_exists(const char *text, const char *name, const char *expr)
{
	char want[160];
	snprintf(want, sizeof(want), "# TYPE %s ", name);
	if (strstr(text, want))
		return;
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(name), s = strlen(sfx[i]);
		if (n > s && !strcmp(name + n - s, sfx[i])) {
			snprintf(want, sizeof(want), "# TYPE %.*s histogram\n", (int)(n - s), name);
			if (strstr(text, want))
				return;
		}
	}
	cr_assert_fail("the dashboard's %s is not in a scrape (expr: %s)", name, expr);
}

/* docs/grafana/mobifone-meeting.json: well-formed, a Prometheus datasource
 * input, and every metric its queries name exists. */
Test(metrics, dashboard_queries_name_existing_metrics)
{
	const char *path = getenv("DASHBOARD");
	cr_assert(path, "DASHBOARD must name docs/grafana/mobifone-meeting.json");
	json_error_t jerr;
	json_t *d = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert(d, "%s: line %d: %s", path, jerr.line, jerr.text);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(d, "__inputs"), 0), "name")) ?: "",
			 "DS_PROMETHEUS");
	cr_assert_geq(json_integer_value(json_object_get(d, "schemaVersion")), 36);
	script(1000, 0, 480, 500, 2400000000LL, 600000000LL);
	wait_samples(2);
	char *t = scrape();
	json_t *p, *tg;
	size_t i, j;
	int names = 0, exprs = 0;
	json_array_foreach(json_object_get(d, "panels"), i, p) {
		json_array_foreach(json_object_get(p, "targets"), j, tg) {
			const char *e = json_string_value(json_object_get(tg, "expr"));
			cr_assert(e, "panel %s: a target without expr",
				  json_string_value(json_object_get(p, "title")));
			cr_assert_str_eq(json_string_value(json_object_get(
						 json_object_get(tg, "datasource"), "uid")) ?: "",
					 "${DS_PROMETHEUS}");
			exprs++;
			for (const char *s = strstr(e, "mm_"); s; s = strstr(s, "mm_")) {
				if (s > e && (isalnum((unsigned char)s[-1]) || s[-1] == '_')) {
					s += 3;
					continue;
				}
				size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
				char name[128];
				snprintf(name, sizeof(name), "%.*s", (int)n, s);
				dashboard_name_exists(t, name, e);
				names++;
				s += n;
			}
		}
	}
	cr_assert_gt(exprs, 20);
	cr_assert_gt(names, exprs - 1);
	free(t);
	json_decref(d);
}
