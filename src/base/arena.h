/* A bump allocator for memory that lives exactly as long as one unit of work (an HTTP request, a job
 * run, a CLI command). Everything allocated from an arena is released at once by arena_free; nothing
 * in it is freed individually (c-stack.md §5 rule 8). An arena is not thread-safe: one owner. */
#ifndef AT_ARENA_H
#define AT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head;
    size_t total; /* bytes handed out, for metrics and limits */
} arena;

void arena_init(arena *a);
/* arena_free releases every block; the arena can be reused after arena_init. */
void arena_free(arena *a);

/* The returned memory belongs to the arena, aligned for any type, zero-filled by arena_zalloc. */
void *arena_alloc(arena *a, size_t size);
void *arena_zalloc(arena *a, size_t size);
char *arena_strndup(arena *a, const char *s, size_t len);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);

#endif
