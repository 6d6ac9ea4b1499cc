/* Tokens, meeting events (chat included), subscriptions, blocks and bans in
 * SQLite. */
#include "control/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_store_token_insert(struct ctl_store *s, const struct ctl_token *t)
{
	return store_do(s, NULL, "INSERT INTO tokens(id, hash, scope, expires_at, revoked) "
				 "VALUES(?,?,?,?,?)", "sssii", t->id, t->hash, t->scope,
				 t->expires_at, (int64_t)t->revoked);
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
	return store_do_one(s, "UPDATE tokens SET revoked=1 WHERE id=?", "s", id);
}

int ctl_store_token_revoke_scope(struct ctl_store *s, const char *scope)
{
	return store_do(s, NULL, "UPDATE tokens SET revoked=1 WHERE scope=?", "s", scope);
}

int ctl_store_token_revoke_prefix(struct ctl_store *s, const char *prefix)
{
	return store_do(s, NULL, "UPDATE tokens SET revoked=1 WHERE substr(scope, 1, ?)=?",
				 "is", (int64_t)strlen(prefix), prefix);
}

int ctl_store_event_insert(struct ctl_store *s, struct ctl_event *e)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "INSERT INTO events(room_id, meeting, type, data, party_a, "
				       "party_b, at) VALUES(?,?,?,?,?,?,?)", "sissssi",
			       e->room_id, e->meeting, e->type, e->data,
			       e->party_a[0] ? e->party_a : NULL, e->party_b[0] ? e->party_b : NULL,
			       e->at);
	if (rc)
		return rc;
	rc = store_run(st, NULL);
	if (!rc)
		e->seq = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int ctl_store_event_list(struct ctl_store *s, const char *room_id, int64_t meeting,
			 int64_t after, const char *type, const char *visible_to, int limit,
			 ctl_event_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st,
			       "SELECT seq, room_id, meeting, type, data, party_a, party_b, at "
			       "FROM events WHERE room_id=?1 AND meeting=?2 AND seq > ?3 "
			       "AND (?4 IS NULL OR type=?4) AND (party_a IS NULL "
			       "OR party_a=?5 OR party_b=?5 "
			       "OR (?5 IS NULL AND type='renegotiate')) ORDER BY seq LIMIT ?6",
			       "siissi", room_id, meeting, after, type, visible_to, (int64_t)limit);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_event e;
		e.seq = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, e.room_id, sizeof(e.room_id));
		e.meeting = sqlite3_column_int64(st, 2);
		store_col_text(st, 3, e.type, sizeof(e.type));
		e.data = (char *)sqlite3_column_text(st, 4);
		store_col_text(st, 5, e.party_a, sizeof(e.party_a));
		store_col_text(st, 6, e.party_b, sizeof(e.party_b));
		e.at = sqlite3_column_int64(st, 7);
		int frc = fn(arg, &e);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_event_last(struct ctl_store *s, int64_t *seq)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT coalesce(max(seq), 0) FROM events", "");
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

int ctl_store_subscriptions_set(struct ctl_store *s, const char *participant,
				const struct ctl_subscription *subs, size_t n)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "DELETE FROM subscriptions WHERE participant=?", "s",
			       participant);
	if (rc || (rc = store_run(st, NULL)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = store_prepare(s, &st, "INSERT INTO subscriptions(participant, publisher, kind, "
					   "max_height) VALUES(?,?,?,?)", "sssi", participant,
				   subs[i].publisher, subs[i].kind, (int64_t)subs[i].max_height);
		if (rc || (rc = store_run(st, NULL)))
			return rc;
	}
	return 0;
}

