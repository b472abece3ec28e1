#pragma once
// Transcription of audio as it arrives (`runner predict --stream`). Every `step_seconds` of new
// audio, the model runs over the last `context_seconds` before the frames not yet final and up to
// the newest sample. Two horizons:
// - frames `lookahead_seconds` or more before the newest sample are final (the model's outputs
//   near the end of what it saw lack their right context; with the model's own look-ahead they
//   are what offline prediction gives). Notes end from these, post-processed as offline over the
//   last 12 s of final frames.
// - frames `onset_lookahead_seconds` (shorter) before the newest sample decide note-ons: onsets
//   need little of what follows them, so a note-on is written long before its note's end can be.
// At every step the note-ons not yet ended are matched afresh to the notes of their keys within
// 50 ms, the final frames' notes and those starting in the early frames, nearest pairs first:
// the final note a note-on is matched to when that note's end is decided ends it (the note-off
// names the note-on's onset). A note-on left without a note once the final frames have passed it
// is ended at once, marked `dropped`; a note left without a note-on gets one, late for a final
// note. So no two note-ons of one key and onset are ever open at once, and every note-on is
// ended exactly once (tests/transcription/test_streaming.cpp).
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "eval/postprocess.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

struct StreamOptions {
  double step_seconds = 0.05;
  double context_seconds = 1.5;  // at least the model's receptive field to the left (harmonic_cnn's
                                 // history layers: 1.2 s, and the STFT's half window)
  double lookahead_seconds = 0.15;  // at least its receptive field to the right (and the STFT's)
  double onset_lookahead_seconds = 0.15;  // note-ons; at most lookahead_seconds
};

struct NoteEvent {
  bool on = true;  // note-on, else note-off
  // The whole note for a note-off (its onset that of its note-on); the offset is not known yet
  // for a note-on.
  Note note;
  double decided_at = 0;  // seconds of audio received when the event was decided
  bool dropped = false;   // a note-off for a note-on the final frames did not confirm
};

class StreamTranscriber {
 public:
  StreamTranscriber(std::shared_ptr<Model> model, FeatureOptions features,
                    PostprocessOptions postprocess, StreamOptions options);
  // Appends mono samples at the features' sample rate; returns the events they decided.
  std::vector<NoteEvent> feed(const float* samples, size_t count);
  // The end of the stream: every frame is final; returns the last events.
  std::vector<NoteEvent> finish();
  // The notes ended so far, in the order they ended.
  const std::vector<Note>& notes() const { return ended_; }
  double seconds_received() const;

 private:
  // Runs the model up to sample `end`, appends the frames it makes final and keeps those after
  // them that can decide note-ons.
  void advance(int64_t end, bool final);
  std::vector<NoteEvent> decide(bool final);
  // A note a note-on may be matched to.
  struct Candidate {
    Note note;
    bool final;         // of the final frames, else starting in the early ones
    int64_t sent = -1;  // the note-on it is matched to: an index into sent_
  };
  // The final frames' notes not yet ended (onsets from `settled` on), then those starting in the
  // early frames after them; `start` is the region's first frame in seconds.
  std::vector<Candidate> notes_to_match(double start, double settled) const;
  // Open note-ons and notes of one key within 50 ms of each other, nearest pairs first; returns
  // which note-ons of sent_ were matched.
  std::vector<bool> match(std::vector<Candidate>& candidates) const;
  // Whether the final frames' note of `pitch` at `onset` has been ended.
  bool ended_final(int pitch, double onset) const;

  std::shared_ptr<Model> model_;
  MelFeatures features_;
  PostprocessOptions postprocess_;
  int64_t hop_, step_, context_frames_, lookahead_frames_, onset_lookahead_frames_, region_frames_;
  std::vector<float> audio_;  // samples from audio_start_ on
  int64_t audio_start_ = 0;
  int64_t received_ = 0;   // samples
  int64_t processed_ = 0;  // samples the model has run up to
  ModelOutputs final_;     // the final frames from final_start_ on
  int64_t final_start_ = 0;
  int64_t final_end_ = 0;  // frames before it are final
  ModelOutputs early_;     // the frames after final_end_ that decide note-ons, as last computed
  struct Sent {
    int pitch;
    double onset;
    bool ended = false;
    bool ended_final = false;  // by the final frames' note starting at final_onset
    double final_onset = 0;
  };
  std::vector<Sent> sent_;  // note-ons sent, while their notes may still be in the frames kept
  std::vector<Note> ended_;
};

}  // namespace mlq::transcription
