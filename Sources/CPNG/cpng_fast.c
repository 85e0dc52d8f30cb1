/*
 * The fast PNG decoder (see cpng_fast.h): chunk walk, one libdeflate call, unfiltering.
 *
 * libpng (cpng.c) stays the reference, so every verdict here follows what libpng does with
 * the same bytes, in the order it would reach them:
 *   - Chunk headers are checked as png_read_chunk_header does (length at most 2^31-1, type
 *     letters only), both CORRUPT; data that ends inside a chunk is TRUNCATED, however
 *     long the chunk claims to be (libpng 1.6.39 reads on until the data runs out).
 *   - A CRC mismatch is CORRUPT on critical chunks; ancillary chunks with a bad CRC are
 *     dropped with a warning by libpng, so they are ignored here.
 *   - libpng inflates the image data before it looks at anything after the IDAT run, so a
 *     fault found there is held back until the image has decoded and reported only then.
 *   - Where libpng's verdict depends on how it happens to buffer the stream (a bad Adler-32
 *     or zlib header with good deflate data, more data than the image needs, a window
 *     smaller than 32 KiB), this path answers CSTATUS_FAST_DECLINED and libpng decides.
 */

#include "cpng.h"
#include "cpng_internal.h"

#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


/* MARK: - Inflating */

/* Asks for transparent huge pages over the whole 2 MiB pages inside [p, p + n): the first
 * touch of a fresh 50 MB output is otherwise some 12,000 page faults, a sixth of the
 * decode. Advice only; nothing changes where the kernel declines. */
static void cpng_prefer_huge_pages(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);
    if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p; (void)n;
#endif
}

/* Inflates the zlib stream into raw (exactly raw_len bytes). CSTATUS_OK, CSTATUS_CORRUPT, or
 * CSTATUS_FAST_DECLINED when only libpng can say what it makes of the stream. */
static int cpng_inflate(const uint8_t *stream, size_t stream_len, uint8_t *raw, size_t raw_len,
                        char *msg, size_t msglen) {
    /* A window under 32 KiB: zlib (so libpng) refuses distances beyond it, libdeflate
     * does not check; such small windows come only from encoders of small images. */
    if (stream_len >= 2 && (stream[0] >> 4) != 7) return CSTATUS_FAST_DECLINED;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (d == NULL) return cpng_fast_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory creating the inflater");
    enum libdeflate_result r = libdeflate_zlib_decompress(d, stream, stream_len, raw, raw_len, NULL);
    if (r == LIBDEFLATE_BAD_DATA && stream_len > 2
        && libdeflate_deflate_decompress(d, stream + 2, stream_len - 2, raw, raw_len, NULL) == LIBDEFLATE_SUCCESS) {
        /* Good deflate data with a bad zlib header or Adler-32: libpng checks those only as
         * far as its reads happen to reach, so leave the verdict to it. */
        r = LIBDEFLATE_INSUFFICIENT_SPACE;
    }
    libdeflate_free_decompressor(d);
    switch (r) {
    case LIBDEFLATE_SUCCESS: return CSTATUS_OK;
    case LIBDEFLATE_SHORT_OUTPUT: return cpng_fast_fail(msg, msglen, CSTATUS_CORRUPT, "Not enough image data");
    /* Too much data is only a warning to libpng; it decodes the image and drops the rest. */
    case LIBDEFLATE_INSUFFICIENT_SPACE: return CSTATUS_FAST_DECLINED;
    default: return cpng_fast_fail(msg, msglen, CSTATUS_CORRUPT, "IDAT: invalid compressed data");
    }
}

/* malloc for a large buffer, 2 MiB aligned and advised to use huge pages. */
static void *cpng_alloc_huge(size_t n) {
    const size_t huge = (size_t)2 << 20;
    if (n < huge) return malloc(n > 0 ? n : 1);
    size_t rounded = (n + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, rounded);
    if (p != NULL) cpng_prefer_huge_pages(p, rounded);
    return p;
}

/* MARK: - Decoding */

/* The whole fast path; with unfilter 0 it stops after the inflate and leaves the filtered
 * rows in out (see cpng_inflate_fast). */
