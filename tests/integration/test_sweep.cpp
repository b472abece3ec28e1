// runner sweep through the runner, on the regression task: parallel workers killed and resumed,
// pruning, failures, and bad input (on both manifest backends).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "cli.hpp"
#include "mlq/sweep/strategy.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using mlq::Manifest;
using namespace mlq::test::cli;

namespace {

// A sweep of short regression runs: 12 trials, 3 at once, with pruning.
std::vector<std::string> sweep_args() {
  return {"sweep",
          kConfig,
          "trainer.optimizer.lr=tag(log, interval(1e-4, 1e-1))",
          "model.dropout=0.0,0.1,0.2",
          "trainer.max_steps=200",
          "trainer.val_every_n_steps=20",
          "trainer.checkpoint.every_n_steps=20",
          "trainer.early_stopping.enabled=false",
          "trainer.progress_bar=false",
          "data.num_train=256",
          "--trials=12",
          "--jobs=3",
          "--strategy=random",
          "--seed=5",
          "--pruning-min-steps=40",
          "--pruning-eta=3"};
}

std::string only_sweep(const Cli& cli) {
  if (!testing_postgresql() && !fs::exists(cli.db())) return "";
  const auto sweeps = Manifest(cli.db()).list_sweeps();
  REQUIRE(sweeps.size() <= 1);
  return sweeps.empty() ? "" : sweeps[0].id;
}

}  // namespace

TEST_CASE("a sweep killed twice with SIGKILL and resumed runs each of its 12 trials once") {
  Cli cli;
  std::mt19937 random(20261206);
  std::vector<std::string> argv{MLQ_RUNNER};
  for (const auto& arg : sweep_args()) argv.push_back(arg);
  std::map<std::string, std::string> env{{"MLQ_DB", cli.db()}, {"MLQ_PLUGIN_PATH", ""}};
  std::string id;
  for (int kill = 0; kill < 2; ++kill) {
    const pid_t pid = mlq::test::start_process(argv, cli.dir / ("run" + std::to_string(kill)), env,
                                               cli.dir.path());
    // A random moment once trials are under way.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && (id = only_sweep(cli)).empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE_FALSE(id.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 1200));
    ::kill(pid, SIGKILL);
    mlq::test::wait_process(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its workers die with it
    argv = {MLQ_RUNNER, "sweep", "--resume", id, "--jobs=3"};
  }
  const auto resumed = cli.run({"sweep", "--resume", id.substr(0, 4), "--jobs", "3"});
  INFO(resumed.out);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.out, "sweep " + id + " (regression): FINISHED"));

  Manifest manifest(cli.db());
  const auto trials = manifest.sweep_trials(id);
  REQUIRE(trials.size() == 12);
  std::set<std::string> runs;
  for (const auto& t : trials) {
    CAPTURE(t.number);
    CHECK((t.status == "FINISHED" || t.status == "PRUNED"));
    CHECK(t.objective.has_value());
    runs.insert(t.run_id);
  }
  CHECK(runs.size() == 12);
  // The trials are the ones an uninterrupted sweep proposes: random draws from seed 5.
  const auto space = mlq::parse_search_space(
      {"trainer.optimizer.lr=tag(log, interval(1e-4, 1e-1))", "model.dropout=0.0,0.1,0.2"});
  const auto strategy = mlq::make_strategy("random", space, 5, true);
  for (const auto& t : trials) {
    const auto values = *strategy->propose(t.number, {});
    CHECK(t.params == std::vector<std::string>{"trainer.optimizer.lr=" + values[0],
                                               "model.dropout=" + values[1]});
  }
  // No trial ran to its end twice: one finished or pruned run per trial number.
  mlq::RunQuery query;
  query.where = "params.sweep.id = '" + id + "' and status in ('FINISHED', 'PRUNED')";
  query.columns = {"trial"};
  std::multiset<int64_t> numbers;
  for (const auto& row : manifest.query_runs(query))
    numbers.insert(std::get<int64_t>(*row.values[0]));
  CHECK(numbers.size() == 12);
  CHECK(std::set<int64_t>(numbers.begin(), numbers.end()).size() == 12);
  // The sweep's runs, through the query language.
  const auto listed = cli.run({"runs", "list", "--where", "sweep = '" + id + "'", "--format=csv"});
  CHECK(count_lines(listed.out) == 13);
  const auto shown = cli.run({"sweep", "show", id});
  CHECK(contains(shown.out, "objective val_loss (min)"));
  CHECK(contains(shown.out, "pruning: successive halving from 40 steps, eta 3"));
  CHECK(contains(cli.run({"sweep", "list"}).out, id + "  regression  FINISHED  random    "));
  // Its page: objectives, the parallel coordinates of all 12 trials, the best trials' curves.
  const auto report = cli.run({"report", "--sweep", id, "-o", (cli.dir / "sweep.html").string()});
  REQUIRE(report.exit_code == 0);
  const std::string page = mlq::test::read_file(cli.dir / "sweep.html");
  CHECK(contains(page, "<h1>Sweep " + id + "</h1>"));
  CHECK(contains(page, "data-trials=\"12\""));
  CHECK(contains(page, "The best 5 trials' curves"));
  CHECK(contains(page, "trainer.optimizer.lr"));
}

