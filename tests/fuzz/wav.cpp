// Audio decoding: the bytes as a .wav file through audio_info() and decode_audio() (libsox's
// header parsing, the mapped 16-bit PCM path or libsox's readers, then resampling to 16 kHz).
#include <cmath>
#include <cstdlib>

#include "fuzz_target.hpp"
#include "mlq/audio/audio_io.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(wav) {
  const auto path = mlq::fuzz::write_temp_file(data, size, "input.wav");
  try {
    mlq::audio_info(path);
  } catch (const mlq::UserError&) {
  }
  try {
    mlq::decode_audio(path, 16000, [](const float* samples, size_t count) {
      for (size_t i = 0; i < count; ++i)
        if (!std::isfinite(samples[i])) std::abort();  // decoded audio is always finite
    });
  } catch (const mlq::UserError&) {
  }
}
