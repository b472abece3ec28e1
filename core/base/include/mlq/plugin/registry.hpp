#pragma once
#include <any>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlq/util/error.hpp"

namespace mlq {

// The kinds of component a plugin can register. Each kind is a typed registry: its entries are
// factories of one signature (see mlq/components.hpp for the LibTorch-side types).
inline const std::vector<std::string>& registry_kinds() {
  static const std::vector<std::string> kinds = {
      "tasks",         "models",    "datasets",         "losses",   "metrics",
      "augmentations", "callbacks", "metadata_parsers", "commands", "metric_keys"};
  return kinds;
}

// Names are unique within a plugin, not across plugins: two plugins may each register a model
// 'cnn'. A name that several plugins register resolves to the one from the plugin of the task in
// scope (see TaskScope), and "<plugin>:<name>" names one plugin's entry explicitly. Task names
// and plugin commands ("<task>:<command>") stay unique across plugins: they pick the plugin.
class Registry {
 public:
  struct Entry {
    std::string kind;
    std::string name;
    std::string plugin;  // plugin name
    std::string file;    // the .so it came from
    std::any factory;
  };

  // Entries added from now on are attributed to this plugin and file.
  void set_source(std::string plugin, std::string file);

  // Throws PluginError if `kind` is unknown or `name` is already registered for the kind by this
  // plugin (for tasks and commands: by any plugin); the message names both files.
  void add(std::string_view kind, std::string name, std::any factory);

  // While a TaskScope lives, names that several plugins register resolve to the entry of the
  // plugin that registers `task`. Training, summaries and plugin commands open one for their
  // task; lookups outside any scope resolve only names that one plugin registers.
  class TaskScope {
   public:
    TaskScope(const Registry& registry, std::string task);
    ~TaskScope();
    TaskScope(const TaskScope&) = delete;
    TaskScope& operator=(const TaskScope&) = delete;

   private:
    const Registry& registry_;
    std::string previous_;
  };

  // Whether `name` (or "<plugin>:<name>") names an entry; get() may still find it ambiguous.
  bool contains(std::string_view kind, std::string_view name) const;
  // Throws UserError listing what is registered (and the nearest name) if absent, or naming the
  // plugins to choose from if several register it and none is the task's in scope.
  const Entry& get(std::string_view kind, std::string_view name) const;
  // The factory, cast to its registered signature F.
  template <class F>
  const F& factory(std::string_view kind, std::string_view name) const {
    const Entry& entry = get(kind, name);
    const F* f = std::any_cast<F>(&entry.factory);
    if (!f)
      throw PluginError(entry.file + ": " + std::string(kind) + " '" + entry.name +
                        "' was registered with an unexpected factory type");
    return *f;
  }

  // Drops every entry a file registered (a plugin refused halfway through its registration).
  void remove_file(const std::string& file);
  // A plugin file that was refused ("<file>: <why>"): a failed lookup names it as a possible
  // cause.
  void add_refused(std::string line) { refused_.push_back(std::move(line)); }
  // "; refused plugin files, one of which may provide it: ..." when any were refused, else "".
  std::string refused_note() const;

  std::vector<const Entry*> entries(std::string_view kind) const;
  std::vector<const Entry*> entries_of(std::string_view plugin) const;
  // Each registered name once, sorted.
  std::vector<std::string> names(std::string_view kind) const;

 private:
  // The entries a name resolves to: one per plugin that registers it (at most one, for a
  // qualified name).
  std::vector<const Entry*> candidates(std::string_view kind, std::string_view name) const;
  std::string task_plugin(const std::string& task) const;

  std::map<std::string, std::map<std::string, std::deque<Entry>>, std::less<>>
      kinds_;  // deque: entries stay put
  std::string plugin_;
  std::string file_;
  std::vector<std::string> refused_;
  mutable std::string task_scope_;  // set by TaskScope only
};

}  // namespace mlq
