/* Tenants (issue 9 item 1) against a real mmctld: registration and its
 * credentials, units and accounts and their refusals, fixed rooms' access
 * lists, deleting a tenant. */
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

TestSuite(tenants, .init = setup, .fini = teardown, .timeout = 60);

Test(tenants, register_gives_working_credentials)
{
	long long t0 = t_now(&H);
	char *tok;
	json_t *reg = t_register(&H, "acme", "\"plan\":\"trial\"", &tok);
	cr_assert_str_eq(t_str(reg, "id"), "acme");
	cr_assert_str_eq(t_str(reg, "name"), "acme Ltd");
	cr_assert_str_eq(t_str(reg, "contract.plan"), "trial");
	cr_assert_str_eq(t_str(reg, "contract.status"), "active");
	/* trial_days defaults to 30. */
	long long until = t_int(reg, "contract.trial_until");
	cr_assert(until >= t0 + 30 * 86400 && until <= t0 + 30 * 86400 + 5);
	cr_assert_str_eq(t_str(reg, "admin.role"), "admin");
	cr_assert_str_eq(t_str(reg, "admin.email"), "admin@acme.example");
	cr_assert_str_eq(t_str(reg, "credentials.scope"), "tenant:acme");
	const char *secret = t_str(reg, "credentials.join_secret");
	cr_assert_eq(strlen(secret), 64, "32 bytes in hex: %s", secret);
	cr_assert_eq(strspn(secret, "0123456789abcdef"), strlen(secret));
	char *admin = strdup(t_str(reg, "admin.id"));
	cr_assert_eq(admin[0], 'a');

	/* The token works: it creates and lists its rooms. */
	char *rid = t_room(&H, tok, "fixed");
	json_t *l = t_req(&H, 200, "GET", tok, NULL, "/v1/rooms");
	cr_assert_eq(json_array_size(json_object_get(l, "rooms")), 1);
	cr_assert_str_eq(t_str(json_array_get(json_object_get(l, "rooms"), 0), "id"), rid);
	json_decref(l);
	json_t *t = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme");
	cr_assert_str_eq(t_str(t, "join_secret"), secret);
	cr_assert_eq(t_int(t, "live_meetings"), 0);
	json_decref(t);
	l = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/accounts");
	cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 1);
	cr_assert_str_eq(t_str(json_array_get(json_object_get(l, "accounts"), 0), "id"), admin);
	json_decref(l);
	/* ... but it is not an operator's. */
	t_fail(&H, 403, "forbidden", "GET", tok, NULL, "/v1/tenants");
	t_fail(&H, 403, "forbidden", "POST", tok, "{}", "/v1/tenants");
	t_fail(&H, 403, "forbidden", "DELETE", tok, NULL, "/v1/tenants/acme");
	t_fail(&H, 403, "forbidden", "PATCH", tok, "{\"name\":\"x\"}", "/v1/tenants/acme");

	/* A subscription: its quote in the contract. */
	char *tok2;
	json_t *reg2 = t_register(&H, "globex", "\"plan\":\"subscription\",\"rooms\":5,"
				  "\"term_months\":6", &tok2);
	cr_assert_eq(t_int(reg2, "contract.quote.total"), 5 * 6 * 400000);
	cr_assert_str_neq(t_str(reg2, "credentials.join_secret"), secret);
	json_decref(reg2);
	t_fail(&H, 403, "forbidden", "GET", tok2, NULL, "/v1/tenants/acme");
	t_fail(&H, 403, "forbidden", "GET", tok2, NULL, "/v1/tenants/acme/units");

	l = t_req(&H, 200, "GET", H.op_token, NULL, "/v1/tenants");
	cr_assert_eq(json_array_size(json_object_get(l, "tenants")), 2);
	cr_assert_str_eq(t_str(json_array_get(json_object_get(l, "tenants"), 1), "contract.plan"),
			 "subscription");
	json_decref(l);
	t = t_req(&H, 200, "PATCH", H.op_token, "{\"name\":\"Acme Corporation\"}",
		  "/v1/tenants/acme");
	cr_assert_str_eq(t_str(t, "name"), "Acme Corporation");
	json_decref(t);
	json_decref(reg);
	free(admin);
	free(rid);
	free(tok);
	free(tok2);
}

