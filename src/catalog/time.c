/*
 * src/catalog/time.c - acquisition times: parsing the texts metadata and users write (ISO 8601,
 * TIFF's "YYYY:MM:DD HH:MM:SS"), finding dates in Sentinel-2 / Landsat style file names, and
 * formatting. Everything is UTC Unix seconds; the parser is strict (every field range-checked,
 * nothing after the text) because its input comes from files and command lines, and it is the
 * target of tests/fuzz/fuzz_catalog_time.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog_internal.h"

typedef struct civil {
    int year, month, day, hour, min, sec;
} civil;

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
    static const int k_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : k_days[m - 1];
}

static bool civil_valid(const civil *c, int year_lo, int year_hi) {
    return c->year >= year_lo && c->year <= year_hi && c->month >= 1 && c->month <= 12 &&
           c->day >= 1 && c->day <= days_in_month(c->year, c->month) && c->hour >= 0 &&
           c->hour <= 23 && c->min >= 0 && c->min <= 59 && c->sec >= 0 && c->sec <= 59;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), for years >= 1. */
static int64_t days_from_civil(int y, int m, int d) {
    static const int k_cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int64_t yy = y - 1;
    int64_t leaps = (yy / 4 - yy / 100 + yy / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    return 365 * (int64_t)(y - 1970) + leaps + k_cum[m - 1] + (m > 2 && is_leap(y)) + d - 1;
}

static int64_t civil_to_unix(const civil *c) {
    return days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 + c->min * 60 +
           c->sec;
}

/* n decimal digits at *p (exactly n, all digits); advances *p. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "YYYY-MM-DD", "YYYY:MM:DD" or "YYYYMMDD". */
static bool parse_date(const char **p, civil *c) {
    if (!digits(p, 4, &c->year)) return false;
    char sep = **p;
    if (sep == '-' || sep == ':') {
        (*p)++;
        if (!digits(p, 2, &c->month) || **p != sep) return false;
        (*p)++;
        return digits(p, 2, &c->day);
    }
    return digits(p, 2, &c->month) && digits(p, 2, &c->day);
}

/* "HH:MM[:SS[.f]]" or "HHMM[SS[.f]]". */
static bool parse_clock(const char **p, civil *c) {
    if (!digits(p, 2, &c->hour)) return false;
    bool ext = **p == ':';
    if (ext) (*p)++;
    if (!digits(p, 2, &c->min)) return false;
    if (ext ? **p == ':' : isdigit((unsigned char)**p)) {
        if (ext) (*p)++;
        if (!digits(p, 2, &c->sec)) return false;
        if ((**p == '.' || **p == ',') && isdigit((unsigned char)(*p)[1])) {
            int n = 0;
            for ((*p)++; isdigit((unsigned char)**p); (*p)++)
                if (++n > 9) return false;
        }
    }
    return true;
}

/* "Z", "+HH", "+HH:MM", "+HHMM" (or '-'); seconds to subtract to reach UTC. */
static bool parse_zone(const char **p, int64_t *offset_s) {
    *offset_s = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-') return true;
    int sign = **p == '-' ? -1 : 1, hh, mm = 0;
    (*p)++;
    if (!digits(p, 2, &hh)) return false;
    if (**p == ':') {
        (*p)++;
        if (!digits(p, 2, &mm)) return false;
    } else if (isdigit((unsigned char)**p) && !digits(p, 2, &mm)) {
        return false;
    }
    if (mm > 59 || hh * 60 + mm > 14 * 60) return false;   /* offsets span -14:00 .. +14:00 */
    *offset_s = sign * (hh * 3600 + mm * 60);
    return true;
}

bool eos_catalog_parse_time(const char *text, int64_t *unix_s, bool *date_only) {
    if (!text || !unix_s) return false;
    const char *p = text;
    while (*p == ' ') p++;
    civil c = { 0, 0, 0, 0, 0, 0 };
    int64_t offset = 0;
    if (!parse_date(&p, &c)) return false;
    bool only_date = *p == '\0' || *p == ' ';
    if (*p == ' ' && isdigit((unsigned char)p[1])) only_date = false;
    if (!only_date) {
        if (*p != 'T' && *p != 't' && *p != ' ') return false;
        p++;
        if (!parse_clock(&p, &c) || !parse_zone(&p, &offset)) return false;
    }
    while (*p == ' ') p++;
    if (*p || !civil_valid(&c, 1900, 2999)) return false;
    *unix_s = civil_to_unix(&c) - offset;
    if (date_only) *date_only = only_date;
    return true;
}

/* ------------------------------------------------------------------ file names */

static size_t digit_run(const char *s) {
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    return n;
}

/* After a date in a name: "THHMMSS", "_HHMMSS" (exactly 6 digits) or, for an extended date,
 * "THH:MM:SS". Leaves c's clock at midnight when none is valid. */
static void name_clock(const char *p, civil *c) {
    civil t = *c;
    if ((*p == 'T' || *p == '_') && digit_run(p + 1) == 6) {
        p++;
        digits(&p, 2, &t.hour);
        digits(&p, 2, &t.min);
        digits(&p, 2, &t.sec);
    } else if (*p == 'T' && parse_clock(&(const char *){ p + 1 }, &t)) {
        /* parse_clock filled t */
    } else {
        return;
    }
    if (civil_valid(&t, 1950, 2100)) *c = t;
}

/* A date starting at s (the start of a digit run): YYYYMMDD or YYYY-MM-DD, then a clock. */
static bool name_date_at(const char *s, civil *c) {
    size_t run = digit_run(s);
    const char *p = s;
    memset(c, 0, sizeof *c);
    if (run == 8) {
        parse_date(&p, c);
    } else if (run == 4 && s[4] == '-' && digit_run(s + 5) == 2 && s[7] == '-' &&
               digit_run(s + 8) == 2) {
        parse_date(&p, c);
    } else {
        return false;
    }
    if (!civil_valid(c, 1950, 2100)) return false;
    name_clock(p, c);
    return true;
}

bool eos_catalog_time_from_name(const char *name, int64_t *unix_s) {
    if (!name || !unix_s) return false;
    const char *slash = strrchr(name, '/');
    const char *s = slash ? slash + 1 : name;
    for (size_t i = 0; s[i];) {
        if (!isdigit((unsigned char)s[i])) {
            i++;
            continue;
        }
        civil c;
        if (name_date_at(s + i, &c)) {
            *unix_s = civil_to_unix(&c);
            return true;
        }
        i += digit_run(s + i);
    }
    return false;
}

void eos_catalog_format_time(int64_t unix_s, char buf[EOS_CATALOG_TIME_LEN]) {
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
        snprintf(buf, EOS_CATALOG_TIME_LEN, "invalid");
        return;
    }
    if (!strftime(buf, EOS_CATALOG_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, EOS_CATALOG_TIME_LEN, "invalid");
}
