/* Shared by the SQLite files of the store (store_sqlite.c, store_rooms.c,
 * store_records.c): the connection and small statement helpers. */
#ifndef CTL_STORE_INTERNAL_H
#define CTL_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/store.h"

struct ctl_store {
	sqlite3 *db;
	bool have_seal_key;        /* participants' SRTP keys sealed at rest */
	uint8_t seal_key[32];
};

/* SQLite result code to 0 / negative errno. */
int store_err(int rc);
/* Run SQL text (no rows). */
int store_exec(struct ctl_store *s, const char *sql);
/* Prepare sql and bind the text/integer arguments described by fmt
 * ('s' text, NULL binds NULL; 'i' int64). */
int store_prepare(struct ctl_store *s, sqlite3_stmt **st, const char *sql, const char *fmt, ...);
/* Prepare, bind (as store_prepare), run a statement that returns no rows;
 * *changes (if not NULL) gets the rows it changed. */
int store_do(struct ctl_store *s, int *changes, const char *sql, const char *fmt, ...);
/* store_do that must change at least one row: -ENOENT when none. */
int store_do_one(struct ctl_store *s, const char *sql, const char *fmt, ...);
/* Step a statement that returns no rows, finalize it. */
int store_run(sqlite3_stmt *st, int *changes);
void store_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap);

#endif
