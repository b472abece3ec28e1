// runner runs tag ID KEY=VALUE..., runner runs delete ID [--yes]
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "run_format.hpp"
#include "runs/runs_options.hpp"

namespace mlq::runs {

int tag_run(const std::vector<std::string>& args, const std::string& default_db,
            std::ostream& out) {
  cxxopts::Options options = subcommand_options("tag", "Sets tags on a run.");
  const auto parsed = parse_words(options, "ID KEY=VALUE...", args, default_db, out);
  if (!parsed) return 0;
  const std::vector<std::string>& words = parsed->words;
  if (words.size() < 2)
    throw UserError("runner runs tag: expected a run id and KEY=VALUE (runner runs tag ID k=v)");
  std::vector<std::pair<std::string, std::string>> tags;
  for (size_t i = 1; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError(fmt::format("runner runs tag: '{}' is not KEY=VALUE", words[i]));
    tags.emplace_back(words[i].substr(0, eq), words[i].substr(eq + 1));
  }
  auto manifest = existing_manifest(parsed->db, words[0]);
  const RunRecord run = existing_run(*manifest, words[0]);
  for (const auto& [key, value] : tags) {
    manifest->set_tag(run.id, key, value);
    out << "tagged " << run.id << ": " << key << "=" << value << "\n";
  }
  return 0;
}

// Moves the run directory into <db folder>/trash, then removes the run from the manifest.
int delete_run(const std::vector<std::string>& args, const std::string& default_db,
               std::ostream& out) {
  namespace fs = std::filesystem;
  cxxopts::Options options = subcommand_options(
      "delete",
      "Deletes a run; its directory goes to the trash folder beside the manifest file (for a "
      "PostgreSQL manifest: beside the run's task folder, <output_dir>/trash).");
  options.add_options()("y,yes", "do not ask");
  const auto parsed = parse_words(options, "ID", args, default_db, out);
  if (!parsed) return 0;
  const std::vector<std::string>& ids = parsed->words;
  const bool yes = parsed->result.count("yes") > 0;
  const std::string& db_path = parsed->db;
  if (ids.size() != 1)
    throw UserError("runner runs delete: expected exactly one run id (runner runs delete ID)");
  auto manifest = existing_manifest(db_path, ids[0]);
  manifest->mark_dead_runs();
  const RunRecord run = existing_run(*manifest, ids[0]);
  if (run.status == kRunning)
    throw UserError(
        fmt::format("runner runs delete: run {} is still running; stop it first", run.id));
  if (!yes) {
    if (!isatty(STDIN_FILENO))
      throw UserError(fmt::format(
          "runner runs delete: not deleting run {} without --yes (no terminal to ask on)", run.id));
    out << "delete run " << run.id << " (" << run.task << ", " << run.status << ") and move "
        << (run.run_dir.empty() ? "nothing" : run.run_dir) << " to the trash? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (to_lower(trim(answer)) != "y" && to_lower(trim(answer)) != "yes") {
      out << "kept run " << run.id << "\n";
      return 0;
    }
  }
  std::error_code error;
  fs::path moved;
  if (!run.run_dir.empty() && fs::exists(run.run_dir, error)) {
    const fs::path trash = trash_folder(db_path, run);
    fs::create_directories(trash, error);
    moved = trash / fmt::format("{}-{}", fs::path(run.run_dir).filename().string(), run.id);
    fs::rename(run.run_dir, moved, error);
    if (error)
      throw UserError(fmt::format("runner runs delete: cannot move {} to {}: {}; nothing deleted",
                                  run.run_dir, moved.string(), error.message()));
  }
  manifest->delete_run(run.id);
  out << "deleted run " << run.id
      << (moved.empty() ? std::string(" (it had no run directory)")
                        : "; its directory is now " + moved.string())
      << "\n";
  return 0;
}

}  // namespace mlq::runs
