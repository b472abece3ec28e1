#include "eval/streaming.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "eval/output_keys.hpp"

namespace mlq::transcription {
namespace {

constexpr int kClasses = 88;

template <class Outputs>  // ModelOutputs, const or not
auto* roll(Outputs& o, int k) {
  decltype(&o.reg_onset) rolls[] = {&o.reg_onset, &o.reg_offset, &o.frame, &o.velocity};
  return rolls[k];
}

// `frames` frames of every roll of `from`, from frame `first` on, appended to `to`.
void append_frames(ModelOutputs& to, const ModelOutputs& from, int64_t first, int64_t frames) {
  for (int k = 0; k < 4; ++k) {
    const auto begin = roll(from, k)->begin() + first * kClasses;
    roll(to, k)->insert(roll(to, k)->end(), begin, begin + frames * kClasses);
  }
  to.frames += static_cast<int>(frames);
}

constexpr double kMatchSeconds = 0.05;  // a note-on and the final note of its key: the same note

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
  onset_lookahead_frames_ = std::min(lookahead_frames_, frames(options.onset_lookahead_seconds));
  // Notes last at most max_note_frames: twice that is enough for every open note to end in it.
  region_frames_ = 2 * std::max(postprocess.max_note_frames, 100) + 10;
  final_.classes = kClasses;
  early_.classes = kClasses;
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
  const int64_t newest = end / hop_;
  const int64_t until = final ? newest + 1 : newest - lookahead_frames_;
  const int64_t early_until = final ? newest + 1 : newest - onset_lookahead_frames_;
  if (early_until <= final_end_) return;
  const int64_t first_frame = std::max<int64_t>(0, final_end_ - context_frames_);
  const int64_t from = first_frame * hop_;
  const torch::Tensor wave =
      torch::from_blob(audio_.data() + (from - audio_start_), {1, end - from}, torch::kFloat32);
  torch::NoGradGuard no_grad;
  const TensorMap outputs = model_->forward({{"features", features_(wave)}});
  ModelOutputs made;  // frames final_end_ to early_until
  made.classes = kClasses;
  made.frames = static_cast<int>(early_until - final_end_);
  for (int k = 0; k < 4; ++k)
    *roll(made, k) = to_float_vector(outputs.at(kNoteOutputs[k])[0]
                                         .narrow(0, final_end_ - first_frame, made.frames)
                                         .contiguous());
  const int64_t newly_final = std::max<int64_t>(0, until - final_end_);
  append_frames(final_, made, 0, newly_final);
  early_ = ModelOutputs{};
  early_.classes = kClasses;
  append_frames(early_, made, newly_final, made.frames - newly_final);
  final_end_ += newly_final;
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

bool StreamTranscriber::ended_final(int pitch, double onset) const {
  // Final frames are frozen: an ended note is found again with the same onset, up to rounding as
  // the region moves on.
  return std::any_of(sent_.begin(), sent_.end(), [&](const Sent& s) {
    return s.ended_final && s.pitch == pitch && std::abs(s.final_onset - onset) < 1e-6;
  });
}

std::vector<StreamTranscriber::Candidate> StreamTranscriber::notes_to_match(double start,
                                                                            double settled) const {
  std::vector<Candidate> candidates;
  // A two-frame plateau of the onset output gives two notes of one key at one onset, the first
  // without length (as the reference's post-processing does): one note-on, for the second.
  std::vector<int64_t> last_of_key(128, -1);
  auto add = [&](const Note& note, bool is_final) {
    int64_t& last = last_of_key[static_cast<size_t>(std::clamp(note.pitch, 0, 127))];
    if (last >= 0 && std::abs(candidates[static_cast<size_t>(last)].note.onset - note.onset) < 1e-6)
      candidates[static_cast<size_t>(last)] = {note, is_final};
    else {
      last = static_cast<int64_t>(candidates.size());
      candidates.push_back({note, is_final});
    }
  };
  for (Note note : postprocess(final_, postprocess_).notes) {
    note.onset += start;
    note.offset += start;
    if (note.onset >= settled && !ended_final(note.pitch, note.onset)) add(note, true);
  }
  if (early_.frames > 0) {
    ModelOutputs with_early = final_;
    append_frames(with_early, early_, 0, early_.frames);
    const double early_start = static_cast<double>(final_end_) / postprocess_.frames_per_second;
    for (Note note : postprocess(with_early, postprocess_).notes) {
      note.onset += start;
      if (note.onset >= early_start && note.onset >= settled) add(note, false);
    }
  }
  return candidates;
}

std::vector<bool> StreamTranscriber::match(std::vector<Candidate>& candidates) const {
  struct Pair {
    double distance;
    size_t sent, candidate;
  };
  std::vector<Pair> pairs;
  for (size_t i = 0; i < sent_.size(); ++i) {
    if (sent_[i].ended) continue;
    for (size_t j = 0; j < candidates.size(); ++j) {
      const double distance = std::abs(candidates[j].note.onset - sent_[i].onset);
      if (candidates[j].note.pitch == sent_[i].pitch && distance <= kMatchSeconds)
        pairs.push_back({distance, i, j});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    return std::tie(a.distance, a.sent, a.candidate) < std::tie(b.distance, b.sent, b.candidate);
  });
  std::vector<bool> matched(sent_.size(), false);
  for (const Pair& pair : pairs)
    if (!matched[pair.sent] && candidates[pair.candidate].sent < 0) {
      matched[pair.sent] = true;
      candidates[pair.candidate].sent = static_cast<int64_t>(pair.sent);
    }
  return matched;
}

std::vector<NoteEvent> StreamTranscriber::decide(bool final) {
  std::vector<NoteEvent> events;
  if (final_.frames + early_.frames <= 0) return events;
  const double fps = postprocess_.frames_per_second;
  const double start = static_cast<double>(final_start_) / fps;
  // Onsets in the region's first frames were found while the region reached further back.
  const double settled = final_start_ > 0 ? start + 10 / fps : 0;
  // A note that reaches the region's last final frames may go on: not ended yet.
  const double open_after = static_cast<double>(final_end_ - 6) / fps;
  const double now = seconds_received();
  std::vector<Candidate> candidates = notes_to_match(start, settled);
  std::vector<bool> matched = match(candidates);

  // Notes without a note-on get one; final notes whose end is decided are ended.
  for (Candidate& c : candidates) {
    if (c.sent < 0) {
      c.sent = static_cast<int64_t>(sent_.size());
      sent_.push_back({c.note.pitch, c.note.onset});
      matched.push_back(true);
      events.push_back({true, c.note, now});
    }
    if (!c.final || !(final || c.note.offset < open_after)) continue;
    Sent& sent = sent_[static_cast<size_t>(c.sent)];
    sent.ended = sent.ended_final = true;
    sent.final_onset = c.note.onset;
    ended_.push_back(c.note);
    Note note = c.note;
    note.onset = sent.onset;  // the note-off names the note-on it ends
    events.push_back({false, note, now});
  }
  // Note-ons without a note whose onsets the final frames have passed, and at the end every
  // note-on still open: ended now.
  const double passed = static_cast<double>(final_end_ - 10) / fps;
  for (size_t i = 0; i < sent_.size(); ++i) {
    Sent& s = sent_[i];
    if (s.ended || !(final || (!matched[i] && s.onset < passed))) continue;
    s.ended = true;
    Note note{};
    note.pitch = s.pitch;
    note.onset = s.onset;
    note.offset = std::max(s.onset, static_cast<double>(final_end_) / fps);
    events.push_back({false, note, now, /*dropped=*/true});
  }
  // What no later decision can match: ended, and before the region.
  sent_.erase(std::remove_if(sent_.begin(), sent_.end(),
                             [&](const Sent& s) {
                               return s.ended && s.onset < start &&
                                      (!s.ended_final || s.final_onset < start);
                             }),
              sent_.end());
  std::stable_sort(events.begin(), events.end(), [](const NoteEvent& a, const NoteEvent& b) {
    const double ta = a.on ? a.note.onset : a.note.offset, tb = b.on ? b.note.onset : b.note.offset;
    return ta < tb;
  });
  return events;
}

}  // namespace mlq::transcription
