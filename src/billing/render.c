/* Invoice documents (render.h): the HTML view and the A4 PDF of one invoice.
 *
 * Both renderers read one model, built and checked once from the invoice's JSON document by
 * rd_model_build: every amount already formatted with money_format, every date as "28 Nov 2026" (UTC),
 * the totals as a list of rows. A document without its id, currency, lines or totals is refused with
 * AT_EINVAL before anything is written; optional fields that are missing, null or malformed are left
 * out of the page rather than failing it.
 *
 * The PDF is drawn with cairo's toy text API in DejaVu Sans. Its layout runs twice over the same cairo
 * context: a dry pass that only measures (so it knows the page count for "Page N of M"), then the pass
 * that draws. Both take the same page breaks because they run the same code. cairo's sticky error is
 * checked once, at the end. */
#include "billing/render.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "billing/money.h"
#include "mail/templates.h"

#include <cairo-pdf.h>
#include <dlfcn.h>
#include <cairo.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum rd_status { RD_UNKNOWN = 0, RD_DRAFT, RD_OPEN, RD_PAID, RD_VOID, RD_UNCOLLECTIBLE };

enum {
    RD_MAX_ADDRESS = 8, /* address lines shown per party; more are dropped */
    RD_MAX_TOTALS = 8,
    RD_DATE = 24,   /* "28 Nov 2026" */
    RD_PERIOD = 64, /* "1 Nov 2026 – 1 Dec 2026" */
    RD_MONEY = 48,  /* money_format's buffer */
};

#define RD_TOTAL_STRONG (1u << 0) /* the Total row: bold, a rule above */
#define RD_TOTAL_DUE    (1u << 1) /* the Amount due row: larger, bold, a heavy rule above */

typedef struct rd_party {
    const char *name, *email, *tax_id, *country; /* NULL when absent or empty */
    const char *address[RD_MAX_ADDRESS];
    size_t naddress;
} rd_party;

typedef struct rd_line {
    const char *description;
    char quantity[24];   /* "" when the line has none */
    char unit[RD_MONEY]; /* "" when the line has no unit amount */
    char amount[RD_MONEY];
    char period[RD_PERIOD]; /* "" unless the line covers a period other than the invoice's */
} rd_line;

typedef struct rd_total {
    const char *label;
    char suffix[16]; /* after the label: the tax rate, "19%" */
    char value[RD_MONEY];
    unsigned flags; /* RD_TOTAL_* */
} rd_total;

/* Everything either renderer shows, formatted. Strings point into the JSON document, which outlives
 * the model; the line array is owned (rd_model_free). */
typedef struct rd_model {
    const char *id, *number, *currency;
    int status;
    const char *title;       /* "Invoice" or "Draft invoice" */
    const char *badge;       /* "Paid", ... or NULL */
    const char *badge_class; /* "paid", ... (HTML class) */
    const char *watermark;   /* "DRAFT", "VOID" or NULL */
    const char *issued_label;
    char issued[RD_DATE], due[RD_DATE], paid_on[RD_DATE], voided_on[RD_DATE], uncollectible_on[RD_DATE];
    char period[RD_PERIOD];
    char created_iso[32]; /* "2026-11-28T00:35:56Z" for the PDF's creation date, or "" */
    rd_party issuer, customer;
    rd_line *lines;
    size_t nlines;
    rd_total totals[RD_MAX_TOTALS];
    size_t ntotals;
    char headline[160]; /* "$232.05 due 12 Dec 2026" */
    const char *headline_note;
} rd_model;

static int rd_model_build(const json_t *inv, rd_model *m);
static void rd_model_free(rd_model *m);
static const char *rd_str(const json_t *o, const char *key);
static bool rd_int(const json_t *o, const char *key, int64_t *out);
static bool rd_date(const json_t *o, const char *key, char out[RD_DATE], char iso[32]);
static void rd_period(const json_t *o, char out[RD_PERIOD]);
static void rd_party_read(const json_t *o, rd_party *p);
static void rd_rate(int64_t rate_bp, char out[16]);
static rd_total *rd_total_add(rd_model *m, const char *label, int64_t amount, unsigned flags);

static void html_document(const rd_model *m, buf *out);
static void html_party(buf *out, const char *heading, const rd_party *p);
static void html_esc(buf *out, const char *s);

#define PDF_W      595.28 /* A4, in points */
#define PDF_H      841.89
#define PDF_MARGIN 50.0
#define PDF_RIGHT  (PDF_W - PDF_MARGIN)
#define PDF_BOTTOM (PDF_H - PDF_MARGIN - 30.0) /* content stops here; the footer sits below */
#define PDF_FONT   "DejaVu Sans"

/* Table columns: right edges of the numeric columns, and the description's width. */
#define PDF_COL_AMOUNT PDF_RIGHT
#define PDF_COL_UNIT   (PDF_RIGHT - 92.0)
#define PDF_COL_QTY    (PDF_RIGHT - 184.0)
#define PDF_DESC_W     (PDF_COL_QTY - 56.0 - PDF_MARGIN)

