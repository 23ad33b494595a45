/* The one clock of the program. Every expiry, billing period, backoff and timestamp reads
 * clock_now_us(); nothing else calls time(). In test mode (clock_enable_test) the clock can be set and
 * advanced through clock_set_us/clock_advance_us; outside test mode both refuse. Thread-safe. */
#ifndef AT_CLOCK_H
#define AT_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in microseconds since the Unix epoch, shifted by the test offset if any. */
int64_t clock_now_us(void);
/* Monotonic microseconds for measuring durations; never shifted. */
int64_t clock_mono_us(void);

void clock_enable_test(void);
int clock_is_test(void);
/* Both return AT_OK, or AT_EFORBIDDEN outside test mode. */
int clock_set_us(int64_t now_us);
int clock_advance_us(int64_t delta_us);
/* clock_freeze stops (true) or restarts (false) the test clock at its current reading, so a test's
 * time moves only when it advances it; AT_EFORBIDDEN outside test mode. */
int clock_freeze(bool frozen);

/* clock_format_rfc3339 writes "2026-11-28T00:35:56.123456Z" (or without fraction when it is zero)
 * into out, which must hold at least 32 bytes. */
void clock_format_rfc3339(int64_t us, char out[32]);
/* clock_parse_rfc3339 accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; returns AT_OK or AT_EINVAL. */
int clock_parse_rfc3339(const char *s, size_t len, int64_t *us_out);

#endif
