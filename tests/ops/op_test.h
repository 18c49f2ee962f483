/*
 * tests/ops/op_test.h - helpers shared by the operator tests (test_infer.c, test_ref_*.c):
 * build an eos_node by hand with a few attributes, describe tensors, run shape inference
 * through the public eos_op_infer and a reference kernel on freshly allocated outputs.
 *
 *     op_node t;
 *     op_init(&t, EOS_OP_CONV, 3, 1, 13);
 *     op_ints(&t, "pads", (int64_t[]){ 1, 1, 0, 0 }, 4);   // array must outlive t
 *     eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 4, D(1, 2, 5, 5), x), ... }, out[1];
 *     ASSERT_OK(op_run(&t.n, in, out, &err));
 *     ...
 *     op_free(out, 1);
 *
 * Static functions in a header: every test file gets its own copy.
 */
#ifndef EOS_TESTS_OPS_OP_TEST_H
#define EOS_TESTS_OPS_OP_TEST_H

#include <string.h>

#include "common/test.h"
#include "graph/graph.h"
#include "ops/ops.h"

#define OP_MAX_ATTRS 16
#define OP_MAX_IO    16

/* Shape literal: D(1, 3, 8, 8). */
#define D(...) ((const int64_t[]){ __VA_ARGS__ })

typedef struct op_node {
    eos_node n;
    eos_attr attrs[OP_MAX_ATTRS];
    int      ids[2 * OP_MAX_IO];
} op_node;

static inline void op_init(op_node *t, eos_op op, int n_in, int n_out, int opset) {
    memset(t, 0, sizeof *t);
    t->n.op = op;
    t->n.name = "t";
    t->n.op_type = eos_op_name(op);
    t->n.n_in = n_in;
    t->n.n_out = n_out;
    for (int i = 0; i < 2 * OP_MAX_IO; i++) t->ids[i] = i;
    t->n.in = t->ids;
    t->n.out = t->ids + OP_MAX_IO;
    t->n.attrs = t->attrs;
    t->n.fuse.sum_in = -1;
    t->n.opset = opset;
}

static inline eos_attr *op_attr_(op_node *t, const char *name, eos_attr_type type) {
    eos_attr *a = &t->attrs[t->n.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    a->tensor = -1;
    return a;
}
static inline void op_int(op_node *t, const char *name, int64_t v) {
    op_attr_(t, name, EOS_ATTR_INT)->i = v;
}
static inline void op_float(op_node *t, const char *name, float v) {
    op_attr_(t, name, EOS_ATTR_FLOAT)->f = v;
}
static inline void op_str(op_node *t, const char *name, const char *s) {
    op_attr_(t, name, EOS_ATTR_STRING)->s = s;
}
static inline void op_ints(op_node *t, const char *name, const int64_t *v, int n) {
    eos_attr *a = op_attr_(t, name, EOS_ATTR_INTS);
    a->ints = v;
    a->n = n;
}
static inline void op_floats(op_node *t, const char *name, const float *v, int n) {
    eos_attr *a = op_attr_(t, name, EOS_ATTR_FLOATS);
    a->floats = v;
    a->n = n;
}
/* One-element TENSOR attribute (ConstantOfShape value). */
static inline void op_tensor1(op_node *t, const char *name, eos_dtype dt, const void *data) {
    eos_attr *a = op_attr_(t, name, EOS_ATTR_TENSOR);
    a->t_dtype = dt;
    a->t_ndim = 1;
    a->t_dims[0] = 1;
    a->t_data = data;
}

static inline eos_tensor op_t(eos_dtype dt, int ndim, const int64_t *dims, const void *data) {
    eos_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++) t.dims[i] = dims[i];
    t.data = (void *)data;
    return t;
}
/* An omitted optional input. */
static inline eos_tensor op_none(void) {
    eos_tensor t;
    memset(&t, 0, sizeof t);
    return t;
}

