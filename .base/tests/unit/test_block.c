/* Blocked 5-tuples through the agent protocol: block.put / block.del, in
 * batches and state.sync, refusals, stats (docs/agent-protocol.md). The
 * engine's side and expiry are in test_block_engine.c. */
#include "block_harness.h"

TestSuite(block, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ protocol --- */

Test(block, put_replace_and_del)
{
	put_block("b1", "198.18.1.2", 5000, 20000, 3600);
	struct mm_block *b = mm_tables_block(&T, "b1");
	cr_assert_not_null(b);
	cr_assert_eq(T.n_blocks, 1);
	cr_assert(tuple_blocked("198.18.1.2", 5000, "198.18.0.1", 20000));
	json_t *h = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_eq(json_integer_value(json_object_get(h, "blocks")), 1);
	json_decref(h);
	cr_assert_eq(block_field("b1", "expires_in"), 3600);

	/* same 5-tuple again: new ttl, same block, counters go on */
	b->dropped[1].packets = 5;
	put_block("b1", "198.18.1.2", 5000, 20000, 60);
	cr_assert_eq(mm_tables_block(&T, "b1"), b);
	cr_assert_eq(block_field("b1", "expires_in"), 60);
	cr_assert_eq(block_field("b1", "dropped_packets"), 5);

	/* another 5-tuple: the old one is free, counters restart */
	put_block("b1", "198.18.1.2", 5001, 20000, 60);
	cr_assert_not(tuple_blocked("198.18.1.2", 5000, "198.18.0.1", 20000));
	cr_assert(tuple_blocked("198.18.1.2", 5001, "198.18.0.1", 20000));
	cr_assert_eq(block_field("b1", "dropped_packets"), 0);
	cr_assert_eq(T.n_blocks, 1);

	H_OK(&A, "{\"op\":\"block.del\",\"block\":\"b1\"}");
	cr_assert_null(mm_tables_block(&T, "b1"));
	cr_assert_not(tuple_blocked("198.18.1.2", 5001, "198.18.0.1", 20000));
	cr_assert_eq(T.n_blocks, 0);
	H_ERR(&A, "not_found", "{\"op\":\"block.del\",\"block\":\"b1\"}");
}

Test(block, refused_requests_name_the_field_and_change_nothing)
{
	put_block("b1", "198.18.1.2", 5000, 20000, 3600);
	H_OK(&A, "{\"op\":\"room.put\",\"room\":\"r1\",\"generation\":5}");
	char *before = blocks_dump();
	static const struct {
		const char *code, *field, *line;
	} bad[] = {
		{"missing_field", "block", "{\"op\":\"block.put\",\"ttl_seconds\":5}"},
		{"invalid_field", "block", "{\"op\":\"block.put\",\"block\":\"bad name!\"}"},
		{"missing_field", "remote", "{\"op\":\"block.put\",\"block\":\"b2\",\"local\":"
					    "{\"addr\":\"198.18.0.1\",\"port\":1},\"ttl_seconds\":5}"},
		{"missing_field", "local", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":"
					   "{\"addr\":\"198.18.1.2\",\"port\":1},\"ttl_seconds\":5}"},
		{"invalid_field", "remote.addr", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.256\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":5}"},
		{"invalid_field", "remote.port", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.2\",\"port\":65536},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":5}"},
		{"invalid_field", "local.port", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						"\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
						"\"198.18.0.1\",\"port\":0},\"ttl_seconds\":5}"},
		{"invalid_field", "remote.addr", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"2001:2::9\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":5}"},
		{"not_local", "local.addr", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
					    "\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
					    "\"198.18.0.99\",\"port\":1},\"ttl_seconds\":5}"},
		{"missing_field", "ttl_seconds", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1}}"},
		{"invalid_field", "ttl_seconds", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":0}"},
		{"invalid_field", "ttl_seconds", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":86401}"},
		{"invalid_field", "ttl_seconds", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
						 "\"addr\":\"198.18.1.2\",\"port\":1},\"local\":{\"addr\":"
						 "\"198.18.0.1\",\"port\":1},\"ttl_seconds\":\"60\"}"},
		{"conflict", "remote", "{\"op\":\"block.put\",\"block\":\"b2\",\"remote\":{"
				       "\"addr\":\"198.18.1.2\",\"port\":5000},\"local\":{\"addr\":"
				       "\"198.18.0.1\",\"port\":20000},\"ttl_seconds\":5}"},
		{"stale_generation", "generation", "{\"op\":\"block.put\",\"generation\":4,\"block\":"
						   "\"b2\",\"remote\":{\"addr\":\"198.18.1.2\",\"port\":1},"
						   "\"local\":{\"addr\":\"198.18.0.1\",\"port\":1},"
						   "\"ttl_seconds\":5}"},
		{"not_found", "block", "{\"op\":\"block.del\",\"block\":\"b9\"}"},
		{"missing_field", "block", "{\"op\":\"block.del\"}"},
		{"stale_generation", "generation", "{\"op\":\"block.del\",\"block\":\"b1\",\"generation\":1}"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = h_agent(&A, "%s", bad[i].line);
		json_t *e = json_object_get(r, "error");
		cr_assert(!h_ok(r), "accepted: %s", bad[i].line);
		cr_assert_str_eq(h_code(r), bad[i].code, "code for %s", bad[i].line);
		cr_assert_str_eq(json_string_value(json_object_get(e, "field")), bad[i].field, "field for %s",
				 bad[i].line);
		json_decref(r);
	}
	cr_assert(tuple_blocked("198.18.1.2", 5000, "198.18.0.1", 20000));
	assert_same(before, "a refused request");
}

Test(block, batch_applies_block_ops_all_or_nothing)
{
	json_t *r = h_agent(&A, "{\"op\":\"batch\",\"ops\":[" BLOCK_FMT "," BLOCK_FMT ","
				"{\"op\":\"block.del\",\"block\":\"b1\"}]}",
			    "b1", "198.18.1.2", 5000u, "198.18.0.1", 20000u, 60u, "b2", "198.18.1.2",
			    5001u, "198.18.0.1", 20000u, 60u);
	cr_assert(h_ok(r));
	cr_assert_eq(json_array_size(json_object_get(r, "results")), 3);
	json_decref(r);
	cr_assert_null(mm_tables_block(&T, "b1"));
	cr_assert_not_null(mm_tables_block(&T, "b2"));
	cr_assert_eq(T.n_blocks, 1);

	/* checked against what the earlier ops leave: a 5-tuple taken by an
	 * earlier op conflicts, one freed by an earlier op may be reused */
	char *before = blocks_dump();
	r = h_agent(&A, "{\"op\":\"batch\",\"ops\":[" BLOCK_FMT "," BLOCK_FMT "]}", "b3", "198.18.1.3",
		    7000u, "198.18.0.1", 20000u, 60u, "b4", "198.18.1.3", 7000u, "198.18.0.1", 20000u, 60u);
	cr_assert_str_eq(h_code(r), "conflict");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "index")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
			 "ops[1].remote");
	json_decref(r);
	H_ERR(&A, "not_found", "{\"op\":\"batch\",\"ops\":[" BLOCK_FMT ",{\"op\":\"endpoint.del\","
			       "\"endpoint\":\"nope\"}]}",
	      "b5", "198.18.1.5", 7000u, "198.18.0.1", 20000u, 60u);
	H_ERR(&A, "not_found", "{\"op\":\"batch\",\"ops\":[{\"op\":\"block.del\",\"block\":\"b2\"},"
			       "{\"op\":\"block.del\",\"block\":\"b2\"}]}");
	assert_same(before, "a refused batch");

	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"block.del\",\"block\":\"b2\"}," BLOCK_FMT "]}",
	     "b6", "198.18.1.2", 5001u, "198.18.0.1", 20000u, 60u);
	cr_assert_null(mm_tables_block(&T, "b2"));
	cr_assert(tuple_blocked("198.18.1.2", 5001, "198.18.0.1", 20000));
	/* b6 moves away and b7 takes its old 5-tuple, in one batch */
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[" BLOCK_FMT "," BLOCK_FMT "]}", "b6", "198.18.1.6", 1u,
	     "198.18.0.1", 20000u, 60u, "b7", "198.18.1.2", 5001u, "198.18.0.1", 20000u, 60u);
	cr_assert_eq(T.n_blocks, 2);
	cr_assert_str_eq(mm_tables_block(&T, "b7")->name, "b7");
	cr_assert(tuple_blocked("198.18.1.6", 1, "198.18.0.1", 20000));
}

