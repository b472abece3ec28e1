#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/write_behind.hpp"
#include "support/page_cache.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// 1 MiB chunks numbered by their first byte.
std::string chunk(size_t index) {
  return std::string(kMiB, static_cast<char>('a' + index % 26));
}

}  // namespace

TEST_CASE("a file written behind leaves the page cache a chunk behind, one written plainly stays") {
  mlq::test::TempDir dir;
  const int chunks = 8;
  std::string expected;
  for (int i = 0; i < chunks; ++i) expected += chunk(i);
  if (!mlq::test::page_cache_observable(dir.path())) {
    MESSAGE("skipped: the test directory's filesystem keeps its own cache (tmpfs, ZFS)");
    return;
  }
  const auto behind = dir / "behind.bin";
  const int fd = ::open(behind.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  mlq::WriteBehind write_behind(fd);
  for (int i = 0; i < chunks; ++i) {
    REQUIRE(::write(fd, expected.data() + i * kMiB, kMiB) == static_cast<ssize_t>(kMiB));
    CHECK(write_behind.written(i * kMiB, (i + 1) * kMiB) == 0);
    if (i == 3) CHECK(mlq::test::cached_bytes(behind) <= kMiB);  // the chunk just written
  }
  CHECK(write_behind.finish() == 0);
  ::close(fd);
  CHECK(mlq::test::cached_bytes(behind) == 0);
  CHECK(mlq::test::read_file(behind) == expected);

  const auto plain = dir / "plain.bin";
  mlq::test::write_file(plain, expected);
  CHECK(mlq::test::cached_bytes(plain) == expected.size());
}

TEST_CASE("write-behind takes files without a page cache as they are and reports real failures") {
  int pipe_ends[2];
  REQUIRE(pipe(pipe_ends) == 0);
  mlq::WriteBehind on_pipe(pipe_ends[1]);
  CHECK(::write(pipe_ends[1], "abc", 3) == 3);
  CHECK(on_pipe.written(0, 3) == 0);
  CHECK(on_pipe.finish() == 0);
  ::close(pipe_ends[0]);
  ::close(pipe_ends[1]);

  mlq::WriteBehind no_file(-1);
  CHECK(no_file.written(0, 3) == EBADF);
  CHECK(no_file.finish() == EBADF);
}

TEST_CASE("appends on a full disk are whole or absent, with the file and the reason named") {
  mlq::test::SmallFilesystem disk(32 << 10);
  MLQ_REQUIRE_MOUNTED(disk);
  const std::filesystem::path csv = disk / "metrics.csv";
  const std::string line = "12,val_loss,0.25,1700000000.000\n";
  std::string error;
  size_t lines = 0;
  try {
    for (; lines < 100000; ++lines) mlq::append_file(csv, line + line + line);
  } catch (const mlq::UserError& e) {
    error = e.what();
  }
  CHECK(error == csv.string() + ": cannot write: No space left on device");
  CHECK(std::filesystem::file_size(csv) == lines * 3 * line.size());  // no torn record
}
