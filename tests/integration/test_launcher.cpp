// `runner --nproc-per-node=N`: the local launcher, driven with the hidden `runner distributed-env`
// command as its tiny worker; and the rendezvous as training sees it.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::ProcessResult;
using mlq::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kConfig = "--config=" + std::string(MLQ_SOURCE_DIR) + "/configs/regression.toml";

struct Cli {
  TempDir dir;
  std::map<std::string, std::string> env() const {
    return {{"MLQ_DB", (dir / "runs.sqlite").string()}, {"MLQ_PLUGIN_PATH", ""}};
  }
  ProcessResult run(const std::vector<std::string>& args,
                    std::map<std::string, std::string> extra = {}) const {
    auto vars = env();
    vars.insert(extra.begin(), extra.end());
    return mlq::test::run_runner(args, dir.path(), vars);
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The JSON lines the workers printed, by rank; checks rank 0's is unprefixed and the others'
// carry `[rank N] `.
std::map<int, nlohmann::json> worker_lines(const std::string& out) {
  std::map<int, nlohmann::json> by_rank;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const size_t brace = line.find("{\"");
    if (brace == std::string::npos) continue;
    const nlohmann::json json = nlohmann::json::parse(line.substr(brace));
    const int rank = json["rank"].get<int>();
    CHECK(line.substr(0, brace) == (rank == 0 ? "" : "[rank " + std::to_string(rank) + "] "));
    by_rank[rank] = json;
  }
  return by_rank;
}

bool process_gone(int pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

void check_all_gone(const std::map<int, nlohmann::json>& workers) {
  for (const auto& [rank, json] : workers) {
    INFO("rank " << rank);
    CHECK(process_gone(json["pid"].get<int>()));
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("launcher: each worker gets the torchrun variables") {
  Cli cli;
  const ProcessResult result = cli.run({"--nproc-per-node=3", "distributed-env"});
  INFO(result.out);
  CHECK(result.exit_code == 0);
  const auto workers = worker_lines(result.out);
  REQUIRE(workers.size() == 3);
  const int port = workers.at(0)["master_port"].get<int>();
  CHECK(port > 0);
  for (const auto& [rank, json] : workers) {
    CHECK(json["world_size"] == 3);
    CHECK(json["local_rank"] == rank);
    CHECK(json["node_rank"] == 0);
    CHECK(json["master_addr"] == "127.0.0.1");
    CHECK(json["master_port"] == port);
    CHECK(json["source"] == "torchrun");
    CHECK(json["launched"] == true);
  }
  check_all_gone(workers);
}

TEST_CASE("launcher: --master-port is passed on and --nproc-per-node=1 runs in process") {
  Cli cli;
  ProcessResult result =
      cli.run({"--nproc-per-node", "2", "--master-port=23456", "distributed-env"});
  INFO(result.out);
  CHECK(result.exit_code == 0);
  const auto workers = worker_lines(result.out);
  REQUIRE(workers.size() == 2);
  CHECK(workers.at(1)["master_port"] == 23456);

  result = cli.run({"--nproc-per-node=1", "distributed-env"});
  CHECK(result.exit_code == 0);
  const auto single = worker_lines(result.out);
  REQUIRE(single.size() == 1);
  CHECK(single.at(0)["source"] == "single");
  CHECK(single.at(0)["launched"] == false);
  CHECK(single.at(0)["pid"] != 0);
}

TEST_CASE("launcher: a failing worker stops the others and names its rank") {
  Cli cli;
  const auto start = Clock::now();
  const ProcessResult result =
      cli.run({"--nproc-per-node=3", "--grace-period=20", "distributed-env", "--sleep=60",
               "--fail-rank=1", "--fail-after=1.5"});
  INFO(result.out);
  CHECK(result.exit_code == 3);
  CHECK(contains(result.out, "runner: rank 1 exited with status 3; stopping the other workers\n"));
  // The others stop on SIGTERM (status 130, as an interrupted run), long before the grace period.
  CHECK(contains(result.out, "runner: rank 0 exited with status 130\n"));
  CHECK(contains(result.out, "runner: rank 2 exited with status 130\n"));
  CHECK(seconds_since(start) < 15);
  const auto workers = worker_lines(result.out);
  CHECK(workers.size() == 3);
  check_all_gone(workers);
}

TEST_CASE("launcher: workers that ignore SIGTERM are killed after the grace period") {
  Cli cli;
  const auto start = Clock::now();
  const ProcessResult result =
      cli.run({"--nproc-per-node=3", "--grace-period=1", "distributed-env", "--sleep=60",
               "--fail-rank=2", "--fail-after=1.5", "--ignore-signals"});
  INFO(result.out);
  CHECK(result.exit_code == 3);
  CHECK(contains(result.out, "runner: rank 2 exited with status 3; stopping the other workers"));
  CHECK(contains(result.out, "runner: rank 0 was killed by signal 9"));
  CHECK(contains(result.out, "runner: rank 1 was killed by signal 9"));
  CHECK(seconds_since(start) < 30);
  const auto workers = worker_lines(result.out);
  CHECK(workers.size() == 3);
  check_all_gone(workers);
}

TEST_CASE("launcher: SIGINT reaches every worker and the launcher exits 130") {
  Cli cli;
  const fs::path log = cli.dir / "launcher.log";
  const pid_t launcher =
      mlq::test::start_process({MLQ_RUNNER, "--nproc-per-node=3", "distributed-env", "--sleep=60"},
                               log, cli.env(), cli.dir.path());
  const auto start = Clock::now();
  std::map<int, nlohmann::json> workers;
  while (seconds_since(start) < 30) {
    workers = worker_lines(mlq::test::read_file(log));
    if (workers.size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(workers.size() == 3);
  for (const auto& [rank, json] : workers) CHECK_FALSE(process_gone(json["pid"].get<int>()));
  ::kill(launcher, SIGINT);
  CHECK(mlq::test::wait_process(launcher) == 130);
  CHECK(seconds_since(start) < 40);
  check_all_gone(workers);
}

TEST_CASE("launcher: misplaced or invalid launcher options are one-line errors") {
  Cli cli;
  ProcessResult result = cli.run({"distributed-env", "--nproc-per-node=2"});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "error: --nproc-per-node must come first"));
  result = cli.run({"--nproc-per-node=0", "distributed-env"});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "error: --nproc-per-node='0'"));
  result = cli.run({"--nproc-per-node=2", "distributed-env"}, {{"MLQ_LAUNCHED", "1"}});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "MLQ_LAUNCHED"));
}

