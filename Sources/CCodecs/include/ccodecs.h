#ifndef CCODECS_H
#define CCODECS_H

/*
 * CCodecs: bandsaw's one door to libjpeg(-turbo), libtiff and libwebp.
 *
 * Every call into those libraries lives in the .c files of this target. libjpeg reports
 * errors by longjmp from its error_exit hook: the setjmp that catches it is in cjpeg.c and
 * no longjmp ever crosses a Swift frame. libtiff's error and warning handlers are replaced
 * per handle, so nothing is printed to stderr: the last error message is copied into the
 * caller's buffer instead. libwebp returns status codes and needs neither.
 *
 * Pixels crossing this door are always 8-bit, interleaved, rows packed with no padding;
 * 1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA. Buffers returned through an `out` pointer
 * are malloc'd and released with ccodec_free.
 */

#include <stddef.h>
#include <stdint.h>

/* Every ccodec_ function returns a CSTATUS_* code (cstatus.h, shared with CPNG). */
#include "cstatus.h"
/** What a header says about an image, as it will be decoded (channels after normalising). */
typedef struct {
    uint32_t width;
    uint32_t height;
    int channels;
    /** The bits per sample in the file (8 or 16 for TIFF; 8 for JPEG and WebP). */
    int bits;
    /** TIFF: whether the image is tiled (else stripped), and the tile or strip size. */
    int tiled;
    uint32_t tile_width;
    uint32_t tile_height;
} ccodec_info;

/** Releases a buffer returned by an encoder. */
void ccodec_free(void *buffer);

/* MARK: - JPEG (cjpeg.c) */

/**
 * Reads the markers up to the first scan and reports the size and channel count
 * (1 for gray, 3 for everything else: YCbCr, RGB, CMYK and YCCK become RGB).
 * Allocates nothing proportional to the image: safe on a decompression bomb.
 */
int ccodec_jpeg_header(const uint8_t *data, size_t len, ccodec_info *info, char *msg, size_t msglen);

/**
 * Decodes a whole JPEG (baseline or progressive, restart markers included) into out, which
 * holds width * height * channels bytes as ccodec_jpeg_header reported, with libjpeg's
 * default accurate integer IDCT and fancy upsampling. CMYK and YCCK are converted to RGB as
 * r = (255 - k) * (255 - c) / 255 with rounding (Adobe's inverted CMYK is inverted back).
 * Refuses more than max_pixels pixels. EXIF orientation is not applied here.
 */
int ccodec_jpeg_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                       uint8_t *out, size_t out_len, char *msg, size_t msglen);

/**
 * Encodes gray (channels 1) or RGB (channels 3) pixels as a baseline JFIF JPEG of the given
 * quality (1...100, clamped), 4:2:0 chroma subsampling for RGB, with libjpeg's standard
 * Huffman tables and a restart marker after every MCU row (so bands encoded apart by
 * ccodec_jpeg_encode_band join into these same bytes). Sides must be 1...65500.
 */
int ccodec_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen);

/* MARK: - WebP (cwebp.c) */

/**
 * Reads a WebP's headers: the size and 3 or 4 channels (4 when the image has alpha).
 * An animated WebP is CSTATUS_UNSUPPORTED.
 */
int ccodec_webp_header(const uint8_t *data, size_t len, ccodec_info *info, char *msg, size_t msglen);

/** Decodes a still WebP (lossy or lossless) into out as RGB or RGBA (channels 3 or 4). */
int ccodec_webp_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int channels,
                       uint8_t *out, size_t out_len, char *msg, size_t msglen);

/**
 * Encodes RGB (3) or RGBA (4) pixels as WebP: lossless (exactly, colours under transparent
 * pixels kept) when quality < 0, else lossy at quality 0...100. Sides must be 1...16383.
 */
int ccodec_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen);

/* MARK: - TIFF (ctiff.c) */

/** An open TIFF (its first page), in memory or on disk. */
typedef struct ccodec_tiff ccodec_tiff;

/**
 * Opens a TIFF held in memory (the bytes must outlive the handle) and checks its first
 * page's layout and size: fills info, or returns an error status and a NULL *handle.
 * name stands for the file in libtiff's messages (so they read as ccodec_tiff_open_file's).
 * Readable: 8- or 16-bit gray (min-is-black or min-is-white), gray+alpha, RGB, RGBA, and
 * 8-bit palette; contiguous samples; strips or tiles; any compression libtiff decodes.
 */
int ccodec_tiff_open_memory(const char *name, const uint8_t *data, size_t len, uint64_t max_pixels,
                            ccodec_tiff **handle, ccodec_info *info, char *msg, size_t msglen);

/** Opens the TIFF file at path, as ccodec_tiff_open_memory (it reads only what it needs). */
int ccodec_tiff_open_file(const char *path, uint64_t max_pixels,
                          ccodec_tiff **handle, ccodec_info *info, char *msg, size_t msglen);

/**
 * Decodes rows [first, first + count) into out (count * width * channels bytes), reading
 * only the strips or tiles that hold them. 16-bit samples become round(v * 255 / 65535);
 * min-is-white is inverted; palette entries become RGB (16-bit colour map, rounded).
 */
int ccodec_tiff_read_rows(ccodec_tiff *handle, uint32_t first, uint32_t count,
                          uint8_t *out, size_t out_len, char *msg, size_t msglen);

/** Closes a handle from ccodec_tiff_open_memory or ccodec_tiff_open_file (NULL is fine). */
void ccodec_tiff_close(ccodec_tiff *handle);

/**
 * Encodes 8-bit pixels (1...4 channels; 2 and 4 with unassociated alpha) as a single-page,
 * Deflate-compressed, stripped TIFF with the horizontal predictor: BigTIFF when bigtiff is 1,
 * classic when 0, and when -1 BigTIFF only if the pixels take CCODEC_TIFF_BIG_BYTES or more
 * (a classic TIFF's offsets are 32-bit, and Deflate may not shrink noise).
 */
int ccodec_tiff_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int bigtiff,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen);

/** Pixel bytes from which ccodec_tiff_encode writes BigTIFF on its own: 3.75 GiB. */
#define CCODEC_TIFF_BIG_BYTES 0xF0000000ull

#endif /* CCODECS_H */
