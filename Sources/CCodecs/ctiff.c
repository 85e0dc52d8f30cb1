/*
 * The TIFF door: every libtiff call bandsaw makes.
 *
 * libtiff reports errors and warnings through handlers that print to stderr by default;
 * every handle here is opened with its own (TIFFOpenOptions), which keep the first error
 * message in the handle and drop warnings, so a bad file costs exactly the one error line
 * bandsaw prints. No setjmp is involved: libtiff returns status values.
 *
 * Only the first page (directory) is read. Rows are decoded by strip or tile, so a caller
 * that asks for some rows reads only the strips or tiles holding them.
 */
#include "ccodecs_internal.h"

#include <tiffio.h>

/* MARK: - Handles */

struct ccodec_tiff {
    TIFF *tif;
    /* In-memory source (NULL for a file). */
    const uint8_t *data;
    uint64_t len;
    uint64_t pos;
    /* The first error libtiff raised on this handle. */
    char error[256];
    /* The first page's layout, checked by ctiff_check_layout. */
    uint32_t width, height;
    uint16_t samples, bits, photometric;
    int channels;
    int tiled;
    uint32_t tile_width, tile_height, rows_per_strip;
    uint16_t *red, *green, *blue;
    /* One decoded strip or tile. */
    uint8_t *scratch;
    tmsize_t scratch_size;
};

/* libtiff's error handler for our handles: keep the first message, print nothing. */
static int ctiff_on_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    ccodec_tiff *h = (ccodec_tiff *)user;
    if (h->error[0] == '\0') {
        char text[200];
        vsnprintf(text, sizeof text, format, args);
        snprintf(h->error, sizeof h->error, "%s%s%s", module ? module : "", module ? ": " : "", text);
    }
    return 1;  /* handled: libtiff's global handlers (stderr) are not called */
}

/* Warnings (unknown tags, odd but readable files) are dropped. */
static int ctiff_on_warning(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif; (void)user; (void)module; (void)format; (void)args;
    return 1;
}

/* The options every handle is opened with: the handlers above, and a cap on any single
 * allocation libtiff makes (a damaged header must not ask for gigabytes). */
static TIFFOpenOptions *ctiff_options(void *user) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(options, ctiff_on_error, user);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ctiff_on_warning, user);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)1 << 31);
    return options;
}

/* The handle's error (or fallback), copied to the caller's buffer, and status returned. */
static int ctiff_fail(const ccodec_tiff *h, int status, const char *fallback, char *msg, size_t msglen) {
    ccodec_message(msg, msglen, "%s", h != NULL && h->error[0] != '\0' ? h->error : fallback);
    return status;
}

/* MARK: - In-memory I/O */

static tmsize_t ctiff_mem_read(thandle_t user, void *buffer, tmsize_t size) {
    ccodec_tiff *h = (ccodec_tiff *)user;
    if (size < 0 || h->pos >= h->len) return 0;
    uint64_t n = h->len - h->pos < (uint64_t)size ? h->len - h->pos : (uint64_t)size;
    memcpy(buffer, h->data + h->pos, (size_t)n);
    h->pos += n;
    return (tmsize_t)n;
}

static tmsize_t ctiff_mem_no_write(thandle_t user, void *buffer, tmsize_t size) {
    (void)user; (void)buffer; (void)size;
    return -1;
}

static toff_t ctiff_mem_seek(thandle_t user, toff_t offset, int whence) {
    ccodec_tiff *h = (ccodec_tiff *)user;
    uint64_t base = whence == SEEK_CUR ? h->pos : whence == SEEK_END ? h->len : 0;
    h->pos = base + offset;
    return h->pos;
}

static int ctiff_mem_close(thandle_t user) { (void)user; return 0; }
static toff_t ctiff_mem_size(thandle_t user) { return ((ccodec_tiff *)user)->len; }
static int ctiff_no_map(thandle_t user, void **base, toff_t *size) { (void)user; (void)base; (void)size; return 0; }
static void ctiff_no_unmap(thandle_t user, void *base, toff_t size) { (void)user; (void)base; (void)size; }

/* MARK: - Layout */

/* Tiles up to this many pixels are taken whatever the image's size (see ctiff_check_layout). */
#define CTIFF_TILE_AREA_FREE ((uint64_t)1 << 20)

