#ifndef CBACKPROP_SUPPORT_H
#define CBACKPROP_SUPPORT_H
#include <stddef.h>

/// 1 when the CPU and OS support AVX-512 F/CD/BW/DQ/VL (the "skylake-avx512" set), else 0.
int bp_cpu_has_avx512(void);
/// 1 when the CPU and OS support AVX2 and FMA3 (the "haswell" set), else 0.
int bp_cpu_has_avx2_fma(void);
#endif
