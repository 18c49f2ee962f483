/*
 * src/cli/cli.h - shared pieces of the `eosight` command: one file per subcommand, each exposing
 * `int cli_<name>(int argc, char **argv)` (argv[0] is the subcommand) returning the exit status:
 * 0 success, 1 failure of the work itself, 2 bad usage.
 */
#ifndef EOS_CLI_CLI_H
#define EOS_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/eosight.h"

int cli_run(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_quicklook(int argc, char **argv);
int cli_polygonize(int argc, char **argv);
int cli_clean_mask(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_synth_clouds(int argc, char **argv);
int cli_classify(int argc, char **argv);
int cli_tag(int argc, char **argv);
int cli_clouds(int argc, char **argv);
int cli_segment(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_meta(int argc, char **argv);
int cli_catalog(int argc, char **argv);
int cli_serve(int argc, char **argv);

/* Print "eosight: <msg>" to stderr; returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse "1x3x64x64" / "3,64,64" into dims; returns rank or -1. */
int cli_parse_shape(const char *s, int64_t *dims, int max_dims);
/* Parse a back-end name ("ref", "dnnl", "auto"); false when unknown. */
bool cli_parse_backend(const char *s, eos_backend_kind *out);
/* Parse a positive int option value; false when not a number in [lo, hi]. */
bool cli_parse_int(const char *s, long lo, long hi, long *out);
/* An option with an integer value in [lo, hi]: 0, or 2 after printing
 * "<cmd>: <name> '<v>' is not a number in lo..hi". */
int cli_int_opt(const char *cmd, const char *name, const char *v, long lo, long hi, long *out);
/* Create a context and load a model, printing the loader's message on failure. */
int cli_load_model(const char *path, eos_backend_kind be, eos_ctx **ctx, eos_model **model);

#endif /* EOS_CLI_CLI_H */
