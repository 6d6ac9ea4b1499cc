/* Plans (issue 9 items 2-3) against a real mmctld with test_clock: every
 * cell of the price table through /v1/quote, the quota of a subscription at
 * its boundary, the trial's 40-minute limit ended by the ticker, renew,
 * change, cancel (now and at term end), expiry, contract.expiring. */
#include "tenants_util.h"

static struct h_ctl H;

static void setup(void)
{
	h_setup(&H);
	h_config_set(&H, "test_clock", "true");
	h_rec_start(&H);
	h_start(&H);
}

static void teardown(void)
{
	h_teardown(&H);
}

TestSuite(plans, .init = setup, .fini = teardown, .timeout = 90);

Test(plans, quote_every_cell_of_the_price_table)
{
	static const struct {
		int rooms, term;
		const char *tier;
		long long price;
	} cells[] = {
		{ 1, 1, "1-4", 500000 }, { 1, 6, "1-4", 450000 }, { 1, 12, "1-4", 400000 },
		{ 4, 1, "1-4", 500000 }, { 4, 6, "1-4", 450000 }, { 4, 12, "1-4", 400000 },
		{ 5, 1, "5-10", 450000 }, { 5, 6, "5-10", 400000 }, { 5, 12, "5-10", 350000 },
		{ 10, 1, "5-10", 450000 }, { 10, 6, "5-10", 400000 }, { 10, 12, "5-10", 350000 },
		{ 11, 1, "11+", 400000 }, { 11, 6, "11+", 350000 }, { 11, 12, "11+", 300000 },
		{ 250, 1, "11+", 400000 }, { 250, 6, "11+", 350000 }, { 250, 12, "11+", 300000 },
	};
	char *tok;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &tok));
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		char body[96];
		snprintf(body, sizeof(body), "{\"rooms\":%d,\"term_months\":%d}", cells[i].rooms,
			 cells[i].term);
		/* Any token may ask: the operator's and a tenant's. */
		json_t *q = t_req(&H, 200, "POST", i % 2 ? tok : H.op_token, body, "/v1/quote");
		cr_assert_str_eq(t_str(q, "currency"), "VND");
		cr_assert_str_eq(t_str(q, "tier"), cells[i].tier, "%s", body);
		cr_assert_eq(t_int(q, "price_per_room_month"), cells[i].price, "%s", body);
		cr_assert_eq(t_int(q, "months"), cells[i].term);
		cr_assert_eq(t_int(q, "rooms"), cells[i].rooms);
		cr_assert_eq(t_int(q, "total"), cells[i].price * cells[i].rooms * cells[i].term,
			     "%s", body);
		json_decref(q);
	}
	free(tok);
}

Test(plans, bad_quotes_are_400)
{
	static const char *const bad[] = {
		"{\"rooms\":0,\"term_months\":1}", "{\"rooms\":-3,\"term_months\":1}",
		"{\"rooms\":1,\"term_months\":2}", "{\"rooms\":1,\"term_months\":0}",
		"{\"rooms\":1,\"term_months\":24}", "{\"rooms\":\"4\",\"term_months\":1}",
		"{\"rooms\":4,\"term_months\":\"6\"}", "{\"rooms\":4}", "{\"term_months\":6}", "{}",
		"{\"rooms\":4,\"term_months\":6,\"vat\":true}", "{\"rooms\":4.5,\"term_months\":6}",
		"{\"rooms\":100001,\"term_months\":1}", "[4,6]", "not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = t_req(&H, 400, "POST", H.op_token, bad[i], "/v1/quote");
		cr_assert(h_err_code(r), "%s", bad[i]);
		json_decref(r);
	}
	json_t *r;
	cr_assert_eq(h_http(&H, "POST", "/v1/quote", NULL, "{\"rooms\":1,\"term_months\":1}", 0,
			    &r), 401);
	json_decref(r);
	t_fail(&H, 405, "method_not_allowed", "GET", H.op_token, NULL, "/v1/quote");
}

/* rooms=2: two meetings start, the third is refused (quota_exceeded, and
 * nothing of it stays), more people join the live ones, and once one
 * meeting is over the next one starts. */
