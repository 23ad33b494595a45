/* Invoice documents (src/billing/render.c): the HTML view escapes every value and shows the formatted
 * totals; the PDF is read back by poppler (pdftotext, pdfinfo), an independent implementation, for
 * its text and page count; bad documents are refused. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "billing/render.h"

#include "base/err.h"

#include <cairo.h>
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char sample_json[] =
    "{\"id\":\"in_7Hq2b\",\"number\":\"ATR-000001\",\"status\":\"open\",\"payment_status\":\"pending\","
    "\"reason\":\"subscription_cycle\",\"currency\":\"USD\",\"workspace_id\":\"ws_1\",\"subscription_id\":\"sub_1\","
    "\"issuer\":{\"name\":\"Atrium Cloud Ltd\",\"address\":[\"100 Market Street, Suite 300\","
    "\"San Francisco, CA 94105\",\"United States\"],\"tax_id\":\"EIN 88-1234567\","
    "\"email\":\"billing@atrium.example\"},"
    "\"customer\":{\"name\":\"Zo\xc3\xab M\xc3\xbcller GmbH\",\"email\":\"ap@mueller.example\","
    "\"address\":[\"Friedrichstra\xc3\x9f"
    "e 12\",\"10117 Berlin\",\"Germany\"],\"country\":\"DE\",\"tax_id\":\"DE123456789\"},"
    "\"period_start\":\"2026-11-01T00:00:00Z\",\"period_end\":\"2026-12-01T00:00:00Z\","
    "\"created_at\":\"2026-11-28T00:35:56Z\",\"finalized_at\":\"2026-11-28T00:35:56Z\","
    "\"due_at\":\"2026-12-12T00:35:56Z\",\"paid_at\":null,\"voided_at\":null,\"marked_uncollectible_at\":null,"
    "\"lines\":["
    "{\"kind\":\"base\",\"description\":\"Pro plan\",\"quantity\":1,\"unit_amount\":4900,\"amount\":4900,"
    "\"period_start\":\"2026-11-01T00:00:00Z\",\"period_end\":\"2026-12-01T00:00:00Z\"},"
    "{\"kind\":\"seats\",\"description\":\"Pro \xe2\x80\x94 5 seats \xc3\x97 $39.00\",\"quantity\":5,"
    "\"unit_amount\":3900,\"amount\":19500,"
    "\"period_start\":\"2026-11-01T00:00:00Z\",\"period_end\":\"2026-12-01T00:00:00Z\"},"
    "{\"kind\":\"proration\",\"description\":\"Unused time on 2 seats after 15 Nov 2026\",\"quantity\":2,"
    "\"unit_amount\":null,\"amount\":-1234,"
    "\"period_start\":\"2026-11-15T00:00:00Z\",\"period_end\":\"2026-12-01T00:00:00Z\"},"
    "{\"kind\":\"usage\",\"description\":\"AI minutes beyond 1,000 included\",\"quantity\":321,"
    "\"unit_amount\":1,\"amount\":321,\"period_start\":null,\"period_end\":null}],"
    "\"subtotal\":23487,\"tax\":{\"name\":\"VAT\",\"country\":\"DE\",\"rate_bp\":1900,\"amount\":4463},"
    "\"total\":27950,\"applied_balance\":-1000,\"amount_due\":26950,\"amount_paid\":0,\"amount_remaining\":26950,"
    "\"attempt_count\":0,\"next_payment_attempt\":null}";

/* cairo and fontconfig keep process-wide font caches that LeakSanitizer would report at exit (they do
 * not grow with the number of documents). Release them after each test; FcFini is looked up at run
 * time because the build links fontconfig only through cairo. */
static void render_fini(void)
{
    cairo_debug_reset_static_data();
    void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
    if (fc_fini)
        fc_fini();
}

TestSuite(billing_render, .fini = render_fini);

static const char *const sample_amounts[] = {"$49.00", "$195.00", "-$12.34", "$3.21"};

static json_t *sample(void)
{
    json_error_t err;
    json_t *doc = json_loads(sample_json, 0, &err);
    cr_assert_not_null(doc, "sample JSON: %s", err.text);
    return doc;
}

static char *html_of(const json_t *doc)
{
    buf out;
    buf_init(&out);
    cr_assert_eq(billing_render_html(doc, &out), AT_OK);
    cr_assert_not_null(out.data);
    return buf_steal(&out, NULL);
}

