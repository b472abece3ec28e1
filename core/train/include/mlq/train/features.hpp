#pragma once
// Spectral features: STFT power (or magnitude) spectrogram, a filterbank (mel: Slaney scale and
// area normalisation as librosa's default, or HTK; or semitone: bands centred on MIDI pitches),
// and log with a floor.
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"

namespace mlq {

class BandSpectrogram;

// [features]; the defaults are the reference piano-transcription front end (DESIGN.md §6).
struct FeatureOptions {
  double sample_rate = 16000;
  int64_t n_fft = 2048;
  int64_t win_length = 2048;
  int64_t hop_length = 160;
  double f_min = 30;
  double f_max = 8000;
  int64_t n_mels = 229;
  std::string mel_scale = "slaney";  // or "htk"
  std::string norm = "slaney";       // or "none"
  std::string filterbank = "mel";    // or "semitone"
  // filterbank = "semitone": semitone_bins bands from MIDI pitch first_midi up, bins_per_semitone
  // of them per semitone.
  double first_midi = 21;
  int64_t bins_per_semitone = 1;
  int64_t semitone_bins = 99;
  double power = 2.0;  // 2: power, 1: magnitude
  bool log = true;     // 10 * log10(max(x, log_floor))
  double log_floor = 1e-10;

  static FeatureOptions from(const Config& features_config);
  int64_t bands() const { return filterbank == "mel" ? n_mels : semitone_bins; }
};

// [n_fft / 2 + 1, n_mels] triangular filters, as torchaudio.functional.melscale_fbanks.
torch::Tensor mel_filterbank(const FeatureOptions& options);

// [n_fft / 2 + 1, semitone_bins] triangular filters, band k centred on MIDI pitch
// first_midi + k / bins_per_semitone, reaching the next band's centre (at least one FFT bin, so low
// bands narrower than the FFT's resolution interpolate instead of coming out empty), each summing
// to 1: a weighted mean of the spectrum.
torch::Tensor semitone_filterbank(const FeatureOptions& options);

// Audio [batch, samples] or [samples] -> features [batch, frames, bands] (or [frames, bands]).
// Frames are centred (reflect padding): samples / hop_length + 1 of them.
class MelFeatures {
 public:
  explicit MelFeatures(FeatureOptions options);
  torch::Tensor operator()(const torch::Tensor& audio) const;
  const FeatureOptions& options() const { return options_; }

 private:
  torch::Tensor one(const torch::Tensor& audio) const;  // [1, samples] -> [1, frames, bands]

  FeatureOptions options_;
  torch::Tensor window_;
  torch::Tensor filterbank_;
  std::shared_ptr<const BandSpectrogram> cpu_spectrogram_;  // float32 audio on the CPU
};

}  // namespace mlq
