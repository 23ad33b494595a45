/* Invoice documents (render.h): the A4 PDF of one invoice, drawn from the model of render_impl.h.
 *
 * The PDF is drawn with cairo's toy text API in DejaVu Sans. Its layout runs twice over the same cairo
 * context: a dry pass that only measures (so it knows the page count for "Page N of M"), then the pass
 * that draws. Both take the same page breaks because they run the same code. cairo's sticky error is
 * checked once, at the end. */
#include "billing/render.h"

#include "base/err.h"
#include "base/mem.h"
#include "billing/render_impl.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PDF_W      595.28 /* A4, in points */
#define PDF_H      841.89
#define PDF_MARGIN 50.0
#define PDF_RIGHT  (PDF_W - PDF_MARGIN)
#define PDF_BOTTOM (PDF_H - PDF_MARGIN - 30.0) /* content stops here; the footer sits below */
#define PDF_FONT   "DejaVu Sans"
/* Characters DejaVu Sans lacks (CJK) are drawn in the first of these that has them (Debian's
 * fonts-noto-cjk or the small fonts-wqy-microhei). Without any, they show as empty boxes, but their
 * text is still in the PDF (searchable, copyable, extracted by pdftotext): nothing is dropped. */
static const char *const pdf_fallback_fonts[] = {"Noto Sans CJK JP", "WenQuanYi Micro Hei"};

/* Table columns: right edges of the numeric columns, and the description's width. */
#define PDF_COL_AMOUNT PDF_RIGHT
#define PDF_COL_UNIT   (PDF_RIGHT - 92.0)
#define PDF_COL_QTY    (PDF_RIGHT - 184.0)
#define PDF_DESC_W     (PDF_COL_QTY - 56.0 - PDF_MARGIN)

