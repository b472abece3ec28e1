#pragma once
// The instrument families of NSynth (Engel et al. 2017) and the General MIDI programs that
// sound like each: what the synthetic data set asks a model to tell apart.
#include <string>
#include <vector>

namespace mlq::classification {

struct Family {
  std::string name;
  std::vector<int> programs;  // General MIDI programs (0-based, bank 0)
  int low_pitch;              // the MIDI keys phrases are drawn from, inclusive
  int high_pitch;
};

// The 11 families in NSynth's order: bass, brass, flute, guitar, keyboard, mallet, organ, reed,
// string, synth_lead, vocal. Pads, effects and percussion belong to none.
const std::vector<Family>& nsynth_families();

}  // namespace mlq::classification
