#pragma once
// What the kernel's page cache holds of a file.
#include <cstddef>
#include <filesystem>

namespace mlq::test {

// Bytes of the file at `path` in the page cache, in whole pages (mincore over a mapping).
size_t cached_bytes(const std::filesystem::path& path);
// Whether a test can watch files in `directory` enter and leave the page cache: a plain write
// stays there whole. Not on tmpfs (the cache is the file itself) nor on filesystems with a cache
// of their own (ZFS).
bool page_cache_observable(const std::filesystem::path& directory);

}  // namespace mlq::test
