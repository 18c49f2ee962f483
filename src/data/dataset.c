/*
 * src/data/dataset.c - opening datasets (include/eosight/data.h): finding the image folder,
 * listing items from class folders, split files or label files, and the accessors.
 *
 * Opening reads only text files, directory listings and the header of the first image, and
 * stats each listed file (so a split that names a missing image fails at open, not in epoch
 * 7). Decoding is lazy (decode.c). Items keep their full image path; their name is the part
 * after the image folder, which is what split and label files are matched against.
 *
 * Label files (tag) are matched to images by key: a path relative to the image folder with its
 * extension removed ("agricultural/agricultural02"), or failing that the file stem
 * ("agricultural02", what UC Merced's multilabels.tsv uses). A stem shared by two images is
 * ambiguous and an error when a label row names it.
 */
#include "data/data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eosight/alloc.h"

/* ------------------------------------------------------------------ tasks */

const char *eos_task_name(eos_task t) {
    switch (t) {
    case EOS_TASK_CLASSIFY: return "classify";
    case EOS_TASK_TAG:      return "tag";
    case EOS_TASK_SEGMENT:  return "segment";
    }
    return "unknown";
}

eos_status eos_task_parse(const char *s, eos_task *out) {
    static const struct { const char *name; eos_task t; } k[] = {
        { "classify", EOS_TASK_CLASSIFY }, { "classification", EOS_TASK_CLASSIFY },
        { "tag", EOS_TASK_TAG },           { "multilabel", EOS_TASK_TAG },
        { "segment", EOS_TASK_SEGMENT },   { "segmentation", EOS_TASK_SEGMENT },
    };
    for (size_t i = 0; s && out && i < sizeof k / sizeof k[0]; i++) {
        if (!strcmp(s, k[i].name)) {
            *out = k[i].t;
            return EOS_OK;
        }
    }
    return EOS_INVALID_ARG;
}

/* ------------------------------------------------------------------ items */

typedef struct builder {
    eos_dataset *ds;
    int64_t      cap;
    int64_t     *rows;       /* tag: label row of each item */
    eos__strmap  seen;       /* item names, for duplicates */
} builder;

/* Append the image img_dir/rel (and mask, may be NULL) as a new item. */
static eos_status add_item(builder *b, const char *rel, const char *mask, int label, int64_t row,
                           eos_err *err) {
    eos_dataset *ds = b->ds;
    if (ds->n_items == b->cap) {
        int64_t nc = b->cap ? b->cap * 2 : 256;
        eos__item *ni = eos_realloc(ds->items, (size_t)nc * sizeof *ni);
        int64_t *nr = ni ? eos_realloc(b->rows, (size_t)nc * sizeof *nr) : NULL;
        if (ni) ds->items = ni;
        if (!ni || !nr) return eos_err_set(err, EOS_NOMEM, "out of memory listing items");
        b->rows = nr;
        b->cap = nc;
    }
    eos__item *it = &ds->items[ds->n_items];
    memset(it, 0, sizeof *it);
    it->label = label;
    b->rows[ds->n_items] = row;
    ds->n_items++;
    it->path = eos__path_join(ds->img_dir, rel);
    if (mask) it->mask_path = eos_strdup(mask);
    if (!it->path || (mask && !it->mask_path)) return eos_err_set(err, EOS_NOMEM, "out of memory");
    it->name = it->path + strlen(it->path) - strlen(rel);
    return EOS_OK;
}

/* Check a listed name for duplicates (the strings live in the items). */
static eos_status check_dup(builder *b, const char *src, int line, eos_err *err) {
    eos__item *it = &b->ds->items[b->ds->n_items - 1];
    int64_t r = eos__strmap_put(&b->seen, it->name, b->ds->n_items - 1);
    if (r == -2) return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (r >= 0)
        return eos_err_set(err, EOS_PARSE, "%s:%d: duplicate item '%s'", src, line, it->name);
    return EOS_OK;
}

static eos_status check_exists(const eos__item *it, const char *src, int line, eos_err *err) {
    if (eos__is_file(it->path)) return EOS_OK;
    return eos_err_set(err, EOS_IO, "%s:%d: image '%s' not found", src, line, it->path);
}

