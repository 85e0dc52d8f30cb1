/*
 * JPEG by bands: the band encoder, the marker index and the two band decoders
 * (ccodecs_jpeg_bands.h). Every libjpeg call here runs under a setjmp in this file, as in
 * cjpeg.c, with everything the error path reads in the cjpeg_ctx.
 *
 * Why bands are exact: after a restart marker the entropy coder starts afresh (DC predictions
 * zero, bit buffer empty, the pad to a byte of one bits), so the bytes of a restart segment
 * depend only on the MCUs it holds. Without smoothing, the encoder's colour conversion and
 * downsampling never read across an MCU row, so a band of MCU rows encoded alone gives that
 * band's segments of the whole encode. On decoding, the IDCT works block by block; only fancy
 * upsampling reads the chroma row above and below, so a band decoded from its segments plus
 * one MCU row on each side gives the whole decode's rows.
 */
#include "cjpeg_internal.h"

/* MARK: - Markers */

/* The marker codes read here (ITU T.81, table B.1). */
enum {
    CJPEG_SOF0 = 0xC0,
    CJPEG_SOF15 = 0xCF,
    CJPEG_DHT = 0xC4,
    CJPEG_JPG = 0xC8,
    CJPEG_DAC = 0xCC,
    CJPEG_RST0 = 0xD0,
    CJPEG_RST7 = 0xD7,
    CJPEG_SOI = 0xD8,
    CJPEG_EOI = 0xD9,
    CJPEG_SOS = 0xDA,
};

/* Where a file's first scan starts, read from its marker segments. */
typedef struct {
    /* Offset of the SOF's 16-bit height field. */
    size_t sof_height_at;
    /* Offset of the first entropy-coded byte, just past the SOS segment. */
    size_t data_at;
} cjpeg_header_walk;

/* Walks the marker segments from SOI to the first SOS; 0 for anything out of the ordinary
 * (no SOI, two frames, a segment running past the data, a marker without a length), which
 * the caller takes as a reason to decode whole. */
static int cjpeg_walk_header(const uint8_t *d, size_t len, cjpeg_header_walk *walk) {
    if (len < 4 || d[0] != 0xFF || d[1] != CJPEG_SOI) return 0;
    walk->sof_height_at = 0;
    size_t at = 2;
    for (;;) {
        if (at >= len || d[at] != 0xFF) return 0;
        while (at < len && d[at] == 0xFF) at++;  /* fill bytes may precede any marker */
        if (at + 2 >= len) return 0;
        int code = d[at++];
        size_t seglen = ((size_t)d[at] << 8) | d[at + 1];
        if (code == CJPEG_SOI || code == CJPEG_EOI || (code >= CJPEG_RST0 && code <= CJPEG_RST7) || code == 0x01
            || seglen < 2 || seglen > len - at) {
            return 0;
        }
        if (code >= CJPEG_SOF0 && code <= CJPEG_SOF15 && code != CJPEG_DHT && code != CJPEG_JPG && code != CJPEG_DAC) {
            if (walk->sof_height_at != 0 || seglen < 8) return 0;
            walk->sof_height_at = at + 3;  /* after the length and the precision byte */
        } else if (code == CJPEG_SOS) {
            if (walk->sof_height_at == 0) return 0;
            walk->data_at = at + seglen;
            return 1;
        }
        at += seglen;
    }
}

/* The next marker in entropy-coded data at or after *at: its code (0 when the data ends
 * first), *marker_at its first 0xFF (fill bytes included), *at just past it. 0xFF 0x00 is a
 * stuffed data byte, as libjpeg's Huffman decoder reads it. */
static int cjpeg_next_marker(const uint8_t *d, size_t len, size_t *at, size_t *marker_at) {
    size_t i = *at;
    while (i < len) {
        const uint8_t *p = (const uint8_t *)memchr(d + i, 0xFF, len - i);
        if (p == NULL) break;
        size_t j = (size_t)(p - d), k = j + 1;
        while (k < len && d[k] == 0xFF) k++;
        if (k >= len) break;
        if (d[k] == 0x00) {
            i = k + 1;
            continue;
        }
        *marker_at = j;
        *at = k + 1;
        return d[k];
    }
    *at = len;
    *marker_at = len;
    return 0;
}

