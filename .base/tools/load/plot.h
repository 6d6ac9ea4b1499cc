/* mmload's plots (--plot PREFIX): throughput, loss and latency percentiles
 * against the offered load, over the trials of --find-max or --ramp.
 *
 * The trials (the "steps" array of the report, one JSON object each, see
 * tools/load/findmax.c) become a whitespace-separated data file sorted by
 * offered load, PREFIX.dat, and a gnuplot script, PREFIX.gp, that draws
 * three PNGs: PREFIX-throughput.png (expected and received copies per
 * second, and the packets offered), PREFIX-loss.png (loss in percent, the
 * --max-loss line) and PREFIX-latency.png (one-way latency p50, p90, p99,
 * p99.9 and max). gnuplot (Debian's gnuplot-nox) runs the script; the data
 * and the script stay, so a planner can restyle the plots. */
#ifndef MM_LOAD_PLOT_H
#define MM_LOAD_PLOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* The columns of the data file, in order (a "#" header line names them). */
#define LD_PLOT_COLUMNS                                                                    \
	"participants offered_pps expected_pps received_pps loss_percent p50_ms p90_ms "     \
	"p99_ms p999_ms max_ms pass"

/* Write the steps that carry a measurement, sorted by offered_pps (then
 * participants), to f. Returns the number of rows, or -EINVAL when steps
 * is not an array. */
int ld_plot_data(const json_t *steps, FILE *f);
/* The gnuplot script reading data_path, writing prefix-*.png. */
int ld_plot_script(FILE *f, const char *data_path, const char *prefix, const char *title,
		   double max_loss);
/* Both files, then gnuplot. 0, or -errno with a message in err (no
 * measured step, a file that cannot be written, gnuplot missing or
 * failing). */
int ld_plot(const json_t *steps, const char *prefix, const char *title, double max_loss,
	    char *err, size_t errlen);

#endif