/* "path[ <index>]": cut the optional trailing integer; *idx = -1 when absent. */
static char *split_line(char *l, int64_t *idx) {
    *idx = -1;
    char *sp = strrchr(l, ' '), *tab = strrchr(l, '\t');
    if (tab > sp) sp = tab;
    if (!sp) return l;
    int64_t v;
    if (!eos__parse_int(sp + 1, 0, INT64_MAX, &v)) return l;
    *idx = v;
    while (sp > l && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
    *sp = '\0';
    return l;
}

static eos_status open_split(const eos_dataset *ds, const char *split, eos__text *t, char **path,
                             eos_err *err) {
    *path = NULL;
    memset(t, 0, sizeof *t);
    if (!eos__safe_relpath(split) || strchr(split, '/'))
        return eos_err_set(err, EOS_INVALID_ARG, "split name '%s' is not a plain name", split);
    size_t n = strlen(ds->root) + strlen(split) + 16;
    char *p = eos_malloc(n);
    if (!p) return eos_err_set(err, EOS_NOMEM, "out of memory");
    snprintf(p, n, "%s/splits/%s.txt", ds->root, split);
    *path = p;
    if (!eos__is_file(p)) return eos_err_set(err, EOS_IO, "split file %s not found", p);
    return eos__text_load(t, p, err);
}

/* ------------------------------------------------------------------ classify */

static eos_status classify_split(builder *b, eos__text *t, eos_err *err) {
    eos_dataset *ds = b->ds;
    eos__strmap cls;
    if (eos__strmap_init(&cls, (size_t)ds->n_classes) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int c = 0; c < ds->n_classes; c++) eos__strmap_put(&cls, ds->class_names[c], c);
    eos_status st = EOS_OK;
    for (char *l; st == EOS_OK && (l = eos__text_next(t));) {
        int64_t idx;
        char *rel = split_line(l, &idx);
        char *slash = strchr(rel, '/');
        if (!eos__safe_relpath(rel) || !slash) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: '%.200s' is not <class>/<file>", t->path,
                             t->line, rel);
            break;
        }
        *slash = '\0';
        int64_t c = eos__strmap_get(&cls, rel);
        if (c < 0) {
            st =
                eos_err_set(err, EOS_PARSE, "%s:%d: unknown class '%.200s'", t->path, t->line, rel);
            break;
        }
        *slash = '/';
        if (idx >= 0 && idx != c) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: index %lld, but class '%s' is %lld", t->path,
                             t->line, (long long)idx, ds->class_names[c], (long long)c);
            break;
        }
        st = add_item(b, rel, NULL, (int)c, -1, err);
        if (st == EOS_OK) st = check_dup(b, t->path, t->line, err);
        if (st == EOS_OK) st = check_exists(&ds->items[ds->n_items - 1], t->path, t->line, err);
    }
    eos__strmap_free(&cls);
    return st;
}

static eos_status classify_folders(builder *b, eos_err *err) {
    eos_dataset *ds = b->ds;
    for (int c = 0; c < ds->n_classes; c++) {
        char *dir = eos__path_join(ds->img_dir, ds->class_names[c]);
        if (!dir) return eos_err_set(err, EOS_NOMEM, "out of memory");
        char **files = NULL;
        int64_t n = 0;
        eos_status st = eos__is_dir(dir) ? eos__list_dir(dir, EOS__LIST_IMAGES, &files, &n, err)
                                         : EOS_OK;
        eos_free(dir);
        for (int64_t i = 0; i < n && st == EOS_OK; i++) {
            char *rel = eos__path_join(ds->class_names[c], files[i]);
            st = rel ? add_item(b, rel, NULL, c, -1, err)
                     : eos_err_set(err, EOS_NOMEM, "out of memory");
            eos_free(rel);
        }
        eos__names_free(files, n);
        EOS_TRY(st);
    }
    return EOS_OK;
}

static eos_status open_classify(builder *b, const eos_dataset_params *p, eos_err *err) {
    EOS_TRY(eos__classes_classify(b->ds, err));
    if (!p->split) return classify_folders(b, err);
    eos__text t;
    char *path;
    eos_status st = open_split(b->ds, p->split, &t, &path, err);
    if (st == EOS_OK) {
        st = classify_split(b, &t, err);
        eos__text_free(&t);
    }
    eos_free(path);
    return st;
}

/* ------------------------------------------------------------------ tag */

/* Images under img_dir (top level and one folder deep), keyed for label lookup. */
typedef struct image_index {
    char      **rel;        /* relative paths */
    char      **key;        /* rel without extension */
    char      **stem;       /* file name without extension */
    bool       *ambiguous;  /* stem shared with another image */
    int64_t     n, cap;
    eos__strmap by_key, by_stem;
} image_index;

static void index_free(image_index *x) {
    eos__names_free(x->rel, x->n);
    eos__names_free(x->key, x->n);
    eos__names_free(x->stem, x->n);
    eos_free(x->ambiguous);
    eos__strmap_free(&x->by_key);
    eos__strmap_free(&x->by_stem);
}

/* In place: drop an image extension from the last component. */
static void strip_ext(char *s) {
    char *slash = strrchr(s, '/');
    char *base = slash ? slash + 1 : s;
    char *dot = strrchr(base, '.');
    if (dot && dot != base && eos__is_image_name(base)) *dot = '\0';
}