/* Renumbers the restart markers of entropy-coded data in place: the j-th must read
 * (expect + j) mod 8 and becomes (renumber + j) mod 8. Returns how many there were, or -1
 * when one is out of sequence or another marker appears. */
static long cjpeg_renumber(uint8_t *d, size_t len, unsigned expect, unsigned renumber) {
    size_t at = 0, marker_at;
    long count = 0;
    for (;;) {
        int code = cjpeg_next_marker(d, len, &at, &marker_at);
        if (code == 0) return count;
        if (code < CJPEG_RST0 || code > CJPEG_RST7 || (unsigned)(code - CJPEG_RST0) != ((expect + (unsigned)count) & 7u)) {
            return -1;
        }
        d[at - 1] = (uint8_t)(CJPEG_RST0 + ((renumber + (unsigned)count) & 7u));
        count++;
    }
}

static void cjpeg_put16(uint8_t *at, uint32_t value) {
    at[0] = (uint8_t)(value >> 8);
    at[1] = (uint8_t)value;
}

/* MARK: - Encoding a band */

uint32_t ccodec_jpeg_band_rows(int channels) { return channels == 1 ? 8u : 16u; }

int ccodec_jpeg_encode_band(const uint8_t *pixels, uint32_t width, uint32_t rows, int channels, int quality,
                            uint32_t image_height, uint32_t first_row,
                            uint8_t **out, size_t *out_len, size_t *header_len, char *msg, size_t msglen) {
    if (out == NULL || out_len == NULL || header_len == NULL) return CSTATUS_BAD_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    *header_len = 0;
    uint32_t mcu = ccodec_jpeg_band_rows(channels);
    if (pixels == NULL || (channels != 1 && channels != 3) || rows == 0 || image_height == 0
        || image_height > JPEG_MAX_DIMENSION || first_row % mcu != 0 || rows > image_height - first_row
        || first_row >= image_height || (first_row + rows < image_height && rows % mcu != 0)) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "a JPEG band is whole MCU rows of the image");
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    ccodec_jpeg_options options = ccodec_jpeg_bandsaw_options(quality);
    int rc = ccodec_jpeg_encode_options(pixels, width, rows, channels, &options, &bytes, &len, msg, msglen);
    if (rc != CSTATUS_OK) return rc;
    /* The band's encoder wrote its own headers (with the band's height), its segments with
     * restart markers numbered from 0, and EOI. */
    cjpeg_header_walk walk;
    uint32_t band_mcu_rows = (rows + mcu - 1) / mcu, first_mcu_row = first_row / mcu;
    int ends = first_row + rows == image_height;
    if (!cjpeg_walk_header(bytes, len, &walk) || len < walk.data_at + 2 || bytes[len - 2] != 0xFF
        || bytes[len - 1] != CJPEG_EOI
        || cjpeg_renumber(bytes + walk.data_at, len - 2 - walk.data_at, 0, first_mcu_row) != (long)band_mcu_rows - 1) {
        free(bytes);
        return ccodec_fail(msg, msglen, CSTATUS_WRITE_FAILED, "libjpeg wrote an unexpected band layout");
    }
    cjpeg_put16(bytes + walk.sof_height_at, image_height);
    /* In the whole file a restart marker follows every MCU row but the image's last. */
    if (!ends) bytes[len - 1] = (uint8_t)(CJPEG_RST0 + ((first_mcu_row + band_mcu_rows - 1) & 7u));
    *out = bytes;
    *out_len = len;
    *header_len = walk.data_at;
    return CSTATUS_OK;
}

/* MARK: - The marker index */

