#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mlq/util/log.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"

namespace {

// What `body` writes to standard error (fd 2), captured through a file.
template <class Body>
std::string stderr_of(const std::filesystem::path& capture, Body&& body) {
  std::fflush(stderr);
  const int saved = dup(2);
  std::FILE* file = std::fopen(capture.c_str(), "w");
  REQUIRE(file);
  dup2(fileno(file), 2);
  body();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::fclose(file);
  return mlq::test::read_file(capture);
}

}  // namespace

TEST_CASE("a run log on a full disk says so once, and logging goes on to standard error") {
  mlq::test::SmallFilesystem disk(16 << 10);
  MLQ_REQUIRE_MOUNTED(disk);
  mlq::test::TempDir scratch;
  const std::filesystem::path log_file = disk / "run.log";
  mlq::log::to_file(log_file);
  {
    std::ofstream filler(disk / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  const std::string long_line(20000, 'a');
  const std::string out = stderr_of(scratch / "stderr.txt", [&] {
    mlq::log::info("{}", long_line);
    mlq::log::info("step 2");
    mlq::log::info("step 3");
  });
  mlq::log::to_file({});
  const std::string warning =
      "warning: " + log_file.string() +
      ": cannot write: No space left on device; logging to standard error only\n";
  CHECK(out.find(warning) != std::string::npos);
  CHECK(out.find(warning) == out.rfind(warning));  // once
  CHECK(out.find("step 3\n") != std::string::npos);
}
