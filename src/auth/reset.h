/* Forgot password (issue: Team §9): a mailed link with a token (256 random bits, stored as a keyed
 * hash) valid for one hour and usable once. The request answers the same whether or not the address
 * has an account; a completed reset is a password change like any other (users_password_commit): it
 * voids every other outstanding link of the user and ends all their sessions. */
#ifndef AT_RESET_H
#define AT_RESET_H

#include "base/arena.h"
#include "store/store.h"

#include <stddef.h>

enum { RESET_TTL_S = 3600, RESET_MAX_PER_HOUR = 3 };

/* reset_request mails a link when the address belongs to an enabled account (at most
 * RESET_MAX_PER_HOUR a hour per account); otherwise does nothing. The caller has checked the address
 * with email_check. Returns AT_OK either way unless the store fails, so the answer never tells
 * whether the account exists. */
int reset_request(store *s, const char *email, size_t len);
/* reset_complete hashes the password (before any transaction), then in one transaction uses the
 * token and commits the change. AT_EINVAL when the token is unknown, used or expired. The caller has
 * applied the password policy. */
int reset_complete(store *s, const char *token, const char *password, size_t len);
/* reset_email_of finds the email and name of a live token's user (for the policy check), as strings
 * allocated in a (owned by the caller's arena); AT_EINVAL when the token is not live. */
int reset_email_of(store *s, const char *token, arena *a, char **email, char **name);

#endif
