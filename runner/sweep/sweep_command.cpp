// runner sweep: a hyperparameter search recorded in the manifest, run by workers that claim its
// trials (docs/sweeps.md).
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "commands.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/launch/trainer_options.hpp"
#include "mlq/sweep/strategy.hpp"
#include "mlq/tracking/metric_direction.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/cli.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/process.hpp"
#include "mlq/util/text.hpp"
#include "sweep/sweep.hpp"
#include "train/training.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

using sweep::Settings;

cxxopts::Options sweep_options() {
  cxxopts::Options options(
      "runner sweep",
      "A hyperparameter search: runner sweep --config=FILE [overrides] where overrides may be\n"
      "search dimensions (a=1,2,3  a=choice(x,y)  a=range(1,10,2)  a=interval(0,1)\n"
      "a=int(interval(1,64))  a=tag(log, interval(1e-5,1e-1))) or a [sweep] table; also\n"
      "runner sweep --resume ID, runner sweep list, runner sweep show ID.");
  add_compose_options(options);
  add_plugin_dir_option(options);
  options.add_options()("strategy",
                        "grid, random or tpe (default: grid when every dimension is "
                        "a choice, else tpe)",
                        cxxopts::value<std::string>())(
      "trials", "how many trials (default: the grid's size, else 20)",
      cxxopts::value<std::string>())("objective", "the metric to optimise (default: val_loss)",
                                     cxxopts::value<std::string>())(
      "direction", "min or max (default: the metric's: losses and errors min, others max)",
      cxxopts::value<std::string>())("jobs", "trials at once on this machine (default 1)",
                                     cxxopts::value<std::string>())(
      "seed", "the random and tpe strategies' seed (default 0)", cxxopts::value<std::string>())(
      "retries", "runs of a failed trial again (default 0)", cxxopts::value<std::string>())(
      "max-failures", "stop the sweep after this many failed trials (default: never)",
      cxxopts::value<std::string>())("pruning-min-steps",
                                     "successive halving: the first rung, in steps (default: none)",
                                     cxxopts::value<std::string>())(
      "pruning-eta", "successive halving: keep the best 1/eta at each rung (default 3)",
      cxxopts::value<std::string>())("resume", "finish the sweep ID",
                                     cxxopts::value<std::string>())(
      "work", "(internal) a worker of the sweep ID", cxxopts::value<std::string>())(
      "threads", "(internal) trainer.threads of each trial", cxxopts::value<std::string>())(
      "launcher", "local (default) or slurm: one sbatch --array job of --jobs workers",
      cxxopts::value<std::string>())("partition", "slurm: the partition",
                                     cxxopts::value<std::string>())(
      "time", "slurm: each worker's time limit (sbatch --time)", cxxopts::value<std::string>())(
      "gpus-per-task", "slurm: GPUs of each worker", cxxopts::value<std::string>())(
      "sbatch", "slurm: one more #SBATCH line, e.g. --sbatch=--mem=8G (repeatable)",
      cxxopts::value<std::vector<std::string>>())("wait", "slurm: return once the job has ended")(
      "db", "the manifest (default: the config's manifest.db, MLQ_DB, outputs/runs.sqlite)",
      cxxopts::value<std::string>())("h,help", "this help");
  return options;
}

// An option's integer, else the [sweep] table's, else `fallback`.
int64_t integer_setting(const cxxopts::ParseResult& result, const Config& config,
                        const std::string& option, const std::string& key, int64_t fallback,
                        int64_t minimum) {
  std::optional<int64_t> value;
  if (result.count(option)) {
    value = parse_integer(result[option].as<std::string>());
    if (!value)
      throw UserError(fmt::format("runner sweep: --{} '{}' is not an integer", option,
                                  result[option].as<std::string>()));
  } else if (config.has("sweep." + key)) {
    value = config.get_int("sweep." + key);
  }
  const int64_t v = value.value_or(fallback);
  if (v < minimum)
    throw UserError(fmt::format("runner sweep: {} = {} must be at least {}", key, v, minimum));
  return v;
}

std::string text_setting(const cxxopts::ParseResult& result, const Config& config,
                         const std::string& option, const std::string& key,
                         const std::string& fallback) {
  if (result.count(option)) return result[option].as<std::string>();
  if (config.has("sweep." + key)) return config.get_string("sweep." + key);
  return fallback;
}

