/* Structured logs: see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "mm";
static int log_level = MM_LOG_INFO;
static int log_format = MM_LOG_LOGFMT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void mm_log_init(const char *prog, enum mm_log_level level, enum mm_log_format format)
{
	if (prog)
		log_prog = prog;
	mm_log_set_level(level);
	mm_log_set_format(format);
}

void mm_log_set_level(enum mm_log_level level)
{
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum mm_log_level mm_log_get_level(void)
{
	return (enum mm_log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void mm_log_set_format(enum mm_log_format format)
{
	__atomic_store_n(&log_format, (int)format, __ATOMIC_RELAXED);
}

bool mm_log_enabled(enum mm_log_level level)
{
	return (int)level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int mm_log_level_parse(const char *s, enum mm_log_level *out)
{
	if (!s)
		return -1;
	for (int i = 0; i <= MM_LOG_DEBUG; i++)
		if (!strcmp(s, level_names[i])) {
			*out = (enum mm_log_level)i;
			return 0;
		}
	if (!strcmp(s, "warning")) {
		*out = MM_LOG_WARN;
		return 0;
	}
	return -1;
}

const char *mm_log_level_name(enum mm_log_level level)
{
	return (unsigned)level <= MM_LOG_DEBUG ? level_names[level] : "unknown";
}

int mm_log_format_parse(const char *s, enum mm_log_format *out)
{
	if (s && !strcmp(s, "logfmt"))
		*out = MM_LOG_LOGFMT;
	else if (s && !strcmp(s, "json"))
		*out = MM_LOG_JSON;
	else
		return -1;
	return 0;
}

const char *mm_q(const char *s)
{
	static __thread char bufs[8][512];
	static __thread unsigned next;
	if (!s)
		return "";
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		plain = (unsigned char)*p > ' ' && *p != '"' && *p != '=' && *p != '\\' && *p != 0x7f;
	if (plain)
		return s;
	char *b = bufs[next++ % 8];
	size_t n = 0, cap = sizeof(bufs[0]);
	b[n++] = '"';
	for (const char *p = s; *p && n + 7 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			b[n++] = '\\';
			b[n++] = (char)c;
		} else if (c == '\n') {
			b[n++] = '\\';
			b[n++] = 'n';
		} else if (c < ' ' || c == 0x7f) {
			n += (size_t)snprintf(b + n, cap - n, "\\u%04x", c);
		} else {
			b[n++] = (char)c;
		}
	}
	b[n++] = '"';
	b[n] = '\0';
	return b;
}

/* logfmt fields (as written by mm_log's callers, values plain or quoted
 * by mm_q) to JSON members appended to out. Keys stay keys; a value that
 * is a plain number stays a number; anything else becomes a string. A
 * token without '=' is kept as "msg". */
static size_t fields_to_json(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	const char *p = in;
	while (*p && n + 16 < cap) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		size_t klen = (size_t)(p - k);
		const char *key = k;
		if (*p != '=') { /* a bare word: keep it as a message */
			key = "msg";
			klen = 3;
			p = k;
		} else {
			p++;
		}
		n += (size_t)snprintf(out + n, cap - n, ",\"%.*s\":", (int)klen, key);
		if (n >= cap)
			break;
		if (*p == '"') { /* quoted: already JSON-compatible escapes */
			const char *v = p++;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			if (*p == '"')
				p++;
			n += (size_t)snprintf(out + n, cap - n, "%.*s", (int)(p - v), v);
			if (p[-1] != '"' && n + 1 < cap)
				out[n++] = '"';
		} else {
			const char *v = p;
			while (*p && *p != ' ')
				p++;
			size_t vlen = (size_t)(p - v);
			bool num = vlen > 0 && vlen < 24;
			for (size_t i = 0; i < vlen && num; i++)
				num = (v[i] >= '0' && v[i] <= '9') || (i == 0 && v[i] == '-' && vlen > 1) ||
				      (v[i] == '.' && i > 0 && i + 1 < vlen);
			if (num && vlen > 1 && v[0] == '0' && v[1] != '.')
				num = false; /* 007: not a JSON number */
			n += (size_t)snprintf(out + n, cap - n, num ? "%.*s" : "\"%.*s\"", (int)vlen, v);
		}
	}
	if (n >= cap)
		n = cap - 1;
	out[n] = '\0';
	return n;
}

void mm_log(enum mm_log_level level, const char *event, const char *fmt, ...)
{
	if (!mm_log_enabled(level))
		return;
	char fields[1536] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(fields, sizeof(fields), fmt, ap);
		va_end(ap);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[96];
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
	const char *lv = mm_log_level_name(level);
	char line[2048];
	int n;
	if (__atomic_load_n(&log_format, __ATOMIC_RELAXED) == MM_LOG_JSON) {
		char members[1600];
		fields_to_json(fields, members, sizeof(members));
		n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":\"%s\",\"event\":\"%s\"%s}\n",
			     when, lv, log_prog, event, members);
	} else {
		n = snprintf(line, sizeof(line), "ts=%s level=%s prog=%s event=%s%s%s\n", when, lv, log_prog,
			     event, fields[0] ? " " : "", fields);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write per line: lines of concurrent threads do not interleave. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
