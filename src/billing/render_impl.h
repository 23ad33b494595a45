/* Internal to the invoice renderers (render.c for HTML, render_pdf.c for the PDF): the model both draw
 * from, built and checked once from the invoice's JSON document (render_model.c). Every amount is
 * already formatted with money_format, every date as "28 Nov 2026" (UTC), the totals as a list of
 * rows. A document without its id, currency, lines or totals is refused with AT_EINVAL before
 * anything is written; optional fields that are missing, null or malformed are left out. */
#ifndef AT_BILLING_RENDER_IMPL_H
#define AT_BILLING_RENDER_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    /* The document's facts (number, dates, period), only those it has, in display order. Values point
     * into this model: it must not be copied once built. */
    struct {
        const char *label, *value;
    } meta[8];
    size_t nmeta;
} rd_model;

/* rd_model_build reads the invoice document into m: AT_OK (m then needs rd_model_free) or AT_EINVAL
 * (m holds nothing to free). Strings in m point into the document, which must outlive m. */
int rd_model_build(const json_t *inv, rd_model *m);
void rd_model_free(rd_model *m);

#endif
