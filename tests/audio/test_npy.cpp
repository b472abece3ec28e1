#include <doctest/doctest.h>
#include <sys/resource.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <csignal>

#include "mlq/audio/npy.hpp"
#include "mlq/util/error.hpp"
#include "support/page_cache.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

// Runs Debian's python3 with NumPy (the reference implementation of the format).
ProcessResult numpy(const std::string& code) {
  return run_process({"/usr/bin/python3", "-c", "import numpy as np\n" + code});
}

// Writes past `bytes` fail with EFBIG (SIGXFSZ ignored) while this lives.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    handler_ = std::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*handler_)(int) = SIG_DFL;
};

}  // namespace

TEST_CASE("npy files we write are read by NumPy with the same values") {
  TempDir dir;
  std::vector<float> ramp(1000);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = std::sin(0.01f * i) * 0.5f;
  mlq::write_npy(dir / "ramp.npy", ramp);
  mlq::write_npy(dir / "grid.npy", std::vector<int16_t>{1, -2, 3, -32768, 32767, 0}, {2, 3});
  auto result = numpy("a = np.load('" + (dir / "ramp.npy").string() + "'); b = np.load('" +
                      (dir / "grid.npy").string() +
                      "')\nprint(a.dtype, a.shape, repr(float(a[123])), b.dtype, b.shape, "
                      "b.tolist())");
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  const std::string prefix = "float32 (1000,) ";
  const std::string suffix = " int16 (2, 3) [[1, -2, 3], [-32768, 32767, 0]]\n";
  REQUIRE(result.out.size() > prefix.size() + suffix.size());
  CHECK(result.out.substr(0, prefix.size()) == prefix);
  CHECK(result.out.substr(result.out.size() - suffix.size()) == suffix);
  const double value_123 = std::stod(result.out.substr(prefix.size()));
  CHECK(value_123 == static_cast<double>(ramp[123]));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("npy files NumPy writes are memory-mapped with the right shape and values") {
  TempDir dir;
  auto result =
      numpy("np.save('" + (dir / "f.npy").string() +
            "', np.arange(12, dtype='<f4').reshape(3, 4) / 4)\n"
            "np.save('" +
            (dir / "i.npy").string() +
            "', np.array([7, -7], dtype='<i2'))\n"
            "np.save('" +
            (dir / "d.npy").string() +
            "', np.zeros(3))\n"
            "np.save('" +
            (dir / "fortran.npy").string() + "', np.asfortranarray(np.ones((2, 2), dtype='<f4')))");
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  mlq::NpyFile f(dir / "f.npy");
  CHECK(f.dtype() == mlq::DType::Float32);
  CHECK(f.shape() == std::vector<int64_t>{3, 4});
  CHECK(f.floats()[5] == 1.25f);
  CHECK_THROWS_WITH_AS(f.int16s(), doctest::Contains("holds float32 values"), mlq::UserError);
  mlq::NpyFile i(dir / "i.npy");
  CHECK(i.shape() == std::vector<int64_t>{2});
  CHECK(i.int16s()[1] == -7);
  CHECK_THROWS_WITH_AS(mlq::NpyFile(dir / "d.npy"), doctest::Contains("unsupported dtype '<f8'"),
                       mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::NpyFile(dir / "fortran.npy"), doctest::Contains("Fortran-order"),
                       mlq::UserError);
}

TEST_CASE("the streaming writer appends blocks and publishes the file only at finish") {
  TempDir dir;
  {
    mlq::NpyWriter writer(dir / "stream.npy", mlq::DType::Float32, {2});
    const float block[] = {1, 2, 3, 4};
    writer.append(block, 4);
    writer.append(block, 2);
    CHECK_FALSE(fs::exists(dir / "stream.npy"));
    writer.finish();
  }
  mlq::NpyFile file(dir / "stream.npy");
  CHECK(file.shape() == std::vector<int64_t>{3, 2});
  CHECK(file.floats()[4] == 1.0f);
  {
    mlq::NpyWriter abandoned(dir / "abandoned.npy", mlq::DType::Int16);
    const int16_t one = 1;
    abandoned.append(&one, 1);
  }
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  mlq::NpyWriter ragged(dir / "ragged.npy", mlq::DType::Float32, {3});
  const float two[] = {1, 2};
  ragged.append(two, 2);
  CHECK_THROWS_WITH_AS(ragged.finish(), doctest::Contains("do not make whole rows of 3"),
                       mlq::UserError);
}

TEST_CASE("a stream of several MiB in odd blocks reads back whole and is not left in the cache") {
  TempDir dir;
  const int64_t rows = 300007;  // 3.4 MiB of float32 pairs: several write calls
  {
    mlq::NpyWriter writer(dir / "long.npy", mlq::DType::Float32, {3});
    std::vector<float> block;
    for (int64_t row = 0; row < rows;) {
      const int64_t count = std::min<int64_t>(rows - row, 1 + row % 4099);
      block.clear();
      for (int64_t r = row; r < row + count; ++r)
        for (int c = 0; c < 3; ++c) block.push_back(static_cast<float>(r * 3 + c));
      writer.append(block.data(), block.size());
      row += count;
    }
    writer.finish(mlq::NpyWriter::Sync::later);
  }
  if (page_cache_observable(dir.path()))
    CHECK(cached_bytes(dir / "long.npy") == 0);
  else
    MESSAGE("not checking the page cache: the test directory's filesystem keeps its own");
  mlq::NpyFile file(dir / "long.npy");
  REQUIRE(file.shape() == std::vector<int64_t>{rows, 3});
  size_t wrong = 0;
  for (int64_t i = 0; i < rows * 3; ++i) wrong += file.floats()[i] != static_cast<float>(i);
  CHECK(wrong == 0);
  auto result = numpy("a = np.load('" + (dir / "long.npy").string() +
                      "')\nprint(a.shape, int(a[-1, -1]), bool((a.ravel() == "
                      "np.arange(a.size, dtype='<f4')).all()))");
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  CHECK(result.out == fmt::format("({}, 3) {} True\n", rows, rows * 3 - 1));
}

TEST_CASE("a write that fails names the file and leaves nothing behind") {
  TempDir dir;
  {
    const FileSizeLimit limit(64 << 10);
    mlq::NpyWriter writer(dir / "big.npy", mlq::DType::Float32);
    const std::vector<float> block(1 << 19, 0.5f);
    CHECK_THROWS_WITH_AS(writer.append(block.data(), block.size()),
                         doctest::Contains("big.npy: write failed (File too large)"),
                         mlq::UserError);
    CHECK_THROWS_WITH_AS(writer.finish(), doctest::Contains("finish on a closed writer"),
                         mlq::UserError);
  }
  CHECK(fs::is_empty(dir.path()));

  fs::create_directories(dir / "taken.npy" / "inside");
  mlq::NpyWriter blocked(dir / "taken.npy", mlq::DType::Int16);
  const int16_t one = 1;
  blocked.append(&one, 1);
  CHECK_THROWS_WITH_AS(blocked.finish(),
                       doctest::Contains("taken.npy: cannot move the finished file into place"),
                       mlq::UserError);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("broken npy files give one-line errors naming the file") {
  TempDir dir;
  write_file(dir / "text.npy", "hello, this is not numpy");
  CHECK_THROWS_WITH_AS(mlq::NpyFile(dir / "text.npy"),
                       doctest::Contains("text.npy: not a .npy file"), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::NpyFile(dir / "missing.npy"),
                       doctest::Contains("missing.npy: cannot read: No such file"), mlq::UserError);
  mlq::write_npy(dir / "full.npy", std::vector<float>(100, 1.0f));
  const std::string bytes = read_file(dir / "full.npy");
  write_file(dir / "cut.npy", bytes.substr(0, bytes.size() - 40));
  CHECK_THROWS_WITH_AS(
      mlq::NpyFile(dir / "cut.npy"),
      doctest::Contains("cut.npy: truncated: the header promises 100 values, the file holds 90"),
      mlq::UserError);
}
