/* The agent protocol: every error code, and that a refused request
 * changes nothing (docs/agent-protocol.md). */
#include "harness.h"

static struct mm_tables T;
static struct mm_agent A;

static void setup(void)
{
	struct mm_dp_conf c;
	h_conf(&c, 2);
	urcu_qsbr_register_thread();
	cr_assert_eq(mm_tables_init(&T, &c), 0);
	A.t = &T;
}

static void teardown(void)
{
	mm_tables_fini(&T);
	urcu_qsbr_unregister_thread();
	H_ASSERT_NO_LEAKS();
}

TestSuite(agent, .init = setup, .fini = teardown);

/* A fingerprint of the whole state, to prove a refusal changed nothing. */
static char *state_dump(void)
{
	json_t *r = h_agent(&A, "{\"op\":\"room.list\"}");
	json_t *e = json_array();
	size_t i, j;
	json_t *room, *name;
	json_array_foreach(json_object_get(r, "rooms"), i, room)
		json_array_foreach(json_object_get(room, "endpoints"), j, name) {
			char line[256];
			snprintf(line, sizeof(line), "{\"op\":\"endpoint.get\",\"endpoint\":\"%s\"}",
				 json_string_value(name));
			json_array_append_new(e, h_agent(&A, "%s", line));
		}
	json_object_set_new(r, "eps", e);
	char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(r);
	return s;
}

static void populate(void)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":2}");
	H_OK(&A, H_EP_FMT, "a", "r1", 40001, "198.18.1.1", 5001, 1, 2, "");
	H_OK(&A, H_EP_FMT, "b", "r1", 40002, "198.18.1.2", 5002, 3, 4, "");
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r2\"}");
}

Test(agent, hello_reports_version_and_counts)
{
	populate();
	json_t *r = h_agent(&A, "{\"op\":\"hello\",\"id\":42}");
	cr_assert(h_ok(r));
	cr_assert_eq(json_integer_value(json_object_get(r, "version")), 1);
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 42, "id is echoed");
	cr_assert_eq(json_integer_value(json_object_get(r, "rooms")), 2);
	cr_assert_eq(json_integer_value(json_object_get(r, "endpoints")), 2);
	cr_assert_eq(json_integer_value(json_object_get(r, "workers")), 2);
	json_decref(r);
}