#define PDF_BODY     9.0
#define PDF_LEADING  13.0
#define PDF_ROW_PAD  7.0
#define PDF_MAX_WRAP 8 /* description lines per table row; the last one ends in "…" when cut */

#define PDF_INK    0x1f2329u
#define PDF_MUTED  0x5b6270u
#define PDF_FAINT  0x8a909cu
#define PDF_RULE   0xe3e5e8u
#define PDF_ACCENT 0x2f5beau

enum { PDF_LEFT = 0, PDF_RIGHT_ALIGN = 1, PDF_CENTER = 2 };

typedef struct pdf_span {
    size_t start, len;
    bool ellipsis; /* draw the rest of the text from start, shortened with "…" */
} pdf_span;

typedef struct pdf_ctx {
    cairo_t *cr;
    const rd_model *m;
    bool dry; /* measure only: no drawing, no show_page */
    int page, pages;
    buf scratch;
} pdf_ctx;

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int length);
static void pdf_layout(pdf_ctx *p);
static double pdf_first_header(pdf_ctx *p);
static double pdf_next_header(pdf_ctx *p);
static double pdf_table_header(pdf_ctx *p, double y);
static double pdf_line_height(pdf_ctx *p, const rd_line *l);
static void pdf_line(pdf_ctx *p, const rd_line *l, double y);
static double pdf_totals_height(const rd_model *m);
static void pdf_totals(pdf_ctx *p, double y);
static void pdf_page_start(pdf_ctx *p);
static void pdf_page_end(pdf_ctx *p);
static double pdf_party(pdf_ctx *p, double x, double y, double w, const char *heading, const rd_party *party);
static void pdf_font(pdf_ctx *p, double size, bool bold);
static void pdf_rgb(pdf_ctx *p, uint32_t rgb);
static const char *pdf_clean(pdf_ctx *p, const char *s, size_t len);
static double pdf_measure(pdf_ctx *p, const char *s, size_t len);
static void pdf_text(pdf_ctx *p, double x, double y, const char *s, int align);
static void pdf_text_fit(pdf_ctx *p, double x, double y, const char *s, double maxw);
static int pdf_wrap(pdf_ctx *p, const char *s, double maxw, pdf_span *spans, int max_spans);
static double pdf_para(pdf_ctx *p, double x, double y, const char *s, double w, double leading, int max_lines);
static void pdf_rule(pdf_ctx *p, double x0, double x1, double y, double width, uint32_t rgb);

/* ------------------------------------------------------------------------------------------------ */
/* Public functions                                                                                 */
/* ------------------------------------------------------------------------------------------------ */

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

/* billing_render_pdf builds the model, lays the document out once dry to count the pages, then draws
 * it into a PDF surface that streams into a buffer. On success *pdf (malloc'd, the caller frees it)
 * and *len hold the file; on failure both are NULL/0. */
int billing_render_pdf(const json_t *invoice, unsigned char **pdf, size_t *len)
{
    *pdf = NULL;
    *len = 0;
    rd_model m;
    int rc = rd_model_build(invoice, &m);
    if (rc != AT_OK)
        return rc;

    buf file;
    buf_init(&file);
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(pdf_write, &file, PDF_W, PDF_H);
    buf title;
    buf_init(&title);
    buf_printf(&title, "%s %s", m.title, m.number ? m.number : m.id);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.data);
    buf_free(&title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Atrium");
    if (m.issuer.name)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, m.issuer.name);
    /* A fixed date keeps the file a function of the invoice (cairo would stamp the current time). */
    if (m.created_iso[0])
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, m.created_iso);

    pdf_ctx p = {.cr = cairo_create(surface), .m = &m, .dry = true, .page = 1, .pages = 1};
    buf_init(&p.scratch);
    pdf_layout(&p);
    p.pages = p.page - 1; /* pdf_page_end counted one past the last page */
    p.dry = false;
    p.page = 1;
    pdf_layout(&p);

    cairo_status_t st = cairo_status(p.cr);
    cairo_destroy(p.cr);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    buf_free(&p.scratch);
    rd_model_free(&m);
    if (st != CAIRO_STATUS_SUCCESS || file.len < 5) {
        buf_free(&file);
        return AT_EINTERNAL;
    }
    *pdf = (unsigned char *)buf_steal(&file, len);
    return AT_OK;
}

/* ------------------------------------------------------------------------------------------------ */
/* The model                                                                                        */
/* ------------------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int status;
    const char *badge;
} rd_statuses[] = {
    {"draft", RD_DRAFT, "Draft"},
    {"open", RD_OPEN, "Open"},
    {"paid", RD_PAID, "Paid"},
    {"void", RD_VOID, "Void"},
    {"uncollectible", RD_UNCOLLECTIBLE, "Uncollectible"},
};

/* rd_model_build reads the invoice document into m. Requires id (non-empty string), currency (three
 * letters A-Z), lines (an array of objects, each with a string description and an integer amount),
 * and the integer totals subtotal, total and amount_due; anything else is optional. Returns AT_OK (m
 * then needs rd_model_free) or AT_EINVAL (m holds nothing to free). */
