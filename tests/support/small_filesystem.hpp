#pragma once
#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace mlq::test {

// A tmpfs of `bytes` mounted on a fresh folder, so a test can fill a real disk: writes past its
// size fail with ENOSPC. Mounting needs root (CI runs as root); mounted() says whether it worked,
// and skip_reason() why not.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(size_t bytes);
  ~SmallFilesystem();
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& skip_reason() const { return skip_reason_; }
  const std::filesystem::path& path() const { return dir_.path(); }
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }
  // Bytes still free.
  size_t available() const;

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string skip_reason_;
};

}  // namespace mlq::test

// Ends a test that needs the small filesystem where it cannot be mounted: the test says why
// (ctest reports it skipped) and stops.
#define MLQ_REQUIRE_MOUNTED(disk)  \
  if (!(disk).mounted()) {         \
    MESSAGE((disk).skip_reason()); \
    return;                        \
  }
