/*
 * src/service/service_internal.h - what the files of the HTTP service share: the model
 * registry (models.c: models found at start-up, each with a pool of analyzers borrowed one
 * request at a time) and the HTTP status table (service.c).
 */
#ifndef EOS_SERVICE_INTERNAL_H
#define EOS_SERVICE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "eosight/analysis.h"

typedef struct svc_slot {
    eos_analyzer *a;
    eos_ctx      *ctx;       /* the slot's own context: error messages of its calls */
    bool          busy;
} svc_slot;

typedef struct svc_model {
    char              name[128];
    char             *path;
    eos_analysis_task task;
    char             *contract_json;   /* eos_contract_json of the model */
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    int               threads;         /* engine threads of each analyzer */
    int               n_slots;         /* pool size; slots are opened on first need */
    svc_slot         *slots;
} svc_model;

typedef struct svc_registry {
    svc_model *models;   /* sorted by name */
    int        n;
} svc_registry;

/* Find every *.onnx of dir (or of the model search path when dir is NULL) that opens as an
 * eosight model; each gets a pool of pool_size analyzers of engine_threads threads. Files that
 * do not open are skipped. Errors: EOS_NOMEM. */
eos_status svc_registry_load(svc_registry *reg, const char *dir, int pool_size,
                             int engine_threads);
void svc_registry_free(svc_registry *reg);
svc_model *svc_registry_find(svc_registry *reg, const char *name);
/* The task's default model (eos_analysis_default_model) when loaded, else the first model (by
 * name) of the task, or NULL. */
svc_model *svc_registry_first(svc_registry *reg, eos_analysis_task task);

/* Borrow a free analyzer of m (opening one when the pool has room, waiting otherwise). NULL
 * when opening failed (message in msg). */
svc_slot *svc_model_borrow(svc_model *m, char *msg, size_t size);
void svc_model_return(svc_model *m, svc_slot *slot);

#endif /* EOS_SERVICE_INTERNAL_H */
