#include "mlq/synth/soundfont_renderer.hpp"

#include <fluidsynth.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <system_error>
#include <tuple>

#include "mlq/util/error.hpp"

namespace mlq {
namespace {

// fluidsynth renders in blocks of this many samples; an event given between two write calls
// is heard from the start of the next block (FLUID_BUFSIZE, fixed at fluidsynth's build time).
constexpr int kBlock = 64;
constexpr int kChannel = 0;
constexpr int kSustain = 64;  // MIDI CC number of the sustain pedal

// fluidsynth logs through a process-wide callback: nothing is printed, and the first error
// since it was last cleared (the most specific one) is kept for our messages, per thread as
// each renderer lives on one thread.
thread_local std::string first_fluid_error;

void capture_log(int level, const char* message, void*) {
  if (level <= FLUID_ERR && message != nullptr && first_fluid_error.empty())
    first_fluid_error = message;
}

void install_log_capture() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int level : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG})
      fluid_set_log_function(level, capture_log, nullptr);
  });
}

// SoundFont 2 and 3 files are whole RIFF files of form "sfbk". Checked here because fluidsynth
// hands files its own loader rejects to libinstpatch, which prints glib warnings on stderr.
bool is_soundfont(const std::filesystem::path& path) {
  unsigned char header[12] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return false;
  const uint64_t riff_size =
      header[4] | header[5] << 8 | header[6] << 16 | static_cast<uint64_t>(header[7]) << 24;
  std::error_code ec;
  return std::memcmp(header, "RIFF", 4) == 0 && std::memcmp(header + 8, "sfbk", 4) == 0 &&
         std::filesystem::file_size(path, ec) == riff_size + 8;
}

// A MIDI event at the sample where it takes effect; `order` puts note-offs before pedal
// changes before note-ons at the same position, so a re-struck key is released first.
struct Event {
  long long sample;
  int order;  // 0 note-off, 1 pedal up, 2 pedal down, 3 note-on
  int key;
  int velocity;
  bool operator<(const Event& other) const {
    return std::tie(sample, order, key) < std::tie(other.sample, other.order, other.key);
  }
};

// Renders whole blocks into a scratch buffer (fluidsynth's internal buffer stays empty).
void render_scratch(fluid_synth_t* synth, int blocks) {
  std::vector<float> scratch(2 * kBlock);
  for (int i = 0; i < blocks; ++i)
    fluid_synth_write_float(synth, kBlock, scratch.data(), 0, 1, scratch.data(), kBlock, 1);
}

// Ends every voice. All-sounds-off leaves voices already in their release phase fading
// (fluidsynth 2.3), so those get a ~1 ms release and are rendered to their end.
void silence(fluid_synth_t* synth) {
  fluid_synth_all_sounds_off(synth, -1);
  fluid_synth_set_gen(synth, kChannel, GEN_VOLENVRELEASE, -20000);
  for (int i = 0; i < 1000 && fluid_synth_get_active_voice_count(synth) > 0; ++i)
    render_scratch(synth, 1);
  fluid_synth_set_gen(synth, kChannel, GEN_VOLENVRELEASE, 0);
}

}  // namespace

struct SoundfontRenderer::Fluid {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* synth = nullptr;
  int sfont_id = -1;
  ~Fluid() {
    if (synth != nullptr) delete_fluid_synth(synth);
    if (settings != nullptr) delete_fluid_settings(settings);
  }
};

SoundfontRenderer::SoundfontRenderer(const std::filesystem::path& soundfont, double sample_rate,
                                     const RenderOptions& options)
    : fluid_(std::make_unique<Fluid>()),
      soundfont_(soundfont.string()),
      sample_rate_(sample_rate),
      options_(options) {
  install_log_capture();
  const std::string where = soundfont.string() + ": ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(soundfont, ec))
    throw UserError(
        where + (std::filesystem::exists(soundfont, ec) ? "not a regular file" : "no such file"));
  if (!(sample_rate >= 8000 && sample_rate <= 96000))
    throw UserError(where + "sample rate " + std::to_string(sample_rate) +
                    " Hz is outside fluidsynth's 8000..96000");

  if (!(options.gain > 0 && options.gain <= 10))
    throw UserError(where + "gain " + std::to_string(options.gain) + " is outside (0, 10]");
  if (!is_soundfont(soundfont))
    throw UserError(where + "cannot load soundfont (not a SoundFont 2/3 file, or truncated)");

  // fluidsynth fills its global DSP tables on the first new_fluid_synth, after raising the flag
  // that tells later callers they are ready: synths made at once in two threads could render
  // with half-filled tables. Serialise making them.
  static std::mutex construction;
  std::lock_guard<std::mutex> lock(construction);
  fluid_->settings = new_fluid_settings();
  if (fluid_->settings == nullptr) throw UserError(where + "cannot create fluidsynth settings");
  fluid_settings_t* s = fluid_->settings;
  const bool ok = fluid_settings_setnum(s, "synth.sample-rate", sample_rate) == FLUID_OK &&
                  fluid_settings_setnum(s, "synth.gain", options.gain) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.polyphony", 256) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.reverb.active", 0) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.chorus.active", 0) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.cpu-cores", 1) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.threadsafe-api", 0) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.lock-memory", 0) == FLUID_OK &&
                  fluid_settings_setint(s, "synth.dynamic-sample-loading", 0) == FLUID_OK;
  if (!ok) throw UserError(where + "cannot configure fluidsynth");

  fluid_->synth = new_fluid_synth(s);
  if (fluid_->synth == nullptr) throw UserError(where + "cannot create the fluidsynth synthesiser");
  first_fluid_error.clear();
  fluid_->sfont_id = fluid_synth_sfload(fluid_->synth, soundfont.c_str(), 0);
  if (fluid_->sfont_id == FLUID_FAILED)
    throw UserError(where + "cannot load soundfont (" +
                    (first_fluid_error.empty() ? "fluidsynth failed" : first_fluid_error) + ")");
  select_program(options.program);
}