/* Shape inference through the public entry point on tensor descriptors (data = constant). */
static inline eos_status op_infer(const eos_node *n, const eos_tensor *in, eos_tensor *out,
                                  eos_err *err) {
    eos_value vin[OP_MAX_IO], vout[OP_MAX_IO];
    const eos_value *pin[OP_MAX_IO];
    eos_value *pout[OP_MAX_IO];
    memset(vin, 0, sizeof vin);
    memset(vout, 0, sizeof vout);
    for (int i = 0; i < n->n_in; i++) {
        pin[i] = NULL;
        if (in[i].dtype == EOS_DTYPE_UNDEFINED) continue;
        vin[i].name = "";
        vin[i].dtype = in[i].dtype;
        vin[i].ndim = in[i].ndim;
        memcpy(vin[i].dims, in[i].dims, sizeof vin[i].dims);
        vin[i].data = in[i].data;
        pin[i] = &vin[i];
    }
    for (int j = 0; j < n->n_out; j++) {
        vout[j].ndim = -1;
        pout[j] = &vout[j];
    }
    eos_status st = eos_op_infer(n, pin, pout, err);
    if (st != EOS_OK) return st;
    for (int j = 0; j < n->n_out; j++) out[j] = eos_value_tensor(&vout[j]);
    return EOS_OK;
}

/* Infer output shapes, allocate outputs (zeroed) and run the reference kernel. On success the
 * caller frees outputs with op_free. */
static inline eos_status op_run(const eos_node *n, const eos_tensor *in, eos_tensor *out,
                                eos_err *err) {
    EOS_TRY(op_infer(n, in, out, err));
    for (int j = 0; j < n->n_out; j++) {
        size_t nb = eos_tensor_nbytes(&out[j]);
        out[j].data = eos_calloc(nb ? nb : 1, 1);
        if (!out[j].data) return EOS_NOMEM;
    }
    eos_status st = eos_op_ref(n, in, out, err);
    if (st != EOS_OK)
        for (int j = 0; j < n->n_out; j++) {
            eos_free(out[j].data);
            out[j].data = NULL;
        }
    return st;
}

static inline void op_free(eos_tensor *out, int n_out) {
    for (int j = 0; j < n_out; j++) {
        eos_free(out[j].data);
        out[j].data = NULL;
    }
}

/* Compare out (f32) with expected values. */
#define EXPECT_F32_ARRAY(got, want, count, tol)                                               \
    do {                                                                                      \
        const float *g_ = (const float *)(got), *w_ = (want);                                 \
        for (int64_t i_ = 0; i_ < (int64_t)(count); i_++)                                     \
            if (!(fabs((double)g_[i_] - (double)w_[i_]) <= (tol))) {                          \
                TEST_FAIL_("element %lld: got %.9g, want %.9g", (long long)i_, (double)g_[i_], \
                           (double)w_[i_]);                                                   \
                break;                                                                        \
            }                                                                                 \
    } while (0)

#define EXPECT_I64_ARRAY(got, want, count)                                                    \
    do {                                                                                      \
        const int64_t *g_ = (const int64_t *)(got), *w_ = (want);                             \
        for (int64_t i_ = 0; i_ < (int64_t)(count); i_++)                                     \
            if (g_[i_] != w_[i_]) {                                                           \
                TEST_FAIL_("element %lld: got %lld, want %lld", (long long)i_,                \
                           (long long)g_[i_], (long long)w_[i_]);                             \
                break;                                                                        \
            }                                                                                 \
    } while (0)

#define EXPECT_SHAPE(t, ...)                                                                  \
    do {                                                                                      \
        const int64_t want_[] = { __VA_ARGS__ };                                              \
        int wn_ = (int)(sizeof want_ / sizeof want_[0]);                                      \
        char a_[96], b_[96];                                                                  \
        eos_tensor w_t_;                                                                      \
        memset(&w_t_, 0, sizeof w_t_);                                                        \
        w_t_.ndim = wn_;                                                                      \
        memcpy(w_t_.dims, want_, sizeof want_);                                               \
        if (!eos_tensor_same_shape(&(t), &w_t_))                                              \
            TEST_FAIL_("shape %s, want %s", eos_shape_str((t).ndim, (t).dims, a_, sizeof a_), \
                       eos_shape_str(wn_, want_, b_, sizeof b_));                             \
    } while (0)

#endif /* EOS_TESTS_OPS_OP_TEST_H */
