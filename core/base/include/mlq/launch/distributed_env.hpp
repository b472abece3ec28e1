#pragma once
// Where this process sits in a data-parallel job, read from the environment that torchrun, srun
// or `runner --nproc-per-node=N` set (see docs/training.md, "Distributed training").
#include <functional>
#include <optional>
#include <string>

namespace mlq {

// PyTorch's default rendezvous port, used when nothing names one.
inline constexpr int kDefaultMasterPort = 29500;
// Under SLURM without MASTER_PORT: kSlurmPortBase + SLURM_JOB_ID % kSlurmPortSpan, so the tasks
// of one job agree on a port and concurrent jobs rarely collide (below Linux's ephemeral range).
inline constexpr int kSlurmPortBase = 20000;
inline constexpr int kSlurmPortSpan = 10000;

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = kDefaultMasterPort;
  std::string source = "single";  // "single", "torchrun" or "slurm"
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, GROUP_RANK, MASTER_ADDR, MASTER_PORT) win;
// else, in an srun step (SLURM_STEP_ID or SLURM_STEPID set), SLURM's (SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, SLURM_NODEID, the first host of SLURM_JOB_NODELIST or SLURM_NODELIST); else a
// single process. A batch script (SLURM_PROCID without a step id) is a single process when
// SLURM_NTASKS is unset or 1, an error when it is more. Throws UserError naming the variable and
// its value when one is malformed or inconsistent.
DistributedEnv read_distributed_env(const EnvLookup& lookup);
// The same, from this process's environment.
DistributedEnv distributed_env();

}  // namespace mlq