static int rd_model_build(const json_t *inv, rd_model *m)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(inv))
        return AT_EINVAL;
    m->id = rd_str(inv, "id");
    m->currency = rd_str(inv, "currency");
    const json_t *lines = json_object_get(inv, "lines");
    int64_t subtotal, total, amount_due;
    if (!m->id || !m->currency || !json_is_array(lines) || !rd_int(inv, "subtotal", &subtotal) ||
        !rd_int(inv, "total", &total) || !rd_int(inv, "amount_due", &amount_due))
        return AT_EINVAL;
    if (strlen(m->currency) != 3)
        return AT_EINVAL;
    for (int i = 0; i < 3; i++)
        if (m->currency[i] < 'A' || m->currency[i] > 'Z')
            return AT_EINVAL;
    size_t n = json_array_size(lines);
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(lines, i);
        int64_t amount;
        if (!json_is_object(l) || !json_is_string(json_object_get(l, "description")) || !rd_int(l, "amount", &amount))
            return AT_EINVAL;
    }

    m->number = rd_str(inv, "number");
    const char *status = rd_str(inv, "status");
    for (size_t i = 0; status && i < sizeof rd_statuses / sizeof rd_statuses[0]; i++)
        if (strcmp(status, rd_statuses[i].name) == 0) {
            m->status = rd_statuses[i].status;
            m->badge = rd_statuses[i].badge;
            m->badge_class = rd_statuses[i].name;
        }
    m->title = m->status == RD_DRAFT ? "Draft invoice" : "Invoice";
    m->watermark = m->status == RD_DRAFT ? "DRAFT" : m->status == RD_VOID ? "VOID" : NULL;

    char iso[32];
    m->issued_label = "Date of issue";
    if (!rd_date(inv, "finalized_at", m->issued, m->created_iso)) {
        m->issued_label = "Created";
        rd_date(inv, "created_at", m->issued, m->created_iso);
    }
    rd_date(inv, "due_at", m->due, iso);
    rd_date(inv, "paid_at", m->paid_on, iso);
    rd_date(inv, "voided_at", m->voided_on, iso);
    rd_date(inv, "marked_uncollectible_at", m->uncollectible_on, iso);
    rd_period(inv, m->period);
    rd_party_read(json_object_get(inv, "issuer"), &m->issuer);
    rd_party_read(json_object_get(inv, "customer"), &m->customer);

    m->nlines = n;
    m->lines = n ? xcalloc(n, sizeof *m->lines) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(lines, i);
        rd_line *o = &m->lines[i];
        int64_t v = 0;
        o->description = json_string_value(json_object_get(l, "description"));
        if (rd_int(l, "quantity", &v))
            snprintf(o->quantity, sizeof o->quantity, "%lld", (long long)v);
        if (rd_int(l, "unit_amount", &v))
            money_format(v, m->currency, o->unit);
        rd_int(l, "amount", &v);
        money_format(v, m->currency, o->amount);
        rd_period(l, o->period);
        if (strcmp(o->period, m->period) == 0)
            o->period[0] = '\0';
    }

    int64_t applied = 0, paid = 0, remaining;
    rd_int(inv, "applied_balance", &applied);
    rd_int(inv, "amount_paid", &paid);
    if (!rd_int(inv, "amount_remaining", &remaining))
        remaining = amount_due - paid;
    rd_total_add(m, "Subtotal", subtotal, 0);
    const json_t *tax = json_object_get(inv, "tax");
    int64_t tax_amount;
    if (json_is_object(tax) && rd_int(tax, "amount", &tax_amount)) {
        const char *name = rd_str(tax, "name");
        rd_total *t = rd_total_add(m, name ? name : "Tax", tax_amount, 0);
        int64_t bp;
        if (rd_int(tax, "rate_bp", &bp))
            rd_rate(bp, t->suffix);
    }
    rd_total_add(m, "Total", total, RD_TOTAL_STRONG);
    if (applied != 0)
        rd_total_add(m, "Applied balance", applied, 0);
    if (paid != 0 || m->status == RD_PAID)
        rd_total_add(m, "Amount paid", paid, 0);
    rd_total_add(m, "Amount due", remaining, RD_TOTAL_DUE);

    char money[RD_MONEY];
    switch (m->status) {
    case RD_PAID:
        money_format(paid, m->currency, money);
        snprintf(m->headline, sizeof m->headline, "%s paid%s%s", money, m->paid_on[0] ? " on " : "", m->paid_on);
        m->headline_note = "Thank you for your payment.";
        break;
    case RD_VOID:
        snprintf(m->headline, sizeof m->headline, "Voided%s%s", m->voided_on[0] ? " on " : "", m->voided_on);
        m->headline_note = "This invoice is void and is not payable.";
        break;
    case RD_UNCOLLECTIBLE:
        money_format(remaining, m->currency, money);
        snprintf(m->headline, sizeof m->headline, "%s marked uncollectible%s%s", money,
                 m->uncollectible_on[0] ? " on " : "", m->uncollectible_on);
        break;
    default:
        money_format(remaining, m->currency, money);
        snprintf(m->headline, sizeof m->headline, "%s due%s%s", money, m->due[0] ? " " : "", m->due);
        if (m->status == RD_DRAFT)
            m->headline_note = "This is a draft, not a request for payment. Amounts may still change.";
        break;
    }
    return AT_OK;
}

