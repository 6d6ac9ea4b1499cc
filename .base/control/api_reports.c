/* /v1/reports: what ran and how well, from the meeting history
 * (history.c, store_history.c). An operator sees every tenant; a tenant
 * token only its own. Every report is JSON, or CSV with ?format=csv (a
 * header row, RFC 4180 quoting, CRLF). Reads only: no transaction. */
#include "control/api.h"
#include "control/history.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORTS_LIMIT_DEFAULT 100
#define REPORTS_LIMIT_MAX 1000

/* ------------------------------------------------------------ params --- */

struct rep_params {
	const char *const *allowed;    /* NULL-terminated */
	const char *bad;               /* the first parameter not allowed */
};

static enum MHD_Result rep_param_check(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct rep_params *p = cls;
	(void)kind;
	(void)value;
	for (size_t i = 0; p->allowed[i]; i++)
		if (!strcmp(p->allowed[i], key))
			return MHD_YES;
	p->bad = key;
	return MHD_NO;
}

/* Unknown query parameters are refused (400) like unknown body fields. */
static int rep_params_only(struct api_req *rq, const char *const *allowed, struct api_reply *rep)
{
	struct rep_params p = { allowed, NULL };
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, rep_param_check, &p);
	if (p.bad) {
		api_error(rep, 400, "invalid_field", "%s: unknown query parameter", p.bad);
		return -EINVAL;
	}
	return 0;
}

static const char *rep_param(struct api_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* format=json (default) or csv. */
static int rep_format(struct api_req *rq, bool *csv, struct api_reply *rep)
{
	const char *f = rep_param(rq, "format");
	*csv = f && !strcmp(f, "csv");
	if (f && !*csv && strcmp(f, "json")) {
		api_error(rep, 400, "invalid_field", "format: json or csv");
		return -EINVAL;
	}
	return 0;
}

/* A string filter: absent = NULL; present but empty or too long: 400. */
static int rep_text(struct api_req *rq, const char *name, size_t max, const char **out,
		    struct api_reply *rep)
{
	*out = rep_param(rq, name);
	if (*out && (!**out || strlen(*out) > max)) {
		api_error(rep, 400, "invalid_field", "%s: 1..%zu characters", name, max);
		return -EINVAL;
	}
	return 0;
}

/* from/to (unix seconds, from <= to). */
static int rep_range(struct api_req *rq, int64_t *from, int64_t *to, struct api_reply *rep)
{
	if (api_query_int(rq, "from", 0, 0, INT64_C(253402300799), from, rep) ||
	    api_query_int(rq, "to", 0, 1, INT64_C(253402300799), to, rep))
		return -EINVAL;
	if (rep_param(rq, "to") && *from > *to) {
		api_error(rep, 400, "invalid_field", "from: after to");
		return -EINVAL;
	}
	return 0;
}

/* The tenant whose reports these are: a tenant token's own (a tenant=
 * naming another is 403); an operator's tenant= filter or NULL (all). */
static int rep_tenant(struct api_req *rq, const char **tenant, struct api_reply *rep)
{
	if (rep_text(rq, "tenant", CTL_TENANT_MAX - 1, tenant, rep))
		return -EINVAL;
	if (rq->scope.kind == CTL_SCOPE_TENANT) {
		if (*tenant && strcmp(*tenant, rq->scope.tenant)) {
			api_error(rep, 403, "forbidden", "a tenant reads only its own reports");
			return -EPERM;
		}
		*tenant = rq->scope.tenant;
	}
	return 0;
}

/* -------------------------------------------------------------- output --- */

/* One CSV field, RFC 4180: quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled). */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_value(FILE *f, json_t *v)
{
	if (json_is_string(v))
		csv_field(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.3f", json_real_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "true" : "false", f);
	/* null / absent: an empty field */
}

/* rows (objects) as CSV with the columns cols (NULL-terminated), each
 * row's value of that key. Sets rep (200 text/csv); a next page's cursor
 * (or NULL) goes in the header X-Next-Cursor. */
static void rep_csv(const char *const *cols, json_t *rows, const char *next,
		    struct api_reply *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		api_error(rep, 500, "internal", "no memory");
		return;
	}
	for (size_t c = 0; cols[c]; c++)
		fprintf(f, "%s%s", c ? "," : "", cols[c]);
	fputs("\r\n", f);
	json_t *row;
	size_t i;
	json_array_foreach(rows, i, row) {
		for (size_t c = 0; cols[c]; c++) {
			if (c)
				fputc(',', f);
			csv_value(f, json_object_get(row, cols[c]));
		}
		fputs("\r\n", f);
	}
	if (fclose(f)) {
		free(buf);
		api_error(rep, 500, "internal", "no memory");
		return;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		api_error(rep, 500, "internal", "no memory");
		return;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8");
	if (next)
		MHD_add_response_header(r, "X-Next-Cursor", next);
	json_decref(rep->body);
	rep->body = NULL;
	rep->status = 200;
	rep->stream = r;
}

/* JSON {key: rows, ...extra} or CSV of rows. rows and extra are stolen. */
static void rep_send(bool csv, const char *key, const char *const *cols, json_t *rows,
		     json_t *extra, struct api_reply *rep)
{
	if (csv) {
		rep_csv(cols, rows, json_string_value(json_object_get(extra, "next_cursor")), rep);
		json_decref(rows);
		json_decref(extra);
		return;
	}
	json_t *o = extra ? extra : json_object();
	json_object_set_new(o, key, rows);
	json_decref(rep->body);
	rep->body = o;
	rep->status = 200;
}

static json_t *rep_time(int64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

/* bits per second over seconds (null when no time passed). */
static json_t *rep_bps(int64_t bytes, int64_t seconds)
{
	return seconds > 0 ? json_integer((json_int_t)(bytes * 8 / seconds)) : json_null();
}

static void rep_counters(json_t *o, const struct ctl_hist_counters *n)
{
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)n->rx_packets));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)n->rx_bytes));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)n->tx_packets));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)n->tx_bytes));
	json_object_set_new(o, "lost", json_integer((json_int_t)n->lost));
	json_object_set_new(o, "loss_pct",
			    json_real(n->expected ? (double)n->lost * 100.0 / (double)n->expected :
						    0.0));
	json_object_set_new(o, "jitter_ms", json_real((double)n->jitter_us / 1000.0));
}

