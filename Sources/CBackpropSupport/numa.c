// NUMA and thread-affinity helpers for Backprop's placement code (Sources/Backprop/NUMA).
//
// libnuma is loaded at RUN TIME with dlopen("libnuma.so.1"), never linked: a link-time
// dependency would make every program using Backprop fail to start (the dynamic loader
// refuses to run it) on a machine without the libnuma1 package, although Backprop works
// there with uniform placement. Only the topology queries come from libnuma; memory policy
// (mbind), page queries (move_pages, get_mempolicy) and affinity are plain system calls and
// libc functions, so they need no libnuma header at build time (<linux/mempolicy.h> comes
// with the kernel headers every glibc development setup has).
#include "CBackpropSupport.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

// MARK: - libnuma

static void copy_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    if (text == NULL) text = "";
    size_t n = strlen(text);
    if (n >= capacity) n = capacity - 1;
    memcpy(message, text, n);
    message[n] = 0;
}

int bp_numa_load(const char *soname, bp_numa_functions *out, char *message, size_t capacity) {
    memset(out, 0, sizeof *out);
    copy_message(message, capacity, "");
    // RTLD_LOCAL: libnuma's symbols stay out of the global namespace. The handle is never
    // closed, so the function pointers stay valid for the life of the process.
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        copy_message(message, capacity, dlerror());
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"numa_available", (void **)&out->available},
        {"numa_max_node", (void **)&out->max_node},
        {"numa_num_configured_cpus", (void **)&out->num_configured_cpus},
        {"numa_node_of_cpu", (void **)&out->node_of_cpu},
        {"numa_distance", (void **)&out->distance},
        {"numa_node_size64", (void **)&out->node_size64},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *address = dlsym(handle, symbols[i].name);
        if (address == NULL) {
            copy_message(message, capacity, symbols[i].name);
            memset(out, 0, sizeof *out);
            return -2;
        }
        *symbols[i].slot = address;
    }
    return 0;
}

// MARK: - Memory

size_t bp_page_size(void) {
    long size = sysconf(_SC_PAGESIZE);
    return size > 0 ? (size_t)size : 4096;
}

