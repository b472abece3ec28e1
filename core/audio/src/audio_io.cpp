#include "mlq/audio/audio_io.hpp"

#include <sox.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "mlq/audio/resampler.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/mapped_file.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// Frames read from libsox per block: small enough to stay in cache, large enough to amortise calls.
constexpr size_t kDecodeFrames = 8192;
// The most samples (all channels) a block of libsox's decoding holds: 8192 stereo frames.
constexpr size_t kDecodeSamples = 2 * kDecodeFrames;

// The mean of each frame's channels, scaled from integers whose full scale is `full_scale` to
// [-1, 1]. Mono and stereo have loops of their own that the compiler vectorises.
template <class Sample>
void mix_to_mono(const Sample* interleaved, size_t frames, size_t channels, float full_scale,
                 float* mono) {
  const float scale = 1.0f / (full_scale * static_cast<float>(channels));
  if (channels == 1) {
    for (size_t f = 0; f < frames; ++f) mono[f] = static_cast<float>(interleaved[f]) * scale;
  } else if (channels == 2) {
    for (size_t f = 0; f < frames; ++f)
      mono[f] =
          (static_cast<float>(interleaved[2 * f]) + static_cast<float>(interleaved[2 * f + 1])) *
          scale;
  } else {
    for (size_t f = 0; f < frames; ++f) {
      float sum = 0;
      for (size_t c = 0; c < channels; ++c)
        sum += static_cast<float>(interleaved[f * channels + c]);
      mono[f] = sum * scale;
    }
  }
}

// libsox reports through a global callback; keep the last failure or warning of this thread.
thread_local std::string last_sox_message;

extern "C" void capture_sox_message(unsigned level, const char*, const char* format, va_list args) {
  if (level > 2) return;  // 1 = fail, 2 = warn
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  last_sox_message = text;
}

void init_sox() {
  static std::once_flag once;
  std::call_once(once, [] {
    sox_globals.output_message_handler = capture_sox_message;
    sox_globals.verbosity = 2;
    if (sox_init() != SOX_SUCCESS) throw UserError("libsox failed to initialise");
    // Format plugins (FLAC, MP3, OGG, ...) load here, once. Left to sox_open_read, the first
    // lookup loads them while other threads' lookups already see "loaded" and find no handler.
    if (sox_format_init() != SOX_SUCCESS) throw UserError("libsox found no format plugins");
  });
}

[[noreturn]] void fail(const fs::path& path, const std::string& reason) {
  std::string line = reason;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  throw UserError(path.string() + ": " + line);
}

struct SoxFileCloser {
  void operator()(sox_format_t* format) const { sox_close(format); }
};
using SoxFile = std::unique_ptr<sox_format_t, SoxFileCloser>;

struct ChainDeleter {
  void operator()(sox_effects_chain_t* chain) const { sox_delete_effects_chain(chain); }
};

SoxFile open_for_reading(const fs::path& path) {
  init_sox();
  std::error_code error;
  if (!fs::is_regular_file(path, error)) fail(path, "no such audio file");
  if (fs::file_size(path, error) == 0) fail(path, "empty file");
  last_sox_message.clear();
  SoxFile file(sox_open_read(path.c_str(), nullptr, nullptr, nullptr));
  if (!file)
    fail(path,
         "cannot decode audio (" +
             (last_sox_message.empty() ? std::string("unsupported format") : last_sox_message) +
             ")");
  return file;
}

// The chain's last effect: converts each block to float and hands it on.
struct Sink {
  const std::function<void(const float*, size_t)>* consumer;
  std::vector<float> buffer;
  size_t samples = 0;
};

int sink_flow(sox_effect_t* effect, const sox_sample_t* in, sox_sample_t*, size_t* in_count,
              size_t* out_count) {
  auto* sink = *static_cast<Sink**>(effect->priv);
  sink->buffer.resize(*in_count);
  SOX_SAMPLE_LOCALS;
  for (size_t i = 0; i < *in_count; ++i)
    sink->buffer[i] = static_cast<float>(SOX_SAMPLE_TO_FLOAT_64BIT(in[i], effect->clips));
  (*sink->consumer)(sink->buffer.data(), *in_count);
  sink->samples += *in_count;
  *out_count = 0;
  return SOX_SUCCESS;
}

