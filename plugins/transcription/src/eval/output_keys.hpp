#pragma once
// The model outputs post-processing reads: the notes' four ([batch, frames, 88] probabilities)
// and, for a model with a pedal output, the sustain pedal's two ([batch, frames]).
namespace mlq::transcription {

inline constexpr const char* kNoteOutputs[] = {"reg_onset_output", "reg_offset_output",
                                               "frame_output", "velocity_output"};
inline constexpr const char* kPedalOutputs[] = {"pedal_frame_output", "reg_pedal_offset_output"};

}  // namespace mlq::transcription
