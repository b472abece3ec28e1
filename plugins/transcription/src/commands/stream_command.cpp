// runner predict --stream: note-on and note-off events as JSON lines as soon as they are decided,
// from audio on standard input (WAV or raw PCM) or a file (at real-time pace with --realtime).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "commands/commands.hpp"
#include "commands/stream_input.hpp"
#include "data/midi_file.hpp"
#include "eval/streaming.hpp"
#include "models/harmonic_cnn.hpp"

namespace mlq::transcription {
namespace {

using Clock = std::chrono::steady_clock;

void print_events(const std::vector<NoteEvent>& events, Clock::time_point start) {
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  for (const NoteEvent& e : events) {
    if (e.on)
      std::printf("%s\n",
                  fmt::format("{{\"event\": \"note_on\", \"time\": {:.4f}, \"pitch\": {}, "
                              "\"velocity\": {}, \"decided_at\": {:.3f}, \"wall\": {:.3f}}}",
                              e.note.onset, e.note.pitch, e.note.velocity, e.decided_at, wall)
                      .c_str());
    else
      std::printf("%s\n",
                  fmt::format("{{\"event\": \"note_off\", \"time\": {:.4f}, \"pitch\": {}, "
                              "\"onset\": {:.4f}, \"decided_at\": {:.3f}, \"wall\": {:.3f}{}}}",
                              e.note.offset, e.note.pitch, e.note.onset, e.decided_at, wall,
                              e.dropped ? ", \"dropped\": true" : "")
                      .c_str());
  }
  if (!events.empty()) std::fflush(stdout);
}

// How far ahead of a frame the model's outputs depend on the audio, rounded up to 10 ms: the
// frames ahead that harmonic_cnn sees and the STFT's half window. Recurrent models (crnn_*) see
// the whole window, so no look-ahead makes their stream equal offline prediction: 0.15 s.
double model_lookahead_seconds(const Model& model, const FeatureOptions& features) {
  const auto* harmonic = dynamic_cast<const HarmonicCnn*>(&model);
  if (!harmonic) return 0.15;
  const double samples =
      static_cast<double>(harmonic->lookahead_frames() * features.hop_length + features.n_fft / 2);
  return std::ceil(samples / features.sample_rate * 100) / 100;
}

}  // namespace

int stream_predict(const cxxopts::ParseResult& result, const PredictRun& run,
                   std::shared_ptr<Model> model, const PostprocessOptions& postprocess,
                   double bpm) {
  const FeatureOptions features = FeatureOptions::from(run.config.section("features"));
  StreamOptions options;
  options.step_seconds = result["step-seconds"].as<double>();
  options.lookahead_seconds = result.count("lookahead-seconds")
                                  ? result["lookahead-seconds"].as<double>()
                                  : model_lookahead_seconds(*model, features);
  options.onset_lookahead_seconds =
      result.count("onset-lookahead-seconds")
          ? result["onset-lookahead-seconds"].as<double>()
          : std::min(options.onset_lookahead_seconds, options.lookahead_seconds);
  if (!(options.step_seconds >= 0.01 && options.step_seconds <= 10))
    throw UserError(fmt::format("--step-seconds {}: expected 0.01 to 10", options.step_seconds));
  if (!(options.lookahead_seconds >= 0 && options.lookahead_seconds <= 10))
    throw UserError(
        fmt::format("--lookahead-seconds {}: expected 0 to 10", options.lookahead_seconds));
  if (!(options.onset_lookahead_seconds >= 0 &&
        options.onset_lookahead_seconds <= options.lookahead_seconds))
    throw UserError(fmt::format("--onset-lookahead-seconds {}: expected 0 to the look-ahead, {:g}",
                                options.onset_lookahead_seconds, options.lookahead_seconds));
  const double raw_rate = result["rate"].as<double>();
  const int channels = result["channels"].as<int>();
  if (!(raw_rate >= 1000 && raw_rate <= 384000))
    throw UserError(fmt::format("--rate {}: expected 1000 to 384000 Hz", raw_rate));
  if (channels < 1 || channels > 64)
    throw UserError(fmt::format("--channels {}: expected 1 to 64", channels));
  const std::vector<std::string> files = result.count("files")
                                             ? result["files"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{};
  if (files.size() > 1) throw UserError("--stream takes one FILE, or audio on standard input (-)");
  const bool from_stdin = files.empty() || files[0] == "-";
  if (result.count("realtime") && from_stdin)
    throw UserError("--realtime paces a FILE; standard input arrives at its own pace");

  std::fprintf(stderr, "%s\n",
               fmt::format("note-ons decided {:g} s behind the audio, note ends {:g} s",
                           options.onset_lookahead_seconds, options.lookahead_seconds)
                   .c_str());
  StreamTranscriber stream(model, features, postprocess, options);
  const auto start = Clock::now();
  if (from_stdin) {
    StreamInput input(0, features.sample_rate, raw_rate, channels);
    bool more = true;
    for (bool first = true; more; first = false) {
      std::vector<float> samples;
      more = input.read(samples);
      if (first) std::fprintf(stderr, "streaming %s audio\n", input.describe().c_str());
      print_events(stream.feed(samples.data(), samples.size()), start);
    }
  } else {
    const std::vector<float> audio = load_audio(files[0], features.sample_rate);
    const auto chunk =
        static_cast<size_t>(std::llround(options.step_seconds * features.sample_rate));
    for (size_t at = 0; at < audio.size(); at += chunk) {
      const size_t count = std::min(chunk, audio.size() - at);
      if (result.count("realtime"))  // a chunk arrives when its last sample has been played
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                        static_cast<double>(at + count) / features.sample_rate)));
      print_events(stream.feed(audio.data() + at, count), start);
    }
  }
  print_events(stream.finish(), start);

  Performance performance;
  performance.notes = stream.notes();
  std::sort(performance.notes.begin(), performance.notes.end(), [](const Note& a, const Note& b) {
    return a.onset != b.onset ? a.onset < b.onset : a.pitch < b.pitch;
  });
  performance.duration = stream.seconds_received();
  std::string written;
  if (!run.output.empty()) {
    std::filesystem::path midi = run.output;
    if (std::filesystem::is_directory(midi)) midi /= "stream.mid";
    write_midi(midi, performance, bpm);
    written = " -> " + midi.string();
  }
  std::fprintf(stderr, "%s\n",
               fmt::format("streamed {:.1f} s of audio: {} notes{}", performance.duration,
                           performance.notes.size(), written)
                   .c_str());
  return 0;
}

}  // namespace mlq::transcription
