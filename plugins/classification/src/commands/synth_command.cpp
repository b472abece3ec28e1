#include "mlq/synth/synth_command.hpp"
#include "commands/commands.hpp"
#include "data/synth.hpp"

namespace mlq::classification {

int synth_command(const std::vector<std::string>& args, const Registry&) {
  return run_synth_command<SynthOptions>(
      args, "Render the synthetic instrument-family data set of [data.synth]", "clips", synthesize);
}

}  // namespace mlq::classification
