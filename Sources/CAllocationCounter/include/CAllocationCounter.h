#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H
/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// made by any thread of the process while counting was on.
unsigned long long bp_allocation_count(void);
/// Turns counting on (non-zero) or off (0). Off by default; the count is kept across toggles.
void bp_allocation_counting(int on);
#endif
