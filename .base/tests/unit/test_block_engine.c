/* Blocked 5-tuples in the engine (drop reason, counters on two workers, no
 * shadowing of live endpoints), their expiry with and without requests,
 * and the table limit. */
#include <pthread.h>
#include <unistd.h>

#include "block_harness.h"
#include "dataplane/core/agent_server.h"

TestSuite(block_engine, .init = setup, .fini = teardown);

Test(block_engine, blocked_tuple_is_dropped_as_blocked_and_counted_others_not)
{
	put_block("b1", "198.18.1.9", 5000, 20000, 3600);
	cr_assert_eq(send_from(0, "198.18.1.9", 5000, 20000, 0x80), MM_ENGINE_DONE);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 1);
	cr_assert_eq(drops(0, MM_DROP_UNKNOWN_ENDPOINT), 0, "blocked, not unknown_endpoint");
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(block_field("b1", "dropped_packets"), 1);
	cr_assert_eq(block_field("b1", "dropped_bytes"), 172, "UDP payload bytes");

	/* another remote port, another local port: not blocked */
	send_from(0, "198.18.1.9", 5001, 20000, 0x80);
	send_from(0, "198.18.1.9", 5000, 20001, 0x80);
	cr_assert_eq(drops(0, MM_DROP_UNKNOWN_ENDPOINT), 2);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 1);
	cr_assert_eq(block_field("b1", "dropped_packets"), 1);

	/* STUN from the blocked 5-tuple is blocked too */
	send_from(0, "198.18.1.9", 5000, 20000, 0x00);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 2);
	cr_assert_eq(drops(0, MM_DROP_STUN_UNSUPPORTED), 0);
	send_from(0, "198.18.1.9", 5001, 20000, 0x00);
	cr_assert_eq(drops(0, MM_DROP_STUN_UNSUPPORTED), 1);

	/* the other worker counts on its own; stats sum both */
	send_from(1, "198.18.1.9", 5000, 20000, 0x80);
	cr_assert_eq(drops(1, MM_DROP_BLOCKED), 1);
	struct mm_block *b = mm_tables_block(&T, "b1");
	cr_assert_eq(b->dropped[0].packets, 2);
	cr_assert_eq(b->dropped[1].packets, 1);
	cr_assert_eq(block_field("b1", "dropped_packets"), 3);
	cr_assert_eq(block_field("b1", "dropped_bytes"), 172 + 20 + 172);
	json_t *r = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "drops"), "blocked")), 3);
	json_t *w1 = json_array_get(json_object_get(r, "workers"), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(w1, "drops"), "blocked")), 1);
	json_decref(r);
}

Test(block_engine, ipv6_tuple_is_blocked)
{
	put_block("b6", "2001:2::9:9", 6000, 20000, 3600);
	send_from(0, "2001:2::9:9", 6000, 20000, 0x80);
	send_from(0, "2001:2::9:9", 6001, 20000, 0x80);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 1);
	cr_assert_eq(drops(0, MM_DROP_UNKNOWN_ENDPOINT), 1);
	cr_assert_eq(block_field("b6", "dropped_packets"), 1);
}

Test(block_engine, block_never_shadows_a_live_endpoint)
{
	/* a's own 5-tuple: a keeps forwarding until it is removed */
	put_block("ka", "198.18.1.1", 5001, 40001, 3600);
	cr_assert_eq(send_from(0, "198.18.1.1", 5001, 40001, 0x80), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 1, "a's packet still reaches c");
	send_from(0, "198.18.1.1", 5001, 40001, 0x00); /* STUN: the usual reason */
	cr_assert_eq(drops(0, MM_DROP_STUN_UNSUPPORTED), 1);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 0);
	cr_assert_eq(block_field("ka", "dropped_packets"), 0);

	H_OK(&A, "{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}");
	CAP->n = 0;
	send_from(0, "198.18.1.1", 5001, 40001, 0x80);
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 1, "kicked: now blocked");
	cr_assert_eq(block_field("ka", "dropped_packets"), 1);
}

Test(block_engine, a_kick_is_one_batch)
{
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"endpoint.del\",\"endpoint\":\"a\"}," BLOCK_FMT
		 "]}",
	     "ka", "198.18.1.1", 5001u, "198.18.0.1", 40001u, 3600u);
	cr_assert_eq(send_from(0, "198.18.1.1", 5001, 40001, 0x80), MM_ENGINE_DONE);
	cr_assert_eq(CAP->n, 0);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 1);
	cr_assert_eq(drops(0, MM_DROP_UNKNOWN_ENDPOINT), 0);
}

Test(block_engine, expiry_removes_the_block_on_the_agents_tick)
{
	put_block("b1", "198.18.1.9", 5000, 20000, 2);
	advance_ms(1500);
	mm_agent_tick(&A);
	cr_assert_not_null(mm_tables_block(&T, "b1"));
	cr_assert_eq(block_field("b1", "expires_in"), 1);
	advance_ms(500);
	mm_agent_tick(&A);
	cr_assert_null(mm_tables_block(&T, "b1"), "expired at its ttl");
	cr_assert_eq(T.n_blocks, 0);
	cr_assert_eq(T.blocks_next_expiry, UINT64_MAX);
	send_from(0, "198.18.1.9", 5000, 20000, 0x80);
	cr_assert_eq(drops(0, MM_DROP_BLOCKED), 0);
	cr_assert_eq(drops(0, MM_DROP_UNKNOWN_ENDPOINT), 1);
	H_ERR(&A, "not_found", "{\"op\":\"block.del\",\"block\":\"b1\"}");
}

