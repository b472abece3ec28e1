#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "mlq/util/error.hpp"
#include "mlq/util/mapped_file.hpp"
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

TEST_CASE("a mapped file that shrinks under its reader reads as zeros and reports it") {
  mlq::test::TempDir dir;
  std::string bytes(size_t{256} << 10, '\x5a');
  mlq::test::write_file(dir / "shrinking.bin", bytes);
  mlq::MappedFile file(dir / "shrinking.bin");
  REQUIRE(file.mapped());
  std::filesystem::resize_file(dir / "shrinking.bin", 8192);
  CHECK(file.data()[100] == 0x5a);  // what is left of the file reads as before
  CHECK_FALSE(file.truncated());
  CHECK_NOTHROW(file.check_intact());
  CHECK(file.data()[200000] == 0);  // the page past the new end would have raised SIGBUS
  CHECK(file.truncated());
  CHECK_THROWS_WITH_AS(file.check_intact(),
                       doctest::Contains("shrinking.bin: the file shrank while it was being read"),
                       mlq::UserError);
  mlq::MappedFile other(dir / "shrinking.bin");  // a new mapping starts intact
  CHECK_FALSE(other.truncated());
}

// The exit of a child process running `body`: its signal number if a signal ended it, else 0.
template <class Body>
int child_signal(Body&& body) {
  const pid_t child = fork();
  if (child == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

TEST_CASE("a SIGBUS outside any guarded mapping still ends the process") {
  mlq::test::TempDir dir;
  mlq::test::write_file(dir / "guarded.bin", std::string(4096, 'x'));
  mlq::test::write_file(dir / "raw.bin", std::string(size_t{64} << 10, 'y'));
  mlq::MappedFile guarded(dir / "guarded.bin");  // installs the guard
  SUBCASE("a fault in a mapping of someone else's") {
    CHECK(child_signal([&] {
            const int fd = open((dir / "raw.bin").c_str(), O_RDONLY);
            auto* raw = static_cast<volatile const char*>(
                mmap(nullptr, size_t{64} << 10, PROT_READ, MAP_PRIVATE, fd, 0));
            if (ftruncate(open((dir / "raw.bin").c_str(), O_WRONLY), 0) != 0) _exit(3);
            (void)raw[40000];
          }) == SIGBUS);
  }
  SUBCASE("a SIGBUS sent by another process") {
    CHECK(child_signal([] { kill(getpid(), SIGBUS); }) == SIGBUS);
  }
}
