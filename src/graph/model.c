/*
 * src/graph/model.c - contexts, models and sessions: the public face of the engine
 * (include/eosight/model.h).
 *
 * A model is the ONNX graph after load-time passes; it is never written again, so sessions on
 * many threads can share it. A session keeps the plans of the last few input shapes it saw
 * (SESSION_PLANS, least recently used dropped first), so alternating between a few batch
 * sizes (the service's micro-batcher) does not re-plan on every run.
 */
#include "eosight/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "eosight/alloc.h"
#include "graph/graph.h"
#include "graph/passes.h"
#include "graph/plan.h"
#include "onnx/onnx.h"

/* Files above this size are refused (protobuf's own 2 GiB limit; bigger weights belong in
 * external data files). */
#define MODEL_FILE_MAX ((size_t)2 << 30)

struct eos_ctx {
    eos_ctx_params params;
    eos_backend_kind backend;          /* resolved AUTO */
    char errmsg[EOS_ERR_MSG_MAX];
};

struct eos_model {
    const eos_ctx *ctx;
    eos_graph      g;
    int            n_nodes_loaded;
};

#define SESSION_PLANS 8

struct eos_session {
    const eos_model   *model;
    eos_session_params params;
    eos_backend_kind   backend;
    eos_plan          *plan;                  /* the plan of the last run (one of plans) */
    eos_plan          *plans[SESSION_PLANS];
    uint64_t           last_use[SESSION_PLANS];
    uint64_t           tick;
    char               errmsg[EOS_ERR_MSG_MAX];
};

/* ------------------------------------------------------------------ back-ends */

const char *eos_backend_name(eos_backend_kind b) {
    switch (b) {
    case EOS_BACKEND_AUTO: return "auto";
    case EOS_BACKEND_REF: return "ref";
    case EOS_BACKEND_DNNL: return "dnnl";
    }
    return "?";
}

bool eos_backend_available(eos_backend_kind b) {
    if (b == EOS_BACKEND_DNNL) return eos_backend_dnnl() != NULL;
    return b == EOS_BACKEND_AUTO || b == EOS_BACKEND_REF;
}

static const eos_backend_impl *backend_impl(eos_backend_kind b) {
    return b == EOS_BACKEND_DNNL ? eos_backend_dnnl() : eos_backend_ref();
}

/* ------------------------------------------------------------------ context */

eos_ctx_params eos_ctx_default_params(void) {
    eos_ctx_params p;
    memset(&p, 0, sizeof p);
    p.log_fn = eos_log_stderr;
    p.log_level = EOS_LOG_WARN;
    p.backend = EOS_BACKEND_AUTO;
    return p;
}

eos_status eos_ctx_create(const eos_ctx_params *params, eos_ctx **out) {
    *out = NULL;
    eos_ctx_params p = params ? *params : eos_ctx_default_params();
    if (!p.log_fn) p.log_fn = eos_log_stderr;
    eos_backend_kind be = p.backend;
    if (be == EOS_BACKEND_AUTO) {
        const char *env = getenv("EOS_BACKEND");
        if (env && *env) {
            if (!strcmp(env, "ref")) be = EOS_BACKEND_REF;
            else if (!strcmp(env, "dnnl")) be = EOS_BACKEND_DNNL;
            else if (strcmp(env, "auto")) {
                if (p.log_fn && p.log_level <= EOS_LOG_ERROR)
                    p.log_fn(EOS_LOG_ERROR, "EOS_BACKEND must be ref, dnnl or auto", p.log_user);
                return EOS_INVALID_ARG;
            }
        }
    }
    if (be == EOS_BACKEND_AUTO) be = eos_backend_available(EOS_BACKEND_DNNL) ? EOS_BACKEND_DNNL : EOS_BACKEND_REF;
    if (!eos_backend_available(be)) {
        if (p.log_fn && p.log_level <= EOS_LOG_ERROR)
            p.log_fn(EOS_LOG_ERROR, "the dnnl back-end was not built into this eosight", p.log_user);
        return EOS_INVALID_ARG;
    }
    eos_ctx *c = eos_calloc(1, sizeof *c);
    if (!c) return EOS_NOMEM;
    c->params = p;
    c->backend = be;
    *out = c;
    return EOS_OK;
}

void eos_ctx_free(eos_ctx *ctx) { eos_free(ctx); }
const char *eos_ctx_errmsg(const eos_ctx *ctx) { return ctx ? ctx->errmsg : ""; }
eos_backend_kind eos_ctx_backend(const eos_ctx *ctx) { return ctx->backend; }

static eos_status ctx_fail(eos_ctx *ctx, const eos_err *err) {
    if (!ctx) return err->status;
    snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s", err->msg);
    if (ctx->params.log_fn && ctx->params.log_level <= EOS_LOG_DEBUG)
        ctx->params.log_fn(EOS_LOG_DEBUG, err->msg, ctx->params.log_user);
    return err->status;
}

