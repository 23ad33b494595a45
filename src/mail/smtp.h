/* SMTP delivery through libcurl (internal to src/mail): one message to one recipient, STARTTLS when
 * the server offers it (smtp://) or implicit TLS (smtps://), authentication when configured, and
 * bounded connect and total times. The caller has called curl_global_init (serve does, in main). */
#ifndef AT_MAIL_SMTP_H
#define AT_MAIL_SMTP_H

#include <stddef.h>

enum { MAIL_SMTP_ERR_MAX = 256, MAIL_SMTP_CONNECT_S = 10, MAIL_SMTP_TOTAL_S = 30 };

/* Where to deliver. Strings are borrowed for the call. */
typedef struct mail_smtp_target {
    const char *url;      /* smtp://host[:port] or smtps://host[:port] */
    const char *username; /* NULL or "": no authentication */
    const char *password;
} mail_smtp_target;

/* mail_smtp_send delivers (msg, len), a complete CRLF message, from the bare address from_addr to the
 * bare address to_addr. Returns AT_OK; AT_EINVAL when the URL is not smtp:// or smtps://; AT_EUNAVAIL
 * when delivery failed. On failure err receives curl's reason and the server's last reply code, with
 * the password (if it ever appeared) masked. Credentials are only ever sent over TLS: with a username
 * on smtp://, STARTTLS is required rather than merely tried. */
int mail_smtp_send(const mail_smtp_target *t, const char *from_addr, const char *to_addr, const char *msg, size_t len,
                   char err[MAIL_SMTP_ERR_MAX]);

#endif
