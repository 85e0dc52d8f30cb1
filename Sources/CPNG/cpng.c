/*
 * CPNG: every libpng call bandsaw makes, each behind its own setjmp.
 *
 * Shape of every entry point: the public function owns a cpng_ctx on its stack and calls
 * a static worker that holds the setjmp. The worker never modifies its own locals after
 * setjmp, and everything libpng's callbacks change lives in the caller's ctx, so nothing
 * the error path reads is an indeterminate local after longjmp (C11 7.13.2.1).
 *
 * Callbacks record *why* libpng failed in ctx->status before raising (the read callback
 * knows about truncation, the allocator about memory, the warning handler about user
 * limits); anything unrecorded is reported as the worker's default status.
 */

#include "cpng.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MARK: - Context and callbacks */

typedef struct {
    /* Reading: the whole PNG, already in memory. */
    const uint8_t *data;
    size_t len;
    size_t pos;
    /* Writing: a malloc'd buffer that grows by doubling. */
    uint8_t *buf;
    size_t buf_len;
    size_t buf_cap;
    /* Why libpng raised, when a callback knows better than "corrupt". */
    int status;
    char *msg;
    size_t msglen;
    /* Reading, from the image's last row on: where the run of IDAT chunks ends, how many
     * of its bytes libpng may still read, and how many it has (cpng_read_fn checks). */
    int last_row;
    size_t idat_end;
    size_t idat_budget;
    size_t idat_read;
} cpng_ctx;

/* How much image data libpng may read past the last row's own. Once the last row is
 * complete, libpng inflates whatever follows to the end of the stream (to check the Adler-32
 * and warn of "extra compressed data"), so a 16x16 PNG whose IDAT inflates to 1 GiB cost
 * 3.7 s; the fast path stops at the image's size and leaves such files here. A real
 * stream's tail (the final block and the Adler-32) is a few bytes, read in at most two of
 * libpng's 8 KiB pieces; past those the file is refused (16 KiB of tail inflates to at most
 * 17 MB: the bomb above is refused in 0.1 s). */
#define CPNG_IDAT_TAIL_MAX ((size_t)16 << 10)

static void cpng_ctx_init(cpng_ctx *ctx, const uint8_t *data, size_t len, char *msg, size_t msglen) {
    memset(ctx, 0, sizeof *ctx);
    ctx->data = data;
    ctx->len = len;
    ctx->msg = msg;
    ctx->msglen = msglen;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
}

static void cpng_set_message(cpng_ctx *ctx, const char *text) {
    if (ctx->msg != NULL && ctx->msglen > 0) snprintf(ctx->msg, ctx->msglen, "%s", text);
}

/* Records a status the error path should report, unless an earlier, more specific one stands. */
static void cpng_note(cpng_ctx *ctx, int status) {
    if (ctx->status == CSTATUS_OK) ctx->status = status;
}

/* The status to return once libpng has longjmp'd back: the recorded cause, else the default. */
static int cpng_failed(const cpng_ctx *ctx, int fallback) {
    return ctx->status != CSTATUS_OK ? ctx->status : fallback;
}

/* libpng's error callback: keep the message (unless a callback already explained the
 * failure better), then unwind to the worker's setjmp. Must not return. */
static void cpng_on_error(png_structp png, png_const_charp text) {
    cpng_ctx *ctx = (cpng_ctx *)png_get_error_ptr(png);
    if (ctx->status == CSTATUS_OK || ctx->msg == NULL || ctx->msglen == 0 || ctx->msg[0] == '\0') {
        cpng_set_message(ctx, text);
    }
    png_longjmp(png, 1);
}

/* libpng's warning callback: silent (no stray stderr), except that the user-limit warning
 * is the only sign that the "Invalid IHDR data" error which follows means "too large". */
static void cpng_on_warning(png_structp png, png_const_charp text) {
    cpng_ctx *ctx = (cpng_ctx *)png_get_error_ptr(png);
    if (text != NULL && strstr(text, "exceeds user limit") != NULL && ctx->status == CSTATUS_OK) {
        cpng_note(ctx, CSTATUS_TOO_LARGE);
        cpng_set_message(ctx, text);
    }
}

