/*
 * The 3 x 3 median for AVX2. The portable twin is ImageFilters' MedianKernel (constant-time
 * histograms); both give the median of the nine clamped samples of each channel.
 *
 * With each column of the window sorted (lo <= mid <= hi), the median of the nine is
 * med3(max of the three lo, med3 of the three mid, min of the three hi), a known identity for
 * 3 x 3 medians (the property tests check it against the histogram kernel on every path).
 * Each column is sorted once per row and shared by the three windows that contain it;
 * unsigned byte min and max do 32 samples at a time.
 */
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

static inline uint8_t min8(uint8_t a, uint8_t b) { return a < b ? a : b; }
static inline uint8_t max8(uint8_t a, uint8_t b) { return a < b ? b : a; }
static inline uint8_t med3_8(uint8_t a, uint8_t b, uint8_t c) { return max8(min8(a, b), min8(max8(a, b), c)); }

AVX2 static inline __m256i med3(__m256i a, __m256i b, __m256i c) {
    return _mm256_max_epu8(_mm256_min_epu8(a, b), _mm256_min_epu8(_mm256_max_epu8(a, b), c));
}

/* Column sorts of rows b and d against a (planes 0-2: lo, mid, hi) and e (planes 3-5). Of the
 * four rows, a and b were the previous pair's d and e and are still cached; the sort asks for
 * the next pair's two new rows (nd, ne) meanwhile, so they come from memory while this pair's
 * medians are computed (the hardware prefetcher alone left the loop waiting on its loads). */
AVX2 static void median3_sort(const uint8_t *a, const uint8_t *b, const uint8_t *d, const uint8_t *e,
                              const uint8_t *nd, const uint8_t *ne, uint8_t *const *p, size_t n) {
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        if ((j & 63) == 0) {
            _mm_prefetch((const char *)(nd + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(ne + j), _MM_HINT_T0);
        }
        __m256i vb = _mm256_loadu_si256((const __m256i *)(b + j));
        __m256i vd = _mm256_loadu_si256((const __m256i *)(d + j));
        __m256i mn = _mm256_min_epu8(vb, vd), mx = _mm256_max_epu8(vb, vd);
        __m256i va = _mm256_loadu_si256((const __m256i *)(a + j));
        __m256i ve = _mm256_loadu_si256((const __m256i *)(e + j));
        _mm256_storeu_si256((__m256i *)(p[0] + j), _mm256_min_epu8(mn, va));
        _mm256_storeu_si256((__m256i *)(p[1] + j), _mm256_max_epu8(mn, _mm256_min_epu8(mx, va)));
        _mm256_storeu_si256((__m256i *)(p[2] + j), _mm256_max_epu8(mx, va));
        _mm256_storeu_si256((__m256i *)(p[3] + j), _mm256_min_epu8(mn, ve));
        _mm256_storeu_si256((__m256i *)(p[4] + j), _mm256_max_epu8(mn, _mm256_min_epu8(mx, ve)));
        _mm256_storeu_si256((__m256i *)(p[5] + j), _mm256_max_epu8(mx, ve));
    }
    for (; j < n; j++) {
        uint8_t mn = min8(b[j], d[j]), mx = max8(b[j], d[j]);
        p[0][j] = min8(mn, a[j]); p[1][j] = max8(mn, min8(mx, a[j])); p[2][j] = max8(mx, a[j]);
        p[3][j] = min8(mn, e[j]); p[4][j] = max8(mn, min8(mx, e[j])); p[5][j] = max8(mx, e[j]);
    }
}

/* One row of medians from its sorted columns (lo, mid, hi, each with a replicated pixel before
 * index 0 and after n): med3(max3 lo, med3 mid, min3 hi) over each pixel and its left and right
 * neighbours. The vectors go to memory by streaming stores, 32-byte aligned after one unaligned
 * first vector: a 16 MP output is far larger than the caches, and plain stores first read each
 * line of it (25% of the kernel's time on 16 MP RGB, back to back on this machine). */
