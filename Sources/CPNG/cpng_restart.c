/*
 * Decoding PNGs by restart segments (see cpng_restart.h and docs/png-restart-points.md).
 */
#include "cpng.h"
#include "cpng_internal.h"

#include <libdeflate.h>

/* MARK: - Chunk walk */

/* Walks the chunks of a candidate file. With starts == NULL it only checks and fills info;
 * otherwise it also copies the IDAT data into stream and records the segment starts. */
static int cpng_restart_walk(const uint8_t *data, size_t len, uint64_t max_pixels,
                             cpng_restart_info *info, uint8_t *stream, uint64_t *starts) {
    static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (data == NULL || len < 8 + 25 || memcmp(data, signature, 8) != 0) return CSTATUS_NO_RESTART;
    const uint8_t *ihdr = data + 8;
    if (cpng_be32(ihdr) != 13 || memcmp(ihdr + 4, "IHDR", 4) != 0
        || libdeflate_crc32(0, ihdr + 4, 17) != cpng_be32(ihdr + 21)) return CSTATUS_NO_RESTART;
    uint32_t width = cpng_be32(ihdr + 8), height = cpng_be32(ihdr + 12);
    uint8_t colour = ihdr[17];
    int channels = colour == 0 ? 1 : colour == 4 ? 2 : colour == 2 ? 3 : colour == 6 ? 4 : 0;
    if (width == 0 || height == 0 || width > CPNG_UINT31_MAX || height > CPNG_UINT31_MAX || ihdr[16] != 8
        || channels == 0 || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] != 0
        || (uint64_t)width * height > max_pixels) return CSTATUS_NO_RESTART;

    uint32_t segments = 0;
    int seen_mark = 0, seen_iend = 0;
    enum { BEFORE_IDAT, IN_IDAT, AFTER_IDAT } phase = BEFORE_IDAT;
    uint64_t stream_len = 0, idats = 0;
    size_t pos = 8 + 25;
    while (!seen_iend) {
        if (len - pos < 12) return CSTATUS_NO_RESTART;
        uint32_t length = cpng_be32(data + pos);
        const uint8_t *type = data + pos + 4;
        if (length > CPNG_UINT31_MAX || !cpng_chunk_type_valid(type) || len - pos - 12 < length) return CSTATUS_NO_RESTART;
        int critical = (type[0] & 0x20) == 0;
        int is_idat = memcmp(type, "IDAT", 4) == 0, is_mark = memcmp(type, "mARK", 4) == 0;
        seen_iend = memcmp(type, "IEND", 4) == 0;
        /* CRCs of the chunks this path relies on; other ancillary chunks are not read. */
        if ((critical || is_mark) && libdeflate_crc32(0, type, (size_t)length + 4) != cpng_be32(type + 4 + length)) {
            return CSTATUS_NO_RESTART;
        }
        if (memcmp(type, "tRNS", 4) == 0 || (critical && !is_idat && !seen_iend)) return CSTATUS_NO_RESTART;
        if (phase == IN_IDAT && !is_idat) phase = AFTER_IDAT;
        if (is_mark) {
            /* Once, before the image data: method 0, type 1 (a segment per IDAT, no offsets). */
            if (seen_mark || phase != BEFORE_IDAT || length != 6 || type[4] != 0 || type[5] != 1) return CSTATUS_NO_RESTART;
            segments = cpng_be32(type + 6);
            if (segments < 2 || segments >= height) return CSTATUS_NO_RESTART;
            seen_mark = 1;
        }
        if (is_idat) {
            if (phase == AFTER_IDAT || !seen_mark || length == 0) return CSTATUS_NO_RESTART;
            phase = IN_IDAT;
            if (idats == segments) return CSTATUS_NO_RESTART;  /* more IDATs than segments */
            if (starts != NULL) {
                if (stream_len + length > info->stream_len) return CSTATUS_NO_RESTART;
                memcpy(stream + stream_len, type + 4, length);
                starts[idats] = idats == 0 ? 2 : stream_len;
            }
            stream_len += length;
            idats++;
        }
        pos += (size_t)length + 12;
    }
    if (!seen_mark || idats != segments || stream_len < 2 + 4) return CSTATUS_NO_RESTART;
    if (starts != NULL) {
        if (stream_len != info->stream_len) return CSTATUS_NO_RESTART;
        starts[segments] = stream_len - 4;
        for (uint32_t k = 0; k < segments; k++) {
            if (starts[k + 1] <= starts[k]) return CSTATUS_NO_RESTART;  /* a segment with no data */
        }
        /* zlib header: deflate, 32 KiB window, no preset dictionary, check bits. */
        if (stream[0] != 0x78 || (stream[1] & 0x20) != 0 || ((unsigned)stream[0] << 8 | stream[1]) % 31 != 0) {
            return CSTATUS_NO_RESTART;
        }
    } else {
        info->width = width; info->height = height; info->channels = channels;
        info->segments = segments; info->stream_len = stream_len;
    }
    return CSTATUS_OK;
}