static eos_status index_add(image_index *x, const char *rel, eos_err *err) {
    if (x->n == x->cap) {
        int64_t nc = x->cap ? x->cap * 2 : 256;
        char **a = eos_realloc(x->rel, (size_t)nc * sizeof *a);
        if (a) x->rel = a;
        char **k = a ? eos_realloc(x->key, (size_t)nc * sizeof *k) : NULL;
        if (k) x->key = k;
        char **s = k ? eos_realloc(x->stem, (size_t)nc * sizeof *s) : NULL;
        if (s) x->stem = s;
        if (!a || !k || !s) return eos_err_set(err, EOS_NOMEM, "out of memory");
        x->cap = nc;
    }
    int64_t i = x->n;
    x->rel[i] = eos_strdup(rel);
    x->key[i] = eos_strdup(rel);
    const char *slash = strrchr(rel, '/');
    x->stem[i] = eos_strdup(slash ? slash + 1 : rel);
    x->n++;
    if (!x->rel[i] || !x->key[i] || !x->stem[i])
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    strip_ext(x->key[i]);
    strip_ext(x->stem[i]);
    return EOS_OK;
}

static eos_status index_dir(image_index *x, const char *dir, const char *prefix, eos_err *err) {
    char **files;
    int64_t n;
    EOS_TRY(eos__list_dir(dir, EOS__LIST_IMAGES, &files, &n, err));
    eos_status st = EOS_OK;
    for (int64_t i = 0; i < n && st == EOS_OK; i++) {
        char *rel = prefix ? eos__path_join(prefix, files[i]) : eos_strdup(files[i]);
        st = rel ? index_add(x, rel, err) : eos_err_set(err, EOS_NOMEM, "out of memory");
        eos_free(rel);
    }
    eos__names_free(files, n);
    return st;
}

static eos_status index_build(image_index *x, const char *img_dir, eos_err *err) {
    memset(x, 0, sizeof *x);
    EOS_TRY(index_dir(x, img_dir, NULL, err));
    char **dirs;
    int64_t nd;
    EOS_TRY(eos__list_dir(img_dir, EOS__LIST_DIRS, &dirs, &nd, err));
    eos_status st = EOS_OK;
    for (int64_t i = 0; i < nd && st == EOS_OK; i++) {
        char *d = eos__path_join(img_dir, dirs[i]);
        st = d ? index_dir(x, d, dirs[i], err) : eos_err_set(err, EOS_NOMEM, "out of memory");
        eos_free(d);
    }
    eos__names_free(dirs, nd);
    EOS_TRY(st);
    x->ambiguous = eos_calloc((size_t)x->n + 1, sizeof *x->ambiguous);
    if (!x->ambiguous || eos__strmap_init(&x->by_key, (size_t)x->n) != EOS_OK ||
        eos__strmap_init(&x->by_stem, (size_t)x->n) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int64_t i = 0; i < x->n; i++) {
        int64_t a = eos__strmap_put(&x->by_key, x->key[i], i);
        int64_t b = eos__strmap_put(&x->by_stem, x->stem[i], i);
        if (a == -2 || b == -2) return eos_err_set(err, EOS_NOMEM, "out of memory");
        if (b >= 0) x->ambiguous[b] = true;
    }
    return EOS_OK;
}

/* Labels read from a TSV or CSV file: names and one 0/1 row per image. */
typedef struct label_rows {
    eos__text t;
    char    **names;     /* label names (into t, or owned when owned_names) */
    bool      owned_names;
    int       n_labels;
    char    **key;       /* per row: image key (into t, extension stripped) */
    int      *line;      /* per row: line number */
    uint8_t  *bits;      /* n_rows * n_labels */
    int64_t   n_rows, cap;
    eos__strmap by_key;
} label_rows;

static void rows_free(label_rows *r) {
    if (r->owned_names) eos__names_free(r->names, r->n_labels);
    else eos_free(r->names);
    eos_free(r->key);
    eos_free(r->line);
    eos_free(r->bits);
    eos__strmap_free(&r->by_key);
    eos__text_free(&r->t);
}

/* A row key as written in a label file, made comparable with image keys. */
static char *row_key(char *s, bool has_images_dir) {
    while (s[0] == '.' && s[1] == '/') s += 2;
    if (has_images_dir && !strncmp(s, "images/", 7)) s += 7;
    strip_ext(s);
    return s;
}