Test(plans, subscription_quota_at_the_boundary)
{
	char *tok, *r[3], *p[3], *extra;
	json_decref(t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":2,"
			       "\"term_months\":1", &tok));
	for (int i = 0; i < 3; i++)
		r[i] = t_room(&H, tok, i == 2 ? "fixed" : "adhoc");
	cr_assert_eq(t_join(&H, tok, r[0], 5000, &p[0], NULL, NULL), 201);
	cr_assert_eq(t_join(&H, tok, r[1], 5002, &p[1], NULL, NULL), 201);
	json_t *e;
	cr_assert_eq(t_join(&H, tok, r[2], 5004, NULL, NULL, &e), 403);
	cr_assert_str_eq(h_err_code(e), "quota_exceeded");
	const char *msg = json_string_value(json_object_get(json_object_get(e, "error"),
							    "message"));
	cr_assert(strstr(msg, "2"), "the message names the quota: %s", msg);
	json_decref(e);
	cr_assert_not(t_live(&H, r[2]));
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 2);
	/* The operator's token is held to the tenant's plan too. */
	cr_assert_eq(t_join(&H, H.op_token, r[2], 5004, NULL, NULL, NULL), 403);
	/* A second participant of a live meeting starts nothing. */
	cr_assert_eq(t_join(&H, tok, r[0], 5006, &extra, NULL, NULL), 201);

	json_t *k = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme");
	cr_assert_eq(t_int(k, "live_meetings"), 2);
	cr_assert_eq(t_int(k, "contract.limits.concurrent_meetings"), 2);
	json_decref(k);

	/* Room 1's meeting ends (its participant leaves): room 3 may start. */
	json_decref(t_req(&H, 204, "DELETE", tok, NULL, "/v1/rooms/%s/participants/%s", r[1], p[1]));
	cr_assert_eq(t_join(&H, tok, r[2], 5004, &p[2], NULL, NULL), 201);
	cr_assert_eq(t_join(&H, tok, r[1], 5008, NULL, NULL, NULL), 403);
	/* Ending a meeting with POST .../end frees its room of the quota too. */
	json_decref(t_req(&H, 204, "POST", tok, "{}", "/v1/rooms/%s/end", r[2]));
	cr_assert_eq(t_join(&H, tok, r[1], 5008, NULL, NULL, NULL), 201);
	for (int i = 0; i < 3; i++)
		free(r[i]);
	free(p[0]);
	free(p[1]);
	free(p[2]);
	free(extra);
	free(tok);
}

/* Rooms of a tenant that was never registered, and the operator's own
 * rooms, have no plan: no quota. */
Test(plans, unregistered_rooms_have_no_plan)
{
	json_t *t = t_req(&H, 201, "POST", H.op_token, "{\"scope\":\"tenant:legacy\"}",
			  "/v1/tokens");
	char *tok = strdup(t_str(t, "token"));
	json_decref(t);
	for (int i = 0; i < 5; i++) {
		char *rid = t_room(&H, i % 2 ? tok : H.op_token, "adhoc");
		cr_assert_eq(t_join(&H, i % 2 ? tok : H.op_token, rid, 5000 + 2 * i, NULL, NULL,
				    NULL), 201);
		free(rid);
	}
	free(tok);
}

/* Every meeting holds at most 100 participants (capacity is at most 100;
 * the plan check holds the line as well). */
Test(plans, at_most_100_participants)
{
	char *tok;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &tok));
	char *rid = t_room(&H, tok, "adhoc");
	json_t *r = t_req(&H, 400, "POST", tok, "{\"name\":\"big\",\"capacity\":101}", "/v1/rooms");
	json_decref(r);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(t_join(&H, tok, rid, 6000 + 2 * i, NULL, NULL, NULL), 201, "join %d", i);
	json_t *e;
	cr_assert_eq(t_join(&H, tok, rid, 7000, NULL, NULL, &e), 409);
	cr_assert_str_eq(h_err_code(e), "room_full");
	json_decref(e);
	free(rid);
	free(tok);
}

static bool has_ended_event(const char *rid, const char *reason)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE room_id='%s' AND "
		 "type='room.ended' AND json_extract(data,'$.reason')='%s'", rid, reason);
	return h_db_count(&H, sql) == 1;
}

