/* The SQLite implementation of control/store.h: one connection, WAL,
 * foreign keys on, busy timeout; explicit transactions from the caller. */
#include "control/store_internal.h"
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Schema version 5 (PRAGMA user_version). Version 1 databases (no meetings,
 * mute/hand state, screen SSRC, events, subscriptions, blocks, secrets),
 * version 2 ones (no last-N of rooms, no simulcast/RTX/codec of streams, no
 * max_layer/rtx_pt of participants) and version 3 ones (no browsers: the
 * webrtc column, offers, offer_mids) and version 4 ones (no meeting start
 * of rooms, no account of participants; no tenants, contracts, history or
 * webhooks) are upgraded in place by store_migrate
 * (new tables come from CREATE TABLE IF NOT EXISTS). */
#define STORE_SCHEMA_VERSION 5

static const char STORE_SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('generation', 0);"
	"CREATE TABLE IF NOT EXISTS secrets(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS rooms("
	" id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL,"
	" capacity INTEGER NOT NULL CHECK(capacity BETWEEN 1 AND 100),"
	" kind TEXT NOT NULL CHECK(kind IN ('adhoc','fixed')), created_at INTEGER NOT NULL,"
	" meeting INTEGER NOT NULL DEFAULT 1, last_n INTEGER NOT NULL DEFAULT 3,"
	" video_last_n INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS participants("
	" id TEXT PRIMARY KEY, room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
	" display_name TEXT NOT NULL, role TEXT NOT NULL, remote_addr TEXT NOT NULL,"
	" remote_port INTEGER NOT NULL, local_port INTEGER NOT NULL UNIQUE,"
	" ssrc_audio INTEGER NOT NULL, ssrc_video INTEGER NOT NULL,"
	" srtp_profile TEXT NOT NULL, key_in TEXT NOT NULL, key_out TEXT NOT NULL,"
	" joined_at INTEGER NOT NULL, ssrc_screen INTEGER NOT NULL DEFAULT -1,"
	" audio_muted INTEGER NOT NULL DEFAULT 0, video_muted INTEGER NOT NULL DEFAULT 0,"
	" unmute_requested INTEGER NOT NULL DEFAULT 0, hand_raised_at INTEGER NOT NULL DEFAULT 0,"
	" media TEXT NOT NULL DEFAULT '', max_layer INTEGER NOT NULL DEFAULT 2,"
	" rtx_pt INTEGER NOT NULL DEFAULT 0, webrtc TEXT NOT NULL DEFAULT '',"
	" account TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS participants_room ON participants(room_id);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS events("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL,"
	" meeting INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,"
	" party_a TEXT, party_b TEXT, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_room ON events(room_id, meeting, seq);"
	"CREATE TABLE IF NOT EXISTS subscriptions("
	" participant TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,"
	" publisher TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL, max_height INTEGER NOT NULL,"
	" PRIMARY KEY(participant, publisher, kind));"
	"CREATE INDEX IF NOT EXISTS subscriptions_publisher ON subscriptions(publisher);"
	"CREATE TABLE IF NOT EXISTS blocks("
	" id TEXT PRIMARY KEY, remote_addr TEXT NOT NULL, remote_port INTEGER NOT NULL,"
	" local_addr TEXT NOT NULL, local_port INTEGER NOT NULL, reason TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL);"
	/* A browser participant's current offer, and the sendonly m-lines it
	 * ever had (mid -> the publisher's stream; mids are never reused). */
	"CREATE TABLE IF NOT EXISTS offers("
	" participant TEXT PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE,"
	" version INTEGER NOT NULL, answered INTEGER NOT NULL, session_id INTEGER NOT NULL,"
	" next_mid INTEGER NOT NULL, sdp TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS offer_mids("
	" participant TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,"
	" mid INTEGER NOT NULL, publisher TEXT NOT NULL, kind TEXT NOT NULL,"
	" ssrc INTEGER NOT NULL, rtx_ssrc INTEGER NOT NULL, active INTEGER NOT NULL,"
	" PRIMARY KEY(participant, mid));"
	"CREATE TABLE IF NOT EXISTS bans("
	" id TEXT PRIMARY KEY, prefix TEXT NOT NULL UNIQUE, reason TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL);"
	/* Webhooks and their outbox (control/webhook.c): a delivery row is
	 * written in the transaction of the change it tells of. tenant "":
	 * the operator's webhook (every tenant's events); secret sealed. */
	"CREATE TABLE IF NOT EXISTS webhooks("
	" id TEXT PRIMARY KEY, tenant TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL,"
	" secret TEXT NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS webhook_deliveries("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" event_id TEXT NOT NULL,"
	" webhook TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
	" type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL, last_status INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '', done_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS webhook_deliveries_pending"
	" ON webhook_deliveries(webhook, status, seq);"
	/* Meeting history (store_history.c): one row per meeting (ended_at 0
	 * while live; seq orders meetings that started in the same second),
	 * one per participant's join, with mmdp's counters as last sampled. */
	"CREATE TABLE IF NOT EXISTS history_meetings("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" room_id TEXT NOT NULL, room_name TEXT NOT NULL, tenant TEXT NOT NULL,"
	" meeting INTEGER NOT NULL, started_at INTEGER NOT NULL,"
	" ended_at INTEGER NOT NULL DEFAULT 0, end_reason TEXT NOT NULL DEFAULT '',"
	" peak INTEGER NOT NULL DEFAULT 0,"
	" s0_ms INTEGER NOT NULL DEFAULT 0, s0_rx_bytes INTEGER NOT NULL DEFAULT 0,"
	" s0_tx_bytes INTEGER NOT NULL DEFAULT 0, s1_ms INTEGER NOT NULL DEFAULT 0,"
	" s1_rx_bytes INTEGER NOT NULL DEFAULT 0, s1_tx_bytes INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS history_meetings_live ON history_meetings(room_id, ended_at);"
	"CREATE INDEX IF NOT EXISTS history_meetings_start ON history_meetings(started_at, seq);"
	"CREATE TABLE IF NOT EXISTS history_attendance("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, meeting_id TEXT NOT NULL,"
	" participant TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, account TEXT NOT NULL,"
	" role TEXT NOT NULL, joined_at INTEGER NOT NULL, left_at INTEGER NOT NULL DEFAULT 0,"
	" how TEXT NOT NULL DEFAULT '',"
	" rx_packets INTEGER NOT NULL DEFAULT 0, rx_bytes INTEGER NOT NULL DEFAULT 0,"
	" tx_packets INTEGER NOT NULL DEFAULT 0, tx_bytes INTEGER NOT NULL DEFAULT 0,"
	" lost INTEGER NOT NULL DEFAULT 0, expected INTEGER NOT NULL DEFAULT 0,"
	" jitter_us INTEGER NOT NULL DEFAULT 0, sampled_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS history_attendance_meeting ON history_attendance(meeting_id);"
	"CREATE INDEX IF NOT EXISTS history_attendance_account ON history_attendance(account);"
	/* Tenants (issue 9 items 1-3, store_tenants.c): units, accounts, the
	 * contract, fixed rooms' access lists and tenant-level events. */
	"CREATE TABLE IF NOT EXISTS tenants("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, join_secret BLOB NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS units("
	" id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE(tenant, name));"
	"CREATE TABLE IF NOT EXISTS accounts("
	" id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	" unit TEXT REFERENCES units(id) ON DELETE SET NULL, name TEXT NOT NULL,"
	" email TEXT NOT NULL, role TEXT NOT NULL CHECK(role IN ('admin','user')),"
	" created_at INTEGER NOT NULL, UNIQUE(tenant, email));"
	"CREATE INDEX IF NOT EXISTS accounts_unit ON accounts(unit);"
	"CREATE TABLE IF NOT EXISTS contracts("
	" tenant TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,"
	" plan TEXT NOT NULL CHECK(plan IN ('trial','subscription')),"
	" trial_until INTEGER NOT NULL, rooms INTEGER NOT NULL, term_months INTEGER NOT NULL,"
	" starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK(status IN ('active','cancelled','expired')),"
	" cancel_at INTEGER NOT NULL DEFAULT 0, expiring_notified_at INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS room_access("
	" room TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK(kind IN ('unit','account')), ref TEXT NOT NULL,"
	" PRIMARY KEY(room, kind, ref));"
	"CREATE INDEX IF NOT EXISTS room_access_ref ON room_access(kind, ref);"
	"CREATE TABLE IF NOT EXISTS tenant_events("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	" type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS tenant_events_tenant ON tenant_events(tenant, seq);";

/* Columns later versions added to version 1 tables (2: meetings, screen,
 * mute and hand state; 3: last-N, rich streams). Adding is idempotent:
 * a column already there is skipped. */
static const char *const STORE_ADDED_COLUMNS[][2] = {
	{ "rooms", "meeting INTEGER NOT NULL DEFAULT 1" },
	{ "participants", "ssrc_screen INTEGER NOT NULL DEFAULT -1" },
	{ "participants", "audio_muted INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "video_muted INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "unmute_requested INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "hand_raised_at INTEGER NOT NULL DEFAULT 0" },
	{ "rooms", "last_n INTEGER NOT NULL DEFAULT 3" },
	{ "rooms", "video_last_n INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "media TEXT NOT NULL DEFAULT ''" },
	{ "participants", "max_layer INTEGER NOT NULL DEFAULT 2" },
	{ "participants", "rtx_pt INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "webrtc TEXT NOT NULL DEFAULT ''" },
	{ "rooms", "started_at INTEGER NOT NULL DEFAULT 0" },
	{ "participants", "account TEXT NOT NULL DEFAULT ''" },
};

/* SQLITE_FULL seen by this thread (see ctl_store_full_count). Per thread:
 * the API thread compares it around one request while the ticker and the
 * webhook thread write too. */
static _Thread_local unsigned store_full_seen;

unsigned ctl_store_full_count(void)
{
	return store_full_seen;
}

int store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		store_full_seen++;
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/* store_err for a failure on db: an I/O error whose cause was ENOSPC (the
 * WAL index of a new database on a full disk: SQLITE_IOERR_SHMSIZE) is a
 * full disk too. */
static int store_err_db(sqlite3 *db, int rc)
{
	if ((rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC)
		rc = SQLITE_FULL;
	return store_err(rc);
}

int store_exec(struct ctl_store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		mm_err("sqlite_error", "error=%s", mm_q(msg ? msg : sqlite3_errstr(rc)));
		sqlite3_free(msg);
	}
	return store_err_db(s->db, rc);
}

static int store_vprepare(struct ctl_store *s, sqlite3_stmt **st, const char *sql,
			  const char *fmt, va_list ap)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		mm_err("sqlite_prepare_failed", "error=%s", mm_q(sqlite3_errmsg(s->db)));
		return store_err(rc);
	}
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		if (fmt[i] == 's') {
			const char *t = va_arg(ap, const char *);
			rc = t ? sqlite3_bind_text(*st, i + 1, t, -1, SQLITE_TRANSIENT) :
				 sqlite3_bind_null(*st, i + 1);
		} else {
			rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t));
		}
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return store_err(rc);
	}
	return 0;
}

