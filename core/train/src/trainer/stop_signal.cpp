#include "mlq/train/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace mlq {
namespace {

std::atomic<bool> stop_signal{false};

extern "C" void on_stop_signal(int signal_number) {
  stop_signal = true;
  std::signal(signal_number, SIG_DFL);  // a second signal ends the process at once
}

}  // namespace

void install_stop_signal_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_signal_received() {
  return stop_signal;
}

}  // namespace mlq