/* mmdp was told to drop room rid (a room.del, alone or in a batch). */
static bool mmdp_got_room_del(const char *rid, int ms)
{
	for (int t = 0; t < ms; t += 100) {
		json_t *reqs = h_rec_take();
		size_t i, j;
		json_t *q, *o;
		bool found = false;
		json_array_foreach(reqs, i, q) {
			json_t *ops = json_object_get(q, "ops");
			if (!ops) {
				ops = json_array();
				json_array_append(ops, q);
			} else {
				json_incref(ops);
			}
			json_array_foreach(ops, j, o)
				if (!strcmp(t_str(o, "op"), "room.del") && !strcmp(t_str(o, "room"), rid))
					found = true;
			json_decref(ops);
		}
		json_decref(reqs);
		if (found)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* A trial: before trial_until a meeting runs as long as it likes; after it
 * a meeting has 40 minutes (counted from trial_until for one running then)
 * and the ticker ends it: room.ended (reason time_limit) on the stream and
 * in the events, mmdp told. */
Test(plans, trial_meetings_end_at_40_minutes_after_trial_until)
{
	long long t0 = t_now(&H);
	char plan[96], *tok, *pid, *ptok;
	snprintf(plan, sizeof(plan), "\"plan\":\"trial\",\"trial_until\":%lld", t0 + 10000);
	json_decref(t_register(&H, "acme", plan, &tok));
	char *rid = t_room(&H, tok, "fixed");
	cr_assert_eq(t_join(&H, tok, rid, 5000, &pid, &ptok, NULL), 201);

	/* 50 minutes, still in the trial: not limited. */
	t_advance(&H, 3000);
	usleep(1600 * 1000);
	cr_assert(t_live(&H, rid));

	/* Past trial_until by 39 minutes: still running. */
	t_advance(&H, 7000 + 39 * 60);
	usleep(1600 * 1000);
	cr_assert(t_live(&H, rid));
	json_t *k = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/contract");
	cr_assert_eq(t_int(k, "limits.meeting_minutes"), 40);
	json_decref(k);

	struct h_sse s;
	struct h_sse_event ev = { 0 };
	char path[128];
	snprintf(path, sizeof(path), "/v1/rooms/%s/events", rid);
	cr_assert_eq(h_sse_open(&H, &s, path, ptok, NULL), 200);
	json_decref(h_rec_take());
	/* 40 minutes: the ticker ends it. */
	t_advance(&H, 60);
	cr_assert(t_wait_not_live(&H, rid, 3000), "the ticker did not end the meeting");
	bool seen = false;
	for (int i = 0; i < 20 && !seen; i++) {
		int got = h_sse_next(&s, &ev, 1000);
		if (got < 0)
			break;
		if (got && !strcmp(ev.type, "room.ended")) {
			seen = true;
			cr_assert_str_eq(t_str(ev.data, "reason"), "time_limit");
			cr_assert_str_eq(t_str(ev.data, "by"), "plan");
		}
		json_decref(ev.data);
		ev.data = NULL;
	}
	h_sse_close(&s);
	cr_assert(seen, "no room.ended on the participant's stream");
	cr_assert(has_ended_event(rid, "time_limit"));
	cr_assert(mmdp_got_room_del(rid, 2000), "mmdp got no room.del");
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM participants"), 0);

	/* After trial_until meetings still start (unlimited in number), each
	 * limited from its own start. */
	char *p2;
	cr_assert_eq(t_join(&H, tok, rid, 5002, &p2, NULL, NULL), 201);
	t_advance(&H, 39 * 60);
	usleep(1600 * 1000);
	cr_assert(t_live(&H, rid));
	t_advance(&H, 61);
	cr_assert(t_wait_not_live(&H, rid, 3000));
	free(p2);
	free(pid);
	free(ptok);
	free(rid);
	free(tok);
}

static json_t *contract(const char *tok)
{
	return t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/contract");
}

Test(plans, renew_and_change)
{
	char *tok;
	long long t0 = t_now(&H);
	json_t *reg = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":3,"
				 "\"term_months\":1", &tok);
	long long end1 = t_int(reg, "contract.ends_at");
	cr_assert(end1 >= t0 + 28 * 86400 && end1 <= t0 + 31 * 86400 + 5, "%lld", end1 - t0);
	cr_assert_eq(t_int(reg, "contract.quote.total"), 3 * 500000);
	json_decref(reg);

	/* Renew (the tenant may not: the operator does). */
	t_fail(&H, 403, "forbidden", "POST", tok, "{}", "/v1/tenants/acme/contract/renew");
	json_t *r = t_req(&H, 200, "POST", H.op_token, "{\"term_months\":6}",
			  "/v1/tenants/acme/contract/renew");
	long long end2 = t_int(r, "contract.ends_at");
	cr_assert(end2 >= end1 + 181 * 86400 - 86400 && end2 <= end1 + 184 * 86400,
		  "%lld", end2 - end1);
	cr_assert_eq(t_int(r, "quote.total"), 3 * 6 * 450000);
	cr_assert_eq(t_int(r, "contract.term_months"), 6);
	json_decref(r);
	/* Default: the current term again, from the current end. */
	r = t_req(&H, 200, "POST", H.op_token, "{}", "/v1/tenants/acme/contract/renew");
	cr_assert(t_int(r, "contract.ends_at") > end2 + 180 * 86400);
	json_decref(r);

	/* Bad renewals change nothing. */
	json_t *before = contract(tok);
	t_fail(&H, 400, "invalid_field", "POST", H.op_token, "{\"term_months\":3}",
	       "/v1/tenants/acme/contract/renew");
	t_fail(&H, 400, "invalid_field", "POST", H.op_token, "{\"rooms\":3}",
	       "/v1/tenants/acme/contract/renew");
	t_fail(&H, 400, "invalid_field", "POST", H.op_token, "{\"term_months\":\"6\"}",
	       "/v1/tenants/acme/contract/renew");
	t_fail(&H, 404, "not_found", "POST", H.op_token, "{}", "/v1/tenants/nobody/contract/renew");
	t_fail(&H, 404, "not_found", "POST", H.op_token, "{}", "/v1/tenants/acme/contract/extend");
	json_t *after = contract(tok);
	cr_assert(json_equal(before, after));
	json_decref(after);

	/* Upgrade: 12 rooms for 12 months from now. */
	t_advance(&H, 86400);
	long long t1 = t_now(&H);
	r = t_req(&H, 200, "POST", H.op_token, "{\"rooms\":12,\"term_months\":12}",
		  "/v1/tenants/acme/contract/change");
	cr_assert_eq(t_int(r, "contract.rooms"), 12);
	cr_assert(t_int(r, "contract.starts_at") >= t1);
	cr_assert_str_eq(t_str(r, "quote.tier"), "11+");
	cr_assert_eq(t_int(r, "quote.total"), 12LL * 12 * 300000);
	json_decref(r);
	/* Only the rooms: the term stays. */
	r = t_req(&H, 200, "POST", H.op_token, "{\"rooms\":5}", "/v1/tenants/acme/contract/change");
	cr_assert_eq(t_int(r, "contract.term_months"), 12);
	cr_assert_eq(t_int(r, "quote.price_per_room_month"), 350000);
	json_decref(r);
	t_fail(&H, 400, "missing_field", "POST", H.op_token, "{}",
	       "/v1/tenants/acme/contract/change");
	t_fail(&H, 400, "invalid_field", "POST", H.op_token, "{\"rooms\":0}",
	       "/v1/tenants/acme/contract/change");
	json_decref(before);
	free(tok);
}

Test(plans, a_trial_becomes_a_subscription)
{
	char *tok;
	long long t0 = t_now(&H);
	char plan[96];
	snprintf(plan, sizeof(plan), "\"plan\":\"trial\",\"trial_until\":%lld", t0 + 100);
	json_decref(t_register(&H, "acme", plan, &tok));
	t_fail(&H, 409, "trial_contract", "POST", H.op_token, "{}",
	       "/v1/tenants/acme/contract/renew");
	t_fail(&H, 400, "missing_field", "POST", H.op_token, "{\"rooms\":2}",
	       "/v1/tenants/acme/contract/change");
	json_t *r = t_req(&H, 200, "POST", H.op_token, "{\"rooms\":1,\"term_months\":1}",
			  "/v1/tenants/acme/contract/change");
	cr_assert_str_eq(t_str(r, "contract.plan"), "subscription");
	json_decref(r);
	/* Now the quota of 1 holds, and no 40-minute limit. */
	char *a = t_room(&H, tok, "adhoc"), *b = t_room(&H, tok, "adhoc");
	cr_assert_eq(t_join(&H, tok, a, 5000, NULL, NULL, NULL), 201);
	cr_assert_eq(t_join(&H, tok, b, 5002, NULL, NULL, NULL), 403);
	t_advance(&H, 3600);
	usleep(1600 * 1000);
	cr_assert(t_live(&H, a));
	free(a);
	free(b);
	free(tok);
}

Test(plans, cancel_now_ends_meetings_and_refuses_new_ones)
{
	char *tok;
	json_decref(t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":2,"
			       "\"term_months\":6", &tok));
	char *a = t_room(&H, tok, "fixed");
	cr_assert_eq(t_join(&H, tok, a, 5000, NULL, NULL, NULL), 201);
	t_fail(&H, 400, "invalid_field", "POST", H.op_token, "{\"when\":\"tomorrow\"}",
	       "/v1/tenants/acme/contract/cancel");
	t_fail(&H, 400, "missing_field", "POST", H.op_token, "{}",
	       "/v1/tenants/acme/contract/cancel");
	cr_assert(t_live(&H, a));
	json_decref(h_rec_take());
	json_t *r = t_req(&H, 200, "POST", H.op_token, "{\"when\":\"now\"}",
			  "/v1/tenants/acme/contract/cancel");
	cr_assert_str_eq(t_str(r, "contract.status"), "cancelled");
	json_decref(r);
	cr_assert_not(t_live(&H, a));
	cr_assert(has_ended_event(a, "contract_ended"));
	cr_assert(mmdp_got_room_del(a, 1000));
	json_t *e;
	cr_assert_eq(t_join(&H, tok, a, 5002, NULL, NULL, &e), 403);
	cr_assert_str_eq(h_err_code(e), "contract_inactive");
	json_decref(e);
	t_fail(&H, 409, "contract_inactive", "POST", H.op_token, "{\"when\":\"now\"}",
	       "/v1/tenants/acme/contract/cancel");
	t_fail(&H, 409, "contract_cancelled", "POST", H.op_token, "{}",
	       "/v1/tenants/acme/contract/renew");
	/* A new package (change) brings it back. */
	json_decref(t_req(&H, 200, "POST", H.op_token, "{\"rooms\":1,\"term_months\":1}",
			  "/v1/tenants/acme/contract/change"));
	cr_assert_eq(t_join(&H, tok, a, 5002, NULL, NULL, NULL), 201);
	free(a);
	free(tok);
}

