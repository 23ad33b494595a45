/* Sign-in with brute-force protection (reliability.md §6.3): a per-IP limit on attempts per minute
 * (429 with Retry-After), and a per-account lock that grows with each failure past a threshold and
 * lapses on its own (never permanent). A locked account, an unknown email, a disabled account and a
 * wrong password all answer alike, and take about the same time (an Argon2 verification each). */
#ifndef AT_LOGIN_H
#define AT_LOGIN_H

#include "auth/sessions.h"

/* login_rate_hit counts one attempt in the minute window of `bucket` (e.g. "login:IP"); returns
 * AT_ELIMIT with *retry_after_s when more than `limit` attempts fall in the window. */
int login_rate_hit(store *s, const char *bucket, int limit, int64_t *retry_after_s);

/* login_password checks the credentials and, when they are right and the account usable, starts a
 * session. Returns AT_OK, AT_EUNAUTH for every kind of refusal, or a store error. */
int login_password(store *s, const char *email, size_t email_len, const char *password, size_t password_len,
                   const char *ip, const char *user_agent, auth_user *user_out, auth_session *session_out,
                   char token_out[SESSION_TOKEN_MAX]);

/* login_check_current is the one check of a signed-in user's current password, whatever asks for it
 * (/me/password, an email change): each check counts in the user's "password:" window first (AT_ELIMIT
 * with *retry_after_s past the sign-in limit a minute), then the stored hash is read outside any
 * transaction and verified. Returns AT_OK with the verified hash in hash_out (the caller re-checks in
 * its write transaction that it did not change), AT_EUNAUTH for a wrong password, or a store error. */
int login_check_current(store *s, const char *user_id, const char *password, size_t len,
                        char hash_out[PASSWORD_HASH_MAX], int64_t *retry_after_s);

#endif
