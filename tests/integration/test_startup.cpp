#include <doctest/doctest.h>

#include "support/manifest_location.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace mlq::test;

namespace {

// The shared libraries the dynamic loader opened for a runner command.
std::string loaded_libraries(const std::vector<std::string>& args, const TempDir& dir) {
  return run_runner(args, dir.path(), {{"LD_DEBUG", "libs"}}).out;
}

}  // namespace

// On the PostgreSQL run of the tests, `runs list` reads the test server (libpq, no LibTorch).
TEST_CASE("light commands never load LibTorch - training commands do") {
  TempDir dir;
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"--cfg", config}, {"plugins", "--help"}, {"runs", "list"}}) {
    INFO("runner " << args[0]);
    const std::string loaded = loaded_libraries(args, dir);
    CHECK(loaded.find("libtorch") == std::string::npos);
    if (!testing_postgresql())  // libpq (with OpenSSL, Kerberos, LDAP) only for a server
      CHECK(loaded.find("libpq") == std::string::npos);
  }
  CHECK(loaded_libraries({"plugins"}, dir).find("libtorch") != std::string::npos);
  if (testing_postgresql()) {
    const std::string listed = run_runner({"runs", "list"}, dir.path()).out;
    CHECK_MESSAGE(listed.find("no runs (postgresql://") == 0, listed);
  }
}
