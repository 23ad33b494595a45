/* Names of the shared status codes. */
#include "base/err.h"

const char *at_status_name(int status)
{
    switch (status) {
    case AT_OK: return "ok";
    case AT_EINVAL: return "invalid";
    case AT_ENOTFOUND: return "not_found";
    case AT_ECONFLICT: return "conflict";
    case AT_EBUSY: return "busy";
    case AT_ESTORE: return "store_error";
    case AT_EFORBIDDEN: return "forbidden";
    case AT_EUNAUTH: return "unauthenticated";
    case AT_EPRECOND: return "precondition_failed";
    case AT_ETOOBIG: return "too_big";
    case AT_ECONSTRAINT: return "constraint";
    case AT_EUNAVAIL: return "unavailable";
    case AT_EINTERNAL: return "internal";
    case AT_ELIMIT: return "rate_limited";
    case AT_ENOSPACE: return "no_space";
    default: return "unknown";
    }
}
