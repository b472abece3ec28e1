#pragma once
// `runner synth --config=F [overrides]` for a task whose [data.synth] is `Options`: a type with
// `static Options from(const Config&)`, `destination_path` and `metadata`; `synthesize` makes
// the data set and returns a SynthReport.
#include <cstdio>
#include <string>
#include <vector>

#include "mlq/config/compose.hpp"
#include "mlq/synth/synth_report.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

template <class Options, class Synthesize>
int run_synth_command(const std::vector<std::string>& args, const std::string& description,
                      const std::string& unit, Synthesize synthesize) {
  cxxopts::Options options("runner synth", description);
  add_compose_options(options);
  options.add_options()("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const Config config = compose(compose_request(options, result));
  const Options o = Options::from(config.section("data.synth"));
  const SynthReport report = synthesize(o);
  std::printf("%s\n", describe_synth(report, unit, o.destination_path / o.metadata).c_str());
  return 0;
}

}  // namespace mlq
