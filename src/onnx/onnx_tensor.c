/*
 * src/onnx/onnx_tensor.c - TensorProto: element type, dims and data, inline or external.
 *
 * A tensor is decoded in two steps. The scan reads every field once, validates the wire format
 * and counts what data is present (raw_data bytes, elements of each typed field, the external
 * data entries). Only when the declared shape, the element type and the data present agree
 * exactly is memory allocated and filled, so a header declaring [100000 x 100000] on a file of a
 * few bytes fails before any allocation. Element counts and byte sizes are computed with
 * overflow checks.
 *
 * Data encodings accepted (ONNX allows each tensor exactly one):
 *   raw_data                  little-endian elements, the exporters' usual choice;
 *   float_data                f32;
 *   int32_data                i32, and one element per entry for i8/u8/i16/u16/bool, and for
 *                             f16/bf16 (the 16 bits of the value);
 *   int64_data, double_data   i64, f64;
 *   external data             data_location = EXTERNAL and external_data entries location /
 *                             offset / length: a file relative to the model's directory.
 * Typed fields may be packed or not. The host is assumed little-endian (checked at compile time).
 */
#include "onnx/onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eosight/alloc.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX reader copies raw_data as is and needs a little-endian host"
#endif

/* TensorProto field numbers */
enum {
    F_DIMS = 1, F_DATA_TYPE = 2, F_SEGMENT = 3, F_FLOAT_DATA = 4, F_INT32_DATA = 5,
    F_STRING_DATA = 6, F_INT64_DATA = 7, F_NAME = 8, F_RAW_DATA = 9, F_DOUBLE_DATA = 10,
    F_UINT64_DATA = 11, F_EXTERNAL_DATA = 13, F_DATA_LOCATION = 14
};

#define N_TYPED 5
static const struct { int field; int wire; const char *name; } k_typed[N_TYPED] = {
    { F_FLOAT_DATA,  EOS_PB_I32,    "float_data" },
    { F_INT32_DATA,  EOS_PB_VARINT, "int32_data" },
    { F_INT64_DATA,  EOS_PB_VARINT, "int64_data" },
    { F_DOUBLE_DATA, EOS_PB_I64,    "double_data" },
    { F_UINT64_DATA, EOS_PB_VARINT, "uint64_data" },
};

typedef struct tensor_scan {
    int64_t        data_type;
    bool           has_type;
    int            ndim;
    int64_t        dims[EOS_MAX_DIMS];
    const uint8_t *raw;
    size_t         raw_len;
    int            n_raw;                /* occurrences of raw_data */
    int64_t        n_typed[N_TYPED];     /* elements per typed field */
    bool           has_typed[N_TYPED];   /* field present (even if empty) */
    int64_t        n_strings;
    int64_t        location;             /* data_location: 0 DEFAULT, 1 EXTERNAL */
    const char    *ext_location;         /* arena strings from external_data, NULL if absent */
    const char    *ext_offset;
    const char    *ext_length;
} tensor_scan;

/* ONNX data type names for messages, including the ones eosight does not map. */
static const char *onnx_type_name(int64_t t) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
        "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
        "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
    };
    return t >= 0 && t < (int64_t)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

/* ------------------------------------------------------------------ scan */

/* One StringStringEntryProto of external_data. */
static eos_status scan_external_entry(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                      const char *what, tensor_scan *s) {
    eos_pb e;
    eos_pb_sub(&e, r, f, what);
    eos_pb_field ef;
    const char *key = NULL, *val = NULL;
    int rc;
    while ((rc = eos_pb_next(&e, &ef, c->err)) > 0) {
        if (ef.num != 1 && ef.num != 2) continue;
        EOS_TRY(eos_onnx_want_wire(c, &e, &ef, EOS_PB_LEN, ef.num == 1 ? "key" : "value"));
        EOS_TRY(eos_onnx_string(c, &e, &ef, 4096, "external_data entry",
                                ef.num == 1 ? &key : &val));
    }
    if (rc < 0) return c->err->status;
    if (!key) return eos_err_set(c->err, EOS_PARSE, "%s: external_data entry without a key", what);
    if (!val) val = "";
    if (!strcmp(key, "location")) s->ext_location = val;
    else if (!strcmp(key, "offset")) s->ext_offset = val;
    else if (!strcmp(key, "length")) s->ext_length = val;
    /* "checksum" and unknown keys are ignored */
    return EOS_OK;
}

