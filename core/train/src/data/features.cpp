#include "mlq/train/features.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/band_spectrogram.hpp"

namespace mlq {
namespace {

// Slaney's scale: linear below 1 kHz, logarithmic above (librosa's default, htk=False).
constexpr double kSlaneyStep = 200.0 / 3.0;
constexpr double kSlaneyLogHz = 1000.0;
const double kSlaneyLogMel = kSlaneyLogHz / kSlaneyStep;
const double kSlaneyLogStep = std::log(6.4) / 27.0;

double hz_to_mel(double hz, bool htk) {
  if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  if (hz < kSlaneyLogHz) return hz / kSlaneyStep;
  return kSlaneyLogMel + std::log(hz / kSlaneyLogHz) / kSlaneyLogStep;
}

double midi_to_hz(double midi) {
  return 440.0 * std::pow(2.0, (midi - 69) / 12);
}

void check(bool ok, const Config& c, const char* key, const std::string& expected) {
  if (!ok)
    throw ConfigError(std::string("config key 'features.") + key + "' (" + c.origin(key) +
                      "): expected " + expected);
}

// The filterbank's nonzero run of each band, and the window centred in n_fft samples as
// torch::stft pads it: what BandSpectrogram computes with.
std::shared_ptr<const BandSpectrogram> band_spectrogram(const FeatureOptions& o,
                                                        const torch::Tensor& window,
                                                        const torch::Tensor& filterbank) {
  std::vector<float> frame_window(static_cast<size_t>(o.n_fft), 0.f);
  std::copy(window.data_ptr<float>(), window.data_ptr<float>() + o.win_length,
            frame_window.begin() + (o.n_fft - o.win_length) / 2);
  std::vector<BandSpectrogram::Band> bands;
  const torch::Tensor bank = filterbank.t().contiguous();  // [bands, n_freqs]
  for (int64_t m = 0; m < bank.size(0); ++m) {
    const torch::Tensor nonzero = bank[m].nonzero();
    BandSpectrogram::Band band;
    if (nonzero.numel() > 0) {
      band.first_bin = nonzero.min().item<int64_t>();
      const int64_t last = nonzero.max().item<int64_t>();
      const torch::Tensor weights = bank[m].slice(0, band.first_bin, last + 1).contiguous();
      band.weights.assign(weights.data_ptr<float>(), weights.data_ptr<float>() + weights.numel());
    }
    bands.push_back(std::move(band));
  }
  return std::make_shared<BandSpectrogram>(std::move(frame_window), o.hop_length, std::move(bands),
                                           o.power);
}

}  // namespace

FeatureOptions FeatureOptions::from(const Config& c) {
  c.check_known_keys("", {"sample_rate", "n_fft", "win_length", "hop_length", "f_min", "f_max",
                          "n_mels", "mel_scale", "norm", "power", "log", "log_floor", "filterbank",
                          "first_midi", "bins_per_semitone", "semitone_bins"});
  FeatureOptions o;
  o.sample_rate = c.get_double("sample_rate", o.sample_rate, Range::above(0));
  o.n_fft = c.get_int("n_fft", o.n_fft);
  o.win_length = c.get_int("win_length", o.n_fft);
  o.hop_length = c.get_int("hop_length", o.hop_length);
  o.f_min = c.get_double("f_min", o.f_min);
  o.f_max = c.get_double("f_max", o.sample_rate / 2);
  o.n_mels = c.get_int("n_mels", o.n_mels);
  o.mel_scale = c.get_string("mel_scale", o.mel_scale);
  o.norm = c.get_string("norm", o.norm);
  o.power = c.get_double("power", o.power);
  o.log = c.get_bool("log", o.log);
  o.log_floor = c.get_double("log_floor", o.log_floor, Range::above(0));
  o.filterbank = c.get_string("filterbank", o.filterbank);
  o.first_midi = c.get_double("first_midi", o.first_midi);
  o.bins_per_semitone = c.get_int("bins_per_semitone", o.bins_per_semitone);
  o.semitone_bins = c.get_int("semitone_bins", o.semitone_bins);
  check(o.n_fft > 0 && o.win_length > 0 && o.win_length <= o.n_fft, c, "win_length",
        "0 < win_length <= n_fft");
  check(o.hop_length > 0, c, "hop_length", "a positive number of samples");
  check(0 <= o.f_min && o.f_min < o.f_max && o.f_max <= o.sample_rate / 2, c, "f_max",
        "0 <= f_min < f_max <= sample_rate / 2");
  check(o.n_mels > 0, c, "n_mels", "a positive number of bands");
  check(o.mel_scale == "slaney" || o.mel_scale == "htk", c, "mel_scale", "\"slaney\" or \"htk\"");
  check(o.norm == "slaney" || o.norm == "none", c, "norm", "\"slaney\" or \"none\"");
  check(o.power > 0, c, "power", "a positive exponent (2: power, 1: magnitude)");
  check(o.filterbank == "mel" || o.filterbank == "semitone", c, "filterbank",
        "\"mel\" or \"semitone\"");
  check(o.bins_per_semitone > 0, c, "bins_per_semitone", "a positive number of bands");
  check(o.semitone_bins > 0, c, "semitone_bins", "a positive number of bands");
  const double top_midi =
      o.first_midi + static_cast<double>(o.semitone_bins - 1) / o.bins_per_semitone;
  check(o.filterbank == "mel" || midi_to_hz(top_midi) < o.sample_rate / 2, c, "semitone_bins",
        fmt::format("bands up to MIDI {:g} ({:.0f} Hz) below the Nyquist frequency {:g} Hz",
                    top_midi, midi_to_hz(top_midi), o.sample_rate / 2));
  return o;
}

// In float32 tensor arithmetic, step for step as torchaudio.functional.melscale_fbanks, so the
// filters agree with the reference to rounding.
torch::Tensor mel_filterbank(const FeatureOptions& o) {
  const bool htk = o.mel_scale == "htk";
  const int64_t n_freqs = o.n_fft / 2 + 1;
  torch::Tensor freqs = torch::linspace(0, std::floor(o.sample_rate / 2), n_freqs);
  torch::Tensor mels =
      torch::linspace(hz_to_mel(o.f_min, htk), hz_to_mel(o.f_max, htk), o.n_mels + 2);
  torch::Tensor points =
      htk ? 700.0 * (torch::pow(10.0, mels / 2595.0) - 1.0)
          : torch::where(mels >= kSlaneyLogMel,
                         kSlaneyLogHz * torch::exp(kSlaneyLogStep * (mels - kSlaneyLogMel)),
                         kSlaneyStep * mels);
  torch::Tensor widths = points.slice(0, 1) - points.slice(0, 0, -1);
  torch::Tensor slopes = points.unsqueeze(0) - freqs.unsqueeze(1);  // [n_freqs, n_mels + 2]
  torch::Tensor down = -1.0 * slopes.slice(1, 0, -2) / widths.slice(0, 0, -1);
  torch::Tensor up = slopes.slice(1, 2) / widths.slice(0, 1);
  torch::Tensor bank = torch::clamp_min(torch::minimum(down, up), 0.0);
  if (o.norm == "slaney")
    bank = bank * (2.0 / (points.slice(0, 2, o.n_mels + 2) - points.slice(0, 0, o.n_mels)));
  return bank;
}

torch::Tensor semitone_filterbank(const FeatureOptions& o) {
  const int64_t n_freqs = o.n_fft / 2 + 1;
  const double bin_hz = o.sample_rate / static_cast<double>(o.n_fft);
  const double step = std::pow(2.0, 1.0 / (12.0 * static_cast<double>(o.bins_per_semitone)));
  torch::Tensor bank = torch::zeros({n_freqs, o.semitone_bins}, torch::kFloat64);
  auto weights = bank.accessor<double, 2>();
  for (int64_t k = 0; k < o.semitone_bins; ++k) {
    const double centre = midi_to_hz(o.first_midi + static_cast<double>(k) /
                                                        static_cast<double>(o.bins_per_semitone));
    const double half_width = std::max(centre * (step - 1), bin_hz);
    double sum = 0;
    for (int64_t f = 0; f < n_freqs; ++f) {
      weights[f][k] =
          std::max(0.0, 1.0 - std::abs(static_cast<double>(f) * bin_hz - centre) / half_width);
      sum += weights[f][k];
    }
    for (int64_t f = 0; f < n_freqs; ++f) weights[f][k] /= sum;
  }
  return bank.to(torch::kFloat32);
}

MelFeatures::MelFeatures(FeatureOptions options)
    : options_(std::move(options)),
      window_(
          torch::hann_window(options_.win_length, torch::TensorOptions().dtype(torch::kFloat32))),
      filterbank_(options_.filterbank == "mel" ? mel_filterbank(options_)
                                               : semitone_filterbank(options_)),
      cpu_spectrogram_(band_spectrogram(options_, window_, filterbank_)) {}

torch::Tensor MelFeatures::operator()(const torch::Tensor& audio) const {
  if (audio.dim() == 1) return one(audio.unsqueeze(0)).squeeze(0);
  // One example at a time: a batch's whole complex spectrum (65 MB for 8 x 10 s) does not stay
  // in cache, and the batch ran at half the speed of its examples done in turn.
  std::vector<torch::Tensor> examples;
  for (int64_t i = 0; i < audio.size(0); ++i) examples.push_back(one(audio.narrow(0, i, 1)));
  return torch::cat(examples);
}

torch::Tensor MelFeatures::one(const torch::Tensor& audio) const {
  namespace F = torch::nn::functional;
  const int64_t pad = options_.n_fft / 2;
  const torch::Tensor x =
      F::pad(audio.unsqueeze(1), F::PadFuncOptions({pad, pad}).mode(torch::kReflect)).squeeze(1);
  torch::Tensor mel;
  if (x.is_cpu() && x.scalar_type() == torch::kFloat32) {
    const torch::Tensor padded = x.contiguous();
    mel = torch::empty({1, cpu_spectrogram_->frames(padded.size(1)), cpu_spectrogram_->bands()});
    cpu_spectrogram_->compute(padded.data_ptr<float>(), padded.size(1), mel.data_ptr<float>());
  } else {
    const torch::Tensor spectrum =
        torch::stft(x, options_.n_fft, options_.hop_length, options_.win_length,
                    window_.to(x.options()), /*normalized=*/false, /*onesided=*/true,
                    /*return_complex=*/true);  // [1, freqs, frames]
    const torch::Tensor power = spectrum.abs().pow(options_.power).transpose(1, 2);
    mel = torch::matmul(power, filterbank_.to(power.options()));
  }
  if (options_.log) mel = 10.0 * torch::log10(torch::clamp_min(mel, options_.log_floor));
  return mel;  // [1, frames, n_mels]
}

}  // namespace mlq
