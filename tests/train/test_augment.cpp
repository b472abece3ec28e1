// Batch augmentations: each built-in does what it says on real signals, the chain follows its
// config and seed, and the loader applies it identically whichever thread builds the batch.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <cmath>
#include <tuple>

#include "mlq/train/augment.hpp"
#include "mlq/train/data_loader.hpp"
#include "support/config_helpers.hpp"
#include "toy_task.hpp"

using mlq::test::config_from;

namespace {

constexpr double kRate = 16000;

torch::Tensor sine(double freq, double seconds = 1.0, double amplitude = 0.5) {
  const auto n = static_cast<int64_t>(seconds * kRate);
  return amplitude * torch::sin(2 * M_PI * freq * torch::arange(n, torch::kFloat64) / kRate)
                         .to(torch::kFloat32);
}

// The dominant frequency of a mono signal, from its zero crossings.
double frequency_of(const torch::Tensor& audio) {
  const torch::Tensor middle = audio.narrow(0, audio.size(0) / 4, audio.size(0) / 2);
  const torch::Tensor sign = middle >= 0;
  const double crossings =
      (sign.narrow(0, 1, sign.size(0) - 1) != sign.narrow(0, 0, sign.size(0) - 1))
          .sum()
          .item<double>();
  return crossings / 2 / (static_cast<double>(middle.size(0)) / kRate);
}

double power_db(const torch::Tensor& x) {
  return 10 * std::log10(x.square().mean().item<double>());
}

mlq::TensorMap batch_of(const torch::Tensor& audio, int64_t examples) {
  return {{"audio", audio.unsqueeze(0).repeat({examples, 1})}};
}

mlq::BatchAugmentation chain(const std::string& toml) {
  static const mlq::Registry empty;
  return mlq::BatchAugmentation(config_from(toml), empty);
}

}  // namespace

TEST_CASE("pitch_shift moves the audio and the label roll by the same number of semitones") {
  auto augmentation = chain(R"(
    chain = ["pitch_shift"]
    sample_rate = 16000
    [pitch_shift]
    max_semitones = 3
    label_keys = ["roll"]
  )");
  const int64_t examples = 6;
  mlq::TensorMap batch = batch_of(sine(440), examples);
  // A one-hot roll at key 10 of 88, over 5 frames.
  batch["roll"] = torch::zeros({examples, 5, 88});
  batch["roll"].select(2, 10).fill_(1);
  augmentation.apply(batch, 1234);
  int64_t shifted_up = 0, shifted_down = 0;
  for (int64_t i = 0; i < examples; ++i) {
    const double semitones = 12 * std::log2(frequency_of(batch["audio"][i]) / 440);
    const int64_t rounded = std::lround(semitones);
    CHECK(std::abs(semitones - rounded) < 0.1);
    CHECK(rounded != 0);
    CHECK(std::abs(rounded) <= 3);
    const torch::Tensor roll = batch["roll"][i];
    CHECK(roll.sum().item<double>() == 5);
    CHECK(roll.select(1, 10 + rounded).sum().item<double>() == 5);
    (rounded > 0 ? shifted_up : shifted_down)++;
    CHECK(batch["audio"][i].size(0) == 16000);
  }
  CHECK(shifted_up > 0);
  CHECK(shifted_down > 0);
}

TEST_CASE("pitch_shift drops notes that leave the keyboard") {
  auto augmentation = chain(R"(
    chain = ["pitch_shift"]
    [pitch_shift]
    max_semitones = 1
    label_keys = ["roll"]
  )");
  mlq::TensorMap batch = batch_of(sine(440, 0.5), 8);
  batch["roll"] = torch::zeros({8, 88});
  batch["roll"].select(1, 0).fill_(1);   // the lowest key
  batch["roll"].select(1, 87).fill_(1);  // the highest key
  augmentation.apply(batch, 99);
  for (int64_t i = 0; i < 8; ++i) {
    const torch::Tensor roll = batch["roll"][i];
    CHECK(roll.sum().item<double>() == 1);  // one of the two left the keyboard
    CHECK((roll[1].item<double>() == 1 || roll[86].item<double>() == 1));
  }
}

