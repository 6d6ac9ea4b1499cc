/* The SQLite implementation of control/store.h: one connection, WAL,
 * foreign keys on, busy timeout; explicit transactions from the caller. */
#include "control/store.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_store {
	sqlite3 *db;
};

static const char STORE_SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('generation', 0);"
	"CREATE TABLE IF NOT EXISTS rooms("
	" id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL,"
	" capacity INTEGER NOT NULL CHECK(capacity BETWEEN 1 AND 100),"
	" kind TEXT NOT NULL CHECK(kind IN ('adhoc','fixed')), created_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS participants("
	" id TEXT PRIMARY KEY, room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
	" display_name TEXT NOT NULL, role TEXT NOT NULL, remote_addr TEXT NOT NULL,"
	" remote_port INTEGER NOT NULL, local_port INTEGER NOT NULL UNIQUE,"
	" ssrc_audio INTEGER NOT NULL, ssrc_video INTEGER NOT NULL,"
	" srtp_profile TEXT NOT NULL, key_in TEXT NOT NULL, key_out TEXT NOT NULL,"
	" joined_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS participants_room ON participants(room_id);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);";

static int store_err(int rc)
{
	switch (rc) {
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
	default:
		return -EIO;
	}
}

static int store_exec(struct ctl_store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "mmctld: sqlite: %s\n", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return store_err(rc);
}

/* Prepare sql and bind the text/integer arguments described by fmt
 * ('s' text, 'i' int64). */
static int store_prepare(struct ctl_store *s, sqlite3_stmt **st, const char *sql,
			 const char *fmt, ...)
{
	va_list ap;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "mmctld: sqlite prepare: %s\n", sqlite3_errmsg(s->db));
		return store_err(rc);
	}
	va_start(ap, fmt);
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		if (fmt[i] == 's')
			rc = sqlite3_bind_text(*st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return store_err(rc);
	}
	return 0;
}

/* Step a statement that returns no rows, finalize it. */
static int store_run(sqlite3_stmt *st, int *changes)
{
	int rc = sqlite3_step(st);
	if (changes)
		*changes = sqlite3_changes(sqlite3_db_handle(st));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

static void store_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int ctl_store_open(const char *path, struct ctl_store **out)
{
	struct ctl_store *s = calloc(1, sizeof(*s));
	int rc;
	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		fprintf(stderr, "mmctld: %s: %s\n", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
		rc = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			   "PRAGMA synchronous=NORMAL;");
	if (rc)
		goto fail;
	rc = store_exec(s, STORE_SCHEMA);
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

int ctl_store_generation_bump(struct ctl_store *s, uint64_t *gen)
{
	int rc = store_exec(s, "UPDATE meta SET value = value + 1 WHERE key='generation'");
	return rc ? rc : ctl_store_generation_get(s, gen);
}

static void store_row_room(sqlite3_stmt *st, struct ctl_room *r)
{
	store_col_text(st, 0, r->id, sizeof(r->id));
	store_col_text(st, 1, r->tenant, sizeof(r->tenant));
	store_col_text(st, 2, r->name, sizeof(r->name));
	r->capacity = sqlite3_column_int(st, 3);
	store_col_text(st, 4, r->kind, sizeof(r->kind));
	r->created_at = sqlite3_column_int64(st, 5);
}

#define ROOM_COLS "id, tenant, name, capacity, kind, created_at"

int ctl_store_room_insert(struct ctl_store *s, const struct ctl_room *r)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "INSERT INTO rooms(" ROOM_COLS ") VALUES(?,?,?,?,?,?)",
			       "sssisi", r->id, r->tenant, r->name, (int64_t)r->capacity,
			       r->kind, r->created_at);
	return rc ? rc : store_run(st, NULL);
}

