/*
 * Canny's local steps for AVX2: the 3x3 Sobel derivatives with their magnitude, and the
 * non-maximum suppression with the double threshold. The portable twins are sobelRow and
 * suppressRow in ImageFilters' EdgeCanny.swift, whose documentation gives the rules (OpenCV's:
 * the fixed-point tan 22.5 degree test, "exceeds the neighbour before, at least the one
 * after", both diagonal neighbours strictly). Row tails narrower than a vector take the same
 * rules one pixel at a time.
 */
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

#define AVX2 __attribute__((target("avx2")))

/* round(tan(22.5 degrees) * 2^15), as OpenCV's Canny. */
enum { TAN22_Q15 = 13573 };

AVX2 void ck_canny_sobel_avx2(const int16_t *a, const int16_t *b, const int16_t *c, size_t width,
                              int16_t *gx, int16_t *gy, int32_t *magnitude, int l2) {
    size_t x = 0;
    /* Every sum stays within -1020...1020 (and |gx| + |gy| within 2040): 16-bit lanes suffice,
     * except for the squares of L2, made by one multiply-add of (gx, gy) pairs. */
    for (; x + 16 <= width; x += 16) {
#define LOAD(p, k) _mm256_loadu_si256((const __m256i *)((p) + x + (k)))
        __m256i al = LOAD(a, -1), am = LOAD(a, 0), ar = LOAD(a, 1);
        __m256i bl = LOAD(b, -1), br = LOAD(b, 1);
        __m256i cl = LOAD(c, -1), cm = LOAD(c, 0), cr = LOAD(c, 1);
#undef LOAD
        __m256i db = _mm256_sub_epi16(br, bl);
        __m256i dx = _mm256_add_epi16(_mm256_add_epi16(_mm256_sub_epi16(ar, al), _mm256_sub_epi16(cr, cl)),
                                      _mm256_add_epi16(db, db));
        __m256i dm = _mm256_sub_epi16(cm, am);
        __m256i dy = _mm256_add_epi16(_mm256_add_epi16(_mm256_sub_epi16(cl, al), _mm256_sub_epi16(cr, ar)),
                                      _mm256_add_epi16(dm, dm));
        _mm256_storeu_si256((__m256i *)(gx + x), dx);
        _mm256_storeu_si256((__m256i *)(gy + x), dy);
        __m256i m0, m1;
        if (l2) {
            /* unpack works within 128-bit lanes: lo holds pixels 0-3 and 8-11, hi 4-7 and 12-15. */
            __m256i lo = _mm256_unpacklo_epi16(dx, dy), hi = _mm256_unpackhi_epi16(dx, dy);
            lo = _mm256_madd_epi16(lo, lo);
            hi = _mm256_madd_epi16(hi, hi);
            m0 = _mm256_permute2x128_si256(lo, hi, 0x20);
            m1 = _mm256_permute2x128_si256(lo, hi, 0x31);
        } else {
            __m256i m = _mm256_add_epi16(_mm256_abs_epi16(dx), _mm256_abs_epi16(dy));
            m0 = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(m));
            m1 = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(m, 1));
        }
        _mm256_storeu_si256((__m256i *)(magnitude + x), m0);
        _mm256_storeu_si256((__m256i *)(magnitude + x + 8), m1);
    }
    for (; x < width; x++) {
        /* The rows have a sample of padding on each side; index them from x as signed offsets
         * (x - 1 on a size_t wraps around at x = 0, which is undefined for a pointer). */
        const int16_t *p = a + x, *q = b + x, *r = c + x;
        int32_t dx = (p[1] - p[-1]) + 2 * (q[1] - q[-1]) + (r[1] - r[-1]);
        int32_t dy = (r[-1] - p[-1]) + 2 * (r[0] - p[0]) + (r[1] - p[1]);
        gx[x] = (int16_t)dx;
        gy[x] = (int16_t)dy;
        magnitude[x] = l2 ? dx * dx + dy * dy : abs(dx) + abs(dy);
    }
}

