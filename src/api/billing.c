/* Billing and Billing Recovery: the overview, plans, previews and subscription changes, customer
 * details, invoices (JSON, HTML, PDF), usage reporting, the provider's doors, test clocks, recovery,
 * a sub-account's billing mode, and the payment provider's webhook. */
#include "api/api.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "billing/billing.h"
#include "billing/catalog.h"
#include "billing/render.h"
#include "billing/stripe_sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *billing_store(http_req *req)
{
    return api_app_of(req)->store;
}

static const char *billing_ws(http_req *req)
{
    return api_principal_of(req)->ws.id;
}

static audit_actor *billing_actor(http_req *req)
{
    audit_actor *a = arena_alloc(&req->arena, sizeof(*a));
    *a = api_actor(req);
    return a;
}

int api_reply_plan_required(http_req *req, const char *feature)
{
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *with[BILLING_MAX_PLANS];
    size_t n = billing_plans_with_feature(cat, feature, with, BILLING_MAX_PLANS);
    json_t *plans = json_array();
    char detail[300];
    size_t off = (size_t)snprintf(detail, sizeof(detail), "The \"%s\" feature is in the ", feature);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(plans, json_pack("{s:s, s:s}", "id", with[i]->id, "name", with[i]->name));
        if (off < sizeof(detail))
            off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "",
                                    with[i]->name);
    }
    if (off < sizeof(detail))
        snprintf(detail + off, sizeof(detail) - off, " plan%s; an owner can change the plan in Billing.",
                 n == 1 ? "" : "s");
    return http_reply_problem_extra(req, 402, "plan-required", "Your plan does not include this.", detail,
                                    json_pack("{s:s, s:o}", "feature", feature, "plans", plans));
}

/* Answers a domain refusal: a named field is a 400 with errors[], a state rule a 409, a plan limit a
 * 402 or 409. */
static int billing_reply_refusal(http_req *req, int rc, const billing_refusal *r)
{
    if ((rc == AT_EINVAL || rc == AT_ECONFLICT || rc == AT_ELIMIT || rc == AT_ECONSTRAINT) && r->code[0]) {
        if (strcmp(r->code, "plan_required") == 0)
            return api_reply_plan_required(req, "sub_accounts");
        /* Problem types are kebab-case; the field error keeps the domain's code. */
        char slug[48];
        snprintf(slug, sizeof(slug), "%s", r->code);
        for (char *p = slug; *p; p++)
            if (*p == '_')
                *p = '-';
        if (r->field[0]) {
            field_errors errs;
            fe_init(&errs, &req->arena);
            fe_add(&errs, arena_strdup(&req->arena, r->field), arena_strdup(&req->arena, r->code), "%s", r->message);
            /* AT_ECONSTRAINT: well-formed but not acceptable in this state (a proration_date no preview
             * issued): 422 naming the field. */
            return rc == AT_EINVAL        ? http_reply_invalid(req, &errs)
                   : rc == AT_ECONSTRAINT ? http_reply_problem_errors(req, 422, slug, r->message, &errs)
                                          : http_reply_problem_errors(req, 409, slug, r->message, &errs);
        }
        return http_reply_problem(req, 409, slug, r->message, NULL);
    }
    return http_reply_status(req, rc);
}

static int billing_reply(http_req *req, int rc, const billing_refusal *r, json_t *out, int status)
{
    if (rc != AT_OK)
        return billing_reply_refusal(req, rc, r);
    return http_reply_json(req, status, out);
}

static int billing_get_overview(http_req *req)
{
    json_t *out = NULL;
    int rc = billing_overview(billing_store(req), billing_ws(req), &out);
    return rc == AT_OK ? http_reply_json(req, 200, out) : http_reply_status(req, rc);
}

static int billing_get_plans(http_req *req)
{
    json_t *out = NULL;
    int rc = billing_plans_list(billing_store(req), billing_ws(req), &out);
    return rc == AT_OK ? http_reply_json(req, 200, out) : http_reply_status(req, rc);
}

