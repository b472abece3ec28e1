#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands/commands.hpp"
#include "eval/scores.hpp"
#include "models/classifier.hpp"
#include "task.hpp"

namespace mlq::classification {
namespace {

struct Ranked {
  std::vector<int64_t> classes;  // best first
  std::vector<float> probabilities;
};

struct FilePrediction {
  std::string file;
  double duration = 0;
  Ranked top;
  struct Window {
    double start, end;
    Ranked top;
  };
  std::vector<Window> windows;  // when the file is longer than one window
};

Ranked rank(const float* probabilities, int64_t classes, int64_t k) {
  Ranked r;
  r.classes = top_classes(probabilities, classes, k);
  for (int64_t c : r.classes) r.probabilities.push_back(probabilities[c]);
  return r;
}

// Window starts over `samples`: every `hop` from 0, the last window reaching past the end.
std::vector<int64_t> window_starts(int64_t samples, int64_t window, int64_t hop) {
  std::vector<int64_t> starts{0};
  while (starts.back() + window < samples) starts.push_back(starts.back() + hop);
  return starts;
}

std::string csv_output(const std::vector<FilePrediction>& files,
                       const std::vector<std::string>& classes, int64_t k) {
  std::string out = "file,window,start,end";
  for (int64_t i = 1; i <= k; ++i) out += fmt::format(",label_{},probability_{}", i, i);
  out += "\n";
  auto row = [&](const std::string& file, const std::string& window, double start, double end,
                 const Ranked& top) {
    out += fmt::format("{},{},{:.3f},{:.3f}", csv_field(file), window, start, end);
    for (size_t i = 0; i < top.classes.size(); ++i)
      out += fmt::format(",{},{:.6f}", csv_field(classes[top.classes[i]]), top.probabilities[i]);
    out += "\n";
  };
  for (const FilePrediction& f : files) {
    row(f.file, "all", 0, f.duration, f.top);
    for (size_t w = 0; w < f.windows.size(); ++w)
      row(f.file, std::to_string(w + 1), f.windows[w].start, f.windows[w].end, f.windows[w].top);
  }
  return out;
}

std::string json_output(const std::vector<FilePrediction>& files,
                        const std::vector<std::string>& classes) {
  auto ranked = [&](const Ranked& top) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < top.classes.size(); ++i)
      list.push_back({{"label", classes[top.classes[i]]}, {"probability", top.probabilities[i]}});
    return list;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const FilePrediction& f : files) {
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : f.windows)
      windows.push_back({{"start", w.start}, {"end", w.end}, {"top", ranked(w.top)}});
    out.push_back(
        {{"file", f.file}, {"duration", f.duration}, {"top", ranked(f.top)}, {"windows", windows}});
  }
  return out.dump(2) + "\n";
}

}  // namespace

