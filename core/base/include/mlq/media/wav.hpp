#pragma once
// WAV encoding without a library, for TensorBoard audio and reports.
#include <cstddef>
#include <string>

namespace mlq {

// A mono 16-bit PCM WAV file of `count` samples in [-1, 1] (values beyond are clipped) at
// `sample_rate` Hz.
std::string encode_wav_pcm16(const float* samples, size_t count, int sample_rate);

}  // namespace mlq