static eos_status rows_add(label_rows *r, char *key, eos_err *err) {
    if (r->n_rows == r->cap) {
        int64_t nc = r->cap ? r->cap * 2 : 256;
        char **k = eos_realloc(r->key, (size_t)nc * sizeof *k);
        if (k) r->key = k;
        int *l = k ? eos_realloc(r->line, (size_t)nc * sizeof *l) : NULL;
        if (l) r->line = l;
        uint8_t *b =
            l ? eos_realloc(r->bits, (size_t)nc * (size_t)(r->n_labels ? r->n_labels : 1)) : NULL;
        if (b) r->bits = b;
        if (!k || !l || !b) return eos_err_set(err, EOS_NOMEM, "out of memory");
        r->cap = nc;
    }
    r->key[r->n_rows] = key;
    r->line[r->n_rows] = r->t.line;
    int64_t prev = eos__strmap_put(&r->by_key, key, r->n_rows);
    if (prev == -2) return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (prev >= 0)
        return eos_err_set(err, EOS_PARSE, "%s:%d: duplicate item '%.200s' (also on line %d)",
                           r->t.path, r->t.line, key, r->line[prev]);
    r->n_rows++;
    return EOS_OK;
}

#define MAX_LABEL_COLS (EOS_DATA_MAX_CLASSES + 2)

/* "IMAGE\LABEL<TAB>l1<TAB>..." then "<name><TAB>0|1...". */
static eos_status rows_tsv(label_rows *r, char *header, bool has_images_dir, eos_err *err) {
    char *f[MAX_LABEL_COLS];
    int nf = eos__csv_split(header, '\t', f, MAX_LABEL_COLS);
    if (nf < 0 || nf - 1 > EOS_DATA_MAX_CLASSES)
        return eos_err_set(err, EOS_INVALID_ARG, "%s:%d: more than %d labels", r->t.path,
                           r->t.line, EOS_DATA_MAX_CLASSES);
    if (nf < 2)
        return eos_err_set(err, EOS_PARSE, "%s:%d: header has no labels", r->t.path, r->t.line);
    r->n_labels = nf - 1;
    r->names = eos_malloc((size_t)r->n_labels * sizeof *r->names);
    if (!r->names) return eos_err_set(err, EOS_NOMEM, "out of memory");
    memcpy(r->names, f + 1, (size_t)r->n_labels * sizeof *r->names);
    for (char *l; (l = eos__text_next(&r->t));) {
        int n = eos__csv_split(l, '\t', f, MAX_LABEL_COLS);
        if (n != nf)
            return eos_err_set(err, EOS_PARSE, "%s:%d: %d fields, the header has %d", r->t.path,
                               r->t.line, n < 0 ? MAX_LABEL_COLS + 1 : n, nf);
        if (!*f[0])
            return eos_err_set(err, EOS_PARSE, "%s:%d: empty image name", r->t.path, r->t.line);
        EOS_TRY(rows_add(r, row_key(f[0], has_images_dir), err));
        uint8_t *bits = r->bits + (size_t)(r->n_rows - 1) * (size_t)r->n_labels;
        for (int k = 0; k < r->n_labels; k++) {
            if (strcmp(f[k + 1], "0") && strcmp(f[k + 1], "1"))
                return eos_err_set(err, EOS_PARSE, "%s:%d: label '%s' is '%.20s', not 0 or 1",
                                   r->t.path, r->t.line, r->names[k], f[k + 1]);
            bits[k] = f[k + 1][0] == '1';
        }
    }
    return EOS_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Next space-separated tag of s (in place); NULL at the end. */
static char *next_tag(char **s) {
    char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return NULL;
    char *e = p;
    while (*e && *e != ' ' && *e != '\t') e++;
    *s = *e ? e + 1 : e;
    *e = '\0';
    return p;
}

/* Collect the distinct tags of every row (sorted) as the label names. */
static eos_status csv_collect(label_rows *r, char **tags, eos_err *err) {
    eos__strmap seen;
    if (eos__strmap_init(&seen, 64) != EOS_OK) return eos_err_set(err, EOS_NOMEM, "out of memory");
    char **names = NULL;
    int n = 0;
    eos_status st = EOS_OK;
    for (int64_t i = 0; i < r->n_rows && st == EOS_OK; i++) {
        char *s = tags[i];
        for (char *tg; st == EOS_OK && (tg = next_tag(&s));) {
            int64_t put = eos__strmap_put(&seen, tg, n);
            if (put == -2) st = eos_err_set(err, EOS_NOMEM, "out of memory");
            if (put != -1) continue;
            if (n == EOS_DATA_MAX_CLASSES) {
                st = eos_err_set(err, EOS_INVALID_ARG, "%s:%d: more than %d distinct tags",
                                 r->t.path, r->line[i], EOS_DATA_MAX_CLASSES);
                break;
            }
            char **nn = eos_realloc(names, (size_t)(n + 1) * sizeof *nn);
            if (!nn) st = eos_err_set(err, EOS_NOMEM, "out of memory");
            else (names = nn)[n++] = tg;
        }
    }
    eos__strmap_free(&seen);
    if (st != EOS_OK) {
        eos_free(names);
        return st;
    }
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    r->names = names;
    r->n_labels = n;
    return n ? EOS_OK : eos_err_set(err, EOS_INVALID_ARG, "%s: no tags", r->t.path);
}

/* Set each row's bits from its (already cut) tags: tag k of a row follows the previous one's
 * NUL, up to the row's end marker. */
static eos_status csv_bits(label_rows *r, char **tags, char **ends, eos_err *err) {
    eos__strmap m;
    if (eos__strmap_init(&m, (size_t)r->n_labels) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int k = 0; k < r->n_labels; k++) eos__strmap_put(&m, r->names[k], k);
    eos_free(r->bits);   /* rows_add grew a placeholder while the labels were unknown */
    r->bits = eos_calloc((size_t)(r->n_rows ? r->n_rows : 1), (size_t)r->n_labels);
    if (!r->bits) {
        eos__strmap_free(&m);
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < r->n_rows; i++) {
        for (char *p = tags[i]; p < ends[i];) {
            while (p < ends[i] && (*p == '\0' || *p == ' ' || *p == '\t')) p++;
            if (p >= ends[i]) break;
            int64_t k = eos__strmap_get(&m, p);
            if (k >= 0) r->bits[(size_t)i * (size_t)r->n_labels + (size_t)k] = 1;
            p += strlen(p);
        }
    }
    eos__strmap_free(&m);
    return EOS_OK;
}

static int csv_col(char **f, int n, const char *const *names, int dflt) {
    for (int i = 0; i < n; i++)
        for (int k = 0; names[k]; k++)
            if (!strcasecmp(f[i], names[k])) return i;
    return dflt < n ? dflt : -1;
}

/* A header "image,tags" (names matched loosely), then "<image>,<tag> <tag> ...". */
static eos_status rows_csv(label_rows *r, char *header, bool has_images_dir, eos_err *err) {
    static const char *const k_img[] = { "image", "image_name", "filename", "file",
                                         "path",  "name",       "id",       NULL };
    static const char *const k_tags[] = { "tags", "labels", "label", NULL };
    char *f[64];
    int nf = eos__csv_split(header, ',', f, 64);
    if (nf < 2)
        return eos_err_set(err, EOS_PARSE, "%s:%d: expected a header 'image,tags'", r->t.path,
                           r->t.line);
    int ci = csv_col(f, nf, k_img, 0), ct = csv_col(f, nf, k_tags, 1);
    if (ci == ct) ct = ci == 0 ? 1 : 0;
    char **tags = NULL, **ends = NULL;
    eos_status st = EOS_OK;
    int64_t cap = 0;
    r->n_labels = 0;
    for (char *l; st == EOS_OK && (l = eos__text_next(&r->t));) {
        int n = eos__csv_split(l, ',', f, 64);
        if (n != nf) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: %d fields, the header has %d", r->t.path,
                             r->t.line, n < 0 ? 65 : n, nf);
            break;
        }
        if (!*f[ci]) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: empty image name", r->t.path, r->t.line);
            break;
        }
        if (r->n_rows == cap) {
            cap = cap ? cap * 2 : 256;
            char **a = eos_realloc(tags, (size_t)cap * sizeof *a);
            if (a) tags = a;
            char **b = a ? eos_realloc(ends, (size_t)cap * sizeof *b) : NULL;
            if (b) ends = b;
            if (!a || !b) {
                st = eos_err_set(err, EOS_NOMEM, "out of memory");
                break;
            }
        }
        tags[r->n_rows] = f[ct];
        ends[r->n_rows] = f[ct] + strlen(f[ct]);
        st = rows_add(r, row_key(f[ci], has_images_dir), err);
    }
    if (st == EOS_OK) st = csv_collect(r, tags, err);
    if (st == EOS_OK) st = csv_bits(r, tags, ends, err);
    eos_free(tags);
    eos_free(ends);
    return st;
}

