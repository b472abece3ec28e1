#include "support/proc_self.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

namespace mlq::test {
namespace {

// The number after `key` in a "key value" file under /proc/self.
long long proc_value(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string word;
  long long value = 0;
  while (in >> word) {
    if (word == key && in >> value) return value;
    in.ignore(1 << 12, '\n');
  }
  FAIL("no ", key, " in ", file);
  return 0;
}

}  // namespace

long resident_file_kb() {
  return static_cast<long>(proc_value("/proc/self/status", "RssFile:"));
}

long long bytes_read() {
  return proc_value("/proc/self/io", "rchar:");
}

}  // namespace mlq::test
