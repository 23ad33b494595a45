/* Invoice documents (issue 7 §5): the HTML view and the PDF (cairo, DejaVu Sans) of one invoice, drawn
 * from the invoice's JSON document exactly as GET /api/v1/workspaces/{id}/billing/invoices/{id} returns
 * it (docs/billing.md, "Invoice document"). Issuer and customer blocks with tax ids, number, dates,
 * status, line items, subtotal, tax, total, applied balance, amount paid and due. Pure apart from
 * cairo's in-memory output; no store access. */
#ifndef AT_BILLING_RENDER_H
#define AT_BILLING_RENDER_H

#include "base/buf.h"

#include <jansson.h>
#include <stddef.h>

/* billing_render_html appends a complete, self-contained HTML page for the invoice to out (inline CSS,
 * no scripts, no external resources; every value HTML-escaped). Returns AT_OK, or AT_EINVAL when the
 * document lacks a field it needs. */
int billing_render_html(const json_t *invoice, buf *out);

/* billing_render_pdf renders the invoice as an A4 PDF, paginating long line lists, into a new malloc'd
 * buffer (*pdf, *len; the caller frees *pdf). Returns AT_OK, AT_EINVAL for a bad document, or
 * AT_EINTERNAL when cairo reports an error. */
int billing_render_pdf(const json_t *invoice, unsigned char **pdf, size_t *len);

/* billing_render_release drops cairo's and fontconfig's process-wide font caches (they do not grow
 * with the documents rendered, but a leak checker reports them at exit). Call once, at shutdown, when
 * no thread can render any more. */
void billing_render_release(void);

#endif
