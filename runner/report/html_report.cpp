#include "report/html_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "mlq/util/duration.hpp"
#include "mlq/util/text.hpp"
#include "report/run_comparison.hpp"
#include "report/svg_chart.hpp"
#include "run_format.hpp"

namespace mlq {
namespace {

constexpr uintmax_t kMaxEmbeddedBytes = 32u << 20;

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status-FINISHED, .status-PRUNED { color: #2a7d2a; } .status-FAILED, .status-KILLED { color: #b02020; } .status-RUNNING { color: #1f5fb4; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.curve { background: #fff; border: 1px solid #e4e4e4; }
svg.curve .plot { fill: #fcfcfc; stroke: #ccc; } svg.curve .grid { stroke: #eee; }
svg.curve .axis { font-size: 10px; fill: #555; } svg.curve .chart-title { font-size: 12px; font-weight: 600; }
svg.curve .series { fill: none; stroke-width: 1.6; }
figure { margin: 8px 0 18px; } figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { font-size: 12px; color: #555; } pre { background: #f7f7f7; padding: 10px; overflow: auto; }
.error { color: #b02020; white-space: pre-wrap; }
)css";

// Marks the page ready once every image has decoded (the headless-browser test waits for it).
constexpr const char* kScript = R"js(
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) { return !img.complete || img.naturalWidth === 0; });
  document.body.setAttribute('data-images', String(images.length));
  document.body.setAttribute('data-broken-images', String(broken.length));
  document.body.setAttribute('data-curves', String(document.querySelectorAll('svg.curve path.series, svg.curve circle').length));
  document.body.setAttribute('data-ready', 'yes');
});
)js";

std::string mime_type(const std::filesystem::path& path) {
  const std::string ext = to_lower(path.extension().string());
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".flac") return "audio/flac";
  if (ext == ".ogg") return "audio/ogg";
  if (ext == ".mp3") return "audio/mpeg";
  return "application/octet-stream";
}

// A data: URL with the file's bytes; empty (and a reason) when it cannot be embedded.
std::string data_url(const std::filesystem::path& path, std::string& problem) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    problem = "missing: " + path.string();
    return "";
  }
  if (size > kMaxEmbeddedBytes) {
    problem = fmt::format("{} is {} MB: too large to embed", path.string(), size >> 20);
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return "data:" + mime_type(path) + ";base64," + base64_encode(bytes.str());
}

std::string status_cell(const RunRecord& run) {
  return fmt::format("<td class=\"status-{0}\">{0}</td>", html_escape(run.status));
}

std::string summary_table(const std::vector<RunRecord>& runs) {
  std::string html =
      "<table><tr><th></th><th>run</th><th>task</th><th>status</th><th>started</th>"
      "<th>duration</th><th>git commit</th><th>host</th><th>best checkpoint</th></tr>";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& run = runs[i];
    html += fmt::format(
        "<tr><td><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" "
        "fill=\"{}\"/></svg></td><td><code>{}</code></td><td>{}</td>{}<td>{}</td><td>{}</td>"
        "<td><code>{}{}</code></td><td>{}</td><td>{}</td></tr>",
        series_color(i), html_escape(run.id), html_escape(run.task), status_cell(run),
        local_time(run.start_time), format_duration(duration_seconds(run), DurationStyle::Compact),
        html_escape(run.git_commit.substr(0, 12)), run.git_dirty ? " (dirty)" : "",
        html_escape(run.host), html_escape(run.best_checkpoint));
  }
  html += "</table>";
  for (const RunRecord& run : runs)
    if (!run.error.empty())
      html +=
          fmt::format("<p class=\"error\">{}: {}</p>", html_escape(run.id), html_escape(run.error));
  return html;
}

std::string metrics_table(const Manifest& manifest, const RunComparison& comparison) {
  const bool single = comparison.runs.size() == 1;
  std::string html = "<table><tr><th>metric</th>";
  if (single) {
    html += "<th>last</th><th>min</th><th>max</th><th>points</th></tr>";
    for (const std::string& key : comparison.metric_keys) {
      const auto points = manifest.metrics(comparison.runs[0].id, key);
      double low = INFINITY, high = -INFINITY;
      for (const MetricPoint& p : points)
        if (!std::isnan(p.value)) {
          low = std::min(low, p.value);
          high = std::max(high, p.value);
        }
      html += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
          html_escape(key), format_value(comparison.last_values[0].at(key)),
          std::isfinite(low) ? format_value(low) : "-",
          std::isfinite(high) ? format_value(high) : "-", points.size());
    }
    return html + "</table>";
  }
  for (const RunRecord& run : comparison.runs)
    html += fmt::format("<th><code>{}</code></th>", html_escape(run.id));
  html += "</tr>";
  for (const std::string& key : comparison.metric_keys) {
    html += "<tr><td>" + html_escape(key) + "</td>";
    for (const auto& values : comparison.last_values) {
      auto it = values.find(key);
      html +=
          "<td class=\"num\">" + (it == values.end() ? "-" : format_value(it->second)) + "</td>";
    }
    html += "</tr>";
  }
  return html + "</table>";
}

