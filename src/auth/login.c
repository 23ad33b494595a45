/* Sign-in: per-IP windows, per-account growing locks, constant-shape answers. */
#include "auth/login.h"

#include "base/clock.h"
#include "base/config.h"
#include "base/counters.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

typedef struct login_rate {
    const char *bucket;
    int64_t now;
    int64_t hits;
    int64_t window_start;
} login_rate;

static int login_rate_tx(store_conn *c, void *ctx)
{
    login_rate *lr = ctx;
    store_rows *r = NULL;
    store_arg args[] = {sa_text(lr->bucket), sa_int(lr->now), sa_int(lr->now - 60 * 1000000LL)};
    int rc = store_query(c,
                         "INSERT INTO rate_windows (bucket, window_start, hits) VALUES ($1, $2, 1) "
                         "ON CONFLICT (bucket) DO UPDATE SET "
                         "hits = CASE WHEN rate_windows.window_start > $3 THEN rate_windows.hits + 1 ELSE 1 END, "
                         "window_start = CASE WHEN rate_windows.window_start > $3 THEN rate_windows.window_start "
                         "ELSE $2 END RETURNING hits, window_start",
                         args, 3, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        lr->hits = store_rows_int(r, 0);
        lr->window_start = store_rows_int(r, 1);
        rc = AT_OK;
    } else {
        rc = rc == 0 ? AT_EINTERNAL : rc;
    }
    store_rows_free(r);
    return rc;
}

int login_rate_hit(store *s, const char *bucket, int limit, int64_t *retry_after_s)
{
    login_rate lr = {bucket, clock_now_us(), 0, 0};
    int rc = store_tx(s, true, login_rate_tx, &lr);
    if (rc != AT_OK)
        return rc;
    if (lr.hits > limit) {
        counters_inc_prefix(COUNTER_RATE_LIMITED, bucket);
        int64_t wait_us = lr.window_start + 60 * 1000000LL - lr.now;
        *retry_after_s = wait_us <= 0 ? 1 : (wait_us + 999999) / 1000000;
        return AT_ELIMIT;
    }
    return AT_OK;
}

/* Account state read before the password is checked. */
typedef struct login_account {
    auth_user user;
    char hash[PASSWORD_HASH_MAX];
    int64_t failed_logins;
    int64_t last_failed_at;
    int64_t locked_until;
} login_account;

static int login_load(store *s, const char *email, login_account *a)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = users_find_by_email(c, email, &a->user, a->hash);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(a->user.id)};
    rc = store_query(c, "SELECT failed_logins, last_failed_at, locked_until FROM users WHERE id = $1", args, 1, &r);
    if (rc != AT_OK)
        goto out;
    if (store_rows_next(r) == 1) {
        a->failed_logins = store_rows_int(r, 0);
        a->last_failed_at = store_rows_is_null(r, 1) ? 0 : store_rows_int(r, 1);
        a->locked_until = store_rows_is_null(r, 2) ? 0 : store_rows_int(r, 2);
    }
out:
    store_rows_free(r);
    store_release(c);
    return rc;
}

typedef struct login_failure {
    const char *user_id;
    int64_t now;
    bool locked; /* OUT: this failure locked the account (or extended its lock) */
} login_failure;

/* Counts a failure; past the threshold the lock grows by one step per failure up to the maximum.
 * The count restarts when the previous failure is older than the reset period. The row is read and
 * written in one write transaction (FOR UPDATE on PostgreSQL), so concurrent failures all count. */
static int login_failure_tx(store_conn *c, void *ctx)
{
    login_failure *f = ctx;
    const config *cfg = config_get();
    f->locked = false; /* a retried transaction decides afresh */
    store_rows *r = NULL;
    store_arg id[] = {sa_text(f->user_id)};
    int rc = store_query(c, "SELECT failed_logins, last_failed_at, locked_until FROM users WHERE id = $1 FOR UPDATE",
                         id, 1, &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) != 1) {
        store_rows_free(r);
        return rc == 0 ? AT_ENOTFOUND : rc;
    }
    int64_t failures = store_rows_int(r, 0);
    int64_t last = store_rows_is_null(r, 1) ? 0 : store_rows_int(r, 1);
    int64_t locked_until = store_rows_is_null(r, 2) ? 0 : store_rows_int(r, 2);
    store_rows_free(r);
    /* A failure that lands while the account is already locked (a concurrent guess that queued for the
     * hash before the lock existed) does not count and does not extend the lock. */
    if (locked_until > f->now)
        return AT_OK;
    if (last < f->now - (int64_t)cfg->lockout_reset_s * 1000000)
        failures = 0;
    failures++;
    if (failures >= cfg->lockout_threshold) {
        int64_t lock = (int64_t)cfg->lockout_step_s * (1 + failures - cfg->lockout_threshold);
        if (lock > cfg->lockout_max_s)
            lock = cfg->lockout_max_s;
        locked_until = f->now + lock * 1000000;
        f->locked = true;
    }
    store_arg args[] = {sa_int(failures), sa_int(f->now), locked_until ? sa_int(locked_until) : sa_null(),
                        sa_text(f->user_id)};
    return store_exec(c, "UPDATE users SET failed_logins = $1, last_failed_at = $2, locked_until = $3 WHERE id = $4",
                      args, 4, NULL);
}

