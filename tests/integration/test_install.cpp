#include <doctest/doctest.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

TEST_CASE(
    "installed to a prefix, the runner, the example plugin and the SDK work without the "
    "build tree") {
  if (geteuid() != 0) {
    MESSAGE("skipped: this test needs root (a mount namespace hides the build tree)");
    return;
  }
  TempDir dir;
  const fs::path prefix = dir / "prefix";
  const fs::path work = dir / "work";
  fs::create_directories(work);
  auto install = run_process({"cmake", "--install", MLQ_BUILD_DIR, "--prefix", prefix.string()});
  REQUIRE_MESSAGE(install.exit_code == 0, install.out);
  for (const char* file : {"bin/runner", "bin/mlq-new-plugin", "lib/libmlq_train.so",
                           "lib/mlq/plugins/libmlq_regression.so", "include/mlq/plugin.hpp",
                           "share/mlq/configs/regression.toml", "lib/cmake/mlq/mlqConfig.cmake"})
    CHECK_MESSAGE(fs::exists(prefix / file), file);

  // The Debian package holds the same files under /usr.
  auto package = run_process({"cpack", "-G", "DEB", "--config", MLQ_BUILD_DIR "/CPackConfig.cmake",
                              "-B", (dir / "deb").string()});
  REQUIRE_MESSAGE(package.exit_code == 0, package.out);
  std::set<std::string> installed, packaged;
  for (const auto& entry : fs::recursive_directory_iterator(prefix))
    if (!entry.is_directory()) installed.insert(fs::relative(entry.path(), prefix).string());
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(dir / "deb"))
    if (entry.path().extension() == ".deb") deb = entry.path();
  REQUIRE_MESSAGE(!deb.empty(), package.out);
  auto contents = run_process({"dpkg-deb", "--contents", deb.string()});
  REQUIRE_MESSAGE(contents.exit_code == 0, contents.out);
  std::istringstream lines(contents.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find("./usr/");
    if (at != std::string::npos && line.back() != '/') packaged.insert(line.substr(at + 6));
  }
  CHECK(packaged == installed);

  auto used = run_process({"unshare", "--mount", "--propagation", "private",
                           MLQ_SOURCE_DIR "/tests/integration/installed_sdk.sh", MLQ_BUILD_DIR,
                           prefix.string(), work.string()});
  INFO(used.out);
  REQUIRE(used.exit_code == 0);
  CHECK(used.out.find("installed SDK: every step passed") != std::string::npos);
  CHECK(used.out.find(prefix.string() + "/lib/mlq/plugins/libmlq_regression.so") !=
        std::string::npos);

  mlq::Manifest manifest(work / "outputs" / "runs.sqlite");
  std::map<std::string, std::string> status;
  for (const auto& run : manifest.list_runs()) status[run.task] = run.status;
  CHECK(status == std::map<std::string, std::string>{
                      {"regression", "FINISHED"}, {"blobs", "FINISHED"}, {"hello", "FINISHED"}});
}
