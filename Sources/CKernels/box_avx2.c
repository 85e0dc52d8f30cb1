/*
 * The box (mean) filter for AVX2. The portable twin, and the arithmetic both follow, is
 * ImageFilters' Kernels/SmoothingBox.swift: S = the sum of the size x size window (replicate
 * border), out = floor((S + area / 2) / area), area = size^2.
 *
 * Per output row: column sums over the window's rows (16-bit: at most 255 x 255), kept up to
 * date by adding the entering row and subtracting the leaving one; then the horizontal window
 * sum of the column sums: summed directly in 16-bit vectors for windows up to 15 wide, by a
 * running sum beyond.
 *
 * The division is a single-precision divide, exact here: N = S + area/2 < 256 area <= 2^24 is
 * a float, and for q = N / area not an integer the gap to the next integer (>= 1/area) exceeds
 * the rounding error (<= (floor(q) + 1) 2^-24) because 256 area < 2^24; so truncating the
 * correctly rounded quotient gives floor(q).
 */
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))


AVX2 static void add_row(uint16_t *sums, const uint8_t *row, size_t n, int subtract) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i s = _mm256_loadu_si256((const __m256i *)(sums + j));
        __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(row + j)));
        s = subtract ? _mm256_sub_epi16(s, v) : _mm256_add_epi16(s, v);
        _mm256_storeu_si256((__m256i *)(sums + j), s);
    }
    for (; j < n; j++) sums[j] = (uint16_t)(subtract ? sums[j] - row[j] : sums[j] + row[j]);
}

AVX2 static void move_row(uint16_t *sums, const uint8_t *enter, const uint8_t *leave, size_t n) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i s = _mm256_loadu_si256((const __m256i *)(sums + j));
        s = _mm256_add_epi16(s, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(enter + j))));
        s = _mm256_sub_epi16(s, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(leave + j))));
        _mm256_storeu_si256((__m256i *)(sums + j), s);
    }
    for (; j < n; j++) sums[j] = (uint16_t)(sums[j] + enter[j] - leave[j]);
}

/* floor(N / area) of 16 sums (32-bit lanes `lo` = samples 0-7, `hi` = 8-15), stored as bytes. */
AVX2 static inline void divide_store16(__m256i lo, __m256i hi, __m256 area, uint8_t *o) {
    lo = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(lo), area));
    hi = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(hi), area));
    /* Packs work per 128-bit lane: fix the order with one permute, then take the low half. */
    __m256i words = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
    __m256i bytes = _mm256_packus_epi16(words, words);
    _mm_storeu_si128((__m128i *)o, _mm256_castsi256_si128(_mm256_permute4x64_epi64(bytes, 0x08)));
}

/* A multiply-high and shift that divide every 16-bit N <= `largest` by `area` exactly:
 * floor(N / area) == (N * m) >> (16 + shift). Found by trying shifts and checking every N
 * (at most 65,536 cheap steps, once per band); 0 when no 16-bit multiplier works. */
static uint32_t division_magic(uint32_t area, uint32_t largest, int *shift) {
    for (int s = 0; s <= 16; s++) {
        uint64_t m = ((1ull << (16 + s)) + area - 1) / area;
        if (m > 0xFFFF) break;
        int exact = 1;
        for (uint32_t n = 0; n <= largest && exact; n++) exact = (uint32_t)((n * m) >> (16 + s)) == n / area;
        if (exact) { *shift = s; return (uint32_t)m; }
    }
    return 0;
}

/* Small windows (size <= 15): the horizontal sum of `size` column sums fits 16 bits
 * (225 x 255 < 2^16), so it is summed directly, 16 samples per register, with no passes,
 * and divided by a multiply-high where one is exact (else by the float divide). */
AVX2 static void horizontal_small(const uint16_t *padded, size_t n, size_t c, size_t size, uint32_t half,
                                  uint32_t magic, int shift, __m256 area, uint8_t *o) {
    const __m256i halfV = _mm256_set1_epi16((int16_t)half), m = _mm256_set1_epi16((int16_t)magic);
    const __m128i s = _mm_cvtsi32_si128(shift);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i t = halfV;
        for (size_t k = 0; k < size; k++)
            t = _mm256_add_epi16(t, _mm256_loadu_si256((const __m256i *)(padded + j + k * c)));
        if (magic) {
            __m256i q = _mm256_srl_epi16(_mm256_mulhi_epu16(t, m), s);
            __m256i bytes = _mm256_packus_epi16(q, q);
            _mm_storeu_si128((__m128i *)(o + j), _mm256_castsi256_si128(_mm256_permute4x64_epi64(bytes, 0x08)));
        } else {
            /* Widen in sample order (not unpack order) so divide_store16 sees 0-7 and 8-15. */
            divide_store16(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(t)),
                           _mm256_cvtepu16_epi32(_mm256_extracti128_si256(t, 1)), area, o + j);
        }
    }
    for (; j < n; j++) {
        uint32_t t = half;
        for (size_t k = 0; k < size; k++) t += padded[j + k * c];
        o[j] = (uint8_t)(t / ((uint32_t)size * (uint32_t)size));
    }
}

/* Larger windows: a running sum along the row (one add and one subtract per sample whatever the
 * size; the dependency runs `c` samples apart, so channels overlap), then one vector pass
 * dividing (sum + half) by the area. */
AVX2 static void horizontal_large(const uint16_t *padded, size_t n, size_t c, size_t size, uint32_t half,
                                  __m256 area, uint8_t *o, uint32_t *total) {
    const size_t reach = (size - 1) * c;
    for (size_t ch = 0; ch < c && ch < n; ch++) {
        uint32_t t = half;
        for (size_t k = 0; k < size; k++) t += padded[ch + k * c];
        total[ch] = t;
    }
    for (size_t j = c; j < n; j++) total[j] = total[j - c] + padded[j + reach] - padded[j - c];
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        divide_store16(_mm256_loadu_si256((const __m256i *)(total + j)),
                       _mm256_loadu_si256((const __m256i *)(total + j + 8)), area, o + j);
    for (; j < n; j++) o[j] = (uint8_t)(total[j] / ((uint32_t)size * (uint32_t)size));
}

AVX2 void ck_box_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int c, int radius,
                      uint8_t *out, uint16_t *columnSums, uint32_t *total) {
    const size_t n = width * (size_t)c, r = (size_t)radius, size = 2 * r + 1;
    uint16_t *interior = columnSums + r * (size_t)c;
    const uint32_t area = (uint32_t)(size * size), half = area / 2;
    const __m256 areaF = _mm256_set1_ps((float)area);
    int shift = 0;
    const uint32_t magic = size <= 15 ? division_magic(area, 255 * area + half, &shift) : 0;
    memset(interior, 0, n * sizeof(uint16_t));
    for (size_t k = 0; k < size; k++) add_row(interior, rows[k], n, 0);
    for (size_t y = 0; y < outRows; y++) {
        if (y > 0) move_row(interior, rows[y + 2 * r], rows[y - 1], n);
        /* Replicate border: the first and last pixels' column sums, r times each side. */
        for (size_t k = 0; k < r; k++) {
            memcpy(columnSums + k * (size_t)c, interior, (size_t)c * sizeof(uint16_t));
            memcpy(interior + n + k * (size_t)c, interior + n - (size_t)c, (size_t)c * sizeof(uint16_t));
        }
        if (size <= 15) horizontal_small(columnSums, n, (size_t)c, size, half, magic, shift, areaF, out + y * n);
        else horizontal_large(columnSums, n, (size_t)c, size, half, areaF, out + y * n, total);
    }
}

#endif
