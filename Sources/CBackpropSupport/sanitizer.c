// Happens-before annotations for ThreadSanitizer; empty functions in a build without it.
#include "CBackpropSupport.h"

#if defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define BP_TSAN 1
#  endif
#endif
#if defined(__SANITIZE_THREAD__)
#  define BP_TSAN 1
#endif

#ifdef BP_TSAN
#include <sanitizer/tsan_interface.h>
void bp_sanitizer_acquire(const void *address) { __tsan_acquire((void *)address); }
void bp_sanitizer_release(const void *address) { __tsan_release((void *)address); }
#else
void bp_sanitizer_acquire(const void *address) { (void)address; }
void bp_sanitizer_release(const void *address) { (void)address; }
#endif
