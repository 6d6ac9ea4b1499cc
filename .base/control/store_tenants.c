/* Tenants, units, accounts, contracts, fixed rooms' access lists and
 * tenant-level events in SQLite (store.h, issue 9 items 1-3). */
#include "control/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step every row of st through row(st, arg) (which calls the caller's fn):
 * stops at the first non-zero return and gives it. Finalizes st. */
static int store_each(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *fn, void *arg),
		      void *fn, void *arg)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc = row(st, fn, arg);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

/* Run st for exactly one row into out through fill: -ENOENT when none. */
static int store_one(sqlite3_stmt *st, void (*fill)(sqlite3_stmt *st, void *out), void *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

/* ---- tenants ---- */

#define TENANT_COLS "id, name, join_secret, created_at"

static void tenant_fill(sqlite3_stmt *st, void *out)
{
	struct ctl_tenant *t = out;
	memset(t, 0, sizeof(*t));
	store_col_text(st, 0, t->id, sizeof(t->id));
	store_col_text(st, 1, t->name, sizeof(t->name));
	int n = sqlite3_column_bytes(st, 2);
	const void *b = sqlite3_column_blob(st, 2);
	if (b && n == CTL_JOIN_SECRET_LEN)
		memcpy(t->join_secret, b, CTL_JOIN_SECRET_LEN);
	t->created_at = sqlite3_column_int64(st, 3);
}

int ctl_store_tenant_insert(struct ctl_store *s, const struct ctl_tenant *t)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "INSERT INTO tenants(" TENANT_COLS ") VALUES(?,?,?,?)",
			       "ss", t->id, t->name);
	if (rc)
		return rc;
	if (sqlite3_bind_blob(st, 3, t->join_secret, CTL_JOIN_SECRET_LEN, SQLITE_TRANSIENT) ||
	    sqlite3_bind_int64(st, 4, t->created_at)) {
		sqlite3_finalize(st);
		return -EIO;
	}
	return store_run(st, NULL);
}

int ctl_store_tenant_get(struct ctl_store *s, const char *id, struct ctl_tenant *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " TENANT_COLS " FROM tenants WHERE id=?", "s", id);
	return rc ? rc : store_one(st, tenant_fill, out);
}

int ctl_store_tenant_update(struct ctl_store *s, const struct ctl_tenant *t)
{
	return store_do_one(s, "UPDATE tenants SET name=? WHERE id=?", "ss", t->name, t->id);
}

int ctl_store_tenant_delete(struct ctl_store *s, const char *id)
{
	/* room_access rows naming its units and accounts go with its rooms
	 * (the caller deletes them); rows in other tenants' rooms cannot name
	 * them (the API refuses), but clear any to leave nothing dangling. */
	int rc = store_do(s, NULL, "DELETE FROM room_access WHERE (kind='unit' AND ref IN "
				   "(SELECT id FROM units WHERE tenant=?)) OR (kind='account' AND "
				   "ref IN (SELECT id FROM accounts WHERE tenant=?))", "ss", id, id);
	return rc ? rc : store_do_one(s, "DELETE FROM tenants WHERE id=?", "s", id);
}

static int tenant_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct ctl_tenant t;
	tenant_fill(st, &t);
	return ((ctl_tenant_fn)fn)(arg, &t);
}

int ctl_store_tenant_list(struct ctl_store *s, ctl_tenant_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " TENANT_COLS " FROM tenants ORDER BY id", "");
	return rc ? rc : store_each(st, tenant_row, (void *)fn, arg);
}

/* ---- units ---- */

#define UNIT_COLS "id, tenant, name, created_at"

static void unit_fill(sqlite3_stmt *st, void *out)
{
	struct ctl_unit *u = out;
	store_col_text(st, 0, u->id, sizeof(u->id));
	store_col_text(st, 1, u->tenant, sizeof(u->tenant));
	store_col_text(st, 2, u->name, sizeof(u->name));
	u->created_at = sqlite3_column_int64(st, 3);
}

int ctl_store_unit_insert(struct ctl_store *s, const struct ctl_unit *u)
{
	return store_do(s, NULL, "INSERT INTO units(" UNIT_COLS ") VALUES(?,?,?,?)", "sssi",
			u->id, u->tenant, u->name, u->created_at);
}

int ctl_store_unit_get(struct ctl_store *s, const char *id, struct ctl_unit *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " UNIT_COLS " FROM units WHERE id=?", "s", id);
	return rc ? rc : store_one(st, unit_fill, out);
}

int ctl_store_unit_update(struct ctl_store *s, const struct ctl_unit *u)
{
	return store_do_one(s, "UPDATE units SET name=? WHERE id=?", "ss", u->name, u->id);
}

