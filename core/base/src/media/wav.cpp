#include "mlq/media/wav.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "mlq/util/byte_order.hpp"

namespace mlq {

std::string encode_wav_pcm16(const float* samples, size_t count, int sample_rate) {
  const auto data_bytes = static_cast<uint32_t>(count * 2);
  std::string wav = "RIFF";
  wav.reserve(44 + data_bytes);
  append_le32(wav, 36 + data_bytes);
  wav += "WAVEfmt ";
  append_le32(wav, 16);  // the fmt chunk's size
  append_le16(wav, 1);   // PCM
  append_le16(wav, 1);   // mono
  append_le32(wav, static_cast<uint32_t>(sample_rate));
  append_le32(wav, static_cast<uint32_t>(sample_rate) * 2);  // bytes per second
  append_le16(wav, 2);                                       // bytes per frame
  append_le16(wav, 16);                                      // bits per sample
  wav += "data";
  append_le32(wav, data_bytes);
  for (size_t i = 0; i < count; ++i) {
    const float x = std::isnan(samples[i]) ? 0.0f : std::clamp(samples[i], -1.0f, 1.0f);
    append_le16(wav, static_cast<uint16_t>(static_cast<int16_t>(std::lround(x * 32767.0f))));
  }
  return wav;
}

}  // namespace mlq
