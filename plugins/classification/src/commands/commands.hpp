#pragma once
// The runner commands the classification plugin adds.
#include <string>
#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::classification {

// runner predict --checkpoint=CKPT AUDIO_OR_FOLDER... -o OUT [--format csv|json]: the top-k
// classes of each file and of each of its windows.
int predict_command(const std::vector<std::string>& args, const Registry& registry);
// runner synth --config=F [overrides]: the synthetic instrument data set of [data.synth].
int synth_command(const std::vector<std::string>& args, const Registry& registry);

}  // namespace mlq::classification
