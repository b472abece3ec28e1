// `runner --nproc-per-node=N`: the local launcher, driven with the hidden `runner distributed-env`
// command as its tiny worker; the rendezvous as training sees it; data-parallel training.
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

#include "integration/run_args.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/manifest_location.hpp"
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
  std::string db() const { return mlq::test::manifest_location(dir / "runs.sqlite"); }
  std::map<std::string, std::string> env() const {
    return {{"MLQ_DB", db()}, {"MLQ_PLUGIN_PATH", ""}};
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
  result = cli.run({"distributed-env"},
                   {{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "SLURM_PROCID=4: expected a rank below SLURM_NTASKS=4"));
  // A batch script of 4 tasks run without srun would wait forever for ranks 1 to 3.
  result = cli.run({kConfig}, {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}});
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out,
                 "error: environment variable SLURM_NTASKS=4 but SLURM_STEP_ID is "
                 "not set: this is the batch script, not an srun step; launch with "
                 "`srun runner ...` (or use --nproc-per-node)\n"));
  CHECK_FALSE(fs::exists(cli.dir / "outputs"));
}

namespace {

// Data-parallel training on loopback (c10d Gloo): short runs of the regression task. Dropout is
// off so that 2 ranks x batch 8 and 1 rank x batch 16 compute the same thing.
std::vector<std::string> dp_args(int nproc, int batch, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--nproc-per-node=" + std::to_string(nproc)};
  extra.insert(extra.begin(), {"trainer.max_steps=20", "model.dropout=0",
                               "trainer.batch_size=" + std::to_string(batch)});
  for (const auto& arg : mlq::test::short_run_args(extra)) args.push_back(arg);
  return args;
}

// The checksum each rank logs of its parameters at the end of fit, by rank.
std::map<int, std::string> parameter_checksums(const std::string& out) {
  std::map<int, std::string> by_rank;
  std::istringstream lines(out);
  const std::string marker = " parameter checksum ";
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(marker);
    if (at == std::string::npos) continue;
    const size_t rank_at = line.rfind("rank ", at);
    REQUIRE(rank_at != std::string::npos);
    by_rank[std::stoi(line.substr(rank_at + 5))] = line.substr(at + marker.size());
  }
  return by_rank;
}

std::vector<double> metric_values(const mlq::Manifest& manifest, const std::string& run_id,
                                  const std::string& key) {
  std::vector<double> values;
  for (const auto& point : manifest.metrics(run_id, key)) values.push_back(point.value);
  return values;
}

size_t count_run_dirs(const fs::path& cwd) {
  size_t count = 0;
  std::error_code ignored;
  for (const auto& day : fs::directory_iterator(cwd / "outputs" / "regression", ignored))
    for (const auto& run : fs::directory_iterator(day.path(), ignored)) count += run.is_directory();
  return count;
}

}  // namespace

TEST_CASE("distributed training: two ranks write one run and end with identical parameters") {
  Cli cli;
  const ProcessResult result = cli.run(dp_args(2, 8));
  INFO(result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "[rank 1] rank 1 of 2: process group ready (gloo via 127.0.0.1:"));
  const auto checksums = parameter_checksums(result.out);
  REQUIRE(checksums.size() == 2);
  CHECK(checksums.at(0) == checksums.at(1));
  CHECK(contains(checksums.at(0), "at step 20"));
  mlq::Manifest manifest(cli.db());
  const auto runs = manifest.list_runs("regression");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == mlq::kFinished);
  CHECK(count_run_dirs(cli.dir.path()) == 1);
  CHECK(metric_values(manifest, runs[0].id, "train_loss").size() == 20);  // rank 0 logs alone
}

TEST_CASE("distributed training: every rank resumes from rank 0's checkpoint") {
  Cli cli;
  REQUIRE(cli.run(dp_args(2, 8)).exit_code == 0);
  mlq::Manifest manifest(cli.db());
  const fs::path last =
      fs::path(manifest.list_runs("regression").at(0).run_dir) / "checkpoints" / "last.pt";
  REQUIRE(fs::exists(last));
  const ProcessResult result =
      cli.run(dp_args(2, 8, {"trainer.max_steps=30", "trainer.resume=" + last.string()}));
  INFO(result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "[rank 1] resumed from " + last.string() + " at step 20"));
  const auto checksums = parameter_checksums(result.out);
  REQUIRE(checksums.size() == 2);
  CHECK(checksums.at(0) == checksums.at(1));
  CHECK(contains(checksums.at(0), "at step 30"));
  CHECK(manifest.list_runs("regression").size() == 2);
}

TEST_CASE("distributed training: 2 ranks of batch 8 match 1 rank of batch 16") {
  Cli two, one;
  REQUIRE(two.run(dp_args(2, 8, {"trainer.val_every_n_steps=10"})).exit_code == 0);
  REQUIRE(one.run(dp_args(1, 16, {"trainer.val_every_n_steps=10"})).exit_code == 0);
  mlq::Manifest two_manifest(two.db()), one_manifest(one.db());
  const std::string two_id = two_manifest.list_runs("regression").at(0).id;
  const std::string one_id = one_manifest.list_runs("regression").at(0).id;
  for (const std::string key : {"train_loss", "val_mse", "test_mse", "test_r2"}) {
    INFO(key);
    const auto a = metric_values(two_manifest, two_id, key);
    const auto b = metric_values(one_manifest, one_id, key);
    REQUIRE(a.size() == b.size());
    REQUIRE_FALSE(a.empty());
    for (size_t i = 0; i < a.size(); ++i)
      CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));  // up to float summation order
  }
}