int store_prepare(struct ctl_store *s, sqlite3_stmt **st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = store_vprepare(s, st, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int store_do(struct ctl_store *s, int *changes, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, fmt);
	int rc = store_vprepare(s, &st, sql, fmt, ap);
	va_end(ap);
	return rc ? rc : store_run(st, changes);
}

int store_do_one(struct ctl_store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	int changes = 0;
	va_list ap;
	va_start(ap, fmt);
	int rc = store_vprepare(s, &st, sql, fmt, ap);
	va_end(ap);
	if (!rc)
		rc = store_run(st, &changes);
	return rc ? rc : changes ? 0 : -ENOENT;
}

int store_run(sqlite3_stmt *st, int *changes)
{
	int rc = sqlite3_step(st);
	sqlite3 *db = sqlite3_db_handle(st);
	if (changes)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err_db(db, rc);
}

void store_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static int store_user_version(struct ctl_store *s, int *v)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "PRAGMA user_version", "");
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

static bool store_has_column(struct ctl_store *s, const char *table, const char *col)
{
	sqlite3_stmt *st;
	char sql[128];
	bool found = false;
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (store_prepare(s, &st, sql, ""))
		return false;
	while (!found && sqlite3_step(st) == SQLITE_ROW)
		found = !strcmp((const char *)sqlite3_column_text(st, 1), col);
	sqlite3_finalize(st);
	return found;
}

