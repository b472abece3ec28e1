// The local launcher: N workers, signals forwarded, all stopped when one fails.
#include "mlq/launch/local_launcher.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "mlq/util/error.hpp"

namespace mlq {
namespace {

using Clock = std::chrono::steady_clock;

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal went away: nothing more to do with the output
    done += static_cast<size_t>(n);
  }
}

// A worker's stdout or stderr read from a pipe and written to ours, each line prefixed.
struct PrefixedStream {
  int from = -1;  // read end; -1 once closed
  int to = STDOUT_FILENO;
  std::string prefix;
  std::string partial;

  void read_some() {
    char buffer[4096];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) return close_stream();
    partial.append(buffer, static_cast<size_t>(n));
    std::string lines;
    size_t start = 0;
    for (size_t end; (end = partial.find('\n', start)) != std::string::npos; start = end + 1)
      lines += prefix + partial.substr(start, end + 1 - start);
    partial.erase(0, start);
    write_all(to, lines);
  }
  void close_stream() {
    if (!partial.empty()) write_all(to, prefix + partial + "\n");
    partial.clear();
    ::close(from);
    from = -1;
  }
};

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
  PrefixedStream out, err;
};

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", exit_status(status));
}

class Launcher {
 public:
  explicit Launcher(const LaunchOptions& options) : options_(options) {}

  int run() {
    const std::string program = std::filesystem::read_symlink("/proc/self/exe").string();
    const int port = options_.master_port ? *options_.master_port : free_port();
    std::fflush(stdout);
    std::fflush(stderr);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &old_mask_);
    signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0)
      throw std::runtime_error("signalfd failed: " + std::string(strerror(errno)));
    workers_.resize(static_cast<size_t>(options_.nproc_per_node));
    for (int rank = 0; rank < options_.nproc_per_node; ++rank) start(program, port, rank);
    supervise();
    ::close(signal_fd_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    return first_failure_;
  }

 private:
  void start(const std::string& program, int port, int rank) {
    Worker& worker = workers_[static_cast<size_t>(rank)];
    worker.rank = rank;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if (rank > 0 && (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0))
      throw std::runtime_error("pipe failed: " + std::string(strerror(errno)));
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed: " + std::string(strerror(errno)));
    if (pid == 0) exec_worker(program, port, rank, out[1], err[1]);
    // One process group of their own: the terminal's Ctrl-C reaches the launcher only, which
    // forwards it once (a second SIGINT would stop a worker at once, without its checkpoint).
    setpgid(pid, group_ == 0 ? pid : group_);
    if (group_ == 0) group_ = pid;
    worker.pid = pid;
    worker.running = true;
    if (rank > 0) {
      ::close(out[1]);
      ::close(err[1]);
      const std::string prefix = fmt::format("[rank {}] ", rank);
      worker.out = {out[0], STDOUT_FILENO, prefix, {}};
      worker.err = {err[0], STDERR_FILENO, prefix, {}};
    }
  }

  [[noreturn]] void exec_worker(const std::string& program, int port, int rank, int out, int err) {
    setpgid(0, group_ == 0 ? 0 : group_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
    }
    // A worker in a background process group must not read the terminal.
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    const std::string n = std::to_string(options_.nproc_per_node);
    setenv("RANK", std::to_string(rank).c_str(), 1);
    setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
    setenv("GROUP_RANK", "0", 1);
    setenv("WORLD_SIZE", n.c_str(), 1);
    setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
    setenv("MASTER_ADDR", "127.0.0.1", 1);
    setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    setenv("MLQ_LAUNCHED", "1", 1);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& arg : options_.rest) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    const std::string message =
        fmt::format("error: cannot start {}: {}\n", program, strerror(errno));
    write_all(STDERR_FILENO, message);
    _exit(127);
  }

  bool any_running() const {
    for (const Worker& worker : workers_)
      if (worker.running) return true;
    return false;
  }

  void signal_running(int signal) {
    for (const Worker& worker : workers_)
      if (worker.running) ::kill(worker.pid, signal);
  }

  void reap() {
    for (Worker& worker : workers_) {
      if (!worker.running) continue;
      int status = 0;
      if (waitpid(worker.pid, &status, WNOHANG) != worker.pid) continue;
      worker.running = false;
      if (exit_status(status) == 0) continue;
      const bool first = first_failure_ == 0;
      if (first) first_failure_ = exit_status(status);
      // Workers that stopped because we asked them to are not news; failures are.
      std::string line = fmt::format("runner: rank {} {}", worker.rank, describe(status));
      if (first && !interrupted_ && any_running()) {
        line += "; stopping the other workers";
        signal_running(SIGTERM);
        kill_at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options_.grace_seconds));
      }
      write_all(STDERR_FILENO, line + "\n");
    }
  }

  void handle_signals() {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGCHLD) {
        reap();
      } else {
        interrupted_ = true;
        signal_running(static_cast<int>(info.ssi_signo));
      }
    }
  }

  void supervise() {
    // Until every worker has exited; then what is left in the pipes, for a moment at most.
    Clock::time_point drain_until{};
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<PrefixedStream*> streams;
      if (any_running()) fds.push_back({signal_fd_, POLLIN, 0});
      for (Worker& worker : workers_)
        for (PrefixedStream* stream : {&worker.out, &worker.err})
          if (stream->from >= 0) {
            fds.push_back({stream->from, POLLIN, 0});
            streams.push_back(stream);
          }
      if (!any_running()) {
        if (drain_until == Clock::time_point{})
          drain_until = Clock::now() + std::chrono::seconds(1);
        if (streams.empty() || Clock::now() >= drain_until) break;
      }
      int timeout = -1;
      if (!any_running()) timeout = wait_ms(drain_until);
      if (kill_at_ && any_running()) timeout = wait_ms(*kill_at_);
      const int ready = ::poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno != EINTR) throw std::runtime_error("poll failed");
      const size_t first_stream = fds.size() - streams.size();
      for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (i < first_stream)
          handle_signals();
        else
          streams[i - first_stream]->read_some();
      }
      if (kill_at_ && Clock::now() >= *kill_at_) {
        signal_running(SIGKILL);
        kill_at_.reset();
      }
    }
    for (Worker& worker : workers_)
      for (PrefixedStream* stream : {&worker.out, &worker.err})
        if (stream->from >= 0) stream->close_stream();
  }

  static int wait_ms(Clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    return static_cast<int>(std::max<long long>(0, left.count() + 1));
  }

  const LaunchOptions& options_;
  std::vector<Worker> workers_;
  sigset_t old_mask_{};
  int signal_fd_ = -1;
  pid_t group_ = 0;
  bool interrupted_ = false;
  int first_failure_ = 0;
  std::optional<Clock::time_point> kill_at_;
};

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed: " + std::string(strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok)
    throw std::runtime_error("cannot find a free port on 127.0.0.1: " +
                             std::string(strerror(errno)));
  return ntohs(address.sin_port);
}

int launch_local(const LaunchOptions& options) {
  return Launcher(options).run();
}

}  // namespace mlq