#define PDF_BODY     9.0
#define PDF_LEADING  13.0
#define PDF_ROW_PAD  7.0
#define PDF_MAX_WRAP 8 /* description lines per table row; the last one ends in "…" when cut */
#define PDF_PARTY_WRAP 24 /* lines per value of a party block: more than any valid value needs */

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
static size_t utf8_next(const char *s, size_t i);
static double pdf_measure(pdf_ctx *p, const char *s, size_t len);
static double pdf_runs(pdf_ctx *p, const char *s, bool draw);
static bool pdf_font_covers(cairo_t *cr, const char *s, size_t len);
static void pdf_text(pdf_ctx *p, double x, double y, const char *s, int align);
static void pdf_text_fit(pdf_ctx *p, double x, double y, const char *s, double maxw);
static int pdf_wrap(pdf_ctx *p, const char *s, double maxw, pdf_span *spans, int max_spans);
static double pdf_para(pdf_ctx *p, double x, double y, const char *s, double w, double leading, int max_lines);
static void pdf_rule(pdf_ctx *p, double x0, double x1, double y, double width, uint32_t rgb);

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
    for (size_t i = 0; i < m->nmeta; i++) {
        pdf_font(p, PDF_BODY, false);
        pdf_rgb(p, PDF_MUTED);
        pdf_text(p, PDF_MARGIN, y, m->meta[i].label, PDF_LEFT);
        pdf_rgb(p, PDF_INK);
        pdf_text_fit(p, PDF_MARGIN + 110.0, y, m->meta[i].value, PDF_RIGHT - PDF_MARGIN - 110.0);
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
 * (x, y) in width w; returns the baseline of its last line. Long values wrap; none is shortened: an
 * invoice shows its parties exactly as they were given (the longest value the API accepts, such as a
 * postal code with a city and a region of 100 wide characters each, needs fewer than PDF_PARTY_WRAP
 * lines). */
static double pdf_party(pdf_ctx *p, double x, double y, double w, const char *heading, const rd_party *party)
{
    pdf_font(p, 7.5, true);
    pdf_rgb(p, PDF_FAINT);
    pdf_text(p, x, y, heading, PDF_LEFT);
    y += 16.0;
    if (party->name) {
        pdf_font(p, PDF_BODY + 0.5, true);
        pdf_rgb(p, PDF_INK);
        y = pdf_para(p, x, y, party->name, w, PDF_LEADING, PDF_PARTY_WRAP) + 1.0;
    }
    pdf_font(p, PDF_BODY, false);
    pdf_rgb(p, PDF_INK);
    for (size_t i = 0; i < party->naddress; i++)
        y = pdf_para(p, x, y, party->address[i], w, PDF_LEADING, PDF_PARTY_WRAP);
    if (party->country)
        y = pdf_para(p, x, y, party->country, w, PDF_LEADING, PDF_PARTY_WRAP);
    pdf_rgb(p, PDF_MUTED);
    if (party->tax_id) {
        buf t;
        buf_init(&t);
        buf_printf(&t, "Tax ID %s", party->tax_id);
        y = pdf_para(p, x, y, t.data, w, PDF_LEADING, PDF_PARTY_WRAP);
        buf_free(&t);
    }
    if (party->email)
        y = pdf_para(p, x, y, party->email, w, PDF_LEADING, PDF_PARTY_WRAP);
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

/* pdf_clean copies (s, len) into the scratch buffer with control characters (C0, DEL, C1) turned into spaces (the
 * toy API would draw them as missing glyphs) and returns it; valid until the next call. */
static const char *pdf_clean(pdf_ctx *p, const char *s, size_t len)
{
    buf_reset(&p->scratch);
    buf_append(&p->scratch, s, len);
    for (size_t i = 0; i < p->scratch.len; i++) {
        unsigned char c = (unsigned char)p->scratch.data[i];
        if (c < 0x20 || c == 0x7f)
            p->scratch.data[i] = ' ';
        /* C1 controls (U+0080–U+009F, 0xC2 0x80–0x9F), from values stored before the text rule. */
        if (c == 0xc2 && i + 1 < p->scratch.len && (unsigned char)p->scratch.data[i + 1] >= 0x80 &&
            (unsigned char)p->scratch.data[i + 1] <= 0x9f) {
            p->scratch.data[i] = ' ';
            p->scratch.data[++i] = ' ';
        }
    }
    return p->scratch.data;
}

/* utf8_next returns the index of the character after the one at i (s is NUL-terminated). */
static size_t utf8_next(const char *s, size_t i)
{
    i++;
    while (((unsigned char)s[i] & 0xc0) == 0x80)
        i++;
    return i;
}

/* pdf_measure returns the advance width of (s, len) in the current font (with its fallbacks). */
static double pdf_measure(pdf_ctx *p, const char *s, size_t len)
{
    return pdf_runs(p, pdf_clean(p, s, len), false);
}

/* pdf_font_covers reports whether the current font has a glyph for every character of (s, len). */
static bool pdf_font_covers(cairo_t *cr, const char *s, size_t len)
{
    cairo_glyph_t *glyphs = NULL;
    int n = 0;
    bool all = true;
    cairo_status_t st = cairo_scaled_font_text_to_glyphs(cairo_get_scaled_font(cr), 0, 0, s, (int)len, &glyphs, &n,
                                                         NULL, NULL, NULL);
    if (st != CAIRO_STATUS_SUCCESS)
        return false;
    for (int i = 0; i < n && all; i++)
        all = glyphs[i].index != 0;
    cairo_glyph_free(glyphs);
    return all;
}

/* pdf_runs measures (draw false) or draws at the current point (draw true) the clean UTF-8 text
 * s (NUL-terminated), character by character in runs: a run DejaVu Sans has glyphs for in it, a run it lacks in
 * the first fallback font that has them (or in DejaVu Sans, as boxes, when none does). Returns the
 * advance width. The current font is the same afterwards. */
static double pdf_runs(pdf_ctx *p, const char *s, bool draw)
{
    cairo_t *cr = p->cr;
    size_t len = strlen(s);
    if (pdf_font_covers(cr, s, len)) {
        /* The common case, one run in the primary font. */
        cairo_text_extents_t e;
        cairo_text_extents(cr, s, &e);
        if (draw)
            cairo_show_text(cr, s);
        return e.x_advance;
    }
    cairo_font_face_t *primary = cairo_font_face_reference(cairo_get_font_face(cr));
    cairo_font_weight_t weight = cairo_toy_font_face_get_weight(primary);
    buf run;
    buf_init(&run);
    double width = 0.0;
    size_t i = 0;
    while (i < len) {
        /* The longest run from i whose characters all have (or all lack) a glyph in the primary font. */
        size_t next = utf8_next(s, i);
        bool have = pdf_font_covers(cr, s + i, next - i);
        size_t end = next;
        while (end < len) {
            size_t after = utf8_next(s, end);
            if (pdf_font_covers(cr, s + end, after - end) != have)
                break;
            end = after;
        }
        buf_reset(&run);
        buf_append(&run, s + i, end - i);
        if (!have)
            for (size_t f = 0; f < sizeof pdf_fallback_fonts / sizeof pdf_fallback_fonts[0]; f++) {
                cairo_select_font_face(cr, pdf_fallback_fonts[f], CAIRO_FONT_SLANT_NORMAL, weight);
                if (pdf_font_covers(cr, run.data, run.len))
                    break;
                cairo_set_font_face(cr, primary);
            }
        cairo_text_extents_t e;
        cairo_text_extents(cr, run.data, &e);
        if (draw)
            cairo_show_text(cr, run.data); /* advances the current point by the run's width */
        width += e.x_advance;
        cairo_set_font_face(cr, primary);
        i = end;
    }
    buf_free(&run);
    cairo_font_face_destroy(primary);
    return width;
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
    pdf_runs(p, pdf_clean(p, s, len), true);
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
    if (max_lines < 1)
        return y;
    pdf_span *spans = xcalloc((size_t)max_lines, sizeof(*spans));
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
    free(spans);
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