TEST_CASE("distributed training: a worker killed mid-run fails the job") {
  Cli cli;
  const fs::path log = cli.dir / "launcher.log";
  std::vector<std::string> argv{MLQ_RUNNER};
  for (const auto& arg : dp_args(2, 8, {"trainer.max_steps=100000", "++data.load_delay_ms=0.5"}))
    argv.push_back(arg);
  const pid_t launcher = mlq::test::start_process(argv, log, cli.env(), cli.dir.path());
  const auto start = Clock::now();
  const std::string ready = "[rank 1] rank 1 of 2: process group ready";
  int worker = 0;
  while (seconds_since(start) < 60 && worker == 0) {
    const std::string out = mlq::test::read_file(log);
    if (const size_t at = out.find(ready); at != std::string::npos) {
      const size_t pid_at = out.find("pid ", at);
      if (pid_at != std::string::npos && out.find(')', pid_at) != std::string::npos)
        worker = std::stoi(out.substr(pid_at + 4));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(worker > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(worker, SIGKILL);
  CHECK(mlq::test::wait_process(launcher) == 128 + SIGKILL);
  CHECK(seconds_since(start) < 60);
  const std::string out = mlq::test::read_file(log);
  INFO(out);
  CHECK(contains(out, "runner: rank 1 was killed by signal 9"));
  CHECK(contains(out, "failed: process group: another rank stopped ("));
  const auto runs = mlq::Manifest(cli.db()).list_runs("regression");
  REQUIRE(runs.size() == 1);
  CHECK((runs[0].status == mlq::kFailed || runs[0].status == mlq::kKilled));
}

namespace {

// Each rank's pid, from its `rank R of N: process group ready (..., pid P)` line.
std::map<int, int> worker_pids(const std::string& out) {
  std::map<int, int> by_rank;
  std::istringstream lines(out);
  const std::string marker = ": process group ready (";
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(marker);
    const size_t rank_at = line.rfind("rank ", at);
    const size_t pid_at = line.find("pid ", at);
    if (at == std::string::npos || rank_at == std::string::npos || pid_at == std::string::npos ||
        line.find(')', pid_at) == std::string::npos)
      continue;
    by_rank[std::stoi(line.substr(rank_at + 5))] = std::stoi(line.substr(pid_at + 4));
  }
  return by_rank;
}

// S in rank 0's `run ... interrupted at step S; resume with trainer.resume=auto`; -1 if none.
int interrupted_step(const std::string& out) {
  const std::string marker = "interrupted at step ";
  const size_t end = out.find("; resume with trainer.resume=auto");
  const size_t at = out.rfind(marker, end);
  if (end == std::string::npos || at == std::string::npos) return -1;
  return std::stoi(out.substr(at + marker.size()));
}

}  // namespace

TEST_CASE("distributed training: SIGINT to the launcher stops every rank and resume finishes") {
  Cli cli;
  const fs::path log = cli.dir / "launcher.log";
  // No validation or periodic checkpoint before step 120: last.pt comes from the interrupt.
  const std::vector<std::string> args =
      dp_args(2, 8,
              {"trainer.max_steps=120", "trainer.val_every_n_steps=120",
               "trainer.progress_bar=true", "++data.load_delay_ms=0.5"});
  std::vector<std::string> argv{MLQ_RUNNER};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t launcher = mlq::test::start_process(argv, log, cli.env(), cli.dir.path());
  const auto start = Clock::now();
  std::string out;
  while (seconds_since(start) < 60 && !contains(out, "\nstep 10/120 ")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    out = mlq::test::read_file(log);
  }
  REQUIRE_MESSAGE(contains(out, "\nstep 10/120 "), out);  // rank 0's progress line
  ::kill(launcher, SIGINT);
  CHECK(mlq::test::wait_process(launcher) == 130);
  out = mlq::test::read_file(log);
  INFO(out);
  const int step = interrupted_step(out);
  CHECK(step >= 10);
  CHECK(step < 120);
  CHECK(contains(out, "[rank 1] error: rank 1 interrupted at step " + std::to_string(step) + "\n"));
  const auto pids = worker_pids(out);
  REQUIRE(pids.size() == 2);
  for (const auto& [rank, pid] : pids) {
    INFO("rank " << rank);
    CHECK(process_gone(pid));
  }
  mlq::Manifest manifest(cli.db());
  auto runs = manifest.list_runs("regression");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == mlq::kKilled);
  const fs::path last = fs::path(runs[0].run_dir) / "checkpoints" / "last.pt";
  CHECK(fs::exists(last));

  std::vector<std::string> resume_args = args;
  resume_args.push_back("trainer.resume=auto");
  const ProcessResult resumed = cli.run(resume_args);
  INFO(resumed.out);
  REQUIRE(resumed.exit_code == 0);
  // Both ranks continue from last.pt at the interrupted step.
  CHECK(contains(resumed.out, "[rank 1] resumed from " + last.string() + " at step " +
                                  std::to_string(step) + "\n"));
  const auto checksums = parameter_checksums(resumed.out);
  REQUIRE(checksums.size() == 2);
  CHECK(checksums.at(0) == checksums.at(1));
  CHECK(contains(checksums.at(0), "at step 120"));
  runs = manifest.list_runs("regression");
  REQUIRE(runs.size() == 1);  // the same run continued
  CHECK(runs[0].status == mlq::kFinished);
  CHECK(metric_values(manifest, runs[0].id, "train_loss").size() == 120);
}

TEST_CASE("distributed training: --cfg works on every rank and --multirun is refused") {
  Cli cli;
  ProcessResult result = cli.run({"--nproc-per-node=2", "--cfg", kConfig});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "[rank 1] task = "));
  result = cli.run({"--nproc-per-node=2", "--multirun", kConfig, "trainer.seed=1,2"});
  INFO(result.out);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "error: --multirun trains with one process only"));
  CHECK_FALSE(fs::exists(cli.dir / "outputs"));
}