/* Allocator hooks, so an allocation failure is reported as such rather than as "corrupt". */
static png_voidp cpng_malloc(png_structp png, png_alloc_size_t size) {
    void *p = malloc(size);
    if (p == NULL) cpng_note((cpng_ctx *)png_get_mem_ptr(png), CSTATUS_NO_MEMORY);
    return p;
}

static void cpng_mfree(png_structp png, png_voidp p) {
    (void)png;
    free(p);
}

/* Feeds libpng from the in-memory PNG; running out of bytes is truncation, not corruption. */
static void cpng_read_fn(png_structp png, png_bytep out, size_t n) {
    cpng_ctx *ctx = (cpng_ctx *)png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos) {
        cpng_note(ctx, CSTATUS_TRUNCATED);
        png_error(png, "unexpected end of PNG data");
    }
    if (ctx->last_row && ctx->pos < ctx->idat_end) {
        size_t in_idat = ctx->idat_end - ctx->pos < n ? ctx->idat_end - ctx->pos : n;
        ctx->idat_read += in_idat;
        if (ctx->idat_read > ctx->idat_budget) {
            cpng_note(ctx, CSTATUS_CORRUPT);
            png_error(png, "IDAT: compressed data goes on far past the image's pixels");
        }
    }
    memcpy(out, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

/* Appends libpng's output to the growing buffer. */
static void cpng_write_fn(png_structp png, png_bytep in, size_t n) {
    cpng_ctx *ctx = (cpng_ctx *)png_get_io_ptr(png);
    if (n > SIZE_MAX - ctx->buf_len) {
        cpng_note(ctx, CSTATUS_NO_MEMORY);
        png_error(png, "PNG output too large");
    }
    size_t need = ctx->buf_len + n;
    if (need > ctx->buf_cap) {
        size_t cap = ctx->buf_cap < 4096 ? 4096 : ctx->buf_cap;
        while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *grown = (uint8_t *)realloc(ctx->buf, cap);
        if (grown == NULL) {
            cpng_note(ctx, CSTATUS_NO_MEMORY);
            png_error(png, "out of memory growing PNG output");
        }
        ctx->buf = grown;
        ctx->buf_cap = cap;
    }
    memcpy(ctx->buf + ctx->buf_len, in, n);
    ctx->buf_len = need;
}

static void cpng_flush_fn(png_structp png) { (void)png; }

/* MARK: - Reading */

/* 0 when the data starts with the full signature; otherwise why not. */
static int cpng_check_signature(const uint8_t *data, size_t len, cpng_ctx *ctx) {
    if (data != NULL && len >= 8 && png_sig_cmp(data, 0, 8) == 0) return CSTATUS_OK;
    if (data != NULL && len > 0 && len < 8 && png_sig_cmp(data, 0, len) == 0) {
        cpng_set_message(ctx, "PNG signature is cut short");
        return CSTATUS_TRUNCATED;
    }
    cpng_set_message(ctx, "not a PNG signature");
    return CSTATUS_NOT_FORMAT;
}

/* A read struct and its info struct wired to ctx's callbacks and in-memory data, or
 * CSTATUS_NO_MEMORY. Nothing here can raise, so it needs no setjmp of its own. */
static int cpng_create_reader(cpng_ctx *ctx, png_structp *png, png_infop *info) {
    *png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, ctx, cpng_on_error, cpng_on_warning,
                                    ctx, cpng_malloc, cpng_mfree);
    *info = *png != NULL ? png_create_info_struct(*png) : NULL;
    if (*info == NULL) {
        png_destroy_read_struct(png, NULL, NULL);
        cpng_set_message(ctx, "out of memory creating PNG reader");
        return CSTATUS_NO_MEMORY;
    }
    png_set_read_fn(*png, ctx, cpng_read_fn);
    png_set_sig_bytes(*png, 8);  /* cpng_check_signature has consumed them */
    /* Every ancillary chunk but tRNS is skipped unread: bandsaw uses none of them, and
     * libpng allocates a text or profile chunk's whole claimed length (and inflates it)
     * before reading it: a 57-byte file whose zTXt claimed 184 MB got 184 MB (found by
     * fuzz/targets/png_fast.c). Skipped chunks still have their CRCs checked. */
    png_set_keep_unknown_chunks(*png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_keep_unknown_chunks(*png, PNG_HANDLE_CHUNK_AS_DEFAULT, (png_const_bytep)"tRNS", 1);
    return CSTATUS_OK;
}

/* Sets up ctx over data and checks the signature; on CSTATUS_OK the reader starts after it. */
static int cpng_begin_read(cpng_ctx *ctx, const uint8_t *data, size_t len, char *msg, size_t msglen) {
    cpng_ctx_init(ctx, data, len, msg, msglen);
    int rc = cpng_check_signature(data, len, ctx);
    ctx->pos = 8;
    return rc;
}

/* The offset just past the first run of consecutive IDAT chunks (the file's end if the
 * chunk lengths run over it). */
static size_t cpng_idat_run_end(const uint8_t *data, size_t len) {
    size_t pos = 8, end = len;
    int seen = 0;
    while (len - pos >= 12) {
        size_t length = (size_t)data[pos] << 24 | (size_t)data[pos + 1] << 16 | (size_t)data[pos + 2] << 8 | data[pos + 3];
        int is_idat = memcmp(data + pos + 4, "IDAT", 4) == 0;
        if (seen && !is_idat) return pos;
        if (length > len - pos - 12) return end;
        seen |= is_idat;
        pos += length + 12;
    }
    return end;
}

/* Channels after the normalising transforms that cpng_set_transforms requests. */
static int cpng_normalised_channels(png_structp png, png_infop info) {
    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    switch (png_get_color_type(png, info)) {
    case PNG_COLOR_TYPE_GRAY: return has_trns ? 2 : 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_PALETTE: return has_trns ? 4 : 3;
    case PNG_COLOR_TYPE_RGB: return has_trns ? 4 : 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 0;
    }
}

/* Asks libpng for 8-bit samples in one of the four layouts Image holds; returns the pass count. */
static int cpng_set_transforms(png_structp png, png_infop info) {
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    /* Rounded scaling, so 16-bit v*257 comes back as exactly v. */
    if (depth == 16) png_set_scale_16(png);
    return png_set_interlace_handling(png);
}

/* The one reader. Reads the header into *width, *height, *channels (channels after
 * normalising); with out == NULL stops there, otherwise checks the pixel limit, applies the
 * normalising transforms and decodes into out. */
static int cpng_read_with(cpng_ctx *ctx, uint64_t max_pixels, uint8_t *out, size_t out_len,
                          uint32_t *width, uint32_t *height, int *channels) {
    png_structp png;
    png_infop info;
    int rc = cpng_create_reader(ctx, &png, &info);
    if (rc != CSTATUS_OK) return rc;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return cpng_failed(ctx, CSTATUS_CORRUPT);
    }
    /* No single dimension may exceed the whole pixel budget (libpng's own guard, checked in
     * png_read_info before any row buffer exists); the product is checked just below. */
    uint32_t side_limit = max_pixels > PNG_UINT_31_MAX ? PNG_UINT_31_MAX
                        : max_pixels == 0 ? 1 : (uint32_t)max_pixels;
    png_set_user_limits(png, side_limit, side_limit);
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    *channels = cpng_normalised_channels(png, info);
    if (out == NULL) {
        png_destroy_read_struct(&png, &info, NULL);
        return CSTATUS_OK;
    }
    if ((uint64_t)*width * *height > max_pixels) {
        char text[128];
        snprintf(text, sizeof text, "%lux%lu exceeds the pixel limit",
                 (unsigned long)*width, (unsigned long)*height);
        cpng_set_message(ctx, text);
        png_destroy_read_struct(&png, &info, NULL);
        return CSTATUS_TOO_LARGE;
    }
    int passes = cpng_set_transforms(png, info);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != *channels
        || row_bytes != (size_t)*width * (size_t)*channels) {
        cpng_set_message(ctx, "unexpected PNG layout after normalising");
        png_destroy_read_struct(&png, &info, NULL);
        return CSTATUS_CORRUPT;
    }
    if (out_len / row_bytes < *height) {
        cpng_set_message(ctx, "output buffer too small for the decoded image");
        png_destroy_read_struct(&png, &info, NULL);
        return CSTATUS_BAD_ARGUMENT;
    }
    /* One full row buffer per image row; for Adam7, libpng fills each row in over the
     * passes (this is what png_read_image does, minus the row-pointer array). */
    for (int pass = 0; pass < passes; pass++) {
        for (uint32_t y = 0; y < *height; y++) {
            if (pass == passes - 1 && y == *height - 1) {
                /* The last row's data (at most twice its 8-bit width in the file: 16-bit
                 * samples), then the stream's tail; libpng reads no further before
                 * png_read_row returns. */
                ctx->idat_end = cpng_idat_run_end(ctx->data, ctx->len);
                ctx->idat_budget = 2 * row_bytes + 1 + CPNG_IDAT_TAIL_MAX;
                ctx->last_row = 1;
            }
            png_read_row(png, out + (size_t)y * row_bytes, NULL);
        }
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return CSTATUS_OK;
}