static int cjpeg_layout_with(cjpeg_ctx *ctx, struct jpeg_decompress_struct *cinfo, const uint8_t *data, size_t len,
                             uint64_t max_pixels, ccodec_jpeg_layout *layout, size_t *data_at, const char **whole) {
    if (setjmp(ctx->jump)) {
        jpeg_destroy_decompress(cinfo);
        return ctx->status != CSTATUS_OK ? ctx->status : CSTATUS_CORRUPT;
    }
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    layout->width = cinfo->image_width;
    layout->height = cinfo->image_height;
    layout->channels = cinfo->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    if ((uint64_t)layout->width * layout->height > max_pixels) {
        ccodec_message(ctx->msg, ctx->msglen, "%lux%lu exceeds the pixel limit",
                       (unsigned long)layout->width, (unsigned long)layout->height);
        jpeg_destroy_decompress(cinfo);
        return CSTATUS_TOO_LARGE;
    }
    int max_h = 1, max_v = 1;
    for (int c = 0; c < cinfo->num_components; c++) {
        if (cinfo->comp_info[c].h_samp_factor > max_h) max_h = cinfo->comp_info[c].h_samp_factor;
        if (cinfo->comp_info[c].v_samp_factor > max_v) max_v = cinfo->comp_info[c].v_samp_factor;
    }
    layout->mcu_height = 8u * (uint32_t)max_v;
    layout->mcu_rows = (layout->height + layout->mcu_height - 1) / layout->mcu_height;
    layout->segment_rows = 0;
    if (cinfo->restart_interval > 0) {
        unsigned per_row = (cinfo->image_width + 8u * (unsigned)max_h - 1) / (8u * (unsigned)max_h);
        if (cinfo->restart_interval % per_row == 0) layout->segment_rows = cinfo->restart_interval / per_row;
        else *whole = "restart interval is not whole MCU rows";
    }
    *data_at = len - cinfo->src->bytes_in_buffer;
    J_COLOR_SPACE space = cinfo->jpeg_color_space;
    if (cinfo->progressive_mode) *whole = "progressive";
    else if (cinfo->arith_code) *whole = "arithmetic coding";
    else if (cinfo->data_precision != 8) *whole = "not 8-bit";
    else if (space != JCS_GRAYSCALE && space != JCS_YCbCr && space != JCS_RGB) *whole = "CMYK or YCCK";
    else if (cinfo->comps_in_scan != cinfo->num_components) *whole = "components in separate scans";
    else if (cinfo->num_components == 1 && (max_h != 1 || max_v != 1)) *whole = "gray with sampling factors";
    jpeg_destroy_decompress(cinfo);
    return CSTATUS_OK;
}

int ccodec_jpeg_layout_read(const uint8_t *data, size_t len, uint64_t max_pixels, ccodec_jpeg_layout *layout,
                            uint64_t **starts, uint64_t **ends, char *msg, size_t msglen) {
    if (data == NULL || layout == NULL || starts == NULL || ends == NULL) return CSTATUS_BAD_ARGUMENT;
    memset(layout, 0, sizeof *layout);
    *starts = NULL;
    *ends = NULL;
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    struct jpeg_decompress_struct cinfo;
    cinfo.err = &ctx.pub;
    size_t data_at = 0;
    const char *whole = NULL;
    int rc = cjpeg_layout_with(&ctx, &cinfo, data, len, max_pixels, layout, &data_at, &whole);
    if (rc != CSTATUS_OK) return rc;
    layout->kind = CCODEC_JPEG_WHOLE;

    cjpeg_header_walk walk;
    if (whole == NULL && (!cjpeg_walk_header(data, len, &walk) || walk.data_at != data_at)) {
        whole = "markers libjpeg reads otherwise";
    }
    if (whole != NULL) return ccodec_fail(msg, msglen, CSTATUS_OK, whole);
    layout->header_len = walk.data_at;
    layout->sof_height_at = walk.sof_height_at;

    /* Every marker of the scan: restart markers in sequence, as many as the DRI says, and
     * EOI at the end (not DNL, another scan, or the end of the data). */
    uint32_t expected = layout->segment_rows > 0 ? (layout->mcu_rows + layout->segment_rows - 1) / layout->segment_rows : 1;
    uint64_t *s = (uint64_t *)malloc(sizeof *s * expected), *e = (uint64_t *)malloc(sizeof *e * expected);
    if (s == NULL || e == NULL) {
        free(s);
        free(e);
        return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "no memory for the restart index");
    }
    size_t at = walk.data_at, marker_at = 0;
    uint32_t n = 0;
    s[0] = at;
    int code;
    while ((code = cjpeg_next_marker(data, len, &at, &marker_at)) >= CJPEG_RST0 && code <= CJPEG_RST7) {
        if (layout->segment_rows == 0 || n + 1 >= expected || (unsigned)(code - CJPEG_RST0) != (n & 7u)) {
            whole = layout->segment_rows == 0 ? "restart markers without a restart interval"
                                              : "restart markers other than the interval says";
            break;
        }
        e[n++] = marker_at;
        s[n] = at;
    }
    if (whole == NULL && code != CJPEG_EOI) whole = code == 0 ? "no EOI after the scan" : "a marker other than EOI ends the scan";
    if (whole == NULL && layout->segment_rows > 0 && n + 1 != expected) whole = "fewer restart markers than the interval says";
    if (whole != NULL) {
        free(s);
        free(e);
        return ccodec_fail(msg, msglen, CSTATUS_OK, whole);
    }
    e[n] = marker_at;
    layout->data_end = marker_at;
    if (layout->segment_rows > 0) {
        layout->kind = CCODEC_JPEG_RESTART;
        layout->segments = expected;
        *starts = s;
        *ends = e;
    } else {
        layout->kind = CCODEC_JPEG_SKIP;
        free(s);
        free(e);
    }
    ccodec_message(msg, msglen, "%s", "");
    return CSTATUS_OK;
}

