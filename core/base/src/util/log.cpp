#include "mlq/util/log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace mlq::log {
namespace {

std::mutex mutex;
std::ofstream file;
std::filesystem::path file_path;
bool holding = false;
std::vector<std::string> held;  // lines for the next file, with their timestamps
constexpr size_t kHeldLines = 4096;

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

}  // namespace

void to_file(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(mutex);
  if (file.is_open()) file.close();
  file.clear();
  file_path = path;
  if (!path.empty()) file.open(path, std::ios::app);
  if (file.is_open())
    for (const std::string& line : held) file << line << '\n';
  file.flush();
  held.clear();
  holding = false;
}

void hold_until_file() {
  std::lock_guard<std::mutex> lock(mutex);
  held.clear();
  holding = true;
}

void write(std::string_view level, std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex);
  // One write per line: ranks of a data-parallel job share the terminal, and a line written in
  // pieces could interleave with another process's.
  const std::string shown = std::string(level == "INFO"   ? ""
                                        : level == "WARN" ? "warning: "
                                                          : "error: ") +
                            std::string(message) + '\n';
  std::cerr.write(shown.data(), static_cast<std::streamsize>(shown.size()));
  const std::string line =
      '[' + timestamp() + "] " + std::string(level) + ' ' + std::string(message);
  if (!file.is_open()) {
    if (holding && held.size() < kHeldLines) held.push_back(line);
    return;
  }
  errno = 0;
  file << line << std::endl;
  if (!file) {  // a full disk: said once, then the log goes on to standard error alone
    const int error = errno;
    file.close();
    std::cerr << "warning: " << file_path.string()
              << ": cannot write: " << (error ? std::strerror(error) : "write failed")
              << "; logging to standard error only\n";
  }
}

}  // namespace mlq::log
