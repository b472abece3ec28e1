#include "cli_options.hpp"

#include "mlq/error.hpp"

namespace mlq {

cxxopts::ParseResult parse_options(cxxopts::Options& options,
                                   const std::vector<std::string>& args) {
  const std::string program = options.program();
  std::vector<const char*> argv{program.c_str()};
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    return options.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const cxxopts::exceptions::exception& e) {
    throw UserError(std::string(e.what()) + " (see " + program + " --help)");
  }
}

}  // namespace mlq
