#ifndef CCODECS_JPEG_BANDS_H
#define CCODECS_JPEG_BANDS_H

/*
 * JPEG by bands (cjpeg_bands.c): the encoder writes a restart marker after every MCU row, so
 * each band of MCU rows is encoded on its own and the pieces join into the file a serial
 * encode writes; the decoder reads a file's markers and decodes one band of rows, either
 * from the restart segments that hold it (with one MCU row of context on each side, which
 * fancy upsampling reads) or by skipping the rows above it. Every band decoded either way
 * equals the same rows of the whole-image decode (ccodec_jpeg_decode), exactly.
 */

#include "ccodecs.h"

/** How libjpeg is asked to encode (ccodec_jpeg_encode_options). */
typedef struct {
    /** 1...100 (clamped). */
    int quality;
    /** Luma sampling factors for colour (chroma is 1x1): 2x2 is 4:2:0, 2x1 4:2:2, 1x2 4:4:0, 1x1 4:4:4. */
    int h_samp;
    int v_samp;
    /** libjpeg's restart_in_rows: a restart marker every this many MCU rows (0: none). */
    int restart_rows;
    /** libjpeg's restart_interval in MCUs, used when restart_rows is 0 (0: none). */
    int restart_blocks;
    /** Huffman tables fitted to the image (optimize_coding). */
    int optimize;
    /** A progressive file (jpeg_simple_progression). */
    int progressive;
} ccodec_jpeg_options;

/** The settings bandsaw writes JPEG with: 4:2:0, a restart marker every MCU row, baseline
 * with libjpeg's standard Huffman tables (so any band can be encoded alone). */
ccodec_jpeg_options ccodec_jpeg_bandsaw_options(int quality);

/**
 * Encodes gray (1) or RGB (3) pixels with libjpeg, in one serial pass, with the given
 * options: the reference the band encoder is compared with, and the maker of test files.
 */
int ccodec_jpeg_encode_options(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                               const ccodec_jpeg_options *options, uint8_t **out, size_t *out_len,
                               char *msg, size_t msglen);

/** The pixel rows of one MCU row in bandsaw's JPEG output: 16 for colour (4:2:0), 8 for gray. */
uint32_t ccodec_jpeg_band_rows(int channels);

/**
 * Encodes rows [first_row, first_row + rows) of an image image_height rows tall, with
 * bandsaw's options, as its piece of the file: *out holds the file's headers (the SOF with
 * the whole image's height), *header_len bytes, then the band's entropy-coded segments, their
 * restart markers numbered as in the whole file, and then the restart marker that follows
 * the band's last MCU row in the whole file, or EOI when the band ends the image. Band 0's
 * whole output followed by every later band's output after its header is, byte for byte,
 * what ccodec_jpeg_encode writes for the whole image. first_row must be a multiple of
 * ccodec_jpeg_band_rows, and so must rows unless the band ends the image.
 */
int ccodec_jpeg_encode_band(const uint8_t *pixels, uint32_t width, uint32_t rows, int channels, int quality,
                            uint32_t image_height, uint32_t first_row,
                            uint8_t **out, size_t *out_len, size_t *header_len, char *msg, size_t msglen);

/** The file can only be decoded whole (see ccodec_jpeg_layout.reason). */
#define CCODEC_JPEG_WHOLE 0
/** The file has a restart marker at the end of every segment_rows MCU rows: bands decode
 * from their segments. */
#define CCODEC_JPEG_RESTART 1
/** A baseline (sequential) file without usable restart markers: bands decode by skipping
 * the rows above them. */
#define CCODEC_JPEG_SKIP 2

/** What rank 0 learns from a JPEG's markers, and what a band decode needs from them. */
typedef struct {
    uint32_t width;
    uint32_t height;
    /** 1 (gray) or 3 (RGB) once decoded. */
    int channels;
    /** CCODEC_JPEG_WHOLE, _RESTART or _SKIP. */
    int kind;
    /** Pixel rows per MCU row (8 times the largest vertical sampling factor). */
    uint32_t mcu_height;
    /** MCU rows in the image: ceil(height / mcu_height). */
    uint32_t mcu_rows;
    /** RESTART: MCU rows per restart segment (the DRI over the MCUs in a row). */
    uint32_t segment_rows;
    /** RESTART: how many segments: ceil(mcu_rows / segment_rows). */
    uint32_t segments;
    /** Bytes from SOI through the SOS segment: the headers every band stream starts with. */
    size_t header_len;
    /** Where the SOF's 16-bit height is, in the header. */
    size_t sof_height_at;
    /** Where the marker that ends the scan (EOI) starts. */
    size_t data_end;
} ccodec_jpeg_layout;

/**
 * Reads a JPEG's markers and, for a baseline single-scan gray, YCbCr or RGB file that ends
 * with EOI, indexes the restart markers of its entropy-coded data. kind says how bands can
 * be decoded; for WHOLE, msg says why. For RESTART, *starts and *ends (malloc'd, segments
 * entries each, freed with ccodec_free) give each segment's bytes in data, without the
 * marker that follows it. Fails (with the status ccodec_jpeg_header would give) only where
 * the header itself does not read or is over max_pixels.
 */
int ccodec_jpeg_layout_read(const uint8_t *data, size_t len, uint64_t max_pixels, ccodec_jpeg_layout *layout,
                            uint64_t **starts, uint64_t **ends, char *msg, size_t msglen);

/**
 * Decodes rows [first_row, first_row + row_count) from segment_count restart segments that
 * begin with segment first_segment: header is the file's header_len bytes; data, data_len
 * bytes, runs from the start of the first segment to the end of the last (the markers
 * between them included). The rows must lie inside the segments' rows, with an MCU row to
 * spare above (unless the segments start the image) and below (unless they end it). out
 * receives row_count * width * channels bytes. A marker out of place, a segment that does
 * not decode or any doubt is an error status, never other pixels.
 */
int ccodec_jpeg_decode_segments(const ccodec_jpeg_layout *layout, const uint8_t *header,
                                uint32_t first_segment, uint32_t segment_count, const uint8_t *data, size_t data_len,
                                uint32_t first_row, uint32_t row_count, uint8_t *out, size_t out_len,
                                char *msg, size_t msglen);

/**
 * Decodes rows [first_row, first_row + row_count) of a whole sequential JPEG held in data:
 * libjpeg skips (entropy-decodes without the IDCT) to the MCU row that holds first_row, then
 * decodes from there. When the rows reach the image's end the decode is finished as the
 * whole decode's is (so a file cut short after its last row fails the same way).
 */
int ccodec_jpeg_decode_rows(const uint8_t *data, size_t len, uint64_t max_pixels,
                            uint32_t first_row, uint32_t row_count, uint8_t *out, size_t out_len,
                            char *msg, size_t msglen);

#endif /* CCODECS_JPEG_BANDS_H */
