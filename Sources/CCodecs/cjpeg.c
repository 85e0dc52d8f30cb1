/*
 * The JPEG door: every libjpeg(-turbo) call bandsaw makes.
 *
 * libjpeg's error_exit must not return; here it longjmps back to the setjmp in the worker
 * that made the call (cjpeg_read_with, cjpeg_encode_with, and cjpeg_bands.c's workers), never
 * through a Swift frame. Everything the error path reads lives in the caller's cjpeg_ctx, not in locals the
 * worker changes after setjmp (C11 7.13.2.1). libjpeg's messages are kept, never printed.
 */
#include "cjpeg_internal.h"

/* MARK: - Context and error hooks */

/* The most scans a JPEG may have. Each scan of a progressive JPEG is a pass over every block
 * of its components, and a scan can be a dozen bytes: a 600 KB file of 50,000 scans over a
 * 1024x1024 image took 6.5 s (scripts/make-hostile.py, jpeg-scan-bomb.jpg). Encoders write
 * about 10 (libjpeg's default progression) and rarely more than 100; 256 is the limit
 * nvImageCodec chose after the same finding in libjpeg-turbo's security review, and
 * libjpeg-turbo's own tools take one (djpeg -maxscans, TurboJPEG's scan limit). */
#define CJPEG_MAX_SCANS 256

/* Keeps libjpeg's text for the error line; prints nothing. */
static void cjpeg_keep_message(j_common_ptr cinfo) {
    cjpeg_ctx *ctx = (cjpeg_ctx *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    ccodec_message(ctx->msg, ctx->msglen, "%s", text);
}

/* libjpeg's error_exit: keep the message, then back to the worker's setjmp. */
static void cjpeg_error_exit(j_common_ptr cinfo) {
    cjpeg_ctx *ctx = (cjpeg_ctx *)cinfo->err;
    cjpeg_keep_message(cinfo);
    if (ctx->status == CSTATUS_OK) ctx->status = CSTATUS_CORRUPT;
    longjmp(ctx->jump, 1);
}

/* libjpeg's emit_message: trace messages are dropped; warnings that mean the data is cut
 * short or damaged end the decode (libjpeg would carry on and fill in grey), while the
 * benign "extraneous bytes before marker" (common in camera files) is ignored. */
static void cjpeg_emit_message(j_common_ptr cinfo, int level) {
    cjpeg_ctx *ctx = (cjpeg_ctx *)cinfo->err;
    if (level != -1) return;
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
        ctx->status = CSTATUS_TRUNCATED;
        break;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_BOGUS_ICC:
        ctx->status = CSTATUS_CORRUPT;
        break;
    default:
        return;
    }
    cjpeg_keep_message(cinfo);
    longjmp(ctx->jump, 1);
}

/* libjpeg's progress hook, called as it reads markers and scans: refuses the scan past
 * CJPEG_MAX_SCANS, before libjpeg spends a pass over the image on it. */
static void cjpeg_check_scans(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    cjpeg_ctx *ctx = (cjpeg_ctx *)cinfo->err;
    if (((j_decompress_ptr)cinfo)->input_scan_number > CJPEG_MAX_SCANS) {
        ctx->status = CSTATUS_CORRUPT;
        ccodec_message(ctx->msg, ctx->msglen, "JPEG has more than %d scans", CJPEG_MAX_SCANS);
        longjmp(ctx->jump, 1);
    }
}

void cjpeg_ctx_init(cjpeg_ctx *ctx, char *msg, size_t msglen) {
    memset(ctx, 0, sizeof *ctx);
    ctx->msg = msg;
    ctx->msglen = msglen;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = cjpeg_error_exit;
    ctx->pub.emit_message = cjpeg_emit_message;
}

/* MARK: - Reading */

/* Channels once libjpeg has converted the colour space as cjpeg_choose_output does. */
static int cjpeg_output_channels(const struct jpeg_decompress_struct *cinfo) {
    return cinfo->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
}

