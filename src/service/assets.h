/*
 * src/service/assets.h - the web app of `eosight serve` (web/: the upload page, the map page,
 * Bootstrap and Leaflet), embedded in the binary at build time (cmake/WebAssets.cmake writes
 * the table into <build>/web/assets_data.c; docs/web.md). The running server needs neither
 * node nor a network: dispatch (service.c) hands GET requests outside the API to
 * svc_route_web.
 */
#ifndef EOS_SERVICE_ASSETS_H
#define EOS_SERVICE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "service/service_internal.h"

/* One embedded file: its URL path ("/", "/map", "/assets/leaflet.js"), its Content-Type and
 * its bytes (followed by a NUL that len does not count). */
typedef struct svc_asset {
    const char          *path;
    const char          *content_type;
    const unsigned char *data;
    size_t               len;
} svc_asset;

/* The generated table (assets_data.c) and its length. */
extern const svc_asset svc_assets[];
extern const int svc_n_assets;

/* Find the embedded file of a URL path (no query string: libmicrohttpd strips it): "/" is the
 * upload page, "/map" the map page, "/index.html" the same as "/", "/assets/NAME" the scripts,
 * styles and images. The bytes are static (never freed). When the npm packages were missing
 * at build time, "/" and "/map" are a page saying the web app was not built and how to build
 * it. false when there is no such file. */
bool svc_asset_find(const char *url_path, const unsigned char **data, size_t *len,
                    const char **content_type);

/* Whether a request is for the web app: a GET (or HEAD) whose path is outside /v1/ and is
 * none of /healthz, /readyz, /metrics, /openapi.json. */
bool svc_web_path(const char *method, const char *url);

/* Answer a web app path: the embedded file with its Content-Type and Cache-Control (no-cache
 * for pages, a day for /assets/), or a JSON 404. */
enum MHD_Result svc_route_web(svc_call *k, const char *url);

#endif /* EOS_SERVICE_ASSETS_H */
