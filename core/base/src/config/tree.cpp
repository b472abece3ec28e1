#include "mlq/config/tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "config/keys.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

using namespace config;

namespace {

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A TOML basic string: JSON's escapes are TOML's, except that TOML also escapes DEL.
std::string toml_string(std::string_view text) {
  std::string out;
  for (char c : in_quotes(text)) out += c == '\x7f' ? std::string("\\u007f") : std::string(1, c);
  return out;
}

std::string key_text(std::string_view key) {
  return is_bare_key(key) ? std::string(key) : toml_string(key);
}

std::string float_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

template <typename T>
std::string stream_text(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Children of a table sorted by key (toml::table's own order is not guaranteed canonical).
std::vector<std::pair<std::string, const toml::node*>> sorted_children(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> children;
  for (auto&& [key, node] : table) children.emplace_back(std::string(key.str()), &node);
  std::sort(children.begin(), children.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return children;
}

void collect_leaves(const toml::table& table, const std::string& prefix,
                    std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, node] : sorted_children(table)) {
    std::string full = join_key(prefix, key);
    if (auto* sub = node->as_table())
      collect_leaves(*sub, full, out);
    else
      out.emplace_back(full, toml_literal(*node));
  }
}

}  // namespace

const char* toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

namespace {

// "string \"ten\"", "integer 3", "a table": what a value is, for error messages (one line).
std::string describe(const toml::node& node) {
  if (node.is_table()) return "a table";
  std::string literal = toml_literal(node);
  if (literal.size() > 80) literal = literal.substr(0, 77) + "...";
  return fmt::format("{} {}", toml_type_name(node), literal);
}

}  // namespace

std::string toml_literal(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return toml_string(node.as_string()->get());
    case toml::node_type::integer:
      return fmt::format("{}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return float_text(node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::date:
      return stream_text(node.as_date()->get());
    case toml::node_type::time:
      return stream_text(node.as_time()->get());
    case toml::node_type::date_time:
      return stream_text(node.as_date_time()->get());
    case toml::node_type::array: {
      std::string out = "[";
      bool first = true;
      for (const toml::node& element : *node.as_array()) {
        if (!first) out += ", ";
        first = false;
        out += toml_literal(element);
      }
      return out + "]";
    }
    case toml::node_type::table: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, child] : sorted_children(*node.as_table())) {
        out += first ? " " : ", ";
        first = false;
        out += key_text(key) + " = " + toml_literal(*child);
      }
      return out + (first ? "}" : " }");
    }
    default:
      return "\"\"";
  }
}

Config::Config(toml::table table, std::map<std::string, std::string> origins)
    : table_(std::move(table)), origins_(std::move(origins)) {}

std::string Config::full_key(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  if (key.empty()) return prefix_;
  return prefix_ + "." + std::string(key);
}

const toml::node* Config::find(std::string_view key) const {
  const toml::node* node = &table_;
  if (key.empty()) return node;
  for (const std::string& part : split(key, '.')) {
    const toml::table* table = node->as_table();
    if (!table) return nullptr;
    node = table->get(part);
    if (!node) return nullptr;
  }
  return node;
}

bool Config::has(std::string_view key) const {
  return find(key) != nullptr;
}

std::string Config::origin(std::string_view key) const {
  const std::string full = full_key(key);
  auto it = origins_.find(full);
  if (it != origins_.end()) return it->second;
  // A table: the origin of its first leaf.
  const std::string prefix = full.empty() ? "" : full + ".";
  it = origins_.lower_bound(prefix);
  if (it != origins_.end() && it->first.compare(0, prefix.size(), prefix) == 0) return it->second;
  return "";
}

void Config::throw_missing(std::string_view key) const {
  std::vector<std::string> candidates;
  collect_keys(table_, prefix_, candidates);
  const std::string full = full_key(key);
  std::string message = fmt::format("config key '{}' is missing", full);
  std::string best = nearest(full, candidates);
  if (!best.empty()) message += fmt::format("; did you mean '{}'?", best);
  throw ConfigError(message);
}

