/* A growable byte buffer on the heap, always NUL-terminated after its contents. Owned by the caller:
 * buf_init before use, buf_free after (Kore's init/cleanup pair). */
#ifndef AT_BUF_H
#define AT_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* buf_steal hands the contents to the caller (free() them) and leaves the buffer empty. */
char *buf_steal(buf *b, size_t *len_out);

#endif