int ctl_store_subscriptions_get(struct ctl_store *s, const char *participant,
				struct ctl_subscription *subs, size_t cap, size_t *n)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT publisher, kind, max_height FROM subscriptions "
				       "WHERE participant=? ORDER BY publisher, kind", "s",
			       participant);
	if (rc)
		return rc;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) {
		store_col_text(st, 0, subs[*n].publisher, sizeof(subs[*n].publisher));
		store_col_text(st, 1, subs[*n].kind, sizeof(subs[*n].kind));
		subs[*n].max_height = sqlite3_column_int(st, 2);
		(*n)++;
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_block_insert(struct ctl_store *s, const struct ctl_block *b)
{
	return store_do(s, NULL, "INSERT INTO blocks(id, remote_addr, remote_port, local_addr, "
				 "local_port, reason, expires_at) VALUES(?,?,?,?,?,?,?)",
				 "ssisisi", b->id, b->remote_addr, (int64_t)b->remote_port,
				 b->local_addr, (int64_t)b->local_port, b->reason, b->expires_at);
}

int ctl_store_block_delete(struct ctl_store *s, const char *id)
{
	return store_do_one(s, "DELETE FROM blocks WHERE id=?", "s", id);
}

int ctl_store_block_list(struct ctl_store *s, int64_t now, ctl_block_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT id, remote_addr, remote_port, local_addr, local_port, "
				       "reason, expires_at FROM blocks WHERE expires_at > ? "
				       "ORDER BY expires_at, id", "i", now);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_block b;
		store_col_text(st, 0, b.id, sizeof(b.id));
		store_col_text(st, 1, b.remote_addr, sizeof(b.remote_addr));
		b.remote_port = sqlite3_column_int(st, 2);
		store_col_text(st, 3, b.local_addr, sizeof(b.local_addr));
		b.local_port = sqlite3_column_int(st, 4);
		store_col_text(st, 5, b.reason, sizeof(b.reason));
		b.expires_at = sqlite3_column_int64(st, 6);
		int frc = fn(arg, &b);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_block_expire(struct ctl_store *s, int64_t now, int *n)
{
	return store_do(s, n, "DELETE FROM blocks WHERE expires_at <= ?", "i", now);
}

int ctl_store_ban_insert(struct ctl_store *s, const struct ctl_ban *b, int64_t now)
{
	/* An expired ban the ticker has not removed yet does not hold its
	 * prefix. */
	int rc = store_do(s, NULL, "DELETE FROM bans WHERE prefix=? AND expires_at <= ?", "si",
			  b->prefix, now);
	if (rc)
		return rc;
	return store_do(s, NULL, "INSERT INTO bans(id, prefix, reason, expires_at) VALUES(?,?,?,?)",
			"sssi", b->id, b->prefix, b->reason, b->expires_at);
}

int ctl_store_ban_delete(struct ctl_store *s, const char *id)
{
	return store_do_one(s, "DELETE FROM bans WHERE id=?", "s", id);
}

int ctl_store_ban_list(struct ctl_store *s, int64_t now, ctl_ban_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT id, prefix, reason, expires_at FROM bans "
				       "WHERE expires_at > ? ORDER BY expires_at, id", "i", now);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_ban b;
		store_col_text(st, 0, b.id, sizeof(b.id));
		store_col_text(st, 1, b.prefix, sizeof(b.prefix));
		store_col_text(st, 2, b.reason, sizeof(b.reason));
		b.expires_at = sqlite3_column_int64(st, 3);
		int frc = fn(arg, &b);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_ban_expire(struct ctl_store *s, int64_t now, int *n)
{
	return store_do(s, n, "DELETE FROM bans WHERE expires_at <= ?", "i", now);
}

int ctl_store_offer_get(struct ctl_store *s, const char *participant, struct ctl_offer *o)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT version, answered, session_id, next_mid, sdp "
				       "FROM offers WHERE participant=?", "s", participant);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 4);
		o->version = sqlite3_column_int64(st, 0);
		o->answered = sqlite3_column_int(st, 1) != 0;
		o->session_id = sqlite3_column_int64(st, 2);
		o->next_mid = sqlite3_column_int64(st, 3);
		o->sdp = strdup(t ? (const char *)t : "");
		if (!o->sdp) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_offer_put(struct ctl_store *s, const char *participant, const struct ctl_offer *o)
{
	return store_do(s, NULL, "INSERT OR REPLACE INTO offers(participant, version, answered, "
				 "session_id, next_mid, sdp) VALUES(?,?,?,?,?,?)", "siiiis",
			participant, o->version, (int64_t)o->answered, o->session_id, o->next_mid,
			o->sdp ? o->sdp : "");
}

int ctl_store_offer_mids(struct ctl_store *s, const char *participant,
			 struct ctl_offer_mid **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = store_prepare(s, &st, "SELECT mid, publisher, kind, ssrc, rtx_ssrc, active "
				       "FROM offer_mids WHERE participant=? ORDER BY mid", "s",
			       participant);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct ctl_offer_mid *nm = realloc(*out, cap * sizeof(*nm));
			if (!nm) {
				sqlite3_finalize(st);
				return -ENOMEM;
			}
			*out = nm;
		}
		struct ctl_offer_mid *m = &(*out)[(*n)++];
		m->mid = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, m->publisher, sizeof(m->publisher));
		store_col_text(st, 2, m->kind, sizeof(m->kind));
		m->ssrc = sqlite3_column_int64(st, 3);
		m->rtx_ssrc = sqlite3_column_int64(st, 4);
		m->active = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_offer_mid_put(struct ctl_store *s, const char *participant,
			    const struct ctl_offer_mid *m)
{
	return store_do(s, NULL, "INSERT OR REPLACE INTO offer_mids(participant, mid, publisher, "
				 "kind, ssrc, rtx_ssrc, active) VALUES(?,?,?,?,?,?,?)", "sissiii",
			participant, m->mid, m->publisher, m->kind, m->ssrc, m->rtx_ssrc,
			(int64_t)m->active);
}
