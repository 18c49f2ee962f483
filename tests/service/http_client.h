/*
 * tests/service/http_client.h - a plain-socket HTTP/1.1 client for the service tests
 * (header-only, static): one request per connection (Connection: close), the answer split into
 * status, head and body, and expect() to check status and a substring of the body.
 */
#ifndef EOS_TESTS_SERVICE_HTTP_CLIENT_H
#define EOS_TESTS_SERVICE_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/alloc.h"

/* ------------------------------------------------------------------ a small HTTP client */

typedef struct resp {
    int    status;
    char   head[2048];
    char  *body;      /* eos_malloc, NUL-terminated */
    size_t len;       /* body bytes (binary bodies) */
} resp;

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

/* Read the whole answer (Connection: close) and split status, head and body. */
static bool read_resp(int fd, resp *r) {
    size_t cap = 65536, len = 0;
    char *buf = eos_malloc(cap);
    ssize_t k;
    while (buf && (k = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
        len += (size_t)k;
        if (len + 1 == cap) buf = eos_realloc(buf, cap *= 2);
    }
    if (!buf) return false;
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        eos_free(buf);
        return false;
    }
    size_t hl = (size_t)(end - buf);
    snprintf(r->head, sizeof r->head, "%.*s", (int)(hl < sizeof r->head ? hl : sizeof r->head - 1),
             buf);
    r->len = len - hl - 4;
    r->body = eos_malloc(r->len + 1);
    if (r->body) memcpy(r->body, end + 4, r->len + 1);
    eos_free(buf);
    return r->body != NULL;
}

/* One request with extra header lines (each ending in \r\n; NULL: none); status -1 when
 * the exchange failed. */
static resp http_h(int port, const char *method, const char *path, const char *headers,
                   const void *body, size_t n) {
    resp r = { -1, "", NULL, 0 };
    int fd = dial(port);
    if (fd < 0) return r;
    char head[4096];
    int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n%sContent-Length: %zu\r\n\r\n", method, path,
                      headers ? headers : "", n);
    if (send_all(fd, head, (size_t)hl) && (!n || send_all(fd, body, n))) read_resp(fd, &r);
    close(fd);
    return r;
}

static resp http(int port, const char *method, const char *path, const void *body, size_t n) {
    return http_h(port, method, path, NULL, body, n);
}

static void resp_free(resp *r) {
    eos_free(r->body);
    r->body = NULL;
}

/* Status and a substring of the body (NULL: any). */
static void expect(resp r, int status, const char *sub, const char *what) {
    if (r.status != status)
        TEST_FAIL_("%s: status %d, want %d (body %s)", what, r.status, status,
                   r.body ? r.body : "-");
    else if (sub && (!r.body || !strstr(r.body, sub)))
        TEST_FAIL_("%s: body %s lacks %s", what, r.body ? r.body : "-", sub);
    resp_free(&r);
}

#endif /* EOS_TESTS_SERVICE_HTTP_CLIENT_H */
