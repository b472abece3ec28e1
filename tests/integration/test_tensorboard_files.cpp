// TensorBoard event files of real runs, decoded by tests/tools/read_tfevents.py.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration/run_args.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tfevents.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mlq::test;

namespace {

fs::path only_run_dir(const fs::path& cwd) {
  fs::path found;
  for (const auto& entry : fs::recursive_directory_iterator(cwd / "outputs"))
    if (entry.path().filename() == "metrics.csv") {
      CHECK_MESSAGE(found.empty(), "more than one run");
      found = entry.path().parent_path();
    }
  REQUIRE(!found.empty());
  return found;
}

// (key, step) -> value of metrics.csv.
std::map<std::pair<std::string, int64_t>, double> csv_points(const fs::path& run_dir) {
  std::map<std::pair<std::string, int64_t>, double> points;
  std::istringstream in(read_file(run_dir / "metrics.csv"));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string step, key, value;
    std::getline(fields, step, ',');
    std::getline(fields, key, ',');
    std::getline(fields, value, ',');
    points[{key, std::stoll(step)}] = std::stod(value);
  }
  return points;
}

std::map<std::pair<std::string, int64_t>, double> scalar_points(const std::vector<json>& events) {
  std::map<std::pair<std::string, int64_t>, double> points;
  for (const auto& event : events)
    if (event.contains("summary"))
      for (const auto& value : event["summary"])
        if (value.contains("simple_value"))
          points[{value["tag"], event["step"]}] = value["simple_value"];
  return points;
}

// The summary values of `events` with a tag.
std::vector<json> tagged(const std::vector<json>& events, const std::string& tag) {
  std::vector<json> found;
  for (const auto& event : events)
    if (event.contains("summary"))
      for (const auto& value : event["summary"])
        if (value["tag"] == tag) found.push_back(value);
  return found;
}

}  // namespace

TEST_CASE("tensorboard: a run's tb/ holds every metric point, the learning rate and hparams") {
  TempDir dir;
  auto result = run_runner(short_run_args({"trainer.max_steps=12", "trainer.val_every_n_steps=6"}),
                           dir.path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  const fs::path run_dir = only_run_dir(dir.path());
  REQUIRE(tfevents_files(run_dir / "tb").size() == 1);
  const std::vector<json> events = tfevents_in(run_dir / "tb");
  REQUIRE(events.size() > 3);
  CHECK(events[0]["file_version"] == "brain.Event:2");

  const auto csv = csv_points(run_dir);
  const auto scalars = scalar_points(events);
  std::set<std::string> csv_keys, scalar_keys;
  for (const auto& [point, value] : csv) csv_keys.insert(point.first);
  for (const auto& [point, value] : scalars) scalar_keys.insert(point.first);
  CHECK(csv_keys == scalar_keys);
  for (const char* key : {"lr", "train_loss", "val_loss", "test_loss", "test_r2"})
    CHECK_MESSAGE(scalar_keys.count(key) == 1, key);
  CHECK(scalars.size() == csv.size());
  for (const auto& [point, value] : csv) {
    const auto found = scalars.find(point);
    REQUIRE_MESSAGE(found != scalars.end(),
                    (point.first + " at step " + std::to_string(point.second)));
    CHECK(found->second == doctest::Approx(value).epsilon(1e-6));  // float32 in the event file
  }
  CHECK(scalars.count({"lr", 12}) == 1);

  const auto start = tagged(events, "_hparams_/session_start_info");
  REQUIRE(start.size() == 1);
  const json& info = start[0]["metadata"]["hparams"]["session_start_info"];
  CHECK(info["hparams"]["task"] == "regression");
  CHECK(info["hparams"]["trainer.max_steps"] == 12.0);
  CHECK(info["hparams"]["trainer.optimizer.name"] == "adam");
  CHECK(info["hparams"]["trainer.progress_bar"] == false);
  CHECK(info["model_uri"] == (run_dir / "checkpoints").string());
  const auto end = tagged(events, "_hparams_/session_end_info");
  REQUIRE(end.size() == 1);
  CHECK(end[0]["metadata"]["hparams"]["session_end_info"]["status"] == 1);  // STATUS_SUCCESS
  CHECK(events.back()["summary"][0]["tag"] == "_hparams_/session_end_info");
}

TEST_CASE("tensorboard: trainer.tensorboard=false writes no tb/ and a failed run ends in failure") {
  TempDir dir;
  auto off =
      run_runner(short_run_args({"trainer.max_steps=3", "trainer.tensorboard=false"}), dir.path());
  REQUIRE_MESSAGE(off.exit_code == 0, off.out);
  CHECK(!fs::exists(only_run_dir(dir.path()) / "tb"));

  TempDir failing;
  auto failed = run_runner(short_run_args({"trainer.max_steps=5", "trainer.optimizer.lr=1e30",
                                           "trainer.nonfinite_loss=stop"}),
                           failing.path());
  REQUIRE_MESSAGE(failed.exit_code == 1, failed.out);
  const auto events = tfevents_in(only_run_dir(failing.path()) / "tb");
  const auto end = tagged(events, "_hparams_/session_end_info");
  REQUIRE(end.size() == 1);
  CHECK(end[0]["metadata"]["hparams"]["session_end_info"]["status"] == 2);  // STATUS_FAILURE
}

TEST_CASE("tensorboard: a resumed run adds a file that drops the steps after its checkpoint") {
  TempDir dir;
  auto args = short_run_args({"trainer.max_steps=60", "trainer.checkpoint.every_n_steps=4",
                              "trainer.val_every_n_steps=20", "++data.load_delay_ms=0.5"});
  std::vector<std::string> argv = args;
  argv.insert(argv.begin(), MLQ_RUNNER);
  pid_t pid = start_process(argv, dir / "first.log", {}, dir.path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool checkpointed = false;
  while (!checkpointed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::error_code ignored;
    if (fs::exists(dir / "outputs", ignored))
      for (const auto& entry : fs::recursive_directory_iterator(dir / "outputs", ignored))
        checkpointed |= entry.path().filename() == "last.pt";
  }
  REQUIRE(checkpointed);
  kill(pid, SIGINT);
  REQUIRE(wait_process(pid) == 130);
  const fs::path run_dir = only_run_dir(dir.path());
  REQUIRE(tfevents_files(run_dir / "tb").size() == 1);
  const auto first = decode_tfevents(tfevents_files(run_dir / "tb")[0])["events"];
  CHECK(tagged({first.begin(), first.end()}, "_hparams_/session_end_info").empty());  // resumable
  int64_t last_step = 0;
  for (const auto& event : first) last_step = std::max<int64_t>(last_step, event["step"]);

  args.push_back("trainer.resume=auto");
  auto resumed = run_runner(args, dir.path());
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  const auto files = tfevents_files(run_dir / "tb");
  REQUIRE(files.size() == 2);
  const auto second = decode_tfevents(files[1])["events"];
  json restart;
  for (const auto& event : second)
    if (event.contains("session_log")) restart = event;
  REQUIRE_MESSAGE(!restart.is_null(), second.dump());
  CHECK(restart["session_log"] == 1);  // START
  CHECK(restart["step"] == last_step + 1);
  // What TensorBoard keeps (the first file up to the restart, then the second) is metrics.csv.
  std::vector<json> kept;
  for (const auto& event : first)
    if (event["step"] < restart["step"]) kept.push_back(event);
  for (const auto& event : second) kept.push_back(event);
  CHECK(scalar_points(kept).size() == csv_points(run_dir).size());
  CHECK(tagged(kept, "_hparams_/session_end_info").size() == 1);
}