// Starts `jobs` worker processes (this runner, `sweep --work ID`), which die with this process,
// and waits for them: 130 if any was interrupted, else 0.
int run_workers(const std::string& manifest, const std::string& id, int64_t jobs) {
  if (jobs == 1) return sweep::work(manifest, id, 0);
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const std::string threads = std::to_string(std::max<int64_t>(1, cores / jobs));
  std::vector<pid_t> pids;
  const pid_t parent = getpid();
  for (int64_t i = 0; i < jobs; ++i) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("runner sweep: fork failed");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      const char* argv[] = {"/proc/self/exe", "sweep",     "--work",        id.c_str(), "--db",
                            manifest.c_str(), "--threads", threads.c_str(), nullptr};
      execv("/proc/self/exe", const_cast<char* const*>(argv));
      _exit(127);
    }
    pids.push_back(pid);
  }
  int worst = 0;
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    worst = std::max(worst, code);
  }
  return worst;
}

// Trials a killed worker left RUNNING: finished from their run if it ended, else PENDING again
// (their run resumes from its last checkpoint). Returns how many were released.
int release_abandoned_trials(Manifest& manifest, const SweepRecord& sweep) {
  manifest.mark_dead_runs();
  int released = 0;
  const std::string host = host_name();
  for (SweepTrial t : manifest.sweep_trials(sweep.id)) {
    if (t.status != kRunning) continue;
    const size_t colon = t.worker.rfind(':');
    const bool local = t.worker.substr(0, colon) == host;
    const auto pid = parse_integer(colon == std::string::npos ? "" : t.worker.substr(colon + 1));
    const auto run = t.run_id.empty() ? std::nullopt : manifest.find_run(t.run_id);
    const bool worker_gone = local && pid && process_gone(static_cast<pid_t>(*pid));
    if (!worker_gone && !(run && run->status != kRunning)) continue;
    if (run && (run->status == kFinished || run->status == kPruned)) {
      t.status = run->status;
      t.objective = sweep::run_objective(manifest, run->id, sweep);
    } else {
      t.status = kPending;
    }
    t.worker.clear();
    manifest.update_trial(t);
    ++released;
  }
  return released;
}

// Runs the sweep's workers here (`jobs` processes) or submits them to Slurm.
int launch(const cxxopts::ParseResult& result, const std::string& manifest,
           const SweepRecord& sweep, int64_t jobs) {
  const std::string launcher =
      result.count("launcher") ? result["launcher"].as<std::string>() : "local";
  if (launcher == "local") return run_workers(manifest, sweep.id, jobs);
  if (launcher != "slurm")
    throw UserError(fmt::format("runner sweep: --launcher '{}' is not local or slurm", launcher));
  sweep::SlurmOptions slurm;
  slurm.tasks = jobs;
  if (result.count("partition")) slurm.partition = result["partition"].as<std::string>();
  if (result.count("time")) slurm.time = result["time"].as<std::string>();
  if (result.count("gpus-per-task"))
    slurm.gpus_per_task = integer_setting(result, Config(), "gpus-per-task", "gpus_per_task", 0, 0);
  if (result.count("sbatch")) slurm.extra_lines = result["sbatch"].as<std::vector<std::string>>();
  slurm.wait = result.count("wait") > 0;
  const Settings settings = sweep::parse_settings(sweep.settings);
  const Config config = compose({settings.config_file, settings.task, settings.overrides});
  const int status = sweep::submit_to_slurm(
      slurm, manifest, sweep.id, fs::absolute(output_root(config)) / "sweeps" / sweep.id);
  return status;
}

// Resumes a local sweep: its workers run what is pending. The workers of the attempt that was
// killed die with it (PR_SET_PDEATHSIG) but may still be dying when this one starts; the trials
// they held are released once they are gone (waiting up to 10 s), and workers run them too.
int resume_locally(const cxxopts::ParseResult& result, Manifest& manifest, const std::string& db,
                   const SweepRecord& sweep, int64_t jobs) {
  release_abandoned_trials(manifest, sweep);
  int status = launch(result, db, sweep, jobs);
  for (int wait = 0; status == 0 && wait < 20; ++wait) {
    const auto trials = manifest.sweep_trials(sweep.id);
    if (std::none_of(trials.begin(), trials.end(),
                     [](const SweepTrial& t) { return t.status == kRunning; }))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (release_abandoned_trials(manifest, sweep) > 0) status = launch(result, db, sweep, jobs);
  }
  return status;
}