Test(agent, malformed_requests_get_stable_codes_and_change_nothing)
{
	populate();
	char *before = state_dump();
	H_ERR(&A, "parse_error", "{\"op\":\"room.put\",");
	H_ERR(&A, "invalid_request", "[1,2]");
	H_ERR(&A, "invalid_request", "{\"room\":\"r1\"}");
	H_ERR(&A, "unknown_op", "{\"op\":\"room.explode\"}");
	H_ERR(&A, "missing_field", "{\"op\":\"room.put\"}");
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"bad name!\"}");
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"r3\",\"capacity\":101}");
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"r3\",\"capacity\":\"5\"}");
	H_ERR(&A, "room_full", "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":1}");
	H_ERR(&A, "not_found", "{\"op\":\"room.del\",\"room\":\"nope\"}");
	H_ERR(&A, "not_found", "{\"op\":\"endpoint.del\",\"endpoint\":\"nope\"}");
	H_ERR(&A, "not_found", H_EP_FMT, "c", "nope", 40003, "198.18.1.3", 5003, 5, 6, "");
	H_ERR(&A, "room_full", H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 5, 6, "");
	H_ERR(&A, "conflict", H_EP_FMT, "c", "r2", 40001, "198.18.1.1", 5001, 5, 6, "");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 40003, "198.18.1.333", 5003, 5, 6, "");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 0, "198.18.1.3", 5003, 5, 6, "");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 40003, "2001:2::5", 5003, 5, 6, "");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 40003, "198.18.1.3", 5003, 5, 5, "");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 40003, "198.18.1.3", 5003, 5, 6,
	      ",\"mac\":\"02:00:00\"");
	H_ERR(&A, "invalid_field", H_EP_FMT, "c", "r2", 40003, "198.18.1.3", 5003, 5, 6,
	      ",\"audio_muted\":1");
	H_ERR(&A, "missing_field",
	      "{\"op\":\"endpoint.put\",\"endpoint\":\"c\",\"room\":\"r2\","
	      "\"remote\":{\"addr\":\"198.18.1.3\",\"port\":1}}");
	H_ERR(&A, "not_local",
	      "{\"op\":\"endpoint.put\",\"endpoint\":\"c\",\"room\":\"r2\","
	      "\"local\":{\"addr\":\"198.18.0.99\",\"port\":1},"
	      "\"remote\":{\"addr\":\"198.18.1.3\",\"port\":1}}");
	H_ERR(&A, "limit",
	      "{\"op\":\"endpoint.put\",\"endpoint\":\"c\",\"room\":\"r2\","
	      "\"local\":{\"addr\":\"198.18.0.1\",\"port\":1},"
	      "\"remote\":{\"addr\":\"198.18.1.3\",\"port\":1},\"streams\":["
	      "{\"ssrc\":1,\"kind\":\"audio\"},{\"ssrc\":2,\"kind\":\"audio\"},"
	      "{\"ssrc\":3,\"kind\":\"audio\"},{\"ssrc\":4,\"kind\":\"audio\"},"
	      "{\"ssrc\":5,\"kind\":\"audio\"},{\"ssrc\":6,\"kind\":\"audio\"},"
	      "{\"ssrc\":7,\"kind\":\"audio\"},{\"ssrc\":8,\"kind\":\"audio\"},"
	      "{\"ssrc\":9,\"kind\":\"audio\"}]}");
	H_ERR(&A, "invalid_field",
	      "{\"op\":\"endpoint.put\",\"endpoint\":\"c\",\"room\":\"r2\","
	      "\"local\":{\"addr\":\"198.18.0.1\",\"port\":1},"
	      "\"remote\":{\"addr\":\"198.18.1.3\",\"port\":1},"
	      "\"streams\":[{\"ssrc\":1,\"kind\":\"smell\"}]}");
	H_ERR(&A, "not_found", "{\"op\":\"route.put\",\"room\":\"r1\",\"mode\":\"explicit\","
			       "\"subscriptions\":{\"a\":[\"ghost\"]}}");
	H_ERR(&A, "invalid_field", "{\"op\":\"route.put\",\"room\":\"r1\",\"mode\":\"some\"}");
	H_ERR(&A, "parse_error", "{\"op\":\"room.put\",\"room\":\"r9\",\"room\":\"r8\"}");
	char *after = state_dump();
	cr_assert_str_eq(before, after, "a refused request changed the state");
	free(before);
	free(after);
}

/* A reply quotes the request (jansson's parse error shows the bytes where
 * it stopped; an unknown op is echoed, cut at 64 bytes): with bytes that
 * are not UTF-8 the reply must still come, in ASCII (found by
 * tests/fuzz/fuzz_agent.c: no reply at all). */
static void expect_error_reply(const char *line, size_t len, const char *code)
{
	char *out = mm_agent_handle(&A, line, len);
	cr_assert_not_null(out, "a reply to a request that is not UTF-8");
	json_t *r = json_loads(out, 0, NULL);
	cr_assert_not_null(r, "the reply is JSON: %s", out);
	cr_assert(json_is_false(json_object_get(r, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "code")), code);
	json_decref(r);
	free(out);
}

Test(agent, requests_that_are_not_utf8_get_a_reply)
{
	populate();
	char *before = state_dump();
	static const char bad_escape[] = "{\"endpoint\":\"e-\\\xcd\xb1\xfe~H\0\0-------5\",\"op\":\"endpoint.put\"}";
	expect_error_reply(bad_escape, sizeof(bad_escape) - 1, "parse_error");
	/* an op of 63 ASCII bytes then a 2-byte character: "%.64s" cuts it */
	char op[160];
	snprintf(op, sizeof(op), "{\"op\":\"%s\xc3\xa9\"}",
		 "room.explodexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	expect_error_reply(op, strlen(op), "unknown_op");
	char *after = state_dump();
	cr_assert_str_eq(after, before, "nothing changed");
	free(before);
	free(after);
}

Test(agent, error_names_the_field)
{
	json_t *r = h_agent(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"room.put\",\"room\":\"ok\"},"
				"{\"op\":\"room.put\",\"room\":\"r\",\"capacity\":0}]}");
	cr_assert(!h_ok(r));
	json_t *e = json_object_get(r, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "field")), "ops[1].capacity");
	cr_assert_eq(json_integer_value(json_object_get(e, "index")), 1);
	json_decref(r);
}

