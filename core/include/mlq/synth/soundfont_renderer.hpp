#pragma once
// Renders a Performance to audio with libfluidsynth and a SoundFont (.sf2/.sf3), with any
// General MIDI program of the soundfont. Plugins that use it link mlq::synth.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mlq/synth/performance.hpp"

namespace mlq {

// Debian's timgm6mb-soundfont: small (6 MB) and quick to load.
inline constexpr const char* kDefaultSoundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";

struct RenderOptions {
  int program = 0;    // General MIDI program (bank 0, 0..127); 0 = acoustic grand piano
  double gain = 0.5;  // fluidsynth's synth.gain; dense fortissimo chords peak near 0.5
};

// One synthesiser with its soundfont loaded once; render() can be called for many pieces.
// Every render starts from a reset synthesiser, so the output depends only on the Performance
// (bit-identical when repeated). Not thread-safe: use one renderer per worker thread.
// Reverb and chorus are off: onsets and offsets stay sharp, and fluidsynth 2.3's reverb keeps
// its modulators' phase across resets, which would make a render depend on the pieces before
// it. Room acoustics belong in a separate, seeded augmentation.
class SoundfontRenderer {
 public:
  // Throws mlq::UserError naming the soundfont path when it is missing or cannot be loaded,
  // and for a sample rate outside fluidsynth's 8000..96000 Hz.
  SoundfontRenderer(const std::filesystem::path& soundfont, double sample_rate,
                    const RenderOptions& options = {});
  ~SoundfontRenderer();
  SoundfontRenderer(const SoundfontRenderer&) = delete;
  SoundfontRenderer& operator=(const SoundfontRenderer&) = delete;

  // Mono float32 (the average of fluidsynth's left and right channels) of length
  // round((performance.duration + tail_seconds) * sample_rate). Events take effect at the
  // nearest boundary of fluidsynth's 64-sample block (within 2 ms at 16 kHz, see the .cpp).
  // A piece whose peak would exceed 1 is scaled down as a whole to a peak of 0.99.
  std::vector<float> render(const Performance& performance, double tail_seconds = 1.0);

  // The General MIDI program (bank 0) the next render() plays. Throws mlq::UserError naming the
  // soundfont when it has no such preset.
  void select_program(int program);
  int program() const { return options_.program; }

  double sample_rate() const { return sample_rate_; }

 private:
  void settle();

  struct Fluid;
  std::unique_ptr<Fluid> fluid_;
  std::string soundfont_;
  double sample_rate_;
  RenderOptions options_;
};

}  // namespace mlq
