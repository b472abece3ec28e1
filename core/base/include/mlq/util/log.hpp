#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <string_view>

namespace mlq::log {

// Messages go to stderr and, once a run has started, to its run.log (with a timestamp).
void to_file(const std::filesystem::path& path);  // empty path: stop writing to a file
// Keeps the lines logged from now until the next to_file (a run's set-up, before the run and its
// folder exist), so that they open its run.log too. At most a few thousand lines are kept.
void hold_until_file();
void write(std::string_view level, std::string_view message);

template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  write("INFO", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  write("WARN", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write("ERROR", fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace mlq::log
