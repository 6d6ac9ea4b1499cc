/* Bearer tokens: generation, hashing (SHA-256, only the hash is stored)
 * and scopes: "operator", "tenant:<id>", "participant:<room>/<participant>". */
#ifndef CTL_AUTH_H
#define CTL_AUTH_H

#include <stddef.h>

#include "control/store.h"

#define CTL_TOKEN_LEN (4 + 64)   /* "mmt_" + 32 random bytes in hex */

enum ctl_scope_kind {
	CTL_SCOPE_OPERATOR,
	CTL_SCOPE_TENANT,
	CTL_SCOPE_PARTICIPANT,
};

struct ctl_scope {
	enum ctl_scope_kind kind;
	char tenant[CTL_TENANT_MAX];
	char room[CTL_ID_MAX];
	char participant[CTL_ID_MAX];
};

/* Fill buf with n random bytes from getrandom. */
int ctl_random(void *buf, size_t n);
/* A prefix followed by 2*nbytes random hex digits. */
int ctl_random_id(const char *prefix, size_t nbytes, char *out, size_t cap);
/* A new token (out holds CTL_TOKEN_LEN + 1). */
int ctl_token_generate(char *out, size_t cap);
/* SHA-256 of the token as 64 hex digits + NUL. */
int ctl_token_hash(const char *token, char hex[65]);
/* Letters, digits and ._- only, 1..max-1 characters. */
int ctl_name_check(const char *s, size_t max);
int ctl_scope_parse(const char *s, struct ctl_scope *out);
int ctl_scope_format(const struct ctl_scope *sc, char *out, size_t cap);

#endif
