// trainer.resume: which run a fit writes into and which checkpoint it continues from.
#include "trainer/resume.hpp"

#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"

namespace mlq {
namespace fs = std::filesystem;

std::pair<Run, fs::path> open_or_resume_run(Manifest& manifest, const Config& config,
                                            const std::vector<std::string>& overrides,
                                            const std::string& plugin_versions) {
  const std::string resume = config.get_string("trainer.resume", "");
  auto new_run = [&] { return Run::create(manifest, config, overrides, plugin_versions); };
  if (resume == "auto") {
    if (auto previous =
            manifest.latest_unfinished(config.get_string("task"), config_hash(config))) {
      fs::path last = fs::path(previous->run_dir) / "checkpoints" / "last.pt";
      if (fs::exists(last)) {
        if (auto run = Run::reopen(manifest, *previous)) {
          log::info("resuming run {} ({} at its last checkpoint)", previous->id, previous->status);
          return {std::move(*run), last};
        }
        log::info("run {} was just claimed by another process", previous->id);
      }
    }
    log::info(
        "trainer.resume=auto: no killed or failed run of this experiment with a checkpoint; "
        "starting a new run");
    return {new_run(), fs::path()};
  }
  if (resume.empty()) return {new_run(), fs::path()};

  std::error_code error;
  const fs::path checkpoint = fs::weakly_canonical(fs::absolute(resume), error);
  if (!fs::exists(checkpoint))
    throw ConfigError("config key 'trainer.resume' (" + config.origin("trainer.resume") +
                      "): checkpoint '" + resume + "' does not exist");
  // The owning run continues only from its last.pt, with the same config, if it did not finish;
  // anything else (an older top-k checkpoint, changed settings) starts a new run from it, so no
  // run's record is rewritten.
  const fs::path run_dir = checkpoint.parent_path().parent_path();
  for (const auto& record : manifest.list_runs(config.get_string("task"))) {
    if (fs::weakly_canonical(record.run_dir, error) != run_dir) continue;
    if (checkpoint.filename() == "last.pt" && record.config_hash == config_hash(config))
      if (auto run = Run::reopen(manifest, record)) return {std::move(*run), checkpoint};
    log::info("starting a new run from {} (run {} is {}{})", checkpoint.string(), record.id,
              record.status,
              record.config_hash == config_hash(config) ? "" : ", with other settings");
    break;
  }
  return {new_run(), checkpoint};
}

}  // namespace mlq
