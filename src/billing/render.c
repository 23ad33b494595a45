/* Invoice documents (render.h): the HTML view of one invoice, drawn from the model of render_impl.h;
 * the PDF is in render_pdf.c. */
#include "billing/render.h"

#include "base/err.h"
#include "billing/render_impl.h"
#include "mail/templates.h"

#include <stdio.h>
#include <string.h>

static void html_document(const rd_model *m, buf *out);
static void html_party(buf *out, const char *heading, const rd_party *p);
static void html_esc(buf *out, const char *s);

int billing_render_html(const json_t *invoice, buf *out)
{
    rd_model m;
    int rc = rd_model_build(invoice, &m);
    if (rc != AT_OK)
        return rc;
    html_document(&m, out);
    rd_model_free(&m);
    return AT_OK;
}

/* ------------------------------------------------------------------------------------------------ */
/* HTML                                                                                             */
/* ------------------------------------------------------------------------------------------------ */

/* One accent (the product blue of the mail templates), greys for everything else; tabular figures so
 * amounts line up; the sheet becomes the page when printed, and the table header repeats on each
 * printed page. */
static const char html_style[] =
    "@page{size:A4;margin:16mm 14mm}\n"
    ":root{--ink:#1f2329;--muted:#5b6270;--faint:#8a909c;--rule:#e6e8eb;--bg:#f4f5f7;--accent:#2f5bea}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.55 -apple-system,BlinkMacSystemFont,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,\"Noto Sans\","
    "\"Liberation Sans\",sans-serif;font-variant-numeric:tabular-nums;-webkit-font-smoothing:antialiased}\n"
    ".sheet{position:relative;overflow:hidden;max-width:840px;margin:48px auto;padding:56px 64px 40px;"
    "background:#fff;border:1px solid var(--rule);border-radius:12px;"
    "box-shadow:0 1px 2px rgba(16,24,40,.04),0 12px 32px rgba(16,24,40,.06)}\n"
    ".sheet>*{position:relative;z-index:1}\n"
    ".watermark{position:absolute;z-index:0;top:42%;left:50%;transform:translate(-50%,-50%) rotate(-28deg);"
    "font-size:150px;font-weight:800;letter-spacing:.08em;color:rgba(91,98,112,.07);white-space:nowrap;"
    "pointer-events:none;user-select:none}\n"
    ".top{display:flex;justify-content:space-between;align-items:flex-start;gap:24px}\n"
    "h1{display:flex;align-items:center;gap:12px;margin:0;font-size:30px;line-height:1.2;font-weight:650;"
    "letter-spacing:-.015em}\n"
    ".badge{display:inline-block;padding:3px 10px;border-radius:999px;font-size:12px;line-height:1.5;"
    "font-weight:600;letter-spacing:.02em;vertical-align:middle;-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}\n"
    ".badge.open{background:#eaf0fe;color:var(--accent)}\n"
    ".badge.paid{background:#e6f4ea;color:#1e7a3c}\n"
    ".badge.draft,.badge.void{background:#eef0f2;color:var(--muted)}\n"
    ".badge.uncollectible{background:#fcefe6;color:#a8480f}\n"
    ".brand{text-align:right;font-size:16px;font-weight:600;padding-top:6px}\n"
    ".meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 28px;margin:28px 0 0}\n"
    ".meta dt{color:var(--muted)}\n"
    ".meta dd{margin:0}\n"
    ".parties{display:grid;grid-template-columns:1fr 1fr;gap:40px;margin-top:40px}\n"
    ".party h2,.lines th{margin:0 0 8px;font-size:11px;font-weight:600;letter-spacing:.08em;"
    "text-transform:uppercase;color:var(--faint)}\n"
    ".party p{margin:0;overflow-wrap:anywhere}\n"
    ".party .name{font-weight:600}\n"
    ".party .muted{color:var(--muted)}\n"
    ".headline{margin:44px 0 0;font-size:22px;font-weight:650;letter-spacing:-.01em}\n"
    ".note{margin:4px 0 0;color:var(--muted)}\n"
    ".lines{width:100%;margin-top:36px;border-collapse:collapse}\n"
    ".lines th{padding:0 0 10px;text-align:left;border-bottom:1px solid var(--rule)}\n"
    ".lines td{padding:14px 0;border-bottom:1px solid var(--rule);vertical-align:top;overflow-wrap:anywhere}\n"
    ".lines .num{text-align:right;white-space:nowrap;padding-left:24px}\n"
    ".lines .sub{display:block;margin-top:2px;font-size:12.5px;color:var(--faint)}\n"
    ".totals{margin:20px 0 0 auto;min-width:340px;border-collapse:collapse}\n"
    ".totals td{padding:6px 0}\n"
    ".totals td.num{text-align:right;white-space:nowrap;padding-left:40px}\n"
    ".totals .label{color:var(--muted)}\n"
    ".totals .strong td{border-top:1px solid var(--rule);padding-top:10px;font-weight:600}\n"
    ".totals .strong .label{color:var(--ink)}\n"
    ".totals .due td{border-top:2px solid var(--ink);padding-top:12px;font-size:17px;font-weight:700}\n"
    ".totals .due .label{color:var(--ink)}\n"
    "footer{display:flex;flex-wrap:wrap;justify-content:space-between;gap:8px 24px;margin-top:64px;"
    "padding-top:16px;border-top:1px solid var(--rule);font-size:12px;color:var(--faint)}\n"
    "footer a{color:var(--accent);text-decoration:none}\n"
    "@media (max-width:640px){.sheet{margin:0;padding:28px 20px;border:0;border-radius:0}"
    ".parties{grid-template-columns:1fr;gap:24px}.totals{min-width:0;width:100%}.top{flex-direction:column}"
    ".brand{text-align:left}}\n"
    "@media print{body{background:#fff;font-size:10.5pt}"
    ".sheet{max-width:none;margin:0;padding:0;border:0;border-radius:0;box-shadow:none;overflow:visible}"
    ".watermark{position:fixed}thead{display:table-header-group}tr,.totals,.parties,footer{break-inside:avoid}"
    "footer a{color:inherit}}\n";

