#include "data/families.hpp"

namespace mlq::classification {

const std::vector<Family>& nsynth_families() {
  static const std::vector<Family> families{
      {"bass", {32, 33, 34, 35, 36, 37, 38, 39}, 28, 55},
      {"brass", {56, 57, 58, 59, 60, 61, 62, 63}, 45, 77},
      {"flute", {72, 73, 74, 75, 76, 77, 78, 79}, 60, 91},
      {"guitar", {24, 25, 26, 27, 28, 29, 30, 31, 105}, 40, 76},
      {"keyboard", {0, 1, 2, 3, 4, 5, 6, 7}, 36, 96},
      {"mallet", {8, 9, 10, 11, 12, 13, 14, 15, 108}, 55, 96},
      {"organ", {16, 17, 18, 19, 20}, 36, 84},
      {"reed", {21, 22, 23, 64, 65, 66, 67, 68, 69, 70, 71}, 48, 79},
      {"string", {40, 41, 42, 44, 45, 46, 48, 49, 50, 51, 110}, 43, 88},
      {"synth_lead", {80, 81, 82, 83, 84, 86, 87}, 48, 84},
      {"vocal", {52, 53, 54, 85, 91}, 48, 76},
  };
  return families;
}

}  // namespace mlq::classification
