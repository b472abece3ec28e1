#include "eval/scores.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace mlq::classification {

std::vector<int64_t> top_classes(const float* probabilities, int64_t classes, int64_t k) {
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  k = std::clamp<int64_t>(k, 0, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return probabilities[a] != probabilities[b] ? probabilities[a] > probabilities[b] : a < b;
  });
  order.resize(static_cast<size_t>(k));
  return order;
}

Scores score_clips(const std::vector<float>& probabilities, const std::vector<int64_t>& labels,
                   int64_t classes, int64_t top_k) {
  if (classes < 1 || probabilities.size() != labels.size() * static_cast<size_t>(classes))
    throw std::invalid_argument("score_clips: probabilities are not clips x classes");
  Scores s;
  s.clips = static_cast<int64_t>(labels.size());
  s.confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(classes, 0));
  int64_t correct = 0, in_top_k = 0;
  for (size_t clip = 0; clip < labels.size(); ++clip) {
    const std::vector<int64_t> top =
        top_classes(&probabilities[clip * classes], classes, std::max<int64_t>(top_k, 1));
    const int64_t label = labels[clip];
    if (label < 0 || label >= classes) throw std::invalid_argument("score_clips: bad label");
    ++s.confusion[label][top[0]];
    correct += top[0] == label;
    in_top_k += std::find(top.begin(), top.end(), label) != top.end();
  }
  if (s.clips > 0) {
    s.accuracy = static_cast<double>(correct) / s.clips;
    s.top_k_accuracy = static_cast<double>(in_top_k) / s.clips;
  }
  s.classes.resize(static_cast<size_t>(classes));
  int64_t present = 0;  // classes with clips or predictions: what the macro mean is over
  for (int64_t c = 0; c < classes; ++c) {
    int64_t predicted = 0;
    for (int64_t t = 0; t < classes; ++t) predicted += s.confusion[t][c];
    ClassScores& cs = s.classes[c];
    const int64_t hits = s.confusion[c][c];
    cs.support = std::accumulate(s.confusion[c].begin(), s.confusion[c].end(), int64_t{0});
    cs.precision = predicted > 0 ? static_cast<double>(hits) / predicted : 0;
    cs.recall = cs.support > 0 ? static_cast<double>(hits) / cs.support : 0;
    cs.f1 = hits > 0 ? 2 * cs.precision * cs.recall / (cs.precision + cs.recall) : 0;
    if (cs.support > 0 || predicted > 0) {
      s.macro_f1 += cs.f1;
      ++present;
    }
  }
  if (present > 0) s.macro_f1 /= static_cast<double>(present);
  return s;
}

}  // namespace mlq::classification
