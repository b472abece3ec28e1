#include "mlq/util/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <mutex>

#include "mlq/util/duration.hpp"

namespace mlq {
namespace {
std::mutex print_mutex;
}

ProgressLine::ProgressLine()
    : terminal_(isatty(STDOUT_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(terminal_ ? start_ - std::chrono::hours(1) : start_) {}

void ProgressLine::update(const std::string& label, int64_t done, int64_t total,
                          const std::string& unit, const std::string& suffix) {
  std::lock_guard<std::mutex> lock(print_mutex);
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  const int64_t tenths = total > 0 ? done * 10 / total : 0;
  if (terminal_ ? (now - last_ < std::chrono::milliseconds(200) && !last)
                : (tenths <= tenths_shown_ && now - last_ < std::chrono::seconds(30) && !last))
    return;
  last_ = now;
  tenths_shown_ = tenths;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  const std::string line =
      fmt::format("{} {}/{} | {:.1f} {}/s | eta {}{}", label, done, total, rate, unit,
                  format_duration(eta, DurationStyle::Clock), suffix);
  std::printf(terminal_ ? "\r\033[K%s" : "%s\n", line.c_str());
  open_line_ = terminal_;
  std::fflush(stdout);
}

void ProgressLine::print(const std::string& line) {
  std::lock_guard<std::mutex> lock(print_mutex);
  std::printf(open_line_ ? "\r\033[K%s\n" : "%s\n", line.c_str());
  open_line_ = false;
  std::fflush(stdout);
}

void ProgressLine::finish() {
  std::lock_guard<std::mutex> lock(print_mutex);
  if (open_line_) std::printf("\n");
  open_line_ = false;
  std::fflush(stdout);
}

}  // namespace mlq
