/* The built-in mail templates and their small renderer (templates.h). The copy lives in one static
 * table; the HTML is table-based with inline styles so that it survives webmail sanitisers, and it
 * reads sensibly with images and styles off. The text part always says the same as the HTML part. */
#include "mail/templates.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "mail/mime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { TPL_TEXT = 0, TPL_HTML = 1 };

typedef struct mail_tpl {
    const char *id;
    const char *required; /* space-separated variable names that must be non-empty strings */
    const char *subject;
    const char *text; /* the footer is added after it */
    const char *html; /* the content cell; the frame is added around it */
} mail_tpl;

/* What placeholders read: the caller's variables plus the values the renderer derives. */
typedef struct tpl_env {
    const json_t *vars;
    const char *link;    /* the resolved link, or NULL when the template has none */
    const char *expires; /* vars.expires, reworded when it is an RFC 3339 time, or NULL */
    const char *subject; /* the rendered subject (for the HTML <title>), or NULL while rendering it */
} tpl_env;

/* ------------------------------------------------------------------------------------------------ */
/* The copy                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

#define TPL_FONT "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
#define TPL_H1   "<h1 style=\"margin:0 0 16px 0;font-size:20px;line-height:1.3;color:#1f2329;\">"
#define TPL_P    "<p style=\"margin:0 0 16px 0;\">"
#define TPL_NOTE "<p style=\"margin:0 0 16px 0;font-size:13px;line-height:1.5;color:#5b6270;\">"
#define TPL_HI   TPL_P "Hi{?name} {name}{/name},</p>\n"
#define TPL_BUTTON(label)                                                                                              \
    "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin:8px 0 24px 0;\">"    \
    "<tr><td style=\"border-radius:6px;background:#2f5bea;\">"                                                         \
    "<a href=\"{link}\" style=\"display:inline-block;padding:12px 24px;" TPL_FONT                                      \
    "font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;\">" label                   \
    "</a></td></tr></table>\n" TPL_NOTE "If the button does not work, copy this link into your browser:<br>"           \
    "<a href=\"{link}\" style=\"color:#2f5bea;word-break:break-all;\">{link}</a></p>\n"

static const char tpl_html_top[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{subject}</title>\n</head>\n"
    "<body style=\"margin:0;padding:0;background:#f4f5f7;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"background:#f4f5f7;\">\n<tr><td align=\"center\" style=\"padding:24px 12px;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"max-width:560px;background:#ffffff;border:1px solid #e3e5e8;border-radius:8px;\">\n"
    "<tr><td style=\"padding:24px 32px 0 32px;" TPL_FONT "font-size:14px;font-weight:bold;color:#5b6270;\">"
    "{product}</td></tr>\n"
    "<tr><td style=\"padding:16px 32px 16px 32px;" TPL_FONT "font-size:15px;line-height:1.5;color:#1f2329;\">\n";

static const char tpl_html_bottom[] =
    "</td></tr>\n</table>\n"
    "<p style=\"margin:16px 0 0 0;" TPL_FONT "font-size:12px;line-height:1.5;color:#8a909c;\">"
    "This message was sent automatically by {product}.</p>\n"
    "</td></tr>\n</table>\n</body>\n</html>\n";

static const char tpl_text_footer[] = "\n-- \nThis message was sent automatically by {product}.\n";

/* clang-format off */
static const mail_tpl mail_tpls[] = {
    {"invitation", "workspace inviter role link expires",
     "{inviter} invited you to {workspace} on {product}",
     "Hi,\n\n"
     "{inviter} invited you to join {workspace} on {product} as {role}.\n\n"
     "{?message}{inviter} wrote:\n\n{message|quote}\n\n{/message}"
     "Accept the invitation:\n{link}\n\n"
     "This invitation expires on {expires}. If you weren't expecting it, you can ignore this email.\n",
     TPL_H1 "Join {workspace} on {product}</h1>\n"
     TPL_P "<strong>{inviter}</strong> invited you to join <strong>{workspace}</strong> as "
           "<strong>{role}</strong>.</p>\n"
     "{?message}<p style=\"margin:0 0 6px 0;color:#5b6270;\">{inviter} wrote:</p>\n"
     "<blockquote style=\"margin:0 0 16px 0;padding:8px 14px;border-left:3px solid #d0d4db;color:#3a3f47;\">"
     "{message|br}</blockquote>\n{/message}"
     TPL_BUTTON("Accept invitation")
     TPL_NOTE "This invitation expires on {expires}. If you weren't expecting it, you can ignore this email.</p>\n"},

    {"invitation_reminder", "workspace inviter role link expires",
     "Reminder: {inviter} invited you to {workspace} on {product}",
     "Hi,\n\n"
     "Just a reminder: {inviter} invited you to join {workspace} on {product} as {role}, and the invitation "
     "is still open.\n\n"
     "Accept the invitation:\n{link}\n\n"
     "It expires on {expires}. If you'd rather not join, you can ignore this email.\n",
     TPL_H1 "Your invitation to {workspace} is waiting</h1>\n"
     TPL_P "Just a reminder: <strong>{inviter}</strong> invited you to join <strong>{workspace}</strong> as "
           "<strong>{role}</strong>, and the invitation is still open.</p>\n"
     TPL_BUTTON("Accept invitation")
     TPL_NOTE "It expires on {expires}. If you'd rather not join, you can ignore this email.</p>\n"},

    {"password_reset", "link expires",
     "Reset your {product} password",
     "Hi{?name} {name}{/name},\n\n"
     "We received a request to reset the password of your {product} account. Choose a new password here:\n"
     "{link}\n\n"
     "The link is valid for 1 hour (until {expires}) and works only once.\n\n"
     "If you didn't ask to reset your password, you can ignore this email; your password stays the same.\n",
     TPL_H1 "Reset your password</h1>\n"
     TPL_HI
     TPL_P "We received a request to reset the password of your {product} account.</p>\n"
     TPL_BUTTON("Choose a new password")
     TPL_NOTE "The link is valid for 1 hour (until {expires}) and works only once.</p>\n"
     TPL_NOTE "If you didn't ask to reset your password, you can ignore this email; your password stays the "
              "same.</p>\n"},

    {"email_change_confirm", "new_email link expires",
     "Confirm your new {product} email address",
     "Hi{?name} {name}{/name},\n\n"
     "You asked to sign in to {product} with {new_email} from now on. Confirm that this address is yours:\n"
     "{link}\n\n"
     "Until you do, nothing changes: you keep signing in with your current address. The link is valid until "
     "{expires} and works only once.\n\n"
     "If you didn't ask for this, you can ignore this email.\n",
     TPL_H1 "Confirm your new email address</h1>\n"
     TPL_HI
     TPL_P "You asked to sign in to {product} with <strong>{new_email}</strong> from now on. Confirm that this "
           "address is yours.</p>\n"
     TPL_BUTTON("Confirm this address")
     TPL_NOTE "Until you do, nothing changes: you keep signing in with your current address. The link is valid "
              "until {expires} and works only once.</p>\n"
     TPL_NOTE "If you didn't ask for this, you can ignore this email.</p>\n"},

    {"email_change_notice", "new_email link expires",
     "Your {product} email address was changed",
     "Hi{?name} {name}{/name},\n\n"
     "The email address you sign in to {product} with was changed to {new_email}. From now on, mail about "
     "your account goes there.\n\n"
     "If you didn't make this change, undo it here; this also signs everyone out of the account:\n"
     "{link}\n\n"
     "The link is valid until {expires}. After undoing, choose a new password with \"Forgot password\".\n",
     TPL_H1 "Your email address was changed</h1>\n"
     TPL_HI
     TPL_P "The email address you sign in to {product} with was changed to <strong>{new_email}</strong>. From "
           "now on, mail about your account goes there.</p>\n"
     TPL_P "If you didn't make this change, undo it; this also signs everyone out of the account.</p>\n"
     TPL_BUTTON("Undo this change")
     TPL_NOTE "The link is valid until {expires}. After undoing, choose a new password with "
              "\"Forgot password\".</p>\n"},

    {"role_changed", "workspace old_role new_role by",
     "Your role in {workspace} is now {new_role}",
     "Hi{?name} {name}{/name},\n\n"
     "{by} changed your role in {workspace} on {product} from {old_role} to {new_role}. The change is already "
     "in effect.\n\n"
     "If this looks wrong, please talk to {by} or another admin of {workspace}.\n",
     TPL_H1 "Your role in {workspace} changed</h1>\n"
     TPL_HI
     TPL_P "<strong>{by}</strong> changed your role in <strong>{workspace}</strong> from "
           "<strong>{old_role}</strong> to <strong>{new_role}</strong>. The change is already in effect.</p>\n"
     TPL_NOTE "If this looks wrong, please talk to {by} or another admin of {workspace}.</p>\n"},

    {"member_removed", "workspace by",
     "You were removed from {workspace}",
     "Hi{?name} {name}{/name},\n\n"
     "{by} removed you from {workspace} on {product}, so you no longer have access to it. Your other "
     "workspaces are not affected.\n\n"
     "If you think this was a mistake, please contact {by} or another admin of {workspace}.\n",
     TPL_H1 "You were removed from {workspace}</h1>\n"
     TPL_HI
     TPL_P "<strong>{by}</strong> removed you from <strong>{workspace}</strong> on {product}, so you no longer "
           "have access to it. Your other workspaces are not affected.</p>\n"
     TPL_NOTE "If you think this was a mistake, please contact {by} or another admin of {workspace}.</p>\n"},

    {"ownership_transfer", "workspace from link",
     "{from} wants to make you the owner of {workspace}",
     "Hi{?name} {name}{/name},\n\n"
     "{from} wants to transfer the ownership of {workspace} on {product} to you. As the owner you will have "
     "full control of the workspace, including its billing and its deletion.\n\n"
     "Review and accept the transfer:\n{link}\n\n"
     "Nothing changes until you accept. If you weren't expecting this, you can ignore this email.\n",
     TPL_H1 "Become the owner of {workspace}</h1>\n"
     TPL_HI
     TPL_P "<strong>{from}</strong> wants to transfer the ownership of <strong>{workspace}</strong> on {product} "
           "to you. As the owner you will have full control of the workspace, including its billing and its "
           "deletion.</p>\n"
     TPL_BUTTON("Review the transfer")
     TPL_NOTE "Nothing changes until you accept. If you weren't expecting this, you can ignore this email.</p>\n"},

    {"api_key_expiring", "workspace key_name days expires link",
     "The API key \"{key_name}\" of {workspace} expires in {days} days",
     "Hi{?name} {name}{/name},\n\n"
     "The API key \"{key_name}\" of {workspace} on {product} stops working on {expires}, {days} days from now. "
     "Programs that use it will then be refused.\n\n"
     "Rotate it (a new key, with the old one kept alive for a day) or make a new one:\n{link}\n",
     TPL_H1 "An API key expires in {days} days</h1>\n"
     TPL_HI
     TPL_P "The API key <strong>{key_name}</strong> of <strong>{workspace}</strong> on {product} stops working on "
           "{expires}, {days} days from now. Programs that use it will then be refused.</p>\n"
     TPL_BUTTON("Manage API keys")
     TPL_NOTE "Rotating gives you a new key and keeps the old one alive for a day, so you can switch without "
              "downtime.</p>\n"},

    {"invoice_issued", "workspace number amount expires link",
     "Invoice {number} for {workspace}: {amount} due",
     "Hi{?name} {name}{/name},\n\n"
     "Invoice {number} for {workspace} on {product} is ready: {amount}, due on {expires}.\n\n"
     "View it, download the PDF or see how to pay:\n{link}\n\n"
     "Invoices are paid by bank transfer; quote the invoice number with your payment.\n",
     TPL_H1 "Invoice {number}: {amount}</h1>\n"
     TPL_HI
     TPL_P "Invoice <strong>{number}</strong> for <strong>{workspace}</strong> on {product} is ready: "
           "<strong>{amount}</strong>, due on {expires}.</p>\n"
     TPL_BUTTON("View the invoice")
     TPL_NOTE "Invoices are paid by bank transfer; quote the invoice number with your payment.</p>\n"},

    {"payment_failed", "workspace number amount link",
     "Payment for {workspace} did not go through",
     "Hi{?name} {name}{/name},\n\n"
     "We could not collect {amount} for invoice {number} of {workspace} on {product}. The subscription is now "
     "past due; every feature keeps working while we try again over the next two weeks.\n\n"
     "Pay the invoice or update how you pay:\n{link}\n",
     TPL_H1 "A payment did not go through</h1>\n"
     TPL_HI
     TPL_P "We could not collect <strong>{amount}</strong> for invoice <strong>{number}</strong> of "
           "<strong>{workspace}</strong>. The subscription is now past due; every feature keeps working while "
           "we try again over the next two weeks.</p>\n"
     TPL_BUTTON("Pay the invoice")},

    {"payment_retry_failed", "workspace number amount link",
     "Reminder: {amount} for {workspace} is still unpaid",
     "Hi{?name} {name}{/name},\n\n"
     "Invoice {number} of {workspace} on {product} ({amount}) is still unpaid.\n\n"
     "Pay it or update how you pay:\n{link}\n",
     TPL_H1 "Invoice {number} is still unpaid</h1>\n"
     TPL_HI
     TPL_P "Invoice <strong>{number}</strong> of <strong>{workspace}</strong> ({amount}) is still unpaid.</p>\n"
     TPL_BUTTON("Pay the invoice")},

    {"payment_final_notice", "workspace number amount link",
     "Final notice: {workspace} loses paid features soon",
     "Hi{?name} {name}{/name},\n\n"
     "Invoice {number} of {workspace} on {product} ({amount}) is still unpaid. Unless it is paid within a few "
     "days, the subscription becomes unpaid and paid features are switched off.\n\n"
     "Pay it now:\n{link}\n",
     TPL_H1 "Final notice for invoice {number}</h1>\n"
     TPL_HI
     TPL_P "Invoice <strong>{number}</strong> of <strong>{workspace}</strong> ({amount}) is still unpaid. "
           "Unless it is paid within a few days, the subscription becomes unpaid and paid features are switched "
           "off.</p>\n"
     TPL_BUTTON("Pay the invoice")},

    {"subscription_ended", "workspace link",
     "Paid features of {workspace} are off",
     "Hi{?name} {name}{/name},\n\n"
     "The subscription of {workspace} on {product} was not paid, so its paid features are now switched off. "
     "Your data is kept. Paying the open invoice turns everything back on at once:\n{link}\n",
     TPL_H1 "Paid features of {workspace} are off</h1>\n"
     TPL_HI
     TPL_P "The subscription of <strong>{workspace}</strong> on {product} was not paid, so its paid features "
           "are now switched off. Your data is kept. Paying the open invoice turns everything back on at once.</p>\n"
     TPL_BUTTON("Open Billing")},

    {"trial_ending", "workspace plan expires link",
     "Your {plan} trial of {workspace} ends soon",
     "Hi{?name} {name}{/name},\n\n"
     "The {plan} trial of {workspace} on {product} ends on {expires}. The subscription then continues and "
     "the first invoice is issued.\n\n"
     "Review the plan and seats, or cancel before then:\n{link}\n",
     TPL_H1 "Your trial ends on {expires}</h1>\n"
     TPL_HI
     TPL_P "The <strong>{plan}</strong> trial of <strong>{workspace}</strong> on {product} ends on {expires}. "
           "The subscription then continues and the first invoice is issued.</p>\n"
     TPL_BUTTON("Review billing")},
};
/* clang-format on */
enum { MAIL_TPL_COUNT = sizeof mail_tpls / sizeof mail_tpls[0] };

