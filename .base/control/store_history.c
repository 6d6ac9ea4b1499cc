/* Meeting history in SQLite: meetings and attendances (one row per join),
 * kept after the rooms and participants they describe are gone; what the
 * reports (api_reports.c) read. */
#include "control/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The columns of a meeting row and the sums of its attendances, in the
 * order hist_meeting_row reads them. */
#define HIST_MEETING_COLS                                                                    \
	"m.seq, m.id, m.room_id, m.room_name, m.tenant, m.meeting, m.started_at, m.ended_at, " \
	"m.end_reason, m.peak, m.s0_ms, m.s0_rx_bytes, m.s0_tx_bytes, m.s1_ms, m.s1_rx_bytes, " \
	"m.s1_tx_bytes, count(a.seq), coalesce(sum(a.rx_packets),0), "                     \
	"coalesce(sum(a.rx_bytes),0), coalesce(sum(a.tx_packets),0), "                     \
	"coalesce(sum(a.tx_bytes),0), coalesce(sum(a.lost),0), coalesce(sum(a.expected),0), " \
	"coalesce(max(a.jitter_us),0) "                                                       \
	"FROM history_meetings m LEFT JOIN history_attendance a ON a.meeting_id=m.id "

static void hist_counters_row(sqlite3_stmt *st, int col, struct ctl_hist_counters *n)
{
	n->rx_packets = sqlite3_column_int64(st, col);
	n->rx_bytes = sqlite3_column_int64(st, col + 1);
	n->tx_packets = sqlite3_column_int64(st, col + 2);
	n->tx_bytes = sqlite3_column_int64(st, col + 3);
	n->lost = sqlite3_column_int64(st, col + 4);
	n->expected = sqlite3_column_int64(st, col + 5);
	n->jitter_us = sqlite3_column_int64(st, col + 6);
}

static void hist_meeting_row(sqlite3_stmt *st, struct ctl_hist_meeting *m)
{
	memset(m, 0, sizeof(*m));
	m->seq = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, m->id, sizeof(m->id));
	store_col_text(st, 2, m->room_id, sizeof(m->room_id));
	store_col_text(st, 3, m->room_name, sizeof(m->room_name));
	store_col_text(st, 4, m->tenant, sizeof(m->tenant));
	m->meeting = sqlite3_column_int64(st, 5);
	m->started_at = sqlite3_column_int64(st, 6);
	m->ended_at = sqlite3_column_int64(st, 7);
	store_col_text(st, 8, m->end_reason, sizeof(m->end_reason));
	m->peak = sqlite3_column_int(st, 9);
	m->s0_ms = sqlite3_column_int64(st, 10);
	m->s0_rx_bytes = sqlite3_column_int64(st, 11);
	m->s0_tx_bytes = sqlite3_column_int64(st, 12);
	m->s1_ms = sqlite3_column_int64(st, 13);
	m->s1_rx_bytes = sqlite3_column_int64(st, 14);
	m->s1_tx_bytes = sqlite3_column_int64(st, 15);
	m->attendances = sqlite3_column_int64(st, 16);
	hist_counters_row(st, 17, &m->sum);
}

int ctl_store_hist_meeting_insert(struct ctl_store *s, const struct ctl_hist_meeting *m)
{
	return store_do(s, NULL, "INSERT INTO history_meetings(id, room_id, room_name, tenant, "
				 "meeting, started_at, peak) VALUES(?,?,?,?,?,?,?)", "ssssiii",
			m->id, m->room_id, m->room_name, m->tenant, m->meeting, m->started_at,
			(int64_t)m->peak);
}

