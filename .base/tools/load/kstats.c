/* The kernel's UDP counters (/proc/net/snmp) in each host namespace of the
 * site, so that the report tells loss in mmload's own sockets (receive
 * buffers overflowing because mmload reads too slowly) from loss before
 * them (mmdp, the veth path). */
#include "tools/load/run.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Counters of the "Udp:" lines of the calling thread's namespace. */
static int read_udp(struct ld_kstats *k)
{
	FILE *f = fopen("/proc/thread-self/net/snmp", "r");
	if (!f)
		return -errno;
	char head[1024], vals[1024];
	int rc = -ENOENT;
	while (fgets(head, sizeof(head), f)) {
		if (strncmp(head, "Udp: ", 5) != 0 || !fgets(vals, sizeof(vals), f))
			continue;
		char *hs, *vs;
		char *h = strtok_r(head + 5, " \n", &hs), *v = strtok_r(vals + 5, " \n", &vs);
		for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs)) {
			uint64_t n = strtoull(v, NULL, 10);
			if (!strcmp(h, "InDatagrams"))
				k->in_datagrams += n;
			else if (!strcmp(h, "InErrors"))
				k->in_errors += n;
			else if (!strcmp(h, "RcvbufErrors"))
				k->rcvbuf_errors += n;
			else if (!strcmp(h, "SndbufErrors"))
				k->sndbuf_errors += n;
		}
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int ld_kstats_read(const struct ld_run *R, struct ld_kstats *k)
{
	memset(k, 0, sizeof(*k));
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	int rc = 0;
	for (int i = 1; i <= R->site.hosts && !rc; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", R->site.host[i].ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			rc = -errno;
		else
			rc = read_udp(k);
		if (fd >= 0)
			close(fd);
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		/* This thread is in the wrong namespace now: nothing after is safe. */
		fprintf(stderr, "mmload: cannot return to my network namespace: %s\n", strerror(errno));
		abort();
	}
	close(self);
	k->valid = rc == 0;
	return rc;
}