static eos_status scan_dims(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                            const char *what, tensor_scan *s) {
    int64_t n;
    EOS_TRY(eos_pb_count(r, f, EOS_PB_VARINT, &n, c->err));
    if (n > EOS_MAX_DIMS - s->ndim)
        return eos_err_set(c->err, EOS_LIMIT, "%s has more than %d dims", what, EOS_MAX_DIMS);
    eos_pb_elems it;
    eos_pb_elems_init(&it, f, EOS_PB_VARINT);
    uint64_t u;
    while (eos_pb_elems_next(&it, &u)) {
        int64_t d = (int64_t)u;
        if (d < 0)
            return eos_err_set(c->err, EOS_PARSE, "%s has negative dim %lld (at byte %zu)",
                               what, (long long)d, f->pos);
        s->dims[s->ndim++] = d;
    }
    return EOS_OK;
}

static eos_status scan_tensor(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *tf,
                              const char *what, tensor_scan *s) {
    memset(s, 0, sizeof *s);
    eos_pb t;
    eos_pb_sub(&t, r, tf, what);
    eos_pb_field f;
    int rc;
    while ((rc = eos_pb_next(&t, &f, c->err)) > 0) {
        switch (f.num) {
        case F_DIMS:
            EOS_TRY(scan_dims(c, &t, &f, what, s));
            break;
        case F_DATA_TYPE:
            EOS_TRY(eos_onnx_want_wire(c, &t, &f, EOS_PB_VARINT, "data_type"));
            s->data_type = (int64_t)f.u;
            s->has_type = true;
            break;
        case F_SEGMENT:
            return eos_err_set(c->err, EOS_UNSUPPORTED, "%s is a segment of a tensor, which is not supported",
                               what);
        case F_STRING_DATA:
            EOS_TRY(eos_onnx_want_wire(c, &t, &f, EOS_PB_LEN, "string_data"));
            s->n_strings++;
            break;
        case F_RAW_DATA:
            EOS_TRY(eos_onnx_want_wire(c, &t, &f, EOS_PB_LEN, "raw_data"));
            s->raw = f.data;
            s->raw_len = f.len;
            s->n_raw++;
            break;
        case F_EXTERNAL_DATA:
            EOS_TRY(eos_onnx_want_wire(c, &t, &f, EOS_PB_LEN, "external_data"));
            EOS_TRY(scan_external_entry(c, &t, &f, what, s));
            break;
        case F_DATA_LOCATION:
            EOS_TRY(eos_onnx_want_wire(c, &t, &f, EOS_PB_VARINT, "data_location"));
            s->location = (int64_t)f.u;
            break;
        default:
            for (int k = 0; k < N_TYPED; k++) {
                if ((int)f.num != k_typed[k].field) continue;
                int64_t n;
                EOS_TRY(eos_pb_count(&t, &f, k_typed[k].wire, &n, c->err));
                s->n_typed[k] += n;   /* bounded by the input size: cannot overflow */
                s->has_typed[k] = true;
            }
            break;   /* name, doc_string and unknown fields */
        }
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* ------------------------------------------------------------------ typed fields */

/* Which typed field carries elements of dtype t (index into k_typed), or -1. */
static int typed_field_for(eos_dtype t) {
    switch (t) {
    case EOS_DTYPE_F32: return 0;
    case EOS_DTYPE_I64: return 2;
    case EOS_DTYPE_F64: return 3;
    case EOS_DTYPE_U8: case EOS_DTYPE_I8: case EOS_DTYPE_U16: case EOS_DTYPE_I16:
    case EOS_DTYPE_I32: case EOS_DTYPE_BOOL: case EOS_DTYPE_F16: case EOS_DTYPE_BF16:
        return 1;
    default: return -1;
    }
}

/* Store an int32_data entry x as element i of dtype t; false when x does not fit. */
static bool store_int32_entry(void *buf, eos_dtype t, int64_t i, int64_t x) {
    switch (t) {
    case EOS_DTYPE_I32:
        if (x < INT32_MIN || x > INT32_MAX) return false;
        ((int32_t *)buf)[i] = (int32_t)x;
        return true;
    case EOS_DTYPE_I16:
        if (x < INT16_MIN || x > INT16_MAX) return false;
        ((int16_t *)buf)[i] = (int16_t)x;
        return true;
    case EOS_DTYPE_U16:
        if (x < 0 || x > UINT16_MAX) return false;
        ((uint16_t *)buf)[i] = (uint16_t)x;
        return true;
    case EOS_DTYPE_F16:
    case EOS_DTYPE_BF16:   /* the 16 bits, written by some tools as a signed value */
        if (x < INT16_MIN || x > UINT16_MAX) return false;
        ((uint16_t *)buf)[i] = (uint16_t)(x & 0xffff);
        return true;
    case EOS_DTYPE_I8:
        if (x < INT8_MIN || x > INT8_MAX) return false;
        ((int8_t *)buf)[i] = (int8_t)x;
        return true;
    case EOS_DTYPE_U8:
        if (x < 0 || x > UINT8_MAX) return false;
        ((uint8_t *)buf)[i] = (uint8_t)x;
        return true;
    case EOS_DTYPE_BOOL:
        if (x < INT32_MIN || x > INT32_MAX) return false;
        ((uint8_t *)buf)[i] = x != 0;
        return true;
    default:
        return false;
    }
}

/* Second walk over the TensorProto: convert the elements of typed field k into buf. */
static eos_status fill_typed(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *tf,
                             const char *what, int k, eos_dtype dt, void *buf) {
    eos_pb t;
    eos_pb_sub(&t, r, tf, what);
    eos_pb_field f;
    int64_t i = 0;
    while (eos_pb_next(&t, &f, c->err) > 0) {   /* validated by the scan */
        if ((int)f.num != k_typed[k].field) continue;
        eos_pb_elems it;
        eos_pb_elems_init(&it, &f, k_typed[k].wire);
        uint64_t u;
        while (eos_pb_elems_next(&it, &u)) {
            if (k == 0) {
                uint32_t bits = (uint32_t)u;
                memcpy((char *)buf + 4 * i, &bits, 4);
            } else if (k == 2 || k == 3) {
                memcpy((char *)buf + 8 * i, &u, 8);
            } else if (!store_int32_entry(buf, dt, i, (int64_t)u)) {
                return eos_err_set(c->err, EOS_PARSE, "%s: int32_data element %lld is %lld, outside the range of %s",
                                   what, (long long)i, (long long)(int64_t)u, eos_dtype_name(dt));
            }
            i++;
        }
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ external data */

/* Non-negative decimal integer, digits only. */
static bool parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

/* A location must stay inside base_dir: relative, no ".." component, no backslash tricks. */
static bool location_ok(const char *loc) {
    if (!loc[0] || loc[0] == '/' || strchr(loc, '\\')) return false;
    const char *p = loc;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return false;
        if (!slash) break;
        p = slash + 1;
    }
    return true;
}

static eos_status read_all(eos_onnx_ctx *c, int fd, void *buf, size_t n, uint64_t off,
                           const char *shown_path) {
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            return eos_err_set(c->err, EOS_IO, "reading external data file '%s': %s", shown_path,
                               strerror(errno));
        if (k == 0)
            return eos_err_set(c->err, EOS_IO, "external data file '%s' ended early", shown_path);
        done += (size_t)k;
    }
    return EOS_OK;
}

/* Read nbytes of external data for the tensor into a new buffer (*out, caller frees). */
static eos_status read_external(eos_onnx_ctx *c, const tensor_scan *s, const char *what,
                                size_t nbytes, void **out) {
    char shown[80];
    if (!s->ext_location)
        return eos_err_set(c->err, EOS_PARSE, "%s has data_location EXTERNAL but no 'location' entry", what);
    eos_onnx_show(shown, sizeof shown, s->ext_location);
    if (!location_ok(s->ext_location))
        return eos_err_set(c->err, EOS_PARSE,
                           "%s: external data location '%s' must be a relative path inside the model's "
                           "directory (no leading '/', no '..', no '\\')", what, shown);
    if (!c->base_dir)
        return eos_err_set(c->err, EOS_IO,
                           "%s stores its data in external file '%s', but the model was loaded from "
                           "memory without a base directory", what, shown);
    uint64_t off = 0, len = nbytes;
    if (s->ext_offset && !parse_u64(s->ext_offset, &off))
        return eos_err_set(c->err, EOS_PARSE, "%s: external data offset is not a number", what);
    if (s->ext_length && !parse_u64(s->ext_length, &len))
        return eos_err_set(c->err, EOS_PARSE, "%s: external data length is not a number", what);
    if (len != nbytes)
        return eos_err_set(c->err, EOS_PARSE, "%s: external data length is %llu bytes, its shape and type need %zu",
                           what, (unsigned long long)len, nbytes);
    const char *dir = c->base_dir[0] ? c->base_dir : ".";   /* "" must not turn into "/loc" */
    size_t bl = strlen(dir), ll = strlen(s->ext_location);
    char *path = eos_malloc(bl + ll + 2);
    if (!path) return eos_err_set(c->err, EOS_NOMEM, "out of memory for an external data path");
    memcpy(path, dir, bl);
    path[bl] = '/';
    memcpy(path + bl + 1, s->ext_location, ll + 1);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    eos_free(path);
    if (fd < 0)
        return eos_err_set(c->err, EOS_IO, "%s: cannot open external data file '%s': %s", what, shown,
                           strerror(errno));
    eos_status st = EOS_OK;
    struct stat sb;
    void *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = eos_err_set(c->err, EOS_IO, "%s: external data '%s' is not a regular file", what, shown);
    } else if (off > (uint64_t)sb.st_size || (uint64_t)sb.st_size - off < nbytes) {
        st = eos_err_set(c->err, EOS_PARSE,
                         "%s: external data file '%s' has %lld bytes, the tensor needs %zu at offset %llu",
                         what, shown, (long long)sb.st_size, nbytes, (unsigned long long)off);
    } else if (!(buf = eos_malloc(nbytes ? nbytes : 1))) {
        st = eos_err_set(c->err, EOS_NOMEM, "%s: out of memory for %zu bytes of external data", what, nbytes);
    } else {
        st = read_all(c, fd, buf, nbytes, off, shown);
    }
    close(fd);
    if (st) {
        eos_free(buf);
        return st;
    }
    *out = buf;
    return EOS_OK;
}

/* ------------------------------------------------------------------ tensor */

static void adopt_data(eos_graph *g, int v, void *buf) {
    eos_value *val = &g->values[v];
    if (val->data_owned) eos_free(val->data);
    val->data = buf;
    val->data_owned = true;
    val->flags |= EOS_VAL_CONST;
}

/* Element count and byte size of the scanned shape, with overflow checks. */
static eos_status tensor_size(eos_onnx_ctx *c, const tensor_scan *s, eos_dtype dt,
                              const char *what, int64_t *numel, size_t *nbytes) {
    char shape[160];
    int64_t n = 1;
    size_t esz = eos_dtype_size(dt);
    for (int i = 0; i < s->ndim; i++) {
        if (s->dims[i] && n > INT64_MAX / s->dims[i])
            return eos_err_set(c->err, EOS_LIMIT, "%s: shape %s has too many elements", what,
                               eos_shape_str(s->ndim, s->dims, shape, sizeof shape));
        n *= s->dims[i];
    }
    if ((uint64_t)n > (uint64_t)(SIZE_MAX / esz) || n > INT64_MAX / (int64_t)esz)
        return eos_err_set(c->err, EOS_LIMIT, "%s: shape %s of %s is too large", what,
                           eos_shape_str(s->ndim, s->dims, shape, sizeof shape), eos_dtype_name(dt));
    *numel = n;
    *nbytes = (size_t)n * esz;
    return EOS_OK;
}

eos_status eos_onnx_tensor(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                           const char *what, int v) {
    tensor_scan s;
    char shape[160];
    EOS_TRY(scan_tensor(c, r, f, what, &s));
    if (!s.has_type || s.data_type == 0)
        return eos_err_set(c->err, EOS_PARSE, "%s has no data_type", what);
    eos_dtype dt = s.data_type > 0 && s.data_type <= INT32_MAX ? eos_dtype_from_onnx((int)s.data_type)
                                                               : EOS_DTYPE_UNDEFINED;
    if (dt == EOS_DTYPE_UNDEFINED)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has ONNX data type %lld (%s), which eosight does not support",
                           what, (long long)s.data_type, onnx_type_name(s.data_type));
    int64_t numel = 0;
    size_t nbytes = 0;
    EOS_TRY(tensor_size(c, &s, dt, what, &numel, &nbytes));
    eos_shape_str(s.ndim, s.dims, shape, sizeof shape);

    int k_want = typed_field_for(dt), k_have = -1, n_sources = 0;
    for (int k = 0; k < N_TYPED; k++)
        if (s.has_typed[k]) {
            n_sources++;
            k_have = k;
        }
    n_sources += s.n_raw > 0;
    if (s.n_raw > 1)
        return eos_err_set(c->err, EOS_PARSE, "%s has %d raw_data fields", what, s.n_raw);
    if (s.n_strings)
        return eos_err_set(c->err, EOS_PARSE, "%s of type %s carries string_data", what, eos_dtype_name(dt));
    if (s.location != 0 && s.location != 1)
        return eos_err_set(c->err, EOS_PARSE, "%s has invalid data_location %lld", what, (long long)s.location);
    if (s.location == 1 && n_sources)
        return eos_err_set(c->err, EOS_PARSE, "%s has both external data and inline data", what);
    if (n_sources > 1)
        return eos_err_set(c->err, EOS_PARSE, "%s carries its data in more than one field", what);

    void *buf = NULL;
    eos_value *val = &c->g->values[v];
    val->dtype = dt;
    val->ndim = s.ndim;
    memcpy(val->dims, s.dims, sizeof s.dims);
    if (s.location == 1) {
        EOS_TRY(read_external(c, &s, what, nbytes, &buf));
        adopt_data(c->g, v, buf);
    } else if (s.n_raw) {
        if (s.raw_len != nbytes)
            return eos_err_set(c->err, EOS_PARSE, "%s: shape %s of %s needs %zu bytes, raw_data holds %zu",
                               what, shape, eos_dtype_name(dt), nbytes, s.raw_len);
        if (eos_graph_set_const(c->g, v, s.raw, nbytes))
            return eos_err_set(c->err, EOS_NOMEM, "%s: out of memory for %zu bytes", what, nbytes);
    } else if (k_have >= 0) {
        if (k_have != k_want)
            return eos_err_set(c->err, EOS_PARSE, "%s of type %s stores its data in %s", what,
                               eos_dtype_name(dt), k_typed[k_have].name);
        if (s.n_typed[k_have] != numel)
            return eos_err_set(c->err, EOS_PARSE, "%s: shape %s has %lld elements, %s holds %lld",
                               what, shape, (long long)numel, k_typed[k_have].name,
                               (long long)s.n_typed[k_have]);
        if (!(buf = eos_malloc(nbytes ? nbytes : 1)))
            return eos_err_set(c->err, EOS_NOMEM, "%s: out of memory for %zu bytes", what, nbytes);
        eos_status st = fill_typed(c, r, f, what, k_have, dt, buf);
        if (st) {
            eos_free(buf);
            return st;
        }
        adopt_data(c->g, v, buf);
    } else {
        if (numel != 0)
            return eos_err_set(c->err, EOS_PARSE, "%s: shape %s has %lld elements but the tensor carries no data",
                               what, shape, (long long)numel);
        if (eos_graph_set_const(c->g, v, NULL, 0))
            return eos_err_set(c->err, EOS_NOMEM, "%s: out of memory", what);
    }
    return EOS_OK;
}

eos_status eos_onnx_tensor_name(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                const char *what, const char **name) {
    eos_pb t;
    eos_pb_sub(&t, r, f, what);
    eos_pb_field tf;
    int rc;
    *name = "";
    while ((rc = eos_pb_next(&t, &tf, c->err)) > 0) {
        if (tf.num != F_NAME) continue;
        EOS_TRY(eos_onnx_want_wire(c, &t, &tf, EOS_PB_LEN, "name"));
        EOS_TRY(eos_onnx_string(c, &t, &tf, EOS_ONNX_MAX_NAME, what, name));
    }
    return rc < 0 ? c->err->status : EOS_OK;
}