static eos_status rows_load(label_rows *r, const char *path, bool has_images_dir, eos_err *err) {
    memset(r, 0, sizeof *r);
    EOS_TRY(eos__text_load(&r->t, path, err));
    if (eos__strmap_init(&r->by_key, 1024) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    char *header = eos__text_next(&r->t);
    if (!header) return eos_err_set(err, EOS_INVALID_ARG, "%s: empty labels file", path);
    if (strchr(header, '\t')) return rows_tsv(r, header, has_images_dir, err);
    return rows_csv(r, header, has_images_dir, err);
}

/* The label row of an image (rel: path relative to img_dir), or -1. */
static int64_t row_of(const label_rows *r, const char *rel) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", rel);
    strip_ext(buf);
    int64_t i = eos__strmap_get(&r->by_key, buf);
    if (i >= 0) return i;
    const char *slash = strrchr(buf, '/');
    return slash ? eos__strmap_get(&r->by_key, slash + 1) : -1;
}

static eos_status tag_split(builder *b, const label_rows *r, eos__text *t, eos_err *err) {
    eos_status st = EOS_OK;
    for (char *l; st == EOS_OK && (l = eos__text_next(t));) {
        int64_t idx;
        char *rel = split_line(l, &idx);
        if (!eos__safe_relpath(rel) || strlen(rel) >= 4000)
            return eos_err_set(err, EOS_PARSE, "%s:%d: '%.200s' is not a relative path", t->path,
                               t->line, rel);
        int64_t row = row_of(r, rel);
        if (row < 0)
            return eos_err_set(err, EOS_PARSE, "%s:%d: no labels for '%.200s' in %s", t->path,
                               t->line, rel, r->t.path);
        st = add_item(b, rel, NULL, -1, row, err);
        if (st == EOS_OK) st = check_dup(b, t->path, t->line, err);
        if (st == EOS_OK)
            st = check_exists(&b->ds->items[b->ds->n_items - 1], t->path, t->line, err);
    }
    return st;
}