#define SYNC_BLOCK "{\"block\":\"%s\",\"remote\":{\"addr\":\"%s\",\"port\":%u},"                 \
		   "\"local\":{\"addr\":\"198.18.0.1\",\"port\":20000},\"ttl_seconds\":%u}"
#define SYNC_HEAD                                                                              \
	"{\"op\":\"state.sync\",\"rooms\":[{\"room\":\"r1\"}],\"endpoints\":[{\"endpoint\":\"a\","  \
	"\"room\":\"r1\",\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"                        \
	"\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001}}]"

Test(block, state_sync_adds_keeps_and_removes_blocks)
{
	put_block("b1", "198.18.1.1", 1, 20000, 60);
	put_block("b2", "198.18.1.2", 2, 20000, 60);
	struct mm_block *b2 = mm_tables_block(&T, "b2");
	b2->dropped[0].packets = 9;

	H_OK(&A, SYNC_HEAD ",\"blocks\":[" SYNC_BLOCK "," SYNC_BLOCK "]}", "b2", "198.18.1.2", 2u, 100u,
	     "b3", "198.18.1.1", 1u, 200u);
	cr_assert_null(mm_tables_block(&T, "b1"), "not listed: removed");
	cr_assert_eq(mm_tables_block(&T, "b2"), b2, "unchanged 5-tuple: kept in place");
	cr_assert_eq(block_field("b2", "dropped_packets"), 9);
	cr_assert_eq(block_field("b2", "expires_in"), 100);
	cr_assert_eq(block_field("b3", "expires_in"), 200, "b3 took b1's 5-tuple in the same sync");
	cr_assert_eq(T.n_blocks, 2);

	char *before = blocks_dump();
	H_ERR(&A, "invalid_field", SYNC_HEAD ",\"blocks\":{}}");
	H_ERR(&A, "invalid_field", SYNC_HEAD ",\"blocks\":[" SYNC_BLOCK "," SYNC_BLOCK "]}", "b2",
	      "198.18.1.2", 2u, 100u, "b2", "198.18.1.3", 3u, 100u);
	H_ERR(&A, "conflict", SYNC_HEAD ",\"blocks\":[" SYNC_BLOCK "," SYNC_BLOCK "]}", "b8",
	      "198.18.1.8", 8u, 100u, "b9", "198.18.1.8", 8u, 100u);
	json_t *r = h_agent(&A, SYNC_HEAD ",\"blocks\":[" SYNC_BLOCK "]}", "b2", "198.18.1.2", 2u, 0u);
	cr_assert_str_eq(h_code(r), "invalid_field");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "field")),
			 "blocks[0].ttl_seconds");
	json_decref(r);
	assert_same(before, "a refused state.sync");
	cr_assert_not_null(mm_tables_endpoint(&T, "a"), "a refused sync keeps the endpoints");

	H_OK(&A, SYNC_HEAD "}");
	cr_assert_eq(T.n_blocks, 0, "no \"blocks\": no blocks");
	cr_assert_null(mm_tables_block(&T, "b2"));
	cr_assert_not_null(mm_tables_endpoint(&T, "a"), "blocks and endpoints are independent");
}

