/* Forgot password (issue: Team §9): a mailed link with a token (256 random bits, stored as a keyed
 * hash) valid for one hour and usable once. The request answers the same whether or not the address
 * has an account; a completed reset ends every session of the user. */
#ifndef AT_RESET_H
#define AT_RESET_H

#include "store/store.h"

#include <stddef.h>

enum { RESET_TTL_S = 3600, RESET_MAX_PER_HOUR = 3 };

/* reset_request mails a link when the address belongs to an enabled account (at most
 * RESET_MAX_PER_HOUR a hour per account); otherwise does nothing. Returns AT_OK either way unless
 * the store fails. */
int reset_request(store *s, const char *email, size_t len);
/* reset_complete sets the password of the token's user and ends all their sessions. AT_EINVAL when the
 * token is unknown, used or expired. The caller has applied the password policy. */
int reset_complete(store *s, const char *token, const char *password, size_t len);
/* reset_email_of finds the email of a live token (for the policy check); AT_EINVAL when none. */
int reset_email_of(store *s, const char *token, char email[256], char name[512]);

#endif
