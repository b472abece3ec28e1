#include "support/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>

#include <stdexcept>

#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"

namespace mlq::test {
namespace {

[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env,
                             const std::filesystem::path& cwd, int out_fd) {
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  close(out_fd);
  int devnull = open("/dev/null", O_RDONLY);
  dup2(devnull, STDIN_FILENO);
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
  for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

}  // namespace

pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                    const std::map<std::string, std::string>& given_env,
                    const std::filesystem::path& cwd) {
  // On the PostgreSQL run of the tests, a runner's default manifest (<cwd>/outputs/runs.sqlite)
  // is a database on the test server, the one the test opens with the same path.
  std::map<std::string, std::string> env = given_env;
  if (testing_postgresql() && !cwd.empty() && !env.count("MLQ_DB"))
    env["MLQ_DB"] = manifest_location(cwd / "outputs" / "runs.sqlite");
  int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_file.string());
  pid_t pid = fork();
  if (pid == 0) exec_child(argv, env, cwd, fd);
  close(fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

int wait_process(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed for pid " + std::to_string(pid));
  return decode_status(status);
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const std::filesystem::path& cwd) {
  TempDir dir;
  auto log = dir / "out.txt";
  ProcessResult result;
  result.exit_code = wait_process(start_process(argv, log, env, cwd));
  result.out = read_file(log);
  return result;
}

ProcessResult run_runner(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                         const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{MLQ_RUNNER};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env, cwd);
}

}  // namespace mlq::test
