/* The list of route tables, in matching order. Each API file owns one table; adding a file means
 * adding its table here. */
#include "api/api.h"

const http_route_table *api_tables(size_t *count)
{
    /* Built on first use: C cannot initialise a static array from other files' extern objects. */
    static http_route_table tables[3];
    tables[0] = api_system_routes;
    tables[1] = api_auth_routes;
    tables[2] = api_test_routes;
    *count = sizeof(tables) / sizeof(tables[0]);
    return tables;
}
