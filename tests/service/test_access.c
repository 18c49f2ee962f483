/*
 * tests/service/test_access.c - API keys and rate limits (src/service/access.c): key files
 * parsed from memory and from disk (with the permission warning), the messages of bad lines,
 * key lookup from Authorization / X-API-Key headers, and the token buckets on a fake clock
 * whose token counts are worked out by hand (burst, refusal with the wait, refill, separate
 * clients, least-recently-seen eviction), plus a threaded count of the tokens handed out.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "common/test.h"

#include "service/access.h"

#define KEY_A "aaaaaaaaaaaaaaaa"                  /* 16 bytes: the shortest key */
#define KEY_B "Bearer-like_key.0123456789~!@$%^&*"
#define KEY_C "cccccccccccccccccccccccccccccccc"

static const char k_file[] =
    "# service keys\r\n"
    "\r\n"
    KEY_A "\r\n"
    "   " KEY_B "\t mapping team  # ops\r\n"
    "  # indented comment\n"
    KEY_C " c\n";

static void test_keys_parse(void) {
    svc_keys *k = NULL;
    eos_err err = { 0 };
    ASSERT_OK(svc_keys_from_memory(k_file, sizeof k_file - 1, "keys.txt", &k, &err));
    EXPECT_EQ_INT(svc_keys_count(k), 3);
    EXPECT_STR_EQ(svc_keys_name(k, 0), "");
    EXPECT_STR_EQ(svc_keys_name(k, 1), "mapping team  # ops");
    EXPECT_STR_EQ(svc_keys_name(k, 2), "c");
    EXPECT_TRUE(svc_keys_name(k, 3) == NULL);
    EXPECT_EQ_INT(svc_keys_line(k, 0), 3);
    EXPECT_EQ_INT(svc_keys_line(k, 1), 4);
    EXPECT_EQ_INT(svc_keys_line(k, 2), 6);
    EXPECT_EQ_INT(svc_keys_line(k, -1), 0);

    EXPECT_EQ_INT(svc_keys_lookup(k, "Bearer " KEY_A, NULL), 0);
    EXPECT_EQ_INT(svc_keys_lookup(k, "  bEaReR \t" KEY_B "  ", NULL), 1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, KEY_C), 2);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, " " KEY_C "\t"), 2);
    /* a Bearer key wins; another scheme falls back to X-API-Key */
    EXPECT_EQ_INT(svc_keys_lookup(k, "Bearer " KEY_A, KEY_C), 0);
    EXPECT_EQ_INT(svc_keys_lookup(k, "Basic " KEY_A, KEY_C), 2);
    EXPECT_EQ_INT(svc_keys_lookup(k, "Basic " KEY_A, NULL), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, "Bearer" KEY_A, NULL), -1);     /* no space */
    EXPECT_EQ_INT(svc_keys_lookup(k, KEY_A, NULL), -1);              /* no scheme */
    /* near misses: prefix, one more byte, one byte changed, case, empty */
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "aaaaaaaaaaaaaaa"), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, KEY_A "a"), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "aaaaaaaaaaaaaaab"), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "AAAAAAAAAAAAAAAA"), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, "Bearer ", NULL), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, ""), -1);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, NULL), -1);
    EXPECT_EQ_INT(svc_keys_lookup(NULL, NULL, KEY_A), -1);
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, big), -1);
    svc_keys_free(k);
    svc_keys_free(NULL);
}

static void expect_keys_fail(const char *text, eos_status want, const char *msg) {
    svc_keys *k = (svc_keys *)1;
    eos_err err = { 0 };
    eos_status st = svc_keys_from_memory(text, strlen(text), "k.txt", &k, &err);
    if (st != want) TEST_FAIL_("'%.30s': %s, want %s", text, eos_status_name(st),
                               eos_status_name(want));
    if (strcmp(err.msg, msg) != 0) TEST_FAIL_("message '%s', want '%s'", err.msg, msg);
    EXPECT_TRUE(k == NULL);
}

