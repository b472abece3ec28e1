#pragma once
// Model outputs to notes and pedal presses, as the bytedance piano_transcription reference does it
// (Kong et al. 2021, utils/utilities.py RegressionPostProcessor, utils/piano_vad.py
// note_detection_with_onset_offset_regress and pedal_detection_with_onset_offset_regress). No
// LibTorch: plain float rolls.
//
// 1. Onsets: frames where the onset regression output exceeds onset_threshold and does not fall
//    towards the peak over 2 frames on either side; offsets likewise with 4 frames (pedal offsets
//    with pedal_offset_threshold). Each peak's sub-frame position comes from its neighbours,
//    assuming the triangular shape of the regression targets (exact for perfect targets).
// 2. Per key, a note starts at an onset peak and ends at the first of:
//    - the next onset peak: the note ends one frame before it (no sub-frame offset);
//    - the first frame (after the onset) where frame_output <= frame_threshold: the note ends at
//      the first offset peak seen since the onset if that peak is nearer the frame drop than the
//      onset, else at the frame drop;
//    - max_note_frames (600, 6 s at 100 fps) after the onset, or the last frame.
//    Velocity: the velocity output at the onset frame x velocity_scale, truncated.
//    Notes shorter than min_note_seconds are then dropped (0, the reference: none is).
// 3. Pedal: a press starts at a frame where pedal_frame_output >= pedal_frame_threshold and rises
//    (frame resolution: the reference does not use the pedal onset regression), and ends at the
//    first pedal offset peak after it, or at the frame drop when no offset peak comes within 10
//    frames of it. A press still open at the last frame is dropped.
// 4. With hold_notes_by_pedal, the notes are extended by the detected presses.
//
// Where we differ from the reference, only where its result is unusable: a three-frame plateau at a
// peak (e.g. a saturated sigmoid) gives the reference a NaN sub-frame shift, us 0; velocities are
// clamped to 1..127 (the reference can give 0, a note-off, or 128, which MIDI cannot hold); an
// offset before its onset (a note cut by an onset in the next frame) is moved to the onset. Times
// stay double (the reference casts them to float32). Comparisons follow NumPy 1.x, the reference's:
// float32 outputs against double thresholds, shifts divided in float32.
#include <vector>

#include "data/notes.hpp"

namespace mlq::transcription {

struct PostprocessOptions {
  int frames_per_second = 100;
  int begin_note = 21;  // MIDI key of column 0
  // The released inference's values (piano_transcription_inference).
  double onset_threshold = 0.3;
  double offset_threshold = 0.3;
  double frame_threshold = 0.1;
  double pedal_offset_threshold = 0.2;
  double pedal_frame_threshold = 0.5;  // fixed in the reference
  int velocity_scale = 128;
  int max_note_frames = 600;
  double min_note_seconds = 0;
  // Ours, not the reference's: notes that end while a detected pedal press is down last until
  // its release (extend_offsets_by_pedal), as the pedal-extended training targets do. A small
  // model hears a held note decay away and ends it there, long before the pedal comes up.
  bool hold_notes_by_pedal = false;
};

// What the model gives for a stretch of audio; frame t is the instant t / frames_per_second.
struct ModelOutputs {
  int frames = 0;
  int classes = 88;
  // [frames x classes], row-major
  std::vector<float> reg_onset;
  std::vector<float> reg_offset;
  std::vector<float> frame;
  std::vector<float> velocity;  // MIDI velocity / velocity_scale
  // [frames]; both empty: no pedal model (the reference's pedal onset output is not used)
  std::vector<float> reg_pedal_offset;
  std::vector<float> pedal_frame;
};

struct Transcription {
  std::vector<Note> notes;    // sorted by (onset, pitch)
  std::vector<Pedal> pedals;  // sorted by onset
};

// Throws std::invalid_argument when a roll's size does not match frames and classes.
Transcription postprocess(const ModelOutputs& outputs, const PostprocessOptions& options = {});

// Step 1 for one curve: peak[n] is 1 at detected peaks, shift[n] their sub-frame position in
// frames (-0.5..0.5). Peaks are looked for in frames [neighbour, size - neighbour) only.
struct Peaks {
  std::vector<char> peak;
  std::vector<float> shift;
};
Peaks find_peaks(const std::vector<float>& curve, double threshold, int neighbour);

}  // namespace mlq::transcription
