#ifndef CPNG_BANDS_H
#define CPNG_BANDS_H
/*
 * Banded PNG encoding: each rank filters and deflates its own rows into a piece of one
 * zlib stream, and the root stitches the pieces into a single valid PNG.
 *
 * A piece is raw deflate data (no zlib header) that ends with a full flush, so it ends on
 * a byte boundary with no back-references into later pieces: pieces concatenate. The root
 * writes the zlib header, the pieces in row order, an empty final block (0x03 0x00) and the
 * Adler-32 of all filtered bytes, combined from the pieces' own with adler32_combine.
 * Only zlib is used here; no libpng call, so no setjmp is needed.
 */
#include <stddef.h>
#include <stdint.h>

/* Statuses: CSTATUS_* (cstatus.h), one meaning across both C doors. */
#include "cstatus.h"
/**
 * Filters `rows` rows of `row_bytes` bytes each (`bpp` bytes per pixel) and deflates them at
 * `level`: level 0 stores unfiltered rows; level 1 (fast) uses Paeth on every row and
 * run-length matching (Z_RLE); levels 2-9 choose each row's filter by libpng's
 * minimum-sum-of-absolute-differences heuristic and use full LZ77 matching.
 * `previous_row` is the image row just above the first (NULL for the image's first row):
 * the Up, Average and Paeth filters of the first row need it.
 * `restarts` lists, in increasing order, the rows (0-based within these rows) where a
 * restart segment begins (cpng_restart.h): the stream is fully flushed before each, which
 * byte-aligns it and drops every reference behind it, and the row itself is filtered with
 * None or Sub only, which do not read the row above. restart_offsets[i] receives the
 * byte offset in *out where restart row i's data begins (0 for row 0).
 * On success *out holds *out_len bytes (release with cpng_free) and *adler the Adler-32 of
 * the filtered bytes (filter-type bytes included), *raw_len their count.
 */
int cpng_deflate_rows(const uint8_t *rows, const uint8_t *previous_row, size_t row_bytes,
                      size_t row_count, int bpp, int level,
                      const size_t *restarts, size_t restart_count, uint64_t *restart_offsets,
                      uint8_t **out, size_t *out_len, uint32_t *adler, uint64_t *raw_len);

/** adler32_combine: the Adler-32 of A followed by B, from each one's and B's length. */
uint32_t cpng_adler32_combine(uint32_t adler_a, uint32_t adler_b, uint64_t length_b);

/** CRC-32 as PNG chunks use it, continued from `crc` (start with 0). */
uint32_t cpng_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif
