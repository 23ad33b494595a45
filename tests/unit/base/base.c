/* Unit tests of the small base modules: arena, buf, clock, id, config. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/id.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Test(arena, allocations_are_aligned_and_independent)
{
    arena a;
    arena_init(&a);
    char *p = arena_strdup(&a, "hello");
    void *big = arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    char *q = arena_printf(&a, "%s-%d", p, 42);
    cr_assert_str_eq(p, "hello");
    cr_assert_str_eq(q, "hello-42");
    for (int i = 0; i < 1000; i++) {
        void *x = arena_alloc(&a, (size_t)i + 1);
        cr_assert_eq((uintptr_t)x % _Alignof(max_align_t), 0);
    }
    cr_assert_str_eq(p, "hello");
    arena_free(&a);
}

Test(buf, append_and_steal)
{
    buf b;
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    cr_assert_eq(b.data[b.len], '\0');
    cr_assert(strncmp(b.data, "0,1,2,", 6) == 0);
    size_t len;
    char *s = buf_steal(&b, &len);
    cr_assert_eq(strlen(s), len);
    cr_assert_null(b.data);
    free(s);
}

Test(clock, rfc3339_round_trip)
{
    int64_t us;
    cr_assert_eq(clock_parse_rfc3339("2026-11-28T00:35:56Z", 20, &us), AT_OK);
    cr_assert_eq(us, 1795826156LL * 1000000);
    char out[32];
    clock_format_rfc3339(us + 123456, out);
    cr_assert_str_eq(out, "2026-11-28T00:35:56.123456Z");
    cr_assert_eq(clock_parse_rfc3339("2026-11-28T02:35:56+02:00", 25, &us), AT_OK);
    cr_assert_eq(us, 1795826156LL * 1000000);
    cr_assert_eq(clock_parse_rfc3339("1970-01-01T00:00:00.5Z", 22, &us), AT_OK);
    cr_assert_eq(us, 500000);
}

Test(clock, rejects_bad_times)
{
    const char *bad[] = {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-28 00:35:56Z",
                         "2026-11-28T24:00:00Z", "2026-11-28T00:00:00",  "2026-11-28T00:00:00.Z",
                         "2026-11-28T00:00:00Zjunk", "abcd-11-28T00:00:00Z"};
    int64_t us;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(clock_parse_rfc3339(bad[i], strlen(bad[i]), &us), AT_EINVAL, "%s", bad[i]);
    cr_assert_eq(clock_parse_rfc3339("2024-02-29T00:00:00Z", 20, &us), AT_OK);
}

Test(clock, test_mode_moves_time)
{
    cr_assert_eq(clock_advance_us(1), AT_EFORBIDDEN);
    clock_enable_test();
    int64_t before = clock_now_us();
    cr_assert_eq(clock_advance_us(3600LL * 1000000), AT_OK);
    cr_assert_geq(clock_now_us() - before, 3600LL * 1000000);
    cr_assert_eq(clock_set_us(1000000), AT_OK);
    cr_assert_lt(clock_now_us(), 2000000);
}

Test(id, format_and_validation)
{
    char a[ID_MAX], b[ID_MAX];
    id_new("usr", a);
    id_new("usr", b);
    cr_assert_eq(strlen(a), 4 + 26);
    cr_assert(id_valid("usr", a, strlen(a)));
    cr_assert_str_neq(a, b);
    cr_assert_not(id_valid("ws", a, strlen(a)));
    cr_assert_not(id_valid("usr", "usr_01M8FSWQ8GG9XMJW09ZT6SQ0RU", 30)); /* U is not Crockford */
    cr_assert_not(id_valid("usr", "usr_81M8FSWQ8GG9XMJW09ZT6SQ0R0", 30)); /* overflows 128 bits */
    cr_assert_not(id_valid("usr", "usr_01M8FSWQ8GG9XMJW09ZT6SQ0R", 29));
}

Test(config, defaults_and_errors)
{
    config c;
    char err[512];
    unsetenv("ATRIUM_CONFIG");
    setenv("ATRIUM_LISTEN", "127.0.0.1:9123", 1);
    cr_assert_eq(config_load(&c, err), AT_OK);
    cr_assert_str_eq(c.listen_host, "127.0.0.1");
    cr_assert_eq(c.listen_port, 9123);
    cr_assert_eq(c.max_body_bytes, 1048576);
    cr_assert_eq(c.env, ENV_PRODUCTION);
    setenv("ATRIUM_LISTEN", "nonsense", 1);
    cr_assert_eq(config_load(&c, err), AT_EINVAL);
    cr_assert(strstr(err, "ATRIUM_LISTEN") != NULL);
    setenv("ATRIUM_LISTEN", "[::1]:80", 1);
    cr_assert_eq(config_load(&c, err), AT_OK);
    cr_assert_str_eq(c.listen_host, "::1");
    unsetenv("ATRIUM_LISTEN");
    setenv("ATRIUM_MAX_BODY_BYTES", "12x", 1);
    cr_assert_eq(config_load(&c, err), AT_EINVAL);
    cr_assert(strstr(err, "ATRIUM_MAX_BODY_BYTES") != NULL);
    unsetenv("ATRIUM_MAX_BODY_BYTES");
    setenv("ATRIUM_DATABASE_URL", "mysql://x", 1);
    cr_assert_eq(config_load(&c, err), AT_EINVAL);
    cr_assert(strstr(err, "ATRIUM_DATABASE_URL") != NULL);
    unsetenv("ATRIUM_DATABASE_URL");
}