static const char *billing_check_interval(const char *s, size_t len)
{
    (void)len;
    return billing_interval_from_name(s) < 0 ? "Must be month or year." : NULL;
}

static const char *billing_check_proration(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "invoice_now") == 0 || strcmp(s, "prorate") == 0 || strcmp(s, "at_renewal") == 0
               ? NULL
               : "Must be invoice_now, prorate or at_renewal.";
}

static const char *billing_check_time(const char *s, size_t len)
{
    int64_t t;
    return clock_parse_rfc3339(s, len, &t) == AT_OK ? NULL : "Must be an RFC 3339 time.";
}

static const jv_field billing_change_fields[] = {
    {"plan_id", JV_STRING, 0, 1, 31, NULL},
    {"interval", JV_STRING, 0, 1, 8, billing_check_interval},
    {"quantity", JV_INT, 0, 1, 1000000, NULL},
    {"proration", JV_STRING, 0, 1, 16, billing_check_proration},
    {"proration_date", JV_STRING, 0, 1, 40, billing_check_time},
};

/* Reads a change body; replies and returns non-OK on bad input. */
static int billing_change_body(http_req *req, billing_change *ch)
{
    json_t *body = NULL;
    if (http_body_or_reply(req, billing_change_fields, 5, &body) != AT_OK)
        return AT_EINVAL;
    memset(ch, 0, sizeof(*ch));
    ch->plan_id = json_string_value(json_object_get(body, "plan_id"));
    ch->interval = json_string_value(json_object_get(body, "interval"));
    ch->quantity = json_integer_value(json_object_get(body, "quantity"));
    ch->proration = json_string_value(json_object_get(body, "proration"));
    const char *pd = json_string_value(json_object_get(body, "proration_date"));
    if (pd)
        clock_parse_rfc3339(pd, strlen(pd), &ch->proration_date);
    if (!ch->plan_id && !ch->interval && !ch->quantity) {
        field_errors errs;
        fe_init(&errs, &req->arena);
        fe_add(&errs, "", "required", "Name at least one of plan_id, interval and quantity.");
        http_reply_invalid(req, &errs);
        return AT_EINVAL;
    }
    return AT_OK;
}

