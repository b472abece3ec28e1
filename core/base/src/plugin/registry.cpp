#include "mlq/plugin/registry.hpp"

#include <algorithm>

#include "mlq/config/tree.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

void Registry::set_source(std::string plugin, std::string file) {
  plugin_ = std::move(plugin);
  file_ = std::move(file);
}

void Registry::add(std::string_view kind, std::string name, std::any factory) {
  const auto& kinds = registry_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw PluginError(file_ + ": registers into unknown registry '" + std::string(kind) + "'");
  auto& entries = kinds_[std::string(kind)];
  if (auto it = entries.find(name); it != entries.end())
    throw PluginError(file_ + ": " + std::string(kind) + " '" + name +
                      "' is already registered by " + it->second.file);
  entries.emplace(name, Entry{std::string(kind), name, plugin_, file_, std::move(factory)});
}

std::string Registry::refused_note() const {
  std::string note;
  for (const std::string& line : refused_)
    note += (note.empty() ? "; refused plugin files, one of which may provide it: " : "; ") + line;
  return note;
}

void Registry::remove_file(const std::string& file) {
  for (auto& [kind, entries] : kinds_)
    for (auto it = entries.begin(); it != entries.end();)
      it = it->second.file == file ? entries.erase(it) : std::next(it);
}

bool Registry::contains(std::string_view kind, std::string_view name) const {
  auto it = kinds_.find(kind);
  return it != kinds_.end() && it->second.count(std::string(name)) > 0;
}

const Registry::Entry& Registry::get(std::string_view kind, std::string_view name) const {
  if (auto it = kinds_.find(kind); it != kinds_.end()) {
    if (auto entry = it->second.find(std::string(name)); entry != it->second.end())
      return entry->second;
  }
  std::vector<std::string> known = names(kind);
  std::string message = "no " + std::string(kind) + " entry named '" + std::string(name) + "'";
  if (std::string near = nearest(name, known); !near.empty())
    message += "; did you mean '" + near + "'?";
  else if (known.empty())
    message += " (no plugin registers any " + std::string(kind) + ")";
  else {
    message += " (registered:";
    for (const auto& known_name : known) message += " " + known_name;
    message += ")";
  }
  throw UserError(message + refused_note());
}

std::vector<const Registry::Entry*> Registry::entries(std::string_view kind) const {
  std::vector<const Entry*> out;
  if (auto it = kinds_.find(kind); it != kinds_.end())
    for (const auto& [name, entry] : it->second) out.push_back(&entry);
  return out;
}

std::vector<const Registry::Entry*> Registry::entries_of(std::string_view plugin) const {
  std::vector<const Entry*> out;
  for (const auto& kind : registry_kinds())
    for (const Entry* entry : entries(kind))
      if (entry->plugin == plugin) out.push_back(entry);
  return out;
}

std::vector<std::string> Registry::names(std::string_view kind) const {
  std::vector<std::string> out;
  for (const Entry* entry : entries(kind)) out.push_back(entry->name);
  return out;
}

}  // namespace mlq
