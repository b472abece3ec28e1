// runner report ID [ID...] -o FILE.html: one self-contained HTML page about past runs.
#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/cli.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "report/html_report.hpp"
#include "run_format.hpp"
#include "sweep/sweep.hpp"

namespace mlq {

int report_command(const std::vector<std::string>& args) {
  cxxopts::Options options(
      "runner report",
      "One self-contained HTML page about past runs: runner report ID [ID...] -o FILE.html\n"
      "  ID: a run id, a unique prefix, or latest. Several runs: curves overlaid and compared.\n"
      "  runner report --sweep ID -o FILE.html: a sweep (objectives, parameters, best curves).");
  options.add_options()("o,output", "the HTML file to write", cxxopts::value<std::string>())(
      "db",
      "the manifest: a SQLite file or a postgresql:// URL (default: MLQ_DB, else "
      "outputs/runs.sqlite)",
      cxxopts::value<std::string>()->default_value(""))("sweep", "a sweep's page instead",
                                                        cxxopts::value<std::string>())(
      "ids", "run ids", cxxopts::value<std::vector<std::string>>())("h,help", "this help");
  options.parse_positional({"ids"});
  options.positional_help("ID [ID...]");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const std::vector<std::string> ids = result.count("ids")
                                           ? result["ids"].as<std::vector<std::string>>()
                                           : std::vector<std::string>{};
  const std::string output = result.count("output") ? result["output"].as<std::string>() : "";
  const std::string db_flag = result["db"].as<std::string>();
  if (output.empty()) throw UserError("runner report: expected -o FILE.html");
  if (result.count("sweep")) {
    const std::string id = result["sweep"].as<std::string>();
    const auto manifest = existing_manifest(manifest_location(db_flag), id);
    const auto sweep = manifest->find_sweep(id);
    if (!sweep) throw UserError(fmt::format("no sweep '{}' in {}", id, manifest->location()));
    write_file_atomic(output, sweep::html_sweep_report(*manifest, *sweep));
    std::printf("wrote %s (sweep %s)\n", output.c_str(), sweep->id.c_str());
    return 0;
  }
  if (ids.empty())
    throw UserError("runner report: expected one or more run ids (runner report ID -o FILE.html)");
  const auto manifest = existing_manifest(manifest_location(db_flag), ids.front());
  std::vector<RunRecord> runs;
  for (const std::string& id : ids) runs.push_back(existing_run(*manifest, id));
  write_file_atomic(output, html_report(*manifest, runs));
  std::printf("wrote %s (%zu run%s)\n", output.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace mlq
