/*
 * src/data/classes.c - class tables of datasets: classes.txt (one name per line, optionally
 * "<index> <name>" as eurosat-rgb writes it), the sub-folder names of an ImageFolder, and
 * classes.csv with mask colours for segmentation ("id,name,hex,r,g,b", columns found by their
 * header names, so "name,r,g,b" or "id,name,hex" work too).
 *
 * Segmentation masks store colours, so the colour table is turned into a sorted lookup
 * (r << 16 | g << 8 | b -> target value) that decode.c searches; classes the caller asked to
 * ignore keep their index but their pixels become EOS_IGNORE_INDEX.
 */
#include "data/data_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eosight/alloc.h"

#define MAX_NAME_BYTES 256
#define MAX_CSV_COLS   64

eos_status eos__classes_set(eos_dataset *ds, char *const *names, int n, const char *src,
                            eos_err *err) {
    if (n < 1) return eos_err_set(err, EOS_INVALID_ARG, "%s: no classes", src);
    if (n > EOS_DATA_MAX_CLASSES)
        return eos_err_set(err, EOS_INVALID_ARG, "%s: %d classes, at most %d are supported", src,
                           n, EOS_DATA_MAX_CLASSES);
    eos__strmap m;
    if (eos__strmap_init(&m, (size_t)n) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_status st = EOS_OK;
    for (int i = 0; i < n && st == EOS_OK; i++) {
        if (!names[i] || !*names[i])
            st = eos_err_set(err, EOS_PARSE, "%s: class %d has no name", src, i);
        else if (strlen(names[i]) > MAX_NAME_BYTES)
            st = eos_err_set(err, EOS_PARSE, "%s: class %d: name longer than %d bytes", src, i,
                             MAX_NAME_BYTES);
        else if (eos__strmap_put(&m, names[i], i) != -1)
            st = eos_err_set(err, EOS_PARSE, "%s: duplicate class name '%s'", src, names[i]);
    }
    eos__strmap_free(&m);
    if (st != EOS_OK) return st;
    ds->class_names = eos_calloc((size_t)n, sizeof *ds->class_names);
    ds->has_color = eos_calloc((size_t)n, sizeof *ds->has_color);
    ds->color = eos_calloc((size_t)n, sizeof *ds->color);
    ds->class_map = eos_calloc((size_t)n, 1);
    if (!ds->class_names || !ds->has_color || !ds->color || !ds->class_map)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    ds->n_classes = n;
    for (int i = 0; i < n; i++) {
        ds->class_map[i] = (uint8_t)i;
        if (!(ds->class_names[i] = eos_strdup(names[i])))
            return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ classes.txt */

/* "<index><blank><name>": the index and a pointer to the name, else false. */
static bool indexed_line(char *line, int64_t *idx, char **name) {
    char *s = line;
    if (!isdigit((unsigned char)*s)) return false;
    while (isdigit((unsigned char)*s)) s++;
    if (*s != ' ' && *s != '\t') return false;
    char save = *s;
    *s = '\0';
    bool ok = eos__parse_int(line, 0, EOS_DATA_MAX_CLASSES, idx);
    *s = save;
    if (!ok) return false;
    while (*s == ' ' || *s == '\t') s++;
    *name = s;
    return *s != '\0';
}

/* Parse classes.txt at path into ds. */
static eos_status classes_txt(eos_dataset *ds, const char *path, eos_err *err) {
    eos__text t;
    EOS_TRY(eos__text_load(&t, path, err));
    char *lines[EOS_DATA_MAX_CLASSES + 1];
    int lineno[EOS_DATA_MAX_CLASSES + 1];
    int n = 0;
    eos_status st = EOS_OK;
    for (char *l; (l = eos__text_next(&t));) {
        if (n == EOS_DATA_MAX_CLASSES + 1) {
            st = eos_err_set(err, EOS_INVALID_ARG, "%s:%d: more than %d classes", path, t.line,
                             EOS_DATA_MAX_CLASSES);
            break;
        }
        lineno[n] = t.line;
        lines[n++] = l;
    }
    bool indexed = n > 0;
    for (int i = 0; i < n && indexed; i++) {
        int64_t idx;
        char *name;
        indexed = indexed_line(lines[i], &idx, &name);
    }
    char *names[EOS_DATA_MAX_CLASSES + 1] = { 0 };
    for (int i = 0; i < n && st == EOS_OK; i++) {
        int64_t idx = i;
        char *name = lines[i];
        if (indexed) {
            indexed_line(lines[i], &idx, &name);
            if (idx >= n)
                st =
                    eos_err_set(err, EOS_PARSE, "%s:%d: class index %lld, but there are %d classes",
                                path, lineno[i], (long long)idx, n);
            else if (names[idx])
                st = eos_err_set(err, EOS_PARSE, "%s:%d: class index %lld given twice", path,
                                 lineno[i], (long long)idx);
        }
        if (st == EOS_OK) names[idx] = name;
    }
    if (st == EOS_OK) st = eos__classes_set(ds, names, n, path, err);
    eos__text_free(&t);
    return st;
}

eos_status eos__classes_classify(eos_dataset *ds, eos_err *err) {
    char *path = eos__path_join(ds->root, "classes.txt");
    if (!path) return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_status st;
    if (eos__is_file(path)) {
        st = classes_txt(ds, path, err);
    } else {
        char **dirs;
        int64_t n;
        st = eos__list_dir(ds->img_dir, EOS__LIST_DIRS, &dirs, &n, err);
        if (st == EOS_OK) {
            /* a plain ImageFolder (img_dir == root) also holds splits/ and perhaps masks/ */
            bool plain = !strcmp(ds->img_dir, ds->root);
            int64_t k = 0;
            for (int64_t i = 0; i < n; i++) {
                if (plain && (!strcmp(dirs[i], "splits") || !strcmp(dirs[i], "masks"))) {
                    eos_free(dirs[i]);
                    continue;
                }
                dirs[k++] = dirs[i];
            }
            if (k > EOS_DATA_MAX_CLASSES)
                st = eos_err_set(err, EOS_INVALID_ARG,
                                 "%s: %lld class folders, at most %d are supported", ds->img_dir,
                                 (long long)k, EOS_DATA_MAX_CLASSES);
            else if (k == 0)
                st = eos_err_set(err, EOS_INVALID_ARG, "%s: no classes.txt and no class folders",
                                 ds->img_dir);
            else
                st = eos__classes_set(ds, dirs, (int)k, ds->img_dir, err);
            eos__names_free(dirs, k);
        }
    }
    eos_free(path);
    return st;
}

/* ------------------------------------------------------------------ classes.csv */

typedef struct csv_cols {
    int n;                            /* columns per row */
    int id, name, hex, r, g, b;       /* column index or -1 */
} csv_cols;

static int col_is(const char *h, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(h, names[i])) return 1;
    return 0;
}

/* Columns from a header row; false when it has no name column. */
static bool csv_header(char **f, int n, csv_cols *c) {
    static const char *const k_id[] = { "id", "index", "class_id", "idx", NULL };
    static const char *const k_name[] = { "name", "class", "class_name", "label", NULL };
    static const char *const k_hex[] = { "hex", "color", "colour", NULL };
    static const char *const k_r[] = { "r", "red", NULL }, *const k_g[] = { "g", "green", NULL };
    static const char *const k_b[] = { "b", "blue", NULL };
    c->n = n;
    c->id = c->name = c->hex = c->r = c->g = c->b = -1;
    for (int i = 0; i < n; i++) {
        if (col_is(f[i], k_id) && c->id < 0) c->id = i;
        else if (col_is(f[i], k_name) && c->name < 0) c->name = i;
        else if (col_is(f[i], k_hex) && c->hex < 0) c->hex = i;
        else if (col_is(f[i], k_r) && c->r < 0) c->r = i;
        else if (col_is(f[i], k_g) && c->g < 0) c->g = i;
        else if (col_is(f[i], k_b) && c->b < 0) c->b = i;
    }
    if (c->r < 0 || c->g < 0 || c->b < 0) c->r = c->g = c->b = -1;
    return c->name >= 0;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static bool parse_hex(const char *s, uint8_t rgb[3]) {
    if (*s == '#') s++;
    if (strlen(s) != 6) return false;
    for (int i = 0; i < 3; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        rgb[i] = (uint8_t)(hi * 16 + lo);
    }
    return true;
}

typedef struct csv_row { int64_t id; char *name; bool has_rgb; uint8_t rgb[3]; } csv_row;

/* One data row into r; line number for messages. */
static eos_status csv_row_parse(char **f, int n, const csv_cols *c, int64_t row, const char *path,
                                int line, csv_row *r, eos_err *err) {
    if (n != c->n)
        return eos_err_set(err, EOS_PARSE, "%s:%d: %d fields, the header has %d", path, line, n,
                           c->n);
    r->id = row;
    if (c->id >= 0 && !eos__parse_int(f[c->id], 0, EOS_DATA_MAX_CLASSES - 1, &r->id))
        return eos_err_set(err, EOS_PARSE, "%s:%d: class id '%.40s' is not an integer in 0..%d",
                           path, line, f[c->id], EOS_DATA_MAX_CLASSES - 1);
    r->name = f[c->name];
    r->has_rgb = false;
    if (c->hex >= 0 && *f[c->hex]) {
        if (!parse_hex(f[c->hex], r->rgb))
            return eos_err_set(err, EOS_PARSE, "%s:%d: colour '%.40s' is not #RRGGBB", path, line,
                               f[c->hex]);
        r->has_rgb = true;
    }
    if (c->r >= 0) {
        int64_t v[3];
        const int col[3] = { c->r, c->g, c->b };
        for (int k = 0; k < 3; k++)
            if (!eos__parse_int(f[col[k]], 0, 255, &v[k]))
                return eos_err_set(err, EOS_PARSE,
                                   "%s:%d: colour component '%.40s' is not in 0..255", path, line,
                                   f[col[k]]);
        if (r->has_rgb && (r->rgb[0] != v[0] || r->rgb[1] != v[1] || r->rgb[2] != v[2]))
            return eos_err_set(err, EOS_PARSE, "%s:%d: hex colour and r,g,b disagree", path, line);
        for (int k = 0; k < 3; k++) r->rgb[k] = (uint8_t)v[k];
        r->has_rgb = true;
    }
    return EOS_OK;
}

/* Rows of classes.csv (after the header) into ds: names by id, colours. */
static eos_status csv_rows(eos_dataset *ds, eos__text *t, char *first, const csv_cols *c,
                           eos_err *err) {
    csv_row rows[EOS_DATA_MAX_CLASSES];
    int n = 0;
    char *f[MAX_CSV_COLS];
    for (char *l = first; l; l = eos__text_next(t)) {
        if (n == EOS_DATA_MAX_CLASSES)
            return eos_err_set(err, EOS_INVALID_ARG, "%s:%d: more than %d classes", t->path,
                               t->line, EOS_DATA_MAX_CLASSES);
        int nf = eos__csv_split(l, ',', f, MAX_CSV_COLS);
        if (nf < 0)
            return eos_err_set(err, EOS_PARSE, "%s:%d: unterminated quote or more than %d fields",
                               t->path, t->line, MAX_CSV_COLS);
        EOS_TRY(csv_row_parse(f, nf, c, n, t->path, t->line, &rows[n], err));
        for (int k = 0; k < n; k++)
            if (rows[k].id == rows[n].id)
                return eos_err_set(err, EOS_PARSE, "%s:%d: class id %lld given twice", t->path,
                                   t->line, (long long)rows[n].id);
        n++;
    }
    char *names[EOS_DATA_MAX_CLASSES] = { 0 };
    for (int k = 0; k < n; k++) {
        if (rows[k].id >= n)
            return eos_err_set(err, EOS_PARSE,
                               "%s: class id %lld, but there are %d classes (ids must be 0..%d)",
                               t->path, (long long)rows[k].id, n, n - 1);
        names[rows[k].id] = rows[k].name;
    }
    EOS_TRY(eos__classes_set(ds, names, n, t->path, err));
    for (int k = 0; k < n; k++) {
        int id = (int)rows[k].id;
        ds->has_color[id] = rows[k].has_rgb;
        memcpy(ds->color[id], rows[k].rgb, 3);
    }
    return EOS_OK;
}

static eos_status classes_csv(eos_dataset *ds, const char *path, eos_err *err) {
    eos__text t;
    EOS_TRY(eos__text_load(&t, path, err));
    eos_status st = EOS_OK;
    char *l = eos__text_next(&t);
    if (!l) {
        st = eos_err_set(err, EOS_INVALID_ARG, "%s: no classes", path);
    } else {
        char *copy = eos_strdup(l), *f[MAX_CSV_COLS];
        int nf = copy ? eos__csv_split(copy, ',', f, MAX_CSV_COLS) : -2;
        csv_cols c = { 6, 0, 1, 2, 3, 4, 5 };
        int64_t dummy;
        if (nf == -2) {
            st = eos_err_set(err, EOS_NOMEM, "out of memory");
        } else if (nf < 0) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: unterminated quote or more than %d fields",
                             path, t.line, MAX_CSV_COLS);
        } else if (eos__parse_int(f[0], INT64_MIN, INT64_MAX, &dummy)) {
            /* no header: id,name[,hex[,r,g,b]] */
            c.n = nf;
            c.hex = nf > 2 ? 2 : -1;
            if (nf < 6) c.r = c.g = c.b = -1;
            if (nf < 2)
                st = eos_err_set(err, EOS_PARSE, "%s:%d: expected id,name,...", path, t.line);
            else st = csv_rows(ds, &t, l, &c, err);
        } else if (!csv_header(f, nf, &c)) {
            st = eos_err_set(err, EOS_PARSE, "%s:%d: header has no 'name' column", path, t.line);
        } else {
            st = csv_rows(ds, &t, eos__text_next(&t), &c, err);
        }
        eos_free(copy);
    }
    eos__text_free(&t);
    return st;
}

/* ------------------------------------------------------------------ colour lookup */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted colour table; duplicate colours are an error. */
static eos_status build_lut(eos_dataset *ds, const char *src, eos_err *err) {
    uint64_t keys[EOS_DATA_MAX_CLASSES];
    int n = 0;
    for (int c = 0; c < ds->n_classes; c++) {
        if (!ds->has_color[c]) continue;
        uint32_t rgb =
            (uint32_t)ds->color[c][0] << 16 | (uint32_t)ds->color[c][1] << 8 | ds->color[c][2];
        keys[n++] = (uint64_t)rgb << 8 | (uint64_t)c;
    }
    if (n == 0) return EOS_OK;
    qsort(keys, (size_t)n, sizeof keys[0], cmp_u64);
    ds->lut_rgb = eos_malloc((size_t)n * sizeof *ds->lut_rgb);
    ds->lut_cls = eos_malloc((size_t)n);
    if (!ds->lut_rgb || !ds->lut_cls) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int k = 0; k < n; k++) {
        uint32_t rgb = (uint32_t)(keys[k] >> 8);
        int c = (int)(keys[k] & 0xff);
        if (k > 0 && ds->lut_rgb[k - 1] == rgb)
            return eos_err_set(
                err, EOS_PARSE, "%s: classes '%s' and '%s' have the same colour #%06X", src,
                ds->class_names[ds->lut_cls[k - 1]], ds->class_names[c], (unsigned)rgb);
        ds->lut_rgb[k] = rgb;
        ds->lut_cls[k] = (uint8_t)c;   /* class index here; mapped below */
    }
    ds->n_lut = n;
    return EOS_OK;
}

