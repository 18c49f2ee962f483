/*
 * src/core/file.c - whole-file reads (see file.h).
 */
#include "core/file.h"

#include <stdio.h>

#include "eosight/alloc.h"

eos_status eos__read_file(const char *path, const char *what, size_t max_bytes, uint8_t **buf,
                          size_t *len, eos_err *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return eos_err_set(err, EOS_IO, "cannot open %s '%s'", what, path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return eos_err_set(err, EOS_IO, "cannot read %s '%s'", what, path);
    }
    if ((unsigned long)size > max_bytes) {
        fclose(f);
        return eos_err_set(err, EOS_LIMIT, "%s '%s' is larger than %zu MiB", what, path,
                           max_bytes >> 20);
    }
    uint8_t *b = eos_malloc(size ? (size_t)size : 1);
    if (!b) {
        fclose(f);
        return eos_err_set(err, EOS_NOMEM, "out of memory reading '%s' (%ld bytes)", path, size);
    }
    size_t got = size ? fread(b, 1, (size_t)size, f) : 0;
    fclose(f);
    if (got != (size_t)size) {
        eos_free(b);
        return eos_err_set(err, EOS_IO, "short read on '%s'", path);
    }
    *buf = b;
    *len = (size_t)size;
    return EOS_OK;
}