/* Bring an older database to STORE_SCHEMA_VERSION, in one transaction. */
static int store_migrate(struct ctl_store *s)
{
	int v, rc = store_user_version(s, &v);
	if (rc || v >= STORE_SCHEMA_VERSION)
		return rc;
	if ((rc = store_exec(s, "BEGIN IMMEDIATE")))
		return rc;
	const size_t n = sizeof(STORE_ADDED_COLUMNS) / sizeof(STORE_ADDED_COLUMNS[0]);
	for (size_t i = 0; !rc && i < n; i++) {
		char col[64], sql[256];
		sscanf(STORE_ADDED_COLUMNS[i][1], "%63s", col);
		if (store_has_column(s, STORE_ADDED_COLUMNS[i][0], col))
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s", STORE_ADDED_COLUMNS[i][0],
			 STORE_ADDED_COLUMNS[i][1]);
		rc = store_exec(s, sql);
	}
	if (!rc) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
		rc = store_exec(s, sql);
	}
	if (!rc)
		rc = store_exec(s, "COMMIT");
	if (rc)
		ctl_store_rollback(s);
	return rc;
}

int ctl_store_open(const char *path, struct ctl_store **out)
{
	struct ctl_store *s = calloc(1, sizeof(*s));
	int rc;
	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		mm_err("sqlite_open_failed", "db=%s error=%s", mm_q(path),
		       mm_q(s->db ? sqlite3_errmsg(s->db) : "no memory"));
		rc = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* synchronous=FULL: COMMIT returns after the WAL is fsynced, so a
	 * change is on disk before its 2xx goes out and survives a crash of
	 * the machine, not only of mmctld (NORMAL syncs only at checkpoints:
	 * the last commits could be lost with the power). */
	rc = store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			   "PRAGMA synchronous=FULL;");
	if (rc)
		goto fail;
	rc = store_exec(s, STORE_SCHEMA);
	if (!rc)
		rc = store_migrate(s);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return rc;
}

