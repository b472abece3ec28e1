#pragma once
#include <string>
#include <vector>

namespace mlq {

// Each sub-command takes the arguments after its name and returns the process exit status.
int train_command(const std::vector<std::string>& args);
int plugins_command(const std::vector<std::string>& args);
int preprocess_command(const std::vector<std::string>& args);
int features_command(const std::vector<std::string>& args);
int summary_command(const std::vector<std::string>& args);
int regress_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
// Hidden diagnostic: the parsed DistributedEnv as JSON (docs/training.md).
int distributed_env_command(const std::vector<std::string>& args);
// A command a plugin registered under `name`.
int plugin_command(const std::string& name, const std::vector<std::string>& args);

}  // namespace mlq