int predict_command(const std::vector<std::string>& args, const Registry& registry) {
  cxxopts::Options options("runner predict",
                           "Classify audio files (any format libsox reads) with a trained "
                           "checkpoint: runner predict --checkpoint=CKPT AUDIO... -o OUT.csv");
  add_predict_options(options, "classification", "the file to write (- for standard output)");
  options.add_options()("format", "csv or json (default: from the output's extension, else csv)",
                        cxxopts::value<std::string>())(
      "top-k", "labels listed per file and window", cxxopts::value<int64_t>()->default_value("3"))(
      "window-seconds", "window length (default: the checkpoint's data.clip_seconds)",
      cxxopts::value<double>())("hop-seconds", "between windows (default: the window length)",
                                cxxopts::value<double>())(
      "batch", "windows per forward pass", cxxopts::value<int64_t>()->default_value("32"));
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const std::string output = result.count("output") ? result["output"].as<std::string>() : "";
  const std::string format =
      result.count("format") ? result["format"].as<std::string>()
      : to_lower(std::filesystem::path(output).extension().string()) == ".json" ? "json"
                                                                                : "csv";
  if (format != "csv" && format != "json")
    throw UserError(fmt::format("--format {}: expected csv or json", format));
  const int64_t k = result["top-k"].as<int64_t>();
  if (k < 1) throw UserError(fmt::format("--top-k {}: expected at least 1", k));
  const PredictRun run = start_predict(result, "classification");
  const std::filesystem::path& checkpoint = run.checkpoint;
  const Config& config = run.config;
  const double window_seconds = result.count("window-seconds")
                                    ? result["window-seconds"].as<double>()
                                    : config.get_double("data.clip_seconds", 2);
  const double hop_seconds =
      result.count("hop-seconds") ? result["hop-seconds"].as<double>() : window_seconds;
  if (!(window_seconds > 0 && hop_seconds > 0))
    throw UserError(fmt::format("--window-seconds {} --hop-seconds {}: expected positive lengths",
                                window_seconds, hop_seconds));
  const int64_t batch = std::max<int64_t>(1, result["batch"].as<int64_t>());

  const std::vector<std::string> classes = checkpoint_class_names(checkpoint);
  std::shared_ptr<Model> model = build_model(config, classes, registry);
  load_model_weights(*model, checkpoint);
  model->eval();
  const FeatureOptions features = FeatureOptions::from(config.section("features"));
  const MelFeatures mel(features);
  const auto window = static_cast<int64_t>(std::llround(window_seconds * features.sample_rate));
  const auto hop = std::max<int64_t>(1, std::llround(hop_seconds * features.sample_rate));
  const auto n_classes = static_cast<int64_t>(classes.size());

  const std::vector<AudioInput>& inputs = run.inputs;
  std::vector<FilePrediction> predictions;
  BatchFailures failed;
  double audio_total = 0;
  const auto start = std::chrono::steady_clock::now();
  ProgressLine progress;
  torch::NoGradGuard no_grad;
  // Windows of several files go through the model together (short clips are one or two windows
  // each); a file's prediction is made once all of its windows have been through.
  struct Pending {
    FilePrediction prediction;
    std::vector<int64_t> starts;
    int64_t samples;
  };
  std::vector<Pending> pending;
  std::vector<torch::Tensor> windows;  // of the pending files, in order
  auto classify_pending = [&] {
    std::vector<torch::Tensor> parts;
    for (size_t first = 0; first < windows.size(); first += static_cast<size_t>(batch)) {
      const auto end = std::min(windows.size(), first + static_cast<size_t>(batch));
      const std::vector<torch::Tensor> some(windows.begin() + first, windows.begin() + end);
      parts.push_back(
          torch::softmax(model->forward({{"features", mel(torch::stack(some))}}).at("logits"), 1));
    }
    const torch::Tensor probabilities =
        parts.empty() ? torch::Tensor() : torch::cat(parts).to(torch::kFloat).contiguous();
    int64_t row = 0;
    for (Pending& p : pending) {
      const auto count = static_cast<int64_t>(p.starts.size());
      const torch::Tensor mine = probabilities.narrow(0, row, count);
      const torch::Tensor mean = mine.mean(0).contiguous();
      p.prediction.top = rank(mean.data_ptr<float>(), n_classes, k);
      if (count > 1)
        for (int64_t w = 0; w < count; ++w)
          p.prediction.windows.push_back(
              {static_cast<double>(p.starts[w]) / features.sample_rate,
               static_cast<double>(std::min(p.starts[w] + window, p.samples)) /
                   features.sample_rate,
               rank(mine[w].contiguous().data_ptr<float>(), n_classes, k)});
      row += count;
      audio_total += p.prediction.duration;
      predictions.push_back(std::move(p.prediction));
    }
    pending.clear();
    windows.clear();
  };
  for (const AudioInput& input : inputs) {
    const std::string file = input.file.string();
    try {
      std::vector<float> audio = load_audio(input.file, features.sample_rate);
      const auto samples = static_cast<int64_t>(audio.size());
      const std::vector<int64_t> starts = window_starts(samples, window, hop);
      audio.resize(static_cast<size_t>(std::max(samples, starts.back() + window)), 0.f);
      const torch::Tensor wave =
          torch::from_blob(audio.data(), {static_cast<int64_t>(audio.size())}).clone();
      for (int64_t s : starts) windows.push_back(wave.narrow(0, s, window));
      FilePrediction prediction;
      prediction.file = file;
      prediction.duration = static_cast<double>(samples) / features.sample_rate;
      pending.push_back({std::move(prediction), starts, samples});
    } catch (const std::exception& e) {
      failed.add(file, e);
    }
    if (static_cast<int64_t>(windows.size()) >= batch) classify_pending();
    progress.update("predict", static_cast<int64_t>(predictions.size() + failed.size()),
                    static_cast<int64_t>(inputs.size()), "files");
  }
  classify_pending();
  progress.finish();
  const std::string text =
      format == "json" ? json_output(predictions, classes) : csv_output(predictions, classes, k);
  if (output == "-")
    std::fwrite(text.data(), 1, text.size(), stdout);
  else
    write_file_atomic(output, text);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(
      output == "-" ? stderr : stdout, "%s\n",
      fmt::format("classified {} file{} ({:.1f} s of audio in {:.1f} s: {:.0f} clips/s){}{}",
                  predictions.size(), predictions.size() == 1 ? "" : "s", audio_total, wall,
                  static_cast<double>(predictions.size()) / std::max(wall, 1e-9),
                  output == "-" ? "" : " -> " + output, failed.summary())
          .c_str());
  return failed.empty() ? 0 : 1;
}

}  // namespace mlq::classification
