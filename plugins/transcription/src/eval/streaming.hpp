#pragma once
// Transcription of audio as it arrives (`runner predict --stream`). Every `step_seconds` of new
// audio, the model runs over the last `context_seconds` before the frames not yet final and up to
// the newest sample; frames `lookahead_seconds` or more before the newest sample become final
// (the model's outputs near the end of what it saw lack their right context). The notes are
// post-processed as offline over the last 12 s of final frames, and each note is reported twice:
// on, once its onset peak is final, and off, once its end is.
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
};

struct NoteEvent {
  bool on = true;  // note-on, else note-off
  Note note;       // the whole note for a note-off; the offset is not known yet for a note-on
  double decided_at = 0;  // seconds of audio received when the event was decided
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
  // Runs the model up to sample `end` and appends the frames it makes final.
  void advance(int64_t end, bool final);
  std::vector<NoteEvent> decide(bool final);

  std::shared_ptr<Model> model_;
  MelFeatures features_;
  PostprocessOptions postprocess_;
  int64_t hop_, step_, context_frames_, lookahead_frames_, region_frames_;
  std::vector<float> audio_;  // samples from audio_start_ on
  int64_t audio_start_ = 0;
  int64_t received_ = 0;   // samples
  int64_t processed_ = 0;  // samples the model has run up to
  ModelOutputs final_;     // the final frames from final_start_ on
  int64_t final_start_ = 0;
  int64_t final_end_ = 0;  // frames before it are final
  struct Key {
    int pitch;
    int64_t onset;  // in 1e-4 s
    bool operator<(const Key& o) const {
      return pitch != o.pitch ? pitch < o.pitch : onset < o.onset;
    }
  };
  std::vector<Key> on_sent_, off_sent_;  // sorted
  std::vector<Note> ended_;
};

}  // namespace mlq::transcription