Test(block_engine, a_short_block_expires_before_a_long_one)
{
	put_block("long", "198.18.1.9", 5000, 20000, 100);
	put_block("short", "198.18.1.9", 5001, 20000, 1);
	advance_ms(1000);
	mm_agent_tick(&A);
	cr_assert_null(mm_tables_block(&T, "short"));
	cr_assert_not_null(mm_tables_block(&T, "long"));
	cr_assert_eq(block_field("long", "expires_in"), 99);
}

Test(block_engine, putting_again_extends_and_requests_see_no_expired_block)
{
	put_block("b1", "198.18.1.9", 5000, 20000, 2);
	put_block("b2", "198.18.1.9", 5001, 20000, 3);
	advance_ms(1500);
	put_block("b1", "198.18.1.9", 5000, 20000, 2); /* now due at 3.5 s */
	advance_ms(1000);
	mm_agent_tick(&A);
	cr_assert_not_null(mm_tables_block(&T, "b1"), "extended");
	advance_ms(500); /* 3.0 s: b2 is due, no tick: the next request removes it */
	json_t *h = h_agent(&A, "{\"op\":\"hello\"}");
	cr_assert_eq(json_integer_value(json_object_get(h, "blocks")), 1);
	json_decref(h);
	cr_assert_null(mm_tables_block(&T, "b2"));
	advance_ms(500);
	h = h_agent(&A, "{\"op\":\"stats.get\"}");
	cr_assert_eq(json_array_size(json_object_get(h, "blocks")), 0);
	json_decref(h);
}

struct serve_arg {
	int fd;
	volatile int stop;
};

static void *serve_thread(void *p)
{
	struct serve_arg *s = p;
	urcu_qsbr_register_thread();
	mm_agent_serve(&A, s->fd, &s->stop);
	urcu_qsbr_unregister_thread();
	return NULL;
}

Test(block_engine, the_agent_loop_expires_blocks_without_requests)
{
	put_block("b1", "198.18.1.9", 5000, 20000, 1);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/mm-test-block-%d.sock", (int)getpid());
	struct serve_arg s = {.fd = mm_agent_listen(path)};
	cr_assert_geq(s.fd, 0);
	advance_ms(1000);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, serve_thread, &s), 0);
	/* No client ever connects. Offline meanwhile: the loop's grace
	 * period must not wait for this thread. The loop turns every 100 ms. */
	urcu_qsbr_thread_offline();
	usleep(500000);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	urcu_qsbr_thread_online();
	close(s.fd);
	unlink(path);
	cr_assert_null(mm_tables_block(&T, "b1"), "the serving loop removed the expired block");
	cr_assert_eq(T.n_blocks, 0);
}

static json_t *handle_long(const char *line, size_t n)
{
	char *out = mm_agent_handle(&A, line, n);
	cr_assert_not_null(out);
	json_t *r = json_loads(out, 0, NULL);
	cr_assert_not_null(r);
	free(out);
	return r;
}

Test(block_engine, blocks_are_bounded, .timeout = 240)
{
	/* one batch of MM_BLOCKS_MAX puts (h_agent's lines are too short) */
	size_t cap = (size_t)MM_BLOCKS_MAX * 160 + 64, n = 0;
	char *line = malloc(cap);
	cr_assert_not_null(line);
	n += (size_t)snprintf(line + n, cap - n, "{\"op\":\"batch\",\"ops\":[");
	for (unsigned i = 0; i < MM_BLOCKS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "k%u", i);
		n += (size_t)snprintf(line + n, cap - n, "%s" BLOCK_FMT, i ? "," : "", name, "198.18.9.9",
				      1 + i % 60000, "198.18.0.1", 20000 + i / 60000, 60u);
	}
	n += (size_t)snprintf(line + n, cap - n, "]}");
	cr_assert_lt(n, cap);
	json_t *r = handle_long(line, n);
	free(line);
	cr_assert(h_ok(r), "the full table was refused: %s", h_code(r));
	json_decref(r);
	cr_assert_eq(T.n_blocks, MM_BLOCKS_MAX);

	H_ERR(&A, "limit", BLOCK_FMT, "more1", "198.18.9.8", 1u, "198.18.0.1", 20000u, 60u);
	/* the batch counts what its earlier ops add and remove */
	r = h_agent(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"block.del\",\"block\":\"k1\"}," BLOCK_FMT
			"," BLOCK_FMT "]}",
		    "more1", "198.18.9.8", 1u, "198.18.0.1", 20000u, 60u, "more2", "198.18.9.8", 2u,
		    "198.18.0.1", 20000u, 60u);
	cr_assert_str_eq(h_code(r), "limit");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "index")), 2);
	json_decref(r);
	cr_assert_not_null(mm_tables_block(&T, "k1"), "refused batch removed nothing");
	/* replacing a block is no new block; removing one makes room */
	put_block("k7", "198.18.9.7", 7, 20000, 60);
	H_OK(&A, "{\"op\":\"batch\",\"ops\":[{\"op\":\"block.del\",\"block\":\"k1\"}," BLOCK_FMT "]}",
	     "more1", "198.18.9.8", 1u, "198.18.0.1", 20000u, 60u);
	cr_assert_eq(T.n_blocks, MM_BLOCKS_MAX);
	cr_assert_null(mm_tables_block(&T, "k1"));
	cr_assert_not_null(mm_tables_block(&T, "more1"));
}
