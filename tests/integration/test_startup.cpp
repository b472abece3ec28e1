#include <doctest/doctest.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace mlq::test;

namespace {

// The shared libraries the dynamic loader opened for a runner command.
std::string loaded_libraries(const std::vector<std::string>& args, const TempDir& dir) {
  return run_runner(args, dir.path(), {{"LD_DEBUG", "libs"}}).out;
}

}  // namespace

TEST_CASE("light commands never load LibTorch - training commands do") {
  TempDir dir;
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"--cfg", config}, {"plugins", "--help"}, {"runs", "list"}}) {
    INFO("runner " << args[0]);
    CHECK(loaded_libraries(args, dir).find("libtorch") == std::string::npos);
  }
  CHECK(loaded_libraries({"plugins"}, dir).find("libtorch") != std::string::npos);
}