typedef struct login_success {
    login_account *account;
    const char *rehash; /* a new hash made before the transaction, or NULL */
    const char *ip;
    const char *user_agent;
    auth_session *session;
    char *token;
} login_success;

static int login_success_tx(store_conn *c, void *ctx)
{
    login_success *ls = ctx;
    store_arg args[] = {sa_text(ls->account->user.id)};
    store_rows *r = NULL;
    /* The lock is checked again under the row lock: the right password that queued behind guesses
     * which locked the account meanwhile is refused like any other attempt during a lock. */
    int rc = store_query(c, "SELECT locked_until, password_hash FROM users WHERE id = $1 FOR UPDATE", args, 1, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    /* A password changed since it was verified (outside this transaction) voids that verification. */
    bool locked = rc == 1 && ((!store_rows_is_null(r, 0) && store_rows_int(r, 0) > clock_now_us()) ||
                              strcmp(store_rows_text(r, 1), ls->account->hash) != 0);
    store_rows_free(r);
    if (rc < 0)
        return rc;
    if (locked || rc == 0)
        return AT_EUNAUTH;
    rc = store_exec(c, "UPDATE users SET failed_logins = 0, last_failed_at = NULL, locked_until = NULL WHERE id = $1",
                        args, 1, NULL);
    if (rc == AT_OK && ls->rehash) {
        /* Only over the hash just verified: a password changed meanwhile stays changed. */
        store_arg rh[] = {sa_text(ls->rehash), sa_text(ls->account->user.id), sa_text(ls->account->hash)};
        rc = store_exec(c, "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3", rh, 3, NULL);
    }
    if (rc == AT_OK)
        rc = sessions_create(c, ls->account->user.id, ls->ip, ls->user_agent, ls->token, ls->session);
    return rc;
}

/* The lookup key of a typed sign-in address: lower-cased ASCII, bounded. Sign-in looks an address up
 * rather than accepting a new one, so an account stored before the one validator can still sign in. */
static int login_lookup_key(const char *email, size_t len, char out[USER_EMAIL_MAX + 1])
{
    if (len == 0 || len > USER_EMAIL_MAX || memchr(email, '\0', len))
        return AT_EINVAL;
    for (size_t i = 0; i < len; i++)
        out[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
    out[len] = '\0';
    return AT_OK;
}

int login_password(store *s, const char *email, size_t email_len, const char *password, size_t password_len,
                   const char *ip, const char *user_agent, auth_user *user_out, auth_session *session_out,
                   char token_out[SESSION_TOKEN_MAX])
{
    char normal[USER_EMAIL_MAX + 1], new_hash[PASSWORD_HASH_MAX];
    login_account a;
    bool rehash = false;
    int64_t now = clock_now_us();

    memset(&a, 0, sizeof(a));
    if (login_lookup_key(email, email_len, normal) != AT_OK) {
        password_burn(password, password_len);
        counters_inc(COUNTER_SIGNIN_FAILURES, "unknown");
        return AT_EUNAUTH;
    }
    int rc = login_load(s, normal, &a);
    if (rc == AT_ENOTFOUND || (rc == AT_OK && a.locked_until > now)) {
        /* Unknown and locked accounts cost a verification too, and failures while locked do not count. */
        password_burn(password, password_len);
        counters_inc(COUNTER_SIGNIN_FAILURES, rc == AT_ENOTFOUND ? "unknown" : "locked");
        return AT_EUNAUTH;
    }
    if (rc != AT_OK)
        return rc;
    if (!password_verify(a.hash, password, password_len, &rehash)) {
        login_failure f = {a.user.id, now, false};
        rc = store_tx(s, true, login_failure_tx, &f);
        counters_inc(COUNTER_SIGNIN_FAILURES, "password");
        if (rc == AT_OK && f.locked)
            counters_inc(COUNTER_LOCKOUTS, NULL);
        return rc == AT_OK ? AT_EUNAUTH : rc;
    }
    if (a.user.disabled) {
        counters_inc(COUNTER_SIGNIN_FAILURES, "disabled");
        return AT_EUNAUTH;
    }
    /* Argon2 runs before the write transaction, never inside it (issue 12, item 5). */
    if (rehash && password_hash(password, password_len, new_hash) != AT_OK)
        rehash = false;
    login_success ls = {&a, rehash ? new_hash : NULL, ip, user_agent, session_out, token_out};
    rc = store_tx(s, true, login_success_tx, &ls);
    if (rc == AT_OK)
        *user_out = a.user;
    else if (rc == AT_EUNAUTH)
        counters_inc(COUNTER_SIGNIN_FAILURES, "locked");
    return rc;
}

int login_check_current(store *s, const char *user_id, const char *password, size_t len,
                        char hash_out[PASSWORD_HASH_MAX], int64_t *retry_after_s)
{
    store_conn *c = NULL;
    auth_user u;
    char bucket[16 + ID_MAX];
    snprintf(bucket, sizeof(bucket), "password:%s", user_id);
    int rc = login_rate_hit(s, bucket, config_get()->login_ip_per_minute, retry_after_s);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_acquire(s, &c)) != AT_OK)
        return rc;
    rc = users_find(c, user_id, &u, hash_out);
    store_release(c);
    if (rc != AT_OK)
        return rc;
    return password_verify(hash_out, password, len, NULL) ? AT_OK : AT_EUNAUTH;
}
