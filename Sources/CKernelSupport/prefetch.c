// The header's functions are static inline; this file gives the target a translation unit.
#include "CKernelSupport.h"