/* MARK: - Decoding a band */

/* Ends the call under way: back to its setjmp with this status and message. */
static void cjpeg_stop(cjpeg_ctx *ctx, int status, const char *text) {
    ctx->status = status;
    ccodec_message(ctx->msg, ctx->msglen, "%s", text);
    longjmp(ctx->jump, 1);
}

/* Decodes stream (a whole JPEG) and keeps rows [skip, skip + count) of it in out; with
 * finish, reads on to EOI as the whole decode does. Fails on CMYK (bands are never CMYK). */
static int cjpeg_rows_with(cjpeg_ctx *ctx, struct jpeg_decompress_struct *cinfo, const uint8_t *stream, size_t len,
                           uint64_t max_pixels, uint32_t width, uint32_t skip, uint32_t count, int use_skip,
                           uint8_t *out, size_t out_len) {
    if (setjmp(ctx->jump)) {
        jpeg_destroy_decompress(cinfo);
        return ctx->status != CSTATUS_OK ? ctx->status : CSTATUS_CORRUPT;
    }
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, stream, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    cjpeg_choose_output(cinfo);
    int channels = cinfo->out_color_space == JCS_GRAYSCALE ? 1 : 3;
    size_t row_bytes = (size_t)cinfo->image_width * (size_t)channels;
    if ((uint64_t)cinfo->image_width * cinfo->image_height > max_pixels || cinfo->out_color_space == JCS_CMYK
        || (width != 0 && cinfo->image_width != width) || skip > cinfo->image_height
        || count > cinfo->image_height - skip || out_len / row_bytes < count) {
        jpeg_destroy_decompress(cinfo);
        return ccodec_fail(ctx->msg, ctx->msglen, CSTATUS_BAD_ARGUMENT, "rows outside the JPEG band");
    }
    jpeg_start_decompress(cinfo);
    ctx->scratch = (uint8_t *)malloc(row_bytes);
    if (ctx->scratch == NULL) cjpeg_stop(ctx, CSTATUS_NO_MEMORY, "no memory for a JPEG row");
    /* Skipping starts on an iMCU row: libjpeg-turbo's skip is wrong when it starts or ends
     * inside a row group with some upsamplers; the rows after it are decoded and dropped. */
    uint32_t imcu = (uint32_t)cinfo->max_v_samp_factor * DCTSIZE;
    uint32_t start = use_skip ? skip / imcu * imcu : 0;
    if (start > 0 && jpeg_skip_scanlines(cinfo, start) != start) cjpeg_stop(ctx, CSTATUS_CORRUPT, "JPEG skip fell short");
    while (cinfo->output_scanline < skip + count) {
        JDIMENSION line = cinfo->output_scanline;
        JSAMPROW target = line < skip ? ctx->scratch : out + (size_t)(line - skip) * row_bytes;
        if (jpeg_read_scanlines(cinfo, &target, 1) != 1) cjpeg_stop(ctx, CSTATUS_CORRUPT, "JPEG row missing");
    }
    if (cinfo->output_scanline == cinfo->output_height) jpeg_finish_decompress(cinfo);
    else jpeg_abort_decompress(cinfo);
    jpeg_destroy_decompress(cinfo);
    return CSTATUS_OK;
}

