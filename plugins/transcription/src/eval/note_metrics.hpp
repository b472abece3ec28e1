#pragma once
// Transcription metrics with mir_eval's definitions (mir_eval.transcription,
// mir_eval.transcription_velocity, mir_eval.multipitch), computed as mir_eval 0.7 computes
// them, floating-point comparisons and the choice among maximum matchings included, so the
// numbers agree with the evaluation scripts of Onsets and Frames and of Kong et al. One
// exception: when every matched estimate has the same velocity, the velocity line here is the
// exact least-squares answer, where np.linalg.lstsq can return an arbitrary fit.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "data/notes.hpp"

namespace mlq::transcription {

struct ScoreOptions {
  double onset_tolerance = 0.05;       // seconds
  double pitch_tolerance = 50.0;       // cents
  double offset_ratio = 0.2;           // offset tolerance: max(ratio x reference duration,
  double offset_min_tolerance = 0.05;  //                      this minimum), seconds
  double velocity_tolerance = 0.1;     // on velocities rescaled to [0, 1]
  double frames_per_second = 100.0;    // the roll of the frame metric
};

struct PRF {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

struct NoteScores {
  PRF onset;                  // onset and pitch (mir_eval offset_ratio=None)
  PRF onset_offset;           // onset, pitch and offset
  PRF onset_offset_velocity;  // and velocity (mir_eval.transcription_velocity)
  PRF frame;                  // frame-level, on the roll (mir_eval.multipitch)
};

enum class Criterion { onset, onset_offset, onset_offset_velocity };

// (reference index, estimate index)
using NoteMatch = std::pair<std::size_t, std::size_t>;

// The matching mir_eval's match_notes returns, pair for pair, sorted by reference index. The
// pairs, not just their number, matter: the velocity criterion fits its rescaling on them.
std::vector<NoteMatch> match_notes(const std::vector<Note>& ref, const std::vector<Note>& est,
                                   Criterion criterion, const ScoreOptions& options = {});

// Precision = matches / estimates, recall = matches / references, all 0 when either is 0.
PRF note_scores(const std::vector<Note>& ref, const std::vector<Note>& est, Criterion criterion,
                const ScoreOptions& options = {});

// Boolean piano rolls are frames x 88 keys (MIDI 21..108), row-major, nonzero = active.
// A note covers frames round(onset x fps) .. round(offset x fps), both included (Kong et al.'s
// convention); notes outside the piano's range are left out.
std::size_t frame_roll_length(const std::vector<Note>& notes, double frames_per_second);
std::vector<std::uint8_t> notes_to_frame_roll(const std::vector<Note>& notes,
                                              double frames_per_second, std::size_t frames);

// mir_eval.multipitch precision/recall on two rolls of the same frame rate, F1 from them. As
// mir_eval resamples the estimate onto the reference's time grid, estimate frames past the
// reference's end are ignored and missing ones count as silent.
PRF frame_scores(const std::vector<std::uint8_t>& ref_roll,
                 const std::vector<std::uint8_t>& est_roll);

// All four scores of one piece; the frame scores use rolls of both note lists over their
// common length. With a model's own output roll, replace `frame` by frame_scores(...).
NoteScores score_piece(const std::vector<Note>& ref, const std::vector<Note>& est,
                       const ScoreOptions& options = {});

// Averages over pieces, each of precision, recall and F1 separately (zeros when empty).
NoteScores mean_scores(const std::vector<NoteScores>& pieces);

// mir_eval.util.f_measure with beta = 1.
double f_measure(double precision, double recall);

}  // namespace mlq::transcription
