/* common/log.c: the line format (logfmt and JSON), levels, quoting. Each
 * test points stderr at a pipe and reads back what one mm_log wrote. */
#include "common/log.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int saved_stderr = -1, pipe_rd = -1;

static void capture_start(void)
{
	int p[2];
	cr_assert(pipe(p) == 0);
	saved_stderr = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	pipe_rd = p[0];
}

/* Restores stderr, returns what was written (static buffer). */
static const char *capture_end(void)
{
	static char buf[4096];
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
	close(pipe_rd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

Test(log, logfmt_line_has_fixed_fields_then_callers)
{
	mm_log_init("mmtest", MM_LOG_INFO, MM_LOG_LOGFMT);
	capture_start();
	mm_log(MM_LOG_WARN, "mmdp_lost", "path=%s retry_ms=%d", mm_q("/run/mm dp.sock"), 500);
	const char *out = capture_end();
	cr_assert(!strncmp(out, "ts=", 3), "%s", out);
	cr_assert(out[strlen(out) - 1] == '\n' && !strchr(out, '\n')[1], "one line: %s", out);
	const char *rest = strstr(out, " level=");
	cr_assert(rest, "%s", out);
	cr_assert_str_eq(rest, " level=warn prog=mmtest event=mmdp_lost path=\"/run/mm dp.sock\" retry_ms=500\n");
	/* ts is RFC 3339 UTC with milliseconds. */
	cr_assert(out[7] == '-' && out[13] == 'T' && out[26] == 'Z' && out[27] == ' ', "%s", out);
}

Test(log, levels_below_the_threshold_write_nothing)
{
	mm_log_init("mmtest", MM_LOG_WARN, MM_LOG_LOGFMT);
	capture_start();
	mm_log(MM_LOG_INFO, "not_seen", NULL);
	mm_debug("not_seen_either", "x=%d", 1);
	mm_err("seen", NULL);
	const char *out = capture_end();
	cr_assert(!strstr(out, "not_seen"), "%s", out);
	cr_assert(strstr(out, "level=error prog=mmtest event=seen\n"), "%s", out);
	mm_log_set_level(MM_LOG_DEBUG);
	cr_assert(mm_log_enabled(MM_LOG_DEBUG));
	cr_assert_eq(mm_log_get_level(), MM_LOG_DEBUG);
}

Test(log, json_lines_parse_with_numbers_and_strings)
{
	mm_log_init("mmtest", MM_LOG_INFO, MM_LOG_JSON);
	capture_start();
	mm_info("state_synced", "rooms=%d endpoints=%d took_ms=%.1f room=%s name=%s zip=%s", 3, -2, 12.5,
		mm_q("a \"b\"\n"), "plain", "007");
	const char *out = capture_end();
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	cr_assert(j, "not JSON: %s (%s)", out, e.text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
	cr_assert_str_eq(json_string_value(json_object_get(j, "prog")), "mmtest");
	cr_assert_str_eq(json_string_value(json_object_get(j, "event")), "state_synced");
	cr_assert_eq(json_integer_value(json_object_get(j, "rooms")), 3);
	cr_assert_eq(json_integer_value(json_object_get(j, "endpoints")), -2);
	cr_assert_float_eq(json_real_value(json_object_get(j, "took_ms")), 12.5, 1e-9);
	cr_assert_str_eq(json_string_value(json_object_get(j, "room")), "a \"b\"\n");
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "plain");
	cr_assert_str_eq(json_string_value(json_object_get(j, "zip")), "007");
	json_decref(j);
	mm_log_set_format(MM_LOG_LOGFMT);
}

Test(log, quoting)
{
	cr_assert_str_eq(mm_q("simple"), "simple");
	cr_assert_str_eq(mm_q(""), "\"\"");
	cr_assert_str_eq(mm_q(NULL), "");
	cr_assert_str_eq(mm_q("a=b"), "\"a=b\"");
	cr_assert_str_eq(mm_q("tab\there"), "\"tab\\u0009here\"");
	cr_assert_str_eq(mm_q("back\\slash"), "\"back\\\\slash\"");
}

Test(log, parse_names)
{
	enum mm_log_level l = MM_LOG_INFO;
	cr_assert_eq(mm_log_level_parse("debug", &l), 0);
	cr_assert_eq(l, MM_LOG_DEBUG);
	cr_assert_eq(mm_log_level_parse("warning", &l), 0);
	cr_assert_eq(l, MM_LOG_WARN);
	cr_assert_eq(mm_log_level_parse("loud", &l), -1);
	cr_assert_eq(l, MM_LOG_WARN, "a bad name leaves the level as it was");
	enum mm_log_format f = MM_LOG_LOGFMT;
	cr_assert_eq(mm_log_format_parse("json", &f), 0);
	cr_assert_eq(f, MM_LOG_JSON);
	cr_assert_eq(mm_log_format_parse("xml", &f), -1);
	cr_assert_str_eq(mm_log_level_name(MM_LOG_ERROR), "error");
}
