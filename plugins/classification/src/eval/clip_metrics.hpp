#pragma once
// The "classification" metric: the softmax of each window's "logits", averaged over the windows
// of its clip (the batch's "clip"; each example its own clip without one), scored per clip:
// accuracy, top_k_accuracy, macro_f1 and f1_<class>, and the same with the prefix unseen_ for the
// clips whose batch "unseen" is set (a test set of timbres the model never trained on).
#include <map>
#include <string>
#include <vector>

#include "eval/scores.hpp"
#include "mlq/plugin.hpp"

namespace mlq::classification {

// The keys compute() reports besides f1_<class>, and their direction (all higher-is-better).
MetricKeys clip_metric_keys();

class ClipMetrics : public Metric {
 public:
  // [metrics.classification]: top_k (default 3), classes (names). `classes`: the names in the
  // model's order; without any, the classes are numbered.
  ClipMetrics(const Config& metric_config, std::vector<std::string> classes);
  void reset() override;
  void update(const TensorMap& outputs, const TensorMap& batch) override;
  Scalars compute() const override;

  struct Clip {
    int64_t id;  // the batch's "clip"
    int64_t label;
    bool unseen;
    std::vector<float> probabilities;  // averaged over its windows
  };
  // The clips seen since the last reset, in order of their ids.
  std::vector<Clip> clips() const;
  // Scores of the seen (unseen = false) or unseen clips since the last reset.
  Scores scores(bool unseen) const;
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  std::vector<std::string> classes_;
  int64_t top_k_;
  struct Sum {
    std::vector<double> probabilities;
    int64_t windows = 0;
    int64_t label = 0;
    bool unseen = false;
  };
  std::map<int64_t, Sum> sums_;
  int64_t next_id_ = 0;  // for batches without "clip"
};

// A class name as part of a metric key: letters, digits and '_' kept, anything else '_'.
std::string metric_key_part(const std::string& name);

}  // namespace mlq::classification
