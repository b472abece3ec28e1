#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "commands/commands.hpp"
#include "data/midi_file.hpp"
#include "eval/inference.hpp"
#include "eval/note_events.hpp"
#include "mlq/plugin.hpp"
#include "mlq/synth/soundfont_renderer.hpp"
#include "task.hpp"

namespace mlq::transcription {

int predict_command(const std::vector<std::string>& args, const Registry& registry) {
  cxxopts::Options options("runner predict",
                           "Transcribe audio files (any format libsox reads) to MIDI with a "
                           "trained checkpoint: runner predict --checkpoint=CKPT AUDIO... -o DIR");
  add_predict_options(options, "transcription", "folder for the .mid files");
  options.add_options()("batch", "10 s windows per forward pass",
                        cxxopts::value<int64_t>()->default_value("4"))(
      "context-seconds",
      "what each window keeps away from its edges (default: the checkpoint's "
      "data.eval_context_seconds, else a quarter window, the reference's)",
      cxxopts::value<double>())("onset-threshold",
                                "onset peaks above this (default: the checkpoint's, else 0.3)",
                                cxxopts::value<double>())(
      "offset-threshold", "offset peaks above this (default: the checkpoint's, else 0.3)",
      cxxopts::value<double>())("frame-threshold",
                                "a note lasts while its frame output exceeds this (default: the "
                                "checkpoint's, else 0.1)",
                                cxxopts::value<double>())(
      "min-note-ms", "drop notes shorter than this (default: the checkpoint's, else 0)",
      cxxopts::value<double>())(
      "pedal-threshold",
      "the sustain pedal is down while its output exceeds this (default: the checkpoint's, "
      "else 0.5)",
      cxxopts::value<double>())(
      "pedal-offset-threshold",
      "a pedal release is a peak of its release output above this (default: the checkpoint's, "
      "else 0.2)",
      cxxopts::value<double>())("hold-notes-by-pedal",
                                "notes that end while the detected pedal is down last until it "
                                "comes up (default: the checkpoint's, else true)",
                                cxxopts::value<bool>())(
      "pitch-shifts",
      "also transcribe the input shifted by these semitones and average the note outputs, e.g. "
      "-2,-1,1,2; 'none': the model alone, once (default: the checkpoint's [inference] "
      "pitch_shifts; --stream runs the model alone)",
      cxxopts::value<std::string>())(
      "bpm", "tempo written into the MIDI files (how a score editor shows the beats)",
      cxxopts::value<double>()->default_value("120"))(
      "csv", "also write the note and pedal events as NAME.csv")(
      "json", "also write the note and pedal events as NAME.json")(
      "png", "also write a piano roll of the transcription as NAME.png")(
      "sonify", "also write the transcription played by FluidSynth as NAME.wav")(
      "soundfont", "the SoundFont --sonify plays with",
      cxxopts::value<std::string>()->default_value(kDefaultSoundfont))(
      "timings", "print the time each stage took (decode, features, model, ..., write)")(
      "stream",
      "transcribe audio as it arrives (standard input, or FILE): note events as JSON lines, and "
      "the MIDI file -o at the end")(
      "realtime", "--stream: play FILE at real-time pace, as if it were being recorded")(
      "rate", "--stream: the sample rate of headerless PCM on standard input",
      cxxopts::value<double>()->default_value("16000"))(
      "channels", "--stream: the channels of headerless PCM (16-bit little-endian)",
      cxxopts::value<int>()->default_value("1"))("step-seconds",
                                                 "--stream: how often the model runs",
                                                 cxxopts::value<double>()->default_value("0.05"))(
      "lookahead-seconds",
      "--stream: how far behind the newest audio frames become final and notes end (default: as "
      "far as the model looks ahead, so the notes are those of offline prediction; 0.15 for a "
      "model that does not say)",
      cxxopts::value<double>())(
      "onset-lookahead-seconds",
      "--stream: how far behind the newest audio note-ons are decided (0.15, or the look-ahead "
      "if shorter)",
      cxxopts::value<double>());
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const bool streaming = result.count("stream") > 0;
  const PredictRun run = start_predict(result, "transcription", streaming);
  const std::filesystem::path checkpoint = run.checkpoint;
  const std::filesystem::path output = run.output;
  const Config& config = run.config;

  TranscriptionTask task;
  task.setup(config, registry);
  std::shared_ptr<Model> model = task.model();
  load_model_weights(*model, checkpoint);
  TranscribeOptions transcribe;
  transcribe.window_seconds =
      config.get_double("data.eval_segment_seconds", config.get_double("data.segment_seconds", 10));
  transcribe.batch = std::max<int64_t>(1, result["batch"].as<int64_t>());
  transcribe.context_seconds = result.count("context-seconds")
                                   ? result["context-seconds"].as<double>()
                                   : config.get_double("data.eval_context_seconds", -1);
  if (result.count("context-seconds") &&
      !(transcribe.context_seconds >= 0 &&
        transcribe.context_seconds <= transcribe.window_seconds / 4))
    throw UserError(fmt::format("--context-seconds {}: expected 0 to a quarter of the {} s window",
                                transcribe.context_seconds, transcribe.window_seconds));
  const FeatureOptions features = FeatureOptions::from(config.section("features"));
  transcribe.ensemble = result.count("pitch-shifts")
                            ? PitchEnsemble::parse(result["pitch-shifts"].as<std::string>(),
                                                   features, "--pitch-shifts")
                            : PitchEnsemble::from(config, features);
  transcribe.postprocess = postprocess_options(config);
  PostprocessOptions& post = transcribe.postprocess;
  auto threshold = [&](const char* name, double& value) {
    if (!result.count(name)) return;
    value = result[name].as<double>();
    if (!(value > 0 && value <= 1))
      throw UserError(fmt::format("--{} {}: expected a value in (0, 1]", name, value));
  };
  threshold("onset-threshold", post.onset_threshold);
  threshold("offset-threshold", post.offset_threshold);
  threshold("frame-threshold", post.frame_threshold);
  threshold("pedal-threshold", post.pedal_frame_threshold);
  threshold("pedal-offset-threshold", post.pedal_offset_threshold);
  if (result.count("hold-notes-by-pedal"))
    post.hold_notes_by_pedal = result["hold-notes-by-pedal"].as<bool>();
  if (result.count("min-note-ms")) {
    const double ms = result["min-note-ms"].as<double>();
    if (!(ms >= 0 && ms <= 60000))
      throw UserError(fmt::format("--min-note-ms {}: expected 0 to 60000", ms));
    post.min_note_seconds = ms / 1000;
  }
  const double bpm = result["bpm"].as<double>();
  if (!(bpm >= kMinBpm && bpm <= kMaxBpm))
    throw UserError(fmt::format("--bpm {}: expected {} to {}", bpm, kMinBpm, kMaxBpm));
  if (streaming) return stream_predict(result, run, model, post, bpm);
  // The renderer loads its soundfont once, before any file, so a bad path fails at once.
  std::unique_ptr<SoundfontRenderer> renderer;
  constexpr int kSonifyRate = 22050;
  if (result.count("sonify"))
    renderer =
        std::make_unique<SoundfontRenderer>(result["soundfont"].as<std::string>(), kSonifyRate);
  Transcriber transcriber(model, features, transcribe);
  if (!transcribe.ensemble.empty())
    log::info(
        "pitch ensemble: the input also shifted by {} semitones, the note outputs averaged "
        "({} passes of the model; --pitch-shifts=none: one)",
        fmt::join(transcribe.ensemble.shifts, ", "), transcribe.ensemble.shifts.size() + 1);

  const std::vector<AudioInput>& inputs = run.inputs;
  // One bad file is one line; the others are still transcribed, and the exit status says so.
  BatchFailures failed;
  StageTimes stages;
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
      const std::vector<float> audio =
          stages.time("decode", [&] { return load_audio(input.file, features.sample_rate); });
      ProgressLine progress;
      const std::string name = input.file.filename().string();
      const Transcription transcription = transcriber.transcribe(
          audio,
          [&](int64_t done, int64_t total) { progress.update(name, done, total, "windows"); },
          &stages);
      progress.finish();
      Performance performance;
      performance.notes = transcription.notes;
      performance.pedals = transcription.pedals;
      performance.duration = static_cast<double>(audio.size()) / features.sample_rate;
      const auto write_start = std::chrono::steady_clock::now();
      std::filesystem::create_directories(midi.parent_path());
      write_midi(midi, performance, bpm);
      auto beside = [&](const char* extension) {
        return std::filesystem::path(midi).replace_extension(extension);
      };
      if (result.count("csv")) write_file_atomic(beside(".csv"), note_events_csv(performance));
      if (result.count("json")) write_file_atomic(beside(".json"), note_events_json(performance));
      if (result.count("png")) write_file_atomic(beside(".png"), piano_roll_png(performance));
      if (renderer) {
        const std::vector<float> sound = renderer->render(performance, /*tail_seconds=*/0.5);
        write_file_atomic(beside(".wav"),
                          encode_wav_pcm16(sound.data(), sound.size(), kSonifyRate));
      }
      const auto end = std::chrono::steady_clock::now();
      stages.add("write", std::chrono::duration<double>(end - write_start).count());
      const double wall = std::chrono::duration<double>(end - start).count();
      audio_total += performance.duration;
      wall_total += wall;
      std::printf("%s\n", fmt::format("{}: {} notes in {:.1f} s of audio -> {} ({:.1f} s, "
                                      "real-time factor {:.3f})",
                                      file, performance.notes.size(), performance.duration,
                                      midi.string(), wall, wall / performance.duration)
                              .c_str());
    } catch (const std::exception& e) {
      failed.add(file, e);
    }
    std::fflush(stdout);
  }
  const size_t transcribed = inputs.size() - failed.size();
  std::string summary =
      fmt::format("transcribed {} file{}", transcribed, transcribed == 1 ? "" : "s");
  if (audio_total > 0)
    summary += fmt::format(" ({:.1f} s of audio in {:.1f} s: real-time factor {:.3f})", audio_total,
                           wall_total, wall_total / audio_total);
  std::printf("%s\n", (summary + failed.summary()).c_str());
  if (result.count("timings"))
    std::printf("time by stage: %s\n", stages.breakdown(audio_total, wall_total).c_str());
  return failed.empty() ? 0 : 1;
}

}  // namespace mlq::transcription
