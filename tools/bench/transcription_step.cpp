// Training step and inference speed of a transcription model, for the side-by-side comparison with
// tools/bench/peer/model_step_peer.py (same model, shapes, loss, optimiser and threads; see
// tools/bench/transcription_models.sh). Random features and sparse random targets: the speed of
// dense float arithmetic does not depend on the values, except for denormals, which neither side
// meets here. Prints one JSON line with the same fields as the peer.
// Usage: build/bin/bench_transcription_step harmonic_cnn|crnn_highres [threads] [batch] [seconds]
//        [steps] [warmup] [infer_batch] [infer_windows]
// MLQ_BENCH_PRECISION=bf16-mixed (or auto) times the training step as trainer.precision does;
// MLQ_BENCH_MODEL_CONFIG=FILE times the model of that config file instead of the peer's.
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "mlq/util/allocator.hpp"
#include "models/crnn.hpp"
#include "models/harmonic_cnn.hpp"
#include "models/losses.hpp"
#include "strategy/precision.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median_seconds(int64_t warmup, int64_t repeats, const std::function<void()>& work) {
  for (int64_t i = 0; i < warmup; ++i) work();
  std::vector<double> times;
  for (int64_t i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    work();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double sgemm_gflops() {
  const torch::Tensor a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  const double seconds = median_seconds(2, 10, [&] { (void)torch::mm(a, b); });
  return 2.0 * 2048 * 2048 * 2048 / seconds / 1e9;
}

// The semitone front end harmonic_cnn is built for (configs/exp.toml's [features]).
toml::table semitone_features() {
  return toml::table{{"filterbank", "semitone"}, {"first_midi", 21}, {"semitone_bins", 99}};
}

mlq::Config model_config(const std::string& name) {
  // MLQ_BENCH_MODEL_CONFIG=configs/transcription/model/harmonic_cnn.toml: that model whole (the
  // demo's, pedal branch included), on the semitone features.
  if (const char* file = std::getenv("MLQ_BENCH_MODEL_CONFIG")) {
    toml::table table;
    try {
      table = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      std::fprintf(stderr, "error: MLQ_BENCH_MODEL_CONFIG: %s: %s\n", file,
                   std::string(e.description()).c_str());
      std::exit(2);
    }
    if (table["name"].value_or(std::string()) != name) {
      std::fprintf(stderr, "error: MLQ_BENCH_MODEL_CONFIG: %s: name is not '%s'\n", file,
                   name.c_str());
      std::exit(2);
    }
    if (name == "harmonic_cnn") table.insert_or_assign("features", semitone_features());
    return mlq::Config(std::move(table), {});
  }
  toml::table table{{"name", name}};
  // The notes' model, as the peer has it: no pedal branch, the head's first two layers.
  if (name == "harmonic_cnn") {
    table.insert_or_assign("pedal", false);
    table.insert_or_assign("head_dilations", toml::array{2, 4});
    table.insert_or_assign("features", semitone_features());
  }
  return mlq::Config(std::move(table), {});
}

// Rolls as the peer makes them: onset/offset regression targets on ~1 % of cells, frames on ~10 %,
// velocities where onsets are, no masked cells.
mlq::TensorMap random_targets(int64_t batch, int64_t frames) {
  auto cells = [&](double share) {
    return (torch::rand({batch, frames, 88}) < share).to(torch::kFloat32);
  };
  const torch::Tensor onsets = cells(0.01);
  return {{"reg_onset_roll", onsets * torch::rand({batch, frames, 88})},
          {"reg_offset_roll", cells(0.01) * torch::rand({batch, frames, 88})},
          {"frame_roll", cells(0.1)},
          {"onset_roll", onsets},
          {"velocity_roll", onsets * torch::randint(1, 128, {batch, frames, 88})},
          {"mask_roll", torch::ones({batch, frames, 88})},
          {"pedal_frame_roll", (torch::rand({batch, frames}) < 0.3).to(torch::kFloat32)},
          {"reg_pedal_offset_roll", torch::rand({batch, frames}) * 0.1}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "harmonic_cnn";
  auto arg = [&](int i, double fallback) { return argc > i ? std::atof(argv[i]) : fallback; };
  const auto threads = static_cast<int>(arg(2, 2));
  const auto batch = static_cast<int64_t>(arg(3, 8));
  const double seconds = arg(4, 2);
  const auto steps = static_cast<int64_t>(arg(5, 20)), warmup = static_cast<int64_t>(arg(6, 3));
  const auto infer_batch = static_cast<int64_t>(arg(7, 4));
  const auto infer_windows = static_cast<int64_t>(arg(8, 3));
  const char* precision_name = std::getenv("MLQ_BENCH_PRECISION");
  mlq::Precision precision = mlq::Precision::Float32;
  try {
    precision = mlq::resolve_precision(mlq::parse_precision(precision_name ? precision_name : "32"),
                                       /*on_cpu=*/true);
  } catch (const std::exception& e) {  // the values are trainer.precision's
    std::fprintf(stderr, "error: MLQ_BENCH_PRECISION: %s\n", e.what());
    return 2;
  }
  // As the runner does; MLQ_BENCH_DEFAULT_MALLOC=1 keeps glibc's defaults, to see the difference.
  if (!std::getenv("MLQ_BENCH_DEFAULT_MALLOC")) mlq::tune_allocator_for_training();
  torch::set_num_threads(threads);
  torch::manual_seed(0);

  const mlq::Config config = model_config(name);
  const mlq::FeatureOptions features = mlq::FeatureOptions::from(config.section("features"));
  std::shared_ptr<mlq::Model> model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  mlq::LossFn loss;
  try {
    if (name == "harmonic_cnn") {
      model = std::make_shared<mlq::transcription::HarmonicCnn>(config, features);
      optimizer = std::make_unique<torch::optim::AdamW>(
          model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0));
      loss = mlq::transcription::weighted_bce(mlq::Config());
    } else if (name == "crnn_highres") {
      model = std::make_shared<mlq::transcription::CrnnHighres>(config, features);
      optimizer = std::make_unique<torch::optim::Adam>(
          model->parameters(), torch::optim::AdamOptions(5e-4).amsgrad(true));
      loss = mlq::transcription::regression_bce;
    } else {
      std::fprintf(stderr, "error: unknown model '%s', expected harmonic_cnn or crnn_highres\n",
                   name.c_str());
      return 2;
    }
  } catch (const std::exception& e) {  // a config value the model refuses
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }

  const auto frames = static_cast<int64_t>(std::lround(seconds * 100)) + 1;
  mlq::TensorMap batch_map = random_targets(batch, frames);
  batch_map["features"] = torch::randn({batch, frames, features.bands()}) * 20 - 30;
  model->train();
  const double step_seconds = median_seconds(warmup, steps, [&] {
    optimizer->zero_grad();
    torch::Tensor value;
    {
      mlq::AutocastScope autocast(precision, torch::Device(torch::kCPU));
      value = loss(model->forward(batch_map), batch_map);
    }
    value.backward();
    optimizer->step();
  });

  model->eval();
  const mlq::TensorMap windows{
      {"features", torch::randn({infer_batch, 1001, features.bands()}) * 20 - 30}};
  const double infer_seconds = median_seconds(1, infer_windows, [&] {
    torch::NoGradGuard no_grad;
    (void)model->forward(windows);
  });

  const double sgemm = sgemm_gflops();
  const double forward_macs = static_cast<double>(model->macs_per_second()) * batch * seconds;
  const double model_gflops = 3 * 2 * forward_macs / step_seconds / 1e9;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "{\"model\": \"%s\", \"side\": \"c++\", \"precision\": \"%s\", \"threads\": %d, "
      "\"batch\": %lld, \"seconds\": %g, "
      "\"ms_per_step\": %.1f, \"samples_per_s\": %.3f, \"audio_s_per_s\": %.3f, "
      "\"sgemm_gflops\": %.1f, \"model_gflops\": %.1f, \"utilisation\": %.3f, \"infer_rtf\": %.4f, "
      "\"peak_rss_mb\": %.0f}\n",
      name.c_str(), precision == mlq::Precision::BFloat16Mixed ? "bf16-mixed" : "32", threads,
      static_cast<long long>(batch), seconds, step_seconds * 1000, batch / step_seconds,
      batch * seconds / step_seconds, sgemm, model_gflops, model_gflops / sgemm,
      infer_seconds / (infer_batch * 10.0), usage.ru_maxrss / 1024.0);
  return 0;
}
