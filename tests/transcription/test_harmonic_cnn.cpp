// The demo model: its size, the harmonic stack, pitch equivariance, and its loss.
// LibTorch first: its glog headers define CHECK, which doctest's must replace.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cmath>

#include "mlq/train/tensor_utils.hpp"
#include "models/harmonic_cnn.hpp"
#include "models/losses.hpp"

using namespace mlq::transcription;

namespace {

mlq::FeatureOptions semitone_features() {
  mlq::FeatureOptions features;
  features.filterbank = "semitone";
  return features;
}

mlq::Config model_config(const std::string& toml = "") {
  return mlq::Config(toml::parse(toml), {});
}

}  // namespace

TEST_CASE("harmonic_cnn has 31,180 parameters and 256 M multiply-accumulates per second") {
  HarmonicCnn model(model_config("pedal = false"), semitone_features());
  // The head's five (3 x 1) convolutions: 3 x 32 x 32 weights and a batch norm's 2 x 32 each.
  CHECK(mlq::trainable_parameters(model) == 21772 + 3 * (3 * 32 * 32 + 2 * 32));
  // trunk 99 x (9 x (11 x 24 + 24 x 32) + 32 x 8), then per key 88 x 32 + 5 x 3 x 32 x 32 + 32 x 4
  // at 100 frames per second.
  CHECK(model.macs_per_second() == 100 * (99 * (9 * (11 * 24 + 24 * 32) + 32 * 8) +
                                          88 * (88 * 32 + 5 * 3 * 32 * 32 + 32 * 4)));
  CHECK(model.lookahead_frames() == 2 + 2 + 4 + 8 + 16 + 32);
  HarmonicCnn two_layers(model_config("pedal = false\nhead_dilations = [2, 4]"),
                         semitone_features());
  CHECK(mlq::trainable_parameters(two_layers) == 21772);
}

TEST_CASE("harmonic_cnn's history layers look 1.1 s back and no further ahead than the rest") {
  torch::manual_seed(2);
  HarmonicCnn model(
      model_config("pedal = false\nhead_dilations = [2, 4]\nhistory_dilations = [8, 16, 32]"),
      semitone_features());
  CHECK(model.lookahead_frames() == 8);
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 300, 99}) * 20 - 30;
  const torch::Tensor base = model.forward({{"features", x}}).at("frame_logits");
  auto changed_frames = [&](int64_t frame) {  // which output frames move when `frame` does
    torch::Tensor y = x.clone();
    y[0][frame] += 30;
    const torch::Tensor out = model.forward({{"features", y}}).at("frame_logits");
    return ((out - base).abs().amax(2)[0] > 1e-5).nonzero().flatten();
  };
  const torch::Tensor moved = changed_frames(150);
  // Ahead: the trunk's 2 frames and the centred head's 2 + 4. Behind: also the history layers'
  // 2 x (8 + 16 + 32) frames.
  CHECK(moved.min().item<int64_t>() == 150 - 8);
  CHECK(moved.max().item<int64_t>() == 150 + 8 + 112);
}

