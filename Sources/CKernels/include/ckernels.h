#ifndef CKERNELS_H
#define CKERNELS_H

/*
 * CKernels: bandsaw's vector kernels, chosen at run time.
 *
 * ImageFilters' Swift kernels are the portable path and the reference: every function here must
 * give exactly their bits (the exactness suite compares them on every path this CPU supports).
 * Each `ck_*_avx2` function is compiled for AVX2 through a target attribute on the function
 * alone, so the package builds for baseline x86-64 with no special flags, and a caller must ask
 * `ck_cpu_has_avx2()` before calling one. On other architectures the AVX2 entry points are
 * absent and `ck_cpu_has_avx2()` returns 0.
 *
 * Pixels are 8-bit, interleaved (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA), rows packed.
 */

#include <stddef.h>
#include <stdint.h>

/** 1 when the CPU (and the OS, for the wider registers) supports AVX2, else 0. */
int ck_cpu_has_avx2(void);

#if defined(__x86_64__)

/** 255 - x for every sample of `pixels` pixels; the last channel is copied when
 *  `channels` is 2 or 4 (alpha kept). */
void ck_invert_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels);

/** Luma `(77 R + 150 G + 29 B + 128) >> 8` of `pixels` RGB (3) or RGBA (4) pixels. */
void ck_luma_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels);

/** The same luma as 16-bit integers (for canny). */
void ck_luma16_avx2(const uint8_t *src, int16_t *dst, size_t pixels, int channels);

/** 255 where the luma (channel 0 for 1 or 2 channels) is >= `level`, else 0. */
void ck_threshold_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels, int level);

/** Gaussian pass 1 over one row: `centre` points at column 0 of a row padded with `radius`
 *  replicated pixels each side; `n` samples (width x channels) of stride `c` go to `out`;
 *  `weights[0...radius]` are the half kernel (sum of the full kernel 2^15). */
void ck_gaussian_hpass_avx2(const uint8_t *centre, uint16_t *out, size_t n, size_t c, int radius,
                            const uint16_t *weights);

/** Gaussian pass 2 for one output row: `taps[0 ... 2 radius]` are pass-1 rows (taps[radius]
 *  the row itself); `n` blurred bytes to `out`. */
void ck_gaussian_vrow_avx2(const uint16_t *const *taps, int radius, const uint16_t *weights, size_t n,
                           uint8_t *out);

/** The unsharp mask for one row: pass 2 as above, then combined with the input row `x` and the
 *  strength `amount256` (amount x 256). */
void ck_sharpen_vrow_avx2(const uint16_t *const *taps, int radius, const uint16_t *weights, size_t n,
                          const uint8_t *x, int32_t amount256, uint8_t *out);

/** The box filter for `outRows` output rows of `width` pixels of `c` channels, window side
 *  2 radius + 1. `rows[0 ... outRows + 2 radius - 1]` are the input rows from `radius` above the
 *  first output row to `radius` below the last, already clamped to the image (replicate border).
 *  Scratch: `columnSums` and `total`, (width + 2 radius) c entries each. */
void ck_box_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int c, int radius,
                 uint8_t *out, uint16_t *columnSums, uint32_t *total);

/** The 3 x 3 median of `outRows` rows: `rows[0 ... outRows + 1]` are the input rows from one
 *  above the first output row to one below the last, clamped to the image. Scratch: 6 (width + 2) c. */
void ck_median3_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels,
                     uint8_t *out, uint8_t *scratch);

/** The 5 x 5 median: `rows` as for ck_median3_avx2 but two rows each side. Scratch: 5 ((width + 4) c + 32). */
void ck_median5_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels,
                     uint8_t *out, uint8_t *scratch);

/** The median over (2 radius + 1)^2 windows by column histograms, swept in vertical strips of
 *  `stripWidth` columns; `rows` as for ck_median3_avx2 but `radius` rows each side. Scratch:
 *  `coarse` 16 and `fine` 256 counts per sample of min(width, stripWidth + 2 radius) columns. */
void ck_median_avx2(const uint8_t *const *rows, size_t outRows, size_t width, int channels, int radius,
                    uint8_t *out, uint16_t *coarse, uint16_t *fine, size_t stripWidth);

/** Canny's Sobel step for one row: `a`, `b`, `c` are luma rows above, at and below (column 0;
 *  columns -1 and `width` hold the replicated edge pixels); writes the derivatives `gx`, `gy`
 *  and the magnitude, |gx| + |gy| or, with `l2`, gx^2 + gy^2. */
void ck_canny_sobel_avx2(const int16_t *a, const int16_t *b, const int16_t *c, size_t width,
                         int16_t *gx, int16_t *gy, int32_t *magnitude, int l2);

/** Canny's non-maximum suppression and double threshold for one row: magnitudes of the rows
 *  above, at and below (column 0; columns -1 and `width` hold 0, as do rows outside the image),
 *  the row's derivatives; one state per pixel to `out`: 0 none, 1 weak (above `low`), 2 edge
 *  (above `high`). */
void ck_canny_suppress_avx2(const int32_t *above, const int32_t *at, const int32_t *below,
                            const int16_t *gx, const int16_t *gy, size_t width, int32_t low, int32_t high,
                            uint8_t *out);

#endif

#endif