static json_t *rep_meeting_json(const struct ctl_hist_meeting *m, int64_t now)
{
	int64_t end = m->ended_at ? m->ended_at : now;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:b,s:I,s:i,s:I}", "id", m->id,
			      "room", m->room_id, "room_name", m->room_name, "tenant", m->tenant,
			      "meeting", (json_int_t)m->meeting, "started_at",
			      (json_int_t)m->started_at, "ended_at", rep_time(m->ended_at), "live",
			      m->ended_at == 0, "duration_s",
			      (json_int_t)(end > m->started_at ? end - m->started_at : 0), "peak",
			      m->peak, "participants", (json_int_t)m->attendances);
	json_object_set_new(o, "end_reason",
			    m->ended_at ? json_string(m->end_reason) : json_null());
	rep_counters(o, &m->sum);
	return o;
}

/* -------------------------------------------------------------- online --- */

struct rep_list {
	struct ctl *c;
	json_t *rows;
	int64_t now;
	int n;                         /* rows so far */
	int page;                      /* rows of a page */
	struct ctl_hist_meeting last;  /* the page's last row (the next cursor) */
};

static int online_row(void *arg, const struct ctl_hist_meeting *m)
{
	struct rep_list *l = arg;
	int n = 0;
	int rc = ctl_store_participant_count(l->c->store, m->room_id, &n);
	if (rc)
		return rc;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:i,s:i}", "meeting", m->id, "room",
			      m->room_id, "room_name", m->room_name, "tenant", m->tenant,
			      "started_at", (json_int_t)m->started_at, "duration_s",
			      (json_int_t)(l->now > m->started_at ? l->now - m->started_at : 0),
			      "sampled_at", (json_int_t)(m->s1_ms / 1000), "participants", n,
			      "peak", m->peak);
	/* The bitrate between the last two samples of the room's counters
	 * (null before there are two). */
	int64_t dt = m->s1_ms - m->s0_ms;
	bool two = m->s0_ms > 0 && dt > 0;
	int64_t drx = m->s1_rx_bytes - m->s0_rx_bytes, dtx = m->s1_tx_bytes - m->s0_tx_bytes;
	json_object_set_new(o, "bitrate_rx_bps",
			    two ? json_integer((json_int_t)((drx > 0 ? drx : 0) * 8000 / dt)) :
				  json_null());
	json_object_set_new(o, "bitrate_tx_bps",
			    two ? json_integer((json_int_t)((dtx > 0 ? dtx : 0) * 8000 / dt)) :
				  json_null());
	if (!m->s1_ms)
		json_object_set_new(o, "sampled_at", json_null());
	return json_array_append_new(l->rows, o) ? -ENOMEM : 0;
}