Test(agent, batch_is_all_or_nothing)
{
	populate();
	char *before = state_dump();
	/* the third op conflicts with the first: nothing may be applied */
	H_ERR(&A, "conflict",
	      "{\"op\":\"batch\",\"ops\":["
	      "{\"op\":\"room.put\",\"room\":\"r3\"},"
	      H_EP_FMT ","
	      H_EP_FMT "]}",
	      "x", "r3", 41000, "198.18.3.1", 6000, 10, 11, "",
	      "y", "r3", 41000, "198.18.3.1", 6000, 12, 13, "");
	char *after = state_dump();
	cr_assert_str_eq(before, after);
	free(after);

	/* deleting first frees the 5-tuple and the room slot for a later op */
	H_OK(&A, "{\"op\":\"batch\",\"ops\":["
		 "{\"op\":\"endpoint.del\",\"endpoint\":\"a\"},"
		 H_EP_FMT "]}",
	     "z", "r1", 40001, "198.18.1.1", 5001, 20, 21, "");
	json_t *r = h_agent(&A, "{\"op\":\"room.get\",\"room\":\"r1\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "count")), 2);
	json_decref(r);
	/* room.del inside a batch takes its endpoints with it */
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"room.del\",\"room\":\"r1\"},"
		 "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":1}," H_EP_FMT "]}",
	     "b", "r1", 40002, "198.18.1.2", 5002, 3, 4, "");
	r = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "endpoints")), 1);
	json_decref(r);
	H_ERR(&A, "not_found", "{\"op\":\"endpoint.get\",\"endpoint\":\"z\"}");
	free(before);
}

Test(agent, generations_refuse_stale_changes)
{
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\",\"generation\":5}");
	H_ERR(&A, "stale_generation", "{\"op\":\"room.put\",\"room\":\"r2\",\"generation\":4}");
	H_ERR(&A, "not_found", "{\"op\":\"room.get\",\"room\":\"r2\"}");
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r2\",\"generation\":5}");
	json_t *r = h_agent(&A, "{\"op\":\"room.put\",\"room\":\"r3\",\"generation\":9}");
	cr_assert_eq(json_integer_value(json_object_get(r, "generation")), 9);
	json_decref(r);
	H_ERR(&A, "invalid_field", "{\"op\":\"room.put\",\"room\":\"r4\",\"generation\":-1}");
}