TEST_CASE("harmonic_cnn's pedal branch: parameters of its own, two outputs per frame") {
  // Convolutions 16 x 9 + 16 x 16 x 9, the bands' mix 16 x 99 x 64, five temporal convolutions
  // 3 x 64 x 64, batch norms 2 x (16 + 16 + 64 + 5 x 64), a bidirectional GRU of 64 units
  // 2 x (2 x 192 x 64 + 2 x 192), the output 128 x 2 + 2.
  const int64_t pedal = 144 + 2304 + 101376 + 5 * 12288 + 2 * (16 + 16 + 64 + 5 * 64) +
                        2 * (2 * 192 * 64 + 2 * 192) + 258;
  torch::manual_seed(1);
  HarmonicCnn with(model_config(), semitone_features());
  torch::manual_seed(1);
  HarmonicCnn without(model_config("pedal = false"), semitone_features());
  CHECK(mlq::trainable_parameters(with) == 31180 + pedal);
  with.eval();
  without.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor features = torch::randn({2, 40, 99}) * 20 - 30;
  const auto a = with.forward({{"features", features}});
  const auto b = without.forward({{"features", features}});
  for (const char* key : {"pedal_frame_output", "reg_pedal_offset_output"}) {
    CAPTURE(key);
    REQUIRE(a.count(key) == 1);
    CHECK(a.at(key).sizes() == torch::IntArrayRef({2, 40}));
    CHECK(b.count(key) == 0);
  }
  CHECK(torch::allclose(a.at("pedal_frame_output"), torch::sigmoid(a.at("pedal_frame_logits"))));
  // Nothing shared: the notes' outputs are those of the model without the branch.
  CHECK(torch::equal(a.at("frame_logits"), b.at("frame_logits")));
  // Pooling before the convolutions: the same parameters, a quarter of the full-rate cost, every
  // frame's output (41 frames: the last pool holds one), and the notes untouched.
  torch::manual_seed(1);
  HarmonicCnn pool_first(model_config("pedal_pool_first = true"), semitone_features());
  CHECK(mlq::trainable_parameters(pool_first) == 31180 + pedal);
  const int64_t full_rate = 99 * 9 * (16 + 16 * 16) + 16 * 99 * 64;
  CHECK(with.macs_per_second() - pool_first.macs_per_second() == 100 * (full_rate - full_rate / 4));
  pool_first.eval();
  const torch::Tensor odd = torch::randn({2, 41, 99}) * 20 - 30;
  const auto pooled = pool_first.forward({{"features", odd}});
  CHECK(pooled.at("pedal_frame_output").sizes() == torch::IntArrayRef({2, 41}));
  CHECK(torch::equal(pooled.at("frame_logits"),
                     without.forward({{"features", odd}}).at("frame_logits")));
  CHECK(!torch::allclose(pooled.at("pedal_frame_logits"),
                         with.forward({{"features", odd}}).at("pedal_frame_logits")));
  // The per-key GRU option keeps the shapes.
  HarmonicCnn key_gru(model_config("key_gru = 8\nkey_gru_bidirectional = true"),
                      semitone_features());
  CHECK(key_gru.forward({{"features", features}}).at("frame_output").sizes() ==
        torch::IntArrayRef({2, 40, 88}));
}

TEST_CASE("the harmonic stack holds the input at each harmonic's distance, zero beyond it") {
  HarmonicCnnOptions options;
  CHECK((harmonic_shifts(options, 1) ==
         std::vector<int64_t>{-24, -19, -12, 0, 12, 19, 24, 28, 31, 34, 36}));
  CHECK((harmonic_shifts(options, 2) ==
         std::vector<int64_t>{-48, -38, -24, 0, 24, 38, 48, 56, 62, 68, 72}));
  const torch::Tensor x = torch::arange(1, 41, torch::kFloat32).view({1, 1, 1, 40});
  const torch::Tensor stack = harmonic_stack(x, {-12, 0, 19});
  REQUIRE(stack.sizes() == torch::IntArrayRef({1, 3, 1, 40}));
  CHECK(stack[0][0][0][11].item<float>() == 0);   // band -1
  CHECK(stack[0][0][0][12].item<float>() == 1);   // band 0
  CHECK(stack[0][1][0][5].item<float>() == 6);    // itself
  CHECK(stack[0][2][0][20].item<float>() == 40);  // band 39
  CHECK(stack[0][2][0][21].item<float>() == 0);   // band 40
  // Fewer bands out (the keys'): the full stack's first ones; more: zero beyond the spectrum.
  CHECK(torch::equal(harmonic_stack(x, {-12, 0, 19}, 30), stack.narrow(3, 0, 30)));
  const torch::Tensor wider = harmonic_stack(x, {-12, 0, 19}, 45);
  REQUIRE(wider.sizes() == torch::IntArrayRef({1, 3, 1, 45}));
  CHECK(torch::equal(wider.narrow(3, 0, 40), stack));
  CHECK(wider[0][1][0][39].item<float>() == 40);
  CHECK(wider[0][1][0][40].item<float>() == 0);
}

TEST_CASE("harmonic_cnn's outputs move with the pitch: one band up, one key up") {
  torch::manual_seed(1);
  // Two head layers: through five untrained ones the outputs hardly vary along the keys, and the
  // check that they do (below) would fail. The head's layers act on each key alike.
  HarmonicCnn model(model_config("head_dilations = [2, 4]"), semitone_features());
  model.eval();
  torch::NoGradGuard no_grad;
  // Silence (the normalised zero) with a chord-like blob, then the same a semitone higher.
  auto input = [](int64_t first_band) {
    torch::Tensor x = torch::full({1, 40, 99}, -30.0);
    x.slice(1, 10, 25).slice(2, first_band, first_band + 3) += 40;
    x.slice(1, 12, 20).slice(2, first_band + 12, first_band + 13) += 25;
    return x;
  };
  const auto low = model.forward({{"features", input(30)}});
  const auto high = model.forward({{"features", input(31)}});
  for (const char* key : {"reg_onset_logits", "frame_logits", "velocity_output"}) {
    CAPTURE(key);
    const torch::Tensor a = low.at(key), b = high.at(key);
    REQUIRE(a.sizes() == torch::IntArrayRef({1, 40, 88}));
    // Equal up to float rounding (the convolutions block positions differently).
    CHECK(torch::allclose(a.slice(2, 10, 60), b.slice(2, 11, 61), 1e-3, 1e-3));
    // and it is not constant along the keys, or the check above would prove nothing
    CHECK((a.slice(2, 10, 60) - a.slice(2, 11, 61)).abs().max().item<float>() > 1e-3);
  }
  CHECK(torch::allclose(low.at("frame_output"), torch::sigmoid(low.at("frame_logits"))));
}

