/* Browser sessions (DESIGN.md §5): a 256-bit random token in an HttpOnly cookie, stored only as its
 * keyed hash; idle and absolute expiry on the program clock; a public `ses_` id for listing and ending
 * sessions; and a CSRF token derived from the session token, so it needs no storage. */
#ifndef AT_SESSIONS_H
#define AT_SESSIONS_H

#include "auth/users.h"
#include "base/crypto.h"
#include "store/store.h"

#include <jansson.h>

enum { SESSION_TOKEN_MAX = 64, SESSION_CSRF_MAX = CRYPTO_DIGEST_HEX };

typedef struct auth_session {
    char id[ID_MAX];
    char user_id[ID_MAX];
    int64_t created_at;
    int64_t expires_at; /* the earlier of the idle and absolute expiry */
} auth_session;

/* sessions_create starts a session for user_id on c (inside the caller's transaction) and writes the
 * new secret token into token_out; ip and user_agent are recorded for the session list. */
int sessions_create(store_conn *c, const char *user_id, const char *ip, const char *user_agent,
                    char token_out[SESSION_TOKEN_MAX], auth_session *out);
/* sessions_resolve finds the live session of a token and its enabled user, extending the idle expiry
 * (at most once a minute, to keep reads cheap). AT_EUNAUTH when the token is unknown, ended, expired,
 * or its user is disabled. */
int sessions_resolve(store *s, const char *token, const char *ip, auth_session *out, auth_user *user_out);
/* sessions_list returns a new array of the user's live sessions, newest use first, marking current_id. */
int sessions_list(store *s, const char *user_id, const char *current_id, json_t **out);
/* sessions_end ends one session of the user (AT_ENOTFOUND if it is not theirs or not live). */
int sessions_end(store *s, const char *user_id, const char *session_id);
/* sessions_end_others ends every live session of the user but keep_id; *ended gets the count. */
int sessions_end_others(store *s, const char *user_id, const char *keep_id, int64_t *ended);
/* sessions_csrf derives the CSRF token of a session token. */
void sessions_csrf(const char *token, char out[SESSION_CSRF_MAX]);
/* sessions_csrf_ok checks a CSRF token sent with a request (NULL: none) against the session token,
 * under the key the sent token was derived with (it names it, as every keyed digest does). */
bool sessions_csrf_ok(const char *token, const char *sent);

#endif
