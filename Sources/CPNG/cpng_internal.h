#ifndef CPNG_INTERNAL_H
#define CPNG_INTERNAL_H
/*
 * Helpers shared by the C decoders without libpng (cpng_fast.c, cpng_restart.c): chunk
 * header checks and PNG unfiltering. Private to the CPNG target.
 */
#include "cpng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CPNG_INLINE static inline __attribute__((always_inline))

#define CPNG_UINT31_MAX 0x7fffffffu

/* MARK: - Small helpers */

CPNG_INLINE uint32_t cpng_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Sets the message and returns status, so a failure is one line. */
static inline int cpng_fast_fail(char *msg, size_t msglen, int status, const char *text) {
    if (msg != NULL && msglen > 0) snprintf(msg, msglen, "%s", text);
    return status;
}

/* png_check_chunk_name: each type byte is an ASCII letter. */
static inline int cpng_chunk_type_valid(const uint8_t *type) {
    for (int i = 0; i < 4; i++) {
        uint8_t c = type[i];
        if (c < 65 || c > 122 || (c > 90 && c < 97)) return 0;
    }
    return 1;
}

/* MARK: - Unfiltering
 *
 * Each row is first moved to its place in the output (the filtered rows sit one type byte
 * apart, so the move is short), then unfiltered in place: the stream can then be inflated
 * straight into the output buffer when the caller made it height bytes larger, which saves
 * a second image-sized buffer and its page faults. One branch-free loop per filter type,
 * inlined with the bytes per pixel as a constant (see cpng_unfilter_image_N), so Up and
 * the prev-only head of Average vectorise and the others unroll over a pixel. prev is the
 * decoded row above, or zeros for the first row. Rows hold n >= bpp bytes. */

CPNG_INLINE void cpng_unfilter_sub(uint8_t *restrict row, size_t n, size_t bpp) {
    for (size_t i = bpp; i < n; i++) row[i] = (uint8_t)(row[i] + row[i - bpp]);
}

CPNG_INLINE void cpng_unfilter_up(uint8_t *restrict row, const uint8_t *restrict prev, size_t n) {
    for (size_t i = 0; i < n; i++) row[i] = (uint8_t)(row[i] + prev[i]);
}

CPNG_INLINE void cpng_unfilter_average(uint8_t *restrict row, const uint8_t *restrict prev, size_t n, size_t bpp) {
    for (size_t i = 0; i < bpp; i++) row[i] = (uint8_t)(row[i] + (prev[i] >> 1));
    for (size_t i = bpp; i < n; i++) row[i] = (uint8_t)(row[i] + (((unsigned)row[i - bpp] + prev[i]) >> 1));
}

/* The Paeth predictor of the PNG specification (ties prefer a, then b), as selects. */
CPNG_INLINE int cpng_paeth(int a, int b, int c) {
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    int ab = pb < pa ? b : a;
    int pab = pb < pa ? pb : pa;
    return pc < pab ? c : ab;
}

CPNG_INLINE void cpng_unfilter_paeth(uint8_t *restrict row, const uint8_t *restrict prev, size_t n, size_t bpp) {
    /* With a = c = 0 the predictor is b. */
    for (size_t i = 0; i < bpp; i++) row[i] = (uint8_t)(row[i] + prev[i]);
    for (size_t i = bpp; i < n; i += bpp) {
        for (size_t k = 0; k < bpp; k++) {
            row[i + k] = (uint8_t)(row[i + k] + cpng_paeth(row[i + k - bpp], prev[i + k], prev[i + k - bpp]));
        }
    }
}

/* Unfilters the height rows of raw (each 1 + n bytes) into out, which may be raw itself;
 * returns the index of the first row with an unknown filter type, or -1. */
CPNG_INLINE int64_t cpng_unfilter_image(const uint8_t *raw, uint8_t *out, const uint8_t *zeros,
                                        uint32_t height, size_t n, size_t bpp) {
    const uint8_t *prev = zeros;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *src = raw + (size_t)y * (n + 1);
        uint8_t *row = out + (size_t)y * n;
        uint8_t type = src[0];  /* read before the move, which may overwrite it */
        if (type > 4) return (int64_t)y;
        memmove(row, src + 1, n);
        switch (type) {
        case 1: cpng_unfilter_sub(row, n, bpp); break;
        case 2: cpng_unfilter_up(row, prev, n); break;
        case 3: cpng_unfilter_average(row, prev, n, bpp); break;
        case 4: cpng_unfilter_paeth(row, prev, n, bpp); break;
        default: break;
        }
        prev = row;
    }
    return -1;
}

/* One copy per pixel size, so each loop above sees bpp as a constant. */
static inline int64_t cpng_unfilter_image_1(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, uint32_t h, size_t n) {
    return cpng_unfilter_image(raw, out, zeros, h, n, 1);
}
static inline int64_t cpng_unfilter_image_2(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, uint32_t h, size_t n) {
    return cpng_unfilter_image(raw, out, zeros, h, n, 2);
}
static inline int64_t cpng_unfilter_image_3(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, uint32_t h, size_t n) {
    return cpng_unfilter_image(raw, out, zeros, h, n, 3);
}
static inline int64_t cpng_unfilter_image_4(const uint8_t *raw, uint8_t *out, const uint8_t *zeros, uint32_t h, size_t n) {
    return cpng_unfilter_image(raw, out, zeros, h, n, 4);
}
/* The copy of cpng_unfilter_image for a channel count (8-bit samples, so bpp = channels). */
static inline int64_t cpng_unfilter_rows(const uint8_t *raw, uint8_t *out, const uint8_t *zeros,
                                         uint32_t h, size_t n, int channels) {
    switch (channels) {
    case 1: return cpng_unfilter_image_1(raw, out, zeros, h, n);
    case 2: return cpng_unfilter_image_2(raw, out, zeros, h, n);
    case 3: return cpng_unfilter_image_3(raw, out, zeros, h, n);
    default: return cpng_unfilter_image_4(raw, out, zeros, h, n);
    }
}

#endif
