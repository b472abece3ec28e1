#pragma once
// Short musical phrases for the synthetic instrument data set: what one clip plays.
#include <cstdint>

#include "data/families.hpp"
#include "mlq/plugin_base.hpp"

namespace mlq::classification {

struct Phrase {
  int program = 0;  // of the family's General MIDI programs
  Performance performance;
};

// A phrase of `family` that ends within `clip_seconds`, drawn from `seed` alone: a program of
// the family, then one of four articulations (a held note, a staccato run, a legato line or
// repeated chords) at a pitch in the family's range, with varied velocity and timing.
Phrase compose_phrase(const Family& family, uint64_t seed, double clip_seconds);

}  // namespace mlq::classification
