/* The agent protocol: one request line into mmdp's agent dispatcher
 * (mm_agent_handle: JSON parse, validation of every op, changes to the
 * tables), without EAL. The reply must always be one JSON object. The
 * tables start from a room with two endpoints, so that changes, deletions
 * and queries find something; they are rebuilt every RESET inputs, so
 * that what the fuzzer adds does not pile up without bound (a crash that
 * needs the state of earlier inputs then shows in its -runs log). */
#include <jansson.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "dataplane/core/agent.h"
#include "dataplane/core/tables.h"
#include "dataplane/proto/net.h"
#include "fuzz.h"

#define RESET 64

static struct mm_tables T;
static struct mm_agent A;
static struct mm_dp_conf C;
static unsigned inputs;

static void handle(const char *line, size_t len, bool must_ok)
{
	char *r = mm_agent_handle(&A, line, len);
	FUZZ_CHECK(r);
	json_error_t e;
	json_t *j = json_loads(r, 0, &e);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "reply is not a JSON object: %s\n", r);
		abort();
	}
	FUZZ_CHECK(json_is_boolean(json_object_get(j, "ok")));
	if (must_ok && !json_is_true(json_object_get(j, "ok"))) {
		fprintf(stderr, "setup refused: %s -> %s\n", line, r);
		abort();
	}
	json_decref(j);
	free(r);
}

static void fresh(void)
{
	if (inputs) {
		mm_agent_dtls_fini(&A);
		mm_tables_fini(&T);
	}
	memset(&A, 0, sizeof(A));
	FUZZ_CHECK(mm_tables_init(&T, &C) == 0);
	A.t = &T;
	static const char *const setup[] = {
	    "{\"op\":\"room.put\",\"room\":\"r1\",\"capacity\":10}",
	    "{\"op\":\"endpoint.put\",\"endpoint\":\"a\",\"room\":\"r1\","
	    "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40001},"
	    "\"remote\":{\"addr\":\"198.18.1.1\",\"port\":5001},"
	    "\"streams\":[{\"ssrc\":1001,\"kind\":\"audio\"},{\"ssrc\":1002,\"kind\":\"video\"}]}",
	    "{\"op\":\"endpoint.put\",\"endpoint\":\"b\",\"room\":\"r1\","
	    "\"local\":{\"addr\":\"198.18.0.1\",\"port\":40002},"
	    "\"remote\":{\"addr\":\"198.18.1.2\",\"port\":5002},"
	    "\"streams\":[{\"ssrc\":2001,\"kind\":\"audio\"}]}",
	};
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		handle(setup[i], strlen(setup[i]), true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(&C, 0, sizeof(C));
	C.n_workers = 1;
	C.n_ports = 1;
	net_addr_parse("198.18.0.1", &C.ports[0].addrs[0], &C.ports[0].addr_family[0]);
	net_addr_parse("2001:2::1", &C.ports[0].addrs[1], &C.ports[0].addr_family[1]);
	C.ports[0].n_addrs = 2;
	bool all[MM_PORTS_MAX] = {false};
	char err[128];
	FUZZ_CHECK(mm_dp_conf_assign_workers(&C, all, err, sizeof(err)) == 0);
	urcu_qsbr_register_thread();
	fresh();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (++inputs % RESET == 0)
		fresh();
	/* A line as the agent server hands it over: NUL-terminated copy. */
	char *line = malloc(size + 1);
	FUZZ_CHECK(line);
	memcpy(line, data, size);
	line[size] = 0;
	handle(line, size, false);
	free(line);
	mm_agent_tick(&A);
	return 0;
}
