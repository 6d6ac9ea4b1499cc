/* --forwarder-pid PID: how much CPU the forwarder (mmdp, rtpengine, ...)
 * spent over the measured window, and per packet it forwarded (the copies
 * the receivers got in that window). Read at the start and the end of the
 * window: /proc/PID/stat's utime and stime (every thread of the process,
 * in clock ticks: 10 ms steps at the usual 100 Hz) and, for a finer
 * figure, the run time of each thread in /proc/PID/task/TID/schedstat
 * (nanoseconds; a thread that came or went inside the window is counted
 * for the part it was seen, or not at all). */
#include "tools/load/run.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_stat(int pid, uint64_t *ut, uint64_t *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	p++;
	/* After ')': state is field 3; utime 14, stime 15. */
	char *save = NULL, *tok = strtok_r(p, " ", &save);
	for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
		if (field == 14)
			*ut = strtoull(tok, NULL, 10);
		if (field == 15) {
			*st = strtoull(tok, NULL, 10);
			return 0;
		}
	}
	return -EBADMSG;
}

static int read_sched(int pid, uint64_t *ns, int *threads)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	struct dirent *e;
	uint64_t sum = 0;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char p2[300];
		snprintf(p2, sizeof(p2), "/proc/%d/task/%s/schedstat", pid, e->d_name);
		FILE *f = fopen(p2, "r");
		if (!f)
			continue;
		unsigned long long run;
		if (fscanf(f, "%llu", &run) == 1) {
			sum += run;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	*ns = sum;
	*threads = n;
	return n ? 0 : -ENOENT;
}

void ld_fwcpu_sample(struct ld_run *R, int which)
{
	if (!R->o.fwd_pid)
		return;
	struct ld_fwcpu *s = which ? &R->fw1 : &R->fw0;
	memset(s, 0, sizeof(*s));
	s->at_ns = ld_now_ns();
	s->valid = read_stat(R->o.fwd_pid, &s->utime, &s->stime) == 0;
	s->sched_valid = read_sched(R->o.fwd_pid, &s->sched_ns, &s->threads) == 0;
}

void ld_fwcpu_report(const struct ld_run *R, json_t *rep)
{
	if (!R->o.fwd_pid)
		return;
	const struct ld_fwcpu *a = &R->fw0, *b = &R->fw1;
	json_t *j = json_object();
	json_object_set_new(j, "pid", json_integer(R->o.fwd_pid));
	if (!a->valid || !b->valid || b->utime < a->utime || b->stime < a->stime) {
		json_object_set_new(j, "error", json_string("cannot read /proc/PID/stat at both ends "
							    "of the window (the process ended?)"));
		json_object_set_new(rep, "forwarder_cpu", j);
		return;
	}
	double hz = (double)sysconf(_SC_CLK_TCK);
	double wall = (double)(b->at_ns - a->at_ns) / 1e9;
	double user = (double)(b->utime - a->utime) / hz, sys = (double)(b->stime - a->stime) / hz;
	double cpu = user + sys;
	/* The finer figure when both ends have it. */
	bool fine = a->sched_valid && b->sched_valid && b->sched_ns >= a->sched_ns;
	double cpu_fine = fine ? (double)(b->sched_ns - a->sched_ns) / 1e9 : cpu;
	json_int_t fwd = json_integer_value(
		json_object_get(json_object_get(rep, "received"), "packets"));
	json_object_set_new(j, "window_s", json_real(wall));
	json_object_set_new(j, "user_s", json_real(user));
	json_object_set_new(j, "system_s", json_real(sys));
	json_object_set_new(j, "cpu_s", json_real(cpu));
	json_object_set_new(j, "cpu_s_schedstat", fine ? json_real(cpu_fine) : json_null());
	json_object_set_new(j, "threads", json_integer(b->threads));
	json_object_set_new(j, "percent_of_one_core",
			    json_real(wall > 0 ? 100.0 * cpu_fine / wall : 0.0));
	json_object_set_new(j, "forwarded_packets", json_integer(fwd));
	json_object_set_new(j, "ns_per_packet",
			    fwd > 0 ? json_real(cpu_fine * 1e9 / (double)fwd) : json_null());
	json_object_set_new(j, "ns_per_packet_stat",
			    fwd > 0 ? json_real(cpu * 1e9 / (double)fwd) : json_null());
	json_object_set_new(rep, "forwarder_cpu", j);
}
