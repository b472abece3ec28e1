#include <doctest/doctest.h>
#include <torch/torch.h>

#include "mlq/audio/npy.hpp"
#include "mlq/train/features.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "train/toy_task.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

// torchaudio's MelSpectrogram of `signal` ([n_mels, frames]), computed by Debian's python3.
torch::Tensor torchaudio_mel(const TempDir& dir, const std::vector<float>& signal,
                             const std::string& scale, const std::string& norm) {
  mlq::write_npy(dir / "signal.npy", signal);
  const std::string script =
      "import numpy as np, torch, torchaudio\n"
      "x = torch.from_numpy(np.load('" +
      (dir / "signal.npy").string() +
      "'))\n"
      "t = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=2048, win_length=2048, "
      "hop_length=160, f_min=30.0, f_max=8000.0, n_mels=229, power=2.0, center=True, "
      "pad_mode='reflect', norm=" +
      (norm == "none" ? std::string("None") : "'" + norm + "'") + ", mel_scale='" + scale +
      "')\n"
      "np.save('" +
      (dir / "reference.npy").string() + "', np.ascontiguousarray(t(x).numpy().astype('<f4')))\n";
  auto result = run_process({"/usr/bin/python3", "-c", script});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  mlq::NpyFile file(dir / "reference.npy");
  REQUIRE(file.shape().size() == 2);
  return torch::from_blob(const_cast<float*>(file.floats()), {file.shape()[0], file.shape()[1]})
      .clone();
}

std::vector<float> test_signal() {
  torch::manual_seed(0);
  torch::Tensor t = torch::arange(32000, torch::kFloat64) / 16000.0;
  torch::Tensor x = 0.3 * torch::sin(2 * M_PI * 440 * t) + 0.2 * torch::sin(2 * M_PI * 3100 * t) +
                    0.05 * torch::randn({32000}, torch::kFloat64);
  x = x.to(torch::kFloat32);
  return std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
}

}  // namespace

TEST_CASE("mel power matches torchaudio's MelSpectrogram (Slaney and HTK) within 1e-4") {
  TempDir dir;
  const std::vector<float> signal = test_signal();
  for (const auto& [scale, norm] :
       std::vector<std::pair<std::string, std::string>>{{"slaney", "slaney"}, {"htk", "none"}}) {
    INFO(scale << " scale, norm " << norm);
    mlq::FeatureOptions options;
    options.mel_scale = scale;
    options.norm = norm;
    options.log = false;
    torch::Tensor ours = mlq::MelFeatures(options)(
        torch::from_blob(const_cast<float*>(signal.data()), {int64_t(signal.size())}));
    CHECK(ours.size(0) == 201);  // 32000 / 160 + 1 centred frames
    CHECK(ours.size(1) == 229);
    torch::Tensor reference = torchaudio_mel(dir, signal, scale, norm).transpose(0, 1);
    REQUIRE(reference.sizes() == ours.sizes());
    const double relative = ((ours.to(torch::kFloat64) - reference.to(torch::kFloat64)).abs() /
                             reference.to(torch::kFloat64).abs().clamp_min(1e-12))
                                .max()
                                .item<double>();
    MESSAGE("max relative error vs torchaudio: " << relative);
    CHECK(relative < 1e-4);
  }
}

TEST_CASE("the CPU path (FFTW frame by frame) matches torch::stft with a short window") {
  // float32 audio takes the FFTW path; float64 takes torch::stft and a dense filterbank product.
  const std::vector<float> signal = test_signal();
  const torch::Tensor audio =
      torch::from_blob(const_cast<float*>(signal.data()), {int64_t(signal.size())}).clone();
  for (double power : {2.0, 1.0}) {
    INFO("power " << power);
    mlq::FeatureOptions options;
    options.n_fft = 1024;
    options.win_length = 800;  // centred in the 1024-sample frame
    options.hop_length = 256;
    options.n_mels = 64;
    options.power = power;
    options.log = false;
    const mlq::MelFeatures features(options);
    const torch::Tensor ours = features(audio.unsqueeze(0));
    const torch::Tensor reference = features(audio.to(torch::kFloat64).unsqueeze(0));
    CHECK((ours.scalar_type() == torch::kFloat32));
    REQUIRE(ours.sizes() == reference.sizes());
    CHECK(ours.size(1) == int64_t(signal.size()) / 256 + 1);
    const double relative =
        ((ours.to(torch::kFloat64) - reference).abs() / reference.abs().clamp_min(1e-12))
            .max()
            .item<double>();
    MESSAGE("max relative error vs torch::stft: " << relative);
    CHECK(relative < 1e-4);
  }
}

