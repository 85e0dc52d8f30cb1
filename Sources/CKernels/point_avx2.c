/*
 * Point kernels (invert, grayscale, threshold) for AVX2. The portable twins are
 * ImageFilters' InvertKernel, GrayscaleKernel and ThresholdKernel.
 */
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* Scalar luma: the one rule (ImageFilters' `luma`), for row tails. */
static inline uint8_t luma1(const uint8_t *p) {
    return (uint8_t)((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
}

AVX2 void ck_invert_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels) {
    size_t n = pixels * (size_t)channels, i = 0;
    /* XOR with 0xFF inverts a sample; alpha lanes XOR with 0. 32 is a multiple of 2 and 4, so
     * the pattern lines up with the pixels in every vector. */
    uint8_t pattern[32];
    for (int k = 0; k < 32; k++)
        pattern[k] = ((channels == 2 || channels == 4) && k % channels == channels - 1) ? 0 : 0xFF;
    __m256i mask = _mm256_loadu_si256((const __m256i *)pattern);
    for (; i + 128 <= n; i += 128) {
        for (int k = 0; k < 4; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(src + i + 32 * k));
            _mm256_storeu_si256((__m256i *)(dst + i + 32 * k), _mm256_xor_si256(v, mask));
        }
    }
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(v, mask));
    }
    for (; i < n; i++) dst[i] = src[i] ^ pattern[i % 32];
}

/* Luma of 16 pixels per 128-bit lane from R, G and B bytes already separated:
 * (77 R + 150 G + 29 B + 128) >> 8 in 16-bit lanes (at most 65408, no overflow). */
AVX2 static inline __m256i luma_from_planes(__m256i r, __m256i g, __m256i b) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i wr = _mm256_set1_epi16(77), wg = _mm256_set1_epi16(150), wb = _mm256_set1_epi16(29);
    const __m256i half = _mm256_set1_epi16(128);
    __m256i lo = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpacklo_epi8(r, zero), wr),
                                  _mm256_mullo_epi16(_mm256_unpacklo_epi8(g, zero), wg));
    lo = _mm256_add_epi16(lo, _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpacklo_epi8(b, zero), wb), half));
    __m256i hi = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpackhi_epi8(r, zero), wr),
                                  _mm256_mullo_epi16(_mm256_unpackhi_epi8(g, zero), wg));
    hi = _mm256_add_epi16(hi, _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpackhi_epi8(b, zero), wb), half));
    /* unpack and pack both work within 128-bit lanes, so the pixel order comes back as it was. */
    return _mm256_packus_epi16(_mm256_srli_epi16(lo, 8), _mm256_srli_epi16(hi, 8));
}

/* Luma of 32 RGB pixels (96 bytes). Each 128-bit lane takes 16 pixels: lane 0 bytes 0..47,
 * lane 1 bytes 48..95, so the byte shuffles (which cannot cross lanes) see the same layout
 * in both. */