void *bp_numa_map(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int bp_advise_huge_pages(void *address, size_t bytes) {
#ifdef MADV_HUGEPAGE
    return madvise(address, bytes, MADV_HUGEPAGE) == 0 ? 0 : -errno;
#else
    (void)address; (void)bytes;
    return -ENOSYS;
#endif
}

void bp_numa_unmap(void *address, size_t bytes) {
    if (address != NULL) munmap(address, bytes == 0 ? 1 : bytes);
}

int bp_numa_bind(void *address, size_t bytes, int policy, const int *nodes, int count) {
    int mode;
    switch (policy) {
    case BP_NUMA_POLICY_DEFAULT: mode = MPOL_DEFAULT; break;
    case BP_NUMA_POLICY_PREFERRED: mode = MPOL_PREFERRED; break;
    case BP_NUMA_POLICY_BIND: mode = MPOL_BIND; break;
    case BP_NUMA_POLICY_INTERLEAVE: mode = MPOL_INTERLEAVE; break;
    default: return -EINVAL;
    }
    int highest = -1;
    for (int i = 0; i < count; i++) {
        if (nodes[i] < 0 || nodes[i] >= 1 << 16) return -EINVAL;
        if (nodes[i] > highest) highest = nodes[i];
    }
    const size_t bits = 8 * sizeof(unsigned long);
    size_t longs = highest < 0 ? 1 : (size_t)highest / bits + 1;
    unsigned long stack[16];
    unsigned long *mask = longs <= 16 ? stack : calloc(longs, sizeof(unsigned long));
    if (mask == NULL) return -ENOMEM;
    memset(mask, 0, longs * sizeof(unsigned long));
    for (int i = 0; i < count; i++) mask[(size_t)nodes[i] / bits] |= 1UL << ((size_t)nodes[i] % bits);
    // The kernel reads maxnode − 1 bits; libnuma passes one more than its mask size too.
    long r = syscall(SYS_mbind, address, bytes, mode, mode == MPOL_DEFAULT ? NULL : mask,
                     mode == MPOL_DEFAULT ? 0UL : (unsigned long)(longs * bits + 1), 0U);
    int error = r == 0 ? 0 : -errno;
    if (mask != stack) free(mask);
    return error;
}

int bp_numa_page_nodes(const void *address, size_t bytes, int *status, size_t capacity) {
    size_t page = bp_page_size();
    uintptr_t first = (uintptr_t)address & ~(uintptr_t)(page - 1);
    uintptr_t end = (uintptr_t)address + (bytes == 0 ? 1 : bytes);
    size_t count = (end - first + page - 1) / page;
    if (count > capacity) return -ENOSPC;
    void **pages = malloc(count * sizeof(void *));
    if (pages == NULL) return -ENOMEM;
    for (size_t i = 0; i < count; i++) pages[i] = (void *)(first + i * page);
    // nodes == NULL: move_pages(2) moves nothing and reports each page's node in status
    // (or −ENOENT for a page not yet faulted in, −EFAULT for an unmapped one).
    long r = syscall(SYS_move_pages, 0, (unsigned long)count, pages, NULL, status, 0);
    int error = r < 0 ? -errno : 0;
    free(pages);
    return error < 0 ? error : (int)count;
}

int bp_numa_node_of_address(const void *address) {
    int node = -1;
    long r = syscall(SYS_get_mempolicy, &node, NULL, 0UL, address, (unsigned long)(MPOL_F_NODE | MPOL_F_ADDR));
    return r == 0 ? node : -errno;
}

int bp_numa_policy_of_address(const void *address, unsigned long *nodes, size_t longs) {
    int mode = -1;
    memset(nodes, 0, longs * sizeof(unsigned long));
    long r = syscall(SYS_get_mempolicy, &mode, nodes, (unsigned long)(longs * 8 * sizeof(unsigned long)), address,
                     (unsigned long)MPOL_F_ADDR);
    if (r != 0) return -errno;
    switch (mode) {
    case MPOL_DEFAULT: return BP_NUMA_POLICY_DEFAULT;
    case MPOL_PREFERRED: return BP_NUMA_POLICY_PREFERRED;
    case MPOL_BIND: return BP_NUMA_POLICY_BIND;
    case MPOL_INTERLEAVE: return BP_NUMA_POLICY_INTERLEAVE;
    default: return 100 + mode;
    }
}

// MARK: - Thread affinity

struct bp_affinity {
    size_t bytes;
    cpu_set_t *set;
};

bp_affinity *bp_affinity_create(void) {
    long configured = sysconf(_SC_NPROCESSORS_CONF);
    size_t cpus = configured > CPU_SETSIZE ? (size_t)configured : CPU_SETSIZE;
    // The kernel refuses a mask smaller than its own (EINVAL): grow until it is accepted.
    for (; cpus <= (1u << 20); cpus *= 2) {
        size_t bytes = CPU_ALLOC_SIZE(cpus);
        cpu_set_t *set = CPU_ALLOC(cpus);
        if (set == NULL) return NULL;
        CPU_ZERO_S(bytes, set);
        if (sched_getaffinity(0, bytes, set) == 0) {
            bp_affinity *affinity = malloc(sizeof *affinity);
            if (affinity == NULL) { CPU_FREE(set); return NULL; }
            affinity->bytes = bytes;
            affinity->set = set;
            return affinity;
        }
        CPU_FREE(set);
        if (errno != EINVAL) return NULL;
    }
    return NULL;
}

void bp_affinity_destroy(bp_affinity *affinity) {
    if (affinity == NULL) return;
    CPU_FREE(affinity->set);
    free(affinity);
}

int bp_affinity_save(bp_affinity *affinity) {
    return pthread_getaffinity_np(pthread_self(), affinity->bytes, affinity->set) == 0 ? 0 : -1;
}

int bp_affinity_restore(const bp_affinity *affinity) {
    return pthread_setaffinity_np(pthread_self(), affinity->bytes, affinity->set) == 0 ? 0 : -1;
}

int bp_affinity_pin(bp_affinity *scratch, const int *cpus, int count) {
    CPU_ZERO_S(scratch->bytes, scratch->set);
    int added = 0;
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && (size_t)cpus[i] < 8 * scratch->bytes) {
            CPU_SET_S((size_t)cpus[i], scratch->bytes, scratch->set);
            added++;
        }
    }
    if (added == 0) return -1;
    return pthread_setaffinity_np(pthread_self(), scratch->bytes, scratch->set) == 0 ? 0 : -1;
}

int bp_affinity_cpus(const bp_affinity *affinity, int *cpus, int capacity) {
    int n = 0;
    size_t limit = 8 * affinity->bytes;
    for (size_t cpu = 0; cpu < limit; cpu++) {
        if (CPU_ISSET_S(cpu, affinity->bytes, affinity->set)) {
            if (n < capacity) cpus[n] = (int)cpu;
            n++;
        }
    }
    return n;
}

int bp_current_cpu(void) {
    return sched_getcpu();
}