static eos_status tag_rows(builder *b, const label_rows *r, eos_err *err) {
    image_index x;
    eos_status st = index_build(&x, b->ds->img_dir, err);
    for (int64_t i = 0; i < r->n_rows && st == EOS_OK; i++) {
        int64_t k = eos__strmap_get(&x.by_key, r->key[i]);
        if (k < 0) {
            k = eos__strmap_get(&x.by_stem, r->key[i]);
            if (k >= 0 && x.ambiguous[k])
                st = eos_err_set(err, EOS_PARSE, "%s:%d: '%.200s' names more than one image in %s",
                                 r->t.path, r->line[i], r->key[i], b->ds->img_dir);
        }
        if (st == EOS_OK && k < 0)
            st = eos_err_set(err, EOS_IO, "%s:%d: no image '%.200s' in %s", r->t.path, r->line[i],
                             r->key[i], b->ds->img_dir);
        if (st == EOS_OK) st = add_item(b, x.rel[k], NULL, -1, i, err);
        if (st == EOS_OK) st = check_dup(b, r->t.path, r->line[i], err);
    }
    index_free(&x);
    return st;
}

static eos_status open_tag(builder *b, const eos_dataset_params *p, const char *labels,
                           eos_err *err) {
    eos_dataset *ds = b->ds;
    label_rows r;
    bool has_images_dir = strcmp(ds->img_dir, ds->root) != 0;
    eos_status st = rows_load(&r, labels, has_images_dir, err);
    if (st == EOS_OK) st = eos__classes_set(ds, r.names, r.n_labels, labels, err);
    if (st == EOS_OK && p->split) {
        eos__text t;
        char *path;
        st = open_split(ds, p->split, &t, &path, err);
        if (st == EOS_OK) {
            st = tag_split(b, &r, &t, err);
            eos__text_free(&t);
        }
        eos_free(path);
    } else if (st == EOS_OK) {
        st = tag_rows(b, &r, err);
    }
    if (st == EOS_OK && ds->n_items > 0) {
        size_t nl = (size_t)ds->n_classes;
        ds->tags = eos_malloc((size_t)ds->n_items * nl);
        if (!ds->tags) st = eos_err_set(err, EOS_NOMEM, "out of memory");
        for (int64_t i = 0; st == EOS_OK && i < ds->n_items; i++)
            memcpy(ds->tags + (size_t)i * nl, r.bits + (size_t)b->rows[i] * nl, nl);
    }
    rows_free(&r);
    return st;
}

/* ------------------------------------------------------------------ segment */

/* The image files of a folder keyed by stem (two files with one stem are an error). */
typedef struct stem_index { char **files; char **stems; int64_t n; eos__strmap m; } stem_index;

static void stems_free(stem_index *s) {
    eos__names_free(s->files, s->n);
    eos__names_free(s->stems, s->n);
    eos__strmap_free(&s->m);
}

static eos_status stems_build(stem_index *s, const char *dir, eos_err *err) {
    memset(s, 0, sizeof *s);
    if (!eos__is_dir(dir)) return eos_err_set(err, EOS_IO, "folder %s not found", dir);
    EOS_TRY(eos__list_dir(dir, EOS__LIST_IMAGES, &s->files, &s->n, err));
    s->stems = eos_calloc((size_t)s->n + 1, sizeof *s->stems);
    if (!s->stems || eos__strmap_init(&s->m, (size_t)s->n) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int64_t i = 0; i < s->n; i++) {
        if (!(s->stems[i] = eos_strdup(s->files[i])))
            return eos_err_set(err, EOS_NOMEM, "out of memory");
        strip_ext(s->stems[i]);
        int64_t prev = eos__strmap_put(&s->m, s->stems[i], i);
        if (prev == -2) return eos_err_set(err, EOS_NOMEM, "out of memory");
        if (prev >= 0)
            return eos_err_set(err, EOS_PARSE, "%s: two files named '%s' (%s and %s)", dir,
                               s->stems[i], s->files[prev], s->files[i]);
    }
    return EOS_OK;
}