/* Runs `cmd` with %s replaced by a temporary file holding the PDF; returns its standard output. */
static char *pdf_tool(const unsigned char *pdf, size_t len, const char *cmd)
{
    char path[] = "/tmp/atrium-render-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, pdf, len), (ssize_t)len);
    close(fd);
    char line[512];
    snprintf(line, sizeof line, cmd, path);
    FILE *f = popen(line, "r");
    cr_assert_not_null(f, "popen %s", line);
    buf out;
    buf_init(&out);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&out, chunk, n);
    int rc = pclose(f);
    unlink(path);
    cr_assert_eq(rc, 0, "%s failed (is poppler-utils installed?)", line);
    buf_append(&out, "", 0);
    return buf_steal(&out, NULL);
}

static unsigned char *pdf_of(const json_t *doc, size_t *len)
{
    unsigned char *pdf = NULL;
    cr_assert_eq(billing_render_pdf(doc, &pdf, len), AT_OK);
    cr_assert_not_null(pdf);
    cr_assert(*len > 1000);
    cr_assert_eq(memcmp(pdf, "%PDF-", 5), 0);
    return pdf;
}

static char *pdf_text(const json_t *doc)
{
    size_t len;
    unsigned char *pdf = pdf_of(doc, &len);
    char *text = pdf_tool(pdf, len, "pdftotext -layout -enc UTF-8 - - < %s");
    free(pdf);
    return text;
}

static int pdf_pages(const unsigned char *pdf, size_t len)
{
    char *info = pdf_tool(pdf, len, "pdfinfo %s");
    const char *p = strstr(info, "\nPages:");
    cr_assert_not_null(p, "pdfinfo: %s", info);
    int pages = atoi(p + 7);
    free(info);
    return pages;
}

/* Whether some line of text, leading spaces removed, starts with `start` and also contains `also`. */
static bool has_line(const char *text, const char *start, const char *also)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        char *row = strndup(l, n);
        const char *t = row + strspn(row, " \f");
        bool ok = strncmp(t, start, strlen(start)) == 0 && strstr(t, also) != NULL;
        free(row);
        if (ok)
            return true;
    }
    return false;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- HTML ---------------------------------------------------------------------------------------- */

Test(billing_render, html_escapes_every_value)
{
    json_t *doc = sample();
    json_t *customer = json_object_get(doc, "customer");
    json_object_set_new(customer, "name", json_string("Evil <script>alert(\"x\")</script> & 'Co'"));
    json_object_set_new(customer, "email", json_string("a\"><img src=x onerror=alert(1)>@x.example"));
    json_t *line = json_array_get(json_object_get(doc, "lines"), 0);
    json_object_set_new(line, "description", json_string("Pro <b>plan</b> & more"));
    json_object_set_new(json_object_get(doc, "issuer"), "email", json_string("billing\"@x.example"));
    char *html = html_of(doc);
    cr_assert_null(strstr(html, "<script"));
    cr_assert_null(strstr(html, "<img"));
    cr_assert_null(strstr(html, "<b>"));
    cr_assert_not_null(strstr(html, "Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"));
    cr_assert_not_null(strstr(html, "a&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@x.example"));
    cr_assert_not_null(strstr(html, "Pro &lt;b&gt;plan&lt;/b&gt; &amp; more"));
    cr_assert_not_null(strstr(html, "href=\"mailto:billing&quot;@x.example\""));
    free(html);
    json_decref(doc);
}

