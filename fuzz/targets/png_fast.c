/*
 * Fuzz target: the fast PNG decoder (cpng_fast.c: chunk walk, libdeflate inflate,
 * unfiltering) against libpng (cpng.c), the reference it promises to match.
 *
 * Oracles, from cpng_fast.h's contract:
 *   - wherever the fast path answers (anything but CSTATUS_FAST_DECLINED), it accepts
 *     exactly when libpng accepts, and when both accept the pixels are equal;
 *   - the split path (cpng_inflate_fast, then cpng_unfilter_band over two bands, as the
 *     ranks run it) gives the same status and the same pixels as cpng_decode_fast.
 */
#include "cpng.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    uint32_t width = 0, height = 0;
    int channels = 0;
    char msg[256];
    if (cpng_read_header(data, len, &width, &height, &channels, msg, sizeof msg) != CSTATUS_OK) return 0;
    if (channels < 1 || channels > 4 || (uint64_t)width * height > FUZZ_MAX_PIXELS) return 0;
    size_t row = (size_t)width * (size_t)channels, size = row * height;

    uint8_t *fast = malloc(size + height);
    int fast_rc = cpng_decode_fast(data, len, FUZZ_MAX_PIXELS, fast, size + height, msg, sizeof msg);
    if (fast_rc == CSTATUS_FAST_DECLINED) {
        free(fast);
        return 0;
    }
    uint8_t *slow = malloc(size ? size : 1);
    int slow_rc = cpng_decode(data, len, FUZZ_MAX_PIXELS, slow, size, msg, sizeof msg);
    FUZZ_ORACLE((fast_rc == CSTATUS_OK) == (slow_rc == CSTATUS_OK), "fast path %d, libpng %d (%s)", fast_rc, slow_rc, msg);
    if (fast_rc == CSTATUS_OK) FUZZ_ORACLE(memcmp(fast, slow, size) == 0, "fast path and libpng pixels differ");

    /* The split path, as the ranks run it: inflate on one, unfilter two bands. */
    size_t raw_len = (row + 1) * height;
    uint8_t *raw = malloc(raw_len);
    int split_rc = cpng_inflate_fast(data, len, FUZZ_MAX_PIXELS, raw, raw_len, msg, sizeof msg);
    if (fast_rc == CSTATUS_OK) FUZZ_ORACLE(split_rc == CSTATUS_OK, "inflate-only path %d where the whole path decoded", split_rc);
    if (split_rc == CSTATUS_OK && height >= 1) {
        uint32_t top = height / 2;
        uint8_t *out = malloc(size ? size : 1);
        int64_t bad = -1;
        if (top > 0) bad = cpng_unfilter_band(raw, out, NULL, top, row, channels);
        if (bad < 0) {
            bad = cpng_unfilter_band(raw + (row + 1) * top, out + row * top, top > 0 ? out + row * (top - 1) : NULL,
                                     height - top, row, channels);
        }
        if (fast_rc == CSTATUS_OK) {
            FUZZ_ORACLE(bad < 0, "a band refused a filter type the whole path took");
            FUZZ_ORACLE(memcmp(out, fast, size) == 0, "banded unfilter differs from the whole path");
        }
        free(out);
    }
    free(raw);
    free(slow);
    free(fast);
    return 0;
}
