#pragma once
// Helpers of the manifest and runs-command tests.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"

namespace mlq::test {

inline mlq::RunRecord make_run(const std::string& id, const std::string& task = "regression",
                               double start = 0) {
  mlq::RunRecord run;
  run.id = id;
  run.task = task;
  run.start_time = start > 0 ? start : mlq::now_seconds();
  run.heartbeat = run.start_time;
  run.host = mlq::host_name();
  run.pid = getpid();
  run.git_commit = "0123abcd";
  run.git_dirty = true;
  run.plugin_versions = R"({"regression": "0.1.0"})";
  run.run_dir = "outputs/regression/" + id;
  run.config_hash = "hash-" + task;
  run.config_toml = "[trainer]\nmax_epochs = 3\n";
  return run;
}

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const mlq::UserError& e) {
    return e.what();
  }
  return "";
}

// The pid of a child process that has exited and been reaped.
inline pid_t dead_pid() {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

}  // namespace mlq::test
