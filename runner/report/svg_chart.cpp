#include "report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlq {
namespace {

struct AxisRange {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return low > high; }
  // A range of non-zero width around a single value.
  void widen() {
    if (high > low) return;
    const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
};

// Round tick positions (1, 2 or 5 times a power of ten) covering `range`, about `count` of them.
std::vector<double> nice_ticks(const AxisRange& range, int count) {
  const double raw = (range.high - range.low) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (magnitude * factor >= raw) {
      step = magnitude * factor;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(range.low / step) * step; t <= range.high + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value) {
  return fmt::format("{:.4g}", value);
}

}  // namespace

const char* series_color(size_t index) {
  static const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kColors[index % (sizeof(kColors) / sizeof(kColors[0]))];
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_line_chart(std::string_view title, const std::vector<ChartSeries>& series,
                           int width, int height) {
  const double left = 58, right = 12, top = 26, bottom = series.size() > 1 ? 58 : 34;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  AxisRange xs, ys;
  for (const ChartSeries& s : series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        xs.add(x);
        ys.add(y);
      }
  std::string svg = fmt::format(
      "<svg class=\"curve\" data-series=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\"><title>{}</title>"
      "<text x=\"{}\" y=\"16\" class=\"chart-title\">{}</text>",
      series.size(), width, height, width, height, html_escape(title), left, html_escape(title));
  if (xs.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\">no finite values</text></svg>", left,
                       top + plot_h / 2);
    return svg;
  }
  xs.widen();
  ys.widen();
  const double y_pad = (ys.high - ys.low) * 0.05;
  ys.low -= y_pad;
  ys.high += y_pad;
  auto px = [&](double x) { return left + (x - xs.low) / (xs.high - xs.low) * plot_w; };
  auto py = [&](double y) { return top + (ys.high - y) / (ys.high - ys.low) * plot_h; };

  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"plot\"/>", left,
                     top, plot_w, plot_h);
  for (double t : nice_ticks(ys, 5))
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" class=\"grid\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" class=\"axis\" text-anchor=\"end\">{5}</text>",
        left, left + plot_w, py(t), left - 4, py(t) + 4, tick_label(t));
  for (double t : nice_ticks(xs, 6))
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" class=\"axis\" text-anchor=\"middle\">{4}</text>",
        px(t), top, top + plot_h, top + plot_h + 14, tick_label(t));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">step</text>",
                     left + plot_w, top + plot_h + 28);

  for (size_t i = 0; i < series.size(); ++i) {
    const ChartSeries& s = series[i];
    std::string path;
    size_t drawn = 0;
    bool pen_down = false;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        pen_down = false;
        continue;
      }
      path += fmt::format("{}{:.1f} {:.1f} ", pen_down ? "L" : "M", px(x), py(y));
      pen_down = true;
      ++drawn;
    }
    if (drawn == 1)  // a lone point has no line: mark it
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>",
                         px(s.points.front().first), py(s.points.front().second), s.color);
    else if (drawn > 1)
      svg += fmt::format("<path d=\"{}\" stroke=\"{}\" class=\"series\"/>", path, s.color);
  }
  if (series.size() > 1) {
    double x = left;
    for (const ChartSeries& s : series) {
      svg += fmt::format(
          "<rect x=\"{:.0f}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
          "<text x=\"{:.0f}\" y=\"{}\" class=\"axis\">{}</text>",
          x, height - 16, s.color, x + 14, height - 7, html_escape(s.label));
      x += 24 + 7.0 * static_cast<double>(s.label.size());
    }
  }
  return svg + "</svg>";
}

}  // namespace mlq