static const mail_tpl *tpl_find(const char *id);
static int tpl_check_vars(const mail_tpl *t, const json_t *vars);
static int tpl_resolve_link(const json_t *vars, const char *public_url, buf *out);
static void tpl_expires(const json_t *vars, char out[64]);
static const char *tpl_value(const tpl_env *e, const char *name, size_t len);
static int tpl_expand(buf *out, const char *t, const tpl_env *e, int mode);
static void tpl_put(buf *out, const char *v, int mode, const char *filter, size_t flen);

/* ------------------------------------------------------------------------------------------------ */
/* Public functions                                                                                 */
/* ------------------------------------------------------------------------------------------------ */

bool mail_tpl_known(const char *template_id)
{
    return template_id && tpl_find(template_id) != NULL;
}

/* mail_tpl_render checks the variables, resolves the link, then renders the subject (cleaned to one
 * line), the text body with its footer and the HTML body inside its frame. */
int mail_tpl_render(const char *template_id, const json_t *vars, const char *public_url, mail_rendered *out)
{
    buf link, subject, clean, text, html;
    buf_init(&link);
    buf_init(&subject);
    buf_init(&clean);
    buf_init(&text);
    buf_init(&html);
    memset(out, 0, sizeof *out);
    const mail_tpl *t = template_id ? tpl_find(template_id) : NULL;
    int rc = t ? tpl_check_vars(t, vars) : AT_EINVAL;
    if (rc == AT_OK)
        rc = tpl_resolve_link(vars, public_url, &link);
    if (rc != AT_OK)
        goto cleanup;

    char expires[64];
    tpl_expires(vars, expires);
    tpl_env env = {.vars = vars, .link = link.data, .expires = expires[0] ? expires : NULL, .subject = NULL};
    rc = tpl_expand(&subject, t->subject, &env, TPL_TEXT);
    if (rc != AT_OK)
        goto cleanup;
    mail_header_clean(&clean, subject.data ? subject.data : "", MAIL_SUBJECT_MAX);
    env.subject = clean.data;

    rc = tpl_expand(&text, t->text, &env, TPL_TEXT);
    if (rc == AT_OK)
        rc = tpl_expand(&text, tpl_text_footer, &env, TPL_TEXT);
    if (rc == AT_OK)
        rc = tpl_expand(&html, tpl_html_top, &env, TPL_HTML);
    if (rc == AT_OK)
        rc = tpl_expand(&html, t->html, &env, TPL_HTML);
    if (rc == AT_OK)
        rc = tpl_expand(&html, tpl_html_bottom, &env, TPL_HTML);
    if (rc != AT_OK)
        goto cleanup;
    out->subject = buf_steal(&clean, NULL);
    out->text = buf_steal(&text, NULL);
    out->html = buf_steal(&html, NULL);

cleanup:
    buf_free(&html);
    buf_free(&text);
    buf_free(&clean);
    buf_free(&subject);
    buf_free(&link);
    return rc;
}

