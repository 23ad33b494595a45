/* The guard that runs before every handler: it decides from the route row alone whether the caller
 * may proceed (DESIGN.md §2). Public and test rows pass; operator rows (metrics) answer only on
 * loopback, and 404 elsewhere, so the endpoint is not advertised. */
#include "api/api.h"

#include "base/err.h"

#include <string.h>

static bool guard_is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

int api_guard(http_req *req)
{
    switch (req->route->auth) {
    case AUTH_PUBLIC:
    case AUTH_TEST:
        return AT_OK;
    case AUTH_OPERATOR:
        if (guard_is_loopback(req->client_ip))
            return AT_OK;
        http_reply_status(req, AT_ENOTFOUND);
        return AT_ENOTFOUND;
    default:
        http_reply_status(req, AT_EUNAUTH);
        return AT_EUNAUTH;
    }
}
