#include <fmt/format.h>

#include <cstdio>

#include "commands/commands.hpp"
#include "data/synth.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

int synth_command(const std::vector<std::string>& args, const Registry&) {
  cxxopts::Options options("runner synth",
                           "Compose and render the synthetic piano data set of [data.synth]");
  add_compose_options(options);
  options.add_options()("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const Config config = compose(compose_request(options, result));
  const SynthOptions o = SynthOptions::from(config.section("data.synth"));
  const SynthReport report = synthesize(o);
  std::printf("%s\n", describe_synth(report, "pieces", o.destination_path / o.metadata).c_str());
  return 0;
}

}  // namespace mlq::transcription
