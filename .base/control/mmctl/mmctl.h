/* mmctl: the command-line client of mmctld's REST API (docs/api.md).
 * Shared declarations of its parts: global options, argument checks,
 * HTTP (libcurl) and SSE, human output. */
#ifndef MMCTL_H
#define MMCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in --help and in docs/api.md, "mmctl exit codes"). */
enum mmctl_exit {
	MMCTL_OK = 0,
	MMCTL_EINTERNAL = 1,     /* mmctl itself failed (out of memory) */
	MMCTL_EUSAGE = 2,        /* bad arguments, nothing sent */
	MMCTL_EAUTH = 3,         /* 401 / 403 */
	MMCTL_ENOTFOUND = 4,     /* 404 / 405 */
	MMCTL_ECONFLICT = 5,     /* 409 */
	MMCTL_EREQUEST = 6,      /* 400 / 413, any other 4xx */
	MMCTL_ESERVER = 7,       /* 5xx, or a reply mmctl cannot read */
	MMCTL_EUNREACHABLE = 8,  /* connection refused, timeout, DNS */
};

#define MMCTL_DEFAULT_URL "http://127.0.0.1:8080"
#define MMCTL_DEFAULT_TIMEOUT 30

/* Global options. */
struct mmctl {
	char *url;               /* base, without a trailing "/" or "/v1" (owned) */
	char *token;             /* bearer token or NULL (owned) */
	bool json;               /* print the server's JSON reply */
	long timeout;            /* seconds */
	bool timeout_set;        /* --timeout given (events: idle limit) */
};

/* ---- args.c: local checks; each prints "mmctl: usage: ..." on failure ---- */

int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Integer in [lo, hi] (decimal, whole string). 0 or MMCTL_EUSAGE. */
int arg_int(const char *what, const char *s, long long lo, long long hi, long long *out);
/* ADDR:PORT with ADDR an IPv4 address or [IPv6]; addr gets the bare address. */
int arg_addr_port(const char *what, const char *s, char *addr, size_t cap, int *port);
/* s is one of the NULL-terminated choices. */
int arg_choice(const char *what, const char *s, const char *const *choices);
/* String of lo..hi bytes. */
int arg_len(const char *what, const char *s, size_t lo, size_t hi);

/* A command option: "--name" and whether it takes a value. */
struct opt {
	const char *name;
	bool has_value;
	/* filled by opts_parse: how often seen, and the last value */
	int seen;
	const char *value;
};
#define OPT_VAL(n) { .name = (n), .has_value = true }
#define OPT_FLAG(n) { .name = (n), .has_value = false }
/* Parse argv (after the command words) into options and positionals.
 * Options may come in any order, as "--name VALUE" or "--name=VALUE"; "--"
 * ends them. Positionals must number npos_min..npos_max; syn is the
 * command's synopsis for the messages. */
int opts_parse(const char *syn, int argc, char **argv, struct opt *o, size_t nopt,
	       const char **pos, int npos_min, int npos_max, int *npos);

/* ---- http.c ---- */

int http_global_init(void);
void http_global_cleanup(void);
/* "/v1/rooms/%s/…": each %s is percent-escaped; the only conversion. NULL
 * on out of memory. Free with free(). */
char *http_path(const char *fmt, ...);
/* One request. body (borrowed) may be NULL: no body. With auth, the bearer
 * token is sent. On 2xx: 0, *reply the parsed JSON (NULL for 204), and in
 * --json mode the reply is printed. Otherwise an error is printed and the
 * exit code returned (*reply NULL). */
int http_call(struct mmctl *m, const char *method, const char *path, json_t *body, bool auth,
	      json_t **reply);

/* Server-Sent Events: on_event per event; it returns nonzero to stop
 * (success). 0 when the stream ended or was stopped, else an exit code. */
