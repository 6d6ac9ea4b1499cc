/* mmagent: send requests to mmdp's agent socket and print the replies.
 *
 *   mmagent [--socket PATH] [--timeout MS] '<json>' ['<json>' ...]
 *   mmagent [--socket PATH] < requests.jsonl
 *
 * Each argument (or each non-empty stdin line) is one request line; each
 * reply line is printed as received. Exit status: 0 when every reply has
 * "ok":true, 1 when any has "ok":false (or is not JSON), 2 when the
 * socket cannot be reached or closes before replying. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sim/sim.h"

#define DEFAULT_SOCKET "/run/mmdp/agent.sock"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmagent [--socket PATH] [--timeout MS] ['<json>' ...]\n"
		   "  Without JSON arguments, requests are read from stdin, one per line.\n"
		   "  Socket: --socket, else $MMDP_AGENT_SOCKET, else " DEFAULT_SOCKET ".\n"
		   "  Exit: 0 all ok, 1 some reply \"ok\":false, 2 connection error.\n");
}

/* Send one request; 0 ok, 1 refused, 2 connection error. */
static int one(struct mm_agent_client *a, char *line)
{
	size_t len = strlen(line);
	/* A request is one line: newlines in an argument are JSON whitespace. */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	char *reply = NULL;
	int rc = sim_agent_roundtrip(a, line, len, &reply);
	if (rc) {
		fprintf(stderr, "mmagent: %s\n",
			rc == -ETIMEDOUT ? "no reply (timeout)" :
			rc == -ECONNRESET ? "mmdp closed the connection" : strerror(-rc));
		return 2;
	}
	printf("%s\n", reply);
	fflush(stdout);
	json_error_t je;
	json_t *j = json_loads(reply, 0, &je);
	int st = j && sim_reply_ok(j) ? 0 : 1;
	json_decref(j);
	free(reply);
	return st;
}

static int blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"socket", required_argument, NULL, 's'},
					   {"timeout", required_argument, NULL, 't'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *path = getenv("MMDP_AGENT_SOCKET");
	int timeout_ms = 30000, c;
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "s:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	struct mm_agent_client a;
	int rc = sim_agent_connect(&a, path);
	if (rc) {
		fprintf(stderr, "mmagent: %s: %s\n", path, strerror(-rc));
		return 2;
	}
	if (timeout_ms > 0)
		a.timeout_ms = timeout_ms;

	int status = 0;
	if (optind < argc) {
		for (int i = optind; i < argc && status != 2; i++) {
			if (blank(argv[i]))
				continue;
			int st = one(&a, argv[i]);
			status = st > status ? st : status;
		}
	} else {
		char *line = NULL;
		size_t cap = 0;
		while (status != 2 && getline(&line, &cap, stdin) > 0) {
			if (blank(line))
				continue;
			line[strcspn(line, "\n")] = 0;
			int st = one(&a, line);
			status = st > status ? st : status;
		}
		free(line);
	}
	sim_agent_close(&a);
	return status;
}