AVX2 static void median3_combine(const uint8_t *lo, const uint8_t *mid, const uint8_t *hi, size_t n, size_t c,
                                 uint8_t *o) {
    lo -= c; mid -= c; hi -= c;
    size_t j = 0;
#define AT(p, k) _mm256_loadu_si256((const __m256i *)((p) + j + (k) * c))
#define MEDIAN32 med3(_mm256_max_epu8(_mm256_max_epu8(AT(lo, 0), AT(lo, 1)), AT(lo, 2)), \
                      med3(AT(mid, 0), AT(mid, 1), AT(mid, 2)), \
                      _mm256_min_epu8(_mm256_min_epu8(AT(hi, 0), AT(hi, 1)), AT(hi, 2)))
    if (n >= 32 && ((uintptr_t)o & 31)) {
        _mm256_storeu_si256((__m256i *)o, MEDIAN32);
        j = 32 - ((uintptr_t)o & 31);
    }
    for (; j + 32 <= n; j += 32) _mm256_stream_si256((__m256i *)(o + j), MEDIAN32);
#undef MEDIAN32
#undef AT
    for (; j < n; j++) {
        uint8_t l = max8(max8(lo[j], lo[j + c]), lo[j + 2 * c]);
        uint8_t h = min8(min8(hi[j], hi[j + c]), hi[j + 2 * c]);
        o[j] = med3_8(l, med3_8(mid[j], mid[j + c], mid[j + 2 * c]), h);
    }
}

AVX2 void ck_median3_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels,
                          uint8_t *out, uint8_t *scratch) {
    const size_t c = (size_t)channels, n = width * c, padded = n + 2 * c;
    /* Two output rows per pass share the sort of their two common input rows (b and d), and
     * the input is read once per pair: four rows for two outputs. */
    uint8_t *planes[6];
    for (int k = 0; k < 6; k++) planes[k] = scratch + (size_t)k * padded + c;
    for (size_t y = 0; y < outRows; y += 2) {
        const int pair = y + 1 < outRows;
        const uint8_t *a = rows[y], *b = rows[y + 1], *d = rows[y + 2], *e = pair ? rows[y + 3] : rows[y + 2];
        const size_t last = outRows + 1;
        const uint8_t *nd = y + 4 <= last ? rows[y + 4] : d, *ne = y + 5 <= last ? rows[y + 5] : e;
        median3_sort(a, b, d, e, nd, ne, planes, n);
        for (int k = 0; k < 6; k++) {
            memcpy(planes[k] - c, planes[k], c);
            memcpy(planes[k] + n, planes[k] + n - c, c);
        }
        median3_combine(planes[0], planes[1], planes[2], n, c, out + y * n);
        if (pair) median3_combine(planes[3], planes[4], planes[5], n, c, out + (y + 1) * n);
    }
    /* Streaming stores are weakly ordered: make them visible before the caller hands the
     * output to another thread. */
    _mm_sfence();
}

/*
 * The 5 x 5 median for AVX2, by sorting networks on unsigned bytes, 32 samples at a time.
 *
 * Each column of five is sorted once per row (shared by the five windows that contain it).
 * For one window, sorting each rank level across its five columns leaves a 5 x 5 matrix sorted
 * along rows and columns (sorting rows keeps columns sorted). The sample at rank i in its column
 * and j in its row then has at least (i + 1)(j + 1) - 1 samples at or below it and
 * (5 - i)(5 - j) - 1 at or above; that rules out six samples as too small and six as too large
 * to be the 13th of 25, so the median is the 7th smallest of the 13 others. Those 13 come in five
 * sorted runs (parts of rows 0-4), which Batcher's odd-even merges join (runs padded with 255 to
 * powers of two); only what feeds output 6 is kept (the compiler drops the rest and folds the
 * padding): about 120 byte min/max operations per 32 windows, column sorts included. The
 * network was checked exhaustively by the 0-1 principle (all 2^25 binary windows) when written.
 */