int ctl_store_unit_delete(struct ctl_store *s, const char *id)
{
	/* accounts.unit goes NULL by its foreign key; access rows are by
	 * value (kind, ref), so they go here. */
	int rc = store_do(s, NULL, "DELETE FROM room_access WHERE kind='unit' AND ref=?", "s", id);
	return rc ? rc : store_do_one(s, "DELETE FROM units WHERE id=?", "s", id);
}

static int unit_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct ctl_unit u;
	unit_fill(st, &u);
	return ((ctl_unit_fn)fn)(arg, &u);
}

int ctl_store_unit_list(struct ctl_store *s, const char *tenant, ctl_unit_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " UNIT_COLS " FROM units WHERE tenant=? "
				       "ORDER BY created_at, id", "s", tenant);
	return rc ? rc : store_each(st, unit_row, (void *)fn, arg);
}

/* ---- accounts ---- */

#define ACCOUNT_COLS "id, tenant, unit, name, email, role, created_at"

static void account_fill(sqlite3_stmt *st, void *out)
{
	struct ctl_account *a = out;
	store_col_text(st, 0, a->id, sizeof(a->id));
	store_col_text(st, 1, a->tenant, sizeof(a->tenant));
	store_col_text(st, 2, a->unit, sizeof(a->unit));
	store_col_text(st, 3, a->name, sizeof(a->name));
	store_col_text(st, 4, a->email, sizeof(a->email));
	store_col_text(st, 5, a->role, sizeof(a->role));
	a->created_at = sqlite3_column_int64(st, 6);
}

int ctl_store_account_insert(struct ctl_store *s, const struct ctl_account *a)
{
	return store_do(s, NULL, "INSERT INTO accounts(" ACCOUNT_COLS ") VALUES(?,?,?,?,?,?,?)",
			"ssssssi", a->id, a->tenant, a->unit[0] ? a->unit : NULL, a->name,
			a->email, a->role, a->created_at);
}

int ctl_store_account_get(struct ctl_store *s, const char *id, struct ctl_account *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id=?", "s", id);
	return rc ? rc : store_one(st, account_fill, out);
}

int ctl_store_account_update(struct ctl_store *s, const struct ctl_account *a)
{
	return store_do_one(s, "UPDATE accounts SET unit=?, name=?, email=?, role=? WHERE id=?",
			    "sssss", a->unit[0] ? a->unit : NULL, a->name, a->email, a->role,
			    a->id);
}

int ctl_store_account_delete(struct ctl_store *s, const char *id)
{
	int rc = store_do(s, NULL, "DELETE FROM room_access WHERE kind='account' AND ref=?", "s",
			  id);
	return rc ? rc : store_do_one(s, "DELETE FROM accounts WHERE id=?", "s", id);
}

static int account_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct ctl_account a;
	account_fill(st, &a);
	return ((ctl_account_fn)fn)(arg, &a);
}

int ctl_store_account_list(struct ctl_store *s, const char *tenant, const char *unit,
			   ctl_account_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = unit ?
		store_prepare(s, &st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE tenant=? AND "
				      "unit=? ORDER BY created_at, id", "ss", tenant, unit) :
		store_prepare(s, &st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE tenant=? "
				      "ORDER BY created_at, id", "s", tenant);
	return rc ? rc : store_each(st, account_row, (void *)fn, arg);
}

static int store_count(struct ctl_store *s, int *n, const char *sql, const char *a)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, sql, "s", a);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

int ctl_store_account_admins(struct ctl_store *s, const char *tenant, int *n)
{
	return store_count(s, n, "SELECT count(*) FROM accounts WHERE tenant=? AND role='admin'",
			   tenant);
}

/* ---- contracts ---- */

#define CONTRACT_COLS "tenant, plan, trial_until, rooms, term_months, starts_at, ends_at, " \
	"status, cancel_at, expiring_notified_at, updated_at"

static void contract_fill(sqlite3_stmt *st, void *out)
{
	struct ctl_contract *k = out;
	store_col_text(st, 0, k->tenant, sizeof(k->tenant));
	store_col_text(st, 1, k->plan, sizeof(k->plan));
	k->trial_until = sqlite3_column_int64(st, 2);
	k->rooms = sqlite3_column_int(st, 3);
	k->term_months = sqlite3_column_int(st, 4);
	k->starts_at = sqlite3_column_int64(st, 5);
	k->ends_at = sqlite3_column_int64(st, 6);
	store_col_text(st, 7, k->status, sizeof(k->status));
	k->cancel_at = sqlite3_column_int64(st, 8);
	k->expiring_notified_at = sqlite3_column_int64(st, 9);
	k->updated_at = sqlite3_column_int64(st, 10);
}

int ctl_store_contract_put(struct ctl_store *s, const struct ctl_contract *k)
{
	return store_do(s, NULL, "INSERT OR REPLACE INTO contracts(" CONTRACT_COLS ") "
				 "VALUES(?,?,?,?,?,?,?,?,?,?,?)", "ssiiiiisiii", k->tenant, k->plan,
			k->trial_until, (int64_t)k->rooms, (int64_t)k->term_months, k->starts_at,
			k->ends_at, k->status, k->cancel_at, k->expiring_notified_at,
			k->updated_at);
}