/* Gray stays gray; CMYK and YCCK come out as CMYK (converted to RGB here); the rest as RGB. */
void cjpeg_choose_output(struct jpeg_decompress_struct *cinfo) {
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default: cinfo->out_color_space = JCS_RGB; break;
    }
    /* libjpeg's defaults, stated: the accurate integer IDCT and fancy (smooth) upsampling. */
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
}

/* (255 - k) * (255 - c) / 255 rounded, per channel, from true (not inverted) CMYK. */
static void cjpeg_cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned k = inverted ? 255u - cmyk[4 * x + 3] : cmyk[4 * x + 3];
        unsigned nk = 255u - k;
        for (int i = 0; i < 3; i++) {
            unsigned c = inverted ? 255u - cmyk[4 * x + i] : cmyk[4 * x + i];
            unsigned t = c * nk + 128u;
            unsigned scaled = ((t >> 8) + t) >> 8;  /* round(c * nk / 255) */
            rgb[3 * x + i] = (uint8_t)(nk - scaled);
        }
    }
}

/* The one reader: the header into info; with out == NULL stops there, otherwise checks the
 * limit and decodes every row into out. */
static int cjpeg_read_with(cjpeg_ctx *ctx, struct jpeg_decompress_struct *cinfo,
                           const uint8_t *data, size_t len, uint64_t max_pixels,
                           uint8_t *out, size_t out_len, ccodec_info *info) {
    if (setjmp(ctx->jump)) {
        jpeg_destroy_decompress(cinfo);
        free(ctx->scratch);
        return ctx->status != CSTATUS_OK ? ctx->status : CSTATUS_CORRUPT;
    }
    jpeg_create_decompress(cinfo);
    ctx->progress.progress_monitor = cjpeg_check_scans;
    cinfo->progress = &ctx->progress;
    jpeg_mem_src(cinfo, data, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->channels = cjpeg_output_channels(cinfo);
    info->bits = 8;
    if (out == NULL) {
        jpeg_destroy_decompress(cinfo);
        return CSTATUS_OK;
    }
    if ((uint64_t)info->width * info->height > max_pixels) {
        ccodec_message(ctx->msg, ctx->msglen, "%lux%lu exceeds the pixel limit",
                       (unsigned long)info->width, (unsigned long)info->height);
        jpeg_destroy_decompress(cinfo);
        return CSTATUS_TOO_LARGE;
    }
    size_t row_bytes = (size_t)info->width * (size_t)info->channels;
    if (row_bytes == 0 || out_len / row_bytes < info->height) {
        jpeg_destroy_decompress(cinfo);
        return ccodec_fail(ctx->msg, ctx->msglen, CSTATUS_BAD_ARGUMENT, "output buffer too small for the JPEG");
    }
    cjpeg_choose_output(cinfo);
    jpeg_start_decompress(cinfo);
    int cmyk = cinfo->out_color_space == JCS_CMYK;
    if (cmyk) {
        ctx->scratch = (uint8_t *)malloc((size_t)cinfo->output_width * 4);
        if (ctx->scratch == NULL) {
            ctx->status = CSTATUS_NO_MEMORY;
            ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
        }
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *row = out + (size_t)cinfo->output_scanline * row_bytes;
        JSAMPROW target = cmyk ? ctx->scratch : row;
        jpeg_read_scanlines(cinfo, &target, 1);
        /* Adobe's CMYK JPEGs (Photoshop, Pillow) store inverted samples, flagged by the Adobe marker. */
        if (cmyk) cjpeg_cmyk_to_rgb(ctx->scratch, row, cinfo->output_width, cinfo->saw_Adobe_marker);
    }
    jpeg_finish_decompress(cinfo);
    jpeg_destroy_decompress(cinfo);
    free(ctx->scratch);
    return CSTATUS_OK;
}

int ccodec_jpeg_header(const uint8_t *data, size_t len, ccodec_info *info, char *msg, size_t msglen) {
    if (data == NULL || info == NULL) return CSTATUS_BAD_ARGUMENT;
    memset(info, 0, sizeof *info);
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    struct jpeg_decompress_struct cinfo;
    cinfo.err = &ctx.pub;
    return cjpeg_read_with(&ctx, &cinfo, data, len, UINT64_MAX, NULL, 0, info);
}

int ccodec_jpeg_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                       uint8_t *out, size_t out_len, char *msg, size_t msglen) {
    if (data == NULL || out == NULL) return CSTATUS_BAD_ARGUMENT;
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    struct jpeg_decompress_struct cinfo;
    cinfo.err = &ctx.pub;
    ccodec_info info;
    return cjpeg_read_with(&ctx, &cinfo, data, len, max_pixels, out, out_len, &info);
}

