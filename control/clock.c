/* mmctld's clock (ctl_now) and GET/PUT /v1/clock: with "test_clock": true
 * in the config an operator may move the clock forward or back, so that
 * trial limits, contract terms and token expiry are tested in seconds
 * against the real daemon. Without it PUT is refused (403 clock_fixed). */
#include "control/api.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ctl_now(const struct ctl *c)
{
	return (int64_t)time(NULL) + __atomic_load_n(&c->clock_offset, __ATOMIC_RELAXED);
}

/* GET /v1/clock: {"now":…,"offset":…,"settable":bool} (operator).
 * PUT /v1/clock {"now":unix} or {"advance":seconds} (operator, test_clock). */
void api_clock(struct api_req *rq, struct api_reply *rep)
{
	struct ctl *c = rq->c;
	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only an operator reads or sets the clock");
		return;
	}
	if (rq->nparts != 1) {
		api_error(rep, 404, "not_found", "no such resource");
		return;
	}
	if (!strcmp(rq->method, "PUT")) {
		static const struct api_field fields[] = {
			{ "now", API_INT, false }, { "advance", API_INT, false },
		};
		if (!c->cfg.test_clock) {
			api_error(rep, 403, "clock_fixed", "the clock is the system's (set "
				  "\"test_clock\": true in the config to move it)");
			return;
		}
		json_t *b = api_body_object(rq, rep);
		if (!b)
			return;
		json_t *now = json_object_get(b, "now"), *adv = json_object_get(b, "advance");
		if (api_check_fields(b, "", fields, 2, rep)) {
			json_decref(b);
			return;
		}
		if (!now == !adv) {
			json_decref(b);
			api_error(rep, 400, "invalid_field", "give exactly one of now and advance");
			return;
		}
		int64_t off = adv ? c->clock_offset + json_integer_value(adv) :
			      json_integer_value(now) - (int64_t)time(NULL);
		json_decref(b);
		if (off < -(int64_t)100 * 365 * 86400 || off > (int64_t)100 * 365 * 86400) {
			api_error(rep, 400, "invalid_field", "now: more than 100 years away");
			return;
		}
		__atomic_store_n(&c->clock_offset, off, __ATOMIC_RELAXED);
		mm_warn("clock_moved", "offset_s=%lld", (long long)off);
	} else if (strcmp(rq->method, "GET")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:I,s:I,s:b}", "now", (json_int_t)ctl_now(c), "offset",
			      (json_int_t)c->clock_offset, "settable", c->cfg.test_clock);
}
