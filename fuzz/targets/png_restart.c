/*
 * Fuzz target: decoding by restart segments (cpng_restart.c: the mARK chunk, the IDAT
 * index, per-segment inflate and unfilter), as PNGRestart.swift and the ranks drive it.
 *
 * Oracle (cpng_restart.h: "decoded" or "not this way", never wrong): when every segment
 * decodes and the combined Adler-32 matches the trailer, the pixels equal libpng's, and
 * libpng accepts the file.
 */
#include "cpng.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    cpng_restart_info info;
    if (cpng_restart_probe(data, len, FUZZ_MAX_PIXELS, &info) != CSTATUS_OK) return 0;
    FUZZ_ORACLE(info.segments >= 2 && info.segments < info.height, "probe accepted %u segments for %u rows",
                info.segments, info.height);
    FUZZ_ORACLE(info.stream_len <= len, "stream of %llu bytes from a file of %zu", (unsigned long long)info.stream_len, len);
    uint8_t *stream = malloc(info.stream_len + 2);
    uint64_t *starts = calloc(info.segments + 1, sizeof *starts);
    if (cpng_restart_stream(data, len, &info, stream, starts) != CSTATUS_OK) goto done;

    size_t row = (size_t)info.width * (size_t)info.channels, size = row * info.height;
    uint8_t *pixels = malloc(size + info.height);
    uint32_t seg_rows_base = info.height / info.segments, extra = info.height % info.segments;
    uint32_t adler = 1, y = 0;
    int ok = 1;
    for (uint32_t k = 0; k < info.segments && ok; k++) {
        uint32_t rows = seg_rows_base + (k == 0 ? extra : 0);
        size_t piece = (size_t)(starts[k + 1] - starts[k]);
        uint8_t *copy = malloc(piece + 2);
        memcpy(copy, stream + starts[k], piece);
        uint8_t *out = malloc((row + 1) * rows);
        uint32_t a = 0;
        int last = k + 1 == info.segments;
        ok = cpng_restart_decode(copy, piece, k == 0, last, out, rows, row, info.channels, &a, NULL, 0) == CSTATUS_OK;
        if (ok) {
            memcpy(pixels + row * y, out, row * rows);
            adler = cpng_adler32_combine(adler, a, (uint64_t)(row + 1) * rows);
            y += rows;
        }
        free(out);
        free(copy);
    }
    if (ok) {
        const uint8_t *t = stream + info.stream_len - 4;
        uint32_t trailer = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
        if (trailer == adler) {
            uint8_t *slow = malloc(size);
            char msg[256];
            int rc = cpng_decode(data, len, FUZZ_MAX_PIXELS, slow, size, msg, sizeof msg);
            FUZZ_ORACLE(rc == CSTATUS_OK, "segments decoded a file libpng refuses (%d: %s)", rc, msg);
            FUZZ_ORACLE(memcmp(slow, pixels, size) == 0, "segment pixels differ from libpng's");
            free(slow);
        }
    }
    free(pixels);
done:
    free(starts);
    free(stream);
    return 0;
}
