// A manifest server that is down when a run starts, or goes away in the middle of one: the run
// fails cleanly in the first case, and in the second trains on and loses no metric point, either
// because the server comes back before the run ends or through `runner runs sync` after it.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>
#include <tuple>

#include "cli.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::Manifest;
using mlq::test::read_file;
using mlq::test::TempDir;
using namespace mlq::test::cli;

namespace {

// A PostgreSQL server of this test's own (tests/support/postgres_server.sh), which it may stop.
class OwnServer {
 public:
  OwnServer() {
    const auto result = script("start");
    REQUIRE_MESSAGE(result.exit_code == 0, result.out);
    const std::string url = read_file(state_);
    server_ = url.substr(url.find('\n') + 1);
    server_ = server_.substr(0, server_.rfind('/') + 1);
    REQUIRE(mlq::test::run_process({"psql", server_ + "postgres", "-qc", "CREATE DATABASE runs"})
                .exit_code == 0);
  }
  ~OwnServer() { script("stop"); }
  std::string url() const { return server_ + "runs"; }
  void pause() { REQUIRE(script("pause").exit_code == 0); }
  void resume() { REQUIRE(script("resume").exit_code == 0); }

 private:
  mlq::test::ProcessResult script(const std::string& command) const {
    return mlq::test::run_process(
        {"bash", std::string(MLQ_SOURCE_DIR) + "/tests/support/postgres_server.sh", command,
         state_.string()});
  }
  TempDir dir_;
  fs::path state_ = dir_ / "server.state";
  std::string server_;
};

// Waits until `ready` or 60 s.
bool wait_until(const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The run's points in the manifest are exactly those of its metrics.csv.
void check_nothing_lost(const Manifest& manifest, const fs::path& run_dir) {
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  const auto written = mlq::read_metrics_csv(run_dir / "metrics.csv");
  const auto recorded = manifest.metrics(runs[0].id);
  REQUIRE(written.size() > 100);
  CHECK(recorded.size() == written.size());
  std::multiset<std::tuple<int64_t, std::string, double>> a, b;
  for (const auto& p : written) a.insert({p.step, p.key, p.value});
  for (const auto& p : recorded) b.insert({p.step, p.key, p.value});
  CHECK(a == b);
  CHECK(runs[0].status == "FINISHED");
  CHECK_FALSE(runs[0].best_checkpoint.empty());
  CHECK(manifest.artifacts(runs[0].id).size() >= 4);
}

std::vector<std::string> args(int steps) {
  return {kConfig,
          "trainer.max_steps=" + std::to_string(steps),
          "trainer.val_every_n_steps=100",
          "trainer.log_every_n_steps=1",
          "trainer.threads=1",
          "trainer.early_stopping.enabled=false",
          "data.num_train=256",
          "model.hidden=[256,256]"};  // about 0.5 ms a step
}

}  // namespace

TEST_CASE("a manifest server that is down: one line naming it, exit 2, no run directory" *
          doctest::test_suite("sqlite")) {
  Cli cli;
  const auto result =
      cli.run(concat({kConfig}, tiny()), {{"MLQ_DB", "postgresql://mlq:s3cret@127.0.0.1:1/runs"}});
  INFO(result.out);
  CHECK(result.exit_code == 2);
  CHECK(result.out.rfind(
            "error: run manifest postgresql://mlq:***@127.0.0.1:1/runs: cannot connect: ", 0) == 0);
  CHECK(count_lines(result.out) == 1);
  CHECK(result.out.find("s3cret") == std::string::npos);
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("the manifest server goes away and comes back during a run: nothing is lost" *
          doctest::test_suite("postgresql")) {
  OwnServer server;
  TempDir cwd;
  const pid_t pid =
      mlq::test::start_process(concat({MLQ_RUNNER}, args(8000)), cwd / "run.log",
                               {{"MLQ_DB", server.url()}, {"MLQ_PLUGIN_PATH", ""}}, cwd.path());
  {
    Manifest manifest(server.url());
    REQUIRE(wait_until([&] {
      const auto runs = manifest.list_runs();
      return !runs.empty() && manifest.metrics(runs[0].id).size() > 50;
    }));
  }
  server.pause();
  // The run notices, and goes on.
  CHECK(wait_until([&] { return contains(read_file(cwd / "run.log"), "connection lost"); }));
  server.resume();
  const int exit_code = mlq::test::wait_process(pid);
  const std::string log = read_file(cwd / "run.log");
  INFO(log);
  REQUIRE(exit_code == 0);
  CHECK(log.find("connection lost") != std::string::npos);
  CHECK(log.find("waiting writes done") != std::string::npos);
  const auto dirs = run_dirs(cwd.path());
  REQUIRE(dirs.size() == 1);
  check_nothing_lost(Manifest(server.url()), dirs[0]);
}

TEST_CASE("the manifest server is away when a run ends: runs sync brings it up to date" *
          doctest::test_suite("postgresql")) {
  OwnServer server;
  TempDir cwd;
  const pid_t pid =
      mlq::test::start_process(concat({MLQ_RUNNER}, args(3000)), cwd / "run.log",
                               {{"MLQ_DB", server.url()}, {"MLQ_PLUGIN_PATH", ""}}, cwd.path());
  {
    Manifest manifest(server.url());
    REQUIRE(wait_until([&] { return !manifest.list_runs().empty(); }));
  }
  server.pause();
  const int exit_code = mlq::test::wait_process(pid);
  const std::string log = read_file(cwd / "run.log");
  INFO(log);
  REQUIRE(exit_code == 0);  // the run itself went well
  CHECK(log.find("runner runs sync ") != std::string::npos);
  const auto dirs = run_dirs(cwd.path());
  REQUIRE(dirs.size() == 1);
  CHECK(read_file(dirs[0] / "manifest.json").find("\"status\": \"FINISHED\"") != std::string::npos);
  server.resume();
  for (int twice = 0; twice < 2; ++twice) {  // a second sync changes nothing
    const auto synced = mlq::test::run_runner({"runs", "sync", dirs[0].string()}, cwd.path(),
                                              {{"MLQ_DB", server.url()}});
    INFO(synced.out);
    CHECK(synced.exit_code == 0);
    CHECK(synced.out.find("status FINISHED") != std::string::npos);
    check_nothing_lost(Manifest(server.url()), dirs[0]);
  }
  const auto bad = mlq::test::run_runner({"runs", "sync", cwd.path().string()}, cwd.path(),
                                         {{"MLQ_DB", server.url()}});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("is not a run directory (no config.toml)") != std::string::npos);
}
