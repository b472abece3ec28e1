#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace mlq {

// A whole file's bytes; one-line UserError "<path>: cannot read: <reason>" if it cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);

// Writes `content` to a temporary file beside `path`, then renames it over `path`, so readers
// and crashes never see a half-written file.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
// 64-bit FNV-1a of a file's bytes, as 16 hex digits (read in 1 MiB chunks).
std::string file_checksum(const std::filesystem::path& path);
// The same for writers that need a path: `write` fills the temporary file it is given.
void replace_file_atomic(const std::filesystem::path& path,
                         const std::function<void(const std::filesystem::path&)>& write);

}  // namespace mlq