const sox_effect_handler_t* sink_handler() {
  static sox_effect_handler_t handler = {"mlq_sink", nullptr,      SOX_EFF_MCHAN, nullptr,
                                         nullptr,    sink_flow,    nullptr,       nullptr,
                                         nullptr,    sizeof(Sink*)};
  return &handler;
}

// sox_find_effect is not thread-safe: looking an effect up calls every effect's handler
// function, and some of them build static usage strings with strcat (heap corruption when two
// threads do it at once). Effects are created under this lock; the flow itself runs in parallel.
std::mutex& effect_lookup_mutex() {
  static std::mutex mutex;
  return mutex;
}

void add_effect(sox_effects_chain_t* chain, const char* name, std::vector<char*> args,
                sox_signalinfo_t* signal, const sox_signalinfo_t* target, const fs::path& path) {
  std::lock_guard<std::mutex> lock(effect_lookup_mutex());
  std::unique_ptr<sox_effect_t, decltype(&free)> effect(sox_create_effect(sox_find_effect(name)),
                                                        &free);
  if (!effect ||
      sox_effect_options(effect.get(), static_cast<int>(args.size()), args.data()) != SOX_SUCCESS ||
      sox_add_effect(chain, effect.get(), signal, target) != SOX_SUCCESS)
    fail(path, std::string("libsox effect '") + name + "' failed (" + last_sox_message + ")");
}

// The chain's first effect for in-memory audio: hands out the samples, then reports the end.
struct Source {
  const std::vector<float>* samples;
  size_t position = 0;
};

int source_drain(sox_effect_t* effect, sox_sample_t* out, size_t* out_count) {
  auto* source = *static_cast<Source**>(effect->priv);
  const size_t count = std::min(*out_count, source->samples->size() - source->position);
  SOX_SAMPLE_LOCALS;
  for (size_t i = 0; i < count; ++i)
    out[i] = SOX_FLOAT_32BIT_TO_SAMPLE((*source->samples)[source->position + i], effect->clips);
  source->position += count;
  *out_count = count;
  return count ? SOX_SUCCESS : SOX_EOF;
}

const sox_effect_handler_t* source_handler() {
  static sox_effect_handler_t handler = {"mlq_source", nullptr,        SOX_EFF_MCHAN, nullptr,
                                         nullptr,      nullptr,        source_drain,  nullptr,
                                         nullptr,      sizeof(Source*)};
  return &handler;
}

template <class State>
void add_custom_effect(sox_effects_chain_t* chain, const sox_effect_handler_t* handler,
                       State* state, sox_signalinfo_t* signal, const sox_signalinfo_t* target,
                       const fs::path& context) {
  std::unique_ptr<sox_effect_t, decltype(&free)> effect(sox_create_effect(handler), &free);
  std::memcpy(effect->priv, &state, sizeof state);
  if (sox_add_effect(chain, effect.get(), signal, target) != SOX_SUCCESS)
    fail(context, std::string("libsox effect '") + handler->name + "' failed");
}

// 16-bit PCM WAV, the layout of MAESTRO and most corpora, mapped into memory when libsox's
// header parse stopped at a data chunk holding every sample; otherwise nothing (libsox reads it:
// it reports a truncated file, and reads a data chunk of unknown size, length 0, to the end).
// Taking the samples from the mapping skips libsox's copy and conversion passes, which took about 5
// times as long, and mixes exactly what sox_read would give. Sets `data_start` to the offset of the
// first sample.
std::optional<MappedFile> map_pcm16_wav(const fs::path& path, const sox_format_t& file,
                                        size_t& data_start) {
  if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || !file.filetype ||
      std::strcmp(file.filetype, "wav") != 0 || file.encoding.encoding != SOX_ENCODING_SIGN2 ||
      file.encoding.bits_per_sample != 16 || file.encoding.reverse_bytes != sox_option_no ||
      file.signal.length == SOX_UNKNOWN_LEN || file.signal.length == 0 ||
      file.io_type != lsx_io_file || !file.fp)
    return std::nullopt;
  // libsox's wav reader stops right after the data chunk's header (its tell_off miscounts
  // skipped chunks; the stream's own position does not).
  const off_t position = ftello(static_cast<std::FILE*>(file.fp));
  if (position < 8 || position % 2 != 0) return std::nullopt;
  data_start = static_cast<size_t>(position);
  MappedFile mapped(path);
  const uint64_t bytes = file.signal.length * 2;
  uint32_t chunk_size = 0;
  if (!mapped.mapped() || data_start + bytes > mapped.size() ||
      std::memcmp(mapped.data() + data_start - 8, "data", 4) != 0)
    return std::nullopt;
  std::memcpy(&chunk_size, mapped.data() + data_start - 4, 4);
  if (chunk_size < bytes) return std::nullopt;
  mapped.expect_sequential();
  return mapped;
}

