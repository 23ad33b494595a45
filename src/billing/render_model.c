/* The invoice renderers' model (render_impl.h): the invoice's JSON document read, checked and
 * formatted once for the HTML view and the PDF. */
#include "billing/render_impl.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "billing/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *rd_str(const json_t *o, const char *key);
static bool rd_int(const json_t *o, const char *key, int64_t *out);
static bool rd_date(const json_t *o, const char *key, char out[RD_DATE], char iso[32]);
static void rd_period(const json_t *o, char out[RD_PERIOD]);
static void rd_party_read(const json_t *o, rd_party *p);
static void rd_rate(int64_t rate_bp, char out[16]);
static rd_total *rd_total_add(rd_model *m, const char *label, int64_t amount, unsigned flags);

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
int rd_model_build(const json_t *inv, rd_model *m)
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
    const char *facts[][2] = {
        {"Invoice number", m->number},
        {m->issued_label, m->issued},
        {"Date due", m->due},
        {"Service period", m->period},
        {"Date paid", m->paid_on},
        {"Voided on", m->voided_on},
        {"Marked uncollectible", m->uncollectible_on},
    };
    for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++)
        if (facts[k][1] && facts[k][1][0] && m->nmeta < sizeof m->meta / sizeof m->meta[0]) {
            m->meta[m->nmeta].label = facts[k][0];
            m->meta[m->nmeta++].value = facts[k][1];
        }
    return AT_OK;
}

void rd_model_free(rd_model *m)
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
