/* The one email-address rule of Atrium: every path that takes an address from a person (sign-up,
 * invitations, a profile email change, forgot-password, `atrium user add`) checks and normalises it
 * here, so an address one path accepts is never refused by another (issue 12, item 9).
 *
 * An acceptable address is what the mail layer can deliver to: ASCII only (internationalised
 * addresses need SMTPUTF8, which we do not send), a dot-atom local part of 1..64 characters, and a
 * host name of at least two labels (letters, digits and inner hyphens, 1..63 each). Quoted local
 * parts, address literals such as `a@[127.0.0.1]`, comments and display names are refused. The
 * whole address is at most EMAIL_MAX bytes. Normalising lower-cases ASCII letters; nothing is
 * trimmed. */
#ifndef AT_EMAIL_H
#define AT_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

enum { EMAIL_MAX = 254 };

/* email_normalize writes the lower-cased address into out when (s, len) is acceptable and returns
 * AT_OK; otherwise returns AT_EINVAL and leaves out as an empty string. */
int email_normalize(const char *s, size_t len, char out[EMAIL_MAX + 1]);
/* email_valid reports whether (s, len) is acceptable. */
bool email_valid(const char *s, size_t len);
/* email_is_atext reports whether c is RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~. */
bool email_is_atext(unsigned char c);
/* email_host_valid reports whether (d, len) is a host name: labels of 1..63 letters, digits and inner
 * hyphens separated by single dots, at most 253 bytes; with require_dot, two labels at least. A
 * bracketed address literal has '[' and so fails. */
bool email_host_valid(const char *d, size_t len, bool require_dot);
/* email_check is the jsonv string check (jv_string_check): NULL when acceptable, else why not. */
const char *email_check(const char *s, size_t len);

#endif