Test(agent, state_sync_replaces_everything_and_keeps_unchanged_endpoints)
{
	populate();
	struct mm_endpoint *a_before = mm_tables_endpoint(&T, "a");
	a_before->rx_packets = 77; /* as if a worker had counted */
	H_OK(&A,
	     "{\"op\":\"state.sync\",\"generation\":3,"
	     "\"rooms\":[{\"room\":\"r1\",\"capacity\":5,"
	     "\"route\":{\"mode\":\"explicit\",\"subscriptions\":{\"a\":[\"c\"]}}},"
	     "{\"room\":\"r9\"}],"
	     "\"endpoints\":["
	     "{\"endpoint\":\"a\",\"room\":\"r1\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	     "\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
	     "\"streams\":[{\"ssrc\":1,\"kind\":\"audio\"},{\"ssrc\":2,\"kind\":\"video\"}],"
	     "\"audio_muted\":true},"
	     "{\"endpoint\":\"c\",\"room\":\"r1\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},"
	     "\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002}}]}");
	cr_assert_eq(mm_tables_endpoint(&T, "a"), a_before, "unchanged endpoint kept in place");
	cr_assert_eq(a_before->rx_packets, 77);
	cr_assert(a_before->conf->audio_muted);
	cr_assert_null(mm_tables_endpoint(&T, "b"), "b not listed: removed");
	cr_assert_null(mm_tables_room(&T, "r2"), "r2 not listed: removed");
	cr_assert_not_null(mm_tables_room(&T, "r9"));
	/* c took b's old 5-tuple in the same sync */
	struct mm_endpoint *c = mm_tables_endpoint(&T, "c");
	cr_assert_not_null(c);
	cr_assert_eq(c->key.lport, 40002);
	json_t *r = h_agent(&A, "{\"op\":\"room.get\",\"room\":\"r1\"}");
	cr_assert_str_eq(json_string_value(json_object_get(r, "route")), "explicit");
	cr_assert_eq(json_integer_value(json_object_get(r, "capacity")), 5);
	json_decref(r);

	/* an invalid sync changes nothing */
	char *before = state_dump();
	H_ERR(&A, "invalid_field",
	      "{\"op\":\"state.sync\",\"generation\":4,\"rooms\":[{\"room\":\"q\"},{\"room\":\"q\"}]}");
	H_ERR(&A, "stale_generation", "{\"op\":\"state.sync\",\"generation\":2,\"rooms\":[]}");
	char *after = state_dump();
	cr_assert_str_eq(before, after);
	free(before);
	free(after);

	H_OK(&A, "{\"op\":\"state.sync\",\"generation\":4,\"rooms\":[]}");
	r = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "rooms")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "endpoints")), 0);
	json_decref(r);
}

/* stats.get "agent": the counts of what applied changes did, the proof the
 * fault tests use that a controller's resync removed and re-added nothing. */
static json_int_t op_count(const char *key)
{
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *v = json_object_get(json_object_get(r, "agent"), key);
	cr_assert(json_is_integer(v), "stats.get has no agent.%s", key);
	json_int_t n = json_integer_value(v);
	json_decref(r);
	return n;
}

#define SYNC_SAME                                                                              \
	"{\"op\":\"state.sync\",\"rooms\":[{\"room\":\"r1\",\"capacity\":2},{\"room\":\"r2\"}],"      \
	"\"endpoints\":["                                                                         \
	"{\"endpoint\":\"a\",\"room\":\"r1\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"   \
	"\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"                                    \
	"\"streams\":[{\"ssrc\":1,\"kind\":\"audio\"},{\"ssrc\":2,\"kind\":\"video\"}]},"          \
	"{\"endpoint\":\"b\",\"room\":\"r1\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},"   \
	"\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"                                    \
	"\"streams\":[{\"ssrc\":3,\"kind\":\"audio\"},{\"ssrc\":4,\"kind\":\"video\"}]}]}"

Test(agent, op_counters_tell_updates_from_deletes_and_recreations)
{
	populate();
	cr_assert_eq(op_count("requests"), 4);
	cr_assert_eq(op_count("room_created"), 2);
	cr_assert_eq(op_count("endpoint_created"), 2);
	cr_assert_eq(op_count("room_deleted") + op_count("endpoint_deleted") +
			     op_count("endpoint_recreated") + op_count("endpoint_updated"), 0);

	/* A resync of the very state mmdp has, twice: updates only. */
	struct mm_endpoint *a = mm_tables_endpoint(&T, "a");
	H_OK(&A, SYNC_SAME);
	H_OK(&A, SYNC_SAME);
	cr_assert_eq(mm_tables_endpoint(&T, "a"), a, "a kept in place");
	cr_assert_eq(op_count("syncs"), 2);
	cr_assert_eq(op_count("requests"), 6);
	cr_assert_eq(op_count("room_updated"), 4);
	cr_assert_eq(op_count("endpoint_updated"), 4);
	cr_assert_eq(op_count("route_put"), 4);
	cr_assert_eq(op_count("room_created"), 2);
	cr_assert_eq(op_count("endpoint_created"), 2);
	cr_assert_eq(op_count("room_deleted") + op_count("endpoint_deleted") +
			     op_count("endpoint_recreated"), 0);

	/* A refused request counts nothing. */
	H_ERR(&A, "not_found", "{\"op\":\"endpoint.del\",\"endpoint\":\"zz\"}");
	cr_assert_eq(op_count("requests"), 6);

	/* A move is a recreation; a room's delete deletes its members. */
	H_OK(&A, H_EP_FMT, "a", "r2", 40001, "198.18.1.1", 5001, 1, 2, "");
	cr_assert_eq(op_count("endpoint_recreated"), 1);
	H_OK(&A, "{\"op\":\"room.del\",\"room\":\"r1\"}");
	cr_assert_eq(op_count("room_deleted"), 1);
	cr_assert_eq(op_count("endpoint_deleted"), 1, "b went with r1");
	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}");
	cr_assert_eq(op_count("endpoint_deleted"), 2);
	cr_assert_eq(op_count("requests"), 9);
}

