/*
 * src/cli/inspect.c - `eosight inspect MODEL.onnx`: inputs, outputs, metadata, node count.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_inspect(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                "usage: eosight inspect MODEL.onnx\n\n"
                "Loads the model (checking it completely) and prints its inputs, outputs, metadata\n"
                "(see docs/model-metadata.md) and the number of nodes after load-time passes.\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    eos_ctx *ctx;
    eos_model *m;
    int rc = cli_load_model(argv[1], EOS_BACKEND_AUTO, &ctx, &m);
    if (rc) return rc;
    char sh[128];
    printf("model: %s\nnodes: %d (after BatchNorm folding and Identity removal)\n", argv[1], eos_model_n_nodes(m));
    for (int i = 0; i < eos_model_n_inputs(m); i++) {
        eos_io_info io;
        eos_model_input_info(m, i, &io);
        printf("input  %d: %-20s %-5s %s\n", i, io.name, eos_dtype_name(io.dtype), eos_shape_str(io.ndim, io.dims, sh, sizeof sh));
    }
    for (int i = 0; i < eos_model_n_outputs(m); i++) {
        eos_io_info io;
        eos_model_output_info(m, i, &io);
        printf("output %d: %-20s %-5s %s\n", i, io.name, eos_dtype_name(io.dtype), eos_shape_str(io.ndim, io.dims, sh, sizeof sh));
    }
    for (int i = 0; i < eos_model_n_meta(m); i++) {
        const char *k, *v;
        eos_model_meta_at(m, i, &k, &v);
        size_t len = strlen(v);
        if (len > 4096)   /* e.g. eosight.ood.whiten: `eosight meta` prints it whole */
            printf("meta: %s = %.100s... (%zu characters)\n", k, v, len);
        else
            printf("meta: %s = %s\n", k, v);
    }
    eos_model_free(m);
    eos_ctx_free(ctx);
    return 0;
}
