#include "mlq/train/augment.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

namespace mlq {

BatchAugmentation::BatchAugmentation(const Config& augment_config, const Registry& registry) {
  const Config& c = augment_config;
  if (!c.has("chain")) return;
  for (const std::string& name : c.get_strings("chain")) {
    Config member = c.section(name);
    // Members inherit the group's sample_rate, which the sox-based ones need.
    if (!member.has("sample_rate") && c.has("sample_rate"))
      member.set("sample_rate", toml::value<double>(c.get_double("sample_rate")),
                 c.origin("sample_rate"));
    const double probability = member.get_double("probability", 1.0, Range::unit());
    std::unique_ptr<BatchAugmentor> augmentor = make_builtin_augmentor(name, member);
    if (augmentor && registry.contains("augmentations", name))
      throw PluginError(fmt::format("{}: registers augmentation '{}', which is built in",
                                    registry.get("augmentations", name).file, name));
    if (!augmentor) {
      if (!registry.contains("augmentations", name))
        throw ConfigError(fmt::format(
            "config key 'augment.chain' ({}): unknown augmentation '{}' (built in: {}; from "
            "plugins: {})",
            c.origin("chain"), name, fmt::join(builtin_augmentation_names(), ", "),
            fmt::join(registry.names("augmentations"), ", ")));
      augmentor = registry.factory<AugmentorFactory>("augmentations", name)(member);
    }
    members_.push_back({name, probability, std::move(augmentor)});
  }
}

void BatchAugmentation::apply(TensorMap& batch, uint64_t seed) const {
  if (members_.empty() || batch.empty()) return;
  const int64_t examples = batch.begin()->second.size(0);
  AugmentRng rng(seed);
  for (int64_t index = 0; index < examples; ++index)
    for (const Member& member : members_)
      if (rng.chance(member.probability)) member.augmentor->apply(batch, index, rng);
}

std::shared_ptr<BatchAugmentation> spectrogram_augmentation(const Config& config,
                                                            const Registry& registry) {
  Config spectrogram = config.section("augment");
  if (spectrogram.has("spectrogram_chain"))
    spectrogram.set("chain", *config.table().at_path("augment.spectrogram_chain").node(),
                    spectrogram.origin("spectrogram_chain"));
  else
    spectrogram = Config();
  return std::make_shared<BatchAugmentation>(spectrogram, registry);
}

BatchTransform feature_transform(const FeatureOptions& features,
                                 std::shared_ptr<BatchAugmentation> before,
                                 std::shared_ptr<BatchAugmentation> after) {
  auto mel = std::make_shared<MelFeatures>(features);
  return [mel, before, after](TensorMap& batch, uint64_t seed) {
    if (before) before->apply(batch, seed);
    batch["features"] = (*mel)(batch.at("audio"));
    batch.erase("audio");
    if (after) after->apply(batch, seed ^ 0x5DEECE66DULL);  // other draws than `before`'s
  };
}

}  // namespace mlq
