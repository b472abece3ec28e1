#include "mlq/util/allocator.hpp"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mlq {

void tune_allocator_for_training() {
#if defined(__GLIBC__)
  if (std::getenv("MLQ_MALLOC_DEFAULTS")) return;
  constexpr int kMiB = 1 << 20;
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 * kMiB);  // glibc's largest; bigger blocks are still mapped...
  mallopt(M_MMAP_MAX, 0);                // ...unless mapping is off: then they come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // hand memory back only above 1 GiB of free heap top
#endif
}

}  // namespace mlq