TEST_CASE("distributed env: malformed variables stop training at startup") {
  Cli cli;
  ProcessResult result = cli.run({kConfig}, {{"RANK", "abc"}, {"WORLD_SIZE", "2"}});
  INFO(result.out);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "error: environment variable RANK='abc': expected an integer\n"));
  result = cli.run({"distributed-env"}, {{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "SLURM_PROCID=4: expected a rank below SLURM_NTASKS=4"));
  CHECK_FALSE(fs::exists(cli.dir / "outputs"));
}

TEST_CASE("distributed env: training with more than one process stops at startup for now") {
  Cli cli;
  ProcessResult result = cli.run(
      {kConfig},
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29511"}});
  INFO(result.out);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out,
                 "error: distributed training is not implemented yet: this is rank 0 "
                 "of 2 (from torchrun)"));
  result = cli.run({"--nproc-per-node=2", kConfig});
  CHECK(result.exit_code == 2);
  // Whichever rank stops first stops the other.
  CHECK(contains(result.out, "error: distributed training is not implemented yet"));
  CHECK(contains(result.out, "exited with status 2; stopping the other workers"));
  CHECK_FALSE(fs::exists(cli.dir / "outputs"));
  // `--cfg` still works under a launcher, on every rank.
  result = cli.run({"--nproc-per-node=2", "--cfg", kConfig});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "[rank 1] task = "));
}
