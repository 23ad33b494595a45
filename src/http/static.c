/* Serves the embedded web UI: exact asset paths with ETags, long-lived caching for hashed files under
 * /assets/, and the single-page-app fallback to index.html for extensionless paths. Unsafe paths
 * ("..", encoded control bytes, backslashes) get 400; unknown files get 404. */
#include "http/http_impl.h"

#include "http/assets.h"

#include <string.h>

static const char static_not_built[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Atrium</title></head>"
    "<body><h1>Atrium</h1><p>The API is running. The web UI was not built into this binary: run "
    "<code>make</code> with the <code>web/</code> folder present.</p></body></html>";

static const http_asset *static_find(const char *path)
{
    int lo = 0, hi = http_asset_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(http_assets[mid].path, path);
        if (c == 0)
            return &http_assets[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Reports whether the last segment of path has a file extension. */
static bool static_has_extension(const char *path)
{
    const char *last = strrchr(path, '/');
    return last && strchr(last, '.') != NULL;
}

static int static_send(http_req *req, const http_asset *a, bool immutable)
{
    const char *inm = http_header(req, "If-None-Match");
    http_set_header(req, "ETag", a->etag);
    http_set_header(req, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (inm && strcmp(inm, a->etag) == 0)
        return http_reply_empty(req, 304);
    http_reply_borrowed(req, 200, a->mime, a->start, (size_t)(a->end - a->start));
    return 0;
}

int http_static_serve(http_req *req)
{
    if (!http_path_is_safe(req->path))
        return http_reply_problem(req, 400, "bad-path", "The path is not valid.", NULL);
    const http_asset *a = static_find(req->path);
    if (a && strcmp(req->path, "/index.html") != 0)
        return static_send(req, a, strncmp(req->path, "/assets/", 8) == 0);
    if (static_has_extension(req->path) && !a)
        return http_reply_problem(req, 404, "not-found", "Not found.", NULL);
    a = static_find("/index.html");
    if (!a) {
        http_set_header(req, "Cache-Control", "no-cache");
        http_reply_borrowed(req, 200, "text/html; charset=utf-8", static_not_built, sizeof(static_not_built) - 1);
        return 0;
    }
    return static_send(req, a, false);
}
