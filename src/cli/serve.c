/*
 * src/cli/serve.c - `eosight serve`: the REST API (eosight/service.h) over the models of the
 * search path (or --models DIR). Prints the URL, runs until SIGINT or SIGTERM, then drains the
 * requests in flight and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifdef EOS_WITH_GDAL

#include "eosight/service.h"

static int serve_usage(FILE *f, int code) {
    fprintf(f, "usage: eosight serve [--port N] [--bind ADDR] [--threads N] [--max-body-mb N]\n"
               "                     [--models DIR]\n\n"
               "Serve the models of the search path (./models, $EOSIGHT_MODELS, the install\n"
               "prefix) or of DIR over HTTP: GET /healthz /readyz /v1/models /v1/models/NAME,\n"
               "POST /v1/classify /v1/tag /v1/clouds (the image as the body).\n"
               "  --port N         port (default 8080; 0: any free port)\n"
               "  --bind ADDR      address to listen on (default 127.0.0.1)\n"
               "  --threads N      analyses run at once (default 4)\n"
               "  --max-body-mb N  largest upload in MiB (default 64)\n");
    return code;
}

static int parse_args(int argc, char **argv, eos_service_params *p) {
    long v;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return serve_usage(stdout, -1);
        bool known = !strcmp(a, "--port") || !strcmp(a, "--bind") || !strcmp(a, "--threads") ||
                     !strcmp(a, "--max-body-mb") || !strcmp(a, "--models");
        if (!known) return cli_error(2, "serve: unknown option '%s' (--help)", a);
        if (!val) return cli_error(2, "serve: %s needs a value", a);
        i++;
        if (!strcmp(a, "--bind")) p->bind_addr = val;
        else if (!strcmp(a, "--models")) p->models_dir = val;
        else if (!strcmp(a, "--port")) {
            if ((rc = cli_int_opt("serve", a, val, 0, 65535, &v))) return rc;
            p->port = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if ((rc = cli_int_opt("serve", a, val, 1, 256, &v))) return rc;
            p->n_workers = (int)v;
        } else {
            if ((rc = cli_int_opt("serve", a, val, 1, 4096, &v))) return rc;
            p->max_body_bytes = (size_t)v << 20;
        }
    }
    return 0;
}

int cli_serve(int argc, char **argv) {
    eos_service_params p = eos_service_default_params();
    p.port = 8080;
    int rc = parse_args(argc, argv, &p);
    if (rc) return rc < 0 ? 0 : rc;
    /* Block the stop signals before the server's threads start, so they inherit the mask and
     * only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    eos_ctx *ctx = NULL;
    eos_service *s = NULL;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) return cli_error(1, "serve: cannot create a context");
    if (eos_service_create(ctx, &p, &s) != EOS_OK) {
        rc = cli_error(1, "serve: %s", eos_ctx_errmsg(ctx));
        eos_ctx_free(ctx);
        return rc;
    }
    const char *host = p.bind_addr ? p.bind_addr : "127.0.0.1";
    bool v6 = strchr(host, ':') != NULL;
    printf("eosight serve: %d model%s, listening on http://%s%s%s:%d/\n",
           eos_service_n_models(s), eos_service_n_models(s) == 1 ? "" : "s", v6 ? "[" : "", host,
           v6 ? "]" : "", eos_service_port(s));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "eosight serve: %s received, draining requests\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    eos_service_free(s);
    eos_ctx_free(ctx);
    return 0;
}

#else /* !EOS_WITH_GDAL */

int cli_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "serve: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
