/*
 * tests/models/test_models.c - whole-model golden tests: eosight against PyTorch.
 *
 * Every directory under tests/data/models/ (written by tools/gen_golden.py) holds one exported
 * network: model.onnx, input.npy or input_<i>.npy (graph-input order), output.npy or
 * output_<i>.npy (torch's outputs, graph-output order) and meta.json. For each one we load the
 * model, run it on the ref back-end and, when built, on dnnl, and require for every output
 *
 *     max |y - ref| / max |ref|  <=  meta.json "tolerance"      (float outputs)
 *     y == ref element by element                                 (integer outputs, e.g. ArgMax)
 *
 * with the same shape and element type. The error figures are printed per model, back-end and
 * output so that a drift shows before it fails. Two more tests check the eosight.* metadata of
 * multispectral_13 and re-planning: models whose meta.json says "dynamic_batch": true are run at
 * the full batch, at batch 1 (the input's first sample; compared with the first sample of the
 * reference) and at the full batch again, in one session.
 *
 * The tiny meta.json is read with strstr/strtod: we only need two scalars from it.
 */
#include "common/test.h"

#include <dirent.h>
#include <sys/stat.h>

#define GOLDEN_MAX_IO     8
#define GOLDEN_MAX_MODELS 64

typedef struct golden {
    char       name[128];
    char       dir[1024];
    double     tolerance;
    bool       dynamic_batch;
    int        n_inputs, n_outputs;
    eos_tensor inputs[GOLDEN_MAX_IO];
    eos_tensor outputs[GOLDEN_MAX_IO];
} golden;