int cpng_restart_probe(const uint8_t *data, size_t len, uint64_t max_pixels, cpng_restart_info *info) {
    if (info == NULL) return CSTATUS_NO_RESTART;
    return cpng_restart_walk(data, len, max_pixels, info, NULL, NULL);
}

int cpng_restart_stream(const uint8_t *data, size_t len, const cpng_restart_info *info,
                        uint8_t *stream, uint64_t *starts) {
    if (info == NULL || stream == NULL || starts == NULL) return CSTATUS_NO_RESTART;
    cpng_restart_info copy = *info;
    uint64_t limit = (uint64_t)info->width * info->height;
    return cpng_restart_walk(data, len, limit, &copy, stream, starts);
}

/* MARK: - Segment decoding */

int cpng_restart_decode(uint8_t *data, size_t len, int at_top, int to_end,
                        uint8_t *out, uint32_t rows, size_t row_bytes, int channels,
                        uint32_t *adler, char *msg, size_t msglen) {
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    *adler = 1;
    if (rows == 0) return len == 0 ? CSTATUS_OK : cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "data for no rows");
    if (data == NULL || out == NULL || channels < 1 || channels > 4 || row_bytes == 0) {
        return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "bad arguments");
    }
    size_t line = row_bytes + 1, raw_len;
    if (__builtin_mul_overflow(line, (size_t)rows, &raw_len)) return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "too large");
    /* A piece that ends at a full flush has no final block: give it an empty one (fixed
     * Huffman, BFINAL set, end of block: the bytes 0x03 0x00), so the inflater ends there. */
    size_t in_len = len;
    if (!to_end) { data[len] = 0x03; data[len + 1] = 0x00; in_len += 2; }
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (d == NULL) return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "out of memory");
    size_t used_in = 0, produced = 0;
    enum libdeflate_result r = libdeflate_deflate_decompress_ex(d, data, in_len, out, raw_len, &used_in, &produced);
    libdeflate_free_decompressor(d);
    if (r != LIBDEFLATE_SUCCESS || produced != raw_len || used_in != in_len) {
        return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "segment data does not decode to its rows");
    }
    /* Without the image's first row, the first row must not read the row above. */
    if (!at_top && out[0] > 1) return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "segment starts with a filter reading the row above");
    *adler = libdeflate_adler32(1, out, raw_len);
    uint8_t *zeros = calloc(row_bytes, 1);
    if (zeros == NULL) return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "out of memory");
    int64_t bad_row = cpng_unfilter_rows(out, out, zeros, rows, row_bytes, channels);
    free(zeros);
    if (bad_row >= 0) return cpng_fast_fail(msg, msglen, CSTATUS_NO_RESTART, "bad adaptive filter value");
    return CSTATUS_OK;
}