// Finished when every trial of the budget has ended; prints the sweep. A failed sweep exits 1.
int conclude(const std::string& location, const std::string& id, int status) {
  {
    Manifest manifest(location);
    const SweepRecord sweep = *manifest.find_sweep(id);
    const auto trials = manifest.sweep_trials(id);
    const bool all_ended = std::all_of(trials.begin(), trials.end(), [](const SweepTrial& t) {
      return t.status == kFinished || t.status == kPruned || t.status == kFailed;
    });
    if (sweep.status == kRunning && all_ended &&
        static_cast<int64_t>(trials.size()) >= sweep.trials)
      manifest.set_sweep_status(id, kFinished);
    if (sweep.status == kFailed) status = std::max(status, 1);
  }
  sweep::show_sweep(location, id, std::cout);
  return status;
}

std::string new_sweep_id() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device() ^ getpid());
  return fmt::format("{:08x}", static_cast<uint32_t>(generator()));
}

int new_sweep(const cxxopts::Options& options, const cxxopts::ParseResult& result) {
  ComposeRequest request = compose_request(options, result);
  SearchSpace space = parse_search_space(request.overrides);
  Settings settings;
  settings.config_file = request.config_file;
  settings.task = request.task;
  settings.overrides = space.fixed;
  settings.plugin_dirs = plugin_dirs(result);
  const Config base = compose({request.config_file, request.task, space.fixed});
  // [sweep.space]: "dotted.key" = "spec" (its keys are override keys, so read them as written).
  if (const toml::node* node = base.table().at_path("sweep.space").node()) {
    const toml::table* table = node->as_table();
    if (!table)
      throw UserError(
          fmt::format("config key 'sweep.space' ({}): expected a table of \"key\" = "
                      "\"spec\" strings",
                      base.origin("sweep.space")));
    for (const auto& [key, value] : *table) {
      const auto spec = value.value<std::string>();
      if (!spec)
        throw UserError(
            fmt::format("config key 'sweep.space' ({}): '{}' must be a string such as "
                        "\"interval(0, 1)\"",
                        base.origin("sweep.space"), key.str()));
      space.dimensions.push_back(parse_dimension(std::string(key.str()), *spec));
    }
  }
  if (space.dimensions.empty())
    throw UserError(
        "runner sweep: no search space: give dimensions as overrides (lr=interval(1e-4,"
        "1e-1), model=mlp,cnn) or in the config's [sweep.space] table");
  bool all_choices = true;
  for (const Dimension& d : space.dimensions)
    all_choices = all_choices && d.kind == Dimension::Kind::Choice;

  SweepRecord sweep;
  sweep.task = base.get_string("task");
  sweep.strategy = text_setting(result, base, "strategy", "strategy", all_choices ? "grid" : "tpe");
  sweep.objective = text_setting(result, base, "objective", "objective", "val_loss");
  settings.seed = static_cast<uint64_t>(integer_setting(result, base, "seed", "seed", 0, 0));
  settings.retries = integer_setting(result, base, "retries", "retries", 0, 0);
  settings.max_failures = integer_setting(result, base, "max-failures", "max_failures", 0, 0);
  settings.min_steps =
      integer_setting(result, base, "pruning-min-steps", "pruning.min_steps", 0, 0);
  settings.eta = integer_setting(result, base, "pruning-eta", "pruning.eta", 3, 2);
  // The direction is settled below; proposals before any result do not depend on it.
  const auto strategy = make_strategy(sweep.strategy, space, settings.seed, true);
  sweep.trials = integer_setting(result, base, "trials", "trials",
                                 strategy->size() > 0 ? strategy->size() : 20, 1);
  if (strategy->size() > 0) sweep.trials = std::min(sweep.trials, strategy->size());
  const int64_t jobs = integer_setting(result, base, "jobs", "jobs", 1, 1);

  // The first trial's config, checked before anything is recorded.
  std::vector<std::string> first = space.fixed;
  const auto values = strategy->propose(0, {});
  for (size_t i = 0; i < space.dimensions.size(); ++i)
    first.push_back(space.dimensions[i].override_for((*values)[i]));
  const Config config = compose({request.config_file, request.task, first});
  TrainerOptions::from(config.section("trainer"));
  Registry registry;
  PluginLoader plugins;
  load_training(settings.plugin_dirs, registry, plugins);
  registry.get("tasks", sweep.task);
  const MetricDirections directions = metric_directions(config, &registry);
  const std::vector<std::string> logged =
      directions.all_declared ? directions.logged_keys() : std::vector<std::string>{};
  const bool known =
      logged.empty() ? sweep.objective == "train_loss" || sweep.objective.rfind("val_", 0) == 0 ||
                           sweep.objective.rfind("test_", 0) == 0
                     : std::find(logged.begin(), logged.end(), sweep.objective) != logged.end();
  if (!known)
    throw UserError(fmt::format("runner sweep: the objective '{}' is not a metric {} runs log ({})",
                                sweep.objective, sweep.task,
                                logged.empty() ? "train_loss, val_<name>, test_<name>"
                                               : fmt::format("{}", fmt::join(logged, ", "))));
  const std::string natural = directions.mode(sweep.objective);
  sweep.direction = text_setting(result, base, "direction", "direction", natural);
  if (sweep.direction != "min" && sweep.direction != "max")
    throw UserError(fmt::format("runner sweep: direction '{}' is not min or max", sweep.direction));
  if (sweep.direction != natural)
    throw UserError(
        fmt::format("runner sweep: direction '{}' contradicts the metric '{}', where {} is better",
                    sweep.direction, sweep.objective, natural == "min" ? "lower" : "higher"));

  settings.manifest = result.count("db") ? manifest_location(result["db"].as<std::string>())
                                         : manifest_location(config);
  sweep.id = new_sweep_id();
  sweep.start_time = now_seconds();
  sweep.space = sweep::space_json(space);
  sweep.settings = sweep::settings_json(settings);
  Manifest(settings.manifest).create_sweep(sweep);
  log::info("sweep {} ({}, {} trials of {}, objective {} {}): resume with runner sweep --resume {}",
            sweep.id, sweep.strategy, sweep.trials, sweep.task, sweep.objective, sweep.direction,
            sweep.id);
  const int status = launch(result, settings.manifest, sweep, jobs);
  if (result.count("launcher") && result["launcher"].as<std::string>() == "slurm" &&
      !result.count("wait"))
    return status;  // the job runs on: runner sweep show ID follows it
  return conclude(settings.manifest, sweep.id, status);
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  cxxopts::Options options = sweep_options();
  if (!args.empty() && (args[0] == "list" || args[0] == "show")) {
    cxxopts::Options sub("runner sweep " + args[0], "runner sweep list | show ID [--db DB]");
    sub.add_options()("db", "the manifest", cxxopts::value<std::string>())(
        "id", "the sweep", cxxopts::value<std::vector<std::string>>())("h,help", "this help");
    sub.parse_positional({"id"});
    const auto result = parse_options(sub, {args.begin() + 1, args.end()});
    if (printed_help(sub, result)) return 0;
    const std::string db =
        manifest_location(result.count("db") ? result["db"].as<std::string>() : std::string());
    if (args[0] == "list") return sweep::list_sweeps(db, std::cout);
    const auto ids = result.count("id") ? result["id"].as<std::vector<std::string>>()
                                        : std::vector<std::string>{};
    if (ids.size() != 1) throw UserError("runner sweep show: expected one sweep id");
    return sweep::show_sweep(db, ids[0], std::cout);
  }
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const std::string db =
      manifest_location(result.count("db") ? result["db"].as<std::string>() : std::string());
  if (result.count("work")) {
    const int64_t threads = integer_setting(result, Config(), "threads", "threads", 0, 0);
    return sweep::work(db, result["work"].as<std::string>(), threads);
  }
  if (result.count("resume")) {
    const int64_t jobs = integer_setting(result, Config(), "jobs", "jobs", 1, 1);
    Manifest manifest(db);
    const auto sweep = manifest.find_sweep(result["resume"].as<std::string>());
    if (!sweep)
      throw UserError(fmt::format("runner sweep: no sweep '{}' in {}",
                                  result["resume"].as<std::string>(), manifest.location()));
    if (sweep->status == kFailed)
      throw UserError(fmt::format("runner sweep: sweep {} failed: {}", sweep->id, sweep->error));
    const bool slurm = result.count("launcher") && result["launcher"].as<std::string>() == "slurm";
    if (!slurm) return conclude(db, sweep->id, resume_locally(result, manifest, db, *sweep, jobs));
    release_abandoned_trials(manifest, *sweep);
    const int status = launch(result, db, *sweep, jobs);
    if (!result.count("wait")) return status;
    return conclude(db, sweep->id, status);
  }
  return new_sweep(options, result);
}

}  // namespace mlq
