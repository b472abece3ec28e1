#pragma once
// Training targets of one audio segment, as the bytedance piano_transcription reference makes them
// (Kong et al. 2021, utils/utilities.py, TargetProcessor.process and get_regression). No LibTorch:
// plain float rolls, so loader threads can build them.
//
// Rolls are row-major [frames x classes] (key index = pitch - begin_note) or [frames]; frame t is
// the instant segment_start + t / frames_per_second, and frames = round(seconds * fps) + 1 (1001
// for 10 s at 100 fps).
//
// Which notes take part (the reference parses the segment's MIDI messages; we are given notes):
// - notes starting after the segment end are left out; notes ending before it are left out when
//   their rounded offset frame is negative (one ending less than half a frame before the start
//   still marks frame 0, as in the reference);
// - a note still sounding at the segment end is cut there: its offset is the end (offset roll 1
//   and regression peak at the last frame) and its key is masked from its onset frame on (the
//   reference's "unpaired onsets"). The reference decides this from the key release alone, so a
//   note released in the segment but held past its end by the pedal is cut without a mask there;
//   our notes are already pedal-extended, so such a note is masked too (it does go on sounding);
// - pedal presses are selected and cut the same way, without masks.
#include <vector>

#include "data/notes.hpp"

namespace mlq::transcription {

struct TargetOptions {
  int frames_per_second = 100;
  int begin_note = 21;  // MIDI key of roll column 0 (A0)
  int classes_num = 88;
};

struct SegmentTargets {
  int frames = 0;
  int classes = 0;
  // [frames x classes]
  std::vector<float> onset_roll;       // 1 at the rounded onset frame
  std::vector<float> offset_roll;      // 1 at the rounded offset frame
  std::vector<float> reg_onset_roll;   // 1 - min(|distance to the onset|, 50 ms) / 50 ms
  std::vector<float> reg_offset_roll;  // the same for offsets
  std::vector<float> frame_roll;       // 1 from onset frame to offset frame, both included
  std::vector<float> velocity_roll;    // the MIDI velocity (0..127) over the same frames
  std::vector<float> mask_roll;        // 0 where a note crosses a segment edge, else 1
  // [frames]
  std::vector<float> reg_pedal_onset_roll;
  std::vector<float> reg_pedal_offset_roll;
  std::vector<float> pedal_onset_roll;
  std::vector<float> pedal_offset_roll;
  std::vector<float> pedal_frame_roll;
};

// Python 3's int(round(x)): to nearest, ties to even (round(0.5) == 0, round(1.5) == 2).
int round_half_even(double x);

// round(seconds * fps) + 1.
int segment_frames(double segment_seconds, int frames_per_second);

// `notes` are already pedal-extended (extend_offsets_by_pedal); both lists cover the whole piece
// (only what overlaps the segment is used) and may be in any order, but where two notes of one key
// write the same cell (same rounded onset frame, overlapping velocity frames) the later one wins.
SegmentTargets make_targets(const std::vector<Note>& notes, const std::vector<Pedal>& pedals,
                            double segment_start, double segment_seconds,
                            const TargetOptions& options = {});

// The reference's get_regression: `shifts` holds, per frame, the signed time in seconds from the
// frame to its event where there is one (|shift| < 0.5) and 1 elsewhere; returns the regression
// target of every frame (0 where no event is within 50 ms).
std::vector<double> regression_target(const std::vector<double>& shifts, int frames_per_second);

}  // namespace mlq::transcription
