#include <doctest/doctest.h>

#include <cmath>

#include "eval/clip_metrics.hpp"
#include "models/bc_resnet.hpp"
#include "models/panns_cnn.hpp"
#include "support/temp_dir.hpp"
#include "train/losses.hpp"
#include "train/mixup.hpp"

using namespace mlq::classification;
using mlq::Config;
using mlq::test::TempDir;

namespace {

Config config(const std::string& text) {
  return Config(toml::parse(text), {});
}

mlq::FeatureOptions bands(int64_t n) {
  mlq::FeatureOptions f;
  f.n_mels = n;
  return f;
}

int64_t parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("BC-ResNet: logits per clip, tens of thousands of parameters, any input length") {
  torch::manual_seed(0);
  BcResNet model(config("classes = 11\nwidth = 3\n"), bands(64));
  CHECK(parameters(model) > 20000);
  CHECK(parameters(model) < 100000);
  model.eval();
  for (int64_t frames : {101, 37}) {
    const auto out = model.forward({{"features", torch::randn({2, frames, 64})}});
    CHECK(out.at("logits").sizes() == torch::IntArrayRef{2, 11});
  }
  CHECK_THROWS_WITH_AS(BcResNet(config("width = 3\n"), bands(64)),
                       doctest::Contains("model.classes"), mlq::ConfigError);
}

TEST_CASE("PANNs CNN6 and CNN10: logits per clip") {
  torch::manual_seed(0);
  PannsCnn cnn6(config("classes = 5\nwidth = 8\n"), bands(64), false);
  PannsCnn cnn10(config("classes = 5\nwidth = 8\n"), bands(64), true);
  CHECK(parameters(cnn10) > parameters(cnn6));
  PannsCnn full(config("classes = 527\n"), bands(64), true);
  CHECK(parameters(full) == doctest::Approx(5.2e6).epsilon(0.05));  // PANNs: CNN10 4.96 M + fc
  for (PannsCnn* m : {&cnn6, &cnn10}) {
    m->eval();
    CHECK(m->forward({{"features", torch::randn({3, 101, 64})}}).at("logits").sizes() ==
          torch::IntArrayRef{3, 5});
  }
}

TEST_CASE("a classifier's class names travel in its checkpoint") {
  TempDir dir;
  BcResNet model(config("classes = 3\nwidth = 1\n"), bands(40));
  model.set_class_names({"dog", "rain", "church_bells"});
  CHECK(model.class_names() == std::vector<std::string>{"dog", "rain", "church_bells"});
  torch::serialize::OutputArchive archive, weights;
  model.save(weights);
  archive.write("model", weights);
  archive.save_to((dir / "x.pt").string());
  CHECK(checkpoint_class_names(dir / "x.pt") ==
        std::vector<std::string>{"dog", "rain", "church_bells"});
  CHECK_THROWS_WITH_AS(model.set_class_names({std::string(9000, 'a')}),
                       doctest::Contains("at most 8191"), mlq::UserError);
}

TEST_CASE("cross-entropy with label smoothing against the soft targets") {
  torch::manual_seed(0);
  const torch::Tensor logits = torch::randn({4, 5});
  const torch::Tensor labels = torch::tensor({0, 3, 4, 1});
  const mlq::TensorMap batch{{"target", torch::one_hot(labels, 5).to(torch::kFloat)}};
  const mlq::TensorMap outputs{{"logits", logits}};
  const double plain =
      cross_entropy(config("label_smoothing = 0.0\n"))(outputs, batch).item<double>();
  CHECK(plain == doctest::Approx(torch::cross_entropy_loss(logits, labels).item<double>()));
  // Smoothing e: (1 - e) * CE + e * mean over classes of -log p.
  const double e = 0.1;
  const double expected =
      (1 - e) * plain + e * (-torch::log_softmax(logits, 1).mean(1)).mean().item<double>();
  CHECK(cross_entropy(config("label_smoothing = 0.1\n"))(outputs, batch).item<double>() ==
        doctest::Approx(expected));
}

TEST_CASE("mixup: audio and targets mixed alike, the example the larger part") {
  const auto mixup = make_mixup(config("alpha = 0.4\n"));
  mlq::TensorMap batch{{"audio", torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}})},
                       {"target", torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}})}};
  mlq::AugmentRng rng(7);
  mixup->apply(batch, 0, rng);
  const float lambda = batch.at("target")[0][0].item<float>();
  CHECK(lambda >= 0.5f);
  CHECK(lambda <= 1.0f);
  CHECK(batch.at("target")[0][1].item<float>() == doctest::Approx(1 - lambda));
  CHECK(batch.at("audio")[0][0].item<float>() == doctest::Approx(lambda));
  CHECK(batch.at("audio")[1][1].item<float>() == 1.0f);  // the other example is unchanged

  // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
  mlq::AugmentRng draws(1);
  double sum = 0, squares = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = beta_symmetric(0.4, draws);
    sum += x;
    squares += x * x;
  }
  const double mean = sum / n, variance = squares / n - mean * mean;
  CHECK(mean == doctest::Approx(0.5).epsilon(0.02));
  CHECK(variance == doctest::Approx(1 / (4 * 1.8)).epsilon(0.05));
  CHECK_THROWS_WITH_AS(make_mixup(config("alpha = 0.0\n")), doctest::Contains("alpha"),
                       mlq::ConfigError);
}

TEST_CASE("the classification metric averages a clip's windows and scores unseen clips apart") {
  ClipMetrics metric(config("top_k = 2\n"), {"a", "b", "c"});
  // Clip 0 (class 0): one window says 1, one says 0 more strongly; clip 1 (class 2, unseen).
  const mlq::TensorMap outputs{
      {"logits", torch::tensor({{0.0f, 2.0f, 0.0f}, {4.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 3.0f}})}};
  const mlq::TensorMap batch{{"label", torch::tensor({0, 0, 2})},
                             {"clip", torch::tensor({0, 0, 1})},
                             {"unseen", torch::tensor({false, false, true})}};
  metric.update(outputs, batch);
  const mlq::Scalars s = metric.compute();
  CHECK(s.at("accuracy") == 1.0);
  CHECK(s.at("unseen_accuracy") == 1.0);
  CHECK(s.at("f1_a") == 1.0);
  CHECK(s.count("f1_c") == 0);  // no seen clip of c
  CHECK(s.at("unseen_f1_c") == 1.0);
  REQUIRE(metric.clips().size() == 2);
  CHECK(metric.clips()[0].probabilities[0] > metric.clips()[0].probabilities[1]);
  metric.reset();
  CHECK(metric.compute().empty());
  for (const auto& key : clip_metric_keys()) CHECK(!key.lower_is_better);
}
