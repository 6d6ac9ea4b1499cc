/* GET /v1/guard (operator): the XDP guard's counters and list
 * synchronisation, as mmdp reports them (stats.get's "guard"; null when
 * mmdp runs without the guard). */
#include "control/api.h"

#include <errno.h>
#include <string.h>

void api_guard(struct api_req *rq, struct api_reply *rep)
{
	json_t *reply = NULL;
	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only operator tokens read the guard");
		return;
	}
	if (rq->nparts != 1) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	if (api_mmdp_ready(rq, rep))
		return;
	json_t *req = json_pack("{s:s}", "op", "stats.get");
	int rc = ctl_mmdp_call(&rq->c->mmdp, req, &reply);
	json_decref(req);
	if (rc) {
		api_error(rep, 503, "mmdp_unavailable", "mmdp is not reachable (%s)", strerror(-rc));
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		api_error(rep, 502, "mmdp_error", "mmdp refused stats.get");
		return;
	}
	json_t *g = json_object_get(reply, "guard");
	rep->status = 200;
	rep->body = json_pack("{s:O}", "guard", g ? g : json_null());
	json_decref(reply);
}