/* MARK: - Writing */

int cjpeg_encode_with(cjpeg_ctx *ctx, struct jpeg_compress_struct *cinfo, const uint8_t *pixels,
                      uint32_t width, uint32_t height, int channels, const ccodec_jpeg_options *options) {
    if (setjmp(ctx->jump)) {
        jpeg_destroy_compress(cinfo);
        return ctx->status != CSTATUS_OK && ctx->status != CSTATUS_CORRUPT ? ctx->status : CSTATUS_WRITE_FAILED;
    }
    jpeg_create_compress(cinfo);
    jpeg_mem_dest(cinfo, &ctx->out, &ctx->out_len);
    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(cinfo);
    int quality = options->quality;
    jpeg_set_quality(cinfo, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    if (channels == 3) {
        cinfo->comp_info[0].h_samp_factor = options->h_samp;
        cinfo->comp_info[0].v_samp_factor = options->v_samp;
    }
    /* libjpeg's defaults, stated: the band encoder relies on them (no smoothing reaches
     * across a band's edge; the standard Huffman tables are the same in every band). */
    cinfo->smoothing_factor = 0;
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->optimize_coding = options->optimize ? TRUE : FALSE;
    cinfo->restart_in_rows = options->restart_rows;
    cinfo->restart_interval = options->restart_rows > 0 ? 0 : (unsigned int)options->restart_blocks;
    if (options->progressive) jpeg_simple_progression(cinfo);
    jpeg_start_compress(cinfo, TRUE);
    size_t row_bytes = (size_t)width * (size_t)channels;
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * row_bytes);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    jpeg_destroy_compress(cinfo);
    return CSTATUS_OK;
}

int ccodec_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen) {
    ccodec_jpeg_options options = ccodec_jpeg_bandsaw_options(quality);
    return ccodec_jpeg_encode_options(pixels, width, height, channels, &options, out, out_len, msg, msglen);
}

ccodec_jpeg_options ccodec_jpeg_bandsaw_options(int quality) {
    ccodec_jpeg_options options = {quality, 2, 2, 1, 0, 0, 0};
    return options;
}

int ccodec_jpeg_encode_options(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                               const ccodec_jpeg_options *options, uint8_t **out, size_t *out_len,
                               char *msg, size_t msglen) {
    if (out == NULL || out_len == NULL) return CSTATUS_BAD_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    if (pixels == NULL || options == NULL || (channels != 1 && channels != 3) || width == 0 || height == 0
        || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "JPEG holds gray or RGB of 1...65500 pixels per side");
    }
    if (options->h_samp < 1 || options->h_samp > 2 || options->v_samp < 1 || options->v_samp > 2
        || options->restart_rows < 0 || options->restart_blocks < 0 || options->restart_blocks > 65535) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "JPEG sampling 1 or 2, restart interval 0...65535");
    }
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    struct jpeg_compress_struct cinfo;
    cinfo.err = &ctx.pub;
    int rc = cjpeg_encode_with(&ctx, &cinfo, pixels, width, height, channels, options);
    if (rc != CSTATUS_OK) {
        free(ctx.out);
        return rc;
    }
    *out = ctx.out;
    *out_len = (size_t)ctx.out_len;
    return CSTATUS_OK;
}