// Hands `block` the mapped samples of `frames` frames from `data_start` on, kDecodeFrames at a
// time, releasing the pages behind; with `checksum`, also hashes the whole file on the way (the
// header, each block, then what follows the samples).
template <class Block>
void read_mapped_pcm16(MappedFile& pcm, size_t data_start, size_t frames, size_t channels,
                       std::string* checksum, const Block& block) {
  std::optional<ChecksumBuilder> hash;
  if (checksum) hash.emplace();
  if (hash) hash->add(pcm.data(), data_start);
  const auto* interleaved = reinterpret_cast<const int16_t*>(pcm.data() + data_start);
  for (size_t done = 0; done < frames;) {
    const size_t count = std::min(kDecodeFrames, frames - done);
    if (hash) hash->add(interleaved + done * channels, count * channels * 2);
    block(interleaved + done * channels, count);
    pcm.check_intact();
    done += count;
    pcm.release_before(data_start + done * channels * 2);
  }
  if (hash) {
    const size_t data_end = data_start + frames * channels * 2;
    hash->add(pcm.data() + data_end, pcm.size() - data_end);
    pcm.check_intact();
    *checksum = hash->finish();
  }
}

}  // namespace

AudioInfo audio_info(const fs::path& path) {
  SoxFile file = open_for_reading(path);
  AudioInfo info;
  info.sample_rate = file->signal.rate;
  info.channels = static_cast<int>(file->signal.channels);
  if (file->signal.length != SOX_UNKNOWN_LEN && file->signal.rate > 0 && file->signal.channels > 0)
    info.duration =
        static_cast<double>(file->signal.length) / file->signal.channels / file->signal.rate;
  return info;
}

void decode_audio(const fs::path& path, double sample_rate,
                  const std::function<void(const float*, size_t)>& sink, std::string* checksum) {
  SoxFile file = open_for_reading(path);
  const sox_signalinfo_t source = file->signal;
  if (source.channels == 0 || source.rate <= 0)
    fail(path, "cannot decode audio (no channels or sample rate in the header)");
  std::optional<Resampler> resampler;
  if (source.rate != sample_rate) resampler.emplace(source.rate, sample_rate, path.string());

  size_t samples = 0;
  const Resampler::Sink counted = [&](const float* block, size_t count) {
    samples += count;
    sink(block, count);
  };
  const size_t channels = source.channels;
  std::vector<float> mono(kDecodeFrames);
  const auto deliver = [&](const auto* interleaved, size_t frames, float full_scale) {
    mix_to_mono(interleaved, frames, channels, full_scale, mono.data());
    if (resampler)
      resampler->process(mono.data(), frames, counted);
    else
      counted(mono.data(), frames);
  };
  size_t data_start = 0;
  if (auto pcm = map_pcm16_wav(path, *file, data_start)) {
    read_mapped_pcm16(
        *pcm, data_start, source.length / channels, channels, checksum,
        [&](const int16_t* interleaved, size_t frames) { deliver(interleaved, frames, 32768.0f); });
  } else {
    if (checksum) *checksum = file_checksum(path);
    // Fewer frames a block for many channels: the header's channel count (up to 65535 in a WAV)
    // must not decide how much memory a block takes.
    const size_t block_frames = std::clamp<size_t>(kDecodeSamples / channels, 1, kDecodeFrames);
    std::vector<sox_sample_t> interleaved(channels * block_frames);
    while (const size_t frames =
               sox_read(file.get(), interleaved.data(), interleaved.size()) / channels)
      deliver(interleaved.data(), frames, 2147483648.0f);
  }
  if (file->sox_errno != SOX_SUCCESS)
    fail(path, std::string("decoding failed (") + file->sox_errstr + ")");
  if (resampler) resampler->finish(counted);
  if (samples == 0) fail(path, "no audio samples in the file");
  if (source.length != SOX_UNKNOWN_LEN && source.length > 0) {
    const double expected =
        static_cast<double>(source.length) / source.channels * sample_rate / source.rate;
    // An MP3's length is libsox's estimate from the bit rate, which the encoder's padding makes
    // up to a few frames (about 30 ms) longer than what decodes.
    const double slack = file->encoding.encoding == SOX_ENCODING_MP3 ? 0.1 * sample_rate : 0;
    if (static_cast<double>(samples) < expected * 0.999 - 64 - slack)
      fail(path, fmt::format("truncated: the header promises {:.3f} s, the file holds {:.3f} s",
                             expected / sample_rate, samples / sample_rate));
  }
}