/* One meeting by a WHERE clause on m with one text argument. */
static int hist_meeting_one(struct ctl_store *s, const char *where, const char *arg,
			    struct ctl_hist_meeting *out)
{
	char sql[1024];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT " HIST_MEETING_COLS "WHERE %s GROUP BY m.seq", where);
	int rc = store_prepare(s, &st, sql, "s", arg);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		hist_meeting_row(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_hist_meeting_live(struct ctl_store *s, const char *room_id,
				struct ctl_hist_meeting *out)
{
	return hist_meeting_one(s, "m.room_id=? AND m.ended_at=0", room_id, out);
}

int ctl_store_hist_meeting_get(struct ctl_store *s, const char *id, struct ctl_hist_meeting *out)
{
	return hist_meeting_one(s, "m.id=?", id, out);
}

int ctl_store_hist_meeting_end(struct ctl_store *s, const char *id, int64_t ended_at,
			       const char *reason)
{
	/* A meeting that ended in the second it started still lasted. */
	return store_do_one(s, "UPDATE history_meetings SET ended_at=max(?, started_at), "
			       "end_reason=? WHERE id=? AND ended_at=0", "iss", ended_at, reason,
			    id);
}

int ctl_store_hist_meeting_peak(struct ctl_store *s, const char *id, int n)
{
	return store_do_one(s, "UPDATE history_meetings SET peak=max(peak, ?) WHERE id=?", "is",
			    (int64_t)n, id);
}

int ctl_store_hist_meeting_sample(struct ctl_store *s, const char *id, int64_t ms,
				  int64_t rx_bytes, int64_t tx_bytes)
{
	return store_do_one(s, "UPDATE history_meetings SET s0_ms=s1_ms, s0_rx_bytes=s1_rx_bytes, "
			       "s0_tx_bytes=s1_tx_bytes, s1_ms=?, s1_rx_bytes=?, s1_tx_bytes=? "
			       "WHERE id=?", "iiis", ms, rx_bytes, tx_bytes, id);
}

int ctl_store_hist_meeting_list(struct ctl_store *s, const struct ctl_hist_filter *f,
				ctl_hist_meeting_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(
		s, &st,
		"SELECT " HIST_MEETING_COLS
		"WHERE (?1 IS NULL OR m.tenant=?1) AND (?2 IS NULL OR m.room_id=?2) "
		"AND (?3 IS NULL OR EXISTS(SELECT 1 FROM history_attendance x "
		"WHERE x.meeting_id=m.id AND x.account=?3)) "
		"AND m.started_at >= ?4 AND (?5 = 0 OR m.started_at < ?5) "
		"AND (?6 = 0 OR m.started_at < ?7 OR (m.started_at = ?7 AND m.seq < ?8)) "
		"AND (?9 = 0 OR m.ended_at = 0) "
		"GROUP BY m.seq ORDER BY m.started_at DESC, m.seq DESC LIMIT ?10",
		"sssiiiiiii", f->tenant, f->room, f->account, f->from, f->to,
		(int64_t)f->has_after, f->after_started, f->after_seq, (int64_t)f->live_only,
		(int64_t)(f->limit > 0 ? f->limit : -1));
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_hist_meeting m;
		hist_meeting_row(st, &m);
		int r = fn(arg, &m);
		if (r) {
			sqlite3_finalize(st);
			return r;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

int ctl_store_hist_attend_insert(struct ctl_store *s, const struct ctl_hist_attendance *a)
{
	return store_do(s, NULL, "INSERT INTO history_attendance(meeting_id, participant, "
				 "display_name, account, role, joined_at) VALUES(?,?,?,?,?,?)",
			"sssssi", a->meeting_id, a->participant, a->display_name, a->account,
			a->role, a->joined_at);
}

int ctl_store_hist_attend_counters(struct ctl_store *s, const char *participant,
				   const struct ctl_hist_counters *n, int64_t at)
{
	return store_do(s, NULL, "UPDATE history_attendance SET rx_packets=max(rx_packets, ?), "
				 "rx_bytes=max(rx_bytes, ?), tx_packets=max(tx_packets, ?), "
				 "tx_bytes=max(tx_bytes, ?), lost=?, expected=max(expected, ?), "
				 "jitter_us=?, sampled_at=? WHERE participant=? AND left_at=0",
			"iiiiiiiis", n->rx_packets, n->rx_bytes, n->tx_packets, n->tx_bytes,
			n->lost, n->expected, n->jitter_us, at, participant);
}

int ctl_store_hist_attend_leave(struct ctl_store *s, const char *meeting_id,
				const char *participant, int64_t left_at, const char *how)
{
	return store_do(s, NULL, "UPDATE history_attendance SET left_at=max(?, joined_at), "
				 "how=? WHERE meeting_id=? AND (?4 IS NULL OR participant=?4) "
				 "AND left_at=0", "isss", left_at, how, meeting_id, participant);
}

int ctl_store_hist_attend_list(struct ctl_store *s, const char *meeting_id,
			       ctl_hist_attendance_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT participant, meeting_id, display_name, account, "
				       "role, joined_at, left_at, how, rx_packets, rx_bytes, "
				       "tx_packets, tx_bytes, lost, expected, jitter_us, "
				       "sampled_at FROM history_attendance WHERE meeting_id=? "
				       "ORDER BY seq", "s", meeting_id);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_hist_attendance a = { 0 };
		store_col_text(st, 0, a.participant, sizeof(a.participant));
		store_col_text(st, 1, a.meeting_id, sizeof(a.meeting_id));
		store_col_text(st, 2, a.display_name, sizeof(a.display_name));
		store_col_text(st, 3, a.account, sizeof(a.account));
		store_col_text(st, 4, a.role, sizeof(a.role));
		a.joined_at = sqlite3_column_int64(st, 5);
		a.left_at = sqlite3_column_int64(st, 6);
		store_col_text(st, 7, a.how, sizeof(a.how));
		hist_counters_row(st, 8, &a.n);
		a.sampled_at = sqlite3_column_int64(st, 15);
		int r = fn(arg, &a);
		if (r) {
			sqlite3_finalize(st);
			return r;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

int ctl_store_hist_rooms(struct ctl_store *s, const char *tenant, int64_t from, int64_t to,
			 int64_t now, ctl_hist_room_fn fn, void *arg)
{
	sqlite3_stmt *st;
	/* Per meeting first (its attendances summed), then per room, so that
	 * a meeting's duration counts once however many joined it. */
	int rc = store_prepare(
		s, &st,
		"WITH per AS (SELECT m.seq AS seq, m.room_id AS room_id, m.room_name AS room_name, "
		"m.tenant AS tenant, max((CASE WHEN m.ended_at=0 THEN ?4 ELSE m.ended_at END) "
		"- m.started_at, 0) AS secs, m.peak AS peak, count(a.seq) AS att, "
		"coalesce(sum(a.rx_packets),0) AS rxp, coalesce(sum(a.rx_bytes),0) AS rxb, "
		"coalesce(sum(a.tx_packets),0) AS txp, coalesce(sum(a.tx_bytes),0) AS txb, "
		"coalesce(sum(a.lost),0) AS lost, coalesce(sum(a.expected),0) AS exp, "
		"coalesce(max(a.jitter_us),0) AS jit "
		"FROM history_meetings m LEFT JOIN history_attendance a ON a.meeting_id=m.id "
		"WHERE (?1 IS NULL OR m.tenant=?1) AND m.started_at >= ?2 "
		"AND (?3 = 0 OR m.started_at < ?3) GROUP BY m.seq) "
		"SELECT room_id, (SELECT p2.room_name FROM per p2 WHERE p2.room_id=per.room_id "
		"ORDER BY p2.seq DESC LIMIT 1), tenant, count(*), sum(secs), sum(att), max(peak), "
		"sum(rxp), sum(rxb), sum(txp), sum(txb), sum(lost), sum(exp), max(jit) "
		"FROM per GROUP BY room_id, tenant ORDER BY tenant, room_id",
		"siii", tenant, from, to, now);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_hist_room r = { 0 };
		store_col_text(st, 0, r.room_id, sizeof(r.room_id));
		store_col_text(st, 1, r.room_name, sizeof(r.room_name));
		store_col_text(st, 2, r.tenant, sizeof(r.tenant));
		r.meetings = sqlite3_column_int64(st, 3);
		r.seconds = sqlite3_column_int64(st, 4);
		r.attendances = sqlite3_column_int64(st, 5);
		r.peak = sqlite3_column_int(st, 6);
		hist_counters_row(st, 7, &r.sum);
		int x = fn(arg, &r);
		if (x) {
			sqlite3_finalize(st);
			return x;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}
