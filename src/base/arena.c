/* Chunked bump allocator. Blocks grow geometrically up to 64 KiB; a request larger than a block gets
 * a block of its own, so a large body never wastes a whole standard block. */
#include "base/arena.h"

#include "base/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t used;
    size_t cap;
    _Alignas(max_align_t) unsigned char data[];
};

enum { ARENA_FIRST = 2048, ARENA_MAX_BLOCK = 65536 };

void arena_init(arena *a)
{
    a->head = NULL;
    a->total = 0;
}

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    size_t need = (size + align - 1) & ~(align - 1);
    arena_block *b = a->head;

    if (need == 0)
        need = align;
    if (!b || b->cap - b->used < need) {
        size_t cap = b ? b->cap * 2 : ARENA_FIRST;
        if (cap > ARENA_MAX_BLOCK)
            cap = ARENA_MAX_BLOCK;
        if (cap < need)
            cap = need;
        arena_block *nb = xmalloc(sizeof(*nb) + cap);
        nb->used = 0;
        nb->cap = cap;
        if (b && need > ARENA_MAX_BLOCK / 2) {
            /* Oversized: keep the current block at the head so small allocations continue in it. */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->total += need;
            return nb->data;
        }
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *arena_zalloc(arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
