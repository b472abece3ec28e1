#include "mlq/files.hpp"

#include <unistd.h>

#include <fstream>

#include "mlq/error.hpp"

namespace mlq {
namespace fs = std::filesystem;

void replace_file_atomic(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path temporary = path;
  temporary += ".tmp-" + std::to_string(getpid());
  try {
    write(temporary);
    fs::rename(temporary, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  replace_file_atomic(path, [&](const fs::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) throw UserError(path.string() + ": cannot write file");
  });
}

}  // namespace mlq
