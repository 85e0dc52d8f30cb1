#ifndef CPNG_H
#define CPNG_H

/*
 * CPNG: bandsaw's one door to libpng.
 *
 * Every libpng call, and every setjmp, lives in cpng.c: libpng reports errors by
 * longjmp, and a longjmp must never unwind through a Swift frame. Each function below
 * owns its own setjmp and turns whatever libpng raised into a plain status code plus a
 * message copied into the caller's buffer. libpng warnings are swallowed (bandsaw writes
 * nothing to stderr on its own behalf from inside a codec).
 *
 * Pixels are always 8-bit, interleaved, rows packed with no padding; 1 = gray,
 * 2 = gray+alpha, 3 = RGB, 4 = RGBA.
 */

#include <stddef.h>
#include <stdint.h>

/* Every cpng_ function returns a CSTATUS_* code (cstatus.h, shared with CCodecs). */
#include "cstatus.h"
/**
 * Reads the signature and header chunks (up to the first IDAT) and reports the size and
 * the channel count the image will have once cpng_decode has normalised it.
 * Allocates nothing proportional to the image size: safe to call on a decompression bomb.
 */
int cpng_read_header(const uint8_t *data, size_t len,
                     uint32_t *width, uint32_t *height, int *channels,
                     char *msg, size_t msglen);

/**
 * Decodes a whole PNG from memory into out (out_len must be at least
 * width * height * channels as reported by cpng_read_header), normalised to 8-bit:
 * palette becomes RGB, or RGBA when a tRNS chunk is present; gray and RGB with tRNS gain
 * an alpha channel; gray of 1, 2 or 4 bits is expanded to 8; 16-bit samples are scaled
 * to 8 bits with rounding (png_set_scale_16: round(v * 255 / 65535), not the truncating
 * png_set_strip_16); Adam7 interlacing is undone. Gamma and colour profiles are ignored.
 * Refuses (CSTATUS_TOO_LARGE) an image of more than max_pixels pixels, and sets libpng's
 * own per-dimension user limits to the same bound.
 */
int cpng_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                uint8_t *out, size_t out_len,
                char *msg, size_t msglen);

/**
 * Encodes width x height 8-bit pixels with the given channel count (1...4) as a
 * non-interlaced PNG with libpng's default filter choice and zlib level
 * compression_level (0...9, clamped). On success *out points to a malloc'd buffer of
 * *out_len bytes that the caller releases with cpng_free; on failure *out is NULL.
 */
int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                int compression_level,
                uint8_t **out, size_t *out_len,
                char *msg, size_t msglen);

/** Releases a buffer returned by cpng_encode. */
void cpng_free(void *buffer);

/* Banded encoding (zlib only): see cpng_bands.h. */
#include "cpng_bands.h"

/* The libdeflate fast path for the common 8-bit layouts: see cpng_fast.h. */
#include "cpng_fast.h"

/* Decoding by restart segments (the mARK chunk): see cpng_restart.h. */
#include "cpng_restart.h"

#endif /* CPNG_H */