int ctl_store_room_get(struct ctl_store *s, const char *id, struct ctl_room *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_row_room(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_room_list(struct ctl_store *s, const char *tenant, ctl_room_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = tenant ?
		store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms WHERE tenant=? "
				      "ORDER BY created_at, id", "s", tenant) :
		store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms ORDER BY created_at, id", "");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_room r;
		store_row_room(st, &r);
		int frc = fn(arg, &r);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_room_delete(struct ctl_store *s, const char *id)
{
	sqlite3_stmt *st;
	int changes = 0;
	int rc = store_prepare(s, &st, "DELETE FROM rooms WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = store_run(st, &changes);
	return rc ? rc : changes ? 0 : -ENOENT;
}

#define PART_COLS "id, room_id, display_name, role, remote_addr, remote_port, local_port, " \
	"ssrc_audio, ssrc_video, srtp_profile, key_in, key_out, joined_at"

static void store_row_participant(sqlite3_stmt *st, struct ctl_participant *p)
{
	store_col_text(st, 0, p->id, sizeof(p->id));
	store_col_text(st, 1, p->room_id, sizeof(p->room_id));
	store_col_text(st, 2, p->display_name, sizeof(p->display_name));
	store_col_text(st, 3, p->role, sizeof(p->role));
	store_col_text(st, 4, p->remote_addr, sizeof(p->remote_addr));
	p->remote_port = sqlite3_column_int(st, 5);
	p->local_port = sqlite3_column_int(st, 6);
	p->ssrc_audio = sqlite3_column_int64(st, 7);
	p->ssrc_video = sqlite3_column_int64(st, 8);
	store_col_text(st, 9, p->srtp_profile, sizeof(p->srtp_profile));
	store_col_text(st, 10, p->key_in, sizeof(p->key_in));
	store_col_text(st, 11, p->key_out, sizeof(p->key_out));
	p->joined_at = sqlite3_column_int64(st, 12);
}

int ctl_store_participant_insert(struct ctl_store *s, const struct ctl_participant *p)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "INSERT INTO participants(" PART_COLS ") "
				       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", "sssssiiiisssi",
			       p->id, p->room_id, p->display_name, p->role, p->remote_addr,
			       (int64_t)p->remote_port, (int64_t)p->local_port, p->ssrc_audio,
			       p->ssrc_video, p->srtp_profile, p->key_in, p->key_out, p->joined_at);
	return rc ? rc : store_run(st, NULL);
}

int ctl_store_participant_get(struct ctl_store *s, const char *id, struct ctl_participant *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " PART_COLS " FROM participants WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_row_participant(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_participant_delete(struct ctl_store *s, const char *id)
{
	sqlite3_stmt *st;
	int changes = 0;
	int rc = store_prepare(s, &st, "DELETE FROM participants WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = store_run(st, &changes);
	return rc ? rc : changes ? 0 : -ENOENT;
}

int ctl_store_participant_count(struct ctl_store *s, const char *room_id, int *n)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT count(*) FROM participants WHERE room_id=?",
			       "s", room_id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

int ctl_store_participant_list(struct ctl_store *s, const char *room_id,
			       ctl_participant_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = room_id ?
		store_prepare(s, &st, "SELECT " PART_COLS " FROM participants WHERE room_id=? "
				      "ORDER BY joined_at, id", "s", room_id) :
		store_prepare(s, &st, "SELECT " PART_COLS " FROM participants "
				      "ORDER BY room_id, joined_at, id", "");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_participant p;
		store_row_participant(st, &p);
		int frc = fn(arg, &p);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_port_free(struct ctl_store *s, int lo, int hi, int *port)
{
	sqlite3_stmt *st;
	/* Walk the held ports in order; the first gap is the answer. */
	int rc = store_prepare(s, &st, "SELECT local_port FROM participants WHERE local_port "
				       "BETWEEN ? AND ? ORDER BY local_port", "ii",
			       (int64_t)lo, (int64_t)hi);
	if (rc)
		return rc;
	int next = lo;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int used = sqlite3_column_int(st, 0);
		if (used > next)
			break;
		next = used + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(rc);
	if (next > hi)
		return -ENOSPC;
	*port = next;
	return 0;
}

int ctl_store_token_insert(struct ctl_store *s, const struct ctl_token *t)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "INSERT INTO tokens(id, hash, scope, expires_at, revoked) "
				       "VALUES(?,?,?,?,?)", "sssii", t->id, t->hash, t->scope,
			       t->expires_at, (int64_t)t->revoked);
	return rc ? rc : store_run(st, NULL);
}

int ctl_store_token_by_hash(struct ctl_store *s, const char *hash, struct ctl_token *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT id, hash, scope, expires_at, revoked FROM tokens "
				       "WHERE hash=?", "s", hash);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_col_text(st, 0, out->id, sizeof(out->id));
		store_col_text(st, 1, out->hash, sizeof(out->hash));
		store_col_text(st, 2, out->scope, sizeof(out->scope));
		out->expires_at = sqlite3_column_int64(st, 3);
		out->revoked = sqlite3_column_int(st, 4) != 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_token_revoke(struct ctl_store *s, const char *id)
{
	sqlite3_stmt *st;
	int changes = 0;
	int rc = store_prepare(s, &st, "UPDATE tokens SET revoked=1 WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = store_run(st, &changes);
	return rc ? rc : changes ? 0 : -ENOENT;
}

int ctl_store_token_revoke_scope(struct ctl_store *s, const char *scope)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "UPDATE tokens SET revoked=1 WHERE scope=?", "s", scope);
	return rc ? rc : store_run(st, NULL);
}

int ctl_store_token_revoke_prefix(struct ctl_store *s, const char *prefix)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "UPDATE tokens SET revoked=1 WHERE substr(scope, 1, ?)=?",
			       "is", (int64_t)strlen(prefix), prefix);
	return rc ? rc : store_run(st, NULL);
}
