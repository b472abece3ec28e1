#include "mlq/launch/distributed_env.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

#include "mlq/launch/slurm_nodelist.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

struct Reader {
  const EnvLookup& lookup;

  // A non-negative integer variable; nullopt when unset.
  std::optional<long long> number(const std::string& name) const {
    const std::optional<std::string> value = lookup(name);
    if (!value) return std::nullopt;
    const std::string text = trim(*value);
    const std::optional<long long> number = parse_integer(text);
    if (!number)
      throw UserError(
          fmt::format("environment variable {}='{}': expected an integer", name, *value));
    const long long parsed = *number;
    if (parsed < 0)
      throw UserError(
          fmt::format("environment variable {}={}: expected a non-negative integer", name, parsed));
    return parsed;
  }

  int count(const std::string& name, long long fallback) const {
    const long long value = number(name).value_or(fallback);
    if (value < 1 || value > 1'000'000)
      throw UserError(
          fmt::format("environment variable {}={}: expected at least 1 process", name, value));
    return static_cast<int>(value);
  }

  int index(const std::string& name, long long fallback) const {
    const long long value = number(name).value_or(fallback);
    if (value > 1'000'000)
      throw UserError(fmt::format("environment variable {}={}: too large", name, value));
    return static_cast<int>(value);
  }

  int port(const std::string& name, int fallback) const {
    const long long value = number(name).value_or(fallback);
    if (value < 1 || value > 65535)
      throw UserError(
          fmt::format("environment variable {}={}: expected a port from 1 to 65535", name, value));
    return static_cast<int>(value);
  }
};

void check_rank(const char* rank_name, int rank, const char* size_name, int size) {
  if (rank >= size)
    throw UserError(fmt::format("environment variable {}={}: expected a rank below {}={}",
                                rank_name, rank, size_name, size));
}

DistributedEnv from_torchrun(const Reader& env) {
  DistributedEnv out;
  out.source = "torchrun";
  if (!env.lookup("RANK"))
    throw UserError(fmt::format("environment variable RANK is not set but WORLD_SIZE='{}' is",
                                env.lookup("WORLD_SIZE").value_or("")));
  if (!env.lookup("WORLD_SIZE"))
    throw UserError(fmt::format("environment variable WORLD_SIZE is not set but RANK='{}' is",
                                *env.lookup("RANK")));
  out.world_size = env.count("WORLD_SIZE", 1);
  out.rank = env.index("RANK", 0);
  check_rank("RANK", out.rank, "WORLD_SIZE", out.world_size);
  out.local_rank = env.index("LOCAL_RANK", out.rank);
  if (env.lookup("LOCAL_WORLD_SIZE"))
    check_rank("LOCAL_RANK", out.local_rank, "LOCAL_WORLD_SIZE", env.count("LOCAL_WORLD_SIZE", 1));
  out.node_rank = env.index("GROUP_RANK", 0);
  if (auto addr = env.lookup("MASTER_ADDR"); addr && !trim(*addr).empty())
    out.master_addr = trim(*addr);
  else if (out.world_size > 1)
    throw UserError(fmt::format(
        "environment variable MASTER_ADDR is not set (needed with WORLD_SIZE={})", out.world_size));
  if (!env.lookup("MASTER_PORT") && out.world_size > 1)
    throw UserError(fmt::format(
        "environment variable MASTER_PORT is not set (needed with WORLD_SIZE={})", out.world_size));
  out.master_port = env.port("MASTER_PORT", kDefaultMasterPort);
  return out;
}

// srun sets SLURM_STEP_ID (and the older SLURM_STEPID) in every task it starts. The batch script
// (and salloc's interactive step) also sees SLURM_PROCID=0 and the job's SLURM_NTASKS, but no
// step id: Slurm's setup_env (src/common/env.c) skips the special step ids of those steps.
bool in_srun_step(const Reader& env) {
  return env.lookup("SLURM_STEP_ID") || env.lookup("SLURM_STEPID");
}

// The batch script of a job with more than one task would wait forever for the other ranks.
DistributedEnv from_slurm_batch_script(const Reader& env) {
  const int tasks = env.count("SLURM_NTASKS", 1);
  if (tasks > 1)
    throw UserError(fmt::format(
        "environment variable SLURM_NTASKS={} but SLURM_STEP_ID is not set: this is the batch "
        "script, not an srun step; launch with `srun runner ...` (or use --nproc-per-node)",
        tasks));
  return DistributedEnv{};
}

DistributedEnv from_slurm(const Reader& env) {
  if (!in_srun_step(env)) return from_slurm_batch_script(env);
  DistributedEnv out;
  out.source = "slurm";
  if (!env.lookup("SLURM_NTASKS"))
    throw UserError(fmt::format(
        "environment variable SLURM_NTASKS is not set but SLURM_PROCID='{}' is (launch with srun)",
        *env.lookup("SLURM_PROCID")));
  out.world_size = env.count("SLURM_NTASKS", 1);
  out.rank = env.index("SLURM_PROCID", 0);
  check_rank("SLURM_PROCID", out.rank, "SLURM_NTASKS", out.world_size);
  out.local_rank = env.index("SLURM_LOCALID", 0);
  out.node_rank = env.index("SLURM_NODEID", 0);

  if (auto addr = env.lookup("MASTER_ADDR"); addr && !trim(*addr).empty()) {
    out.master_addr = trim(*addr);
  } else {
    std::string name = "SLURM_JOB_NODELIST";
    std::optional<std::string> nodelist = env.lookup(name);
    if (!nodelist) nodelist = env.lookup(name = "SLURM_NODELIST");
    if (nodelist) {
      try {
        out.master_addr = expand_nodelist(trim(*nodelist)).front();
      } catch (const std::invalid_argument& e) {
        throw UserError(fmt::format("environment variable {}='{}': {}", name, *nodelist, e.what()));
      }
    } else if (out.world_size > 1) {
      throw UserError(
          "environment variables MASTER_ADDR, SLURM_JOB_NODELIST and SLURM_NODELIST are not set "
          "(one is needed to find the master host)");
    }
  }
  int port = kDefaultMasterPort;
  if (auto job = env.number("SLURM_JOB_ID"))
    port = kSlurmPortBase + static_cast<int>(*job % kSlurmPortSpan);
  out.master_port = env.port("MASTER_PORT", port);
  return out;
}

}  // namespace

DistributedEnv read_distributed_env(const EnvLookup& lookup) {
  const Reader env{lookup};
  if (lookup("RANK") || lookup("WORLD_SIZE")) return from_torchrun(env);
  if (lookup("SLURM_PROCID")) return from_slurm(env);
  return DistributedEnv{};
}

DistributedEnv distributed_env() {
  return read_distributed_env([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace mlq
