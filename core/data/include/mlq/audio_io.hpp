#pragma once
// Audio decoding through libsox: any format the installed handlers read, mixed down to mono and
// resampled with sox's high-quality `rate` effect, streamed in blocks so memory stays bounded.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <vector>

namespace mlq {

struct AudioInfo {
  double sample_rate = 0;  // of the file
  int channels = 0;
  double duration = 0;  // seconds, from the header (0 when the format does not say)
};

// The header of an audio file. One-line UserError naming the file if libsox cannot open it.
AudioInfo audio_info(const std::filesystem::path& path);

// Decodes `path` to mono float samples in [-1, 1] at `sample_rate`, handing them to `sink` in
// blocks as they flow. A file that cannot be decoded, is empty, or holds fewer samples than its
// header promises (truncated) gives a one-line UserError naming the file and the reason.
void decode_audio(const std::filesystem::path& path, double sample_rate,
                  const std::function<void(const float* samples, size_t count)>& sink);

// The same, collected into one vector.
std::vector<float> load_audio(const std::filesystem::path& path, double sample_rate);

}  // namespace mlq
