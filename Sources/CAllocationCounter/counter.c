// Counts heap allocations. Two ways, chosen at compile time:
//  - plain build: interposes the C allocator of glibc: each entry point counts, then forwards
//    to the __libc_* implementation. Linking this target into an executable replaces malloc
//    for the whole process, which is why only tests and mlp-bench link it.
//  - under AddressSanitizer or ThreadSanitizer (`swift build --sanitize=...`, which compiles
//    C targets with -fsanitize too): the sanitizer's own malloc must stay in place (it is
//    what finds heap errors, and what tells TSan that freed memory is new memory), so
//    nothing is interposed; the sanitizer allocator calls a hook on every allocation instead
//    (malloc, calloc, realloc, the memalign family, operator new).
#include "CAllocationCounter.h"
#include <stddef.h>
#include <errno.h>
#include <stdatomic.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define BP_SANITIZED 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define BP_SANITIZED 1
#endif

static atomic_ullong count;
static atomic_int counting;

static inline void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

unsigned long long bp_allocation_count(void) { return atomic_load(&count); }
void bp_allocation_counting(int on) { atomic_store(&counting, on != 0); }

#ifdef BP_SANITIZED
#include <sanitizer/allocator_interface.h>

static void on_malloc(const volatile void *pointer, size_t size) { (void)pointer; (void)size; note(); }
static void on_free(const volatile void *pointer) { (void)pointer; }

// Installed before main (and so before any test turns counting on).
__attribute__((constructor)) static void install_hooks(void) {
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) { note(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { note(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    note();
    if (al < sizeof(void *) || (al & (al - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(al, n);
    if (p == NULL && n != 0) return ENOMEM;
    *out = p;
    return 0;
}
#endif
