#ifndef CPNG_FAST_H
#define CPNG_FAST_H
/*
 * The fast PNG decoder: the common case only, without libpng.
 *
 * Rank 0 decodes the whole input alone before any other rank can start, and libpng's
 * zlib inflate plus row-by-row unfiltering dominated that serial step. This path walks the
 * chunks itself, inflates the whole IDAT stream in one call with libdeflate, and unfilters
 * with one tight loop per filter type.
 *
 * It takes only 8-bit, non-interlaced gray, gray+alpha, RGB and RGBA images without a tRNS
 * chunk: exactly the images whose decoded layout is the file's own. For everything else it
 * returns CSTATUS_FAST_DECLINED and the caller decodes with cpng_decode (libpng), which
 * stays the reference: this path must give the same pixels and the same statuses.
 * No libpng call happens here, so no setjmp either; nothing is printed.
 */
#include <stddef.h>
#include <stdint.h>

#include "cstatus.h"

/**
 * Decodes the PNG in data[0..<len] into out (rows packed, width * channels bytes each),
 * or returns CSTATUS_FAST_DECLINED (out's contents are then undefined).
 * out_len must be at least width * height * channels; with height more bytes than that
 * the stream is inflated in place in out, without a second image-sized buffer.
 * Statuses as cpng_decode: CSTATUS_TRUNCATED when the file ends early, CSTATUS_CORRUPT for a bad
 * CRC on a critical chunk, a bad chunk header, bad compressed data or a bad filter type,
 * CSTATUS_TOO_LARGE over max_pixels, CSTATUS_BAD_ARGUMENT when out_len is short, CSTATUS_NO_MEMORY.
 * On failure msg holds a one-line reason.
 */
int cpng_decode_fast(const uint8_t *data, size_t len, uint64_t max_pixels,
                     uint8_t *out, size_t out_len,
                     char *msg, size_t msglen);

/**
 * The fast path without its last step: walks the chunks and inflates the image data, as
 * cpng_decode_fast does with the same verdicts, but leaves the height filtered rows (a
 * filter-type byte, then width * channels bytes each) in raw, which must hold
 * height * (width * channels + 1) bytes; filter types are not checked here. A fault after
 * the image data, which cpng_decode_fast reports once the image has decoded, is returned
 * as its status. The ranks then unfilter their own rows with cpng_unfilter_band.
 */
int cpng_inflate_fast(const uint8_t *data, size_t len, uint64_t max_pixels,
                      uint8_t *raw, size_t raw_len,
                      char *msg, size_t msglen);

/**
 * Unfilters rows filtered rows from raw (each 1 + row_bytes bytes) into out, which may be
 * raw itself (rows move down in place). above is the unfiltered row just above the first,
 * or NULL for the image's first row. Returns -1, or the index of the first row whose filter
 * type is unknown (bad data: libpng reports "bad adaptive filter value").
 */
int64_t cpng_unfilter_band(uint8_t *raw, uint8_t *out, const uint8_t *above,
                           uint32_t rows, size_t row_bytes, int channels);

#endif
