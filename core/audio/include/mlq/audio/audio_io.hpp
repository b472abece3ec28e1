#pragma once
// Audio decoding through libsox: any format the installed handlers read (16-bit PCM WAV's samples
// taken from the mapped file once libsox has parsed the header), mixed down to mono and resampled
// with libsoxr's HQ recipe (sox's high-quality `rate -h`, as a library), streamed in blocks so
// memory stays bounded.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
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
// 16-bit PCM WAV is read from the memory-mapped file once libsox has parsed its header (the same
// samples sox_read gives, 5x faster); everything else through libsox's readers. With `checksum`,
// also sets it to file_checksum(path), from the same pass over the file where it is mapped.
void decode_audio(const std::filesystem::path& path, double sample_rate,
                  const std::function<void(const float* samples, size_t count)>& sink,
                  std::string* checksum = nullptr);

// The same, collected into one vector.
std::vector<float> load_audio(const std::filesystem::path& path, double sample_rate);

// The file extensions (".wav", ".flac", ...) of every format the installed libsox handlers read
// that carries its own header: headerless raw encodings and devices are left out.
std::vector<std::string> readable_audio_extensions();

// One audio file of a batch, and where its outputs go below the output folder.
struct AudioInput {
  std::filesystem::path file;
  std::filesystem::path relative;  // the file name, or its path below the folder that was given
};

// Files and folders as a user names them: a folder stands for every file below it (recursively,
// sorted) whose extension is in readable_audio_extensions(); a file, or a path that does not
// exist, stands for itself (decoding it reports what is wrong, and the batch goes on).
std::vector<AudioInput> expand_audio_inputs(const std::vector<std::string>& inputs);

// Writes mono `samples` (clipped to [-1, 1]) as 16-bit audio in the format the extension names
// (.wav, .flac, ...), atomically: a temporary file renamed over `path`.
void write_audio(const std::filesystem::path& path, const std::vector<float>& samples,
                 double sample_rate);

// Runs mono `samples` at `sample_rate` through a chain of sox effects, each given as its
// command-line words (e.g. {"pitch", "200"}, {"equalizer", "1000", "1q", "-6"}), and returns the
// result at the same rate (a rate-changing effect is followed by `rate -h`). The length may differ
// slightly from the input's. Thread-safe: each call builds its own chain. A bad effect or option
// gives a one-line UserError naming it.
std::vector<float> apply_sox_effects(const std::vector<float>& samples, double sample_rate,
                                     const std::vector<std::vector<std::string>>& effects);

}  // namespace mlq
