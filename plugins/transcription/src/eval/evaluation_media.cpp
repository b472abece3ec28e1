#include "eval/evaluation_media.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "data/midi_file.hpp"
#include "eval/piano_roll_image.hpp"
#include "mlq/plugin.hpp"
#include "mlq/synth/soundfont_renderer.hpp"

namespace mlq::transcription {
namespace {

// Notes sounding in [start, start + seconds), moved to start at 0 and cut at the end.
std::vector<Note> notes_within(const std::vector<Note>& notes, double start, double seconds) {
  std::vector<Note> out;
  for (Note note : notes) {
    if (note.offset <= start || note.onset >= start + seconds) continue;
    note.onset = std::max(0.0, note.onset - start);
    note.offset = std::min(seconds, note.offset - start);
    if (note.offset > note.onset) out.push_back(note);
  }
  return out;
}

}  // namespace

std::optional<double> add_excerpt(const PianoDataset& data, int64_t index,
                                  const std::map<int64_t, std::vector<Note>>& predicted,
                                  int sample_rate, const std::string& roll_tag,
                                  const std::string& audio_tag, EvaluationMedia& media) {
  const TensorMap example = data.get(index);
  const int64_t piece = example.at("piece").item<int64_t>();
  const auto notes = predicted.find(piece);
  if (notes == predicted.end()) return std::nullopt;
  const torch::Tensor audio = example.at("audio").to(torch::kFloat32).contiguous();
  const int64_t frames = std::min<int64_t>(
      audio.numel(), static_cast<int64_t>(std::llround(kMediaSeconds * sample_rate)));
  if (frames <= 0) return std::nullopt;
  const double start =
      static_cast<double>(example.at("start_frame").item<int64_t>()) / data.frames_per_second();
  const double seconds = static_cast<double>(frames) / sample_rate;
  int width = 0, height = 0;
  const std::vector<uint8_t> rgb = piano_roll_rgb(data.notes(piece), notes->second, start, seconds,
                                                  kRollPixelsPerSecond, width, height);
  media.images.push_back({roll_tag, encode_png_rgb(rgb.data(), width, height), width, height});
  media.audio.push_back(
      {audio_tag,
       encode_wav_pcm16(audio.data_ptr<float>(), static_cast<size_t>(frames), sample_rate),
       sample_rate, frames});
  return start;
}

EvaluationMedia test_examples(const PianoDataset& data,
                              const std::map<int64_t, std::vector<Note>>& predicted,
                              int sample_rate, const std::filesystem::path& soundfont) {
  EvaluationMedia media;
  int count = 0;
  for (const int64_t index : data.first_example_of_each_root()) {
    const int64_t piece = data.get(index).at("piece").item<int64_t>();
    const std::string name =
        fmt::format("excerpt-{}{}", count + 1, data.unseen(piece) ? "-unseen" : "");
    const std::optional<double> start =
        add_excerpt(data, index, predicted, sample_rate, name + "-roll", name + "-input", media);
    if (!start) continue;
    ++count;
    std::vector<Note> notes = predicted.at(piece);
    double duration = 0;
    for (Note& note : notes) {
      note.velocity = std::clamp(note.velocity, 1, 127);  // a MIDI note-on needs 1..127
      duration = std::max(duration, note.offset);
    }
    const int64_t frames = media.audio.back().frames;
    const double seconds = static_cast<double>(frames) / sample_rate;
    try {
      media.files.push_back({name + "-prediction.mid", midi_bytes({notes, {}, duration})});
      SoundfontRenderer renderer(soundfont, sample_rate);
      std::vector<float> rendering =
          renderer.render({notes_within(notes, *start, seconds), {}, seconds}, 0.5);
      rendering.resize(static_cast<size_t>(frames), 0.0f);
      media.audio.push_back({name + "-prediction",
                             encode_wav_pcm16(rendering.data(), rendering.size(), sample_rate),
                             sample_rate, frames});
    } catch (const std::exception& e) {
      log::warn("test examples: the prediction of {} is left out: {}", name, e.what());
    }
  }
  return media;
}

}  // namespace mlq::transcription
