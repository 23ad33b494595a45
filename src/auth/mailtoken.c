/* Mailed-link tokens (mailtoken.h). */
#include "auth/mailtoken.h"

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"

#include <string.h>

void mailtoken_new(char token[MAILTOKEN_MAX], char hash[CRYPTO_DIGEST_HEX])
{
    crypto_token(32, token, MAILTOKEN_MAX);
    crypto_keyed_hex(token, strlen(token), hash);
}

int mailtoken_hash(const char *token, char hash[CRYPTO_DIGEST_HEX])
{
    size_t len = token ? strnlen(token, MAILTOKEN_MAX) : 0;
    if (len < 32 || len >= MAILTOKEN_MAX)
        return AT_EINVAL;
    crypto_keyed_hex(token, len, hash);
    return AT_OK;
}

int mailtoken_query(store_conn *c, const char *sql, const char *token, store_arg *args, size_t nargs, store_rows **r)
{
    char hash[CRYPTO_DIGEST_HEX];
    int rc = 0;
    *r = NULL;
    for (int n = 0; rc == 0 && crypto_keyed_hex_nth(n, token, strlen(token), hash); n++) {
        store_rows_free(*r);
        *r = NULL;
        args[0] = sa_text(hash);
        if ((rc = store_query(c, sql, args, nargs, r)) != AT_OK)
            break;
        rc = store_rows_next(*r);
    }
    if (rc != 1) {
        store_rows_free(*r);
        *r = NULL;
    }
    return rc;
}

char *mailtoken_link(const char *page, const char *token)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "%s/%s/%s", config_public_url(), page, token);
    return buf_steal(&b, NULL);
}
