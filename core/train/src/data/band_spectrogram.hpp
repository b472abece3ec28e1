#pragma once
// The CPU spectrogram behind MelFeatures, without LibTorch: frame by frame, window, real FFT
// (FFTW), power, and filterbank bands, so each frame stays in cache. Each band sums only the
// bins its triangle covers (about 2 of 1025, where a dense product touches all of them).
#include <cstdint>
#include <vector>

#include "data/real_fft.hpp"

namespace mlq {

class BandSpectrogram {
 public:
  struct Band {
    int64_t first_bin = 0;
    std::vector<float> weights;  // for bins first_bin, first_bin + 1, ...
  };

  // `frame_window` has n_fft samples; `power` is the exponent of the magnitude (2: power).
  BandSpectrogram(std::vector<float> frame_window, int64_t hop_length, std::vector<Band> bands,
                  double power);

  int64_t frames(int64_t padded_samples) const;
  // `padded` holds `padded_samples` (the audio already padded by n_fft / 2 on both sides);
  // writes frames(padded_samples) rows of bands() values to `out`.
  void compute(const float* padded, int64_t padded_samples, float* out) const;
  int64_t bands() const { return static_cast<int64_t>(bands_.size()); }

 private:
  std::vector<float> window_;
  int64_t hop_length_;
  std::vector<Band> bands_;
  float half_power_;
  RealFft fft_;
};

}  // namespace mlq