#define CS(a, b) do { __m256i t_ = _mm256_min_epu8(a, b); (b) = _mm256_max_epu8(a, b); (a) = t_; } while (0)

/* The optimal 9-comparator network for five. */
#define SORT5(v0, v1, v2, v3, v4) do { CS(v0, v1); CS(v3, v4); CS(v2, v4); CS(v2, v3); CS(v0, v3); \
                                       CS(v0, v2); CS(v1, v4); CS(v1, v3); CS(v1, v2); } while (0)

AVX2 static inline __m256i median25(const uint8_t *const *planes, size_t j, size_t c) {
    __m256i m[5][5];
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < 5; k++) m[i][k] = _mm256_loadu_si256((const __m256i *)(planes[i] + j + (size_t)k * c));
        SORT5(m[i][0], m[i][1], m[i][2], m[i][3], m[i][4]);
    }
    const __m256i top = _mm256_set1_epi8((char)0xFF);
    __m256i bc[8] = {m[1][2], m[1][3], m[1][4], top, m[2][1], m[2][2], m[2][3], top};
    CS(bc[0], bc[4]); CS(bc[2], bc[6]); CS(bc[2], bc[4]); CS(bc[1], bc[5]); CS(bc[3], bc[7]); CS(bc[3], bc[5]);
    CS(bc[1], bc[2]); CS(bc[3], bc[4]); CS(bc[5], bc[6]);
    __m256i ae[4] = {m[0][3], m[0][4], m[4][0], m[4][1]};
    CS(ae[0], ae[2]); CS(ae[1], ae[3]); CS(ae[1], ae[2]);
    __m256i dae[8] = {m[3][0], m[3][1], m[3][2], top, ae[0], ae[1], ae[2], ae[3]};
    CS(dae[0], dae[4]); CS(dae[2], dae[6]); CS(dae[2], dae[4]); CS(dae[1], dae[5]); CS(dae[3], dae[7]); CS(dae[3], dae[5]);
    CS(dae[1], dae[2]); CS(dae[3], dae[4]); CS(dae[5], dae[6]);
    __m256i all[16] = {bc[0], bc[1], bc[2], bc[3], bc[4], bc[5], bc[6], bc[7], dae[0], dae[1], dae[2], dae[3], dae[4], dae[5], dae[6], dae[7]};
    CS(all[0], all[8]); CS(all[4], all[12]); CS(all[4], all[8]); CS(all[2], all[10]); CS(all[6], all[14]); CS(all[6], all[10]);
    CS(all[2], all[4]); CS(all[6], all[8]); CS(all[10], all[12]); CS(all[1], all[9]); CS(all[5], all[13]); CS(all[5], all[9]);
    CS(all[3], all[11]); CS(all[7], all[15]); CS(all[7], all[11]); CS(all[3], all[5]); CS(all[7], all[9]); CS(all[11], all[13]);
    CS(all[1], all[2]); CS(all[3], all[4]); CS(all[5], all[6]); CS(all[7], all[8]); CS(all[9], all[10]); CS(all[11], all[12]);
    CS(all[13], all[14]);
    return all[6];
}

