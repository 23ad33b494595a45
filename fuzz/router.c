/* libFuzzer target: the route matcher and the path safety check (src/http/router.c).
 *
 * Input: byte 0 picks the method (low 7 bits: a single HM_* bit is used as is, anything else selects
 * 1 << (b % 7)) and whether test routes are served (bit 7); the remaining bytes are the decoded path
 * (cut at the first NUL, as a C string would be).
 *
 * The harness carries its own reference matcher, written from the contract in http.h and the comment
 * atop router.c (segments split on '/', literal or `:name`, a parameter matches one non-empty
 * segment, first row in table order wins, HEAD is served by GET rows, AUTH_TEST rows only with
 * test_routes, more than HTTP_MAX_SEGMENTS segments match nothing), and a reference for
 * http_path_is_safe. Invariants asserted:
 *   - http_match returns 1, 0 or -1 and agrees with the reference: same row, same parameters;
 *   - 1: nparams <= HTTP_MAX_PARAMS, every name is the pattern's `:name`, every value is a non-empty
 *     substring of the path without '/';
 *   - -1: the 405 mask is non-empty, holds only HM_* bits, excludes the requested method, and equals
 *     the reference's mask;  0: no row, no params, empty mask;
 *   - http_allow_header of the mask is NUL-terminated within 64 bytes and lists each method once;
 *   - http_path_is_safe agrees with the reference.
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "base/arena.h"
#include "http/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz/router.c:%d: invariant failed: %s\n", __LINE__, #cond);                    \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static int h(http_req *req)
{
    (void)req;
    return 0;
}

/* A route table shaped like the API's: literals before parameters that could shadow them, several
 * methods on one pattern, a test-only row, the deepest pattern near the parameter limit. */
