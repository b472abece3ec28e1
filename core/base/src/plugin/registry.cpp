#include "mlq/plugin/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "mlq/config/tree.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

// Task names and commands choose the plugin, so no two plugins may share one.
bool unique_across_plugins(std::string_view kind) {
  return kind == "tasks" || kind == "commands";
}

struct QualifiedName {
  std::string_view plugin, name;
};
// "<plugin>:<name>" split in two; nothing for a plain name.
std::optional<QualifiedName> qualified(std::string_view name) {
  const size_t colon = name.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return QualifiedName{name.substr(0, colon), name.substr(colon + 1)};
}

}  // namespace

void Registry::set_source(std::string plugin, std::string file) {
  plugin_ = std::move(plugin);
  file_ = std::move(file);
}

void Registry::add(std::string_view kind, std::string name, std::any factory) {
  const auto& kinds = registry_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw PluginError(file_ + ": registers into unknown registry '" + std::string(kind) + "'");
  auto& same_name = kinds_[std::string(kind)][name];
  for (const Entry& entry : same_name)
    if (entry.plugin == plugin_ || unique_across_plugins(kind))
      throw PluginError(file_ + ": " + std::string(kind) + " '" + name +
                        "' is already registered by " + entry.file);
  same_name.push_back(Entry{std::string(kind), name, plugin_, file_, std::move(factory)});
}

Registry::TaskScope::TaskScope(const Registry& registry, std::string task)
    : registry_(registry), previous_(std::exchange(registry.task_scope_, std::move(task))) {}

Registry::TaskScope::~TaskScope() {
  registry_.task_scope_ = std::move(previous_);
}

std::string Registry::refused_note() const {
  std::string note;
  for (const std::string& line : refused_)
    note += (note.empty() ? "; refused plugin files, one of which may provide it: " : "; ") + line;
  return note;
}

void Registry::remove_file(const std::string& file) {
  for (auto& [kind, names] : kinds_)
    for (auto it = names.begin(); it != names.end();) {
      auto& same_name = it->second;
      same_name.erase(std::remove_if(same_name.begin(), same_name.end(),
                                     [&](const Entry& entry) { return entry.file == file; }),
                      same_name.end());
      it = same_name.empty() ? names.erase(it) : std::next(it);
    }
}

std::vector<const Registry::Entry*> Registry::candidates(std::string_view kind,
                                                         std::string_view name) const {
  std::vector<const Entry*> out;
  auto names = kinds_.find(kind);
  if (names == kinds_.end()) return out;
  if (auto it = names->second.find(std::string(name)); it != names->second.end()) {
    for (const Entry& entry : it->second) out.push_back(&entry);
    return out;
  }
  // "<plugin>:<name>" (commands' own names hold a colon; they matched above).
  const std::optional<QualifiedName> q = qualified(name);
  if (!q) return out;
  if (auto it = names->second.find(std::string(q->name)); it != names->second.end())
    for (const Entry& entry : it->second)
      if (entry.plugin == q->plugin) out.push_back(&entry);
  return out;
}

std::string Registry::task_plugin(const std::string& task) const {
  const std::vector<const Entry*> tasks =
      task.empty() ? std::vector<const Entry*>{} : candidates("tasks", task);
  return tasks.empty() ? "" : tasks.front()->plugin;
}

bool Registry::contains(std::string_view kind, std::string_view name) const {
  return !candidates(kind, name).empty();
}

const Registry::Entry& Registry::get(std::string_view kind, std::string_view name) const {
  const std::vector<const Entry*> found = candidates(kind, name);
  if (found.size() == 1) return *found.front();
  if (found.size() > 1) {
    const std::string scope_plugin = task_plugin(task_scope_);
    std::vector<std::string> plugins, qualified;
    for (const Entry* entry : found) {
      if (entry->plugin == scope_plugin) return *entry;
      plugins.push_back(entry->plugin);
      qualified.push_back("'" + entry->plugin + ":" + entry->name + "'");
    }
    const std::string scope =
        scope_plugin.empty()
            ? ""
            : fmt::format(" (task '{}' comes from plugin {})", task_scope_, scope_plugin);
    throw UserError(fmt::format("{} '{}' is registered by plugins {}{}: name one, as {}", kind,
                                name, fmt::join(plugins, ", "), scope,
                                fmt::join(qualified, " or ")));
  }
  // "<plugin>:<name>" whose name other plugins register: say which.
  if (const std::optional<QualifiedName> q = qualified(name)) {
    std::vector<std::string> plugins;
    for (const Entry* entry : candidates(kind, q->name)) plugins.push_back(entry->plugin);
    if (!plugins.empty())
      throw UserError(fmt::format("plugin '{}' registers no {} '{}' (plugins that do: {})",
                                  q->plugin, kind, q->name, fmt::join(plugins, ", ")));
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
    for (const auto& [name, same_name] : it->second)
      for (const Entry& entry : same_name) out.push_back(&entry);
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
  if (auto it = kinds_.find(kind); it != kinds_.end())
    for (const auto& [name, same_name] : it->second) out.push_back(name);
  return out;
}

}  // namespace mlq
