#include "mlq/launch/slurm_nodelist.hpp"

#include <cctype>
#include <stdexcept>

namespace mlq {
namespace {

// Splits on commas outside brackets.
std::vector<std::string_view> split_top_level(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') ++depth;
    if (text[i] == ']') --depth;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool all_digits(std::string_view text) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The values of one bracket body such as `01-04,07`, each as text with its padding.
std::vector<std::string> expand_ranges(std::string_view body) {
  std::vector<std::string> values;
  for (std::string_view item : split_top_level(body)) {
    const size_t dash = item.find('-');
    const std::string_view low = item.substr(0, dash);
    const std::string_view high = dash == std::string_view::npos ? low : item.substr(dash + 1);
    if (!all_digits(low) || !all_digits(high))
      throw std::invalid_argument("expected numbers or ranges like 01-04 in brackets, got '" +
                                  std::string(item) + "'");
    const int from = std::stoi(std::string(low));
    const int to = std::stoi(std::string(high));
    if (to < from) throw std::invalid_argument("range '" + std::string(item) + "' runs backwards");
    for (int value = from; value <= to; ++value) {
      std::string text = std::to_string(value);
      if (text.size() < low.size()) text.insert(0, low.size() - text.size(), '0');
      values.push_back(std::move(text));
    }
  }
  return values;
}

// One host pattern, possibly with several bracket groups: their cartesian product.
void expand_host(std::string_view pattern, const std::string& prefix,
                 std::vector<std::string>& out) {
  const size_t open = pattern.find('[');
  if (open == std::string_view::npos) {
    if (pattern.find(']') != std::string_view::npos) throw std::invalid_argument("unmatched ']'");
    out.push_back(prefix + std::string(pattern));
    return;
  }
  const size_t close = pattern.find(']', open);
  if (close == std::string_view::npos) throw std::invalid_argument("unclosed '['");
  const std::string head = prefix + std::string(pattern.substr(0, open));
  for (const std::string& value : expand_ranges(pattern.substr(open + 1, close - open - 1)))
    expand_host(pattern.substr(close + 1), head + value, out);
}

}  // namespace

std::vector<std::string> expand_nodelist(std::string_view nodelist) {
  std::vector<std::string> hosts;
  for (std::string_view pattern : split_top_level(nodelist)) {
    if (pattern.empty()) throw std::invalid_argument("empty host name");
    expand_host(pattern, "", hosts);
  }
  return hosts;
}

}  // namespace mlq
