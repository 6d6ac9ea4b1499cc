/* join-token: sign a join token as a tenant's meeting app would (docs/api.md
 * "Join tokens (JWT)"), for operators testing a tenant's setup. Local: no
 * request is sent. */
#include "control/mmctl/mmctl.h"
#include "control/jwt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const jt_roles[] = { "attendee", "moderator", "host", NULL };

int cmd_join_token(struct mmctl *m, int argc, char **argv)
{
	struct opt o[] = { OPT_VAL("--tenant"), OPT_VAL("--account"), OPT_VAL("--secret"),
			   OPT_VAL("--room"), OPT_VAL("--ttl"), OPT_VAL("--name"),
			   OPT_VAL("--role"), OPT_VAL("--now") };
	struct jwt_claims c = { 0 };
	char tok[JWT_MAX + 1];
	long long ttl = 300, now = (long long)time(NULL);
	int npos, rc;
	if ((rc = opts_parse("join-token --tenant T --account A --secret S [--room R] "
			     "[--ttl SECONDS] [--name N] [--role R]", argc, argv, o, N(o), NULL, 0,
			     0, &npos)))
		return rc;
	if (!o[0].seen || !o[1].seen || !o[2].seen)
		return usage_error("join-token needs --tenant T --account A --secret S");
	if ((rc = arg_len("--tenant", o[0].value, 1, JWT_ISS_MAX - 1)) ||
	    (rc = arg_len("--account", o[1].value, 1, JWT_SUB_MAX - 1)) ||
	    (rc = arg_len("--secret", o[2].value, 1, 1024)) ||
	    (o[3].seen && (rc = arg_len("--room", o[3].value, 1, JWT_ROOM_MAX - 1))) ||
	    (o[4].seen && (rc = arg_int("--ttl", o[4].value, 1, 30 * 86400, &ttl))) ||
	    (o[5].seen && (rc = arg_len("--name", o[5].value, 1, JWT_NAME_MAX - 1))) ||
	    (o[6].seen && (rc = arg_choice("--role", o[6].value, jt_roles))) ||
	    /* --now: the time to sign at (unix seconds), for a test clock. */
	    (o[7].seen && (rc = arg_int("--now", o[7].value, 1, 100000000000LL, &now))))
		return rc;
	snprintf(c.iss, sizeof(c.iss), "%s", o[0].value);
	snprintf(c.sub, sizeof(c.sub), "%s", o[1].value);
	if (o[3].seen)
		snprintf(c.room, sizeof(c.room), "%s", o[3].value);
	if (o[5].seen)
		snprintf(c.name, sizeof(c.name), "%s", o[5].value);
	if (o[6].seen)
		snprintf(c.role, sizeof(c.role), "%s", o[6].value);
	c.iat = now;
	c.exp = now + ttl;
	/* The secret is used as the string it is (as the app's JWT library
	 * does), not decoded. */
	enum jwt_err e = jwt_sign(&c, (const uint8_t *)o[2].value, strlen(o[2].value), tok,
				  sizeof(tok));
	if (e)
		return usage_error("join-token: %s", jwt_strerror(e));
	if (m->json)
		printf("{\"join_token\":\"%s\",\"expires_at\":%lld}\n", tok, (long long)c.exp);
	else
		puts(tok);
	return 0;
}
