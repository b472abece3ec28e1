#include "mlq/log.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

namespace mlq::log {
namespace {

std::mutex mutex;
std::ofstream file;

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
  if (!path.empty()) file.open(path, std::ios::app);
}

void write(std::string_view level, std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex);
  if (level == "INFO")
    std::cerr << message << '\n';
  else
    std::cerr << (level == "WARN" ? "warning: " : "error: ") << message << '\n';
  if (file.is_open()) file << '[' << timestamp() << "] " << level << ' ' << message << std::endl;
}

}  // namespace mlq::log
