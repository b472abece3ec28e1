#pragma once
#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlq/util/error.hpp"

namespace mlq {

// The values a numeric config key accepts, for range-checked getters and their messages.
struct Range {
  double low = -std::numeric_limits<double>::infinity();
  double high = std::numeric_limits<double>::infinity();
  bool low_open = false;   // low itself is excluded
  bool high_open = false;  // high itself is excluded

  static Range at_least(double low) { return {low, Range().high, false, false}; }
  static Range above(double low) { return {low, Range().high, true, false}; }
  static Range between(double low, double high) { return {low, high, false, false}; }
  // [0, 1]: probabilities and fractions.
  static Range unit() { return between(0, 1); }
  // [low, high)
  static Range from_below(double low, double high) { return {low, high, false, true}; }
  // (low, high]
  static Range above_up_to(double low, double high) { return {low, high, true, false}; }

  bool contains(double value) const;
  // ">= 0", "> 0", "in [0, 1]", "in (0, 1]": what a message says is expected.
  std::string describe() const;
};

// A resolved configuration: a TOML table plus, for every leaf key, where its value came from
// (a file path, "override 'a.b=1'", or "default"). Keys are dotted paths ("trainer.lr").
class Config {
 public:
  Config() = default;
  Config(toml::table table, std::map<std::string, std::string> origins);

  bool has(std::string_view key) const;

  // Typed getters. A missing key or a value of the wrong type throws ConfigError naming the
  // key, the value's origin and the expected type; a missing key suggests the nearest one.
  int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;  // integers are accepted
  bool get_bool(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<double> get_doubles(std::string_view key) const;
  std::vector<int64_t> get_ints(std::string_view key) const;
  std::vector<std::string> get_strings(std::string_view key) const;

  // The same, returning `fallback` when the key is absent (a present key of the wrong type
  // still throws).
  int64_t get_int(std::string_view key, int64_t fallback) const;
  double get_double(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string get_string(std::string_view key, std::string_view fallback) const;

  // The same, also requiring the value to lie in `range`: otherwise a ConfigError such as
  // "config key 'trainer.num_workers' = -1 (override ...): expected an integer >= 0".
  int64_t get_int(std::string_view key, int64_t fallback, const Range& range) const;
  double get_double(std::string_view key, double fallback, const Range& range) const;
  std::vector<double> get_doubles(std::string_view key, const Range& range) const;
  std::vector<int64_t> get_ints(std::string_view key, const Range& range) const;
  // Throws the same error for a value read or derived elsewhere (`integer` picks the wording).
  void check_range(std::string_view key, double value, const Range& range,
                   bool integer = false) const;

  // A sub-table as a Config of its own; keys become relative, origins are kept, and error
  // messages still print the full dotted key. Missing section -> empty Config.
  Config section(std::string_view key) const;
  // Direct child keys of a table ("" is the root), sorted.
  std::vector<std::string> keys(std::string_view table_key = "") const;
  // Where a leaf key's value came from ("" if unknown).
  std::string origin(std::string_view key) const;

  // Set a leaf value (creating intermediate tables), recording its origin.
  void set(std::string_view key, toml::node&& value, std::string origin);
  void set(std::string_view key, const toml::node& value, std::string origin);

  // Keys under `table_key` must be among `known`; an unknown one throws ConfigError naming it,
  // its origin, and the nearest known key. Used as the schema check of a component's section.
  void check_known_keys(std::string_view table_key, const std::vector<std::string>& known) const;

  const toml::table& table() const { return table_; }
  // Canonical TOML text (keys sorted), identical for identical configurations.
  std::string to_toml() const;
  // Every leaf as (dotted key, TOML literal of its value), sorted by key.
  std::vector<std::pair<std::string, std::string>> flatten() const;

 private:
  std::string full_key(std::string_view key) const;
  const toml::node* find(std::string_view key) const;
  [[noreturn]] void throw_missing(std::string_view key) const;
  [[noreturn]] void throw_type(std::string_view key, const toml::node& node,
                               std::string_view expected) const;

  toml::table table_;
  std::map<std::string, std::string> origins_;  // full dotted key -> origin
  std::string prefix_;                          // full key of this section, "" at the root
};

// "integer", "float", "string", "table", ...: a TOML value's type, for messages.
const char* toml_type_name(const toml::node& node);

// The TOML literal text of a value, on one line: strings quoted and escaped, floats always with
// a '.' or exponent, arrays as [a, b], tables as inline tables {k = v} with sorted keys.
std::string toml_literal(const toml::node& node);

}  // namespace mlq