int ctl_store_contract_get(struct ctl_store *s, const char *tenant, struct ctl_contract *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " CONTRACT_COLS " FROM contracts WHERE tenant=?",
			       "s", tenant);
	return rc ? rc : store_one(st, contract_fill, out);
}

static int contract_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct ctl_contract k;
	contract_fill(st, &k);
	return ((ctl_contract_fn)fn)(arg, &k);
}

int ctl_store_contract_list(struct ctl_store *s, ctl_contract_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " CONTRACT_COLS " FROM contracts ORDER BY tenant",
			       "");
	return rc ? rc : store_each(st, contract_row, (void *)fn, arg);
}

int ctl_store_tenant_live_meetings(struct ctl_store *s, const char *tenant, int *n)
{
	return store_count(s, n, "SELECT count(*) FROM rooms WHERE tenant=? AND started_at > 0",
			   tenant);
}

/* ---- fixed rooms' access ---- */

int ctl_store_room_access_set(struct ctl_store *s, const char *room, const char *const *units,
			      size_t nunits, const char *const *accounts, size_t naccounts)
{
	int rc = store_do(s, NULL, "DELETE FROM room_access WHERE room=?", "s", room);
	for (size_t i = 0; !rc && i < nunits; i++)
		rc = store_do(s, NULL, "INSERT OR IGNORE INTO room_access(room, kind, ref) "
				       "VALUES(?,'unit',?)", "ss", room, units[i]);
	for (size_t i = 0; !rc && i < naccounts; i++)
		rc = store_do(s, NULL, "INSERT OR IGNORE INTO room_access(room, kind, ref) "
				       "VALUES(?,'account',?)", "ss", room, accounts[i]);
	return rc;
}

static int access_row(sqlite3_stmt *st, void *fn, void *arg)
{
	char kind[16], ref[CTL_ID_MAX];
	store_col_text(st, 0, kind, sizeof(kind));
	store_col_text(st, 1, ref, sizeof(ref));
	return ((ctl_access_fn)fn)(arg, kind, ref);
}

int ctl_store_room_access_list(struct ctl_store *s, const char *room, ctl_access_fn fn,
			       void *arg)
{
	sqlite3_stmt *st;
	/* 'unit' > 'account': units first. */
	int rc = store_prepare(s, &st, "SELECT kind, ref FROM room_access WHERE room=? "
				       "ORDER BY kind DESC, ref", "s", room);
	return rc ? rc : store_each(st, access_row, (void *)fn, arg);
}

int ctl_store_room_access_check(struct ctl_store *s, const char *room, const char *account,
				bool *restricted, bool *allowed)
{
	int n;
	int rc = store_count(s, &n, "SELECT count(*) FROM room_access WHERE room=?", room);
	if (rc)
		return rc;
	*restricted = n > 0;
	*allowed = !n;
	if (!n || !account || !account[0])
		return 0;
	sqlite3_stmt *st;
	rc = store_prepare(s, &st, "SELECT count(*) FROM room_access WHERE room=? AND "
				   "((kind='account' AND ref=?) OR (kind='unit' AND ref="
				   "(SELECT unit FROM accounts WHERE id=?)))", "sss", room, account,
			   account);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	*allowed = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

/* ---- tenant events ---- */

int ctl_store_tenant_event_insert(struct ctl_store *s, struct ctl_tenant_event *e)
{
	int rc = store_do(s, NULL, "INSERT INTO tenant_events(tenant, type, data, at) "
				   "VALUES(?,?,?,?)", "sssi", e->tenant, e->type,
			  e->data ? e->data : "{}", e->at);
	if (!rc)
		e->seq = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int tenant_event_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct ctl_tenant_event e;
	e.seq = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, e.tenant, sizeof(e.tenant));
	store_col_text(st, 2, e.type, sizeof(e.type));
	e.data = (char *)sqlite3_column_text(st, 3);
	e.at = sqlite3_column_int64(st, 4);
	return ((ctl_tenant_event_fn)fn)(arg, &e);
}

int ctl_store_tenant_event_list(struct ctl_store *s, const char *tenant, int64_t after,
				const char *type, int limit, ctl_tenant_event_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = type ?
		store_prepare(s, &st, "SELECT seq, tenant, type, data, at FROM tenant_events "
				      "WHERE tenant=? AND seq > ? AND type=? ORDER BY seq LIMIT ?",
			      "sisi", tenant, after, type, (int64_t)limit) :
		store_prepare(s, &st, "SELECT seq, tenant, type, data, at FROM tenant_events "
				      "WHERE tenant=? AND seq > ? ORDER BY seq LIMIT ?", "sii",
			      tenant, after, (int64_t)limit);
	return rc ? rc : store_each(st, tenant_event_row, (void *)fn, arg);
}
