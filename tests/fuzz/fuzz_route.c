/*
 * tests/fuzz/fuzz_route.c - libFuzzer target for the service's URL routing
 * (src/service/http.c, svc_route_match over the route table of service.c): the input (up to
 * 1024 bytes) is a request path. Beyond memory errors it checks what routing promises: a path
 * matches at most one pattern per method; each capture is non-empty, shorter than 256 bytes and
 * holds no '/'; a pattern without captures matches only its own text.
 * Seeds: tests/fuzz/corpus/route.
 *
 *     build-fuzz/fuzz_route -runs=1000000 tests/fuzz/corpus/route
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/service_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1025];
    size_t n = size < 1024 ? size : 1024;
    memcpy(path, data, n);
    path[n] = '\0';
    int n_routes;
    const svc_route *routes = svc_routes(&n_routes);
    int matched_get = 0, matched_post = 0;
    for (int i = 0; i < n_routes; i++) {
        char caps[4][256];
        memset(caps, 0, sizeof caps);
        if (!svc_route_match(routes[i].pattern, path, caps)) continue;
        if (strcmp(routes[i].method, "GET") == 0) matched_get++;
        else matched_post++;
        int n_caps = 0;
        for (const char *p = routes[i].pattern; (p = strchr(p, '{')) != NULL; p++) n_caps++;
        if (n_caps == 0 && strcmp(routes[i].pattern, path) != 0) abort();
        for (int c = 0; c < n_caps; c++)
            if (!caps[c][0] || strlen(caps[c]) >= 256 || strchr(caps[c], '/')) abort();
    }
    if (matched_get > 1 || matched_post > 1) abort();
    return 0;
}
