/* libFuzzer target: the billing catalog parser (src/billing/catalog.c). The catalog comes from a file
 * an operator writes; a bad one must be refused with a message, never crash the server at start.
 *
 * Feeds the input to billing_catalog_parse. Besides "no crash, leak or UB" it asserts:
 *   - the result is AT_OK or AT_EINVAL, and a second parse gives the same result and message;
 *   - a refusal comes with a non-empty, NUL-terminated message;
 *   - an accepted catalog keeps the documented invariants: at least one plan, default and fallback
 *     plans found, unique plan ids, 1 <= min_seats <= max_seats, included_seats <= max_seats,
 *     per_units >= 1, a feature list that is NULL-terminated within its bounds, dunning days strictly
 *     increasing from 0, a three-letter currency.
 * Seeds: the shipped etc/billing.json and variants. Build and run: fuzz/run.sh. */
#include "base/err.h"
#include "billing/catalog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The embedded catalog the library would fall back to; unused here (only the parser is called). */
const char billing_catalog_json[] = "{}";
const size_t billing_catalog_json_len = 2;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz/catalog.c:%d: invariant failed: %s\n", __LINE__, #cond);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static billing_catalog a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (size)
        memcpy(s, data, size);
    char e1[256], e2[256];
    memset(e1, 'x', sizeof(e1));
    int r1 = billing_catalog_parse(s, size, &a, e1);
    int r2 = billing_catalog_parse(s, size, &b, e2);
    CHECK(r1 == AT_OK || r1 == AT_EINVAL);
    CHECK(r1 == r2);
    if (r1 != AT_OK) {
        CHECK(memchr(e1, '\0', sizeof(e1)) != NULL);
        CHECK(e1[0] != '\0');
        CHECK(strcmp(e1, e2) == 0);
    } else {
        CHECK(a.plan_count >= 1 && a.plan_count <= BILLING_MAX_PLANS);
        CHECK(strlen(a.currency) == 3);
        CHECK(billing_plan_find(&a, a.default_plan) != NULL);
        CHECK(billing_plan_find(&a, a.fallback_plan) != NULL);
        for (size_t i = 0; i < a.plan_count; i++) {
            const billing_plan *p = &a.plans[i];
            CHECK(billing_plan_find(&a, p->id) == p);
            CHECK(p->min_seats >= 1 && p->min_seats <= p->max_seats && p->included_seats <= p->max_seats);
            size_t nf = 0;
            while (nf <= BILLING_MAX_FEATURES && p->features[nf])
                nf++;
            CHECK(nf <= BILLING_MAX_FEATURES);
            for (size_t m = 0; m < p->metered_count; m++)
                CHECK(p->metered[m].per_units >= 1);
            CHECK(billing_plan_amount(p, BILLING_MONTH, p->max_seats) >= 0);
        }
        CHECK(a.dunning_count >= 1 && a.dunning[0].day == 0);
        for (size_t i = 1; i < a.dunning_count; i++)
            CHECK(a.dunning[i].day > a.dunning[i - 1].day);
        CHECK(a.plan_count == b.plan_count && strcmp(a.default_plan, b.default_plan) == 0);
    }
    free(s);
    return 0;
}