/* The states of 8 pixels as 32-bit lanes: 0 none, 1 weak, 2 edge. */
AVX2 static inline __m256i suppress8(const int32_t *above, const int32_t *at, const int32_t *below,
                                     const int16_t *gx, const int16_t *gy, __m256i low, __m256i high) {
#define LOAD(p, k) _mm256_loadu_si256((const __m256i *)((p) + (k)))
    __m256i m = LOAD(at, 0);
    __m256i xs = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)gx));
    __m256i ys = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)gy));
    __m256i ax = _mm256_abs_epi32(xs), ay = _mm256_slli_epi32(_mm256_abs_epi32(ys), 15);
    __m256i tan22 = _mm256_mullo_epi32(ax, _mm256_set1_epi32(TAN22_Q15));
    __m256i tan67 = _mm256_add_epi32(tan22, _mm256_slli_epi32(ax, 16));
    __m256i horizontal = _mm256_cmpgt_epi32(tan22, ay), vertical = _mm256_cmpgt_epi32(ay, tan67);
    /* m > before && m >= after, as m > before && !(after > m). */
#define PEAK(before, after) _mm256_andnot_si256(_mm256_cmpgt_epi32(after, m), _mm256_cmpgt_epi32(m, before))
    __m256i alongX = PEAK(LOAD(at, -1), LOAD(at, 1));
    __m256i alongY = PEAK(LOAD(above, 0), LOAD(below, 0));
#undef PEAK
    /* Opposite signs (the sign bit of gx ^ gy): upper right and lower left, else upper left and
     * lower right. */
    __m256i opposite = _mm256_srai_epi32(_mm256_xor_si256(xs, ys), 31);
    __m256i upper = _mm256_blendv_epi8(LOAD(above, -1), LOAD(above, 1), opposite);
    __m256i lower = _mm256_blendv_epi8(LOAD(below, 1), LOAD(below, -1), opposite);
#undef LOAD
    __m256i diagonal = _mm256_and_si256(_mm256_cmpgt_epi32(m, upper), _mm256_cmpgt_epi32(m, lower));
    __m256i peak = _mm256_blendv_epi8(_mm256_blendv_epi8(diagonal, alongX, horizontal), alongY, vertical);
    __m256i keep = _mm256_and_si256(peak, _mm256_cmpgt_epi32(m, low));
    const __m256i one = _mm256_set1_epi32(1);
    return _mm256_and_si256(keep, _mm256_add_epi32(one, _mm256_and_si256(_mm256_cmpgt_epi32(m, high), one)));
}

AVX2 void ck_canny_suppress_avx2(const int32_t *above, const int32_t *at, const int32_t *below,
                                 const int16_t *gx, const int16_t *gy, size_t width, int32_t low, int32_t high,
                                 uint8_t *out) {
    const __m256i lowV = _mm256_set1_epi32(low), highV = _mm256_set1_epi32(high);
    size_t x = 0;
    for (; x + 16 <= width; x += 16) {
        __m256i s0 = suppress8(above + x, at + x, below + x, gx + x, gy + x, lowV, highV);
        __m256i s1 = suppress8(above + x + 8, at + x + 8, below + x + 8, gx + x + 8, gy + x + 8, lowV, highV);
        /* packs works within 128-bit lanes; the permute puts the 16 words back in pixel order. */
        __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(s0, s1), 0xD8);
        __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        _mm_storeu_si128((__m128i *)(out + x), bytes);
    }
    for (; x < width; x++) {
        int32_t m = at[x];
        uint8_t state = 0;
        if (m > low) {
            int32_t xs = gx[x], ys = gy[x];
            int32_t ax = abs(xs), ay = abs(ys) << 15;
            int32_t tan22 = ax * TAN22_Q15;
            int peak;
            if (ay < tan22) {
                peak = m > at[(ptrdiff_t)x - 1] && m >= at[x + 1];
            } else if (ay > tan22 + (ax << 16)) {
                peak = m > above[x] && m >= below[x];
            } else {
                ptrdiff_t s = (xs ^ ys) < 0 ? -1 : 1;
                peak = m > above[(ptrdiff_t)x - s] && m > below[(ptrdiff_t)x + s];
            }
            if (peak) state = m > high ? 2 : 1;
        }
        out[x] = state;
    }
}

#endif