static eos_status seg_add(builder *b, const stem_index *img, const stem_index *msk,
                          const char *mask_dir, const char *stem, const char *src, int line,
                          eos_err *err) {
    char at[300] = "";
    if (src) snprintf(at, sizeof at, "%.250s:%d: ", src, line);
    int64_t i = eos__strmap_get(&img->m, stem);
    if (i < 0)
        return eos_err_set(err, EOS_IO, "%sno image '%.200s' in %s", at, stem, b->ds->img_dir);
    int64_t k = eos__strmap_get(&msk->m, stem);
    if (k < 0) return eos_err_set(err, EOS_IO, "%sno mask '%.200s' in %s", at, stem, mask_dir);
    char *mp = eos__path_join(mask_dir, msk->files[k]);
    if (!mp) return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_status st = add_item(b, img->files[i], mp, -1, -1, err);
    eos_free(mp);
    if (st == EOS_OK) st = check_dup(b, src ? src : b->ds->img_dir, line, err);
    return st;
}

static eos_status open_segment(builder *b, const eos_dataset_params *p, eos_err *err) {
    eos_dataset *ds = b->ds;
    EOS_TRY(eos__classes_segment(ds, p, err));
    char *mask_dir = eos__path_join(ds->root, "masks");
    if (!mask_dir) return eos_err_set(err, EOS_NOMEM, "out of memory");
    stem_index img, msk;
    memset(&msk, 0, sizeof msk);
    eos_status st = stems_build(&img, ds->img_dir, err);
    if (st == EOS_OK) st = stems_build(&msk, mask_dir, err);
    if (st == EOS_OK && p->split) {
        eos__text t;
        char *path;
        st = open_split(ds, p->split, &t, &path, err);
        for (char *l; st == EOS_OK && (l = eos__text_next(&t));) {
            int64_t idx;
            char *name = split_line(l, &idx);
            strip_ext(name);
            if (!eos__safe_relpath(name) || strchr(name, '/'))
                st = eos_err_set(err, EOS_PARSE, "%s:%d: '%.200s' is not a file name", path,
                                 t.line, name);
            else
                st = seg_add(b, &img, &msk, mask_dir, name, path, t.line, err);
        }
        eos__text_free(&t);
        eos_free(path);
    } else {
        for (int64_t i = 0; i < img.n && st == EOS_OK; i++)
            st = seg_add(b, &img, &msk, mask_dir, img.stems[i], NULL, 0, err);
    }
    stems_free(&img);
    stems_free(&msk);
    eos_free(mask_dir);
    return st;
}

/* ------------------------------------------------------------------ open / free */

