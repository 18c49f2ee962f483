/*
 * src/analysis/infer.h - what evaluation (src/train/evaluate.c) and the analyses
 * (src/analysis/) share to run a model on images: comma-list metadata helpers, the D4
 * test-time transforms, a "runner" that turns a session's outputs into probabilities averaged
 * over the transforms, and a terminal progress bar.
 *
 * The runner takes inputs [n, c, h, w] (normalised f32) and gives [n, C] scores, or, when
 * dense, [n, C, h, w] scores in the input's own frame (the output of each transform is turned
 * back before averaging). Not thread-safe: one runner per thread (it owns its session).
 */
#ifndef EOS_ANALYSIS_INFER_H
#define EOS_ANALYSIS_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "eosight/model.h"

/* Pixel loops run on OpenMP threads when there is enough work: EOS_OMP_FOR(threads, work)
 * just before a for loop. */
#ifdef _OPENMP
#define EOS_PRAGMA_(x) _Pragma(#x)
#define EOS_OMP_FOR(nt, work) \
    EOS_PRAGMA_(omp parallel for schedule(static) num_threads(nt) if ((work) > 32768))
#define EOS_OMP_FOR_OR(nt, work, var) \
    EOS_PRAGMA_(omp parallel for schedule(static) num_threads(nt) if ((work) > 32768) \
                reduction(| : var))
#else
#define EOS_OMP_FOR(nt, work)
#define EOS_OMP_FOR_OR(nt, work, var)
#endif

/* n > 0: n; else the number of OpenMP threads (1 without OpenMP). */
int eos__infer_threads(int n);

/* Grow a float / byte scratch buffer to at least n entries (contents kept); false when out of
 * memory (the buffer is then unchanged). */
bool eos__grow_f(float **buf, size_t *cap, size_t n);
bool eos__grow_u8(uint8_t **buf, size_t *cap, size_t n);

/* ------------------------------------------------------------------ comma lists */

/* Entries of a comma-separated list ("" has none). */
int eos__list_len(const char *s);
/* Entry i (0 <= i < eos__list_len(s)), blanks trimmed: *p, *len (not NUL-terminated). */
void eos__list_at(const char *s, int i, const char **p, size_t *len);
/* Entry i as a number; false when it is not a finite one. */
bool eos__list_num(const char *s, int i, double *v);

/* ------------------------------------------------------------------ D4 transforms */

/* D4 element t (0..7): t & 3 quarter turns counter-clockwise (numpy's rot90) of the image
 * flipped left-right when t & 4. Odd turns need h == w. */
/* dst = T_t(src) for n_planes planes of h x w. */
void eos__tta_apply(int t, const float *src, float *dst, int64_t n_planes, int h, int w, int nt);
/* acc += T_t^-1(src): src was computed on T_t(input). */
void eos__tta_scatter_add(int t, const float *src, float *acc, int64_t n_planes, int h, int w,
                         int nt);
/* The elements averaged over for n_tta (1, 4 or 8) on an h x w input into t[8]; non-square
 * inputs keep only the shape-preserving ones (identity, rot180 and, for 8, the two flips). */
int eos__tta_list(int n_tta, int h, int w, int *t);

/* ------------------------------------------------------------------ runner */

typedef enum eos_out_kind {
    EOS_OUT_SOFTMAX = 0,   /* logits of exclusive classes */
    EOS_OUT_SIGMOID = 1,   /* logits of independent labels */
    EOS_OUT_PROBS   = 2    /* the graph already ends in Softmax/Sigmoid */
} eos_out_kind;

typedef struct eos_runner {
    eos_session  *s;              /* owned: freed by eos__runner_free */
    int           n_classes;
    eos_out_kind  kind;
    int           n_threads;      /* for the pixel loops */
    int           n_tta;          /* 1, 4 or 8 */
    bool          argmax_only;    /* scores are only compared: without TTA the raw outputs */
    int           fixed_n;        /* the model input's fixed batch size (0: any); runs of
                                   * other sizes go in chunks of it (set by _init) */
    int           feat_output;    /* index of an extra output to copy out (-1: none) */
    float        *feat;           /* [n, feat_dim] of the last run when feat_output >= 0 */
    int           feat_dim;
    size_t        feat_cap;
    float        *xt;   size_t xt_cap;   /* transformed input */
    float        *p;    size_t p_cap;    /* one transform's probabilities */
} eos_runner;

/* Create the session of a runner (n_threads engine threads, 0: all). Fields other than s keep
 * what the caller set. Errors: the session's, with a message in err. */
eos_status eos__runner_init(eos_runner *r, const eos_model *m, int n_threads, eos_err *err);
void eos__runner_free(eos_runner *r);

/* Scores of x [n, c, h, w] into out ([n, C], or [n, C, h, w] when dense). Probabilities,
 * averaged over the TTA transforms; without TTA and argmax_only, the raw outputs. When
 * feat_output >= 0 the features of the untransformed input land in r->feat. A model whose
 * batch size is fixed (exported without a dynamic batch axis) runs n images in chunks of that
 * size, the last chunk padded with zeros. Errors: the
 * session's, EOS_SHAPE/EOS_TYPE for an output of the wrong shape or type, EOS_NUMERIC for NaN
 * or infinite outputs, EOS_NOMEM. */
eos_status eos__runner_run(eos_runner *r, const float *x, int n, int c, int h, int w, bool dense,
                           float *out, eos_err *err);

/* Logits -> probabilities in place: y is [n, C, per] (per = pixels, 1 for image outputs). */
void eos__to_probs(float *y, int64_t n, int C, int64_t per, eos_out_kind kind, int nt);

/* Index of the largest of n values spaced stride apart (the first on ties). */
int eos__argmax(const float *v, int n, int64_t stride);

/* ------------------------------------------------------------------ progress */

typedef struct eos_progress {
    bool        on;
    double      t0, last;
    int64_t     total;
    const char *label;            /* e.g. "eval" */
    const char *unit;             /* e.g. "items" */
} eos_progress;

double eos__now_s(void);
/* Start a bar on stderr (only when on and stderr is a terminal). */
void eos__progress_start(eos_progress *p, bool on, const char *label, const char *unit,
                         int64_t total);
/* Redraw at most 5 times a second; final prints the last state and a newline. */
void eos__progress_show(eos_progress *p, double done, bool final);

#endif /* EOS_ANALYSIS_INFER_H */
