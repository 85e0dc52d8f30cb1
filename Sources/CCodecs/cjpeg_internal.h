#ifndef CJPEG_INTERNAL_H
#define CJPEG_INTERNAL_H
/*
 * What the two JPEG files of the door share (cjpeg.c: whole images; cjpeg_bands.c: bands):
 * the context libjpeg's error hooks longjmp through, and the serial encoder. Private to the
 * CCodecs target.
 */
#include "ccodecs_internal.h"
#include "ccodecs_jpeg_bands.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;  /* first, so a j_common_ptr's err is this struct */
    jmp_buf jump;
    /* Why libjpeg stopped, when a hook knows better than "corrupt". */
    int status;
    char *msg;
    size_t msglen;
    /* Encoding: libjpeg's growing output buffer (freed on failure). */
    unsigned char *out;
    unsigned long out_len;
    /* Decoding: a row of CMYK samples before conversion to RGB, or a row to throw away. */
    uint8_t *scratch;
    /* Decoding by bands: the stream built from the file's headers and a band's segments. */
    uint8_t *stream;
    /* Decoding: counts the scans (cjpeg_check_scans). */
    struct jpeg_progress_mgr progress;
} cjpeg_ctx;

/* Sets up ctx's error manager with bandsaw's hooks (nothing printed; warnings that mean
 * damaged data end the call). */
void cjpeg_ctx_init(cjpeg_ctx *ctx, char *msg, size_t msglen);

/* Gray stays gray; CMYK and YCCK come out as CMYK; the rest as RGB; ISLOW IDCT and fancy
 * upsampling, as every bandsaw decode. */
void cjpeg_choose_output(struct jpeg_decompress_struct *cinfo);

/* Encodes rows of pixels with the given settings into ctx->out (libjpeg's malloc'd buffer,
 * left for the caller to free on failure too). Checks nothing about its arguments. */
int cjpeg_encode_with(cjpeg_ctx *ctx, struct jpeg_compress_struct *cinfo, const uint8_t *pixels,
                      uint32_t width, uint32_t height, int channels, const ccodec_jpeg_options *options);

#endif
