// runner distributed-env: the rendezvous this process would use, as one line of JSON. A
// diagnostic (docs/training.md), also the tests' tiny worker for `runner --nproc-per-node=N`.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "mlq/launch/distributed_env.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) {
  g_stop = 1;
}

}  // namespace

int distributed_env_command(const std::vector<std::string>& args) {
  cxxopts::Options options("runner distributed-env",
                           "Print this process's rank, world size and rendezvous as JSON");
  options.add_options()("sleep", "then wait this many seconds (SIGINT/SIGTERM: exit 130)",
                        cxxopts::value<double>()->default_value("0"))(
      "fail-rank", "the worker of this rank exits with status 3 (after --fail-after seconds)",
      cxxopts::value<int>()->default_value("-1"))("fail-after", "seconds before --fail-rank fails",
                                                  cxxopts::value<double>()->default_value("0"))(
      "ignore-signals", "ignore SIGINT and SIGTERM while waiting")("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const bool ignore = result.count("ignore-signals") > 0;
  std::signal(SIGINT, ignore ? SIG_IGN : on_stop_signal);
  std::signal(SIGTERM, ignore ? SIG_IGN : on_stop_signal);

  const DistributedEnv env = distributed_env();
  const nlohmann::json json = {{"rank", env.rank},
                               {"world_size", env.world_size},
                               {"local_rank", env.local_rank},
                               {"node_rank", env.node_rank},
                               {"master_addr", env.master_addr},
                               {"master_port", env.master_port},
                               {"source", env.source},
                               {"launched", std::getenv("MLQ_LAUNCHED") != nullptr},
                               {"pid", static_cast<int>(getpid())}};
  std::printf("%s\n", json.dump().c_str());
  std::fflush(stdout);
  const bool fail = env.rank == result["fail-rank"].as<int>();
  const double seconds = result[fail ? "fail-after" : "sleep"].as<double>();
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (std::chrono::steady_clock::now() < until && !g_stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (g_stop) return 130;
  return fail ? 3 : 0;
}

}  // namespace mlq
