#pragma once
// Helpers of the tests that drive the runner binary as a subprocess (test_cli.cpp and
// test_plugins_cli.cpp): a scratch working folder with its own manifest, short runs of the
// regression task, and what a run leaves behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/manifest_location.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mlq::test::cli {

namespace fs = std::filesystem;
using mlq::test::manifest_location;
using mlq::test::ProcessResult;
using mlq::test::TempDir;
using mlq::test::testing_postgresql;

inline const std::string kConfigFile = std::string(MLQ_SOURCE_DIR) + "/configs/regression.toml";
inline const std::string kConfig = "--config=" + kConfigFile;

inline fs::path fake_dir(const std::string& name) {
  return fs::path(MLQ_BUILD_DIR) / "tests" / "fake_plugins" / name;
}
inline fs::path regression_plugin() {
  return fs::path(MLQ_BUILD_DIR) / "plugins" / "libmlq_regression.so";
}

// Overrides that make a training run take about a second.
inline std::vector<std::string> tiny() {
  return {"trainer.max_steps=5",        "data.num_train=64",           "data.num_validation=32",
          "data.num_test=32",           "trainer.val_every_n_steps=5", "trainer.threads=1",
          "trainer.log_every_n_steps=1"};
}

inline std::vector<std::string> concat(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A scratch working directory for the runner, with the manifest inside it and no plugin folders
// from the test's own environment.
struct Cli {
  TempDir dir;
  // A SQLite file in `dir`, or a new database on the PostgreSQL test server.
  std::string db() const { return manifest_location(dir / "runs.sqlite"); }
  ProcessResult run(const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {}) const {
    env.emplace("MLQ_DB", db());
    env.emplace("MLQ_PLUGIN_PATH", "");
    return mlq::test::run_runner(args, dir.path(), env);
  }
  bool has_outputs() const { return fs::exists(dir / "outputs"); }
};

// The run folders under <cwd>/outputs/<task>/<date>/, sorted.
inline std::vector<fs::path> run_dirs(const fs::path& cwd, const std::string& task = "regression") {
  std::vector<fs::path> out;
  const fs::path root = cwd / "outputs" / task;
  if (!fs::is_directory(root)) return out;
  for (const auto& date : fs::directory_iterator(root))
    if (date.is_directory())
      for (const auto& run : fs::directory_iterator(date.path()))
        if (run.is_directory()) out.push_back(run.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The id at the end of a run folder name (<HH-MM-SS>-<id>).
inline std::string id_of(const fs::path& run_dir) {
  const std::string name = run_dir.filename().string();
  return name.substr(name.rfind('-') + 1);
}

// A config error: exit 2, nothing but one "error: ..." line, and no run created.
inline std::string one_line_error(const Cli& cli, const ProcessResult& result) {
  CHECK(result.exit_code == 2);
  CHECK(result.out.rfind("error: ", 0) == 0);
  CHECK(count_lines(result.out) == 1);
  CHECK_FALSE(cli.has_outputs());
  if (!testing_postgresql()) CHECK_FALSE(fs::exists(cli.db()));
  return result.out;
}

}  // namespace mlq::test::cli