/* Reads the first page's tags and refuses what bandsaw cannot decode, naming it. */
static int ctiff_check_layout(ccodec_tiff *h, uint64_t max_pixels, char *msg, size_t msglen) {
    TIFF *tif = h->tif;
    uint16_t planar = PLANARCONFIG_CONTIG, format = SAMPLEFORMAT_UINT;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &h->width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h->height)) {
        return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF has no image size", msg, msglen);
    }
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &h->photometric)) {
        return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF has no photometric interpretation", msg, msglen);
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &h->samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &h->bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    if (h->width == 0 || h->height == 0) return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF image is empty", msg, msglen);
    if ((uint64_t)h->width * h->height > max_pixels) {
        ccodec_message(msg, msglen, "%ux%u exceeds the pixel limit", h->width, h->height);
        return CSTATUS_TOO_LARGE;
    }
    if (format != SAMPLEFORMAT_UINT) {
        return ccodec_fail(msg, msglen, CSTATUS_UNSUPPORTED, "unsupported TIFF layout: signed or floating-point samples");
    }
    if (h->bits != 8 && h->bits != 16) {
        ccodec_message(msg, msglen, "unsupported TIFF layout: %u-bit samples (8 and 16 are read)", h->bits);
        return CSTATUS_UNSUPPORTED;
    }
    if (planar != PLANARCONFIG_CONTIG && h->samples > 1) {
        return ccodec_fail(msg, msglen, CSTATUS_UNSUPPORTED, "unsupported TIFF layout: separate sample planes");
    }
    switch (h->photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE:
        if (h->samples != 1 && h->samples != 2) break;
        h->channels = h->samples;
        break;
    case PHOTOMETRIC_RGB:
        if (h->samples != 3 && h->samples != 4) break;
        h->channels = h->samples;
        break;
    case PHOTOMETRIC_PALETTE:
        if (h->samples != 1 || h->bits != 8) break;
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &h->red, &h->green, &h->blue)) {
            return ctiff_fail(h, CSTATUS_CORRUPT, "palette TIFF has no colour map", msg, msglen);
        }
        h->channels = 3;
        break;
    default:
        ccodec_message(msg, msglen, "unsupported TIFF layout: photometric interpretation %u "
                       "(gray, RGB and palette are read)", h->photometric);
        return CSTATUS_UNSUPPORTED;
    }
    if (h->channels == 0) {
        ccodec_message(msg, msglen, "unsupported TIFF layout: %u samples per pixel for photometric %u",
                       h->samples, h->photometric);
        return CSTATUS_UNSUPPORTED;
    }
    h->tiled = TIFFIsTiled(tif);
    if (h->tiled) {
        if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &h->tile_width) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &h->tile_height)
            || h->tile_width == 0 || h->tile_height == 0) {
            return ctiff_fail(h, CSTATUS_CORRUPT, "tiled TIFF without a tile size", msg, msglen);
        }
        /* A tile may overhang the image, but not hold more pixels than the limit allows. */
        uint64_t tile_area = (uint64_t)h->tile_width * h->tile_height;
        if (tile_area > max_pixels) {
            ccodec_message(msg, msglen, "%ux%u TIFF tiles exceed the pixel limit", h->tile_width, h->tile_height);
            return CSTATUS_TOO_LARGE;
        }
        /* Nor be out of all proportion to the image: each rank holds one decoded tile, so a
         * 16x16 image in a 16384x16384 tile would cost 268 MB for 256 pixels. Writers pick
         * tiles of 16 to 1024 pixels a side; up to a megapixel or the image's own area is
         * taken. */
        if (tile_area > CTIFF_TILE_AREA_FREE && tile_area > (uint64_t)h->width * h->height) {
            ccodec_message(msg, msglen, "TIFF tiles of %ux%u for a %ux%u image", h->tile_width, h->tile_height,
                           h->width, h->height);
            return CSTATUS_CORRUPT;
        }
        h->scratch_size = TIFFTileSize(tif);
    } else {
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &h->rows_per_strip);
        if (h->rows_per_strip == 0 || h->rows_per_strip > h->height) h->rows_per_strip = h->height;
        h->scratch_size = TIFFScanlineSize(tif) * (tmsize_t)h->rows_per_strip;
    }
    if (h->scratch_size <= 0) return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF strip or tile size is invalid", msg, msglen);
    /* Offset 0 is the file's header, never pixel data: libtiff puts it where the offset list
     * is shorter than the strips or tiles the layout needs (16 one-row strips with one offset
     * decoded the header's bytes as 15 rows; scripts/make-hostile.py), and reads on. */
    uint32_t pieces = h->tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    for (uint32_t i = 0; i < pieces; i++) {
        if (TIFFGetStrileOffset(tif, i) == 0) {
            ccodec_message(msg, msglen, "TIFF %s %u has no data (%u listed, offset 0)", h->tiled ? "tile" : "strip", i, pieces);
            return CSTATUS_CORRUPT;
        }
    }
    h->scratch = (uint8_t *)malloc((size_t)h->scratch_size);
    if (h->scratch == NULL) return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory for a TIFF strip or tile");
    return CSTATUS_OK;
}

