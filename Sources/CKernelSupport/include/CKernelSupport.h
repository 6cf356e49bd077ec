// What the GEMM kernels need from C and Swift cannot say: cache prefetch hints.
#ifndef C_KERNEL_SUPPORT_H
#define C_KERNEL_SUPPORT_H

/// Hints the CPU to bring the cache line holding `p` into L1 for writing (`prefetcht0`, or
/// `prefetchw` where the target has it). Never faults: `p` may be any address.
static inline __attribute__((always_inline)) void backprop_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

/// Hints the CPU to bring the cache line holding `p` into the caches for reading
/// (`prefetcht0`). Never faults.
static inline __attribute__((always_inline)) void backprop_prefetch_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
