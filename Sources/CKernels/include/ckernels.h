#ifndef CKERNELS_H
#define CKERNELS_H

/*
 * CKernels: bandsaw's vector kernels, chosen at run time.
 *
 * ImageCore's Swift kernels are the portable path and the reference: every function here must
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

/** 255 where the luma (channel 0 for 1 or 2 channels) is >= `level`, else 0. */
void ck_threshold_avx2(const uint8_t *src, uint8_t *dst, size_t pixels, int channels, int level);

#endif

#endif
