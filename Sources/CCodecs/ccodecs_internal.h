#ifndef CCODECS_INTERNAL_H
#define CCODECS_INTERNAL_H
/*
 * Helpers shared by the three codec doors: the caller's message buffer and a growable
 * output buffer. Private to the CCodecs target.
 */
#include "ccodecs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a formatted message into the caller's buffer (always NUL-terminated). */
static inline void ccodec_message(char *msg, size_t msglen, const char *format, ...) {
    if (msg == NULL || msglen == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(msg, msglen, format, args);
    va_end(args);
}

/* Sets the message and returns status, so a failure is one line. */
static inline int ccodec_fail(char *msg, size_t msglen, int status, const char *text) {
    ccodec_message(msg, msglen, "%s", text);
    return status;
}

/* A malloc'd byte buffer that grows by doubling (encoders' output). */
typedef struct {
    uint8_t *bytes;
    size_t len;
    size_t cap;
} ccodec_buffer;

/* Makes room for need bytes in all; 0 when memory runs out. */
static inline int ccodec_buffer_reserve(ccodec_buffer *b, size_t need) {
    if (need <= b->cap) return 1;
    size_t cap = b->cap < 4096 ? 4096 : b->cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *grown = (uint8_t *)realloc(b->bytes, cap);
    if (grown == NULL) return 0;
    b->bytes = grown;
    b->cap = cap;
    return 1;
}

#endif
