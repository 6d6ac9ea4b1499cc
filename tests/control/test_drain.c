/* mmctld's signals (README "Drain and reload"), against a real mmctld with
 * its real SQLite file and the agent recorder as mmdp: SIGTERM drains (new
 * meetings 503 draining, the live ones go on, the last one's end lets it
 * exit 0; after drain_timeout_s the rest end with reason node_drain), a
 * second SIGTERM stops at once, SIGHUP reloads log_level / log_format and
 * refuses a broken file without changing anything, and bad log settings
 * are a config error at start. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	H.capture_log = true;
	h_rec_start(&H);
}

static void teardown(void)
{
	h_teardown(&H);
}

static char *room(const char *body)
{
	json_t *r;
	int st = h_http(&H, "POST", "/v1/rooms", H.op_token, body, 0, &r);
	cr_assert_eq(st, 201, "create room: %d %s", st, h_err_code(r));
	char *id = strdup(json_string_value(json_object_get(r, "id")));
	json_decref(r);
	return id;
}

/* Join rid as p<port>: the HTTP status; *pid the participant's id (201). */
static int join(const char *rid, int port, char **pid, const char **code)
{
	char path[128], body[300];
	json_t *r;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants", rid);
	snprintf(body, sizeof(body), "{\"display_name\":\"p%d\",\"remote\":{\"addr\":\"198.18.1.2\","
		 "\"port\":%d},\"streams\":[{\"kind\":\"audio\",\"ssrc\":%d}]}", port, port, port);
	int st = h_http(&H, "POST", path, H.op_token, body, 0, &r);
	if (pid)
		*pid = st == 201 ? strdup(json_string_value(json_object_get(r, "id"))) : NULL;
	static char last[64];
	snprintf(last, sizeof(last), "%s", st == 201 ? "" : h_err_code(r));
	if (code)
		*code = last;
	json_decref(r);
	return st;
}

static int leave(const char *rid, const char *pid)
{
	char path[160];
	json_t *r = NULL;
	snprintf(path, sizeof(path), "/v1/rooms/%s/participants/%s", rid, pid);
	int st = h_http(&H, "DELETE", path, H.op_token, NULL, 0, &r);
	json_decref(r);
	return st;
}

static json_t *health(int *status)
{
	json_t *r = NULL;
	*status = h_http(&H, "GET", "/v1/health", NULL, NULL, 0, &r);
	return r;
}

static void sigterm_and_wait_drain(void)
{
	cr_assert_eq(kill(H.pid, SIGTERM), 0);
	cr_assert(h_log_wait(&H, 3000, "event=drain_started", NULL), "drain_started logged");
}

TestSuite(drain, .init = setup, .fini = teardown, .timeout = 60);

Test(drain, health_ok_without_token)
{
	int st;
	h_start(&H);
	json_t *r = health(&st);
	cr_assert_eq(st, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "ok");
	cr_assert(json_is_true(json_object_get(r, "mmdp")), "the recorder is mmdp");
	cr_assert_eq(json_object_size(r), 2, "status and mmdp, nothing else without a token");
	json_decref(r);
	json_t *b = NULL;
	cr_assert_eq(h_http(&H, "POST", "/v1/health", NULL, "{}", 0, &b), 405);
	json_decref(b);
}

/* SIGTERM: no new meeting (neither a new room nor the first join into an
 * idle one), the live meeting goes on (a second participant joins it),
 * and mmctld exits 0 when its last participant leaves. */
