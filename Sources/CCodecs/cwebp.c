/*
 * The WebP door: every libwebp call bandsaw makes. libwebp reports through status codes
 * (VP8StatusCode, WebPEncodingError), so no setjmp is needed; each is mapped to a CCODEC_
 * status with a message here.
 */
#include "ccodecs_internal.h"

#include <webp/decode.h>
#include <webp/encode.h>

/* MARK: - Reading */

/* A libwebp decoding status as a CCODEC_ status, with its name as the message. */
static int cwebp_status(VP8StatusCode code, char *msg, size_t msglen) {
    switch (code) {
    case VP8_STATUS_OK: return CSTATUS_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory decoding WebP");
    case VP8_STATUS_NOT_ENOUGH_DATA: return ccodec_fail(msg, msglen, CSTATUS_TRUNCATED, "WebP data ends early");
    case VP8_STATUS_UNSUPPORTED_FEATURE: return ccodec_fail(msg, msglen, CSTATUS_UNSUPPORTED, "unsupported WebP feature");
    case VP8_STATUS_INVALID_PARAM: return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "invalid WebP decoding parameter");
    default: return ccodec_fail(msg, msglen, CSTATUS_CORRUPT, "damaged WebP bitstream");
    }
}

int ccodec_webp_header(const uint8_t *data, size_t len, ccodec_info *info, char *msg, size_t msglen) {
    if (data == NULL || info == NULL) return CSTATUS_BAD_ARGUMENT;
    memset(info, 0, sizeof *info);
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    WebPBitstreamFeatures features;
    int rc = cwebp_status(WebPGetFeatures(data, len, &features), msg, msglen);
    if (rc != CSTATUS_OK) return rc;
    if (features.has_animation) return ccodec_fail(msg, msglen, CSTATUS_UNSUPPORTED, "animated WebP");
    info->width = (uint32_t)features.width;
    info->height = (uint32_t)features.height;
    info->channels = features.has_alpha ? 4 : 3;
    info->bits = 8;
    return CSTATUS_OK;
}

int ccodec_webp_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int channels,
                       uint8_t *out, size_t out_len, char *msg, size_t msglen) {
    if (data == NULL || out == NULL || (channels != 3 && channels != 4)) return CSTATUS_BAD_ARGUMENT;
    ccodec_info info;
    int rc = ccodec_webp_header(data, len, &info, msg, msglen);
    if (rc != CSTATUS_OK) return rc;
    if ((uint64_t)info.width * info.height > max_pixels) {
        ccodec_message(msg, msglen, "%ux%u exceeds the pixel limit", info.width, info.height);
        return CSTATUS_TOO_LARGE;
    }
    size_t stride = (size_t)info.width * (size_t)channels;
    if (out_len / stride < info.height) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "output buffer too small for the WebP");
    }
    /* The incremental decoder tells a cut-short file (SUSPENDED) from a damaged one, which the
     * one-shot calls both report as a failure. Fancy upsampling, libwebp's default, as dwebp. */
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "libwebp version mismatch");
    config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = out;
    config.output.u.RGBA.stride = (int)stride;
    config.output.u.RGBA.size = (size_t)info.height * stride;
    WebPIDecoder *decoder = WebPIDecode(NULL, 0, &config);
    if (decoder == NULL) return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory creating WebP decoder");
    VP8StatusCode status = WebPIUpdate(decoder, data, len);
    WebPIDelete(decoder);
    WebPFreeDecBuffer(&config.output);
    if (status == VP8_STATUS_SUSPENDED) return ccodec_fail(msg, msglen, CSTATUS_TRUNCATED, "WebP data ends early");
    return cwebp_status(status, msg, msglen);
}

/* MARK: - Writing */

/* WebPPicture's writer: appends to a ccodec_buffer. */
static int cwebp_write(const uint8_t *data, size_t size, const WebPPicture *picture) {
    ccodec_buffer *buffer = (ccodec_buffer *)picture->custom_ptr;
    if (size > SIZE_MAX - buffer->len || !ccodec_buffer_reserve(buffer, buffer->len + size)) return 0;
    memcpy(buffer->bytes + buffer->len, data, size);
    buffer->len += size;
    return 1;
}

int ccodec_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **out, size_t *out_len, char *msg, size_t msglen) {
    if (out == NULL || out_len == NULL) return CSTATUS_BAD_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    if (pixels == NULL || (channels != 3 && channels != 4) || width == 0 || height == 0
        || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "WebP holds RGB or RGBA of 1...16383 pixels per side");
    }
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&picture)) {
        return ccodec_fail(msg, msglen, CSTATUS_BAD_ARGUMENT, "libwebp version mismatch");
    }
    if (quality < 0) {
        /* Lossless, and exact: the colour under a fully transparent pixel is kept too. */
        config.lossless = 1;
        config.exact = 1;
        config.quality = 75;
    } else {
        config.quality = (float)(quality > 100 ? 100 : quality);
    }
    picture.use_argb = config.lossless;
    picture.width = (int)width;
    picture.height = (int)height;
    int stride = (int)(width * (uint32_t)channels);
    int imported = channels == 4 ? WebPPictureImportRGBA(&picture, pixels, stride)
                                 : WebPPictureImportRGB(&picture, pixels, stride);
    if (!imported) {
        WebPPictureFree(&picture);
        return ccodec_fail(msg, msglen, CSTATUS_NO_MEMORY, "out of memory importing pixels into WebP");
    }
    ccodec_buffer buffer = {0};
    picture.writer = cwebp_write;
    picture.custom_ptr = &buffer;
    int ok = WebPEncode(&config, &picture);
    int error = picture.error_code;
    WebPPictureFree(&picture);
    if (!ok) {
        free(buffer.bytes);
        ccodec_message(msg, msglen, "WebP encoding failed (libwebp error %d)", error);
        return error == VP8_ENC_ERROR_OUT_OF_MEMORY ? CSTATUS_NO_MEMORY : CSTATUS_WRITE_FAILED;
    }
    *out = buffer.bytes;
    *out_len = buffer.len;
    return CSTATUS_OK;
}