void ctl_store_close(struct ctl_store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	explicit_bzero(s->seal_key, sizeof(s->seal_key));
	free(s);
}

int ctl_store_begin(struct ctl_store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE");
}

int ctl_store_commit(struct ctl_store *s)
{
	return store_exec(s, "COMMIT");
}

void ctl_store_rollback(struct ctl_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK");
}

int ctl_store_generation_get(struct ctl_store *s, uint64_t *gen)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT value FROM meta WHERE key='generation'", "");
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int ctl_store_generation_raise(struct ctl_store *s, uint64_t gen)
{
	return store_do(s, NULL, "UPDATE meta SET value = max(value, ?) WHERE key='generation'", "i",
			(int64_t)gen);
}

int ctl_store_generation_bump(struct ctl_store *s, uint64_t at_least, uint64_t *gen)
{
	int rc = store_do(s, NULL,
			  "UPDATE meta SET value = MAX(value, ?) + 1 WHERE key='generation'", "i",
			  (int64_t)(at_least > INT64_MAX ? INT64_MAX : at_least));
	return rc ? rc : ctl_store_generation_get(s, gen);
}


int ctl_store_secret(struct ctl_store *s, const char *name, uint8_t *out, size_t n)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT value FROM secrets WHERE name=?", "s", name);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == n) {
		memcpy(out, sqlite3_column_blob(st, 0), n);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(rc);
	/* First use: make it. The caller's transaction (if any) holds it. */
	if (getrandom(out, n, 0) != (ssize_t)n)
		return -EIO;
	rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO secrets(name, value) VALUES(?,?)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_err(rc);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, out, (int)n, SQLITE_TRANSIENT);
	return store_run(st, NULL);
}
