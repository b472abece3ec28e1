// runner report --sweep ID: the sweep's page: the objective of each trial, a parallel-coordinates
// plot of the parameters against the objective, the best trials' curves, and every trial.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "mlq/util/text.hpp"
#include "report/html_report.hpp"
#include "report/svg_chart.hpp"
#include "sweep/sweep.hpp"

namespace mlq::sweep {
namespace {

constexpr size_t kBestShown = 5;

std::string tick_label_of(double value) {
  return fmt::format("{:.4g}", value);
}

// One vertical axis per dimension and one for the objective; each trial with an objective is a
// line across them, darker the better its objective. Numbers lie on their scale (log for log
// dimensions), choices in their order.
std::string parallel_coordinates(const SearchSpace& space, const std::vector<SweepTrial>& trials,
                                 const SweepRecord& sweep) {
  std::vector<const SweepTrial*> shown;
  for (const SweepTrial& t : trials)
    if (t.objective && std::isfinite(*t.objective)) shown.push_back(&t);
  const size_t axes = space.dimensions.size() + 1;
  const double width = std::max<double>(460, 180.0 * static_cast<double>(axes)), height = 320;
  const double top = 40, bottom = 40, left = 90, right = 90;  // room for the axis names
  const double step = axes > 1 ? (width - left - right) / static_cast<double>(axes - 1) : 0;
  std::string svg = fmt::format(
      "<svg class=\"curve parallel\" data-trials=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\"><title>parameters against "
      "{}</title>",
      shown.size(), width, height, width, height, html_escape(sweep.objective));
  // Each axis: a function from a trial to [0, 1] (0 at the bottom), and its end labels.
  struct Axis {
    std::string name, low, high;
    std::function<double(const SweepTrial&)> position;
  };
  std::vector<Axis> columns;
  for (const Dimension& d : space.dimensions) {
    auto value_of = [key = d.key](const SweepTrial& t) -> std::string {
      for (const std::string& o : t.params)
        if (o.rfind(key + "=", 0) == 0) return o.substr(key.size() + 1);
      return "";
    };
    if (d.kind == Dimension::Kind::Choice) {
      const auto n = static_cast<double>(d.choices.size());
      columns.push_back(
          {d.key, d.choices.front(), d.choices.back(), [d, n, value_of](const SweepTrial& t) {
             const auto at = std::find(d.choices.begin(), d.choices.end(), value_of(t));
             return n > 1 ? static_cast<double>(at - d.choices.begin()) / (n - 1) : 0.5;
           }});
    } else {
      auto scale = [log = d.log](double x) { return log ? std::log(x) : x; };
      columns.push_back({d.key, format_number(d.low, d.kind == Dimension::Kind::Integer),
                         format_number(d.high, d.kind == Dimension::Kind::Integer),
                         [d, scale, value_of](const SweepTrial& t) {
                           const double x = std::strtod(value_of(t).c_str(), nullptr);
                           return (scale(x) - scale(d.low)) / (scale(d.high) - scale(d.low));
                         }});
    }
  }
  double lo = INFINITY, hi = -INFINITY;
  for (const SweepTrial* t : shown) {
    lo = std::min(lo, *t->objective);
    hi = std::max(hi, *t->objective);
  }
  columns.push_back(
      {sweep.objective, tick_label_of(lo), tick_label_of(hi),
       [lo, hi](const SweepTrial& t) { return hi > lo ? (*t.objective - lo) / (hi - lo) : 0.5; }});
  for (size_t a = 0; a < columns.size(); ++a) {
    const double x = left + step * static_cast<double>(a);
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#999\"/>"
        "<text class=\"axis\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>"
        "<text class=\"axis\" x=\"{0}\" y=\"{5}\" text-anchor=\"middle\">{6}</text>"
        "<text class=\"chart-title\" x=\"{0}\" y=\"16\" text-anchor=\"middle\">{7}</text>",
        x, top, height - bottom, height - bottom + 14, html_escape(columns[a].low), top - 6,
        html_escape(columns[a].high), html_escape(columns[a].name));
  }
  // Worst first, so that the best lines are drawn on top.
  std::vector<const SweepTrial*> order = shown;
  std::sort(order.begin(), order.end(), [&](const SweepTrial* a, const SweepTrial* b) {
    return sweep.direction == "min" ? *a->objective > *b->objective : *a->objective < *b->objective;
  });
  for (size_t i = 0; i < order.size(); ++i) {
    const double quality = order.size() > 1 ? static_cast<double>(i) / (order.size() - 1) : 1.0;
    std::string points;
    for (size_t a = 0; a < columns.size(); ++a) {
      const double y =
          height - bottom -
          std::clamp(columns[a].position(*order[i]), 0.0, 1.0) * (height - top - bottom);
      points +=
          fmt::format("{}{:.1f},{:.1f}", a ? " " : "", left + step * static_cast<double>(a), y);
    }
    svg += fmt::format(
        "<polyline class=\"series\" points=\"{}\" stroke=\"rgb({},{},{})\" "
        "stroke-opacity=\"{:.2f}\">"
        "<title>trial {}: {} {}</title></polyline>",
        points, static_cast<int>(200 - 170 * quality), static_cast<int>(200 - 120 * quality),
        static_cast<int>(230 - 50 * quality), 0.35 + 0.65 * quality, order[i]->number,
        html_escape(sweep.objective), *order[i]->objective);
  }
  return svg + "</svg>";
}

}  // namespace