static eos_status apply_ignore(eos_dataset *ds, const eos_dataset_params *p, eos_err *err) {
    for (int i = 0; p && i < p->n_ignore_classes; i++) {
        const char *name = p->ignore_classes ? p->ignore_classes[i] : NULL;
        int c = -1;
        for (int k = 0; name && k < ds->n_classes; k++)
            if (!strcmp(ds->class_names[k], name)) c = k;
        if (c < 0)
            return eos_err_set(err, EOS_INVALID_ARG, "ignore class '%s' is not a class of %s",
                               name ? name : "(null)", ds->root);
        ds->class_map[c] = EOS_IGNORE_INDEX;
    }
    for (int k = 0; k < ds->n_lut; k++) ds->lut_cls[k] = ds->class_map[ds->lut_cls[k]];
    return EOS_OK;
}

eos_status eos__classes_segment(eos_dataset *ds, const eos_dataset_params *p, eos_err *err) {
    char *csv = eos__path_join(ds->root, "classes.csv");
    char *txt = eos__path_join(ds->root, "classes.txt");
    eos_status st;
    if (!csv || !txt) st = eos_err_set(err, EOS_NOMEM, "out of memory");
    else if (eos__is_file(csv)) st = classes_csv(ds, csv, err);
    else if (eos__is_file(txt)) st = classes_txt(ds, txt, err);
    else st = eos_err_set(err, EOS_IO, "%s: neither classes.csv nor classes.txt found", ds->root);
    if (st == EOS_OK) st = build_lut(ds, eos__is_file(csv) ? csv : txt, err);
    if (st == EOS_OK) st = apply_ignore(ds, p, err);
    eos_free(csv);
    eos_free(txt);
    return st;
}
