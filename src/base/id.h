/* Opaque, prefixed, time-sortable identifiers: "<prefix>_" + a ULID (48-bit millisecond time from the
 * program clock, 80 random bits, Crockford base32). DESIGN.md §3. */
#ifndef AT_ID_H
#define AT_ID_H

#include <stdbool.h>
#include <stddef.h>

enum { ID_ULID_LEN = 26, ID_MAX = 48 };

/* id_new writes prefix + "_" + ULID + NUL into out (ID_MAX bytes). The prefix is at most 16 chars. */
void id_new(const char *prefix, char out[ID_MAX]);
/* id_valid reports whether (s, len) is prefix + "_" + a well-formed ULID. */
bool id_valid(const char *prefix, const char *s, size_t len);

#endif