Test(billing_render, html_is_a_self_contained_page_with_the_totals)
{
    json_t *doc = sample();
    char *html = html_of(doc);
    cr_assert_eq(strncmp(html, "<!DOCTYPE html>", 15), 0);
    cr_assert_not_null(strstr(html, "</html>\n"));
    cr_assert_not_null(strstr(html, "<style>"));
    cr_assert_not_null(strstr(html, "@media print"));
    cr_assert_null(strstr(html, "<script"));
    cr_assert_null(strstr(html, "<link"));
    cr_assert_null(strstr(html, "http://"));
    cr_assert_null(strstr(html, "https://"));
    cr_assert_null(strstr(html, "url("));
    cr_assert_not_null(strstr(html, "ATR-000001"));
    cr_assert_not_null(strstr(html, "Zo\xc3\xab M\xc3\xbcller GmbH"));
    cr_assert_not_null(strstr(html, "Tax ID DE123456789"));
    cr_assert_not_null(strstr(html, "Tax ID EIN 88-1234567"));
    cr_assert_not_null(strstr(html, "Date of issue</dt><dd>28 Nov 2026"));
    cr_assert_not_null(strstr(html, "Date due</dt><dd>12 Dec 2026"));
    cr_assert_not_null(strstr(html, "Service period</dt><dd>1 Nov 2026 \xe2\x80\x93 1 Dec 2026"));
    /* the proration line carries its own period; lines on the invoice's period do not repeat it */
    cr_assert_not_null(strstr(html, "<span class=\"sub\">15 Nov 2026 \xe2\x80\x93 1 Dec 2026</span>"));
    cr_assert_eq(count(html, "<span class=\"sub\">"), 1);
    for (size_t i = 0; i < sizeof sample_amounts / sizeof sample_amounts[0]; i++)
        cr_assert_not_null(strstr(html, sample_amounts[i]), "%s", sample_amounts[i]);
    cr_assert_not_null(strstr(html, "Subtotal</td><td class=\"num\">$234.87<"));
    cr_assert_not_null(strstr(html, "VAT 19%</td><td class=\"num\">$44.63<"));
    cr_assert_not_null(strstr(html, "Total</td><td class=\"num\">$279.50<"));
    cr_assert_not_null(strstr(html, "Applied balance</td><td class=\"num\">-$10.00<"));
    cr_assert_not_null(strstr(html, "Amount due</td><td class=\"num\">$269.50<"));
    cr_assert_null(strstr(html, "Amount paid"));
    cr_assert_not_null(strstr(html, "$269.50 due 12 Dec 2026"));
    cr_assert_not_null(strstr(html, "class=\"badge open\">Open<"));
    cr_assert_not_null(strstr(html, "in_7Hq2b"));
    cr_assert_null(strstr(html, "watermark\""));
    free(html);
    json_decref(doc);
}

Test(billing_render, html_rates_dates_and_states)
{
    json_t *doc = sample();
    json_t *tax = json_object_get(doc, "tax");
    json_object_set_new(tax, "rate_bp", json_integer(1950));
    json_object_set_new(doc, "finalized_at", json_string("2026-11-28T23:30:00-02:00")); /* 29 Nov in UTC */
    json_object_set_new(doc, "applied_balance", json_integer(0));
    json_object_set_new(doc, "status", json_string("paid"));
    json_object_set_new(doc, "paid_at", json_string("2026-11-30T09:00:00.123456Z"));
    json_object_set_new(doc, "amount_paid", json_integer(27950));
    json_object_set_new(doc, "amount_due", json_integer(27950));
    json_object_set_new(doc, "amount_remaining", json_integer(0));
    char *html = html_of(doc);
    cr_assert_not_null(strstr(html, "VAT 19.5%<"));
    cr_assert_not_null(strstr(html, "Date of issue</dt><dd>29 Nov 2026<"));
    cr_assert_not_null(strstr(html, "Date paid</dt><dd>30 Nov 2026<"));
    cr_assert_null(strstr(html, "Applied balance"));
    cr_assert_not_null(strstr(html, "Amount paid</td><td class=\"num\">$279.50<"));
    cr_assert_not_null(strstr(html, "Amount due</td><td class=\"num\">$0.00<"));
    cr_assert_not_null(strstr(html, "$279.50 paid on 30 Nov 2026"));
    cr_assert_not_null(strstr(html, "class=\"badge paid\">Paid<"));
    free(html);

    json_object_set_new(tax, "rate_bp", json_integer(725));
    json_object_set_new(tax, "name", json_string("Sales tax"));
    json_object_set_new(doc, "status", json_string("void"));
    json_object_set_new(doc, "voided_at", json_string("2026-12-01T10:00:00Z"));
    html = html_of(doc);
    cr_assert_not_null(strstr(html, "Sales tax 7.25%<"));
    cr_assert_not_null(strstr(html, "class=\"badge void\">Void<"));
    cr_assert_not_null(strstr(html, "Voided on 1 Dec 2026"));
    cr_assert_not_null(strstr(html, "class=\"watermark\" aria-hidden=\"true\">VOID<"));
    free(html);

    json_object_set_new(doc, "status", json_string("draft"));
    json_object_set_new(doc, "number", json_null());
    json_object_set_new(doc, "finalized_at", json_null());
    json_object_set_new(doc, "tax", json_null());
    html = html_of(doc);
    cr_assert_not_null(strstr(html, "<title>Draft invoice in_7Hq2b"));
    cr_assert_not_null(strstr(html, "<h1>Draft invoice <span class=\"badge draft\">Draft</span></h1>"));
    cr_assert_not_null(strstr(html, "Created</dt><dd>28 Nov 2026<"));
    cr_assert_null(strstr(html, "Invoice number"));
    cr_assert_null(strstr(html, "Sales tax"));
    cr_assert_not_null(strstr(html, ">DRAFT<"));
    free(html);
    json_decref(doc);
}

