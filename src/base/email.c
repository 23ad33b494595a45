/* Email address validation and normalisation (email.h). */
#include "base/email.h"

#include "base/err.h"

#include <string.h>

/* RFC 5322 atext: the characters of a dot-atom besides the dots. */
bool email_is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A dot-atom: atext runs separated by single dots, neither first nor last. */
static bool email_local_valid(const char *s, size_t len)
{
    if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!email_is_atext((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool email_host_valid(const char *d, size_t len, bool require_dot)
{
    size_t label = 0, labels = 0;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? d[i] : '.';
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            labels++;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63)
            return false;
    }
    return !require_dot || labels >= 2;
}

bool email_valid(const char *s, size_t len)
{
    if (!s || len < 3 || len > EMAIL_MAX || memchr(s, '\0', len))
        return false;
    const char *at = memchr(s, '@', len);
    if (!at)
        return false;
    size_t local = (size_t)(at - s);
    return email_local_valid(s, local) && email_host_valid(at + 1, len - local - 1, true);
}

int email_normalize(const char *s, size_t len, char out[EMAIL_MAX + 1])
{
    out[0] = '\0';
    if (!email_valid(s, len))
        return AT_EINVAL;
    for (size_t i = 0; i < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    out[len] = '\0';
    return AT_OK;
}

const char *email_check(const char *s, size_t len)
{
    return email_valid(s, len) ? NULL : "Must be an email address like name@example.com.";
}
