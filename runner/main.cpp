// runner: the ML-Quickstart command line. Thin: parses, dispatches, prints.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "mlq/launch/local_launcher.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/allocator.hpp"
#include "mlq/util/error.hpp"
#include "mlq/version.hpp"
#include "runs/runs_command.hpp"

namespace {

constexpr const char* kUsage = R"(runner: train, evaluate and track audio ML experiments

usage:
  runner [--task=T] --config=FILE [overrides...]   train (and test) a task
  runner --nproc-per-node=N [--master-port=P] [--grace-period=S] <any of these>
                                                    N local worker processes, torchrun-style
  runner --cfg [--task=T] --config=FILE [overrides...]   print the resolved config
  runner --multirun --config=FILE a=1,2 b=x,y        one run per combination
  runner preprocess --config=FILE [overrides...]    decode, resample and index audio data
  runner features --config=FILE AUDIO -o OUT.npy    the model-input features of a file
  runner summary --config=FILE [overrides...]       the model: layers, parameters, compute
  runner regress --run ID --baseline ID|tag:NAME|file:F.json [--tolerance KEY=ABS]
                                                    compare with a baseline (exit 1: regressed)
  runner report ID [ID...] -o FILE.html             a self-contained HTML page: curves, metrics,
                                                    examples; several runs compared
  runner plugins [--plugin-dir DIR]                 list plugins and what they register
  runner sweep --config=F [a=1,2 b=interval(0,1) ...] [--strategy grid|random|tpe]
               [--trials N] [--objective M] [--jobs N] [--pruning-min-steps N]
                                                    a hyperparameter search (runner sweep --help;
                                                    sweep --resume ID, sweep list, sweep show ID)
  runner runs list|show|compare|tag|export|delete   past runs from the manifest (SQLite or
  runner runs copy|sync                             PostgreSQL; runner runs --help)
  runner <command> [--task=T] ...                   a command a plugin adds (see runner plugins),
                                                    e.g. synth, score, predict, summary

overrides (Hydra grammar): a.b=v  +a.b=v  ++a.b=v  ~a.b  group=option
run `runner <command> --help` for a command's options.
)";

int dispatch(const std::vector<std::string>& all_args) {
  // Launcher options come first: `runner --nproc-per-node=N ...` re-runs the rest N times.
  const mlq::LaunchOptions launch = mlq::parse_launch_options(all_args);
  if (launch.nproc_per_node > 1) return mlq::launch_local(launch);
  const std::vector<std::string>& args = launch.rest;
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("runner %s (plugin API %d)\n", mlq::kVersion, mlq::kApiVersion);
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "plugins") return mlq::plugins_command(rest);
  if (args[0] == "preprocess") return mlq::preprocess_command(rest);
  if (args[0] == "features") return mlq::features_command(rest);
  if (args[0] == "summary") return mlq::summary_command(rest);
  if (args[0] == "regress") return mlq::regress_command(rest);
  if (args[0] == "report") return mlq::report_command(rest);
  if (args[0] == "sweep") return mlq::sweep_command(rest);
  if (args[0] == "distributed-env") return mlq::distributed_env_command(rest);
  if (args[0] == "runs") return mlq::runs_command(rest, mlq::manifest_location(std::string()));
  // A bare word that is not an override names a command a plugin adds (runner plugins lists them).
  if (args[0][0] != '-' && args[0][0] != '~' && args[0].find('=') == std::string::npos)
    return mlq::plugin_command(args[0], rest);
  return mlq::train_command(args);
}

}  // namespace

int main(int argc, char** argv) {
  mlq::tune_allocator_for_training();
  // A file-size limit (ulimit -f) is a write error naming the file, not a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const mlq::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