TEST_CASE("gain and noise stay within their configured ranges") {
  auto augmentation = chain(R"(
    chain = ["gain", "noise"]
    [gain]
    min_db = -6.0
    max_db = -3.0
    [noise]
    min_snr_db = 20.0
    max_snr_db = 30.0
  )");
  const torch::Tensor clean = sine(440);
  mlq::TensorMap batch = batch_of(clean, 10);
  augmentation.apply(batch, 5);
  for (int64_t i = 0; i < 10; ++i) {
    const torch::Tensor out = batch["audio"][i];
    // Least-squares gain of the clean signal in the output, then the residual is the noise.
    const double gain = (out * clean).sum().item<double>() / clean.square().sum().item<double>();
    const double gain_db = 20 * std::log10(gain);
    CHECK(gain_db >= -6.05);
    CHECK(gain_db <= -2.95);
    const double snr = power_db(gain * clean) - power_db(out - gain * clean);
    CHECK(snr >= 19.5);
    CHECK(snr <= 30.5);
  }
}

TEST_CASE("equalizer filters the audio and keeps its length") {
  auto augmentation = chain(R"(
    chain = ["equalizer"]
    [equalizer]
    bands = 3
    min_freq = 300.0
    max_freq = 600.0
    max_gain_db = 12.0
    min_q = 0.7
    max_q = 0.7
  )");
  const torch::Tensor clean = sine(440);
  mlq::TensorMap batch = batch_of(clean, 6);
  augmentation.apply(batch, 3);
  int64_t changed = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const torch::Tensor out = batch["audio"][i];
    CHECK(out.size(0) == clean.size(0));
    CHECK(torch::isfinite(out).all().item<bool>());
    const double change = std::abs(power_db(out) - power_db(clean));
    CHECK(change <= 3 * 12 + 0.5);
    if (change > 0.5) ++changed;
    CHECK(std::abs(frequency_of(out) - 440) < 5);  // filtering changes level, not pitch
  }
  CHECK(changed >= 3);
}

TEST_CASE("time_mask and freq_mask fill stripes of the spectrogram with its mean") {
  for (const auto& [name, axis, limit] :
       {std::tuple<const char*, int64_t, int64_t>{"time_mask", 0, 20}, {"freq_mask", 1, 5}}) {
    CAPTURE(name);
    auto augmentation = chain(
        fmt::format("chain = [\"{}\"]\n[{}]\nmax_width = {}\ncount = 2\n", name, name, limit / 2));
    mlq::TensorMap batch{
        {"features", torch::arange(4 * 100 * 20, torch::kFloat32).reshape({4, 100, 20})}};
    const torch::Tensor before = batch["features"].clone();
    augmentation.apply(batch, 8);
    int64_t masked = 0;
    for (int64_t i = 0; i < 4; ++i) {
      const torch::Tensor changed = batch["features"][i] != before[i];
      // Whole stripes along the other axis, at most `limit` of them.
      CHECK(torch::equal(changed.any(1 - axis), changed.all(1 - axis)));
      CHECK(changed.all(1 - axis).sum().item<int64_t>() <= limit);
      masked += changed.sum().item<int64_t>();
      const double mean = before[i].mean().item<double>();
      CHECK(torch::allclose(batch["features"][i].masked_select(changed),
                            torch::full({changed.sum().item<int64_t>()}, mean)));
    }
    CHECK(masked > 0);
  }
}

TEST_CASE("the chain is reproducible from its seed and honours probability") {
  const std::string toml = R"(
    chain = ["gain", "noise"]
    [gain]
    probability = 0.5
    [noise]
    probability = 0.5
  )";
  auto augmentation = chain(toml);
  const torch::Tensor clean = sine(220, 0.25);
  mlq::TensorMap a = batch_of(clean, 40), b = batch_of(clean, 40), c = batch_of(clean, 40);
  augmentation.apply(a, 17);
  augmentation.apply(b, 17);
  augmentation.apply(c, 18);
  CHECK(torch::equal(a["audio"], b["audio"]));
  CHECK(!torch::equal(a["audio"], c["audio"]));
  int64_t untouched = 0;
  for (int64_t i = 0; i < 40; ++i) untouched += torch::equal(a["audio"][i], clean);
  CHECK(untouched >= 4);  // both skipped: 1/4 of the examples on average
  CHECK(untouched <= 20);

  auto never = chain("chain = [\"noise\"]\n[noise]\nprobability = 0.0\n");
  mlq::TensorMap d = batch_of(clean, 5);
  never.apply(d, 1);
  CHECK(torch::equal(d["audio"], batch_of(clean, 5)["audio"]));
}

