// Whether a process has ended, as the sweep and the manifest's dead-run check ask it.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "mlq/util/process.hpp"

TEST_CASE("process_gone: a running process is not, a zombie and a reaped one are") {
  CHECK_FALSE(mlq::process_gone(getpid()));
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  CHECK_FALSE(mlq::process_gone(child));
  REQUIRE(kill(child, SIGKILL) == 0);
  // Killed and not yet waited for: a zombie, which kill(pid, 0) still finds.
  for (int i = 0; i < 200 && !mlq::process_gone(child); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(kill(child, 0) == 0);
  CHECK(mlq::process_gone(child));
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(mlq::process_gone(child));
}
