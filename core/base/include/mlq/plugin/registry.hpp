#pragma once
#include <any>
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

  // Throws PluginError if `kind` is unknown or `name` is already registered for the kind (the
  // message names both files).
  void add(std::string_view kind, std::string name, std::any factory);

  bool contains(std::string_view kind, std::string_view name) const;
  // Throws UserError listing what is registered (and the nearest name) if absent.
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
  std::vector<std::string> names(std::string_view kind) const;

 private:
  std::map<std::string, std::map<std::string, Entry>, std::less<>> kinds_;
  std::string plugin_;
  std::string file_;
  std::vector<std::string> refused_;
};

}  // namespace mlq