Test(drain, new_meetings_refused_live_one_goes_on_then_exit)
{
	const char *code;
	char *a1, *a2;
	h_start(&H);
	char *live = room("{\"name\":\"live\"}");
	char *idle = room("{\"name\":\"idle\",\"kind\":\"fixed\"}");
	cr_assert_eq(join(live, 5000, &a1, NULL), 201);
	json_decref(h_rec_take());

	sigterm_and_wait_drain();
	int st;
	json_t *r = health(&st);
	cr_assert_eq(st, 503, "health while draining");
	cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "draining");
	json_decref(r);

	r = NULL;
	st = h_http(&H, "POST", "/v1/rooms", H.op_token, "{\"name\":\"late\"}", 0, &r);
	cr_assert_eq(st, 503, "a new room while draining: %d", st);
	cr_assert_str_eq(h_err_code(r), "draining");
	json_decref(r);
	cr_assert_eq(join(idle, 5002, NULL, &code), 503, "first join into an idle room");
	cr_assert_str_eq(code, "draining");
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms WHERE name='late'"), 0,
		     "nothing of the refused room stored");
	json_t *sent = h_rec_take();
	cr_assert_eq(json_array_size(sent), 0, "mmdp asked nothing for refused meetings");
	json_decref(sent);

	/* The live meeting is not a new one: it takes participants. */
	cr_assert_eq(join(live, 5004, &a2, &code), 201, "join a live meeting: %s", code);
	json_t *put = h_rec_wait_op("endpoint.put", 2000);
	cr_assert(put, "the join reached mmdp");
	json_decref(put);

	cr_assert_eq(h_wait_exit(&H, 500), -1, "still running while a meeting is live");
	cr_assert_eq(leave(live, a1), 204);
	cr_assert_eq(h_wait_exit(&H, 500), -1, "one participant still in");
	cr_assert_eq(leave(live, a2), 204);
	int ex = h_wait_exit(&H, 5000);
	cr_assert(ex >= 0 && WIFEXITED(ex) && WEXITSTATUS(ex) == 0,
		  "exit 0 once the last meeting ended (status %d)", ex);
	cr_assert_eq(h_log_count(&H, "event=drain_done", (char *)NULL), 1);
	cr_assert_eq(h_log_count(&H, "event=stopped", (char *)NULL), 1);
	free(a1);
	free(a2);
	free(live);
	free(idle);
}

/* drain_timeout_s passes with meetings still live: they end with reason
 * node_drain (events, history), mmdp is told, mmctld exits 0. */
Test(drain, timeout_ends_meetings_with_node_drain)
{
	h_config_set(&H, "drain_timeout_s", "1");
	h_start(&H);
	char *a = room("{\"name\":\"a\"}");
	char *b = room("{\"name\":\"b\",\"kind\":\"fixed\"}");
	cr_assert_eq(join(a, 5000, NULL, NULL), 201);
	cr_assert_eq(join(b, 5002, NULL, NULL), 201);
	cr_assert_eq(join(b, 5004, NULL, NULL), 201);
	json_decref(h_rec_take());

	cr_assert_eq(kill(H.pid, SIGTERM), 0);
	int ex = h_wait_exit(&H, 10000);
	cr_assert(ex >= 0 && WIFEXITED(ex) && WEXITSTATUS(ex) == 0, "exit 0 (status %d)", ex);
	cr_assert_eq(h_log_count(&H, "event=drain_timeout", "ended=2", "reason=node_drain",
				 (char *)NULL), 1);
	/* The fixed room keeps its meetings' events (an ad-hoc room's go with
	 * it); the history keeps both. */
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE room_id='%s' AND "
		 "type='room.ended' AND json_extract(data,'$.reason')='node_drain'", b);
	cr_assert_eq(h_db_count(&H, sql), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM history_meetings WHERE ended_at > 0 "
				"AND end_reason='node_drain'"), 2);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);
	/* The ad-hoc room is gone, the fixed one stays (empty) for later. */
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms"), 1);
	/* mmdp heard of it: both rooms deleted (the fixed one put back). */
	json_t *sent = h_rec_take(), *req, *op;
	size_t i, j;
	int dels = 0;
	json_array_foreach(sent, i, req) {
		if (strcmp(json_string_value(json_object_get(req, "op")), "batch"))
			continue;
		json_array_foreach(json_object_get(req, "ops"), j, op)
			dels += !strcmp(json_string_value(json_object_get(op, "op")), "room.del");
	}
	json_decref(sent);
	cr_assert_eq(dels, 2, "room.del of both rooms in the batch to mmdp");
	free(a);
	free(b);
}

/* A second SIGTERM does not wait: exit 0 at once, the meeting left live
 * in the store (it goes on after a restart). */