int ccodec_jpeg_decode_rows(const uint8_t *data, size_t len, uint64_t max_pixels,
                            uint32_t first_row, uint32_t row_count, uint8_t *out, size_t out_len,
                            char *msg, size_t msglen) {
    if (data == NULL || out == NULL || row_count == 0) return CSTATUS_BAD_ARGUMENT;
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    struct jpeg_decompress_struct cinfo;
    cinfo.err = &ctx.pub;
    int rc = cjpeg_rows_with(&ctx, &cinfo, data, len, max_pixels, 0, first_row, row_count, 1, out, out_len);
    free(ctx.scratch);
    return rc;
}

int ccodec_jpeg_decode_segments(const ccodec_jpeg_layout *layout, const uint8_t *header,
                                uint32_t first_segment, uint32_t segment_count, const uint8_t *data, size_t data_len,
                                uint32_t first_row, uint32_t row_count, uint8_t *out, size_t out_len,
                                char *msg, size_t msglen) {
    if (layout == NULL || header == NULL || data == NULL || out == NULL) return CSTATUS_BAD_ARGUMENT;
    if (layout->kind != CCODEC_JPEG_RESTART || layout->mcu_height == 0 || layout->segment_rows == 0
        || layout->sof_height_at + 2 > layout->header_len || segment_count == 0 || row_count == 0
        || first_segment >= layout->segments || segment_count > layout->segments - first_segment) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "no such JPEG restart segments");
    }
    /* The segments' rows, and the rows that come out right: an MCU row in from each end
     * that is not the image's own. */
    uint64_t rows_per_segment = (uint64_t)layout->segment_rows * layout->mcu_height;
    uint64_t top = first_segment * rows_per_segment;
    uint64_t bottom = (first_segment + segment_count) * rows_per_segment;
    if (bottom > layout->height) bottom = layout->height;
    uint64_t exact_top = top + (first_segment > 0 ? layout->mcu_height : 0);
    uint64_t exact_bottom = bottom - (bottom < layout->height ? layout->mcu_height : 0);
    if (first_row < exact_top || (uint64_t)first_row + row_count > exact_bottom) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "JPEG rows without their context MCU rows");
    }
    /* The file's headers with the segments' height, the segments with their restart
     * markers renumbered from 0, and EOI. */
    cjpeg_ctx ctx;
    cjpeg_ctx_init(&ctx, msg, msglen);
    size_t len = layout->header_len + data_len + 2;
    ctx.stream = (uint8_t *)malloc(len);
    if (ctx.stream == NULL) return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "no memory for a JPEG band");
    memcpy(ctx.stream, header, layout->header_len);
    memcpy(ctx.stream + layout->header_len, data, data_len);
    ctx.stream[len - 2] = 0xFF;
    ctx.stream[len - 1] = CJPEG_EOI;
    cjpeg_put16(ctx.stream + layout->sof_height_at, (uint32_t)(bottom - top));
    if (cjpeg_renumber(ctx.stream + layout->header_len, data_len, first_segment, 0) != (long)segment_count - 1) {
        free(ctx.stream);
        return ccodec_fail(msg, msglen, CSTATUS_CORRUPT, "restart markers out of place in a JPEG band");
    }
    struct jpeg_decompress_struct cinfo;
    cinfo.err = &ctx.pub;
    int rc = cjpeg_rows_with(&ctx, &cinfo, ctx.stream, len, UINT64_MAX, layout->width, (uint32_t)(first_row - top),
                             row_count, 0, out, out_len);
    free(ctx.scratch);
    free(ctx.stream);
    return rc;
}
