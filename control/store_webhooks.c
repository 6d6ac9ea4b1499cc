/* Webhooks and their outbox of deliveries in SQLite. A webhook's secret is
 * sealed at rest like the participants' keys (it signs, so it must be kept
 * readable, unlike the tokens, of which only a hash is stored). */
#include "control/store_internal.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sealed.h"

/* A sealed secret opens only for its own webhook. */
static void secret_aad(const char *id, char *aad, size_t cap)
{
	snprintf(aad, cap, "webhook:%s/secret", id);
}

int ctl_store_webhook_insert(struct ctl_store *s, const struct ctl_webhook *w)
{
	char sealed[CTL_SEALED_MAX], aad[CTL_ID_MAX + 16];
	const char *secret = w->secret;
	if (s->have_seal_key) {
		secret_aad(w->id, aad, sizeof(aad));
		int rc = ctl_seal(s->seal_key, aad, w->secret, sealed, sizeof(sealed));
		if (rc)
			return rc;
		secret = sealed;
	}
	return store_do(s, NULL, "INSERT INTO webhooks(id, tenant, url, events, secret, "
				 "created_at) VALUES(?,?,?,?,?,?)", "sssssi", w->id, w->tenant,
			w->url, w->events, secret, w->created_at);
}

#define WEBHOOK_COLS "w.id, w.tenant, w.url, w.events, w.secret, w.created_at"

/* Read WEBHOOK_COLS from column col on. */
static int store_row_webhook(const struct ctl_store *s, sqlite3_stmt *st, int col,
			     struct ctl_webhook *w)
{
	char sealed[CTL_SEALED_MAX], aad[CTL_ID_MAX + 16];
	store_col_text(st, col, w->id, sizeof(w->id));
	store_col_text(st, col + 1, w->tenant, sizeof(w->tenant));
	store_col_text(st, col + 2, w->url, sizeof(w->url));
	store_col_text(st, col + 3, w->events, sizeof(w->events));
	store_col_text(st, col + 4, sealed, sizeof(sealed));
	w->created_at = sqlite3_column_int64(st, col + 5);
	if (!s->have_seal_key || !ctl_is_sealed(sealed)) {
		snprintf(w->secret, sizeof(w->secret), "%.*s", (int)sizeof(w->secret) - 1, sealed);
		return 0;
	}
	secret_aad(w->id, aad, sizeof(aad));
	if (ctl_unseal(s->seal_key, aad, sealed, w->secret, sizeof(w->secret))) {
		mm_err("webhook_secret_unsealed", "webhook=%s error=%s", mm_q(w->id),
		       mm_q("does not open with the key file"));
		w->secret[0] = '\0';
		return -EIO;
	}
	return 0;
}

int ctl_store_webhook_get(struct ctl_store *s, const char *id, struct ctl_webhook *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id=?",
			       "s", id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	int frc = rc == SQLITE_ROW ? store_row_webhook(s, st, 0, out) : 0;
	sqlite3_finalize(st);
	if (frc)
		return frc;
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_webhook_delete(struct ctl_store *s, const char *id)
{
	return store_do_one(s, "DELETE FROM webhooks WHERE id=?", "s", id);
}

int ctl_store_webhook_list(struct ctl_store *s, const char *tenant, ctl_webhook_fn fn,
			   void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE "
				       "?1 IS NULL OR w.tenant=?1 ORDER BY w.created_at, w.id", "s",
			       tenant);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_webhook w;
		int frc = store_row_webhook(s, st, 0, &w);
		/* Listing shows no secret: one that does not open is no reason
		 * to hide the webhook. */
		if (!frc || frc == -EIO)
			frc = fn(arg, &w);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_delivery_enqueue(struct ctl_store *s, const char *tenant, const char *type,
			       const char *event_id, const char *body, int64_t now, int *n)
{
	/* One statement: every matching webhook gets its row, with a random
	 * delivery id ("d" + 16 hex digits, as ctl_random_id makes them). */
	return store_do(s, n,
			"INSERT INTO webhook_deliveries(id, event_id, webhook, type, body, "
			"created_at, next_at) SELECT 'd' || lower(hex(randomblob(8))), ?3, w.id, "
			"?2, ?4, ?5, ?5 FROM webhooks w WHERE (w.tenant='' OR w.tenant=?1) "
			"AND EXISTS(SELECT 1 FROM json_each(w.events) WHERE value IN (?2, '*')) "
			"ORDER BY w.created_at, w.id",
			"ssssi", tenant, type, event_id, body, now);
}

#define DELIVERY_COLS "d.seq, d.id, d.event_id, d.webhook, d.type, d.body, d.created_at, " \
		      "d.status, d.attempts, d.next_at, d.last_status, d.last_error, d.done_at"
#define DELIVERY_NCOLS 13

static void store_row_delivery(sqlite3_stmt *st, struct ctl_delivery *d)
{
	d->seq = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, d->id, sizeof(d->id));
	store_col_text(st, 2, d->event_id, sizeof(d->event_id));
	store_col_text(st, 3, d->webhook, sizeof(d->webhook));
	store_col_text(st, 4, d->type, sizeof(d->type));
	const unsigned char *b = sqlite3_column_text(st, 5);
	d->body = b ? (const char *)b : "";
	d->created_at = sqlite3_column_int64(st, 6);
	store_col_text(st, 7, d->status, sizeof(d->status));
	d->attempts = sqlite3_column_int(st, 8);
	d->next_at = sqlite3_column_int64(st, 9);
	d->last_status = sqlite3_column_int(st, 10);
	store_col_text(st, 11, d->last_error, sizeof(d->last_error));
	d->done_at = sqlite3_column_int64(st, 12);
}

int ctl_store_delivery_heads(struct ctl_store *s, ctl_delivery_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st,
			       "SELECT " DELIVERY_COLS ", " WEBHOOK_COLS
			       " FROM webhook_deliveries d JOIN webhooks w ON w.id=d.webhook"
			       " WHERE d.seq IN (SELECT min(seq) FROM webhook_deliveries"
			       " WHERE status='pending' GROUP BY webhook) ORDER BY d.seq", "");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_delivery d;
		struct ctl_webhook w;
		store_row_delivery(st, &d);
		int frc = store_row_webhook(s, st, DELIVERY_NCOLS, &w);
		if (!frc)
			frc = fn(arg, &d, &w);
		else if (frc == -EIO)
			frc = 0;  /* a secret that does not open: never signed wrongly */
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_delivery_update(struct ctl_store *s, const struct ctl_delivery *d)
{
	return store_do_one(s, "UPDATE webhook_deliveries SET status=?, attempts=?, next_at=?, "
			       "last_status=?, last_error=?, done_at=? WHERE id=?", "siiisis",
			    d->status, (int64_t)d->attempts, d->next_at, (int64_t)d->last_status,
			    d->last_error, d->done_at, d->id);
}

int ctl_store_delivery_list(struct ctl_store *s, const char *webhook, int limit,
			    ctl_delivery_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " DELIVERY_COLS " FROM webhook_deliveries d "
				       "WHERE d.webhook=? ORDER BY d.seq DESC LIMIT ?", "si",
			       webhook, (int64_t)limit);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_delivery d;
		store_row_delivery(st, &d);
		int frc = fn(arg, &d, NULL);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_delivery_prune(struct ctl_store *s, int64_t before, int *n)
{
	return store_do(s, n, "DELETE FROM webhook_deliveries WHERE status!='pending' AND "
			      "created_at < ?", "i", before);
}