static int billing_post_preview(http_req *req)
{
    billing_change ch;
    billing_refusal r = {0};
    json_t *out = NULL;
    if (billing_change_body(req, &ch) != AT_OK)
        return AT_OK;
    int rc = billing_preview(billing_store(req), billing_ws(req), &ch, &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static int billing_post_change(http_req *req)
{
    billing_change ch;
    billing_refusal r = {0};
    json_t *out = NULL;
    if (billing_change_body(req, &ch) != AT_OK)
        return AT_OK;
    int rc = billing_change_apply(billing_store(req), billing_ws(req), &ch, billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static const jv_field billing_subscribe_fields[] = {
    {"plan_id", JV_STRING, JV_REQUIRED, 1, 31, NULL},
    {"interval", JV_STRING, 0, 1, 8, billing_check_interval},
    {"quantity", JV_INT, JV_REQUIRED, 1, 1000000, NULL},
};

static int billing_post_subscribe(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    billing_refusal r = {0};
    if (http_body_or_reply(req, billing_subscribe_fields, 3, &body) != AT_OK)
        return AT_OK;
    int rc = billing_subscribe(billing_store(req), billing_ws(req), json_string_value(json_object_get(body, "plan_id")),
                               json_string_value(json_object_get(body, "interval")),
                               json_integer_value(json_object_get(body, "quantity")), billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 201);
}

static const jv_field billing_cancel_fields[] = {
    {"at_period_end", JV_BOOL, 0, 0, 0, NULL},
    {"reason", JV_STRING, JV_MULTILINE, 0, BILLING_REASON_MAX_CHARS, NULL},
};

static int billing_post_cancel(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    billing_refusal r = {0};
    if (req->body_len && http_body_or_reply(req, billing_cancel_fields, 2, &body) != AT_OK)
        return AT_OK;
    json_t *ape = body ? json_object_get(body, "at_period_end") : NULL;
    int rc =
        billing_cancel(billing_store(req), billing_ws(req), ape ? json_is_true(ape) : true,
                       body ? json_string_value(json_object_get(body, "reason")) : NULL, billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static int billing_post_resume(http_req *req)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_resume(billing_store(req), billing_ws(req), billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static int billing_reply_customer(http_req *req, json_t *doc, int64_t version)
{
    char etag[32];
    api_etag(version, etag);
    http_set_header(req, "ETag", etag);
    return http_reply_json(req, 200, doc);
}

static int billing_get_customer(http_req *req)
{
    json_t *out = NULL;
    int64_t version = 0;
    billing_refusal r = {0};
    int rc = billing_customer_get(billing_store(req), billing_ws(req), &out, &version);
    if (rc == AT_ECONFLICT) {
        snprintf(r.code, sizeof(r.code), "billed_to_parent");
        snprintf(r.message, sizeof(r.message), "This sub-account is billed to its agency.");
        return billing_reply_refusal(req, AT_ECONFLICT, &r);
    }
    return rc == AT_OK ? billing_reply_customer(req, out, version) : http_reply_status(req, rc);
}

static const char *billing_check_country(const char *s, size_t len)
{
    if (len == 0)
        return NULL;
    if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
        return "Must be an ISO 3166-1 alpha-2 code in capitals, such as DE.";
    return NULL;
}

static const char *billing_check_email(const char *s, size_t len)
{
    if (len == 0)
        return NULL;
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at == s + len - 1 || memchr(s, ' ', len))
        return "Must be an email address.";
    return NULL;
}

static const jv_field billing_customer_fields[] = {
    {"name", JV_STRING, JV_NULLABLE, 0, 200, NULL},
    {"email", JV_STRING, JV_NULLABLE | JV_TRIM, 0, 254, billing_check_email},
    {"address_line1", JV_STRING, JV_NULLABLE, 0, 200, NULL},
    {"address_line2", JV_STRING, JV_NULLABLE, 0, 200, NULL},
    {"city", JV_STRING, JV_NULLABLE, 0, 100, NULL},
    {"postal_code", JV_STRING, JV_NULLABLE | JV_TRIM, 0, 20, NULL},
    {"region", JV_STRING, JV_NULLABLE, 0, 100, NULL},
    {"country", JV_STRING, JV_NULLABLE, 0, 2, billing_check_country},
    {"tax_id", JV_STRING, JV_NULLABLE | JV_TRIM, 0, 40, NULL},
};

static int billing_patch_customer(http_req *req)
{
    json_t *patch = NULL, *out = NULL;
    int64_t if_version = 0, version = 0;
    billing_refusal r = {0};
    if (api_if_match_or_reply(req, &if_version) != AT_OK)
        return AT_OK;
    if (http_body_or_reply(req, billing_customer_fields, 9, &patch) != AT_OK)
        return AT_OK;
    if (json_object_size(patch) == 0) {
        field_errors errs;
        fe_init(&errs, &req->arena);
        fe_add(&errs, "", "required", "Name at least one field to change.");
        return http_reply_invalid(req, &errs);
    }
    int rc = billing_customer_patch(billing_store(req), billing_ws(req), if_version, patch, billing_actor(req), &out,
                                    &version, &r);
    if (rc != AT_OK)
        return billing_reply_refusal(req, rc, &r);
    return billing_reply_customer(req, out, version);
}

static int billing_get_invoices(http_req *req)
{
    field_errors errs;
    fe_init(&errs, &req->arena);
    int64_t limit = api_query_int(req, "limit", 25, 1, 100, &errs), offset = api_offset_cursor(req, &errs), next = 0;
    if (errs.count)
        return http_reply_invalid(req, &errs);
    json_t *items = NULL;
    int rc = billing_invoice_list(billing_store(req), billing_ws(req), (int)limit, offset, &items, &next);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    char cursor[32];
    snprintf(cursor, sizeof(cursor), "o%lld", (long long)next);
    return http_reply_json(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", next ? cursor : NULL));
}

static int billing_load_invoice(http_req *req, json_t **out)
{
    int rc = billing_invoice_get(billing_store(req), billing_ws(req), http_param(req, "invoice_id"), out);
    if (rc != AT_OK)
        http_reply_status(req, rc);
    return rc;
}

static int billing_get_invoice(http_req *req)
{
    json_t *inv = NULL;
    if (billing_load_invoice(req, &inv) != AT_OK)
        return AT_OK;
    return http_reply_json(req, 200, inv);
}

static int billing_get_invoice_html(http_req *req)
{
    json_t *inv = NULL;
    buf b;
    if (billing_load_invoice(req, &inv) != AT_OK)
        return AT_OK;
    buf_init(&b);
    int rc = billing_render_html(inv, &b);
    json_decref(inv);
    if (rc == AT_OK) {
        /* The document carries its own inline styles; nothing else may load or run. */
        http_set_header(req, "Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
                        "base-uri 'none'; form-action 'none'");
        http_set_header(req, "X-Frame-Options", "SAMEORIGIN");
        http_reply_text(req, 200, "text/html; charset=utf-8", b.data, b.len);
    } else {
        http_reply_status(req, AT_EINTERNAL);
    }
    buf_free(&b);
    return AT_OK;
}

static int billing_get_invoice_pdf(http_req *req)
{
    json_t *inv = NULL;
    unsigned char *pdf = NULL;
    size_t len = 0;
    if (billing_load_invoice(req, &inv) != AT_OK)
        return AT_OK;
    char disposition[160];
    const char *number = json_string_value(json_object_get(inv, "number"));
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"invoice-%s.pdf\"",
             number ? number : json_string_value(json_object_get(inv, "id")));
    int rc = billing_render_pdf(inv, &pdf, &len);
    json_decref(inv);
    if (rc != AT_OK)
        return http_reply_status(req, AT_EINTERNAL);
    http_set_header(req, "Content-Disposition", disposition);
    http_reply_text(req, 200, "application/pdf", (const char *)pdf, len);
    free(pdf);
    return AT_OK;
}

static int billing_post_pay(http_req *req)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_pay_now(billing_store(req), billing_ws(req), http_param(req, "invoice_id"), billing_actor(req),
                             &out, &r);
    return billing_reply(req, rc, &r, out, 202);
}

static int billing_invoice_do(http_req *req, const char *action)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_invoice_action(billing_store(req), billing_ws(req), http_param(req, "invoice_id"), action,
                                    billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static int billing_post_mark_paid(http_req *req)
{
    return billing_invoice_do(req, "mark_paid");
}

static int billing_post_void(http_req *req)
{
    return billing_invoice_do(req, "void");
}

static int billing_post_uncollectible(http_req *req)
{
    return billing_invoice_do(req, "mark_uncollectible");
}

/* The address people open Atrium at, for the provider's return links. */
static void billing_return_base(http_req *req, char out[512])
{
    const config *cfg = api_app_of(req)->cfg;
    if (cfg->public_url[0])
        snprintf(out, 512, "%s", cfg->public_url);
    else
        snprintf(out, 512, "http://%s:%d", cfg->listen_host, cfg->listen_port);
    size_t n = strlen(out);
    if (n && out[n - 1] == '/')
        out[n - 1] = '\0';
}

static int billing_post_checkout(http_req *req)
{
    char url[1024], base[512];
    billing_refusal r = {0};
    billing_return_base(req, base);
    int rc = billing_checkout(billing_store(req), billing_ws(req), base, url, &r);
    if (rc != AT_OK)
        return billing_reply_refusal(req, rc, &r);
    return http_reply_json(req, 200, json_pack("{s:s}", "url", url));
}

static int billing_post_portal(http_req *req)
{
    char url[1024], base[512];
    billing_refusal r = {0};
    billing_return_base(req, base);
    int rc = billing_portal(billing_store(req), billing_ws(req), base, url, &r);
    if (rc != AT_OK)
        return billing_reply_refusal(req, rc, &r);
    return http_reply_json(req, 200, json_pack("{s:s}", "url", url));
}

static const char *billing_check_event_id(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return "Must be printable ASCII without spaces.";
    return NULL;
}

static const jv_field billing_usage_event_fields[] = {
    {"event_id", JV_STRING, JV_REQUIRED, 1, 100, billing_check_event_id},
    {"metric", JV_STRING, JV_REQUIRED, 1, 31, NULL},
    {"quantity", JV_INT, JV_REQUIRED, 1, 1000000000, NULL},
    {"occurred_at", JV_STRING, 0, 1, 40, billing_check_time},
};

static const jv_field billing_usage_fields[] = {
    {"events", JV_ARRAY, JV_REQUIRED, 1, 100, NULL},
};

static int billing_post_usage(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    field_errors errs;
    billing_refusal r = {0};
    if (http_body_fields_or_reply(req, billing_usage_fields, 1, &body, &errs) != AT_OK)
        return AT_OK;
    json_t *events = json_object_get(body, "events");
    size_t i;
    json_t *e;
    if (json_is_array(events) && (json_array_size(events) < 1 || json_array_size(events) > 100))
        fe_add(&errs, "events", "length", "Send between 1 and 100 events.");
    else if (json_is_array(events))
        json_array_foreach(events, i, e)
        {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "events[%zu].", i);
            if (!json_is_object(e))
                fe_add(&errs, arena_printf(&req->arena, "events[%zu]", i), "type", "Must be an object.");
            else
                jv_check_object(e, billing_usage_event_fields, 4, arena_strdup(&req->arena, prefix), &errs);
        }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    api_principal *p = api_principal_of(req);
    char who[64];
    snprintf(who, sizeof(who), "%s", p->key_id[0] ? p->key_id : p->user.id);
    int rc = billing_usage_record(billing_store(req), billing_ws(req), events, who, &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

/* ---- Test clocks and recovery --------------------------------------------------------------------- */

static int billing_get_clock(http_req *req)
{
    json_t *out = NULL;
    int rc = billing_clock_get(billing_store(req), billing_ws(req), &out);
    return rc == AT_OK ? http_reply_json(req, 200, out) : http_reply_status(req, rc);
}

static const jv_field billing_clock_fields[] = {
    {"frozen_time", JV_STRING, 0, 1, 40, billing_check_time},
};

static const jv_field billing_advance_fields[] = {
    {"frozen_time", JV_STRING, JV_REQUIRED, 1, 40, billing_check_time},
};

static int64_t billing_body_time(json_t *body)
{
    const char *t = body ? json_string_value(json_object_get(body, "frozen_time")) : NULL;
    int64_t us = 0;
    if (t)
        clock_parse_rfc3339(t, strlen(t), &us);
    return us;
}

static int billing_post_clock(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    billing_refusal r = {0};
    if (req->body_len && http_body_or_reply(req, billing_clock_fields, 1, &body) != AT_OK)
        return AT_OK;
    int rc = billing_clock_create(billing_store(req), billing_ws(req), billing_body_time(body), billing_actor(req),
                                  &out, &r);
    return billing_reply(req, rc, &r, out, 201);
}

static int billing_post_clock_advance(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    billing_refusal r = {0};
    if (http_body_or_reply(req, billing_advance_fields, 1, &body) != AT_OK)
        return AT_OK;
    int rc = billing_clock_advance(billing_store(req), billing_ws(req), billing_body_time(body), billing_actor(req),
                                   &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static int billing_delete_clock(http_req *req)
{
    int rc = billing_clock_delete(billing_store(req), billing_ws(req), billing_actor(req));
    if (rc == AT_ECONFLICT) {
        billing_refusal r = {0};
        snprintf(r.code, sizeof(r.code), "billed_to_parent");
        snprintf(r.message, sizeof(r.message), "This sub-account is billed to its agency: use the agency's clock.");
        return billing_reply_refusal(req, rc, &r);
    }
    return rc == AT_OK ? http_reply_empty(req, 204) : http_reply_status(req, rc);
}

static int billing_get_recovery(http_req *req)
{
    json_t *out = NULL;
    int rc = billing_recovery(billing_store(req), billing_ws(req), &out);
    return rc == AT_OK ? http_reply_json(req, 200, out) : http_reply_status(req, rc);
}

static int billing_post_retry(http_req *req)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_recovery_retry(billing_store(req), billing_ws(req), http_param(req, "subscription_id"),
                                    billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 202);
}

static int billing_post_recovered(http_req *req)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_recovery_recovered(billing_store(req), billing_ws(req), http_param(req, "subscription_id"),
                                        billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

static const char *billing_check_mode(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "parent") == 0 || strcmp(s, "own") == 0 ? NULL : "Must be parent or own.";
}

static const jv_field billing_mode_fields[] = {
    {"mode", JV_STRING, JV_REQUIRED, 1, 8, billing_check_mode},
    {"plan_id", JV_STRING, 0, 1, 31, NULL},
};

static int billing_put_mode(http_req *req)
{
    json_t *body = NULL, *out = NULL;
    billing_refusal r = {0};
    if (http_body_or_reply(req, billing_mode_fields, 2, &body) != AT_OK)
        return AT_OK;
    int rc = billing_set_mode(billing_store(req), billing_ws(req), http_param(req, "subaccount_id"),
                              json_string_value(json_object_get(body, "mode")),
                              json_string_value(json_object_get(body, "plan_id")), billing_actor(req), &out, &r);
    return billing_reply(req, rc, &r, out, 200);
}

/* ---- The provider's webhook ----------------------------------------------------------------------- */

/* Splits the comma-separated webhook secrets into an array in the request's arena, every one of them
 * whole, however long the list (*count of them; surrounding spaces are not part of a secret, empty
 * pieces are skipped). The array and the strings belong to the request. */
static const char **billing_webhook_secrets(http_req *req, const char *list, size_t *count /* OUT */)
{
    size_t cap = 1, n = 0;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    const char **out = arena_alloc(&req->arena, cap * sizeof(*out));
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            out[n++] = arena_strndup(&req->arena, a, (size_t)(b - a));
        p = *end ? end + 1 : end;
    }
    *count = n;
    return out;
}

/* Verifies Stripe-Signature against every configured secret, then applies the event. Answers 400 for
 * a bad signature (the provider retries; a forger learns nothing) and 2xx for duplicates. */
static int billing_post_stripe_webhook(http_req *req)
{
    const config *cfg = api_app_of(req)->cfg;
    size_t n = 0;
    const char **secrets = billing_webhook_secrets(req, cfg->stripe_webhook_secrets, &n);
    if (!n)
        return http_reply_problem(req, 404, "not-found", "Not found.", NULL);
    const char *header = http_header(req, "Stripe-Signature");
    int v = stripe_sig_verify(header, header ? strlen(header) : 0, (const unsigned char *)req->body, req->body_len,
                              secrets, n, clock_now_us() / 1000000, cfg->stripe_webhook_tolerance_s);
    if (v != STRIPE_SIG_OK)
        return http_reply_problem(req, 400, "invalid-signature", "The webhook signature does not verify.",
                                  v == STRIPE_SIG_MISSING     ? "No Stripe-Signature header with t= and v1=."
                                  : v == STRIPE_SIG_STALE     ? "The signed timestamp is outside the tolerance."
                                  : v == STRIPE_SIG_MALFORMED ? "The Stripe-Signature header is malformed."
                                                              : "No signature matches.");
    int rc = billing_webhook(billing_store(req), "stripe", req->body, req->body_len);
    if (rc == AT_EINVAL)
        return http_reply_problem(req, 400, "invalid-event", "The body is not a provider event.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:b}", "received", 1));
}

#define B "/api/v1/workspaces/:workspace_id/billing"
#define R "/api/v1/workspaces/:workspace_id/billing-recovery"
static const http_route billing_rows[] = {
    {HM_GET, B, billing_get_overview, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_GET, B "/plans", billing_get_plans, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_POST, B "/preview", billing_post_preview, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_POST, B "/subscription", billing_post_subscribe, AUTH_USER, "billing", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_POST, B "/subscription/change", billing_post_change, AUTH_USER, "billing", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_POST, B "/subscription/cancel", billing_post_cancel, AUTH_USER, "billing", ACCESS_WRITE, 0},
    {HM_POST, B "/subscription/resume", billing_post_resume, AUTH_USER, "billing", ACCESS_WRITE, 0},
    {HM_GET, B "/customer", billing_get_customer, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_PATCH, B "/customer", billing_patch_customer, AUTH_USER, "billing", ACCESS_WRITE, 0},
    {HM_GET, B "/invoices", billing_get_invoices, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_GET, B "/invoices/:invoice_id", billing_get_invoice, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_GET, B "/invoices/:invoice_id/html", billing_get_invoice_html, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_GET, B "/invoices/:invoice_id/pdf", billing_get_invoice_pdf, AUTH_USER, "billing", ACCESS_READ, 0},
    {HM_POST, B "/invoices/:invoice_id/pay", billing_post_pay, AUTH_USER, "billing", ACCESS_WRITE, 0},
    {HM_POST, B "/invoices/:invoice_id/mark-paid", billing_post_mark_paid, AUTH_SESSION, "billing_recovery",
     ACCESS_WRITE, 0},
    {HM_POST, B "/invoices/:invoice_id/void", billing_post_void, AUTH_SESSION, "billing_recovery", ACCESS_WRITE, 0},
    {HM_POST, B "/invoices/:invoice_id/mark-uncollectible", billing_post_uncollectible, AUTH_SESSION,
     "billing_recovery", ACCESS_WRITE, 0},
    {HM_POST, B "/checkout", billing_post_checkout, AUTH_SESSION, "billing", ACCESS_WRITE, 0},
    {HM_POST, B "/portal", billing_post_portal, AUTH_SESSION, "billing", ACCESS_WRITE, 0},
    {HM_POST, B "/usage", billing_post_usage, AUTH_USER, "usage", ACCESS_WRITE, 0},
    {HM_GET, B "/test-clock", billing_get_clock, AUTH_SESSION, "billing_recovery", ACCESS_READ, 0},
    {HM_POST, B "/test-clock", billing_post_clock, AUTH_SESSION, "billing_recovery", ACCESS_WRITE, 0},
    {HM_POST, B "/test-clock/advance", billing_post_clock_advance, AUTH_SESSION, "billing_recovery", ACCESS_WRITE, 0},
    {HM_DELETE, B "/test-clock", billing_delete_clock, AUTH_SESSION, "billing_recovery", ACCESS_WRITE, 0},
    {HM_GET, R, billing_get_recovery, AUTH_SESSION, "billing_recovery", ACCESS_READ, 0},
    {HM_POST, R "/:subscription_id/retry", billing_post_retry, AUTH_SESSION, "billing_recovery", ACCESS_WRITE, 0},
    {HM_POST, R "/:subscription_id/recovered", billing_post_recovered, AUTH_SESSION, "billing_recovery", ACCESS_WRITE,
     0},
    {HM_PUT, "/api/v1/workspaces/:workspace_id/subaccounts/:subaccount_id/billing", billing_put_mode, AUTH_USER,
     "subaccounts", ACCESS_WRITE, 0},
};

const http_route_table api_billing_routes = {billing_rows, sizeof(billing_rows) / sizeof(billing_rows[0])};

static const http_route billing_public_rows[] = {
    {HM_POST, "/api/v1/billing/webhooks/stripe", billing_post_stripe_webhook, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
};

const http_route_table api_billing_public_routes = {billing_public_rows,
                                                    sizeof(billing_public_rows) / sizeof(billing_public_rows[0])};
