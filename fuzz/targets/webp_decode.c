/*
 * Fuzz target: the WebP door (cwebp.c): features, then the incremental decode into a
 * buffer of exactly the header's size (a canvas that lies about the frame must be refused,
 * not overrun).
 */
#include "ccodecs.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    ccodec_info info;
    char msg[256];
    if (ccodec_webp_header(data, len, &info, msg, sizeof msg) != CSTATUS_OK) return 0;
    if ((uint64_t)info.width * info.height > FUZZ_MAX_PIXELS || info.width == 0 || info.height == 0) return 0;
    size_t size = (size_t)info.width * info.height * (size_t)info.channels;
    uint8_t *out = malloc(size);
    (void)ccodec_webp_decode(data, len, FUZZ_MAX_PIXELS, info.channels, out, size, msg, sizeof msg);
    free(out);
    return 0;
}
