#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mlq/util/log.hpp"
#include "support/captured_output.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"

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
  const std::string out = mlq::test::output_of(2, scratch / "stderr.txt", [&] {
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
