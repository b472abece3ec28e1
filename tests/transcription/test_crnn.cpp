// The reference models: the published parameter counts and compute, and a forward pass.
// LibTorch first: its glog headers define CHECK, which doctest's must replace.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include "eval/inference.hpp"
#include "mlq/train/tensor_utils.hpp"
#include "models/crnn.hpp"

using namespace mlq::transcription;

namespace {
mlq::Config empty_config() {
  return mlq::Config(toml::table{}, {});
}
}  // namespace

TEST_CASE("crnn_highres and crnn_pedal have the reference's parameter counts and compute") {
  CrnnHighres notes(empty_config(), mlq::FeatureOptions{});
  CHECK(mlq::trainable_parameters(notes) == 20218778);
  // DESIGN.md: about 12.75 GMAC per second of audio (100 frames).
  CHECK(notes.macs(100) == doctest::Approx(12.75e9).epsilon(0.005));
  CrnnPedal pedal(empty_config(), mlq::FeatureOptions{});
  CHECK(mlq::trainable_parameters(pedal) == 13861277);
}

TEST_CASE("crnn_highres widths come from config and its outputs are probabilities per frame") {
  const mlq::Config config(toml::parse(R"(
    conv_channels = [4, 8]
    fc_units = 16
    gru_units = 8
  )"),
                           {});
  mlq::FeatureOptions features;
  features.n_mels = 32;
  CrnnHighres model(config, features);
  CHECK(mlq::trainable_parameters(model) < 100000);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto outputs = model.forward({{"audio", 0.1 * torch::randn({2, 16000})}});
  for (const char* key :
       {"reg_onset_output", "reg_offset_output", "frame_output", "velocity_output"}) {
    CAPTURE(key);
    const torch::Tensor out = outputs.at(key);
    CHECK(out.sizes() == torch::IntArrayRef({2, 101, 88}));
    CHECK(out.min().item<float>() > 0);
    CHECK(out.max().item<float>() < 1);
  }
  // Features given in the batch are used as they are.
  const auto from_features = model.forward({{"features", torch::zeros({1, 50, 32})}});
  CHECK(from_features.at("frame_output").sizes() == torch::IntArrayRef({1, 50, 88}));
}

TEST_CASE("long audio is cut into half-overlapping windows and stitched as the reference") {
  // 25 s of audio, 10 s windows: padded to 30 s, windows at 0, 5, ..., 20 s.
  CHECK((window_starts(25 * 16000, 10 * 16000) ==
         std::vector<int64_t>{0, 80000, 160000, 240000, 320000}));
  CHECK((window_starts(100, 160000) == std::vector<int64_t>{0}));
  // Windows of 8 frames (+1 centred frame): each output holds its window index and frame.
  std::vector<torch::Tensor> outputs;
  for (int w = 0; w < 4; ++w)
    outputs.push_back(torch::arange(9, torch::kFloat32).unsqueeze(1) + 100 * w);
  const torch::Tensor stitched = stitch_windows(outputs);
  // First window: frames 0-5; middle windows: 2-5; last window: 2-7.
  const std::vector<float> expected{0,   1,   2,   3,   4,   5,   102, 103, 104, 105,
                                    202, 203, 204, 205, 302, 303, 304, 305, 306, 307};
  REQUIRE(stitched.size(0) == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) CHECK(stitched[i][0].item<float>() == expected[i]);
  CHECK(torch::equal(stitch_windows({outputs[0]}), outputs[0]));

  // Less context: 25 s in 10 s windows keeping 1 s either side start every 8 s, and one more
  // ends at the padded end (30 s).
  CHECK((window_starts(25, 10, 1) == std::vector<int64_t>{0, 8, 16, 20}));
  CHECK((window_starts(10, 10, 1) == std::vector<int64_t>{0}));
  // Windows of 8 frames at frames 0, 6, 8 with 1 frame of context keep frames 0-6, 7-12 and
  // 13-15: each up to its context, the last from where the one before stopped.
  std::vector<torch::Tensor> three;
  for (int w = 0; w < 3; ++w)
    three.push_back(torch::arange(9, torch::kFloat32).unsqueeze(1) + 100 * w);
  const torch::Tensor joined = stitch_windows(three, {0, 6, 8}, 1);
  const std::vector<float> frames{0, 1, 2, 3, 4, 5, 6, 101, 102, 103, 104, 105, 106, 205, 206, 207};
  REQUIRE(joined.size(0) == static_cast<int64_t>(frames.size()));
  for (size_t i = 0; i < frames.size(); ++i) CHECK(joined[i][0].item<float>() == frames[i]);
}
