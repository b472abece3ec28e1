#include "config/keys.hpp"

namespace mlq::config {

NodePtr clone(const toml::node& node) {
  return node.visit([](const auto& concrete) -> NodePtr {
    return std::make_unique<std::decay_t<decltype(concrete)>>(concrete);
  });
}

std::string join_key(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string parent_key(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

std::string last_part(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

void collect_keys(const toml::table& table, const std::string& prefix,
                  std::vector<std::string>& out) {
  for (auto&& [key, node] : table) {
    std::string full = join_key(prefix, key.str());
    out.push_back(full);
    if (auto* sub = node.as_table()) collect_keys(*sub, full, out);
  }
}

void record_origins(Origins& origins, const std::string& full, const toml::node& node,
                    const std::string& origin) {
  const toml::table* table = node.as_table();
  if (!table || table->empty()) {
    origins[full] = origin;
    return;
  }
  for (auto&& [key, child] : *table)
    record_origins(origins, join_key(full, key.str()), child, origin);
}

void erase_origins(Origins& origins, const std::string& full) {
  origins.erase(full);
  const std::string prefix = full + ".";
  auto it = origins.lower_bound(prefix);
  while (it != origins.end() && it->first.compare(0, prefix.size(), prefix) == 0)
    it = origins.erase(it);
}

}  // namespace mlq::config
