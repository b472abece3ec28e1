#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlq {

struct ChartSeries {
  std::string label;
  std::string color;  // any SVG colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>>
      points;  // (step, value); NaN and infinities break the line
};

// A self-contained SVG line chart (axes with rounded ticks, one polyline per series, a legend when
// there are several), for embedding in HTML. The <svg> has class "curve" and data-series = the
// number of series drawn.
std::string svg_line_chart(std::string_view title, const std::vector<ChartSeries>& series,
                           int width = 460, int height = 260);

// Distinct colours for series 0, 1, 2, ... (cycling).
const char* series_color(size_t index);

// Text with &, <, >, " and ' escaped for HTML and SVG.
std::string html_escape(std::string_view text);

}  // namespace mlq
