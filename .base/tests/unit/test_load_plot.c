/* mmload --plot (tools/load/plot.c): the data file holds the measured
 * trials sorted by offered load, and gnuplot (Debian's gnuplot-nox, which
 * the quickstart installs) really draws the three PNGs from it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/load/plot.h"

static json_t *step(int parts, double offered, double loss, bool pass)
{
	return json_pack("{sisfsfsfsfsfsfsfsfsfsb}", "participants", parts, "offered_pps", offered,
			 "expected_pps", offered * 7, "received_pps", offered * 7 * (1 - loss / 100),
			 "loss_percent", loss, "latency_p50_ms", 0.1 * parts, "latency_p90_ms",
			 0.2 * parts, "latency_p99_ms", 0.3 * parts, "latency_p999_ms", 0.4 * parts,
			 "latency_max_ms", 0.5 * parts, "pass", pass);
}

/* A search visits loads out of order: 32, 64 (fails), 48, and one trial
 * that could not be set up (no measurement). */
static json_t *search_steps(void)
{
	json_t *a = json_array();
	json_array_append_new(a, step(32, 1600, 0, true));
	json_array_append_new(a, step(64, 3200, 2.5, false));
	json_array_append_new(a, step(48, 2400, 0, true));
	json_array_append_new(a, json_pack("{sisisb}", "step", 4, "rooms", 7, "error", 1));
	return a;
}

Test(load_plot, data_sorted_and_skips_unmeasured)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *s = search_steps();
	cr_assert_eq(ld_plot_data(s, f), 3);
	fclose(f);
	char *save = NULL, *line = strtok_r(buf, "\n", &save);
	cr_assert(line && line[0] == '#' && strstr(line, "offered_pps"), "header: %s", line);
	double prev = -1;
	int rows = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		double v[11];
		int n = sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1],
			       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]);
		cr_assert_eq(n, 11, "row: %s", line);
		cr_assert(v[1] > prev, "not sorted by offered load: %s", line);
		prev = v[1];
		if (v[0] == 64) {
			cr_assert_float_eq(v[4], 2.5, 1e-9);
			cr_assert_eq(v[10], 0, "the failed trial is marked");
		}
		rows++;
	}
	cr_assert_eq(rows, 3);
	json_decref(s);
	free(buf);
}

Test(load_plot, rejects_non_array)
{
	json_t *o = json_object();
	cr_assert_eq(ld_plot_data(o, stdout), -EINVAL);
	json_decref(o);
}

static void assert_png(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s was not drawn", path);
	unsigned char magic[8];
	cr_assert_eq(fread(magic, 1, 8, f), 8);
	cr_assert(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
	fseek(f, 0, SEEK_END);
	cr_assert(ftell(f) > 5000, "%s is too small to hold a plot (%ld bytes)", path, ftell(f));
	fclose(f);
}

Test(load_plot, gnuplot_draws_three_pngs)
{
	char dir[] = "/tmp/mmplot.XXXXXX", prefix[256], err[512] = "";
	cr_assert(mkdtemp(dir));
	snprintf(prefix, sizeof(prefix), "%s/run", dir);
	json_t *s = search_steps();
	int rc = ld_plot(s, prefix, "mmdp \"test\", rooms of 8", 0.01, err, sizeof(err));
	cr_assert_eq(rc, 0, "ld_plot: %s", err);
	assert_png(dir, "run-throughput.png");
	assert_png(dir, "run-loss.png");
	assert_png(dir, "run-latency.png");
	json_decref(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(load_plot, errors_are_reported)
{
	char err[512] = "";
	json_t *empty = json_array();
	json_array_append_new(empty, json_pack("{sisb}", "rooms", 3, "error", 1));
	cr_assert_eq(ld_plot(empty, "/tmp/mmplot-none", "t", 0.01, err, sizeof(err)), -ENODATA);
	cr_assert(strstr(err, "no measured trial"), "%s", err);
	json_t *s = search_steps();
	cr_assert(ld_plot(s, "/nonexistent-dir/x/run", "t", 0.01, err, sizeof(err)) < 0);
	cr_assert(strstr(err, "cannot write"), "%s", err);
	json_decref(s);
	json_decref(empty);
	unlink("/tmp/mmplot-none.dat");
}
