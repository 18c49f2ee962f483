/*
 * src/cli/serve.c - `eosight serve`: the REST API (eosight/service.h) over the models of the
 * search path (or --models DIR). Prints the URL, runs until SIGINT or SIGTERM, then drains the
 * requests in flight and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifdef EOS_WITH_GDAL

#include "eosight/service.h"

static int serve_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight serve [--port N] [--bind ADDR] [--models DIR] [--catalog FILE]\n"
        "                     [--workers N] [--queue N] [--max-body-mb N] [--max-mpx N]\n"
        "                     [--batch N] [--batch-wait-us N] [--threads N]\n"
        "                     [--api-key-file FILE] [--rate-limit R] [--rate-burst B]\n"
        "                     [--cors ORIGIN] [--no-access-log]\n\n"
        "Serve the models of the search path (./models, $EOSIGHT_MODELS, the install prefix)\n"
        "or of DIR over HTTP: the REST API (GET /openapi.json describes it), the web app (/ and\n"
        "/map) and the scene catalog. Runs until SIGINT/SIGTERM, then finishes the requests in\n"
        "flight and exits.\n"
        "  --port N            port (default 8080; 0: any free port)\n"
        "  --bind ADDR         address to listen on (default 127.0.0.1; 0.0.0.0: every one)\n"
        "  --models DIR        serve the *.onnx of DIR instead of the search path\n"
        "  --catalog FILE      scene catalog (SQLite, created on first use; `eosight catalog\n"
        "                      add` fills it): /v1/scenes, the -at routes, map tiles\n"
        "  --results DIR       where scene segmentations are kept (default FILE.results)\n"
        "  --workers N         requests analysed at once (default 32)\n"
        "  --queue N           requests waiting beyond those; more get 503 (default 64)\n"
        "  --max-body-mb N     largest upload in MiB (default 64)\n"
        "  --max-mpx N         largest image in megapixels (default 100)\n"
        "  --batch N           images of several requests run as one batch (default 32;\n"
        "                      1: no batching)\n"
        "  --batch-wait-us N   how long a batch waits for more images (default 2000)\n"
        "  --threads N         engine threads of each model (default: all cores)\n"
        "  --api-key-file F    require an API key (one per line) on /v1 and /metrics\n"
        "  --rate-limit R      requests per second per key (or per address), 429 beyond\n"
        "  --rate-burst B      burst of the rate limit (default 2 x R)\n"
        "  --cors ORIGIN       answer Access-Control-Allow-Origin: ORIGIN (default: no CORS)\n"
        "  --no-access-log     no line per request on stderr\n");
    return code;
}

static const char *const k_opts[] = {
    "--port", "--bind", "--models", "--catalog", "--results", "--workers", "--queue",
    "--max-body-mb", "--max-mpx", "--batch", "--batch-wait-us", "--threads", "--api-key-file",
    "--rate-limit", "--rate-burst", "--cors", NULL
};

static int num_opt(const char *a, const char *val, eos_service_params *p) {
    long v;
    int rc;
    if (!strcmp(a, "--rate-limit") || !strcmp(a, "--rate-burst")) {
        char *end;
        double d = strtod(val, &end);
        if (end == val || *end || !(d > 0) || d > 1e6)
            return cli_error(2, "serve: %s must be a positive number, not '%s'", a, val);
        if (!strcmp(a, "--rate-limit")) p->rate_per_s = d;
        else p->rate_burst = d;
        return 0;
    }
    static const struct { const char *name; long lo, hi; } k[] = {
        { "--port", 0, 65535 }, { "--workers", 1, 1024 }, { "--queue", 1, 100000 },
        { "--max-body-mb", 1, 4096 }, { "--max-mpx", 1, 100000 }, { "--batch", 1, 1024 },
        { "--batch-wait-us", 1, 1000000 }, { "--threads", 1, 1024 },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (strcmp(a, k[i].name)) continue;
        if ((rc = cli_int_opt("serve", a, val, k[i].lo, k[i].hi, &v))) return rc;
        if (!strcmp(a, "--port")) p->port = (int)v;
        else if (!strcmp(a, "--workers")) p->n_workers = (int)v;
        else if (!strcmp(a, "--queue")) p->queue_len = (int)v;
        else if (!strcmp(a, "--max-body-mb")) p->max_body_bytes = (size_t)v << 20;
        else if (!strcmp(a, "--max-mpx")) p->max_pixels = (int64_t)v * 1000000;
        else if (!strcmp(a, "--batch")) p->batch_max = (int)v;
        else if (!strcmp(a, "--batch-wait-us")) p->batch_wait_us = (int)v;
        else p->engine_threads = (int)v;
    }
    return 0;
}

static int parse_args(int argc, char **argv, eos_service_params *p) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return serve_usage(stdout, -1);
        if (!strcmp(a, "--no-access-log")) {
            p->access_log = false;
            continue;
        }
        bool known = false;
        for (int j = 0; k_opts[j]; j++) known = known || !strcmp(a, k_opts[j]);
        if (!known) return cli_error(2, "serve: unknown option '%s' (--help)", a);
        if (!val) return cli_error(2, "serve: %s needs a value", a);
        i++;
        if (!strcmp(a, "--bind")) p->bind_addr = val;
        else if (!strcmp(a, "--models")) p->models_dir = val;
        else if (!strcmp(a, "--catalog")) p->catalog_uri = val;
        else if (!strcmp(a, "--results")) p->results_dir = val;
        else if (!strcmp(a, "--api-key-file")) p->api_key_file = val;
        else if (!strcmp(a, "--cors")) p->cors_origin = val;
        else {
            int rc = num_opt(a, val, p);
            if (rc) return rc;
        }
    }
    return 0;
}

int cli_serve(int argc, char **argv) {
    eos_service_params p = eos_service_default_params();
    p.port = 8080;
    p.access_log = true;
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
    if (eos_service_notes(s)[0]) fprintf(stderr, "eosight serve: warning: %s\n",
                                         eos_service_notes(s));
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