static void test_keys_errors(void) {
    expect_keys_fail("", EOS_PARSE, "API key file 'k.txt' holds no key");
    expect_keys_fail("# only\n\n   \n#" KEY_A "\n", EOS_PARSE, "API key file 'k.txt' holds no key");
    expect_keys_fail(KEY_A "\naaaaaaaaaaaaaaa client\n", EOS_PARSE,
                     "API key file 'k.txt' line 2: the key is 15 characters long; keys have "
                     "16 to 256");
    expect_keys_fail(KEY_A "\n\n" KEY_C "\n" KEY_A " again\n", EOS_PARSE,
                     "API key file 'k.txt' line 4: the same key as line 1");
    expect_keys_fail("aaaaaaaa\x7f" "aaaaaaaaaa\n", EOS_PARSE,
                     "API key file 'k.txt' line 1: the key contains a byte that is not "
                     "printable ASCII (0x7f at column 9)");
    expect_keys_fail("cl\xc3\xa9" "aaaaaaaaaaaaaaaaa\n", EOS_PARSE,
                     "API key file 'k.txt' line 1: the key contains a byte that is not "
                     "printable ASCII (0xc3 at column 3)");
    expect_keys_fail(KEY_A " bad\x01name\n", EOS_PARSE,
                     "API key file 'k.txt' line 1: the client name contains a control byte "
                     "(0x01)");
    char text[1200];
    memset(text, 'k', 257);
    text[257] = '\0';
    expect_keys_fail(text, EOS_PARSE, "API key file 'k.txt' line 1: the key is 257 characters "
                     "long; keys have 16 to 256");
    text[256] = '\0';   /* 256 bytes is fine */
    svc_keys *k = NULL;
    ASSERT_OK(svc_keys_from_memory(text, 256, "k.txt", &k, NULL));
    char hdr[300] = "Bearer ";
    memcpy(hdr + 7, text, 257);
    EXPECT_EQ_INT(svc_keys_lookup(k, hdr, NULL), 0);
    svc_keys_free(k);
    snprintf(text, sizeof text, KEY_A " ");
    memset(text + 17, 'n', 128);
    text[17 + 128] = '\0';
    expect_keys_fail(text, EOS_PARSE, "API key file 'k.txt' line 1: the client name is 128 "
                     "bytes long; at most 127 are allowed");
    EXPECT_STATUS(svc_keys_from_memory(NULL, 3, "k", &k, NULL), EOS_INVALID_ARG);
}

/* More than SVC_KEYS_MAX keys are refused; exactly that many load and the last is found. */
static void test_keys_many(void) {
    size_t cap = (SVC_KEYS_MAX + 1) * 20;
    char *text = eos_malloc(cap);
    ASSERT_TRUE(text);
    size_t n = 0;
    for (int i = 0; i <= SVC_KEYS_MAX; i++) n += (size_t)snprintf(text + n, cap - n,
                                                                   "key-%014d\n", i);
    svc_keys *k = NULL;
    eos_err err = { 0 };
    EXPECT_STATUS(svc_keys_from_memory(text, n, "big", &k, &err), EOS_LIMIT);
    EXPECT_STR_EQ(err.msg, "API key file 'big' holds more than 1024 keys");
    ASSERT_OK(svc_keys_from_memory(text, n - 19, "big", &k, &err));
    EXPECT_EQ_INT(svc_keys_count(k), SVC_KEYS_MAX);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "key-00000000001023"), 1023);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "key-00000000000517"), 517);
    EXPECT_EQ_INT(svc_keys_lookup(k, NULL, "key-00000000001024"), -1);
    svc_keys_free(k);
    eos_free(text);
}

