#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "mlq/error.hpp"
#include "mlq/mapped_file.hpp"
#include "support/proc_self.hpp"
#include "support/temp_dir.hpp"

namespace {

// Reads every page of `file` front to back, checking the pattern; with `release`, gives up the
// pages behind. Returns the largest growth of file-backed resident memory seen (kB).
long read_through(mlq::MappedFile& file, bool release) {
  const long before = mlq::test::resident_file_kb();
  long peak = 0;
  size_t wrong = 0;
  for (size_t offset = 0; offset < file.size(); offset += 4096) {
    wrong += file.data()[offset] != static_cast<unsigned char>(offset / 4096 % 251);
    if (release) file.release_before(offset + 4096);
    if (offset % (size_t{2} << 20) == 0)
      peak = std::max(peak, mlq::test::resident_file_kb() - before);
  }
  CHECK(wrong == 0);
  return peak;
}

}  // namespace

TEST_CASE("a mapped file gives its bytes and, read front to back, keeps resident memory bounded") {
  mlq::test::TempDir dir;
  std::string bytes(size_t{48} << 20, '\0');
  for (size_t page = 0; page < bytes.size() / 4096; ++page)
    bytes[page * 4096] = static_cast<char>(page % 251);
  mlq::test::write_file(dir / "big.bin", bytes);

  mlq::MappedFile kept(dir / "big.bin");
  REQUIRE(kept.mapped());
  CHECK(kept.size() == bytes.size());
  CHECK(read_through(kept, false) > 40 * 1024);  // every page stays mapped

  mlq::MappedFile released(dir / "big.bin");
  released.expect_sequential();
  CHECK(read_through(released, true) < 12 * 1024);  // a few 4 MiB release steps at most
}

TEST_CASE("an empty file maps to nothing and a missing one is a one-line error") {
  mlq::test::TempDir dir;
  mlq::test::write_file(dir / "empty.bin", "");
  const mlq::MappedFile empty(dir / "empty.bin");
  CHECK_FALSE(empty.mapped());
  CHECK(empty.size() == 0);
  CHECK_THROWS_WITH_AS(
      mlq::MappedFile(dir / "absent.bin"),
      ((dir / "absent.bin").string() + ": cannot read: No such file or directory").c_str(),
      mlq::UserError);
}
