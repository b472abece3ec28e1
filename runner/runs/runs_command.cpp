#include "runs/runs_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "mlq/util/error.hpp"
#include "runs/runs_options.hpp"

namespace mlq {
namespace {

constexpr const char* kUsage =
    "usage: runner runs list [--where EXPR] [--order-by FIELD [asc|desc]] [--limit N]\n"
    "                        [--columns FIELD,...] [--task TASK] [--status STATUS]\n"
    "                        [--format table|csv|json]\n"
    "       runner runs show ID\n"
    "       runner runs compare ID ID...         (config differences and metrics side by side)\n"
    "       runner runs export [list options]    (CSV unless --format json)\n"
    "       runner runs tag ID KEY=VALUE...\n"
    "       runner runs delete ID [--yes]        (the run directory goes to <db folder>/trash)\n"
    "       runner runs copy --to DST [--from SRC] [--where EXPR]   (runs between manifests)\n"
    "       runner runs sync RUN_DIR             (the manifest brought up to date from a run)\n"
    "Every subcommand takes --db FILE|URL (default: MLQ_DB, else outputs/runs.sqlite) and --help;\n"
    "a postgresql://user@host:port/dbname URL is a PostgreSQL manifest.\n"
    "EXPR: comparisons (= != < <= > >=, like, in (...)) of metrics.KEY, params.KEY, tags.KEY,\n"
    "max|min|last(metrics.KEY), at(metrics.KEY, STEP), id, task, status, start_time, end_time,\n"
    "duration, git_commit, host, joined with and, or, not and parentheses. Example:\n"
    "  runner runs list --where \"task = 'transcription' and max(metrics.val_onset_f1) > 0.8\"\n"
    "      --order-by metrics.test_onset_f1 desc --columns params.trainer.optimizer.lr\n";

}  // namespace

int runs_command(const std::vector<std::string>& given, const std::string& db_path,
                 std::ostream& out) {
  static const char* const kNames[] = {"list", "show",   "compare", "export",
                                       "tag",  "delete", "copy",    "sync"};
  // `runner runs --db F show ID`: the subcommand's options may come before its name.
  std::vector<std::string> args = given;
  if (!args.empty() && args[0].rfind("--", 0) == 0)
    for (size_t i = 1; i < args.size(); ++i)
      if (std::find(std::begin(kNames), std::end(kNames), args[i]) != std::end(kNames)) {
        std::rotate(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i),
                    args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        break;
      }
  const std::string name = args.empty() ? "list" : args[0];
  const std::vector<std::string> rest(args.empty() ? args.end() : args.begin() + 1, args.end());
  if (name == "--help" || name == "-h" || name == "help") {
    out << kUsage;
    return 0;
  }
  const std::pair<const char*, runs::Subcommand*> subcommands[] = {
      {"list", runs::list_runs},     {"show", runs::show_run}, {"compare", runs::compare_runs},
      {"export", runs::export_runs}, {"tag", runs::tag_run},   {"delete", runs::delete_run},
      {"copy", runs::copy_runs},     {"sync", runs::sync_run}};
  for (const auto& [known, run] : subcommands)
    if (name == known) return run(rest, db_path, out);
  // `runner runs --where ...` lists, as `runner runs` alone does.
  if (name.rfind("--", 0) == 0) return runs::list_runs(args, db_path, out);
  throw UserError(
      fmt::format("runner runs: unknown subcommand '{}' (expected list, show, compare, export, "
                  "tag, delete, copy or sync)",
                  name));
}

int runs_command(const std::vector<std::string>& args, const std::string& db_path) {
  return runs_command(args, db_path, std::cout);
}

}  // namespace mlq
