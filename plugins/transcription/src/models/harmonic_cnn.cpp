#include "models/harmonic_cnn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/crnn.hpp"

namespace mlq::transcription {
namespace {

constexpr int64_t kKeys = 88;
constexpr int64_t kOutputs = 4;
constexpr double kPianoLowestMidi = 21;

void require(bool ok, const Config& c, const std::string& key, const std::string& expected) {
  if (!ok)
    throw ConfigError(
        fmt::format("config key 'model.{}' ({}): expected {}", key, c.origin(key), expected));
}

int64_t semitones(int64_t harmonic) {
  return std::lround(12 * std::log2(static_cast<double>(harmonic)));
}

}  // namespace

HarmonicCnnOptions HarmonicCnnOptions::from(const Config& c) {
  c.check_known_keys("", {"name",
                          "features",
                          "channels",
                          "head_channels",
                          "mix_channels",
                          "head_dilations",
                          "history_dilations",
                          "harmonics",
                          "subharmonics",
                          "input_mean",
                          "input_std",
                          "bn_momentum",
                          "pedal",
                          "pedal_channels",
                          "pedal_hidden",
                          "pedal_dilations",
                          "pedal_gru",
                          "pedal_pool",
                          "pedal_pool_first",
                          "key_gru",
                          "key_gru_bidirectional"});
  HarmonicCnnOptions o;
  o.channels = c.get_int("channels", o.channels);
  o.head_channels = c.get_int("head_channels", o.head_channels);
  o.mix_channels = c.get_int("mix_channels", o.mix_channels);
  if (c.has("head_dilations")) o.head_dilations = c.get_ints("head_dilations");
  if (c.has("history_dilations")) o.history_dilations = c.get_ints("history_dilations");
  if (c.has("harmonics")) o.harmonics = c.get_ints("harmonics");
  if (c.has("subharmonics")) o.subharmonics = c.get_ints("subharmonics");
  o.input_mean = c.get_double("input_mean", o.input_mean);
  o.input_std = c.get_double("input_std", o.input_std, Range::above(0));
  o.bn_momentum = c.get_double("bn_momentum", o.bn_momentum, Range::unit());
  for (const char* key : {"channels", "head_channels", "mix_channels"})
    require(c.get_int(key, 1) > 0, c, key, "a positive number of channels");
  auto positive = [](const std::vector<int64_t>& v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  };
  require(positive(o.head_dilations), c, "head_dilations", "positive dilations");
  require(positive(o.history_dilations), c, "history_dilations", "positive dilations");
  require(!o.harmonics.empty() && positive(o.harmonics), c, "harmonics",
          "positive harmonic numbers (1 is the note itself)");
  require(positive(o.subharmonics), c, "subharmonics", "positive subharmonic numbers");
  require(o.input_std > 0, c, "input_std", "a positive scale");
  o.key_gru = c.get_int("key_gru", o.key_gru, Range::between(0, 4096));
  o.key_gru_bidirectional = c.get_bool("key_gru_bidirectional", o.key_gru_bidirectional);
  o.pedal = c.get_bool("pedal", o.pedal);
  PedalBranchOptions& p = o.pedal_branch;
  p.channels = c.get_int("pedal_channels", p.channels);
  p.hidden = c.get_int("pedal_hidden", p.hidden);
  p.gru = c.get_int("pedal_gru", p.gru, Range::between(0, 4096));
  p.pool = c.get_int("pedal_pool", p.pool, Range::between(1, 100));
  p.pool_first = c.get_bool("pedal_pool_first", p.pool_first);
  if (c.has("pedal_dilations")) p.dilations = c.get_ints("pedal_dilations");
  p.bn_momentum = o.bn_momentum;
  for (const char* key : {"pedal_channels", "pedal_hidden"})
    require(c.get_int(key, 1) > 0, c, key, "a positive number of channels");
  require(positive(p.dilations), c, "pedal_dilations", "positive dilations");
  return o;
}

std::vector<int64_t> harmonic_shifts(const HarmonicCnnOptions& options, int64_t bins_per_semitone) {
  std::vector<int64_t> shifts;
  for (auto h = options.subharmonics.rbegin(); h != options.subharmonics.rend(); ++h)
    shifts.push_back(-semitones(*h) * bins_per_semitone);
  for (int64_t h : options.harmonics) shifts.push_back(semitones(h) * bins_per_semitone);
  return shifts;
}

torch::Tensor harmonic_stack(const torch::Tensor& x, const std::vector<int64_t>& shifts,
                             int64_t out_bands) {
  namespace F = torch::nn::functional;
  const int64_t bands = out_bands < 0 ? x.size(3) : out_bands;
  const int64_t below = std::max<int64_t>(0, -*std::min_element(shifts.begin(), shifts.end()));
  const int64_t above =
      std::max<int64_t>(0, *std::max_element(shifts.begin(), shifts.end()) + bands - x.size(3));
  const torch::Tensor padded = F::pad(x, F::PadFuncOptions({below, above}));
  std::vector<torch::Tensor> blocks;
  for (int64_t shift : shifts) blocks.push_back(padded.narrow(3, below + shift, bands));
  return torch::cat(blocks, 1);
}

void HarmonicCnn::add_conv_bn_relu(torch::nn::Sequential& layers, int64_t in, int64_t out,
                                   int64_t kernel_frames, int64_t kernel_bands, int64_t dilation,
                                   bool past_only) const {
  namespace nn = torch::nn;
  const int64_t reach = dilation * (kernel_frames - 1);
  if (past_only) layers->push_back(nn::ZeroPad2d(nn::ZeroPad2dOptions({0, 0, reach, 0})));
  layers->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, {kernel_frames, kernel_bands})
                                   .padding({past_only ? 0 : reach / 2, (kernel_bands - 1) / 2})
                                   .dilation({dilation, 1})
                                   .bias(false)));
  layers->push_back(nn::BatchNorm2d(nn::BatchNorm2dOptions(out).momentum(options_.bn_momentum)));
  layers->push_back(nn::ReLU());
}