Test(agent, moving_an_endpoint_recreates_it)
{
	populate();
	struct mm_endpoint *a = mm_tables_endpoint(&T, "a");
	H_OK(&A, H_EP_FMT, "a", "r2", 40001, "198.18.1.1", 5001, 1, 2, "");
	struct mm_endpoint *a2 = mm_tables_endpoint(&T, "a");
	cr_assert_str_eq(a2->room->name, "r2");
	json_t *r = h_agent(&A, "{\"op\":\"room.get\",\"room\":\"r1\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "count")), 1);
	json_decref(r);
	(void)a;
}

Test(agent, stats_list_every_drop_reason)
{
	populate();
	T.wstats[1].drops[MM_DROP_UNKNOWN_ENDPOINT] = 3;
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *d = json_object_get(r, "drops");
	cr_assert_eq(json_object_size(d), MM_DROP__COUNT - 1);
	cr_assert_eq(json_integer_value(json_object_get(d, "unknown_endpoint")), 3);
	cr_assert_eq(json_array_size(json_object_get(r, "workers")), 2);
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 2);
	json_decref(r);
	H_ERR(&A, "not_found", "{\"op\":\"stats.get\",\"room\":\"zz\"}");
}

/* "rooms": false: the same totals and workers, no per-room part; "room"
 * still names one; anything but a boolean is refused. */
Test(agent, stats_without_rooms)
{
	populate();
	T.wstats[0].rx_packets = 11;
	T.wstats[1].drops[MM_DROP_NOT_LOCAL] = 5;
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\",\"rooms\":false}");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 0);
	cr_assert_eq(json_array_size(json_object_get(r, "workers")), 2);
	json_t *w0 = json_array_get(json_object_get(r, "workers"), 0);
	cr_assert_eq(json_integer_value(json_object_get(w0, "rx_packets")), 11);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "drops"), "not_local")), 5);
	json_decref(r);
	r = h_agent(&A, "{\"op\":\"stats.get\",\"rooms\":true}");
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 2);
	json_decref(r);
	r = h_agent(&A, "{\"op\":\"stats.get\",\"rooms\":false,\"room\":\"r1\"}");
	cr_assert_eq(json_array_size(json_object_get(r, "rooms")), 1);
	json_decref(r);
	H_ERR(&A, "invalid_field", "{\"op\":\"stats.get\",\"rooms\":0}");
	H_ERR(&A, "invalid_field", "{\"op\":\"stats.get\",\"rooms\":\"no\"}");
}

/* The workers' loop counters and the TSC frequency, each from its own field. */
Test(agent, stats_report_worker_cycles_and_tsc_hz)
{
	populate();
	A.tsc_hz = 2100000000;
	T.wstats[1].cycles = 1000;
	T.wstats[1].busy_cycles = 400;
	T.wstats[1].polls = 50;
	T.wstats[1].busy_polls = 7;
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "tsc_hz")), 2100000000);
	json_t *w0 = json_array_get(json_object_get(r, "workers"), 0);
	json_t *w1 = json_array_get(json_object_get(r, "workers"), 1);
	static const char *keys[] = {"cycles", "busy_cycles", "polls", "busy_polls"};
	static const long long want[] = {1000, 400, 50, 7};
	for (int i = 0; i < 4; i++) {
		cr_assert(json_is_integer(json_object_get(w0, keys[i])), "workers[0] has no %s", keys[i]);
		cr_assert_eq(json_integer_value(json_object_get(w0, keys[i])), 0, "%s", keys[i]);
		cr_assert_eq(json_integer_value(json_object_get(w1, keys[i])), want[i], "%s", keys[i]);
	}
	json_decref(r);
}