std::string config_differences(const RunComparison& comparison) {
  if (comparison.config_differences.empty()) return "<p>The runs have the same config.</p>";
  std::string html = "<table><tr><th>config key</th>";
  for (const RunRecord& run : comparison.runs)
    html += fmt::format("<th><code>{}</code></th>", html_escape(run.id));
  html += "</tr>";
  for (const auto& row : comparison.config_differences) {
    html += "<tr>";
    for (const std::string& cell : row) html += "<td><code>" + html_escape(cell) + "</code></td>";
    html += "</tr>";
  }
  return html + "</table>";
}

// One chart per metric that has a curve (two or more points in some run), runs overlaid.
std::string curves(const Manifest& manifest, const RunComparison& comparison) {
  std::string html = "<div class=\"charts\">";
  size_t charts = 0;
  for (const std::string& key : comparison.metric_keys) {
    std::vector<ChartSeries> series;
    size_t longest = 0;
    for (size_t i = 0; i < comparison.runs.size(); ++i) {
      ChartSeries s{comparison.runs[i].id, series_color(i), {}};
      for (const MetricPoint& p : manifest.metrics(comparison.runs[i].id, key))
        s.points.emplace_back(static_cast<double>(p.step), p.value);
      longest = std::max(longest, s.points.size());
      series.push_back(std::move(s));
    }
    if (longest < 2) continue;
    html += svg_line_chart(key, series);
    ++charts;
  }
  if (charts == 0) return "<p>No metric was logged more than once.</p>";
  return html + "</div>";
}

// The runs' image and audio artifacts, embedded, in path order.
std::string examples(const Manifest& manifest, const std::vector<RunRecord>& runs) {
  std::string html;
  for (const RunRecord& run : runs) {
    std::vector<Artifact> shown;
    for (const Artifact& a : manifest.artifacts(run.id))
      if (a.kind == "image" || a.kind == "audio") shown.push_back(a);
    if (shown.empty()) continue;
    std::sort(shown.begin(), shown.end(),
              [](const Artifact& a, const Artifact& b) { return a.path < b.path; });
    html += fmt::format("<h3>run <code>{}</code></h3>", html_escape(run.id));
    for (const Artifact& a : shown) {
      std::filesystem::path path = a.path;
      if (path.is_relative()) path = std::filesystem::path(run.run_dir) / path;
      std::string problem;
      const std::string url = data_url(path, problem);
      const std::string caption = html_escape(a.path);
      if (url.empty())
        html += fmt::format("<p class=\"error\">{}: {}</p>", caption, html_escape(problem));
      else if (a.kind == "image")
        html +=
            fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                        url, caption, caption);
      else
        html += fmt::format(
            "<figure><audio controls preload=\"metadata\" src=\"{}\"></audio>"
            "<figcaption>{}</figcaption></figure>",
            url, caption);
    }
  }
  return html;
}

}  // namespace

std::string html_page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>"
      "<style>{}</style></head><body>\n<h1>{}</h1>\n{}\n<script>{}</script>\n</body></html>\n",
      html_escape(title), kStyle, html_escape(title), body, kScript);
}

std::string metric_curves(const Manifest& manifest, const std::vector<RunRecord>& runs) {
  return curves(manifest, comparison_of(manifest, runs));
}

std::string html_report(const Manifest& manifest, const std::vector<RunRecord>& runs) {
  const RunComparison comparison = comparison_of(manifest, runs);
  std::string ids;
  for (const RunRecord& run : runs) ids += (ids.empty() ? "" : ", ") + run.id;
  std::string html = summary_table(runs);
  if (runs.size() > 1) html += "\n<h2>Config differences</h2>\n" + config_differences(comparison);
  html += "\n<h2>Metrics</h2>\n" + metrics_table(manifest, comparison);
  html += "\n<h2>Curves</h2>\n" + curves(manifest, comparison);
  const std::string example_html = examples(manifest, runs);
  if (!example_html.empty()) html += "\n<h2>Examples</h2>\n" + example_html;
  html += "\n<h2>Config</h2>\n";
  for (const RunRecord& run : runs)
    html += fmt::format("<details><summary>run <code>{}</code></summary><pre>{}</pre></details>",
                        html_escape(run.id), html_escape(run.config_toml));
  return html_page(runs.size() == 1 ? "Run " + ids : "Runs " + ids, html);
}

}  // namespace mlq