static void write_text(const char *path, const char *text, mode_t mode) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_keys_file(void) {
    char dir[256], path[300], warning[256], want[400];
    test_tmpdir_create(dir, sizeof dir, "access");
    snprintf(path, sizeof path, "%s/keys.txt", dir);
    write_text(path, k_file, 0600);
    svc_keys *k = NULL;
    eos_err err = { 0 };
    EXPECT_OK(svc_keys_load(path, &k, warning, sizeof warning, &err));
    EXPECT_STR_EQ(warning, "");
    EXPECT_EQ_INT(svc_keys_count(k), 3);
    svc_keys_free(k);
    chmod(path, 0644);
    EXPECT_OK(svc_keys_load(path, &k, warning, sizeof warning, &err));
    snprintf(want, sizeof want, "API key file '%s' can be read or written by other users "
             "(mode 0644): chmod 600 it", path);
    EXPECT_STR_EQ(warning, want);
    EXPECT_EQ_INT(svc_keys_count(k), 3);
    svc_keys_free(k);
    chmod(path, 0620);
    EXPECT_OK(svc_keys_load(path, &k, warning, sizeof warning, &err));
    EXPECT_TRUE(strstr(warning, "(mode 0620)") != NULL);
    svc_keys_free(k);
    /* errors name the file */
    write_text(path, "short\n", 0600);
    EXPECT_STATUS(svc_keys_load(path, &k, warning, sizeof warning, &err), EOS_PARSE);
    snprintf(want, sizeof want, "API key file '%s' line 1: the key is 5 characters long; keys "
             "have 16 to 256", path);
    EXPECT_STR_EQ(err.msg, want);
    EXPECT_TRUE(k == NULL);
    EXPECT_STATUS(svc_keys_load(dir, &k, NULL, 0, &err), EOS_IO);
    snprintf(want, sizeof want, "API key file '%s' is not a regular file", dir);
    EXPECT_STR_EQ(err.msg, want);
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    EXPECT_STATUS(svc_keys_load(path, &k, NULL, 0, &err), EOS_IO);
    snprintf(want, sizeof want, "cannot open API key file '%s'", path);
    EXPECT_STR_EQ(err.msg, want);
    test_tmpdir_remove(dir);
}

