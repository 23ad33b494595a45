/* Unit tests of the router engine (src/http/router.c). */
#include "http/http.h"

#include <criterion/criterion.h>
#include <string.h>

static int router_dummy(http_req *req)
{
    (void)req;
    return 0;
}

static const http_route rows_a[] = {
    {HM_GET, "/healthz", router_dummy, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/me/sessions", router_dummy, AUTH_SESSION, NULL, ACCESS_READ, 0},
    {HM_DELETE, "/api/v1/me/sessions", router_dummy, AUTH_SESSION, NULL, ACCESS_WRITE, 0},
    {HM_DELETE, "/api/v1/me/sessions/:session_id", router_dummy, AUTH_SESSION, NULL, ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/members/:member_id", router_dummy, AUTH_USER, "team", ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id/members/:member_id", router_dummy, AUTH_USER, "team", ACCESS_WRITE, 0},
};
static const http_route rows_b[] = {
    {HM_POST, "/api/v1/test/clock", router_dummy, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_GET, "/", router_dummy, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
};
static const http_route_table tables[] = {{rows_a, 6}, {rows_b, 2}};

typedef struct match_result {
    int rc;
    const http_route *route;
    const char *names[HTTP_MAX_PARAMS];
    const char *values[HTTP_MAX_PARAMS];
    int n;
    int allow;
} match_result;

static arena test_arena;

static match_result run(int method, const char *path, bool test_routes)
{
    match_result m;
    memset(&m, 0, sizeof(m));
    m.rc = http_match(tables, 2, method, path, test_routes, &m.route, m.names, m.values, &m.n, &m.allow, &test_arena);
    return m;
}

static void setup(void)
{
    arena_init(&test_arena);
}

static void teardown(void)
{
    arena_free(&test_arena);
}

TestSuite(router, .init = setup, .fini = teardown);

Test(router, literal_match)
{
    match_result m = run(HM_GET, "/healthz", false);
    cr_assert_eq(m.rc, 1);
    cr_assert_eq(m.route, &rows_a[0]);
    cr_assert_eq(m.n, 0);
}

Test(router, params_are_extracted)
{
    match_result m = run(HM_PATCH, "/api/v1/workspaces/ws_1/members/mem_2", false);
    cr_assert_eq(m.rc, 1);
    cr_assert_eq(m.route, &rows_a[5]);
    cr_assert_eq(m.n, 2);
    cr_assert_str_eq(m.names[0], "workspace_id");
    cr_assert_str_eq(m.values[0], "ws_1");
    cr_assert_str_eq(m.names[1], "member_id");
    cr_assert_str_eq(m.values[1], "mem_2");
}

Test(router, wrong_method_gives_allow_mask)
{
    match_result m = run(HM_POST, "/api/v1/me/sessions", false);
    cr_assert_eq(m.rc, -1);
    cr_assert_eq(m.allow, HM_GET | HM_DELETE | HM_HEAD);
    char text[64];
    http_allow_header(m.allow, text);
    cr_assert_str_eq(text, "GET, DELETE, HEAD");
}

Test(router, head_uses_get_rows)
{
    match_result m = run(HM_HEAD, "/healthz", false);
    cr_assert_eq(m.rc, 1);
    cr_assert_eq(m.route, &rows_a[0]);
}

Test(router, unknown_paths_do_not_match)
{
    cr_assert_eq(run(HM_GET, "/healthz/", false).rc, 0);
    cr_assert_eq(run(HM_GET, "/api/v1/me/sessions/", false).rc, -1 + 1); /* empty param segment: no match */
    cr_assert_eq(run(HM_GET, "/api/v1/workspaces//members/x", false).rc, 0);
    cr_assert_eq(run(HM_GET, "nothing", false).rc, 0);
    cr_assert_eq(run(HM_GET, "", false).rc, 0);
    cr_assert_eq(run(HM_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", false).rc, 0);
}

Test(router, root_path)
{
    cr_assert_eq(run(HM_GET, "/", false).rc, 1);
}

Test(router, test_rows_only_in_test_mode)
{
    cr_assert_eq(run(HM_POST, "/api/v1/test/clock", false).rc, 0);
    cr_assert_eq(run(HM_POST, "/api/v1/test/clock", true).rc, 1);
}

Test(router, methods_by_name)
{
    cr_assert_eq(http_method_from_name("GET"), HM_GET);
    cr_assert_eq(http_method_from_name("PATCH"), HM_PATCH);
    cr_assert_eq(http_method_from_name("get"), 0);
    cr_assert_eq(http_method_from_name("BREW"), 0);
}

Test(router, path_safety)
{
    cr_assert(http_path_is_safe("/"));
    cr_assert(http_path_is_safe("/assets/app-1234.js"));
    cr_assert(http_path_is_safe("/settings/security"));
    cr_assert_not(http_path_is_safe("/../etc/passwd"));
    cr_assert_not(http_path_is_safe("/assets/../../etc/passwd"));
    cr_assert_not(http_path_is_safe("/assets/./x.js"));
    cr_assert_not(http_path_is_safe("/assets/.."));
    cr_assert_not(http_path_is_safe("/a//b"));
    cr_assert_not(http_path_is_safe("/a\\b"));
    cr_assert_not(http_path_is_safe("/a\x7f" "b"));
    cr_assert_not(http_path_is_safe("/a\x01"));
    cr_assert_not(http_path_is_safe("relative"));
    cr_assert(http_path_is_safe("/a/.hidden"));
    cr_assert(http_path_is_safe("/a/...b"));
}

Test(router, status_mapping)
{
    cr_assert_eq(http_status_for(0), 200);
    cr_assert_eq(http_status_for(-2), 404);
    cr_assert_eq(http_status_for(-3), 409);
    cr_assert_eq(http_status_for(-4), 503);
    cr_assert_eq(http_status_for(-10), 422);
    cr_assert_eq(http_status_for(-13), 429);
    cr_assert_eq(http_status_for(-999), 500);
}
