#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "integration/run_args.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/manifest_location.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

const std::vector<std::string> kResumable{
    "trainer.max_steps=60", "trainer.checkpoint.every_n_steps=4", "trainer.val_every_n_steps=20",
    "++data.load_delay_ms=0.5"};

std::vector<std::string> with_runner(std::vector<std::string> args) {
  args.insert(args.begin(), MLQ_RUNNER);
  return args;
}

// Waits (up to 60 s) until a run of `cwd` has written checkpoints/last.pt.
bool wait_for_checkpoint(const fs::path& cwd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ignored;
    if (fs::exists(cwd / "outputs" / "regression", ignored))
      for (const auto& entry : fs::recursive_directory_iterator(cwd / "outputs", ignored))
        if (entry.path().filename() == "last.pt") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::vector<std::pair<int64_t, double>> history(const mlq::Manifest& manifest,
                                                const std::string& run_id, const std::string& key) {
  std::vector<std::pair<int64_t, double>> points;
  for (const auto& point : manifest.metrics(run_id, key))
    points.emplace_back(point.step, point.value);
  return points;
}

}  // namespace

TEST_CASE("a run killed with SIGKILL and resumed matches an uninterrupted run bit for bit") {
  TempDir straight, interrupted;
  auto args = short_run_args(kResumable);
  REQUIRE(run_runner(args, straight.path()).exit_code == 0);

  pid_t pid = start_process(with_runner(args), interrupted / "first.log", {}, interrupted.path());
  REQUIRE(wait_for_checkpoint(interrupted.path()));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  kill(pid, SIGKILL);
  CHECK(wait_process(pid) == -SIGKILL);

  {  // The dead run is detected and marked KILLED by the next command.
    auto listed = run_runner({"runs", "list"}, interrupted.path());
    CHECK(listed.out.find("KILLED") != std::string::npos);
    mlq::Manifest manifest(mlq::test::manifest_location(interrupted / "outputs" / "runs.sqlite"));
    auto losses = manifest.metrics(manifest.list_runs()[0].id, "train_loss");
    REQUIRE_FALSE(losses.empty());
    CHECK(losses.back().step < 60);  // killed mid-training
  }

  auto resumed_args = args;
  resumed_args.push_back("trainer.resume=auto");
  auto resumed = run_runner(resumed_args, interrupted.path());
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  CHECK(resumed.out.find("resuming run") != std::string::npos);

  mlq::Manifest reference(mlq::test::manifest_location(straight / "outputs" / "runs.sqlite"));
  mlq::Manifest continued(mlq::test::manifest_location(interrupted / "outputs" / "runs.sqlite"));
  auto reference_runs = reference.list_runs();
  auto continued_runs = continued.list_runs();
  REQUIRE(continued_runs.size() == 1);  // the same run continued
  CHECK(continued_runs[0].status == "FINISHED");
  auto expected = history(reference, reference_runs[0].id, "train_loss");
  auto actual = history(continued, continued_runs[0].id, "train_loss");
  REQUIRE(expected.size() == 60);
  CHECK(actual == expected);  // exact doubles, steps 1..60 once each
  CHECK(history(continued, continued_runs[0].id, "val_loss") ==
        history(reference, reference_runs[0].id, "val_loss"));
  CHECK(history(continued, continued_runs[0].id, "test_loss") ==
        history(reference, reference_runs[0].id, "test_loss"));
}

TEST_CASE("SIGINT stops after a checkpoint, marks the run KILLED, and resume finishes it") {
  TempDir dir;
  auto args = short_run_args(kResumable);
  pid_t pid = start_process(with_runner(args), dir / "first.log", {}, dir.path());
  REQUIRE(wait_for_checkpoint(dir.path()));
  kill(pid, SIGINT);
  CHECK(wait_process(pid) == 130);
  CHECK(read_file(dir / "first.log").find("resume with trainer.resume=auto") != std::string::npos);
  {
    mlq::Manifest manifest(mlq::test::manifest_location(dir / "outputs" / "runs.sqlite"));
    auto runs = manifest.list_runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == "KILLED");
    CHECK(fs::exists(fs::path(runs[0].run_dir) / "checkpoints" / "last.pt"));
  }
  args.push_back("trainer.resume=auto");
  REQUIRE(run_runner(args, dir.path()).exit_code == 0);
  mlq::Manifest manifest(mlq::test::manifest_location(dir / "outputs" / "runs.sqlite"));
  auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FINISHED");
  CHECK(manifest.metrics(runs[0].id, "train_loss").size() == 60);
}

TEST_CASE("resume=auto without an unfinished run starts a new one - a bad path is an error") {
  TempDir dir;
  auto args = short_run_args({"trainer.max_steps=3", "trainer.resume=auto"});
  auto first = run_runner(args, dir.path());
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("starting a new run") != std::string::npos);
  auto bad = run_runner(short_run_args({"trainer.resume=nowhere/last.pt"}), dir.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("checkpoint 'nowhere/last.pt' does not exist") != std::string::npos);
}

TEST_CASE("two runs writing one manifest at once lose nothing") {
  TempDir dir;
  auto args = short_run_args({"trainer.max_steps=40", "++data.load_delay_ms=0.2"});
  pid_t a = start_process(with_runner(args), dir / "a.log", {}, dir.path());
  pid_t b = start_process(with_runner(args), dir / "b.log", {}, dir.path());
  CHECK(wait_process(a) == 0);
  CHECK(wait_process(b) == 0);
  mlq::Manifest manifest(mlq::test::manifest_location(dir / "outputs" / "runs.sqlite"));
  auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 2);
  for (const auto& run : runs) {
    CHECK(run.status == "FINISHED");
    CHECK(manifest.metrics(run.id, "train_loss").size() == 40);
  }
}

TEST_CASE("resume=auto never takes over a run that is still training") {
  TempDir dir;
  auto args = short_run_args({"trainer.max_steps=100000", "trainer.checkpoint.every_n_steps=2",
                              "++data.load_delay_ms=0.5"});
  pid_t live = start_process(with_runner(args), dir / "live.log", {}, dir.path());
  REQUIRE(wait_for_checkpoint(dir.path()));
  // The same experiment (same config hash) with resume=auto, while the first still trains.
  args.push_back("trainer.resume=auto");
  pid_t second = start_process(with_runner(args), dir / "second.log", {}, dir.path());
  std::string decision;
  for (int i = 0; i < 3000 && decision.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::string log = read_file(dir / "second.log");
    if (log.find("starting a new run") != std::string::npos) decision = "new";
    if (log.find("resuming run") != std::string::npos) decision = "resumed";
  }
  kill(second, SIGKILL);
  kill(live, SIGKILL);
  wait_process(second);
  wait_process(live);
  CHECK(decision == "new");
}
