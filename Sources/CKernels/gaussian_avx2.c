/*
 * The Gaussian blur's two passes and the unsharp mask's final step for AVX2. The portable
 * twins, and the arithmetic both must follow bit for bit, are in ImageFilters'
 * Kernels/SmoothingGaussian.swift:
 *   pass 1   h = (w0 x[j] + sum_i w_i (x[j - i c] + x[j + i c]) + 2^7) >> 8     (h <= 32640)
 *   pass 2   s =  w0 h_0  + sum_i w_i (h_-i + h_+i)                              (s < 2^31)
 *   gaussian (s + 2^21) >> 22;  sharpen  x + ((a (128 x - ((s + 2^14) >> 15)) + 2^14) >> 15), clamped
 *
 * Both passes use VPMADDWD (16 x 16 -> 32-bit products, adjacent pairs summed), which is
 * signed: every factor fed to it is below 2^15. Side weights w_i (i >= 1) are at most 2^14
 * (w0 + 2 w_i <= 2^15 and w_i <= w0); the centre weight may be 2^15 itself, so the centre
 * sample enters twice, with w0 - w0/2 and w0/2.
 */
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/* Pairs of 16-bit weights for VPMADDWD, each pair broadcast to every 32-bit lane:
 * pass 1 pairs tap i with tap i+1 (centre halves first); pass 2 pairs a tap with itself. */
static inline int32_t pair(uint16_t lo, uint16_t hi) { return (int32_t)((uint32_t)hi << 16 | lo); }

/* Sixteen 16-bit terms times sixteen 16-bit weights, summed into 32-bit lanes `lo` (samples
 * 0-3 and 8-11) and `hi` (4-7 and 12-15): the order unpack leaves them in, which the final
 * pack undoes. */
AVX2 static inline void madd_pair(__m256i a, __m256i b, __m256i weights, __m256i *lo, __m256i *hi) {
    *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), weights));
    *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), weights));
}

AVX2 static inline __m256i load16_u8(const uint8_t *p) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
}

AVX2 void ck_gaussian_hpass_avx2(const uint8_t *centre, uint16_t *out, size_t n, size_t c, int radius,
                                 const uint16_t *w) {
    const __m256i centreWeights = _mm256_set1_epi32(pair(w[0] - w[0] / 2, w[0] / 2));
    const __m256i round = _mm256_set1_epi32(1 << 7);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const uint8_t *p = centre + j;
        __m256i x = load16_u8(p);
        __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
        madd_pair(x, x, centreWeights, &lo, &hi);
        int i = 1;
        for (; i + 1 <= radius; i += 2) {
            __m256i s1 = _mm256_add_epi16(load16_u8(p - (size_t)i * c), load16_u8(p + (size_t)i * c));
            __m256i s2 = _mm256_add_epi16(load16_u8(p - (size_t)(i + 1) * c), load16_u8(p + (size_t)(i + 1) * c));
            madd_pair(s1, s2, _mm256_set1_epi32(pair(w[i], w[i + 1])), &lo, &hi);
        }
        if (i == radius) {
            __m256i s1 = _mm256_add_epi16(load16_u8(p - (size_t)i * c), load16_u8(p + (size_t)i * c));
            madd_pair(s1, _mm256_setzero_si256(), _mm256_set1_epi32(pair(w[i], 0)), &lo, &hi);
        }
        lo = _mm256_srli_epi32(_mm256_add_epi32(lo, round), 8);
        hi = _mm256_srli_epi32(_mm256_add_epi32(hi, round), 8);
        _mm256_storeu_si256((__m256i *)(out + j), _mm256_packus_epi32(lo, hi));
    }
    for (; j < n; j++) {
        const uint8_t *p = centre + j;
        uint32_t acc = (uint32_t)p[0] * w[0];
        for (int i = 1; i <= radius; i++) acc += ((uint32_t)p[-(ptrdiff_t)(i * c)] + p[i * c]) * w[i];
        out[j] = (uint16_t)((acc + (1 << 7)) >> 8);
    }
}

