/* The router engine: matching a method and a decoded path against declarative route tables.
 *
 * Patterns are literal segments and `:name` parameters ("/api/v1/workspaces/:workspace_id"). Rows are
 * tried in table order and the first row whose pattern and method match wins, so tables list literal
 * paths before parameterised ones that could shadow them. A path that matches some pattern but no
 * method there gives the set of allowed methods for a 405. HEAD is served by GET rows. */
#include "http/http.h"

#include <string.h>

typedef struct segs {
    const char *ptr[HTTP_MAX_SEGMENTS];
    size_t len[HTTP_MAX_SEGMENTS];
    int count;
} segs;

/* Splits "/a/b/c" into segments; returns -1 when the path does not start with '/' or has more than
 * HTTP_MAX_SEGMENTS segments. "/" has zero segments. A trailing slash yields an empty last segment,
 * which matches no pattern. */
static int router_split(const char *path, segs *out)
{
    out->count = 0;
    if (path[0] != '/')
        return -1;
    const char *p = path + 1;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (out->count == HTTP_MAX_SEGMENTS)
            return -1;
        out->ptr[out->count] = p;
        out->len[out->count] = len;
        out->count++;
        if (!slash)
            return 0;
        p = slash + 1;
    }
}

/* Compares a pattern with the split path; on success records parameter positions in idx. */
static int router_pattern_matches(const char *pattern, const segs *path, int param_idx[HTTP_MAX_PARAMS],
                                  const char *param_name[HTTP_MAX_PARAMS], size_t param_name_len[HTTP_MAX_PARAMS],
                                  int *nparams)
{
    const char *p = pattern;
    int i = 0;
    *nparams = 0;
    if (*p != '/')
        return 0;
    p++;
    if (*p == '\0')
        return path->count == 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (i >= path->count)
            return 0;
        if (p[0] == ':') {
            if (path->len[i] == 0 || *nparams == HTTP_MAX_PARAMS)
                return 0;
            param_idx[*nparams] = i;
            param_name[*nparams] = p + 1;
            param_name_len[*nparams] = len - 1;
            (*nparams)++;
        } else if (len != path->len[i] || memcmp(p, path->ptr[i], len) != 0) {
            return 0;
        }
        i++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return i == path->count;
}

int http_match(const http_route_table *tables, size_t ntables, int method, const char *path, bool test_routes,
               const http_route **route_out, const char *names[HTTP_MAX_PARAMS], const char *values[HTTP_MAX_PARAMS],
               int *nparams, int *allow_mask, arena *a)
{
    segs s;
    int idx[HTTP_MAX_PARAMS];
    const char *pname[HTTP_MAX_PARAMS];
    size_t pname_len[HTTP_MAX_PARAMS];
    int n = 0;
    int want = method == HM_HEAD ? HM_GET : method;

    *route_out = NULL;
    *nparams = 0;
    *allow_mask = 0;
    if (router_split(path, &s) != 0)
        return 0;
    for (size_t t = 0; t < ntables; t++) {
        for (size_t r = 0; r < tables[t].count; r++) {
            const http_route *row = &tables[t].rows[r];
            if (row->auth == AUTH_TEST && !test_routes)
                continue;
            if (!router_pattern_matches(row->pattern, &s, idx, pname, pname_len, &n))
                continue;
            if (row->method != want) {
                *allow_mask |= row->method;
                continue;
            }
            for (int k = 0; k < n; k++) {
                names[k] = arena_strndup(a, pname[k], pname_len[k]);
                values[k] = arena_strndup(a, s.ptr[idx[k]], s.len[idx[k]]);
            }
            *nparams = n;
            *route_out = row;
            return 1;
        }
    }
    if (*allow_mask & HM_GET)
        *allow_mask |= HM_HEAD;
    return *allow_mask ? -1 : 0;
}

static const struct {
    const char *name;
    int method;
} router_methods[] = {
    {"GET", HM_GET},       {"POST", HM_POST}, {"PUT", HM_PUT},         {"PATCH", HM_PATCH},
    {"DELETE", HM_DELETE}, {"HEAD", HM_HEAD}, {"OPTIONS", HM_OPTIONS},
};

int http_method_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++)
        if (strcmp(router_methods[i].name, name) == 0)
            return router_methods[i].method;
    return 0;
}

void http_allow_header(int mask, char out[64])
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++) {
        if (!(mask & router_methods[i].method))
            continue;
        size_t len = strlen(router_methods[i].name);
        if (used + len + 3 >= 64)
            break;
        if (used) {
            memcpy(out + used, ", ", 2);
            used += 2;
        }
        memcpy(out + used, router_methods[i].name, len);
        used += len;
        out[used] = '\0';
    }
}

bool http_path_is_safe(const char *path)
{
    if (path[0] != '/')
        return false;
    const char *seg = path + 1;
    for (const char *p = path + 1;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(p - seg);
            if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (len == 0 && c == '/')
                return false;
            if (c == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
    }
}