/* ------------------------------------------------------------------ files */

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whole file as a NUL-terminated string (caller eos_free()s), or NULL. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && n < (1L << 20) && fseek(f, 0, SEEK_SET) == 0) {
            buf = eos_malloc((size_t)n + 1);
            if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
                buf[n] = '\0';
            } else {
                eos_free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

/* The value after "key": in a flat JSON text, or NULL. */
static const char *json_value(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static double json_number(const char *json, const char *key, double dflt) {
    const char *v = json_value(json, key);
    if (!v) return dflt;
    char *end;
    double x = strtod(v, &end);
    return end == v ? dflt : x;
}

static bool json_bool(const char *json, const char *key) {
    const char *v = json_value(json, key);
    return v && strncmp(v, "true", 4) == 0;
}

/* Read <dir>/<stem>.npy, or <dir>/<stem>_0.npy, <stem>_1.npy ... into ts; returns the count, or
 * -1 after reporting a read error. */
static int read_npys(const char *dir, const char *stem, eos_tensor *ts) {
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/%s.npy", dir, stem);
    if (file_exists(path)) {
        eos_status s = eos_npy_read(path, &ts[0], err, sizeof err);
        if (s != EOS_OK) {
            TEST_FAIL_("%s: %s: %s", path, eos_status_name(s), err);
            return -1;
        }
        return 1;
    }
    int n = 0;
    for (; n < GOLDEN_MAX_IO; n++) {
        snprintf(path, sizeof path, "%s/%s_%d.npy", dir, stem, n);
        if (!file_exists(path)) break;
        eos_status s = eos_npy_read(path, &ts[n], err, sizeof err);
        if (s != EOS_OK) {
            TEST_FAIL_("%s: %s: %s", path, eos_status_name(s), err);
            for (int i = 0; i < n; i++) eos_free(ts[i].data);
            return -1;
        }
    }
    return n;
}

static void golden_free(golden *g) {
    for (int i = 0; i < g->n_inputs; i++) eos_free(g->inputs[i].data);
    for (int i = 0; i < g->n_outputs; i++) eos_free(g->outputs[i].data);
    g->n_inputs = g->n_outputs = 0;
}

/* Load the golden data of models/<name>; false (after reporting) when it is incomplete. */
static bool golden_load(const char *name, golden *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->dir, sizeof g->dir, "%s/models/%s", test_data_dir(), name);
    char path[1200];
    snprintf(path, sizeof path, "%s/meta.json", g->dir);
    char *meta = read_text(path);
    if (!meta) {
        TEST_FAIL_("%s: cannot read meta.json", path);
        return false;
    }
    g->tolerance = json_number(meta, "tolerance", 1e-4);
    g->dynamic_batch = json_bool(meta, "dynamic_batch");
    eos_free(meta);
    if (!(g->tolerance > 0 && g->tolerance < 1)) {
        TEST_FAIL_("%s: implausible tolerance %g", path, g->tolerance);
        return false;
    }
    g->n_inputs = read_npys(g->dir, "input", g->inputs);
    if (g->n_inputs <= 0) {
        if (g->n_inputs == 0) TEST_FAIL_("%s: no input.npy", g->dir);
        g->n_inputs = 0;
        return false;
    }
    g->n_outputs = read_npys(g->dir, "output", g->outputs);
    if (g->n_outputs <= 0) {
        if (g->n_outputs == 0) TEST_FAIL_("%s: no output.npy", g->dir);
        g->n_outputs = 0;
        golden_free(g);
        return false;
    }
    return true;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* Sorted names of the subdirectories of tests/data/models; returns the count. */
static int list_models(char names[][128], int max) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models", test_data_dir());
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len >= 128) continue;
        char path[1024 + 128 + 2];
        struct stat st;
        snprintf(path, sizeof path, "%s/%.127s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    return n;
}

/* ------------------------------------------------------------------ comparison */

static bool dtype_is_float(eos_dtype t) {
    return t == EOS_DTYPE_F32 || t == EOS_DTYPE_F64 || t == EOS_DTYPE_F16 || t == EOS_DTYPE_BF16;
}

/* Compare y with the first n_batch samples of ref (n_batch <= 0: all of ref). Reports failures
 * under label; returns the relative error (0 for an exact integer match, INFINITY on mismatch). */
static double compare_output(const char *label, const eos_tensor *y, const eos_tensor *ref,
                             int64_t n_batch, double tol) {
    eos_tensor want = *ref;
    if (n_batch > 0 && want.ndim > 0) want.dims[0] = n_batch;
    char sy[96], sr[96];
    if (!eos_tensor_same_shape(y, &want)) {
        TEST_FAIL_("%s: shape %s, want %s", label, eos_shape_str(y->ndim, y->dims, sy, sizeof sy),
                   eos_shape_str(want.ndim, want.dims, sr, sizeof sr));
        return INFINITY;
    }
    if (y->dtype != want.dtype) {
        TEST_FAIL_("%s: dtype %s, want %s", label, eos_dtype_name(y->dtype),
                   eos_dtype_name(want.dtype));
        return INFINITY;
    }
    int64_t n = eos_tensor_numel(&want);
    if (n <= 0) return 0;
    if (dtype_is_float(want.dtype)) {
        float *a = eos_malloc((size_t)n * sizeof(float));
        float *b = eos_malloc((size_t)n * sizeof(float));
        if (!a || !b) {
            eos_free(a);
            eos_free(b);
            TEST_FAIL_("%s: out of memory", label);
            return INFINITY;
        }
        eos_convert(a, EOS_DTYPE_F32, y->data, y->dtype, n);
        eos_convert(b, EOS_DTYPE_F32, want.data, want.dtype, n);
        double err = test_max_rel_err(a, b, n);
        double nmse = test_nmse(a, b, n);
        printf("    %-40s max_rel_err %.3e  nmse %.3e  (tol %.0e)\n", label, err, nmse, tol);
        if (!(err <= tol)) TEST_FAIL_("%s: max_rel_err %.3e > %.0e", label, err, tol);
        eos_free(a);
        eos_free(b);
        return err;
    }
    int64_t *a = eos_malloc((size_t)n * sizeof(int64_t));
    int64_t *b = eos_malloc((size_t)n * sizeof(int64_t));
    if (!a || !b) {
        eos_free(a);
        eos_free(b);
        TEST_FAIL_("%s: out of memory", label);
        return INFINITY;
    }
    eos_convert(a, EOS_DTYPE_I64, y->data, y->dtype, n);
    eos_convert(b, EOS_DTYPE_I64, want.data, want.dtype, n);
    int64_t n_bad = 0, first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            if (first_bad < 0) first_bad = i;
            n_bad++;
        }
    }
    printf("    %-40s %lld/%lld integer elements differ\n", label, (long long)n_bad, (long long)n);
    if (n_bad) {
        TEST_FAIL_("%s: %lld of %lld elements differ (first at %lld: %lld vs %lld)", label,
                   (long long)n_bad, (long long)n, (long long)first_bad,
                   (long long)a[first_bad], (long long)b[first_bad]);
    }
    eos_free(a);
    eos_free(b);
    return n_bad ? INFINITY : 0;
}

