/*
 * bench/service/loadgen.c - a small HTTP load generator for `eosight serve` (the service's
 * load benchmark, bench/service/run). C connections (one thread each, keep-alive) POST the
 * given image files in turn to one URL path for D seconds; prints one JSON line: requests,
 * requests/s, errors by status, latency p50/p90/p99/max in ms.
 *
 *     eos_loadgen --port 8080 --path /v1/classify --connections 64 --seconds 30 IMG...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct file { char *data; size_t len; } file;

typedef struct worker {
    int         port, id;
    const char *path;
    const file *files;
    int         n_files;
    double      until;
    double     *lat;      /* latencies in seconds */
    size_t      n_lat, cap_lat;
    long        ok, err_status, err_io;
} worker;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Read one answer with Content-Length from fd; its status, or -1. */
static int read_answer(int fd, char *buf, size_t cap) {
    size_t len = 0;
    for (;;) {
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k <= 0) return -1;
        len += (size_t)k;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (len + 1 >= cap) return -1;
            continue;
        }
        const char *cl = strstr(buf, "Content-Length:");
        size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
        size_t need = (size_t)(end + 4 - buf) + body;
        while (len < need) {   /* drain the rest of the body */
            size_t room = cap - 1;
            ssize_t r = recv(fd, buf, need - len < room ? need - len : room, 0);
            if (r <= 0) return -1;
            len += (size_t)r;
        }
        int status = -1;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
        return status;
    }
}

static void *run(void *arg) {
    worker *w = arg;
    char *buf = malloc(1 << 16);
    int fd = -1, i = w->id;
    while (buf && now() < w->until) {
        if (fd < 0 && (fd = dial(w->port)) < 0) {
            w->err_io++;
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
            continue;
        }
        const file *f = &w->files[i++ % w->n_files];
        char head[512];
        int hl = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
                          w->path, f->len);
        double t0 = now();
        int status = send_all(fd, head, (size_t)hl) && send_all(fd, f->data, f->len)
                         ? read_answer(fd, buf, 1 << 16) : -1;
        double dt = now() - t0;
        if (status < 0) {
            w->err_io++;
            close(fd);
            fd = -1;
            continue;
        }
        if (status != 200) w->err_status++;
        else w->ok++;
        if (w->n_lat == w->cap_lat) {
            w->cap_lat = w->cap_lat ? 2 * w->cap_lat : 4096;
            w->lat = realloc(w->lat, w->cap_lat * sizeof *w->lat);
            if (!w->lat) break;
        }
        w->lat[w->n_lat++] = dt;
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool load(const char *path, file *f) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->data = n > 0 ? malloc((size_t)n) : NULL;
    f->len = f->data && fread(f->data, 1, (size_t)n, fp) == (size_t)n ? (size_t)n : 0;
    fclose(fp);
    return f->len > 0;
}

int main(int argc, char **argv) {
    int port = 8080, conns = 64;
    double seconds = 30;
    const char *path = "/v1/classify";
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--connections")) conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--path")) path = argv[i + 1];
        else break;
    }
    int n_files = argc - i;
    if (n_files < 1 || conns < 1 || conns > 4096 || seconds <= 0) {
        fprintf(stderr, "usage: eos_loadgen [--port N] [--path P] [--connections C] "
                        "[--seconds D] IMAGE...\n");
        return 2;
    }
    file *files = calloc((size_t)n_files, sizeof *files);
    for (int k = 0; k < n_files; k++)
        if (!load(argv[i + k], &files[k])) {
            fprintf(stderr, "eos_loadgen: cannot read %s\n", argv[i + k]);
            return 1;
        }
    worker *w = calloc((size_t)conns, sizeof *w);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    double t0 = now(), until = t0 + seconds;
    for (int k = 0; k < conns; k++) {
        w[k] = (worker){ .port = port, .id = k * 7, .path = path, .files = files,
                         .n_files = n_files, .until = until };
        pthread_create(&th[k], NULL, run, &w[k]);
    }
    long ok = 0, es = 0, eio = 0;
    size_t n = 0;
    for (int k = 0; k < conns; k++) {
        pthread_join(th[k], NULL);
        ok += w[k].ok;
        es += w[k].err_status;
        eio += w[k].err_io;
        n += w[k].n_lat;
    }
    double wall = now() - t0;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t m = 0;
    for (int k = 0; k < conns; k++) {
        memcpy(all + m, w[k].lat, w[k].n_lat * sizeof *all);
        m += w[k].n_lat;
        free(w[k].lat);
    }
    qsort(all, n, sizeof *all, cmp);
#define PCT(p) (n ? 1e3 * all[(size_t)((double)(n - 1) * (p))] : 0.0)
    printf("{\"path\":\"%s\",\"connections\":%d,\"seconds\":%.2f,\"requests\":%zu,\"ok\":%ld,"
           "\"errors_status\":%ld,\"errors_io\":%ld,\"rps\":%.1f,\"p50_ms\":%.2f,"
           "\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n", path, conns, wall, n, ok, es,
           eio, (double)ok / wall, PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0));
    free(all);
    for (int k = 0; k < n_files; k++) free(files[k].data);
    free(files);
    free(w);
    free(th);
    return es || eio ? 3 : 0;
}