void mail_rendered_free(mail_rendered *r)
{
    free(r->subject);
    free(r->text);
    free(r->html);
    memset(r, 0, sizeof *r);
}

void mail_html_escape(buf *out, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *ref = NULL;
        switch (s[i]) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = "&quot;";
            break;
        case '\'':
            ref = "&#39;";
            break;
        default:
            continue;
        }
        buf_append(out, s + run, i - run);
        buf_puts(out, ref);
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
}

/* ------------------------------------------------------------------------------------------------ */
/* Rendering                                                                                        */
/* ------------------------------------------------------------------------------------------------ */

static const mail_tpl *tpl_find(const char *id)
{
    for (int i = 0; i < MAIL_TPL_COUNT; i++)
        if (strcmp(mail_tpls[i].id, id) == 0)
            return &mail_tpls[i];
    return NULL;
}

/* tpl_check_vars: vars is NULL or an object; every string in it is at most MAIL_VAR_MAX bytes; every
 * required name is a non-empty string. */
static int tpl_check_vars(const mail_tpl *t, const json_t *vars)
{
    const char *key;
    json_t *v;
    if (vars && !json_is_object(vars))
        return AT_EINVAL;
    json_object_foreach((json_t *)(uintptr_t)vars, key, v)
    {
        if (json_is_string(v) && json_string_length(v) > MAIL_VAR_MAX)
            return AT_EINVAL;
    }
    const char *p = t->required;
    while (*p) {
        size_t n = strcspn(p, " ");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        json_t *rv = vars ? json_object_get(vars, name) : NULL;
        if (!json_is_string(rv) || json_string_length(rv) == 0)
            return AT_EINVAL;
        p += n;
        p += *p == ' ';
    }
    return AT_OK;
}

