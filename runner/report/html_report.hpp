#pragma once
#include <string>
#include <vector>

#include "mlq/tracking/manifest.hpp"

namespace mlq {

// One self-contained HTML page (no network: styles, SVG curves, images and audio are inline) about
// `runs`: a summary table, with several runs a comparison (config differences, last metric
// values) and overlaid curves, every metric's curve, the runs' image and audio artifacts (for
// transcription: piano rolls and audio of test excerpts), and each run's config.
std::string html_report(const Manifest& manifest, const std::vector<RunRecord>& runs);

// The parts other pages reuse: a whole page around `body` (the report's style and readiness
// script), and the overlaid curves of `runs`' metrics.
std::string html_page(const std::string& title, const std::string& body);
std::string metric_curves(const Manifest& manifest, const std::vector<RunRecord>& runs);

}  // namespace mlq