static int cpng_decode_fast_impl(const uint8_t *data, size_t len, uint64_t max_pixels,
                                 uint8_t *out, size_t out_len, int unfilter,
                                 char *msg, size_t msglen) {
    static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    if (data == NULL || out == NULL) return cpng_fast_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "no data or no output");
    /* Anything wrong before the IHDR fields is libpng's to name. */
    if (len < 8 + 25 || memcmp(data, signature, 8) != 0) return CSTATUS_FAST_DECLINED;
    const uint8_t *ihdr = data + 8;
    if (cpng_be32(ihdr) != 13 || memcmp(ihdr + 4, "IHDR", 4) != 0) return CSTATUS_FAST_DECLINED;
    if (libdeflate_crc32(0, ihdr + 4, 17) != cpng_be32(ihdr + 21)) {
        return cpng_fast_fail(msg, msglen, CSTATUS_CORRUPT, "IHDR: CRC error");
    }
    uint32_t width = cpng_be32(ihdr + 8), height = cpng_be32(ihdr + 12);
    uint8_t depth = ihdr[16], colour = ihdr[17];
    if (width == 0 || height == 0 || width > CPNG_UINT31_MAX || height > CPNG_UINT31_MAX
        || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] != 0 || depth != 8) {
        return CSTATUS_FAST_DECLINED;  /* interlaced, not 8-bit, or an invalid header */
    }
    int channels = colour == 0 ? 1 : colour == 4 ? 2 : colour == 2 ? 3 : colour == 6 ? 4 : 0;
    if (channels == 0) return CSTATUS_FAST_DECLINED;  /* palette, or an invalid colour type */
    if ((uint64_t)width * height > max_pixels) {
        char text[128];
        snprintf(text, sizeof text, "%lux%lu exceeds the pixel limit", (unsigned long)width, (unsigned long)height);
        return cpng_fast_fail(msg, msglen, CSTATUS_TOO_LARGE, text);
    }
    size_t row_bytes, image_bytes, line, raw_len;
    if (__builtin_mul_overflow((size_t)width, (size_t)channels, &row_bytes)
        || __builtin_mul_overflow(row_bytes, (size_t)height, &image_bytes)
        || __builtin_add_overflow(row_bytes, (size_t)1, &line)
        || __builtin_mul_overflow(line, (size_t)height, &raw_len)) {
        return cpng_fast_fail(msg, msglen, CSTATUS_NO_MEMORY, "image too large for this machine");
    }
    if (out_len < (unfilter ? image_bytes : raw_len)) {
        return cpng_fast_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "output buffer too small for the decoded image");
    }

    /* Walk every chunk to IEND. The IDATs that follow one another make the image stream
     * (libpng ignores, with a warning, IDATs after a gap once the stream is complete). */
    enum { BEFORE_IDAT, IN_IDAT, AFTER_IDAT } phase = BEFORE_IDAT;
    size_t pos = 8 + 25, first_idat = 0, stream_len = 0, idat_chunks = 0, single = 0;
    int late = CSTATUS_OK;  /* a fault after the IDAT run, reported only if the image decodes */
    char late_text[96] = "";
    for (;;) {
        int status = CSTATUS_OK;
        const char *text = "unexpected end of PNG data";
        uint32_t length = 0;
        int is_idat = 0;
        if (len - pos < 8) {
            /* Cut inside a chunk header: straight after an IDAT, the stream may have gone on
             * there, and libpng reports the cut whether or not the stream was complete. */
            status = CSTATUS_TRUNCATED;
        } else {
            length = cpng_be32(data + pos);
            is_idat = memcmp(data + pos + 4, "IDAT", 4) == 0;
            if (phase == IN_IDAT && !is_idat) phase = AFTER_IDAT;
            if (length > CPNG_UINT31_MAX) {
                status = CSTATUS_CORRUPT, text = "PNG unsigned integer out of range";
            } else if (!cpng_chunk_type_valid(data + pos + 4)) {
                status = CSTATUS_CORRUPT, text = "invalid chunk type";
            } else if (len - pos - 8 < (size_t)length + 4) {
                status = CSTATUS_TRUNCATED;
            }
        }
        if (status != CSTATUS_OK) {
            if (phase != AFTER_IDAT) return cpng_fast_fail(msg, msglen, status, text);
            /* Past the IDAT run: libpng decodes the image before it gets here. */
            late = status;
            snprintf(late_text, sizeof late_text, "%s", text);
            break;
        }
        const uint8_t *type = data + pos + 4;
        int critical = (type[0] & 0x20) == 0;
        int is_iend = memcmp(type, "IEND", 4) == 0;
        /* PLTE, tRNS, a second IHDR, unknown critical chunks: libpng's business. */
        if (memcmp(type, "tRNS", 4) == 0 || (critical && !is_idat && !is_iend)) {
            return CSTATUS_FAST_DECLINED;
        }
        if (critical && libdeflate_crc32(0, type, (size_t)length + 4) != cpng_be32(type + 4 + length)) {
            char text_crc[32];
            snprintf(text_crc, sizeof text_crc, "%.4s: CRC error", (const char *)type);
            if (phase != AFTER_IDAT) return cpng_fast_fail(msg, msglen, CSTATUS_CORRUPT, text_crc);
            late = CSTATUS_CORRUPT;
            snprintf(late_text, sizeof late_text, "%s", text_crc);
            break;
        }
        if (is_idat && phase == BEFORE_IDAT) {
            phase = IN_IDAT;
            first_idat = pos;
        }
        if (is_idat && phase == IN_IDAT && length > 0) {
            stream_len += length;
            idat_chunks++;
            single = pos + 8;
        }
        pos += (size_t)length + 12;
        if (is_iend) break;
    }
    if (phase == BEFORE_IDAT) return CSTATUS_FAST_DECLINED;  /* no image data: libpng says so */

    /* The stream: the one IDAT's data in place, or the run's pieces joined. */
    const uint8_t *stream = data + single;
    uint8_t *joined = NULL;
    if (idat_chunks > 1) {
        joined = cpng_alloc_huge(stream_len);
        if (joined == NULL) return cpng_fast_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory joining IDAT chunks");
        size_t used = 0;
        for (size_t p = first_idat; memcmp(data + p + 4, "IDAT", 4) == 0; p += (size_t)cpng_be32(data + p) + 12) {
            size_t n = cpng_be32(data + p);
            memcpy(joined + used, data + p + 8, n);
            used += n;
            if (used == stream_len) break;
        }
        stream = joined;
    } else if (idat_chunks == 0) {
        stream = data + first_idat + 8;  /* empty: the inflater reports the missing data */
    }

    cpng_prefer_huge_pages(out, out_len);
    /* Inflate in place when the caller left room (see cpng_unfilter_image). */
    uint8_t *raw = out_len >= raw_len ? out : cpng_alloc_huge(raw_len);
    uint8_t *zeros = calloc(row_bytes, 1);
    if (raw == NULL || zeros == NULL) {
        free(joined); free(zeros);
        if (raw != out) free(raw);
        return cpng_fast_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory inflating the image");
    }
    int rc = cpng_inflate(stream, stream_len, raw, raw_len, msg, msglen);
    free(joined);
    if (rc == CSTATUS_OK && unfilter) {
        int64_t bad_row = cpng_unfilter_rows(raw, out, zeros, height, row_bytes, channels);
        if (bad_row >= 0) rc = cpng_fast_fail(msg, msglen, CSTATUS_CORRUPT, "bad adaptive filter value");
    }
    if (raw != out) free(raw);
    free(zeros);
    if (rc == CSTATUS_OK && late != CSTATUS_OK) rc = cpng_fast_fail(msg, msglen, late, late_text);
    return rc;
}

int cpng_decode_fast(const uint8_t *data, size_t len, uint64_t max_pixels,
                     uint8_t *out, size_t out_len,
                     char *msg, size_t msglen) {
    return cpng_decode_fast_impl(data, len, max_pixels, out, out_len, 1, msg, msglen);
}

int cpng_inflate_fast(const uint8_t *data, size_t len, uint64_t max_pixels,
                      uint8_t *raw, size_t raw_len,
                      char *msg, size_t msglen) {
    return cpng_decode_fast_impl(data, len, max_pixels, raw, raw_len, 0, msg, msglen);
}

int64_t cpng_unfilter_band(uint8_t *raw, uint8_t *out, const uint8_t *above,
                           uint32_t rows, size_t row_bytes, int channels) {
    if (rows == 0) return -1;
    uint8_t *zeros = NULL;
    if (above == NULL) {
        zeros = calloc(row_bytes ? row_bytes : 1, 1);
        if (zeros == NULL) return 0;
        above = zeros;
    }
    int64_t bad_row = cpng_unfilter_rows(raw, out, above, rows, row_bytes, channels);
    free(zeros);
    return bad_row;
}