typedef int (*sse_cb)(void *arg, const char *id, const char *event, const char *data);
int http_sse(struct mmctl *m, const char *path, sse_cb on_event, void *arg);
/* Map an HTTP status to an exit code. */
int http_exit_code(long status);
/* Print "mmctl: <code>: <message>" from an error reply (or the status). */
void http_print_error(long status, const char *body, size_t len);

/* ---- output.c ---- */

/* An aligned text table; cells are copied, control characters replaced. */
struct table;
struct table *table_new(int ncols, const char *const *heads);
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);
/* "key   value" lines with the keys padded to width. */
void out_kv(const char *key, const char *value);
/* Print s with control characters replaced by '?'. */
void out_clean(FILE *f, const char *s);
/* "2026-01-02 15:04:05" (local time), or "-" for 0. */
void fmt_time(int64_t t, char *buf, size_t cap);
/* "3m12s" from t to now. */
void fmt_since(int64_t t, char *buf, size_t cap);
/* json helpers: string or fallback, integer as text, bool as two words. */
const char *js(json_t *o, const char *key, const char *fallback);
void fmt_int(json_t *o, const char *key, char *buf, size_t cap);
const char *fmt_bool(json_t *o, const char *key, const char *yes, const char *no);
/* {"addr","port"} as "1.2.3.4:5" or "[::1]:5", "-" when absent. */
void fmt_addr(json_t *ap, char *buf, size_t cap);
/* Print the reply as one JSON document (for --json). */
void out_json(json_t *j);

/* ---- commands: each returns an exit code; argv starts after the words ---- */

int cmd_rooms(struct mmctl *m, int argc, char **argv);
int cmd_join(struct mmctl *m, int argc, char **argv);
int cmd_leave(struct mmctl *m, int argc, char **argv);
int cmd_role(struct mmctl *m, int argc, char **argv);
int cmd_streams(struct mmctl *m, int argc, char **argv);
int cmd_resolution(struct mmctl *m, int argc, char **argv);
int cmd_subscribe(struct mmctl *m, int argc, char **argv);
int cmd_mute(struct mmctl *m, int argc, char **argv);
int cmd_unmute(struct mmctl *m, int argc, char **argv);
int cmd_mute_all(struct mmctl *m, int argc, char **argv);
int cmd_kick(struct mmctl *m, int argc, char **argv);
int cmd_hand(struct mmctl *m, int argc, char **argv);
int cmd_chat(struct mmctl *m, int argc, char **argv);
int cmd_invite(struct mmctl *m, int argc, char **argv);
int cmd_events(struct mmctl *m, int argc, char **argv);
int cmd_tokens(struct mmctl *m, int argc, char **argv);
int cmd_blocks(struct mmctl *m, int argc, char **argv);
int cmd_bans(struct mmctl *m, int argc, char **argv);
int cmd_guard(struct mmctl *m, int argc, char **argv);
int cmd_clock(struct mmctl *m, int argc, char **argv);
int cmd_webhooks(struct mmctl *m, int argc, char **argv);
int cmd_reports(struct mmctl *m, int argc, char **argv);
int cmd_join_token(struct mmctl *m, int argc, char **argv);
/* Tenants, plans and contracts (cmd_tenants.c). */
int cmd_tenants(struct mmctl *m, int argc, char **argv);
int cmd_units(struct mmctl *m, int argc, char **argv);
int cmd_accounts(struct mmctl *m, int argc, char **argv);
int cmd_access(struct mmctl *m, int argc, char **argv);
int cmd_contract(struct mmctl *m, int argc, char **argv);
int cmd_quote(struct mmctl *m, int argc, char **argv);

/* Parse "ROOM PID [nextra more positionals] [options]" into pos and *path =
 * "/v1/rooms/ROOM/participants/PID" + suffix (free it; NULL on failure). */
int participant_args(const char *syn, int argc, char **argv, struct opt *o, size_t nopt, int nextra,
		     const char **pos, char **path, const char *suffix);
/* Participant summary line shared by the participant commands. */
void print_participant_line(json_t *p);

#endif
