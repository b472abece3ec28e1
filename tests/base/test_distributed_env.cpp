// Rendezvous from the environment (torchrun, SLURM), SLURM host lists and launcher options.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "mlq/launch/distributed_env.hpp"
#include "mlq/launch/local_launcher.hpp"
#include "mlq/launch/slurm_nodelist.hpp"
#include "mlq/util/error.hpp"

using mlq::DistributedEnv;

namespace {

DistributedEnv read(const std::map<std::string, std::string>& vars) {
  return mlq::read_distributed_env([&](const std::string& name) -> std::optional<std::string> {
    const auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  });
}

// The UserError message reading `vars` gives (empty if none).
std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    read(vars);
  } catch (const mlq::UserError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::map<std::string, std::string> torchrun(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> vars{{"RANK", "1"},
                                          {"WORLD_SIZE", "4"},
                                          {"LOCAL_RANK", "1"},
                                          {"MASTER_ADDR", "10.0.0.5"},
                                          {"MASTER_PORT", "29400"}};
  for (const auto& [key, value] : extra) vars[key] = value;
  return vars;
}

// The environment of one task of an srun step.
std::map<std::string, std::string> slurm(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> vars{{"SLURM_STEP_ID", "0"},
                                          {"SLURM_STEPID", "0"},
                                          {"SLURM_PROCID", "5"},
                                          {"SLURM_NTASKS", "8"},
                                          {"SLURM_LOCALID", "1"},
                                          {"SLURM_NODEID", "2"},
                                          {"SLURM_JOB_NODELIST", "node[03-06]"},
                                          {"SLURM_JOB_ID", "4321987"}};
  for (const auto& [key, value] : extra) vars[key] = value;
  return vars;
}

// The environment of an sbatch script with `tasks` tasks: SLURM_PROCID=0 but no step id.
std::map<std::string, std::string> batch_script(const std::string& tasks) {
  std::map<std::string, std::string> vars{
      {"SLURM_PROCID", "0"},       {"SLURM_LOCALID", "0"},
      {"SLURM_NODEID", "0"},       {"SLURM_JOB_NODELIST", "node[03-06]"},
      {"SLURM_JOB_ID", "4321987"}, {"SLURM_JOB_NAME", "train.sh"}};
  if (!tasks.empty()) vars["SLURM_NTASKS"] = tasks;
  return vars;
}

// Every field but the port, which the tests check where it matters.
void check_env(const DistributedEnv& env, const DistributedEnv& expected) {
  CHECK(env.source == expected.source);
  CHECK(env.rank == expected.rank);
  CHECK(env.world_size == expected.world_size);
  CHECK(env.local_rank == expected.local_rank);
  CHECK(env.node_rank == expected.node_rank);
  CHECK(env.master_addr == expected.master_addr);
}

// What slurm()'s variables describe: rank 5 of 8, local rank 1 on node 2 of node[03-06].
void check_slurm_fixture(const DistributedEnv& env) {
  DistributedEnv expected;
  expected.source = "slurm";
  expected.rank = 5;
  expected.world_size = 8;
  expected.local_rank = 1;
  expected.node_rank = 2;
  expected.master_addr = "node03";
  check_env(env, expected);
}

void check_single_process(const DistributedEnv& env) {
  check_env(env, DistributedEnv{});
  CHECK(env.master_port == mlq::kDefaultMasterPort);
}

}  // namespace

TEST_CASE("distributed env: no variables is a single process") {
  check_single_process(read({}));
}

TEST_CASE("distributed env: torchrun variables") {
  const DistributedEnv env = read(torchrun({{"GROUP_RANK", "3"}}));
  CHECK(env.source == "torchrun");
  CHECK(env.rank == 1);
  CHECK(env.world_size == 4);
  CHECK(env.local_rank == 1);
  CHECK(env.node_rank == 3);
  CHECK(env.master_addr == "10.0.0.5");
  CHECK(env.master_port == 29400);
}

TEST_CASE("distributed env: torchrun wins over SLURM") {
  auto vars = slurm();
  for (const auto& [key, value] : torchrun()) vars[key] = value;
  const DistributedEnv env = read(vars);
  CHECK(env.source == "torchrun");
  CHECK(env.rank == 1);
  CHECK(env.world_size == 4);
}

