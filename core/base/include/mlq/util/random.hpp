#pragma once
// splitmix64: a small seeded generator that gives the same numbers on every platform and
// standard library (std:: distributions are implementation-defined). Data synthesis,
// augmentations and the test generators all draw from it.
#include <cstdint>

namespace mlq {

// One step of splitmix64: advances `state` and returns the next number.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_); }
  // [low, high), from 53 random bits.
  double uniform(double low = 0, double high = 1) {
    return low + (high - low) * (static_cast<double>(next() >> 11) * 0x1.0p-53);
  }
  // [low, high], inclusive.
  int64_t integer(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(next() % (static_cast<uint64_t>(high - low) + 1));
  }
  bool chance(double probability) { return uniform() < probability; }

 private:
  uint64_t state_;
};

}  // namespace mlq
