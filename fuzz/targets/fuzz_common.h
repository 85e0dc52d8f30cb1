/*
 * Shared by the C fuzz targets: a bounded pixel limit (the fuzzer should spend its time in
 * the parsers, not in decoding gigapixel claims) and an oracle failure that libFuzzer
 * reports as a crash, with the reason on stderr.
 */
#ifndef BANDSAW_FUZZ_COMMON_H
#define BANDSAW_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 2^20 pixels: every fixture fits, and a mutated header cannot make one run take seconds. */
#define FUZZ_MAX_PIXELS ((uint64_t)1 << 20)

/* An oracle disagreed: abort, so libFuzzer saves the input as a crash. */
#define FUZZ_ORACLE(cond, ...)                                       \
    do {                                                             \
        if (!(cond)) {                                               \
            fprintf(stderr, "oracle failed: " __VA_ARGS__);          \
            fputc('\n', stderr);                                     \
            abort();                                                 \
        }                                                            \
    } while (0)

#endif