Test(tenants, bad_registrations_change_nothing)
{
	static const char *const bad[] = {
		"{\"id\":\"a b\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\"}",
		"{\"id\":\"\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\"},\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"not-an-email\"},"
		"\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\","
		"\"phone\":1},\"plan\":\"trial\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"gold\"}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"}}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\",\"rooms\":3}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"subscription\",\"rooms\":3}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"subscription\",\"rooms\":3,\"term_months\":2}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"subscription\",\"rooms\":0,\"term_months\":1}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"subscription\",\"rooms\":1,\"term_months\":1,\"trial_until\":5}",
		"{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\",\"quota\":1}",
		"{\"id\":7,\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
		"\"plan\":\"trial\"}",
		"not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = t_req(&H, 400, "POST", H.op_token, bad[i], "/v1/tenants");
		cr_assert(h_err_code(r), "%s", bad[i]);
		json_decref(r);
	}
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM tenants"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM accounts"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM tokens WHERE scope LIKE 'tenant:%'"), 0);
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", NULL));
	t_fail(&H, 409, "tenant_exists", "POST", H.op_token,
	       "{\"id\":\"acme\",\"name\":\"A\",\"admin\":{\"name\":\"x\",\"email\":\"x@a.vn\"},"
	       "\"plan\":\"trial\"}", "/v1/tenants");
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM accounts"), 1);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM tokens WHERE scope='tenant:acme'"), 1);
	t_fail(&H, 404, "not_found", "GET", H.op_token, NULL, "/v1/tenants/nobody");
	t_fail(&H, 404, "not_found", "GET", H.op_token, NULL, "/v1/tenants/acme/nothing");
	t_fail(&H, 405, "method_not_allowed", "PUT", H.op_token, "{}", "/v1/tenants/acme");
}

static char *create(const char *tok, const char *what, const char *body)
{
	json_t *r = t_req(&H, 201, "POST", tok, body, "/v1/tenants/acme/%s", what);
	char *id = strdup(t_str(r, "id"));
	json_decref(r);
	return id;
}

