#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlq/config/tree.hpp"

namespace mlq {

// One command-line override, Hydra's grammar:
//   a.b=v set an existing key, +a.b=v add a new key, ++a.b=v set or add, ~a.b delete,
//   group=option swap a [defaults] entry. v is a TOML literal; a bare word is a string.
struct Override {
  enum class Kind { Set, Add, Upsert, Delete };
  Kind kind = Kind::Set;
  std::string key;
  std::string value;  // raw text after '=' (empty for Delete)
  std::string text;   // the override as the user typed it, for error messages
};
Override parse_override(std::string_view text);
// Parse the value of an override as a TOML literal; a bare word becomes a string.
std::unique_ptr<toml::node> parse_value(std::string_view text, std::string_view origin);

// Splits `text` at commas outside brackets, braces, parentheses and quotes.
std::vector<std::string> split_top_level(std::string_view text);

// --multirun: overrides whose value is a comma list (a=1,2,3; brackets and quotes respected)
// expand into the cartesian product; each element is a complete override list, in order.
std::vector<std::vector<std::string>> expand_sweeps(const std::vector<std::string>& overrides);

}  // namespace mlq