/* tpl_resolve_link copies vars.link into out when present: an absolute http(s) URL as it is, a path
 * ("/...") prefixed by public_url without its trailing slash. URLs are printable ASCII without quotes,
 * angle brackets, backslashes or back quotes; anything else (javascript:, data:, "//host") is AT_EINVAL.
 * Without a link, out stays empty (data NULL). */
static int tpl_resolve_link(const json_t *vars, const char *public_url, buf *out)
{
    json_t *l = vars ? json_object_get(vars, "link") : NULL;
    if (!l)
        return AT_OK;
    if (!json_is_string(l))
        return AT_EINVAL;
    const char *s = json_string_value(l);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"'<>\\`", *p))
            return AT_EINVAL;
    if (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) {
        buf_puts(out, s);
        return AT_OK;
    }
    if (s[0] != '/' || s[1] == '/')
        return AT_EINVAL;
    size_t base = public_url ? strlen(public_url) : 0;
    while (base && public_url[base - 1] == '/')
        base--;
    if (base)
        buf_append(out, public_url, base);
    buf_puts(out, s);
    return AT_OK;
}

/* tpl_expires rewords an RFC 3339 vars.expires ("2026-12-05T14:05:00Z") for people: "5 December 2026
 * at 14:05 UTC". Any other text is left to tpl_value as it is; out is empty then. */
