/*
 * tests/core/test_strbuf.c - the growing string and its JSON helpers (src/core/strbuf.h):
 * appends against snprintf into a big fixed buffer, JSON string literals against hand-written
 * escapes (every class of ill-formed UTF-8 in Unicode's Table 3-7 next to its well-formed
 * neighbours), numbers against strtod round trips, and sticky out-of-memory with injected
 * allocation failures.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test.h"
#include "core/strbuf.h"
#include "eosight/alloc.h"

/* Take b's text and compare it with want; what names the input in a failure. */
static void expect_text(eos_strbuf *b, const char *what, const char *want) {
    char *got = NULL;
    if (eos_strbuf_take(b, &got) != EOS_OK) {
        TEST_FAIL_("take failed for %s", what);
        return;
    }
    if (strcmp(got, want) != 0) TEST_FAIL_("%s: got %s, want %s", what, got, want);
    eos_free(got);
}

static void check_str(const char *s, const char *want) {
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_json_str(&b, s);
    expect_text(&b, "json_str", want);
}

static void check_num(double v, const char *want) {
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_json_num(&b, v);
    expect_text(&b, "json_num", want);
}

static void test_append_and_take(void) {
    eos_strbuf b = EOS_STRBUF_INIT;
    char *s = NULL;
    ASSERT_OK(eos_strbuf_take(&b, &s));              /* nothing appended: "" */
    ASSERT_TRUE(s != NULL);
    EXPECT_STR_EQ(s, "");
    eos_free(s);
    eos_strbuf_put(&b, "ab\0cd", 5);                 /* embedded NUL kept */
    EXPECT_EQ_INT(b.len, 5);
    eos_strbuf_put(&b, NULL, 0);
    eos_strbuf_puts(&b, "ef");
    eos_strbuf_printf(&b, "%d-%s", 42, "x");
    EXPECT_EQ_INT(b.len, 11);
    EXPECT_TRUE(memcmp(b.p, "ab\0cdef42-x", 12) == 0);
    ASSERT_OK(eos_strbuf_take(&b, &s));
    EXPECT_TRUE(b.p == NULL && b.len == 0 && b.cap == 0 && !b.oom);   /* reset by take */
    EXPECT_TRUE(memcmp(s, "ab\0cdef42-x", 12) == 0);
    eos_free(s);
    eos_strbuf_puts(&b, "again");
    eos_strbuf_free(&b);
    EXPECT_TRUE(b.p == NULL && b.len == 0);
    eos_strbuf_free(&b);                             /* twice, and NULL: no-ops */
    eos_strbuf_free(NULL);
}

/* printf of every length from 0 to ~3 KiB, crossing each capacity boundary, never truncated
 * (the writers this replaced cut at 128 and 256 bytes). */
static void test_printf_lengths(void) {
    enum { MAXW = 3000 };
    static char ref[MAXW * 80], pad[MAXW + 1];
    memset(pad, 'y', MAXW);
    eos_strbuf b = EOS_STRBUF_INIT;
    size_t n = 0;
    for (int w = 0; w < MAXW; w += 37) {
        eos_strbuf_printf(&b, "[%d:%.*s:%.3f]", w, w, pad, w / 7.0);
        n += (size_t)snprintf(ref + n, sizeof ref - n, "[%d:%.*s:%.3f]", w, w, pad, w / 7.0);
        eos_strbuf_printf(&b, "%s", "");             /* empty output appends nothing */
    }
    EXPECT_EQ_INT(b.len, n);
    ASSERT_TRUE(b.p != NULL);
    EXPECT_TRUE(strlen(b.p) == n && memcmp(b.p, ref, n) == 0);
    eos_strbuf_free(&b);
    /* exactly filling the spare capacity, then one byte more */
    eos_strbuf_put(&b, "x", 1);
    size_t room = b.cap - b.len - 1;
    eos_strbuf_printf(&b, "%.*s", (int)room, pad);
    EXPECT_EQ_INT(b.len, b.cap - 1);
    eos_strbuf_printf(&b, "%c", 'z');
    EXPECT_EQ_INT(b.len, room + 2);
    EXPECT_TRUE(b.p[room + 1] == 'z' && b.p[room + 2] == '\0');
    eos_strbuf_free(&b);
}

static void test_json_str_escapes(void) {
    check_str(NULL, "\"\"");
    check_str("", "\"\"");
    check_str("plain text", "\"plain text\"");
    check_str("q\"uo\\te/", "\"q\\\"uo\\\\te/\"");
    check_str("\x01\x1f\t\n\r\b\f", "\"\\u0001\\u001f\\u0009\\u000a\\u000d\\u0008\\u000c\"");
    check_str(" ~\x7f", "\" ~\x7f\"");               /* DEL is not a JSON control character */
    check_str("a\"\"\\", "\"a\\\"\\\"\\\\\"");
}

