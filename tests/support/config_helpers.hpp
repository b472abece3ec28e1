#pragma once
// Helpers for the config suites.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "mlq/util/error.hpp"

namespace mlq::test {

// The message of the ConfigError `f` throws, or a marker that fails every substring check.
template <typename F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const mlq::ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError thrown>";
}

// Runs from `dir` so that origins are the short relative paths users see.
struct CwdGuard {
  std::filesystem::path old;
  explicit CwdGuard(const std::filesystem::path& dir) : old(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~CwdGuard() { std::filesystem::current_path(old); }
};

}  // namespace mlq::test

#define CHECK_HAS(text, part) CHECK_MESSAGE((text).find(part) != std::string::npos, (text))
