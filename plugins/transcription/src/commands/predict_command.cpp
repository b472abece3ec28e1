#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "commands/commands.hpp"
#include "data/midi_file.hpp"
#include "eval/inference.hpp"
#include "mlq/plugin.hpp"
#include "task.hpp"

namespace mlq::transcription {

int predict_command(const std::vector<std::string>& args, const Registry& registry) {
  cxxopts::Options options("runner predict",
                           "Transcribe audio files (any format libsox reads) to MIDI with a "
                           "trained checkpoint: runner predict --checkpoint=CKPT AUDIO... -o DIR");
  options.add_options()("task", "transcription", cxxopts::value<std::string>())(
      "checkpoint", "a checkpoint of a transcription run (its config travels inside)",
      cxxopts::value<std::string>())("o,output", "folder for the .mid files",
                                     cxxopts::value<std::string>())(
      "batch", "10 s windows per forward pass", cxxopts::value<int64_t>()->default_value("4"))(
      "threads", "intra-op threads (0: the checkpoint's trainer.threads)",
      cxxopts::value<int64_t>()->default_value("0"))(
      "files", "audio files, or folders of them (recursively: every format libsox reads)",
      cxxopts::value<std::vector<std::string>>())("h,help", "this help");
  options.parse_positional({"files"});
  options.positional_help("AUDIO_OR_FOLDER...");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  if (!result.count("checkpoint"))
    throw UserError("missing --checkpoint=CKPT (see runner predict --help)");
  if (!result.count("output")) throw UserError("missing -o DIR (see runner predict --help)");
  if (!result.count("files")) throw UserError("no AUDIO files given (see runner predict --help)");
  const std::filesystem::path checkpoint = result["checkpoint"].as<std::string>();
  const std::filesystem::path output = result["output"].as<std::string>();
  const Config config = checkpoint_config(checkpoint);
  if (config.get_string("task") != "transcription")
    throw UserError(checkpoint.string() + ": a checkpoint of task '" + config.get_string("task") +
                    "', not transcription");

  int64_t threads = result["threads"].as<int64_t>();
  if (threads <= 0) threads = config.get_int("trainer.threads", 0);
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  // Quiet passages make denormal floats, which run many times slower.
  at::globalContext().setFlushDenormal(true);

  TranscriptionTask task;
  task.setup(config, registry);
  std::shared_ptr<Model> model = task.model();
  load_model_weights(*model, checkpoint);
  TranscribeOptions transcribe;
  transcribe.window_seconds =
      config.get_double("data.eval_segment_seconds", config.get_double("data.segment_seconds", 10));
  transcribe.batch = std::max<int64_t>(1, result["batch"].as<int64_t>());
  transcribe.postprocess = postprocess_options(config);
  const FeatureOptions features = FeatureOptions::from(config.section("features"));
  Transcriber transcriber(model, features, transcribe);

  const std::vector<AudioInput> inputs =
      expand_audio_inputs(result["files"].as<std::vector<std::string>>());
  if (inputs.empty()) throw UserError("no audio files in the folders given");
  // One bad file is one line; the others are still transcribed, and the exit status says so.
  std::vector<std::string> failed;
  std::map<std::filesystem::path, std::string> written;  // output -> the input it came from
  double audio_total = 0, wall_total = 0;
  for (const AudioInput& input : inputs) {
    const auto start = std::chrono::steady_clock::now();
    const std::string file = input.file.string();
    try {
      const std::filesystem::path midi =
          output / std::filesystem::path(input.relative).replace_extension(".mid");
      if (auto [earlier, added] = written.emplace(midi, file); !added)
        throw UserError(fmt::format("{}: would overwrite {}, transcribed from {}", file,
                                    midi.string(), earlier->second));
      const std::vector<float> audio = load_audio(input.file, features.sample_rate);
      ProgressLine progress;
      const std::string name = input.file.filename().string();
      const Transcription transcription = transcriber.transcribe(
          audio,
          [&](int64_t done, int64_t total) { progress.update(name, done, total, "windows"); });
      progress.finish();
      Performance performance;
      performance.notes = transcription.notes;
      performance.pedals = transcription.pedals;
      performance.duration = static_cast<double>(audio.size()) / features.sample_rate;
      std::filesystem::create_directories(midi.parent_path());
      write_midi(midi, performance);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      audio_total += performance.duration;
      wall_total += wall;
      std::printf("%s\n", fmt::format("{}: {} notes in {:.1f} s of audio -> {} ({:.1f} s, "
                                      "real-time factor {:.3f})",
                                      file, performance.notes.size(), performance.duration,
                                      midi.string(), wall, wall / performance.duration)
                              .c_str());
    } catch (const std::exception& e) {
      std::string reason = e.what();
      reason = reason.substr(0, reason.find('\n'));
      // Decoding errors already name the file.
      const std::string line = reason.rfind(file, 0) == 0 ? reason : file + ": " + reason;
      std::fprintf(stderr, "error: %s\n", line.c_str());
      failed.push_back(line);
    }
    std::fflush(stdout);
  }
  const size_t transcribed = inputs.size() - failed.size();
  std::string summary =
      fmt::format("transcribed {} file{}", transcribed, transcribed == 1 ? "" : "s");
  if (audio_total > 0)
    summary += fmt::format(" ({:.1f} s of audio in {:.1f} s: real-time factor {:.3f})", audio_total,
                           wall_total, wall_total / audio_total);
  if (!failed.empty()) {
    summary += fmt::format(", {} failed: ", failed.size());
    for (size_t i = 0; i < failed.size() && i < 10; ++i) summary += (i ? "; " : "") + failed[i];
    if (failed.size() > 10) summary += fmt::format("; and {} more", failed.size() - 10);
  }
  std::printf("%s\n", summary.c_str());
  return failed.empty() ? 0 : 1;
}

}  // namespace mlq::transcription
