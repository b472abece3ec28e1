#pragma once
// `runner runs list|show|compare|export|tag|delete`: the runs in the manifest.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace mlq {

// `args` is what follows `runner runs`; `db_path` is the manifest unless --db names another.
// Marks dead runs first. Returns 0; bad usage or an unknown run id throws UserError.
int runs_command(const std::vector<std::string>& args, const std::string& db_path);
// The same, printing to `out` (tests).
int runs_command(const std::vector<std::string>& args, const std::string& db_path,
                 std::ostream& out);

}  // namespace mlq
