// The built-in augmentors: pitch shift (sox `pitch`, label rolls moved with it), random
// equalisation (sox biquads), gain, additive white noise at a random SNR, and SpecAugment-style
// time and frequency masks.
#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "mlq/audio/audio_io.hpp"
#include "mlq/train/augment.hpp"
#include "mlq/train/tensor_utils.hpp"

namespace mlq {
namespace {

torch::Tensor example_of(TensorMap& batch, const std::string& key, const char* augmentation,
                         int64_t index) {
  auto found = batch.find(key);
  if (found == batch.end()) {
    std::vector<std::string> keys;
    for (const auto& entry : batch) keys.push_back(entry.first);
    throw UserError(fmt::format("augment.{}: the batch has no '{}' tensor (it has: {})",
                                augmentation, key, fmt::join(keys, ", ")));
  }
  return found->second[index];
}

// Writes `samples` back into `audio`, cut or zero-padded to its length.
void assign(torch::Tensor audio, const std::vector<float>& samples) {
  const auto n = std::min<int64_t>(audio.numel(), static_cast<int64_t>(samples.size()));
  audio.zero_();
  audio.narrow(0, 0, n).copy_(torch::from_blob(const_cast<float*>(samples.data()), {n}));
}

// Moves `roll` by `bins` along `axis` (towards higher indices when positive); what leaves the
// axis is dropped and what enters is zero.
void shift_along(torch::Tensor roll, int64_t axis, int64_t bins) {
  const int64_t size = roll.size(axis);
  const torch::Tensor original = roll.clone();
  roll.zero_();
  const int64_t kept = size - std::abs(bins);
  if (kept <= 0) return;
  if (bins >= 0)
    roll.narrow(axis, bins, kept).copy_(original.narrow(axis, 0, kept));
  else
    roll.narrow(axis, 0, kept).copy_(original.narrow(axis, -bins, kept));
}

class PitchShift : public BatchAugmentor {
 public:
  explicit PitchShift(const Config& c) {
    c.check_known_keys("", {"probability", "sample_rate", "max_semitones", "audio_key",
                            "label_keys", "label_axis", "bins_per_semitone"});
    sample_rate_ = c.get_double("sample_rate", sample_rate_, Range::above(0));
    max_semitones_ = c.get_int("max_semitones", max_semitones_);
    audio_key_ = c.get_string("audio_key", audio_key_);
    if (c.has("label_keys")) label_keys_ = c.get_strings("label_keys");
    label_axis_ = c.get_int("label_axis", label_axis_);
    bins_per_semitone_ = c.get_int("bins_per_semitone", bins_per_semitone_, Range::at_least(1));
    if (max_semitones_ < 1)
      throw ConfigError(
          fmt::format("config key 'augment.pitch_shift.max_semitones' ({}): "
                      "expected a positive integer, got {}",
                      c.origin("max_semitones"), max_semitones_));
  }

  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    int64_t semitones = rng.integer(-max_semitones_, max_semitones_ - 1);
    if (semitones >= 0) ++semitones;  // never 0
    torch::Tensor audio = example_of(batch, audio_key_, "pitch_shift", index);
    assign(audio, apply_sox_effects(to_float_vector(audio), sample_rate_,
                                    {{"pitch", std::to_string(semitones * 100)}}));
    for (const std::string& key : label_keys_) {
      torch::Tensor roll = example_of(batch, key, "pitch_shift", index);
      const int64_t axis = label_axis_ < 0 ? label_axis_ + roll.dim() : label_axis_;
      shift_along(roll, axis, semitones * bins_per_semitone_);
    }
  }

 private:
  double sample_rate_ = 16000;
  int64_t max_semitones_ = 2;
  std::string audio_key_ = "audio";
  std::vector<std::string> label_keys_;
  int64_t label_axis_ = -1;
  int64_t bins_per_semitone_ = 1;
};

// 1 to `bands` peaking filters at log-uniform frequencies with random gain and Q.
class Equalizer : public BatchAugmentor {
 public:
  explicit Equalizer(const Config& c) {
    c.check_known_keys("", {"probability", "sample_rate", "bands", "min_freq", "max_freq",
                            "max_gain_db", "min_q", "max_q", "audio_key"});
    sample_rate_ = c.get_double("sample_rate", sample_rate_, Range::above(0));
    bands_ = c.get_int("bands", bands_);
    min_freq_ = c.get_double("min_freq", min_freq_);
    max_freq_ = std::min(c.get_double("max_freq", max_freq_), 0.45 * sample_rate_);
    max_gain_db_ = c.get_double("max_gain_db", max_gain_db_, Range::at_least(0));
    min_q_ = c.get_double("min_q", min_q_);
    max_q_ = c.get_double("max_q", max_q_);
    audio_key_ = c.get_string("audio_key", audio_key_);
    if (bands_ < 1 || min_freq_ <= 0 || max_freq_ <= min_freq_ || min_q_ <= 0 || max_q_ < min_q_)
      throw ConfigError(
          fmt::format("config table 'augment.equalizer': expected bands >= 1, "
                      "0 < min_freq < max_freq < 0.45 * sample_rate and "
                      "0 < min_q <= max_q"));
  }

  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    std::vector<std::vector<std::string>> effects;
    const int64_t bands = rng.integer(1, bands_);
    for (int64_t band = 0; band < bands; ++band) {
      const double freq = std::exp(rng.uniform(std::log(min_freq_), std::log(max_freq_)));
      const double q = rng.uniform(min_q_, max_q_);
      const double gain = rng.uniform(-max_gain_db_, max_gain_db_);
      effects.push_back({"equalizer", fmt::format("{:.2f}", freq), fmt::format("{:.3f}q", q),
                         fmt::format("{:.2f}", gain)});
    }
    torch::Tensor audio = example_of(batch, audio_key_, "equalizer", index);
    // The filters may boost past full scale: scale down first, restore after.
    const float peak = std::max(audio.abs().max().item<float>(), 1e-6f);
    const float headroom = peak * std::pow(10.f, static_cast<float>(max_gain_db_) / 20.f);
    std::vector<float> samples = to_float_vector(audio / headroom);
    samples = apply_sox_effects(samples, sample_rate_, effects);
    for (float& s : samples) s *= headroom;
    assign(audio, samples);
  }

