/* Idempotency records (src/idem), on both backends: the record commits with the effect, a 5xx drops
 * only a record whose effect never committed, an abandoned record is run again only when nothing of
 * it committed, and a slow first run loses its effect to a takeover instead of doubling it. */
#include "idem/idem.h"

#include "base/clock.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <string.h>

static int tx_effect(store_conn *c, void *ctx)
{
    (void)ctx;
    return store_exec(c, "INSERT INTO effects (n) VALUES (1)", NULL, 0, NULL);
}

static int64_t effects(store *s)
{
    store_conn *c = NULL;
    int64_t n = -1;
    cr_assert_eq(store_acquire(s, &c), AT_OK);
    cr_assert_eq(store_query_int(c, "SELECT COUNT(*) FROM effects", NULL, 0, &n), AT_OK);
    store_release(c);
    return n;
}

static int claim(testdb *t, const char *key, const char *hash, idem_claim *out)
{
    cr_assert_eq(idem_claim_open(t->s, "user:usr_test", key, hash, out), AT_OK);
    return out->outcome;
}

static void setup_effects(testdb *t)
{
    store_conn *c = NULL;
    clock_enable_test();
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_exec(c, "CREATE TABLE effects (n INTEGER)", NULL, 0, NULL), AT_OK);
    store_release(c);
}

STORE_TEST_MIGRATED(idem, replay_after_effect_and_response, 1)
{
    idem_claim c;
    setup_effects(t);
    cr_assert_eq(claim(t, "k1", "h1", &c), IDEM_PROCEED);
    idem_arm(&c);
    cr_assert_eq(store_tx(t->s, true, tx_effect, NULL), AT_OK);
    idem_finish(t->s, 201, "application/json", "/x/1", "{\"id\":1}", 8);
    cr_assert_eq(claim(t, "k1", "h1", &c), IDEM_REPLAY);
    cr_assert_eq(c.replay.status, 201);
    cr_assert_str_eq(c.replay.body, "{\"id\":1}");
    cr_assert_str_eq(c.replay.location, "/x/1");
    idem_claim_cleanup(&c);
    cr_assert_eq(claim(t, "k1", "other", &c), IDEM_MISMATCH);
    idem_claim_cleanup(&c);
    cr_assert_eq(effects(t->s), 1);
}

STORE_TEST_MIGRATED(idem, a_5xx_keeps_the_record_only_when_the_effect_committed, 1)
{
    idem_claim c;
    setup_effects(t);
    /* No effect: the record goes, a retry runs. */
    cr_assert_eq(claim(t, "k2", "h", &c), IDEM_PROCEED);
    idem_arm(&c);
    idem_finish(t->s, 500, NULL, NULL, NULL, 0);
    cr_assert_eq(claim(t, "k2", "h", &c), IDEM_PROCEED);
    idem_claim_cleanup(&c);
    /* An effect, then a 5xx: in progress for a minute, then "outcome unknown", never run again. */
    cr_assert_eq(claim(t, "k3", "h", &c), IDEM_PROCEED);
    idem_arm(&c);
    cr_assert_eq(store_tx(t->s, true, tx_effect, NULL), AT_OK);
    idem_finish(t->s, 503, NULL, NULL, NULL, 0);
    cr_assert_eq(claim(t, "k3", "h", &c), IDEM_IN_PROGRESS);
    idem_claim_cleanup(&c);
    cr_assert_eq(clock_advance_us(120LL * 1000000), AT_OK);
    cr_assert_eq(claim(t, "k3", "h", &c), IDEM_UNKNOWN);
    idem_claim_cleanup(&c);
    cr_assert_eq(effects(t->s), 1);
}

STORE_TEST_MIGRATED(idem, a_takeover_rolls_back_the_slow_first_run, 1)
{
    idem_claim first, second;
    setup_effects(t);
    cr_assert_eq(claim(t, "k4", "h", &first), IDEM_PROCEED);
    /* The first run stalls for over a minute before its effect; a retry takes the record over. */
    cr_assert_eq(clock_advance_us(120LL * 1000000), AT_OK);
    cr_assert_eq(claim(t, "k4", "h", &second), IDEM_PROCEED);
    idem_arm(&first);
    cr_assert_eq(store_tx(t->s, true, tx_effect, NULL), AT_ECONFLICT, "the slow run's effect is refused");
    idem_finish(t->s, 409, NULL, NULL, NULL, 0);
    cr_assert_eq(effects(t->s), 0);
    idem_arm(&second);
    cr_assert_eq(store_tx(t->s, true, tx_effect, NULL), AT_OK);
    idem_finish(t->s, 201, NULL, NULL, "{}", 2);
    cr_assert_eq(effects(t->s), 1);
    idem_claim c;
    cr_assert_eq(claim(t, "k4", "h", &c), IDEM_REPLAY);
    idem_claim_cleanup(&c);
}