TEST_CASE("harmonic_cnn needs semitone features from A0 and names what it got") {
  CHECK_THROWS_WITH_AS(HarmonicCnn(model_config(), mlq::FeatureOptions{}),
                       doctest::Contains("filterbank = \"mel\""), mlq::ConfigError);
  mlq::FeatureOptions features = semitone_features();
  features.first_midi = 24;
  CHECK_THROWS_WITH_AS(HarmonicCnn(model_config(), features), doctest::Contains("first_midi = 24"),
                       mlq::ConfigError);
  CHECK_THROWS_WITH_AS(HarmonicCnn(model_config("head_dilations = [2, 0]"), semitone_features()),
                       doctest::Contains("model.head_dilations"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(
      HarmonicCnn(model_config("history_dilations = [8, -1]"), semitone_features()),
      doctest::Contains("model.history_dilations"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(HarmonicCnn(model_config("chanels = 8"), semitone_features()),
                       doctest::Contains("channels"), mlq::ConfigError);
}

TEST_CASE("weighted_bce up-weights the cells with a target, masks, and needs logits") {
  // Logits 0 everywhere: every cell's BCE is log 2 whatever its target.
  const torch::Tensor zeros = torch::zeros({1, 2, 88});
  mlq::TensorMap outputs{{"reg_onset_logits", zeros},
                         {"reg_offset_logits", zeros},
                         {"frame_logits", zeros},
                         {"velocity_logits", zeros}};
  torch::Tensor onset = torch::zeros({1, 2, 88}), mask = torch::ones({1, 2, 88});
  onset[0][0][5] = 0.5;
  onset[0][1][5] = 1;
  mask[0][1] = 0;  // the second frame is masked out
  mlq::TensorMap batch{{"reg_onset_roll", onset},
                       {"reg_offset_roll", zeros},
                       {"frame_roll", zeros},
                       {"velocity_roll", onset * 100},
                       {"onset_roll", (onset == 1).to(torch::kFloat32)},
                       {"mask_roll", mask}};
  const double log2 = std::log(2.0);
  const mlq::LossFn loss =
      weighted_bce(model_config("positive_weight = 3.0\nvelocity_weight = 0.5"));
  // onset: 87 cells x 1 + 1 cell x 4 over 88 unmasked cells; offset and frame: log 2 each;
  // velocity: one onset cell, log 2, x 0.5.
  const double expected = log2 * (91.0 / 88 + 1 + 1 + 0.5);
  CHECK(loss(outputs, batch).item<double>() == doctest::Approx(expected).epsilon(1e-6));
  outputs.erase("frame_logits");
  CHECK_THROWS_WITH_AS(loss(outputs, batch), doctest::Contains("frame_logits"), mlq::UserError);
  // The pedal's terms, for a model with pedal outputs: per frame, unmasked, its release cells
  // weighted as the notes' onsets are: frame 2 x log 2 / 2; release (4 + 1) x log 2 / 2.
  outputs["frame_logits"] = zeros;
  outputs["pedal_frame_logits"] = torch::zeros({1, 2});
  outputs["reg_pedal_offset_logits"] = torch::zeros({1, 2});
  batch["pedal_frame_roll"] = torch::tensor({{1.0f, 0.0f}});
  batch["reg_pedal_offset_roll"] = torch::tensor({{0.0f, 0.8f}});
  const mlq::LossFn with_pedal = weighted_bce(
      model_config("positive_weight = 3.0\nvelocity_weight = 0.5\npedal_weight = 2.0"));
  CHECK(with_pedal(outputs, batch).item<double>() ==
        doctest::Approx(expected + 2 * log2 * (1 + 2.5)).epsilon(1e-6));
  CHECK_THROWS_WITH_AS(weighted_bce(model_config("positive_weight = -1.0")),
                       doctest::Contains("'positive_weight' = -1: expected a number >= 0"),
                       mlq::ConfigError);
}
