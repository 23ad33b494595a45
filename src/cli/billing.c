/* `atrium billing`: the operator's side of manual collection. List a workspace's invoices, mark one
 * paid when the bank transfer arrives (or void it, or mark it uncollectible), and run the billing
 * events that are due now. Every action is audited as the system. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/err.h"
#include "billing/billing.h"

#include <stdio.h>
#include <string.h>

static const char cli_billing_usage[] =
    "usage: atrium billing invoices WORKSPACE_ID\n"
    "       atrium billing mark-paid|void|mark-uncollectible WORKSPACE_ID INVOICE_ID\n"
    "       atrium billing advance WORKSPACE_ID\n";

static int cli_billing_invoices(store *s, const char *ws)
{
    json_t *items = NULL;
    int64_t next = 0;
    int rc = billing_invoice_list(s, ws, 100, 0, &items, &next);
    if (rc != AT_OK) {
        fprintf(stderr, "atrium: cannot list invoices (%s)\n", at_status_name(rc));
        return CLI_FAIL;
    }
    printf("%-30s %-12s %-14s %12s %12s  %s\n", "ID", "NUMBER", "STATUS", "TOTAL", "DUE", "CREATED");
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        const char *number = json_string_value(json_object_get(e, "number"));
        printf("%-30s %-12s %-14s %12lld %12lld  %s\n", json_string_value(json_object_get(e, "id")),
               number ? number : "-", json_string_value(json_object_get(e, "status")),
               (long long)json_integer_value(json_object_get(e, "total")),
               (long long)json_integer_value(json_object_get(e, "amount_due")),
               json_string_value(json_object_get(e, "created_at")));
    }
    json_decref(items);
    return CLI_OK;
}

int cli_billing(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    if (argc < 3) {
        fputs(cli_billing_usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    bool action = strcmp(cmd, "mark-paid") == 0 || strcmp(cmd, "void") == 0 || strcmp(cmd, "mark-uncollectible") == 0;
    if ((action && argc != 4) || (!action && argc != 3) ||
        (!action && strcmp(cmd, "invoices") != 0 && strcmp(cmd, "advance") != 0)) {
        fputs(cli_billing_usage, stderr);
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    audit_actor op = {"system", NULL, "atrium billing (CLI)", NULL, NULL, NULL};
    if (strcmp(cmd, "invoices") == 0) {
        rc = cli_billing_invoices(s, argv[2]);
    } else if (strcmp(cmd, "advance") == 0) {
        int st = billing_advance(s, argv[2], clock_now_us());
        if (st != AT_OK)
            fprintf(stderr, "atrium: billing events failed (%s)\n", at_status_name(st));
        rc = st == AT_OK ? CLI_OK : CLI_FAIL;
    } else {
        json_t *out = NULL;
        billing_refusal r;
        memset(&r, 0, sizeof(r));
        const char *what = strcmp(cmd, "mark-paid") == 0 ? "mark_paid"
                           : strcmp(cmd, "void") == 0    ? "void"
                                                         : "mark_uncollectible";
        int st = billing_invoice_action(s, argv[2], argv[3], what, &op, &out, &r);
        if (st == AT_OK) {
            printf("%s is now %s\n", argv[3], json_string_value(json_object_get(out, "status")));
            json_decref(out);
            rc = CLI_OK;
        } else {
            fprintf(stderr, "atrium: %s\n", r.message[0] ? r.message : at_status_name(st));
            rc = st == AT_ENOTFOUND || st == AT_ECONFLICT ? CLI_USAGE : CLI_FAIL;
        }
    }
    store_close(s);
    return rc;
}
