#include "mlq/synth/synth_command.hpp"
#include "commands/commands.hpp"
#include "data/synth.hpp"

namespace mlq::transcription {

int synth_command(const std::vector<std::string>& args, const Registry&) {
  return run_synth_command<SynthOptions>(
      args, "Compose and render the synthetic piano data set of [data.synth]", "pieces",
      synthesize);
}

}  // namespace mlq::transcription