/* Run s on the first n_batch samples of every input (n_batch <= 0: all) and compare every
 * output. Returns false when the run itself failed. */
static bool run_and_compare(eos_session *s, const golden *g, const char *tag, int64_t n_batch) {
    eos_tensor in[GOLDEN_MAX_IO];
    for (int i = 0; i < g->n_inputs; i++) {
        in[i] = g->inputs[i];
        if (n_batch > 0 && in[i].ndim > 0) in[i].dims[0] = n_batch;   /* C order: a prefix */
    }
    eos_status st = eos_session_run(s, in, g->n_inputs);
    if (st != EOS_OK) {
        TEST_FAIL_("%s %s: run: %s: %s", g->name, tag, eos_status_name(st),
                   eos_session_errmsg(s));
        return false;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        eos_tensor y;
        char label[256];
        snprintf(label, sizeof label, "%s %s out%d", g->name, tag, i);
        st = eos_session_output(s, i, &y);
        if (st != EOS_OK) {
            TEST_FAIL_("%s: eos_session_output: %s", label, eos_status_name(st));
            continue;
        }
        compare_output(label, &y, &g->outputs[i], n_batch, g->tolerance);
    }
    return true;
}

static eos_session *session_new(const eos_model *m, eos_backend_kind b, const char *name) {
    eos_session_params sp = eos_session_default_params();
    sp.backend = b;
    sp.n_threads = 2;
    eos_session *s = NULL;
    eos_status st = eos_session_create(m, &sp, &s);
    if (st != EOS_OK) {
        TEST_FAIL_("%s: eos_session_create(%s): %s", name, eos_backend_name(b),
                   eos_status_name(st));
        return NULL;
    }
    if (eos_session_backend(s) != b) {
        TEST_FAIL_("%s: session runs on %s, asked for %s", name,
                   eos_backend_name(eos_session_backend(s)), eos_backend_name(b));
    }
    return s;
}

static eos_model *model_load(eos_ctx *ctx, const golden *g) {
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", g->dir);
    eos_model *m = NULL;
    eos_status st = eos_model_load(ctx, path, &m);
    if (st != EOS_OK) {
        TEST_FAIL_("%s: load: %s: %s", g->name, eos_status_name(st), eos_ctx_errmsg(ctx));
        return NULL;
    }
    if (eos_model_n_inputs(m) != g->n_inputs || eos_model_n_outputs(m) != g->n_outputs) {
        TEST_FAIL_("%s: model has %d inputs / %d outputs, golden data %d / %d", g->name,
                   eos_model_n_inputs(m), eos_model_n_outputs(m), g->n_inputs, g->n_outputs);
        eos_model_free(m);
        return NULL;
    }
    return m;
}

static int backends(eos_backend_kind out[2]) {
    int n = 0;
    out[n++] = EOS_BACKEND_REF;
    if (eos_backend_available(EOS_BACKEND_DNNL)) out[n++] = EOS_BACKEND_DNNL;
    return n;
}

/* ------------------------------------------------------------------ tests */

/* Every model, every built back-end, every output against torch. */
static void test_golden_models(void) {
    static char names[GOLDEN_MAX_MODELS][128];
    int n_models = list_models(names, GOLDEN_MAX_MODELS);
    ASSERT_TRUE(n_models > 0);   /* the data is committed: its absence is a failure */
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_backend_kind bk[2];
    int n_bk = backends(bk);
    for (int i = 0; i < n_models; i++) {
        golden g;
        if (!golden_load(names[i], &g)) continue;
        eos_model *m = model_load(ctx, &g);
        if (m) {
            printf("  %s: %d nodes after load passes\n", g.name, eos_model_n_nodes(m));
            for (int b = 0; b < n_bk; b++) {
                eos_session *s = session_new(m, bk[b], g.name);
                if (!s) continue;
                run_and_compare(s, &g, eos_backend_name(bk[b]), 0);
                eos_session_free(s);
            }
            eos_model_free(m);
        }
        golden_free(&g);
    }
    eos_ctx_free(ctx);
}

