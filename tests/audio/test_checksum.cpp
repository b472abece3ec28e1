#include <doctest/doctest.h>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

// What the xxhsum tool prints for the file: "XXH3 (<path>) = <16 hex digits>".
std::string xxhsum_reference(const std::filesystem::path& path) {
  const auto result = mlq::test::run_process({"xxhsum", "-H3", "--tag", path.string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  const size_t equals = result.out.rfind("= ");
  REQUIRE(equals != std::string::npos);
  return "xxh3:" + result.out.substr(equals + 2, 16);
}

}  // namespace

TEST_CASE("file checksums are the XXH3 of the whole file that xxhsum prints") {
  mlq::test::TempDir dir;
  std::string bytes(9 * (1 << 20) + 17, '\0');  // several 1 MiB reads and 4 MiB page releases
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
  mlq::test::write_file(dir / "data.bin", bytes);
  const std::string checksum = mlq::file_checksum(dir / "data.bin");
  CHECK(checksum == xxhsum_reference(dir / "data.bin"));
  CHECK(checksum.size() == 5 + 16);
  mlq::test::write_file(dir / "empty.bin", "");
  CHECK(mlq::file_checksum(dir / "empty.bin") == xxhsum_reference(dir / "empty.bin"));
  bytes[2 * (1 << 20) + 5] ^= 1;  // one bit in the third chunk
  mlq::test::write_file(dir / "data.bin", bytes);
  CHECK(mlq::file_checksum(dir / "data.bin") != checksum);
  CHECK_THROWS_WITH_AS(mlq::file_checksum(dir / "absent.bin"),
                       doctest::Contains("absent.bin: cannot read"), mlq::UserError);
}
