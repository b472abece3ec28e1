#include "mlq/sweep/space.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "mlq/config/override.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

// "name(args)" -> name and the arguments split at top-level commas; nullopt when not a call.
struct Call {
  std::string name;
  std::vector<std::string> args;
};

std::optional<Call> as_call(const std::string& text) {
  const size_t open = text.find('(');
  if (open == std::string::npos || open == 0 || text.back() != ')') return std::nullopt;
  Call call{trim(text.substr(0, open)), {}};
  for (char c : call.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  for (const std::string& arg : split_top_level(text.substr(open + 1, text.size() - open - 2)))
    call.args.push_back(trim(arg));
  return call;
}

class Parser {
 public:
  Parser(std::string key, std::string text) : key_(std::move(key)), text_(std::move(text)) {}

  Dimension parse(const std::string& spec) {
    Dimension d = dimension(trim(spec));
    d.key = key_;
    d.text = text_;
    return d;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw ConfigError(fmt::format("sweep override '{}': {}", text_, why));
  }

  double number(const std::string& text) const {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(value))
      fail(fmt::format("'{}' is not a number", text));
    return value;
  }

  Dimension dimension(const std::string& spec) {
    const auto call = as_call(spec);
    if (!call) {
      const std::vector<std::string> parts = split_top_level(spec);
      Dimension d;
      for (const std::string& part : parts) {
        if (trim(part).empty()) fail("an empty value in the list");
        d.choices.push_back(trim(part));
      }
      return d;
    }
    const std::vector<std::string>& args = call->args;
    if (call->name == "choice") {
      Dimension d;
      for (const std::string& arg : args) {
        if (arg.empty()) fail("choice() needs values: choice(a, b, ...)");
        d.choices.push_back(arg);
      }
      return d;
    }
    if (call->name == "range") {
      if (args.size() < 2 || args.size() > 3) fail("expected range(start, stop[, step])");
      const double start = number(args[0]), stop = number(args[1]);
      const double step = args.size() == 3 ? number(args[2]) : 1;
      if (step == 0) fail("range() needs a step other than 0");
      bool integer = true;
      for (const std::string& arg : args)
        integer = integer && arg.find_first_of(".eE") == std::string::npos;
      Dimension d;
      for (int64_t i = 0;; ++i) {
        const double value = start + static_cast<double>(i) * step;
        if (step > 0 ? value >= stop - 1e-12 * std::abs(step) : value <= stop + 1e-12 * -step)
          break;
        if (i == 100000) fail("range() has more than 100,000 values");
        d.choices.push_back(format_number(value, integer));
      }
      if (d.choices.empty()) fail(fmt::format("range({}) is empty", fmt::join(args, ", ")));
      return d;
    }
    if (call->name == "interval") {
      if (args.size() != 2) fail("expected interval(low, high)");
      Dimension d;
      d.kind = Dimension::Kind::Real;
      d.low = number(args[0]);
      d.high = number(args[1]);
      if (!(d.low < d.high))
        fail(fmt::format("interval({}, {}) is empty: low must be below high", args[0], args[1]));
      return d;
    }
    if (call->name == "int") {
      if (args.size() != 1) fail("expected int(interval(low, high))");
      Dimension d = dimension(args[0]);
      if (d.kind != Dimension::Kind::Real) fail("int() takes an interval: int(interval(1, 10))");
      d.kind = Dimension::Kind::Integer;
      d.low = std::ceil(d.low);
      d.high = std::floor(d.high);
      if (d.low > d.high) fail("the interval holds no integer");
      return d;
    }
    if (call->name == "tag") {
      if (args.size() != 2) fail("expected tag(log, interval(low, high))");
      Dimension d = dimension(args[1]);
      if (args[0] != "log") fail(fmt::format("unknown tag '{}' (the one tag is log)", args[0]));
      if (d.kind == Dimension::Kind::Choice) fail("tag(log, ...) takes an interval");
      if (d.low <= 0) fail("a log scale needs a low bound above 0");
      d.log = true;
      return d;
    }
    fail(
        fmt::format("unknown search-space function '{}' (expected choice, range, interval, int "
                    "or tag)",
                    call->name));
  }

  std::string key_;
  std::string text_;
};

}  // namespace

std::string format_number(double value, bool integer) {
  if (integer) return fmt::format("{}", static_cast<int64_t>(std::llround(value)));
  std::string text = fmt::format("{}", value);
  // A TOML float needs a point or an exponent: 1 would be read as an integer.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

Dimension parse_dimension(const std::string& key, const std::string& spec) {
  return Parser(key, key + "=" + spec).parse(spec);
}

SearchSpace parse_search_space(const std::vector<std::string>& overrides) {
  SearchSpace space;
  for (const std::string& item : overrides) {
    const std::string body = trim(item);
    const size_t eq = body.find('=');
    if (body.empty() || body[0] == '~' || eq == std::string::npos) {
      space.fixed.push_back(item);
      continue;
    }
    const std::string key = body.substr(0, eq), value = trim(body.substr(eq + 1));
    const bool call = as_call(value).has_value();
    if (!call && split_top_level(value).size() < 2) {
      space.fixed.push_back(item);
      continue;
    }
    space.dimensions.push_back(Parser(key, body).parse(value));
  }
  return space;
}

}  // namespace mlq
