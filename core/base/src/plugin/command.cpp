#include "mlq/plugin/command.hpp"

#include <fmt/format.h>

#include <set>

#include "mlq/config/tree.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

void register_command(Registry& registry, const std::string& task, const std::string& name,
                      PluginCommand command) {
  registry.add("commands", task + ":" + name, std::move(command));
}

std::string command_task(const Registry& registry, const std::string& name,
                         const std::string& task) {
  std::vector<std::string> tasks_with_it;
  std::set<std::string> all_commands;
  for (const std::string& key : registry.names("commands")) {
    const size_t colon = key.find(':');
    const std::string command = key.substr(colon + 1);
    all_commands.insert(command);
    if (command == name) tasks_with_it.push_back(key.substr(0, colon));
  }
  if (tasks_with_it.empty()) {
    const std::vector<std::string> known(all_commands.begin(), all_commands.end());
    const std::string near = nearest(name, known);
    throw UserError(fmt::format(
        "unknown command '{}'{} (built in: preprocess, features, summary, regress, plugins, "
        "runs; from plugins: {}){}",
        name, near.empty() ? "" : "; did you mean '" + near + "'?",
        known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")),
        registry.refused_note()));
  }
  if (task.empty()) {
    if (tasks_with_it.size() > 1)
      throw UserError(fmt::format("command '{}' is offered by several tasks: add --task=<{}>", name,
                                  fmt::join(tasks_with_it, "|")));
    return tasks_with_it[0];
  }
  if (!registry.contains("commands", task + ":" + name))
    throw UserError(fmt::format("task '{}' has no command '{}' (tasks that have it: {})", task,
                                name, fmt::join(tasks_with_it, ", ")));
  return task;
}

const PluginCommand& find_command(const Registry& registry, const std::string& name,
                                  const std::string& task) {
  return registry.factory<PluginCommand>("commands",
                                         command_task(registry, name, task) + ":" + name);
}

}  // namespace mlq