/* Draining (mmdp's SIGTERM): no new room and no first endpoint of a room
 * (a meeting starting), code "draining", nothing changed; what it has goes
 * on: a room put again, a batch that deletes a room and puts it back (a
 * fixed room's end), a further endpoint of a live meeting, deletions. */
Test(agent, draining_refuses_new_meetings_only)
{
	populate();
	A.draining = true;
	char *before = state_dump();
	H_ERR(&A, "draining", "{\"op\":\"room.put\",\"room\":\"r3\"}");
	H_ERR(&A, "draining", H_EP_FMT, "c", "r2", 40003, "198.18.1.3", 5003, 5, 6, "");
	H_ERR(&A, "draining", "{\"op\":\"batch\",\"ops\":[{\"op\":\"room.put\",\"room\":\"r1\"},"
			      "{\"op\":\"room.put\",\"room\":\"r4\"}]}");
	json_t *r = h_agent(&A, "{\"op\":\"room.put\",\"room\":\"r5\"}");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
			 "room");
	json_decref(r);
	char *after = state_dump();
	cr_assert_str_eq(before, after, "a refusal while draining changed something");
	free(before);
	free(after);

	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":3}");
	H_OK(&A, H_EP_FMT, "c", "r1", 40003, "198.18.1.3", 5003, 5, 6, "");
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"room.del\",\"room\":\"r2\"},"
		 "{\"op\":\"room.put\",\"room\":\"r2\"}]}");
	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}");
	H_OK(&A, "{\"op\":\"room.del\",\"room\":\"r1\"}");
	cr_assert_eq(T.n_endpoints, 0);
	A.draining = false;
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r3\"}");
}

/* stats.get's "mempools": [] without DPDK; with mmdp's callback, each pool
 * as it reported it (in_use + available = size), cut at the array's size. */
static unsigned two_pools(struct mm_agent_mempool *out, unsigned cap)
{
	cr_assert_eq(cap, MM_AGENT_MEMPOOLS_MAX);
	out[0] = (struct mm_agent_mempool){"mmdp_mbufs", 32768, 2048, 30720, 256};
	out[1] = (struct mm_agent_mempool){"memif_pool", 1024, 0, 1024, 0};
	return 2;
}

static unsigned too_many_pools(struct mm_agent_mempool *out, unsigned cap)
{
	for (unsigned i = 0; i < cap; i++)
		out[i] = (struct mm_agent_mempool){"p", 10, 1, 9, 0};
	return cap + 5; /* a callback that miscounts: still no more than the array */
}

Test(agent, stats_report_mempools)
{
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	json_t *m = json_object_get(r, "mempools");
	cr_assert(json_is_array(m) && json_array_size(m) == 0, "without DPDK: []");
	json_decref(r);

	A.mempools = two_pools;
	r = h_agent(&A, "{\"op\":\"stats.get\"}");
	m = json_object_get(r, "mempools");
	cr_assert_eq(json_array_size(m), 2);
	json_t *p = json_array_get(m, 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "mmdp_mbufs");
	cr_assert_eq(json_integer_value(json_object_get(p, "size")), 32768);
	cr_assert_eq(json_integer_value(json_object_get(p, "in_use")), 2048);
	cr_assert_eq(json_integer_value(json_object_get(p, "available")), 30720);
	cr_assert_eq(json_integer_value(json_object_get(p, "cache_size")), 256);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "name")), "memif_pool");
	json_decref(r);

	A.mempools = too_many_pools;
	r = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert_eq(json_array_size(json_object_get(r, "mempools")), MM_AGENT_MEMPOOLS_MAX);
	json_decref(r);
	A.mempools = NULL;
}