static void tpl_expires(const json_t *vars, char out[64])
{
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    json_t *v = vars ? json_object_get(vars, "expires") : NULL;
    int64_t us = 0;
    out[0] = '\0';
    if (!json_is_string(v) || clock_parse_rfc3339(json_string_value(v), json_string_length(v), &us) != AT_OK)
        return;
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return;
    snprintf(out, 64, "%d %s %d at %02d:%02d UTC", tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min);
}

/* tpl_value returns the value a placeholder reads, or "" when the variable is absent or not a string. */
static const char *tpl_value(const tpl_env *e, const char *name, size_t len)
{
    char key[32];
    if (len >= sizeof key)
        return "";
    memcpy(key, name, len);
    key[len] = '\0';
    if (strcmp(key, "link") == 0)
        return e->link ? e->link : "";
    if (strcmp(key, "subject") == 0)
        return e->subject ? e->subject : "";
    if (strcmp(key, "expires") == 0 && e->expires)
        return e->expires;
    json_t *v = e->vars ? json_object_get(e->vars, key) : NULL;
    if (json_is_string(v))
        return json_string_value(v);
    return strcmp(key, "product") == 0 ? "Atrium" : "";
}

/* tpl_expand appends template t to out, replacing placeholders (see templates.h). Values are written
 * by tpl_put and never rescanned. Returns AT_OK, or AT_EINTERNAL for an unclosed placeholder or
 * section in a built-in template. */