Test(tenants, units_and_accounts)
{
	char *tok, *gtok;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &tok));
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &gtok));
	char *sales = create(tok, "units", "{\"name\":\"Sales\"}");
	char *ops = create(H.op_token, "units", "{\"name\":\"Operations\"}");
	cr_assert_eq(sales[0], 'u');
	json_t *g = t_req(&H, 201, "POST", gtok, "{\"name\":\"Sales\"}", "/v1/tenants/globex/units");
	char *gunit = strdup(t_str(g, "id"));
	json_decref(g);
	g = t_req(&H, 201, "POST", gtok, "{\"name\":\"G\",\"email\":\"g@globex.vn\"}",
		  "/v1/tenants/globex/accounts");
	char *gacct = strdup(t_str(g, "id"));
	json_decref(g);

	/* Units: duplicates, bad fields, another tenant's. */
	t_fail(&H, 409, "unit_exists", "POST", tok, "{\"name\":\"Sales\"}", "/v1/tenants/acme/units");
	t_fail(&H, 400, "missing_field", "POST", tok, "{}", "/v1/tenants/acme/units");
	t_fail(&H, 400, "invalid_field", "POST", tok, "{\"name\":\"\"}", "/v1/tenants/acme/units");
	t_fail(&H, 400, "invalid_field", "POST", tok, "{\"name\":3}", "/v1/tenants/acme/units");
	t_fail(&H, 400, "invalid_field", "POST", tok, "{\"name\":\"X\",\"head\":\"y\"}",
	       "/v1/tenants/acme/units");
	t_fail(&H, 404, "not_found", "PATCH", tok, "{\"name\":\"Mine\"}", "/v1/tenants/acme/units/%s",
	       gunit);
	t_fail(&H, 404, "not_found", "DELETE", tok, NULL, "/v1/tenants/acme/units/%s", gunit);
	t_fail(&H, 409, "unit_exists", "PATCH", tok, "{\"name\":\"Operations\"}",
	       "/v1/tenants/acme/units/%s", sales);
	json_t *u = t_req(&H, 200, "PATCH", tok, "{\"name\":\"Sales and Marketing\"}",
			  "/v1/tenants/acme/units/%s", sales);
	cr_assert_str_eq(t_str(u, "name"), "Sales and Marketing");
	json_decref(u);
	u = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/units");
	cr_assert_eq(json_array_size(json_object_get(u, "units")), 2);
	json_decref(u);

	/* Accounts: in a unit, with a role; email is one per tenant, in any case. */
	char body[256];
	snprintf(body, sizeof(body), "{\"name\":\"Ann\",\"email\":\"Ann@Acme.VN\",\"unit\":\"%s\"}",
		 sales);
	json_t *a = t_req(&H, 201, "POST", tok, body, "/v1/tenants/acme/accounts");
	char *ann = strdup(t_str(a, "id"));
	cr_assert_str_eq(t_str(a, "email"), "ann@acme.vn");
	cr_assert_str_eq(t_str(a, "role"), "user");
	cr_assert_str_eq(t_str(a, "unit"), sales);
	json_decref(a);
	snprintf(body, sizeof(body), "{\"name\":\"Bob\",\"email\":\"bob@acme.vn\",\"unit\":\"%s\","
		 "\"role\":\"admin\"}", sales);
	char *bob = create(H.op_token, "accounts", body);
	char *cat = create(tok, "accounts", "{\"name\":\"Cat\",\"email\":\"cat@acme.vn\"}");
	t_fail(&H, 409, "email_taken", "POST", tok, "{\"name\":\"Ann 2\",\"email\":\"ANN@acme.vn\"}",
	       "/v1/tenants/acme/accounts");
	t_fail(&H, 409, "email_taken", "PATCH", tok, "{\"email\":\"bob@acme.vn\"}",
	       "/v1/tenants/acme/accounts/%s", cat);
	/* The same email in another tenant is another account. */
	json_decref(t_req(&H, 201, "POST", gtok, "{\"name\":\"Ann\",\"email\":\"ann@acme.vn\"}",
			  "/v1/tenants/globex/accounts"));
	static const char *const bad[] = {
		"{\"email\":\"d@acme.vn\"}", "{\"name\":\"D\"}", "{\"name\":\"D\",\"email\":\"d\"}",
		"{\"name\":\"D\",\"email\":\"d@acme\"}", "{\"name\":\"D\",\"email\":\"d @acme.vn\"}",
		"{\"name\":\"D\",\"email\":\"d@acme.vn\",\"role\":\"owner\"}",
		"{\"name\":\"D\",\"email\":\"d@acme.vn\",\"unit\":\"unothere\"}",
		"{\"name\":\"D\",\"email\":\"d@acme.vn\",\"password\":\"x\"}",
		"{\"name\":\"D\",\"email\":\"d@acme.vn\",\"role\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = t_req(&H, 400, "POST", tok, bad[i], "/v1/tenants/acme/accounts");
		json_decref(r);
	}
	/* Another tenant's unit is not one of ours. */
	snprintf(body, sizeof(body), "{\"name\":\"D\",\"email\":\"d@acme.vn\",\"unit\":\"%s\"}",
		 gunit);
	t_fail(&H, 400, "invalid_field", "POST", tok, body, "/v1/tenants/acme/accounts");
	snprintf(body, sizeof(body), "{\"unit\":\"%s\"}", gunit);
	t_fail(&H, 400, "invalid_field", "PATCH", tok, body, "/v1/tenants/acme/accounts/%s", cat);
	t_fail(&H, 404, "not_found", "PATCH", tok, "{\"name\":\"x\"}",
	       "/v1/tenants/acme/accounts/%s", gacct);
	t_fail(&H, 404, "not_found", "DELETE", tok, NULL, "/v1/tenants/acme/accounts/%s", gacct);
	t_fail(&H, 400, "missing_field", "PATCH", tok, "{}", "/v1/tenants/acme/accounts/%s", cat);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM accounts WHERE tenant='acme'"), 4);

	/* Edit: rename, move into a unit, out of it (null), role. */
	snprintf(body, sizeof(body), "{\"name\":\"Catherine\",\"unit\":\"%s\"}", ops);
	a = t_req(&H, 200, "PATCH", tok, body, "/v1/tenants/acme/accounts/%s", cat);
	cr_assert_str_eq(t_str(a, "name"), "Catherine");
	cr_assert_str_eq(t_str(a, "unit"), ops);
	cr_assert_str_eq(t_str(a, "email"), "cat@acme.vn");
	json_decref(a);
	a = t_req(&H, 200, "PATCH", tok, "{\"unit\":null,\"role\":\"admin\"}",
		  "/v1/tenants/acme/accounts/%s", cat);
	cr_assert(json_is_null(json_object_get(a, "unit")));
	cr_assert_str_eq(t_str(a, "role"), "admin");
	json_decref(a);
	a = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/accounts?unit=%s", sales);
	cr_assert_eq(json_array_size(json_object_get(a, "accounts")), 2);
	json_decref(a);

	/* Deleting a unit leaves its accounts in no unit. */
	json_decref(t_req(&H, 204, "DELETE", tok, NULL, "/v1/tenants/acme/units/%s", sales));
	t_fail(&H, 404, "not_found", "GET", tok, NULL, "/v1/tenants/acme/units/%s", sales);
	a = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/accounts/%s", ann);
	cr_assert(json_is_null(json_object_get(a, "unit")));
	json_decref(a);
	a = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/accounts/%s", bob);
	cr_assert(json_is_null(json_object_get(a, "unit")));
	json_decref(a);

	/* A tenant keeps an administrator. */
	json_t *l = t_req(&H, 200, "GET", tok, NULL, "/v1/tenants/acme/accounts");
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(l, "accounts"), i, x)
		if (!strcmp(t_str(x, "role"), "admin") && strcmp(t_str(x, "id"), cat))
			json_decref(t_req(&H, 204, "DELETE", tok, NULL,
					  "/v1/tenants/acme/accounts/%s", t_str(x, "id")));
	json_decref(l);
	t_fail(&H, 409, "last_admin", "DELETE", tok, NULL, "/v1/tenants/acme/accounts/%s", cat);
	t_fail(&H, 409, "last_admin", "PATCH", tok, "{\"role\":\"user\"}",
	       "/v1/tenants/acme/accounts/%s", cat);
	json_decref(t_req(&H, 204, "DELETE", tok, NULL, "/v1/tenants/acme/accounts/%s", ann));
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM accounts WHERE tenant='acme'"), 1);
	free(ann);
	free(bob);
	free(cat);
	free(sales);
	free(ops);
	free(gunit);
	free(gacct);
	free(tok);
	free(gtok);
}

