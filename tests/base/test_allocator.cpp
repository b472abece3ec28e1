#include <doctest/doctest.h>
#include <malloc.h>

#include <cstring>
#include <memory>

#include "mlq/util/allocator.hpp"

TEST_CASE("after tuning, even a 64 MB block comes from the heap, not a mapping of its own") {
  mlq::tune_allocator_for_training();
  const size_t mapped_before = mallinfo2().hblkhd;
  constexpr size_t kSize = size_t{64} << 20;  // over glibc's largest mmap threshold (32 MB)
  std::unique_ptr<char[]> block(new char[kSize]);
  std::memset(block.get(), 1, kSize);
  CHECK(mallinfo2().hblkhd == mapped_before);  // bytes in mmapped blocks: unchanged
  CHECK(mallinfo2().arena >= kSize);           // the heap holds it
}
