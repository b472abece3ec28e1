// The pitch-shift ensemble (eval/pitch_ensemble.hpp): the shifted views' outputs land back on the
// keys that were played, keys near the edges average the views they have, and bad shifts are
// one-line errors naming where they came from.
// LibTorch first: its glog headers define CHECK, which doctest's must replace.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <string>

#include "eval/pitch_ensemble.hpp"
#include "mlq/train/features.hpp"

using namespace mlq::transcription;

namespace {

constexpr int64_t kKeys = 88, kBands = 99, kFrames = 3;

mlq::FeatureOptions semitone_features() {
  mlq::FeatureOptions f;
  f.filterbank = "semitone";
  f.first_midi = 21;
  f.semitone_bins = kBands;
  return f;
}

// A model whose key k reads band k (every key the same function, as a pitch-equivariant model)
// plus a bias of its own (as a key embedding): frame_output = band / 1000 + bias[k]; the other
// note outputs the same; a pedal output from the unshifted input only.
class KeyModel : public mlq::Model {
 public:
  explicit KeyModel(torch::Tensor bias) : bias_(std::move(bias)) {}
  mlq::TensorMap forward(const mlq::TensorMap& batch) override {
    ++passes;
    const torch::Tensor features = batch.at("features");  // [batch, frames, bands]
    const torch::Tensor keys = features.narrow(2, 0, kKeys) / 1000 + bias_;
    return {{"reg_onset_output", keys},
            {"reg_offset_output", keys},
            {"frame_output", keys},
            {"velocity_output", keys},
            {"pedal_frame_output", features.select(2, 0)}};
  }
  int passes = 0;

 private:
  torch::Tensor bias_;
};

}  // namespace

TEST_CASE("shift_bands moves the bands up or down and fills what the shift leaves with silence") {
  const torch::Tensor features = torch::arange(1, 6, torch::kFloat32).reshape({1, 1, 5});
  CHECK(torch::equal(shift_bands(features, 2, -100),
                     torch::tensor({-100.f, -100.f, 1.f, 2.f, 3.f}).reshape({1, 1, 5})));
  CHECK(torch::equal(shift_bands(features, -1, -100),
                     torch::tensor({2.f, 3.f, 4.f, 5.f, -100.f}).reshape({1, 1, 5})));
  CHECK(torch::equal(shift_bands(features, 0, -100), features));
  CHECK(torch::equal(shift_bands(features, 7, -1), torch::full({1, 1, 5}, -1.f)));
}

TEST_CASE("the ensemble puts each view's outputs back on the played keys and averages them") {
  // Band b holds 1000 b: a view shifted by s puts band b - s at band b. Aligned back, key k's
  // band part is k in every view; its bias part is the mean of bias[k + s] over its views.
  const torch::Tensor bands =
      (torch::arange(kBands, torch::kFloat32) * 1000).expand({2, kFrames, kBands}).contiguous();
  const torch::Tensor bias = torch::rand({kKeys});
  KeyModel model(bias);
  PitchEnsemble ensemble = PitchEnsemble::of({-2, -1, 1, 2}, semitone_features(), "test");
  CHECK(ensemble.silence == doctest::Approx(-100));  // 10 log10(1e-10)
  ensemble.silence = 0;  // bands brought in read as 0 then, so edge keys show which views they had
  const mlq::TensorMap out = forward_with_ensemble(model, {{"features", bands}}, ensemble);
  CHECK(model.passes == 5);
  for (const char* key :
       {"reg_onset_output", "reg_offset_output", "frame_output", "velocity_output"}) {
    const torch::Tensor roll = out.at(key);
    REQUIRE(roll.sizes() == torch::IntArrayRef({2, kFrames, kKeys}));
    for (int64_t k : {2, 40, 85}) {  // every view has these keys
      const double expected =
          static_cast<double>(k) + bias.narrow(0, k - 2, 5).mean().item<double>();
      CHECK(roll[1][2][k].item<double>() == doctest::Approx(expected).epsilon(1e-5));
    }
    // Key 0 has the views shifted by 0, +1 and +2 (bias[0..2]); key 87 those by 0, -1, -2.
    CHECK(roll[0][0][0].item<double>() ==
          doctest::Approx(bias.narrow(0, 0, 3).mean().item<double>()).epsilon(1e-5));
    CHECK(roll[0][0][87].item<double>() ==
          doctest::Approx(87 + bias.narrow(0, 85, 3).mean().item<double>()).epsilon(1e-5));
  }
  // The pedal's output is the unshifted pass's.
  CHECK(torch::equal(out.at("pedal_frame_output"), bands.select(2, 0)));

  KeyModel alone(bias);
  const mlq::TensorMap plain = forward_with_ensemble(alone, {{"features", bands}}, PitchEnsemble{});
  CHECK(alone.passes == 1);
  CHECK(torch::allclose(plain.at("frame_output"), bands.narrow(2, 0, kKeys) / 1000 + bias));
}

TEST_CASE("pitch shifts come from [inference] or a command-line list, and bad ones are errors") {
  auto config = [](const std::string& text) { return mlq::Config(toml::parse(text), {}); };
  const mlq::FeatureOptions semitone = semitone_features();
  CHECK(PitchEnsemble::from(config(""), semitone).empty());
  CHECK(PitchEnsemble::from(config("[inference]\npitch_shifts = [-1, 1]"), semitone).shifts ==
        std::vector<int64_t>{-1, 1});
  CHECK_THROWS_WITH_AS(PitchEnsemble::from(config("[inference]\npitch_shifts = [1, 0]"), semitone),
                       doctest::Contains("'inference.pitch_shifts'"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(PitchEnsemble::from(config("[inference]\npitch_shifts = [2, 2]"), semitone),
                       doctest::Contains("distinct"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(PitchEnsemble::from(config("[inference]\npitch_shifts = [13]"), semitone),
                       doctest::Contains("got 13"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(PitchEnsemble::from(config("[inference]\npitch_shift = [1]"), semitone),
                       doctest::Contains("pitch_shift"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(
      PitchEnsemble::from(config("[inference]\npitch_shifts = [1]"), mlq::FeatureOptions{}),
      doctest::Contains("filterbank = \"semitone\""), mlq::ConfigError);

  CHECK(PitchEnsemble::parse("none", semitone, "--pitch-shifts").empty());
  CHECK(PitchEnsemble::parse("-2,-1,1,2", semitone, "--pitch-shifts").shifts ==
        std::vector<int64_t>{-2, -1, 1, 2});
  for (const char* bad : {"", "1,", "a", "1,,2", "1.5"})
    CHECK_THROWS_WITH_AS(PitchEnsemble::parse(bad, semitone, "--pitch-shifts"),
                         doctest::Contains("--pitch-shifts"), mlq::UserError);
}