eos_status eos__ctx_fail(eos_ctx *ctx, const eos_err *err) { return ctx_fail(ctx, err); }

void eos__ctx_clear(eos_ctx *ctx) {
    if (ctx) ctx->errmsg[0] = '\0';
}

/* ------------------------------------------------------------------ model */

eos_status eos_model_load_from_memory(eos_ctx *ctx, const void *buf, size_t size,
                                      const char *base_dir, eos_model **out) {
    *out = NULL;
    eos_err err;
    eos_err_clear(&err);
    ctx->errmsg[0] = '\0';
    eos_model *m = eos_calloc(1, sizeof *m);
    if (!m) {
        eos_err_set(&err, EOS_NOMEM, "out of memory loading a model");
        return ctx_fail(ctx, &err);
    }
    m->ctx = ctx;
    eos_graph_init(&m->g);
    eos_status st = eos_onnx_parse(buf, size, base_dir, &m->g, &err);
    if (st == EOS_OK) st = eos_graph_toposort(&m->g, &err);
    if (st == EOS_OK) {
        m->n_nodes_loaded = m->g.n_nodes;
        st = eos_graph_passes_load(&m->g, &err);
    }
    if (st == EOS_OK && m->g.n_outputs == 0) st = eos_err_set(&err, EOS_PARSE, "the model has no outputs");
    if (st != EOS_OK) {
        if (err.status == EOS_OK) eos_err_set(&err, st, "%s", eos_status_str(st));
        eos_model_free(m);
        return ctx_fail(ctx, &err);
    }
    *out = m;
    return EOS_OK;
}

eos_status eos_model_load(eos_ctx *ctx, const char *path, eos_model **out) {
    *out = NULL;
    eos_err err;
    eos_err_clear(&err);
    uint8_t *buf = NULL;
    size_t size = 0;
    if (eos__read_file(path, "model file", MODEL_FILE_MAX, &buf, &size, &err) != EOS_OK)
        return ctx_fail(ctx, &err);
    char *dir = eos_strdup(path);
    if (!dir) {
        eos_free(buf);
        eos_err_set(&err, EOS_NOMEM, "out of memory");
        return ctx_fail(ctx, &err);
    }
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    if (!dir[0]) strcpy(dir, "/");
    eos_status st = eos_model_load_from_memory(ctx, buf, size, dir, out);
    eos_free(dir);
    eos_free(buf);
    if (st != EOS_OK) {
        char tmp[EOS_ERR_MSG_MAX];
        snprintf(tmp, sizeof tmp, "%s", ctx->errmsg);
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "%.200s: %.300s", path, tmp);
    }
    return st;
}

void eos_model_free(eos_model *m) {
    if (!m) return;
    eos_graph_free(&m->g);
    eos_free(m);
}

int eos_model_n_inputs(const eos_model *m) { return m->g.n_inputs; }
int eos_model_n_outputs(const eos_model *m) { return m->g.n_outputs; }
int eos_model_n_nodes(const eos_model *m) { return m->g.n_nodes; }

static void io_info(const eos_value *v, eos_io_info *out) {
    memset(out, 0, sizeof *out);
    out->name = v->name;
    out->dtype = v->dtype;
    out->ndim = v->ndim;
    for (int i = 0; i < v->ndim && i < EOS_MAX_DIMS; i++) out->dims[i] = v->dims[i];
}

eos_status eos_model_input_info(const eos_model *m, int i, eos_io_info *out) {
    if (i < 0 || i >= m->g.n_inputs) return EOS_INVALID_ARG;
    io_info(&m->g.values[m->g.inputs[i]], out);
    return EOS_OK;
}

eos_status eos_model_output_info(const eos_model *m, int i, eos_io_info *out) {
    if (i < 0 || i >= m->g.n_outputs) return EOS_INVALID_ARG;
    io_info(&m->g.values[m->g.outputs[i]], out);
    return EOS_OK;
}

int eos_model_input_index(const eos_model *m, const char *name) {
    for (int i = 0; name && i < m->g.n_inputs; i++)
        if (!strcmp(m->g.values[m->g.inputs[i]].name, name)) return i;
    return -1;
}

int eos_model_output_index(const eos_model *m, const char *name) {
    for (int i = 0; name && i < m->g.n_outputs; i++)
        if (!strcmp(m->g.values[m->g.outputs[i]].name, name)) return i;
    return -1;
}

const char *eos_model_meta(const eos_model *m, const char *key) {
    const char *found = NULL;
    for (int i = 0; key && i < m->g.n_meta; i++)
        if (!strcmp(m->g.meta_keys[i], key)) found = m->g.meta_values[i];
    return found;
}

int eos_model_n_meta(const eos_model *m) { return m->g.n_meta; }

