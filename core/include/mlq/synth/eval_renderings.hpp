#pragma once
// Header-only: libmlq_synth does not link libmlq_audio; the tasks that use this link both.
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/audio/preprocess.hpp"
#include "mlq/synth/synth_report.hpp"

namespace mlq {

// Preprocesses, like the main data (`options`, `parser`), the test items that a synthesiser
// rendered again with each evaluation soundfont (listed in eval_metadata_name(metadata, it)),
// each soundfont's into "<destination>-eval-<name>". Returns those folders.
inline std::vector<std::filesystem::path> preprocess_eval_renderings(
    const std::string& metadata, const std::vector<std::string>& eval_soundfonts,
    const PreprocessOptions& options, const MetadataParser& parser = {}) {
  std::vector<std::filesystem::path> roots;
  for (const std::string& soundfont : eval_soundfonts) {
    PreprocessOptions unseen = options;
    unseen.metadata = eval_metadata_name(metadata, soundfont);
    unseen.destination_path =
        options.destination_path.string() + "-eval-" + soundfont_name(soundfont);
    preprocess_or_fail(unseen, parser);
    roots.push_back(unseen.destination_path);
  }
  return roots;
}

}  // namespace mlq
