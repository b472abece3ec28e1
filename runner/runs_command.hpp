#pragma once
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace mlq {

// `runner runs list [--task T] [--status S] [--limit N] [--format table|csv|json]` and
// `runner runs show ID` (full id or unique prefix). `args` is what follows `runner runs`.
// Marks dead runs first. Returns 0; bad usage or an unknown run id throws UserError.
int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path);
// The same, printing to `out` (tests).
int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path,
                 std::ostream& out);

}  // namespace mlq