Test(tenants, fixed_room_access)
{
	char *tok, *gtok;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &tok));
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &gtok));
	char *unit = create(tok, "units", "{\"name\":\"Board\"}");
	char *acct = create(tok, "accounts", "{\"name\":\"Ann\",\"email\":\"ann@acme.vn\"}");
	char *acct2 = create(tok, "accounts", "{\"name\":\"Bob\",\"email\":\"bob@acme.vn\"}");
	json_t *g = t_req(&H, 201, "POST", gtok, "{\"name\":\"Board\"}", "/v1/tenants/globex/units");
	char *gunit = strdup(t_str(g, "id"));
	json_decref(g);
	char *fixed = t_room(&H, tok, "fixed"), *adhoc = t_room(&H, tok, "adhoc");
	char body[256];

	json_t *r = t_req(&H, 200, "GET", tok, NULL, "/v1/rooms/%s/access", fixed);
	cr_assert_not(json_is_true(json_object_get(r, "restricted")));
	json_decref(r);
	snprintf(body, sizeof(body), "{\"units\":[\"%s\"],\"accounts\":[\"%s\",\"%s\"]}", unit, acct,
		 acct2);
	r = t_req(&H, 200, "PUT", tok, body, "/v1/rooms/%s/access", fixed);
	cr_assert(json_is_true(json_object_get(r, "restricted")));
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "units"), 0)), unit);
	cr_assert_eq(json_array_size(json_object_get(r, "accounts")), 2);
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM room_access"), 3);

	/* Refused, changing nothing: another tenant's unit, unknown ids, an
	 * ad-hoc room, a room of an unregistered tenant, another tenant. */
	snprintf(body, sizeof(body), "{\"units\":[\"%s\"]}", gunit);
	t_fail(&H, 400, "invalid_field", "PUT", tok, body, "/v1/rooms/%s/access", fixed);
	t_fail(&H, 400, "invalid_field", "PUT", tok, "{\"accounts\":[\"anothere\"]}",
	       "/v1/rooms/%s/access", fixed);
	t_fail(&H, 400, "invalid_field", "PUT", tok, "{\"accounts\":[7]}", "/v1/rooms/%s/access",
	       fixed);
	t_fail(&H, 400, "invalid_field", "PUT", tok, "{\"groups\":[]}", "/v1/rooms/%s/access",
	       fixed);
	t_fail(&H, 409, "not_fixed", "PUT", tok, "{\"units\":[]}", "/v1/rooms/%s/access", adhoc);
	t_fail(&H, 403, "forbidden", "PUT", gtok, "{\"units\":[]}", "/v1/rooms/%s/access", fixed);
	t_fail(&H, 403, "forbidden", "GET", gtok, NULL, "/v1/rooms/%s/access", fixed);
	json_t *lr = t_req(&H, 201, "POST", H.op_token,
			   "{\"name\":\"legacy\",\"kind\":\"fixed\",\"tenant\":\"legacy\"}", "/v1/rooms");
	t_fail(&H, 409, "tenant_not_registered", "PUT", H.op_token, "{\"units\":[]}",
	       "/v1/rooms/%s/access", t_str(lr, "id"));
	json_decref(lr);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM room_access"), 3);

	/* Deleting a unit or an account takes it off the list. */
	json_decref(t_req(&H, 204, "DELETE", tok, NULL, "/v1/tenants/acme/units/%s", unit));
	json_decref(t_req(&H, 204, "DELETE", tok, NULL, "/v1/tenants/acme/accounts/%s", acct2));
	r = t_req(&H, 200, "GET", H.op_token, NULL, "/v1/rooms/%s/access", fixed);
	cr_assert_eq(json_array_size(json_object_get(r, "units")), 0);
	cr_assert_eq(json_array_size(json_object_get(r, "accounts")), 1);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "accounts"), 0)), acct);
	json_decref(r);
	/* Empty lists: no restriction. */
	r = t_req(&H, 200, "PUT", tok, "{}", "/v1/rooms/%s/access", fixed);
	cr_assert_not(json_is_true(json_object_get(r, "restricted")));
	json_decref(r);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM room_access"), 0);
	free(unit);
	free(acct);
	free(acct2);
	free(gunit);
	free(fixed);
	free(adhoc);
	free(tok);
	free(gtok);
}

