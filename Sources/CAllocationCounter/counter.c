// Counts heap allocations by interposing the C allocator: each entry point counts, then
// forwards to the allocator that would otherwise have run. Linking this target into an
// executable replaces malloc for the whole process, which is why only tests and mlp-bench
// link it.
//  - plain build: forwards to glibc's __libc_* implementation.
//  - under AddressSanitizer or ThreadSanitizer (`swift build --sanitize=...` compiles C targets
//    with -fsanitize too): forwards to the sanitizer's interceptors, `__interceptor_malloc` and
//    so on (the runtime's documented way to wrap an interceptor: its `malloc` is a weak alias
//    of `__interceptor_malloc`). Forwarding to glibc there would bypass the sanitizer's
//    allocator: ASan would check no heap access, and TSan, not told that freed memory is new,
//    would report races between unrelated owners of a reused block. (The sanitizers' malloc
//    hooks are no substitute: TSan calls them for malloc but not for posix_memalign.)
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

// No sanitizer instrumentation in this file, atomics included: the allocator runs before
// the sanitizer's runtime has set up the calling thread (dlsym calls malloc while TSan
// installs its interceptors), where an instrumented function entry or atomic would crash.
#if defined(__has_attribute)
#  if __has_attribute(disable_sanitizer_instrumentation)
#    define BP_UNINSTRUMENTED __attribute__((disable_sanitizer_instrumentation))
#  endif
#endif
#ifndef BP_UNINSTRUMENTED
#  define BP_UNINSTRUMENTED
#endif

static atomic_ullong count;
static atomic_int counting;

BP_UNINSTRUMENTED static inline void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

BP_UNINSTRUMENTED unsigned long long bp_allocation_count(void) { return atomic_load(&count); }
BP_UNINSTRUMENTED void bp_allocation_counting(int on) { atomic_store(&counting, on != 0); }

#ifdef BP_SANITIZED
extern void *__interceptor_malloc(size_t);
extern void *__interceptor_calloc(size_t, size_t);
extern void *__interceptor_realloc(void *, size_t);
extern void *__interceptor_memalign(size_t, size_t);
extern void *__interceptor_aligned_alloc(size_t, size_t);
extern int __interceptor_posix_memalign(void **, size_t, size_t);
extern void __interceptor_free(void *);

BP_UNINSTRUMENTED void *malloc(size_t n) { note(); return __interceptor_malloc(n); }
BP_UNINSTRUMENTED void *calloc(size_t a, size_t b) { note(); return __interceptor_calloc(a, b); }
BP_UNINSTRUMENTED void *realloc(void *p, size_t n) { note(); return __interceptor_realloc(p, n); }
BP_UNINSTRUMENTED void free(void *p) { __interceptor_free(p); }
BP_UNINSTRUMENTED void *memalign(size_t al, size_t n) { note(); return __interceptor_memalign(al, n); }
BP_UNINSTRUMENTED void *aligned_alloc(size_t al, size_t n) { note(); return __interceptor_aligned_alloc(al, n); }
BP_UNINSTRUMENTED int posix_memalign(void **out, size_t al, size_t n) { note(); return __interceptor_posix_memalign(out, al, n); }
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

BP_UNINSTRUMENTED void *malloc(size_t n) { note(); return __libc_malloc(n); }
BP_UNINSTRUMENTED void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
BP_UNINSTRUMENTED void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
BP_UNINSTRUMENTED void free(void *p) { __libc_free(p); }
BP_UNINSTRUMENTED void *memalign(size_t al, size_t n) { note(); return __libc_memalign(al, n); }
BP_UNINSTRUMENTED void *aligned_alloc(size_t al, size_t n) { note(); return __libc_memalign(al, n); }
BP_UNINSTRUMENTED int posix_memalign(void **out, size_t al, size_t n) {
    note();
    if (al < sizeof(void *) || (al & (al - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(al, n);
    if (p == NULL && n != 0) return ENOMEM;
    *out = p;
    return 0;
}
#endif
