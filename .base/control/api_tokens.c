/* /v1/tokens: operators issue and revoke tokens. The plain token is shown
 * once, in the reply; only its SHA-256 is stored. */
#include "control/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int api_token_issue(struct ctl *c, const char *scope, int64_t expires_at,
		    char *token, size_t tcap, char *id, size_t icap)
{
	struct ctl_token t = { .expires_at = expires_at };
	int rc = ctl_token_generate(token, tcap);
	if (!rc)
		rc = ctl_random_id("t", 8, id, icap);
	if (!rc)
		rc = ctl_token_hash(token, t.hash);
	if (rc)
		return rc;
	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.scope, sizeof(t.scope), "%s", scope);
	return ctl_store_token_insert(c->store, &t);
}

static void tokens_create(struct api_req *rq, struct api_reply *rep)
{
	static const struct api_field fields[] = {
		{ "scope", API_STRING, true }, { "ttl_seconds", API_INT, false },
	};
	struct ctl_scope sc;
	char token[CTL_TOKEN_LEN + 1], id[CTL_ID_MAX];
	int64_t expires = 0;
	json_t *b = api_body_object(rq, rep), *v;

	if (!b || api_check_fields(b, "", fields, 2, rep))
		goto out;
	const char *scope = json_string_value(json_object_get(b, "scope"));
	if (strlen(scope) >= CTL_SCOPE_MAX || ctl_scope_parse(scope, &sc)) {
		api_error(rep, 400, "invalid_field",
			  "scope: operator, tenant:<id> or participant:<room>/<participant>");
		goto out;
	}
	if ((v = json_object_get(b, "ttl_seconds"))) {
		if (json_integer_value(v) < 1 || json_integer_value(v) > 10LL * 365 * 86400) {
			api_error(rep, 400, "invalid_field", "ttl_seconds: 1..315360000");
			goto out;
		}
		expires = ctl_now(rq->c) + json_integer_value(v);
	}
	if (api_begin(rq, rep))
		goto out;
	if (api_token_issue(rq->c, scope, expires, token, sizeof(token), id, sizeof(id)) ||
	    ctl_store_commit(rq->c->store)) {
		ctl_store_rollback(rq->c->store);
		api_error(rep, 500, "internal", "store: cannot insert token");
		goto out;
	}
	rep->status = 201;
	rep->body = json_pack("{s:s,s:s,s:s,s:I}", "id", id, "token", token, "scope", scope,
			      "expires_at", (json_int_t)expires);
out:
	json_decref(b);
}

static void tokens_revoke(struct api_req *rq, struct api_reply *rep)
{
	if (api_begin(rq, rep))
		return;
	int rc = ctl_store_token_revoke(rq->c->store, rq->parts[1]);
	if (!rc)
		rc = ctl_store_commit(rq->c->store);
	if (rc) {
		ctl_store_rollback(rq->c->store);
		if (rc == -ENOENT)
			api_error(rep, 404, "not_found", "no token %s", rq->parts[1]);
		else
			api_error(rep, 500, "internal", "store: cannot revoke token");
		return;
	}
	rep->status = 204;
}

void api_tokens(struct api_req *rq, struct api_reply *rep)
{
	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only operator tokens manage tokens");
		return;
	}
	if (rq->nparts == 1 && !strcmp(rq->method, "POST"))
		tokens_create(rq, rep);
	else if (rq->nparts == 2 && !strcmp(rq->method, "DELETE"))
		tokens_revoke(rq, rep);
	else if (rq->nparts <= 2)
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
	else
		api_error(rep, 404, "not_found", "no such resource");
}
