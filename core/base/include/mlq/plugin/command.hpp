#pragma once
// Sub-commands that plugins add to the runner: `runner <name> [--task=T] ...` runs the command
// that task T's plugin registered under <name> (T may be left out when one task has it).
#include <functional>
#include <string>
#include <vector>

#include "mlq/plugin/registry.hpp"

namespace mlq {

struct PluginCommand {
  std::string summary;  // one line for `runner plugins`
  // Receives the arguments after the command's name and the loaded registry; returns the exit
  // status. Parse with mlq/cli.hpp so errors look like the runner's own.
  std::function<int(const std::vector<std::string>& args, const Registry& registry)> run;
};

// Registered under "commands" as "<task>:<name>".
void register_command(Registry& registry, const std::string& task, const std::string& name,
                      PluginCommand command);

// The task whose command `name` runs: `task`, or the only task that has one if `task` is empty.
// A one-line UserError lists the tasks (or commands) there are when it is absent or ambiguous.
std::string command_task(const Registry& registry, const std::string& name,
                         const std::string& task);
// That task's command.
const PluginCommand& find_command(const Registry& registry, const std::string& name,
                                  const std::string& task);

}  // namespace mlq
