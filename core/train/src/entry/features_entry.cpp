// `runner features`, on the LibTorch side: decode, compute, write.
#include <torch/torch.h>

#include <boost/dll/alias.hpp>

#include "mlq/audio/audio_io.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/train/features.hpp"
#include "mlq/train/tensor_utils.hpp"

namespace mlq {

void features_entry(const FeaturesRequest& request) {
  const FeatureOptions options = FeatureOptions::from(request.config->section("features"));
  std::vector<float> samples = load_audio(request.audio, options.sample_rate);
  torch::Tensor audio = torch::from_blob(samples.data(), {static_cast<int64_t>(samples.size())});
  const torch::Tensor features = MelFeatures(options)(audio);
  write_npy(request.output, to_float_vector(features), {features.size(0), features.size(1)});
}

}  // namespace mlq

BOOST_DLL_ALIAS(mlq::features_entry, mlq_train_features)
