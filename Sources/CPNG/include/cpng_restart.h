#ifndef CPNG_RESTART_H
#define CPNG_RESTART_H
/*
 * Restart points: PNGs whose image data can be decoded in independent row segments.
 *
 * The format is the mARK chunk of libspng's PNG Restart Marker proposal (version 0.1),
 * segmentation method 0, type 1; docs/png-restart-points.md describes it as bandsaw uses it.
 * In short: mARK (before the first IDAT) holds method 0, type 1 and a segment count N; the
 * image's rows are cut into N segments of height / N rows, the first taller by the
 * remainder; the zlib stream is flushed fully at every segment start, and each segment's
 * data is exactly one IDAT chunk (the first also carries the zlib header, the last the
 * final block and the Adler-32). A segment's first row uses filter None or Sub, which do not
 * read the row above, so a segment decodes without the rows before it.
 *
 * Everything here only ever says "decoded" or "not this way": any doubt (no mARK, a mARK
 * that disagrees with the file, bad data) sends the caller to the ordinary whole-file
 * decoder, which gives libpng's verdict. No libpng call, so no setjmp.
 */
#include <stddef.h>
#include <stdint.h>

#include "cstatus.h"

/** What cpng_restart_probe learns of a file. */
typedef struct {
    uint32_t width, height;
    /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (8-bit samples). */
    int channels;
    /** N, the segment count (2 <= N < height). */
    uint32_t segments;
    /** Bytes of the zlib stream: every IDAT's data end to end. */
    uint64_t stream_len;
} cpng_restart_info;

/**
 * CSTATUS_OK when data is an 8-bit, non-interlaced gray, gray+alpha, RGB or RGBA PNG without
 * tRNS, of at most max_pixels pixels, with one well-formed mARK (method 0, type 1,
 * 2 <= N < height, good CRC) before exactly N consecutive non-empty IDAT chunks with good
 * CRCs, a valid zlib header with a 32 KiB window, and IEND; else CSTATUS_NO_RESTART.
 */
int cpng_restart_probe(const uint8_t *data, size_t len, uint64_t max_pixels, cpng_restart_info *info);

/**
 * Copies the IDAT data of a file that cpng_restart_probe accepted into stream
 * (info.stream_len bytes) and writes starts[0...N]: starts[k] is where segment k's deflate
 * data begins in the stream (starts[0] = 2, after the zlib header) and starts[N] where the
 * Adler-32 trailer begins. CSTATUS_OK, or CSTATUS_NO_RESTART when the file differs from the probe.
 */
int cpng_restart_stream(const uint8_t *data, size_t len, const cpng_restart_info *info,
                        uint8_t *stream, uint64_t *starts);

/**
 * Inflates deflate data holding whole consecutive segments, `rows` rows in all, and
 * unfilters them into out (rows * row_bytes bytes; out must have room for rows more, as the
 * rows are inflated in place). at_top: the first row is the image's first; otherwise its
 * filter must be None or Sub. to_end: the data runs to the stream's final block; otherwise
 * it ends at a full flush, and the caller leaves two writable bytes after data[len - 1]
 * (a final empty block is put there). The data must give exactly the rows' bytes and be
 * consumed whole. *adler is the Adler-32 of the inflated (filtered) bytes, for the
 * caller's check against the stream's trailer. CSTATUS_OK or CSTATUS_NO_RESTART (msg says why).
 */
int cpng_restart_decode(uint8_t *data, size_t len, int at_top, int to_end,
                        uint8_t *out, uint32_t rows, size_t row_bytes, int channels,
                        uint32_t *adler, char *msg, size_t msglen);

#endif