static void rd_model_free(rd_model *m)
{
    free(m->lines);
    memset(m, 0, sizeof *m);
}

/* rd_str returns o[key] when it is a non-empty string, else NULL. */
static const char *rd_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && s[0] ? s : NULL;
}

/* rd_int stores o[key] in *out and returns true when it is a JSON integer; otherwise leaves *out. */
static bool rd_int(const json_t *o, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* rd_date formats o[key], an RFC 3339 time, as the UTC day "28 Nov 2026" in out and as
 * "2026-11-28T00:35:56Z" in iso. Returns false (out and iso "") when the field is absent or invalid.
 * Month names are spelled here, not by strftime, so no locale can change them. */
static bool rd_date(const json_t *o, const char *key, char out[RD_DATE], char iso[32])
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    out[0] = iso[0] = '\0';
    const char *s = rd_str(o, key);
    int64_t us;
    if (!s || clock_parse_rfc3339(s, strlen(s), &us) != AT_OK)
        return false;
    int64_t sec = us / 1000000 - (us % 1000000 < 0); /* floor, for times before 1970 */
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return false;
    snprintf(out, RD_DATE, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
    snprintf(iso, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    return true;
}

/* rd_period writes "1 Nov 2026 – 1 Dec 2026" from o's period_start and period_end, one date alone
 * when the other is missing, or "". */
static void rd_period(const json_t *o, char out[RD_PERIOD])
{
    char a[RD_DATE], b[RD_DATE], iso[32];
    rd_date(o, "period_start", a, iso);
    rd_date(o, "period_end", b, iso);
    if (a[0] && b[0] && strcmp(a, b) != 0)
        snprintf(out, RD_PERIOD, "%s \xe2\x80\x93 %s", a, b);
    else
        snprintf(out, RD_PERIOD, "%s", a[0] ? a : b);
}

static void rd_party_read(const json_t *o, rd_party *p)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(o))
        return;
    p->name = rd_str(o, "name");
    p->email = rd_str(o, "email");
    p->tax_id = rd_str(o, "tax_id");
    p->country = rd_str(o, "country");
    const json_t *addr = json_object_get(o, "address");
    for (size_t i = 0; i < json_array_size(addr) && p->naddress < RD_MAX_ADDRESS; i++) {
        const char *line = json_string_value(json_array_get(addr, i));
        if (line && line[0])
            p->address[p->naddress++] = line;
    }
    /* The country is shown only when the address lines do not already carry it. */
    if (p->naddress > 0)
        p->country = NULL;
}

/* rd_rate writes a rate in basis points as a percentage without trailing zeros: 1900 -> "19%",
 * 1950 -> "19.5%", 725 -> "7.25%". Negative or absurd rates give "". */
static void rd_rate(int64_t bp, char out[16])
{
    out[0] = '\0';
    if (bp < 0 || bp > 1000000)
        return;
    long long whole = (long long)(bp / 100), frac = (long long)(bp % 100);
    if (frac == 0)
        snprintf(out, 16, "%lld%%", whole);
    else if (frac % 10 == 0)
        snprintf(out, 16, "%lld.%lld%%", whole, frac / 10);
    else
        snprintf(out, 16, "%lld.%02lld%%", whole, frac);
}

static rd_total *rd_total_add(rd_model *m, const char *label, int64_t amount, unsigned flags)
{
    rd_total *t = &m->totals[m->ntotals++];
    t->label = label;
    t->suffix[0] = '\0';
    money_format(amount, m->currency, t->value);
    t->flags = flags;
    return t;
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
    const struct {
        const char *label, *value;
    } meta[] = {
        {"Invoice number", m->number},
        {m->issued_label, m->issued},
        {"Date due", m->due},
        {"Service period", m->period},
        {"Date paid", m->paid_on},
        {"Voided on", m->voided_on},
        {"Marked uncollectible", m->uncollectible_on},
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        if (!meta[i].value || !meta[i].value[0])
            continue;
        buf_printf(out, "<dt>%s</dt><dd>", meta[i].label);
        html_esc(out, meta[i].value);
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

/* ------------------------------------------------------------------------------------------------ */
/* PDF                                                                                              */
/* ------------------------------------------------------------------------------------------------ */

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int length)
{
    buf_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* pdf_layout runs the whole document from page 1: the first page's header, the table rows (a new page
 * with the continuation header and the table header again whenever a row would cross the bottom
 * margin), then the totals (on a page of their own when they do not fit under the last row). In the
 * dry pass it only advances p->page. */
static void pdf_layout(pdf_ctx *p)
{
    const rd_model *m = p->m;
    pdf_page_start(p);
    double y = pdf_table_header(p, pdf_first_header(p));
    for (size_t i = 0; i < m->nlines; i++) {
        double h = pdf_line_height(p, &m->lines[i]);
        if (y + h > PDF_BOTTOM) {
            pdf_page_end(p);
            pdf_page_start(p);
            y = pdf_table_header(p, pdf_next_header(p));
        }
        pdf_line(p, &m->lines[i], y);
        y += h;
    }
    y += 14.0;
    if (y + pdf_totals_height(m) > PDF_BOTTOM) {
        pdf_page_end(p);
        pdf_page_start(p);
        y = pdf_next_header(p) + 8.0;
    }
    pdf_totals(p, y);
    pdf_page_end(p);
}

/* pdf_page_start draws what is under everything else on a page: the DRAFT or VOID watermark. */
static void pdf_page_start(pdf_ctx *p)
{
    if (p->dry || !p->m->watermark)
        return;
    cairo_t *cr = p->cr;
    cairo_save(cr);
    pdf_font(p, 120.0, true);
    cairo_text_extents_t e;
    cairo_text_extents(cr, p->m->watermark, &e);
    cairo_translate(cr, PDF_W / 2.0, PDF_H / 2.0);
    cairo_rotate(cr, -30.0 * M_PI / 180.0);
    cairo_set_source_rgb(cr, 0.94, 0.945, 0.955);
    cairo_move_to(cr, -(e.x_bearing + e.width / 2.0), -(e.y_bearing + e.height / 2.0));
    cairo_show_text(cr, p->m->watermark);
    cairo_restore(cr);
}

/* pdf_page_end draws the footer (title, number and id on the left, "Page N of M" on the right) and
 * emits the page. */
static void pdf_page_end(pdf_ctx *p)
{
    const rd_model *m = p->m;
    double y = PDF_H - PDF_MARGIN + 4.0;
    pdf_rule(p, PDF_MARGIN, PDF_RIGHT, y - 14.0, 0.5, PDF_RULE);
    pdf_font(p, 7.5, false);
    pdf_rgb(p, PDF_FAINT);
    char page[48];
    snprintf(page, sizeof page, "Page %d of %d", p->page, p->pages);
    pdf_text(p, PDF_RIGHT, y, page, PDF_RIGHT_ALIGN);
    buf left;
    buf_init(&left);
    buf_printf(&left, "%s%s%s \xc2\xb7 %s", m->title, m->number ? " " : "", m->number ? m->number : "", m->id);
    if (m->issuer.name)
        buf_printf(&left, " \xc2\xb7 %s", m->issuer.name);
    pdf_text_fit(p, PDF_MARGIN, y, left.data, PDF_RIGHT - PDF_MARGIN - 80.0);
    buf_free(&left);
    if (!p->dry)
        cairo_show_page(p->cr);
    p->page++;
}

/* pdf_first_header draws the title with its status badge, the issuer's name, the dates, the two
 * parties and the headline amount; returns the y where the table starts. */
static double pdf_first_header(pdf_ctx *p)
{
    const rd_model *m = p->m;
    cairo_t *cr = p->cr;
    double y = PDF_MARGIN + 22.0;

    pdf_font(p, 22.0, true);
    pdf_rgb(p, PDF_INK);
    pdf_text(p, PDF_MARGIN, y, m->title, PDF_LEFT);
    double tw = pdf_measure(p, m->title, strlen(m->title));
    if (m->badge) {
        pdf_font(p, 8.0, true);
        double bw = pdf_measure(p, m->badge, strlen(m->badge)) + 14.0, bh = 15.0;
        double bx = PDF_MARGIN + tw + 12.0, by = y - 15.0;
        uint32_t bg = 0xeef0f2u, fg = PDF_MUTED;
        if (m->status == RD_OPEN)
            bg = 0xeaf0feu, fg = PDF_ACCENT;
        else if (m->status == RD_PAID)
            bg = 0xe6f4eau, fg = 0x1e7a3cu;
        else if (m->status == RD_UNCOLLECTIBLE)
            bg = 0xfcefe6u, fg = 0xa8480fu;
        if (!p->dry) {
            double r = bh / 2.0;
            cairo_new_sub_path(cr);
            cairo_arc(cr, bx + bw - r, by + r, r, -M_PI / 2.0, M_PI / 2.0);
            cairo_arc(cr, bx + r, by + r, r, M_PI / 2.0, 3.0 * M_PI / 2.0);
            cairo_close_path(cr);
            pdf_rgb(p, bg);
            cairo_fill(cr);
        }
        pdf_rgb(p, fg);
        pdf_text(p, bx + 7.0, by + 10.5, m->badge, PDF_LEFT);
    }
    if (m->issuer.name) {
        pdf_font(p, 12.0, true);
        pdf_rgb(p, PDF_INK);
        double maxw = PDF_RIGHT - (PDF_MARGIN + tw + 110.0);
        double w = pdf_measure(p, m->issuer.name, strlen(m->issuer.name));
        pdf_text_fit(p, PDF_RIGHT - (w < maxw ? w : maxw), y - 4.0, m->issuer.name, maxw);
    }

    y += 30.0;
    const struct {
        const char *label, *value;
    } meta[] = {
        {"Invoice number", m->number},
        {m->issued_label, m->issued},
        {"Date due", m->due},
        {"Service period", m->period},
        {"Date paid", m->paid_on},
        {"Voided on", m->voided_on},
        {"Marked uncollectible", m->uncollectible_on},
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        if (!meta[i].value || !meta[i].value[0])
            continue;
        pdf_font(p, PDF_BODY, false);
        pdf_rgb(p, PDF_MUTED);
        pdf_text(p, PDF_MARGIN, y, meta[i].label, PDF_LEFT);
        pdf_rgb(p, PDF_INK);
        pdf_text_fit(p, PDF_MARGIN + 110.0, y, meta[i].value, PDF_RIGHT - PDF_MARGIN - 110.0);
        y += PDF_LEADING + 1.0;
    }

    y += 22.0;
    double colw = (PDF_RIGHT - PDF_MARGIN - 30.0) / 2.0;
    double y1 = pdf_party(p, PDF_MARGIN, y, colw, "FROM", &m->issuer);
    double y2 = pdf_party(p, PDF_MARGIN + colw + 30.0, y, colw, "BILL TO", &m->customer);
    y = (y1 > y2 ? y1 : y2) + 30.0;

    pdf_font(p, 15.0, true);
    pdf_rgb(p, PDF_INK);
    pdf_text_fit(p, PDF_MARGIN, y, m->headline, PDF_RIGHT - PDF_MARGIN);
    if (m->headline_note) {
        y += 16.0;
        pdf_font(p, PDF_BODY, false);
        pdf_rgb(p, PDF_MUTED);
        pdf_text(p, PDF_MARGIN, y, m->headline_note, PDF_LEFT);
    }
    return y + 28.0;
}

/* pdf_next_header draws the top of a continuation page; returns the y below it. */
static double pdf_next_header(pdf_ctx *p)
{
    const rd_model *m = p->m;
    double y = PDF_MARGIN + 12.0;
    buf t;
    buf_init(&t);
    buf_printf(&t, "%s %s", m->title, m->number ? m->number : m->id);
    pdf_font(p, 11.0, true);
    pdf_rgb(p, PDF_INK);
    pdf_text(p, PDF_MARGIN, y, t.data, PDF_LEFT);
    double tw = pdf_measure(p, t.data, t.len);
    buf_free(&t);
    pdf_font(p, PDF_BODY, false);
    pdf_rgb(p, PDF_FAINT);
    pdf_text(p, PDF_MARGIN + tw + 8.0, y, "(continued)", PDF_LEFT);
    if (m->issuer.name) {
        pdf_rgb(p, PDF_MUTED);
        double w = pdf_measure(p, m->issuer.name, strlen(m->issuer.name)), maxw = 200.0;
        pdf_text_fit(p, PDF_RIGHT - (w < maxw ? w : maxw), y, m->issuer.name, maxw);
    }
    return y + 30.0;
}

/* pdf_party draws one address block (a small-caps heading, then name, address, tax id, email) at
 * (x, y) in width w; returns the baseline of its last line. Long values wrap onto a few lines. */
static double pdf_party(pdf_ctx *p, double x, double y, double w, const char *heading, const rd_party *party)
{
    pdf_font(p, 7.5, true);
    pdf_rgb(p, PDF_FAINT);
    pdf_text(p, x, y, heading, PDF_LEFT);
    y += 16.0;
    if (party->name) {
        pdf_font(p, PDF_BODY + 0.5, true);
        pdf_rgb(p, PDF_INK);
        y = pdf_para(p, x, y, party->name, w, PDF_LEADING, 3) + 1.0;
    }
    pdf_font(p, PDF_BODY, false);
    pdf_rgb(p, PDF_INK);
    for (size_t i = 0; i < party->naddress; i++)
        y = pdf_para(p, x, y, party->address[i], w, PDF_LEADING, 2);
    if (party->country)
        y = pdf_para(p, x, y, party->country, w, PDF_LEADING, 1);
    pdf_rgb(p, PDF_MUTED);
    if (party->tax_id) {
        buf t;
        buf_init(&t);
        buf_printf(&t, "Tax ID %s", party->tax_id);
        y = pdf_para(p, x, y, t.data, w, PDF_LEADING, 2);
        buf_free(&t);
    }
    if (party->email)
        y = pdf_para(p, x, y, party->email, w, PDF_LEADING, 2);
    return y - PDF_LEADING;
}

/* pdf_table_header draws the column headings with a rule under them; returns the first row's top. */
static double pdf_table_header(pdf_ctx *p, double y)
{
    pdf_font(p, 7.5, true);
    pdf_rgb(p, PDF_FAINT);
    pdf_text(p, PDF_MARGIN, y, "DESCRIPTION", PDF_LEFT);
    pdf_text(p, PDF_COL_QTY, y, "QTY", PDF_RIGHT_ALIGN);
    pdf_text(p, PDF_COL_UNIT, y, "UNIT PRICE", PDF_RIGHT_ALIGN);
    pdf_text(p, PDF_COL_AMOUNT, y, "AMOUNT", PDF_RIGHT_ALIGN);
    pdf_rule(p, PDF_MARGIN, PDF_RIGHT, y + 7.0, 0.75, PDF_RULE);
    return y + 7.0;
}

/* pdf_line_height returns the height of a table row: its wrapped description, the period under it. */
static double pdf_line_height(pdf_ctx *p, const rd_line *l)
{
    pdf_span spans[PDF_MAX_WRAP];
    pdf_font(p, PDF_BODY, false);
    int n = pdf_wrap(p, l->description, PDF_DESC_W, spans, PDF_MAX_WRAP);
    if (n < 1)
        n = 1;
    return 2.0 * PDF_ROW_PAD + n * PDF_LEADING + (l->period[0] ? 12.0 : 0.0);
}

/* pdf_line draws one table row whose top is y, and the hairline under it. */
static void pdf_line(pdf_ctx *p, const rd_line *l, double y)
{
    pdf_font(p, PDF_BODY, false);
    pdf_rgb(p, PDF_INK);
    double base = y + PDF_ROW_PAD + PDF_BODY + 1.0;
    double below = pdf_para(p, PDF_MARGIN, base, l->description, PDF_DESC_W, PDF_LEADING, PDF_MAX_WRAP);
    pdf_text(p, PDF_COL_QTY, base, l->quantity, PDF_RIGHT_ALIGN);
    pdf_text(p, PDF_COL_UNIT, base, l->unit, PDF_RIGHT_ALIGN);
    pdf_text(p, PDF_COL_AMOUNT, base, l->amount, PDF_RIGHT_ALIGN);
    if (l->period[0]) {
        pdf_font(p, 7.5, false);
        pdf_rgb(p, PDF_FAINT);
        pdf_text(p, PDF_MARGIN, (below > base ? below : base + PDF_LEADING) - 1.0, l->period, PDF_LEFT);
    }
    pdf_rule(p, PDF_MARGIN, PDF_RIGHT, y + pdf_line_height(p, l), 0.5, PDF_RULE);
}

#define PDF_TOTAL_ROW 19.0
#define PDF_TOTAL_X   (PDF_RIGHT - 240.0)

static double pdf_totals_height(const rd_model *m)
{
    return (double)m->ntotals * PDF_TOTAL_ROW + 10.0;
}

/* pdf_totals draws the totals block, right-aligned under the table, starting at y. */
static void pdf_totals(pdf_ctx *p, double y)
{
    const rd_model *m = p->m;
    for (size_t i = 0; i < m->ntotals; i++) {
        const rd_total *t = &m->totals[i];
        bool due = t->flags & RD_TOTAL_DUE, strong = t->flags & RD_TOTAL_STRONG;
        if (due) {
            y += 6.0;
            pdf_rule(p, PDF_TOTAL_X, PDF_RIGHT, y, 1.2, PDF_INK);
        } else if (strong) {
            pdf_rule(p, PDF_TOTAL_X, PDF_RIGHT, y, 0.5, PDF_RULE);
        }
        double base = y + (due ? 17.0 : 13.0);
        pdf_font(p, due ? 11.0 : PDF_BODY, due || strong);
        pdf_rgb(p, due || strong ? PDF_INK : PDF_MUTED);
        buf label;
        buf_init(&label);
        buf_printf(&label, "%s%s%s", t->label, t->suffix[0] ? " " : "", t->suffix);
        pdf_text_fit(p, PDF_TOTAL_X, base, label.data, 130.0);
        buf_free(&label);
        pdf_rgb(p, PDF_INK);
        pdf_text(p, PDF_RIGHT, base, t->value, PDF_RIGHT_ALIGN);
        y += PDF_TOTAL_ROW;
    }
}

/* ---- drawing primitives: every one is a no-op for drawing in the dry pass, measuring still works -- */

static void pdf_font(pdf_ctx *p, double size, bool bold)
{
    cairo_select_font_face(p->cr, PDF_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(p->cr, size);
}

static void pdf_rgb(pdf_ctx *p, uint32_t rgb)
{
    cairo_set_source_rgb(p->cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

/* pdf_clean copies (s, len) into the scratch buffer with control characters turned into spaces (the
 * toy API would draw them as missing glyphs) and returns it; valid until the next call. */
static const char *pdf_clean(pdf_ctx *p, const char *s, size_t len)
{
    buf_reset(&p->scratch);
    buf_append(&p->scratch, s, len);
    for (size_t i = 0; i < p->scratch.len; i++) {
        unsigned char c = (unsigned char)p->scratch.data[i];
        if (c < 0x20 || c == 0x7f)
            p->scratch.data[i] = ' ';
    }
    return p->scratch.data;
}

/* pdf_measure returns the advance width of (s, len) in the current font. */
static double pdf_measure(pdf_ctx *p, const char *s, size_t len)
{
    cairo_text_extents_t e;
    cairo_text_extents(p->cr, pdf_clean(p, s, len), &e);
    return e.x_advance;
}

/* pdf_text draws s with its baseline at y: starting at x, ending at x (PDF_RIGHT_ALIGN), or centred. */
static void pdf_text(pdf_ctx *p, double x, double y, const char *s, int align)
{
    if (!s || !s[0])
        return;
    size_t len = strlen(s);
    if (align != PDF_LEFT) {
        double w = pdf_measure(p, s, len);
        x -= align == PDF_RIGHT_ALIGN ? w : w / 2.0;
    }
    if (p->dry)
        return;
    cairo_move_to(p->cr, x, y);
    cairo_show_text(p->cr, pdf_clean(p, s, len));
}

static size_t utf8_next(const char *s, size_t i)
{
    i++;
    while (((unsigned char)s[i] & 0xc0) == 0x80)
        i++;
    return i;
}

/* pdf_text_fit draws s left-aligned at x, cut at a character boundary and ended with "…" when it is
 * wider than maxw. The cut is found from the front, so a huge string costs only what fits. */
static void pdf_text_fit(pdf_ctx *p, double x, double y, const char *s, double maxw)
{
    if (!s || !s[0])
        return;
    size_t len = strlen(s);
    if (len < 4096 && pdf_measure(p, s, len) <= maxw) {
        pdf_text(p, x, y, s, PDF_LEFT);
        return;
    }
    buf t;
    buf_init(&t);
    size_t fit = 0;
    for (size_t i = 0; s[i]; i = utf8_next(s, i)) {
        size_t next = utf8_next(s, i);
        buf_reset(&t);
        buf_append(&t, s, next);
        buf_puts(&t, "\xe2\x80\xa6");
        if (pdf_measure(p, t.data, t.len) > maxw)
            break;
        fit = next;
    }
    buf_reset(&t);
    buf_append(&t, s, fit);
    while (t.len && t.data[t.len - 1] == ' ')
        t.data[--t.len] = '\0';
    buf_puts(&t, "\xe2\x80\xa6");
    pdf_text(p, x, y, t.data, PDF_LEFT);
    buf_free(&t);
}

/* pdf_para draws s wrapped to width w in at most max_lines lines (the last one shortened with "…"
 * when text is left over), the first baseline at y; returns the baseline after its last line. */
static double pdf_para(pdf_ctx *p, double x, double y, const char *s, double w, double leading, int max_lines)
{
    pdf_span spans[PDF_MAX_WRAP];
    if (max_lines > PDF_MAX_WRAP)
        max_lines = PDF_MAX_WRAP;
    int n = pdf_wrap(p, s, w, spans, max_lines);
    for (int i = 0; i < n; i++, y += leading) {
        const char *t = s + spans[i].start;
        if (spans[i].ellipsis) {
            pdf_text_fit(p, x, y, t, w);
        } else {
            char *part = xstrndup(t, spans[i].len);
            pdf_text(p, x, y, part, PDF_LEFT);
            free(part);
        }
    }
    return y;
}

/* pdf_wrap breaks s into at most max_spans lines no wider than maxw in the current font, at spaces
 * where it can, inside a word where a word alone is too wide. When text is left over, the last span
 * is marked for shortening with "…". Returns the number of spans (0 for an empty string). */
static int pdf_wrap(pdf_ctx *p, const char *s, double maxw, pdf_span *spans, int max_spans)
{
    int n = 0;
    size_t pos = 0;
    while (s[pos] && n < max_spans) {
        while (s[pos] == ' ')
            pos++;
        if (!s[pos])
            break;
        size_t end = pos; /* the end of the last word that fits, pos while none does */
        for (size_t cand = pos;;) {
            while (s[cand] && s[cand] != ' ')
                cand++;
            if (pdf_measure(p, s + pos, cand - pos) > maxw)
                break;
            end = cand;
            if (!s[cand])
                break;
            cand++;
        }
        if (end == pos) {
            /* one word wider than the column: break it between characters */
            end = utf8_next(s, pos);
            for (size_t next; s[end] && s[end] != ' '; end = next) {
                next = utf8_next(s, end);
                if (pdf_measure(p, s + pos, next - pos) > maxw)
                    break;
            }
        }
        spans[n++] = (pdf_span){.start = pos, .len = end - pos, .ellipsis = false};
        pos = end;
    }
    while (s[pos] == ' ')
        pos++;
    if (s[pos] && n > 0) {
        spans[n - 1].len = strlen(s + spans[n - 1].start);
        spans[n - 1].ellipsis = true;
    }
    return n;
}

static void pdf_rule(pdf_ctx *p, double x0, double x1, double y, double width, uint32_t rgb)
{
    if (p->dry)
        return;
    cairo_t *cr = p->cr;
    cairo_save(cr);
    pdf_rgb(p, rgb);
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void billing_render_release(void)
{
    cairo_debug_reset_static_data();
    /* Looked up at run time: the build links fontconfig only through cairo. */
    void *sym = dlsym(RTLD_DEFAULT, "FcFini");
    void (*fc_fini)(void) = NULL;
    memcpy(&fc_fini, &sym, sizeof(fc_fini));
    if (fc_fini)
        fc_fini();
}