 private:
  double sample_rate_ = 16000;
  int64_t bands_ = 3;
  double min_freq_ = 60, max_freq_ = 6000, max_gain_db_ = 9, min_q_ = 0.5, max_q_ = 2;
  std::string audio_key_ = "audio";
};

class Gain : public BatchAugmentor {
 public:
  explicit Gain(const Config& c) {
    c.check_known_keys("", {"probability", "sample_rate", "min_db", "max_db", "audio_key"});
    min_db_ = c.get_double("min_db", min_db_);
    max_db_ = c.get_double("max_db", max_db_, Range::at_least(min_db_));
    audio_key_ = c.get_string("audio_key", audio_key_);
  }
  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    const double db = rng.uniform(min_db_, max_db_);
    example_of(batch, audio_key_, "gain", index).mul_(std::pow(10.0, db / 20));
  }

 private:
  double min_db_ = -6, max_db_ = 6;
  std::string audio_key_ = "audio";
};

// White Gaussian noise at an SNR drawn uniformly in [min_snr_db, max_snr_db].
class Noise : public BatchAugmentor {
 public:
  explicit Noise(const Config& c) {
    c.check_known_keys("", {"probability", "sample_rate", "min_snr_db", "max_snr_db", "audio_key"});
    min_snr_db_ = c.get_double("min_snr_db", min_snr_db_);
    max_snr_db_ = c.get_double("max_snr_db", max_snr_db_, Range::at_least(min_snr_db_));
    audio_key_ = c.get_string("audio_key", audio_key_);
  }
  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    torch::Tensor audio = example_of(batch, audio_key_, "noise", index);
    const double snr_db = rng.uniform(min_snr_db_, max_snr_db_);
    const double power = audio.square().mean().item<double>();
    if (power <= 0) return;
    const double sigma = std::sqrt(power / std::pow(10.0, snr_db / 10));
    // Box-Muller from our own generator: the same noise with any LibTorch version.
    std::vector<float> noise(static_cast<size_t>(audio.numel()));
    for (size_t i = 0; i < noise.size(); i += 2) {
      const double radius = std::sqrt(-2 * std::log(1 - rng.uniform()));
      const double angle = 2 * M_PI * rng.uniform();
      noise[i] = static_cast<float>(sigma * radius * std::cos(angle));
      if (i + 1 < noise.size()) noise[i + 1] = static_cast<float>(sigma * radius * std::sin(angle));
    }
    audio.add_(torch::from_blob(noise.data(), audio.sizes()));
  }

 private:
  double min_snr_db_ = 10, max_snr_db_ = 40;
  std::string audio_key_ = "audio";
};

// SpecAugment: `count` stripes of up to `max_width` along `axis` of a spectrogram
// ([frames, bins] per example), filled with the example's mean.
class Mask : public BatchAugmentor {
 public:
  Mask(const Config& c, const char* name, int64_t axis, int64_t max_width)
      : name_(name), axis_(axis), max_width_(max_width) {
    c.check_known_keys("", {"probability", "sample_rate", "max_width", "count", "key"});
    max_width_ = c.get_int("max_width", max_width_, Range::at_least(0));
    count_ = c.get_int("count", count_, Range::at_least(0));
    key_ = c.get_string("key", key_);
  }
  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    torch::Tensor spectrogram = example_of(batch, key_, name_, index);
    if (spectrogram.dim() != 2)
      throw UserError(
          fmt::format("augment.{}: expected '{}' as [batch, frames, bins], got {} "
                      "dimensions",
                      name_, key_, spectrogram.dim() + 1));
    const double fill = spectrogram.mean().item<double>();
    const int64_t size = spectrogram.size(axis_);
    for (int64_t i = 0; i < count_; ++i) {
      const int64_t width = std::min(rng.integer(0, max_width_), size);
      const int64_t start = rng.integer(0, size - width);
      spectrogram.narrow(axis_, start, width).fill_(fill);
    }
  }

 private:
  const char* name_;
  int64_t axis_;
  int64_t max_width_;
  int64_t count_ = 1;
  std::string key_ = "features";
};

}  // namespace

const std::vector<std::string>& builtin_augmentation_names() {
  static const std::vector<std::string> names = {"pitch_shift", "equalizer", "gain",
                                                 "noise",       "time_mask", "freq_mask"};
  return names;
}

std::unique_ptr<BatchAugmentor> make_builtin_augmentor(const std::string& name,
                                                       const Config& config) {
  if (name == "pitch_shift") return std::make_unique<PitchShift>(config);
  if (name == "equalizer") return std::make_unique<Equalizer>(config);
  if (name == "gain") return std::make_unique<Gain>(config);
  if (name == "noise") return std::make_unique<Noise>(config);
  if (name == "time_mask") return std::make_unique<Mask>(config, "time_mask", 0, 40);
  if (name == "freq_mask") return std::make_unique<Mask>(config, "freq_mask", 1, 20);
  return nullptr;
}

}  // namespace mlq