AVX2 static inline __m256i luma32_rgb(const uint8_t *p) {
    __m256i v0 = _mm256_loadu2_m128i((const __m128i *)(p + 48), (const __m128i *)(p + 0));
    __m256i v1 = _mm256_loadu2_m128i((const __m128i *)(p + 64), (const __m128i *)(p + 16));
    __m256i v2 = _mm256_loadu2_m128i((const __m128i *)(p + 80), (const __m128i *)(p + 32));
    /* Where each pixel's R sits among the 48 bytes: pixels 0-5 in v0, 6-10 in v1, 11-15 in v2;
     * G and B are one and two bytes on. -1 zeroes a lane. */
#define SEL(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15) \
    _mm256_setr_epi8(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, \
                     a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15)
    const __m256i r0 = SEL(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i r1 = SEL(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
    const __m256i r2 = SEL(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
    const __m256i g0 = SEL(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i g1 = SEL(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
    const __m256i g2 = SEL(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
    const __m256i b0 = SEL(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i b1 = SEL(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
    const __m256i b2 = SEL(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
#undef SEL
    __m256i r = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(v0, r0), _mm256_shuffle_epi8(v1, r1)),
                                _mm256_shuffle_epi8(v2, r2));
    __m256i g = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(v0, g0), _mm256_shuffle_epi8(v1, g1)),
                                _mm256_shuffle_epi8(v2, g2));
    __m256i b = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(v0, b0), _mm256_shuffle_epi8(v1, b1)),
                                _mm256_shuffle_epi8(v2, b2));
    /* Lane 0 now holds pixels 0-15 and lane 1 pixels 16-31: already in output order. */
    return luma_from_planes(r, g, b);
}

/* Luma of 32 RGBA pixels (128 bytes): R, G, B gathered per 32-bit pixel, then packed. */
AVX2 static inline __m256i luma32_rgba(const uint8_t *p) {
    const __m256i low = _mm256_set1_epi32(0x00FF00FF);
    const __m256i wrb = _mm256_set1_epi32(29 << 16 | 77), wg = _mm256_set1_epi32(150);
    const __m256i half = _mm256_set1_epi32(128);
    __m256i y[4];
    for (int k = 0; k < 4; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * k));
        /* 16-bit lanes (R, B) and (G, A); one multiply-add each gives 77 R + 29 B and 150 G. */
        __m256i rb = _mm256_and_si256(v, low), ga = _mm256_and_si256(_mm256_srli_epi32(v, 8), low);
        __m256i s = _mm256_add_epi32(_mm256_madd_epi16(rb, wrb), _mm256_madd_epi16(ga, wg));
        y[k] = _mm256_srli_epi32(_mm256_add_epi32(s, half), 8);
    }
    /* Packing works per lane: the result holds pixels in the order 0-3 8-11 16-19 24-27 |
     * 4-7 12-15 20-23 28-31 (in 4-pixel groups); one cross-lane permute puts them right. */
    __m256i w = _mm256_packus_epi16(_mm256_packus_epi32(y[0], y[1]), _mm256_packus_epi32(y[2], y[3]));
    return _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* The luma output goes to memory by streaming stores, 32-byte aligned after one unaligned first
 * vector: at 16 MP the kernel moves memory more than it computes (48 MB in, 16 MB out), and
 * plain stores would first read every output line from memory as well. */
AVX2 void ck_luma_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels) {
    size_t i = 0;
    const size_t skew = (uintptr_t)dst & 31;
    if (channels == 3) {
        if (pixels >= 32 && skew) { _mm256_storeu_si256((__m256i *)dst, luma32_rgb(src)); i = 32 - skew; }
        for (; i + 32 <= pixels; i += 32)
            _mm256_stream_si256((__m256i *)(dst + i), luma32_rgb(src + 3 * i));
    } else {
        if (pixels >= 32 && skew) { _mm256_storeu_si256((__m256i *)dst, luma32_rgba(src)); i = 32 - skew; }
        for (; i + 32 <= pixels; i += 32)
            _mm256_stream_si256((__m256i *)(dst + i), luma32_rgba(src + 4 * i));
    }
    /* Streaming stores are weakly ordered: visible before the caller hands dst on. */
    _mm_sfence();
    for (; i < pixels; i++) dst[i] = luma1(src + (size_t)channels * i);
}

/* The same luma widened to 16 bits, the form canny's Sobel step reads. */
AVX2 void ck_luma16_avx2(const uint8_t *src, int16_t *dst, size_t pixels, int channels) {
    size_t i = 0;
    for (; i + 32 <= pixels; i += 32) {
        __m256i y = channels == 3 ? luma32_rgb(src + 3 * i) : luma32_rgba(src + 4 * i);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(y)));
        _mm256_storeu_si256((__m256i *)(dst + i + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(y, 1)));
    }
    for (; i < pixels; i++) dst[i] = luma1(src + (size_t)channels * i);
}

/* 32 bytes of channel 0 of gray+alpha pixels (64 bytes). */
AVX2 static inline __m256i gray32_ga(const uint8_t *p) {
    const __m256i low = _mm256_set1_epi16(0x00FF);
    __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)p), low);
    __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + 32)), low);
    return _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8);
}

AVX2 void ck_threshold_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels, int level) {
    size_t i = 0;
    /* y >= level  <=>  max(y, level) == y, in unsigned bytes; level 0 makes every pixel white. */
    const __m256i lv = _mm256_set1_epi8((char)level);
    for (; i + 32 <= pixels; i += 32) {
        __m256i y;
        switch (channels) {
        case 1: y = _mm256_loadu_si256((const __m256i *)(src + i)); break;
        case 2: y = gray32_ga(src + 2 * i); break;
        case 3: y = luma32_rgb(src + 3 * i); break;
        default: y = luma32_rgba(src + 4 * i); break;
        }
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_cmpeq_epi8(_mm256_max_epu8(y, lv), y));
    }
    for (; i < pixels; i++) {
        const uint8_t *p = src + (size_t)channels * i;
        uint8_t y = channels >= 3 ? luma1(p) : p[0];
        dst[i] = y >= level ? 255 : 0;
    }
}

#endif