TEST_CASE("log mel uses 10 log10 with the floor, batched and unbatched alike") {
  mlq::FeatureOptions options;
  options.n_mels = 16;
  options.n_fft = 256;
  options.win_length = 256;
  mlq::MelFeatures features(options);
  torch::Tensor silence = torch::zeros({2, 1600});
  torch::Tensor out = features(silence);
  CHECK(out.sizes() == torch::IntArrayRef({2, 11, 16}));
  CHECK(out.max().item<double>() == doctest::Approx(-100.0));  // 10 log10(1e-10)
  CHECK(features(silence[0]).sizes() == torch::IntArrayRef({11, 16}));
}

TEST_CASE("feature settings are checked") {
  CHECK_THROWS_WITH_AS(mlq::FeatureOptions::from(config_from("f_max = 9000.0")),
                       doctest::Contains("features.f_max"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::FeatureOptions::from(config_from("mel_scale = 'bark'")),
                       doctest::Contains("\"slaney\" or \"htk\""), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::FeatureOptions::from(config_from("n_mel = 128")),
                       doctest::Contains("did you mean 'n_mels'"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::FeatureOptions::from(config_from("filterbank = 'cqt'")),
                       doctest::Contains("\"mel\" or \"semitone\""), mlq::ConfigError);
  // MIDI 21 + 110 = 131 (about 15.8 kHz) is past 8 kHz.
  CHECK_THROWS_WITH_AS(
      mlq::FeatureOptions::from(config_from("filterbank = 'semitone'\nsemitone_bins = 111")),
      doctest::Contains("features.semitone_bins"), mlq::ConfigError);
}

TEST_CASE("semitone bands: each a weighted mean of the spectrum, a tone lights its own band") {
  const mlq::FeatureOptions options =
      mlq::FeatureOptions::from(config_from("filterbank = 'semitone'\nsemitone_bins = 99"));
  CHECK(options.bands() == 99);
  const torch::Tensor bank = mlq::semitone_filterbank(options);
  REQUIRE(bank.sizes() == torch::IntArrayRef({1025, 99}));
  CHECK(torch::allclose(bank.sum(0), torch::ones({99}), 1e-5, 1e-6));
  CHECK(bank.min().item<float>() >= 0);
  // Low bands are narrower than an FFT bin (7.8 Hz): they still interpolate between bins.
  CHECK((bank.select(1, 0) > 0).sum().item<int64_t>() >= 2);
  mlq::MelFeatures features(options);
  for (int midi : {45, 60, 69, 100, 108}) {
    CAPTURE(midi);
    const double hz = 440.0 * std::pow(2.0, (midi - 69) / 12.0);
    const torch::Tensor t = torch::arange(16000, torch::kFloat64) / 16000.0;
    const torch::Tensor tone = (0.3 * torch::sin(2 * M_PI * hz * t)).to(torch::kFloat32);
    const torch::Tensor bands = features(tone).mean(0);  // [99]
    CHECK(bands.argmax().item<int64_t>() == midi - 21);
    if (midi < 60) continue;
    // A semitone away is well below (from middle C up, where a semitone spans 2+ FFT bins).
    CHECK(bands[midi - 21].item<float>() - bands[midi - 20].item<float>() > 5);
    CHECK(bands[midi - 21].item<float>() - bands[midi - 22].item<float>() > 5);
  }
}