void Config::throw_type(std::string_view key, const toml::node& node,
                        std::string_view expected) const {
  const std::string where = origin(key);
  throw ConfigError(fmt::format("config key '{}'{}: expected {}, got {}", full_key(key),
                                where.empty() ? "" : " (" + where + ")", expected, describe(node)));
}

int64_t Config::get_int(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  if (auto* value = node->as_integer()) return value->get();
  throw_type(key, *node, "an integer");
}

double Config::get_double(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  if (auto* value = node->as_floating_point()) return value->get();
  if (auto* value = node->as_integer()) return static_cast<double>(value->get());
  throw_type(key, *node, "a number");
}

bool Config::get_bool(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  if (auto* value = node->as_boolean()) return value->get();
  throw_type(key, *node, "a boolean");
}

std::string Config::get_string(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  if (auto* value = node->as_string()) return value->get();
  throw_type(key, *node, "a string");
}

std::vector<double> Config::get_doubles(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  std::vector<double> out;
  if (auto* array = node->as_array()) {
    for (const toml::node& element : *array) {
      if (auto* f = element.as_floating_point())
        out.push_back(f->get());
      else if (auto* i = element.as_integer())
        out.push_back(static_cast<double>(i->get()));
      else
        throw_type(key, *node, "an array of numbers");
    }
    return out;
  }
  throw_type(key, *node, "an array of numbers");
}

std::vector<int64_t> Config::get_ints(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  std::vector<int64_t> out;
  if (auto* array = node->as_array()) {
    for (const toml::node& element : *array) {
      if (auto* i = element.as_integer())
        out.push_back(i->get());
      else
        throw_type(key, *node, "an array of integers");
    }
    return out;
  }
  throw_type(key, *node, "an array of integers");
}

std::vector<std::string> Config::get_strings(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) throw_missing(key);
  std::vector<std::string> out;
  if (auto* array = node->as_array()) {
    for (const toml::node& element : *array) {
      if (auto* s = element.as_string())
        out.push_back(s->get());
      else
        throw_type(key, *node, "an array of strings");
    }
    return out;
  }
  throw_type(key, *node, "an array of strings");
}

