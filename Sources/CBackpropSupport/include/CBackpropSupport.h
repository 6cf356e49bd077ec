#ifndef CBACKPROP_SUPPORT_H
#define CBACKPROP_SUPPORT_H
#include <stddef.h>

/// 1 when the CPU and OS support AVX-512 F/CD/BW/DQ/VL (the "skylake-avx512" set), else 0.
int bp_cpu_has_avx512(void);
/// 1 when the CPU and OS support AVX2 and FMA3 (the "haswell" set), else 0.
int bp_cpu_has_avx2_fma(void);
// ---- NUMA placement and thread affinity (numa.c) ----

/// The libnuma entry points Backprop uses, resolved at run time by `bp_numa_load`.
typedef struct bp_numa_functions {
    int (*available)(void);
    int (*max_node)(void);
    int (*num_configured_cpus)(void);
    int (*node_of_cpu)(int cpu);
    int (*distance)(int from, int to);
    long long (*node_size64)(int node, long long *free_bytes);
} bp_numa_functions;

/// dlopen(`soname`) and resolves `out`'s functions. Returns 0 on success; -1 when the library
/// cannot be loaded (`message` gets dlerror()); -2 when a symbol is missing (`message` names it).
int bp_numa_load(const char *soname, bp_numa_functions *out, char *message, size_t capacity);

/// Memory policies of `bp_numa_bind` (mbind(2) modes).
enum { BP_NUMA_POLICY_DEFAULT = 0, BP_NUMA_POLICY_PREFERRED = 1, BP_NUMA_POLICY_BIND = 2,
       BP_NUMA_POLICY_INTERLEAVE = 3 };
/// The size of a memory page in bytes.
size_t bp_page_size(void);
/// `bytes` of page-aligned, zero-filled anonymous memory (mmap), or NULL.
void *bp_numa_map(size_t bytes);
/// Asks the kernel to back [address, address + bytes) (page-aligned) with transparent huge
/// pages: madvise(2) MADV_HUGEPAGE. Returns 0 or −errno (−ENOSYS where there is no such advice).
int bp_advise_huge_pages(void *address, size_t bytes);
/// Unmaps what `bp_numa_map(bytes)` returned.
void bp_numa_unmap(void *address, size_t bytes);
/// mbind(2) of the pages of [address, address + bytes) (address page-aligned) to `nodes`.
/// Returns 0 or −errno.
int bp_numa_bind(void *address, size_t bytes, int policy, const int *nodes, int count);
/// The node of each page overlapping [address, address + bytes), by move_pages(2) with
/// nodes = NULL: status[i] is a node or −errno for page i (−ENOENT: not yet touched).
/// Returns the number of pages, or −errno (−ENOSPC when `capacity` is too small).
int bp_numa_page_nodes(const void *address, size_t bytes, int *status, size_t capacity);
/// The node of the page holding `address` (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR), or −errno.
int bp_numa_node_of_address(const void *address);
/// The memory policy governing `address` (get_mempolicy MPOL_F_ADDR): a BP_NUMA_POLICY_ value
/// (100 + the kernel's mode for others) with its nodes in `nodes` (`longs` words), or −errno.
int bp_numa_policy_of_address(const void *address, unsigned long *nodes, size_t longs);

/// A thread CPU mask sized for this machine's kernel.
typedef struct bp_affinity bp_affinity;
/// A mask holding the calling thread's current affinity, or NULL.
bp_affinity *bp_affinity_create(void);
void bp_affinity_destroy(bp_affinity *affinity);
/// Stores the calling thread's affinity in `affinity`. 0 or −1.
int bp_affinity_save(bp_affinity *affinity);
/// Sets the calling thread's affinity to `affinity`. 0 or −1.
int bp_affinity_restore(const bp_affinity *affinity);
/// Pins the calling thread to `cpus`, using `scratch` (overwritten) as the mask. 0 or −1.
int bp_affinity_pin(bp_affinity *scratch, const int *cpus, int count);
/// Writes up to `capacity` CPUs of `affinity` to `cpus`; returns how many it holds.
int bp_affinity_cpus(const bp_affinity *affinity, int *cpus, int capacity);
/// The CPU the calling thread runs on (sched_getcpu), or −1.
int bp_current_cpu(void);

// ---- ThreadSanitizer annotations (sanitizer.c) ----

/// Tells ThreadSanitizer that the calling thread now sees everything done before the last
/// `bp_sanitizer_release(address)`, by any thread. Does nothing in a build without TSan.
void bp_sanitizer_acquire(const void *address);
/// Publishes the calling thread's writes so far to a later `bp_sanitizer_acquire(address)`.
/// Does nothing in a build without TSan.
void bp_sanitizer_release(const void *address);

#endif
