#include "commands/stream_input.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mlq::transcription {
namespace {

uint32_t le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint16_t le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

}  // namespace

StreamInput::StreamInput(int fd, double target_rate, double raw_rate, int raw_channels)
    : fd_(fd), target_rate_(target_rate), rate_(raw_rate), channels_(raw_channels) {}

StreamInput::~StreamInput() = default;

bool StreamInput::fill() {
  uint8_t chunk[16384];
  while (true) {
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.insert(buffer_.end(), chunk, chunk + n);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) throw UserError(std::string("standard input: ") + std::strerror(errno));
  }
}

void StreamInput::parse_header() {
  // Enough bytes to tell a WAV header from raw audio.
  while (buffer_.size() < 12 && fill()) {
  }
  wav_ = buffer_.size() >= 12 && std::memcmp(buffer_.data(), "RIFF", 4) == 0 &&
         std::memcmp(buffer_.data() + 8, "WAVE", 4) == 0;
  if (wav_) {
    size_t at = 12;
    bool have_format = false;
    while (true) {
      while (buffer_.size() < at + 8)
        if (!fill()) throw UserError("standard input: a WAV stream that ends in its header");
      const uint32_t size = le32(&buffer_[at + 4]);
      const bool data = std::memcmp(&buffer_[at], "data", 4) == 0;
      if (data) {
        if (!have_format) throw UserError("standard input: WAV data before its fmt chunk");
        at += 8;
        break;
      }
      while (buffer_.size() < at + 8 + size)
        if (!fill()) throw UserError("standard input: a WAV stream that ends in its header");
      if (std::memcmp(&buffer_[at], "fmt ", 4) == 0 && size >= 16) {
        const uint8_t* f = &buffer_[at + 8];
        uint16_t format = le16(f);
        if (format == 0xFFFE && size >= 40) format = le16(f + 24);  // WAVE_FORMAT_EXTENSIBLE
        channels_ = le16(f + 2);
        rate_ = le32(f + 4);
        bits_ = le16(f + 14);
        is_float_ = format == 3;
        if (!((format == 1 && (bits_ == 16 || bits_ == 24 || bits_ == 32)) ||
              (format == 3 && bits_ == 32)) ||
            channels_ < 1 || rate_ <= 0)
          throw UserError(
              fmt::format("standard input: a WAV stream of format {}, {} bits; "
                          "expected 16, 24 or 32-bit PCM or 32-bit float",
                          format, bits_));
        have_format = true;
      }
      at += 8 + size + (size & 1);
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  if (rate_ != target_rate_)
    resampler_ = std::make_unique<Resampler>(rate_, target_rate_, "standard input");
  header_done_ = true;
}

std::string StreamInput::describe() const {
  return fmt::format("{}, {:g} Hz, {} channel{}, {}-bit{}", wav_ ? "WAV" : "raw PCM", rate_,
                     channels_, channels_ == 1 ? "" : "s", bits_, is_float_ ? " float" : "");
}

void StreamInput::convert(const uint8_t* bytes, size_t frames, std::vector<float>& out) {
  std::vector<float> mono(frames);
  const size_t width = static_cast<size_t>(bits_ / 8);
  for (size_t i = 0; i < frames; ++i) {
    float sum = 0;
    for (int c = 0; c < channels_; ++c) {
      const uint8_t* p = bytes + (i * channels_ + c) * width;
      if (is_float_) {
        float v;
        std::memcpy(&v, p, 4);
        sum += v;
      } else {  // signed little-endian integers of `width` bytes
        uint32_t u = 0;
        for (size_t b = 0; b < width; ++b)
          u |= static_cast<uint32_t>(p[b]) << (8 * (b + 4 - width));
        sum += static_cast<float>(static_cast<int32_t>(u)) / 2147483648.0f;
      }
    }
    mono[i] = sum / static_cast<float>(channels_);
  }
  if (!resampler_) {
    out.insert(out.end(), mono.begin(), mono.end());
    return;
  }
  resampler_->process(mono.data(), mono.size(),
                      [&](const float* s, size_t n) { out.insert(out.end(), s, s + n); });
}

bool StreamInput::read(std::vector<float>& out) {
  if (!header_done_) parse_header();
  const size_t frame_bytes = static_cast<size_t>(channels_ * bits_ / 8);
  while (buffer_.size() < frame_bytes) {
    if (ended_ || !fill()) {
      if (!ended_ && resampler_)
        resampler_->finish([&](const float* s, size_t n) { out.insert(out.end(), s, s + n); });
      ended_ = true;
      return false;
    }
  }
  const size_t frames = buffer_.size() / frame_bytes;
  convert(buffer_.data(), frames, out);
  buffer_.erase(buffer_.begin(),
                buffer_.begin() + static_cast<std::ptrdiff_t>(frames * frame_bytes));
  return true;
}

}  // namespace mlq::transcription