int64_t Config::get_int(std::string_view key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double Config::get_double(std::string_view key, double fallback) const {
  return has(key) ? get_double(key) : fallback;
}

bool Config::get_bool(std::string_view key, bool fallback) const {
  return has(key) ? get_bool(key) : fallback;
}

std::string Config::get_string(std::string_view key, std::string_view fallback) const {
  return has(key) ? get_string(key) : std::string(fallback);
}

bool Range::contains(double value) const {
  if (std::isnan(value)) return false;
  const bool above_low = low_open ? value > low : value >= low;
  const bool below_high = high_open ? value < high : value <= high;
  return above_low && below_high;
}

std::string Range::describe() const {
  if (std::isinf(high)) return fmt::format("{} {}", low_open ? ">" : ">=", low);
  if (std::isinf(low)) return fmt::format("{} {}", high_open ? "<" : "<=", high);
  return fmt::format("in {}{}, {}{}", low_open ? "(" : "[", low, high, high_open ? ")" : "]");
}

void Config::check_range(std::string_view key, double value, const Range& range,
                         bool integer) const {
  if (range.contains(value)) return;
  const std::string where = origin(key);
  throw ConfigError(fmt::format("config key '{}' = {}{}: expected {} {}", full_key(key), value,
                                where.empty() ? "" : " (" + where + ")",
                                integer ? "an integer" : "a number", range.describe()));
}

int64_t Config::get_int(std::string_view key, int64_t fallback, const Range& range) const {
  const int64_t value = get_int(key, fallback);
  check_range(key, static_cast<double>(value), range, true);
  return value;
}

double Config::get_double(std::string_view key, double fallback, const Range& range) const {
  const double value = get_double(key, fallback);
  check_range(key, value, range);
  return value;
}

std::vector<double> Config::get_doubles(std::string_view key, const Range& range) const {
  std::vector<double> values = get_doubles(key);
  for (double value : values) check_range(key, value, range);
  return values;
}

std::vector<int64_t> Config::get_ints(std::string_view key, const Range& range) const {
  std::vector<int64_t> values = get_ints(key);
  for (int64_t value : values) check_range(key, static_cast<double>(value), range, true);
  return values;
}

Config Config::section(std::string_view key) const {
  if (key.empty()) return *this;
  Config out;
  out.prefix_ = full_key(key);
  const toml::node* node = find(key);
  if (!node) return out;
  const toml::table* table = node->as_table();
  if (!table) throw_type(key, *node, "a table");
  out.table_ = *table;
  const std::string prefix = out.prefix_ + ".";
  for (auto it = origins_.lower_bound(prefix);
       it != origins_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.origins_.insert(*it);
  return out;
}

std::vector<std::string> Config::keys(std::string_view table_key) const {
  std::vector<std::string> out;
  const toml::node* node = find(table_key);
  if (!node) return out;
  const toml::table* table = node->as_table();
  if (!table) throw_type(table_key, *node, "a table");
  for (const auto& child : sorted_children(*table)) out.push_back(child.first);
  return out;
}

void Config::set(std::string_view key, toml::node&& value, std::string origin) {
  if (key.empty()) throw ConfigError("cannot set the root of a configuration");
  const std::vector<std::string> parts = split(key, '.');
  toml::table* table = &table_;
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join_key(path, parts[i]);
    toml::node* child = table->get(parts[i]);
    if (!child) child = &table->insert(parts[i], toml::table{}).first->second;
    if (!child->is_table())
      throw ConfigError(fmt::format("cannot set config key '{}': '{}' is {}, not a table",
                                    full_key(key), full_key(path), describe(*child)));
    table = child->as_table();
  }
  const std::string full = full_key(key);
  erase_origins(origins_, full);
  auto result = table->insert_or_assign(parts.back(), std::move(value));
  record_origins(origins_, full, result.first->second, origin);
}

void Config::set(std::string_view key, const toml::node& value, std::string origin) {
  NodePtr copy = value.visit([](const auto& concrete) -> NodePtr {
    return std::make_unique<std::decay_t<decltype(concrete)>>(concrete);
  });
  set(key, std::move(*copy), std::move(origin));
}

void Config::check_known_keys(std::string_view table_key,
                              const std::vector<std::string>& known) const {
  const toml::node* node = find(table_key);
  if (!node) return;
  const toml::table* table = node->as_table();
  if (!table) throw_type(table_key, *node, "a table");
  for (const auto& [key, child] : sorted_children(*table)) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string relative = table_key.empty() ? key : std::string(table_key) + "." + key;
    const std::string where = origin(relative);
    std::string message = fmt::format("unknown key '{}'{}", full_key(relative),
                                      where.empty() ? "" : " (" + where + ")");
    std::string best = nearest(key, known);
    if (!best.empty()) {
      message += fmt::format("; did you mean '{}'?", best);
    } else if (known.empty()) {
      message += "; this table takes no keys";
    } else {
      std::vector<std::string> sorted = known;
      std::sort(sorted.begin(), sorted.end());
      message += "; known keys: ";
      for (size_t i = 0; i < sorted.size(); ++i) message += (i ? ", " : "") + sorted[i];
    }
    throw ConfigError(message);
  }
}

namespace {

void emit_table(std::string& out, const toml::table& table, const std::string& header) {
  if (!header.empty()) {
    if (!out.empty()) out += "\n";
    out += "[" + header + "]\n";
  }
  const auto children = sorted_children(table);
  for (const auto& [key, node] : children)
    if (!node->is_table()) out += key_text(key) + " = " + toml_literal(*node) + "\n";
  for (const auto& [key, node] : children)
    if (auto* sub = node->as_table())
      emit_table(out, *sub, header.empty() ? key_text(key) : header + "." + key_text(key));
}

}  // namespace

std::string Config::to_toml() const {
  std::string out;
  emit_table(out, table_, "");
  return out;
}

std::vector<std::pair<std::string, std::string>> Config::flatten() const {
  std::vector<std::pair<std::string, std::string>> out;
  collect_leaves(table_, "", out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mlq