int cpng_read_header(const uint8_t *data, size_t len,
                     uint32_t *width, uint32_t *height, int *channels,
                     char *msg, size_t msglen) {
    if (width == NULL || height == NULL || channels == NULL) return CSTATUS_BAD_ARGUMENT;
    *width = 0;
    *height = 0;
    *channels = 0;
    cpng_ctx ctx;
    int rc = cpng_begin_read(&ctx, data, len, msg, msglen);
    if (rc != CSTATUS_OK) return rc;
    return cpng_read_with(&ctx, UINT64_MAX, NULL, 0, width, height, channels);
}

int cpng_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                uint8_t *out, size_t out_len,
                char *msg, size_t msglen) {
    if (out == NULL) return CSTATUS_BAD_ARGUMENT;
    cpng_ctx ctx;
    int rc = cpng_begin_read(&ctx, data, len, msg, msglen);
    if (rc != CSTATUS_OK) return rc;
    uint32_t width, height;
    int channels;
    return cpng_read_with(&ctx, max_pixels, out, out_len, &width, &height, &channels);
}

/* MARK: - Writing */

static int cpng_encode_with(cpng_ctx *ctx, const uint8_t *pixels, uint32_t width, uint32_t height,
                            int channels, int compression_level) {
    static const int color_types[5] = {
        0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA,
    };
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, ctx, cpng_on_error,
                                                cpng_on_warning, ctx, cpng_malloc, cpng_mfree);
    if (png == NULL) {
        cpng_set_message(ctx, "out of memory creating PNG writer");
        return CSTATUS_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        cpng_set_message(ctx, "out of memory creating PNG info");
        return CSTATUS_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return cpng_failed(ctx, CSTATUS_WRITE_FAILED);
    }
    png_set_write_fn(png, ctx, cpng_write_fn, cpng_flush_fn);
    /* libpng's default user limit (1e6 per side) applies to writing too; the format's is 2^31-1. */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_compression_level(png, compression_level < 0 ? 0 : compression_level > 9 ? 9 : compression_level);
    png_set_IHDR(png, info, width, height, 8, color_types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * row_bytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return CSTATUS_OK;
}

int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                int compression_level,
                uint8_t **out, size_t *out_len,
                char *msg, size_t msglen) {
    cpng_ctx ctx;
    cpng_ctx_init(&ctx, NULL, 0, msg, msglen);
    if (out == NULL || out_len == NULL) return CSTATUS_BAD_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    if (pixels == NULL || channels < 1 || channels > 4 || width == 0 || height == 0
        || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX) {
        cpng_set_message(&ctx, "PNG needs 1...4 channels and 1...2^31-1 pixels per side");
        return CSTATUS_BAD_ARGUMENT;
    }
    int rc = cpng_encode_with(&ctx, pixels, width, height, channels, compression_level);
    if (rc != CSTATUS_OK) {
        free(ctx.buf);
        return rc;
    }
    *out = ctx.buf;
    *out_len = ctx.buf_len;
    return CSTATUS_OK;
}

void cpng_free(void *buffer) { free(buffer); }