std::string html_sweep_report(const Manifest& manifest, const SweepRecord& sweep) {
  const SearchSpace space = space_of(sweep);
  std::vector<SweepTrial> trials = manifest.sweep_trials(sweep.id);
  std::string html = fmt::format(
      "<p>Task <code>{}</code>, strategy {}, {} of {} trials, objective <code>{}</code> "
      "({}): <span class=\"status-{}\">{}</span></p>",
      html_escape(sweep.task), sweep.strategy, trials.size(), sweep.trials,
      html_escape(sweep.objective), sweep.direction, sweep.status, sweep.status);
  if (!sweep.error.empty()) html += "<p class=\"error\">" + html_escape(sweep.error) + "</p>";

  ChartSeries each{"trial", series_color(0), {}}, best{"best so far", series_color(1), {}};
  std::optional<double> so_far;
  for (const SweepTrial& t : trials) {
    if (!t.objective) continue;
    each.points.emplace_back(static_cast<double>(t.number), *t.objective);
    if (!so_far || (sweep.direction == "min" ? *t.objective < *so_far : *t.objective > *so_far))
      so_far = t.objective;
    best.points.emplace_back(static_cast<double>(t.number), *so_far);
  }
  html += "\n<h2>Objective per trial</h2>\n<div class=\"charts\">" +
          svg_line_chart(sweep.objective + " by trial", {each, best}, 560, 280) + "</div>";
  html +=
      "\n<h2>Parameters against the objective</h2>\n" + parallel_coordinates(space, trials, sweep);

  std::vector<SweepTrial> ranked;
  for (const SweepTrial& t : trials)
    if (t.objective && !t.run_id.empty()) ranked.push_back(t);
  std::stable_sort(ranked.begin(), ranked.end(), [&](const SweepTrial& a, const SweepTrial& b) {
    return sweep.direction == "min" ? *a.objective < *b.objective : *a.objective > *b.objective;
  });
  std::vector<RunRecord> best_runs;
  for (const SweepTrial& t : ranked)
    if (best_runs.size() < kBestShown)
      if (auto run = manifest.find_run(t.run_id)) best_runs.push_back(*run);
  if (!best_runs.empty())
    html += fmt::format("\n<h2>The best {} trials' curves</h2>\n", best_runs.size()) +
            metric_curves(manifest, best_runs);

  html += "\n<h2>Trials</h2>\n<table><tr><th>trial</th><th>status</th><th>" +
          html_escape(sweep.objective) + "</th><th>run</th><th>params</th></tr>";
  for (const SweepTrial& t : trials)
    html += fmt::format(
        "<tr><td class=\"num\">{}</td><td class=\"status-{}\">{}</td><td class=\"num\">{}</td>"
        "<td><code>{}</code></td><td><code>{}</code></td></tr>",
        t.number, t.status, t.status, t.objective ? fmt::format("{:.6g}", *t.objective) : "-",
        html_escape(t.run_id), html_escape(fmt::format("{}", fmt::join(t.params, " "))));
  html += "</table>";
  return html_page("Sweep " + sweep.id, html);
}

}  // namespace mlq::sweep
