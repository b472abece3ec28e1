// runner features --config=F AUDIO -o OUT.npy [overrides]: what the model sees of a file.
#include <cstdio>

#include "commands.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

int features_command(const std::vector<std::string>& args) {
  cxxopts::Options options("runner features",
                           "Write the model-input features ([features]) of an audio file: "
                           "runner features --config=FILE AUDIO -o OUT.npy [overrides...]");
  add_compose_options(options);
  options.add_options()("o,output", "output .npy", cxxopts::value<std::string>())("h,help",
                                                                                  "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  // Positionals: the audio file, and overrides (which hold '=' or start with '~').
  ComposeRequest request = compose_request(options, result);
  std::vector<std::string> audio, overrides;
  for (const auto& item : request.overrides)
    (item.find('=') == std::string::npos && item.rfind('~', 0) != 0 ? audio : overrides)
        .push_back(item);
  if (audio.size() != 1)
    throw UserError("expected one AUDIO file (see runner features --help), got " +
                    std::to_string(audio.size()));
  if (!result.count("output")) throw UserError("missing -o OUT.npy (see runner features --help)");
  request.overrides = overrides;
  const Config config = compose(request);

  FeaturesRequest features;
  features.config = &config;
  features.audio = audio[0];
  features.output = result["output"].as<std::string>();
  if (!train_library().has("mlq_train_features"))
    throw UserError("libmlq_train.so: missing symbol 'mlq_train_features' (a stale build?)");
  train_library().get_alias<TrainFeaturesFn>("mlq_train_features")(features);
  const NpyFile written(features.output);
  std::printf("%s: %lld frames x %lld mel bands\n", features.output.c_str(),
              static_cast<long long>(written.shape()[0]),
              static_cast<long long>(written.shape()[1]));
  return 0;
}

}  // namespace mlq