/* ---- PDF ----------------------------------------------------------------------------------------- */

Test(billing_render, pdf_text_reads_back)
{
    json_t *doc = sample();
    char *text = pdf_text(doc);
    cr_assert_not_null(strstr(text, "Invoice"));
    cr_assert_not_null(strstr(text, "ATR-000001"), "%s", text);
    cr_assert_not_null(strstr(text, "Zo\xc3\xab M\xc3\xbcller GmbH"), "%s", text);
    cr_assert_not_null(strstr(text, "Friedrichstra\xc3\x9f"
                                    "e 12"));
    cr_assert_not_null(strstr(text, "DE123456789"));
    cr_assert_not_null(strstr(text, "Atrium Cloud Ltd"));
    cr_assert_not_null(strstr(text, "28 Nov 2026"));
    cr_assert_not_null(strstr(text, "12 Dec 2026"));
    cr_assert_not_null(strstr(text, "Pro \xe2\x80\x94 5 seats \xc3\x97 $39.00"), "%s", text);
    for (size_t i = 0; i < sizeof sample_amounts / sizeof sample_amounts[0]; i++)
        cr_assert_not_null(strstr(text, sample_amounts[i]), "%s missing from\n%s", sample_amounts[i], text);
    cr_assert(has_line(text, "Subtotal", "$234.87"), "%s", text);
    cr_assert(has_line(text, "VAT 19%", "$44.63"), "%s", text);
    cr_assert(has_line(text, "Total", "$279.50"), "%s", text);
    cr_assert(has_line(text, "Applied balance", "-$10.00"), "%s", text);
    cr_assert(has_line(text, "Amount due", "$269.50"), "%s", text);
    cr_assert_not_null(strstr(text, "Page 1 of 1"));
    cr_assert_not_null(strstr(text, "in_7Hq2b"));
    free(text);
    json_decref(doc);
}

Test(billing_render, pdf_is_a_function_of_the_document)
{
    json_t *doc = sample();
    size_t a_len, b_len;
    unsigned char *a = pdf_of(doc, &a_len), *b = pdf_of(doc, &b_len);
    cr_assert_eq(a_len, b_len);
    cr_assert_eq(memcmp(a, b, a_len), 0, "the creation date comes from the invoice, not the clock");
    char *info = pdf_tool(a, a_len, "pdfinfo -isodates %s");
    cr_assert_not_null(strstr(info, "Invoice ATR-000001"), "%s", info);
    cr_assert_not_null(strstr(info, "2026-11-28T00:35:56"), "%s", info);
    free(info);
    free(a);
    free(b);
    json_decref(doc);
}

Test(billing_render, pdf_paginates_long_invoices)
{
    json_t *doc = sample();
    json_t *lines = json_array();
    for (int i = 1; i <= 120; i++) {
        char desc[64];
        snprintf(desc, sizeof desc, "Usage item %d", i);
        json_array_append_new(lines, json_pack("{s:s, s:s, s:i, s:i, s:i}", "kind", "usage", "description", desc,
                                               "quantity", i, "unit_amount", 100, "amount", 100 * i));
    }
    json_object_set_new(doc, "lines", lines);
    size_t len;
    unsigned char *pdf = pdf_of(doc, &len);
    int pages = pdf_pages(pdf, len);
    cr_assert_geq(pages, 3);
    char *text = pdf_tool(pdf, len, "pdftotext -layout -enc UTF-8 - - < %s");
    char want[64];
    for (int i = 1; i <= pages; i++) {
        snprintf(want, sizeof want, "Page %d of %d", i, pages);
        cr_assert_eq(count(text, want), 1, "%s", want);
    }
    cr_assert_geq(count(text, "DESCRIPTION"), (size_t)pages - 1); /* the header repeats on each page of rows */
    cr_assert_not_null(strstr(text, "Usage item 1 "));
    cr_assert_not_null(strstr(text, "Usage item 120"));
    cr_assert_not_null(strstr(text, "$120.00"));
    cr_assert_not_null(strstr(text, "(continued)"));
    cr_assert(has_line(text, "Total", "$279.50"));
    free(text);
    free(pdf);
    json_decref(doc);
}