static eos_status set_root(eos_dataset *ds, const char *root, const eos_dataset_params *p,
                           char **labels, eos_err *err) {
    *labels = NULL;
    if (p->task == EOS_TASK_TAG && eos__is_file(root)) {
        const char *slash = strrchr(root, '/');
        ds->root = slash ? eos_strdup(root) : eos_strdup(".");
        if (ds->root && slash) ds->root[slash == root ? 1 : slash - root] = '\0';
        *labels = eos_strdup(root);
    } else if (!eos__is_dir(root)) {
        return eos_err_set(err, EOS_IO, "dataset %s: not a directory", root);
    } else {
        ds->root = eos_strdup(root);
        if (p->task == EOS_TASK_TAG)
            *labels = p->labels ? eos_strdup(p->labels) : eos__path_join(root, "multilabels.tsv");
    }
    if (!ds->root || (p->task == EOS_TASK_TAG && !*labels))
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    size_t n = strlen(ds->root);
    while (n > 1 && ds->root[n - 1] == '/') ds->root[--n] = '\0';
    char *images = eos__path_join(ds->root, "images");
    if (!images) return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (eos__is_dir(images)) {
        ds->img_dir = images;
    } else {
        eos_free(images);
        ds->img_dir = eos_strdup(ds->root);
        if (!ds->img_dir) return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    if (*labels && !eos__is_file(*labels))
        return eos_err_set(err, EOS_IO, "labels file %s not found", *labels);
    return EOS_OK;
}

static eos_status open_impl(eos_dataset *ds, const char *root, const eos_dataset_params *p,
                            eos_err *err) {
    char *labels;
    builder b;
    memset(&b, 0, sizeof b);
    b.ds = ds;
    eos_status st = set_root(ds, root, p, &labels, err);
    if (st == EOS_OK && eos__strmap_init(&b.seen, 1024) != EOS_OK)
        st = eos_err_set(err, EOS_NOMEM, "out of memory");
    if (st == EOS_OK) {
        switch (p->task) {
        case EOS_TASK_CLASSIFY: st = open_classify(&b, p, err); break;
        case EOS_TASK_TAG:      st = open_tag(&b, p, labels, err); break;
        case EOS_TASK_SEGMENT:  st = open_segment(&b, p, err); break;
        }
    }
    eos_free(labels);
    eos_free(b.rows);
    eos__strmap_free(&b.seen);
    if (st == EOS_OK && ds->n_items == 0)
        st = eos_err_set(err, EOS_INVALID_ARG, "dataset %s%s%s: no images", ds->root,
                         p->split ? ", split " : "", p->split ? p->split : "");
    int w, h;
    if (st == EOS_OK)
        st = eos__image_probe(ds->items[0].path, &ds->n_bands, &ds->dtype, &w, &h, err);
    if (st == EOS_OK) {
        ds->items[0].w = w;
        ds->items[0].h = h;
    }
    return st;
}

eos_status eos_dataset_open(eos_ctx *ctx, const char *root, const eos_dataset_params *params,
                            eos_dataset **out) {
    eos__ctx_clear(ctx);
    eos_err err;
    eos_err_clear(&err);
    if (out) *out = NULL;
    eos_dataset_params dflt;
    memset(&dflt, 0, sizeof dflt);
    const eos_dataset_params *p = params ? params : &dflt;
    if (!root || !out)
        return eos__ctx_fail(ctx,
                             &(eos_err){EOS_INVALID_ARG, "eos_dataset_open: NULL root or out"});
    if ((unsigned)p->task > EOS_TASK_SEGMENT || p->n_ignore_classes < 0 || p->cache_mb < 0 ||
        p->cache_mb > ((int64_t)1 << 40))
        return eos__ctx_fail(
            ctx,
            &(eos_err){EOS_INVALID_ARG, "eos_dataset_open: bad task, ignore count or cache size"});
    eos_dataset *ds = eos_calloc(1, sizeof *ds);
    if (!ds) return eos__ctx_fail(ctx, &(eos_err){ EOS_NOMEM, "out of memory" });
    pthread_mutex_init(&ds->mu, NULL);
    ds->task = p->task;
    ds->cache_cap = p->cache_mb << 20;
    eos_status st = open_impl(ds, root, p, &err);
    if (st != EOS_OK) {
        eos_dataset_free(ds);
        return eos__ctx_fail(ctx, &err);
    }
    *out = ds;
    return EOS_OK;
}

void eos_dataset_free(eos_dataset *ds) {
    if (!ds) return;
    eos__cache_free(ds);
    for (int64_t i = 0; i < ds->n_items; i++) {
        eos_free(ds->items[i].path);
        eos_free(ds->items[i].mask_path);
    }
    eos_free(ds->items);
    for (int c = 0; c < ds->n_classes; c++) eos_free(ds->class_names[c]);
    eos_free(ds->class_names);
    eos_free(ds->has_color);
    eos_free(ds->color);
    eos_free(ds->class_map);
    eos_free(ds->lut_rgb);
    eos_free(ds->lut_cls);
    eos_free(ds->tags);
    eos_free(ds->root);
    eos_free(ds->img_dir);
    pthread_mutex_destroy(&ds->mu);
    eos_free(ds);
}

/* ------------------------------------------------------------------ accessors */

eos_task eos_dataset_task(const eos_dataset *ds) { return ds->task; }
int64_t eos_dataset_size(const eos_dataset *ds) { return ds ? ds->n_items : 0; }
int eos_dataset_n_classes(const eos_dataset *ds) { return ds ? ds->n_classes : 0; }
int eos_dataset_n_bands(const eos_dataset *ds) { return ds ? ds->n_bands : 0; }

const char *eos_dataset_class_name(const eos_dataset *ds, int c) {
    return ds && c >= 0 && c < ds->n_classes ? ds->class_names[c] : NULL;
}

bool eos_dataset_class_color(const eos_dataset *ds, int c, uint8_t rgb[3]) {
    if (!ds || c < 0 || c >= ds->n_classes || !ds->has_color[c]) return false;
    memcpy(rgb, ds->color[c], 3);
    return true;
}

const char *eos_dataset_item_name(const eos_dataset *ds, int64_t i) {
    return ds && i >= 0 && i < ds->n_items ? ds->items[i].name : NULL;
}

int eos_dataset_label(const eos_dataset *ds, int64_t i) {
    if (!ds || ds->task != EOS_TASK_CLASSIFY || i < 0 || i >= ds->n_items) return -1;
    return ds->items[i].label;
}

const uint8_t *eos_dataset_tags(const eos_dataset *ds, int64_t i) {
    if (!ds || ds->task != EOS_TASK_TAG || i < 0 || i >= ds->n_items) return NULL;
    return ds->tags + (size_t)i * (size_t)ds->n_classes;
}
