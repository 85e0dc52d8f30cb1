#include "ckernels.h"

int ck_cpu_has_avx2(void) {
#if defined(__x86_64__)
    /* __builtin_cpu_supports reads CPUID once (libgcc/compiler-rt initialise it) and, for
     * AVX2, also checks that the OS saves the YMM registers (XGETBV). */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}
