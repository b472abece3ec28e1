#pragma once
// Helpers over TOML trees and dotted keys, shared by the config tree, composition and overrides.
#include <toml++/toml.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mlq::config {

using NodePtr = std::unique_ptr<toml::node>;
// Full dotted key -> where its value came from (a file, an override).
using Origins = std::map<std::string, std::string>;

NodePtr clone(const toml::node& node);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_key(const std::string& prefix, std::string_view key);
// "a.b.c" -> "a.b" and "c".
std::string parent_key(const std::string& key);
std::string last_part(const std::string& key);

// Every dotted key (tables and leaves) below `table`, prefixed by `prefix`.
void collect_keys(const toml::table& table, const std::string& prefix,
                  std::vector<std::string>& out);

// Records `origin` for every leaf under `full` (an empty table counts as a leaf).
void record_origins(Origins& origins, const std::string& full, const toml::node& node,
                    const std::string& origin);
// Forgets the origins of `full` and of everything below it.
void erase_origins(Origins& origins, const std::string& full);

}  // namespace mlq::config
