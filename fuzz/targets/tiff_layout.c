/*
 * Fuzz target: the TIFF door (ctiff.c): opening from memory, the first page's layout
 * checks, and reading rows by strip or tile in two bands, as the ranks read them.
 * Oracle: reading the same rows twice (bands, then the whole image) gives the same bytes.
 */
#include "ccodecs.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    ccodec_tiff *tiff = NULL;
    ccodec_info info;
    char msg[256];
    if (ccodec_tiff_open_memory("fuzz.tif", data, len, FUZZ_MAX_PIXELS, &tiff, &info, msg, sizeof msg) != CSTATUS_OK) {
        FUZZ_ORACLE(tiff == NULL, "a refused open left a handle");
        return 0;
    }
    size_t row = (size_t)info.width * (size_t)info.channels, size = row * info.height;
    uint8_t *whole = malloc(size), *bands = malloc(size);
    int whole_rc = ccodec_tiff_read_rows(tiff, 0, info.height, whole, size, msg, sizeof msg);
    uint32_t top = info.height / 2;
    int bands_rc = top > 0 ? ccodec_tiff_read_rows(tiff, 0, top, bands, size, msg, sizeof msg) : CSTATUS_OK;
    if (bands_rc == CSTATUS_OK) {
        bands_rc = ccodec_tiff_read_rows(tiff, top, info.height - top, bands + row * top, size - row * top, msg, sizeof msg);
    }
    FUZZ_ORACLE((whole_rc == CSTATUS_OK) == (bands_rc == CSTATUS_OK), "whole read %d, banded read %d", whole_rc, bands_rc);
    if (whole_rc == CSTATUS_OK) FUZZ_ORACLE(memcmp(whole, bands, size) == 0, "banded rows differ from the whole read");
    free(bands);
    free(whole);
    ccodec_tiff_close(tiff);
    return 0;
}
