#pragma once
// The transcription data model (what a MIDI file, the synthesiser and the post-processing share)
// is the core's: mlq/synth/performance.hpp.
#include "mlq/synth/performance.hpp"

namespace mlq::transcription {

using mlq::Note;
using mlq::Pedal;
using mlq::Performance;

}  // namespace mlq::transcription
