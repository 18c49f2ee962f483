/*
 * src/service/assets.c - the web app's embedded files (assets.h) over HTTP: lookup by URL
 * path (a linear scan of the generated table: a few dozen entries), which requests are the
 * web app's, and the answer with its caching headers. The files are static, so responses
 * point at them without a copy.
 */
#include <string.h>

#include "service/assets.h"

bool svc_asset_find(const char *url_path, const unsigned char **data, size_t *len,
                    const char **content_type) {
    if (!url_path) return false;
    if (strcmp(url_path, "/index.html") == 0) url_path = "/";
    for (int i = 0; i < svc_n_assets; i++) {
        if (strcmp(svc_assets[i].path, url_path) != 0) continue;
        *data = svc_assets[i].data;
        *len = svc_assets[i].len;
        *content_type = svc_assets[i].content_type;
        return true;
    }
    return false;
}

bool svc_web_path(const char *method, const char *url) {
    static const char *const api[] = { "/healthz", "/readyz", "/metrics", "/openapi.json" };
    if ((strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) ||
        strncmp(url, "/v1/", 4) == 0 || strcmp(url, "/v1") == 0)
        return false;
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
        if (strcmp(url, api[i]) == 0) return false;
    return true;
}

enum MHD_Result svc_route_web(svc_call *k, const char *url) {
    const unsigned char *data;
    size_t len;
    const char *type;
    if (!svc_asset_find(url, &data, &len, &type))
        return svc_send_error(k, 404, NULL, "no page %s (the web app has / and /map; the API "
                              "is under /v1/, described by /openapi.json)", url);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    bool asset = strncmp(url, "/assets/", 8) == 0;
    MHD_add_response_header(r, "Cache-Control", asset ? "public, max-age=86400" : "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(k->c, 200, r);
    MHD_destroy_response(r);
    if (k->rq) k->rq->status = 200;
    return ret;
}