TEST_CASE("augmentation config errors name the key and what was expected") {
  const std::string unknown = mlq::test::config_error([] { chain("chain = [\"gian\"]"); });
  CHECK_HAS(unknown, "unknown augmentation 'gian'");
  CHECK_HAS(unknown, "gain");
  const std::string probability =
      mlq::test::config_error([] { chain("chain = [\"gain\"]\n[gain]\nprobability = 1.5\n"); });
  CHECK_HAS(probability, "'gain.probability' = 1.5: expected a number in [0, 1]");
  const std::string key =
      mlq::test::config_error([] { chain("chain = [\"gain\"]\n[gain]\nmax_bd = 3.0\n"); });
  CHECK_HAS(key, "max_bd");
  mlq::TensorMap batch{{"audio", torch::zeros({2, 100})}};
  auto masks = chain("chain = [\"time_mask\"]");
  CHECK_THROWS_WITH_AS(masks.apply(batch, 0),
                       doctest::Contains("augment.time_mask: the batch has no 'features' tensor"),
                       mlq::UserError);
}

namespace {
class Invert : public mlq::BatchAugmentor {
 public:
  void apply(mlq::TensorMap& batch, int64_t index, mlq::AugmentRng&) const override {
    batch.at("audio")[index].neg_();
  }
};
}  // namespace

TEST_CASE("plugins add augmentations through the registry, but cannot replace built-in ones") {
  mlq::Registry registry;
  registry.set_source("inverter", "/plugins/libmlq_inverter.so");
  mlq::register_augmentation(registry, "invert",
                             [](const mlq::Config&) { return std::make_unique<Invert>(); });
  mlq::BatchAugmentation augmentation(config_from("chain = [\"invert\"]"), registry);
  mlq::TensorMap batch{{"audio", torch::ones({2, 10})}};
  augmentation.apply(batch, 0);
  CHECK(torch::equal(batch["audio"], -torch::ones({2, 10})));

  mlq::register_augmentation(registry, "gain",
                             [](const mlq::Config&) { return std::make_unique<Invert>(); });
  CHECK_THROWS_WITH_AS(mlq::BatchAugmentation(config_from("chain = [\"gain\"]"), registry),
                       doctest::Contains("libmlq_inverter.so: registers augmentation 'gain'"),
                       mlq::PluginError);
}

namespace {
class Tones : public mlq::Dataset {
 public:
  int64_t size() const override { return 12; }
  mlq::TensorMap get(int64_t i) const override { return {{"audio", sine(200 + 20 * i, 0.2)}}; }
};
}  // namespace

TEST_CASE("the loader applies the transform identically with or without worker threads") {
  auto augmentation = std::make_shared<mlq::BatchAugmentation>(chain(R"(
    chain = ["pitch_shift", "noise"]
    [pitch_shift]
    probability = 0.5
  )"));
  auto transform = [augmentation](mlq::TensorMap& batch, uint64_t seed) {
    augmentation->apply(batch, seed);
  };
  auto data = std::make_shared<Tones>();
  mlq::DataLoader serial(data, 4, true, 3, true), threaded(data, 4, true, 3, true, 2, 2);
  serial.set_transform(transform);
  threaded.set_transform(transform);
  std::vector<torch::Tensor> first_epoch;
  for (int epoch = 0; epoch < 2; ++epoch) {
    while (!serial.epoch_done()) {
      const torch::Tensor a = serial.next()["audio"], b = threaded.next()["audio"];
      CHECK(torch::equal(a, b));
      if (epoch == 0) first_epoch.push_back(a);
    }
    serial.start_next_epoch();
    threaded.start_next_epoch();
  }
  // A resumed loader sees the same augmented batch; other batches got other draws.
  mlq::DataLoader resumed(data, 4, true, 3, true);
  resumed.set_transform(transform);
  resumed.seek({0, 1});
  CHECK(torch::equal(resumed.next()["audio"], first_epoch[1]));
}
