#pragma once
// What the kernel's page cache holds of a file.
#include <cstddef>
#include <filesystem>

namespace mlq::test {

// Bytes of the file at `path` in the page cache, in whole pages (mincore over a mapping).
size_t cached_bytes(const std::filesystem::path& path);
// Whether `directory` is on tmpfs, where the page cache is the file itself and never drops it.
bool on_tmpfs(const std::filesystem::path& directory);

}  // namespace mlq::test
