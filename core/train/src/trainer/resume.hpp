#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mlq/config/tree.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {

// The run to write into and the checkpoint to resume from (empty: start fresh), per
// trainer.resume:
// - "" starts a new run;
// - "auto" continues this experiment's latest killed or failed run (same task and config hash)
//   from its last.pt, or starts a new run when there is none;
// - a checkpoint path continues its run when it is that run's last.pt, the run did not finish and
//   the config is the same; otherwise a new run starts from that checkpoint, so no run's record
//   is rewritten. A missing file is a ConfigError.
std::pair<Run, std::filesystem::path> open_or_resume_run(Manifest& manifest, const Config& config,
                                                         const std::vector<std::string>& overrides,
                                                         const std::string& plugin_versions);

}  // namespace mlq
