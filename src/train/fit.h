/*
 * src/train/fit.h - the training loop behind `eosight train`: data, network, loss, optimiser
 * and schedule put together, with validation after each epoch (through the exported ONNX
 * model and eos_evaluate, so the figure is what `eosight eval` would print), best-model
 * keeping, checkpoints every epoch that resume exactly, early stopping, a progress bar and
 * JSON-lines logs.
 *
 * Files: cfg->out (best model, ONNX), cfg->ckpt (last epoch's checkpoint; default
 * <out>.ckpt), cfg->log_path (JSON lines; default <out>.log.jsonl). Every file is written
 * through .part + rename.
 */
#ifndef EOS_TRAIN_FIT_H
#define EOS_TRAIN_FIT_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/data.h"
#include "eosight/train.h"

typedef struct eos_fit_config {
    eos_task    task;
    const char *data;              /* dataset root */
    const char *train_split;       /* default "train" */
    const char *val_split;         /* default "val"; "" or "none": no validation */
    const char *labels;            /* tag labels file (NULL: DIR/multilabels.tsv) */
    const char *const *ignore_classes;
    int         n_ignore;
    eos_arch    arch;
    const char *init;              /* ONNX model to fine-tune instead of building arch */
    int         epochs, batch;
    int         size_h, size_w;    /* training input size (0: images' own) */
    eos_optim_params optim;
    eos_sched   sched;             /* lr, kind, final_frac, gamma, step_size (epochs) */
    float       warmup_epochs;
    eos_loss_params loss;
    eos_augment aug;
    uint64_t    seed;
    int         threads, loader_threads;
    int64_t     cache_mb;
    int64_t     patches_per_epoch; /* segment */
    float       target_share;
    const char *out, *ckpt, *log_path;
    bool        resume;
    int         patience;          /* epochs without improvement before stopping; 0: never */
    bool        tta;               /* validation with rot90 TTA */
    int64_t     max_steps;         /* stop after this many steps (0: no limit), for tests/benches */
    int         val_every;         /* validate every k epochs (and at the last); 0: 1 */
    int         val_tile;          /* segment validation tile (0: 512) */
    bool        quiet;             /* no progress bar */
    const char *command;           /* the command line, recorded in the metadata */
    /* Extra model metadata (`eosight train --meta KEY=VALUE`): n_meta pairs, at most
     * EOS_FIT_MAX_META, keys non-empty. Written after the keys training sets; a key training
     * also writes (e.g. eosight.task) takes this value instead of its own. */
    const char *const *meta_keys;
    const char *const *meta_values;
    int         n_meta;
} eos_fit_config;

#define EOS_FIT_MAX_META 32

/* Defaults for a task (documented in `eosight train --help`). */
void eos_fit_config_default(eos_fit_config *c, eos_task task);

/* Train. Errors with a message in eos_ctx_errmsg(ctx). */
eos_status eos_fit(eos_ctx *ctx, const eos_fit_config *cfg);

#endif /* EOS_TRAIN_FIT_H */