HarmonicCnn::HarmonicCnn(const Config& c, const FeatureOptions& features)
    : options_(HarmonicCnnOptions::from(c)), features_(features) {
  if (features.filterbank != "semitone" || features.first_midi != kPianoLowestMidi ||
      features.semitone_bins < kKeys * features.bins_per_semitone)
    throw ConfigError(fmt::format(
        "model 'harmonic_cnn' needs [features] filterbank = \"semitone\", first_midi = 21 and "
        "semitone_bins >= 88 x bins_per_semitone (a band per key from A0 up); got filterbank = "
        "\"{}\", first_midi = {:g}, semitone_bins = {}",
        features.filterbank, features.first_midi, features.semitone_bins));
  shifts_ = harmonic_shifts(options_, features.bins_per_semitone);
  key_stride_ = features.bins_per_semitone;
  const auto stacked = static_cast<int64_t>(shifts_.size());
  const int64_t h = options_.head_channels;
  trunk_ = register_module("trunk", torch::nn::Sequential());
  add_conv_bn_relu(trunk_, stacked, options_.channels, 3, 3);
  add_conv_bn_relu(trunk_, options_.channels, h, 3, 3);
  mix_in_ = register_module("mix_in", torch::nn::Sequential());
  add_conv_bn_relu(mix_in_, h, options_.mix_channels, 1, 1);
  mix_out_ = register_module("mix_out", torch::nn::Sequential());
  add_conv_bn_relu(mix_out_, options_.mix_channels * stacked, h, 1, 1);
  key_embedding_ = register_parameter("key_embedding", torch::zeros({1, h, 1, kKeys}));
  head_ = register_module("head", torch::nn::Sequential());
  for (int64_t dilation : options_.head_dilations) add_conv_bn_relu(head_, h, h, 3, 1, dilation);
  for (int64_t dilation : options_.history_dilations)
    add_conv_bn_relu(head_, h, h, 3, 1, dilation, /*past_only=*/true);
  int64_t out_in = h;
  if (options_.key_gru > 0) {
    key_gru_ = register_module("key_gru",
                               torch::nn::GRU(torch::nn::GRUOptions(h, options_.key_gru)
                                                  .batch_first(true)
                                                  .bidirectional(options_.key_gru_bidirectional)));
    out_in = options_.key_gru * (options_.key_gru_bidirectional ? 2 : 1);
  }
  out_ = register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(out_in, kOutputs, 1)));
  if (options_.pedal)
    pedal_ = register_module("pedal", PedalBranch(options_.pedal_branch, features.bands()));
}

TensorMap HarmonicCnn::forward(const TensorMap& batch) {
  torch::Tensor x = model_input(batch, features_).unsqueeze(1);  // [batch, 1, frames, bands]
  x = (x - options_.input_mean) / options_.input_std;
  TensorMap outputs = pedal_ ? pedal_->forward(x) : TensorMap{};
  x = trunk_->forward(harmonic_stack(x, shifts_));
  // Only the keys' bands go on: the bands above them count as harmonics in the stack only.
  auto keys = [this](const torch::Tensor& bands) {
    return bands.slice(3, 0, kKeys * key_stride_, key_stride_);
  };
  const torch::Tensor stack = harmonic_stack(mix_in_->forward(x), shifts_, kKeys * key_stride_);
  x = keys(x) + mix_out_->forward(keys(stack)) + key_embedding_;
  x = head_->forward(x);  // [batch, h, frames, 88]
  if (key_gru_) {
    // Each key's frames as one sequence: [batch x 88, frames, h].
    const int64_t batch_size = x.size(0), frames = x.size(2);
    torch::Tensor sequences = x.permute({0, 3, 2, 1}).reshape({batch_size * kKeys, frames, -1});
    sequences = std::get<0>(key_gru_->forward(sequences));
    x = sequences.reshape({batch_size, kKeys, frames, -1}).permute({0, 3, 2, 1});
  }
  x = out_->forward(x);  // [batch, 4, frames, 88]
  const char* const names[kOutputs] = {"reg_onset", "reg_offset", "frame", "velocity"};
  for (int64_t i = 0; i < kOutputs; ++i) {
    const torch::Tensor logits = x.select(1, i);
    outputs[std::string(names[i]) + "_logits"] = logits;
    outputs[std::string(names[i]) + "_output"] = torch::sigmoid(logits);
  }
  return outputs;
}

int64_t HarmonicCnn::lookahead_frames() const {
  int64_t frames = 2;
  for (int64_t dilation : options_.head_dilations) frames += dilation;
  return frames;
}

int64_t HarmonicCnn::macs_per_second() const {
  const FeatureOptions& f = features_.options();
  const int64_t bands = f.bands(), stacked = static_cast<int64_t>(shifts_.size());
  const int64_t c = options_.channels, h = options_.head_channels, m = options_.mix_channels;
  const auto head_layers =
      static_cast<int64_t>(options_.head_dilations.size() + options_.history_dilations.size());
  const int64_t per_frame = bands * (9 * (stacked * c + c * h) + h * m) +
                            kKeys * (m * stacked * h + 3 * h * h * head_layers + h * kOutputs);
  return (per_frame + (pedal_ ? pedal_->macs_per_frame() : 0)) *
         std::lround(f.sample_rate / static_cast<double>(f.hop_length));
}

}  // namespace mlq::transcription
