/*
 * tests/service/test_multipart.c - the multipart/form-data parser (src/service/multipart.c):
 * hand-written bodies whose part boundaries, names and data bytes are known, the Content-Type
 * boundary forms, binary data holding boundary look-alikes, the limits (parts, name lengths,
 * header lines) and the plain-words messages of malformed bodies.
 */
#include "common/test.h"

#include "service/multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

/* Parse a string literal body (its length taken from sizeof, so NUL bytes count). */
#define PARSE(ct, lit, parts, max, n, err) \
    svc_mp_parse((ct), (lit), sizeof(lit) - 1, (parts), (max), (n), (err))

static svc_mp_part g_parts[8];

static void test_basic_form(void) {
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n"
        "\x89PNG\r\n\x1a\n\0\x01"
        "\r\n--XyZ\r\n"
        "content-disposition: FORM-DATA; name=top_k\r\n"
        "\r\n"
        "3\r\n"
        "--XyZ--\r\n";
    int n = -1;
    eos_err err = { 0 };
    ASSERT_OK(PARSE(CT, body, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 2);
    EXPECT_STR_EQ(g_parts[0].name, "image");
    EXPECT_TRUE(g_parts[0].has_filename);
    EXPECT_STR_EQ(g_parts[0].filename, "a.png");
    EXPECT_STR_EQ(g_parts[0].content_type, "image/png");
    ASSERT_EQ_INT(g_parts[0].len, 10);   /* 89 P N G \r \n 1a \n 00 01 */
    EXPECT_TRUE(memcmp(g_parts[0].data, "\x89PNG\r\n\x1a\n\0\x01", 10) == 0);
    /* the data points into the body: offset of the first data byte, counted by hand */
    EXPECT_EQ_INT((const char *)g_parts[0].data - body, 7 + 64 + 25 + 2);
    EXPECT_STR_EQ(g_parts[1].name, "top_k");
    EXPECT_TRUE(!g_parts[1].has_filename);
    EXPECT_STR_EQ(g_parts[1].filename, "");
    EXPECT_STR_EQ(g_parts[1].content_type, "text/plain");
    EXPECT_EQ_INT(g_parts[1].len, 1);
    const svc_mp_part *p = svc_mp_find(g_parts, n, "top_k");
    ASSERT_TRUE(p == &g_parts[1]);
    EXPECT_TRUE(svc_mp_find(g_parts, n, "TOP_K") == NULL);
    EXPECT_TRUE(svc_mp_find(g_parts, n, "model") == NULL);
    char buf[8];
    ASSERT_OK(svc_mp_text(p, buf, sizeof buf, &err));
    EXPECT_STR_EQ(buf, "3");
}

static void test_boundary_forms(void) {
    char b[SVC_MP_BOUNDARY_MAX + 1];
    eos_err err = { 0 };
    ASSERT_OK(svc_mp_boundary("multipart/form-data; boundary=abc", b, sizeof b, &err));
    EXPECT_STR_EQ(b, "abc");
    ASSERT_OK(svc_mp_boundary("  Multipart/Form-Data ; charset=utf-8;BOUNDARY = \"a b;c=d\" ; x=1",
                              b, sizeof b, &err));
    EXPECT_STR_EQ(b, "a b;c=d");
    ASSERT_OK(svc_mp_boundary("multipart/form-data;boundary=\"q\\\"x\"", b, sizeof b, &err));
    EXPECT_STR_EQ(b, "q\"x");
    /* curl's style */
    ASSERT_OK(svc_mp_boundary("multipart/form-data; boundary=------------------------"
                              "d74496d66958873e", b, sizeof b, &err));
    EXPECT_STR_EQ(b, "------------------------d74496d66958873e");
    char seventy[80];
    memset(seventy, 'a', 70);
    seventy[70] = '\0';
    char ct[128];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    ASSERT_OK(svc_mp_boundary(ct, b, sizeof b, &err));
    EXPECT_EQ_INT(strlen(b), 70);
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%sa", seventy);
    EXPECT_STATUS(svc_mp_boundary(ct, b, sizeof b, &err), EOS_PARSE);
    EXPECT_STR_EQ(err.msg, "multipart boundary is 71 bytes long; at most 70 are allowed");

    EXPECT_STATUS(svc_mp_boundary("multipart/form-data", b, sizeof b, &err), EOS_PARSE);
    EXPECT_STR_EQ(err.msg, "multipart/form-data Content-Type has no boundary parameter");
    EXPECT_STATUS(svc_mp_boundary("multipart/form-data; boundary=\"\"", b, sizeof b, &err),
                  EOS_PARSE);
    EXPECT_STR_EQ(err.msg, "multipart boundary is empty");
    EXPECT_STATUS(svc_mp_boundary("multipart/form-data; boundary=\"abc", b, sizeof b, &err),
                  EOS_PARSE);
    EXPECT_STATUS(svc_mp_boundary("multipart/form-data; boundary", b, sizeof b, &err),
                  EOS_PARSE);
    EXPECT_STATUS(svc_mp_boundary("multipart/mixed; boundary=abc", b, sizeof b, &err),
                  EOS_UNSUPPORTED);
    EXPECT_STR_EQ(err.msg, "request Content-Type is not multipart/form-data");
    EXPECT_STATUS(svc_mp_boundary("multipart/form-dataX; boundary=abc", b, sizeof b, &err),
                  EOS_UNSUPPORTED);
    EXPECT_STATUS(svc_mp_boundary("image/png", b, sizeof b, &err), EOS_UNSUPPORTED);
    EXPECT_STATUS(svc_mp_boundary(NULL, b, sizeof b, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_mp_boundary(CT, b, 10, &err), EOS_INVALID_ARG);

    EXPECT_TRUE(svc_mp_is_form("multipart/form-data"));
    EXPECT_TRUE(svc_mp_is_form("MULTIPART/FORM-DATA;boundary=x"));
    EXPECT_TRUE(!svc_mp_is_form("multipart/form"));
    EXPECT_TRUE(!svc_mp_is_form("application/octet-stream"));
    EXPECT_TRUE(!svc_mp_is_form(NULL));
}

/* Data with CR, LF, NUL, boundary prefixes and "--XyZ" look-alikes that are no delimiters. */
static void test_binary_lookalikes(void) {
    static const char data[] =
        "\r\n--Xy\r\n--XyZA\n--XyZ-\r\n\r--XyZ\r\nx--XyZ\r\n\0--XyZ\r\n\n\r\n--XYZ\r\n\r";
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"f\"\r\n"
        "\r\n"
        "\r\n--Xy\r\n--XyZA\n--XyZ-\r\n\r--XyZ\r\nx--XyZ\r\n\0--XyZ\r\n\n\r\n--XYZ\r\n\r"
        "\r\n--XyZ--";
    int n = 0;
    eos_err err = { 0 };
    ASSERT_OK(PARSE(CT, body, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(g_parts[0].len, sizeof data - 1);
    EXPECT_TRUE(memcmp(g_parts[0].data, data, sizeof data - 1) == 0);
}

/* Bare LF line ends, a preamble, transport padding after delimiters, an epilogue that looks
 * like another part, an empty part. */
static void test_lf_preamble_epilogue(void) {
    static const char body[] =
        "This is the preamble. --XyZ is not at a line start here.\n"
        "--XyZ \t\n"
        "Content-Disposition: form-data; name=\"a\"\n"
        "\n"
        "line1\nline2\n"
        "--XyZ\n"
        "Content-Disposition: form-data; name=\"empty\"\n"
        "\n"
        "\n"
        "--XyZ--  \n"
        "--XyZ\nContent-Disposition: form-data; name=\"epilogue\"\n\nzzz\n--XyZ--\n";
    int n = 0;
    eos_err err = { 0 };
    ASSERT_OK(PARSE(CT, body, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 2);
    EXPECT_STR_EQ(g_parts[0].name, "a");
    ASSERT_EQ_INT(g_parts[0].len, 11);
    EXPECT_TRUE(memcmp(g_parts[0].data, "line1\nline2", 11) == 0);
    EXPECT_STR_EQ(g_parts[1].name, "empty");
    EXPECT_EQ_INT(g_parts[1].len, 0);
    /* a sloppy empty part: the delimiter right after the headers' blank line */
    static const char sloppy[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n--XyZ--";
    ASSERT_OK(PARSE(CT, sloppy, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 1);
    EXPECT_EQ_INT(g_parts[0].len, 0);
    EXPECT_TRUE((const char *)g_parts[0].data == sloppy + sizeof sloppy - 1 - 7);
    /* a form with no part at all */
    ASSERT_OK(PARSE(CT, "--XyZ--\r\n", g_parts, 8, &n, &err));
    EXPECT_EQ_INT(n, 0);
    ASSERT_OK(PARSE(CT, "--XyZ--", NULL, 0, &n, &err));
    EXPECT_EQ_INT(n, 0);
}

static void test_headers(void) {
    static const char body[] =
        "--XyZ\r\n"
        "X-Other: ignored\r\n"
        "Content-Disposition: form-data;\r\n"
        "\tname=\"fol\\\"ded\";\r\n"
        "  filename=\"C:\\img\\a b.tif\"; filename*=UTF-8''x.tif\r\n"
        "Content-Type :  image/tiff ; x=1  \r\n"
        "\r\n"
        "II*\r\n"
        "--XyZ--\r\n";
    int n = 0;
    eos_err err = { 0 };
    ASSERT_OK(PARSE(CT, body, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 1);
    EXPECT_STR_EQ(g_parts[0].name, "fol\"ded");
    EXPECT_STR_EQ(g_parts[0].filename, "C:\\img\\a b.tif");
    EXPECT_STR_EQ(g_parts[0].content_type, "image/tiff ; x=1");
    EXPECT_EQ_INT(g_parts[0].len, 3);
}

/* Bodies that must fail, with the status and the exact message of each. */
static void expect_fail(const char *body, eos_status want, const char *msg) {
    int n = 7;
    eos_err err = { 0 };
    eos_status st = svc_mp_parse(CT, body, strlen(body), g_parts, 2, &n, &err);
    if (st != want) TEST_FAIL_("body '%.40s...': %s, want %s (%s)", body, eos_status_name(st),
                               eos_status_name(want), err.msg);
    if (strcmp(err.msg, msg) != 0) TEST_FAIL_("message '%s', want '%s'", err.msg, msg);
    EXPECT_EQ_INT(n, 0);
}

#define CD "Content-Disposition: form-data; name="

static void test_errors(void) {
    expect_fail("", EOS_PARSE, "multipart body is empty");
    expect_fail("hello", EOS_PARSE,
                "multipart body does not contain the boundary given in its Content-Type");
    expect_fail("x--XyZ\r\n", EOS_PARSE,
                "multipart body does not contain the boundary given in its Content-Type");
    expect_fail("--XyZ\r\n" CD "a\r\n\r\ndata", EOS_PARSE,
                "multipart body has no closing boundary");
    expect_fail("--XyZ\r\n" CD "a\r\n\r\ndata\r\n--XyZ", EOS_PARSE,
                "multipart body has no closing boundary");
    expect_fail("--XyZ\r\n" CD "a\r\n\r\ndata\r\n--XyZ-", EOS_PARSE,
                "multipart body has no closing boundary");
    expect_fail("--XyZ\r\n" CD "a\r\n", EOS_PARSE,
                "multipart part 1: its headers do not end with a blank line");
    expect_fail("--XyZ\r\n" CD "a\r\n\r\n1\r\n--XyZ\r\n" CD "b\r\n\r\n2\r\n--XyZ\r\n" CD
                "c\r\n\r\n3\r\n--XyZ--", EOS_LIMIT, "multipart body has more than 2 parts");
    expect_fail("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1 has no Content-Disposition header");
    expect_fail("--XyZ\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1 has no Content-Disposition header");
    expect_fail("--XyZ\r\n" CD "a\r\n\r\n\r\n--XyZ\r\nContent-Disposition: attachment; "
                "name=b\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 2: Content-Disposition is 'attachment', not form-data");
    expect_fail("--XyZ\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\nx\r\n"
                "--XyZ--", EOS_PARSE,
                "multipart part 1 has no field name (Content-Disposition: form-data; "
                "name=\"...\")");
    expect_fail("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
                EOS_PARSE, "multipart part 1: malformed Content-Disposition parameters");
    expect_fail("--XyZ\r\n" CD "a\r\nno colon here\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1: malformed header line (no 'Name:' before the value)");
    expect_fail("--XyZ\r\n continued\r\n" CD "a\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1: a folded header line continues no header");
    expect_fail("--XyZ\r\n" CD "a\r\n" CD "b\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1 has two Content-Disposition headers");
    expect_fail("--XyZ\r\n" CD "a\rb\r\n\r\nx\r\n--XyZ--", EOS_PARSE,
                "multipart part 1: a header line contains a control byte (0x0d)");
    /* wrong arguments */
    int n = 0;
    eos_err err = { 0 };
    EXPECT_STATUS(svc_mp_parse(CT, "x", 1, g_parts, -1, &n, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_mp_parse(CT, "x", 1, g_parts, 1, NULL, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_mp_parse(NULL, "x", 1, g_parts, 1, &n, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_mp_parse("text/plain", "x", 1, g_parts, 1, &n, NULL), EOS_UNSUPPORTED);
}

/* Build "--XyZ\r\n<header>\r\n\r\nv\r\n--XyZ--" into buf. */
static size_t one_part(char *buf, size_t size, const char *header) {
    return (size_t)snprintf(buf, size, "--XyZ\r\n%s\r\n\r\nv\r\n--XyZ--", header);
}

static void test_length_limits(void) {
    static char body[12000], hdr[10000], name[400];
    int n = 0;
    eos_err err = { 0 };
    /* a 255-byte name is kept, a 256-byte one refused */
    memset(name, 'n', 255);
    name[255] = '\0';
    snprintf(hdr, sizeof hdr, CD "\"%s\"", name);
    size_t len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    EXPECT_EQ_INT(strlen(g_parts[0].name), 255);
    snprintf(hdr, sizeof hdr, CD "\"%sn\"", name);
    len = one_part(body, sizeof body, hdr);
    EXPECT_STATUS(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err), EOS_LIMIT);
    EXPECT_STR_EQ(err.msg, "multipart part 1: field name is 256 bytes long; at most 255 are "
                  "allowed");
    /* a 300-byte filename is cut to 255 bytes */
    char fn[301];
    memset(fn, 'f', 300);
    fn[300] = '\0';
    snprintf(hdr, sizeof hdr, CD "a; filename=\"%s\"", fn);
    len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    EXPECT_EQ_INT(strlen(g_parts[0].filename), 255);
    EXPECT_TRUE(g_parts[0].filename_truncated);
    /* 254 ASCII bytes then a 2-byte UTF-8 character straddling byte 255: cut before it */
    memset(fn, 'f', 254);
    memcpy(fn + 254, "\xc3\xa9", 3);
    snprintf(hdr, sizeof hdr, CD "a; filename=\"%s\"", fn);
    len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    EXPECT_EQ_INT(strlen(g_parts[0].filename), 254);
    EXPECT_TRUE(g_parts[0].filename_truncated);
    /* exactly 255 bytes ending in that character: kept whole */
    memcpy(fn + 253, "\xc3\xa9", 3);
    snprintf(hdr, sizeof hdr, CD "a; filename=\"%s\"", fn);
    len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    EXPECT_EQ_INT(strlen(g_parts[0].filename), 255);
    EXPECT_TRUE(!g_parts[0].filename_truncated);
    /* a 1024-byte unfolded header line passes, 1025 does not */
    static const char pre[] = "X-Pad: ";
    memcpy(hdr, pre, sizeof pre - 1);
    memset(hdr + 7, 'p', 1024 - 7);
    snprintf(hdr + 1024, sizeof hdr - 1024, "\r\n" CD "a");
    len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    memset(hdr + 7, 'p', 1025 - 7);
    snprintf(hdr + 1025, sizeof hdr - 1025, "\r\n" CD "a");
    len = one_part(body, sizeof body, hdr);
    EXPECT_STATUS(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err), EOS_LIMIT);
    EXPECT_STR_EQ(err.msg, "multipart part 1: a header line is longer than 1024 bytes");
    /* the same length made of folded pieces counts as one line */
    snprintf(hdr, sizeof hdr, "X-Pad: a");
    size_t hl = strlen(hdr);
    for (int i = 0; i < 60; i++) hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl,
                                                        "\r\n %s", "qqqqqqqqqqqqqqqqqqqq");
    snprintf(hdr + hl, sizeof hdr - hl, "\r\n" CD "a");
    len = one_part(body, sizeof body, hdr);
    EXPECT_STATUS(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err), EOS_LIMIT);
    /* many short header lines: the whole block is bounded */
    hl = 0;
    for (int i = 0; i < 500; i++) hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl,
                                                         "X-%03d: 0123456789\r\n", i);
    snprintf(hdr + hl, sizeof hdr - hl, CD "a");
    len = one_part(body, sizeof body, hdr);
    EXPECT_STATUS(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err), EOS_LIMIT);
    EXPECT_STR_EQ(err.msg, "multipart part 1: headers longer than 8192 bytes");
    /* a content type of 127 bytes is kept, 128 refused */
    char ct[200];
    memset(ct, 't', 127);
    ct[127] = '\0';
    snprintf(hdr, sizeof hdr, CD "a\r\nContent-Type: %s", ct);
    len = one_part(body, sizeof body, hdr);
    ASSERT_OK(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err));
    EXPECT_EQ_INT(strlen(g_parts[0].content_type), 127);
    snprintf(hdr, sizeof hdr, CD "a\r\nContent-Type: %st", ct);
    len = one_part(body, sizeof body, hdr);
    EXPECT_STATUS(svc_mp_parse(CT, body, len, g_parts, 8, &n, &err), EOS_LIMIT);
}

static void test_text_field(void) {
    static const char body[] =
        "--XyZ\r\n" CD "\"model\"\r\n\r\nresnet18-eurosat\r\n"
        "--XyZ\r\n" CD "\"nul\"\r\n\r\na\0b\r\n"
        "--XyZ--\r\n";
    int n = 0;
    eos_err err = { 0 };
    ASSERT_OK(PARSE(CT, body, g_parts, 8, &n, &err));
    ASSERT_EQ_INT(n, 2);
    char buf[17];
    ASSERT_OK(svc_mp_text(&g_parts[0], buf, sizeof buf, &err));   /* 16 bytes + NUL fit */
    EXPECT_STR_EQ(buf, "resnet18-eurosat");
    EXPECT_STATUS(svc_mp_text(&g_parts[0], buf, 16, &err), EOS_LIMIT);
    EXPECT_STR_EQ(err.msg, "form field 'model' is longer than 15 bytes");
    EXPECT_STR_EQ(buf, "");
    EXPECT_STATUS(svc_mp_text(&g_parts[1], buf, sizeof buf, &err), EOS_PARSE);
    EXPECT_STR_EQ(err.msg, "form field 'nul' contains a NUL byte");
    EXPECT_STATUS(svc_mp_text(&g_parts[1], buf, 0, &err), EOS_INVALID_ARG);
}

TEST_MAIN(TEST(test_basic_form), TEST(test_boundary_forms), TEST(test_binary_lookalikes),
          TEST(test_lf_preamble_epilogue), TEST(test_headers), TEST(test_errors),
          TEST(test_length_limits), TEST(test_text_field))
