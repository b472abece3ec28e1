#include "eval/clip_metrics.hpp"

#include <cctype>

namespace mlq::classification {

MetricKeys clip_metric_keys() {
  MetricKeys keys;
  for (const char* prefix : {"", "unseen_"})
    for (const char* key : {"accuracy", "top_k_accuracy", "macro_f1"})
      keys.push_back({std::string(prefix) + key, false});
  return keys;
}

std::string metric_key_part(const std::string& name) {
  std::string key = name;
  for (char& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return key;
}

ClipMetrics::ClipMetrics(const Config& c, std::vector<std::string> classes)
    : classes_(std::move(classes)) {
  c.check_known_keys("", {"top_k", "classes"});
  top_k_ = c.get_int("top_k", 3, Range::at_least(1));
  if (classes_.empty() && c.has("classes")) classes_ = c.get_strings("classes");
}

void ClipMetrics::reset() {
  sums_.clear();
  next_id_ = 0;
}

void ClipMetrics::update(const TensorMap& outputs, const TensorMap& batch) {
  const torch::Tensor probabilities =
      torch::softmax(outputs.at("logits").detach().to(torch::kCPU, torch::kDouble), 1).contiguous();
  const int64_t n = probabilities.size(0), classes = probabilities.size(1);
  for (int64_t c = static_cast<int64_t>(classes_.size()); sums_.empty() && c < classes; ++c)
    classes_.push_back(std::to_string(c));  // unnamed classes: their numbers
  if (classes != static_cast<int64_t>(classes_.size()))
    throw UserError("classification metric: the model gives " + std::to_string(classes) +
                    " logits for " + std::to_string(classes_.size()) + " classes");
  const torch::Tensor labels = batch.at("label").to(torch::kCPU, torch::kInt64);
  const auto clip = batch.count("clip") ? batch.at("clip").to(torch::kCPU, torch::kInt64)
                                        : torch::arange(next_id_, next_id_ + n);
  next_id_ += n;
  const auto unseen = batch.count("unseen") ? batch.at("unseen").to(torch::kCPU, torch::kBool)
                                            : torch::zeros({n}, torch::kBool);
  const double* p = probabilities.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    Sum& sum = sums_[clip[i].item<int64_t>()];
    sum.probabilities.resize(static_cast<size_t>(classes), 0.0);
    for (int64_t c = 0; c < classes; ++c) sum.probabilities[c] += p[i * classes + c];
    ++sum.windows;
    sum.label = labels[i].item<int64_t>();
    sum.unseen = unseen[i].item<bool>();
  }
}

std::vector<ClipMetrics::Clip> ClipMetrics::clips() const {
  std::vector<Clip> clips;
  for (const auto& [id, sum] : sums_) {
    Clip clip{id, sum.label, sum.unseen, {}};
    for (double p : sum.probabilities)
      clip.probabilities.push_back(static_cast<float>(p / static_cast<double>(sum.windows)));
    clips.push_back(std::move(clip));
  }
  return clips;
}

Scores ClipMetrics::scores(bool unseen) const {
  std::vector<float> probabilities;
  std::vector<int64_t> labels;
  for (const Clip& clip : clips()) {
    if (clip.unseen != unseen) continue;
    probabilities.insert(probabilities.end(), clip.probabilities.begin(), clip.probabilities.end());
    labels.push_back(clip.label);
  }
  return score_clips(probabilities, labels, static_cast<int64_t>(classes_.size()), top_k_);
}

Scalars ClipMetrics::compute() const {
  Scalars result;
  for (bool unseen : {false, true}) {
    const Scores s = scores(unseen);
    if (s.clips == 0) continue;
    const std::string prefix = unseen ? "unseen_" : "";
    result[prefix + "accuracy"] = s.accuracy;
    result[prefix + "top_k_accuracy"] = s.top_k_accuracy;
    result[prefix + "macro_f1"] = s.macro_f1;
    for (size_t c = 0; c < classes_.size(); ++c)
      if (s.classes[c].support > 0)
        result[prefix + "f1_" + metric_key_part(classes_[c])] = s.classes[c].f1;
  }
  return result;
}

}  // namespace mlq::classification