/* rate 2/s, burst 3: tokens worked out by hand at each time */
static void test_bucket_refill(void) {
    svc_ratelimit *rl = NULL;
    ASSERT_OK(svc_ratelimit_create(2, 3, 100, &rl, NULL));
    double w = -1;
    for (int i = 0; i < 3; i++) {
        EXPECT_TRUE(svc_ratelimit_take(rl, "10.0.0.1", 100.0, &w));
        EXPECT_NEAR(w, 0, 0);
    }
    EXPECT_TRUE(!svc_ratelimit_take(rl, "10.0.0.1", 100.0, &w));      /* 0 tokens */
    EXPECT_NEAR(w, 0.5, 1e-12);
    EXPECT_TRUE(!svc_ratelimit_take(rl, "10.0.0.1", 100.25, &w));     /* 0.5 tokens */
    EXPECT_NEAR(w, 0.25, 1e-12);
    EXPECT_TRUE(svc_ratelimit_take(rl, "10.0.0.1", 100.5, &w));       /* 1 token -> 0 */
    EXPECT_TRUE(!svc_ratelimit_take(rl, "10.0.0.1", 100.5, &w));
    EXPECT_NEAR(w, 0.5, 1e-12);
    /* a clock going backwards gives nothing back and breaks nothing */
    EXPECT_TRUE(!svc_ratelimit_take(rl, "10.0.0.1", 50.0, &w));
    EXPECT_NEAR(w, 0.5, 1e-12);
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 3; i++) EXPECT_TRUE(svc_ratelimit_take(rl, "10.0.0.1", 200.0, NULL));
    EXPECT_TRUE(!svc_ratelimit_take(rl, "10.0.0.1", 200.0, NULL));
    EXPECT_EQ_INT(svc_ratelimit_n_clients(rl), 1);
    svc_ratelimit_free(rl);
    svc_ratelimit_free(NULL);
    EXPECT_STATUS(svc_ratelimit_create(0, 3, 10, &rl, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_ratelimit_create(1, 0.5, 10, &rl, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_ratelimit_create(1, 2, 0, &rl, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(svc_ratelimit_create(NAN, 2, 10, &rl, NULL), EOS_INVALID_ARG);
}

static void test_clients_independent(void) {
    svc_ratelimit *rl = NULL;
    ASSERT_OK(svc_ratelimit_create(1, 2, 100, &rl, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "A", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "A", 0, NULL));
    EXPECT_TRUE(!svc_ratelimit_take(rl, "A", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "B", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "B", 0, NULL));
    EXPECT_TRUE(!svc_ratelimit_take(rl, "B", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, NULL, 0, NULL));   /* NULL is "" */
    EXPECT_TRUE(!svc_ratelimit_take(rl, "", 0, NULL));
    /* long ids: equal ones share a bucket, ones differing in the last byte do not */
    char l1[200], l2[200];
    memset(l1, 'x', 199);
    l1[199] = '\0';
    memcpy(l2, l1, sizeof l1);
    l2[198] = 'y';
    EXPECT_TRUE(svc_ratelimit_take(rl, l1, 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, l1, 0, NULL));
    EXPECT_TRUE(!svc_ratelimit_take(rl, l1, 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, l2, 0, NULL));
    EXPECT_EQ_INT(svc_ratelimit_n_clients(rl), 5);
    svc_ratelimit_free(rl);
}

/* max 2 clients: the least recently *seen* one (refused requests count as seen) goes */
static void test_eviction(void) {
    svc_ratelimit *rl = NULL;
    ASSERT_OK(svc_ratelimit_create(1, 1, 2, &rl, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "A", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "B", 0, NULL));
    EXPECT_TRUE(!svc_ratelimit_take(rl, "A", 0, NULL));   /* A seen after B */
    EXPECT_TRUE(svc_ratelimit_take(rl, "C", 0, NULL));    /* evicts B */
    EXPECT_EQ_INT(svc_ratelimit_n_clients(rl), 2);
    EXPECT_TRUE(!svc_ratelimit_take(rl, "A", 0, NULL));   /* A kept its empty bucket */
    EXPECT_TRUE(!svc_ratelimit_take(rl, "C", 0, NULL));
    EXPECT_TRUE(svc_ratelimit_take(rl, "B", 0, NULL));    /* back with a full bucket; evicts A */
    EXPECT_TRUE(svc_ratelimit_take(rl, "A", 0, NULL));    /* evicts C */
    EXPECT_TRUE(svc_ratelimit_take(rl, "C", 0, NULL));    /* evicts B */
    EXPECT_TRUE(!svc_ratelimit_take(rl, "A", 0, NULL));
    EXPECT_EQ_INT(svc_ratelimit_n_clients(rl), 2);
    /* churn through many clients in a small table */
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "192.0.2.%d", i);
        EXPECT_TRUE(svc_ratelimit_take(rl, id, 1, NULL));
        EXPECT_TRUE(!svc_ratelimit_take(rl, id, 1, NULL));
    }
    EXPECT_EQ_INT(svc_ratelimit_n_clients(rl), 2);
    svc_ratelimit_free(rl);
}

typedef struct hammer { svc_ratelimit *rl; int allowed; } hammer;

static void *hammer_run(void *arg) {
    hammer *h = arg;
    for (int i = 0; i < 500; i++) h->allowed += svc_ratelimit_take(h->rl, "shared", 5.0, NULL);
    return NULL;
}

/* 4 threads x 500 requests at one instant on a burst of 1000: exactly 1000 pass */
static void test_threads(void) {
    svc_ratelimit *rl = NULL;
    ASSERT_OK(svc_ratelimit_create(0.001, 1000, 10, &rl, NULL));
    pthread_t t[4];
    hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){ rl, 0 };
        ASSERT_TRUE(pthread_create(&t[i], NULL, hammer_run, &h[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += h[i].allowed;
    }
    EXPECT_EQ_INT(total, 1000);
    svc_ratelimit_free(rl);
}

static double fake_clock(void *cls) { return *(double *)cls; }

static void test_access_keys(void) {
    char dir[256], path[300], warning[256];
    test_tmpdir_create(dir, sizeof dir, "access");
    snprintf(path, sizeof path, "%s/keys", dir);
    write_text(path, k_file, 0600);
    double now = 10;
    svc_access_params p = { .key_file = path, .rate_per_s = 1, .burst = 2, .now = fake_clock,
                            .now_cls = &now };
    svc_access *a = NULL;
    eos_err err = { 0 };
    ASSERT_OK(svc_access_create(&p, &a, warning, sizeof warning, &err));
    EXPECT_TRUE(svc_access_keys_required(a));
    svc_access_result r;
    EXPECT_EQ_INT(svc_access_check(a, NULL, NULL, "127.0.0.1", &r), SVC_ACCESS_UNAUTHORIZED);
    EXPECT_STR_EQ(r.message, "this server needs an API key: send the header \"Authorization: "
                  "Bearer KEY\" or \"X-API-Key: KEY\"");
    EXPECT_EQ_INT(svc_access_check(a, "Bearer nope-nope-nope-nope", NULL, "x", &r),
                  SVC_ACCESS_UNAUTHORIZED);
    EXPECT_STR_EQ(r.message, "the API key is not valid");
    EXPECT_EQ_INT(r.key, -1);
    EXPECT_EQ_INT(svc_access_check(a, "Bearer " KEY_B, NULL, "1.1.1.1", &r), SVC_ACCESS_ALLOW);
    EXPECT_EQ_INT(r.key, 1);
    EXPECT_STR_EQ(r.client_name, "mapping team  # ops");
    EXPECT_STR_EQ(r.message, "");
    /* the key is the client, whatever the address */
    EXPECT_EQ_INT(svc_access_check(a, NULL, KEY_B, "2.2.2.2", &r), SVC_ACCESS_ALLOW);
    EXPECT_EQ_INT(svc_access_check(a, NULL, KEY_B, "3.3.3.3", &r), SVC_ACCESS_LIMITED);
    EXPECT_NEAR(r.retry_after_s, 1.0, 1e-12);
    EXPECT_EQ_INT(r.retry_after_header, 1);
    EXPECT_STR_EQ(r.message, "rate limit exceeded (1 requests per second, bursts of 2): "
                  "retry in 1 s");
    EXPECT_EQ_INT(svc_access_check(a, NULL, KEY_A, "3.3.3.3", &r), SVC_ACCESS_ALLOW);
    now = 10.5;   /* half a token back */
    EXPECT_EQ_INT(svc_access_check(a, NULL, KEY_B, NULL, &r), SVC_ACCESS_LIMITED);
    EXPECT_NEAR(r.retry_after_s, 0.5, 1e-12);
    EXPECT_EQ_INT(r.retry_after_header, 1);
    now = 11;
    EXPECT_EQ_INT(svc_access_check(a, NULL, KEY_B, NULL, &r), SVC_ACCESS_ALLOW);
    svc_access_free(a);
    /* a bad key file fails creation with its message */
    write_text(path, "# nothing\n", 0600);
    EXPECT_STATUS(svc_access_create(&p, &a, NULL, 0, &err), EOS_PARSE);
    EXPECT_TRUE(a == NULL);
    test_tmpdir_remove(dir);
}

static void test_access_by_address(void) {
    double now = 0;
    /* rate 0.4/s, burst 0 -> 2 x 0.4 = 0.8 -> at least 1 */
    svc_access_params p = { .rate_per_s = 0.4, .now = fake_clock, .now_cls = &now };
    svc_access *a = NULL;
    ASSERT_OK(svc_access_create(&p, &a, NULL, 0, NULL));
    EXPECT_TRUE(!svc_access_keys_required(a));
    svc_access_result r;
    EXPECT_EQ_INT(svc_access_check(a, NULL, NULL, "::1", &r), SVC_ACCESS_ALLOW);
    EXPECT_EQ_INT(r.key, -1);
    EXPECT_TRUE(r.client_name == NULL);
    EXPECT_EQ_INT(svc_access_check(a, "Bearer whatever", NULL, "::1", &r), SVC_ACCESS_LIMITED);
    EXPECT_NEAR(r.retry_after_s, 2.5, 1e-12);   /* a whole token at 0.4/s */
    EXPECT_EQ_INT(r.retry_after_header, 3);
    EXPECT_EQ_INT(svc_access_check(a, NULL, NULL, "192.0.2.7", &r), SVC_ACCESS_ALLOW);
    svc_access_free(a);
    /* neither keys nor limits: everything passes */
    svc_access_params none = { 0 };
    ASSERT_OK(svc_access_create(&none, &a, NULL, 0, NULL));
    for (int i = 0; i < 100; i++)
        EXPECT_EQ_INT(svc_access_check(a, NULL, NULL, "::1", &r), SVC_ACCESS_ALLOW);
    svc_access_free(a);
    svc_access_free(NULL);
    svc_access_params bad = { .rate_per_s = INFINITY };
    EXPECT_STATUS(svc_access_create(&bad, &a, NULL, 0, NULL), EOS_INVALID_ARG);
}

TEST_MAIN(TEST(test_keys_parse), TEST(test_keys_errors), TEST(test_keys_many),
          TEST(test_keys_file), TEST(test_bucket_refill), TEST(test_clients_independent),
          TEST(test_eviction), TEST(test_threads), TEST(test_access_keys),
          TEST(test_access_by_address))
