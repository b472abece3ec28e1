#include "mlq/log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

namespace mlq::log {
namespace {

std::mutex mutex;
std::ofstream file;
std::filesystem::path file_path;

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
}

void write(std::string_view level, std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex);
  if (level == "INFO")
    std::cerr << message << '\n';
  else
    std::cerr << (level == "WARN" ? "warning: " : "error: ") << message << '\n';
  if (!file.is_open()) return;
  file << '[' << timestamp() << "] " << level << ' ' << message << std::endl;
  if (!file) {  // a full disk: said once, then the log goes on to standard error alone
    const int error = errno;
    file.close();
    std::cerr << "warning: " << file_path.string() << ": cannot write: " << std::strerror(error)
              << "; logging to standard error only\n";
  }
}

}  // namespace mlq::log
