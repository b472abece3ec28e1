#include "data/band_spectrogram.hpp"

#include <cmath>
#include <complex>
#include <utility>

namespace mlq {

BandSpectrogram::BandSpectrogram(std::vector<float> frame_window, int64_t hop_length,
                                 std::vector<Band> bands, double power)
    : window_(std::move(frame_window)),
      hop_length_(hop_length),
      bands_(std::move(bands)),
      half_power_(static_cast<float>(power / 2)),
      fft_(static_cast<int64_t>(window_.size())) {}

int64_t BandSpectrogram::frames(int64_t padded_samples) const {
  return 1 + (padded_samples - fft_.size()) / hop_length_;
}

void BandSpectrogram::compute(const float* padded, int64_t padded_samples, float* out) const {
  const int64_t n_fft = fft_.size(), bins = n_fft / 2 + 1, frames = this->frames(padded_samples);
  RealFft::Buffers buffers(n_fft);
  std::vector<float> power(static_cast<size_t>(bins));
  float* __restrict frame = buffers.input();
  const float* __restrict window = window_.data();
  float* __restrict magnitude = power.data();
  for (int64_t t = 0; t < frames; ++t, out += bands()) {
    const float* __restrict samples = padded + t * hop_length_;
    for (int64_t j = 0; j < n_fft; ++j) frame[j] = samples[j] * window[j];
    fft_.forward(buffers);
    const float* __restrict spectrum = reinterpret_cast<const float*>(buffers.output());
    for (int64_t k = 0; k < bins; ++k)
      magnitude[k] = spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1];
    if (half_power_ != 1.f)
      for (int64_t k = 0; k < bins; ++k) magnitude[k] = std::pow(magnitude[k], half_power_);
    for (size_t m = 0; m < bands_.size(); ++m) {
      const Band& band = bands_[m];
      const float* band_bins = magnitude + band.first_bin;
      float sum = 0;
      for (size_t j = 0; j < band.weights.size(); ++j) sum += band.weights[j] * band_bins[j];
      out[m] = sum;
    }
  }
}

}  // namespace mlq
