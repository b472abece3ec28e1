// test_fuzz_corpus: every fuzz harness (tests/fuzz/<name>.cpp, built here without libFuzzer) run
// on each file of its seed corpus and of its saved regressions, so the normal test suite keeps
// the crashes that fuzzing found fixed. A crash or an exception the harness does not expect fails
// the test case; MLQ_FUZZ_DIR is tests/fuzz in the source tree.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace fs = std::filesystem;

namespace {

// The files of tests/fuzz/corpus/<name> and tests/fuzz/regressions/<name>, sorted (.gitkeep
// excluded).
std::vector<fs::path> inputs_of(const std::string& name) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(MLQ_FUZZ_DIR) / kind / name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().filename() != ".gitkeep")
        files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& name) {
  const auto target = mlq::fuzz::targets().find(name);
  REQUIRE_MESSAGE(target != mlq::fuzz::targets().end(), "no harness registered as " << name);
  const std::vector<fs::path> files = inputs_of(name);
  CHECK_MESSAGE(!files.empty(),
                "no inputs in " << MLQ_FUZZ_DIR << "/{corpus,regressions}/" << name);
  for (const fs::path& file : files) {
    INFO("input " << file.string());
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_NOTHROW(target->second(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
}

}  // namespace

TEST_CASE("fuzz corpus: checkpoint") {
  replay("checkpoint");
}
TEST_CASE("fuzz corpus: config") {
  replay("config");
}
TEST_CASE("fuzz corpus: maestro") {
  replay("maestro");
}
TEST_CASE("fuzz corpus: midi") {
  replay("midi");
}
TEST_CASE("fuzz corpus: npy") {
  replay("npy");
}
TEST_CASE("fuzz corpus: run_query") {
  replay("run_query");
}
TEST_CASE("fuzz corpus: wav") {
  replay("wav");
}

TEST_CASE("fuzz corpus: every harness has a test case") {
  const std::vector<std::string> covered{"checkpoint", "config",    "maestro", "midi",
                                         "npy",        "run_query", "wav"};
  for (const auto& [name, target] : mlq::fuzz::targets()) {
    INFO("harness " << name);
    CHECK(std::find(covered.begin(), covered.end(), name) != covered.end());
  }
}
