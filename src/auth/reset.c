/* Password reset by mailed token. */
#include "auth/reset.h"

#include "auth/mailtoken.h"
#include "auth/users.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
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
    char id[ID_MAX], token[MAILTOKEN_MAX], hash[CRYPTO_DIGEST_HEX], expires[32];
    id_new("pwr", id);
    mailtoken_new(token, hash);
    int64_t exp = now + RESET_TTL_S * 1000000LL;
    store_arg args[] = {sa_text(id), sa_text(u.id), sa_text(hash), sa_int(exp), sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO password_resets (id, user_id, token_hash, expires_at, created_at) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    args, 5, NULL);
    char *link = mailtoken_link("reset-password", token);
    clock_format_rfc3339(exp, expires);
    json_t *vars = json_pack("{s:s, s:s, s:s}", "name", u.name, "link", link, "expires", expires);
    mail_request m = {NULL, u.email, u.name, "password_reset", vars, NULL};
    if (rc == AT_OK)
        rc = mail_enqueue(c, &m, NULL);
    json_decref(vars);
    xfree_secret(link, strlen(link));
    memset(token, 0, sizeof(token));
    return rc;
}

int reset_request(store *s, const char *email, size_t len)
{
    char normal[EMAIL_MAX + 1];
    if (email_normalize(email, len, normal) != AT_OK)
        return AT_OK;
    reset_req x = {normal};
    int rc = store_tx(s, true, reset_request_tx, &x);
    /* A stored address the mail layer refuses (made before the one validator) must not answer
     * differently from an unknown one. */
    return rc == AT_EINVAL ? AT_OK : rc;
}

/* Finds the live reset of a token on c; fills its id and the user id. */
static int reset_find(store_conn *c, const char *token, bool for_update, char id[ID_MAX], char user_id[ID_MAX])
{
    char hash[CRYPTO_DIGEST_HEX];
    store_rows *r = NULL;
    if (mailtoken_hash(token, hash) != AT_OK)
        return AT_EINVAL;
    store_arg args[] = {sa_text(NULL), sa_int(clock_now_us())};
    int rc = mailtoken_query(c,
                             for_update ? "SELECT id, user_id FROM password_resets WHERE token_hash = $1 AND used_at "
                                          "IS NULL AND expires_at > $2 FOR UPDATE"
                                        : "SELECT id, user_id FROM password_resets WHERE token_hash = $1 AND used_at "
                                          "IS NULL AND expires_at > $2",
                             token, args, 2, &r);
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

int reset_email_of(store *s, const char *token, arena *a, char **email, char **name)
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
        *email = arena_strdup(a, u.email);
        *name = arena_strdup(a, u.name);
    }
    store_release(c);
    return rc == AT_ENOTFOUND ? AT_EINVAL : rc;
}

typedef struct reset_done {
    const char *token, *hash;
} reset_done;

static int reset_complete_tx(store_conn *c, void *ctx)
{
    reset_done *x = ctx;
    char id[ID_MAX], user_id[ID_MAX];
    int rc = reset_find(c, x->token, true, id, user_id);
    if (rc != AT_OK)
        return rc;
    /* A new password ends every session, the caller's included; they sign in again. The token itself
     * is voided with every other one of the user. */
    return users_password_commit(c, user_id, x->hash, NULL);
}

int reset_complete(store *s, const char *token, const char *password, size_t len)
{
    char hash[PASSWORD_HASH_MAX], token_hash[CRYPTO_DIGEST_HEX];
    if (mailtoken_hash(token, token_hash) != AT_OK)
        return AT_EINVAL;
    int rc = password_hash(password, len, hash);
    if (rc != AT_OK)
        return rc;
    reset_done x = {token, hash};
    return store_tx(s, true, reset_complete_tx, &x);
}