/* Fills info from a checked handle. */
static void ctiff_describe(const ccodec_tiff *h, ccodec_info *info) {
    info->width = h->width;
    info->height = h->height;
    info->channels = h->channels;
    info->bits = h->bits;
    info->tiled = h->tiled;
    info->tile_width = h->tiled ? h->tile_width : h->width;
    info->tile_height = h->tiled ? h->tile_height : h->rows_per_strip;
}

/* The shared second half of both opens: check the layout, or close and report why not. */
static int ctiff_finish_open(ccodec_tiff *h, uint64_t max_pixels, ccodec_tiff **handle, ccodec_info *info,
                             char *msg, size_t msglen) {
    if (h->tif == NULL) {
        int rc = ctiff_fail(h, CSTATUS_CORRUPT, "not a readable TIFF", msg, msglen);
        ccodec_tiff_close(h);
        return rc;
    }
    int rc = ctiff_check_layout(h, max_pixels, msg, msglen);
    if (rc != CSTATUS_OK) {
        /* The size, for a too-large image's message. */
        info->width = h->width;
        info->height = h->height;
        ccodec_tiff_close(h);
        return rc;
    }
    ctiff_describe(h, info);
    *handle = h;
    return CSTATUS_OK;
}

/* A zeroed handle, or NULL (with *rc set) when memory runs out. */
static ccodec_tiff *ctiff_new(ccodec_tiff **handle, ccodec_info *info, char *msg, size_t msglen, int *rc) {
    *handle = NULL;
    memset(info, 0, sizeof *info);
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    ccodec_tiff *h = (ccodec_tiff *)calloc(1, sizeof *h);
    *rc = h == NULL ? ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory opening TIFF") : CSTATUS_OK;
    return h;
}

int ccodec_tiff_open_memory(const char *name, const uint8_t *data, size_t len, uint64_t max_pixels,
                            ccodec_tiff **handle, ccodec_info *info, char *msg, size_t msglen) {
    if (data == NULL || handle == NULL || info == NULL) return CSTATUS_BAD_ARGUMENT;
    int rc;
    ccodec_tiff *h = ctiff_new(handle, info, msg, msglen, &rc);
    if (h == NULL) return rc;
    h->data = data;
    h->len = len;
    TIFFOpenOptions *options = ctiff_options(h);
    /* "m": no memory mapping (the bytes are in memory already). */
    h->tif = TIFFClientOpenExt(name != NULL ? name : "memory", "rm", h, ctiff_mem_read, ctiff_mem_no_write, ctiff_mem_seek,
                               ctiff_mem_close, ctiff_mem_size, ctiff_no_map, ctiff_no_unmap, options);
    TIFFOpenOptionsFree(options);
    return ctiff_finish_open(h, max_pixels, handle, info, msg, msglen);
}

int ccodec_tiff_open_file(const char *path, uint64_t max_pixels,
                          ccodec_tiff **handle, ccodec_info *info, char *msg, size_t msglen) {
    if (path == NULL || handle == NULL || info == NULL) return CSTATUS_BAD_ARGUMENT;
    int rc;
    ccodec_tiff *h = ctiff_new(handle, info, msg, msglen, &rc);
    if (h == NULL) return rc;
    TIFFOpenOptions *options = ctiff_options(h);
    /* "m": read(2), not mmap: a file shortened under us is an error, not SIGBUS. */
    h->tif = TIFFOpenExt(path, "rm", options);
    TIFFOpenOptionsFree(options);
    return ctiff_finish_open(h, max_pixels, handle, info, msg, msglen);
}

void ccodec_tiff_close(ccodec_tiff *handle) {
    if (handle == NULL) return;
    if (handle->tif != NULL) TIFFClose(handle->tif);
    free(handle->scratch);
    free(handle);
}

/* MARK: - Reading rows */

/* round(v * 255 / 65535) without division: exact for every 16-bit v. */
static inline uint8_t ctiff_scale16(uint32_t v) { return (uint8_t)((v * 255u + 32767u) / 65535u); }