Test(billing_render, pdf_survives_awkward_text)
{
    json_t *doc = sample();
    char word[3001];
    memset(word, 'W', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    buf words;
    buf_init(&words);
    for (int i = 0; i < 400; i++)
        buf_printf(&words, "word%d ", i);
    json_t *lines = json_object_get(doc, "lines");
    json_object_set_new(json_array_get(lines, 0), "description", json_string(word));
    json_object_set_new(json_array_get(lines, 1), "description", json_string(words.data));
    json_object_set_new(json_array_get(lines, 2), "description", json_string("tab\there\nnew line \xe2\x82\xac"));
    json_object_set_new(json_object_get(doc, "customer"), "name", json_string(words.data));
    json_object_set_new(doc, "currency", json_string("EUR"));
    buf_free(&words);
    char *text = pdf_text(doc);
    cr_assert_not_null(strstr(text, "\xe2\x80\xa6"), "long text ends in an ellipsis");
    cr_assert_not_null(strstr(text, "word0 word1"));
    cr_assert_null(strstr(text, "word399"));
    cr_assert_not_null(strstr(text, "\xe2\x82\xac"));
    cr_assert(has_line(text, "Total",
                       "\xe2\x82\xac"
                       "279.50"),
              "%s", text);
    free(text);
    json_decref(doc);
}

Test(billing_render, pdf_states_and_empty_lines)
{
    json_t *doc = sample();
    json_object_set_new(doc, "status", json_string("draft"));
    json_object_set_new(doc, "number", json_null());
    json_object_set_new(doc, "lines", json_array());
    json_object_set_new(doc, "issuer", json_null());
    size_t len;
    unsigned char *pdf = pdf_of(doc, &len);
    /* -raw, because the layout modes leave out diagonal text such as the watermark */
    char *text = pdf_tool(pdf, len, "pdftotext -raw -enc UTF-8 - - < %s");
    cr_assert_not_null(strstr(text, "Draft invoice"));
    cr_assert_not_null(strstr(text, "DRAFT"));
    cr_assert_not_null(strstr(text, "Page 1 of 1"));
    cr_assert_not_null(strstr(text, "This is a draft"));
    free(text);
    free(pdf);
    json_decref(doc);
}

Test(billing_render, bad_documents_are_refused)
{
    static const char *const drop[] = {"id", "currency", "lines", "subtotal", "total", "amount_due"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0] + 8; i++) {
        json_t *doc = sample();
        json_t *line0 = json_array_get(json_object_get(doc, "lines"), 0);
        if (i < sizeof drop / sizeof drop[0])
            json_object_del(doc, drop[i]);
        else if (i == 6)
            json_object_set_new(doc, "total", json_string("279.50"));
        else if (i == 7)
            json_object_set_new(doc, "currency", json_string("usd"));
        else if (i == 8)
            json_object_set_new(doc, "lines", json_object());
        else if (i == 9)
            json_object_del(line0, "amount");
        else if (i == 10)
            json_object_set_new(line0, "amount", json_real(49.0));
        else if (i == 11)
            json_object_set_new(line0, "description", json_null());
        else if (i == 12)
            json_object_set_new(doc, "id", json_string(""));
        else
            json_array_append_new(json_object_get(doc, "lines"), json_string("a line"));
        buf out;
        buf_init(&out);
        cr_assert_eq(billing_render_html(doc, &out), AT_EINVAL, "case %zu", i);
        cr_assert_eq(out.len, 0);
        unsigned char *pdf = (unsigned char *)"x";
        size_t len = 7;
        cr_assert_eq(billing_render_pdf(doc, &pdf, &len), AT_EINVAL, "case %zu", i);
        cr_assert_null(pdf);
        cr_assert_eq(len, 0);
        json_decref(doc);
    }
    json_t *arr = json_array();
    buf out;
    buf_init(&out);
    cr_assert_eq(billing_render_html(arr, &out), AT_EINVAL);
    cr_assert_eq(billing_render_html(NULL, &out), AT_EINVAL);
    json_decref(arr);
}
