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
 * returns CPNG_FAST_UNSUPPORTED and the caller decodes with cpng_decode (libpng), which
 * stays the reference: this path must give the same pixels and the same CPNG_* statuses.
 * No libpng call happens here, so no setjmp either; nothing is printed.
 */
#include <stddef.h>
#include <stdint.h>

/** Not a case this path decodes (palette, 1/2/4/16-bit, interlaced, tRNS, an unknown
 * critical chunk, or a stream fault whose verdict depends on libpng's buffering): decode
 * with cpng_decode instead. Distinct from every CPNG_* status in cpng.h. */
#define CPNG_FAST_UNSUPPORTED 100

/**
 * Decodes the PNG in data[0..<len] into out (rows packed, width * channels bytes each),
 * or returns CPNG_FAST_UNSUPPORTED (out's contents are then undefined).
 * out_len must be at least width * height * channels; with height more bytes than that
 * the stream is inflated in place in out, without a second image-sized buffer.
 * Statuses as cpng_decode: CPNG_TRUNCATED when the file ends early, CPNG_CORRUPT for a bad
 * CRC on a critical chunk, a bad chunk header, bad compressed data or a bad filter type,
 * CPNG_TOO_LARGE over max_pixels, CPNG_BAD_ARGUMENT when out_len is short, CPNG_NO_MEMORY.
 * On failure msg holds a one-line reason.
 */
int cpng_decode_fast(const uint8_t *data, size_t len, uint64_t max_pixels,
                     uint8_t *out, size_t out_len,
                     char *msg, size_t msglen);

#endif
