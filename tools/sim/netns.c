/* Sockets and processes inside the site's network namespaces. */
#include "tools/sim/sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int sim_sockaddr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

const char *sim_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(in4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, cap, "(family %d)", ss->ss_family);
	}
	return buf;
}

/* Enter netns; *saved gets a handle on the thread's namespace. */
static int netns_enter(const char *netns, int *saved)
{
	char path[128];
	*saved = -1;
	if (!netns || !*netns)
		return 0;
	if (strchr(netns, '/'))
		snprintf(path, sizeof(path), "%s", netns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return -errno;
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		int rc = -errno;
		close(target);
		return rc;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		int rc = -errno;
		close(target);
		close(self);
		return rc;
	}
	close(target);
	*saved = self;
	return 0;
}

static int netns_leave(int saved)
{
	if (saved < 0)
		return 0;
	int rc = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;
	close(saved);
	return rc;
}

static void set_buf(int fd, int opt_force, int opt, int bytes)
{
	if (bytes <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

int sim_udp_open(const char *netns, const char *addr, uint16_t port, int rcvbuf, int *fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc = sim_sockaddr_parse(addr, port, &ss, &sl);
	if (rc)
		return rc;
	int saved;
	rc = netns_enter(netns, &saved);
	if (rc)
		return rc;
	int s = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc = -errno;
		goto leave;
	}
	int one = 1;
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	set_buf(s, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
	set_buf(s, SO_SNDBUFFORCE, SO_SNDBUF, rcvbuf);
	if (bind(s, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		close(s);
		goto leave;
	}
	*fd = s;
leave:;
	int lrc = netns_leave(saved);
	if (lrc && !rc) {
		/* Stuck in the wrong namespace: nothing after this is safe. */
		close(*fd);
		rc = lrc;
	}
	return rc;
}

int sim_spawn_in_netns(const char *netns, char *const argv[], const char *log_path, pid_t *pid)
{
	pid_t parent = getpid();
	pid_t c = fork();
	if (c < 0)
		return -errno;
	if (c == 0) {
		int saved;
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (log_path) {
			int lfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (lfd >= 0) {
				dup2(lfd, 1);
				dup2(lfd, 2);
			}
		}
		int rc = netns_enter(netns, &saved);
		if (rc) {
			fprintf(stderr, "sim: cannot enter netns %s: %s\n", netns, strerror(-rc));
			_exit(127);
		}
		execv(argv[0], argv);
		fprintf(stderr, "sim: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*pid = c;
	return 0;
}

int sim_stop_process(pid_t pid, int timeout_ms, int *status)
{
	int st = 0;
	if (pid <= 0)
		return -EINVAL;
	pid_t r = waitpid(pid, &st, WNOHANG);
	if (r == pid)
		goto done;
	if (r < 0)
		return -errno;
	/* SIGINT: mmdp and mmctld stop at once (SIGTERM would drain). */
	kill(pid, SIGINT);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			goto done;
		sim_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (status)
		*status = st;
	return -ETIMEDOUT;
done:
	if (status)
		*status = st;
	return 0;
}

uint64_t sim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sim_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
