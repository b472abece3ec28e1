#include "eval/streaming.hpp"

#include <algorithm>
#include <cmath>

namespace mlq::transcription {
namespace {

const char* const kKeys[] = {"reg_onset_output", "reg_offset_output", "frame_output",
                             "velocity_output"};
constexpr int kClasses = 88;

std::vector<float>* roll(ModelOutputs& o, int k) {
  std::vector<float>* rolls[] = {&o.reg_onset, &o.reg_offset, &o.frame, &o.velocity};
  return rolls[k];
}

// Inserts `key` into the sorted `keys`; false when it was there.
template <class Key>
bool insert_once(std::vector<Key>& keys, const Key& key) {
  auto at = std::lower_bound(keys.begin(), keys.end(), key);
  if (at != keys.end() && !(key < *at)) return false;
  keys.insert(at, key);
  return true;
}

}  // namespace

StreamTranscriber::StreamTranscriber(std::shared_ptr<Model> model, FeatureOptions features,
                                     PostprocessOptions postprocess, StreamOptions options)
    : model_(std::move(model)), features_(features), postprocess_(postprocess) {
  model_->eval();
  hop_ = features.hop_length;
  const double frames_per_second = features.sample_rate / static_cast<double>(hop_);
  auto frames = [&](double seconds) {
    return std::max<int64_t>(1, std::llround(seconds * frames_per_second));
  };
  step_ = frames(options.step_seconds) * hop_;
  context_frames_ = frames(options.context_seconds);
  lookahead_frames_ = frames(options.lookahead_seconds);
  // Notes last at most max_note_frames: twice that is enough for every open note to end in it.
  region_frames_ = 2 * std::max(postprocess.max_note_frames, 100) + 10;
  final_.classes = kClasses;
}

double StreamTranscriber::seconds_received() const {
  return static_cast<double>(received_) / features_.options().sample_rate;
}

std::vector<NoteEvent> StreamTranscriber::feed(const float* samples, size_t count) {
  audio_.insert(audio_.end(), samples, samples + count);
  received_ += static_cast<int64_t>(count);
  std::vector<NoteEvent> events;
  while (received_ - processed_ >= step_) {
    advance(processed_ + step_, false);
    for (NoteEvent& e : decide(false)) events.push_back(e);
  }
  return events;
}

std::vector<NoteEvent> StreamTranscriber::finish() {
  advance(received_, true);
  return decide(true);
}

void StreamTranscriber::advance(int64_t end, bool final) {
  processed_ = end;
  // Frame t is centred on sample t * hop; offline, audio of n samples has n / hop + 1 frames.
  const int64_t until = final ? end / hop_ + 1 : end / hop_ - lookahead_frames_;
  if (until <= final_end_) return;
  const int64_t first_frame = std::max<int64_t>(0, final_end_ - context_frames_);
  const int64_t from = first_frame * hop_;
  const torch::Tensor wave =
      torch::from_blob(audio_.data() + (from - audio_start_), {1, end - from}, torch::kFloat32);
  torch::NoGradGuard no_grad;
  const TensorMap outputs = model_->forward({{"features", features_(wave)}});
  for (int k = 0; k < 4; ++k) {
    const torch::Tensor made =
        outputs.at(kKeys[k])[0].narrow(0, final_end_ - first_frame, until - final_end_);
    const std::vector<float> values = to_float_vector(made.contiguous());
    roll(final_, k)->insert(roll(final_, k)->end(), values.begin(), values.end());
  }
  final_end_ = until;
  final_.frames = static_cast<int>(final_end_ - final_start_);
  // Keep the audio the next run needs, and the frames the next decisions need.
  const int64_t keep_from = std::max<int64_t>(0, final_end_ - context_frames_) * hop_;
  if (keep_from > audio_start_) {
    audio_.erase(audio_.begin(), audio_.begin() + (keep_from - audio_start_));
    audio_start_ = keep_from;
  }
  const int64_t drop = final_end_ - final_start_ - region_frames_;
  if (drop > 0) {
    for (int k = 0; k < 4; ++k)
      roll(final_, k)->erase(roll(final_, k)->begin(), roll(final_, k)->begin() + drop * kClasses);
    final_start_ += drop;
    final_.frames = static_cast<int>(final_end_ - final_start_);
  }
}

std::vector<NoteEvent> StreamTranscriber::decide(bool final) {
  std::vector<NoteEvent> events;
  if (final_.frames <= 0) return events;
  const double fps = postprocess_.frames_per_second;
  const double start = static_cast<double>(final_start_) / fps;
  // Onsets in the region's first frames were found while the region reached further back.
  const double settled = final_start_ > 0 ? start + 10 / fps : 0;
  // A note that reaches the region's last frames may go on: not ended yet.
  const double open_after = static_cast<double>(final_end_ - 6) / fps;
  const double now = seconds_received();
  for (Note note : postprocess(final_, postprocess_).notes) {
    note.onset += start;
    note.offset += start;
    if (note.onset < settled) continue;
    const Key key{note.pitch, std::llround(note.onset * 1e4)};
    if (insert_once(on_sent_, key)) events.push_back({true, note, now});
    if ((final || note.offset < open_after) && insert_once(off_sent_, key)) {
      events.push_back({false, note, now});
      ended_.push_back(note);
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const NoteEvent& a, const NoteEvent& b) {
    const double ta = a.on ? a.note.onset : a.note.offset, tb = b.on ? b.note.onset : b.note.offset;
    return ta < tb;
  });
  return events;
}

}  // namespace mlq::transcription