Test(plans, cancel_at_term_end)
{
	char *tok;
	json_t *reg = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":2,"
				 "\"term_months\":1", &tok);
	long long ends = t_int(reg, "contract.ends_at");
	json_decref(reg);
	json_t *r = t_req(&H, 200, "POST", H.op_token, "{\"when\":\"term_end\"}",
			  "/v1/tenants/acme/contract/cancel");
	cr_assert_str_eq(t_str(r, "contract.status"), "active");
	cr_assert_eq(t_int(r, "contract.cancel_at"), ends);
	json_decref(r);
	char *a = t_room(&H, tok, "fixed");
	cr_assert_eq(t_join(&H, tok, a, 5000, NULL, NULL, NULL), 201);
	/* Until the term's end it runs. */
	t_advance(&H, ends - t_now(&H) - 120);
	usleep(1600 * 1000);
	cr_assert(t_live(&H, a));
	t_advance(&H, 121);
	cr_assert(t_wait_not_live(&H, a, 3000));
	cr_assert(has_ended_event(a, "contract_ended"));
	r = contract(tok);
	cr_assert_str_eq(t_str(r, "status"), "cancelled");
	json_decref(r);
	cr_assert_eq(t_join(&H, tok, a, 5002, NULL, NULL, NULL), 403);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM contracts WHERE status='cancelled'"), 1);
	free(a);
	free(tok);
}

