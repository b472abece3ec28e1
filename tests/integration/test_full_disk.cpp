// Writers on a real full disk (a small tmpfs): each failure is one line naming the file and the
// reason, the run ends FAILED, nothing half-written stays, and what was whole before stays whole.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::ProcessResult;
using mlq::test::SmallFilesystem;
using mlq::test::TempDir;

namespace {

const std::string kConfig = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every file below `root` whose name marks a temporary of an atomic write.
std::vector<fs::path> temporaries(const fs::path& root) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(entry.path());
  return found;
}

// A ZIP archive (LibTorch's checkpoint format) that ends with its end-of-central-directory record.
bool whole_zip(const fs::path& path) {
  const std::string bytes = mlq::test::read_file(path);
  const size_t end_record = bytes.rfind("PK\x05\x06");
  return bytes.compare(0, 4, "PK\x03\x04") == 0 && end_record != std::string::npos &&
         bytes.size() - end_record <= 22 + 65535;
}

// Fills the filesystem at `dir` to the last byte.
void fill(const fs::path& dir) {
  std::ofstream filler(dir / "filler", std::ios::binary);
  const std::string block(4096, '\0');
  while (filler.write(block.data(), block.size())) {
  }
}

// Trains the regression task with `overrides` (slowed down), waits for `started` to appear and for
// half a second of training, fills the disk at `disk`, and returns how the runner ended.
ProcessResult fill_while_training(const TempDir& cwd, const fs::path& db, const fs::path& disk,
                                  const fs::path& started,
                                  const std::vector<std::string>& overrides) {
  std::vector<std::string> argv{MLQ_RUNNER,
                                kConfig,
                                "trainer.max_steps=400",
                                "++data.load_delay_ms=1",
                                "trainer.log_every_n_steps=1",
                                "trainer.threads=1",
                                "trainer.progress_bar=false"};
  argv.insert(argv.end(), overrides.begin(), overrides.end());
  const pid_t pid = mlq::test::start_process(
      argv, cwd / "run.out", {{"MLQ_DB", db.string()}, {"MLQ_PLUGIN_PATH", ""}}, cwd.path());
  for (int waited = 0; waited < 3000 && !fs::exists(started); ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // training, logging metrics
  fill(disk);
  const int status = mlq::test::wait_process(pid);
  return {status, mlq::test::read_file(cwd / "run.out")};
}

}  // namespace

TEST_CASE("a checkpoint that does not fit fails the run with one line, the last one intact") {
  SmallFilesystem disk(5 << 20);
  MLQ_REQUIRE_MOUNTED(disk);
  TempDir cwd;
  const fs::path db = cwd / "runs.sqlite";
  // A 3.2 MB checkpoint (weights and Adam's two moments): the first fits in 5 MB, the second
  // cannot be written beside it.
  const ProcessResult result = mlq::test::run_runner(
      {kConfig, "+output_dir=" + disk.path().string(), "model.hidden=[512,512]",
       "trainer.max_steps=6", "trainer.checkpoint.every_n_steps=2",
       "trainer.checkpoint.save_top_k=0", "trainer.val_every_n_steps=100", "data.num_train=64",
       "data.num_validation=32", "data.num_test=32", "trainer.threads=1",
       "trainer.progress_bar=false"},
      cwd.path(), {{"MLQ_DB", db.string()}, {"MLQ_PLUGIN_PATH", ""}});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 1);
  CHECK(contains(result.out, "checkpoints/last.pt: cannot write: No space left on device\n"));
  CHECK_FALSE(contains(result.out, "terminate called"));
  CHECK_FALSE(contains(result.out, "c10::Error"));
  CHECK(temporaries(disk.path()).empty());

  mlq::Manifest manifest(db);
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FAILED");
  CHECK(contains(runs[0].error, "last.pt: cannot write: No space left on device"));
  const fs::path last = fs::path(runs[0].run_dir) / "checkpoints" / "last.pt";
  REQUIRE(fs::exists(last));
  CHECK(fs::file_size(last) > (3 << 20));
  CHECK(whole_zip(last));  // the step-2 checkpoint, as it was written
}

TEST_CASE("a manifest whose disk fills while the run trains ends the run with one line, no crash") {
  SmallFilesystem disk(2 << 20);
  MLQ_REQUIRE_MOUNTED(disk);
  TempDir cwd;
  const fs::path db = disk / "runs.sqlite";
  const auto [status, out] =
      fill_while_training(cwd, db, disk.path(), fs::path(db.string() + "-wal"), {});
  INFO("runner output:\n" << out);
  CHECK(status == 1);
  CHECK(contains(out, db.string() + ": cannot run 'COMMIT': database or disk is full"));
  CHECK_FALSE(contains(out, "terminate called"));
}

TEST_CASE(
    "a run folder whose disk fills while the run trains: FAILED with one line naming the file") {
  SmallFilesystem disk(1 << 20);
  MLQ_REQUIRE_MOUNTED(disk);
  TempDir cwd;
  const fs::path db = cwd / "runs.sqlite";
  const auto [status, out] = fill_while_training(
      cwd, db, disk.path(), disk / "regression",
      {"+output_dir=" + disk.path().string(), "trainer.checkpoint.save_top_k=0"});
  INFO("runner output:\n" << out);
  CHECK(status == 1);
  // metrics.csv or the TensorBoard event file, whichever wrote next.
  CHECK(std::regex_search(out, std::regex(R"(error: run [0-9a-f]+ failed: \S+/(metrics\.csv|tb/)"
                                          R"(events\.out\.tfevents\.\S+): cannot write: No space)"
                                          R"( left on device\n)")));
  CHECK_FALSE(contains(out, "terminate called"));
  mlq::Manifest manifest(db);
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FAILED");
  CHECK(contains(runs[0].error, "No space left on device"));
  CHECK(temporaries(disk.path()).empty());
}

TEST_CASE("a report that does not fit is one line and leaves no partial page") {
  TempDir cwd;
  const fs::path db = cwd / "runs.sqlite";
  const std::map<std::string, std::string> env{{"MLQ_DB", db.string()}, {"MLQ_PLUGIN_PATH", ""}};
  const auto trained = mlq::test::run_runner(
      {kConfig, "trainer.max_steps=3", "data.num_train=32", "data.num_validation=16",
       "data.num_test=16", "trainer.threads=1", "trainer.progress_bar=false"},
      cwd.path(), env);
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.out);
  SmallFilesystem disk(64 << 10);
  MLQ_REQUIRE_MOUNTED(disk);
  fill(disk.path());
  const fs::path page = disk / "report.html";
  const auto report =
      mlq::test::run_runner({"report", "latest", "-o", page.string()}, cwd.path(), env);
  INFO("runner output:\n" << report.out);
  CHECK(report.exit_code != 0);
  CHECK(
      contains(report.out, "error: " + page.string() + ": cannot write: No space left on device"));
  CHECK_FALSE(fs::exists(page));
  CHECK(temporaries(disk.path()).empty());
}
