#pragma once
// TensorBoard event files decoded by tests/tools/read_tfevents.py (its own CRC-32C and protobuf
// parser, independent of the C++ writer), as JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace mlq::test {

// The decoder's output for one file; `ok` false when it reported an error (then {"error": ...}).
inline nlohmann::json decode_tfevents(const std::filesystem::path& file, bool* ok = nullptr) {
  const auto result = run_process(
      {"/usr/bin/python3", MLQ_SOURCE_DIR "/tests/tools/read_tfevents.py", file.string()});
  if (ok) *ok = result.exit_code == 0;
  if (!ok) REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  return nlohmann::json::parse(result.out);
}

// The event files of a run's tb/ folder, in the order TensorBoard reads them.
inline std::vector<std::filesystem::path> tfevents_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Every event of every file in `dir`, in order.
inline std::vector<nlohmann::json> tfevents_in(const std::filesystem::path& dir) {
  std::vector<nlohmann::json> events;
  for (const auto& file : tfevents_files(dir)) {
    const nlohmann::json decoded = decode_tfevents(file);
    for (const auto& event : decoded["events"]) events.push_back(event);
  }
  return events;
}

}  // namespace mlq::test