/* Models with a symbolic batch: full batch, batch 1, full batch again in one session. */
static void test_dynamic_batch_replan(void) {
    static char names[GOLDEN_MAX_MODELS][128];
    int n_models = list_models(names, GOLDEN_MAX_MODELS);
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_backend_kind bk[2];
    int n_bk = backends(bk), n_done = 0;
    for (int i = 0; i < n_models; i++) {
        golden g;
        if (!golden_load(names[i], &g)) continue;
        if (!g.dynamic_batch || g.inputs[0].ndim == 0 || g.inputs[0].dims[0] < 2) {
            golden_free(&g);
            continue;
        }
        eos_model *m = model_load(ctx, &g);
        if (m) {
            eos_io_info info;
            EXPECT_OK(eos_model_input_info(m, 0, &info));
            EXPECT_EQ_INT(info.dims[0], -1);   /* declared symbolic ("N") */
            for (int b = 0; b < n_bk; b++) {
                eos_session *s = session_new(m, bk[b], g.name);
                if (!s) continue;
                char tag[64];
                int64_t full = g.inputs[0].dims[0];
                snprintf(tag, sizeof tag, "%s batch %lld", eos_backend_name(bk[b]), (long long)full);
                bool ok = run_and_compare(s, &g, tag, 0);
                snprintf(tag, sizeof tag, "%s batch 1", eos_backend_name(bk[b]));
                ok = ok && run_and_compare(s, &g, tag, 1);
                snprintf(tag, sizeof tag, "%s batch %lld again", eos_backend_name(bk[b]),
                         (long long)full);
                ok = ok && run_and_compare(s, &g, tag, 0);
                n_done += ok;
                eos_session_free(s);
            }
            eos_model_free(m);
        }
        golden_free(&g);
    }
    eos_ctx_free(ctx);
    EXPECT_TRUE(n_done > 0);   /* resnet_block and multispectral_13 have a dynamic batch */
}

/* metadata_props of multispectral_13 as gen_golden.py writes them. */
static void test_multispectral_metadata(void) {
    static const struct { const char *key, *value; } want[] = {
        {"eosight.task", "classification"},
        {"eosight.bands", "B01,B02,B03,B04,B05,B06,B07,B08,B09,B10,B11,B12,B8A"},
        {"eosight.classes", "AnnualCrop,Forest,HerbaceousVegetation,Highway,Industrial,Pasture,"
                            "PermanentCrop,Residential,River,SeaLake"},
        {"eosight.norm.mean", "1354.4,1118.2,1042.9,947.6,1199.5,2003.0,2374.0,2301.2,732.2,"
                              "12.1,1820.7,1118.2,2599.8"},
        {"eosight.norm.std", "245.7,333.0,395.1,593.8,566.4,861.2,1086.6,1118.0,404.0,4.8,"
                             "1002.6,761.3,1231.6"},
    };
    char path[1200];
    snprintf(path, sizeof path, "%s/models/multispectral_13/model.onnx", test_data_dir());
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_model *m = NULL;
    eos_status st = eos_model_load(ctx, path, &m);
    if (st != EOS_OK) {
        TEST_FAIL_("%s: %s: %s", path, eos_status_name(st), eos_ctx_errmsg(ctx));
        eos_ctx_free(ctx);
        return;
    }
    int n_want = (int)(sizeof want / sizeof want[0]);
    EXPECT_EQ_INT(eos_model_n_meta(m), n_want);
    for (int i = 0; i < n_want; i++) EXPECT_STR_EQ(eos_model_meta(m, want[i].key), want[i].value);
    EXPECT_TRUE(eos_model_meta(m, "eosight.nope") == NULL);
    /* enumeration sees every pair once */
    int seen = 0;
    for (int i = 0; i < eos_model_n_meta(m); i++) {
        const char *k = NULL, *v = NULL;
        EXPECT_OK(eos_model_meta_at(m, i, &k, &v));
        for (int j = 0; k && v && j < n_want; j++) {
            if (strcmp(k, want[j].key) == 0 && strcmp(v, want[j].value) == 0) seen++;
        }
    }
    EXPECT_EQ_INT(seen, n_want);
    const char *k = NULL, *v = NULL;
    EXPECT_STATUS(eos_model_meta_at(m, eos_model_n_meta(m), &k, &v), EOS_INVALID_ARG);
    eos_io_info info;
    EXPECT_OK(eos_model_input_info(m, 0, &info));
    EXPECT_EQ_INT(info.ndim, 4);
    EXPECT_EQ_INT(info.dims[1], 13);
    EXPECT_EQ_INT(info.dtype, EOS_DTYPE_F32);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

TEST_MAIN(TEST(test_golden_models), TEST(test_multispectral_metadata),
          TEST(test_dynamic_batch_replan))