TEST_CASE("sweep: bad input is one line, exit 2, and no sweep") {
  Cli cli;
  auto fails = [&](std::vector<std::string> extra, const std::string& expected) {
    std::vector<std::string> args{"sweep", kConfig, "trainer.max_steps=5"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = cli.run(args);
    INFO(result.out);
    CHECK(result.exit_code == 2);
    CHECK(count_lines(result.out) == 1);
    CHECK(contains(result.out, "error: " + expected));
    CHECK(only_sweep(cli).empty());
  };
  fails({"trainer.optimizer.lr=loguniform(1e-4, 1)"},
        "sweep override 'trainer.optimizer.lr=loguniform(1e-4, 1)': unknown search-space "
        "function 'loguniform'");
  fails({"trainer.batch_size=range(64, 8)"},
        "sweep override 'trainer.batch_size=range(64, 8)': range(64, 8) is empty");
  fails({"model.dropout=0.0,0.1", "--objective=val_accuracy"},
        "runner sweep: the objective 'val_accuracy' is not a metric regression runs log "
        "(train_loss, val_loss, test_loss, val_mse, test_mse, val_r2, test_r2)");
  fails({"model.dropout=0.0,0.1", "--objective=val_r2", "--direction=min"},
        "runner sweep: direction 'min' contradicts the metric 'val_r2', where higher is better");
  fails({"model.dropout=0.0,0.1", "--strategy=bayes"},
        "sweep strategy 'bayes' is not one of grid, random or tpe");
  fails({"model.dropout=0.0,0.1", "model.widht=3"},
        "override 'model.widht=3': key 'model.widht' does not exist");
  fails({}, "runner sweep: no search space");
  const auto resume = cli.run({"sweep", "--resume", "abc", "--jobs=two"});
  CHECK(resume.exit_code == 2);
  CHECK(resume.out == "error: runner sweep: --jobs 'two' is not an integer\n");
}

TEST_CASE("sweep: failed trials retry, and max_failures stops the sweep naming them") {
  Cli cli;
  // hidden=[0] fails when its model is built; each trial fails twice (one retry).
  const auto result = cli.run({"sweep", kConfig, "model.hidden=[8],[0]", "trainer.max_steps=5",
                               "--retries=1", "--max-failures=1", "--strategy=grid"});
  INFO(result.out);
  CHECK(result.exit_code == 1);
  const std::string id = only_sweep(cli);
  REQUIRE_FALSE(id.empty());
  Manifest manifest(cli.db());
  const auto sweep = manifest.find_sweep(id);
  CHECK(sweep->status == "FAILED");
  CHECK(contains(sweep->error, "1 trials failed (max_failures = 1): trial 1 ("));
  const auto trials = manifest.sweep_trials(id);
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].status == "FINISHED");
  CHECK(trials[1].status == "FAILED");
  CHECK(trials[1].attempts == 2);
  const auto resumed = cli.run({"sweep", "--resume", id});
  CHECK(resumed.exit_code == 2);
  CHECK(contains(resumed.out, "error: runner sweep: sweep " + id + " failed: 1 trials failed"));
}

namespace {

// A one-node Slurm cluster of the test's own (tests/support/slurm_cluster.sh).
class SlurmCluster {
 public:
  SlurmCluster() {
    const auto started = mlq::test::run_process({"bash", script(), "start", folder()});
    REQUIRE_MESSAGE(started.exit_code == 0, started.out);
    conf_ = started.out.substr(0, started.out.find('\n'));
  }
  ~SlurmCluster() { mlq::test::run_process({"bash", script(), "stop", folder()}); }
  const std::string& conf() const { return conf_; }

 private:
  static std::string script() {
    return std::string(MLQ_SOURCE_DIR) + "/tests/support/slurm_cluster.sh";
  }
  std::string folder() const { return (dir_ / "slurm").string(); }
  mlq::test::TempDir dir_;
  std::string conf_;
};

}  // namespace

