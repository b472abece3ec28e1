#include <doctest/doctest.h>

#include "mlq/config.hpp"
#include "mlq/files.hpp"
#include "mlq/preprocess.hpp"
#include "support/temp_dir.hpp"

TEST_CASE("file checksums are FNV-1a of the whole file, read in chunks") {
  mlq::test::TempDir dir;
  std::string bytes(3 * (1 << 20) + 17, '\0');  // more than one 1 MiB read
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
  mlq::test::write_file(dir / "data.bin", bytes);
  CHECK(mlq::file_checksum(dir / "data.bin") == mlq::hash_hex(bytes));
  mlq::test::write_file(dir / "empty.bin", "");
  CHECK(mlq::file_checksum(dir / "empty.bin") == "cbf29ce484222325");  // the FNV-1a offset basis
}
