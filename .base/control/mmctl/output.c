/* Human output: aligned tables, key/value lines, times; and --json. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct table {
	int ncols, nrows, cap;
	char **cells;            /* (nrows + 1) * ncols, row 0 the heads */
};

/* Names and chat text come from other people: no terminal escapes. */
static char *clean_dup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		return NULL;
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return d;
}

void out_clean(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* Display width: UTF-8 code points (continuation bytes do not count). */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static int table_row(struct table *t, const char *const *cells)
{
	if (t->nrows + 1 >= t->cap) {
		int cap = t->cap ? t->cap * 2 : 8;
		char **c = realloc(t->cells, sizeof(*c) * (size_t)cap * (size_t)t->ncols);
		if (!c)
			return -1;
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + (size_t)(t->nrows + 1) * (size_t)t->ncols;
	for (int i = 0; i < t->ncols; i++)
		row[i] = clean_dup(cells[i]);
	t->nrows++;
	return 0;
}

struct table *table_new(int ncols, const char *const *heads)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->nrows = -1;
	if (table_row(t, heads)) {
		free(t);
		return NULL;
	}
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	if (t && table_row(t, cells))
		fprintf(stderr, "mmctl: internal: out of memory, rows dropped\n");
}

void table_print(const struct table *t, FILE *f)
{
	if (!t)
		return;
	int *w = calloc((size_t)t->ncols, sizeof(*w));
	if (!w)
		return;
	for (int r = 0; r <= t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
			int cw = s ? width(s) : 0;
			if (cw > w[c])
				w[c] = cw;
		}
	for (int r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
			s = s ? s : "";
			if (c == t->ncols - 1)
				fprintf(f, "%s", s);
			else
				fprintf(f, "%s%*s", s, w[c] - width(s) + 2, "");
		}
		fputc('\n', f);
	}
	free(w);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < (size_t)(t->nrows + 1) * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void out_kv(const char *key, const char *value)
{
	printf("%-16s ", key);
	out_clean(stdout, value);
	putchar('\n');
}

void fmt_time(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "-");
}

void fmt_since(int64_t t, char *buf, size_t cap)
{
	int64_t d = (int64_t)time(NULL) - t;
	if (t <= 0)
		snprintf(buf, cap, "-");
	else if (d < 0)
		snprintf(buf, cap, "0s");
	else if (d < 60)
		snprintf(buf, cap, "%llds", (long long)d);
	else if (d < 3600)
		snprintf(buf, cap, "%lldm%02llds", (long long)(d / 60), (long long)(d % 60));
	else if (d < 86400)
		snprintf(buf, cap, "%lldh%02lldm", (long long)(d / 3600), (long long)(d / 60 % 60));
	else
		snprintf(buf, cap, "%lldd%02lldh", (long long)(d / 86400), (long long)(d / 3600 % 24));
}

const char *js(json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : fallback;
}

void fmt_int(json_t *o, const char *key, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, cap, "-");
}

const char *fmt_bool(json_t *o, const char *key, const char *yes, const char *no)
{
	json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? (json_is_true(v) ? yes : no) : "-";
}

void out_json(json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
		putchar('\n');
}

void fmt_addr(json_t *ap, char *buf, size_t cap)
{
	const char *a = json_string_value(json_object_get(ap, "addr"));
	json_t *p = json_object_get(ap, "port");
	if (!a)
		snprintf(buf, cap, "-");
	else if (strchr(a, ':'))
		snprintf(buf, cap, "[%s]:%lld", a, (long long)json_integer_value(p));
	else
		snprintf(buf, cap, "%s:%lld", a, (long long)json_integer_value(p));
}