// The workers' manifest is what the other tests vary; this one runs on SQLite only.
TEST_CASE("sweep on a real one-node Slurm: array workers, scancel of the job, and a resume" *
          doctest::test_suite("sqlite")) {
  if (geteuid() != 0) {
    MESSAGE("skipped: this test needs root (slurmd starts jobs as their user)");
    return;
  }
  SlurmCluster slurm;
  Cli cli;
  const std::map<std::string, std::string> env{{"SLURM_CONF", slurm.conf()}};
  std::vector<std::string> args{"sweep",
                                kConfig,
                                "model.dropout=0.0,0.1,0.2",
                                "trainer.optimizer.lr=1e-3,3e-3",
                                "trainer.max_steps=1500",
                                "trainer.val_every_n_steps=100",
                                "trainer.checkpoint.every_n_steps=100",
                                "trainer.early_stopping.enabled=false",
                                "trainer.progress_bar=false",
                                "data.num_train=256",
                                "model.hidden=[256,256]",
                                "--launcher=slurm",
                                "--jobs=2",
                                "--sbatch=--cpus-per-task=1"};
  const auto submitted = cli.run(args, env);
  INFO(submitted.out);
  REQUIRE(submitted.exit_code == 0);
  const std::string id = only_sweep(cli);
  REQUIRE_FALSE(id.empty());
  const std::string job = submitted.out.substr(submitted.out.find("Slurm job ") + 10);
  const std::string job_id = job.substr(0, job.find(' '));
  const fs::path folder = cli.dir / "outputs" / "sweeps" / id;
  const std::string script = mlq::test::read_file(folder / "sweep.sbatch");
  CHECK(contains(script, "#SBATCH --array=0-1\n"));
  CHECK(contains(script, "#SBATCH --cpus-per-task=1\n"));
  CHECK(contains(script, "sweep --work " + id + " --db '" + cli.db() + "'"));

  // Once trials run, the whole job is cancelled.
  Manifest manifest(cli.db());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto running = [&] {
    for (const auto& t : manifest.sweep_trials(id))
      if (t.status == "RUNNING" && !t.run_id.empty()) return true;
    return false;
  };
  while (std::chrono::steady_clock::now() < deadline && !running())
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(running());
  CHECK(mlq::test::run_process({"scancel", job_id}, env).exit_code == 0);
  auto queued = [&] {
    return !mlq::test::run_process({"squeue", "-h", "-j", job_id}, env).out.empty();
  };
  while (std::chrono::steady_clock::now() < deadline && queued())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE_FALSE(queued());

  // The resume finishes it, through Slurm again, waiting for the job.
  const auto resumed =
      cli.run({"sweep", "--resume", id, "--launcher=slurm", "--jobs=2", "--wait"}, env);
  INFO(resumed.out);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.out, "sweep " + id + " (regression): FINISHED"));
  const auto trials = manifest.sweep_trials(id);
  REQUIRE(trials.size() == 6);
  for (const auto& t : trials) CHECK(t.status == "FINISHED");
  CHECK(fs::exists(folder / "worker-0.log"));
  CHECK(fs::exists(folder / "worker-1.log"));
}

TEST_CASE("sweep: a [sweep] table in the config gives the space and the settings") {
  Cli cli;
  const fs::path config = cli.dir / "sweep.toml";
  // The regression experiment, resolved, with a [sweep] table.
  const auto composed = cli.run({"--cfg", kConfig});
  REQUIRE(composed.exit_code == 0);
  mlq::test::write_file(config,
                        composed.out +
                            "\n[sweep]\nstrategy = \"random\"\ntrials = 3\nseed = 9\n"
                            "objective = \"val_r2\"\n"
                            "[sweep.space]\n\"model.dropout\" = \"0.0, 0.2\"\n"
                            "\"trainer.optimizer.lr\" = \"tag(log, interval(1e-3, 1e-2))\"\n");
  const auto result = cli.run({"sweep", "--config=" + config.string(), "trainer.max_steps=20",
                               "trainer.val_every_n_steps=10", "trainer.progress_bar=false"});
  INFO(result.out);
  REQUIRE(result.exit_code == 0);
  const std::string id = only_sweep(cli);
  Manifest manifest(cli.db());
  const auto sweep = manifest.find_sweep(id);
  CHECK(sweep->strategy == "random");
  CHECK(sweep->trials == 3);
  CHECK(sweep->objective == "val_r2");
  CHECK(sweep->direction == "max");  // the regression plugin declares r2 higher-is-better
  CHECK(contains(sweep->space, "model.dropout=0.0, 0.2"));
  const auto trials = manifest.sweep_trials(id);
  REQUIRE(trials.size() == 3);
  for (const auto& t : trials) {
    CHECK(t.status == "FINISHED");
    CHECK(t.params.size() == 2);
  }
}
