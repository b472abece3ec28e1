#pragma once
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mlq::test {

struct ProcessResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;     // stdout and stderr together
};

// Runs a program to completion (no shell), with extra environment variables, in `cwd`.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          const std::filesystem::path& cwd = {});

// Starts a program in the background; output goes to `log_file`.
pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                    const std::map<std::string, std::string>& env = {},
                    const std::filesystem::path& cwd = {});
// Waits for a background process; returns its exit code (-signal if killed).
int wait_process(pid_t pid);

// The runner binary with its arguments, run in `cwd`.
ProcessResult run_runner(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                         const std::map<std::string, std::string>& env = {});

}  // namespace mlq::test
