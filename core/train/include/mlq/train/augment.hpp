#pragma once
// Batch augmentations ([augment] config group): a BatchAugmentor transforms a batch of audio and
// its labels; a BatchAugmentation is the ordered chain from config, each member applied to each
// example with its probability. Everything random follows from one seed per batch, so batches are
// reproducible whichever loader thread builds them, and a resumed run sees the same ones.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mlq/train/components.hpp"
#include "mlq/train/features.hpp"
#include "mlq/util/random.hpp"

namespace mlq {

// The same draws with any LibTorch version and standard library.
using AugmentRng = SplitMix64;

class BatchAugmentor {
 public:
  virtual ~BatchAugmentor() = default;
  // Transforms example `index` of `batch` in place.
  virtual void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const = 0;
};

// A factory from the member's table ([augment.<name>]); plugins register their own under
// "augmentations", next to the built-in ones (see docs/data.md).
using AugmentorFactory = std::function<std::unique_ptr<BatchAugmentor>(const Config& config)>;

inline void register_augmentation(Registry& r, std::string name, AugmentorFactory f) {
  r.add("augmentations", std::move(name), std::move(f));
}

class BatchAugmentation {
 public:
  // From [augment]: `chain = ["pitch_shift", "gain", ...]` names the members in order, each
  // configured by its table [augment.<name>] (`probability` plus its own keys). Built-in names:
  // pitch_shift, equalizer, gain, noise, time_mask, freq_mask.
  BatchAugmentation(const Config& augment_config, const Registry& registry);
  bool empty() const { return members_.empty(); }
  // Applies the chain to every example of `batch`; all randomness comes from `seed`.
  void apply(TensorMap& batch, uint64_t seed) const;

 private:
  struct Member {
    std::string name;
    double probability;
    std::unique_ptr<BatchAugmentor> augmentor;
  };
  std::vector<Member> members_;
};

// [augment] spectrogram_chain: members run on the features once they are computed (each
// configured by its table [augment.<name>], as for `chain`); an empty chain without one.
std::shared_ptr<BatchAugmentation> spectrogram_augmentation(const Config& config,
                                                            const Registry& registry);

// What an audio task's loader threads do to a batch: `before` on its "audio", then log-mel
// "features" in place of the audio, then `after` on the features (either may be null; the
// transcription and classification tasks pass their chains for the training split only).
BatchTransform feature_transform(const FeatureOptions& features,
                                 std::shared_ptr<BatchAugmentation> before,
                                 std::shared_ptr<BatchAugmentation> after);

// The built-in augmentors (core/train/src/augmentations.cpp), by name; nullptr if unknown.
std::unique_ptr<BatchAugmentor> make_builtin_augmentor(const std::string& name,
                                                       const Config& config);
const std::vector<std::string>& builtin_augmentation_names();

}  // namespace mlq
