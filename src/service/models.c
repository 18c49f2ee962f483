/*
 * src/service/models.c - the service's model registry: the *.onnx files of a folder (or of the
 * model search path) that open as eosight models, each with a small pool of analyzers.
 * Analyzers are not thread-safe (they own an inference session), so a request borrows one for
 * its whole analysis and gives it back; the first analyzer of each model is opened at load
 * (to read its contract), the others when concurrent requests need them, sharing the first
 * one's loaded model (eos_analyzer_open_shared), as the model's batcher does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "service/service_internal.h"

/* Open a slot's analyzer: from the file, or sharing the loaded model of src (not NULL). */
static eos_status slot_open(svc_slot *slot, const char *path, const eos_analyzer *src,
                            int threads, char *msg, size_t size) {
    eos_status st = eos_ctx_create(NULL, &slot->ctx);
    if (st != EOS_OK) {
        snprintf(msg, size, "cannot create a context");
        return st;
    }
    eos_analyzer_params p = { threads };
    st = src ? eos_analyzer_open_shared(slot->ctx, src, &p, &slot->a)
             : eos_analyzer_open(slot->ctx, path, &p, &slot->a);
    if (st != EOS_OK) {
        snprintf(msg, size, "%s", eos_ctx_errmsg(slot->ctx));
        eos_ctx_free(slot->ctx);
        slot->ctx = NULL;
        slot->a = NULL;
    }
    return st;
}

static void slot_close(svc_slot *slot) {
    eos_analyzer_free(slot->a);
    eos_ctx_free(slot->ctx);
    slot->a = NULL;
    slot->ctx = NULL;
}

static int model_cmp(const void *x, const void *y) {
    return strcmp(((const svc_model *)x)->name, ((const svc_model *)y)->name);
}

/* Name of a file "NAME.onnx" into name; false for other files or names too long. */
static bool onnx_name(const char *file, char *name, size_t size) {
    size_t n = strlen(file);
    if (n <= 5 || n - 5 >= size || strcmp(file + n - 5, ".onnx") != 0 || file[0] == '.')
        return false;
    memcpy(name, file, n - 5);
    name[n - 5] = '\0';
    return true;
}

static eos_status add_model(svc_registry *reg, int *cap, const char *dir, const char *file,
                            int pool_size, int threads) {
    char name[128], path[4096], msg[512];
    if (!onnx_name(file, name, sizeof name) || svc_registry_find(reg, name)) return EOS_OK;
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) return EOS_OK;
    if (reg->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        svc_model *nm = eos_realloc(reg->models, (size_t)nc * sizeof *nm);
        if (!nm) return EOS_NOMEM;
        reg->models = nm;
        *cap = nc;
    }
    svc_model *m = &reg->models[reg->n];
    memset(m, 0, sizeof *m);
    m->slots = eos_calloc((size_t)pool_size, sizeof *m->slots);
    m->path = eos_strdup(path);
    if (!m->slots || !m->path) {
        eos_free(m->slots);
        eos_free(m->path);
        return EOS_NOMEM;
    }
    if (slot_open(&m->slots[0], path, NULL, threads, msg, sizeof msg) != EOS_OK ||
        eos_contract_json(m->slots[0].a, &m->contract_json) != EOS_OK) {
        slot_close(&m->slots[0]);
        eos_free(m->slots);
        eos_free(m->path);
        return EOS_OK;   /* not an eosight model: skipped */
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    m->task = eos_analyzer_contract(m->slots[0].a)->task;
    m->n_slots = pool_size;
    /* The pool analyzers of batched models only decode and read inputs (the batcher runs the
     * engine): one thread each, so concurrent requests do not each start a team of engine
     * threads. Segmentation runs on the pool analyzers: all of threads. */
    m->threads = m->task == EOS_ANALYSIS_SEGMENT ? threads : 1;
    if (m->threads != threads) {   /* reopen the first one with its thread count */
        slot_close(&m->slots[0]);
        if (slot_open(&m->slots[0], path, NULL, m->threads, msg, sizeof msg) != EOS_OK) {
            eos_free(m->contract_json);
            eos_free(m->slots);
            eos_free(m->path);
            return EOS_OK;
        }
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    reg->n++;
    return EOS_OK;
}

static eos_status load_dir(svc_registry *reg, int *cap, const char *dir, int pool_size,
                           int threads) {
    DIR *d = opendir(dir);
    if (!d) return EOS_OK;
    eos_status st = EOS_OK;
    struct dirent *e;
    while (st == EOS_OK && (e = readdir(d)) != NULL) st = add_model(reg, cap, dir, e->d_name,
                                                                    pool_size, threads);
    closedir(d);
    return st;
}

eos_status svc_registry_load(svc_registry *reg, const char *dir, int pool_size,
                             int engine_threads) {
    memset(reg, 0, sizeof *reg);
    int cap = 0;
    eos_status st = EOS_OK;
    if (dir) {
        st = load_dir(reg, &cap, dir, pool_size, engine_threads);
    } else {
        const char *dirs[24];
        int n = eos_model_search_path(dirs, 24);
        for (int i = 0; st == EOS_OK && i < n; i++) st = load_dir(reg, &cap, dirs[i], pool_size,
                                                               engine_threads);
    }
    if (st != EOS_OK) {
        svc_registry_free(reg);
        return st;
    }
    if (reg->n > 1) qsort(reg->models, (size_t)reg->n, sizeof *reg->models, model_cmp);
    return EOS_OK;
}

void svc_registry_free(svc_registry *reg) {
    for (int i = 0; i < reg->n; i++) {
        svc_model *m = &reg->models[i];
        for (int k = m->n_slots - 1; k >= 0; k--) slot_close(&m->slots[k]);   /* 0 last: the
                                                                                 * others share
                                                                                 * its model */
        eos_free(m->slots);
        eos_free(m->path);
        eos_free(m->contract_json);
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
    }
    eos_free(reg->models);
    memset(reg, 0, sizeof *reg);
}

svc_model *svc_registry_find(svc_registry *reg, const char *name) {
    for (int i = 0; i < reg->n; i++)
        if (strcmp(reg->models[i].name, name) == 0) return &reg->models[i];
    return NULL;
}

svc_model *svc_registry_first(svc_registry *reg, eos_analysis_task task) {
    svc_model *d = svc_registry_find(reg, eos_analysis_default_model(task));
    if (d && d->task == task) return d;   /* the task's default model when loaded */
    for (int i = 0; i < reg->n; i++)
        if (reg->models[i].task == task) return &reg->models[i];
    return NULL;
}

svc_slot *svc_model_borrow(svc_model *m, char *msg, size_t size) {
    pthread_mutex_lock(&m->mu);
    for (;;) {
        svc_slot *closed = NULL;
        for (int k = 0; k < m->n_slots; k++) {
            svc_slot *s = &m->slots[k];
            if (s->a && !s->busy) {
                s->busy = true;
                pthread_mutex_unlock(&m->mu);
                return s;
            }
            if (!s->a && !closed) closed = s;
        }
        if (closed) {
            /* opened under the lock: rare (once per slot) and keeps the pool simple */
            svc_slot *s = slot_open(closed, m->path, m->slots[0].a, m->threads, msg, size) ==
                                  EOS_OK ? closed : NULL;
            if (s) s->busy = true;
            pthread_mutex_unlock(&m->mu);
            return s;
        }
        pthread_cond_wait(&m->cv, &m->mu);
    }
}

void svc_model_return(svc_model *m, svc_slot *slot) {
    pthread_mutex_lock(&m->mu);
    slot->busy = false;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}