/* Converts n pixels of file samples at src into 8-bit pixels of h->channels at dst. */
static void ctiff_convert(const ccodec_tiff *h, const uint8_t *src, uint32_t n, uint8_t *dst) {
    int invert = h->photometric == PHOTOMETRIC_MINISWHITE;
    if (h->photometric == PHOTOMETRIC_PALETTE) {
        /* Colour maps are 16-bit; v >> 8 as libtiff and Pillow read them (v*256 and v*257 both give v). */
        for (uint32_t x = 0; x < n; x++) {
            uint8_t i = src[x];
            dst[3 * x] = (uint8_t)(h->red[i] >> 8);
            dst[3 * x + 1] = (uint8_t)(h->green[i] >> 8);
            dst[3 * x + 2] = (uint8_t)(h->blue[i] >> 8);
        }
        return;
    }
    size_t count = (size_t)n * h->samples;
    int channels = h->channels;
    if (h->bits == 8) {
        memcpy(dst, src, count);
        if (invert) for (size_t i = 0; i < count; i += (size_t)channels) dst[i] = (uint8_t)(255 - dst[i]);
        return;
    }
    const uint8_t *p = src;
    for (size_t i = 0; i < count; i++, p += 2) {
        uint16_t v;
        memcpy(&v, p, 2);  /* libtiff has already put 16-bit samples in host order */
        if (invert && i % (size_t)channels == 0) v = (uint16_t)(65535 - v);
        dst[i] = ctiff_scale16(v);
    }
}

int ccodec_tiff_read_rows(ccodec_tiff *h, uint32_t first, uint32_t count,
                          uint8_t *out, size_t out_len, char *msg, size_t msglen) {
    if (h == NULL || out == NULL) return CSTATUS_BAD_ARGUMENT;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    size_t row_bytes = (size_t)h->width * (size_t)h->channels;
    if (first > h->height || count > h->height - first || out_len / row_bytes < count) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "TIFF rows outside the image or buffer too small");
    }
    uint32_t end = first + count;
    size_t pixel_bytes = (size_t)h->samples * (h->bits / 8);
    if (h->tiled) {
        tmsize_t tile_row = TIFFTileRowSize(h->tif);
        for (uint32_t ty = first - first % h->tile_height; ty < end; ty += h->tile_height) {
            uint32_t y0 = ty > first ? ty : first;
            uint32_t y1 = end - ty < h->tile_height ? end : ty + h->tile_height;
            for (uint32_t tx = 0; tx < h->width; tx += h->tile_width) {
                uint32_t tile = TIFFComputeTile(h->tif, tx, ty, 0, 0);
                if (TIFFReadEncodedTile(h->tif, tile, h->scratch, h->scratch_size) < 0) {
                    return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF tile cannot be decoded", msg, msglen);
                }
                uint32_t columns = h->width - tx < h->tile_width ? h->width - tx : h->tile_width;
                for (uint32_t y = y0; y < y1; y++) {
                    ctiff_convert(h, h->scratch + (size_t)(y - ty) * (size_t)tile_row, columns,
                                  out + (size_t)(y - first) * row_bytes + (size_t)tx * (size_t)h->channels);
                }
            }
        }
        return CSTATUS_OK;
    }
    size_t line = (size_t)h->width * pixel_bytes;
    for (uint32_t strip_y = first - first % h->rows_per_strip; strip_y < end; strip_y += h->rows_per_strip) {
        uint32_t rows = h->height - strip_y < h->rows_per_strip ? h->height - strip_y : h->rows_per_strip;
        tmsize_t got = TIFFReadEncodedStrip(h->tif, TIFFComputeStrip(h->tif, strip_y, 0), h->scratch, h->scratch_size);
        if (got < 0 || (size_t)got < (size_t)rows * line) {
            return ctiff_fail(h, CSTATUS_CORRUPT, "TIFF strip is short or cannot be decoded", msg, msglen);
        }
        uint32_t y0 = strip_y > first ? strip_y : first;
        uint32_t y1 = strip_y + rows < end ? strip_y + rows : end;
        for (uint32_t y = y0; y < y1; y++) {
            ctiff_convert(h, h->scratch + (size_t)(y - strip_y) * line, h->width, out + (size_t)(y - first) * row_bytes);
        }
    }
    return CSTATUS_OK;
}

/* MARK: - Writing */

/* The encoder's in-memory file: a growing buffer written at a moving position. */
typedef struct {
    ccodec_buffer buffer;
    uint64_t pos;
    char error[256];
} ctiff_sink;

