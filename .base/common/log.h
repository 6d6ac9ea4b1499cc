/* Structured logs for mmdp, mmctld and the tools: one line per event on
 * stderr (systemd's journal takes it from there), in logfmt
 *
 *   ts=2026-11-26T21:40:00.123Z level=warn prog=mmctld event=mmdp_lost path=/run/mmdp.sock
 *
 * or, with mm_log_init(..., MM_LOG_JSON), the same fields as one JSON
 * object a line. Never called per packet: the packet path counts, the
 * agent and control threads log.
 *
 * Fields after "event" come from a printf format of key=value pairs; a
 * value that may hold spaces, quotes or '=' goes through mm_q(), which
 * quotes and escapes it (thread-local buffers, valid until the next
 * eight mm_q calls of the thread). */
#ifndef MM_COMMON_LOG_H
#define MM_COMMON_LOG_H

#include <stdbool.h>

enum mm_log_level { MM_LOG_ERROR = 0, MM_LOG_WARN, MM_LOG_INFO, MM_LOG_DEBUG };
enum mm_log_format { MM_LOG_LOGFMT = 0, MM_LOG_JSON };

/* prog: the "prog" field. Callable again (a reload): level and format are
 * atomics, so any thread may log while another changes them. */
void mm_log_init(const char *prog, enum mm_log_level level, enum mm_log_format format);
void mm_log_set_level(enum mm_log_level level);
enum mm_log_level mm_log_get_level(void);
void mm_log_set_format(enum mm_log_format format);
bool mm_log_enabled(enum mm_log_level level);

/* "error", "warn", "info", "debug" (also "warning"); "logfmt", "json".
 * 0 on success, -1 for anything else (*out untouched). */
int mm_log_level_parse(const char *s, enum mm_log_level *out);
const char *mm_log_level_name(enum mm_log_level level);
int mm_log_format_parse(const char *s, enum mm_log_format *out);

/* One event. event: a short snake_case name (mmdp_lost, state_synced).
 * fmt: the other fields, "key=%d key2=%s", or NULL. */
void mm_log(enum mm_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s quoted for a logfmt value when it needs it ("a b" -> "\"a b\""),
 * as is otherwise; NULL gives "". */
const char *mm_q(const char *s);

#define mm_err(ev, ...)   mm_log(MM_LOG_ERROR, ev, __VA_ARGS__)
#define mm_warn(ev, ...)  mm_log(MM_LOG_WARN, ev, __VA_ARGS__)
#define mm_info(ev, ...)  mm_log(MM_LOG_INFO, ev, __VA_ARGS__)
#define mm_debug(ev, ...) do { if (mm_log_enabled(MM_LOG_DEBUG)) mm_log(MM_LOG_DEBUG, ev, __VA_ARGS__); } while (0)

#endif
