#include "CBackpropSupport.h"

#if defined(__x86_64__) || defined(__i386__)
int bp_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl");
}
int bp_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("bmi2");
}
#else
int bp_cpu_has_avx512(void) { return 0; }
int bp_cpu_has_avx2_fma(void) { return 0; }
#endif