Test(plans, expiry_then_renewal)
{
	char *tok;
	json_t *reg = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":1,"
				 "\"term_months\":1", &tok);
	long long ends = t_int(reg, "contract.ends_at");
	json_decref(reg);
	char *a = t_room(&H, tok, "fixed");
	cr_assert_eq(t_join(&H, tok, a, 5000, NULL, NULL, NULL), 201);
	t_advance(&H, ends - t_now(&H) + 1);
	cr_assert(t_wait_not_live(&H, a, 3000));
	cr_assert(has_ended_event(a, "contract_ended"));
	json_t *r = contract(tok);
	cr_assert_str_eq(t_str(r, "status"), "expired");
	json_decref(r);
	json_t *e;
	cr_assert_eq(t_join(&H, tok, a, 5002, NULL, NULL, &e), 403);
	cr_assert_str_eq(h_err_code(e), "contract_inactive");
	json_decref(e);
	/* Renewed after expiry: the term starts now. */
	long long t1 = t_now(&H);
	r = t_req(&H, 200, "POST", H.op_token, "{}", "/v1/tenants/acme/contract/renew");
	cr_assert_str_eq(t_str(r, "contract.status"), "active");
	cr_assert(t_int(r, "contract.ends_at") >= t1 + 28 * 86400);
	json_decref(r);
	cr_assert_eq(t_join(&H, tok, a, 5002, NULL, NULL, NULL), 201);
	free(a);
	free(tok);
}