Test(block, stats_get_lists_blocks_sorted_with_their_counters)
{
	put_block("b2", "198.18.1.2", 5000, 20000, 30);
	put_block("b1", "2001:2::9:9", 6000, 20000, 40);
	cr_assert_eq(send_from(0, "2001:2::9:9", 6000, 20000, 0x80), MM_ENGINE_DONE);
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\",\"room\":\"r1\"}");
	cr_assert(h_ok(r));
	json_t *bl = json_object_get(r, "blocks");
	cr_assert_eq(json_array_size(bl), 2);
	json_t *b1 = json_array_get(bl, 0), *b2 = json_array_get(bl, 1);
	cr_assert_str_eq(json_string_value(json_object_get(b1, "block")), "b1");
	cr_assert_str_eq(json_string_value(json_object_get(b2, "block")), "b2");
	cr_assert_eq(json_object_size(b1), 4, "block, dropped_packets, dropped_bytes, expires_in");
	cr_assert_eq(json_integer_value(json_object_get(b1, "dropped_packets")), 1);
	cr_assert_eq(json_integer_value(json_object_get(b1, "dropped_bytes")), 172);
	cr_assert_eq(json_integer_value(json_object_get(b1, "expires_in")), 40);
	cr_assert_eq(json_integer_value(json_object_get(b2, "dropped_packets")), 0);
	cr_assert_eq(json_integer_value(json_object_get(b2, "expires_in")), 30);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "drops"), "blocked")), 1);
	json_decref(r);
}