/* Deleting a tenant ends its meetings, deletes its rooms and revokes its
 * token; other tenants are untouched. */
Test(tenants, delete_ends_meetings_and_rooms)
{
	char *tok, *gtok;
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", &tok));
	json_decref(t_register(&H, "globex", "\"plan\":\"trial\"", &gtok));
	free(create(tok, "units", "{\"name\":\"Board\"}"));
	char *fixed = t_room(&H, tok, "fixed"), *idle = t_room(&H, tok, "adhoc");
	char *groom = t_room(&H, gtok, "adhoc");
	cr_assert_eq(t_join(&H, tok, fixed, 5000, NULL, NULL, NULL), 201);
	cr_assert_eq(t_join(&H, gtok, groom, 5002, NULL, NULL, NULL), 201);
	json_decref(h_rec_take());
	json_decref(t_req(&H, 204, "DELETE", H.op_token, NULL, "/v1/tenants/acme"));
	t_fail(&H, 404, "not_found", "GET", H.op_token, NULL, "/v1/rooms/%s", fixed);
	t_fail(&H, 404, "not_found", "GET", H.op_token, NULL, "/v1/rooms/%s", idle);
	t_fail(&H, 404, "not_found", "GET", H.op_token, NULL, "/v1/tenants/acme");
	json_t *r;
	cr_assert_eq(h_http(&H, "GET", "/v1/rooms", tok, NULL, 0, &r), 401);
	json_decref(r);
	json_t *reqs = h_rec_take();
	char *text = json_dumps(reqs, JSON_COMPACT);
	cr_assert(strstr(text, fixed) && strstr(text, "room.del"), "%s", text);
	free(text);
	json_decref(reqs);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM units"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM accounts WHERE tenant='acme'"), 0);
	cr_assert_eq(h_db_count(&H, "SELECT count(*) FROM contracts"), 1);
	cr_assert(t_live(&H, groom));
	t_fail(&H, 404, "not_found", "DELETE", H.op_token, NULL, "/v1/tenants/acme");
	/* The id is free again. */
	json_decref(t_register(&H, "acme", "\"plan\":\"trial\"", NULL));
	free(fixed);
	free(idle);
	free(groom);
	free(tok);
	free(gtok);
}