AVX2 void ck_median5_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels,
                          uint8_t *out, uint8_t *scratch) {
    const size_t c = (size_t)channels, n = width * c, stride = n + 4 * c + 32;
    uint8_t *planes[5];
    for (int i = 0; i < 5; i++) planes[i] = scratch + (size_t)i * stride;
    uint8_t tail[5][32], last[32];
    for (size_t y = 0; y < outRows; y++) {
        /* Sorted columns into the planes, two replicated pixels each side. */
        for (size_t j = 0; j < n; j += 32) {
            __m256i v[5];
            for (int k = 0; k < 5; k++) {
                const uint8_t *p = rows[y + (size_t)k] + j;
                if (j + 32 > n) { memset(tail[k], 0, 32); memcpy(tail[k], p, n - j); p = tail[k]; }
                v[k] = _mm256_loadu_si256((const __m256i *)p);
            }
            SORT5(v[0], v[1], v[2], v[3], v[4]);
            for (int k = 0; k < 5; k++) _mm256_storeu_si256((__m256i *)(planes[k] + 2 * c + j), v[k]);
        }
        for (int k = 0; k < 5; k++) {
            uint8_t *p = planes[k];
            for (size_t e = 0; e < 2; e++) {
                memcpy(p + e * c, p + 2 * c, c);
                memcpy(p + 2 * c + n + e * c, p + n + c, c);
            }
        }
        uint8_t *o = out + y * n;
        size_t j = 0;
        for (; j + 32 <= n; j += 32) _mm256_storeu_si256((__m256i *)(o + j), median25((const uint8_t *const *)planes, j, c));
        if (j < n) {
            _mm256_storeu_si256((__m256i *)last, median25((const uint8_t *const *)planes, j, c));
            memcpy(o + j, last, n - j);
        }
    }
}

#undef SORT5
#undef CS

#endif

/*
 * Larger windows: the constant-time histogram median of ImageFilters' MedianKernel (Perreault
 * and Hebert), the same sweep in the same order, with each 16-bin histogram (16-bit counts)
 * in one AVX2 register and the bin searches done by a vector prefix sum and a compare instead
 * of a branchy scalar walk. See SmoothingMedian.swift for the algorithm's description.
 */
#if defined(__x86_64__)

typedef struct {
    size_t width, c, radius, rank;
    size_t x0, x1;          /* the strip's output columns */
    size_t h0, h1;          /* columns with a histogram: the strip widened by the radius, clamped */
    uint16_t *coarse, *fine;
} median_strip;

static inline size_t column(const median_strip *s, ptrdiff_t x, size_t ch) {
    ptrdiff_t last = (ptrdiff_t)s->width - 1;
    size_t cx = (size_t)(x < 0 ? 0 : x > last ? last : x);
    return (cx - s->h0) * s->c + ch;
}

AVX2 static inline __m256i coarse_at(const median_strip *s, size_t i) {
    return _mm256_loadu_si256((const __m256i *)(s->coarse + i * 16));
}

AVX2 static inline __m256i fine_at(const median_strip *s, size_t i, int bin) {
    return _mm256_loadu_si256((const __m256i *)(s->fine + i * 256 + (size_t)bin * 16));
}

/* The bin of `counts` holding the sample of rank `target` (counting from 0 at bin 0), and in
 * `under` how many samples lie in the bins before it. */
AVX2 static inline int locate(__m256i counts, int target, int *under) {
    __m256i p = counts;
    p = _mm256_add_epi16(p, _mm256_slli_si256(p, 2));
    p = _mm256_add_epi16(p, _mm256_slli_si256(p, 4));
    p = _mm256_add_epi16(p, _mm256_slli_si256(p, 8));
    /* Inclusive prefix sums within each 128-bit lane; carry lane 0's total into lane 1. */
    int low = _mm256_extract_epi16(p, 7);
    p = _mm256_add_epi16(p, _mm256_inserti128_si256(_mm256_setzero_si256(), _mm_set1_epi16((short)low), 1));
    unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi16(p, _mm256_set1_epi16((short)target)));
    int bin = __builtin_ctz(mask) / 2;
    uint16_t prefix[16];
    _mm256_storeu_si256((__m256i *)prefix, p);
    *under = bin ? prefix[bin - 1] : 0;
    return bin;
}

static void fill_columns(median_strip *s, const uint8_t *const *rows) {
    const size_t count = (s->h1 - s->h0) * s->c, skip = s->h0 * s->c;
    for (size_t k = 0; k <= 2 * s->radius; k++) {
        const uint8_t *p = rows[k] + skip;
        for (size_t i = 0; i < count; i++) {
            s->coarse[i * 16 + (p[i] >> 4)]++;
            s->fine[i * 256 + p[i]]++;
        }
    }
}