static int tpl_expand(buf *out, const char *t, const tpl_env *e, int mode)
{
    const char *p = t;
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            buf_puts(out, p);
            break;
        }
        buf_append(out, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (!close || close == open + 1)
            return AT_EINTERNAL;
        const char *tag = open + 1;
        size_t tlen = (size_t)(close - tag);
        p = close + 1;
        if (tag[0] == '/')
            continue; /* the end of a section that was kept */
        if (tag[0] == '?') {
            if (*tpl_value(e, tag + 1, tlen - 1))
                continue;
            char end[40];
            snprintf(end, sizeof end, "{/%.*s}", (int)(tlen - 1), tag + 1);
            const char *skip = strstr(p, end);
            if (!skip)
                return AT_EINTERNAL;
            p = skip + strlen(end);
            continue;
        }
        const char *bar = memchr(tag, '|', tlen);
        size_t nlen = bar ? (size_t)(bar - tag) : tlen;
        tpl_put(out, tpl_value(e, tag, nlen), mode, bar ? bar + 1 : NULL, bar ? tlen - nlen - 1 : 0);
    }
    return AT_OK;
}

/* tpl_put writes one value. Line breaks (LF, CRLF or CR) survive only under a filter: "quote" starts
 * every line with "> ", "br" turns breaks into <br>; otherwise they, like every other control
 * character, become a space. In HTML mode the value is escaped. */
static void tpl_put(buf *out, const char *v, int mode, const char *filter, size_t flen)
{
    bool quote = filter && flen == 5 && memcmp(filter, "quote", 5) == 0;
    bool br = filter && flen == 2 && memcmp(filter, "br", 2) == 0;
    if (quote)
        buf_puts(out, "> ");
    for (const char *c = v; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '\r' || ch == '\n') {
            if (ch == '\r' && c[1] == '\n')
                c++;
            if (quote)
                buf_puts(out, "\n> ");
            else if (br)
                buf_puts(out, "<br>\n");
            else
                buf_putc(out, ' ');
            continue;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            buf_putc(out, ' ');
            continue;
        }
        if (mode == TPL_HTML)
            mail_html_escape(out, c, 1);
        else
            buf_putc(out, (char)ch);
    }
}
