#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mlq/audio/audio_io.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "support/proc_self.hpp"
#include "support/process.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

// A file written by the sox command-line tool: `seconds` of a sine at `hz`, with `bits` per
// sample (0: sox's choice, 32 for WAV).
fs::path sox_tone(const TempDir& dir, const std::string& name, int rate, int channels, double hz,
                  double seconds, int bits = 0) {
  const fs::path path = dir / name;
  std::vector<std::string> command = {
      "sox", "-n", "-r", std::to_string(rate), "-c", std::to_string(channels)};
  if (bits) command.insert(command.end(), {"-b", std::to_string(bits)});
  command.insert(command.end(), {path.string(), "synth", std::to_string(seconds), "sine",
                                 std::to_string(hz), "vol", "0.5"});
  auto result = run_process(command);
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  return path;
}

// sox's own command-line decode of the same file (mono, 16 kHz, rate -h), as float32.
std::vector<float> sox_reference(const TempDir& dir, const fs::path& input) {
  const fs::path raw = dir / "reference.f32";
  auto result = run_process(
      {"sox", input.string(), "-t", "f32", "-c", "1", raw.string(), "rate", "-h", "16000"});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  const std::string bytes = read_file(raw);
  std::vector<float> samples(bytes.size() / 4);
  std::memcpy(samples.data(), bytes.data(), samples.size() * 4);
  return samples;
}