static const http_route api_rows[] = {
    {HM_GET, "/healthz", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/readyz", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/metrics", h, AUTH_OPERATOR, NULL, ACCESS_NONE, 0},
    {HM_GET, "/", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/system", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/session", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_DELETE, "/api/v1/session", h, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces", h, AUTH_USER, NULL, ACCESS_READ, 0},
    {HM_POST, "/api/v1/workspaces", h, AUTH_SESSION, NULL, ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/workspaces/current", h, AUTH_USER, "workspace", ACCESS_READ, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id", h, AUTH_USER, "workspace", ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id", h, AUTH_USER, "workspace", ACCESS_WRITE, 0},
    {HM_DELETE, "/api/v1/workspaces/:workspace_id", h, AUTH_SESSION, "workspace", ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/members", h, AUTH_USER, "members", ACCESS_READ, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/members/:member_id", h, AUTH_USER, "members", ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id/members/:member_id", h, AUTH_USER, "members", ACCESS_WRITE, 0},
    {HM_DELETE, "/api/v1/workspaces/:workspace_id/members/:member_id", h, AUTH_USER, "members", ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/invitations", h, AUTH_USER, "members", ACCESS_READ, 0},
    {HM_POST, "/api/v1/workspaces/:workspace_id/invitations", h, AUTH_USER, "members", ACCESS_WRITE, 0},
    {HM_POST, "/api/v1/workspaces/:workspace_id/invitations/:invitation_id/resend", h, AUTH_USER, "members",
     ACCESS_WRITE, 0},
    {HM_POST, "/api/v1/invitations/:token/accept", h, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/api-keys", h, AUTH_SESSION, "developer", ACCESS_READ, 0},
    {HM_POST, "/api/v1/workspaces/:workspace_id/api-keys", h, AUTH_SESSION, "developer", ACCESS_WRITE, 0},
    {HM_DELETE, "/api/v1/workspaces/:workspace_id/api-keys/:key_id", h, AUTH_SESSION, "developer", ACCESS_WRITE,
     0},
    {HM_PUT, "/api/v1/workspaces/:workspace_id/settings/:section", h, AUTH_USER, "settings", ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/webhooks/:webhook_id/deliveries/:delivery_id", h, AUTH_USER,
     "developer", ACCESS_READ, ROUTE_NO_CACHE_HEADERS},
    {HM_POST, "/api/v1/workspaces/:a/x/:b/y/:c/z/:d/w/:e/v/:f/u/:g/t/:h", h, AUTH_USER, NULL, ACCESS_WRITE, 0},
    {HM_OPTIONS, "/api/v1/:anything", h, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
};

static const http_route test_rows[] = {
    {HM_POST, "/api/v1/_test/clock", h, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/_test/reset", h, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/members/:member_id", h, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_PUT, "/api/v1/system", h, AUTH_TEST, NULL, ACCESS_NONE, 0},
};

static const http_route_table tables[] = {
    {api_rows, sizeof(api_rows) / sizeof(api_rows[0])},
    {test_rows, sizeof(test_rows) / sizeof(test_rows[0])},
};
enum { NTABLES = sizeof(tables) / sizeof(tables[0]) };

#define ALL_METHODS (HM_GET | HM_POST | HM_PUT | HM_PATCH | HM_DELETE | HM_HEAD | HM_OPTIONS)

/* ---------------------------------------------------------------------------------------------- */
/* Reference implementations                                                                       */
/* ---------------------------------------------------------------------------------------------- */

typedef struct ref_seg {
    size_t off, len; /* within the string */
} ref_seg;

/* Splits s (which must start with '/') into the segments between slashes; "/" has none. Returns the
 * count, or -1 past `max`. */
static int ref_split(const char *s, ref_seg *out, int max)
{
    size_t n = strlen(s);
    if (n == 1)
        return 0;
    int count = 0;
    size_t start = 1;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (count == max)
                return -1;
            out[count].off = start;
            out[count].len = i - start;
            count++;
            start = i + 1;
        }
    }
    return count;
}

typedef struct ref_result {
    int rc;
    const http_route *row;
    int nparams;
    char names[HTTP_MAX_PARAMS][64];
    char values[HTTP_MAX_PARAMS][4096];
    int mask;
} ref_result;

static void ref_match(int method, const char *path, bool test_routes, ref_result *res)
{
    ref_seg ps[HTTP_MAX_SEGMENTS + 1], rs[HTTP_MAX_SEGMENTS + 1];
    int want = method == HM_HEAD ? HM_GET : method;
    memset(res, 0, sizeof(*res));
    if (path[0] != '/')
        return;
    int np = ref_split(path, ps, HTTP_MAX_SEGMENTS);
    if (np < 0)
        return;
    for (size_t t = 0; t < NTABLES; t++) {
        for (size_t r = 0; r < tables[t].count; r++) {
            const http_route *row = &tables[t].rows[r];
            if (row->auth == AUTH_TEST && !test_routes)
                continue;
            int nr = ref_split(row->pattern, rs, HTTP_MAX_SEGMENTS);
            if (nr != np)
                continue;
            int k = 0, ok = 1;
            for (int i = 0; i < nr && ok; i++) {
                const char *pat = row->pattern + rs[i].off;
                const char *seg = path + ps[i].off;
                if (pat[0] == ':') {
                    if (ps[i].len == 0 || k == HTTP_MAX_PARAMS) {
                        ok = 0;
                        break;
                    }
                    snprintf(res->names[k], sizeof(res->names[k]), "%.*s", (int)rs[i].len - 1, pat + 1);
                    snprintf(res->values[k], sizeof(res->values[k]), "%.*s", (int)ps[i].len, seg);
                    k++;
                } else {
                    ok = rs[i].len == ps[i].len && memcmp(pat, seg, ps[i].len) == 0;
                }
            }
            if (!ok)
                continue;
            if (row->method == want) {
                res->rc = 1;
                res->row = row;
                res->nparams = k;
                return;
            }
            res->mask |= row->method;
        }
    }
    if (res->mask & HM_GET)
        res->mask |= HM_HEAD;
    res->rc = res->mask ? -1 : 0;
}

/* http_path_is_safe's contract: starts with '/'; no "." or ".." segment; no empty segment except a
 * trailing one (so "/" and "/a/" pass, "//" and "/a//b" do not); no backslash, no byte below 0x20,
 * no DEL. */
static bool ref_path_is_safe(const char *path)
{
    if (path[0] != '/')
        return false;
    size_t n = strlen(path);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
    }
    static ref_seg segs[4096];
    size_t count = 0, start = 1;
    for (size_t i = 1; i <= n && count < sizeof(segs) / sizeof(segs[0]); i++) {
        if (i == n || path[i] == '/') {
            segs[count].off = start;
            segs[count].len = i - start;
            count++;
            start = i + 1;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const char *s = path + segs[i].off;
        size_t len = segs[i].len;
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        if (len == 0 && i + 1 < count)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    static const int methods[] = {HM_GET, HM_POST, HM_PUT, HM_PATCH, HM_DELETE, HM_HEAD, HM_OPTIONS};
    int b = data[0] & 0x7f;
    int method = (b && (b & (b - 1)) == 0 && (b & ALL_METHODS)) ? b : methods[b % 7];
    bool test_routes = (data[0] & 0x80) != 0;

    /* An exact-size heap copy (cut at the first NUL), so ASan sees any over-read. */
    size_t plen = strnlen((const char *)data + 1, size - 1);
    char *path = malloc(plen + 1);
    memcpy(path, data + 1, plen);
    path[plen] = '\0';

    /* 1. http_path_is_safe */
    bool safe = http_path_is_safe(path);
    if (safe != ref_path_is_safe(path)) {
        fprintf(stderr, "http_path_is_safe(\"%s\") = %d, reference says %d\n", path, safe, !safe);
        abort();
    }

    /* 2. http_match */
    arena a;
    arena_init(&a);
    const http_route *row = (const http_route *)1;
    const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
    int nparams = -1, mask = -1;
    int rc = http_match(tables, NTABLES, method, path, test_routes, &row, names, values, &nparams, &mask, &a);

    static ref_result ref; /* large; not on the stack */
    ref_match(method, path, test_routes, &ref);

    CHECK(rc == 1 || rc == 0 || rc == -1);
    if (rc != ref.rc || (rc == 1 && row != ref.row) || (rc == -1 && mask != ref.mask)) {
        fprintf(stderr, "http_match(%#x, \"%s\", test=%d) = %d (row %s, mask %#x); reference %d (row %s, mask %#x)\n",
                method, path, test_routes, rc, rc == 1 && row ? row->pattern : "-", mask, ref.rc,
                ref.row ? ref.row->pattern : "-", ref.mask);
        abort();
    }
    if (rc == 1) {
        CHECK(row != NULL);
        CHECK(row->method == method || (method == HM_HEAD && row->method == HM_GET));
        CHECK(test_routes || row->auth != AUTH_TEST);
        CHECK(nparams >= 0 && nparams <= HTTP_MAX_PARAMS);
        CHECK(nparams == ref.nparams);
        for (int i = 0; i < nparams; i++) {
            CHECK(names[i] != NULL && values[i] != NULL);
            CHECK(strcmp(names[i], ref.names[i]) == 0);
            CHECK(strcmp(values[i], ref.values[i]) == 0);
            CHECK(values[i][0] != '\0');
            CHECK(strchr(values[i], '/') == NULL);
            CHECK(strstr(path, values[i]) != NULL);
            /* the pattern holds ":name" as a whole segment */
            char colon[72];
            snprintf(colon, sizeof(colon), ":%s", names[i]);
            const char *at = strstr(row->pattern, colon);
            size_t cl = strlen(colon);
            CHECK(at != NULL && at[-1] == '/' && (at[cl] == '/' || at[cl] == '\0'));
        }
    } else {
        CHECK(row == NULL);
        CHECK(nparams == 0);
        if (rc == 0) {
            CHECK(mask == 0);
        } else {
            CHECK(mask != 0);
            CHECK((mask & ~ALL_METHODS) == 0);
            CHECK((mask & method) == 0);
        }
    }

    /* 3. http_allow_header over the mask (and over every mask, a cheap exhaustive check). */
    char allow[64];
    memset(allow, 0x55, sizeof(allow));
    http_allow_header(mask & ALL_METHODS, allow);
    CHECK(memchr(allow, '\0', sizeof(allow)) != NULL);
    static const char *mnames[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < 7; i++) {
        const char *hit = strstr(allow, mnames[i]);
        /* "PUT" is not a substring of any other name, nor is any other; each appears at most once */
        if (mask & methods[i])
            CHECK(hit != NULL && strstr(hit + 1, mnames[i]) == NULL);
        else
            CHECK(hit == NULL);
    }

    arena_free(&a);
    free(path);
    return 0;
}
