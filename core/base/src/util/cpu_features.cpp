#include "mlq/util/cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace mlq {

bool cpu_has_native_bfloat16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || eax < 1) return false;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  const bool avx512_bf16 = (eax >> 5) & 1u;
  // The compiler's check of AVX-512F includes the operating system's support (XCR0).
  return avx512_bf16 && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

}  // namespace mlq
