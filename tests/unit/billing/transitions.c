/* The subscription state machine (src/billing/subscriptions.c) against Stripe's documented states:
 * every pair of states, allowed or refused, restated here by hand. */
#include "billing/billing_impl.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *const states[] = {"trialing", "active",    "past_due", "unpaid",
                                     "canceled", "incomplete", "incomplete_expired", "paused"};
enum { N = sizeof(states) / sizeof(states[0]) };

/* allowed[from][to], in the order of `states`. */
static const int allowed[N][N] = {
    /* trialing   */ {0, 1, 1, 0, 1, 0, 0, 1},
    /* active     */ {0, 0, 1, 1, 1, 0, 0, 1},
    /* past_due   */ {0, 1, 0, 1, 1, 0, 0, 1},
    /* unpaid     */ {0, 1, 0, 0, 1, 0, 0, 0},
    /* canceled   */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* incomplete */ {0, 1, 0, 0, 1, 0, 1, 0},
    /* inc_exp.   */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* paused     */ {0, 1, 0, 0, 1, 0, 0, 0},
};

Test(billing_transitions, every_pair_matches_the_table)
{
    for (int f = 0; f < N; f++)
        for (int t = 0; t < N; t++)
            cr_expect_eq(bsub_transition_allowed(states[f], states[t]), allowed[f][t] != 0, "%s -> %s", states[f],
                         states[t]);
}

Test(billing_transitions, terminal_states_have_no_way_out)
{
    for (int t = 0; t < N; t++) {
        cr_assert_not(bsub_transition_allowed("canceled", states[t]));
        cr_assert_not(bsub_transition_allowed("incomplete_expired", states[t]));
    }
}

Test(billing_transitions, entitlements_follow_good_standing)
{
    cr_assert(bsub_entitled("trialing"));
    cr_assert(bsub_entitled("active"));
    cr_assert(bsub_entitled("past_due"));
    cr_assert_not(bsub_entitled("unpaid"));
    cr_assert_not(bsub_entitled("paused"));
    cr_assert_not(bsub_entitled("incomplete"));
    cr_assert_not(bsub_entitled("canceled"));
    cr_assert_not(bsub_entitled("incomplete_expired"));
    cr_assert_not(bsub_entitled("no_such_state"));
}
