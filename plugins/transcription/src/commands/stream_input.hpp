#pragma once
// Audio as it arrives on a file descriptor (standard input): a WAV stream (RIFF header, 16, 24 or
// 32-bit PCM or 32-bit float, any channels and rate) or raw 16-bit little-endian PCM at a given
// rate and channel count, mixed to mono and resampled to the model's rate as it comes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlq/plugin_base.hpp"

namespace mlq::transcription {

class StreamInput {
 public:
  // `raw_rate`, `raw_channels`: the format of headerless input.
  StreamInput(int fd, double target_rate, double raw_rate, int raw_channels);
  ~StreamInput();
  // Blocks until some audio arrives; appends it (mono, target rate) to `out`. False at the end
  // (when the resampler's tail may still have been appended).
  bool read(std::vector<float>& out);
  std::string describe() const;  // "WAV, 44100 Hz, 2 channels, 16-bit" ...

 private:
  bool fill();  // reads more bytes into buffer_; false at end of input
  void parse_header();
  void convert(const uint8_t* bytes, size_t frames, std::vector<float>& out);

  int fd_;
  double target_rate_;
  double rate_;
  int channels_;
  int bits_ = 16;
  bool is_float_ = false;
  bool wav_ = false;
  bool header_done_ = false;
  bool ended_ = false;
  std::vector<uint8_t> buffer_;
  std::unique_ptr<Resampler> resampler_;
};

}  // namespace mlq::transcription
