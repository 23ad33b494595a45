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

#endif
