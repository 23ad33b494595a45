/* Password reset by mailed token. */
#include "auth/reset.h"

#include "auth/users.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/err.h"
#include "mail/mail.h"

#include <stdio.h>
#include <string.h>

typedef struct reset_req {
    const char *email;
} reset_req;

static int reset_request_tx(store_conn *c, void *ctx)
{
    reset_req *x = ctx;
    auth_user u;
    int64_t now = clock_now_us(), recent = 0;
    int rc = users_find_by_email(c, x->email, &u, NULL);
    if (rc == AT_ENOTFOUND || (rc == AT_OK && u.disabled))
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    store_arg count[] = {sa_text(u.id), sa_int(now - 3600LL * 1000000)};
    rc = store_query_int(c, "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at > $2", count, 2,
                         &recent);
    if (rc != AT_OK || recent >= RESET_MAX_PER_HOUR)
        return rc;
    char id[ID_MAX], token[64], hash[CRYPTO_DIGEST_HEX], link[700], expires[32];
    id_new("pwr", id);
    crypto_token(32, token, sizeof(token));
    crypto_keyed_hex(token, strlen(token), hash);
    int64_t exp = now + RESET_TTL_S * 1000000LL;
    store_arg args[] = {sa_text(id), sa_text(u.id), sa_text(hash), sa_int(exp), sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO password_resets (id, user_id, token_hash, expires_at, created_at) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    args, 5, NULL);
    snprintf(link, sizeof(link), "%s/reset-password/%s", config_public_url(), token);
    clock_format_rfc3339(exp, expires);
    json_t *vars = json_pack("{s:s, s:s, s:s}", "name", u.name, "link", link, "expires", expires);
    mail_request m = {NULL, u.email, u.name, "password_reset", vars, NULL};
    if (rc == AT_OK)
        rc = mail_enqueue(c, &m, NULL);
    json_decref(vars);
    memset(token, 0, sizeof(token));
    return rc;
}

int reset_request(store *s, const char *email, size_t len)
{
    char normal[USER_EMAIL_MAX + 1];
    if (users_normalize_email(email, len, normal) != AT_OK)
        return AT_OK;
    reset_req x = {normal};
    return store_tx(s, true, reset_request_tx, &x);
}

/* Finds the live reset of a token on c; fills the user id. */
static int reset_find(store_conn *c, const char *token, bool for_update, char id[ID_MAX], char user_id[ID_MAX])
{
    char hash[CRYPTO_DIGEST_HEX];
    store_rows *r = NULL;
    if (!token || strlen(token) < 32 || strlen(token) > 60)
        return AT_EINVAL;
    crypto_keyed_hex(token, strlen(token), hash);
    store_arg args[] = {sa_text(hash), sa_int(clock_now_us())};
    int rc = store_query(c,
                         for_update ? "SELECT id, user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL "
                                      "AND expires_at > $2 FOR UPDATE"
                                    : "SELECT id, user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL "
                                      "AND expires_at > $2",
                         args, 2, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        snprintf(id, ID_MAX, "%s", store_rows_text(r, 0));
        snprintf(user_id, ID_MAX, "%s", store_rows_text(r, 1));
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_EINVAL;
    }
    store_rows_free(r);
    return rc;
}

int reset_email_of(store *s, const char *token, char email[256], char name[512])
{
    store_conn *c = NULL;
    char id[ID_MAX], user_id[ID_MAX];
    auth_user u;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = reset_find(c, token, false, id, user_id);
    if (rc == AT_OK)
        rc = users_find(c, user_id, &u, NULL);
    if (rc == AT_OK) {
        snprintf(email, 256, "%s", u.email);
        snprintf(name, 512, "%s", u.name);
    }
    store_release(c);
    return rc == AT_ENOTFOUND ? AT_EINVAL : rc;
}

typedef struct reset_done {
    const char *token, *password;
    size_t len;
} reset_done;

static int reset_complete_tx(store_conn *c, void *ctx)
{
    reset_done *x = ctx;
    char id[ID_MAX], user_id[ID_MAX];
    int rc = reset_find(c, x->token, true, id, user_id);
    if (rc != AT_OK)
        return rc;
    store_arg used[] = {sa_int(clock_now_us()), sa_text(id)};
    rc = store_exec(c, "UPDATE password_resets SET used_at = $1 WHERE id = $2", used, 2, NULL);
    /* A new password ends every session, the caller's included; they sign in again. */
    if (rc == AT_OK)
        rc = users_set_password(c, user_id, x->password, x->len, NULL);
    return rc;
}

int reset_complete(store *s, const char *token, const char *password, size_t len)
{
    reset_done x = {token, password, len};
    return store_tx(s, true, reset_complete_tx, &x);
}
