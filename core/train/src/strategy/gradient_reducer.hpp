#pragma once
// Data-parallel gradient averaging that overlaps backward, as PyTorch's DDP does: parameters are
// grouped into buckets in reverse registration order (about the order backward produces their
// gradients), and a bucket's all-reduce starts as soon as all its gradients exist, while backward
// goes on computing the rest.
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace mlq {

class ProcessGroup;

class GradientReducer {
 public:
  // The first bucket is small (1 MB, as DDP's) so communication starts early; the others hold
  // about `bucket_bytes`. Without `overlap` every bucket starts after backward.
  GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, int64_t bucket_bytes,
                  bool overlap);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Call right before the backward pass whose gradients complete the step (with gradient
  // accumulation, the last micro-batch's): its gradient hooks then fill and start buckets.
  void arm();
  // After that backward: starts what has not started, waits, and leaves the mean over the ranks
  // in each parameter's .grad. A parameter no rank has a gradient for keeps none. Returns the
  // seconds spent waiting for communication after backward.
  double finish();

  size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Slot {
    size_t bucket = 0;
    size_t bucket_index = 0;  // position among the bucket's parameters
    int64_t offset = 0;       // into the bucket's flat tensor
    bool ready = false;
  };
  struct Bucket {
    std::vector<size_t> parameters;
    torch::Tensor flat;  // gradients, then one has-gradient flag per parameter
    int64_t gradient_numel = 0;
    size_t missing = 0;
    std::function<void()> wait;  // set once started
  };

  void on_gradient(size_t parameter, const torch::Tensor& gradient);
  void fill(size_t parameter, const torch::Tensor& incoming);
  // Starts buckets whose gradients are all there, in bucket order (every rank issues the
  // collectives in the same order).
  void start_ready_buckets();
  void start(Bucket& bucket);

  ProcessGroup& group_;
  std::vector<torch::Tensor> parameters_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<unsigned> hooks_;
  size_t next_bucket_ = 0;
  bool armed_ = false;
  std::mutex mutex_;  // hooks may run on autograd's device threads
};

}  // namespace mlq
