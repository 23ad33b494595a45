/* SMTP delivery through libcurl's easy interface (smtp.h). One easy handle per message: mail is rare
 * enough that connection reuse is not worth the state. */
#include "mail/smtp.h"

#include "base/err.h"
#include "mail/mime.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The message being uploaded: what is left of it. */
typedef struct smtp_src {
    const char *p;
    size_t left;
} smtp_src;

static size_t smtp_read(char *dst, size_t size, size_t nitems, void *userdata);
static void smtp_mask(char *s, const char *secret);

/* mail_smtp_send sets up one easy handle (the options are applied with a sticky error: the first
 * failing setopt stops the rest), performs the SMTP transaction and reports the outcome. */
int mail_smtp_send(const mail_smtp_target *t, const char *from_addr, const char *to_addr, const char *msg, size_t len,
                   char err[MAIL_SMTP_ERR_MAX])
{
    int rc = AT_EUNAVAIL;
    CURL *h = NULL;
    struct curl_slist *rcpt = NULL;
    char errbuf[CURL_ERROR_SIZE];
    char from[MAIL_ADDR_MAX + 3], to[MAIL_ADDR_MAX + 3];
    smtp_src src = {msg, len};
    errbuf[0] = '\0';
    err[0] = '\0';

    bool smtps = strncasecmp(t->url, "smtps://", 8) == 0;
    if (!smtps && strncasecmp(t->url, "smtp://", 7) != 0) {
        snprintf(err, MAIL_SMTP_ERR_MAX, "ATRIUM_SMTP_URL must start with smtp:// or smtps://");
        return AT_EINVAL;
    }
    bool auth = t->username && t->username[0];
    snprintf(from, sizeof from, "<%s>", from_addr);
    snprintf(to, sizeof to, "<%s>", to_addr);
    h = curl_easy_init();
    rcpt = curl_slist_append(NULL, to);
    if (!h || !rcpt) {
        snprintf(err, MAIL_SMTP_ERR_MAX, "cannot initialise libcurl");
        goto cleanup;
    }

    CURLcode cc = CURLE_OK;
#define SMTP_SET(opt, val)                                                                                             \
    do {                                                                                                               \
        if (cc == CURLE_OK)                                                                                            \
            cc = curl_easy_setopt(h, opt, val);                                                                        \
    } while (0)
    SMTP_SET(CURLOPT_ERRORBUFFER, errbuf);
    SMTP_SET(CURLOPT_URL, t->url);
    SMTP_SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SMTP_SET(CURLOPT_NOSIGNAL, 1L);
    SMTP_SET(CURLOPT_CONNECTTIMEOUT, (long)MAIL_SMTP_CONNECT_S);
    SMTP_SET(CURLOPT_TIMEOUT, (long)MAIL_SMTP_TOTAL_S);
    /* STARTTLS when offered; required when a password would otherwise cross the network in clear.
     * smtps:// is TLS from the first byte whatever this says. */
    SMTP_SET(CURLOPT_USE_SSL, (long)(smtps || auth ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (auth) {
        SMTP_SET(CURLOPT_USERNAME, t->username);
        SMTP_SET(CURLOPT_PASSWORD, t->password ? t->password : "");
    }
    SMTP_SET(CURLOPT_MAIL_FROM, from);
    SMTP_SET(CURLOPT_MAIL_RCPT, rcpt);
    SMTP_SET(CURLOPT_READFUNCTION, smtp_read);
    SMTP_SET(CURLOPT_READDATA, &src);
    SMTP_SET(CURLOPT_UPLOAD, 1L);
#undef SMTP_SET
    if (cc == CURLE_OK)
        cc = curl_easy_perform(h);
    if (cc == CURLE_OK) {
        rc = AT_OK;
        goto cleanup;
    }

    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    size_t n = strlen(errbuf);
    while (n && (errbuf[n - 1] == '\n' || errbuf[n - 1] == '\r'))
        errbuf[--n] = '\0';
    snprintf(err, MAIL_SMTP_ERR_MAX, "%s", n ? errbuf : curl_easy_strerror(cc));
    if (code > 0)
        snprintf(err + strlen(err), MAIL_SMTP_ERR_MAX - strlen(err), " (SMTP %ld)", code);
    if (cc == CURLE_USE_SSL_FAILED && auth && !smtps)
        snprintf(err + strlen(err), MAIL_SMTP_ERR_MAX - strlen(err),
                 "; credentials are only sent over TLS: use a server that offers STARTTLS, or smtps://");
    if (auth && t->password)
        smtp_mask(err, t->password);

cleanup:
    curl_slist_free_all(rcpt);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

/* The CURLOPT_READFUNCTION: hands curl the next piece of the message; 0 at the end. */
static size_t smtp_read(char *dst, size_t size, size_t nitems, void *userdata)
{
    smtp_src *src = userdata;
    size_t room = size * nitems;
    size_t n = src->left < room ? src->left : room;
    memcpy(dst, src->p, n);
    src->p += n;
    src->left -= n;
    return n;
}

/* smtp_mask replaces every occurrence of secret in the NUL-terminated s with "***" (or, for a secret
 * shorter than that, with as many stars), in place; s never grows. Defence in depth: no libcurl
 * message is known to quote the password. */
static void smtp_mask(char *s, const char *secret)
{
    size_t slen = strlen(secret);
    char *from = s, *hit;
    if (slen == 0)
        return;
    while ((hit = strstr(from, secret)) != NULL) {
        if (slen >= 3) {
            memcpy(hit, "***", 3);
            memmove(hit + 3, hit + slen, strlen(hit + slen) + 1);
            from = hit + 3;
        } else {
            memset(hit, '*', slen);
            from = hit + slen;
        }
    }
}