static void move_columns(median_strip *s, const uint8_t *leaving, const uint8_t *entering) {
    const size_t count = (s->h1 - s->h0) * s->c, skip = s->h0 * s->c;
    leaving += skip; entering += skip;
    for (size_t i = 0; i < count; i++) {
        uint8_t old = leaving[i], new = entering[i];
        if (old == new) continue;
        s->coarse[i * 16 + (old >> 4)]--; s->fine[i * 256 + old]--;
        s->coarse[i * 16 + (new >> 4)]++; s->fine[i * 256 + new]++;
    }
}

AVX2 static void filter_row(const median_strip *s, uint8_t *out) {
    const ptrdiff_t r = (ptrdiff_t)s->radius;
    __m256i windowFine[16];
    ptrdiff_t synced[16];
    for (size_t ch = 0; ch < s->c; ch++) {
        __m256i windowCoarse = _mm256_setzero_si256();
        for (ptrdiff_t dx = -r; dx <= r; dx++)
            windowCoarse = _mm256_add_epi16(windowCoarse, coarse_at(s, column(s, (ptrdiff_t)s->x0 + dx, ch)));
        for (int b = 0; b < 16; b++) synced[b] = PTRDIFF_MIN;
        for (ptrdiff_t x = (ptrdiff_t)s->x0; x < (ptrdiff_t)s->x1; x++) {
            if (x > (ptrdiff_t)s->x0) {
                windowCoarse = _mm256_add_epi16(windowCoarse, coarse_at(s, column(s, x + r, ch)));
                windowCoarse = _mm256_sub_epi16(windowCoarse, coarse_at(s, column(s, x - r - 1, ch)));
            }
            int below;
            int bin = locate(windowCoarse, (int)s->rank, &below);
            ptrdiff_t last = synced[bin];
            if (last != PTRDIFF_MIN && (x - last) * 2 <= 2 * r + 1) {
                __m256i wf = windowFine[bin];
                for (ptrdiff_t x2 = last + 1; x2 <= x; x2++) {
                    wf = _mm256_add_epi16(wf, fine_at(s, column(s, x2 + r, ch), bin));
                    wf = _mm256_sub_epi16(wf, fine_at(s, column(s, x2 - r - 1, ch), bin));
                }
                windowFine[bin] = wf;
            } else {
                __m256i sum = _mm256_setzero_si256();
                for (ptrdiff_t dx = -r; dx <= r; dx++) sum = _mm256_add_epi16(sum, fine_at(s, column(s, x + dx, ch), bin));
                windowFine[bin] = sum;
            }
            synced[bin] = x;
            int unused;
            int value = locate(windowFine[bin], (int)s->rank - below, &unused);
            out[(size_t)x * s->c + ch] = (uint8_t)(bin * 16 + value);
        }
    }
}

AVX2 void ck_median_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels, int radius,
                         uint8_t *out, uint16_t *coarse, uint16_t *fine, size_t stripWidth) {
    const size_t c = (size_t)channels, r = (size_t)radius, size = 2 * r + 1, n = width * c;
    for (size_t x0 = 0; x0 < width; x0 += stripWidth) {
        median_strip s = {
            .width = width, .c = c, .radius = r, .rank = (size * size - 1) / 2,
            .x0 = x0, .x1 = x0 + stripWidth < width ? x0 + stripWidth : width,
            .coarse = coarse, .fine = fine,
        };
        s.h0 = x0 > r ? x0 - r : 0;
        s.h1 = s.x1 + r < width ? s.x1 + r : width;
        memset(coarse, 0, (s.h1 - s.h0) * c * 16 * sizeof(uint16_t));
        memset(fine, 0, (s.h1 - s.h0) * c * 256 * sizeof(uint16_t));
        for (size_t y = 0; y < outRows; y++) {
            if (y == 0) fill_columns(&s, rows);
            else move_columns(&s, rows[y - 1], rows[y + 2 * r]);
            filter_row(&s, out + y * n);
        }
    }
}

#endif