Test(drain, second_sigterm_stops_now)
{
	h_start(&H);
	char *a = room("{\"name\":\"a\"}");
	cr_assert_eq(join(a, 5000, NULL, NULL), 201);
	sigterm_and_wait_drain();
	cr_assert_eq(h_wait_exit(&H, 300), -1);
	cr_assert_eq(kill(H.pid, SIGTERM), 0);
	int ex = h_wait_exit(&H, 5000);
	cr_assert(ex >= 0 && WIFEXITED(ex) && WEXITSTATUS(ex) == 0, "exit 0 (status %d)", ex);
	cr_assert_eq(h_log_count(&H, "event=stopping", "signal=SIGTERM", "draining=true",
				 (char *)NULL), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM rooms WHERE started_at > 0"), 1);
	free(a);
}

/* SIGHUP: log_level debug makes debug lines appear, log_format json makes
 * JSON lines; a key that needs a restart is named and keeps its value. */
Test(drain, sighup_reloads_log_level_and_format)
{
	json_t *r = NULL;
	h_start(&H);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &r), 200);
	json_decref(r);
	cr_assert_eq(h_log_count(&H, "event=http_request", (char *)NULL), 0, "info: no debug");

	h_config_set(&H, "log_level", "\"debug\"");
	h_config_set(&H, "report_sample_ms", "1000");
	h_config_set(&H, "listen", "\"127.0.0.1:1\"");
	cr_assert_eq(kill(H.pid, SIGHUP), 0);
	cr_assert(h_log_wait(&H, 3000, "event=reloaded", "log_level=debug"));
	cr_assert_eq(h_log_count(&H, "event=reloaded", "report_sample_ms=1000", (char *)NULL), 1);
	cr_assert_eq(h_log_count(&H, "level=warn", "event=reload_ignored", "key=listen",
				 (char *)NULL), 1);
	r = NULL;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &r), 200,
		     "still on the old address");
	json_decref(r);
	cr_assert(h_log_wait(&H, 2000, "level=debug", "event=http_request"));
	cr_assert_eq(h_log_count(&H, "event=http_request", "path=/v1/rooms", "status=200",
				 (char *)NULL), 1);

	h_config_set(&H, "log_format", "\"json\"");
	cr_assert_eq(kill(H.pid, SIGHUP), 0);
	cr_assert(h_log_wait(&H, 3000, "\"event\":\"reloaded\"", "\"log_format\":\"json\""),
		  "the reload's own line is JSON");
	/* Every line since is one JSON object. */
	FILE *f = fopen(H.log, "r");
	char line[4096];
	bool json_seen = false;
	while (fgets(line, sizeof(line), f)) {
		if (!json_seen && !strstr(line, "\"event\":\"reloaded\""))
			continue;
		json_seen = true;
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		cr_assert(json_is_object(o), "not JSON: %s", line);
		json_decref(o);
	}
	fclose(f);
}

/* A broken file, and a bad value, change nothing: logged at error, the
 * old settings stay (no debug lines), mmctld serves on. */
Test(drain, sighup_broken_config_refused)
{
	json_t *r = NULL;
	h_start(&H);
	FILE *f = fopen(H.config, "w");
	cr_assert(f);
	fputs("{\"log_level\":\"debug\",", f);
	fclose(f);
	cr_assert_eq(kill(H.pid, SIGHUP), 0);
	cr_assert(h_log_wait(&H, 3000, "level=error", "event=reload_failed"));

	/* Whole again, but with a value it does not know. */
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "{\"listen\":\"127.0.0.1:%d\",\"db\":\"%s\",\"mmdp_socket\":\"%s\","
		 "\"media_address\":\"198.18.0.1\",\"log_level\":\"loud\"}", H.port, H.db, H.sock);
	f = fopen(H.config, "w");
	fputs(cfg, f);
	fclose(f);
	cr_assert_eq(kill(H.pid, SIGHUP), 0);
	cr_assert(h_log_wait(&H, 3000, "event=reload_failed", "log_level"));
	cr_assert_eq(h_log_count(&H, "event=reloaded", (char *)NULL), 0);
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", H.op_token, NULL, 0, &r), 200);
	json_decref(r);
	usleep(200000);
	cr_assert_eq(h_log_count(&H, "event=http_request", (char *)NULL), 0, "still at info");
}

/* At start, a bad log_level or log_format (or drain_timeout_s) is a
 * config error: exit 2, the reason logged. */
static int start_with(const char *key, const char *value, char *log, size_t cap)
{
	h_config_set(&H, key, value);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(H.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execl(getenv("MMCTLD"), "mmctld", "--config", H.config, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	FILE *f = fopen(H.log, "r");
	size_t n = f ? fread(log, 1, cap - 1, f) : 0;
	log[n] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(drain, bad_log_settings_at_start)
{
	char log[2048];
	cr_assert_eq(start_with("log_level", "\"loud\"", log, sizeof(log)), 2);
	cr_assert(strstr(log, "event=config_error") && strstr(log, "log_level"), "%s", log);
	h_config_set(&H, "log_level", "\"warn\"");
	cr_assert_eq(start_with("log_format", "\"xml\"", log, sizeof(log)), 2);
	cr_assert(strstr(log, "event=config_error") && strstr(log, "log_format"), "%s", log);
	h_config_set(&H, "log_format", "\"logfmt\"");
	cr_assert_eq(start_with("drain_timeout_s", "-1", log, sizeof(log)), 2);
	cr_assert(strstr(log, "drain_timeout_s"), "%s", log);
}