static int expiring_events(const char *tok)
{
	json_t *r = t_req(&H, 200, "GET", tok, NULL,
			  "/v1/tenants/acme/events?type=contract.expiring");
	int n = (int)json_array_size(json_object_get(r, "events"));
	json_decref(r);
	return n;
}

Test(plans, contract_expiring_raised_once_within_30_days)
{
	char *tok;
	json_t *reg = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":4,"
				 "\"term_months\":12", &tok);
	long long ends = t_int(reg, "contract.ends_at");
	json_decref(reg);
	t_advance(&H, ends - t_now(&H) - 31 * 86400);
	usleep(1600 * 1000);
	cr_assert_eq(expiring_events(tok), 0);
	t_advance(&H, 2 * 86400);
	for (int i = 0; i < 30 && !expiring_events(tok); i++)
		usleep(100 * 1000);
	cr_assert_eq(expiring_events(tok), 1);
	json_t *r = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/events");
	json_t *ev = NULL;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(r, "events"), i, x)
		if (!strcmp(t_str(x, "type"), "contract.expiring"))
			ev = x;
	cr_assert(ev);
	cr_assert_eq(t_int(ev, "ends_at"), ends);
	cr_assert_eq(t_int(ev, "days_left"), 29);
	json_decref(r);
	/* Once per term. */
	t_advance(&H, 86400);
	usleep(1600 * 1000);
	cr_assert_eq(expiring_events(tok), 1);
	/* A renewal starts a new term: raised again near its end. */
	r = t_req(&H, 200, "POST", H.op_token, "{\"term_months\":1}",
		  "/v1/tenants/acme/contract/renew");
	long long ends2 = t_int(r, "contract.ends_at");
	json_decref(r);
	usleep(1600 * 1000);
	cr_assert_eq(expiring_events(tok), 1);
	t_advance(&H, ends2 - t_now(&H) - 10 * 86400);
	for (int i = 0; i < 30 && expiring_events(tok) < 2; i++)
		usleep(100 * 1000);
	cr_assert_eq(expiring_events(tok), 2);
	/* Another tenant's token does not read them. */
	char *other;
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &other));
	t_fail(&H, 403, "forbidden", "GET", other, NULL, "/v1/tenants/acme/events");
	free(other);
	free(tok);
}

/* Terms are calendar months: Jan 31 + 1 month is the end of February (a
 * leap year's 29th), and a year from Feb 29 is Feb 28. */
Test(plans, terms_are_calendar_months)
{
	char *tok;
	json_decref(t_req(&H, 200, "PUT", H.op_token, "{\"now\":1832925600}", "/v1/clock"));
	json_t *reg = t_register(&H, "acme", "\"plan\":\"subscription\",\"rooms\":1,"
				 "\"term_months\":1", &tok);
	long long start = t_int(reg, "contract.starts_at");
	long long ends = t_int(reg, "contract.ends_at");
	json_decref(reg);
	/* 2028-01-31 10:00:00Z -> 2028-02-29 10:00:00Z (the test takes < 3 s). */
	cr_assert(start >= 1832925600 && start <= 1832925603, "%lld", start);
	cr_assert_eq(ends - start, 1835431200LL - 1832925600LL, "%lld", ends - start);
	json_t *r = t_req(&H, 200, "POST", H.op_token, "{\"term_months\":12}",
			  "/v1/tenants/acme/contract/renew");
	/* -> 2029-02-28 10:00:00Z */
	cr_assert_eq(t_int(r, "contract.ends_at") - ends, 1866967200LL - 1835431200LL);
	json_decref(r);
	free(tok);
}