TEST_CASE("distributed env: torchrun defaults") {
  // LOCAL_RANK defaults to RANK; one process needs no master address or port.
  const DistributedEnv env = read({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  CHECK(env.source == "torchrun");
  CHECK(env.local_rank == 0);
  CHECK(env.master_addr == "127.0.0.1");
  CHECK(env.master_port == mlq::kDefaultMasterPort);
  CHECK(read(torchrun({{"LOCAL_RANK", " 2 "}})).local_rank == 2);
  auto vars = torchrun();
  vars.erase("LOCAL_RANK");
  CHECK(read(vars).local_rank == 1);
}

TEST_CASE("distributed env: torchrun errors name the variable and value") {
  CHECK(contains(error_of(torchrun({{"RANK", "one"}})), "RANK='one': expected an integer"));
  CHECK(contains(error_of(torchrun({{"RANK", "1x"}})), "RANK='1x'"));
  CHECK(contains(error_of(torchrun({{"RANK", ""}})), "RANK=''"));
  CHECK(contains(error_of(torchrun({{"RANK", "-1"}})), "RANK=-1: expected a non-negative"));
  CHECK(
      contains(error_of(torchrun({{"RANK", "4"}})), "RANK=4: expected a rank below WORLD_SIZE=4"));
  CHECK(contains(error_of(torchrun({{"WORLD_SIZE", "0"}})), "WORLD_SIZE=0: expected at least 1"));
  CHECK(contains(error_of(torchrun({{"WORLD_SIZE", "abc"}})), "WORLD_SIZE='abc'"));
  CHECK(contains(error_of(torchrun({{"LOCAL_RANK", "-3"}})), "LOCAL_RANK=-3"));
  CHECK(contains(error_of(torchrun({{"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}})),
                 "LOCAL_RANK=2: expected a rank below LOCAL_WORLD_SIZE=2"));
  CHECK(contains(error_of(torchrun({{"GROUP_RANK", "z"}})), "GROUP_RANK='z'"));
  CHECK(contains(error_of(torchrun({{"MASTER_PORT", "70000"}})),
                 "MASTER_PORT=70000: expected a port from 1 to 65535"));
  CHECK(contains(error_of(torchrun({{"MASTER_PORT", "0"}})), "MASTER_PORT=0"));
  CHECK(contains(error_of(torchrun({{"MASTER_PORT", "http"}})), "MASTER_PORT='http'"));
  CHECK(contains(error_of({{"WORLD_SIZE", "2"}}), "RANK is not set but WORLD_SIZE='2'"));
  CHECK(contains(error_of({{"RANK", "0"}}), "WORLD_SIZE is not set but RANK='0'"));
  auto vars = torchrun();
  vars.erase("MASTER_ADDR");
  CHECK(contains(error_of(vars), "MASTER_ADDR is not set (needed with WORLD_SIZE=4)"));
  vars = torchrun();
  vars.erase("MASTER_PORT");
  CHECK(contains(error_of(vars), "MASTER_PORT is not set (needed with WORLD_SIZE=4)"));
  // One line each.
  CHECK_FALSE(contains(error_of(torchrun({{"RANK", "4"}})), "\n"));
}

TEST_CASE("distributed env: SLURM variables") {
  const DistributedEnv env = read(slurm());
  check_slurm_fixture(env);
  CHECK(env.master_port == mlq::kSlurmPortBase + 4321987 % mlq::kSlurmPortSpan);
  CHECK(env.master_port == 21987);
}

TEST_CASE("distributed env: SLURM master address and port") {
  CHECK(read(slurm({{"MASTER_ADDR", "head"}, {"MASTER_PORT", "1234"}})).master_addr == "head");
  CHECK(read(slurm({{"MASTER_PORT", "1234"}})).master_port == 1234);
  auto vars = slurm({{"SLURM_NODELIST", "b7,c8"}});
  CHECK(read(vars).master_addr == "node03");  // SLURM_JOB_NODELIST first
  vars.erase("SLURM_JOB_NODELIST");
  CHECK(read(vars).master_addr == "b7");
  vars.erase("SLURM_JOB_ID");
  CHECK(read(vars).master_port == mlq::kDefaultMasterPort);
  vars.erase("SLURM_NODELIST");
  CHECK(contains(error_of(vars), "MASTER_ADDR, SLURM_JOB_NODELIST and SLURM_NODELIST are not set"));
  // One task needs no master.
  const DistributedEnv one =
      read({{"SLURM_STEP_ID", "3"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});
  CHECK(one.source == "slurm");
  CHECK(one.world_size == 1);
  CHECK(one.master_addr == "127.0.0.1");
}

TEST_CASE("distributed env: SLURM errors name the variable and value") {
  CHECK(contains(error_of(slurm({{"SLURM_PROCID", "8"}})),
                 "SLURM_PROCID=8: expected a rank below SLURM_NTASKS=8"));
  CHECK(contains(error_of(slurm({{"SLURM_PROCID", "p"}})), "SLURM_PROCID='p'"));
  CHECK(contains(error_of(slurm({{"SLURM_NTASKS", "0"}})), "SLURM_NTASKS=0: expected at least 1"));
  CHECK(contains(error_of(slurm({{"SLURM_LOCALID", "-1"}})), "SLURM_LOCALID=-1"));
  CHECK(contains(error_of(slurm({{"SLURM_NODEID", "n"}})), "SLURM_NODEID='n'"));
  CHECK(contains(error_of(slurm({{"SLURM_JOB_ID", "job"}})), "SLURM_JOB_ID='job'"));
  CHECK(contains(error_of(slurm({{"MASTER_PORT", "65536"}})), "MASTER_PORT=65536"));
  CHECK(contains(error_of(slurm({{"SLURM_JOB_NODELIST", "node[01-"}})),
                 "SLURM_JOB_NODELIST='node[01-': unclosed '['"));
  CHECK(contains(error_of({{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "0"}}),
                 "SLURM_NTASKS is not set"));
}

TEST_CASE("distributed env: srun step ranks") {
  // Either spelling of the step id marks an srun step; the ranks are SLURM's.
  for (const char* step : {"SLURM_STEP_ID", "SLURM_STEPID"}) {
    CAPTURE(step);
    auto vars = slurm();
    vars.erase("SLURM_STEP_ID");
    vars.erase("SLURM_STEPID");
    vars[step] = "2";
    check_slurm_fixture(read(vars));
  }
  // Rank 0 of an srun step looks like the batch script but for the step id.
  const DistributedEnv zero = read(slurm({{"SLURM_PROCID", "0"}}));
  CHECK(zero.source == "slurm");
  CHECK(zero.rank == 0);
  CHECK(zero.world_size == 8);
}

TEST_CASE("distributed env: batch script with several tasks is an error") {
  const std::string message = error_of(batch_script("4"));
  CHECK(contains(message, "SLURM_NTASKS=4 but SLURM_STEP_ID is not set"));
  CHECK(contains(message, "srun runner"));
  CHECK(contains(message, "--nproc-per-node"));
  CHECK_FALSE(contains(message, "\n"));
  CHECK_THROWS_AS(read(batch_script("2")), mlq::UserError);
  CHECK(contains(error_of(batch_script("0")), "SLURM_NTASKS=0: expected at least 1"));
  CHECK(contains(error_of(batch_script("x")), "SLURM_NTASKS='x'"));
}

TEST_CASE("distributed env: batch script with one task is a single process") {
  for (const std::string tasks : {"1", ""}) {
    CAPTURE(tasks);
    check_single_process(read(batch_script(tasks)));
  }
  CHECK(read({{"SLURM_PROCID", "0"}}).source == "single");
}

TEST_CASE("distributed env: torchrun wins over a SLURM batch script") {
  // `runner --nproc-per-node=4` inside an sbatch script: the launcher's variables decide.
  auto vars = batch_script("4");
  for (const auto& [key, value] : torchrun()) vars[key] = value;
  const DistributedEnv env = read(vars);
  CHECK(env.source == "torchrun");
  CHECK(env.rank == 1);
  CHECK(env.world_size == 4);
}

TEST_CASE("slurm nodelist: compressed forms") {
  using V = std::vector<std::string>;
  CHECK(mlq::expand_nodelist("node01") == V{"node01"});
  CHECK(mlq::expand_nodelist("a1,b2") == V{"a1", "b2"});
  CHECK(mlq::expand_nodelist("node[01-04,07]") ==
        V{"node01", "node02", "node03", "node04", "node07"});
  CHECK(mlq::expand_nodelist("n[08-10]") == V{"n08", "n09", "n10"});
  CHECK(mlq::expand_nodelist("n[9-10]") == V{"n9", "n10"});
  CHECK(mlq::expand_nodelist("gpu[1-2],cpu[5],login") == V{"gpu1", "gpu2", "cpu5", "login"});
  CHECK(mlq::expand_nodelist("rack[1-2]-n[01-02]") ==
        V{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"});
  CHECK(mlq::expand_nodelist("x-[3]-y") == V{"x-3-y"});
}

TEST_CASE("slurm nodelist: malformed lists") {
  CHECK_THROWS_WITH_AS(mlq::expand_nodelist("node[01-04"), "unclosed '['", std::invalid_argument);
  CHECK_THROWS_WITH_AS(mlq::expand_nodelist("node01]"), "unmatched ']'", std::invalid_argument);
  CHECK_THROWS_WITH_AS(mlq::expand_nodelist("n[5-3]"), "range '5-3' runs backwards",
                       std::invalid_argument);
  CHECK_THROWS_AS(mlq::expand_nodelist("n[a-b]"), std::invalid_argument);
  CHECK_THROWS_AS(mlq::expand_nodelist("n[]"), std::invalid_argument);
  CHECK_THROWS_AS(mlq::expand_nodelist(""), std::invalid_argument);
  CHECK_THROWS_AS(mlq::expand_nodelist("a,,b"), std::invalid_argument);
}

TEST_CASE("launch options: leading launcher options") {
  auto options = mlq::parse_launch_options({"--nproc-per-node=3", "--master-port", "2000",
                                            "--grace-period=0.5", "--config=x.toml", "a=1"});
  CHECK(options.nproc_per_node == 3);
  REQUIRE(options.master_port);
  CHECK(*options.master_port == 2000);
  CHECK(options.grace_seconds == doctest::Approx(0.5));
  CHECK(options.rest == std::vector<std::string>{"--config=x.toml", "a=1"});
  options = mlq::parse_launch_options({"runs", "list"});
  CHECK(options.nproc_per_node == 0);
  CHECK(options.rest == std::vector<std::string>{"runs", "list"});
  CHECK_FALSE(options.master_port);
  CHECK(options.grace_seconds == doctest::Approx(10));
}

TEST_CASE("launch options: errors") {
  auto message = [](const std::vector<std::string>& args) -> std::string {
    try {
      mlq::parse_launch_options(args);
    } catch (const mlq::UserError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(contains(message({"--nproc-per-node=0", "x"}), "--nproc-per-node='0': expected"));
  CHECK(contains(message({"--nproc-per-node=two", "x"}), "--nproc-per-node='two'"));
  CHECK(contains(message({"--nproc-per-node"}), "--nproc-per-node needs a value"));
  CHECK(contains(message({"--nproc-per-node=2"}), "nothing to run"));
  CHECK(contains(message({"--nproc-per-node=2", "--master-port=99999", "x"}),
                 "--master-port='99999': expected a port from 1 to 65535"));
  CHECK(contains(message({"--nproc-per-node=2", "--grace-period=-1", "x"}), "--grace-period='-1'"));
  CHECK(contains(message({"--master-port=2000", "x"}), "need --nproc-per-node"));
  CHECK(contains(message({"--config=x.toml", "--nproc-per-node=2"}),
                 "--nproc-per-node must come first"));
}

TEST_CASE("launch options: free_port gives a usable port") {
  const int port = mlq::free_port();
  CHECK(port > 0);
  CHECK(port <= 65535);
}
