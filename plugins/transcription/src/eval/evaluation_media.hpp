#pragma once
// What the transcription task shows of an evaluation: excerpts of examples as a piano roll of
// reference against predicted notes, the input audio, and (for the test) the prediction rendered
// with FluidSynth and the piece's predicted MIDI.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/notes.hpp"
#include "data/piano_dataset.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

inline constexpr double kMediaSeconds = 10;          // the longest excerpt shown
inline constexpr double kRollPixelsPerSecond = 100;  // one column per frame at the reference's rate

// Example `index` of `data` (the start of a piece, up to kMediaSeconds) as `roll_tag` (PNG)
// and `audio_tag` (WAV) in `media`; returns the excerpt's start in its piece (seconds), or
// nullopt when the example's piece has no predicted notes. `predicted`: piece -> its notes.
std::optional<double> add_excerpt(const PianoDataset& data, int64_t index,
                                  const std::map<int64_t, std::vector<Note>>& predicted,
                                  int sample_rate, const std::string& roll_tag,
                                  const std::string& audio_tag, EvaluationMedia& media);

// The test examples: for the data set's own pieces and for each unseen-timbre set, the first
// piece as excerpt-N[-unseen]-{roll.png, input.wav, prediction.wav, prediction.mid}. The
// prediction is rendered with `soundfont`; if that fails, the rendering is left out (and logged).
EvaluationMedia test_examples(const PianoDataset& data,
                              const std::map<int64_t, std::vector<Note>>& predicted,
                              int sample_rate, const std::filesystem::path& soundfont);

}  // namespace mlq::transcription