static void reports_online(struct api_req *rq, struct api_reply *rep)
{
	static const char *const allowed[] = { "tenant", "format", NULL };
	static const char *const cols[] = { "meeting", "room", "room_name", "tenant", "started_at",
					    "duration_s", "participants", "peak", "bitrate_rx_bps",
					    "bitrate_tx_bps", "sampled_at", NULL };
	struct ctl_hist_filter f = { .live_only = true };
	bool csv;
	if (rep_params_only(rq, allowed, rep) || rep_format(rq, &csv, rep) ||
	    rep_tenant(rq, &f.tenant, rep))
		return;
	struct rep_list l = { rq->c, json_array(), ctl_now(rq->c), 0, 0, { 0 } };
	int rc = ctl_store_hist_meeting_list(rq->c->store, &f, online_row, &l);
	if (rc) {
		json_decref(l.rows);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep_send(csv, "online", cols, l.rows,
		 json_pack("{s:I}", "now", (json_int_t)l.now), rep);
}

/* ------------------------------------------------------------ meetings --- */

static const char *const MEETING_COLS[] = {
	"id", "room", "room_name", "tenant", "meeting", "started_at", "ended_at", "live",
	"duration_s", "end_reason", "peak", "participants", "rx_packets", "rx_bytes",
	"tx_packets", "tx_bytes", "lost", "loss_pct", "jitter_ms", NULL
};

/* The cursor: the position of a page's last row in the newest-first order
 * (started_at, seq), which rows added later do not move. */
static void cursor_format(const struct ctl_hist_meeting *m, char *out, size_t cap)
{
	snprintf(out, cap, "c1.%" PRIx64 ".%" PRIx64, (uint64_t)m->started_at, (uint64_t)m->seq);
}

static int cursor_parse(const char *s, struct ctl_hist_filter *f)
{
	unsigned long long a, b;
	char again[64];
	int used = 0;
	if (strlen(s) > 40 || sscanf(s, "c1.%llx.%llx%n", &a, &b, &used) != 2 ||
	    (size_t)used != strlen(s) || a > INT64_MAX || b > INT64_MAX)
		return -EINVAL;
	f->has_after = true;
	f->after_started = (int64_t)a;
	f->after_seq = (int64_t)b;
	struct ctl_hist_meeting m = { .started_at = f->after_started, .seq = f->after_seq };
	cursor_format(&m, again, sizeof(again));
	/* Only the form we hand out (no signs, spaces or leading zeros). */
	return strcmp(again, s) ? -EINVAL : 0;
}

static int meetings_row(void *arg, const struct ctl_hist_meeting *m)
{
	struct rep_list *l = arg;
	if (++l->n == l->page)
		l->last = *m;
	return json_array_append_new(l->rows, rep_meeting_json(m, l->now)) ? -ENOMEM : 0;
}

static void reports_meetings(struct api_req *rq, struct api_reply *rep)
{
	static const char *const allowed[] = { "tenant", "room", "account", "from", "to",
					       "limit", "cursor", "format", NULL };
	struct ctl_hist_filter f = { 0 };
	int64_t limit;
	const char *cursor;
	bool csv;
	if (rep_params_only(rq, allowed, rep) || rep_format(rq, &csv, rep) ||
	    rep_tenant(rq, &f.tenant, rep) ||
	    rep_text(rq, "room", CTL_ID_MAX - 1, &f.room, rep) ||
	    rep_text(rq, "account", CTL_ID_MAX - 1, &f.account, rep) ||
	    rep_range(rq, &f.from, &f.to, rep) ||
	    api_query_int(rq, "limit", REPORTS_LIMIT_DEFAULT, 1, REPORTS_LIMIT_MAX, &limit, rep) ||
	    rep_text(rq, "cursor", 64, &cursor, rep))
		return;
	if (cursor && cursor_parse(cursor, &f)) {
		api_error(rep, 400, "invalid_cursor", "cursor: not one this API gave");
		return;
	}
	/* One more than the page: whether there is a next one. */
	f.limit = (int)limit + 1;
	struct rep_list l = { rq->c, json_array(), ctl_now(rq->c), 0, (int)limit, { 0 } };
	int rc = ctl_store_hist_meeting_list(rq->c->store, &f, meetings_row, &l);
	if (rc) {
		json_decref(l.rows);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	json_t *next = json_null();
	if (l.n > limit) {
		char c[64];
		json_array_remove(l.rows, json_array_size(l.rows) - 1);
		cursor_format(&l.last, c, sizeof(c));
		json_decref(next);
		next = json_string(c);
	}
	rep_send(csv, "meetings", MEETING_COLS, l.rows, json_pack("{s:o}", "next_cursor", next),
		 rep);
}

/* ------------------------------------------------------------- meeting --- */

static const char *const ATTEND_COLS[] = {
	"meeting", "room", "room_name", "tenant", "participant", "display_name", "account",
	"role", "joined_at", "left_at", "how", "duration_s", "rx_packets", "rx_bytes",
	"tx_packets", "tx_bytes", "lost", "loss_pct", "jitter_ms", "avg_bitrate_rx_bps",
	"avg_bitrate_tx_bps", "sampled_at", NULL
};

struct attend_list {
	const struct ctl_hist_meeting *m;
	json_t *rows;
	int64_t now;
};

static int attend_row(void *arg, const struct ctl_hist_attendance *a)
{
	struct attend_list *l = arg;
	int64_t end = a->left_at ? a->left_at : l->now;
	int64_t dur = end > a->joined_at ? end - a->joined_at : 0;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:I,s:o}",
			      "meeting", l->m->id, "room", l->m->room_id, "room_name",
			      l->m->room_name, "tenant", l->m->tenant, "participant",
			      a->participant, "display_name", a->display_name, "account",
			      a->account, "role", a->role, "joined_at", (json_int_t)a->joined_at,
			      "left_at", rep_time(a->left_at), "how",
			      a->left_at ? json_string(a->how) : json_null(), "duration_s",
			      (json_int_t)dur, "sampled_at", rep_time(a->sampled_at));
	rep_counters(o, &a->n);
	json_object_set_new(o, "avg_bitrate_rx_bps", rep_bps(a->n.rx_bytes, dur));
	json_object_set_new(o, "avg_bitrate_tx_bps", rep_bps(a->n.tx_bytes, dur));
	return json_array_append_new(l->rows, o) ? -ENOMEM : 0;
}