/* Pass 2 for the 16 samples from `j`: 32-bit sums in unpack order (see madd_pair). */
AVX2 static inline void vertical16(const uint16_t *const *taps, int radius, const uint16_t *w, size_t j,
                                   __m256i *lo, __m256i *hi) {
    *lo = _mm256_setzero_si256(); *hi = _mm256_setzero_si256();
    __m256i h = _mm256_loadu_si256((const __m256i *)(taps[radius] + j));
    madd_pair(h, h, _mm256_set1_epi32(pair(w[0] - w[0] / 2, w[0] / 2)), lo, hi);
    for (int i = 1; i <= radius; i++) {
        __m256i above = _mm256_loadu_si256((const __m256i *)(taps[radius - i] + j));
        __m256i below = _mm256_loadu_si256((const __m256i *)(taps[radius + i] + j));
        madd_pair(above, below, _mm256_set1_epi32(pair(w[i], w[i])), lo, hi);
    }
}

static inline uint32_t vertical1(const uint16_t *const *taps, int radius, const uint16_t *w, size_t j) {
    uint32_t acc = (uint32_t)taps[radius][j] * w[0];
    for (int i = 1; i <= radius; i++) acc += ((uint32_t)taps[radius - i][j] + taps[radius + i][j]) * w[i];
    return acc;
}

/* 16 bytes from 32-bit lanes in unpack order (each at most 255 or saturated to it). */
AVX2 static inline __m128i pack16(__m256i lo, __m256i hi) {
    __m256i words = _mm256_packs_epi32(lo, hi);                 /* lane order restored */
    __m256i bytes = _mm256_packus_epi16(words, words);           /* clamps to 0...255 */
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(bytes, 0x08));
}

AVX2 void ck_gaussian_vrow_avx2(const uint16_t *const *taps, int radius, const uint16_t *w, size_t n, uint8_t *out) {
    const __m256i round = _mm256_set1_epi32(1 << 21);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i lo, hi;
        vertical16(taps, radius, w, j, &lo, &hi);
        lo = _mm256_srli_epi32(_mm256_add_epi32(lo, round), 22);
        hi = _mm256_srli_epi32(_mm256_add_epi32(hi, round), 22);
        _mm_storeu_si128((__m128i *)(out + j), pack16(lo, hi));
    }
    for (; j < n; j++) out[j] = (uint8_t)((vertical1(taps, radius, w, j) + (1u << 21)) >> 22);
}

AVX2 void ck_sharpen_vrow_avx2(const uint16_t *const *taps, int radius, const uint16_t *w, size_t n,
                               const uint8_t *x, int32_t amount256, uint8_t *out) {
    const __m256i round = _mm256_set1_epi32(1 << 14), a = _mm256_set1_epi32(amount256);
    const __m256i zero = _mm256_setzero_si256();
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i lo, hi;
        vertical16(taps, radius, w, j, &lo, &hi);
        /* x in 32-bit lanes, in the same unpack order as the sums. */
        __m256i x16 = load16_u8(x + j);
        __m256i xlo = _mm256_unpacklo_epi16(x16, zero), xhi = _mm256_unpackhi_epi16(x16, zero);
        __m256i sums[2] = {lo, hi}, xs[2] = {xlo, xhi}, v[2];
        for (int k = 0; k < 2; k++) {
            __m256i blur = _mm256_srli_epi32(_mm256_add_epi32(sums[k], round), 15);
            __m256i detail = _mm256_sub_epi32(_mm256_slli_epi32(xs[k], 7), blur);
            __m256i step = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(a, detail), round), 15);
            v[k] = _mm256_add_epi32(xs[k], step);
        }
        _mm_storeu_si128((__m128i *)(out + j), pack16(v[0], v[1]));
    }
    for (; j < n; j++) {
        int32_t blur = (int32_t)((vertical1(taps, radius, w, j) + (1u << 14)) >> 15);
        int32_t detail = (int32_t)x[j] * 128 - blur;
        int32_t v = (int32_t)x[j] + ((amount256 * detail + (1 << 14)) >> 15);
        out[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

#endif
