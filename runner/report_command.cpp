// runner report ID [ID...] -o FILE.html: one self-contained HTML page about past runs.
#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "html_report.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "run_format.hpp"

namespace mlq {

int report_command(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "usage: runner report ID [ID...] -o FILE.html [--db FILE]\n"
      "  ID: a run id, a unique prefix, or latest. Several runs: curves overlaid and compared.\n";
  std::vector<std::string> ids;
  std::string output, db_flag;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    auto value = [&](const char* name) {
      if (i + 1 >= args.size())
        throw UserError(fmt::format("runner report: {} needs a value", name));
      return args[++i];
    };
    if (arg == "-o" || arg == "--output")
      output = value("-o");
    else if (arg.rfind("--output=", 0) == 0)
      output = arg.substr(9);
    else if (arg == "--db")
      db_flag = value("--db");
    else if (arg.rfind("--db=", 0) == 0)
      db_flag = arg.substr(5);
    else if (!arg.empty() && arg[0] == '-')
      throw UserError(
          fmt::format("runner report: unknown option '{}' (expected -o FILE, --db FILE)", arg));
    else
      ids.push_back(arg);
  }
  if (ids.empty())
    throw UserError("runner report: expected one or more run ids (runner report ID -o FILE.html)");
  if (output.empty()) throw UserError("runner report: expected -o FILE.html");
  const auto manifest = existing_manifest(manifest_path(db_flag), ids.front());
  std::vector<RunRecord> runs;
  for (const std::string& id : ids) runs.push_back(existing_run(*manifest, id));
  write_file_atomic(output, html_report(*manifest, runs));
  std::printf("wrote %s (%zu run%s)\n", output.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace mlq