eos_status eos_model_meta_at(const eos_model *m, int i, const char **key, const char **value) {
    if (i < 0 || i >= m->g.n_meta) return EOS_INVALID_ARG;
    *key = m->g.meta_keys[i];
    *value = m->g.meta_values[i];
    return EOS_OK;
}

/* ------------------------------------------------------------------ session */

eos_session_params eos_session_default_params(void) {
    eos_session_params p;
    memset(&p, 0, sizeof p);
    p.n_threads = 0;
    p.backend = EOS_BACKEND_AUTO;
    return p;
}

eos_status eos_session_create(const eos_model *m, const eos_session_params *params, eos_session **out) {
    *out = NULL;
    eos_session_params p = params ? *params : eos_session_default_params();
    if (p.n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        p.n_threads = n > 0 ? (int)n : 1;
    }
    eos_backend_kind be = p.backend == EOS_BACKEND_AUTO ? m->ctx->backend : p.backend;
    if (!eos_backend_available(be) || be == EOS_BACKEND_AUTO) return EOS_INVALID_ARG;
    eos_session *s = eos_calloc(1, sizeof *s);
    if (!s) return EOS_NOMEM;
    s->model = m;
    s->params = p;
    s->backend = be;
    *out = s;
    return EOS_OK;
}

void eos_session_free(eos_session *s) {
    if (!s) return;
    for (int i = 0; i < SESSION_PLANS; i++) eos_plan_free(s->plans[i]);
    eos_free(s);
}

static bool plan_matches(const eos_plan *p, const eos_tensor *inputs, int n) {
    if (!p || n != p->g.n_inputs) return false;
    for (int i = 0; i < n; i++) {
        eos_tensor t = eos_value_tensor(&p->g.values[p->g.inputs[i]]);
        if (!eos_tensor_same_shape(&t, &inputs[i])) return false;
    }
    return true;
}

static eos_status session_fail(eos_session *s, const eos_err *err) {
    snprintf(s->errmsg, sizeof s->errmsg, "%s", err->msg);
    return err->status ? err->status : EOS_INTERNAL;
}

eos_status eos_session_run(eos_session *s, const eos_tensor *inputs, int n_inputs) {
    eos_err err;
    eos_err_clear(&err);
    s->errmsg[0] = '\0';
    if (n_inputs < 0 || (n_inputs && !inputs)) {
        eos_err_set(&err, EOS_INVALID_ARG, "no inputs given");
        return session_fail(s, &err);
    }
    if (n_inputs != s->model->g.n_inputs) {
        eos_err_set(&err, EOS_INVALID_ARG, "the model has %d input%s, %d given", s->model->g.n_inputs,
                    s->model->g.n_inputs == 1 ? "" : "s", n_inputs);
        return session_fail(s, &err);
    }
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i].ndim < 0 || inputs[i].ndim > EOS_MAX_DIMS) {
            eos_err_set(&err, EOS_SHAPE, "input %d: rank %d is outside 0..%d", i, inputs[i].ndim, EOS_MAX_DIMS);
            return session_fail(s, &err);
        }
    int k = -1, victim = 0;
    for (int i = 0; i < SESSION_PLANS && k < 0; i++)
        if (plan_matches(s->plans[i], inputs, n_inputs)) k = i;
    if (k < 0) {   /* a new shape: an empty slot, else the least recently used plan */
        for (int i = 1; i < SESSION_PLANS; i++)
            if (!s->plans[victim]) break;
            else if (!s->plans[i] || s->last_use[i] < s->last_use[victim]) victim = i;
        if (s->plan == s->plans[victim]) s->plan = NULL;
        eos_plan_free(s->plans[victim]);
        s->plans[victim] = NULL;
        eos_status st = eos_plan_create_limited(&s->model->g, inputs, n_inputs,
                                                backend_impl(s->backend), s->params.n_threads,
                                                s->params.max_arena_bytes, &s->plans[victim],
                                                &err);
        if (st) return session_fail(s, &err);
        k = victim;
    }
    s->plan = s->plans[k];
    s->last_use[k] = ++s->tick;
    eos_status st = eos_plan_run(s->plan, inputs, n_inputs, &err);
    if (st) return session_fail(s, &err);
    return EOS_OK;
}

eos_status eos_session_output(const eos_session *s, int i, eos_tensor *out) {
    if (!s->plan || i < 0 || i >= s->plan->g.n_outputs) return EOS_INVALID_ARG;
    *out = eos_plan_output(s->plan, i);
    return EOS_OK;
}

const char *eos_session_errmsg(const eos_session *s) { return s ? s->errmsg : ""; }
eos_backend_kind eos_session_backend(const eos_session *s) { return s->backend; }
size_t eos_session_arena_bytes(const eos_session *s) { return s->plan ? s->plan->mem_bytes : 0; }
