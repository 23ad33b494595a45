/* The built-in templates (src/mail/templates.c): every template renders with its variables, HTML
 * escaping, optional parts, links, and variables that try to inject lines or placeholders. */
#include "mail/templates.h"

#include "base/err.h"
#include "mail/mime.h"

#include <criterion/criterion.h>
#include <string.h>

static mail_rendered render_ok(const char *tpl, json_t *vars)
{
    mail_rendered r;
    int rc = mail_tpl_render(tpl, vars, "https://atrium.example.com/", &r);
    cr_assert_eq(rc, AT_OK, "%s: %s", tpl, at_status_name(rc));
    cr_assert(r.subject && r.text && r.html);
    json_decref(vars);
    return r;
}

static int render_rc(const char *tpl, json_t *vars)
{
    mail_rendered r;
    int rc = mail_tpl_render(tpl, vars, "", &r);
    if (rc != AT_OK)
        cr_assert_null(r.subject, "a failed render leaves out empty");
    mail_rendered_free(&r);
    json_decref(vars);
    return rc;
}

static void has(const char *hay, const char *needle)
{
    cr_assert(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

static void lacks(const char *hay, const char *needle)
{
    cr_assert_null(strstr(hay, needle), "unexpected \"%s\" in:\n%s", needle, hay);
}

Test(mail_tpl, invitation)
{
    mail_rendered r = render_ok("invitation", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "workspace", "Acme Corp",
                                                        "inviter", "Ana Lima", "role", "admin", "link",
                                                        "https://atrium.example.com/invitations/tok123", "expires",
                                                        "2026-12-05T14:05:00Z", "message", "Welcome aboard!\nSee you"));
    cr_assert_str_eq(r.subject, "Ana Lima invited you to Acme Corp on Atrium");
    has(r.text, "Ana Lima invited you to join Acme Corp on Atrium as admin.");
    has(r.text, "Ana Lima wrote:\n\n> Welcome aboard!\n> See you\n");
    has(r.text, "\nhttps://atrium.example.com/invitations/tok123\n");
    has(r.text, "expires on 5 December 2026 at 14:05 UTC");
    has(r.html, "<title>Ana Lima invited you to Acme Corp on Atrium</title>");
    has(r.html, "<strong>Acme Corp</strong> as <strong>admin</strong>");
    has(r.html, "href=\"https://atrium.example.com/invitations/tok123\"");
    has(r.html, ">Accept invitation</a>");
    has(r.html, "Welcome aboard!<br>\nSee you</blockquote>");
    has(r.html, "expires on 5 December 2026 at 14:05 UTC");
    lacks(r.html, "{");
    lacks(r.text, "{");
    mail_rendered_free(&r);

    /* Without a message there is no quote; a free-text expiry is used as it is. */
    r = render_ok("invitation", json_pack("{s:s, s:s, s:s, s:s, s:s}", "workspace", "Acme", "inviter", "Ana", "role",
                                          "member", "link", "https://x.example/i/1", "expires", "Friday"));
    lacks(r.text, "wrote:");
    lacks(r.html, "blockquote");
    has(r.text, "expires on Friday.");
    mail_rendered_free(&r);
}

Test(mail_tpl, every_template_renders)
{
    struct {
        const char *id;
        json_t *vars;
        const char *subject;
        const char *text;
        const char *html;
    } cases[] = {
        {"invitation_reminder",
         json_pack("{s:s, s:s, s:s, s:s, s:s}", "workspace", "Acme", "inviter", "Ana", "role", "viewer", "link",
                   "https://x.example/i/2", "expires", "2026-12-05T14:05:00Z"),
         "Reminder: Ana invited you to Acme on Atrium", "still open", ">Accept invitation</a>"},
        {"password_reset",
         json_pack("{s:s, s:s, s:s}", "name", "Bea", "link", "https://x.example/reset/abc", "expires",
                   "2026-12-05T15:00:00Z"),
         "Reset your Atrium password", "valid for 1 hour (until 5 December 2026 at 15:00 UTC)",
         ">Choose a new password</a>"},
        {"role_changed",
         json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "Bea", "workspace", "Acme", "old_role", "member", "new_role",
                   "admin", "by", "Ana"),
         "Your role in Acme is now admin", "Ana changed your role in Acme on Atrium from member to admin.",
         "from <strong>member</strong> to <strong>admin</strong>"},
        {"member_removed", json_pack("{s:s, s:s, s:s}", "name", "Bea", "workspace", "Acme", "by", "Ana"),
         "You were removed from Acme", "Ana removed you from Acme on Atrium", "<strong>Ana</strong> removed you"},
        {"ownership_transfer",
         json_pack("{s:s, s:s, s:s, s:s}", "name", "Bea", "workspace", "Acme", "from", "Ana", "link",
                   "https://x.example/w/1/settings/team"),
         "Ana wants to make you the owner of Acme",
         "Review and accept the transfer:\nhttps://x.example/w/1/settings/team", ">Review the transfer</a>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mail_rendered r = render_ok(cases[i].id, cases[i].vars);
        cr_assert_str_eq(r.subject, cases[i].subject);
        has(r.text, cases[i].text);
        has(r.html, cases[i].html);
        has(r.text, "This message was sent automatically by Atrium.");
        has(r.html, "This message was sent automatically by Atrium.");
        if (strcmp(cases[i].id, "invitation_reminder") != 0)
            has(r.text, "Hi Bea,\n");
        lacks(r.text, "{");
        lacks(r.html, "{");
        mail_rendered_free(&r);
    }
}

Test(mail_tpl, optional_name_and_product)
{
    mail_rendered r = render_ok("member_removed",
                                json_pack("{s:s, s:s, s:s}", "workspace", "Acme", "by", "Ana", "product", "Nimbus"));
    has(r.text, "Hi,\n");
    has(r.html, "Hi,</p>");
    cr_assert_str_eq(r.subject, "You were removed from Acme");
    has(r.text, "on Nimbus");
    has(r.html, "sent automatically by Nimbus");
    mail_rendered_free(&r);
    r = render_ok("password_reset", json_pack("{s:s, s:s, s:s}", "name", "", "link", "/reset-password/t", "expires",
                                              "2026-12-05T15:00:00Z"));
    has(r.text, "Hi,\n");
    /* A path is resolved against the public URL, without a doubled slash. */
    has(r.text, "\nhttps://atrium.example.com/reset-password/t\n");
    has(r.text, "If you didn't ask to reset your password, you can ignore this email");
    mail_rendered_free(&r);
}

Test(mail_tpl, html_escaping)
{
    const char *evil = "<script>alert('x')</script> & \"co\"";
    mail_rendered r =
        render_ok("invitation", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "workspace", evil, "inviter", "<b>Eve</b>",
                                          "role", "admin\" onmouseover=\"x", "link", "https://x.example/i?a=1&b=2",
                                          "expires", "soon", "message", "</blockquote><img src=x onerror=alert(1)>"));
    lacks(r.html, "<script>");
    lacks(r.html, "<b>Eve</b>");
    lacks(r.html, "<img");
    lacks(r.html, "\" onmouseover");
    has(r.html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;");
    has(r.html, "&lt;b&gt;Eve&lt;/b&gt;");
    has(r.html, "&lt;/blockquote&gt;&lt;img src=x onerror=alert(1)&gt;");
    has(r.html, "href=\"https://x.example/i?a=1&amp;b=2\"");
    /* The text part carries the values as they are. */
    has(r.text, "<script>alert('x')</script> & \"co\"");
    mail_rendered_free(&r);

    buf b;
    buf_init(&b);
    mail_html_escape(&b, "a<b>&\"'z", 8);
    cr_assert_str_eq(b.data, "a&lt;b&gt;&amp;&quot;&#39;z");
    buf_free(&b);
}

Test(mail_tpl, variables_cannot_inject)
{
    /* A placeholder inside a value stays literal; line breaks outside the message become spaces. */
    mail_rendered r =
        render_ok("invitation", json_pack("{s:s, s:s, s:s, s:s, s:s}", "workspace", "Acme\r\nBcc: eve@example.com",
                                          "inviter", "{link} {?message}", "role", "admin\n\nClick http://evil.example",
                                          "link", "https://x.example/i/1", "expires", "soon\x1b[2J"));
    cr_assert_null(strchr(r.subject, '\r'));
    cr_assert_null(strchr(r.subject, '\n'));
    cr_assert_str_eq(r.subject, "{link} {?message} invited you to Acme Bcc: eve@example.com on Atrium");
    has(r.text, "{link} {?message} invited you to join Acme Bcc: eve@example.com on Atrium as admin  Click");
    lacks(r.text, "\nBcc:");
    lacks(r.text, "\nClick");
    lacks(r.text, "\x1b");
    has(r.html, "{link} {?message}");
    mail_rendered_free(&r);
}

Test(mail_tpl, refusals)
{
    cr_assert_eq(render_rc("nope", json_object()), AT_EINVAL);
    cr_assert_eq(render_rc(NULL, json_object()), AT_EINVAL);
    cr_assert_not(mail_tpl_known("nope"));
    cr_assert(mail_tpl_known("ownership_transfer"));
    /* Missing, empty or non-string required variables. */
    cr_assert_eq(render_rc("member_removed", json_pack("{s:s}", "workspace", "Acme")), AT_EINVAL);
    cr_assert_eq(render_rc("member_removed", json_pack("{s:s, s:s}", "workspace", "Acme", "by", "")), AT_EINVAL);
    cr_assert_eq(render_rc("member_removed", json_pack("{s:s, s:i}", "workspace", "Acme", "by", 7)), AT_EINVAL);
    cr_assert_eq(render_rc("member_removed", NULL), AT_EINVAL);
    cr_assert_eq(render_rc("member_removed", json_array()), AT_EINVAL);
    /* Oversized variables. */
    char big[MAIL_VAR_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(render_rc("member_removed", json_pack("{s:s, s:s}", "workspace", big, "by", "Ana")), AT_EINVAL);
    /* Links that are not http(s) or a path. */
    const char *links[] = {"javascript:alert(1)",       "data:text/html,x",
                           "//evil.example/x",          "relative/path",
                           "https://x.example/a b",     "https://x.example/\"onclick=",
                           "https://x.example/\r\nBcc:"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        cr_assert_eq(render_rc("password_reset", json_pack("{s:s, s:s}", "link", links[i], "expires", "soon")),
                     AT_EINVAL, "%s", links[i]);
    cr_assert_eq(render_rc("password_reset", json_pack("{s:s, s:s}", "link", "HTTPS://X.EXAMPLE/r", "expires", "x")),
                 AT_OK);
}

Test(mail_tpl, subject_is_capped)
{
    char big[MAIL_VAR_MAX];
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mail_rendered r = render_ok("member_removed", json_pack("{s:s, s:s}", "workspace", big, "by", "Ana"));
    cr_assert_leq(strlen(r.subject), MAIL_SUBJECT_MAX);
    has(r.text, big);
    mail_rendered_free(&r);
}