void SoundfontRenderer::select_program(int program) {
  if (program < 0 || program > 127 ||
      fluid_synth_program_select(fluid_->synth, kChannel, fluid_->sfont_id, 0, program) != FLUID_OK)
    throw UserError(soundfont_ + ": soundfont has no preset " + std::to_string(program) +
                    " in bank 0");
  options_.program = program;
}

SoundfontRenderer::~SoundfontRenderer() = default;

// Puts the synthesiser into the same state before every piece. Besides voices, controllers
// and effects, fluidsynth keeps per voice slot the output gain of the slot's last note, and
// a new voice ramps from it during its first block; so every slot plays the same note once.
void SoundfontRenderer::settle() {
  fluid_synth_t* synth = fluid_->synth;
  silence(synth);
  fluid_synth_system_reset(synth);
  fluid_synth_program_select(synth, kChannel, fluid_->sfont_id, 0, options_.program);
  const int slots = fluid_synth_get_polyphony(synth);
  for (int i = 0; i < 2 * slots && fluid_synth_get_active_voice_count(synth) < slots; ++i)
    fluid_synth_noteon(synth, kChannel, 60, 64);
  render_scratch(synth, 1);
  silence(synth);
  fluid_synth_system_reset(synth);
  fluid_synth_program_select(synth, kChannel, fluid_->sfont_id, 0, options_.program);
}

std::vector<float> SoundfontRenderer::render(const Performance& performance, double tail_seconds) {
  fluid_synth_t* synth = fluid_->synth;
  settle();

  const long long total =
      std::max(0LL, std::llround((performance.duration + tail_seconds) * sample_rate_));
  // Whole blocks only, so fluidsynth's internal buffer is empty when the next piece starts.
  const long long padded = (total + kBlock - 1) / kBlock * kBlock;
  // Each event snaps to the nearest block boundary: at most half a block early or late.
  auto at = [&](double seconds) {
    return std::clamp(std::llround(seconds * sample_rate_ / kBlock) * kBlock, 0LL, padded);
  };
  std::vector<Event> events;
  events.reserve(2 * (performance.notes.size() + performance.pedals.size()));
  for (const Note& note : performance.notes) {
    const int key = std::clamp(note.pitch, 0, 127);
    const long long on = at(note.onset);
    events.push_back({on, 3, key, std::clamp(note.velocity, 1, 127)});
    events.push_back({std::max(at(note.offset), on + kBlock), 0, key, 0});  // after its note-on
  }
  for (const Pedal& pedal : performance.pedals) {
    events.push_back({at(pedal.onset), 2, 0, 127});
    events.push_back({at(pedal.offset), 1, 0, 0});
  }
  std::sort(events.begin(), events.end());

  std::vector<float> left(static_cast<size_t>(padded)), right(static_cast<size_t>(padded));
  long long done = 0;
  auto write_until = [&](long long sample) {
    if (sample <= done) return;
    fluid_synth_write_float(synth, static_cast<int>(sample - done), left.data(),
                            static_cast<int>(done), 1, right.data(), static_cast<int>(done), 1);
    done = sample;
  };
  for (const Event& e : events) {
    write_until(std::min(e.sample, padded));  // a note-off pushed past the end stays in bounds
    switch (e.order) {
      case 0:
        fluid_synth_noteoff(synth, kChannel, e.key);
        break;
      case 1:
        fluid_synth_cc(synth, kChannel, kSustain, 0);
        break;
      case 2:
        fluid_synth_cc(synth, kChannel, kSustain, 127);
        break;
      default:
        fluid_synth_noteon(synth, kChannel, e.key, e.velocity);
        break;
    }
  }
  write_until(padded);

  std::vector<float> mono(static_cast<size_t>(total));
  float peak = 0;
  for (size_t i = 0; i < mono.size(); ++i) {
    mono[i] = 0.5f * (left[i] + right[i]);
    peak = std::max(peak, std::abs(mono[i]));
  }
  if (peak > 1.0f) {
    const float scale = 0.99f / peak;
    for (float& x : mono) x *= scale;
  }
  return mono;
}

}  // namespace mlq