// The same samples in another container, converted losslessly by the sox tool.
fs::path sox_convert(const TempDir& dir, const fs::path& input, const std::string& name) {
  const fs::path path = dir / name;
  auto result = run_process({"sox", input.string(), path.string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  return path;
}

// `wav` rewritten with a LIST chunk of odd size (and its pad byte) before the data chunk and an
// unknown chunk after it, as some editors write them.
fs::path with_extra_chunks(const TempDir& dir, const fs::path& wav, const std::string& name) {
  const std::string bytes = read_file(wav);
  const size_t data = bytes.find("data", 12);
  REQUIRE(data != std::string::npos);
  const std::string list = std::string("LIST\x05\0\0\0INFOx", 13) + '\0';
  const std::string after = std::string("junk\x04\0\0\0abcd", 12);
  std::string rewritten = bytes.substr(0, data) + list + bytes.substr(data) + after;
  const uint32_t riff_size = static_cast<uint32_t>(rewritten.size() - 8);
  std::memcpy(&rewritten[4], &riff_size, 4);
  write_file(dir / name, rewritten);
  return dir / name;
}

}  // namespace

TEST_CASE("16-bit PCM WAV, read from its mapping, decodes exactly as libsox decodes the samples") {
  TempDir dir;
  for (int channels : {1, 2, 3}) {
    const fs::path wav =
        sox_tone(dir, std::to_string(channels) + "ch.wav", 44100, channels, 440, 2.5, 16);
    const fs::path aiff = sox_convert(dir, wav, std::to_string(channels) + "ch.aiff");
    const fs::path flac = sox_convert(dir, wav, std::to_string(channels) + "ch.flac");
    for (double rate : {16000.0, 44100.0}) {
      INFO(channels, " channels to ", rate, " Hz");
      const std::vector<float> samples = mlq::load_audio(wav, rate);
      CHECK(samples.size() == doctest::Approx(2.5 * rate).epsilon(0.001));
      CHECK(samples == mlq::load_audio(aiff, rate));
      CHECK(samples == mlq::load_audio(flac, rate));
    }
  }
  const fs::path plain = dir / "2ch.wav";
  CHECK(mlq::load_audio(with_extra_chunks(dir, plain, "chunks.wav"), 16000) ==
        mlq::load_audio(plain, 16000));
  // A data chunk of unknown size (0x7ffff000, as sox writes to a pipe): libsox reads to the end.
  std::string unsized = read_file(plain);
  const uint32_t unknown_size = 0x7ffff000;
  std::memcpy(&unsized[unsized.find("data", 12) + 4], &unknown_size, 4);
  write_file(dir / "unsized.wav", unsized);
  CHECK(mlq::load_audio(dir / "unsized.wav", 16000) == mlq::load_audio(plain, 16000));
}

TEST_CASE("a long 16-bit WAV is read from its mapping with bounded resident memory") {
  TempDir dir;
  const fs::path minute = sox_tone(dir, "minute.wav", 44100, 2, 440, 60.0, 16);
  const fs::path wav = dir / "long.wav";  // 5 minutes, 53 MB
  auto made = run_process({"sox", minute.string(), wav.string(), "repeat", "4"});
  REQUIRE_MESSAGE(made.exit_code == 0, made.out);
  const auto decode = [](const fs::path& path, long& peak_resident_kb) {
    const long resident_before = resident_file_kb();
    const long long read_before = bytes_read();
    size_t samples = 0, blocks = 0;
    peak_resident_kb = 0;
    mlq::decode_audio(path, 44100, [&](const float*, size_t count) {
      samples += count;
      if (++blocks % 32 == 0)
        peak_resident_kb = std::max(peak_resident_kb, resident_file_kb() - resident_before);
    });
    CHECK(samples == 300 * 44100);
    return bytes_read() - read_before;
  };
  long peak_kb = 0;
  CHECK(decode(wav, peak_kb) < (1 << 20));  // the header through libsox; no sample via read()
  CHECK(peak_kb < 16 * 1024);               // pages released behind the reader
  // The same samples as AIFF go through libsox's reader, whole.
  const fs::path aiff = sox_convert(dir, wav, "long.aiff");
  CHECK(decode(aiff, peak_kb) > (50 << 20));
}

TEST_CASE("decoding hands back the file's checksum when asked") {
  TempDir dir;
  const fs::path wav = sox_tone(dir, "tone.wav", 44100, 2, 440, 3.0, 16);
  // Read from the mapping (header, blocks and the chunks after the samples hashed as they pass)
  // and through libsox.
  for (const fs::path& path :
       {wav, with_extra_chunks(dir, wav, "chunks.wav"), sox_convert(dir, wav, "tone.flac"),
        sox_tone(dir, "t32.wav", 44100, 1, 440, 1.0, 32)}) {
    INFO(path.filename());
    std::string checksum;
    size_t samples = 0;
    mlq::decode_audio(
        path, 16000, [&](const float*, size_t count) { samples += count; }, &checksum);
    CHECK(samples > 0);
    CHECK(checksum == mlq::file_checksum(path));
  }
}

TEST_CASE("stereo 44.1 kHz WAV and FLAC decode to 16 kHz mono matching the sox tool") {
  TempDir dir;
  for (const std::string name : {"tone.wav", "tone.flac"}) {
    INFO(name);
    const fs::path path = sox_tone(dir, name, 44100, 2, 440, 1.5);
    const mlq::AudioInfo info = mlq::audio_info(path);
    CHECK(info.sample_rate == 44100);
    CHECK(info.channels == 2);
    CHECK(info.duration == doctest::Approx(1.5));
    std::vector<float> samples = mlq::load_audio(path, 16000);
    std::vector<float> reference = sox_reference(dir, path);
    REQUIRE(samples.size() == reference.size());
    CHECK(samples.size() == 24000);
    double max_difference = 0;
    for (size_t i = 0; i < samples.size(); ++i)
      max_difference = std::max(max_difference, std::abs(double(samples[i]) - reference[i]));
    CHECK(max_difference < 1e-4);
    // A 440 Hz sine crosses zero 880 times a second.
    int crossings = 0;
    for (size_t i = 1; i < samples.size(); ++i)
      crossings += (samples[i - 1] < 0) != (samples[i] < 0);
    CHECK(crossings == doctest::Approx(1320).epsilon(0.01));
  }
}

TEST_CASE("OGG and MP3 decode like the sox tool decodes them") {
  TempDir dir;
  for (const std::string name : {"tone.ogg", "tone.mp3"}) {
    INFO(name);
    const fs::path path = sox_tone(dir, name, 44100, 2, 440, 2.0);
    // The MP3 header's length (2.029 s here) is an estimate: 26 ms more than decodes.
    const std::vector<float> samples = mlq::load_audio(path, 16000);
    const std::vector<float> reference = sox_reference(dir, path);
    REQUIRE(samples.size() == reference.size());
    CHECK(samples.size() == doctest::Approx(32000).epsilon(0.01));
    double max_difference = 0;
    for (size_t i = 0; i < samples.size(); ++i)
      max_difference = std::max(max_difference, std::abs(double(samples[i]) - reference[i]));
    CHECK(max_difference < 1e-4);
  }
}

TEST_CASE("decoding streams blocks and skips resampling at the target rate") {
  TempDir dir;
  const fs::path path = sox_tone(dir, "mono16k.wav", 16000, 1, 1000, 20.0);
  size_t blocks = 0, total = 0, largest = 0;
  mlq::decode_audio(path, 16000, [&](const float*, size_t count) {
    ++blocks;
    total += count;
    largest = std::max(largest, count);
  });
  CHECK(total == 320000);
  CHECK(blocks > 10);  // streamed, never the whole file at once
  CHECK(largest < 100000);
}

TEST_CASE("bad audio files give one-line errors naming the file") {
  TempDir dir;
  write_file(dir / "empty.wav", "");
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "empty.wav", 16000),
                       doctest::Contains("empty.wav: empty file"), mlq::UserError);
  write_file(dir / "garbage.wav", std::string(4096, 'x'));
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "garbage.wav", 16000),
                       doctest::Contains("garbage.wav: cannot decode audio"), mlq::UserError);
  write_file(dir / "notes.xyz", "plain text");
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "notes.xyz", 16000),
                       doctest::Contains("notes.xyz: cannot decode audio"), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "absent.wav", 16000),
                       doctest::Contains("absent.wav: no such audio file"), mlq::UserError);
  const fs::path whole = sox_tone(dir, "whole.wav", 16000, 1, 440, 2.0);
  const std::string bytes = read_file(whole);
  write_file(dir / "cut.wav", bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "cut.wav", 16000),
                       doctest::Contains("cut.wav: truncated: the header promises 2.000 s"),
                       mlq::UserError);
  const fs::path whole16 = sox_tone(dir, "whole16.wav", 44100, 2, 440, 2.0, 16);
  const std::string bytes16 = read_file(whole16);
  write_file(dir / "cut16.wav", bytes16.substr(0, bytes16.size() / 2));
  CHECK_THROWS_WITH_AS(mlq::load_audio(dir / "cut16.wav", 16000),
                       doctest::Contains("cut16.wav: truncated: the header promises 2.000 s"),
                       mlq::UserError);
  try {
    mlq::load_audio(dir / "garbage.wav", 16000);
  } catch (const mlq::UserError& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("resampling to 16 kHz keeps the passband and rejects what would alias") {
  TempDir dir;
  // Root mean square of a resampled float32 sine, its first and last 0.1 s (filter edges) left out.
  auto resampled_rms = [&](int hz) {
    const fs::path path = dir / ("sine-" + std::to_string(hz) + ".wav");
    auto made =
        run_process({"sox", "-n", "-r", "44100", "-c", "1", "-e", "floating-point", "-b", "32",
                     path.string(), "synth", "2", "sine", std::to_string(hz), "vol", "0.5"});
    REQUIRE_MESSAGE(made.exit_code == 0, made.out);
    const std::vector<float> samples = mlq::load_audio(path, 16000);
    REQUIRE(samples.size() == 32000);
    double sum = 0;
    for (size_t i = 1600; i < samples.size() - 1600; ++i) sum += double(samples[i]) * samples[i];
    return std::sqrt(sum / double(samples.size() - 3200));
  };
  const double input_rms = 0.5 / std::sqrt(2.0);
  for (int hz : {1000, 7000}) {
    INFO(hz << " Hz");
    CHECK(resampled_rms(hz) == doctest::Approx(input_rms).epsilon(0.002));
  }
  // Above 8 kHz a tone would fold back to 16 kHz - f; it must be at least 120 dB down.
  for (int hz : {8700, 10000, 13000}) {
    INFO(hz << " Hz");
    CHECK(resampled_rms(hz) < input_rms * 1e-6);
  }
}

TEST_CASE("decoding in many threads at once gives each the same samples as one thread") {
  TempDir dir;
  const fs::path path = sox_tone(dir, "chord.wav", 44100, 2, 330, 3.0);
  const std::vector<float> serial = mlq::load_audio(path, 16000);
  std::vector<std::vector<float>> parallel(8);
  std::vector<std::thread> threads;
  for (auto& result : parallel)
    threads.emplace_back([&] { result = mlq::load_audio(path, 16000); });
  for (auto& thread : threads) thread.join();
  for (const auto& result : parallel) CHECK(result == serial);
}

TEST_CASE("a WAV truncated while it is decoded from its mapping gives an error, not SIGBUS") {
  TempDir dir;
  const fs::path wav = sox_tone(dir, "long.wav", 44100, 2, 440, 10.0, 16);
  size_t blocks = 0;
  std::string error;
  try {
    mlq::decode_audio(wav, 44100, [&](const float*, size_t) {
      if (blocks++ == 0) fs::resize_file(wav, 4096);  // another process rewriting the file
    });
  } catch (const mlq::UserError& e) {
    error = e.what();
  }
  CHECK(blocks >= 1);
  CHECK_MESSAGE(error.find(wav.string() + ": the file shrank while it was being read") == 0, error);
}

TEST_CASE("audio written to a full disk is a named error and leaves nothing behind") {
  SmallFilesystem disk(64 << 10);
  MLQ_REQUIRE_MOUNTED(disk);
  std::vector<float> noise(160000);  // 10 s at 16 kHz: about 320 kB as WAV, 280 kB as FLAC
  uint64_t state = 1;
  for (float& sample : noise) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    sample = static_cast<float>(static_cast<int64_t>(state >> 33) % 20000) / 20000.0f - 0.5f;
  }
  for (const std::string name : {"synth.wav", "synth.flac"}) {
    CAPTURE(name);
    std::string error;
    try {
      mlq::write_audio(disk / name, noise, 16000);
    } catch (const mlq::UserError& e) {
      error = e.what();
    }
    CHECK(error == (disk / name).string() + ": cannot write: No space left on device");
    CHECK(fs::is_empty(disk.path()));
  }
  const std::vector<float> short_clip(noise.begin(), noise.begin() + 8000);  // 16 kB fits
  mlq::write_audio(disk / "short.flac", short_clip, 16000);
  CHECK(mlq::load_audio(disk / "short.flac", 16000).size() == 8000);
}