static tmsize_t ctiff_sink_write(thandle_t user, void *data, tmsize_t size) {
    ctiff_sink *s = (ctiff_sink *)user;
    if (size < 0 || s->pos > SIZE_MAX - (size_t)size) return -1;
    size_t end = (size_t)s->pos + (size_t)size;
    size_t old = s->buffer.len;
    if (!ccodec_buffer_reserve(&s->buffer, end)) return -1;
    if (s->pos > old) memset(s->buffer.bytes + old, 0, (size_t)s->pos - old);
    memcpy(s->buffer.bytes + s->pos, data, (size_t)size);
    if (end > s->buffer.len) s->buffer.len = end;
    s->pos = end;
    return size;
}

static tmsize_t ctiff_sink_read(thandle_t user, void *data, tmsize_t size) {
    ctiff_sink *s = (ctiff_sink *)user;
    if (size < 0 || s->pos >= s->buffer.len) return 0;
    size_t n = s->buffer.len - (size_t)s->pos < (size_t)size ? s->buffer.len - (size_t)s->pos : (size_t)size;
    memcpy(data, s->buffer.bytes + s->pos, n);
    s->pos += n;
    return (tmsize_t)n;
}

static toff_t ctiff_sink_seek(thandle_t user, toff_t offset, int whence) {
    ctiff_sink *s = (ctiff_sink *)user;
    uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->buffer.len : 0;
    s->pos = base + offset;
    return s->pos;
}

static toff_t ctiff_sink_size(thandle_t user) { return ((ctiff_sink *)user)->buffer.len; }

static int ctiff_sink_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif; (void)module;
    ctiff_sink *s = (ctiff_sink *)user;
    if (s->error[0] == '\0') vsnprintf(s->error, sizeof s->error, format, args);
    return 1;
}

int ccodec_tiff_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int bigtiff,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen) {
    if (out == NULL || out_len == NULL) return CSTATUS_BAD_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    if (pixels == NULL || channels < 1 || channels > 4 || width == 0 || height == 0) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "TIFF needs 1...4 channels and at least 1x1 pixels");
    }
    ctiff_sink sink;
    memset(&sink, 0, sizeof sink);
    size_t row_bytes = (size_t)width * (size_t)channels;
    int big = bigtiff < 0 ? (uint64_t)row_bytes * height >= CCODEC_TIFF_BIG_BYTES : bigtiff != 0;
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory creating TIFF writer");
    TIFFOpenOptionsSetErrorHandlerExtR(options, ctiff_sink_error, &sink);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ctiff_on_warning, NULL);
    TIFF *tif = TIFFClientOpenExt("output", big ? "w8" : "w", &sink, ctiff_sink_read, ctiff_sink_write, ctiff_sink_seek,
                                  ctiff_mem_close, ctiff_sink_size, ctiff_no_map, ctiff_no_unmap, options);
    TIFFOpenOptionsFree(options);
    if (tif == NULL) {
        free(sink.buffer.bytes);
        return ccodec_fail(msg, msglen, CSTATUS_WRITE_FAILED, sink.error[0] ? sink.error : "cannot create TIFF writer");
    }
    uint16_t alpha[1] = {EXTRASAMPLE_UNASSALPHA};
    /* Strips of about 256 KiB: small enough to decode a few rows at a time, few enough to index. */
    uint32_t rows_per_strip = row_bytes >= (1u << 18) ? 1 : (uint32_t)((1u << 18) / row_bytes);
    int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width) && TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height)
          && TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)channels) && TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8)
          && TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, channels <= 2 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB)
          && TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG)
          && TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE)
          && TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL)
          && TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    if (ok && (channels == 2 || channels == 4)) ok = TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, alpha);
    /* libtiff's encoder (the predictor) works in place on the strip it is given: copy each. */
    uint8_t *strip = ok ? (uint8_t *)malloc(row_bytes * rows_per_strip) : NULL;
    if (ok && strip == NULL) ok = 0;
    for (uint32_t y = 0; ok && y < height; y += rows_per_strip) {
        uint32_t rows = height - y < rows_per_strip ? height - y : rows_per_strip;
        memcpy(strip, pixels + (size_t)y * row_bytes, (size_t)rows * row_bytes);
        ok = TIFFWriteEncodedStrip(tif, TIFFComputeStrip(tif, y, 0), strip, (tmsize_t)((size_t)rows * row_bytes)) >= 0;
    }
    free(strip);
    if (ok) ok = TIFFWriteDirectory(tif);
    TIFFClose(tif);
    if (!ok) {
        free(sink.buffer.bytes);
        return ccodec_fail(msg, msglen, CSTATUS_WRITE_FAILED, sink.error[0] ? sink.error : "TIFF encoding failed");
    }
    *out = sink.buffer.bytes;
    *out_len = sink.buffer.len;
    return CSTATUS_OK;
}