static void reports_meeting(struct api_req *rq, struct api_reply *rep)
{
	static const char *const allowed[] = { "format", NULL };
	struct ctl_hist_meeting m;
	bool csv;
	if (rep_params_only(rq, allowed, rep) || rep_format(rq, &csv, rep))
		return;
	int rc = ctl_store_hist_meeting_get(rq->c->store, rq->parts[2], &m);
	/* Another tenant's meeting is as if it did not exist. */
	if (rc == -ENOENT ||
	    (!rc && rq->scope.kind == CTL_SCOPE_TENANT && strcmp(m.tenant, rq->scope.tenant))) {
		api_error(rep, 404, "not_found", "no meeting %s", rq->parts[2]);
		return;
	}
	struct attend_list l = { &m, json_array(), ctl_now(rq->c) };
	if (!rc)
		rc = ctl_store_hist_attend_list(rq->c->store, m.id, attend_row, &l);
	if (rc) {
		json_decref(l.rows);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep_send(csv, "attendances", ATTEND_COLS, l.rows,
		 csv ? NULL : json_pack("{s:o}", "meeting", rep_meeting_json(&m, l.now)), rep);
}

/* --------------------------------------------------------------- rooms --- */

static int rooms_row(void *arg, const struct ctl_hist_room *r)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:f,s:I,s:i}", "room", r->room_id,
			      "room_name", r->room_name, "tenant", r->tenant, "meetings",
			      (json_int_t)r->meetings, "seconds", (json_int_t)r->seconds,
			      "minutes", (double)r->seconds / 60.0, "participants",
			      (json_int_t)r->attendances, "peak", r->peak);
	rep_counters(o, &r->sum);
	return json_array_append_new(arg, o) ? -ENOMEM : 0;
}

static void reports_rooms(struct api_req *rq, struct api_reply *rep)
{
	static const char *const allowed[] = { "tenant", "from", "to", "format", NULL };
	static const char *const cols[] = { "room", "room_name", "tenant", "meetings", "seconds",
					    "minutes", "participants", "peak", "rx_packets",
					    "rx_bytes", "tx_packets", "tx_bytes", "lost",
					    "loss_pct", "jitter_ms", NULL };
	const char *tenant;
	int64_t from, to;
	bool csv;
	if (rep_params_only(rq, allowed, rep) || rep_format(rq, &csv, rep) ||
	    rep_tenant(rq, &tenant, rep) || rep_range(rq, &from, &to, rep))
		return;
	json_t *rows = json_array();
	int rc = ctl_store_hist_rooms(rq->c->store, tenant, from, to, ctl_now(rq->c), rooms_row,
				      rows);
	if (rc) {
		json_decref(rows);
		api_error(rep, 500, "internal", "store: %s", strerror(-rc));
		return;
	}
	rep_send(csv, "rooms", cols, rows, NULL, rep);
}

void api_reports(struct api_req *rq, struct api_reply *rep)
{
	const char *sub = rq->nparts >= 2 ? rq->parts[1] : "";
	bool known = rq->nparts == 2 ? !strcmp(sub, "online") || !strcmp(sub, "meetings") ||
					       !strcmp(sub, "rooms") :
			rq->nparts == 3 && !strcmp(sub, "meetings");
	if (!known) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (rq->scope.kind == CTL_SCOPE_PARTICIPANT) {
		api_error(rep, 403, "forbidden", "reports are for operators and tenants");
		return;
	}
	if (rq->nparts == 3)
		reports_meeting(rq, rep);
	else if (!strcmp(sub, "online"))
		reports_online(rq, rep);
	else if (!strcmp(sub, "meetings"))
		reports_meetings(rq, rep);
	else
		reports_rooms(rq, rep);
}