static void html_document(const rd_model *m, buf *out)
{
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"color-scheme\" content=\"light\">\n<meta name=\"robots\" content=\"noindex\">\n"
                  "<title>");
    html_esc(out, m->title);
    buf_putc(out, ' ');
    html_esc(out, m->number ? m->number : m->id);
    if (m->issuer.name) {
        buf_puts(out, " \xc2\xb7 ");
        html_esc(out, m->issuer.name);
    }
    buf_printf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main class=\"sheet\">\n", html_style);
    if (m->watermark)
        buf_printf(out, "<div class=\"watermark\" aria-hidden=\"true\">%s</div>\n", m->watermark);

    buf_puts(out, "<header class=\"top\">\n<h1>");
    html_esc(out, m->title);
    if (m->badge)
        buf_printf(out, " <span class=\"badge %s\">%s</span>", m->badge_class, m->badge);
    buf_puts(out, "</h1>\n");
    if (m->issuer.name) {
        buf_puts(out, "<div class=\"brand\">");
        html_esc(out, m->issuer.name);
        buf_puts(out, "</div>\n");
    }
    buf_puts(out, "</header>\n<dl class=\"meta\">\n");
    for (size_t i = 0; i < m->nmeta; i++) {
        buf_printf(out, "<dt>%s</dt><dd>", m->meta[i].label);
        html_esc(out, m->meta[i].value);
        buf_puts(out, "</dd>\n");
    }
    buf_puts(out, "</dl>\n<section class=\"parties\">\n");
    html_party(out, "From", &m->issuer);
    html_party(out, "Bill to", &m->customer);
    buf_puts(out, "</section>\n");

    buf_puts(out, "<p class=\"headline\">");
    html_esc(out, m->headline);
    buf_puts(out, "</p>\n");
    if (m->headline_note)
        buf_printf(out, "<p class=\"note\">%s</p>\n", m->headline_note);

    buf_puts(out, "<table class=\"lines\">\n<thead><tr><th scope=\"col\">Description</th>"
                  "<th scope=\"col\" class=\"num\">Qty</th><th scope=\"col\" class=\"num\">Unit price</th>"
                  "<th scope=\"col\" class=\"num\">Amount</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < m->nlines; i++) {
        const rd_line *l = &m->lines[i];
        buf_puts(out, "<tr><td>");
        html_esc(out, l->description);
        if (l->period[0]) {
            buf_puts(out, "<span class=\"sub\">");
            html_esc(out, l->period);
            buf_puts(out, "</span>");
        }
        buf_puts(out, "</td><td class=\"num\">");
        html_esc(out, l->quantity);
        buf_puts(out, "</td><td class=\"num\">");
        html_esc(out, l->unit);
        buf_puts(out, "</td><td class=\"num\">");
        html_esc(out, l->amount);
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody>\n</table>\n<table class=\"totals\">\n");
    for (size_t i = 0; i < m->ntotals; i++) {
        const rd_total *t = &m->totals[i];
        const char *cls = t->flags & RD_TOTAL_DUE      ? " class=\"due\""
                          : t->flags & RD_TOTAL_STRONG ? " class=\"strong\""
                                                       : "";
        buf_printf(out, "<tr%s><td class=\"label\">", cls);
        html_esc(out, t->label);
        if (t->suffix[0]) {
            buf_putc(out, ' ');
            html_esc(out, t->suffix);
        }
        buf_puts(out, "</td><td class=\"num\">");
        html_esc(out, t->value);
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</table>\n<footer>\n<span>");
    html_esc(out, m->title);
    if (m->number) {
        buf_putc(out, ' ');
        html_esc(out, m->number);
    }
    buf_puts(out, " \xc2\xb7 ");
    html_esc(out, m->id);
    buf_puts(out, "</span>\n");
    if (m->issuer.email) {
        buf_puts(out, "<span>Questions? <a href=\"mailto:");
        html_esc(out, m->issuer.email);
        buf_puts(out, "\">");
        html_esc(out, m->issuer.email);
        buf_puts(out, "</a></span>\n");
    }
    buf_puts(out, "</footer>\n</main>\n</body>\n</html>\n");
}

static void html_party(buf *out, const char *heading, const rd_party *p)
{
    buf_printf(out, "<div class=\"party\">\n<h2>%s</h2>\n", heading);
    if (p->name) {
        buf_puts(out, "<p class=\"name\">");
        html_esc(out, p->name);
        buf_puts(out, "</p>\n");
    }
    if (p->naddress || p->country) {
        buf_puts(out, "<p>");
        for (size_t i = 0; i < p->naddress; i++) {
            if (i)
                buf_puts(out, "<br>");
            html_esc(out, p->address[i]);
        }
        if (p->country)
            html_esc(out, p->country);
        buf_puts(out, "</p>\n");
    }
    if (p->tax_id) {
        buf_puts(out, "<p class=\"muted\">Tax ID ");
        html_esc(out, p->tax_id);
        buf_puts(out, "</p>\n");
    }
    if (p->email) {
        buf_puts(out, "<p class=\"muted\">");
        html_esc(out, p->email);
        buf_puts(out, "</p>\n");
    }
    buf_puts(out, "</div>\n");
}

static void html_esc(buf *out, const char *s)
{
    if (s)
        mail_html_escape(out, s, strlen(s));
}
