#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "mlq/tracking/checkpoint_header.hpp"
#include "mlq/util/error.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::read_file;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

// A small checkpoint-like ZIP archive (stored members, as torch.save writes them) made by
// Python's zipfile; `zip64` forces the ZIP64 end records (as for archives over 65535 members).
std::string make_zip(const TempDir& dir, bool zip64 = false, const std::string& comment = "") {
  const fs::path path = dir / (zip64 ? "zip64.pt" : "model.pt");
  const std::string script =
      "import sys, zipfile\n"
      "if sys.argv[2] == '1': zipfile.ZIP_FILECOUNT_LIMIT = 1\n"
      "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED, allowZip64=True) as z:\n"
      "    z.writestr('archive/data.pkl', b'\\x80\\x02}q\\x00.')\n"
      "    z.writestr('archive/data/0', bytes(range(256)) * 4)\n"
      "    z.writestr('archive/version', b'3\\n')\n"
      "    z.comment = sys.argv[3].encode()\n";
  const auto result =
      mlq::test::run_process({"python3", "-c", script, path.string(), zip64 ? "1" : "0", comment});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  return read_file(path);
}

std::string error_of(const std::string& bytes) {
  try {
    mlq::check_checkpoint_bytes(bytes, "ckpt.pt");
  } catch (const mlq::UserError& error) {
    return error.what();
  }
  return "";
}

void put_u32(std::string& bytes, size_t pos, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[pos + i] = static_cast<char>(value >> (8 * i) & 0xFF);
}

size_t eocd_of(const std::string& bytes) {
  return bytes.rfind(std::string("PK\x05\x06", 4));
}

}  // namespace

TEST_CASE("checkpoint header: a ZIP archive passes, from bytes or from a file") {
  TempDir dir;
  const std::string zip = make_zip(dir);
  CHECK(error_of(zip) == "");
  CHECK(error_of(make_zip(dir, false, std::string(300, 'c'))) == "");
  CHECK_NOTHROW(mlq::check_checkpoint_header(dir / "model.pt"));
}

TEST_CASE("checkpoint header: ZIP64 archives pass, a locator pointing outside the file fails") {
  TempDir dir;
  std::string zip = make_zip(dir, true);
  REQUIRE(zip.find(std::string("PK\x06\x07", 4)) != std::string::npos);
  CHECK(error_of(zip) == "");
  CHECK_NOTHROW(mlq::check_checkpoint_header(dir / "zip64.pt"));

  const size_t locator = eocd_of(zip) - 20;
  put_u32(zip, locator + 8, static_cast<uint32_t>(zip.size()));  // record offset past the end
  CHECK(error_of(zip) ==
        "ckpt.pt: not a readable checkpoint (the ZIP64 end of central directory record lies "
        "outside the file)");
}

TEST_CASE("checkpoint header: empty, foreign and truncated files are named with the reason") {
  TempDir dir;
  const std::string zip = make_zip(dir);
  CHECK(error_of("") == "ckpt.pt: not a readable checkpoint (the file is empty)");
  CHECK(error_of("\x80\x02}q\x00.") ==
        "ckpt.pt: not a readable checkpoint (no ZIP local file header at the start)");
  CHECK(error_of("PK\x03\x04") ==
        "ckpt.pt: not a readable checkpoint (too short for a ZIP archive)");
  // Cut anywhere before the end record's last byte: the end record is gone.
  for (size_t keep : {size_t{30}, zip.size() / 2, zip.size() - 1}) {
    INFO("first " << keep << " bytes");
    CHECK(error_of(zip.substr(0, keep)) ==
          "ckpt.pt: not a readable checkpoint (no ZIP end of central directory record: the file "
          "is truncated or not a ZIP)");
  }
  // Bytes lost in the middle: the end record's offset now points past the directory's start.
  const std::string middle_lost = zip.substr(0, 40) + zip.substr(140);
  CHECK(error_of(middle_lost).find("ckpt.pt: not a readable checkpoint (") == 0);

  write_file(dir / "empty.pt", "");
  CHECK_THROWS_WITH_AS(
      mlq::check_checkpoint_header(dir / "empty.pt"),
      ((dir / "empty.pt").string() + ": not a readable checkpoint (the file is empty)").c_str(),
      mlq::UserError);
  CHECK_THROWS_AS(mlq::check_checkpoint_header(dir / "missing.pt"), mlq::UserError);
}

TEST_CASE("checkpoint header: a central directory outside the file or without its magic fails") {
  TempDir dir;
  const std::string zip = make_zip(dir);
  const size_t eocd = eocd_of(zip);
  REQUIRE(eocd != std::string::npos);

  std::string beyond = zip;
  put_u32(beyond, eocd + 16, static_cast<uint32_t>(zip.size() + 100));
  CHECK(error_of(beyond).find("ckpt.pt: not a readable checkpoint (the central directory lies "
                              "outside the file (offset ") == 0);

  std::string too_long = zip;
  put_u32(too_long, eocd + 12, 0xFFFFFF00u);
  CHECK(error_of(too_long).find("the central directory lies outside the file") !=
        std::string::npos);

  std::string moved = zip;
  put_u32(moved, eocd + 16, 1);  // inside the file, but no "PK\1\2" there
  CHECK(error_of(moved) ==
        "ckpt.pt: not a readable checkpoint (no central directory header where the end record "
        "points)");
}