std::vector<std::string> readable_audio_extensions() {
  init_sox();
  // Formats with no header of their own: their files need the encoding given by hand.
  static const std::set<std::string> headerless{
      "raw", "f32", "f64", "s8",  "s16", "s24", "s32",  "u8",  "u16", "u24", "u32",
      "sb",  "sw",  "sl",  "s3",  "s4",  "ub",  "uw",   "u3",  "u4",  "al",  "ul",
      "la",  "lu",  "sln", "vox", "ima", "dat", "null", "nul", "gsrt"};
  std::set<std::string> extensions;
  for (const sox_format_tab_t* entry = sox_get_format_fns(); entry && entry->fn; ++entry) {
    const sox_format_handler_t* handler = entry->fn();
    if (!handler || !handler->startread || (handler->flags & SOX_FILE_DEVICE)) continue;
    for (const char* const* name = handler->names; name && *name; ++name)
      if (!headerless.count(*name)) extensions.insert("." + to_lower(*name));
  }
  return {extensions.begin(), extensions.end()};
}

std::vector<AudioInput> expand_audio_inputs(const std::vector<std::string>& inputs) {
  std::vector<AudioInput> expanded;
  std::vector<std::string> extensions;
  for (const std::string& input : inputs) {
    const fs::path path(input);
    std::error_code error;
    if (!fs::is_directory(path, error)) {
      expanded.push_back({path, path.filename()});
      continue;
    }
    if (extensions.empty()) extensions = readable_audio_extensions();
    std::vector<fs::path> files;
    // A subfolder that cannot be read is passed over; one that breaks the walk ends it there.
    const auto options = fs::directory_options::skip_permission_denied;
    for (fs::recursive_directory_iterator it(path, options, error), end; !error && it != end;
         it.increment(error))
      if (it->is_regular_file(error) &&
          std::binary_search(extensions.begin(), extensions.end(),
                             to_lower(it->path().extension().string())))
        files.push_back(it->path());
    if (error) log::warn("{}: cannot list all of the folder: {}", path.string(), error.message());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) expanded.push_back({file, file.lexically_relative(path)});
  }
  return expanded;
}

std::vector<float> load_audio(const fs::path& path, double sample_rate) {
  std::vector<float> samples;
  decode_audio(path, sample_rate, [&](const float* block, size_t count) {
    samples.insert(samples.end(), block, block + count);
  });
  return samples;
}

