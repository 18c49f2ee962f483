/*
 * tests/fuzz/fuzz_catalog_time.c - libFuzzer target for the catalog's time parsers
 * (src/catalog/time.c): eos_catalog_parse_time on text from metadata and command lines, and
 * eos_catalog_time_from_name on file names. The input (up to 256 bytes) is used as a C string.
 * Beyond memory errors (ASan/UBSan) it checks what the parsers promise:
 *   - an accepted time lies in the documented years (1900 .. 2999 give or take a 14 h offset
 *     for text; 1950 .. 2100 for names);
 *   - formatting an accepted time and parsing the text again gives the same instant, not
 *     date-only;
 *   - a rejected text leaves the output untouched.
 * Seeds: tests/fuzz/corpus/catalog_time.
 *
 *     build-fuzz/fuzz_catalog_time -runs=500000 tests/fuzz/corpus/catalog_time
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/catalog.h"

#define T_1900 (-2208988800LL)          /* 1900-01-01T00:00:00Z */
#define T_3000 32503680000LL            /* 3000-01-01T00:00:00Z */
#define T_1950 (-631152000LL)
#define T_2101 4133980800LL

static void round_trip(int64_t t) {
    char text[EOS_CATALOG_TIME_LEN];
    eos_catalog_format_time(t, text);
    int64_t back = 0;
    bool date_only = true;
    if (!eos_catalog_parse_time(text, &back, &date_only) || back != t || date_only) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[257];
    size_t n = size < 256 ? size : 256;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t t = 12345;
    if (eos_catalog_parse_time(s, &t, NULL)) {
        if (t < T_1900 - 14 * 3600 || t >= T_3000 + 14 * 3600) abort();
        if (t >= T_1900 && t < T_3000) round_trip(t);
    } else if (t != 12345) {
        abort();
    }
    t = 12345;
    if (eos_catalog_time_from_name(s, &t)) {
        if (t < T_1950 || t >= T_2101) abort();
        round_trip(t);
    } else if (t != 12345) {
        abort();
    }
    return 0;
}
