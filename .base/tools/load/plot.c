/* mmload --plot: see tools/load/plot.h. */
#include "tools/load/plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

struct row {
	double v[11];
};

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (double)json_integer_value(v) : json_is_real(v) ? json_real_value(v) : -1;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->v[1] != y->v[1])
		return x->v[1] < y->v[1] ? -1 : 1;
	return x->v[0] < y->v[0] ? -1 : x->v[0] > y->v[0];
}

int ld_plot_data(const json_t *steps, FILE *f)
{
	if (!json_is_array(steps))
		return -EINVAL;
	size_t n = json_array_size(steps), k = 0;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	static const char *const keys[] = {"participants", "offered_pps", "expected_pps",
					   "received_pps", "loss_percent", "latency_p50_ms",
					   "latency_p90_ms", "latency_p99_ms", "latency_p999_ms",
					   "latency_max_ms"};
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(steps, i);
		/* A step that could not be set up has no measurement. */
		if (!json_is_object(s) || num(s, "offered_pps") < 0)
			continue;
		for (int c = 0; c < 10; c++)
			rows[k].v[c] = num(s, keys[c]);
		rows[k].v[10] = json_is_true(json_object_get(s, "pass"));
		k++;
	}
	qsort(rows, k, sizeof(*rows), row_cmp);
	fprintf(f, "# %s\n", LD_PLOT_COLUMNS);
	for (size_t i = 0; i < k; i++) {
		for (int c = 0; c < 11; c++)
			fprintf(f, c ? " %.6g" : "%.6g", rows[i].v[c]);
		fputc('\n', f);
	}
	free(rows);
	return (int)k;
}

/* A gnuplot double-quoted string: no quotes or backslashes inside. */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\\' ? '\'' : *s, f);
	fputc('"', f);
}

int ld_plot_script(FILE *f, const char *data_path, const char *prefix, const char *title,
		   double max_loss)
{
	fprintf(f, "# mmload --plot: columns of the data file: %s\n", LD_PLOT_COLUMNS);
	fputs("set terminal pngcairo size 1000,620 noenhanced font ',10'\n"
	      "set grid\nset key top left\nset xlabel 'offered load, RTP packets/s sent by the participants'\n"
	      "set format x '%.1s%c'\nset format y '%.1s%c'\n",
	      f);
	fputs("datafile = ", f);
	quoted(f, data_path);
	fputs("\n", f);
	const char *what[3] = {"throughput", "loss", "latency"};
	for (int i = 0; i < 3; i++) {
		char out[4096];
		snprintf(out, sizeof(out), "%s-%s.png", prefix, what[i]);
		fputs("set output ", f);
		quoted(f, out);
		fputs("\nset title ", f);
		char t[1024];
		snprintf(t, sizeof(t), "%s: %s", title, what[i]);
		quoted(f, t);
		fputc('\n', f);
		switch (i) {
		case 0:
			fputs("set ylabel 'packets/s'\n"
			      "plot datafile using 2:3 with linespoints title 'copies expected', \\\n"
			      "     datafile using 2:4 with linespoints title 'copies received', \\\n"
			      "     datafile using 2:2 with lines dashtype 2 title 'packets offered'\n",
			      f);
			break;
		case 1:
			/* Loss is often 0: plot it on a linear axis with the limit. */
			fprintf(f, "set ylabel 'loss, percent of expected copies'\nset format y '%%g'\n"
				   "set yrange [0:*]\nset offsets 0, 0, graph 0.1, 0\n"
				   "plot datafile using 2:5 with linespoints title 'loss', \\\n"
				   "     %g with lines dashtype 2 title 'limit (--max-loss)'\n"
				   "set yrange [*:*]\nset offsets 0, 0, 0, 0\n",
				max_loss);
			break;
		case 2:
			fputs("set ylabel 'one-way latency, ms'\nset format y '%g'\nset logscale y\n"
			      "plot datafile using 2:6 with linespoints title 'p50', \\\n"
			      "     datafile using 2:7 with linespoints title 'p90', \\\n"
			      "     datafile using 2:8 with linespoints title 'p99', \\\n"
			      "     datafile using 2:9 with linespoints title 'p99.9', \\\n"
			      "     datafile using 2:10 with points title 'max'\n"
			      "unset logscale y\n",
			      f);
			break;
		}
	}
	fputs("unset output\n", f);
	return ferror(f) ? -EIO : 0;
}

int ld_plot(const json_t *steps, const char *prefix, const char *title, double max_loss,
	    char *err, size_t errlen)
{
	char dat[4096], gp[4096];
	if (snprintf(dat, sizeof(dat), "%s.dat", prefix) >= (int)sizeof(dat) ||
	    snprintf(gp, sizeof(gp), "%s.gp", prefix) >= (int)sizeof(gp)) {
		snprintf(err, errlen, "--plot prefix too long");
		return -ENAMETOOLONG;
	}
	FILE *f = fopen(dat, "w");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot write %s: %s", dat, strerror(e));
		return -e;
	}
	int rows = ld_plot_data(steps, f);
	if (fclose(f) != 0 && rows >= 0)
		rows = -EIO;
	if (rows < 0) {
		snprintf(err, errlen, "cannot write %s: %s", dat, strerror(-rows));
		return rows;
	}
	if (rows == 0) {
		snprintf(err, errlen, "no measured trial to plot");
		return -ENODATA;
	}
	f = fopen(gp, "w");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot write %s: %s", gp, strerror(e));
		return -e;
	}
	int rc = ld_plot_script(f, dat, prefix, title, max_loss);
	if (fclose(f) != 0 || rc) {
		snprintf(err, errlen, "cannot write %s", gp);
		return -EIO;
	}
	pid_t pid;
	char *argv[] = {"gnuplot", gp, NULL};
	rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
	if (rc) {
		snprintf(err, errlen, "cannot run gnuplot: %s%s (the data is in %s, the script in %s)",
			 strerror(rc), rc == ENOENT ? " (Debian: apt-get install gnuplot-nox)" : "",
			 dat, gp);
		return -rc;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid gnuplot: %s", strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "gnuplot %s failed (status %d)", gp,
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -EPROTO;
	}
	return 0;
}