std::vector<float> apply_sox_effects(const std::vector<float>& samples, double sample_rate,
                                     const std::vector<std::vector<std::string>>& effects) {
  init_sox();
  const fs::path context("sox effects");
  if (samples.empty()) return {};
  sox_signalinfo_t signal{};
  signal.rate = sample_rate;
  signal.channels = 1;
  signal.precision = 32;
  signal.length = samples.size();
  sox_signalinfo_t target = signal;
  target.length = SOX_UNKNOWN_LEN;
  sox_encodinginfo_t encoding{};
  encoding.encoding = SOX_ENCODING_FLOAT;
  encoding.bits_per_sample = 32;
  std::unique_ptr<sox_effects_chain_t, ChainDeleter> chain(
      sox_create_effects_chain(&encoding, nullptr));

  Source source{&samples};
  add_custom_effect(chain.get(), source_handler(), &source, &signal, &target, context);
  for (const auto& words : effects) {
    if (words.empty()) throw UserError("sox effects: an empty effect");
    std::vector<std::string> options(words.begin() + 1, words.end());
    std::vector<char*> args;
    for (auto& option : options) args.push_back(option.data());
    last_sox_message.clear();
    bool known;
    {
      std::lock_guard<std::mutex> lock(effect_lookup_mutex());
      known = sox_find_effect(words[0].c_str()) != nullptr;
    }
    if (!known) throw UserError("sox effects: no effect named '" + words[0] + "'");
    add_effect(chain.get(), words[0].c_str(), args, &signal, &target, context);
  }
  if (signal.rate != sample_rate) {
    char quality[] = "-h";
    add_effect(chain.get(), "rate", {quality}, &signal, &target, context);
  }
  std::vector<float> result;
  result.reserve(samples.size() + samples.size() / 8);
  const std::function<void(const float*, size_t)> collect = [&](const float* block, size_t n) {
    result.insert(result.end(), block, block + n);
  };
  Sink sink{&collect, {}, 0};
  add_custom_effect(chain.get(), sink_handler(), &sink, &signal, &target, context);
  const int flowed = sox_flow_effects(chain.get(), nullptr, nullptr);
  if (flowed != SOX_SUCCESS && flowed != SOX_EOF)
    fail(context, "processing failed (" + last_sox_message + ")");
  return result;
}

void write_audio(const fs::path& path, const std::vector<float>& samples, double sample_rate) {
  init_sox();
  const std::string type = path.extension().string().substr(path.has_extension() ? 1 : 0);
  if (type.empty()) throw UserError(path.string() + ": no extension to tell the audio format");
  sox_signalinfo_t signal{};
  signal.rate = sample_rate;
  signal.channels = 1;
  signal.precision = 16;
  signal.length = samples.size();
  sox_encodinginfo_t encoding{};
  encoding.encoding = SOX_ENCODING_SIGN2;
  encoding.bits_per_sample = 16;
  // Encoded into memory, then written by write_file_atomic: libsox ignores a failed write of what
  // an encoder (FLAC, say) still holds when the file closes, so a full disk would go unseen.
  char* encoded = nullptr;
  size_t encoded_size = 0;
  std::unique_ptr<char, decltype(&free)> owned(nullptr, &free);
  {
    last_sox_message.clear();
    SoxFile file(sox_open_memstream_write(&encoded, &encoded_size, &signal, &encoding, type.c_str(),
                                          nullptr));
    if (!file) fail(path, "cannot write audio (" + last_sox_message + ")");
    std::vector<sox_sample_t> block(std::min<size_t>(samples.size(), 65536));
    for (size_t done = 0; done < samples.size();) {
      const size_t n = std::min(block.size(), samples.size() - done);
      SOX_SAMPLE_LOCALS;
      for (size_t i = 0; i < n; ++i) {
        const float clipped = std::clamp(samples[done + i], -1.f, 1.f);
        block[i] = SOX_FLOAT_32BIT_TO_SAMPLE(clipped, file->clips);
      }
      if (sox_write(file.get(), block.data(), n) != n) {
        sox_close(file.release());
        owned.reset(encoded);
        fail(path, "cannot encode audio (" + last_sox_message + ")");
      }
      done += n;
    }
    const int closed = sox_close(file.release());
    owned.reset(encoded);  // complete once the stream is closed
    if (closed != SOX_SUCCESS) fail(path, "cannot encode audio (" + last_sox_message + ")");
  }
  write_file_atomic(path, std::string_view(encoded, encoded_size));
}

}  // namespace mlq
