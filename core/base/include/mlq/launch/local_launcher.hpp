#pragma once
// `runner --nproc-per-node=N ...`: a local launcher in the manner of torchrun. It starts this
// binary N times with the rest of the arguments and torchrun's variables set, forwards SIGINT
// and SIGTERM to the workers, and stops them all when one fails (docs/training.md).
#include <optional>
#include <string>
#include <vector>

namespace mlq {

struct LaunchOptions {
  int nproc_per_node = 0;          // 0: no --nproc-per-node (run in this process)
  std::optional<int> master_port;  // unset: a free port on 127.0.0.1
  double grace_seconds = 10;       // between SIGTERM and SIGKILL once a worker has failed
  std::vector<std::string> rest;   // each worker's arguments
};

// Takes the leading --nproc-per-node=N, --master-port=P and --grace-period=S (also `--opt V`)
// off `args`. They must come before the command and its options: found later, or without
// --nproc-per-node, or inside a launched worker (MLQ_LAUNCHED=1), they are a UserError.
LaunchOptions parse_launch_options(const std::vector<std::string>& args);

// Runs /proc/self/exe with options.rest in nproc_per_node processes and waits for all of them.
// Returns 0 when every worker exited 0; else the first failed worker's exit status (128 + signal
// for a worker killed by a signal).
int launch_local(const LaunchOptions& options);

// A TCP port on 127.0.0.1 that was free a moment ago (bound as port 0, then released).
int free_port();

}  // namespace mlq
