/* Allocation wrappers. They abort the process when memory runs out, so callers never check for NULL
 * (c-stack.md §5 rule 7). Error returns are kept for I/O, the store and user input. */
#ifndef AT_MEM_H
#define AT_MEM_H

#include <stddef.h>

/* Each returns memory the caller owns and releases with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

/* xfree_secret zeroes `len` bytes of `ptr` before freeing it; NULL is allowed. */
void xfree_secret(void *ptr, size_t len);

#endif