static void test_json_str_utf8(void) {
    /* well-formed: copied as is, including each range's first and last characters */
    check_str("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");                 /* U+0080, U+07FF */
    check_str("\xe0\xa0\x80\xe2\x82\xac", "\"\xe0\xa0\x80\xe2\x82\xac\"");   /* U+0800, euro */
    check_str("\xed\x9f\xbf\xee\x80\x80", "\"\xed\x9f\xbf\xee\x80\x80\"");   /* U+D7FF, U+E000 */
    check_str("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");                           /* U+FFFF */
    check_str("\xf0\x90\x80\x80\xf0\x9f\x98\x80", "\"\xf0\x90\x80\x80\xf0\x9f\x98\x80\"");
    check_str("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");                   /* U+10FFFF */
    /* ill-formed: one \ufffd per byte that does not start a well-formed sequence */
    check_str("a\x80z", "\"a\\ufffdz\"");                                   /* lone continuation */
    check_str("\xc0\xaf", "\"\\ufffd\\ufffd\"");                            /* overlong '/' */
    check_str("\xc1\xbf", "\"\\ufffd\\ufffd\"");
    check_str("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");                 /* overlong 3-byte */
    check_str("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");                 /* surrogate D800 */
    check_str("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");                 /* surrogate DFFF */
    check_str("\xf0\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");      /* overlong 4-byte */
    check_str("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");      /* above U+10FFFF */
    check_str("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    check_str("\xfe\xff", "\"\\ufffd\\ufffd\"");
    check_str("\xe2\x82", "\"\\ufffd\\ufffd\"");                            /* cut at the end */
    check_str("\xe2\x82" "A\xc3", "\"\\ufffd\\ufffdA\\ufffd\"");            /* cut mid-string */
    check_str("\xf0\x9f\x98\"", "\"\\ufffd\\ufffd\\ufffd\\\"\"");           /* cut by a quote */
    check_str("\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\"");
}

static void test_json_num(void) {
    check_num(0.0, "0");
    check_num(-0.0, "-0");
    check_num(1.0, "1");
    check_num(-2.5, "-2.5");
    check_num(0.1, "0.1");
    check_num(1e21, "1e+21");
    check_num(1.0 / 3.0, "0.33333333333333331");
    check_num(0.1 + 0.2, "0.30000000000000004");
    check_num((double)0.1f, "0.10000000149011612");
    check_num(DBL_MAX, "1.7976931348623157e+308");
    check_num(4.9406564584124654e-324, "4.94065645841247e-324");   /* reads back: subnormal */
    check_num(NAN, "null");
    check_num(INFINITY, "null");
    check_num(-INFINITY, "null");
    /* whatever the value, the text reads back exactly */
    unsigned long long x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v)) continue;
        eos_strbuf b = EOS_STRBUF_INIT;
        eos_strbuf_json_num(&b, v);
        ASSERT_TRUE(b.p != NULL);
        if (strtod(b.p, NULL) != v) TEST_FAIL_("%s does not read back as %.17g", b.p, v);
        eos_strbuf_free(&b);
    }
}

/* Build one small document; the status of taking it. */
static eos_status build_doc(char **out) {
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_puts(&b, "{\"k\":");
    eos_strbuf_json_str(&b, "v\x01");
    for (int i = 0; i < 300; i++) eos_strbuf_printf(&b, ",\"n%d\":%d", i, i * i);
    eos_strbuf_puts(&b, "}");
    return eos_strbuf_take(&b, out);
}

static void test_oom_sticky(void) {
    eos_alloc_stats before, after;
    eos_alloc_get_stats(&before);
    /* the first allocation fails: every later append is a no-op even once memory is back */
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_alloc_fail_after(0);
    eos_strbuf_puts(&b, "lost");
    eos_alloc_fail_after(-1);
    EXPECT_TRUE(b.oom);
    eos_strbuf_puts(&b, "also lost");
    eos_strbuf_printf(&b, "%d", 7);
    eos_strbuf_json_str(&b, "x");
    eos_strbuf_json_num(&b, 1.5);
    EXPECT_TRUE(b.p == NULL && b.len == 0);
    char sentinel = 0, *s = &sentinel;
    EXPECT_STATUS(eos_strbuf_take(&b, &s), EOS_NOMEM);
    EXPECT_TRUE(s == NULL);
    EXPECT_TRUE(!b.oom && b.p == NULL);              /* reusable afterwards */
    /* taking an empty buffer allocates "" and can fail too */
    eos_alloc_fail_after(0);
    EXPECT_STATUS(eos_strbuf_take(&b, &s), EOS_NOMEM);
    eos_alloc_fail_after(-1);
    /* failure at every allocation of a growing document: all or nothing, nothing leaked */
    char *want = NULL;
    ASSERT_OK(build_doc(&want));
    int n_ok = 0;
    for (int k = 0; k < 12; k++) {
        char *got = NULL;
        eos_alloc_fail_after(k);
        eos_status st = build_doc(&got);
        eos_alloc_fail_after(-1);
        if (st == EOS_OK) {
            n_ok++;
            EXPECT_STR_EQ(got, want);
        } else {
            EXPECT_STATUS(st, EOS_NOMEM);
            EXPECT_TRUE(got == NULL);
        }
        eos_free(got);
    }
    EXPECT_TRUE(n_ok > 0 && n_ok < 12);              /* both outcomes were exercised */
    eos_free(want);
    eos_alloc_get_stats(&after);
    EXPECT_EQ_INT(after.live_count, before.live_count);
}

TEST_MAIN(TEST(test_append_and_take), TEST(test_printf_lengths), TEST(test_json_str_escapes),
          TEST(test_json_str_utf8), TEST(test_json_num), TEST(test_oom_sticky))
