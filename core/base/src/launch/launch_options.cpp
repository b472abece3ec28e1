// Parsing of the launcher's own options (mlq/local_launcher.hpp).
#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

#include "mlq/launch/local_launcher.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

constexpr const char* kNames[] = {"--nproc-per-node", "--master-port", "--grace-period"};
constexpr const char* kForm =
    "runner --nproc-per-node=N [--master-port=P] [--grace-period=S] <command or --config=...>";

// The launcher option `arg` names, or empty.
std::string launcher_option(const std::string& arg) {
  for (const char* name : kNames) {
    const std::string prefix = name;
    if (arg == prefix || arg.rfind(prefix + "=", 0) == 0) return prefix;
  }
  return "";
}

long long integer(const std::string& name, const std::string& value, long long low, long long high,
                  const char* what) {
  const std::optional<long long> parsed = parse_integer(value);
  if (!parsed || *parsed < low || *parsed > high)
    throw UserError(
        fmt::format("{}='{}': expected {} from {} to {}", name, value, what, low, high));
  return *parsed;
}

}  // namespace

LaunchOptions parse_launch_options(const std::vector<std::string>& args) {
  LaunchOptions options;
  bool port_or_grace = false;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string name = launcher_option(args[i]);
    if (name.empty()) break;
    std::string value;
    if (args[i].size() > name.size()) {
      value = args[i].substr(name.size() + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UserError(fmt::format("{} needs a value: {}", name, kForm));
    }
    if (name == "--nproc-per-node") {
      options.nproc_per_node =
          static_cast<int>(integer(name, value, 1, 1024, "a number of processes"));
    } else if (name == "--master-port") {
      options.master_port = static_cast<int>(integer(name, value, 1, 65535, "a port"));
      port_or_grace = true;
    } else {
      char* end = nullptr;
      const double seconds = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(seconds >= 0 && seconds <= 86400))
        throw UserError(
            fmt::format("{}='{}': expected a number of seconds from 0 to 86400", name, value));
      options.grace_seconds = seconds;
      port_or_grace = true;
    }
  }
  options.rest.assign(args.begin() + static_cast<long>(i), args.end());
  for (const std::string& arg : options.rest)
    if (const std::string name = launcher_option(arg); !name.empty())
      throw UserError(
          fmt::format("{} must come first, before the command and its options: {}", name, kForm));
  if (port_or_grace && options.nproc_per_node == 0)
    throw UserError(
        fmt::format("--master-port and --grace-period need --nproc-per-node: {}", kForm));
  if (options.nproc_per_node > 0 && options.rest.empty())
    throw UserError(fmt::format("--nproc-per-node: nothing to run after it: {}", kForm));
  if (options.nproc_per_node > 0 && std::getenv("MLQ_LAUNCHED"))
    throw UserError(
        "--nproc-per-node: this process is already a launched worker (MLQ_LAUNCHED is set); "
        "launch once");
  return options;
}

}  // namespace mlq
